//! Benchmark and test fixtures that must exist on a fresh clone (no
//! espeak-ng corpus, no recordings, no trained model): untrained models (the
//! default architecture, or a tiny one saved as a model directory), and
//! speech-like audio: voiced "syllables" (a gliding pitch with
//! harmonics under a 4 Hz envelope) separated by short pauses, plus a little
//! noise. It is neither silent nor stationary, so the front end's checks
//! pass, and it has quiet gaps where long-audio chunking can cut. The cost
//! of transcribing it equals that of real speech of the same length.
use crate::data::vocab::Vocab;
use crate::error::Result;
use crate::frontend::FrontEnd;
use crate::model::{Architecture, AsrConfig, AsrModel};
use crate::rng::Rng;
use std::f64::consts::TAU;

/// `asr train`'s default architecture and front end over lower-case English
/// letters, space and apostrophe, initialised from a fixed seed: what the
/// benchmarks time on a fresh clone (the cost of a forward pass does not
/// depend on the weights).
pub fn untrained_default_model() -> Result<AsrModel> {
    tch::manual_seed(1);
    let vocab = Vocab::new(" abcdefghijklmnopqrstuvwxyz'".chars());
    AsrModel::new(
        AsrConfig::new(FrontEnd::default(), vocab, &Architecture::default()),
        tch::Device::Cpu,
    )
}

/// Saves an untrained one-layer model with `hidden` units per direction,
/// whose vocabulary is the characters of `text`, as the model directory
/// `out`, its weights drawn from `seed`: enough to exercise loading,
/// decoding and error paths quickly.
pub fn save_tiny_model(out: &std::path::Path, text: &str, hidden: i64, seed: i64) -> Result<()> {
    tch::manual_seed(seed);
    let arch = Architecture {
        hidden,
        layers: 1,
        ..Architecture::default()
    };
    AsrModel::new(
        AsrConfig::new(FrontEnd::default(), Vocab::from_texts([text]), &arch),
        tch::Device::Cpu,
    )?
    .save_as(out)
}

pub use crate::frontend::write_wav16;

/// `n` samples at `rate` Hz in [-1, 1], deterministic.
pub fn speech_like(n: usize, rate: u32) -> Vec<f32> {
    let rate = rate as f64;
    let mut rng = Rng::new(0x5ee5);
    let mut out = Vec::with_capacity(n);
    let mut phase = 0.0f64;
    // Syllables of 150-350 ms; after 5-12 of them a 200-500 ms pause.
    let mut left_in_segment = 0usize;
    let mut segment_len = 1usize;
    let mut voiced = false;
    let mut syllables_to_pause = 0usize;
    let mut f0_start = 120.0;
    let mut f0_end = 120.0;
    for _ in 0..n {
        if left_in_segment == 0 {
            if syllables_to_pause == 0 {
                voiced = false;
                syllables_to_pause = rng.range(5, 13);
                segment_len = (rate * (0.2 + 0.3 * rng.uniform())) as usize;
            } else {
                voiced = true;
                syllables_to_pause -= 1;
                segment_len = (rate * (0.15 + 0.2 * rng.uniform())) as usize;
                f0_start = 90.0 + 150.0 * rng.uniform();
                f0_end = f0_start * (0.8 + 0.4 * rng.uniform());
            }
            segment_len = segment_len.max(1);
            left_in_segment = segment_len;
        }
        let pos = 1.0 - left_in_segment as f64 / segment_len as f64;
        left_in_segment -= 1;
        let noise = 0.003 * rng.normal();
        if !voiced {
            out.push(noise as f32);
            continue;
        }
        let f0 = f0_start + (f0_end - f0_start) * pos;
        phase = (phase + TAU * f0 / rate) % TAU;
        let envelope = (std::f64::consts::PI * pos).sin().powi(2);
        // Harmonics with a falling spectrum, a crude vowel.
        let voice: f64 = (1..=12)
            .map(|h| (phase * h as f64).sin() / h as f64)
            .sum::<f64>();
        out.push((0.25 * envelope * voice + noise).clamp(-1.0, 1.0) as f32);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic_loud_and_has_pauses() {
        let a = speech_like(16000 * 10, 16000);
        assert_eq!(a, speech_like(16000 * 10, 16000));
        let rms = (a.iter().map(|x| (x * x) as f64).sum::<f64>() / a.len() as f64).sqrt();
        assert!(rms > 0.02, "rms {rms}");
        // Some 100 ms windows are near-silent (pauses), most are not.
        let quiet = a
            .chunks(1600)
            .filter(|w| w.iter().map(|x| x * x).sum::<f32>() / (w.len() as f32) < 1e-4)
            .count();
        assert!((3..50).contains(&quiet), "{quiet} quiet windows of 100");
    }
}
