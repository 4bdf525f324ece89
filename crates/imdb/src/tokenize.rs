//! Keras-style text preprocessing, so the lecture's experiments mean the same
//! thing here: `Tokenizer(num_words, lower=True, filters=...)`, the index
//! layout of `keras.datasets.imdb.load_data(num_words, index_from=3)`, and
//! `pad_sequences(maxlen, padding="pre", truncating="pre")`.
//!
//! * Words: lower-case the text, turn `<br />` into a space, replace each of
//!   Keras' filter characters ``!"#$%&()*+,-./:;<=>?@[\]^_`{|}~`` and tab and
//!   newline by a space, split on any Unicode white space. The apostrophe is
//!   not a filter, so "don't" stays one word, as in Keras. One difference
//!   on purpose: Keras then splits on the space alone, so a `\r` (files
//!   with CRLF line ends), a form feed or a no-break space stays inside a
//!   Keras word ("carriage\rreturn"); here every white space separates
//!   words (tests/keras_fixtures.rs checks that this is the only
//!   difference).
//! * Ranks: words sorted by training-set frequency, most frequent first, ties
//!   in order of first appearance (Python's stable sort over Keras'
//!   insertion-ordered counts).
//! * Indices: 0 padding, 1 start of review, 2 out of vocabulary (3 unused),
//!   and the word of rank r (1-based) gets r + 3. Only ids below `num_words`
//!   are kept, others become 2, exactly like `load_data(num_words=...)`.
//!   Every sequence starts with 1.
use crate::error::{ImdbError, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

pub const PAD: i64 = 0;
pub const START: i64 = 1;
pub const OOV: i64 = 2;
/// Offset of the most frequent word's index (keras `index_from=3`).
pub const INDEX_FROM: i64 = 3;

/// Keras' default `Tokenizer` filters.
pub const KERAS_FILTERS: &str = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

/// Splits a review into lower-case words the way Keras does, with the HTML
/// line breaks of IMDB reviews removed first.
pub fn words(text: &str) -> Vec<String> {
    let lowered = text
        .to_lowercase()
        .replace("<br />", " ")
        .replace("<br/>", " ");
    let cleaned: String = lowered
        .chars()
        .map(|c| if KERAS_FILTERS.contains(c) { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().map(str::to_string).collect()
}

/// The word-to-index table learned from training texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Ids at or above this are out of vocabulary (the Embedding's rows).
    pub num_words: i64,
    /// Words by rank: `words[0]` is the most frequent and has id 4
    /// (`INDEX_FROM + 1`). Only the words that get an id below `num_words`
    /// are stored.
    pub words: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, i64>,
}

impl Vocabulary {
    /// Counts the words of `texts` and keeps the ones whose id falls below
    /// `num_words`.
    pub fn fit<'a>(texts: impl IntoIterator<Item = &'a str>, num_words: i64) -> Result<Self> {
        if num_words <= INDEX_FROM + 1 {
            return Err(ImdbError::Invalid(format!(
                "num_words must be above {} (ids 0-3 are reserved), got {num_words}",
                INDEX_FROM + 1
            )));
        }
        let mut counts: HashMap<String, (u64, usize)> = HashMap::new();
        let mut order = 0usize;
        for text in texts {
            for w in words(text) {
                let e = counts.entry(w).or_insert_with(|| {
                    order += 1;
                    (0, order)
                });
                e.0 += 1;
            }
        }
        let mut ranked: Vec<(String, (u64, usize))> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.1 .1.cmp(&b.1 .1)));
        let keep = (num_words - INDEX_FROM - 1).max(0) as usize;
        let words = ranked.into_iter().take(keep).map(|(w, _)| w).collect();
        Ok(Self::from_words(words, num_words))
    }

    /// Builds the table from words already ranked.
    pub fn from_words(words: Vec<String>, num_words: i64) -> Self {
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as i64 + INDEX_FROM + 1))
            .collect();
        Vocabulary {
            num_words,
            words,
            index,
        }
    }

    /// The id of one (already lower-cased, filtered) word; `OOV` for
    /// unknown words and for ids at or above `num_words`.
    pub fn id(&self, word: &str) -> i64 {
        self.index
            .get(word)
            .copied()
            .filter(|&id| id < self.num_words)
            .unwrap_or(OOV)
    }

    /// `[START, ids of the words...]`, unpadded.
    pub fn encode(&self, text: &str) -> Vec<i64> {
        let mut out = vec![START];
        out.extend(words(text).iter().map(|w| self.id(w)));
        out
    }

    /// The word of an id, or a marker for the reserved ids.
    pub fn word(&self, id: i64) -> &str {
        match id {
            PAD => "<pad>",
            START => "<start>",
            OOV | 3 => "<oov>",
            _ => self
                .words
                .get((id - INDEX_FROM - 1) as usize)
                .map(String::as_str)
                .unwrap_or("<oov>"),
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string(self).expect("vocabulary serialises");
        // Atomically, like the rest of the model directory.
        Ok(sori_train::atomic_write(path, json.as_bytes())?)
    }

    pub fn load(path: &Path) -> Result<Self> {
        // Bounded: a link to /dev/zero fails fast instead of filling memory.
        let text = sori_train::read_text_bounded(path, sori_train::MAX_VOCAB_BYTES)?;
        let v: Vocabulary = serde_json::from_str(&text).map_err(|e| ImdbError::BadData {
            path: path.to_path_buf(),
            message: format!("not a vocabulary file: {e}"),
        })?;
        // A hand-edited or corrupt file must not yield ids the embedding
        // does not have.
        let bad = |message: String| ImdbError::BadData {
            path: path.to_path_buf(),
            message,
        };
        if v.num_words <= INDEX_FROM + 1 {
            return Err(bad(format!(
                "num_words must be above {} (ids 0-3 are reserved), got {}",
                INDEX_FROM + 1,
                v.num_words
            )));
        }
        let room = (v.num_words - INDEX_FROM - 1) as usize;
        if v.words.len() > room {
            return Err(bad(format!(
                "{} words, but num_words {} leaves room for {room}",
                v.words.len(),
                v.num_words
            )));
        }
        Ok(Self::from_words(v.words, v.num_words))
    }
}

/// Where `pad_sequences` pads or truncates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    Pre,
    Post,
}

/// Keras `pad_sequences` for one sequence: cut to the last (`Pre`) or first
/// (`Post`) `maxlen` ids, then pad with 0 in front (`Pre`) or behind (`Post`).
pub fn pad_sequence(ids: &[i64], maxlen: usize, padding: Side, truncating: Side) -> Vec<i64> {
    let kept = if ids.len() > maxlen {
        match truncating {
            Side::Pre => &ids[ids.len() - maxlen..],
            Side::Post => &ids[..maxlen],
        }
    } else {
        ids
    };
    let pad = maxlen - kept.len();
    let mut out = Vec::with_capacity(maxlen);
    if padding == Side::Pre {
        out.resize(pad, PAD);
    }
    out.extend_from_slice(kept);
    if padding == Side::Post {
        out.resize(maxlen, PAD);
    }
    out
}

/// `pad_sequences(seqs, maxlen)` with Keras' defaults (pre, pre), flattened
/// row-major into `seqs.len() * maxlen` ids.
pub fn pad_sequences(seqs: &[Vec<i64>], maxlen: usize) -> Vec<i64> {
    let mut out = Vec::with_capacity(seqs.len() * maxlen);
    for s in seqs {
        out.extend(pad_sequence(s, maxlen, Side::Pre, Side::Pre));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_like_keras() {
        // Hand-checked against keras.preprocessing.text.text_to_word_sequence
        // plus the <br /> removal.
        assert_eq!(
            words("This movie was GREAT!<br /><br />I didn't expect... 10/10 (really)"),
            vec!["this", "movie", "was", "great", "i", "didn't", "expect", "10", "10", "really"]
        );
        assert_eq!(words("a-b_c\tD~e"), vec!["a", "b", "c", "d", "e"]);
        assert!(words("  ?!... ").is_empty());
    }

    #[test]
    fn ranks_ids_and_num_words() {
        let texts = ["b a b c", "a b d", "c e"];
        // counts: b 3, a 2, c 2, d 1, e 1; ties by first appearance (a before c, d before e)
        let v = Vocabulary::fit(texts, 100).unwrap();
        assert_eq!(v.words, vec!["b", "a", "c", "d", "e"]);
        assert_eq!(v.encode("B, a! zebra e"), vec![START, 4, 5, OOV, 8]);
        // num_words = 7 keeps ids 4, 5, 6 only (b, a, c).
        let v = Vocabulary::fit(texts, 7).unwrap();
        assert_eq!(v.words, vec!["b", "a", "c"]);
        assert_eq!(v.encode("c d"), vec![START, 6, OOV]);
        assert_eq!(v.word(6), "c");
        assert!(Vocabulary::fit(texts, 3).is_err());
    }

    #[test]
    fn pad_and_truncate_like_keras() {
        let s = [1, 2, 3, 4, 5];
        assert_eq!(pad_sequence(&s, 3, Side::Pre, Side::Pre), vec![3, 4, 5]);
        assert_eq!(pad_sequence(&s, 3, Side::Pre, Side::Post), vec![1, 2, 3]);
        assert_eq!(
            pad_sequence(&s[..2], 4, Side::Pre, Side::Pre),
            vec![0, 0, 1, 2]
        );
        assert_eq!(
            pad_sequence(&s[..2], 4, Side::Post, Side::Pre),
            vec![1, 2, 0, 0]
        );
        assert_eq!(
            pad_sequences(&[vec![7], vec![1, 2, 3]], 2),
            vec![0, 7, 2, 3]
        );
    }

    #[test]
    fn vocabulary_round_trips_through_json() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("vocab.json");
        let v = Vocabulary::fit(["good good bad"], 10).unwrap();
        v.save(&f).unwrap();
        let back = Vocabulary::load(&f).unwrap();
        assert_eq!(back, v);
        assert_eq!(back.id("bad"), 5);
    }
}
