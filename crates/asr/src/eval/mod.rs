//! Scoring a model on a manifest: corpus CER and WER, the utterances with
//! the most errors (with their character alignment), and files that could
//! not be transcribed (reported, not fatal). Several decoders (greedy, beam
//! with LM weights) can be scored on one run of the network.
pub mod metrics;

use crate::data::manifest::{by_speaker, Utterance};
use crate::data::vocab::normalize;
use crate::error::naming;
use crate::eval::metrics::{char_errors, word_errors, ErrorCounts};
use crate::recognize::{Decoder, Greedy, Recognizer};
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

/// The speaker statistics of a model with speaker normalisation, fitted on
/// each speaker's recordings in a manifest (audio only, never the
/// transcripts); empty for other models. Utterances without a speaker are
/// normalised by their own statistics.
#[derive(Clone)]
pub struct SpeakerNorms {
    by_speaker: std::collections::BTreeMap<String, crate::frontend::SpeakerNorm>,
}

impl SpeakerNorms {
    pub fn fit(rec: &mut Recognizer, utts: &[Utterance]) -> SpeakerNorms {
        Self::fit_each(std::slice::from_mut(rec), utts).remove(0)
    }

    /// [`SpeakerNorms::fit`] for each model of an ensemble; models with the
    /// same front end share one fit, so the files are read once per
    /// distinct front end rather than once per model.
    pub fn fit_each(recs: &mut [Recognizer], utts: &[Utterance]) -> Vec<SpeakerNorms> {
        let mut out = vec![
            SpeakerNorms {
                by_speaker: Default::default()
            };
            recs.len()
        ];
        if !recs.iter().any(Recognizer::wants_speaker_norm) {
            return out;
        }
        for (speaker, members) in by_speaker(utts.iter().map(|u| u.speaker.as_deref())) {
            let Some(speaker) = speaker else { continue };
            let files: Vec<&std::path::Path> =
                members.iter().map(|&i| utts[i].audio.as_path()).collect();
            Recognizer::fit_speaker_all(recs, &files);
            for (rec, norms) in recs.iter_mut().zip(&mut out) {
                if let Some(n) = rec.speaker_norm.take().filter(|_| rec.wants_speaker_norm()) {
                    norms.by_speaker.insert(speaker.to_string(), n);
                }
            }
        }
        out
    }

    /// Sets `rec` up for utterance `u`'s speaker.
    pub fn select(&self, rec: &mut Recognizer, u: &Utterance) {
        if rec.wants_speaker_norm() {
            rec.speaker_norm = u
                .speaker
                .as_ref()
                .and_then(|s| self.by_speaker.get(s))
                .cloned();
        }
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
    let norms = SpeakerNorms::fit(rec, utts);
    for (i, u) in utts.iter().enumerate() {
        // Nothing to score against: an error of that utterance, not an
        // infinite error rate (nor insertions counted into the totals).
        if crate::data::vocab::normalize(&u.text).is_empty() {
            for r in &mut reports {
                r.failed.push((
                    u.audio.clone(),
                    naming(
                        &u.audio,
                        "empty reference transcript: nothing to score against",
                    ),
                ));
            }
            progress(i + 1, utts.len());
            continue;
        }
        norms.select(rec, u);
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
                    r.failed
                        .push((u.audio.clone(), naming(&u.audio, &e.to_string())));
                }
            }
        }
        progress(i + 1, utts.len());
    }
    reports
}
