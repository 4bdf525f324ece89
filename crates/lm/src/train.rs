//! Estimating a model from token sentences.
//!
//! Counting keeps, for every position of `<s> w1 .. wk </s>`, the longest
//! n-gram ending there (order N, or shorter when it reaches back to `<s>`:
//! one `<s>` pads a sentence, as in SRILM and KenLM). The counts of every
//! order follow from those:
//!
//! * Kneser-Ney (Chen & Goodman 1998, section 3; KenLM's "adjusted counts"):
//!   the highest order and n-grams that begin with `<s>` keep their raw
//!   counts; any other n-gram counts its distinct one-token left extensions,
//!   `N1+(• g)`.
//! * Witten-Bell (Witten & Bell 1991): raw counts of every order.
//!
//! Then, lowest order first, each order is interpolated with the one below:
//!
//! ```text
//! modified KN:  p(w|h) = (c(hw) - D(c(hw))) / c(h) + γ(h) p(w|h'),
//!               γ(h) = (D1 N1(h•) + D2 N2(h•) + D3+ N3+(h•)) / c(h)
//! Witten-Bell:  p(w|h) = (c(hw) + T(h) p(w|h')) / (c(h) + T(h)),
//!               γ(h) = T(h) / (c(h) + T(h)),  T(h) = distinct words after h
//! ```
//!
//! where `c(h) = Σ_w c(hw)` at that order and `h'` drops h's oldest token.
//! The unigrams are interpolated with the uniform distribution over the
//! vocabulary (every token but `<s>`, `<unk>` included), as KenLM does, so
//! every token has a non-zero probability. The discounts of each order come
//! from its count-of-counts n1..n4: `Y = n1 / (n1 + 2 n2)`,
//! `Dk = k - (k + 1) Y n(k+1) / nk`. When n1..n4 are not all positive or a
//! `Dk` falls outside (0, k] (tiny corpora; KenLM refuses these), that order
//! uses the single discount `D = Y` of Ney, Essen & Kneser (1994) for every
//! count, or 0.5 when n1 or n2 is zero.
//!
//! Stored in backoff form (see [`crate::model`]): `P(hw) = p(w|h)` for seen
//! n-grams and `B(h) = γ(h)`, which is exact.
use crate::error::{LmError, Result};
use crate::model::{Entry, NgramLm, Table, LOG10_ZERO, MAX_ORDER};
use crate::vocab::{Vocab, BOS, EOS};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::path::{Path, PathBuf};

use crate::model::KeyHasher;

type CountTable = HashMap<Box<[u32]>, u64, BuildHasherDefault<KeyHasher>>;

/// The smoothing method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Smoothing {
    /// Interpolated modified Kneser-Ney (three discounts per order).
    #[default]
    KneserNey,
    /// Interpolated Witten-Bell.
    WittenBell,
}

/// How to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Longest n-gram, 1..=[`MAX_ORDER`].
    pub order: usize,
    pub smoothing: Smoothing,
    /// Kneser-Ney only: fixed discounts `[D1, D2, D3+]` for orders 1..=N
    /// instead of the count-of-counts estimates.
    pub discounts: Option<Vec<[f64; 3]>>,
    /// Count pruning: `prune[n - 1]` is the smallest count an n-gram of
    /// order n >= 2 keeps (the count the estimate used: Kneser-Ney's
    /// adjusted count below the highest order, as KenLM's `--prune`
    /// thresholds, which are this minus one); orders past the end, and 0 or
    /// 1, keep everything. See [`NgramCounter::build`].
    pub prune: Vec<u64>,
}

impl TrainOptions {
    /// Kneser-Ney of the given order with estimated discounts.
    pub fn new(order: usize) -> Self {
        TrainOptions {
            order,
            smoothing: Smoothing::KneserNey,
            discounts: None,
            prune: Vec::new(),
        }
    }

    fn check(&self) -> Result<()> {
        if self.order == 0 || self.order > MAX_ORDER {
            return Err(LmError::Config(format!(
                "order {} is out of range 1..={MAX_ORDER}",
                self.order
            )));
        }
        if let Some(d) = &self.discounts {
            if d.len() != self.order {
                return Err(LmError::Config(format!(
                    "{} discount triples given for an order-{} model",
                    d.len(),
                    self.order
                )));
            }
            for (n, ds) in d.iter().enumerate() {
                for (k, &v) in ds.iter().enumerate() {
                    if !(v > 0.0 && v <= (k + 1) as f64) {
                        return Err(LmError::Config(format!(
                            "discount D{} of order {} is {v}, outside (0, {}]",
                            k + 1,
                            n + 1,
                            k + 1
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The discounts `[D1, D2, D3+]` of one order from its count-of-counts
/// `[n1, n2, n3, n4]` (see the module notes for the fallback).
pub fn kn_discounts(count_of_counts: [u64; 4]) -> [f64; 3] {
    let [n1, n2, n3, n4] = count_of_counts.map(|v| v as f64);
    if n1 > 0.0 && n2 > 0.0 {
        let y = n1 / (n1 + 2.0 * n2);
        if n3 > 0.0 && n4 > 0.0 {
            let d = [
                1.0 - 2.0 * y * n2 / n1,
                2.0 - 3.0 * y * n3 / n2,
                3.0 - 4.0 * y * n4 / n3,
            ];
            if d.iter()
                .enumerate()
                .all(|(k, &v)| v > 0.0 && v <= (k + 1) as f64)
            {
                return d;
            }
        }
        return [y; 3];
    }
    [0.5; 3]
}

/// Counts of every order, as a smoothing method sees them.
#[derive(Debug, Clone)]
pub struct Counts {
    /// `tables[n - 1]`: n-grams of order n.
    tables: Vec<CountTable>,
}

impl Counts {
    /// The count of an n-gram (0 when unseen).
    pub fn get(&self, ngram: &[u32]) -> u64 {
        if ngram.is_empty() {
            return 0;
        }
        self.tables
            .get(ngram.len() - 1)
            .and_then(|t| t.get(ngram).copied())
            .unwrap_or(0)
    }

    /// How many distinct n-grams of `order` have count 1, 2, 3 and 4.
    pub fn count_of_counts(&self, order: usize) -> [u64; 4] {
        let mut c = [0u64; 4];
        if let Some(t) = order.checked_sub(1).and_then(|i| self.tables.get(i)) {
            for &v in t.values() {
                if (1..=4).contains(&v) {
                    c[v as usize - 1] += 1;
                }
            }
        }
        c
    }
}

/// Accumulates sentences, then builds a model.
#[derive(Debug, Clone)]
pub struct NgramCounter {
    order: usize,
    vocab: Vocab,
    /// Longest n-gram at each position: `longest[n - 1]` holds those of
    /// order n (order N, or shorter ones that start with `<s>`).
    longest: Vec<CountTable>,
    sentences: usize,
}

impl NgramCounter {
    /// An empty counter for models of `order` (1..=[`MAX_ORDER`]).
    pub fn new(order: usize) -> Result<Self> {
        TrainOptions::new(order).check()?;
        Ok(NgramCounter {
            order,
            vocab: Vocab::new(),
            longest: vec![CountTable::default(); order],
            sentences: 0,
        })
    }

    /// Adds a token to the vocabulary without counting it (it then gets
    /// the uniform share of the unigram distribution, like `<unk>`).
    pub fn add_token(&mut self, token: &str) -> u32 {
        self.vocab.insert(token)
    }

    /// Counts one sentence (its tokens, without `<s>` and `</s>`).
    pub fn add_sentence<S: AsRef<str>>(&mut self, tokens: &[S]) {
        let mut padded = Vec::with_capacity(tokens.len() + 2);
        padded.push(BOS);
        padded.extend(tokens.iter().map(|t| self.vocab.insert(t.as_ref())));
        padded.push(EOS);
        for i in 1..padded.len() {
            let n = self.order.min(i + 1);
            let g = &padded[i + 1 - n..=i];
            *self.longest[n - 1].entry(g.into()).or_insert(0) += 1;
        }
        self.sentences += 1;
    }

    /// Sentences counted so far.
    pub fn sentences(&self) -> usize {
        self.sentences
    }

    /// The vocabulary so far.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Counts of every order: Kneser-Ney's adjusted counts or raw counts.
    pub fn counts(&self, smoothing: Smoothing) -> Counts {
        let mut tables = self.longest.clone();
        for n in (2..=self.order).rev() {
            let (lower, upper) = tables.split_at_mut(n - 1);
            let lower = &mut lower[n - 2];
            for (g, &c) in &upper[0] {
                let add = match smoothing {
                    Smoothing::KneserNey => 1,
                    Smoothing::WittenBell => c,
                };
                *lower.entry(g[1..].into()).or_insert(0) += add;
            }
        }
        Counts { tables }
    }

    /// Estimates the model.
    pub fn build(&self, opts: &TrainOptions) -> Result<NgramLm> {
        opts.check()?;
        if opts.order != self.order {
            return Err(LmError::Config(format!(
                "the counter holds order-{} counts, asked for an order-{} model",
                self.order, opts.order
            )));
        }
        if self.sentences == 0 {
            return Err(LmError::EmptyCorpus {
                path: PathBuf::from("<sentences>"),
            });
        }
        let counts = self.counts(opts.smoothing);
        let discounts: Vec<[f64; 3]> = match &opts.discounts {
            Some(d) => d.clone(),
            None => (1..=self.order)
                .map(|n| kn_discounts(counts.count_of_counts(n)))
                .collect(),
        };
        let estimator = Estimator {
            smoothing: opts.smoothing,
        };
        let vocab = self.vocab.clone();
        // Unigrams, interpolated with the uniform distribution.
        let predictable = (vocab.len() - 1) as f64; // all but <s>
        let ctx = estimator.context(counts.tables[0].values().copied(), &discounts[0]);
        let mut unigrams = Vec::with_capacity(vocab.len());
        for id in 0..vocab.len() as u32 {
            if id == BOS {
                unigrams.push(Entry {
                    log10_prob: LOG10_ZERO,
                    log10_backoff: 0.0,
                });
                continue;
            }
            let c = counts.get(&[id]);
            let p = estimator.prob(c, &ctx, &discounts[0], 1.0 / predictable);
            unigrams.push(Entry {
                log10_prob: p.log10(),
                log10_backoff: 0.0,
            });
        }
        let mut lm = NgramLm::from_parts(vocab, unigrams, Vec::new());
        for n in 2..=self.order {
            let table = &counts.tables[n - 1];
            let mut contexts: HashMap<&[u32], Vec<u64>, BuildHasherDefault<KeyHasher>> =
                HashMap::default();
            for (g, &c) in table {
                contexts.entry(&g[..n - 1]).or_default().push(c);
            }
            let stats: HashMap<&[u32], ContextStats, BuildHasherDefault<KeyHasher>> = contexts
                .into_iter()
                .map(|(h, cs)| (h, estimator.context(cs, &discounts[n - 1])))
                .collect();
            let mut out = Table::with_capacity_and_hasher(table.len(), Default::default());
            for (g, &c) in table {
                let st = &stats[&g[..n - 1]];
                let lower = 10f64.powf(lm.log10_prob(&g[1..n - 1], g[n - 1]));
                let p = estimator.prob(c, st, &discounts[n - 1], lower);
                out.insert(
                    g.clone(),
                    Entry {
                        log10_prob: p.log10(),
                        log10_backoff: 0.0,
                    },
                );
            }
            lm.higher.push(out);
            for (h, st) in &stats {
                let bow = st.gamma.log10();
                if h.len() == 1 {
                    lm.unigrams[h[0] as usize].log10_backoff = bow;
                } else if let Some(e) = lm.higher[h.len() - 2].get_mut(*h) {
                    e.log10_backoff = bow;
                }
            }
        }
        if opts.prune.iter().any(|&m| m > 1) {
            prune(&mut lm, &counts, &opts.prune);
        }
        Ok(lm)
    }
}

/// Count pruning after estimation (SRILM's `-gtNmin`, KenLM's `--prune`):
/// an n-gram of order n >= 2 whose count is below `min[n - 1]` is dropped
/// unless a kept longer n-gram needs it as its context or its suffix (ARPA
/// readers look both up). The kept entries keep their probabilities, and the
/// back-off weight of every context is recomputed so that its distribution
/// sums to one again: `bow(h) = (1 - sum p(w | h)) / (1 - sum p(w | h'))`
/// over the words `w` kept after `h`, `h'` being `h` without its first
/// token. Without pruning that formula gives back interpolated smoothing's
/// own weights, so only the contexts that lost words change.
fn prune(lm: &mut NgramLm, counts: &Counts, min: &[u64]) {
    let order = lm.order();
    let mut needed: std::collections::HashSet<Box<[u32]>> = Default::default();
    for n in (2..=order).rev() {
        let least = min.get(n - 1).copied().unwrap_or(0);
        let mut next = std::collections::HashSet::default();
        lm.higher[n - 2].retain(|g, _| {
            let keep = counts.get(g) >= least || needed.contains(g);
            if keep && n > 2 {
                next.insert(g[..n - 1].into());
                next.insert(g[1..].into());
            }
            keep
        });
        needed = next;
    }
    // Bottom-up: an order's back-offs depend on the lower orders' final
    // probabilities and back-offs.
    for n in 2..=order {
        let mut sums: HashMap<&[u32], (f64, f64), BuildHasherDefault<KeyHasher>> =
            HashMap::default();
        for (g, e) in &lm.higher[n - 2] {
            let lower = 10f64.powf(lm.log10_prob(&g[1..n - 1], g[n - 1]));
            let s = sums.entry(&g[..n - 1]).or_insert((0.0, 0.0));
            s.0 += 10f64.powf(e.log10_prob);
            s.1 += lower;
        }
        let bows: Vec<(Box<[u32]>, f64)> = sums
            .into_iter()
            .map(|(h, (p, lower))| {
                let bow = (1.0 - p).max(1e-15) / (1.0 - lower).max(1e-15);
                (h.into(), bow.log10())
            })
            .collect();
        // Contexts left without any word keep no mass for themselves.
        if n == 2 {
            for e in lm.unigrams.iter_mut() {
                e.log10_backoff = 0.0;
            }
        } else {
            for e in lm.higher[n - 3].values_mut() {
                e.log10_backoff = 0.0;
            }
        }
        for (h, bow) in bows {
            if h.len() == 1 {
                lm.unigrams[h[0] as usize].log10_backoff = bow;
            } else if let Some(e) = lm.higher[h.len() - 2].get_mut(&*h) {
                e.log10_backoff = bow;
            }
        }
    }
}

/// What the estimate of one context needs.
struct ContextStats {
    total: f64,
    /// Mass left for the lower order (γ).
    gamma: f64,
    /// Witten-Bell: distinct followers.
    types: f64,
}

struct Estimator {
    smoothing: Smoothing,
}

impl Estimator {
    fn discount(d: &[f64; 3], c: u64) -> f64 {
        d[(c.clamp(1, 3) - 1) as usize]
    }

    fn context(&self, counts: impl IntoIterator<Item = u64>, d: &[f64; 3]) -> ContextStats {
        let mut total = 0.0;
        let mut types = 0.0;
        let mut discounted = 0.0;
        for c in counts {
            if c == 0 {
                continue;
            }
            total += c as f64;
            types += 1.0;
            discounted += Self::discount(d, c).min(c as f64);
        }
        let gamma = match self.smoothing {
            Smoothing::KneserNey => discounted / total,
            Smoothing::WittenBell => types / (total + types),
        };
        ContextStats {
            total,
            gamma,
            types,
        }
    }

    /// Interpolated probability of a word with count `c` after a context.
    fn prob(&self, c: u64, st: &ContextStats, d: &[f64; 3], lower: f64) -> f64 {
        match self.smoothing {
            Smoothing::KneserNey => {
                let own = if c == 0 {
                    0.0
                } else {
                    (c as f64 - Self::discount(d, c)).max(0.0) / st.total
                };
                own + st.gamma * lower
            }
            Smoothing::WittenBell => (c as f64 + st.types * lower) / (st.total + st.types),
        }
    }
}

/// Trains on token sentences.
pub fn train<I, S>(sentences: I, opts: &TrainOptions) -> Result<NgramLm>
where
    I: IntoIterator,
    I::Item: AsRef<[S]>,
    S: AsRef<str>,
{
    opts.check()?;
    let mut counter = NgramCounter::new(opts.order)?;
    for s in sentences {
        counter.add_sentence(s.as_ref());
    }
    counter.build(opts)
}

/// Trains on text files, one sentence per line (empty lines skipped).
pub fn train_text_files(
    paths: &[&Path],
    tokenization: crate::text::Tokenization,
    opts: &TrainOptions,
) -> Result<NgramLm> {
    opts.check()?;
    let mut counter = NgramCounter::new(opts.order)?;
    for path in paths {
        for line in crate::text::read_lines(path)? {
            counter.add_sentence(&tokenization.tokens(&line));
        }
    }
    if counter.sentences() == 0 {
        let path = paths
            .first()
            .map_or(PathBuf::from("<none>"), |p| p.to_path_buf());
        return Err(LmError::EmptyCorpus { path });
    }
    counter.build(opts)
}
