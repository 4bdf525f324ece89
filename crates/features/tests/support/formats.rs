//! Shared by `tests/formats.rs` and `tests/robustness.rs` (included with
//! `#[path]`): the committed fixtures of `tests/fixtures/formats/` (made by
//! its `make-fixtures.sh`), files made with sox at test time, and signal
//! comparisons for lossy codecs.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use sori_features::read_audio;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name)
}

/// The 1.2 s, 16 kHz mono utterance every committed fixture was made from.
pub fn source() -> Vec<f32> {
    read_audio(&fixture("speech16k.wav")).unwrap().samples
}

/// Whether sox can be run. Without it the calling test is skipped with a
/// line on stderr that `cargo test` shows (not captured), except under
/// `CI=true`, where a missing sox fails the test.
pub fn have_sox(test: &str) -> bool {
    let ok = Command::new("sox")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: sox is missing and CI=true (apt-get install sox, or make setup)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: sox not found (apt-get install sox, or make setup)"
        );
    }
    ok
}

/// Runs `sox args...`, panicking with its stderr on failure.
pub fn sox(args: &[&dyn AsRef<std::ffi::OsStr>]) {
    let out = Command::new("sox")
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("sox runs");
    assert!(
        out.status.success(),
        "sox {:?}: {}",
        args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Normalised cross-correlation of `a` and `b` at the lag (b shifted by
/// `lag` samples, |lag| <= `max_lag`) where it is highest: (correlation,
/// lag).
pub fn best_correlation(a: &[f32], b: &[f32], max_lag: usize) -> (f64, isize) {
    let mut best = (f64::MIN, 0isize);
    for lag in -(max_lag as isize)..=max_lag as isize {
        let (x, y) = if lag >= 0 {
            (a, b.get(lag as usize..).unwrap_or(&[]))
        } else {
            (a.get((-lag) as usize..).unwrap_or(&[]), b)
        };
        let n = x.len().min(y.len());
        if n == 0 {
            continue;
        }
        let (mut xy, mut xx, mut yy) = (0f64, 0f64, 0f64);
        for (&p, &q) in x[..n].iter().zip(&y[..n]) {
            xy += p as f64 * q as f64;
            xx += p as f64 * p as f64;
            yy += q as f64 * q as f64;
        }
        let c = xy / (xx * yy).sqrt().max(1e-30);
        if c > best.0 {
            best = (c, lag);
        }
    }
    best
}

/// Signal-to-noise ratio in dB of `decoded` against `reference` (same
/// alignment, compared over the shorter length).
pub fn snr_db(reference: &[f32], decoded: &[f32]) -> f64 {
    let n = reference.len().min(decoded.len());
    let (mut signal, mut noise) = (0f64, 0f64);
    for (&r, &d) in reference[..n].iter().zip(&decoded[..n]) {
        signal += r as f64 * r as f64;
        noise += (r as f64 - d as f64).powi(2);
    }
    10.0 * (signal / noise.max(1e-30)).log10()
}

pub fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / x.len().max(1) as f64).sqrt()
}
