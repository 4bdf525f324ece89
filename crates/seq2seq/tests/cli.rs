//! The `seq2seq` binary as a user meets it (issues 18 and 22): `translate`
//! takes several texts and warns about one it cannot read; `score` names
//! hypotheses and references when they do not line up and prints JSON;
//! `--device` and the default model of `translate` and `eval`; an option
//! of a sibling subcommand is named as such. Every test runs the built
//! binary.
#[path = "../../train/tests/support/cli_conventions.rs"]
mod conventions;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_seq2seq");

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

fn seq2seq(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("SORI_SEQ2SEQ_MODEL")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// 120 line-aligned German/English toy sentences (ASCII letters only).
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
        let side = |f: fn(&(&'static str, &'static str)) -> &'static str| {
            idx.iter()
                .map(|&j| f(&words[j]))
                .collect::<Vec<_>>()
                .join(" ")
        };
        s.push_str(&(side(|w| w.0) + "\n"));
        t.push_str(&(side(|w| w.1) + "\n"));
    }
    std::fs::write(de, s).unwrap();
    std::fs::write(en, t).unwrap();
}

/// A tiny model trained once (its translations are poor; the tests only
/// compare the binary's answers with each other).
fn model() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, dir) = DIR.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let (de, en) = (tmp.path().join("train.de"), tmp.path().join("train.en"));
        write_parallel(&de, &en);
        let dir = tmp.path().join("model");
        let o = seq2seq(&[
            "train",
            "--src-file",
            &p(&de),
            "--tgt-file",
            &p(&en),
            "--out",
            &p(&dir),
            "--epochs",
            "1",
            "--vocab-size",
            "40",
            "--emb",
            "8",
            "--hidden",
            "8",
            "--dec-hidden",
            "8",
            "--attn-dim",
            "8",
            "--samples",
            "0",
            "--beam",
            "1",
            "--quiet",
            "--threads",
            "1",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        (tmp, dir)
    });
    dir
}

/// `translate TEXT` for one text on its own.
fn alone(m: &str, sentence: &str) -> String {
    let o = seq2seq(&["translate", "--model", m, "--beam", "2", sentence]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_eq!(out.lines().count(), 1, "{out:?}");
    out.trim_end_matches('\n').to_string()
}

#[test]
fn translate_takes_several_texts_one_line_each_and_warns_about_unreadable_ones() {
    let m = p(model());
    // "☃☃ ☂" holds no character of the training text: no known sub-word.
    let texts = ["ein mann", "", "☃☃ ☂", "zwei katze hund"];
    let mut args = vec!["translate", "--model", &m, "--beam", "2"];
    args.extend(texts);
    let o = seq2seq(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.split_terminator('\n').collect();
    assert_eq!(lines.len(), texts.len(), "{out:?}");
    for (line, t) in lines.iter().zip(texts) {
        if t.is_empty() {
            assert_eq!(*line, "");
        } else {
            assert_eq!(*line, alone(&m, t), "{t}");
        }
    }
    let err = text(&o.stderr);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].contains("TEXT 3"), "{err}");
    assert!(warnings[0].contains("src_tokenizer.json"), "{err}");
    // The same from stdin, naming the line.
    let o = Command::new(BIN)
        .args(["translate", "--model", &m, "--beam", "2"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(texts.join("\n").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), out);
    let err = text(&o.stderr);
    assert!(err.contains("warning: stdin: line 3:"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("warning:")).count(), 1);
    // --attention-map draws one sentence only.
    let png = model().parent().unwrap().join("a.png");
    let o = seq2seq(&[
        "translate",
        "--model",
        &m,
        "--attention-map",
        &p(&png),
        "ein",
        "zwei",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--attention-map needs exactly one TEXT"));
    assert!(!png.exists());
}

/// `score` of `hyp` against `reference` as JSON.
fn score_json(hyp: &Path, reference: &Path) -> serde_json::Value {
    let o = seq2seq(&["score", "--hyp", &p(hyp), "--ref", &p(reference), "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn score_names_hypotheses_and_references_and_prints_json() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |n: &str| tmp.path().join(n);
    let refs = [
        "the cat sat on the mat",
        "a dog runs in the park",
        "two men talk",
    ];
    std::fs::write(d("ref"), refs.join("\n") + "\n").unwrap();
    // Identical: BLEU and chrF are 100, every precision 100, BP 1.
    std::fs::write(d("same"), refs.join("\n") + "\n").unwrap();
    let v = score_json(&d("same"), &d("ref"));
    assert_eq!(v["sentences"], 3);
    assert!(
        (v["bleu"]["score"].as_f64().unwrap() - 100.0).abs() < 1e-9,
        "{v}"
    );
    assert!(
        (v["bleu_lowercase"].as_f64().unwrap() - 100.0).abs() < 1e-9,
        "{v}"
    );
    assert!((v["chrf"].as_f64().unwrap() - 100.0).abs() < 1e-9, "{v}");
    assert_eq!(
        v["bleu"]["precisions"],
        serde_json::json!([100.0, 100.0, 100.0, 100.0])
    );
    assert_eq!(v["bleu"]["bp"], 1.0);
    // 13a tokens: 6 + 6 + 3.
    assert_eq!(
        (v["bleu"]["hyp_len"].clone(), v["bleu"]["ref_len"].clone()),
        (15.into(), 15.into())
    );
    // Upper case: BLEU falls, the lowercased BLEU stays 100.
    let upper: Vec<String> = refs.iter().map(|r| r.to_uppercase()).collect();
    std::fs::write(d("upper"), upper.join("\n") + "\n").unwrap();
    let v = score_json(&d("upper"), &d("ref"));
    assert_eq!(v["bleu"]["score"], 0.0, "{v}");
    assert!(
        (v["bleu_lowercase"].as_f64().unwrap() - 100.0).abs() < 1e-9,
        "{v}"
    );
    // The first reference's words shuffled, the others empty: 1-gram
    // precision 6/6 = 100 %, BP exp(1 - 15/6).
    std::fs::write(d("words"), "mat on the sat cat the\n\n\n").unwrap();
    let v = score_json(&d("words"), &d("ref"));
    assert_eq!(v["bleu"]["precisions"][0], 100.0, "{v}");
    assert_eq!(
        (v["bleu"]["hyp_len"].clone(), v["bleu"]["ref_len"].clone()),
        (6.into(), 15.into())
    );
    let bp = (1.0f64 - 15.0 / 6.0).exp();
    assert!(
        (v["bleu"]["bp"].as_f64().unwrap() - bp).abs() < 1e-12,
        "{v}"
    );
    // The text report says the same, rounded.
    let o = seq2seq(&["score", "--hyp", &p(&d("words")), "--ref", &p(&d("ref"))]);
    let t = text(&o.stdout);
    let shown = format!("BLEU = {:.2} ", v["bleu"]["score"].as_f64().unwrap());
    assert!(t.starts_with(&shown), "{t} vs {shown}");
    // Line counts that differ: both files, what they hold, both counts.
    std::fs::write(d("two"), "the cat\na dog\n").unwrap();
    let o = seq2seq(&["score", "--hyp", &p(&d("two")), "--ref", &p(&d("ref"))]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert_eq!(
        err,
        format!(
            "error: 2 hypotheses in {} but 3 references in {}; they must be line-aligned, one per line each\n",
            d("two").display(),
            d("ref").display()
        )
    );
    // eval: sources and references.
    let m = p(model());
    let o = seq2seq(&[
        "eval",
        "--model",
        &m,
        "--src-file",
        &p(&d("two")),
        "--ref",
        &p(&d("ref")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("2 source sentences in") && err.contains("3 references in"),
        "{err}"
    );
    // eval --json scores its own translations: the same as score --json
    // of the file it writes.
    let hyp = d("eval.hyp");
    let o = seq2seq(&[
        "eval",
        "--model",
        &m,
        "--src-file",
        &p(&d("same")),
        "--ref",
        &p(&d("ref")),
        "--json",
        "--output",
        &p(&hyp),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&text(&o.stdout)).unwrap();
    assert_eq!(v, score_json(&hyp, &d("ref")));
}

#[test]
fn device_and_threads_wherever_the_model_runs() {
    let m = p(model());
    conventions::check_device(
        BIN,
        &["translate", "eval"],
        &[&["translate", "--model", &m, "ein"]],
    );
}

#[test]
fn without_model_the_default_model_or_its_variable_is_used() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model();
    let run = |var: Option<&Path>, args: &[&str]| -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args).current_dir(tmp.path());
        match var {
            Some(v) => cmd.env("SORI_SEQ2SEQ_MODEL", v),
            None => cmd.env_remove("SORI_SEQ2SEQ_MODEL"),
        };
        cmd.output().unwrap()
    };
    let via_var = run(Some(m), &["translate", "ein mann", "zwei"]);
    let via_flag = run(None, &["translate", "--model", &p(m), "ein mann", "zwei"]);
    assert!(via_var.status.success(), "{}", text(&via_var.stderr));
    assert_eq!(text(&via_var.stdout), text(&via_flag.stdout));
    let (src, reference) = (m.join("test.src"), m.join("test.ref"));
    let o = run(
        Some(m),
        &["eval", "--src-file", &p(&src), "--ref", &p(&reference)],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let nowhere = tmp.path().join("nowhere");
    let o = run(Some(&nowhere), &["translate", "ein"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr).trim_end(),
        format!(
            "error: {} (from $SORI_SEQ2SEQ_MODEL): no such model directory",
            nowhere.display()
        )
    );
    // Neither: the checkout's models/de-en, or one line saying where it
    // looked.
    let eval = ["eval", "--src-file", &p(&src), "--ref", &p(&reference)];
    conventions::check_default_model_lookup(
        BIN,
        "SORI_SEQ2SEQ_MODEL",
        "models/de-en",
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        tmp.path(),
        &[&["translate", "ein"], &eval],
    );
}

#[test]
fn an_option_of_another_subcommand_is_named_as_such() {
    let o = seq2seq(&["translate", "--output", "x.txt", "ein"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stderr),
        "error: unexpected argument '--output' for 'seq2seq translate'; it is an option of 'seq2seq eval'\n"
    );
    let o = seq2seq(&["score", "--beam", "3"]);
    assert_eq!(
        text(&o.stderr),
        "error: unexpected argument '--beam' for 'seq2seq score'; it is an option of 'seq2seq train', 'seq2seq translate' and 'seq2seq eval'\n"
    );
    let o = seq2seq(&["translate", "--num-words", "3", "ein"]);
    assert_eq!(
        text(&o.stderr),
        "error: unexpected argument '--num-words' found\n"
    );
}

/// One meaning per option name: `--attention` is the attention kind of
/// `train`; the heat map of `translate` is `--attention-map` (the old
/// `--attention PNG` still works there, hidden).
#[test]
fn attention_is_a_kind_and_attention_map_a_file() {
    let e = conventions::option_help(BIN, "train", "--attention");
    assert!(e.text.contains("bahdanau"), "{}", e.text);
    let (entries, _) = conventions::help_entries(BIN, "translate");
    assert!(entries.iter().any(|e| e.name == "--attention-map"));
    assert!(entries.iter().all(|e| e.name != "--attention"));
    let m = p(model());
    let dir = tempfile::tempdir().unwrap();
    for spelling in ["--attention-map", "--attention"] {
        let png = dir.path().join(format!("{spelling}.png"));
        let o = seq2seq(&["translate", "--model", &m, spelling, &p(&png), "ein mann"]);
        assert!(o.status.success(), "{spelling}: {}", text(&o.stderr));
        let bytes = std::fs::read(&png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{spelling}");
    }
}
