//! `asr transcribe` over folders and patterns (issue 17): a directory is its
//! audio files by extension, sorted (subfolders with `--recursive`, hidden
//! and non-audio names left out); a quoted pattern is expanded by `asr`;
//! `--output-dir` writes one document per input atomically and skips inputs
//! whose output exists unless `--overwrite`; subtitles of several inputs
//! need `--output-dir`; a summary line ends a run over several files; an
//! unreadable file inside a folder fails alone. The expected file lists and
//! durations are the ones this test lays out, written down by hand.
use sori_asr::support::bench_audio::{save_tiny_model, speech_like, write_wav16};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn asr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asr"))
        .args(args)
        .env_remove("SORI_ASR_MODEL")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A 16 kHz WAV of `seconds` of speech-like sound.
fn wav(path: &Path, seconds: f64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let n = (seconds * 16000.0) as usize;
    write_wav16(path, 16000, &speech_like(n, 16000)).unwrap();
}

/// The "audio" fields of JSON-lines output, in order.
fn audio_fields(out: &Output) -> Vec<String> {
    text(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["audio"].as_str().unwrap().to_string()
        })
        .collect()
}

struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    model: PathBuf,
    talks: PathBuf,
}

/// talks/: b.wav (1.5 s), a.wav (1 s), C.WAV (2 s), notes.txt, .hidden.wav,
/// sub/d.wav (1 s), sub/deeper/e.wav (1 s).
fn tree() -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let model = root.join("model");
    save_tiny_model(&model, "abc xyz", 16, 3).unwrap();
    let talks = root.join("talks");
    wav(&talks.join("b.wav"), 1.5);
    wav(&talks.join("a.wav"), 1.0);
    wav(&talks.join("C.WAV"), 2.0);
    std::fs::write(talks.join("notes.txt"), "not audio\n").unwrap();
    wav(&talks.join(".hidden.wav"), 1.0);
    wav(&talks.join("sub/d.wav"), 1.0);
    wav(&talks.join("sub/deeper/e.wav"), 1.0);
    Tree {
        _tmp: tmp,
        root,
        model,
        talks,
    }
}

#[test]
fn a_directory_is_its_audio_files_sorted() {
    let t = tree();
    let (m, d) = (s(&t.model), s(&t.talks));
    let o = asr(&["transcribe", d, "--model", m, "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let p = |rel: &str| t.talks.join(rel).to_str().unwrap().to_string();
    // Byte order: upper case first.
    assert_eq!(audio_fields(&o), [p("C.WAV"), p("a.wav"), p("b.wav")]);
    // The summary: 3 files, 4.5 s of audio.
    let e = text(&o.stderr);
    let last = e.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("3 files, 0 failed, total audio 4.5 s, real-time factor "),
        "{e}"
    );
    let rtf: f64 = last.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(rtf > 0.0, "{last}");

    let o = asr(&[
        "transcribe",
        d,
        "--recursive",
        "--model",
        m,
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        audio_fields(&o),
        [
            p("C.WAV"),
            p("a.wav"),
            p("b.wav"),
            p("sub/d.wav"),
            p("sub/deeper/e.wav")
        ]
    );
    assert!(text(&o.stderr).contains("5 files, 0 failed, total audio 6.5 s"));

    // A quoted pattern, expanded by asr (no shell here), and a file: one
    // text line per file, prefixed by its name.
    let pattern = format!("{d}/sub/*.wav");
    let o = asr(&["transcribe", &pattern, &p("a.wav"), "--model", m]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let names: Vec<String> = text(&o.stdout)
        .lines()
        .map(|l| l.split(": ").next().unwrap().to_string())
        .collect();
    assert_eq!(names, [p("sub/d.wav"), p("a.wav")]);

    // One file alone: its text only, no summary.
    let o = asr(&["transcribe", &p("a.wav"), "--model", m]);
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(text(&o.stdout).lines().count(), 1);
}

#[test]
fn output_dir_writes_one_document_per_input_and_skips_existing() {
    let t = tree();
    let (m, d) = (s(&t.model), s(&t.talks));
    let out = t.root.join("subs");
    let o = asr(&[
        "transcribe",
        d,
        "-r",
        "--model",
        m,
        "--format",
        "vtt",
        "--output-dir",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let mut written: Vec<String> = Vec::new();
    let mut stack = vec![out.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                written.push(p.strip_prefix(&out).unwrap().display().to_string());
            }
        }
    }
    written.sort();
    assert_eq!(
        written,
        ["C.vtt", "a.vtt", "b.vtt", "sub/d.vtt", "sub/deeper/e.vtt"]
    );
    for f in &written {
        let doc = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(doc.starts_with("WEBVTT\n\n"), "{f}: {doc}");
        assert_eq!(doc.matches("WEBVTT").count(), 1, "{f}: {doc}");
    }
    // Each document is what the file alone prints.
    let alone = asr(&[
        "transcribe",
        s(&t.talks.join("sub/d.wav")),
        "--model",
        m,
        "--format",
        "vtt",
    ]);
    assert_eq!(
        std::fs::read(out.join("sub/d.vtt")).unwrap(),
        alone.stdout,
        "{}",
        text(&alone.stderr)
    );

    // Again: every input is skipped with one line, outputs untouched.
    std::fs::write(out.join("a.vtt"), "marker").unwrap();
    let args = [
        "transcribe",
        d,
        "--recursive",
        "--model",
        m,
        "--format",
        "vtt",
        "-o",
        s(&out),
    ];
    let o = asr(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let e = text(&o.stderr);
    let skips: Vec<&str> = e.lines().filter(|l| l.starts_with("skip: ")).collect();
    assert_eq!(skips.len(), 5, "{e}");
    assert!(
        skips[1].contains("a.wav") && skips[1].contains("a.vtt exists"),
        "{e}"
    );
    assert!(
        e.contains("5 files, 0 failed, 5 skipped, total audio 0.0 s"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("a.vtt")).unwrap(),
        "marker"
    );
    // --overwrite replaces them; no temporary files are left.
    let mut with = args.to_vec();
    with.push("--overwrite");
    let o = asr(&with);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(std::fs::read_to_string(out.join("a.vtt"))
        .unwrap()
        .starts_with("WEBVTT"));
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());

    // JSON and text outputs take their extensions.
    let o = asr(&[
        "transcribe",
        s(&t.talks.join("a.wav")),
        "--model",
        m,
        "--format",
        "json",
        "-o",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("a.json")).unwrap()).unwrap();
    assert_eq!(v["duration"], 1.0);
}

#[test]
fn subtitles_of_several_inputs_need_an_output_dir_and_names_must_not_clash() {
    let t = tree();
    let (m, d) = (s(&t.model), s(&t.talks));
    for format in ["srt", "vtt"] {
        let o = asr(&["transcribe", d, "--model", m, "--format", format]);
        assert_eq!(o.status.code(), Some(1));
        let e = text(&o.stderr);
        assert!(
            e.lines().count() == 1
                && e.starts_with("error: 3 input files")
                && e.contains("--output-dir"),
            "{e}"
        );
        assert!(o.stdout.is_empty());
    }
    // a.wav and a.aiff would both write a.srt: the second is an error,
    // the first is written.
    let clash = t.root.join("clash");
    wav(&clash.join("a.wav"), 1.0);
    std::fs::copy(clash.join("a.wav"), clash.join("a.aiff")).unwrap();
    let out = t.root.join("clash-out");
    let o = asr(&[
        "transcribe",
        s(&clash),
        "--model",
        m,
        "--format",
        "srt",
        "-o",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(
        e.contains("error: ") && e.contains("a.wav") && e.contains("a.srt is also that of"),
        "{e}"
    );
    assert!(out.join("a.srt").is_file());
    assert!(e.contains("2 files, 1 failed"), "{e}");
}

/// Runs `asr` without the capabilities that let root read a `chmod 000`
/// file (as `tests/bad_inputs.rs` rows marked unprivileged do).
fn asr_unprivileged(args: &[&str]) -> Output {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| text(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let mut cmd = if root {
        let drop = "-dac_override,-dac_read_search";
        let mut c = Command::new("setpriv");
        c.args(["--inh-caps", drop, "--bounding-set", drop, "--"])
            .arg(env!("CARGO_BIN_EXE_asr"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_asr"))
    };
    cmd.args(args)
        .env_remove("SORI_ASR_MODEL")
        .output()
        .unwrap()
}

#[test]
fn an_unreadable_or_broken_file_in_a_folder_fails_alone() {
    use std::os::unix::fs::PermissionsExt;
    let t = tree();
    let dir = t.root.join("mixed");
    wav(&dir.join("1-good.wav"), 1.0);
    wav(&dir.join("2-locked.wav"), 1.0);
    std::fs::set_permissions(
        dir.join("2-locked.wav"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    std::fs::write(dir.join("3-notes.mp3"), "meeting notes, not audio\n").unwrap();
    wav(&dir.join("4-good.wav"), 2.0);
    let o = asr_unprivileged(&["transcribe", s(&dir), "--model", s(&t.model)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let names: Vec<&str> = out.lines().map(|l| l.split(": ").next().unwrap()).collect();
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    assert_eq!(names, [p("1-good.wav"), p("4-good.wav")]);
    let e = text(&o.stderr);
    let errors: Vec<&str> = e.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 2, "{e}");
    assert!(
        errors[0].contains("2-locked.wav") && errors[0].contains("Permission denied"),
        "{e}"
    );
    assert!(errors[1].contains("3-notes.mp3"), "{e}");
    assert_eq!(
        e.lines().last().unwrap_or_default().split(", real").next(),
        Some("4 files, 2 failed, total audio 3.0 s"),
        "{e}"
    );
}
