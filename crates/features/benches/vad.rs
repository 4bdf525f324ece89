//! Voice activity detection speed (`sori_features::vad`) on 60 s of 16 kHz
//! audio, one thread: the shared test signal of `benches/common` (a chirp,
//! a tone and noise) with every other 5 s silenced but for faint noise, so
//! the detector opens and closes regions. Issue 17's target is at least
//! 500x real time, i.e. at most 120 ms per iteration.
//!
//! Run alone with `cargo bench -p sori-features --bench vad`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sori_features::vad::{Vad, VadConfig};

mod common;
use common::signal;

fn bench(c: &mut Criterion) {
    let mut x = signal();
    for (i, v) in x.iter_mut().enumerate() {
        if (i / (5 * 16000)) % 2 == 1 {
            *v *= 0.01;
        }
    }
    let mut vad = Vad::new(&VadConfig::default(), 16000).unwrap();
    let regions = vad.detect(&x);
    assert_eq!(regions.len(), 6, "{regions:?}");
    let mut group = c.benchmark_group("vad_60s_16k");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(x.len() as u64));
    group.bench_function("energy_flux_hysteresis", |b| {
        b.iter(|| vad.detect(std::hint::black_box(&x)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
