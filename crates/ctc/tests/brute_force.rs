//! The native loss and gradient against brute force: every frame-level path
//! of a tiny input is enumerated, collapsed, and the probabilities of those
//! that give the target are summed. Independent of both the trellis and
//! libtorch.

mod common;

use common::{brute_force_ctc, Rng};
use sori_ctc::{ctc_loss_grad, CtcBatch, CtcOptions, Reduction, Shape, Targets};

#[test]
fn loss_and_gradient_equal_path_enumeration() {
    let mut rng = Rng::new(42);
    let mut checked = 0;
    for _ in 0..200 {
        let frames = rng.range(1, 6);
        let classes = rng.range(2, 4);
        let blank = rng.range(0, classes - 1);
        let lp = common::random_log_probs(&mut rng, frames, classes, 1.5);
        let len = rng.range(0, frames.min(4));
        let target = common::random_target(&mut rng, len, classes, blank);
        let (want, occ) = brute_force_ctc(&lp, frames, classes, &target, blank);
        let labels: Vec<i64> = target.iter().map(|&c| c as i64).collect();
        let out = ctc_loss_grad(
            &CtcBatch {
                log_probs: &lp,
                shape: Shape::new(frames, 1, classes),
                targets: Targets::Concatenated(&labels),
                input_lengths: &[frames as i64],
                target_lengths: &[len as i64],
            },
            &CtcOptions {
                blank,
                reduction: Reduction::Sum,
                zero_infinity: true,
            },
        )
        .unwrap();
        if want.is_infinite() {
            assert_eq!(
                out.loss, 0.0,
                "zero_infinity for {target:?} in {frames} frames"
            );
            assert!(out.grad.iter().all(|&g| g == 0.0));
            continue;
        }
        checked += 1;
        assert!(
            (out.loss - want).abs() < 1e-10 * want.abs().max(1.0),
            "{target:?} T={frames}: {} vs {want}",
            out.loss
        );
        for i in 0..frames * classes {
            let g = lp[i].exp() - occ[i];
            assert!(
                (out.grad[i] - g).abs() < 1e-10,
                "grad[{i}] {} vs {g}",
                out.grad[i]
            );
        }
    }
    assert!(checked > 100, "only {checked} feasible cases");
}

/// The f32 path (vectorised polynomial exp/ln) against the same oracle.
#[test]
fn f32_loss_equals_path_enumeration() {
    let mut rng = Rng::new(43);
    for _ in 0..100 {
        let frames = rng.range(2, 7);
        let classes = 3;
        let lp = common::random_log_probs(&mut rng, frames, classes, 3.0);
        let target = vec![1usize, 2];
        let (want, occ) = brute_force_ctc(&lp, frames, classes, &target, 0);
        let lp32: Vec<f32> = lp.iter().map(|&v| v as f32).collect();
        let out = ctc_loss_grad(
            &CtcBatch {
                log_probs: &lp32,
                shape: Shape::new(frames, 1, classes),
                targets: Targets::Concatenated(&[1, 2]),
                input_lengths: &[frames as i64],
                target_lengths: &[2],
            },
            &CtcOptions {
                blank: 0,
                reduction: Reduction::None,
                zero_infinity: false,
            },
        )
        .unwrap();
        assert!(((out.loss as f64) - want).abs() < 1e-5 * want.max(1.0));
        for i in 0..frames * classes {
            let g = lp[i].exp() - occ[i];
            assert!((out.grad[i] as f64 - g).abs() < 1e-5);
        }
    }
}
