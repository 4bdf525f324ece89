//! `asr lm` and `--beam --lm` through the binary: a tiny LM is trained,
//! read back, used by `transcribe` and compared with greedy by `eval`; bad
//! LM input ends with one `error: ...` line naming the file.
use sori_asr::decode::lm::load_for_model;
use sori_asr::decode::words::WordLm;
use sori_asr::recognize::{BeamDecoder, Recognizer};
use sori_asr::support::bench_audio::{save_tiny_model, write_wav16};
use sori_lm::NgramLm;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

fn asr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asr"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn write_wav(path: &Path) {
    let tone: Vec<f32> = (0..12000).map(|i| (i as f32 * 0.05).sin() * 0.25).collect();
    write_wav16(path, 16000, &tone).unwrap();
}

/// An untrained model over the characters of "cab" (and space).
fn model_dir(dir: &Path) -> PathBuf {
    let out = dir.join("model");
    save_tiny_model(&out, "cab", 16, 1).unwrap();
    out
}

fn assert_one_line_error(o: &Output, needle: &str) {
    assert!(!o.status.success());
    let e = stderr(o);
    assert!(e.starts_with("error: ") && e.contains(needle), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
}

#[test]
fn lm_then_beam_search_in_transcribe_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("corpus.txt");
    std::fs::write(&text, "a cab\nA  CAB\nbac ab\n\nab ba\n").unwrap();
    let wav = dir.path().join("x.wav");
    write_wav(&wav);
    let manifest = dir.path().join("m.jsonl");
    std::fs::write(
        &manifest,
        "{\"audio\":\"x.wav\",\"text\":\"a cab\"}\n{\"audio\":\"x.wav\",\"text\":\"ab\"}\n",
    )
    .unwrap();
    let lm = dir.path().join("lm.arpa");
    let o = asr(&[
        "lm",
        "--text",
        p(&text),
        "--manifest",
        p(&manifest),
        "--order",
        "3",
        "--out",
        p(&lm),
        "--ppl-text",
        p(&text),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("6 sentences") && out.contains("n-grams 1="),
        "{out}"
    );
    assert!(out.contains("perplexity"), "{out}");
    // The file is a valid order-3 ARPA model over characters and <sp>.
    let model = NgramLm::read_arpa(&lm).unwrap();
    assert_eq!(model.order(), 3);
    for t in ["a", "b", "c", "<sp>", "</s>"] {
        assert!(model.vocab().get(t).is_some(), "{t}");
    }
    assert!(model.vocab().get("A").is_none(), "text is lower-cased");

    let m = model_dir(dir.path());
    let o = asr(&[
        "transcribe",
        p(&wav),
        "--model",
        p(&m),
        "--beam",
        "4",
        "--lm",
        p(&lm),
        "--alpha",
        "0.5",
        "--beta",
        "1",
        "--format",
        "json",
        // The tone is no speech to voice activity detection; the library's
        // Recognizer below decodes the whole file, as this does.
        "--no-vad",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    // The text the library gives with the same model, LM and weights; each
    // option left at its default (no LM, alpha 1, beta 2, beam 16) gives
    // another text here, so a CLI that drops one of them fails.
    let with = |width: usize, lm_weights: Option<(f64, f64)>| {
        let mut rec = Recognizer::load(&m).unwrap();
        let mut beam = BeamDecoder::new(width);
        if let Some((alpha, beta)) = lm_weights {
            let char_lm = load_for_model(&lm, &rec.model.config.vocab).unwrap();
            beam = beam.with_lm(Arc::new(char_lm), alpha, beta);
        }
        rec.decoder = Box::new(beam);
        rec.transcribe_file(&wav).unwrap().text
    };
    let want = with(4, Some((0.5, 1.0)));
    for (what, other) in [
        ("no LM", with(4, None)),
        ("alpha 1", with(4, Some((1.0, 1.0)))),
        ("beta 2", with(4, Some((0.5, 2.0)))),
        ("beam 16", with(16, Some((0.5, 1.0)))),
    ] {
        assert_ne!(
            other, want,
            "{what} gives the same text; the check would not see it dropped"
        );
    }
    assert_eq!(v["text"], want.as_str(), "{v}");

    let o = asr(&[
        "eval",
        "--manifest",
        p(&manifest),
        "--model",
        p(&m),
        "--beam",
        "4",
        "--lm",
        p(&lm),
        "--alpha",
        "0.3,0.6",
        "--beta",
        "0.5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("greedy:\n2 utterances"), "{out}");
    assert!(out.contains("beam 4 + LM (alpha 0.3, beta 0.5):"), "{out}");
    assert!(out.contains("beam 4 + LM (alpha 0.6, beta 0.5):"), "{out}");
    assert_eq!(out.matches("WER").count(), 3, "{out}");

    // Several weights are for eval only.
    let o = asr(&[
        "transcribe",
        p(&wav),
        "--model",
        p(&m),
        "--lm",
        p(&lm),
        "--alpha",
        "0.3,0.6",
    ]);
    assert_one_line_error(
        &o,
        "one --alpha, --beta, --word-weight and --oov-penalty value",
    );
}

#[test]
fn bad_lm_input_is_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let m = model_dir(dir.path());
    let wav = dir.path().join("x.wav");
    write_wav(&wav);
    let transcribe_with = |lm: &Path| {
        asr(&[
            "transcribe",
            p(&wav),
            "--model",
            p(&m),
            "--beam",
            "2",
            "--lm",
            p(lm),
        ])
    };
    let missing = dir.path().join("missing.arpa");
    assert_one_line_error(&transcribe_with(&missing), "missing.arpa: ");

    let corrupt = dir.path().join("corrupt.arpa");
    std::fs::write(
        &corrupt,
        "\\data\\\nngram 1=2\n\n\\1-grams:\n-0.5 <s>\nbad </s>\n\\end\\\n",
    )
    .unwrap();
    assert_one_line_error(
        &transcribe_with(&corrupt),
        "corrupt.arpa:6: log10 probability",
    );

    let words = dir.path().join("words.arpa");
    std::fs::write(
        &words,
        "\\data\\\nngram 1=4\n\n\\1-grams:\n-99 <s>\n-0.3 abc\n-0.3 cab\n-0.3 </s>\n\\end\\\n",
    )
    .unwrap();
    assert_one_line_error(
        &transcribe_with(&words),
        "words.arpa: none of the model's characters",
    );

    let o = asr(&["transcribe", p(&wav), "--model", p(&m), "--beam", "0"]);
    assert_eq!(o.status.code(), Some(2), "a usage error");
    assert_one_line_error(
        &o,
        "'0' for '--beam <BEAM>': must be an integer from 1 to 1024",
    );

    let out = dir.path().join("lm.arpa");
    let o = asr(&["lm", "--out", p(&out)]);
    assert_one_line_error(&o, "--text FILE or --manifest");
    let o = asr(&[
        "lm",
        "--text",
        p(&dir.path().join("nope.txt")),
        "--out",
        p(&out),
    ]);
    assert_one_line_error(&o, "nope.txt: ");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n  \n").unwrap();
    let o = asr(&["lm", "--text", p(&empty), "--out", p(&out)]);
    assert_one_line_error(&o, "no text to train the language model on");
    let o = asr(&[
        "lm",
        "--text",
        p(&corrupt),
        "--order",
        "0",
        "--out",
        p(&out),
    ]);
    assert_one_line_error(&o, "order 0 is out of range");
    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"ok line\ncaf\xe9\n").unwrap();
    let o = asr(&["lm", "--text", p(&latin1), "--out", p(&out)]);
    assert_one_line_error(&o, "latin1.txt:2: not valid UTF-8");
}

/// `asr lm --unit word` writes a gzip word model (pruned by --min-count);
/// the model directory's `words.arpa.gz` is then fused with its character
/// LM by default, as the library's `with_words` does with the same weights,
/// `--no-word-lm` gives the character LM's answer, and bad word-LM input is
/// one line naming the file.
#[test]
fn word_lm_is_trained_shipped_and_used_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("corpus.txt");
    std::fs::write(&text, "a cab\nab cab\ncab ab ba\nba ba cab\na cab\n").unwrap();
    let m = model_dir(dir.path());
    let o = asr(&[
        "lm",
        "--text",
        p(&text),
        "--order",
        "3",
        "--out",
        p(&m.join("lm.arpa")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let words = m.join("words.arpa.gz");
    let o = asr(&[
        "lm",
        "--unit",
        "word",
        "--text",
        p(&text),
        "--min-count",
        "1,2,2",
        "--out",
        p(&words),
        "--ppl-text",
        p(&text),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("bits per word"), "{out}");
    assert_eq!(&std::fs::read(&words).unwrap()[..2], &[0x1f, 0x8b], "gzip");
    let wlm = NgramLm::read_arpa(&words).unwrap();
    assert_eq!(wlm.order(), 3);
    assert!(wlm.vocab().get("cab").is_some() && wlm.vocab().get("c").is_none());
    // Singletons pruned: "ab cab" occurs once as a bigram, "a cab" twice.
    let v = wlm.vocab();
    let id = |t: &str| v.get(t).unwrap();
    assert!(wlm.entry(&[id("a"), id("cab")]).is_some());
    assert!(wlm.entry(&[id("ab"), id("cab")]).is_none());

    let wav = dir.path().join("x.wav");
    write_wav(&wav);
    let run = |extra: &[&str]| {
        let mut args = vec![
            "transcribe",
            p(&wav),
            "--model",
            p(&m),
            "--no-vad",
            "--beam",
            "6",
        ];
        args.extend_from_slice(extra);
        let o = asr(&args);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        stdout(&o).trim().to_string()
    };
    let lib = |word: Option<(f64, f64)>| {
        let mut rec = Recognizer::load(&m).unwrap();
        let char_lm = load_for_model(&m.join("lm.arpa"), &rec.model.config.vocab).unwrap();
        let mut beam = BeamDecoder::new(6).with_lm(Arc::new(char_lm), 1.0, 2.0);
        if let Some((w, o)) = word {
            let wl = WordLm::load(&words, &rec.model.config.vocab).unwrap();
            beam = beam.with_words(Arc::new(wl), w, o);
        }
        rec.decoder = Box::new(beam);
        rec.transcribe_file(&wav).unwrap().text
    };
    let fused = lib(Some((1.0, -2.0)));
    let chars_only = lib(None);
    assert_ne!(
        fused, chars_only,
        "the check needs the word LM to change the answer"
    );
    assert_eq!(run(&["--word-weight", "1", "--oov-penalty=-2"]), fused);
    assert_eq!(run(&["--no-word-lm"]), chars_only);
    let weaker = lib(Some((0.2, -2.0)));
    assert_eq!(run(&["--word-weight", "0.2", "--oov-penalty=-2"]), weaker);

    // Bad input: a character LM as word LM, a word LM without a character
    // LM, a truncated gzip file, out-of-range weights.
    let chars = m.join("lm.arpa");
    let cut = dir.path().join("cut.arpa.gz");
    let bytes = std::fs::read(&words).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let rows: [(&[&str], i32, &str); 5] = [
        (
            &["--word-lm", p(&chars)],
            1,
            "lm.arpa: no token longer than one character",
        ),
        (
            &["--no-lm", "--word-lm", p(&words)],
            1,
            "a word LM needs the character LM too",
        ),
        (&["--word-lm", p(&cut)], 1, "cut.arpa.gz"),
        (&["--word-weight", "1.5"], 2, "--word-weight"),
        (&["--oov-penalty", "3"], 2, "--oov-penalty"),
    ];
    for (extra, code, needle) in rows {
        let mut args = vec!["transcribe", p(&wav), "--model", p(&m)];
        args.extend_from_slice(extra);
        let o = asr(&args);
        assert_eq!(o.status.code(), Some(code), "{extra:?}");
        assert_one_line_error(&o, needle);
    }
}
