//! The CTC speech recogniser: audio in, text out.
//!
//! One folder or file per job, in the order data flows:
//! - `data/`: manifests (JSONL utterances) and the character vocabulary;
//! - `frontend`: audio → normalised features, augmentation, speaker statistics;
//! - `model`, `train`: the acoustic model (frame stacking → BiLSTM/BiGRU →
//!   linear → log-softmax) and its training task with the native CTC loss;
//! - `decode/`, `recognize`, `align`: the network's output → text (greedy,
//!   beam with a character LM), word times by forced alignment;
//! - `eval/`: CER/WER reports and the metrics under them;
//! - `corpus/`: corpora the project builds (synthetic speech, FSDD splits);
//! - `closed/`: closed-vocabulary and one-speaker techniques (choices,
//!   ensembles, joint labelling, pseudo-labels). The core never imports it.
//! - `support/` (feature `test-support`): fixtures for tests and benches.
//!
//! The `asr` binary (`src/bin/asr/`, one file per subcommand) only parses
//! arguments and prints; everything it does is a function here so that it is
//! tested here.
pub mod align;
pub mod closed;
pub mod corpus;
pub mod data;
pub mod decode;
pub mod error;
pub mod eval;
pub mod frontend;
pub mod model;
pub mod recognize;
pub mod rng;
#[cfg(any(test, feature = "test-support"))]
pub mod support;
pub mod train;

pub use data::manifest::{read_manifest, write_manifest, Utterance};
pub use data::vocab::{OovPolicy, Vocab};
pub use error::{AsrError, Result};
pub use model::{Architecture, AsrConfig, AsrModel, MODEL_KIND};
