//! The CTC speech recogniser: corpora (synthetic speech, FSDD), manifests,
//! the acoustic model (features → frame stacking → BiLSTM/BiGRU → linear →
//! log-softmax), training with the native CTC loss, decoding (greedy, beam
//! with a character LM), evaluation and forced alignment.
//!
//! The `asr` binary only parses arguments and prints; everything it does is
//! a function here so that it is tested here.
pub mod align;
pub mod bench_audio;
pub mod choices;
pub mod error;
pub mod eval;
pub mod frontend;
pub mod fsdd;
pub mod lm;
pub mod manifest;
pub mod metrics;
pub mod model;
pub mod pseudo;
pub mod recognize;
pub mod rng;
pub mod synth;
pub mod toy;
pub mod train;
pub mod transduce;
pub mod vocab;

pub use error::{AsrError, Result};
pub use manifest::{read_manifest, write_manifest, Utterance};
pub use model::{Architecture, AsrConfig, AsrModel, MODEL_KIND};
pub use vocab::{OovPolicy, Vocab};
