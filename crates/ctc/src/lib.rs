//! Connectionist temporal classification (CTC) computed natively: the
//! alpha-beta (forward-backward) loss and gradient, a bridge that makes it a
//! tch loss, decoders and forced alignment.
//!
//! # Loss on plain slices (no tch needed)
//! ```
//! use sori_ctc::{ctc_loss_grad, CtcBatch, CtcOptions, Reduction, Shape, Targets};
//! // T=3 frames, N=1 sequence, C=3 classes (blank = 0), uniform log-probs.
//! let lp = vec![(1.0f32 / 3.0).ln(); 9];
//! let batch = CtcBatch {
//!     log_probs: &lp,
//!     shape: Shape::new(3, 1, 3),
//!     targets: Targets::Concatenated(&[1, 2]),
//!     input_lengths: &[3],
//!     target_lengths: &[2],
//! };
//! let opts = CtcOptions { blank: 0, reduction: Reduction::Sum, zero_infinity: false };
//! let out = ctc_loss_grad(&batch, &opts).unwrap();
//! // 5 of the 27 paths collapse to [1, 2].
//! assert!((out.loss - (27.0f32 / 5.0).ln()).abs() < 1e-5);
//! assert_eq!(out.grad.len(), 9);
//! ```
//! `[T, N, C]` log-probabilities in f32 or f64, targets padded
//! (`Targets::Padded`) or concatenated, any blank index, reductions
//! `None | Sum | Mean` with PyTorch's meaning, `zero_infinity`.
//! [`ctc_loss_grad`] returns the gradient libtorch's backward gives
//! (`exp(lp) - posterior` per frame; zero beyond each input length);
//! [`ctc_loss_grad_logits`] takes logits and applies the log-softmax itself.
//! Bad input is a [`CtcError`] naming the sequence and the problem.
//!
//! # As a tch loss (feature `tch`, on by default)
//! [`bridge::CtcLoss`] makes the native loss a differentiable tch operation
//! (the module docs have an example).
//!
//! # Decoding
//! [`greedy_decode`] / [`greedy_decode_batch`]: best path.
//! [`beam_search`]: prefix beam search with N-best scores and an optional
//! [`LanguageModel`] (weight alpha, insertion bonus beta).
//!
//! # Alignment and the trellis
//! [`force_align`]: Viterbi path of a known transcript, each token's first and
//! last frame. [`trellis()`]: the full alpha and beta matrices of one sequence
//! (the `annyeong` example prints them).
//!
//! # Numerics
//! Log space throughout; f32 rows are kept relative to the previous row's
//! maximum (offsets in f64), and `exp`/`ln` are vectorised polynomials (see
//! [`real`]). Batches run in parallel with rayon; results do not depend on
//! the thread count. The loss runs the widest compiled copy of its kernels
//! the CPU supports (AVX-512, AVX2 or portable); [`kernel`] forces one
//! (`SORI_CTC_KERNEL`, [`kernel::force_kernel`]) for tests.

pub mod align;
pub mod annyeong;
pub mod beam;
#[cfg(feature = "tch")]
pub mod bridge;
pub mod decode;
pub mod error;
pub mod kernel;
pub mod loss;
pub mod real;
pub mod trellis;

pub use align::{force_align, ForcedAlignment, TokenSpan};
pub use beam::{beam_search, BeamOptions, Hypothesis, LanguageModel};
#[cfg(feature = "tch")]
pub use bridge::CtcLoss;
pub use decode::{
    collapse, collapse_frames, greedy_decode, greedy_decode_batch, greedy_decode_frames,
};
pub use error::CtcError;
pub use loss::{
    ctc_loss, ctc_loss_grad, ctc_loss_grad_logits, log_softmax_rows, CtcBatch, CtcOptions,
    CtcOutput, Reduction, Shape, Targets,
};
pub use real::Real;
pub use trellis::{trellis, Trellis};
