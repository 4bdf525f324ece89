//! Levenshtein distance with the edit operations that realise it, and the
//! error rates built on it: CER (over characters) and WER (over
//! whitespace-separated words), as speech recognition reports them.
//!
//! One dynamic programme over the (reference, hypothesis) grid; the
//! backtrace prefers a match/substitution, then a deletion, then an
//! insertion, so the alignment is deterministic.

/// One step of an alignment from a reference to a hypothesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditOp {
    /// `reference[r] == hypothesis[h]`.
    Equal { r: usize, h: usize },
    /// `reference[r]` replaced by `hypothesis[h]`.
    Substitute { r: usize, h: usize },
    /// `reference[r]` missing from the hypothesis.
    Delete { r: usize },
    /// `hypothesis[h]` not in the reference.
    Insert { h: usize },
}

/// A minimal alignment and its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    pub ops: Vec<EditOp>,
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
}

impl Alignment {
    /// The Levenshtein distance (S + D + I).
    pub fn distance(&self) -> usize {
        self.substitutions + self.deletions + self.insertions
    }
}

/// Levenshtein distance only (two rows of memory).
pub fn levenshtein<T: PartialEq>(reference: &[T], hypothesis: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=hypothesis.len()).collect();
    let mut cur = vec![0usize; hypothesis.len() + 1];
    for (i, r) in reference.iter().enumerate() {
        cur[0] = i + 1;
        for (j, h) in hypothesis.iter().enumerate() {
            let sub = prev[j] + usize::from(r != h);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[hypothesis.len()]
}

/// A minimal-cost alignment with its edit operations.
pub fn align<T: PartialEq>(reference: &[T], hypothesis: &[T]) -> Alignment {
    let (n, m) = (reference.len(), hypothesis.len());
    let w = m + 1;
    let mut d = vec![0usize; (n + 1) * w];
    for (j, cell) in d.iter_mut().take(w).enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        d[i * w] = i;
        for j in 1..=m {
            let sub = d[(i - 1) * w + j - 1] + usize::from(reference[i - 1] != hypothesis[j - 1]);
            d[i * w + j] = sub.min(d[(i - 1) * w + j] + 1).min(d[i * w + j - 1] + 1);
        }
    }
    let mut ops = Vec::with_capacity(n.max(m));
    let (mut i, mut j) = (n, m);
    let (mut s, mut del, mut ins) = (0, 0, 0);
    while i > 0 || j > 0 {
        let here = d[i * w + j];
        if i > 0 && j > 0 {
            let same = reference[i - 1] == hypothesis[j - 1];
            if d[(i - 1) * w + j - 1] + usize::from(!same) == here {
                i -= 1;
                j -= 1;
                if same {
                    ops.push(EditOp::Equal { r: i, h: j });
                } else {
                    s += 1;
                    ops.push(EditOp::Substitute { r: i, h: j });
                }
                continue;
            }
        }
        if i > 0 && d[(i - 1) * w + j] + 1 == here {
            i -= 1;
            del += 1;
            ops.push(EditOp::Delete { r: i });
        } else {
            j -= 1;
            ins += 1;
            ops.push(EditOp::Insert { h: j });
        }
    }
    ops.reverse();
    Alignment {
        ops,
        substitutions: s,
        deletions: del,
        insertions: ins,
    }
}

/// Edit counts against a reference length: accumulate over a corpus with
/// [`ErrorCounts::add`], then take [`ErrorCounts::rate`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    pub edits: usize,
    pub reference_len: usize,
}

impl ErrorCounts {
    pub fn add(&mut self, other: ErrorCounts) {
        self.edits += other.edits;
        self.reference_len += other.reference_len;
    }
    /// edits / reference length; 0 for an empty reference matched exactly,
    /// +inf for insertions against an empty reference.
    pub fn rate(&self) -> f64 {
        if self.reference_len == 0 {
            if self.edits == 0 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            self.edits as f64 / self.reference_len as f64
        }
    }
}

/// Character edits (Unicode scalar values, spaces included).
pub fn char_errors(reference: &str, hypothesis: &str) -> ErrorCounts {
    let r: Vec<char> = reference.chars().collect();
    let h: Vec<char> = hypothesis.chars().collect();
    ErrorCounts {
        edits: levenshtein(&r, &h),
        reference_len: r.len(),
    }
}

/// Word edits (split on whitespace).
pub fn word_errors(reference: &str, hypothesis: &str) -> ErrorCounts {
    let r: Vec<&str> = reference.split_whitespace().collect();
    let h: Vec<&str> = hypothesis.split_whitespace().collect();
    ErrorCounts {
        edits: levenshtein(&r, &h),
        reference_len: r.len(),
    }
}

/// Character error rate of one utterance.
pub fn cer(reference: &str, hypothesis: &str) -> f64 {
    char_errors(reference, hypothesis).rate()
}

/// Word error rate of one utterance.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    word_errors(reference, hypothesis).rate()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook recursive definition, exponential: the oracle.
    fn recursive(a: &[u8], b: &[u8]) -> usize {
        match (a.split_last(), b.split_last()) {
            (None, _) => b.len(),
            (_, None) => a.len(),
            (Some((x, ra)), Some((y, rb))) => {
                let sub = recursive(ra, rb) + usize::from(x != y);
                sub.min(recursive(ra, b) + 1).min(recursive(a, rb) + 1)
            }
        }
    }

    /// Applies the ops to the reference and checks they produce the
    /// hypothesis, and that the counts add up.
    fn replay(reference: &[u8], hypothesis: &[u8], al: &Alignment) {
        let mut out = Vec::new();
        let (mut r_next, mut h_next) = (0, 0);
        for op in &al.ops {
            match *op {
                EditOp::Equal { r, h } => {
                    assert_eq!((r, h), (r_next, h_next));
                    assert_eq!(reference[r], hypothesis[h]);
                    out.push(reference[r]);
                    r_next += 1;
                    h_next += 1;
                }
                EditOp::Substitute { r, h } => {
                    assert_eq!((r, h), (r_next, h_next));
                    assert_ne!(reference[r], hypothesis[h]);
                    out.push(hypothesis[h]);
                    r_next += 1;
                    h_next += 1;
                }
                EditOp::Delete { r } => {
                    assert_eq!(r, r_next);
                    r_next += 1;
                }
                EditOp::Insert { h } => {
                    assert_eq!(h, h_next);
                    out.push(hypothesis[h]);
                    h_next += 1;
                }
            }
        }
        assert_eq!(out, hypothesis);
        assert_eq!(r_next, reference.len());
    }

    #[test]
    fn matches_the_recursive_definition_on_all_short_strings() {
        // Every pair of strings over {a, b, c} up to length 4 and 3.
        let words = |max: usize| {
            let mut all = vec![vec![]];
            let mut frontier = vec![vec![]];
            for _ in 0..max {
                let mut next = Vec::new();
                for w in &frontier {
                    for c in [b'a', b'b', b'c'] {
                        let mut v: Vec<u8> = w.clone();
                        v.push(c);
                        next.push(v);
                    }
                }
                all.extend(next.iter().cloned());
                frontier = next;
            }
            all
        };
        for a in words(4) {
            for b in words(3) {
                let want = recursive(&a, &b);
                assert_eq!(levenshtein(&a, &b), want, "{a:?} {b:?}");
                let al = align(&a, &b);
                assert_eq!(al.distance(), want, "{a:?} {b:?}");
                replay(&a, &b, &al);
            }
        }
    }

    #[test]
    fn error_rates() {
        assert_eq!(cer("안녕하세요", "안녕하세요"), 0.0);
        assert!((cer("안녕하세요", "안녕세요") - 0.2).abs() < 1e-12);
        assert!((wer("the cat sat", "the bat sat down") - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(wer("", ""), 0.0);
        assert_eq!(wer("", "extra"), f64::INFINITY);
        let mut total = char_errors("abc", "abd");
        total.add(char_errors("hello", "hello"));
        assert!((total.rate() - 1.0 / 8.0).abs() < 1e-12);
    }
}
