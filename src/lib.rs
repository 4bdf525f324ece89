//! `sori`: recurrent sequence models on speech and text, as one dependency.
//!
//! Each module is a member crate with one job (see `ARCHITECTURE.md`):
//! [`features`] (audio → MFCC / log-mel), [`fs`] (atomic file writes), [`ctc`] (native CTC loss,
//! decoders, alignment), [`rnn`] (RNN/LSTM/GRU encoders, attention),
//! [`train`] (the training loop and model directories), [`text`] (edit
//! distance, CER/WER, BLEU, chrF), [`lm`] (n-gram language models), and the
//! three applications' libraries: [`asr`] (speech recognition), [`seq2seq`]
//! (attention translation), [`imdb`] (sentiment classification). The package
//! also owns the workspace-level tests in `tests/`.
pub use sori_asr as asr;
pub use sori_ctc as ctc;
pub use sori_features as features;
pub use sori_fs as fs;
pub use sori_imdb as imdb;
pub use sori_lm as lm;
pub use sori_rnn as rnn;
pub use sori_seq2seq as seq2seq;
pub use sori_text as text;
pub use sori_train as train;
