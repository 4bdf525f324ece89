//! Decoders that turn per-frame log-probabilities into label sequences:
//! greedy best path, and prefix beam search (Hannun et al. 2014).

use crate::error::CtcError;
use crate::real::Real;

/// Best-path decoding of one utterance: the most likely class per frame,
/// repeats merged, blanks removed. `log_probs` is `[frames, classes]`
/// row-major (any scale: probabilities, logits and log-probabilities give the
/// same argmax).
pub fn greedy_decode<F: Real>(
    log_probs: &[F],
    classes: usize,
    blank: usize,
) -> Result<Vec<usize>, CtcError> {
    crate::error::check_frames(log_probs.len(), classes, blank)?;
    let frames: Vec<&[F]> = log_probs.chunks(classes).collect();
    Ok(collapse(frames.iter().map(|row| argmax(row)), blank))
}

/// Greedy decoding of a `[T, N, C]` batch; sequence b uses its first
/// `input_lengths[b]` frames.
pub fn greedy_decode_batch<F: Real>(
    log_probs: &[F],
    shape: crate::Shape,
    input_lengths: &[i64],
    blank: usize,
) -> Result<Vec<Vec<usize>>, CtcError> {
    let crate::Shape {
        frames,
        batch,
        classes,
    } = shape;
    if log_probs.len() != shape.len() {
        return Err(CtcError::LogProbsShape {
            got: log_probs.len(),
            expected: shape.len(),
            frames,
            batch,
            classes,
        });
    }
    if blank >= classes {
        return Err(CtcError::BlankOutOfRange { blank, classes });
    }
    if input_lengths.len() != batch {
        return Err(CtcError::LengthsCount {
            what: "input_lengths",
            got: input_lengths.len(),
            batch,
        });
    }
    let mut out = Vec::with_capacity(batch);
    for (seq, &len) in input_lengths.iter().enumerate() {
        if len < 0 || len as u64 > frames as u64 {
            return Err(CtcError::InputLength {
                seq,
                len,
                max: frames,
            });
        }
        let rows = (0..len as usize).map(|t| {
            let start = (t * batch + seq) * classes;
            argmax(&log_probs[start..start + classes])
        });
        out.push(collapse(rows, blank));
    }
    Ok(out)
}

fn argmax<F: Real>(row: &[F]) -> usize {
    let mut best = 0;
    for (c, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = c;
        }
    }
    best
}

/// Merges repeats, then drops blanks (the CTC collapsing function B).
pub fn collapse(path: impl IntoIterator<Item = usize>, blank: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut prev = None;
    for c in path {
        if Some(c) != prev && c != blank {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}
