//! Property tests of the CTC loss on arbitrary inputs (issue 10): shapes,
//! lengths, labels and blank index drawn at random, valid or not, must give
//! either a typed error or a result of the right size, never a panic or an
//! out-of-bounds read; on valid inputs the loss must equal the brute-force
//! sum over every alignment path (an oracle independent of the alpha-beta
//! recursion) and the gradient must be finite. A fixed, small number of
//! cases, so it runs in `make test`.
#[path = "../../train/tests/support/fuzz.rs"]
mod fuzz;
use proptest::prelude::*;
use sori_ctc::{
    ctc_loss, ctc_loss_grad, greedy_decode, log_softmax_rows, CtcBatch, CtcOptions, Reduction,
    Shape, Targets,
};

/// -log of the total probability of the paths of `lp` ([T, C] for one
/// sequence) that collapse to `target`, by enumerating all C^T paths.
fn brute_force_nll(lp: &[f64], frames: usize, classes: usize, blank: usize, target: &[i64]) -> f64 {
    let mut total = 0.0f64;
    let mut path = vec![0usize; frames];
    loop {
        let mut collapsed = Vec::new();
        let mut prev = None;
        for &c in &path {
            if Some(c) != prev && c != blank {
                collapsed.push(c as i64);
            }
            prev = Some(c);
        }
        if collapsed == target {
            total += path
                .iter()
                .enumerate()
                .map(|(t, &c)| lp[t * classes + c])
                .sum::<f64>()
                .exp();
        }
        // Next path (odometer).
        let mut t = 0;
        while t < frames {
            path[t] += 1;
            if path[t] < classes {
                break;
            }
            path[t] = 0;
            t += 1;
        }
        if t == frames {
            break;
        }
    }
    -total.ln()
}

#[derive(Debug, Clone)]
struct Raw {
    frames: usize,
    batch: usize,
    classes: usize,
    values: Vec<f64>,
    labels: Vec<i64>,
    input_lengths: Vec<i64>,
    target_lengths: Vec<i64>,
    blank: usize,
    padded: bool,
    max_len: usize,
}

fn raw() -> impl Strategy<Value = Raw> {
    // Sizes first: the shape, and now and then a buffer or a lengths list
    // of the wrong size.
    (0usize..5, 0usize..4, 0usize..5, 0u8..8, 0usize..3, 0u8..8, 0usize..3).prop_flat_map(
        |(frames, batch, classes, wrong_values, dv, wrong_lengths, dl)| {
            let n = frames * batch * classes;
            let n_values = if wrong_values == 0 { (n + dv).saturating_sub(1) } else { n };
            let n_lengths = if wrong_lengths == 0 { (batch + dl).saturating_sub(1) } else { batch };
            (
                prop::collection::vec(
                    prop_oneof![8 => -20.0f64..5.0, 1 => Just(f64::NAN), 1 => Just(f64::NEG_INFINITY)],
                    n_values,
                ),
                prop::collection::vec(-2i64..6, 0..10),
                prop::collection::vec(-1i64..7, n_lengths),
                prop::collection::vec(-1i64..5, batch),
                0usize..6,
                any::<bool>(),
                0usize..4,
            )
                .prop_map(
                    move |(values, labels, input_lengths, target_lengths, blank, padded, max_len)| Raw {
                        frames,
                        batch,
                        classes,
                        values,
                        labels,
                        input_lengths,
                        target_lengths,
                        blank,
                        padded,
                        max_len,
                    },
                )
        },
    )
}

/// One valid sequence: [T, 1, C] log-probabilities and a target that fits.
fn valid() -> impl Strategy<Value = (usize, usize, Vec<f64>, Vec<i64>)> {
    (1usize..6, 2usize..4).prop_flat_map(|(frames, classes)| {
        (
            Just(frames),
            Just(classes),
            prop::collection::vec(-4.0f64..4.0, frames * classes),
            prop::collection::vec(1i64..classes as i64, 0..=frames.min(3)),
        )
    })
}

proptest! {
    // `make fuzz` raises the count with SORI_FUZZ_CASES.
    #![proptest_config(fuzz::config(200))]

    #[test]
    fn arbitrary_inputs_give_an_error_or_a_well_formed_result(r in raw()) {
        let targets = if r.padded {
            Targets::Padded { labels: &r.labels, max_len: r.max_len }
        } else {
            Targets::Concatenated(&r.labels)
        };
        let batch = CtcBatch {
            log_probs: &r.values,
            shape: Shape::new(r.frames, r.batch, r.classes),
            targets,
            input_lengths: &r.input_lengths,
            target_lengths: &r.target_lengths,
        };
        for reduction in [Reduction::None, Reduction::Mean] {
            let opts = CtcOptions { blank: r.blank, reduction, zero_infinity: r.padded };
            if let Ok(out) = ctc_loss_grad(&batch, &opts) {
                prop_assert_eq!(out.losses.len(), r.batch);
                prop_assert_eq!(out.grad.len(), r.values.len());
                prop_assert_eq!(r.values.len(), r.frames * r.batch * r.classes);
            }
            if let Ok(out) = ctc_loss(&batch, &opts) {
                prop_assert_eq!(out.losses.len(), r.batch);
            }
        }
        if let Ok(path) = greedy_decode(&r.values, r.classes.max(1), r.blank) {
            prop_assert!(path.iter().all(|&c| c < r.classes && c != r.blank));
        }
    }

    #[test]
    fn valid_inputs_match_the_brute_force_sum_over_paths((frames, classes, logits, target) in valid()) {
        let lp = log_softmax_rows(&logits, classes);
        let batch = CtcBatch {
            log_probs: &lp,
            shape: Shape::new(frames, 1, classes),
            targets: Targets::Concatenated(&target),
            input_lengths: &[frames as i64],
            target_lengths: &[target.len() as i64],
        };
        let opts = CtcOptions { blank: 0, reduction: Reduction::None, zero_infinity: false };
        let out = ctc_loss_grad(&batch, &opts).unwrap();
        let expected = brute_force_nll(&lp, frames, classes, 0, &target);
        if expected.is_finite() {
            prop_assert!(
                (out.losses[0] - expected).abs() <= 1e-9 * expected.abs().max(1.0),
                "loss {} vs brute force {}", out.losses[0], expected
            );
            prop_assert!(out.grad.iter().all(|g| g.is_finite()));
        } else {
            // No path fits (repeated labels need blanks between them).
            prop_assert!(out.losses[0].is_infinite());
        }
    }
}
