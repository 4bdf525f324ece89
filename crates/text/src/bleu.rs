//! Corpus BLEU as sacreBLEU computes it, so that numbers printed by
//! `seq2seq eval` can be compared with published ones.
//!
//! BLEU scores depend on details that papers rarely state (tokenisation,
//! case, smoothing, how the brevity penalty is summed). sacreBLEU fixed one
//! choice and reports it in a signature; this module reproduces its defaults
//! exactly: `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp`:
//!
//! - the `13a` tokeniser (mteval-v13a.pl as sacreBLEU re-implements it),
//! - n-gram orders 1..=4, clipped counts summed over the whole corpus,
//! - the brevity penalty from the summed lengths,
//! - "exp" smoothing (NIST: a zero count at order n counts as 1/2^k),
//! - `log(0)` floored to -9999999999 as sacreBLEU's `my_log` does.
//!
//! [`Bleu::lowercased`] gives the lowercased form of the same metric, close to
//! the "lowercased, tokenised" BLEU that tutorials publish. The tests compare
//! against numbers written by the real sacreBLEU 2.6.0
//! (`scripts/make-bleu-fixtures.py`).

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

/// The highest n-gram order BLEU counts.
pub const MAX_NGRAM_ORDER: usize = 4;

/// Errors from the corpus metrics.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetricError {
    /// Hypotheses and references must be line-aligned.
    #[error("{hypotheses} hypotheses but {references} references; they must be line-aligned")]
    LengthMismatch {
        /// Number of hypothesis segments.
        hypotheses: usize,
        /// Number of reference segments.
        references: usize,
    },
}

/// Python's `str.isspace`, which `str.split()` and `str.rstrip()` use: Unicode
/// White_Space plus the four ASCII information separators (0x1C..=0x1F).
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.split()` with no argument.
pub(crate) fn py_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_py_space).filter(|w| !w.is_empty())
}

struct Rules13a {
    symbols: Regex,
    period_comma_after_non_digit: Regex,
    period_comma_before_non_digit: Regex,
    dash_after_digit: Regex,
}

fn rules_13a() -> &'static Rules13a {
    static RULES: OnceLock<Rules13a> = OnceLock::new();
    RULES.get_or_init(|| Rules13a {
        // ASCII symbols ranges {-~, [-`, space-&, (-+, :-@ and '/'.
        symbols: Regex::new(r"([\{-~\[-` -&\(-\+:-@/])").expect("valid regex"),
        period_comma_after_non_digit: Regex::new(r"([^0-9])([\.,])").expect("valid regex"),
        period_comma_before_non_digit: Regex::new(r"([\.,])([^0-9])").expect("valid regex"),
        dash_after_digit: Regex::new(r"([0-9])(-)").expect("valid regex"),
    })
}

/// sacreBLEU's `13a` tokenisation of one segment: tokens joined by single
/// spaces, no leading or trailing space.
pub fn tokenize_13a(line: &str) -> String {
    let mut line = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    let padded = format!(" {line} ");
    let rules = rules_13a();
    // Regex::replace_all has Python's re.sub semantics here: leftmost,
    // non-overlapping matches, scanning once from left to right.
    let s = rules.symbols.replace_all(&padded, " $1 ");
    let s = rules.period_comma_after_non_digit.replace_all(&s, "$1 $2 ");
    let s = rules
        .period_comma_before_non_digit
        .replace_all(&s, " $1 $2");
    let s = rules.dash_after_digit.replace_all(&s, "$1 $2 ");
    py_split(&s).collect::<Vec<_>>().join(" ")
}

/// How segments are tokenised before n-grams are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BleuTokenizer {
    /// sacreBLEU's default, `13a`.
    Thirteen13a,
    /// Split on whitespace only (for already tokenised text).
    None,
}

/// Sufficient statistics of BLEU: they add up over segments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BleuStats {
    /// Hypothesis length in tokens.
    pub hyp_len: usize,
    /// Reference length in tokens.
    pub ref_len: usize,
    /// Clipped matching n-grams for orders 1..=4.
    pub correct: [usize; MAX_NGRAM_ORDER],
    /// Hypothesis n-grams for orders 1..=4.
    pub total: [usize; MAX_NGRAM_ORDER],
}

impl std::ops::AddAssign for BleuStats {
    fn add_assign(&mut self, o: Self) {
        self.hyp_len += o.hyp_len;
        self.ref_len += o.ref_len;
        for n in 0..MAX_NGRAM_ORDER {
            self.correct[n] += o.correct[n];
            self.total[n] += o.total[n];
        }
    }
}

/// A BLEU score with the parts sacreBLEU prints.
#[derive(Debug, Clone, PartialEq)]
pub struct BleuScore {
    /// BLEU in 0..=100.
    pub score: f64,
    /// Smoothed n-gram precisions in percent.
    pub precisions: [f64; MAX_NGRAM_ORDER],
    /// Brevity penalty.
    pub bp: f64,
    /// The statistics the score came from.
    pub stats: BleuStats,
}

/// The BLEU metric with its options (defaults are sacreBLEU's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bleu {
    /// Lowercase both sides before tokenising.
    pub lowercase: bool,
    /// Tokeniser applied to both sides.
    pub tokenizer: BleuTokenizer,
    /// Average only over orders that have hypothesis n-grams (for sentence BLEU).
    pub effective_order: bool,
}

impl Default for Bleu {
    fn default() -> Self {
        Self::sacrebleu()
    }
}

fn count_ngrams<'a>(tokens: &'a [&'a str]) -> HashMap<&'a [&'a str], usize> {
    let mut counts = HashMap::new();
    for n in 1..=MAX_NGRAM_ORDER {
        for w in tokens.windows(n) {
            *counts.entry(w).or_insert(0) += 1;
        }
    }
    counts
}

/// sacreBLEU's `my_log`: log with log(0) floored to a very low number.
fn floored_log(x: f64) -> f64 {
    if x == 0.0 {
        -9_999_999_999.0
    } else {
        x.ln()
    }
}

impl Bleu {
    /// sacreBLEU's defaults: mixed case, 13a, exp smoothing.
    pub fn sacrebleu() -> Self {
        Bleu {
            lowercase: false,
            tokenizer: BleuTokenizer::Thirteen13a,
            effective_order: false,
        }
    }

    /// Lowercased 13a BLEU (sacreBLEU `-lc`).
    pub fn lowercased() -> Self {
        Bleu {
            lowercase: true,
            ..Self::sacrebleu()
        }
    }

    fn preprocess(&self, segment: &str) -> String {
        let trimmed = segment.trim_end_matches(is_py_space);
        let cased = if self.lowercase {
            trimmed.to_lowercase()
        } else {
            trimmed.to_string()
        };
        match self.tokenizer {
            BleuTokenizer::Thirteen13a => tokenize_13a(&cased),
            BleuTokenizer::None => cased,
        }
    }

    /// Statistics of one hypothesis against one reference.
    pub fn segment_stats(&self, hypothesis: &str, reference: &str) -> BleuStats {
        let hyp = self.preprocess(hypothesis);
        let reference = self.preprocess(reference);
        let hyp_tokens: Vec<&str> = py_split(&hyp).collect();
        let ref_tokens: Vec<&str> = py_split(&reference).collect();
        let ref_counts = count_ngrams(&ref_tokens);
        let mut stats = BleuStats {
            hyp_len: hyp_tokens.len(),
            ref_len: ref_tokens.len(),
            ..Default::default()
        };
        for (ngram, count) in count_ngrams(&hyp_tokens) {
            let n = ngram.len() - 1;
            stats.total[n] += count;
            if let Some(&r) = ref_counts.get(ngram) {
                stats.correct[n] += count.min(r);
            }
        }
        stats
    }

    /// The score from (summed) statistics, with exp smoothing.
    pub fn score_from_stats(&self, stats: &BleuStats) -> BleuScore {
        let bp = if stats.hyp_len < stats.ref_len {
            if stats.hyp_len > 0 {
                (1.0 - stats.ref_len as f64 / stats.hyp_len as f64).exp()
            } else {
                0.0
            }
        } else {
            1.0
        };
        let mut precisions = [0.0; MAX_NGRAM_ORDER];
        if stats.correct.iter().all(|&c| c == 0) {
            return BleuScore {
                score: 0.0,
                precisions,
                bp,
                stats: *stats,
            };
        }
        let mut smooth = 1.0;
        let mut eff_order = MAX_NGRAM_ORDER;
        for (n, (p, (&correct, &total))) in precisions
            .iter_mut()
            .zip(stats.correct.iter().zip(&stats.total))
            .enumerate()
        {
            if total == 0 {
                break;
            }
            if self.effective_order {
                eff_order = n + 1;
            }
            if correct == 0 {
                smooth *= 2.0;
                *p = 100.0 / (smooth * total as f64);
            } else {
                *p = 100.0 * correct as f64 / total as f64;
            }
        }
        let mean_log: f64 = precisions[..eff_order]
            .iter()
            .map(|&p| floored_log(p))
            .sum::<f64>()
            / eff_order as f64;
        BleuScore {
            score: bp * mean_log.exp(),
            precisions,
            bp,
            stats: *stats,
        }
    }

    /// Corpus BLEU of line-aligned hypotheses and references (one reference each).
    pub fn corpus_score<H: AsRef<str>, R: AsRef<str>>(
        &self,
        hypotheses: &[H],
        references: &[R],
    ) -> Result<BleuScore, MetricError> {
        if hypotheses.len() != references.len() {
            return Err(MetricError::LengthMismatch {
                hypotheses: hypotheses.len(),
                references: references.len(),
            });
        }
        let mut total = BleuStats::default();
        for (h, r) in hypotheses.iter().zip(references) {
            total += self.segment_stats(h.as_ref(), r.as_ref());
        }
        Ok(self.score_from_stats(&total))
    }

    /// BLEU of a single segment.
    pub fn sentence_score(&self, hypothesis: &str, reference: &str) -> BleuScore {
        self.score_from_stats(&self.segment_stats(hypothesis, reference))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_splits_punctuation_but_not_numbers() {
        assert_eq!(tokenize_13a("Hello, world."), "Hello , world .");
        assert_eq!(
            tokenize_13a("It costs 3.50 or 1,000."),
            "It costs 3.50 or 1,000 ."
        );
        assert_eq!(tokenize_13a("pages 10-20"), "pages 10 - 20");
        assert_eq!(tokenize_13a("a &amp; b"), "a & b");
    }

    #[test]
    fn identical_corpus_scores_100() {
        let s = Bleu::sacrebleu()
            .corpus_score(&["a man rides a bike ."], &["a man rides a bike ."])
            .unwrap();
        assert!((s.score - 100.0).abs() < 1e-9);
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        let e = Bleu::sacrebleu()
            .corpus_score(&["a", "b"], &["a"])
            .unwrap_err();
        assert_eq!(
            e,
            MetricError::LengthMismatch {
                hypotheses: 2,
                references: 1
            }
        );
    }
}
