//! Every compiled copy of the CTC loss kernels this CPU runs (portable,
//! AVX2 + FMA, AVX-512), forced one after the other with
//! `sori_ctc::kernel::force_kernel`, against references independent of all
//! of them: path enumeration (loss and gradient) on tiny inputs, and the
//! textbook f64 alpha recursion written below for inputs wide enough to fill
//! the vector lanes (40 classes, 50 frames, targets of 15, f32 and f64,
//! blank first and last). On larger inputs each kernel's gradient must also
//! agree with the other kernels'. A kernel the CPU lacks is reported on
//! stderr (AVX-512 on most desktop CPUs); the portable one runs everywhere.
//!
//! One test function: the forced kernel is process-wide.

mod common;

use common::{brute_force_ctc, Rng};
use sori_ctc::kernel::{current_kernel, force_kernel, Kernel, ALL_KERNELS};
use sori_ctc::{ctc_loss_grad, CtcBatch, CtcOptions, Real, Reduction, Shape, Targets};

fn log_add(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// -ln p(target) by the forward (alpha) recursion over the blank-extended
/// target, in f64 (Graves et al. 2006, eq. 6-8).
fn forward_nll(lp: &[f64], frames: usize, classes: usize, target: &[usize], blank: usize) -> f64 {
    let mut ext = vec![blank];
    for &c in target {
        ext.push(c);
        ext.push(blank);
    }
    let s = ext.len();
    let ninf = f64::NEG_INFINITY;
    let mut alpha = vec![ninf; s];
    alpha[0] = lp[ext[0]];
    if s > 1 {
        alpha[1] = lp[ext[1]];
    }
    for t in 1..frames {
        let mut next = vec![ninf; s];
        for i in 0..s {
            let mut a = alpha[i];
            if i >= 1 {
                a = log_add(a, alpha[i - 1]);
            }
            if i >= 2 && ext[i] != blank && ext[i] != ext[i - 2] {
                a = log_add(a, alpha[i - 2]);
            }
            next[i] = a + lp[t * classes + ext[i]];
        }
        alpha = next;
    }
    let end = if s > 1 {
        log_add(alpha[s - 1], alpha[s - 2])
    } else {
        alpha[0]
    };
    -end
}

struct Case {
    lp: Vec<f64>,
    frames: usize,
    classes: usize,
    target: Vec<usize>,
    blank: usize,
}

/// Loss and gradient of one sequence in precision `F` under the current kernel.
fn run<F: Real>(c: &Case) -> (f64, Vec<f64>) {
    let lp: Vec<F> = c.lp.iter().map(|&x| F::from_f64(x)).collect();
    let labels: Vec<i64> = c.target.iter().map(|&x| x as i64).collect();
    let out = ctc_loss_grad(
        &CtcBatch {
            log_probs: &lp,
            shape: Shape::new(c.frames, 1, c.classes),
            targets: Targets::Concatenated(&labels),
            input_lengths: &[c.frames as i64],
            target_lengths: &[c.target.len() as i64],
        },
        &CtcOptions {
            blank: c.blank,
            reduction: Reduction::Sum,
            zero_infinity: false,
        },
    )
    .unwrap();
    (
        out.loss.to_f64(),
        out.grad.iter().map(|g| g.to_f64()).collect(),
    )
}

fn tiny_cases() -> Vec<Case> {
    let mut rng = Rng::new(7);
    (0..60)
        .map(|_| {
            let frames = rng.range(1, 6);
            let classes = rng.range(2, 4);
            let blank = rng.range(0, classes - 1);
            let lp = common::random_log_probs(&mut rng, frames, classes, 1.5);
            let len = rng.range(0, frames.min(3));
            let target = common::random_target(&mut rng, len, classes, blank);
            Case {
                lp,
                frames,
                classes,
                target,
                blank,
            }
        })
        .collect()
}

fn wide_cases() -> Vec<Case> {
    let mut rng = Rng::new(11);
    (0..8)
        .map(|i| {
            let frames = 50;
            let classes = 40;
            let blank = if i % 2 == 0 { 0 } else { classes - 1 };
            let lp = common::random_log_probs(&mut rng, frames, classes, 2.0);
            let target = common::random_target(&mut rng, 15, classes, blank);
            Case {
                lp,
                frames,
                classes,
                target,
                blank,
            }
        })
        .collect()
}

/// Per kernel: the f64 and f32 gradients of the wide cases.
type WideGrads = Vec<(Kernel, Vec<Vec<f64>>, Vec<Vec<f64>>)>;

fn check_kernel(k: Kernel, wide_grads: &mut WideGrads) {
    force_kernel(Some(k)).unwrap();
    assert_eq!(current_kernel(), k);
    let name = k.name();
    for (i, c) in tiny_cases().iter().enumerate() {
        let (want, occ) = brute_force_ctc(&c.lp, c.frames, c.classes, &c.target, c.blank);
        if want.is_infinite() {
            continue;
        }
        let want_grad: Vec<f64> = c.lp.iter().zip(&occ).map(|(l, o)| l.exp() - o).collect();
        for (prec, (loss, grad), tol) in
            [("f64", run::<f64>(c), 1e-9), ("f32", run::<f32>(c), 2e-5)]
        {
            assert!(
                (loss - want).abs() <= tol * want.abs().max(1.0),
                "{name} {prec} case {i}: loss {loss} vs {want}"
            );
            assert_eq!(grad.len(), want_grad.len());
            for (g, w) in grad.iter().zip(&want_grad) {
                assert!(
                    (g - w).abs() <= tol * 10.0,
                    "{name} {prec} case {i}: gradient {g} vs {w}"
                );
            }
        }
    }
    let mut g64 = Vec::new();
    let mut g32 = Vec::new();
    for (i, c) in wide_cases().iter().enumerate() {
        let want = forward_nll(&c.lp, c.frames, c.classes, &c.target, c.blank);
        let (l64, gr64) = run::<f64>(c);
        let (l32, gr32) = run::<f32>(c);
        assert!(
            (l64 - want).abs() <= 1e-9 * want.abs(),
            "{name} f64 wide case {i}: {l64} vs {want}"
        );
        assert!(
            (l32 - want).abs() <= 1e-5 * want.abs(),
            "{name} f32 wide case {i}: {l32} vs {want}"
        );
        // Each frame's gradient sums to 0 (softmax minus a distribution).
        for t in 0..c.frames {
            let s: f64 = gr64[t * c.classes..(t + 1) * c.classes].iter().sum();
            assert!(
                s.abs() < 1e-9,
                "{name} wide case {i} frame {t}: gradient sums to {s}"
            );
        }
        g64.push(gr64);
        g32.push(gr32);
    }
    wide_grads.push((k, g64, g32));
}

#[test]
fn every_kernel_this_cpu_runs_matches_the_references() {
    let mut ran = Vec::new();
    let mut wide = Vec::new();
    for k in ALL_KERNELS {
        if !k.supported() {
            eprintln!(
                "NOTE: this CPU cannot run the {} CTC kernel; not tested here",
                k.name()
            );
            assert!(force_kernel(Some(k)).unwrap_err().contains(k.name()));
            continue;
        }
        check_kernel(k, &mut wide);
        ran.push(k.name());
    }
    force_kernel(None).unwrap();
    eprintln!("CTC kernels tested: {ran:?}");
    assert!(ran.contains(&"generic"));
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        assert!(ran.contains(&"avx2"));
    }
    // The kernels agree with each other on the wide gradients.
    let (k0, base64, base32) = &wide[0];
    for (k, g64, g32) in &wide[1..] {
        for (i, ((a, b), (c, d))) in base64
            .iter()
            .zip(g64)
            .zip(base32.iter().zip(g32))
            .enumerate()
        {
            assert_eq!(a.len(), b.len());
            let d64 = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max);
            let d32 = c
                .iter()
                .zip(d)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max);
            assert!(
                d64 < 1e-9,
                "{k0:?} vs {k:?} wide case {i}: f64 gradients differ by {d64}"
            );
            assert!(
                d32 < 1e-4,
                "{k0:?} vs {k:?} wide case {i}: f32 gradients differ by {d32}"
            );
        }
    }
}
