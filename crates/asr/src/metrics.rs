//! Character and word error rates, and the aligned view of an utterance's
//! errors that `asr eval` prints for the worst utterances.
//!
//! Levenshtein distance with a backtrace: the rates only need the distance,
//! but a reader of an evaluation wants to see *where* the errors are.
//! (The workspace plans CER/WER in `sori-text`; when it lands, the counts
//! here can defer to it, the alignment view stays.)

/// Sum of edits and of reference lengths over a corpus.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ErrorCounts {
    pub edits: usize,
    pub reference: usize,
}

impl ErrorCounts {
    /// `edits / reference` (0 for an empty reference with no edits).
    pub fn rate(&self) -> f64 {
        if self.reference == 0 {
            if self.edits == 0 {
                0.0
            } else {
                1.0
            }
        } else {
            self.edits as f64 / self.reference as f64
        }
    }

    pub fn add(&mut self, other: ErrorCounts) {
        self.edits += other.edits;
        self.reference += other.reference;
    }
}

/// One column of an alignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit<T> {
    Match(T),
    Substitute(T, T),
    Insert(T),
    Delete(T),
}

/// Minimum-edit alignment of `reference` to `hypothesis`.
pub fn align<T: PartialEq + Clone>(reference: &[T], hypothesis: &[T]) -> Vec<Edit<T>> {
    let (n, m) = (reference.len(), hypothesis.len());
    let mut d = vec![0usize; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in 0..=n {
        d[at(i, 0)] = i;
    }
    for j in 0..=m {
        d[at(0, j)] = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[at(i - 1, j - 1)] + usize::from(reference[i - 1] != hypothesis[j - 1]);
            d[at(i, j)] = sub.min(d[at(i - 1, j)] + 1).min(d[at(i, j - 1)] + 1);
        }
    }
    let (mut i, mut j) = (n, m);
    let mut out = Vec::with_capacity(n.max(m));
    while i > 0 || j > 0 {
        if i > 0 && j > 0 {
            let same = reference[i - 1] == hypothesis[j - 1];
            if d[at(i, j)] == d[at(i - 1, j - 1)] + usize::from(!same) {
                out.push(if same {
                    Edit::Match(reference[i - 1].clone())
                } else {
                    Edit::Substitute(reference[i - 1].clone(), hypothesis[j - 1].clone())
                });
                i -= 1;
                j -= 1;
                continue;
            }
        }
        if i > 0 && d[at(i, j)] == d[at(i - 1, j)] + 1 {
            out.push(Edit::Delete(reference[i - 1].clone()));
            i -= 1;
        } else {
            out.push(Edit::Insert(hypothesis[j - 1].clone()));
            j -= 1;
        }
    }
    out.reverse();
    out
}

/// Edits of an alignment.
pub fn count_edits<T>(alignment: &[Edit<T>]) -> usize {
    alignment
        .iter()
        .filter(|e| !matches!(e, Edit::Match(_)))
        .count()
}

/// Character errors of one utterance.
pub fn char_errors(reference: &str, hypothesis: &str) -> ErrorCounts {
    let r: Vec<char> = reference.chars().collect();
    let h: Vec<char> = hypothesis.chars().collect();
    ErrorCounts {
        edits: count_edits(&align(&r, &h)),
        reference: r.len(),
    }
}

/// Word errors of one utterance (white-space tokens).
pub fn word_errors(reference: &str, hypothesis: &str) -> ErrorCounts {
    let r: Vec<&str> = reference.split_whitespace().collect();
    let h: Vec<&str> = hypothesis.split_whitespace().collect();
    ErrorCounts {
        edits: count_edits(&align(&r, &h)),
        reference: r.len(),
    }
}

/// Two lines showing a character alignment: reference over hypothesis,
/// `*` for a missing character (insertion or deletion), mismatches upper-cased
/// where that is possible.
pub fn alignment_lines(reference: &str, hypothesis: &str) -> (String, String) {
    let r: Vec<char> = reference.chars().collect();
    let h: Vec<char> = hypothesis.chars().collect();
    let (mut top, mut bottom) = (String::new(), String::new());
    for e in align(&r, &h) {
        match e {
            Edit::Match(c) => {
                top.push(c);
                bottom.push(c);
            }
            Edit::Substitute(a, b) => {
                top.extend(a.to_uppercase());
                bottom.extend(b.to_uppercase());
            }
            Edit::Insert(b) => {
                top.push('*');
                bottom.extend(b.to_uppercase());
            }
            Edit::Delete(a) => {
                top.extend(a.to_uppercase());
                bottom.push('*');
            }
        }
    }
    (top, bottom)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force Levenshtein by recursion over all edit choices.
    fn brute(a: &[u8], b: &[u8]) -> usize {
        match (a.split_first(), b.split_first()) {
            (None, _) => b.len(),
            (_, None) => a.len(),
            (Some((x, ra)), Some((y, rb))) => {
                let s = brute(ra, rb) + usize::from(x != y);
                s.min(brute(ra, b) + 1).min(brute(a, rb) + 1)
            }
        }
    }

    #[test]
    fn distance_matches_brute_force() {
        let mut rng = crate::rng::Rng::new(9);
        for _ in 0..300 {
            let a: Vec<u8> = (0..rng.range(0, 7))
                .map(|_| b"abc"[rng.range(0, 2)])
                .collect();
            let b: Vec<u8> = (0..rng.range(0, 7))
                .map(|_| b"abc"[rng.range(0, 2)])
                .collect();
            let al = align(&a, &b);
            assert_eq!(count_edits(&al), brute(&a, &b), "{a:?} {b:?}");
            // The alignment reproduces both strings.
            let ra: Vec<u8> = al
                .iter()
                .filter_map(|e| match e {
                    Edit::Match(x) | Edit::Substitute(x, _) | Edit::Delete(x) => Some(*x),
                    Edit::Insert(_) => None,
                })
                .collect();
            let rb: Vec<u8> = al
                .iter()
                .filter_map(|e| match e {
                    Edit::Match(x) | Edit::Substitute(_, x) | Edit::Insert(x) => Some(*x),
                    Edit::Delete(_) => None,
                })
                .collect();
            assert_eq!((ra, rb), (a, b));
        }
    }

    #[test]
    fn rates_and_view() {
        assert_eq!(
            char_errors("kitten", "sitting"),
            ErrorCounts {
                edits: 3,
                reference: 6
            }
        );
        assert_eq!(
            word_errors("the cat sat", "the bat sat down"),
            ErrorCounts {
                edits: 2,
                reference: 3
            }
        );
        assert_eq!(
            ErrorCounts {
                edits: 0,
                reference: 0
            }
            .rate(),
            0.0
        );
        let (t, b) = alignment_lines("cat", "cut");
        assert_eq!((t.as_str(), b.as_str()), ("cAt", "cUt"));
        let (t, b) = alignment_lines("cat", "ca");
        assert_eq!((t.as_str(), b.as_str()), ("caT", "ca*"));
    }
}
