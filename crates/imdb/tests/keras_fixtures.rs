//! sori-imdb's tokeniser against the real Keras preprocessing, recorded in
//! tests/fixtures/keras.json by scripts/make-keras-fixtures.py
//! (keras-preprocessing 1.1.2, the standalone copy of
//! `keras.preprocessing.text.Tokenizer` and
//! `keras.preprocessing.sequence.pad_sequences`; see the script for how to
//! regenerate it).
//!
//! Where sori-imdb differs from Keras by design (src/tokenize.rs), the test
//! maps explicitly and does not compare loosely:
//!
//! * Ids follow `keras.datasets.imdb.load_data(index_from=3)`, not the
//!   `Tokenizer`'s: 0 padding, 1 start of review, 2 out of vocabulary,
//!   3 unused, the word of Keras index `i` gets `i + 3`; every encoded text
//!   starts with 1. So a Keras index is sori's id minus 3, and the leading 1
//!   is dropped before comparing.
//! * sori-imdb keeps out-of-vocabulary words as id 2, where a `Tokenizer`
//!   without `oov_token` drops them: against that fixture the 2s are
//!   removed. Against a `Tokenizer(oov_token=...)` (which takes index 1 and
//!   shifts every word up by one) sori's 2 maps to that index and a word id
//!   `j` to `j - 2`.
//! * `num_words` counts the reserved ids: Keras keeps indices below its
//!   `num_words`, so `Tokenizer(num_words=n)` keeps the same words as
//!   sori's `num_words = n + 3` (`n + 2` with an `oov_token`).
//! * `<br />` (and `<br/>`) is removed before the filters (IMDB's HTML line
//!   breaks), where Keras leaves a word "br".
//!
//! * White space other than the space, tab and newline (`\r`, form feed,
//!   vertical tab, no-break and em spaces): Keras splits on `" "` only, so
//!   such a character stays inside a word; sori-imdb splits on every
//!   Unicode white space, on purpose (src/tokenize.rs). The test checks
//!   that sori's words are exactly Keras' words cut further at those
//!   characters.
use serde::Deserialize;
use sori_imdb::tokenize::{
    pad_sequence, pad_sequences, words, Side, Vocabulary, INDEX_FROM, OOV, START,
};

#[derive(Deserialize)]
struct Fixture {
    texts: Vec<String>,
    words: Vec<Vec<String>>,
    word_index: Vec<(String, i64)>,
    sequences: Vec<Sequences>,
    oov_sequences: Vec<OovSequences>,
    padded: Vec<Padded>,
    padded_defaults: Vec<PaddedDefault>,
    whitespace: Vec<Words>,
    br: Vec<BrWords>,
}

#[derive(Deserialize)]
struct Sequences {
    num_words: Option<i64>,
    sequences: Vec<Vec<i64>>,
}

#[derive(Deserialize)]
struct OovSequences {
    num_words: Option<i64>,
    oov_index: i64,
    sequences: Vec<Vec<i64>>,
}

#[derive(Deserialize)]
struct Padded {
    maxlen: usize,
    padding: String,
    truncating: String,
    padded: Vec<Vec<i64>>,
}

#[derive(Deserialize)]
struct PaddedDefault {
    maxlen: usize,
    padded: Vec<Vec<i64>>,
}

#[derive(Deserialize)]
struct Words {
    text: String,
    words: Vec<String>,
}

#[derive(Deserialize)]
struct BrWords {
    text: String,
    words: Vec<String>,
    words_br_removed: Vec<String>,
}

fn fixture() -> Fixture {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras.json");
    let text = std::fs::read_to_string(path).expect("keras.json (scripts/make-keras-fixtures.py)");
    serde_json::from_str(&text).expect("keras.json parses")
}

fn side(s: &str) -> Side {
    match s {
        "pre" => Side::Pre,
        "post" => Side::Post,
        other => panic!("unknown side {other:?}"),
    }
}

/// A num_words large enough to keep every word of the fixture.
fn everything(f: &Fixture) -> i64 {
    f.word_index.len() as i64 + INDEX_FROM + 1
}

fn fit(f: &Fixture, num_words: i64) -> Vocabulary {
    Vocabulary::fit(f.texts.iter().map(String::as_str), num_words).unwrap()
}

#[test]
fn words_match_text_to_word_sequence() {
    let f = fixture();
    assert_eq!(f.texts.len(), f.words.len());
    for (text, want) in f.texts.iter().zip(&f.words) {
        assert_eq!(&words(text), want, "text {text:?}");
    }
}

#[test]
fn ranks_match_the_word_index() {
    let f = fixture();
    let v = fit(&f, everything(&f));
    let keras: Vec<&str> = f.word_index.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(v.words, keras, "words by rank");
    for (w, i) in &f.word_index {
        // Keras index i (1 = most frequent) is sori's id i + 3.
        assert_eq!(v.id(w), i + INDEX_FROM, "{w:?}");
    }
}

#[test]
fn sequences_match_texts_to_sequences() {
    let f = fixture();
    assert!(f.sequences.len() >= 3);
    for case in &f.sequences {
        let num_words = case.num_words.map_or(everything(&f), |n| n + INDEX_FROM);
        let v = fit(&f, num_words);
        for (text, want) in f.texts.iter().zip(&case.sequences) {
            let ids = v.encode(text);
            assert_eq!(ids[0], START, "{text:?}");
            // Keras without an oov_token drops unknown words.
            let got: Vec<i64> = ids[1..]
                .iter()
                .filter(|&&id| id != OOV)
                .map(|&id| id - INDEX_FROM)
                .collect();
            assert_eq!(&got, want, "num_words {:?}, text {text:?}", case.num_words);
        }
    }
}

#[test]
fn out_of_vocabulary_ids_match_an_oov_token() {
    let f = fixture();
    assert!(!f.oov_sequences.is_empty());
    for case in &f.oov_sequences {
        // The oov_token takes index 1 and pushes each word up by one.
        let num_words = case
            .num_words
            .map_or(everything(&f), |n| n + INDEX_FROM - 1);
        let v = fit(&f, num_words);
        for (text, want) in f.texts.iter().zip(&case.sequences) {
            let ids = v.encode(text);
            assert_eq!(ids[0], START, "{text:?}");
            let got: Vec<i64> = ids[1..]
                .iter()
                .map(|&id| {
                    if id == OOV {
                        case.oov_index
                    } else {
                        id - INDEX_FROM + 1
                    }
                })
                .collect();
            assert_eq!(&got, want, "num_words {:?}, text {text:?}", case.num_words);
        }
    }
}

#[test]
fn pad_sequence_matches_pad_sequences() {
    let f = fixture();
    // Keras' own sequences (num_words=None), padded by both.
    let seqs = &f
        .sequences
        .iter()
        .find(|c| c.num_words.is_none())
        .unwrap()
        .sequences;
    assert!(seqs.iter().any(|s| s.len() > 7) && seqs.iter().any(|s| s.is_empty()));
    assert_eq!(f.padded.len(), 8);
    for case in &f.padded {
        let (p, t) = (side(&case.padding), side(&case.truncating));
        for (s, want) in seqs.iter().zip(&case.padded) {
            assert_eq!(
                &pad_sequence(s, case.maxlen, p, t),
                want,
                "maxlen {} padding {} truncating {}, sequence {s:?}",
                case.maxlen,
                case.padding,
                case.truncating
            );
        }
    }
    for case in &f.padded_defaults {
        let want: Vec<i64> = case.padded.iter().flatten().copied().collect();
        assert_eq!(
            pad_sequences(seqs, case.maxlen),
            want,
            "maxlen {}",
            case.maxlen
        );
    }
}

#[test]
fn html_line_breaks_are_removed_as_documented() {
    let f = fixture();
    for case in &f.br {
        // Keras keeps "br"; sori-imdb gives what Keras gives once the tags
        // are replaced by a space.
        assert!(case.words.iter().any(|w| w == "br"));
        assert_eq!(words(&case.text), case.words_br_removed, "{:?}", case.text);
    }
}

#[test]
fn other_white_space_only_cuts_keras_words_further() {
    let f = fixture();
    let mut differs = 0;
    for case in &f.whitespace {
        let keras_cut: Vec<String> = case
            .words
            .iter()
            .flat_map(|w| w.split_whitespace().map(str::to_string))
            .collect();
        assert_eq!(words(&case.text), keras_cut, "{:?}", case.text);
        differs += usize::from(keras_cut != case.words);
    }
    assert!(
        differs > 0,
        "the fixture must hold a case where Keras keeps such a character"
    );
}
