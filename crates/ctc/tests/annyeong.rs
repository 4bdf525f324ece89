//! The toy example's loss equals brute force, through the printed trellis
//! and through the fast native loss; every frame of alpha+beta sums to the
//! same total.

use sori_ctc::annyeong::{brute_force_loss, toy_log_probs, BLANK, LABELS, TARGET};
use sori_ctc::real::log_add;
use sori_ctc::{ctc_loss, trellis, CtcBatch, CtcOptions, Reduction, Shape, Targets};

#[test]
fn annyeong_trellis_and_loss_equal_brute_force() {
    let frames = 8;
    let classes = LABELS.len();
    let lp = toy_log_probs(frames);
    let brute = brute_force_loss(&lp, classes, &TARGET, BLANK);
    assert!(brute.is_finite() && brute > 0.0);
    let tr = trellis(&lp, classes, &TARGET, BLANK).unwrap();
    assert!((tr.loss - brute).abs() < 1e-9, "{} vs {brute}", tr.loss);
    for t in 0..frames {
        let z = (0..tr.states.len())
            .map(|s| tr.alpha[t][s] + tr.beta[t][s])
            .fold(f64::NEG_INFINITY, log_add);
        assert!((-z - brute).abs() < 1e-9, "frame {t}: {} vs {brute}", -z);
    }
    let native = ctc_loss(
        &CtcBatch {
            log_probs: &lp,
            shape: Shape::new(frames, 1, classes),
            targets: Targets::Concatenated(&[1, 2, 3, 4, 5]),
            input_lengths: &[frames as i64],
            target_lengths: &[5],
        },
        &CtcOptions {
            blank: BLANK,
            reduction: Reduction::Sum,
            zero_infinity: false,
        },
    )
    .unwrap();
    assert!((native.loss - brute).abs() < 1e-9);
    let native32 = ctc_loss(
        &CtcBatch {
            log_probs: &lp.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            shape: Shape::new(frames, 1, classes),
            targets: Targets::Concatenated(&[1, 2, 3, 4, 5]),
            input_lengths: &[frames as i64],
            target_lengths: &[5],
        },
        &CtcOptions {
            blank: BLANK,
            reduction: Reduction::Sum,
            zero_infinity: false,
        },
    )
    .unwrap();
    assert!((native32.loss as f64 - brute).abs() < 1e-5 * brute);
}
