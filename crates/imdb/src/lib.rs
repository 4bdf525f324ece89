//! IMDB sentiment classification: the lecture's embedding, SimpleRNN and LSTM
//! experiments on libtorch, their GRU/bidirectional siblings and a stronger
//! recipe, with the data loaders, Keras-style preprocessing and metrics they
//! need. The `imdb` binary only parses arguments and prints.
//!
//! - [`data`]: the combined CSV, the Stanford `aclImdb` layout (directory or
//!   `.tar.gz`) and `label<TAB>text` files; the fixed 20,000/5,000 split.
//! - [`tokenize`]: Keras `Tokenizer` words, `keras.datasets.imdb` indices,
//!   `pad_sequences`.
//! - [`metrics`]: accuracy, precision, recall, F1, ROC AUC, confusion matrix.
//! - [`model`]: the architectures (`--model`).
pub mod classifier;
pub mod data;
pub mod error;
pub mod metrics;
pub mod model;
pub mod tokenize;
pub mod train;

pub use error::{ImdbError, Result};
