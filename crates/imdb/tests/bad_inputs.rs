//! The bad-input matrix of the `imdb` binary (issue 10): every row runs
//! `imdb` as a subprocess and checks the exit status (0 handled, 1 bad
//! input, 2 usage error), that stderr is one `error: ...` line naming the
//! file and the problem, and that no output was left half-written.
#[path = "../../train/tests/support/cli_conventions.rs"]
mod conventions;
#[path = "../../train/tests/support/bad_input_matrix.rs"]
mod matrix;

use matrix::{fake_model_dir, make_unreadable, run_matrix, Row};
use std::path::{Path, PathBuf};
use std::process::Command;

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

/// 100 labelled reviews, label<TAB>text.
fn write_tsv(path: &Path) {
    let pos = ["great", "wonderful", "superb", "lovely"];
    let neg = ["awful", "boring", "terrible", "dull"];
    let mut text = String::new();
    for i in 0..100usize {
        let words = if i % 2 == 1 { &pos } else { &neg };
        let review: Vec<&str> = (0..6).map(|k| words[(i * 7 + k * 3) % 4]).collect();
        text.push_str(&format!("{}\tthe movie was {}\n", i % 2, review.join(" ")));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn imdb_bad_input_matrix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| -> PathBuf { tmp.path().join(name) };
    let data = d("reviews.tsv");
    write_tsv(&data);
    let model = d("model");
    let o = Command::new(env!("CARGO_BIN_EXE_imdb"))
        .args(["train", "--data", &p(&data), "--out", &p(&model)])
        .args(["--arch", "lstm", "--num-words", "30", "--maxlen", "12"])
        .args(["--embedding-dim", "4", "--hidden", "4", "--epochs", "1"])
        .args(["--quiet", "--threads", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = p(&model);

    let a_dir = d("a-directory");
    std::fs::create_dir(&a_dir).unwrap();
    let missing = d("missing.tsv");
    let empty = d("empty.txt");
    std::fs::write(&empty, "\n\n").unwrap();
    let broken = d("broken.tsv");
    std::fs::write(&broken, "1\tfine film\nno label on this line\n").unwrap();
    let bad_label = d("bad-label.tsv");
    std::fs::write(&bad_label, "1\tfine film\nmaybe\tso-so film\n").unwrap();
    let bad_csv = d("bad.csv");
    std::fs::write(&bad_csv, "title,score\nx,1\n").unwrap();
    let strange = d("strange.txt");
    std::fs::write(
        &strange,
        "영화가 정말 좋았어요 🎬\u{200b}\n\u{1}\u{7f} ÿ\n".as_bytes(),
    )
    .unwrap();
    let not_utf8 = d("latin1.txt");
    std::fs::write(&not_utf8, b"caf\xe9 tr\xe8s bien\n").unwrap();
    let unreadable = d("unreadable.txt");
    std::fs::write(&unreadable, "a fine film\n").unwrap();
    make_unreadable(&unreadable);
    // Model directories that are broken or of another kind or version.
    let asr_model = d("asr-model");
    fake_model_dir(&asr_model, "sori-asr-ctc", 1);
    let future = d("future-model");
    std::fs::create_dir(&future).unwrap();
    for f in ["vocab.json", "best.safetensors"] {
        std::fs::copy(model.join(f), future.join(f)).unwrap();
    }
    let cfg = std::fs::read_to_string(model.join("config.json")).unwrap();
    std::fs::write(
        future.join("config.json"),
        cfg.replace("\"format_version\": 1", "\"format_version\": 7"),
    )
    .unwrap();
    let bad_vocab = d("bad-vocab");
    std::fs::create_dir(&bad_vocab).unwrap();
    std::fs::copy(model.join("config.json"), bad_vocab.join("config.json")).unwrap();
    std::fs::copy(
        model.join("best.safetensors"),
        bad_vocab.join("best.safetensors"),
    )
    .unwrap();
    std::fs::write(
        bad_vocab.join("vocab.json"),
        "{\"num_words\": 30, \"words\": [1, 2",
    )
    .unwrap();
    // vocab.json linked to an endless device (issue 21).
    let zero_vocab = d("zero-vocab");
    std::fs::create_dir(&zero_vocab).unwrap();
    for f in ["config.json", "best.safetensors"] {
        std::fs::copy(model.join(f), zero_vocab.join(f)).unwrap();
    }
    std::os::unix::fs::symlink("/dev/zero", zero_vocab.join("vocab.json")).unwrap();
    let no_vocab = d("no-vocab");
    std::fs::create_dir(&no_vocab).unwrap();
    std::fs::copy(model.join("config.json"), no_vocab.join("config.json")).unwrap();
    std::fs::copy(
        model.join("best.safetensors"),
        no_vocab.join("best.safetensors"),
    )
    .unwrap();
    let torn = d("torn-weights");
    std::fs::create_dir(&torn).unwrap();
    for f in ["config.json", "vocab.json"] {
        std::fs::copy(model.join(f), torn.join(f)).unwrap();
    }
    let w = std::fs::read(model.join("best.safetensors")).unwrap();
    std::fs::write(torn.join("best.safetensors"), &w[..w.len() / 2]).unwrap();

    let train = |data: &Path, out: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec![
            "train".into(),
            "--data".into(),
            p(data),
            "--out".into(),
            p(&d(out)),
            "--quiet".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let out_cfg = |out: &str| d(out).join("config.json");
    // config.json with absurd sizes (issue 21): refused at load, naming the
    // file, before anything is allocated.
    let tampered = |name: &str, from: &str, to: &str| -> PathBuf {
        let dir = d(name);
        std::fs::create_dir(&dir).unwrap();
        for f in ["vocab.json", "best.safetensors"] {
            std::fs::copy(model.join(f), dir.join(f)).unwrap();
        }
        assert!(cfg.contains(from), "{cfg}");
        std::fs::write(dir.join("config.json"), cfg.replace(from, to)).unwrap();
        dir
    };
    let huge_embedding = tampered(
        "huge-embedding",
        "\"embedding_dim\": 4",
        "\"embedding_dim\": 1000000000",
    );
    let huge_ngrams = tampered(
        "huge-ngrams",
        "\"ngram_buckets\": 0",
        "\"ngram_buckets\": 1000000000000",
    );
    let huge_maxlen = tampered("huge-maxlen", "\"maxlen\": 12", "\"maxlen\": 1000000000000");
    let mut rows = vec![
        // Values that must be refused as usage errors, and absurd sizes
        // (issue 21).
        Row::new(
            "classify: config.json with embedding_dim 1e9",
            ["classify", "--model", &p(&huge_embedding), "good"],
            1,
        )
        .mentions("huge-embedding/config.json")
        .mentions("embedding_dim"),
        Row::new(
            "classify: config.json with ngram_buckets 1e12",
            ["classify", "--model", &p(&huge_ngrams), "good"],
            1,
        )
        .mentions("huge-ngrams/config.json")
        .mentions("ngram_buckets"),
        Row::new(
            "classify: config.json with maxlen 1e12",
            ["classify", "--model", &p(&huge_maxlen), "good"],
            1,
        )
        .mentions("huge-maxlen/config.json")
        .mentions("maxlen"),
        Row::new(
            "train: --embedding-dim 1000000000",
            train(&data, "o-flags", &["--embedding-dim", "1000000000"]),
            2,
        )
        .mentions("--embedding-dim")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --maxlen 1000000000000",
            train(&data, "o-flags", &["--maxlen", "1000000000000"]),
            2,
        )
        .mentions("--maxlen")
        .output(&out_cfg("o-flags")),
        Row::new(
            "summary: sizes within their limits, too many parameters together",
            [
                "summary",
                "--arch",
                "lstm",
                "--hidden",
                "16384",
                "--embedding-dim",
                "16384",
            ],
            1,
        )
        .mentions("parameters"),
        Row::new(
            "train: --warmup-steps u64::MAX",
            train(
                &data,
                "o-flags",
                &["--warmup-steps", "18446744073709551615"],
            ),
            2,
        )
        .mentions("--warmup-steps")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --lr nan",
            train(&data, "o-flags", &["--lr", "nan"]),
            2,
        )
        .mentions("--lr")
        .output(&out_cfg("o-flags")),
        Row::new(
            "classify: --threads 4294967297",
            ["classify", "--model", &m, "--threads", "4294967297", "good"],
            2,
        )
        .mentions("--threads"),
        Row::new(
            "eval: --threads -1",
            ["eval", "--model", &m, "--data", &p(&data), "--threads=-1"],
            2,
        )
        .mentions("--threads"),
        // Missing files.
        Row::new(
            "classify: missing --file",
            ["classify", "--model", &m, "--file", &p(&missing)],
            1,
        )
        .names(&missing)
        .mentions("No such file"),
        Row::new(
            "train: missing --data",
            train(&missing, "o-missing", &[]),
            1,
        )
        .names(&missing)
        .mentions("No such file")
        .output(&out_cfg("o-missing")),
        Row::new(
            "classify: missing model directory",
            ["classify", "--model", &p(&d("nowhere")), "good"],
            1,
        )
        .mentions("nowhere")
        .mentions("no such model directory"),
        // A directory instead of a file.
        Row::new(
            "classify: directory as --file",
            ["classify", "--model", &m, "--file", &p(&a_dir)],
            1,
        )
        .names(&a_dir)
        .mentions("directory"),
        Row::new(
            "eval: a directory that is not aclImdb",
            ["eval", "--model", &m, "--data", &p(&a_dir)],
            1,
        )
        .names(&a_dir),
        // Empty files.
        Row::new(
            "classify: empty --file",
            ["classify", "--model", &m, "--file", &p(&empty)],
            1,
        )
        .names(&empty)
        .mentions("no reviews"),
        Row::new("train: empty --data", train(&empty, "o-empty", &[]), 1)
            .names(&empty)
            .output(&out_cfg("o-empty")),
        // Broken lines.
        Row::new(
            "train: line without a tab",
            train(&broken, "o-broken", &[]),
            1,
        )
        .mentions("broken.tsv: line 2")
        .mentions("tab")
        .output(&out_cfg("o-broken")),
        Row::new(
            "eval: label that is not 0/1",
            ["eval", "--model", &m, "--data", &p(&bad_label)],
            1,
        )
        .mentions("bad-label.tsv: line 2"),
        Row::new(
            "eval: CSV without text/label columns",
            ["eval", "--model", &m, "--data", &p(&bad_csv)],
            1,
        )
        .names(&bad_csv)
        .mentions("'text'"),
        // Unknown characters and bytes are handled (unknown words map to OOV).
        Row::new(
            "classify: Hangul, emoji, control characters",
            ["classify", "--model", &m, "--file", &p(&strange)],
            0,
        ),
        Row::new(
            "classify: Latin-1 bytes",
            ["classify", "--model", &m, "--file", &p(&not_utf8)],
            0,
        ),
        // Model directories.
        Row::new(
            "classify: model of another kind",
            ["classify", "--model", &p(&asr_model), "good"],
            1,
        )
        .mentions("config.json")
        .mentions("sori-asr-ctc"),
        Row::new(
            "train: --out holds a finished run",
            train(&data, "model", &["--epochs", "1"]),
            1,
        )
        .names(&model)
        .mentions("--resume")
        .mentions("--overwrite"),
        Row::new(
            "classify: config.json of format version 7",
            ["classify", "--model", &p(&future), "good"],
            1,
        )
        .mentions("config.json")
        .mentions("format version 7"),
        Row::new(
            "classify: corrupt vocab.json",
            ["classify", "--model", &p(&bad_vocab), "good"],
            1,
        )
        .mentions("vocab.json"),
        Row::new(
            "classify: vocab.json linked to /dev/zero",
            ["classify", "--model", &p(&zero_vocab), "good"],
            1,
        )
        .mentions("vocab.json")
        .mentions("larger than 256 MB"),
        Row::new(
            "classify: no vocab.json",
            ["classify", "--model", &p(&no_vocab), "good"],
            1,
        )
        .mentions("vocab.json"),
        Row::new(
            "classify: torn weights",
            ["classify", "--model", &p(&torn), "good"],
            1,
        )
        .mentions("best.safetensors"),
        Row::new(
            "train: --out holds a model of another kind",
            train(&data, "asr-model", &["--epochs", "1"]),
            1,
        )
        .mentions("config.json")
        .mentions("sori-asr-ctc"),
        Row::new(
            "train: --out holds a finished run",
            train(&data, "model", &["--epochs", "1"]),
            1,
        )
        .names(&model)
        .mentions("--resume")
        .mentions("--overwrite"),
        // Out-of-range and conflicting flags.
        Row::new(
            "train: --epochs 0",
            train(&data, "o-flags", &["--epochs", "0"]),
            1,
        )
        .mentions("--epochs")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --batch-size 0",
            train(&data, "o-flags", &["--batch-size", "0"]),
            1,
        )
        .mentions("--batch-size")
        .output(&out_cfg("o-flags")),
        Row::new("train: --lr 0", train(&data, "o-flags", &["--lr", "0"]), 1)
            .mentions("learning rate")
            .output(&out_cfg("o-flags")),
        Row::new(
            "train: --num-words 2",
            train(&data, "o-flags", &["--num-words", "2"]),
            2,
        )
        .mentions("--num-words")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --dropout 1",
            train(&data, "o-flags", &["--dropout", "1"]),
            1,
        )
        .mentions("--dropout")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --limit 0",
            train(&data, "o-flags", &["--limit", "0"]),
            1,
        )
        .mentions("--limit")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --clip-grad-norm -1",
            train(&data, "o-flags", &["--clip-grad-norm=-1"]),
            1,
        )
        .mentions("--clip-grad-norm")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: unknown --arch",
            train(&data, "o-flags", &["--arch", "transformer"]),
            2,
        )
        .mentions("transformer")
        .output(&out_cfg("o-flags")),
        Row::new(
            "classify: TEXT and --file",
            ["classify", "--model", &m, "--file", &p(&strange), "good"],
            1,
        )
        .mentions("--file"),
        Row::new(
            "eval: Rotten Tomatoes from a TSV",
            ["eval", "--model", &m, "--data", &p(&data), "--subset", "rt"],
            1,
        )
        .names(&data)
        .mentions("Rotten Tomatoes"),
        Row::new(
            "classify: --threads -3",
            ["classify", "--model", &m, "--threads", "-3", "good"],
            2,
        )
        .mentions("-3"),
        // Issue 21: --resume needs a checkpoint.
        Row::new(
            "train: --resume without a checkpoint",
            train(&data, "o-noresume", &["--resume"]),
            1,
        )
        .names(&d("o-noresume"))
        .mentions("--resume-or-start")
        .output(&out_cfg("o-noresume")),
    ];
    // Also as root: the row runs without the capabilities that bypass permissions.
    rows.push(
        Row::new(
            "classify: unreadable --file",
            ["classify", "--model", &m, "--file", &p(&unreadable)],
            1,
        )
        .names(&unreadable)
        .mentions("Permission denied")
        .unprivileged(),
    );
    run_matrix(env!("CARGO_BIN_EXE_imdb"), rows);
    let cfg = std::fs::read_to_string(asr_model.join("config.json")).unwrap();
    assert!(cfg.contains("sori-asr-ctc"), "{cfg}");
}

#[test]
fn no_arguments_print_the_usage_and_the_subcommands() {
    conventions::check_no_arguments(env!("CARGO_BIN_EXE_imdb"));
}

#[test]
fn every_help_describes_its_options_shows_typeable_defaults_and_examples() {
    let bin = env!("CARGO_BIN_EXE_imdb");
    conventions::check_every_help(bin);
    for (option, shown) in [
        ("--epochs", "[default: 10; best: 2]"),
        ("--batch-size", "[default: 128; embedding-flatten: 32]"),
        ("--optimizer", "[default: rmsprop; best: adam]"),
        ("--validation-split", "[default: 0.2]"),
        (
            "--maxlen",
            "[default: 500; embedding-flatten: 20, best: 200]",
        ),
    ] {
        let e = conventions::option_help(bin, "train", option);
        assert!(e.text.contains(shown), "{option}: {}", e.text);
    }
    let threads = conventions::threads_defaults(bin, &[]);
    assert!(threads.len() >= 3, "{threads:?}");
    assert!(
        threads.iter().all(|(_, d)| d.as_deref() == Some("0")),
        "{threads:?}"
    );
}

#[test]
fn version_names_the_commit_libtorch_and_cuda() {
    conventions::check_version(env!("CARGO_BIN_EXE_imdb"));
}

/// `--model` is a model directory everywhere; the architecture is `--arch`
/// (the old spelling still works, hidden).
#[test]
fn the_architecture_is_arch_and_model_is_a_directory() {
    let bin = env!("CARGO_BIN_EXE_imdb");
    for sub in ["summary", "train"] {
        let (entries, _) = conventions::help_entries(bin, sub);
        assert!(entries.iter().any(|e| e.name == "--arch"), "{sub}");
        assert!(entries.iter().all(|e| e.name != "--model"), "{sub}");
    }
    for sub in ["classify", "eval"] {
        let e = conventions::option_help(bin, sub, "--model");
        assert!(e.text.contains("directory"), "{sub}: {}", e.text);
    }
    let new = conventions::run(bin, &["summary", "--arch", "gru"]);
    let old = conventions::run(bin, &["summary", "--model", "gru"]);
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );
    assert_eq!(new.stdout, old.stdout);
}
