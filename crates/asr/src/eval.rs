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
                let reference = normalize(&u.text);
                for ((r, t), secs) in reports
                    .iter_mut()
                    .zip(m.transcripts)
                    .zip(&m.decoder_seconds)
                {
                    let c = char_errors(&reference, &t.text);
                    let w = word_errors(&reference, &t.text);
                    r.chars.add(c);
                    r.words.add(w);
                    r.exact += usize::from(c.edits == 0);
                    r.audio_seconds += t.duration;
                    r.decode_seconds += m.shared_seconds + secs;
                    r.scored.push(Scored {
                        audio: u.audio.clone(),
                        speaker: u.speaker.clone(),
                        reference: reference.clone(),
                        hypothesis: t.text,
                        chars: c,
                        words: w,
                    });
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
