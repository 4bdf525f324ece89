//! `asr features --preset whisper` / `whisper-128` against the Whisper
//! reference fixtures of sori-features (transformers' WhisperFeatureExtractor,
//! `scripts/make-whisper-fixtures.py`), `asr features -` reading standard
//! input, and `asr train --features whisper` (issue 23).
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn asr(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_asr"))
        .args(args)
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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../features/tests/fixtures")
}

/// The reference `(frames, n_mels)` matrix under `key` in whisper.json.
fn reference(key: &str) -> (String, usize, usize, Vec<f32>) {
    let text = std::fs::read_to_string(fixtures().join("whisper.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let r = &v["references"][key];
    let data = r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    (
        r["wav"].as_str().unwrap().to_string(),
        r["shape"][0].as_u64().unwrap() as usize,
        r["shape"][1].as_u64().unwrap() as usize,
        data,
    )
}

/// CSV rows on stdout as one flat matrix and its row width.
fn csv(o: &Output) -> (Vec<f32>, usize, usize) {
    assert!(o.status.success(), "{}", stderr(o));
    let text = String::from_utf8(o.stdout.clone()).unwrap();
    let rows: Vec<Vec<f32>> = text
        .lines()
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    let width = rows.first().map_or(0, Vec::len);
    assert!(rows.iter().all(|r| r.len() == width));
    (rows.concat(), rows.len(), width)
}

/// Same tolerance as sori-features' tests/whisper.rs (measured 6e-7).
fn assert_matches(got: (Vec<f32>, usize, usize), key: &str) {
    let (_, frames, n_mels, want) = reference(key);
    assert_eq!((got.1, got.2), (frames, n_mels), "{key}: shape");
    let err = got
        .0
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 2e-6, "{key}: max abs error {err}");
}

#[test]
fn whisper_presets_match_the_reference_from_a_file_and_from_stdin() {
    for (preset, key) in [
        ("whisper", "whisper80/speech16k"),
        ("whisper", "whisper80/chirp16k"),
        ("whisper-128", "whisper128/tones16k"),
    ] {
        let wav = fixtures().join(reference(key).0);
        let o = asr(
            &["features", "--preset", preset, wav.to_str().unwrap()],
            None,
        );
        assert_matches(csv(&o), key);
        let bytes = std::fs::read(&wav).unwrap();
        let o = asr(&["features", "--preset", preset, "-"], Some(&bytes));
        assert_matches(csv(&o), key);
    }
}

#[test]
fn a_dash_reads_standard_input_once() {
    let dir = tempfile::tempdir().unwrap();
    let wav = fixtures().join("speech16k.wav");
    let bytes = std::fs::read(&wav).unwrap();
    let w = wav.to_str().unwrap();
    // The default preset streams; stdin gives the file's features exactly.
    for preset in ["default", "kaldi", "librosa"] {
        let file = asr(&["features", "--preset", preset, w], None);
        let piped = asr(&["features", "--preset", preset, "-"], Some(&bytes));
        assert!(piped.status.success(), "{}", stderr(&piped));
        assert_eq!(file.stdout, piped.stdout, "{preset}");
        assert!(!file.stdout.is_empty());
    }
    // With other files: written as stdin.npy next to theirs.
    let out = dir.path().join("out");
    let o = asr(
        &["features", w, "-", "-o", out.to_str().unwrap()],
        Some(&bytes),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let a = std::fs::read(out.join("speech16k.npy")).unwrap();
    let b = std::fs::read(out.join("stdin.npy")).unwrap();
    assert_eq!(a, b);
    // Empty input: one line naming "-", exit 1.
    for preset in ["default", "whisper"] {
        let o = asr(&["features", "--preset", preset, "-"], Some(b""));
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.starts_with("error: -: ") && e.trim_end().lines().count() == 1,
            "{e}"
        );
    }
    let o = asr(&["features", "-", "-", "-o", "x"], Some(&bytes));
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("error: standard input (-) is named 2 times") && e.lines().count() == 1,
        "{e}"
    );
}

#[test]
fn whisper_runs_at_16_khz_only() {
    let wav = fixtures().join("tones16k.wav");
    let o = asr(
        &[
            "features",
            "--preset",
            "whisper",
            "--rate",
            "8000",
            wav.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("error: --preset whisper computes at 16000 Hz") && e.lines().count() == 1,
        "{e}"
    );
    // Audio at another rate is resampled to 16 kHz: 22.05 kHz speech works.
    let o = asr(
        &[
            "features",
            "--preset",
            "whisper",
            fixtures().join("speech22k.wav").to_str().unwrap(),
        ],
        None,
    );
    let (data, _, width) = csv(&o);
    assert_eq!(width, 80);
    assert!(data.iter().all(|v| v.is_finite()));
}

/// `asr train --features whisper` trains on Whisper's features (80 bins by
/// default), records them in the model, and `asr transcribe` reads them back.
#[test]
fn train_accepts_whisper_features() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["speech16k.wav", "tones16k.wav"] {
        std::fs::copy(fixtures().join(name), dir.path().join(name)).unwrap();
    }
    let train = dir.path().join("train.jsonl");
    std::fs::write(
        &train,
        "{\"audio\":\"speech16k.wav\",\"text\":\"ab\"}\n{\"audio\":\"tones16k.wav\",\"text\":\"ba\"}\n",
    )
    .unwrap();
    let out = dir.path().join("m");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--train",
            train.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--layers",
            "1",
            "--speed",
            "1",
            "--threads",
            "1",
            "--quiet",
            "--features",
            "whisper",
        ];
        args.extend_from_slice(extra);
        asr(&args, None)
    };
    let o = run(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    let fe = &config["config"]["frontend"];
    assert_eq!(fe["kind"], "whisper", "{fe}");
    assert_eq!(fe["n_mels"], 80, "{fe}");
    assert_eq!(config["config"]["encoder"]["input"], 80);
    let wav = dir.path().join("speech16k.wav");
    let o = asr(
        &[
            "transcribe",
            wav.to_str().unwrap(),
            "--model",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // --n-mels still chooses the bins (128: large-v3).
    let o = run(&["--overwrite", "--n-mels", "128"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["config"]["frontend"]["n_mels"], 128);
    // Whisper's features are defined at 16 kHz only.
    let o = run(&["--overwrite", "--sample-rate", "8000"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("error: --features whisper computes at 16000 Hz") && e.lines().count() == 1,
        "{e}"
    );
}
