//! The bad-input matrix of the `seq2seq` binary (issue 10): every row runs
//! `seq2seq` as a subprocess and checks the exit status (0 handled, 1 bad
//! input, 2 usage error), that stderr is one `error: ...` line naming the
//! file and the problem, and that no output was left half-written. The
//! library-level checks of `tests/errors.rs` are not repeated.
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

/// 120 line-aligned German/English toy sentences.
fn write_parallel(de: &Path, en: &Path) {
    let words = [
        ("ein", "one"),
        ("zwei", "two"),
        ("mann", "man"),
        ("frau", "woman"),
        ("hund", "dog"),
        ("katze", "cat"),
    ];
    let (mut s, mut t) = (String::new(), String::new());
    for i in 0..120usize {
        let idx: Vec<usize> = (0..4).map(|k| (i * 5 + k * 7 + i / 6) % 6).collect();
        s.push_str(
            &idx.iter()
                .map(|&j| words[j].0)
                .collect::<Vec<_>>()
                .join(" "),
        );
        t.push_str(
            &idx.iter()
                .map(|&j| words[j].1)
                .collect::<Vec<_>>()
                .join(" "),
        );
        s.push('\n');
        t.push('\n');
    }
    std::fs::write(de, s).unwrap();
    std::fs::write(en, t).unwrap();
}

#[test]
fn seq2seq_bad_input_matrix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| -> PathBuf { tmp.path().join(name) };
    let (de, en) = (d("train.de"), d("train.en"));
    write_parallel(&de, &en);
    let model = d("model");
    let o = Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .args(["train", "--src-file", &p(&de), "--tgt-file", &p(&en)])
        .args(["--out", &p(&model), "--epochs", "1", "--vocab-size", "40"])
        .args([
            "--emb",
            "8",
            "--hidden",
            "8",
            "--dec-hidden",
            "8",
            "--attn-dim",
            "8",
        ])
        .args(["--samples", "0", "--beam", "1", "--quiet", "--threads", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The last line of training: the best score rounded, and where the model is.
    let out = String::from_utf8_lossy(&o.stdout);
    let summary = out
        .lines()
        .find(|l| l.starts_with("trained in "))
        .unwrap_or_else(|| panic!("no summary line: {out}"));
    let best = summary
        .split("best val_bleu = ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(
        best.parse::<f64>().is_ok() && best.split('.').nth(1).map(str::len) == Some(2),
        "{summary}"
    );
    assert!(
        summary.ends_with(&format!("; model in {}", model.display())),
        "{summary}"
    );
    let m = p(&model);

    let missing = d("missing.de");
    let a_dir = d("a-directory");
    std::fs::create_dir(&a_dir).unwrap();
    let (empty_de, empty_en) = (d("empty.de"), d("empty.en"));
    std::fs::write(&empty_de, "").unwrap();
    std::fs::write(&empty_en, "").unwrap();
    let (two, one) = (d("two.de"), d("one.en"));
    std::fs::write(&two, "eins\nzwei\n").unwrap();
    std::fs::write(&one, "one\n").unwrap();
    let bad_tsv = d("pairs.tsv");
    std::fs::write(&bad_tsv, "Hi.\tHallo.\nno tab on this line\n").unwrap();
    let unreadable = d("unreadable.de");
    std::fs::write(&unreadable, "ein mann\n").unwrap();
    make_unreadable(&unreadable);
    let imdb_model = d("imdb-model");
    fake_model_dir(&imdb_model, "sori-imdb", 1);
    let copy_model = |name: &str, skip: &str| -> PathBuf {
        let dst = d(name);
        std::fs::create_dir(&dst).unwrap();
        for f in [
            "config.json",
            "best.safetensors",
            "src_tokenizer.json",
            "tgt_tokenizer.json",
        ] {
            if f != skip {
                std::fs::copy(model.join(f), dst.join(f)).unwrap();
            }
        }
        dst
    };
    let future = copy_model("future-model", "config.json");
    let cfg = std::fs::read_to_string(model.join("config.json")).unwrap();
    std::fs::write(
        future.join("config.json"),
        cfg.replace("\"format_version\": 1", "\"format_version\": 2"),
    )
    .unwrap();
    let bad_tok = copy_model("bad-tokenizer", "src_tokenizer.json");
    std::fs::write(bad_tok.join("src_tokenizer.json"), "{\"model\": 3").unwrap();
    let no_tok = copy_model("no-tokenizer", "tgt_tokenizer.json");
    let zero_tok = copy_model("zero-tokenizer", "src_tokenizer.json");
    std::os::unix::fs::symlink("/dev/zero", zero_tok.join("src_tokenizer.json")).unwrap();
    let torn = copy_model("torn-weights", "best.safetensors");
    let w = std::fs::read(model.join("best.safetensors")).unwrap();
    std::fs::write(torn.join("best.safetensors"), &w[..w.len() / 3]).unwrap();

    let train = |out: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec![
            "train".into(),
            "--src-file".into(),
            p(&de),
            "--tgt-file".into(),
            p(&en),
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
    let huge_encoder = copy_model("huge-encoder", "config.json");
    let cfg = std::fs::read_to_string(model.join("config.json")).unwrap();
    assert!(cfg.contains("\"enc_hidden\": 8"), "{cfg}");
    std::fs::write(
        huge_encoder.join("config.json"),
        cfg.replace("\"enc_hidden\": 8", "\"enc_hidden\": 1000000000"),
    )
    .unwrap();
    let huge_vocab = copy_model("huge-vocab", "config.json");
    std::fs::write(
        huge_vocab.join("config.json"),
        cfg.replace("\"emb_dim\": 8", "\"emb_dim\": 16000")
            .replace("\"tgt_vocab\": ", "\"tgt_vocab\": 1000"),
    )
    .unwrap();
    let dev_zero = Path::new("/dev/zero");
    let no_dir_output = d("no-such-dir").join("hyp.txt");
    let mut rows = vec![
        // Values that must be refused as usage errors, and absurd sizes
        // (issue 21).
        Row::new(
            "translate: --beam 0",
            ["translate", "--model", &m, "--beam", "0", "Hallo"],
            2,
        )
        .mentions("--beam"),
        Row::new(
            "translate: --beam 1000000000",
            ["translate", "--model", &m, "--beam", "1000000000", "Hallo"],
            2,
        )
        .mentions("--beam"),
        Row::new(
            "eval: --beam 0",
            [
                "eval",
                "--model",
                &m,
                "--src-file",
                &p(&de),
                "--ref",
                &p(&en),
                "--beam",
                "0",
            ],
            2,
        )
        .mentions("--beam"),
        Row::new(
            "translate: --alpha nan",
            ["translate", "--model", &m, "--alpha", "nan", "Hallo"],
            2,
        )
        .mentions("--alpha"),
        Row::new(
            "translate: --threads -1",
            ["translate", "--model", &m, "--threads=-1", "Hallo"],
            2,
        )
        .mentions("--threads"),
        Row::new(
            "translate: --threads 4294967297",
            [
                "translate",
                "--model",
                &m,
                "--threads",
                "4294967297",
                "Hallo",
            ],
            2,
        )
        .mentions("--threads"),
        Row::new(
            "translate: --threads above the cores is capped with a note",
            ["translate", "--model", &m, "--threads", "60000", "Hallo"],
            0,
        )
        .mentions("note: --threads 60000 is more than the"),
        Row::new(
            "train: --warmup-steps u64::MAX",
            train("o-flags", &["--warmup-steps", "18446744073709551615"]),
            2,
        )
        .mentions("--warmup-steps")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --emb 1000000000",
            train("o-flags", &["--emb", "1000000000"]),
            2,
        )
        .mentions("--emb")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: sizes within their limits, too many parameters together",
            train("o-flags", &["--hidden", "16384", "--dec-hidden", "16384"]),
            1,
        )
        .mentions("parameters")
        .output(&out_cfg("o-flags")),
        Row::new(
            "translate: config.json with enc_hidden 1e9",
            ["translate", "--model", &p(&huge_encoder), "Hallo"],
            1,
        )
        .mentions("huge-encoder/config.json")
        .mentions("encoder size"),
        Row::new(
            "translate: config.json with a vocabulary too large for its embeddings",
            ["translate", "--model", &p(&huge_vocab), "Hallo"],
            1,
        )
        .mentions("huge-vocab/config.json")
        .mentions("parameters"),
        Row::new(
            "translate: stdin without line breaks (/dev/zero)",
            ["translate", "--model", &m],
            1,
        )
        .stdin(dev_zero)
        .mentions("stdin: line 1")
        .mentions("longer than"),
        Row::new(
            "eval: --src-file without line breaks (/dev/zero)",
            [
                "eval",
                "--model",
                &m,
                "--src-file",
                "/dev/zero",
                "--ref",
                &p(&en),
            ],
            1,
        )
        .mentions("/dev/zero:1")
        .mentions("longer than"),
        // Missing files.
        Row::new(
            "eval: missing --src",
            [
                "eval",
                "--model",
                &m,
                "--src",
                &p(&missing),
                "--ref",
                &p(&en),
            ],
            1,
        )
        .names(&missing)
        .mentions("No such file"),
        Row::new(
            "train: missing --tsv",
            [
                "train",
                "--tsv",
                &p(&d("missing.tsv")),
                "--out",
                &p(&d("o-missing")),
            ],
            1,
        )
        .mentions("missing.tsv")
        .mentions("No such file")
        .output(&out_cfg("o-missing")),
        Row::new(
            "translate: missing model directory",
            ["translate", "--model", &p(&d("nowhere")), "Hallo"],
            1,
        )
        .mentions("nowhere")
        .mentions("no such model directory"),
        // A directory instead of a file.
        Row::new(
            "score: directory as --hyp",
            ["score", "--hyp", &p(&a_dir), "--ref", &p(&en)],
            1,
        )
        .names(&a_dir)
        .mentions("directory"),
        // Empty files.
        Row::new(
            "train: empty parallel files",
            [
                "train",
                "--src-file",
                &p(&empty_de),
                "--tgt-file",
                &p(&empty_en),
                "--out",
                &p(&d("o-empty")),
            ],
            1,
        )
        .names(&empty_de)
        .mentions("no sentence pairs")
        .output(&out_cfg("o-empty")),
        // Broken lines.
        Row::new(
            "score: line counts differ",
            ["score", "--hyp", &p(&two), "--ref", &p(&one)],
            1,
        )
        .names(&two)
        .names(&one)
        .mentions("line-aligned"),
        Row::new(
            "train: TSV line without a tab",
            ["train", "--tsv", &p(&bad_tsv), "--out", &p(&d("o-tsv"))],
            1,
        )
        .mentions("pairs.tsv:2")
        .mentions("tab")
        .output(&out_cfg("o-tsv")),
        // Unknown characters are handled (byte-level fallback of the BPE).
        Row::new(
            "translate: Hangul, emoji and control characters",
            [
                "translate",
                "--model",
                &m,
                "--beam",
                "1",
                "안녕 🐶 \u{1}\u{7f} ÿ",
            ],
            0,
        ),
        // Model directories.
        Row::new(
            "translate: model of another kind",
            ["translate", "--model", &p(&imdb_model), "Hallo"],
            1,
        )
        .mentions("config.json")
        .mentions("sori-imdb"),
        Row::new(
            "translate: config.json of format version 2",
            ["translate", "--model", &p(&future), "Hallo"],
            1,
        )
        .mentions("config.json")
        .mentions("format version 2"),
        Row::new(
            "translate: corrupt tokenizer",
            ["translate", "--model", &p(&bad_tok), "Hallo"],
            1,
        )
        .mentions("src_tokenizer.json"),
        Row::new(
            "translate: tokenizer linked to /dev/zero",
            ["translate", "--model", &p(&zero_tok), "Hallo"],
            1,
        )
        .mentions("src_tokenizer.json")
        .mentions("larger than 256 MB"),
        Row::new(
            "translate: missing tokenizer",
            ["translate", "--model", &p(&no_tok), "Hallo"],
            1,
        )
        .mentions("tgt_tokenizer.json"),
        Row::new(
            "translate: torn weights",
            ["translate", "--model", &p(&torn), "Hallo"],
            1,
        )
        .mentions("best.safetensors"),
        Row::new(
            "train: --out holds a model of another kind",
            train("imdb-model", &["--epochs", "1"]),
            1,
        )
        .mentions("config.json")
        .mentions("sori-imdb"),
        Row::new(
            "train: --out holds a finished run",
            train("model", &["--epochs", "1"]),
            1,
        )
        .names(&model)
        .mentions("--resume")
        .mentions("--overwrite"),
        // Output that cannot be written leaves nothing behind.
        Row::new(
            "eval: --output in a missing directory",
            [
                "eval",
                "--model",
                &m,
                "--src",
                &p(&de),
                "--ref",
                &p(&en),
                "--beam",
                "1",
                "--output",
                &p(&no_dir_output),
            ],
            1,
        )
        .mentions("hyp.txt")
        .output(&no_dir_output),
        // Out-of-range and conflicting flags.
        Row::new("train: --hidden 0", train("o-flags", &["--hidden", "0"]), 2)
            .mentions("--hidden")
            .output(&out_cfg("o-flags")),
        Row::new(
            "train: --dropout 2",
            train("o-flags", &["--dropout", "2"]),
            1,
        )
        .mentions("dropout")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --label-smoothing 1.5",
            train("o-flags", &["--label-smoothing", "1.5"]),
            1,
        )
        .mentions("label smoothing")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --test-fraction 1.5",
            train("o-flags", &["--test-fraction", "1.5"]),
            1,
        )
        .mentions("1.5")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --vocab-size 0",
            train("o-flags", &["--vocab-size", "0"]),
            2,
        )
        .mentions("--vocab-size")
        .output(&out_cfg("o-flags")),
        Row::new("train: --epochs 0", train("o-flags", &["--epochs", "0"]), 1)
            .mentions("--epochs")
            .output(&out_cfg("o-flags")),
        Row::new(
            "train: unknown --cell",
            train("o-flags", &["--cell", "transformer"]),
            1,
        )
        .mentions("transformer")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: unknown --attention",
            train("o-flags", &["--attention", "cosine"]),
            1,
        )
        .mentions("cosine")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --tsv with --src-file",
            train("o-flags", &["--tsv", &p(&bad_tsv)]),
            1,
        )
        .mentions("--tsv")
        .output(&out_cfg("o-flags")),
        Row::new(
            "train: --data tatoeba without its file",
            ["train", "--data", "tatoeba", "--out", &p(&d("o-flags"))],
            1,
        )
        .mentions("--tatoeba-file")
        .output(&out_cfg("o-flags")),
        Row::new(
            "translate: --attention without TEXT",
            ["translate", "--model", &m, "--attention", &p(&d("a.png"))],
            1,
        )
        .mentions("--attention")
        .output(&d("a.png")),
        // Issue 21: the picture is written (atomically) before the
        // translation is printed, so an unwritable path prints nothing.
        Row::new(
            "translate: --attention-map into a missing folder",
            [
                "translate",
                "--model",
                &m,
                "--attention-map",
                &p(&d("no-such-folder").join("a.png")),
                "Hallo",
            ],
            1,
        )
        .mentions("a.png")
        .no_stdout(),
        Row::new(
            "translate: --attention-map is a folder",
            [
                "translate",
                "--model",
                &m,
                "--attention-map",
                &p(&d("")),
                "Hallo",
            ],
            1,
        )
        .no_stdout(),
        Row::new(
            "translate: --beam not a number",
            ["translate", "--model", &m, "--beam", "wide", "Hallo"],
            2,
        )
        .mentions("--beam"),
        // Issue 21: --resume needs a checkpoint.
        Row::new(
            "train: --resume without a checkpoint",
            train("o-noresume", &["--resume"]),
            1,
        )
        .names(&d("o-noresume"))
        .mentions("--resume-or-start")
        .output(&out_cfg("o-noresume")),
    ];
    // Also as root: the row runs without the capabilities that bypass permissions.
    rows.push(
        Row::new(
            "eval: unreadable --src",
            [
                "eval",
                "--model",
                &m,
                "--src",
                &p(&unreadable),
                "--ref",
                &p(&en),
            ],
            1,
        )
        .names(&unreadable)
        .mentions("Permission denied")
        .unprivileged(),
    );
    run_matrix(env!("CARGO_BIN_EXE_seq2seq"), rows);
    let cfg = std::fs::read_to_string(imdb_model.join("config.json")).unwrap();
    assert!(cfg.contains("sori-imdb"), "{cfg}");
}

#[test]
fn no_arguments_print_the_usage_and_the_subcommands() {
    conventions::check_no_arguments(env!("CARGO_BIN_EXE_seq2seq"));
}

#[test]
fn every_help_describes_its_options_shows_typeable_defaults_and_examples() {
    let bin = env!("CARGO_BIN_EXE_seq2seq");
    conventions::check_every_help(bin);
    for (option, shown) in [
        ("--epochs", "[default: 10]"),
        ("--batch-size", "[default: 64]"),
        ("--lr", "[default: 0.001]"),
        ("--clip-grad-norm", "[default: 1]"),
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
    conventions::check_version(env!("CARGO_BIN_EXE_seq2seq"));
}

/// `--src` is the source language (`train`); files are `--src-file`
/// everywhere (`eval --src FILE` still works, hidden).
#[test]
fn src_is_a_language_and_src_file_a_file() {
    let bin = env!("CARGO_BIN_EXE_seq2seq");
    let (entries, _) = conventions::help_entries(bin, "eval");
    assert!(entries.iter().any(|e| e.name == "--src-file"));
    assert!(entries.iter().all(|e| e.name != "--src"));
    let e = conventions::option_help(bin, "train", "--src");
    assert!(e.text.contains("language"), "{}", e.text);
    let e = conventions::option_help(bin, "train", "--src-file");
    assert!(e.text.contains("one per line"), "{}", e.text);
}
