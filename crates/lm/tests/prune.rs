//! Count pruning (`TrainOptions::prune`): what is dropped and kept, and the
//! recomputed back-off weights, checked by brute force: after pruning every
//! context that can be asked about still gives a distribution that sums to
//! one over the whole vocabulary (`</s>` and `<unk>` included), the kept
//! n-grams keep their unpruned probabilities exactly, and pruning nothing
//! gives the unpruned model back.
use sori_lm::{train, NgramLm, Smoothing, Tokenization, TrainOptions, BOS, EOS, UNK};

/// A small corpus with many singletons and some repeated phrases.
fn sentences() -> Vec<Vec<String>> {
    let mut lines = vec![
        "the cat sat on the mat".to_string(),
        "the cat sat on the hat".to_string(),
        "a dog sat on the mat".to_string(),
        "the dog ran to the cat".to_string(),
        "a cat ran to a dog".to_string(),
        "the cat sat".to_string(),
        "on the mat the cat sat".to_string(),
    ];
    // Deterministic filler: words drawn by a fixed linear congruence.
    let words = [
        "the", "a", "cat", "dog", "sat", "ran", "on", "to", "mat", "hat", "big", "red",
    ];
    let mut x = 12345u64;
    for _ in 0..40 {
        let mut s = Vec::new();
        for _ in 0..(3 + x % 5) {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push(words[(x >> 33) as usize % words.len()]);
        }
        lines.push(s.join(" "));
    }
    lines
        .iter()
        .map(|l| Tokenization::Words.tokens(l))
        .collect()
}

fn model(order: usize, smoothing: Smoothing, prune: &[u64]) -> NgramLm {
    let opts = TrainOptions {
        order,
        smoothing,
        discounts: None,
        prune: prune.to_vec(),
    };
    train(sentences(), &opts).unwrap()
}

/// Sum over every predictable token (all but `<s>`) of p(w | context).
fn total(lm: &NgramLm, context: &[u32]) -> f64 {
    (0..lm.vocab().len() as u32)
        .filter(|&w| w != BOS)
        .map(|w| 10f64.powf(lm.log10_prob(context, w)))
        .sum()
}

/// Every context of length < order that occurs in the data (and some that
/// do not), as the model would be asked.
fn contexts(lm: &NgramLm) -> Vec<Vec<u32>> {
    let mut out = vec![vec![], vec![BOS], vec![UNK]];
    for n in 1..lm.order() {
        for (g, _) in lm.ngrams(n) {
            out.push(g.clone());
        }
    }
    // Unseen pairs too.
    let v = lm.vocab().len() as u32;
    for a in 0..v.min(6) {
        for b in 0..v.min(6) {
            out.push(vec![a, b]);
        }
    }
    out
}

#[test]
fn pruned_models_still_sum_to_one_in_every_context() {
    for smoothing in [Smoothing::KneserNey, Smoothing::WittenBell] {
        for (order, prune) in [
            (3, vec![0, 2, 2]),
            (3, vec![0, 1, 3]),
            (4, vec![0, 2, 2, 2]),
        ] {
            let lm = model(order, smoothing, &prune);
            let full = model(order, smoothing, &[]);
            let dropped: usize = full
                .ngram_counts()
                .iter()
                .zip(lm.ngram_counts())
                .map(|(a, b)| a - b)
                .sum();
            assert!(dropped > 0, "{smoothing:?} {prune:?}: nothing was pruned");
            for ctx in contexts(&lm) {
                let t = total(&lm, &ctx);
                assert!(
                    (t - 1.0).abs() < 1e-9,
                    "{smoothing:?} order {order} prune {prune:?} context {ctx:?}: sums to {t}"
                );
            }
        }
    }
}

#[test]
fn kept_ngrams_keep_their_probability_and_prefixes_stay() {
    let full = model(3, Smoothing::KneserNey, &[]);
    let lm = model(3, Smoothing::KneserNey, &[0, 2, 2]);
    assert_eq!(
        lm.ngram_counts()[0],
        full.ngram_counts()[0],
        "unigrams never pruned"
    );
    for n in 2..=3 {
        for (g, e) in lm.ngrams(n) {
            let f = full.entry(&g).expect("kept n-gram was in the full model");
            assert_eq!(f.log10_prob, e.log10_prob, "{g:?}");
            // ARPA readers look up the context and the suffix of an n-gram.
            assert!(lm.entry(&g[..n - 1]).is_some(), "context of {g:?}");
            assert!(lm.entry(&g[1..]).is_some(), "suffix of {g:?}");
        }
    }
    // "the cat" is frequent and stays; "cat sat on" (several times) stays.
    let v = lm.vocab();
    let id = |t: &str| v.get(t).unwrap();
    assert!(lm.entry(&[id("the"), id("cat")]).is_some());
    assert!(lm.entry(&[id("cat"), id("sat"), id("on")]).is_some());
    // Some singleton trigram is gone.
    let gone = full
        .ngrams(3)
        .into_iter()
        .filter(|(g, _)| lm.entry(g).is_none())
        .count();
    assert!(gone > 0);
}

#[test]
fn pruning_nothing_gives_the_same_model() {
    let full = model(3, Smoothing::KneserNey, &[]);
    // Threshold 1 drops nothing, but runs the back-off recomputation only
    // when some threshold is above 1; force it through order 4's slot.
    let same = model(3, Smoothing::KneserNey, &[0, 1, 1, 2]);
    assert_eq!(same.ngram_counts(), full.ngram_counts());
    for n in 1..=3 {
        for (g, e) in full.ngrams(n) {
            let s = same.entry(&g).unwrap();
            assert_eq!(s.log10_prob, e.log10_prob);
            assert!(
                (s.log10_backoff - e.log10_backoff).abs() < 1e-9,
                "{g:?}: back-off {} vs {}",
                s.log10_backoff,
                e.log10_backoff
            );
        }
    }
    let ctx = [full.vocab().get("the").unwrap()];
    assert!((total(&same, &ctx) - 1.0).abs() < 1e-9);
    assert!(same.log10_prob(&ctx, EOS) == full.log10_prob(&ctx, EOS));
}
