//! Typed errors: every bad input names the sequence (and where useful the
//! frame, class or target position) so a caller can point at the bad sample.

use thiserror::Error;

/// Errors from the loss, the decoders, alignment and the tch bridge.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CtcError {
    #[error("log-probs have {got} values, but shape [T={frames}, N={batch}, C={classes}] needs {expected}")]
    LogProbsShape {
        got: usize,
        expected: usize,
        frames: usize,
        batch: usize,
        classes: usize,
    },
    #[error("blank index {blank} is outside the {classes} classes")]
    BlankOutOfRange { blank: usize, classes: usize },
    #[error("{what} has {got} entries, but the batch has {batch} sequences")]
    LengthsCount {
        what: &'static str,
        got: usize,
        batch: usize,
    },
    #[error("sequence {seq}: input length {len} is outside 0..={max}")]
    InputLength { seq: usize, len: i64, max: usize },
    #[error("sequence {seq}: target length {len} is outside 0..={max}")]
    TargetLength { seq: usize, len: i64, max: usize },
    #[error("padded targets have {got} values, but {batch} rows of {max_len} need {expected}")]
    PaddedTargetsShape {
        got: usize,
        expected: usize,
        batch: usize,
        max_len: usize,
    },
    #[error("concatenated targets have {got} labels, but the target lengths add up to {expected}")]
    ConcatenatedTargetsShape { got: usize, expected: usize },
    #[error("sequence {seq}: target position {pos} is the blank index {blank}")]
    BlankInTarget {
        seq: usize,
        pos: usize,
        blank: usize,
    },
    #[error("sequence {seq}: target position {pos} holds label {label}, outside 0..{classes}")]
    LabelOutOfRange {
        seq: usize,
        pos: usize,
        label: i64,
        classes: usize,
    },
    #[error(
        "sequence {seq}: log-probability at frame {frame}, class {class} is {value} (NaN or +inf)"
    )]
    NonFiniteLogProb {
        seq: usize,
        frame: usize,
        class: usize,
        value: f64,
    },
    #[error("sequence {seq}: the target cannot be aligned to the input (zero probability)")]
    Infeasible { seq: usize },
    #[error("beam width must be at least 1")]
    BeamWidth,
    #[error("tensor: {0}")]
    Tensor(String),
}

/// Checks shared by the single-utterance entry points (decoders, alignment,
/// trellis): `blank` is a class and `log_probs` is whole `[frames, classes]` rows.
pub(crate) fn check_frames(len: usize, classes: usize, blank: usize) -> Result<(), CtcError> {
    if blank >= classes {
        return Err(CtcError::BlankOutOfRange { blank, classes });
    }
    if !len.is_multiple_of(classes) {
        return Err(CtcError::LogProbsShape {
            got: len,
            expected: len / classes * classes,
            frames: len / classes,
            batch: 1,
            classes,
        });
    }
    Ok(())
}

/// Every label of a single target is a non-blank class.
pub(crate) fn check_target(target: &[usize], classes: usize, blank: usize) -> Result<(), CtcError> {
    for (pos, &c) in target.iter().enumerate() {
        if c >= classes {
            return Err(CtcError::LabelOutOfRange {
                seq: 0,
                pos,
                label: c as i64,
                classes,
            });
        }
        if c == blank {
            return Err(CtcError::BlankInTarget { seq: 0, pos, blank });
        }
    }
    Ok(())
}
