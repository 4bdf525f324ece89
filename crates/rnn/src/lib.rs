//! Recurrent encoders (RNN, LSTM, GRU) and attention on libtorch through `tch`.
//!
//! The three applications share these pieces so that the lecture's models
//! are written once and tested once: the padded-batch handling, the gate
//! equations and the parameter counts are checked by this crate's tests.
//!
//! # How to use
//!
//! ```no_run
//! use sori_rnn::{Cell, Encoder, EncoderConfig, Attention, AttentionKind, length_mask, Summary};
//! use tch::{nn, Device, Kind, Tensor};
//!
//! let vs = nn::VarStore::new(Device::Cpu);
//! // 2-layer bidirectional LSTM, 40 features in, 128 units per direction.
//! let cfg = EncoderConfig::new(Cell::Lstm, 40, 128).layers(2).bidirectional(true).dropout(0.1);
//! let enc = Encoder::new(&(vs.root() / "encoder"), &cfg).unwrap();
//!
//! // A padded batch, batch first: [B=2, T=50, F=40]; the second sequence has 30 real frames.
//! let xs = Tensor::randn([2, 50, 40], (Kind::Float, Device::Cpu));
//! let out = enc.forward(&xs, &[50, 30], /* train = */ true).unwrap();
//! assert_eq!(out.outputs.size(), [2, 50, 256]);     // zeros after frame 30 in row 1
//! let sentence = out.state.last_layer_h(2);          // [2, 256]: final fwd ++ bwd state
//!
//! // Attention of a decoder state [B, 256] over the encoder outputs, padding masked out.
//! let attn = Attention::new(&(vs.root() / "attn"), AttentionKind::Bahdanau, 256, 256, 128).unwrap();
//! let mask = length_mask(&out.lengths, 50, Device::Cpu);
//! let (context, weights) = attn.forward(&sentence, &out.outputs, Some(&mask)); // [2,256], [2,50]
//!
//! // Keras-style summary; counts come from the variables created under each path.
//! let mut s = Summary::new("asr");
//! s.add_from_vars("encoder", "LSTM", &[None, Some(50), Some(256)], &vs, "encoder");
//! s.add_from_vars("attn", "Attention", &[None, Some(256)], &vs, "attn");
//! println!("{s}");
//! ```
//!
//! - [`EncoderConfig`] is serde-serialisable (store it in the model's
//!   `config.json`); `cell` is `"rnn"`/`"rnn_relu"`/`"lstm"`/`"gru"` in JSON.
//! - `forward` takes `lengths` (1..=T each). A batch where every length is T
//!   takes the fused kernel directly; otherwise the batch is packed, so each
//!   sequence's outputs and final state are exactly what it gets alone.
//! - `Subsample::Stack(k)` / `Stride(k)` shorten speech input by `k` (the
//!   returned `lengths` are the new ones); `projection` adds a linear layer.
//! - [`Encoder::step`] runs one time step (decoders), [`State`] is
//!   `[layers·dirs, B, H]` like libtorch's.
//! - Errors are [`RnnError`] with a one-line message.
mod attention;
mod encoder;
pub mod summary;

pub use attention::{Attention, AttentionKind, PreparedKeys};
pub use encoder::{
    length_mask, Cell, Encoder, EncoderConfig, EncoderOutput, State, Subsample, MAX_LAYERS,
    MAX_PARAMETERS, MAX_SIZE, MAX_SUBSAMPLE,
};
pub use summary::{count_params, keras_rnn_param_count, rnn_param_count, Summary, SummaryRow};

/// Errors from building or running the modules of this crate.
#[derive(Debug, thiserror::Error)]
pub enum RnnError {
    /// A bad configuration value (size, probability, name).
    #[error("{0}")]
    Config(String),
    /// Tensors or lengths of the wrong shape.
    #[error("{0}")]
    Shape(String),
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}
