//! Attention encoder-decoder translation on libtorch: the library behind the
//! `seq2seq` binary.
//!
//! The lecture's sequence-to-sequence setting (read the whole source, then
//! write the target) as a real NMT system: BPE sub-words ([`subword`]), a
//! bidirectional GRU/LSTM encoder and a Bahdanau or Luong attention decoder
//! ([`model`], built from `sori-rnn`), training with the shared loop of
//! `sori-train` ([`train`]), greedy and beam search ([`search`]), scoring
//! with sacreBLEU-exact BLEU and chrF from `sori-text` ([`translator::evaluate`];
//! files in, reports out: [`score`]), the attention heat map ([`plot`]), and
//! the training, validation and test pairs of a run ([`corpus`]). The
//! `seq2seq` binary only parses arguments and prints.
//!
//! ```no_run
//! use sori_seq2seq::{Translator, DecodeOptions};
//! let t = Translator::load("models/de-en".as_ref(), tch::Device::Cpu)?;
//! let out = t.translate("Ein Mann fährt Fahrrad.", &DecodeOptions { beam: 5, alpha: 0.6 })?;
//! println!("{}", out.text);
//! # Ok::<(), sori_seq2seq::Seq2SeqError>(())
//! ```
pub mod corpus;
pub mod data;
mod error;
pub mod model;
pub mod plot;
pub mod score;
pub mod search;
pub mod subword;
pub mod train;
pub mod translator;

pub use corpus::{load_splits, Source, SplitOptions, Splits};
pub use data::{
    held_out_split, read_lines, read_multi30k, read_parallel, read_tsv, Multi30kSplit, Pair,
};
pub use error::{Result, Seq2SeqError};
pub use model::{ModelConfig, Seq2Seq};
pub use train::{train, TrainOptions};
pub use translator::{
    evaluate, DecodeOptions, EvalReport, Translation, Translator, TranslatorConfig,
};
