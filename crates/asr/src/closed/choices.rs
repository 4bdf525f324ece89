//! Closed-vocabulary recognition. When the answer is known to be one of a
//! short list (spoken digits, commands), greedy or beam decoding can still
//! produce a string outside the list ("fove"). Scoring every candidate
//! transcript by its CTC log-likelihood, `ln p(candidate | audio)` from the
//! alpha recursion of `sori-ctc`, and taking the best never does: the
//! answer is always a list member, and the scores rank the alternatives.
use crate::data::vocab::{normalize, OovPolicy, Vocab};
use crate::error::{AsrError, Result};

use crate::recognize::{aligned_emissions, Decoder, Emission};
use sori_ctc::{ctc_loss, CtcBatch, CtcOptions, Reduction, Shape, Targets};

/// Candidate transcripts, encoded in a model's vocabulary.
#[derive(Debug, Clone)]
pub struct Choices {
    texts: Vec<String>,
    labels: Vec<Vec<i64>>,
}

/// The best candidate of one utterance and every candidate's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub index: usize,
    pub text: String,
    /// `ln p(candidate | audio)` of each candidate, in list order
    /// (`-inf` for one too long for the audio).
    pub log_likelihoods: Vec<f64>,
}

impl Choices {
    /// Candidates from a comma-separated list (`"zero,one,two"`); each is
    /// normalised like transcripts (lower case, single spaces).
    pub fn parse(spec: &str, vocab: &Vocab) -> Result<Choices> {
        Choices::new(spec.split(','), vocab)
    }

    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>, vocab: &Vocab) -> Result<Choices> {
        let mut out = Choices {
            texts: Vec::new(),
            labels: Vec::new(),
        };
        for raw in texts {
            let text = normalize(raw);
            if text.is_empty() {
                return Err(AsrError::Config(
                    "--choices: empty candidate (write them as \"zero,one,two\")".into(),
                ));
            }
            if out.texts.contains(&text) {
                continue;
            }
            let labels = vocab.encode(&text, OovPolicy::Error).map_err(|bad| {
                AsrError::Config(format!(
                    "--choices: \"{text}\" has characters the model cannot output: {}",
                    bad.iter()
                        .map(|c| format!("'{c}'"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ))
            })?;
            out.texts.push(text);
            out.labels.push(labels);
        }
        if out.texts.len() < 2 {
            return Err(AsrError::Config(
                "--choices: give at least two candidates".into(),
            ));
        }
        Ok(out)
    }

    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// Scores every candidate against `steps × classes` log-probabilities.
    pub fn pick(
        &self,
        log_probs: &[f32],
        steps: usize,
        classes: usize,
        blank: usize,
    ) -> Result<Choice> {
        let opts = CtcOptions {
            blank,
            reduction: Reduction::None,
            zero_infinity: false,
        };
        let il = [steps as i64];
        let mut scores = Vec::with_capacity(self.labels.len());
        for labels in &self.labels {
            let batch = CtcBatch {
                log_probs: &log_probs[..steps * classes],
                shape: Shape::new(steps, 1, classes),
                targets: Targets::Concatenated(labels),
                input_lengths: &il,
                target_lengths: &[labels.len() as i64],
            };
            let nll = ctc_loss(&batch, &opts)?.losses[0] as f64;
            scores.push(-nll);
        }
        let index = scores
            .iter()
            .enumerate()
            .fold(0, |best, (i, &s)| if s > scores[best] { i } else { best });
        Ok(Choice {
            index,
            text: self.texts[index].clone(),
            log_likelihoods: scores,
        })
    }
}

/// As a decoder (`asr transcribe|eval --choices`): the best candidate, its
/// characters placed at the frames of its Viterbi alignment so word times
/// work as with the other decoders.
impl Decoder for Choices {
    fn decode(
        &self,
        log_probs: &[f32],
        steps: usize,
        classes: usize,
        blank: usize,
    ) -> Result<Vec<Emission>> {
        let choice = self.pick(log_probs, steps, classes, blank)?;
        if choice.log_likelihoods[choice.index] == f64::NEG_INFINITY {
            // Every candidate is too long for this (very short) audio.
            return Ok(Vec::new());
        }
        let target: Vec<usize> = self.labels[choice.index]
            .iter()
            .map(|&l| l as usize)
            .collect();
        aligned_emissions(&log_probs[..steps * classes], classes, &target, blank)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sori_ctc::annyeong::brute_force_loss;

    fn log_softmax(rows: &[[f32; 5]]) -> Vec<f32> {
        rows.iter()
            .flat_map(|r| {
                let z = r.iter().map(|v| v.exp()).sum::<f32>().ln();
                r.iter().map(move |v| v - z).collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn picks_the_likeliest_candidate_even_when_greedy_is_not_one() {
        // Labels: ' '=0, o=1, n=2, e=3, blank=4. Frame by frame the argmax
        // reads "o", blank, "e" ("oe", not a candidate), but "n" is a close
        // second in the middle frame, so "one" has the most probability.
        let vocab = Vocab::new("one".chars());
        let lp = log_softmax(&[
            [0.0, 4.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 2.9, 0.0, 3.0],
            [0.0, 0.0, 0.0, 4.0, 1.0],
        ]);
        let choices = Choices::parse("one,no,on", &vocab).unwrap();
        let got = choices.pick(&lp, 3, 5, 4).unwrap();
        assert_eq!(got.text, "one");
        for (labels, score) in choices.labels.iter().zip(&got.log_likelihoods) {
            // Brute force over all 5^3 frame labelings (sori-ctc's oracle).
            let lp64: Vec<f64> = lp.iter().map(|&v| v as f64).collect();
            let target: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
            let want = -brute_force_loss(&lp64, 5, &target, 4);
            assert!((score - want).abs() < 1e-5, "{score} vs {want}");
        }
        let greedy: Vec<usize> = lp
            .chunks(5)
            .map(|r| (0..5).fold(0, |b, i| if r[i] > r[b] { i } else { b }))
            .collect();
        assert_eq!(greedy, vec![1, 4, 3]);
        // As a decoder: the characters of "one" at its best-path frames.
        let em = choices.decode(&lp, 3, 5, 4).unwrap();
        let labels: Vec<usize> = em.iter().map(|e| e.label).collect();
        assert_eq!(labels, vec![1, 2, 3]);
        assert_eq!(em.iter().map(|e| e.step).collect::<Vec<_>>(), vec![0, 1, 2]);
    }

    #[test]
    fn a_candidate_too_long_for_the_audio_scores_minus_infinity() {
        let vocab = Vocab::new("one".chars());
        let lp = log_softmax(&[[0.0, 1.0, 0.0, 0.0, 1.0]]);
        let got = Choices::parse("o,one", &vocab)
            .unwrap()
            .pick(&lp, 1, 5, 4)
            .unwrap();
        assert_eq!(got.text, "o");
        assert_eq!(got.log_likelihoods[1], f64::NEG_INFINITY);
    }

    #[test]
    fn bad_lists_are_clear_errors() {
        let vocab = Vocab::new("one".chars());
        let msg = |s: &str| Choices::parse(s, &vocab).unwrap_err().to_string();
        assert!(msg("one,two").contains("\"two\" has characters the model cannot output: 't' 'w'"));
        assert!(msg("one,,no").contains("empty candidate"));
        assert!(msg("one,ONE").contains("at least two"));
    }
}
