//! Scoring a model on a manifest: corpus CER and WER, the utterances with
//! the most errors (with their character alignment), and files that could
//! not be transcribed (reported, not fatal). Several decoders (greedy, beam
//! with LM weights) can be scored on one run of the network.
use crate::manifest::Utterance;
use crate::metrics::{char_errors, word_errors, ErrorCounts};
use crate::recognize::{Decoder, Greedy, Recognizer};
use crate::vocab::normalize;
use std::path::PathBuf;

/// One scored utterance.
#[derive(Debug, Clone)]
pub struct Scored {
    pub audio: PathBuf,
    pub speaker: Option<String>,
    pub reference: String,
    pub hypothesis: String,
    pub chars: ErrorCounts,
    pub words: ErrorCounts,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    pub chars: ErrorCounts,
    pub words: ErrorCounts,
    /// Utterances whose hypothesis equals the reference exactly.
    pub exact: usize,
    pub scored: Vec<Scored>,
    pub failed: Vec<(PathBuf, String)>,
    pub audio_seconds: f64,
    pub decode_seconds: f64,
}

impl EvalReport {
    pub fn cer(&self) -> f64 {
        self.chars.rate()
    }
    pub fn wer(&self) -> f64 {
        self.words.rate()
    }
    /// Fraction of utterances recognised exactly (digit accuracy for FSDD).
    pub fn exact_rate(&self) -> f64 {
        self.exact as f64 / self.scored.len().max(1) as f64
    }
    /// Scores `hypothesis` against utterance `u`'s normalised text and adds
    /// it, with its audio length and decoding time, to the totals.
    pub fn add(
        &mut self,
        u: &Utterance,
        hypothesis: String,
        audio_seconds: f64,
        decode_seconds: f64,
    ) {
        let reference = normalize(&u.text);
        let c = char_errors(&reference, &hypothesis);
        let w = word_errors(&reference, &hypothesis);
        self.chars.add(c);
        self.words.add(w);
        self.exact += usize::from(c.edits == 0);
        self.audio_seconds += audio_seconds;
        self.decode_seconds += decode_seconds;
        self.scored.push(Scored {
            audio: u.audio.clone(),
            speaker: u.speaker.clone(),
            reference,
            hypothesis,
            chars: c,
            words: w,
        });
    }

    /// The `n` utterances with the most character errors.
    pub fn worst(&self, n: usize) -> Vec<&Scored> {
        let mut v: Vec<&Scored> = self.scored.iter().filter(|s| s.chars.edits > 0).collect();
        v.sort_by(|a, b| {
            b.chars
                .edits
                .cmp(&a.chars.edits)
                .then(a.audio.cmp(&b.audio))
        });
        v.truncate(n);
        v
    }
}

/// Transcribes every utterance and scores it against its normalised text.
pub fn evaluate(
    rec: &mut Recognizer,
    utts: &[Utterance],
    progress: impl FnMut(usize, usize),
) -> EvalReport {
    let decoder = std::mem::replace(&mut rec.decoder, Box::new(Greedy));
    let mut reports = evaluate_with(rec, utts, &[decoder.as_ref()], progress);
    rec.decoder = decoder;
    reports.remove(0)
}

/// Scores each decoder on every utterance, running the network once per
/// utterance. A report's `decode_seconds` is the shared work (loading,
/// features, network) plus that decoder's own time.
pub fn evaluate_with(
    rec: &mut Recognizer,
    utts: &[Utterance],
    decoders: &[&dyn Decoder],
    mut progress: impl FnMut(usize, usize),
) -> Vec<EvalReport> {
    let mut reports = vec![EvalReport::default(); decoders.len()];
    for (i, u) in utts.iter().enumerate() {
        match rec.transcribe_file_with(&u.audio, decoders) {
            Ok(m) => {
                for ((r, t), secs) in reports
                    .iter_mut()
                    .zip(m.transcripts)
                    .zip(&m.decoder_seconds)
                {
                    r.add(u, t.text, t.duration, m.shared_seconds + secs);
                }
            }
            Err(e) => {
                for r in &mut reports {
                    r.failed.push((u.audio.clone(), e.to_string()));
                }
            }
        }
        progress(i + 1, utts.len());
    }
    reports
}

/// Closed-vocabulary answers of several models combined: each candidate's
/// CTC log-likelihood is summed over the models (a product of experts) and
/// the best candidate is the answer. Every model reads the whole file with
/// its own front end; a file any model cannot read is reported as failed.
pub fn evaluate_choices_ensemble(
    recs: &mut [Recognizer],
    utts: &[Utterance],
    candidates: &[&str],
) -> crate::error::Result<EvalReport> {
    let choices: Vec<crate::choices::Choices> = recs
        .iter()
        .map(|r| crate::choices::Choices::new(candidates.iter().copied(), &r.model.config.vocab))
        .collect::<crate::error::Result<_>>()?;
    let mut report = EvalReport::default();
    for u in utts {
        let started = std::time::Instant::now();
        match ensemble_scores(recs, &choices, u) {
            Ok((total, duration)) => {
                let best = (0..total.len())
                    .max_by(|&a, &b| total[a].total_cmp(&total[b]).then(b.cmp(&a)))
                    .unwrap_or(0);
                let hypothesis = if total.get(best).is_some_and(|v| v.is_finite()) {
                    choices[0].texts()[best].clone()
                } else {
                    String::new()
                };
                report.add(u, hypothesis, duration, started.elapsed().as_secs_f64());
            }
            Err(e) => report.failed.push((u.audio.clone(), e.to_string())),
        }
    }
    Ok(report)
}

/// Each candidate's log-likelihood summed over the models, and the audio's
/// length. The file is read once per distinct front end (ensembles usually
/// share one).
fn ensemble_scores(
    recs: &mut [Recognizer],
    choices: &[crate::choices::Choices],
    u: &Utterance,
) -> crate::error::Result<(Vec<f64>, f64)> {
    let mut total: Vec<f64> = Vec::new();
    let mut duration = 0.0;
    let mut loaded: Option<(crate::frontend::FrontEnd, Vec<f32>)> = None;
    for (rec, ch) in recs.iter_mut().zip(choices) {
        let fe = &rec.model.config.frontend;
        if loaded.as_ref().is_none_or(|(f, _)| f != fe) {
            loaded = Some((fe.clone(), fe.load(&u.audio)?));
        }
        let samples = &loaded.as_ref().expect("loaded above").1;
        duration = samples.len() as f64 / fe.sample_rate as f64;
        let (lp, steps) = rec.log_probs(samples, &u.audio)?;
        let vocab = &rec.model.config.vocab;
        let pick = ch.pick(&lp, steps, vocab.classes(), vocab.blank())?;
        total.resize(pick.log_likelihoods.len(), 0.0);
        for (t, l) in total.iter_mut().zip(&pick.log_likelihoods) {
            *t += l;
        }
    }
    Ok((total, duration))
}
