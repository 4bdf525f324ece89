//! Property tests of the vocabulary file (`vocab.json` of a model
//! directory), issue 10: whatever the file holds (random JSON of the right
//! shape with any `num_words` and word list, or arbitrary bytes), loading
//! the model either fails with one line naming `vocab.json`, or succeeds
//! and then classifies any text to a probability in [0, 1]; never a panic
//! (a word list longer than `num_words` allows once gave ids outside the
//! embedding). A fixed, small number of cases, so it runs in `make test`.
#[path = "../../train/tests/support/fuzz.rs"]
mod fuzz;
use proptest::prelude::*;
use sori_imdb::classifier::Classifier;
use sori_imdb::model::{Arch, ModelConfig};
use sori_imdb::tokenize::Vocabulary;
use std::path::Path;
use std::sync::OnceLock;
use tch::Device;

const NUM_WORDS: i64 = 30;

/// A saved untrained model with `num_words` 30 (built once).
fn base_model() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = ModelConfig::preset(Arch::Lstm);
        cfg.num_words = NUM_WORDS;
        cfg.maxlen = 12;
        cfg.embedding_dim = 4;
        cfg.hidden = 4;
        let vocab = Vocabulary::fit(["a good movie", "a bad film"], NUM_WORDS).unwrap();
        Classifier::new(&cfg, vocab, Device::Cpu)
            .unwrap()
            .save(dir.path())
            .unwrap();
        dir
    })
    .path()
}

/// A copy of the base model with `vocab` as its `vocab.json`.
fn with_vocab(vocab: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["config.json", "best.safetensors"] {
        std::fs::copy(base_model().join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(dir.path().join("vocab.json"), vocab).unwrap();
    dir
}

fn check(vocab: &[u8], text: &str) {
    let dir = with_vocab(vocab);
    match Classifier::load(dir.path(), Device::Cpu) {
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "{msg}");
            assert!(
                msg.contains("vocab.json") || msg.contains("num_words"),
                "{msg}"
            );
        }
        Ok(c) => match c.classify(&[text]) {
            Ok(p) => assert!((0.0..=1.0).contains(&p[0].probability)),
            // Texts without a single word are refused, not classified.
            Err(e) => assert!(e.to_string().contains("empty review"), "{e}"),
        },
    }
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}",
        Just("movie".to_string()),
        Just("good".to_string()),
        "\\PC{1,4}",
    ]
}

proptest! {
    // `make fuzz` raises the count with SORI_FUZZ_CASES.
    #![proptest_config(fuzz::config(48))]

    #[test]
    fn any_vocabulary_loads_or_fails_cleanly(
        num_words in prop_oneof![Just(NUM_WORDS), -3i64..80],
        words in prop::collection::vec(word(), 0..60),
        text in prop::collection::vec(word(), 0..12),
    ) {
        let json = serde_json::json!({ "num_words": num_words, "words": words });
        // The text uses the file's words, so that their ids are looked up.
        let mut t: Vec<String> = words.iter().rev().take(5).cloned().collect();
        t.extend(text);
        check(json.to_string().as_bytes(), &t.join(" "));
    }

    #[test]
    fn arbitrary_bytes_are_refused_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        check(&bytes, "a good movie");
    }
}

#[test]
fn too_many_words_is_named() {
    let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    let json = serde_json::json!({ "num_words": NUM_WORDS, "words": words });
    let dir = with_vocab(json.to_string().as_bytes());
    let msg = Classifier::load(dir.path(), Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("vocab.json") && msg.contains("40 words, but num_words 30 leaves room for 26"),
        "{msg}"
    );
}
