//! Corpus chrF as sacreBLEU computes it (`nc:6|nw:0|space:no|case:mixed`,
//! beta 2, no epsilon smoothing).
//!
//! chrF compares character n-grams, so it needs no tokeniser and gives
//! partial credit for morphology; that makes it the more telling number for
//! Korean, where BLEU's word n-grams over agglutinated words are sparse.
//! Whitespace is removed before counting; counts are summed over the corpus
//! for every order and the F-score is taken from the average precision and
//! recall over the orders that occur (sacreBLEU's "effective order").

use std::collections::HashMap;

use crate::bleu::{is_py_space, MetricError};

/// chrF statistics per order: hypothesis n-grams, reference n-grams, matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChrfStats {
    /// `[hyp, ref, match]` for each character order 1..=char_order.
    pub orders: Vec<[usize; 3]>,
}

/// The chrF metric with its options (defaults are sacreBLEU's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chrf {
    /// Highest character n-gram order.
    pub char_order: usize,
    /// Weight of recall relative to precision.
    pub beta: f64,
    /// Lowercase both sides first.
    pub lowercase: bool,
}

impl Default for Chrf {
    fn default() -> Self {
        Chrf {
            char_order: 6,
            beta: 2.0,
            lowercase: false,
        }
    }
}

fn char_ngrams(chars: &[char], n: usize) -> HashMap<&[char], usize> {
    let mut counts = HashMap::new();
    if n == 0 {
        return counts;
    }
    for w in chars.windows(n) {
        *counts.entry(w).or_insert(0) += 1;
    }
    counts
}

impl Chrf {
    fn chars(&self, s: &str) -> Vec<char> {
        let s = if self.lowercase {
            s.to_lowercase()
        } else {
            s.to_string()
        };
        s.chars().filter(|&c| !is_py_space(c)).collect()
    }

    /// Statistics of one hypothesis against one reference.
    pub fn segment_stats(&self, hypothesis: &str, reference: &str) -> ChrfStats {
        let hyp = self.chars(hypothesis);
        let reference = self.chars(reference);
        let orders = (1..=self.char_order)
            .map(|n| {
                let h = char_ngrams(&hyp, n);
                let r = char_ngrams(&reference, n);
                let mut hyp_count = 0;
                let mut matches = 0;
                for (ng, &c) in &h {
                    hyp_count += c;
                    if let Some(&rc) = r.get(ng) {
                        matches += c.min(rc);
                    }
                }
                let ref_count: usize = r.values().sum();
                // sacreBLEU counts no hypothesis n-grams where the reference has none.
                [if r.is_empty() { 0 } else { hyp_count }, ref_count, matches]
            })
            .collect();
        ChrfStats { orders }
    }

    /// chrF in 0..=100 from (summed) statistics.
    pub fn score_from_stats(&self, stats: &ChrfStats) -> f64 {
        let factor = self.beta * self.beta;
        let (mut avg_prec, mut avg_rec, mut effective) = (0.0, 0.0, 0usize);
        for &[n_hyp, n_ref, n_match] in &stats.orders {
            if n_hyp > 0 && n_ref > 0 {
                avg_prec += n_match as f64 / n_hyp as f64;
                avg_rec += n_match as f64 / n_ref as f64;
                effective += 1;
            }
        }
        if effective == 0 {
            return 0.0;
        }
        avg_prec /= effective as f64;
        avg_rec /= effective as f64;
        if avg_prec + avg_rec == 0.0 {
            return 0.0;
        }
        100.0 * (1.0 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec)
    }

    /// Corpus chrF of line-aligned hypotheses and references.
    pub fn corpus_score<H: AsRef<str>, R: AsRef<str>>(
        &self,
        hypotheses: &[H],
        references: &[R],
    ) -> Result<f64, MetricError> {
        if hypotheses.len() != references.len() {
            return Err(MetricError::LengthMismatch {
                hypotheses: hypotheses.len(),
                references: references.len(),
            });
        }
        let mut total = ChrfStats {
            orders: vec![[0; 3]; self.char_order],
        };
        for (h, r) in hypotheses.iter().zip(references) {
            let s = self.segment_stats(h.as_ref(), r.as_ref());
            for (t, o) in total.orders.iter_mut().zip(s.orders) {
                for k in 0..3 {
                    t[k] += o[k];
                }
            }
        }
        Ok(self.score_from_stats(&total))
    }

    /// chrF of a single segment.
    pub fn sentence_score(&self, hypothesis: &str, reference: &str) -> f64 {
        self.score_from_stats(&self.segment_stats(hypothesis, reference))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_text_scores_100_and_disjoint_scores_0() {
        let c = Chrf::default();
        assert!((c.sentence_score("Ein Mann", "Ein Mann") - 100.0).abs() < 1e-9);
        assert_eq!(c.sentence_score("xyz", "abc"), 0.0);
    }
}
