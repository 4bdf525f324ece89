//! Bad input through the `asr` binary: each case must end with a one-line
//! `error: ...` naming the file and the problem, a non-zero exit, and no
//! loss of the other files' results. Also the conventions a new user
//! relies on (usage, help, version, training output and model directories).
#[path = "../../train/tests/support/cli_conventions.rs"]
mod conventions;

use sori_asr::support::bench_audio::{save_tiny_model, write_wav16};
use std::path::Path;
use std::process::{Command, Output};

fn asr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asr"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn write_wav(path: &Path, amplitude: f32) {
    let tone: Vec<f32> = (0..16000)
        .map(|i| (i as f32 * 0.07).sin() * amplitude)
        .collect();
    write_wav16(path, 16000, &tone).unwrap();
}

/// An untrained model directory (enough to exercise loading and decoding).
fn model_dir(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("model");
    save_tiny_model(&out, "abc", 16, 1).unwrap();
    out
}

#[test]
fn broken_manifest_line_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("bad.jsonl");
    std::fs::write(&m, "{\"audio\":\"a.wav\",\"text\":\"a\"}\n{\"audio\": 3}\n").unwrap();
    let o = asr(&[
        "train",
        "--train",
        m.to_str().unwrap(),
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.starts_with("error: ") && e.contains("bad.jsonl:2:"),
        "{e}"
    );
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
}

#[test]
fn one_bad_file_does_not_lose_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir(dir.path());
    let good = dir.path().join("good.wav");
    let silent = dir.path().join("silent.wav");
    let text = dir.path().join("notes.wav");
    write_wav(&good, 0.5);
    write_wav(&silent, 0.0);
    std::fs::write(&text, "this is not audio").unwrap();
    let o = asr(&[
        "transcribe",
        text.to_str().unwrap(),
        good.to_str().unwrap(),
        silent.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert!(v["audio"].as_str().unwrap().ends_with("good.wav"));
    assert!((v["duration"].as_f64().unwrap() - 1.0).abs() < 1e-3);
    let e = stderr(&o);
    assert!(e.contains("notes.wav") && e.contains("WAV"), "{e}");
    assert!(e.contains("silent.wav") && e.contains("silent"), "{e}");
}

#[test]
fn model_directory_of_another_kind_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("a.wav");
    write_wav(&wav, 0.5);
    let other = dir.path().join("imdb");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(
        other.join("config.json"),
        "{\"kind\":\"sori-imdb\",\"format_version\":1,\"config\":{}}",
    )
    .unwrap();
    let o = asr(&[
        "transcribe",
        wav.to_str().unwrap(),
        "--model",
        other.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("sori-imdb") && e.contains("sori-asr-ctc"), "{e}");
    let o = asr(&[
        "transcribe",
        wav.to_str().unwrap(),
        "--model",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains("not a model directory"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn out_of_vocabulary_characters_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("a.wav");
    write_wav(&wav, 0.5);
    let train = dir.path().join("train.jsonl");
    let valid = dir.path().join("valid.jsonl");
    std::fs::write(&train, "{\"audio\":\"a.wav\",\"text\":\"abc\"}\n").unwrap();
    std::fs::write(&valid, "{\"audio\":\"a.wav\",\"text\":\"abc xyz\"}\n").unwrap();
    let out = dir.path().join("m");
    let args = |oov: &str| {
        asr(&[
            "train",
            "--train",
            train.to_str().unwrap(),
            "--valid",
            valid.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--layers",
            "1",
            "--quiet",
            "--oov",
            oov,
        ])
    };
    let o = args("error");
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("valid.jsonl") && e.contains("'x' 'y' 'z'"),
        "{e}"
    );
    // Dropped, with one warning naming the file and the characters; the
    // model's vocabulary is the training transcripts' characters only.
    let o = args("drop");
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    let warning: Vec<&str> = e
        .lines()
        .filter(|l| l.starts_with("warning: ") && l.contains("cannot output"))
        .collect();
    assert_eq!(warning.len(), 1, "{e}");
    assert!(
        warning[0].contains("valid.jsonl")
            && warning[0].contains("'x' 'y' 'z'")
            && warning[0].contains("dropped"),
        "{e}"
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        config["config"]["vocab"]["labels"],
        serde_json::json!([" ", "a", "b", "c"])
    );
}

/// `asr align` prints one line per word (start, end, score, word) and JSON
/// with the same words; times are ordered and inside the audio (any model,
/// even an untrained one, has a best path).
#[test]
fn align_prints_ordered_word_times() {
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir(dir.path());
    let wav = dir.path().join("one-second.wav");
    write_wav(&wav, 0.5);
    let args = |format: &str| {
        asr(&[
            "align",
            wav.to_str().unwrap(),
            "abc  CAB b",
            "--model",
            model.to_str().unwrap(),
            "--format",
            format,
        ])
    };
    let o = args("text");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let rows: Vec<(f64, f64, String)> = out
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[3].to_string(),
            )
        })
        .collect();
    let words: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(words, ["abc", "cab", "b"], "{out}");
    for (i, (s, e, _)) in rows.iter().enumerate() {
        assert!(0.0 <= *s && s < e && *e <= 1.0 + 1e-9, "{out}");
        if i > 0 {
            assert!(rows[i - 1].1 <= *s, "{out}");
        }
    }
    let o = args("json");
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["text"], "abc cab b");
    assert_eq!(v["words"].as_array().unwrap().len(), 3);
    assert!(v["log_prob"].as_f64().unwrap() < 0.0);
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    // `asr transcribe *.wav | head -1`: once the reader is gone the program
    // ends like other Unix tools, without a "failed printing" panic.
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir(dir.path());
    let mut args = vec!["transcribe".to_string()];
    for i in 0..20 {
        let p = dir.path().join(format!("f{i}.wav"));
        write_wav(&p, 0.5);
        args.push(p.to_str().unwrap().to_string());
    }
    args.extend(["--model".into(), model.to_str().unwrap().into()]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_asr"))
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let e = stderr(&o);
    assert!(!e.contains("panicked"), "{e}");
    assert!(!o.status.success());
}

#[test]
fn no_arguments_print_the_usage_and_the_subcommands() {
    conventions::check_no_arguments(env!("CARGO_BIN_EXE_asr"));
}

#[test]
fn every_help_describes_its_options_shows_typeable_defaults_and_examples() {
    let bin = env!("CARGO_BIN_EXE_asr");
    conventions::check_every_help(bin);
    // Comma-separated lists show their default as they are typed.
    let speed = conventions::option_help(bin, "train", "--speed");
    assert!(
        speed.text.contains("[default: 0.9,1,1.1]"),
        "{}",
        speed.text
    );
    // The shared training options show asr's own defaults.
    for (option, shown) in [
        ("--epochs", "[default: 14]"),
        ("--batch-size", "[default: 16]"),
        ("--lr", "[default: 0.003]"),
        ("--optimizer", "[default: adam]"),
        ("--schedule", "[default: cosine]"),
        ("--warmup-steps", "[default: 300]"),
        ("--clip-grad-norm", "[default: 5]"),
    ] {
        let e = conventions::option_help(bin, "train", option);
        assert!(e.text.contains(shown), "{option}: {}", e.text);
    }
    // asr train validates on --valid: --validation-split is not offered.
    let (entries, _) = conventions::help_entries(bin, "train");
    assert!(entries.iter().all(|e| e.name != "--validation-split"));
}

#[test]
fn threads_has_one_default() {
    let defaults = conventions::threads_defaults(env!("CARGO_BIN_EXE_asr"), &[]);
    assert!(defaults.len() >= 5, "{defaults:?}");
    assert!(
        defaults.iter().all(|(_, d)| d.as_deref() == Some("0")),
        "{defaults:?}"
    );
}

/// `--device` wherever the network runs (issue 18).
#[test]
fn device_wherever_the_model_runs() {
    let dir = tempfile::tempdir().unwrap();
    let m = model_dir(dir.path());
    let wav = dir.path().join("a.wav");
    write_wav(&wav, 0.3);
    let (m, wav) = (m.to_str().unwrap(), wav.to_str().unwrap());
    conventions::check_device(
        env!("CARGO_BIN_EXE_asr"),
        &["transcribe", "align", "eval"],
        &[
            &["transcribe", wav, "--model", m, "--no-vad"],
            &["align", wav, "abc", "--model", m],
        ],
    );
}

#[test]
fn version_names_the_commit_libtorch_and_cuda() {
    conventions::check_version(env!("CARGO_BIN_EXE_asr"));
}

#[test]
fn model_variable_that_points_nowhere_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("a.wav");
    write_wav(&wav, 0.5);
    let missing = dir.path().join("x");
    for args in [
        vec!["transcribe", wav.to_str().unwrap()],
        vec!["align", wav.to_str().unwrap(), "abc"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_asr"))
            .args(&args)
            .env("SORI_ASR_MODEL", &missing)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(
            stderr(&o).trim_end(),
            format!(
                "error: {} (from $SORI_ASR_MODEL): no such model directory",
                missing.display()
            )
        );
    }
}

/// `asr train --quiet` prints one line per epoch; `--out` on a directory
/// that holds a run is refused unless `--resume` or `--overwrite`.
#[test]
fn quiet_training_reports_each_epoch_and_a_used_out_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.wav", "b.wav"] {
        write_wav(&dir.path().join(name), 0.5);
    }
    let train = dir.path().join("train.jsonl");
    let valid = dir.path().join("valid.jsonl");
    std::fs::write(
        &train,
        "{\"audio\":\"a.wav\",\"text\":\"ab\"}\n{\"audio\":\"b.wav\",\"text\":\"ba\"}\n",
    )
    .unwrap();
    std::fs::write(&valid, "{\"audio\":\"a.wav\",\"text\":\"ab\"}\n").unwrap();
    let out = dir.path().join("m");
    let train_into = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--train",
            train.to_str().unwrap(),
            "--valid",
            valid.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "2",
            "--hidden",
            "8",
            "--layers",
            "1",
            "--speed",
            "1",
            "--threads",
            "1",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        asr(&args)
    };
    let o = train_into(&[]);
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    for epoch in ["epoch 1/2 ", "epoch 2/2 "] {
        let line = e
            .lines()
            .find(|l| l.starts_with(epoch) && l.contains(" lr "))
            .unwrap_or_else(|| panic!("no {epoch:?} line:\n{e}"));
        let seconds = line.split_whitespace().any(|w| {
            w.strip_suffix('s')
                .is_some_and(|n| n.parse::<f64>().is_ok())
        });
        assert!(
            line.contains(" loss ") && line.contains("val_cer") && seconds,
            "{line}"
        );
    }

    // The finished run is not trained over by accident.
    let o = train_into(&[]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    assert!(
        e.starts_with("error: ") && e.contains("--resume") && e.contains("--overwrite"),
        "{e}"
    );
    // A partial run (a checkpoint without config.json) neither.
    std::fs::remove_file(out.join("config.json")).unwrap();
    let o = train_into(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("last.safetensors"), "{}", stderr(&o));
    // --overwrite starts afresh, --resume continues (here: nothing left to do).
    let o = train_into(&["--overwrite"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = train_into(&["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = train_into(&["--resume", "--overwrite"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
