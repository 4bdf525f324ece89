//! MFCC throughput on 60 s of 16 kHz audio, single thread: 25 ms / 10 ms
//! frames, 512-point FFT, 23 mel bins, 13 coefficients (the Kaldi preset);
//! and the librosa preset (`librosa.feature.mfcc` defaults: 2048-point FFT,
//! hop 512, 128 mel bins, 20 coefficients).
//! `benches/peers/mfcc_peers.py` times librosa and python_speech_features
//! with the same parameters on the same signal, and librosa with its
//! defaults.
//!
//! Run alone with `cargo bench -p sori-features --bench mfcc`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sori_features::{Extractor, FeatureConfig, StreamingExtractor};

mod common;
use common::signal;

fn bench(c: &mut Criterion) {
    let x = signal();
    let config = FeatureConfig::kaldi(16000);
    let mut group = c.benchmark_group("mfcc_60s_16k");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(x.len() as u64));
    let mut ex = Extractor::new(&config).unwrap();
    group.bench_function("kaldi_preset", |b| {
        b.iter(|| ex.compute(std::hint::black_box(&x)).unwrap())
    });
    let mut librosa = Extractor::new(&FeatureConfig::librosa(16000)).unwrap();
    group.bench_function("librosa_preset", |b| {
        b.iter(|| librosa.compute(std::hint::black_box(&x)).unwrap())
    });
    group.bench_function("streaming_4096_chunks", |b| {
        b.iter(|| {
            let mut s = StreamingExtractor::new(&config).unwrap();
            let mut out = Vec::with_capacity(6000 * 13);
            for chunk in x.chunks(4096) {
                s.push(chunk, &mut out).unwrap();
            }
            s.finish(&mut out).unwrap();
            out
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
