//! Quick timing of MFCC extraction on 60 s of 16 kHz audio for each preset,
//! robust to a busy machine: it reports the minimum and median of many short
//! runs (the minimum is the run nobody preempted). Criterion
//! (`cargo bench -p sori-features --bench mfcc`) is the benchmark of record;
//! this is for quick before/after comparisons.
//!
//! `cargo run --release -p sori-features --example mfcc_timing [runs] [preset]`

use std::time::Instant;

use sori_features::{Extractor, FeatureConfig};

#[path = "../benches/common/mod.rs"]
mod common;
use common::signal;

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let only = std::env::args().nth(2);
    let x = signal();
    let mut peer_params = FeatureConfig::librosa(16000);
    peer_params.frame_length = 400;
    peer_params.frame_shift = 160;
    peer_params.n_fft = 512;
    peer_params.n_mels = 23;
    peer_params.n_ceps = 13;
    peer_params.framing = sori_features::Framing::SnipEdges;
    let presets = [
        ("kaldi", FeatureConfig::kaldi(16000)),
        ("librosa", FeatureConfig::librosa(16000)),
        ("librosa_512_23_13", peer_params),
    ];
    for (name, config) in presets {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let mut ex = Extractor::new(&config).expect("valid preset");
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let t0 = Instant::now();
                std::hint::black_box(ex.compute(std::hint::black_box(&x)).expect("finite"));
                t0.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        if times.is_empty() {
            continue;
        }
        println!(
            "{name:>18}: min {:.3} ms  median {:.3} ms  ({} runs)",
            times[0],
            times[runs / 2],
            runs
        );
    }
}
