//! The aligned view of an utterance's errors that `asr eval` prints for the
//! worst utterances. Counts and rates (CER, WER) come from `sori_text::edit`,
//! re-exported here so the rest of the crate has one place to import them.
use sori_text::edit::{align, EditOp};
pub use sori_text::edit::{char_errors, word_errors, ErrorCounts};

/// Two lines showing a character alignment: reference over hypothesis,
/// `*` for a missing character (insertion or deletion), mismatches upper-cased
/// where that is possible.
pub fn alignment_lines(reference: &str, hypothesis: &str) -> (String, String) {
    let r: Vec<char> = reference.chars().collect();
    let h: Vec<char> = hypothesis.chars().collect();
    let (mut top, mut bottom) = (String::new(), String::new());
    for op in align(&r, &h).ops {
        match op {
            EditOp::Equal { r: i, .. } => {
                top.push(r[i]);
                bottom.push(r[i]);
            }
            EditOp::Substitute { r: i, h: j } => {
                top.extend(r[i].to_uppercase());
                bottom.extend(h[j].to_uppercase());
            }
            EditOp::Insert { h: j } => {
                top.push('*');
                bottom.extend(h[j].to_uppercase());
            }
            EditOp::Delete { r: i } => {
                top.extend(r[i].to_uppercase());
                bottom.push('*');
            }
        }
    }
    (top, bottom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_view() {
        assert_eq!(
            char_errors("kitten", "sitting"),
            ErrorCounts {
                edits: 3,
                reference_len: 6
            }
        );
        assert_eq!(
            word_errors("the cat sat", "the bat sat down"),
            ErrorCounts {
                edits: 2,
                reference_len: 3
            }
        );
        assert_eq!(
            ErrorCounts {
                edits: 0,
                reference_len: 0
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
