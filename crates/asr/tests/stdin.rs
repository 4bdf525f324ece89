//! `-` reads the audio from standard input: `asr transcribe - < a.wav` and
//! a pipe give the same words and times as the file itself, and `asr align`
//! reads it too. (Streamed WAV headers of unknown length, as `espeak-ng
//! --stdout` writes them, are tested in sori-features' tests/formats.rs.)
use sori_asr::support::bench_audio::{save_tiny_model, speech_like, write_wav16};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn asr(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_asr"))
        .args(args)
        .env_remove("SORI_ASR_MODEL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn a_dash_reads_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    save_tiny_model(&model, "abc xyz", 16, 3).unwrap();
    let wav = dir.path().join("a.wav");
    write_wav16(&wav, 16000, &speech_like(16000 * 2, 16000)).unwrap();
    let bytes = std::fs::read(&wav).unwrap();
    let (w, m) = (wav.to_str().unwrap(), model.to_str().unwrap());
    let from_file = asr(&["transcribe", w, "--model", m, "--format", "json"], None);
    let from_stdin = asr(
        &["transcribe", "-", "--model", m, "--format", "json"],
        Some(&bytes),
    );
    assert!(
        from_stdin.status.success(),
        "{}",
        String::from_utf8_lossy(&from_stdin.stderr)
    );
    let a: serde_json::Value = serde_json::from_slice(&from_file.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&from_stdin.stdout).unwrap();
    assert_eq!(a["words"], b["words"]);
    assert_eq!(a["duration"], b["duration"]);
    assert_eq!(b["audio"], "-");
    // Empty input is one line naming "-", exit 1.
    let empty = asr(&["transcribe", "-", "--model", m], Some(b""));
    assert_eq!(empty.status.code(), Some(1));
    let e = String::from_utf8_lossy(&empty.stderr);
    assert!(e.starts_with("error: -: ") && e.lines().count() == 1, "{e}");
    // align reads it too.
    let al = asr(&["align", "-", "abc", "--model", m], Some(&bytes));
    assert!(
        al.status.success(),
        "{}",
        String::from_utf8_lossy(&al.stderr)
    );
    assert!(String::from_utf8_lossy(&al.stdout).contains("abc"));
}
