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

/// [`greedy_decode`] with the frame of each label: `(label, frame)`, the
/// frame being the first of the label's run (word times and per-character
/// posteriors start from it).
pub fn greedy_decode_frames<F: Real>(
    log_probs: &[F],
    classes: usize,
    blank: usize,
) -> Result<Vec<(usize, usize)>, CtcError> {
    crate::error::check_frames(log_probs.len(), classes, blank)?;
    Ok(collapse_frames(
        log_probs.chunks(classes).map(|row| argmax(row)),
        blank,
    ))
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
    collapse_frames(path, blank)
        .into_iter()
        .map(|(c, _)| c)
        .collect()
}

/// [`collapse`] keeping where each label starts: `(label, first frame of
/// its run)`.
pub fn collapse_frames(path: impl IntoIterator<Item = usize>, blank: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut prev = None;
    for (t, c) in path.into_iter().enumerate() {
        if Some(c) != prev && c != blank {
            out.push((c, t));
        }
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_the_first_of_each_run() {
        // Path over frames 0..7 with blank 0: "a a _ b b _ b".
        let path = [1, 1, 0, 2, 2, 0, 2];
        assert_eq!(collapse_frames(path, 0), [(1, 0), (2, 3), (2, 6)]);
        assert_eq!(collapse(path, 0), [1, 2, 2]);
        // One-hot rows of the same path through the greedy decoder.
        let lp: Vec<f32> = path
            .iter()
            .flat_map(|&c| (0..3).map(move |k| if k == c { 0.0 } else { -5.0 }))
            .collect();
        assert_eq!(
            greedy_decode_frames(&lp, 3, 0).unwrap(),
            [(1, 0), (2, 3), (2, 6)]
        );
        assert!(greedy_decode_frames(&lp[..5], 3, 0).is_err());
    }
}
