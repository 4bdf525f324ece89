//! The committed model (`models/asr-en`, see `models/README.md`) is what
//! `asr transcribe` and `asr align` use without `--model`, and it
//! recognises speech from a voice variant it never heard in training.
use sori_asr::corpus::synth::{espeak_available, render_espeak};
use std::path::Path;
use std::process::Command;

fn asr(args: &[&str], env: Option<(&str, &str)>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_asr"));
    c.args(args).env_remove("SORI_ASR_MODEL");
    if let Some((k, v)) = env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn transcribe_and_align_default_to_the_committed_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(
        root.join("models/asr-en/config.json").is_file(),
        "models/asr-en is part of the repository"
    );
    let dir = tempfile::tempdir().unwrap();
    let missing = asr(
        &["transcribe", "x.wav"],
        Some(("SORI_ASR_MODEL", dir.path().join("none").to_str().unwrap())),
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such model directory"));
    if !espeak_available() {
        eprintln!("note: espeak-ng not found; skipping the recognition check (run `make setup`)");
        return;
    }
    // "+m7" is one of the two variants kept out of the model's training data.
    let wav = dir.path().join("digits.wav");
    render_espeak("seven two nine", "en-us+m7", 160, 50, &wav).unwrap();
    let w = wav.to_str().unwrap();
    let o = asr(&["transcribe", w], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "seven two nine");
    let o = asr(&["align", w, "seven two nine"], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let words: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.split_whitespace().last().unwrap().to_string())
        .collect();
    assert_eq!(words, ["seven", "two", "nine"]);
}
