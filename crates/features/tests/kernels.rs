//! The portable frame pipeline (`SORI_FEATURES_KERNEL=portable`) and the
//! default one (AVX2 + FMA where the CPU has them) both against the
//! reference fixtures of `tests/presets.rs` (torchaudio's Kaldi MFCC and
//! fbank, librosa's MFCC; `scripts/make-feature-fixtures.py`), with the
//! ceilings README.md states (+25 %), and against each other. Without this,
//! an AVX2 machine never runs the portable kernels but through their unit
//! tests against the same code.
//!
//! One test function: the variable is process-wide.
use serde_json::Value;
use sori_features::{read_wav, Extractor, FeatureConfig};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// (key, preset, README max abs error).
type Preset = fn(u32) -> FeatureConfig;
const CASES: [(&str, Preset, f32); 6] = [
    ("kaldi_mfcc/chirp16k", FeatureConfig::kaldi, 3.7e-4),
    ("kaldi_mfcc/speech8k", FeatureConfig::kaldi, 2.4e-4),
    ("kaldi_fbank/chirp16k", FeatureConfig::kaldi_fbank, 5.2e-5),
    ("kaldi_fbank/speech22k", FeatureConfig::kaldi_fbank, 2.7e-5),
    ("librosa_mfcc/chirp16k", FeatureConfig::librosa, 3.1e-5),
    ("librosa_mfcc/speech22k", FeatureConfig::librosa, 6.1e-5),
];

/// The features of `key`'s WAV under the current `SORI_FEATURES_KERNEL`,
/// and the reference values.
fn compute(refs: &Value, key: &str, preset: Preset) -> (Vec<f32>, Vec<f32>) {
    let r = &refs["references"][key];
    assert!(r.is_object(), "no reference {key}");
    let audio = read_wav(&fixtures().join(r["wav"].as_str().unwrap())).unwrap();
    let f = Extractor::new(&preset(audio.sample_rate))
        .unwrap()
        .compute(&audio.samples)
        .unwrap();
    let want: Vec<f32> = r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(f.data.len(), want.len(), "{key}: size");
    (f.data, want)
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn portable_and_default_paths_match_the_references_and_each_other() {
    let text = std::fs::read_to_string(fixtures().join("references.json")).unwrap();
    let refs: Value = serde_json::from_str(&text).unwrap();
    let mut outputs = Vec::new();
    for kernel in ["portable", "auto"] {
        std::env::set_var("SORI_FEATURES_KERNEL", kernel);
        let mut out = Vec::new();
        for (key, preset, readme) in CASES {
            let (got, want) = compute(&refs, key, preset);
            let err = max_abs(&got, &want);
            eprintln!("{kernel} {key}: max abs error {err:.3e}");
            assert!(
                err <= readme * 1.25,
                "{kernel} {key}: {err} > {}",
                readme * 1.25
            );
            out.push(got);
        }
        outputs.push(out);
    }
    std::env::remove_var("SORI_FEATURES_KERNEL");
    // The two paths agree to rounding (f64 inside, f32 out).
    for ((key, _, _), (a, b)) in CASES.iter().zip(outputs[0].iter().zip(&outputs[1])) {
        let d = max_abs(a, b);
        assert!(d < 1e-5, "{key}: portable and default paths differ by {d}");
    }
}
