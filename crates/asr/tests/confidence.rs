//! Confidences in `asr transcribe`'s output: every word's confidence is the
//! mean posterior of its characters (a number in 0..=1), the transcript's is
//! the character-weighted mean of its words', JSON times are rounded to the
//! millisecond, and `--min-confidence` leaves out the words below it.
use sori_asr::support::bench_audio::{save_tiny_model, speech_like, write_wav16};
use std::process::{Command, Output};

fn asr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asr"))
        .args(args)
        .env_remove("SORI_ASR_MODEL")
        .output()
        .unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn words_carry_confidences_and_the_floor_removes_words() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    // An untrained model emits characters with middling posteriors: the
    // output is arbitrary text, which is all this test needs.
    save_tiny_model(&model, "abc xyz", 16, 3).unwrap();
    let wav = dir.path().join("a.wav");
    write_wav16(&wav, 16000, &speech_like(16000 * 3, 16000)).unwrap();
    let (w, m) = (wav.to_str().unwrap(), model.to_str().unwrap());
    let all = json(&asr(&["transcribe", w, "--model", m, "--format", "json"]));
    let words = all["words"].as_array().unwrap();
    assert!(!words.is_empty(), "{all}");
    let (mut sum, mut chars) = (0.0, 0usize);
    for word in words {
        let c = word["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c), "{word}");
        let n = word["word"].as_str().unwrap().chars().count();
        sum += c * n as f64;
        chars += n;
        for key in ["start", "end"] {
            let t = word[key].as_f64().unwrap();
            assert!(((t * 1000.0).round() / 1000.0 - t).abs() < 1e-12, "{word}");
        }
    }
    let mean = all["confidence"].as_f64().unwrap();
    assert!((mean - sum / chars as f64).abs() < 2e-4, "{all}");

    // A floor between the lowest and highest word confidence keeps exactly
    // the words at or above it.
    let confs: Vec<f64> = words
        .iter()
        .map(|w| w["confidence"].as_f64().unwrap())
        .collect();
    let lo = confs.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = confs.iter().cloned().fold(0.0, f64::max);
    let floor = (lo + hi) / 2.0;
    let kept = json(&asr(&[
        "transcribe",
        w,
        "--model",
        m,
        "--format",
        "json",
        "--min-confidence",
        &floor.to_string(),
    ]));
    let want = confs.iter().filter(|&&c| c >= floor).count();
    assert_eq!(kept["words"].as_array().unwrap().len(), want, "{kept}");
    // Above every word: nothing is left, and the confidence is null.
    let none = json(&asr(&[
        "transcribe",
        w,
        "--model",
        m,
        "--format",
        "json",
        "--min-confidence",
        "1",
    ]));
    if hi < 1.0 {
        assert_eq!(none["text"], "");
        assert!(none["confidence"].is_null());
    }
    // Out of range is a usage error.
    let bad = asr(&["transcribe", w, "--model", m, "--min-confidence", "1.5"]);
    assert_eq!(bad.status.code(), Some(2));
}
