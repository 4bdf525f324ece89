//! `evaluate_choices_ensemble` (`asr eval --choices ... --ensemble`): a
//! product of experts over models. Oracles: one model counted twice answers
//! exactly as that model alone does with the `--choices` decoder (doubling
//! every log-likelihood keeps the ranking); two different models answer
//! with the candidate that maximises the sum of their separately computed
//! likelihoods. With a transduction, each speaker's recordings are
//! relabelled as a group: the answers equal `transduce::relabel` run by
//! hand on that speaker's own posteriors and network inputs.
use sori_asr::closed::choices::Choices;
use sori_asr::closed::ensemble::evaluate_choices_ensemble;
use sori_asr::closed::transduce::{self, Transduction};
use sori_asr::eval::evaluate_with;
use sori_asr::recognize::Recognizer;
use sori_asr::support::bench_audio::{save_tiny_model, write_wav16};
use sori_asr::Utterance;
use std::path::{Path, PathBuf};

fn model(dir: &Path, seed: i64) -> PathBuf {
    let out = dir.join(format!("model-{seed}"));
    save_tiny_model(&out, "abc", 16, seed).unwrap();
    out
}

fn wav(path: &Path, freq: f32) {
    let x: Vec<f32> = (0..12000)
        .map(|i| (i as f32 * freq).sin() * 0.4 + ((i * 7919) % 61) as f32 / 6100.0)
        .collect();
    write_wav16(path, 16000, &x).unwrap();
}

#[test]
fn ensemble_adds_the_models_likelihoods() {
    tch::set_num_threads(1);
    let off = Transduction::default();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (model(dir.path(), 1), model(dir.path(), 2));
    let candidates = ["abc", "cab", "b", "ca"];
    let utts: Vec<Utterance> = (0..6)
        .map(|i| {
            let p = dir.path().join(format!("u{i}.wav"));
            wav(&p, 0.01 + 0.013 * i as f32);
            Utterance {
                audio: p,
                text: candidates[i % 4].into(),
                duration: 0.75,
                speaker: None,
            }
        })
        .collect();

    let mut single = Recognizer::load(&a).unwrap();
    let ch = Choices::new(candidates, &single.model.config.vocab).unwrap();
    let alone = evaluate_with(&mut single, &utts, &[&ch], |_, _| {}).remove(0);
    let mut twice = [Recognizer::load(&a).unwrap(), Recognizer::load(&a).unwrap()];
    let doubled = evaluate_choices_ensemble(&mut twice, &utts, &candidates, &off).unwrap();
    let hyps = |r: &sori_asr::eval::EvalReport| -> Vec<String> {
        r.scored.iter().map(|s| s.hypothesis.clone()).collect()
    };
    assert_eq!(hyps(&doubled), hyps(&alone));
    assert_eq!(doubled.exact, alone.exact);

    let mut pair = [Recognizer::load(&a).unwrap(), Recognizer::load(&b).unwrap()];
    let both = evaluate_choices_ensemble(&mut pair, &utts, &candidates, &off).unwrap();
    for (u, s) in utts.iter().zip(&both.scored) {
        let mut sum = vec![0.0; candidates.len()];
        for rec in pair.iter_mut() {
            let samples = rec.model.config.frontend.load(&u.audio).unwrap();
            let (lp, steps) = rec.log_probs(&samples, &u.audio).unwrap();
            let v = &rec.model.config.vocab;
            let pick = Choices::new(candidates, v)
                .unwrap()
                .pick(&lp, steps, v.classes(), v.blank())
                .unwrap();
            for (t, l) in sum.iter_mut().zip(&pick.log_likelihoods) {
                *t += l;
            }
        }
        let best = (0..sum.len())
            .max_by(|&x, &y| sum[x].total_cmp(&sum[y]))
            .unwrap();
        assert_eq!(s.hypothesis, candidates[best], "{}", u.audio.display());
    }
    // A candidate one model cannot spell is an error, not a wrong answer.
    assert!(evaluate_choices_ensemble(&mut pair, &utts, &["abc", "xyz"], &off).is_err());
}

#[test]
fn each_speakers_recordings_are_relabelled_together() {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let a = model(dir.path(), 3);
    let candidates = ["abc", "cab", "b", "ca"];
    // Two speakers of six recordings each, and two recordings without a
    // speaker (one group of their own).
    let utts: Vec<Utterance> = (0..14)
        .map(|i| {
            let p = dir.path().join(format!("s{i}.wav"));
            wav(&p, 0.01 + 0.004 * (i % 7) as f32);
            Utterance {
                audio: p,
                text: candidates[i % 4].into(),
                duration: 0.75,
                speaker: [Some("x"), Some("y"), None][i % 3].map(str::to_string),
            }
        })
        .collect();
    let t = Transduction {
        neighbours: 3,
        alpha: 0.8,
        balanced: true,
    };
    let mut recs = [Recognizer::load(&a).unwrap()];
    let got = evaluate_choices_ensemble(&mut recs, &utts, &candidates, &t).unwrap();
    assert!(got.failed.is_empty());

    // The oracle: posteriors and inputs straight from the recogniser, one
    // relabel per group.
    let mut rec = Recognizer::load(&a).unwrap();
    let v = rec.model.config.vocab.clone();
    let ch = Choices::new(candidates, &v).unwrap();
    let mut want = vec![String::new(); utts.len()];
    let mut changed = false;
    for speaker in [Some("x"), Some("y"), None] {
        let members: Vec<usize> = (0..utts.len())
            .filter(|&i| utts[i].speaker.as_deref() == speaker)
            .collect();
        let mut priors = Vec::new();
        let mut inputs = Vec::new();
        for &i in &members {
            let u = &utts[i];
            let samples = rec.model.config.frontend.load(&u.audio).unwrap();
            let f = rec.input_features(&samples, &u.audio).unwrap();
            let (lp, steps) = rec.model.log_probs(&f.data, f.n_frames).unwrap();
            let pick = ch.pick(&lp, steps, v.classes(), v.blank()).unwrap();
            priors.push(transduce::posterior(&pick.log_likelihoods).unwrap());
            inputs.push(f);
        }
        let refs: Vec<&[f32]> = inputs.iter().map(|f| f.data.as_slice()).collect();
        let post = transduce::relabel(&priors, &refs, inputs[0].dim, &t);
        for ((&i, p), prior) in members.iter().zip(&post).zip(&priors) {
            let best = transduce::argmax(p).unwrap();
            changed |= best != transduce::argmax(prior).unwrap();
            want[i] = candidates[best].to_string();
        }
    }
    let hyps: Vec<String> = got.scored.iter().map(|s| s.hypothesis.clone()).collect();
    assert_eq!(hyps, want);
    // The groups were not left as the model alone would answer them.
    assert!(
        changed,
        "the transduction changed no answer; the test shows nothing"
    );
}

/// The CLI's ensemble / joint report prints like the single-model one:
/// every hypothesis with --verbose, the summary, the worst utterances.
#[test]
fn cli_ensemble_report_has_the_verbose_lines_and_the_worst_utterances() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (model(dir.path(), 5), model(dir.path(), 6));
    let candidates = ["abc", "cab", "b", "ca"];
    let mut lines = String::new();
    for i in 0..8 {
        let p = dir.path().join(format!("c{i}.wav"));
        wav(&p, 0.01 + 0.005 * i as f32);
        lines += &format!(
            "{{\"audio\":\"{}\",\"text\":\"{}\",\"speaker\":\"s\"}}\n",
            p.display(),
            candidates[i % 4]
        );
    }
    let manifest = dir.path().join("m.jsonl");
    std::fs::write(&manifest, lines).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_asr"))
        .args(["eval", "--manifest", manifest.to_str().unwrap()])
        .args([
            "--model",
            a.to_str().unwrap(),
            "--ensemble",
            b.to_str().unwrap(),
        ])
        .args(["--choices", &candidates.join(","), "--neighbours", "2"])
        .args(["--verbose", "--worst", "3"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("choices, ensemble of 2 models, 2 neighbours (weight 0.9):"),
        "{out}"
    );
    let refs = out.lines().filter(|l| l.starts_with("  ref: ")).count();
    assert_eq!(refs, 8, "{out}");
    assert_eq!(out.matches("  hyp (choices, ensemble").count(), 8, "{out}");
    let exact: f64 = out
        .split("exact ")
        .nth(1)
        .and_then(|t| t.split('%').next())
        .and_then(|t| t.parse().ok())
        .expect("summary line");
    // Untrained models get some wrong; those are listed (at most 3).
    if exact < 100.0 {
        assert!(out.contains("worst utterances:"), "{out}");
        assert!(out.matches("char errors").count() <= 3, "{out}");
    }
}
