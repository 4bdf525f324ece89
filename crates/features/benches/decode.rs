//! Audio decoding speed (`sori_features::decode_audio`, symphonia) on ten
//! minutes of 16 kHz mono speech-band signal encoded as FLAC and Ogg Vorbis
//! by sox (installed by `make setup`), and as WAV for the baseline; the
//! bytes are in memory so the row measures decoding, not the disk.
//!
//! Issue 17's target: loading and decoding a 10-minute file adds at most
//! 10 % to `asr transcribe`'s time on it. `asr transcribe` runs at a
//! real-time factor of about 0.0046 on one thread (`make bench`), i.e.
//! 2.8 s for ten minutes, so decoding must take at most 0.28 s: at least
//! 2,200x real time (`scripts/bench_targets.py`).
//!
//! Run alone with `cargo bench -p sori-features --bench decode`.

use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod common;
use common::signal;

const SECONDS: usize = 600;

fn encode(wav: &std::path::Path, ext: &str) -> Option<Vec<u8>> {
    let out = wav.with_extension(ext);
    let ok = Command::new("sox")
        .arg(wav)
        .arg(&out)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("decode bench: sox cannot write .{ext} (run make setup); no {ext} row");
        return None;
    }
    std::fs::read(&out).ok()
}

fn bench(c: &mut Criterion) {
    let minute = signal();
    let x: Vec<f32> = minute
        .iter()
        .copied()
        .cycle()
        .take(minute.len() * SECONDS / 60)
        .collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    let wav = dir.path().join("ten_minutes.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).expect("wav");
    for v in &x {
        w.write_sample((v.clamp(-1.0, 1.0) * 32767.0) as i16)
            .expect("wav");
    }
    w.finalize().expect("wav");
    let mut group = c.benchmark_group("decode_10min_16k");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(x.len() as u64));
    for ext in ["wav", "flac", "ogg"] {
        let bytes = if ext == "wav" {
            std::fs::read(&wav).ok()
        } else {
            encode(&wav, ext)
        };
        let Some(bytes) = bytes else { continue };
        let name = format!("x.{ext}");
        let n = sori_features::decode_audio(&bytes, &name)
            .expect("decode")
            .samples
            .len();
        assert!(
            n.abs_diff(x.len()) < 16000,
            "{ext}: {n} samples of {}",
            x.len()
        );
        group.bench_function(ext, |b| {
            b.iter(|| sori_features::decode_audio(std::hint::black_box(&bytes), &name))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
