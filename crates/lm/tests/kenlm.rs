//! KenLM as the oracle of the ARPA reader and the backoff rule: two models
//! that sori-lm trained (a character 4-gram with modified Kneser-Ney, a word
//! trigram with Witten-Bell) were written as ARPA and loaded by KenLM, which
//! recorded its per-token log10 probabilities of held-out sentences
//! (`scripts/make-lm-fixtures.py`, KenLM 0.3.0). sori-lm reading the same
//! files must give the same numbers (KenLM stores floats: 1e-5), and the
//! files must also be what sori-lm trains today from the same corpus.
use sori_lm::{train_text_files, NgramLm, Smoothing, Tokenization, TrainOptions, BOS, EOS};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn kenlm_scores_the_same() {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("kenlm-scores.json")).unwrap())
            .unwrap();
    let mut checked = 0;
    for m in json["models"].as_array().unwrap() {
        let lm = NgramLm::read_arpa(&fixture(m["arpa"].as_str().unwrap())).unwrap();
        assert_eq!(lm.order() as u64, m["order"].as_u64().unwrap());
        for s in m["sentences"].as_array().unwrap() {
            let tokens: Vec<&str> = s["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            let want: Vec<f64> = s["log10"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(want.len(), tokens.len() + 1);
            let mut history = vec![BOS];
            let ids: Vec<u32> = lm.vocab().encode(&tokens);
            for (i, &w) in ids.iter().chain(std::iter::once(&EOS)).enumerate() {
                let got = lm.log10_prob(&history, w);
                assert!(
                    (got - want[i]).abs() < 1e-5,
                    "{}: {:?} token {i}: {got} vs KenLM {}",
                    m["arpa"],
                    tokens,
                    want[i]
                );
                history.push(w);
                checked += 1;
            }
            let total: f64 = want.iter().sum();
            assert!((lm.sentence_log10_prob(&ids) - total).abs() < 1e-4);
        }
    }
    assert!(checked > 200, "{checked}");
}

#[test]
fn the_fixtures_are_what_training_gives() {
    for (name, order, tokens, smoothing) in [
        (
            "chars4-kn.arpa",
            4,
            Tokenization::Chars,
            Smoothing::KneserNey,
        ),
        (
            "words3-wb.arpa",
            3,
            Tokenization::Words,
            Smoothing::WittenBell,
        ),
    ] {
        let opts = TrainOptions {
            order,
            smoothing,
            discounts: None,
            prune: Vec::new(),
        };
        let trained = train_text_files(&[&fixture("corpus.txt")], tokens, &opts).unwrap();
        let stored = NgramLm::read_arpa(&fixture(name)).unwrap();
        assert_eq!(trained.ngram_counts(), stored.ngram_counts());
        for n in 1..=order {
            for (g, e) in trained.ngrams(n) {
                let toks: Vec<&str> = g
                    .iter()
                    .map(|&i| trained.vocab().token(i).unwrap())
                    .collect();
                let g2 = stored.vocab().encode(&toks);
                let s = stored.entry(&g2).unwrap();
                assert!(
                    (s.log10_prob - e.log10_prob).abs() < 1e-12,
                    "{name} {toks:?}"
                );
                assert!(
                    (s.log10_backoff - e.log10_backoff).abs() < 1e-12,
                    "{name} {toks:?}"
                );
            }
        }
    }
}
