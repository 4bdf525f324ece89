//! Forced alignment: where each word of a known transcript is spoken. The
//! network runs once over the whole file and the Viterbi path through the
//! CTC trellis of the transcript (`sori_ctc::force_align`) gives every
//! character its first and last model step; a word spans its characters.
//!
//! Unlike transcription, alignment is not chunked: a transcript cannot be
//! split at chunk boundaries without knowing where its words are, so memory
//! grows with the recording's length (about 1 MB per minute at the default
//! settings).
use crate::data::vocab::{normalize, OovPolicy, Vocab};
use crate::error::{AsrError, Result};
use crate::recognize::Recognizer;
use serde::Serialize;
use sori_ctc::{force_align, CtcError};
use std::path::Path;

/// One transcript word and where it is spoken.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlignedWord {
    pub word: String,
    /// Seconds from the start of the file.
    pub start: f64,
    pub end: f64,
    /// Mean log-probability per step of the word's characters on the path
    /// (near 0: confident; very negative: the audio hardly supports it).
    pub score: f64,
}

/// The alignment of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alignment {
    /// The transcript as aligned (normalised: lower case, single spaces).
    pub text: String,
    pub words: Vec<AlignedWord>,
    /// Seconds of audio.
    pub duration: f64,
    /// Natural-log probability of the whole path.
    pub log_prob: f64,
}

impl Alignment {
    /// The alignment as a transcription result (words with their times).
    pub fn into_transcript(self) -> crate::recognize::Transcript {
        // A forced alignment's confidence: the geometric mean probability
        // per step of the word's path.
        let words = self
            .words
            .into_iter()
            .map(|w| crate::recognize::Word {
                word: w.word,
                start: w.start,
                end: w.end,
                confidence: w.score.exp(),
            })
            .collect();
        crate::recognize::Transcript::from_words(words, self.duration)
    }
}

impl Recognizer {
    /// Aligns `transcript` to the WAV file at `path`.
    pub fn align_file(&mut self, path: &Path, transcript: &str) -> Result<Alignment> {
        let samples = self.model.config.frontend.load(path)?;
        self.align_samples(&samples, path, transcript)
    }

    /// Aligns `transcript` to samples at the model's rate (`path` names
    /// them in errors).
    pub fn align_samples(
        &mut self,
        samples: &[f32],
        path: &Path,
        transcript: &str,
    ) -> Result<Alignment> {
        let vocab = self.model.config.vocab.clone();
        let text = normalize(transcript);
        if text.is_empty() {
            return Err(AsrError::Config(format!(
                "{}: the transcript to align is empty",
                path.display()
            )));
        }
        let labels = vocab.encode(&text, OovPolicy::Error).map_err(|chars| {
            AsrError::Config(format!(
                "{}: the transcript has characters the model cannot output: {}",
                path.display(),
                chars
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
        })?;
        let target: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
        let (lp, steps) = self.log_probs(samples, path)?;
        let duration = samples.len() as f64 / self.model.config.frontend.sample_rate as f64;
        let step_s = self.model.config.step_seconds();
        let (words, log_prob) = match align_words(&lp[..steps * vocab.classes()], &vocab, &text, &target, step_s) {
            Err(AsrError::Ctc(CtcError::Infeasible { .. })) => {
                return Err(AsrError::Audio {
                    path: path.to_path_buf(),
                    message: format!(
                        "too short for the transcript: {} characters need more than the {steps} model steps ({duration:.2} s) of audio",
                        target.len(),
                    ),
                })
            }
            other => other?,
        };
        Ok(Alignment {
            text,
            words,
            duration,
            log_prob,
        })
    }
}

/// Words of `text` (normalised; `target` its label ids) with times, from
/// `T × classes` log-probabilities at `step_s` seconds per step, and the
/// path's log-probability.
pub fn align_words(
    lp: &[f32],
    vocab: &Vocab,
    text: &str,
    target: &[usize],
    step_s: f64,
) -> Result<(Vec<AlignedWord>, f64)> {
    let classes = vocab.classes();
    let a = force_align(lp, classes, target, vocab.blank())?;
    let space = vocab.index(' ');
    let mut names = text.split(' ');
    let mut words = Vec::new();
    // (first step, last step, summed log-probability, steps) of the word so far.
    let mut current: Option<(usize, usize, f64, usize)> = None;
    let mut close = |cur: &mut Option<(usize, usize, f64, usize)>, words: &mut Vec<AlignedWord>| {
        if let Some((s, e, sum, n)) = cur.take() {
            words.push(AlignedWord {
                word: names.next().unwrap_or_default().to_string(),
                start: s as f64 * step_s,
                end: (e + 1) as f64 * step_s,
                score: sum / n.max(1) as f64,
            });
        }
    };
    for span in &a.spans {
        if Some(span.label) == space {
            close(&mut current, &mut words);
            continue;
        }
        let sum: f64 = (span.start..=span.end)
            .map(|t| lp[t * classes + span.label] as f64)
            .sum();
        let n = span.end + 1 - span.start;
        current = Some(match current {
            Some((s, _, acc, k)) => (s, span.end, acc + sum, k + n),
            None => (span.start, span.end, sum, n),
        });
    }
    close(&mut current, &mut words);
    Ok((words, a.log_prob))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Log-probabilities where each step is sure of one class: the
    /// alignment must follow the emitted characters exactly.
    fn peaked(path: &[usize], classes: usize) -> Vec<f32> {
        let mut lp = vec![(1e-4f32).ln(); path.len() * classes];
        for (t, &c) in path.iter().enumerate() {
            lp[t * classes + c] = (1.0 - 1e-4 * (classes - 1) as f32).ln();
        }
        lp
    }

    #[test]
    fn words_span_their_characters_steps() {
        let vocab = Vocab::new(" abc".chars());
        let (sp, a, b, c, blank) = (0, 1, 2, 3, vocab.blank());
        // steps: 0-1 blank, 2-3 "a", 4 "b", 5 blank, 6 space, 7 blank,
        // 8-10 "c", 11 blank, 12 "a", 13 blank
        let path = [
            blank, blank, a, a, b, blank, sp, blank, c, c, c, blank, a, blank,
        ];
        let lp = peaked(&path, vocab.classes());
        let text = "ab ca";
        let target: Vec<usize> = vocab
            .encode(text, OovPolicy::Error)
            .unwrap()
            .iter()
            .map(|&l| l as usize)
            .collect();
        let (words, log_prob) = align_words(&lp, &vocab, text, &target, 0.04).unwrap();
        let got: Vec<(&str, f64, f64)> = words
            .iter()
            .map(|w| (w.word.as_str(), w.start, w.end))
            .collect();
        let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "ab");
        assert!(close(got[0].1, 0.08) && close(got[0].2, 0.20), "{got:?}");
        assert_eq!(got[1].0, "ca");
        assert!(close(got[1].1, 0.32) && close(got[1].2, 0.52), "{got:?}");
        assert!(words.iter().all(|w| w.score > -1e-3));
        assert!(log_prob > -0.01 && log_prob <= 0.0, "{log_prob}");
        // A path the audio cannot hold.
        let long: Vec<usize> = [a, b, c].repeat(10);
        assert!(matches!(
            align_words(&lp, &vocab, "abcabcabcabcabcabcabcabcabcabc", &long, 0.04),
            Err(AsrError::Ctc(CtcError::Infeasible { .. }))
        ));
    }
}
