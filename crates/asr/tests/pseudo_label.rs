//! `asr pseudo-label` and `sori_asr::closed::pseudo`: the labels are the models'
//! closed-vocabulary answers (checked against `Choices::pick` on the same
//! log-probabilities), an ensemble averages its members' likelihoods, and a
//! bad file is reported without losing the other labels.
use sori_asr::closed::choices::Choices;
use sori_asr::closed::pseudo::{best_with_posterior, pseudo_label};
use sori_asr::closed::transduce::Transduction;
use sori_asr::read_manifest;
use sori_asr::recognize::Recognizer;
use sori_asr::support::bench_audio::{save_tiny_model, speech_like, write_wav16};
use std::path::{Path, PathBuf};
use std::process::Command;

const CANDIDATES: [&str; 4] = ["ab", "ba", "cab", "c"];

fn wavs(dir: &Path, n: usize) -> Vec<PathBuf> {
    let audio = speech_like(16000 * n, 16000);
    (0..n)
        .map(|i| {
            let p = dir.join(format!("u{i}.wav"));
            write_wav16(&p, 16000, &audio[i * 16000..(i + 1) * 16000]).unwrap();
            p
        })
        .collect()
}

#[test]
fn labels_are_the_best_candidate_and_its_posterior() {
    let dir = tempfile::tempdir().unwrap();
    let files = wavs(dir.path(), 3);
    let (m1, m2) = (dir.path().join("m1"), dir.path().join("m2"));
    save_tiny_model(&m1, "abc", 16, 1).unwrap();
    save_tiny_model(&m2, "abc", 16, 2).unwrap();
    // Each model's own likelihoods, straight from Choices::pick.
    let mut own: Vec<Vec<Vec<f64>>> = Vec::new();
    for m in [&m1, &m2] {
        let mut rec = Recognizer::load(m).unwrap();
        let ch = Choices::new(CANDIDATES, &rec.model.config.vocab).unwrap();
        let v = rec.model.config.vocab.clone();
        own.push(
            files
                .iter()
                .map(|f| {
                    let s = rec.model.config.frontend.load(f).unwrap();
                    let (lp, steps) = rec.log_probs(&s, f).unwrap();
                    ch.pick(&lp, steps, v.classes(), v.blank())
                        .unwrap()
                        .log_likelihoods
                })
                .collect(),
        );
    }
    let mut recs = vec![
        Recognizer::load(&m1).unwrap(),
        Recognizer::load(&m2).unwrap(),
    ];
    let got = pseudo_label(
        &mut recs,
        &files,
        &CANDIDATES,
        &Transduction::default(),
        |_, _| {},
    )
    .unwrap();
    assert!(got.failed.is_empty());
    assert_eq!(got.labels.len(), 3);
    for (i, l) in got.labels.iter().enumerate() {
        let mean: Vec<f64> = (0..CANDIDATES.len())
            .map(|c| (own[0][i][c] + own[1][i][c]) / 2.0)
            .collect();
        let (best, p) = best_with_posterior(&mean).unwrap();
        assert_eq!(l.text, CANDIDATES[best]);
        assert!((l.confidence - p).abs() < 1e-9);
        assert_eq!(l.audio, files[i]);
        assert!((l.duration - 1.0).abs() < 1e-9);
    }
}

#[test]
fn cli_writes_the_kept_labels_and_reports_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = wavs(dir.path(), 4);
    let bad = dir.path().join("bad.wav");
    std::fs::write(&bad, b"RIFF nonsense").unwrap();
    files.insert(1, bad);
    let model = dir.path().join("model");
    save_tiny_model(&model, "abc", 16, 1).unwrap();
    let out = dir.path().join("pseudo.jsonl");
    let run = |keep: &str| {
        Command::new(env!("CARGO_BIN_EXE_asr"))
            .arg("pseudo-label")
            .args(&files)
            .args(["--model", model.to_str().unwrap()])
            .args(["--choices", &CANDIDATES.join(","), "--keep", keep])
            .args(["--speaker", "new", "--out", out.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let o = run("1");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("bad.wav"),
        "{err}"
    );
    let kept = read_manifest(&out).unwrap();
    assert_eq!(kept.len(), 4);
    assert!(kept.iter().all(|u| u.speaker.as_deref() == Some("new")));
    assert!(kept.iter().all(|u| CANDIDATES.contains(&u.text.as_str())));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("4 of 5 files labelled"), "{stdout}");

    let o = run("0");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--keep must be in (0, 1]"), "{err}");
    // The earlier manifest is untouched by the refused run.
    assert_eq!(read_manifest(&out).unwrap().len(), 4);
}

/// `--neighbours` and `--balanced` reach the library: the labels of `asr
/// pseudo-label` and the answers of `asr transcribe` are those of
/// `pseudo_label` with the same transduction (itself tested against brute
/// force and a closed form in `transduce`); the bad file is left out of
/// the graph and reported once.
#[test]
fn cli_pseudo_label_and_transcribe_label_the_files_together() {
    const TOGETHER: [&str; 5] = [
        "--neighbours",
        "2",
        "--neighbour-weight",
        "0.7",
        "--balanced",
    ];
    let dir = tempfile::tempdir().unwrap();
    let good = wavs(dir.path(), 6);
    let bad = dir.path().join("bad.wav");
    std::fs::write(&bad, b"RIFF nonsense").unwrap();
    let mut files = good.clone();
    files.insert(2, bad);
    let model = dir.path().join("model");
    save_tiny_model(&model, "abc", 16, 4).unwrap();
    let out = dir.path().join("together.jsonl");
    let o = Command::new(env!("CARGO_BIN_EXE_asr"))
        .arg("pseudo-label")
        .args(&files)
        .args(["--model", model.to_str().unwrap()])
        .args(["--choices", &CANDIDATES.join(","), "--keep", "1"])
        .args(TOGETHER)
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("bad.wav"), "{err}");
    let t = Transduction {
        neighbours: 2,
        alpha: 0.7,
        balanced: true,
    };
    let mut recs = vec![Recognizer::load(&model).unwrap()];
    let want = pseudo_label(&mut recs, &good, &CANDIDATES, &t, |_, _| {}).unwrap();
    let mut want: Vec<(PathBuf, String)> =
        want.labels.into_iter().map(|l| (l.audio, l.text)).collect();
    want.sort();
    let mut got: Vec<(PathBuf, String)> = read_manifest(&out)
        .unwrap()
        .into_iter()
        .map(|u| (u.audio, u.text))
        .collect();
    got.sort();
    assert_eq!(got, want);

    // `asr transcribe` with the same settings gives the same answers, each
    // placed in time, and reports the bad file.
    let o = Command::new(env!("CARGO_BIN_EXE_asr"))
        .arg("transcribe")
        .args(&files)
        .args(["--model", model.to_str().unwrap()])
        .args(["--choices", &CANDIDATES.join(",")])
        .args(TOGETHER)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("bad.wav"), "{err}");
    assert_eq!(
        errors[0].matches("bad.wav").count(),
        1,
        "the file named once: {err}"
    );
    let mut said: Vec<(PathBuf, String)> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let words = v["words"].as_array().unwrap();
            assert!(!words.is_empty(), "{l}");
            assert!(
                words
                    .iter()
                    .all(|w| w["end"].as_f64() >= w["start"].as_f64()),
                "{l}"
            );
            (
                PathBuf::from(v["audio"].as_str().unwrap()),
                v["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    said.sort();
    assert_eq!(said, want);
}
