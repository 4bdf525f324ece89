//! The project end to end, through the three binaries a user runs, each
//! command reading what the one before it wrote (issue 19: the data flow
//! across crates, not any one crate's logic, which their own tests check):
//!
//! - speech: `asr synth` (espeak-ng/flite corpus, manifests) → `asr
//!   features` (NPY) → `asr train` (model directory) → `asr lm` (ARPA) →
//!   `asr transcribe --format json` (with that LM) → `asr align` → `asr eval`;
//! - sentiment: a `label<TAB>text` file → `imdb train` → `imdb classify
//!   --format json` → `imdb eval --json`;
//! - translation: a parallel TSV → `seq2seq train` → `seq2seq translate` →
//!   `seq2seq score --json` against the references.
//!
//! The models are tiny and trained for seconds, so the checks are on what
//! flows between the commands (shapes, times inside the audio, one answer
//! per input, scores that parse and agree), not on accuracy.
//!
//! The binaries are the ones `cargo test --workspace` (`make test`) builds
//! into the same target folder before any test runs; run alone (`cargo
//! test -p sori`), this test needs `cargo build --release --workspace`
//! first and says so.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/release/deps/end_to_end-HASH -> target/release/NAME
    let p = exe.parent().and_then(Path::parent).unwrap().join(name);
    assert!(
        p.is_file(),
        "{} is not built: run `cargo build --release --workspace` (make test builds it)",
        p.display()
    );
    p
}

fn run(name: &str, args: &[&str], dir: &Path) -> Output {
    let o = Command::new(bin(name))
        .args(args)
        .current_dir(dir)
        .env("OMP_NUM_THREADS", "1")
        .env_remove("SORI_ASR_MODEL")
        .env_remove("SORI_IMDB_MODEL")
        .env_remove("SORI_SEQ2SEQ_MODEL")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Shape of an NPY file's array from its header (`'shape': (R, C)`).
fn npy_shape(path: &Path) -> (usize, usize) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY", "{}", path.display());
    let header = String::from_utf8_lossy(&bytes[10..128.min(bytes.len())]).into_owned();
    let dims = header.split("'shape': (").nth(1).unwrap();
    let dims: Vec<usize> = dims
        .split(')')
        .next()
        .unwrap()
        .split(',')
        .filter_map(|d| d.trim().parse().ok())
        .collect();
    (dims[0], dims[1])
}

#[test]
fn speech_synth_features_train_lm_transcribe_align_eval() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let s = |p: &str| d.join(p).to_string_lossy().into_owned();
    // From the checkout: synth reads its word lists from corpora/english/.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    run(
        "asr",
        &[
            "synth",
            "--out",
            &s("c"),
            "--train",
            "12",
            "--valid",
            "3",
            "--test",
            "3",
            "--seed",
            "1",
            "--jobs",
            "1",
        ],
        root,
    );
    let utts: Vec<serde_json::Value> = std::fs::read_to_string(d.join("c/test.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(utts.len(), 3);
    let wav = d.join("c").join(utts[0]["audio"].as_str().unwrap());
    let text = utts[0]["text"].as_str().unwrap();
    let seconds = utts[0]["duration"].as_f64().unwrap();

    // Features of the recording: 10 ms frames over its duration.
    run(
        "asr",
        &[
            "features",
            wav.to_str().unwrap(),
            "--format",
            "npy",
            "-o",
            &s("f.npy"),
        ],
        d,
    );
    let (frames, dim) = npy_shape(&d.join("f.npy"));
    assert_eq!(dim, 13, "the default MFCC preset");
    assert!(
        (frames as f64 - seconds * 100.0).abs() <= 3.0,
        "{frames} frames for {seconds} s"
    );

    run(
        "asr",
        &[
            "train",
            "--train",
            &s("c/train.jsonl"),
            "--valid",
            &s("c/valid.jsonl"),
            "--out",
            &s("m"),
            "--epochs",
            "1",
            "--hidden",
            "16",
            "--threads",
            "1",
            "--quiet",
        ],
        d,
    );
    for f in ["config.json", "best.safetensors", "history.jsonl"] {
        assert!(d.join("m").join(f).is_file(), "{f}");
    }
    run(
        "asr",
        &[
            "lm",
            "--manifest",
            &s("c/train.jsonl"),
            "--order",
            "3",
            "--out",
            &s("lm.arpa"),
        ],
        d,
    );
    assert!(std::fs::read_to_string(d.join("lm.arpa"))
        .unwrap()
        .contains("\\3-grams:"));

    // Transcription with that LM: one JSON document, word times inside the audio.
    let o = run(
        "asr",
        &[
            "transcribe",
            wav.to_str().unwrap(),
            "--model",
            &s("m"),
            "--lm",
            &s("lm.arpa"),
            "--format",
            "json",
            "--threads",
            "1",
        ],
        d,
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(v["text"].is_string(), "{v}");
    for w in v["words"].as_array().unwrap() {
        let (a, b) = (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap());
        assert!(0.0 <= a && a <= b && b <= seconds + 0.05, "{w}");
    }

    // Alignment of the known transcript: every word, in order, inside the audio.
    let o = run(
        "asr",
        &[
            "align",
            wav.to_str().unwrap(),
            text,
            "--model",
            &s("m"),
            "--format",
            "json",
            "--threads",
            "1",
        ],
        d,
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let words = v["words"].as_array().expect("words");
    let said: Vec<&str> = words.iter().map(|w| w["word"].as_str().unwrap()).collect();
    assert_eq!(said, text.split(' ').collect::<Vec<_>>());
    let mut last = 0.0;
    for w in words {
        let (a, b) = (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap());
        assert!(last <= a && a <= b && b <= seconds + 0.05, "{w}");
        last = b;
    }

    // Evaluation over the manifest: a CER that parses, in [0, 100+].
    let o = run(
        "asr",
        &[
            "eval",
            "--manifest",
            &s("c/test.jsonl"),
            "--model",
            &s("m"),
            "--no-lm",
            "--worst",
            "0",
        ],
        d,
    );
    let out = stdout(&o);
    let cer: f64 = out
        .split("CER ")
        .nth(1)
        .and_then(|r| r.split('%').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no CER in {out}"));
    assert!(cer >= 0.0, "{out}");
}

#[test]
fn sentiment_train_classify_eval() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut tsv = String::new();
    for i in 0..120 {
        let (label, word) = if i % 2 == 0 {
            (1, "wonderful")
        } else {
            (0, "awful")
        };
        tsv.push_str(&format!(
            "{label}\tthe film was {word} and the story {i} too\n"
        ));
    }
    std::fs::write(d.join("r.tsv"), tsv).unwrap();
    run(
        "imdb",
        &[
            "train",
            "--arch",
            "embedding-flatten",
            "--data",
            "r.tsv",
            "--out",
            "m",
            "--epochs",
            "3",
            "--threads",
            "1",
            "--quiet",
        ],
        d,
    );
    let o = run(
        "imdb",
        &[
            "classify",
            "--model",
            "m",
            "--format",
            "json",
            "a wonderful film",
            "",
            "an awful film",
        ],
        d,
    );
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "one answer per input, the blank one kept");
    for l in [&lines[0], &lines[2]] {
        let p = l["probability"].as_f64().unwrap();
        assert!(
            (0.0..=1.0).contains(&p) && l["known_words"].as_u64().unwrap() >= 2,
            "{l}"
        );
    }
    let o = run(
        "imdb",
        &["eval", "--model", "m", "--data", "r.tsv", "--json"],
        d,
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["n"].as_u64(), Some(120), "the whole file: {v}");
    assert!(
        (0.0..=1.0).contains(&v["accuracy"].as_f64().unwrap()),
        "{v}"
    );
}

#[test]
fn translation_train_translate_score() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let words = ["rot", "blau", "gruen", "gelb", "schwarz"];
    let english = ["red", "blue", "green", "yellow", "black"];
    let mut tsv = String::new();
    for i in 0..200 {
        let (a, b) = (i % 5, (i / 5) % 5);
        tsv.push_str(&format!(
            "{} und {}\t{} and {}\n",
            words[a], words[b], english[a], english[b]
        ));
    }
    std::fs::write(d.join("p.tsv"), tsv).unwrap();
    run(
        "seq2seq",
        &[
            "train",
            "--tsv",
            "p.tsv",
            "--out",
            "m",
            "--vocab-size",
            "40",
            "--emb",
            "16",
            "--hidden",
            "16",
            "--dec-hidden",
            "16",
            "--attn-dim",
            "16",
            "--epochs",
            "2",
            "--threads",
            "1",
            "--quiet",
        ],
        d,
    );
    // The run wrote its held-out split; translate its sources and score them.
    let src = std::fs::read_to_string(d.join("m/test.src")).unwrap();
    let n = src.lines().count();
    assert!(n > 0);
    let o = Command::new(bin("seq2seq"))
        .args(["translate", "--model", "m", "--threads", "1"])
        .current_dir(d)
        .stdin(std::fs::File::open(d.join("m/test.src")).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o).lines().count(), n, "one line per source line");
    std::fs::write(d.join("hyp.txt"), stdout(&o)).unwrap();
    let o = run(
        "seq2seq",
        &["score", "--hyp", "hyp.txt", "--ref", "m/test.ref", "--json"],
        d,
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let bleu = v["bleu"]["score"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&bleu), "{v}");
    assert_eq!(v["sentences"].as_u64(), Some(n as u64), "{v}");
}
