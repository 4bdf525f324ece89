//! Scoring a model on a manifest: corpus CER and WER, the utterances with
//! the most errors (with their character alignment), and files that could
//! not be transcribed (reported, not fatal).
use crate::manifest::Utterance;
use crate::metrics::{char_errors, word_errors, ErrorCounts};
use crate::recognize::Recognizer;
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
    mut progress: impl FnMut(usize, usize),
) -> EvalReport {
    let mut r = EvalReport::default();
    let start = std::time::Instant::now();
    for (i, u) in utts.iter().enumerate() {
        match rec.transcribe_file(&u.audio) {
            Ok(t) => {
                let reference = normalize(&u.text);
                let c = char_errors(&reference, &t.text);
                let w = word_errors(&reference, &t.text);
                r.chars.add(c);
                r.words.add(w);
                r.exact += usize::from(c.edits == 0);
                r.audio_seconds += t.duration;
                r.scored.push(Scored {
                    audio: u.audio.clone(),
                    speaker: u.speaker.clone(),
                    reference,
                    hypothesis: t.text,
                    chars: c,
                    words: w,
                });
            }
            Err(e) => r.failed.push((u.audio.clone(), e.to_string())),
        }
        progress(i + 1, utts.len());
    }
    r.decode_seconds = start.elapsed().as_secs_f64();
    r
}
