//! The native loss and gradient against libtorch's `ctc_loss` (forward and
//! autograd backward) on randomised batches: repeated labels, empty targets,
//! inputs of exactly the minimal length, infeasible ones (infinite loss, or
//! zero with `zero_infinity`), every reduction, both target layouts, f32 and
//! f64, blank at any index. Agreement within 1e-4 relative.

mod common;

use common::Rng;
use sori_ctc::{
    ctc_loss, ctc_loss_grad, ctc_loss_grad_logits, CtcBatch, CtcLoss, CtcOptions, Real, Reduction,
    Shape, Targets,
};
use tch::{Kind, Tensor};

struct Case {
    shape: Shape,
    lp: Vec<f64>,
    targets: Vec<Vec<i64>>,
    input_lengths: Vec<i64>,
    blank: usize,
}

fn random_case(rng: &mut Rng) -> Case {
    let frames = rng.range(1, 30);
    let batch = rng.range(1, 5);
    let classes = rng.range(2, 9);
    let blank = rng.range(0, classes - 1);
    let scale = [0.5, 2.0, 6.0][rng.range(0, 2)];
    let lp = common::random_log_probs(rng, frames * batch, classes, scale);
    let mut targets = Vec::new();
    let mut input_lengths = Vec::new();
    for _ in 0..batch {
        // Few distinct labels make repeats common.
        let alphabet = rng.range(1, classes - 1);
        let len = rng.range(0, frames.min(12));
        let target: Vec<i64> = (0..len)
            .map(|_| {
                let mut c = rng.range(0, alphabet - 1);
                if c >= blank {
                    c += 1;
                }
                c as i64
            })
            .collect();
        let repeats = target.windows(2).filter(|w| w[0] == w[1]).count();
        let minimal = target.len() + repeats;
        let il = match rng.range(0, 5) {
            0 => minimal.min(frames),                   // exactly the minimum
            1 => minimal.saturating_sub(1).min(frames), // usually infeasible
            2 => frames,
            _ => rng.range(minimal.min(frames), frames),
        };
        targets.push(target);
        input_lengths.push(il as i64);
    }
    Case {
        shape: Shape::new(frames, batch, classes),
        lp,
        targets,
        input_lengths,
        blank,
    }
}

fn tch_reduction(r: Reduction) -> tch::Reduction {
    match r {
        Reduction::None => tch::Reduction::None,
        Reduction::Sum => tch::Reduction::Sum,
        Reduction::Mean => tch::Reduction::Mean,
    }
}

fn padded(targets: &[Vec<i64>]) -> (Vec<i64>, usize) {
    let max_len = targets.iter().map(|t| t.len()).max().unwrap_or(0).max(1);
    let mut out = vec![0i64; targets.len() * max_len];
    for (b, t) in targets.iter().enumerate() {
        out[b * max_len..b * max_len + t.len()].copy_from_slice(t);
    }
    (out, max_len)
}

fn close(got: f64, want: f64, scale: f64) -> bool {
    close_tol(got, want, scale, 1e-4)
}

/// |got - want| <= rtol * max(|want|, scale), with NaN and infinities equal
/// only to themselves.
fn close_tol(got: f64, want: f64, scale: f64, rtol: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= rtol * want.abs().max(scale)
}

/// libtorch's losses (reduced) and gradient for the case.
fn torch_reference(
    case: &Case,
    kind: Kind,
    reduction: Reduction,
    zero_infinity: bool,
    use_padded: bool,
) -> (Vec<f64>, Vec<f64>) {
    let Shape {
        frames,
        batch,
        classes,
    } = case.shape;
    let lp = Tensor::from_slice(&case.lp)
        .view([frames as i64, batch as i64, classes as i64])
        .to_kind(kind)
        .set_requires_grad(true);
    let target_lengths: Vec<i64> = case.targets.iter().map(|t| t.len() as i64).collect();
    let targets = if use_padded {
        let (p, max_len) = padded(&case.targets);
        Tensor::from_slice(&p).view([batch as i64, max_len as i64])
    } else {
        Tensor::from_slice(&case.targets.concat())
    };
    let loss = Tensor::ctc_loss(
        &lp,
        &targets,
        case.input_lengths.as_slice(),
        target_lengths.as_slice(),
        case.blank as i64,
        tch_reduction(reduction),
        zero_infinity,
    );
    let total = if reduction == Reduction::None {
        loss.sum(kind)
    } else {
        loss.shallow_clone()
    };
    total.backward();
    let losses = Vec::<f64>::try_from(loss.to_kind(Kind::Double).flatten(0, -1)).unwrap();
    let grad = Vec::<f64>::try_from(lp.grad().to_kind(Kind::Double).flatten(0, -1)).unwrap();
    (losses, grad)
}

/// Native against libtorch. f64 is compared with libtorch f64 at 1e-8. f32
/// inputs are compared with libtorch f64 on the same (f32-rounded) inputs at
/// 1e-4, and the f32 loss also with libtorch f32 at 1e-4: libtorch's own f32
/// gradient drifts from its f64 one by more than 1e-4 on long inputs (it
/// keeps the trellis in absolute log space), so it is not a fair oracle for
/// f32 gradients. Gradients are compared relative to the gradient's scale
/// (its largest magnitude, i.e. the reduction weight).
fn check_case<F: Real>(case: &Case, reduction: Reduction, zero_inf: bool, pad: bool, tag: &str) {
    let is_f32 = std::mem::size_of::<F>() == 4;
    let rtol = if is_f32 { 1e-4 } else { 1e-8 };
    let (want_loss, want_grad) = torch_reference(case, Kind::Double, reduction, zero_inf, pad);
    let lp: Vec<F> = case.lp.iter().map(|&v| F::from_f64(v)).collect();
    let target_lengths: Vec<i64> = case.targets.iter().map(|t| t.len() as i64).collect();
    let (p, max_len) = padded(&case.targets);
    let concat = case.targets.concat();
    let targets = if pad {
        Targets::Padded {
            labels: &p,
            max_len,
        }
    } else {
        Targets::Concatenated(&concat)
    };
    let batch = CtcBatch {
        log_probs: &lp,
        shape: case.shape,
        targets,
        input_lengths: &case.input_lengths,
        target_lengths: &target_lengths,
    };
    let opts = CtcOptions {
        blank: case.blank,
        reduction,
        zero_infinity: zero_inf,
    };
    let out = ctc_loss_grad(&batch, &opts).unwrap();
    let no_grad = ctc_loss(&batch, &opts).unwrap();
    let got_loss: Vec<f64> = if reduction == Reduction::None {
        out.losses.iter().map(|v| v.to_f64()).collect()
    } else {
        vec![out.loss.to_f64()]
    };
    assert_eq!(got_loss.len(), want_loss.len(), "{tag}");
    for (g, w) in got_loss.iter().zip(&want_loss) {
        assert!(
            close_tol(*g, *w, 1.0, rtol),
            "{tag}: loss {g} vs libtorch {w}"
        );
    }
    if is_f32 {
        let (loss32, _) = torch_reference(case, Kind::Float, reduction, zero_inf, pad);
        assert_eq!(loss32.len(), got_loss.len(), "{tag}");
        for (g, w) in got_loss.iter().zip(&loss32) {
            assert!(close(*g, *w, 1.0), "{tag}: loss {g} vs libtorch f32 {w}");
        }
    }
    assert_eq!(
        out.loss.to_f64().to_bits(),
        no_grad.loss.to_f64().to_bits(),
        "{tag}"
    );
    let gmax = want_grad
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert_eq!(out.grad.len(), want_grad.len(), "{tag}");
    assert_eq!(out.grad.len(), lp.len(), "{tag}");
    for (i, (g, w)) in out.grad.iter().zip(&want_grad).enumerate() {
        assert!(
            close_tol(g.to_f64(), *w, gmax.max(1e-12), rtol),
            "{tag}: grad[{i}] {g} vs libtorch {w}"
        );
    }
}

#[test]
fn random_batches_match_libtorch() {
    let mut rng = Rng::new(7);
    for trial in 0..60 {
        let case = random_case(&mut rng);
        let reduction = [Reduction::None, Reduction::Sum, Reduction::Mean][trial % 3];
        let zero_inf = trial % 2 == 0;
        let pad = trial % 4 < 2;
        let tag = format!(
            "trial {trial} {:?} blank {} il {:?} targets {:?} {reduction:?} zi={zero_inf}",
            case.shape, case.blank, case.input_lengths, case.targets
        );
        check_case::<f64>(&case, reduction, zero_inf, pad, &format!("f64 {tag}"));
        let case32 = Case {
            lp: case.lp.iter().map(|&v| v as f32 as f64).collect(),
            ..case
        };
        check_case::<f32>(&case32, reduction, zero_inf, pad, &format!("f32 {tag}"));
    }
}

#[test]
fn longer_sequences_match_libtorch() {
    let mut rng = Rng::new(11);
    for (frames, classes, len) in [(150, 29, 40), (300, 29, 120), (60, 200, 20)] {
        let batch = 3;
        let lp = common::random_log_probs(&mut rng, frames * batch, classes, 3.0);
        let targets: Vec<Vec<i64>> = (0..batch)
            .map(|_| (0..len).map(|_| rng.range(1, classes - 1) as i64).collect())
            .collect();
        let case = Case {
            shape: Shape::new(frames, batch, classes),
            lp: lp.iter().map(|&v| v as f32 as f64).collect(),
            targets,
            input_lengths: vec![frames as i64, (frames - 7) as i64, (len * 2) as i64],
            blank: 0,
        };
        for reduction in [Reduction::None, Reduction::Mean] {
            check_case::<f32>(
                &case,
                reduction,
                false,
                true,
                &format!("T={frames} C={classes}"),
            );
            check_case::<f64>(
                &case,
                reduction,
                false,
                false,
                &format!("T={frames} C={classes}"),
            );
        }
    }
}

#[test]
fn logits_gradient_matches_autograd_through_log_softmax() {
    let mut rng = Rng::new(3);
    let (frames, batch, classes) = (20usize, 3usize, 6usize);
    let logits: Vec<f64> = (0..frames * batch * classes)
        .map(|_| rng.normal() * 2.0)
        .collect();
    let targets: Vec<i64> = vec![1, 2, 2, 3, 5, 4, 1, 1];
    let target_lengths = [3i64, 2, 3];
    let input_lengths = [20i64, 15, 9];
    let x = Tensor::from_slice(&logits)
        .view([frames as i64, batch as i64, classes as i64])
        .set_requires_grad(true);
    let loss = Tensor::ctc_loss(
        &x.log_softmax(-1, Kind::Double),
        &Tensor::from_slice(&targets),
        &input_lengths[..],
        &target_lengths[..],
        0,
        tch::Reduction::Mean,
        false,
    );
    loss.backward();
    let want = Vec::<f64>::try_from(x.grad().flatten(0, -1)).unwrap();
    let out = ctc_loss_grad_logits(
        &CtcBatch {
            log_probs: &logits,
            shape: Shape::new(frames, batch, classes),
            targets: Targets::Concatenated(&targets),
            input_lengths: &input_lengths,
            target_lengths: &target_lengths,
        },
        &CtcOptions::default(),
    )
    .unwrap();
    assert!(close(out.loss, loss.double_value(&[]), 1.0));
    assert_eq!(out.grad.len(), want.len());
    assert_eq!(out.grad.len(), frames * batch * classes);
    for (g, w) in out.grad.iter().zip(&want) {
        assert!((g - w).abs() < 1e-9, "{g} vs {w}");
    }
}

#[test]
fn bridge_backward_delivers_the_native_gradient() {
    let mut rng = Rng::new(5);
    let (frames, batch, classes) = (25usize, 4usize, 7usize);
    let lp = common::random_log_probs(&mut rng, frames * batch, classes, 2.0);
    let targets = Tensor::from_slice(&[1i64, 2, 3, 4, 4, 0, 5, 6, 6, 6, 2, 0]).view([4, 3]);
    let target_lengths = [3i64, 2, 3, 2];
    let input_lengths = [25i64, 20, 3, 6];
    for reduction in [Reduction::None, Reduction::Sum, Reduction::Mean] {
        for kind in [Kind::Float, Kind::Double] {
            for zero_inf in [false, true] {
                let mk = || {
                    Tensor::from_slice(&lp)
                        .view([frames as i64, batch as i64, classes as i64])
                        .to_kind(kind)
                        .set_requires_grad(true)
                };
                let (a, b) = (mk(), mk());
                let ours = CtcLoss::new(0)
                    .with_reduction(reduction)
                    .with_zero_infinity(zero_inf)
                    .forward(&a, &targets, &input_lengths, &target_lengths)
                    .unwrap();
                let theirs = Tensor::ctc_loss(
                    &b,
                    &targets,
                    &input_lengths[..],
                    &target_lengths[..],
                    0,
                    tch_reduction(reduction),
                    zero_inf,
                );
                assert_eq!(ours.size(), theirs.size());
                // A non-trivial upstream gradient for the unreduced case.
                let up = Tensor::from_slice(&[0.5f64, -1.0, 2.0, 1.5]).to_kind(kind);
                let (lo, lt) = if reduction == Reduction::None {
                    ((&ours * &up).sum(kind), (&theirs * &up).sum(kind))
                } else {
                    (ours.shallow_clone(), theirs.shallow_clone())
                };
                let vo = Vec::<f64>::try_from(ours.to_kind(Kind::Double).flatten(0, -1)).unwrap();
                let vt = Vec::<f64>::try_from(theirs.to_kind(Kind::Double).flatten(0, -1)).unwrap();
                assert_eq!(vo.len(), vt.len());
                for (o, t) in vo.iter().zip(&vt) {
                    assert!(close(*o, *t, 1.0), "{reduction:?} {kind:?}: {o} vs {t}");
                }
                if vt.iter().all(|v| v.is_finite()) {
                    lo.backward();
                    lt.backward();
                    let ga = Vec::<f64>::try_from(a.grad().to_kind(Kind::Double).flatten(0, -1))
                        .unwrap();
                    let gb = Vec::<f64>::try_from(b.grad().to_kind(Kind::Double).flatten(0, -1))
                        .unwrap();
                    assert_eq!(ga.len(), frames * batch * classes);
                    assert_eq!(ga.len(), gb.len());
                    for (x, y) in ga.iter().zip(&gb) {
                        assert!(
                            (x - y).abs() < 1e-4 * y.abs().max(1e-2),
                            "{reduction:?} {kind:?}: {x} vs {y}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let mut rng = Rng::new(9);
    let (frames, batch, classes) = (40usize, 8usize, 10usize);
    let lp: Vec<f32> = common::random_log_probs(&mut rng, frames * batch, classes, 2.0)
        .iter()
        .map(|&v| v as f32)
        .collect();
    let targets: Vec<i64> = (0..batch * 6)
        .map(|_| rng.range(1, classes - 1) as i64)
        .collect();
    let batch_ref = CtcBatch {
        log_probs: &lp,
        shape: Shape::new(frames, batch, classes),
        targets: Targets::Padded {
            labels: &targets,
            max_len: 6,
        },
        input_lengths: &[40, 39, 38, 30, 20, 12, 40, 35],
        target_lengths: &[6, 5, 6, 4, 3, 6, 0, 6],
    };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| ctc_loss_grad(&batch_ref, &CtcOptions::default()).unwrap())
    };
    let one = run(1);
    let many = run(4);
    assert_eq!(one.loss.to_bits(), many.loss.to_bits());
    assert_eq!(one.grad.len(), frames * batch * classes);
    assert_eq!(one.grad.len(), many.grad.len());
    assert_eq!(one.losses.len(), many.losses.len());
    assert!(one
        .losses
        .iter()
        .zip(&many.losses)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(one
        .grad
        .iter()
        .zip(&many.grad)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}
