//! The toy example's loss equals brute force, through the printed trellis
//! and through the fast native loss; every frame of alpha+beta sums to the
//! same total.

use sori_ctc::annyeong::{brute_force_loss, native_loss, toy_log_probs, BLANK, LABELS, TARGET};
use sori_ctc::real::log_add;
use sori_ctc::trellis;

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
    let native = native_loss(&lp).unwrap();
    assert!((native - brute).abs() < 1e-9);
    let native32 = native_loss(&lp.iter().map(|&v| v as f32).collect::<Vec<_>>()).unwrap();
    assert!((native32 as f64 - brute).abs() < 1e-5 * brute);
}
