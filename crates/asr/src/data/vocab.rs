//! The character vocabulary of a model: label `i` is `labels[i]` and the CTC
//! blank is the last index (`len()`), the layout of the lecture's Korean toy
//! (`{<space>:0, 안:1, 녕:2, 하:3, 세:4, 요:5, <blank>:6}`). Space is always
//! label 0 so that word boundaries exist in every model; the other labels
//! follow in order of first appearance in the training transcripts.
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What to do with transcript characters outside the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OovPolicy {
    /// Refuse the transcript (the default: silent changes hide bad data).
    #[default]
    Error,
    /// Remove the characters.
    Drop,
    /// Replace them by a space.
    MapToSpace,
}

/// Characters a model can output, plus the blank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocab {
    labels: Vec<char>,
}

/// Lower-cases and collapses runs of white space to one space, trimmed.
pub fn normalize(text: &str) -> String {
    text.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Vocab {
    /// A vocabulary with exactly these labels (space is added first if absent).
    pub fn new(labels: impl IntoIterator<Item = char>) -> Self {
        let mut v = vec![' '];
        for c in labels {
            if !v.contains(&c) {
                v.push(c);
            }
        }
        Vocab { labels: v }
    }

    /// Space, then every other character of the (normalised) texts in order
    /// of first appearance.
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        Vocab::new(
            texts
                .into_iter()
                .flat_map(|t| normalize(t).chars().collect::<Vec<_>>()),
        )
    }

    /// Number of labels without the blank.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: space is always a label.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The blank's index (the last class).
    pub fn blank(&self) -> usize {
        self.labels.len()
    }

    /// Output classes: labels plus the blank.
    pub fn classes(&self) -> usize {
        self.labels.len() + 1
    }

    /// The labels in index order.
    pub fn labels(&self) -> &[char] {
        &self.labels
    }

    /// Index of a character.
    pub fn index(&self, c: char) -> Option<usize> {
        self.labels.iter().position(|&l| l == c)
    }

    /// Characters of `text` (normalised) that are not labels, sorted.
    pub fn unknown_chars(&self, text: &str) -> BTreeSet<char> {
        normalize(text)
            .chars()
            .filter(|c| self.index(*c).is_none())
            .collect()
    }

    /// Label ids of a transcript, normalised first; `Err` lists the unknown
    /// characters under [`OovPolicy::Error`].
    pub fn encode(&self, text: &str, policy: OovPolicy) -> Result<Vec<i64>, BTreeSet<char>> {
        let unknown = self.unknown_chars(text);
        if !unknown.is_empty() && policy == OovPolicy::Error {
            return Err(unknown);
        }
        let mapped: String = normalize(text)
            .chars()
            .filter_map(|c| match self.index(c) {
                Some(_) => Some(c),
                None if policy == OovPolicy::MapToSpace => Some(' '),
                None => None,
            })
            .collect();
        Ok(normalize(&mapped)
            .chars()
            .map(|c| self.index(c).unwrap() as i64)
            .collect())
    }

    /// Text of label ids (blanks and unknown ids are skipped).
    pub fn decode(&self, ids: &[usize]) -> String {
        ids.iter().filter_map(|&i| self.labels.get(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_toy_layout() {
        let v = Vocab::from_texts(["안녕하세요"]);
        let expected = [' ', '안', '녕', '하', '세', '요'];
        assert_eq!(v.labels(), expected);
        assert_eq!(v.blank(), 6);
        assert_eq!(
            v.encode("안녕하세요", OovPolicy::Error).unwrap(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(v.decode(&[1, 2, 3, 4, 5, 6]), "안녕하세요");
    }

    #[test]
    fn out_of_vocabulary_policies() {
        let v = Vocab::from_texts(["ab c"]);
        let err = v.encode("A  bx  cy", OovPolicy::Error).unwrap_err();
        assert_eq!(err.into_iter().collect::<String>(), "xy");
        let ids = v.encode("A  bx  cy", OovPolicy::Drop).unwrap();
        assert_eq!(
            v.decode(&ids.iter().map(|&i| i as usize).collect::<Vec<_>>()),
            "a b c"
        );
        let ids = v.encode("axb", OovPolicy::MapToSpace).unwrap();
        assert_eq!(
            v.decode(&ids.iter().map(|&i| i as usize).collect::<Vec<_>>()),
            "a b"
        );
    }
}
