//! sori against `mel_spec` 0.5 (the Rust crate of mel spectrograms "aligned
//! to whisper.cpp, PyTorch and librosa"), Rust against Rust, one thread, on
//! the 60 s of 16 kHz audio of `benches/mfcc.rs`:
//!
//! - Whisper log-mel, 80 bins: sori's `FeatureConfig::whisper(80)` against
//!   `Spectrogram::compute_mel_spectrogram_cpu(x, 400, 160, 80, 16000)`,
//!   mel_spec's batch Whisper path, given the signal reflect-padded by 200
//!   samples (its own framing does not pad; the padding is timed with it);
//! - plain log-mel, 80 bins: n_fft 400, symmetric Hann 400, hop 160,
//!   centred zero-padded frames, Slaney filters, `ln` with floor/guard
//!   1e-10: sori's `Extractor` against mel_spec's `BatchLogMelSpectrogram`
//!   (scratch reused, as sori reuses its plans).
//!
//! Before timing it measures how far mel_spec's outputs are from sori's on
//! that signal, and both from the Whisper reference fixtures
//! (`tests/fixtures/whisper.json`, made by `scripts/make-whisper-fixtures.py`);
//! it prints them as one JSON line on stderr and appends that line to the
//! file `SORI_BENCH_AGREEMENT` names (scripts/bench.sh: target/bench/agreement.jsonl).
//!
//! Run alone with `cargo bench -p sori-features --bench logmel`.

use std::io::Write;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mel_spec::prelude::{
    BatchLogMelConfig, BatchLogMelSpectrogram, SparseMelFilterbank, Spectrogram,
};
use sori_features::{read_wav, Extractor, FeatureConfig, Framing, LogKind, WindowKind};

mod common;
use common::signal;

const PAD: usize = 200;

/// `numpy.pad(x, PAD, mode="reflect")`, mirrored repeatedly when `x` is
/// shorter than the padding.
fn reflect_pad(x: &[f32]) -> Vec<f32> {
    let n = x.len() as isize;
    let period = 2 * (n - 1).max(1);
    (-(PAD as isize)..n + PAD as isize)
        .map(|j| {
            let r = j.rem_euclid(period);
            x[if n == 1 {
                0
            } else if r < n {
                r as usize
            } else {
                (period - r) as usize
            }]
        })
        .collect()
}

/// mel_spec's batch Whisper path on the reflect-padded signal, its last frame
/// dropped as Whisper does: `(frames, n_mels)` rows, flattened. Note that it
/// clamps each frame to that frame's maximum - 8, not the utterance's.
fn mel_spec_whisper(x: &[f32], n_mels: usize) -> Vec<f32> {
    let mut rows =
        Spectrogram::compute_mel_spectrogram_cpu(&reflect_pad(x), 400, 160, n_mels, 16000.0);
    rows.pop();
    rows.concat()
}

/// Whisper's formula assembled from mel_spec's own STFT and filterbank:
/// `Spectrogram::compute_all_cpu` on the reflect-padded signal, power of bins
/// 0..=200, `SparseMelFilterbank::from_mel` (Slaney, 0-8000 Hz), then the
/// log10, the clamp to the utterance maximum - 8 and (x + 4) / 4 written
/// here. Not timed (one allocation per frame).
fn mel_spec_whisper_per_utterance(x: &[f32], n_mels: usize) -> Vec<f32> {
    let filters = SparseMelFilterbank::from_mel(16000.0, 400, n_mels, None, None, false, true);
    let mut frames = Spectrogram::compute_all_cpu(&reflect_pad(x), 400, 160);
    frames.pop();
    let mut power = vec![0.0; filters.fft_bins()];
    let mut mel = vec![0.0; n_mels];
    let mut out = Vec::with_capacity(frames.len() * n_mels);
    for spectrum in &frames {
        for (p, z) in power.iter_mut().zip(spectrum) {
            *p = z.norm_sqr();
        }
        filters.project_power_f64(&power, &mut mel);
        out.extend(mel.iter().map(|e| e.max(1e-10).log10()));
    }
    let max = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    out.iter()
        .map(|&v| ((v.max(max - 8.0) + 4.0) / 4.0) as f32)
        .collect()
}

/// The plain log-mel both sides compute, as sori's configuration.
fn plain_config() -> FeatureConfig {
    FeatureConfig {
        framing: Framing::Centered,
        drop_last_frame: false,
        window: WindowKind::Hann,
        window_periodic: false,
        log: LogKind::Natural { floor: 1e-10 },
        ..FeatureConfig::whisper(80)
    }
}

/// The same as mel_spec's configuration.
fn plain_mel_spec() -> BatchLogMelSpectrogram {
    BatchLogMelSpectrogram::new(BatchLogMelConfig {
        sample_rate: 16000,
        n_fft: 400,
        win_length: 400,
        hop_length: 160,
        n_mels: 80,
        f_min: 0.0,
        f_max: None,
        htk: false,
        norm: true,
        preemphasis: 0.0,
        center: true,
        log_zero_guard: 1e-10,
        pad_to: 0,
        normalize_per_feature: false,
    })
    .unwrap()
}

fn max_abs(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "shapes differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() as f64)
        .fold(0.0, f64::max)
}

fn sori(config: &FeatureConfig, x: &[f32]) -> Vec<f32> {
    Extractor::new(config).unwrap().compute(x).unwrap().data
}

/// Max abs differences, as one JSON object.
fn agreement(x: &[f32]) -> String {
    let whisper = sori(&FeatureConfig::whisper(80), x);
    let mut fields = vec![
        (
            "whisper80_60s/mel_spec_batch_vs_sori".to_string(),
            max_abs(&mel_spec_whisper(x, 80), &whisper),
        ),
        (
            "whisper80_60s/mel_spec_per_utterance_vs_sori".to_string(),
            max_abs(&mel_spec_whisper_per_utterance(x, 80), &whisper),
        ),
    ];
    // mel_spec's plain output is (n_mels, frames): compare it transposed.
    let plain = sori(&plain_config(), x);
    let out = plain_mel_spec().compute_flat(x).unwrap();
    let transposed: Vec<f32> = (0..out.cols)
        .flat_map(|t| (0..out.rows).map(move |m| (m, t)))
        .map(|(m, t)| out.data[m * out.cols + t])
        .collect();
    // Where the plain outputs differ most: mel_spec computes in f32, so its
    // weakest energies (a lone FFT bin far below the frame's peak) move most.
    let diffs: Vec<f32> = transposed
        .iter()
        .zip(&plain)
        .map(|(a, b)| (a - b).abs())
        .collect();
    let worst = (0..diffs.len()).fold(0, |w, i| if diffs[i] > diffs[w] { i } else { w });
    let over = diffs.iter().filter(|&&d| d > 1e-3).count();
    let where_plain = format!(
        "\"plain_ln80_60s/worst\": {{\"frame\": {}, \"mel\": {}, \"sori\": {}, \"mel_spec\": {}}}, \"plain_ln80_60s/values_over_1e-3\": \"{over} of {}\"",
        worst / 80,
        worst % 80,
        plain[worst],
        transposed[worst],
        diffs.len()
    );
    fields.push((
        "plain_ln80_60s/mel_spec_vs_sori".to_string(),
        max_abs(&transposed, &plain),
    ));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let text = std::fs::read_to_string(dir.join("whisper.json")).unwrap();
    let refs: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (key, r) in refs["references"].as_object().unwrap() {
        let want: Vec<f32> = r["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let n_mels = r["shape"][1].as_u64().unwrap() as usize;
        let audio = read_wav(&dir.join(r["wav"].as_str().unwrap())).unwrap();
        let s = &audio.samples;
        for (who, got) in [
            ("sori", sori(&FeatureConfig::whisper(n_mels), s)),
            ("mel_spec_batch", mel_spec_whisper(s, n_mels)),
            (
                "mel_spec_per_utterance",
                mel_spec_whisper_per_utterance(s, n_mels),
            ),
        ] {
            fields.push((format!("{key}/{who}_vs_reference"), max_abs(&got, &want)));
        }
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v:.3e}"))
        .collect();
    format!(
        "{{\"bench\": \"mel_spec_agreement\", \"max_abs\": {{{}}}, {where_plain}}}",
        body.join(", ")
    )
}

fn bench(c: &mut Criterion) {
    let x = signal();
    let line = agreement(&x);
    eprintln!("{line}");
    if let Ok(path) = std::env::var("SORI_BENCH_AGREEMENT") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        writeln!(f, "{line}").unwrap();
    }
    let mut group = c.benchmark_group("logmel_60s_16k");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(x.len() as u64));
    let mut whisper = Extractor::new(&FeatureConfig::whisper(80)).unwrap();
    group.bench_function("sori_whisper80", |b| {
        b.iter(|| whisper.compute(std::hint::black_box(&x)).unwrap())
    });
    // Timed: the padding and mel_spec's call (its own Vec-of-rows output).
    group.bench_function("mel_spec_whisper80", |b| {
        b.iter(|| {
            let padded = reflect_pad(std::hint::black_box(&x));
            Spectrogram::compute_mel_spectrogram_cpu(&padded, 400, 160, 80, 16000.0)
        })
    });
    let mut plain = Extractor::new(&plain_config()).unwrap();
    group.bench_function("sori_plain_ln80", |b| {
        b.iter(|| plain.compute(std::hint::black_box(&x)).unwrap())
    });
    let peer = plain_mel_spec();
    let mut scratch = peer.scratch();
    group.bench_function("mel_spec_plain_ln80", |b| {
        b.iter(|| {
            peer.compute_flat_with_scratch(std::hint::black_box(&x), &mut scratch)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
