//! Data of the lecture's toy example ("안녕하세요"), shared by the
//! `annyeong` example and its test, plus a brute-force loss (enumerating
//! every path) to check the trellis against.

/// The label set; index = class id. Blank is the last one.
pub const LABELS: [&str; 7] = ["<space>", "안", "녕", "하", "세", "요", "<blank>"];
pub const BLANK: usize = 6;
/// 안녕하세요 as class ids.
pub const TARGET: [usize; 5] = [1, 2, 3, 4, 5];

/// Deterministic per-frame log-probabilities that loosely follow the
/// syllables in order (so the trellis has a visible diagonal), `[frames, 7]`.
pub fn toy_log_probs(frames: usize) -> Vec<f64> {
    let classes = LABELS.len();
    let mut out = Vec::with_capacity(frames * classes);
    for t in 0..frames {
        // Which syllable this frame "hears", spread evenly over the frames.
        let focus = 1 + (t * TARGET.len()) / frames.max(1);
        let row: Vec<f64> = (0..classes)
            .map(|c| {
                let base = 0.3 * (((t * 7 + c * 3) % 5) as f64) / 5.0;
                if c == focus {
                    2.0 + base
                } else if c == BLANK {
                    1.2 + base
                } else {
                    base
                }
            })
            .collect();
        let z = row.iter().map(|v| v.exp()).sum::<f64>().ln();
        out.extend(row.iter().map(|v| v - z));
    }
    out
}

/// The toy's loss (`-ln p(안녕하세요 | x)`, sum reduction) by the fast
/// native batch loss, in the precision of `log_probs` (`[frames, 7]`).
pub fn native_loss<F: crate::real::Real>(log_probs: &[F]) -> Result<F, crate::CtcError> {
    let classes = LABELS.len();
    let frames = log_probs.len() / classes;
    let target: Vec<i64> = TARGET.iter().map(|&c| c as i64).collect();
    let out = crate::loss::ctc_loss(
        &crate::loss::CtcBatch {
            log_probs,
            shape: crate::loss::Shape::new(frames, 1, classes),
            targets: crate::loss::Targets::Concatenated(&target),
            input_lengths: &[frames as i64],
            target_lengths: &[TARGET.len() as i64],
        },
        &crate::loss::CtcOptions {
            blank: BLANK,
            reduction: crate::loss::Reduction::Sum,
            zero_infinity: false,
        },
    )?;
    Ok(out.loss)
}

/// -ln of the summed probability of every path that collapses to `target`
/// (classes^frames paths: tiny inputs only).
pub fn brute_force_loss(log_probs: &[f64], classes: usize, target: &[usize], blank: usize) -> f64 {
    let frames = log_probs.len() / classes;
    let mut path = vec![0usize; frames];
    let mut total = 0.0f64;
    loop {
        if crate::decode::collapse(path.iter().copied(), blank) == target {
            total += path
                .iter()
                .enumerate()
                .map(|(t, &c)| log_probs[t * classes + c])
                .sum::<f64>()
                .exp();
        }
        let mut i = 0;
        loop {
            if i == frames {
                return -total.ln();
            }
            path[i] += 1;
            if path[i] < classes {
                break;
            }
            path[i] = 0;
            i += 1;
        }
    }
}
