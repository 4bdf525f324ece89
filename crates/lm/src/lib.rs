//! Token n-gram language models: the character LM that steers the CTC beam
//! search of the speech recogniser, usable for words as well.
//!
//! * Training ([`train()`], [`train_text_files`], [`NgramCounter`]) of any
//!   order up to [`MAX_ORDER`] with interpolated modified Kneser-Ney
//!   (Chen & Goodman 1998) or interpolated Witten-Bell smoothing; sentences
//!   are padded with `<s>` and `</s>`.
//! * Scoring: [`NgramLm::log10_prob`], [`NgramLm::sentence_log10_prob`],
//!   [`NgramLm::perplexity`].
//! * ARPA files: [`NgramLm::save_arpa`] / [`NgramLm::read_arpa`], the format
//!   KenLM and SRILM read and write, so a model made by either loads here
//!   and ours loads there.
//!
//! ```
//! use sori_lm::{train, NgramLm, TrainOptions, Tokenization, BOS};
//! let text = ["the cat sat", "the cat ran", "a cat sat"];
//! let sentences: Vec<Vec<String>> = text.iter().map(|l| Tokenization::Chars.tokens(l)).collect();
//! let lm = train(&sentences, &TrainOptions::new(3)).unwrap();
//! let v = lm.vocab();
//! let (c, a, x) = (v.get("c").unwrap(), v.get("a").unwrap(), v.get("x"));
//! assert!(x.is_none());
//! // After "<s> c", "a" is likely.
//! assert!(lm.log10_prob(&[BOS, c], a) > -0.5);
//! let mut arpa = Vec::new();
//! lm.write_arpa(&mut arpa).unwrap();
//! let back = NgramLm::parse_arpa(&arpa[..], "mem.arpa".as_ref(), None).unwrap();
//! assert_eq!(back.log10_prob(&[BOS, c], a), lm.log10_prob(&[BOS, c], a));
//! ```
pub mod arpa;
pub mod error;
pub mod model;
pub mod text;
pub mod train;
pub mod vocab;

pub use error::{LmError, Result};
pub use model::{Entry, NgramLm, Perplexity, LOG10_ZERO, MAX_ORDER};
pub use text::{read_lines, Tokenization, SPACE_TOKEN};
pub use train::{
    kn_discounts, train, train_text_files, Counts, NgramCounter, Smoothing, TrainOptions,
};
pub use vocab::{Vocab, BOS, BOS_TOKEN, EOS, EOS_TOKEN, UNK, UNK_TOKEN};
