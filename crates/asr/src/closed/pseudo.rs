//! Unsupervised adaptation to a new speaker by self-training. A model
//! trained on other speakers answers a closed-vocabulary question (which
//! digit?) for the new speaker's unlabelled recordings; the answers it is
//! surest of become training transcripts for the next model. No reference
//! transcript of the new speaker is read: what is learnt is the speaker's
//! voice, from the model's own confident answers.
//!
//! Confidence is the posterior of the best candidate among the candidates,
//! `softmax(ln p(candidate | audio))`, from the CTC likelihoods of
//! [`crate::closed::choices`] (averaged over an ensemble). Selection keeps the most
//! confident fraction *within each answer*, so that the easy words do not
//! crowd the hard ones out of the pseudo-labelled set.
use crate::closed::choices::Choices;
use crate::closed::transduce::{self, Transduction};
use crate::data::manifest::Utterance;
use crate::error::{naming, AsrError, Result};
use crate::recognize::Recognizer;
use sori_features::Features;
use std::path::{Path, PathBuf};

/// A model's answer for one unlabelled recording.
#[derive(Debug, Clone, PartialEq)]
pub struct PseudoLabel {
    pub audio: PathBuf,
    /// The chosen candidate.
    pub text: String,
    pub duration: f64,
    /// Posterior probability of `text` among the candidates (0..1).
    pub confidence: f64,
}

/// One recording's closed-vocabulary evidence, from [`candidate_scores`].
#[derive(Debug, Clone)]
pub struct FileScores {
    /// Each candidate's `ln p(candidate | audio)`, averaged over the models.
    pub log_likelihoods: Vec<f64>,
    /// Seconds of audio.
    pub duration: f64,
    /// The first model's network input (`frames × dim`), kept when asked
    /// for: what [`crate::closed::transduce`] compares recordings by.
    pub input: Option<Features>,
}

/// Each candidate's `ln p(candidate | audio)` averaged over the models, and
/// the audio's length in seconds. The file is read once per distinct front
/// end (an ensemble usually shares one).
pub fn candidate_scores(
    recs: &mut [Recognizer],
    choices: &[Choices],
    audio: &Path,
    keep_input: bool,
) -> Result<FileScores> {
    let mut total: Vec<f64> = Vec::new();
    let mut duration = 0.0;
    let mut input = None;
    let mut loaded: Option<(crate::frontend::FrontEnd, Vec<f32>)> = None;
    for (i, (rec, ch)) in recs.iter_mut().zip(choices).enumerate() {
        let fe = &rec.model.config.frontend;
        if loaded.as_ref().is_none_or(|(f, _)| f != fe) {
            loaded = Some((fe.clone(), fe.load(audio)?));
        }
        let samples = &loaded.as_ref().expect("loaded above").1;
        duration = samples.len() as f64 / fe.sample_rate as f64;
        let features = rec.input_features(samples, audio)?;
        let (lp, steps) = rec.model.log_probs(&features.data, features.n_frames)?;
        if i == 0 && keep_input {
            input = Some(features);
        }
        let vocab = &rec.model.config.vocab;
        let pick = ch.pick(&lp, steps, vocab.classes(), vocab.blank())?;
        total.resize(pick.log_likelihoods.len(), 0.0);
        for (t, l) in total.iter_mut().zip(&pick.log_likelihoods) {
            *t += l;
        }
    }
    let n = recs.len().max(1) as f64;
    total.iter_mut().for_each(|t| *t /= n);
    Ok(FileScores {
        log_likelihoods: total,
        duration,
        input,
    })
}

/// The candidates' posteriors of recordings of one speaker, relabelled
/// together as `t` asks ([`crate::closed::transduce::relabel`]; without it, each
/// recording's own `softmax` of its log-likelihoods). `None` for a
/// recording too short for every candidate; it takes no part.
pub fn joint_posteriors(scores: &[&FileScores], t: &Transduction) -> Vec<Option<Vec<f64>>> {
    let own: Vec<Option<Vec<f64>>> = scores
        .iter()
        .map(|s| transduce::posterior(&s.log_likelihoods))
        .collect();
    if !t.is_active() {
        return own;
    }
    let usable: Vec<usize> = (0..scores.len())
        .filter(|&i| own[i].is_some() && scores[i].input.is_some())
        .collect();
    if usable.is_empty() {
        return own;
    }
    let dim = scores[usable[0]].input.as_ref().map_or(1, |f| f.dim);
    let priors: Vec<Vec<f64>> = usable
        .iter()
        .map(|&i| own[i].clone().expect("usable"))
        .collect();
    let inputs: Vec<&[f32]> = usable
        .iter()
        .map(|&i| scores[i].input.as_ref().expect("usable").data.as_slice())
        .collect();
    let mut out = own;
    for (&i, p) in usable
        .iter()
        .zip(transduce::relabel(&priors, &inputs, dim, t))
    {
        out[i] = Some(p);
    }
    out
}

/// The candidate lists of `recs` (one per model: vocabularies may differ).
pub fn choices_for(recs: &[Recognizer], candidates: &[&str]) -> Result<Vec<Choices>> {
    recs.iter()
        .map(|r| Choices::new(candidates.iter().copied(), &r.model.config.vocab))
        .collect()
}

/// Index of the best score and its posterior among all scores; `None` when
/// every candidate is impossible (audio too short for all of them).
pub fn best_with_posterior(scores: &[f64]) -> Option<(usize, f64)> {
    let p = transduce::posterior(scores)?;
    let best = transduce::argmax(&p)?;
    Some((best, p[best]))
}

/// The result of [`pseudo_label`].
#[derive(Debug, Clone, Default)]
pub struct Labelled {
    pub labels: Vec<PseudoLabel>,
    /// Files that could not be labelled, with the reason (naming the file).
    pub failed: Vec<(PathBuf, String)>,
}

/// Labels every file with the ensemble's best candidate, the files taken
/// together as `t` asks ([`crate::closed::transduce`]; they are one speaker).
/// Files that cannot be read, or are too short for every candidate, are
/// returned as failures with the reason; the others are still labelled.
pub fn pseudo_label(
    recs: &mut [Recognizer],
    files: &[PathBuf],
    candidates: &[&str],
    t: &Transduction,
    mut progress: impl FnMut(usize, usize),
) -> Result<Labelled> {
    if recs.is_empty() {
        return Err(AsrError::Config("pseudo-labelling needs a model".into()));
    }
    let choices = choices_for(recs, candidates)?;
    // The files are one speaker: models that normalise by speaker get the
    // statistics of all of them, fitted once per distinct front end.
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    Recognizer::fit_speaker_all(recs, &paths);
    let mut scored: Vec<(&PathBuf, FileScores)> = Vec::new();
    let mut failed = Vec::new();
    for (i, path) in files.iter().enumerate() {
        match candidate_scores(recs, &choices, path, t.is_active()) {
            Ok(s) => scored.push((path, s)),
            Err(e) => failed.push((path.clone(), naming(path, &e.to_string()))),
        }
        progress(i + 1, files.len());
    }
    let refs: Vec<&FileScores> = scored.iter().map(|(_, s)| s).collect();
    let mut labels = Vec::new();
    for ((path, s), p) in scored.iter().zip(joint_posteriors(&refs, t)) {
        match p.and_then(|p| transduce::argmax(&p).map(|best| (best, p[best]))) {
            Some((best, confidence)) => labels.push(PseudoLabel {
                audio: (*path).clone(),
                text: choices[0].texts()[best].clone(),
                duration: s.duration,
                confidence,
            }),
            None => failed.push((
                (*path).clone(),
                naming(path, "too short for every candidate"),
            )),
        }
    }
    Ok(Labelled { labels, failed })
}

/// The most confident `keep` fraction (0..=1) of each answer's labels, at
/// least `min_confidence` each, as manifest utterances with `speaker`.
/// Within an answer the order is by falling confidence, ties by path, so the
/// selection does not depend on the order of the files.
pub fn select(
    labels: &[PseudoLabel],
    keep: f64,
    min_confidence: f64,
    speaker: Option<&str>,
) -> Vec<Utterance> {
    let mut answers: Vec<&str> = labels.iter().map(|l| l.text.as_str()).collect();
    answers.sort_unstable();
    answers.dedup();
    let mut out = Vec::new();
    for answer in answers {
        let mut group: Vec<&PseudoLabel> = labels
            .iter()
            .filter(|l| l.text == answer && l.confidence >= min_confidence)
            .collect();
        let all = labels.iter().filter(|l| l.text == answer).count();
        group.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then_with(|| a.audio.cmp(&b.audio))
        });
        group.truncate((keep.clamp(0.0, 1.0) * all as f64).round() as usize);
        out.extend(group.into_iter().map(|l| Utterance {
            audio: l.audio.clone(),
            text: l.text.clone(),
            duration: l.duration,
            speaker: speaker.map(str::to_string),
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(audio: &str, text: &str, confidence: f64) -> PseudoLabel {
        PseudoLabel {
            audio: audio.into(),
            text: text.into(),
            duration: 1.0,
            confidence,
        }
    }

    #[test]
    fn posterior_is_the_softmax_of_the_best_score() {
        let (best, p) = best_with_posterior(&[-3.0, -1.0, -2.0]).unwrap();
        assert_eq!(best, 1);
        let z = (-3f64).exp() + (-1f64).exp() + (-2f64).exp();
        assert!((p - (-1f64).exp() / z).abs() < 1e-12);
        let (_, p) = best_with_posterior(&[f64::NEG_INFINITY, -5.0]).unwrap();
        assert_eq!(p, 1.0);
        assert_eq!(best_with_posterior(&[f64::NEG_INFINITY; 3]), None);
        assert_eq!(best_with_posterior(&[]), None);
    }

    #[test]
    fn selection_keeps_the_surest_fraction_of_each_answer() {
        let labels = vec![
            label("a1", "one", 0.9),
            label("a2", "one", 0.5),
            label("a3", "one", 0.99),
            label("a4", "one", 0.7),
            label("b1", "two", 0.3),
            label("b2", "two", 0.4),
        ];
        let got = select(&labels, 0.5, 0.0, Some("x"));
        let names: Vec<_> = got.iter().map(|u| u.audio.to_str().unwrap()).collect();
        // Half of "one" (the two surest) and half of "two" (its surer one),
        // although every "two" is less sure than every "one".
        assert_eq!(names, vec!["a3", "a1", "b2"]);
        assert!(got.iter().all(|u| u.speaker.as_deref() == Some("x")));
        // A confidence floor applies on top of the fraction.
        let got = select(&labels, 1.0, 0.6, None);
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|u| u.text == "one"));
    }
}
