//! Scoring a closed-vocabulary ensemble on a manifest: the `asr eval
//! --choices ... --ensemble` report, with optional joint labelling of each
//! speaker's recordings. Lives here, not in `eval`, so that the core
//! evaluation knows nothing of candidates lists.
use crate::closed::pseudo::FileScores;
use crate::closed::transduce::Transduction;
use crate::data::manifest::{by_speaker, Utterance};
use crate::error::naming;
use crate::eval::{EvalReport, SpeakerNorms};
use crate::recognize::Recognizer;

/// Closed-vocabulary answers of several models combined: each candidate's
/// CTC log-likelihood is averaged over the models (a product of experts)
/// and the best candidate is the answer. Every model reads the whole file
/// with its own front end; a file any model cannot read is reported as
/// failed. With an active `t`, each speaker's recordings are relabelled
/// together ([`crate::closed::transduce`]; recordings without a speaker form one
/// group); the transcripts are only read for scoring.
pub fn evaluate_choices_ensemble(
    recs: &mut [Recognizer],
    utts: &[Utterance],
    candidates: &[&str],
    t: &Transduction,
) -> crate::error::Result<EvalReport> {
    let choices = crate::closed::pseudo::choices_for(recs, candidates)?;
    let mut report = EvalReport::default();
    let norms = SpeakerNorms::fit_each(recs, utts);
    let mut scored: Vec<(&Utterance, FileScores, f64)> = Vec::new();
    for u in utts {
        let started = std::time::Instant::now();
        for (rec, n) in recs.iter_mut().zip(&norms) {
            n.select(rec, u);
        }
        match crate::closed::pseudo::candidate_scores(recs, &choices, &u.audio, t.is_active()) {
            Ok(s) => scored.push((u, s, started.elapsed().as_secs_f64())),
            Err(e) => report
                .failed
                .push((u.audio.clone(), naming(&u.audio, &e.to_string()))),
        }
    }
    let mut posteriors: Vec<Option<Vec<f64>>> = vec![None; scored.len()];
    for members in by_speaker(scored.iter().map(|(u, ..)| u.speaker.as_deref())).into_values() {
        let started = std::time::Instant::now();
        let group: Vec<&FileScores> = members.iter().map(|&i| &scored[i].1).collect();
        for (&i, p) in members
            .iter()
            .zip(crate::closed::pseudo::joint_posteriors(&group, t))
        {
            posteriors[i] = p;
        }
        // The joint step's time, shared out over the group's files.
        let share = started.elapsed().as_secs_f64() / members.len() as f64;
        for &i in &members {
            scored[i].2 += share;
        }
    }
    for ((u, s, seconds), p) in scored.iter().zip(posteriors) {
        let hypothesis = p
            .and_then(|p| crate::closed::transduce::argmax(&p))
            .map(|best| choices[0].texts()[best].clone())
            .unwrap_or_default();
        report.add(u, hypothesis, s.duration, *seconds);
    }
    Ok(report)
}
