//! The n-gram model in backoff form, the form ARPA files store:
//!
//! ```text
//! p(w | h) = P(h w)                   if the n-gram h w is listed
//!          = B(h) · p(w | h[1..])     otherwise (B(h) = 1 when h is not listed)
//! ```
//!
//! Interpolated Kneser-Ney and Witten-Bell models are exactly representable
//! this way: `P(h w)` is the interpolated probability of a seen n-gram and
//! `B(h)` the interpolation weight of the context, so the same lookup serves
//! trained models and models read from KenLM or SRILM ARPA files.
//! Probabilities are log10, as in ARPA.
use crate::vocab::{Vocab, BOS, EOS, UNK};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Highest order supported (keys are assembled on the stack).
pub const MAX_ORDER: usize = 16;

/// log10 probability ARPA files give `<s>`, which is never predicted.
pub const LOG10_ZERO: f64 = -99.0;

/// One listed n-gram: its log10 probability and its log10 backoff weight
/// (0 when it is not a context of a longer n-gram).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub log10_prob: f64,
    pub log10_backoff: f64,
}

/// Hashes short `[u32]` keys (token ids) quickly; SipHash would dominate
/// lookups in the beam search.
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(MUL);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(MUL);
        }
    }
    fn write_usize(&mut self, v: usize) {
        self.0 = (self.0.rotate_left(5) ^ v as u64).wrapping_mul(MUL);
    }
}

pub(crate) type Table = HashMap<Box<[u32]>, Entry, BuildHasherDefault<KeyHasher>>;

/// An n-gram language model over the tokens of a [`Vocab`].
#[derive(Debug, Clone)]
pub struct NgramLm {
    pub(crate) vocab: Vocab,
    /// Unigrams by token id (every token of the vocabulary has one).
    pub(crate) unigrams: Vec<Entry>,
    /// `higher[k]` holds the n-grams of order k + 2.
    pub(crate) higher: Vec<Table>,
}

/// Scores of a text: see [`NgramLm::perplexity`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Perplexity {
    pub sentences: usize,
    /// Tokens scored, `</s>` of each sentence included.
    pub tokens: usize,
    /// Tokens outside the vocabulary (scored as `<unk>`).
    pub oovs: usize,
    /// Sum of log10 probabilities.
    pub log10_prob: f64,
}

impl Perplexity {
    /// `10^(-log10_prob / tokens)`.
    pub fn perplexity(&self) -> f64 {
        10f64.powf(-self.log10_prob / self.tokens.max(1) as f64)
    }
    /// Cross-entropy in bits per token.
    pub fn bits_per_token(&self) -> f64 {
        -self.log10_prob / self.tokens.max(1) as f64 * std::f64::consts::LOG2_10
    }
}

impl NgramLm {
    /// A model from its parts; `unigrams` must have one entry per token and
    /// `higher[k]` holds n-grams of length k + 2 (checked by the callers in
    /// this crate).
    pub(crate) fn from_parts(vocab: Vocab, unigrams: Vec<Entry>, higher: Vec<Table>) -> Self {
        debug_assert_eq!(vocab.len(), unigrams.len());
        NgramLm {
            vocab,
            unigrams,
            higher,
        }
    }

    /// The order N (longest n-gram).
    pub fn order(&self) -> usize {
        self.higher.len() + 1
    }

    /// The token table.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Number of listed n-grams of each order, unigrams first.
    pub fn ngram_counts(&self) -> Vec<usize> {
        std::iter::once(self.unigrams.len())
            .chain(self.higher.iter().map(|t| t.len()))
            .collect()
    }

    /// The listed entry of an n-gram (ids), if any.
    pub fn entry(&self, ngram: &[u32]) -> Option<Entry> {
        match ngram.len() {
            0 => None,
            1 => self.unigrams.get(ngram[0] as usize).copied(),
            n => self.higher.get(n - 2).and_then(|t| t.get(ngram).copied()),
        }
    }

    /// All listed n-grams of one order (1-based), in no particular order.
    pub fn ngrams(&self, order: usize) -> Vec<(Vec<u32>, Entry)> {
        match order {
            0 => Vec::new(),
            1 => self
                .unigrams
                .iter()
                .enumerate()
                .map(|(i, e)| (vec![i as u32], *e))
                .collect(),
            n => self
                .higher
                .get(n - 2)
                .map(|t| t.iter().map(|(k, e)| (k.to_vec(), *e)).collect())
                .unwrap_or_default(),
        }
    }

    fn backoff_of(&self, context: &[u32]) -> f64 {
        self.entry(context).map_or(0.0, |e| e.log10_backoff)
    }

    /// log10 p(word | context). `context` is the history, most recent token
    /// last; only its last `order - 1` tokens matter. Start a sentence's
    /// context with [`BOS`]. Ids outside the vocabulary count as [`UNK`].
    pub fn log10_prob(&self, context: &[u32], word: u32) -> f64 {
        let word = if (word as usize) < self.unigrams.len() {
            word
        } else {
            UNK
        };
        let keep = context.len().min(self.order() - 1);
        let context = &context[context.len() - keep..];
        let mut key = [0u32; MAX_ORDER];
        key[..keep].copy_from_slice(context);
        key[keep] = word;
        let mut backoff = 0.0;
        for start in 0..keep {
            let n = keep - start + 1;
            if let Some(e) = self.higher[n - 2].get(&key[start..=keep]) {
                return backoff + e.log10_prob;
            }
            backoff += self.backoff_of(&key[start..keep]);
        }
        backoff + self.unigrams[word as usize].log10_prob
    }

    /// log10 probability of a sentence (token ids without `<s>`/`</s>`):
    /// every token and the final `</s>`, each given `<s>` and what precedes.
    pub fn sentence_log10_prob(&self, tokens: &[u32]) -> f64 {
        let mut history = Vec::with_capacity(tokens.len() + 2);
        history.push(BOS);
        let mut total = 0.0;
        for &t in tokens.iter().chain(std::iter::once(&EOS)) {
            total += self.log10_prob(&history, t);
            history.push(t);
        }
        total
    }

    /// Scores sentences given as token strings; tokens outside the
    /// vocabulary are scored as `<unk>` and counted in `oovs`.
    pub fn perplexity<I, S>(&self, sentences: I) -> Perplexity
    where
        I: IntoIterator,
        I::Item: AsRef<[S]>,
        S: AsRef<str>,
    {
        let mut p = Perplexity::default();
        for s in sentences {
            let s = s.as_ref();
            let ids: Vec<u32> = s
                .iter()
                .map(|t| match self.vocab.get(t.as_ref()) {
                    Some(id) => id,
                    None => {
                        p.oovs += 1;
                        UNK
                    }
                })
                .collect();
            p.log10_prob += self.sentence_log10_prob(&ids);
            p.tokens += ids.len() + 1;
            p.sentences += 1;
        }
        p
    }
}
