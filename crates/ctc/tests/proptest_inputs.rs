//! Property tests of the CTC loss on arbitrary inputs (issues 10 and 24).
//!
//! - Shapes, lengths, labels, values (NaN, +inf, -inf) and blank index drawn
//!   at random, valid or not: the result must be exactly the error a
//!   reference validator written from the `CtcError` docs predicts (its
//!   kind and the sequence, frame, class or position it names), or, where
//!   the reference finds nothing wrong, a result of the right size; never a
//!   panic, never an error on valid input.
//! - One table test per error kind, each with a value the kind names.
//! - Valid batches (any blank, batch of 1 to 3, input lengths shorter than
//!   the frames with NaN beyond them, padded or concatenated targets with
//!   garbage padding, `zero_infinity` on and off, every reduction, f32 and
//!   f64): every loss equals the sum over all alignment paths by enumeration
//!   (an oracle independent of the alpha-beta recursion), the reduced loss
//!   follows PyTorch's definition, and every gradient entry equals a central
//!   finite difference of the enumerated loss with respect to the logits.
//!
//! A fixed, small number of cases, so it runs in `make test`.
#[path = "../../train/tests/support/fuzz.rs"]
mod fuzz;
use proptest::prelude::*;
use sori_ctc::{
    ctc_loss, ctc_loss_grad, ctc_loss_grad_logits, greedy_decode, log_softmax_rows, CtcBatch,
    CtcError, CtcOptions, CtcOutput, Real, Reduction, Shape, Targets,
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

/// The error the loss must return for `batch` with blank `blank`, or `None`
/// when the input is valid. Written from the documented checks, in the
/// documented order: the buffer's shape, the blank, the length lists, the
/// padded targets' shape, then per sequence its input length, target length
/// and labels (out of range before blank), the concatenated targets' total,
/// and last the first NaN or +inf inside some sequence's input length.
fn reference_error(b: &CtcBatch<'_, f64>, blank: usize) -> Option<CtcError> {
    let Shape {
        frames,
        batch: n,
        classes,
    } = b.shape;
    if b.log_probs.len() != frames * n * classes {
        return Some(CtcError::LogProbsShape {
            got: b.log_probs.len(),
            expected: frames * n * classes,
            frames,
            batch: n,
            classes,
        });
    }
    if blank >= classes {
        return Some(CtcError::BlankOutOfRange { blank, classes });
    }
    if b.input_lengths.len() != n {
        return Some(CtcError::LengthsCount {
            what: "input_lengths",
            got: b.input_lengths.len(),
            batch: n,
        });
    }
    if b.target_lengths.len() != n {
        return Some(CtcError::LengthsCount {
            what: "target_lengths",
            got: b.target_lengths.len(),
            batch: n,
        });
    }
    let max_target = match b.targets {
        Targets::Padded { labels, max_len } => {
            if labels.len() != n * max_len {
                return Some(CtcError::PaddedTargetsShape {
                    got: labels.len(),
                    expected: n * max_len,
                    batch: n,
                    max_len,
                });
            }
            max_len
        }
        Targets::Concatenated(labels) => labels.len(),
    };
    let mut used = 0usize;
    for seq in 0..n {
        let il = b.input_lengths[seq];
        if !(0..=frames as i64).contains(&il) {
            return Some(CtcError::InputLength {
                seq,
                len: il,
                max: frames,
            });
        }
        let tl = b.target_lengths[seq];
        if !(0..=max_target as i64).contains(&tl) {
            return Some(CtcError::TargetLength {
                seq,
                len: tl,
                max: max_target,
            });
        }
        let tl = tl as usize;
        let row: &[i64] = match b.targets {
            Targets::Padded { labels, max_len } => &labels[seq * max_len..][..tl],
            Targets::Concatenated(labels) => {
                if used + tl > labels.len() {
                    return Some(CtcError::ConcatenatedTargetsShape {
                        got: labels.len(),
                        expected: b.target_lengths.iter().map(|&l| l.max(0) as usize).sum(),
                    });
                }
                used += tl;
                &labels[used - tl..used]
            }
        };
        for (pos, &label) in row.iter().enumerate() {
            if label < 0 || label >= classes as i64 {
                return Some(CtcError::LabelOutOfRange {
                    seq,
                    pos,
                    label,
                    classes,
                });
            }
            if label == blank as i64 {
                return Some(CtcError::BlankInTarget { seq, pos, blank });
            }
        }
    }
    if let Targets::Concatenated(labels) = b.targets {
        if used != labels.len() {
            return Some(CtcError::ConcatenatedTargetsShape {
                got: labels.len(),
                expected: used,
            });
        }
    }
    for seq in 0..n {
        for frame in 0..b.input_lengths[seq] as usize {
            for class in 0..classes {
                let value = b.log_probs[(frame * n + seq) * classes + class];
                if value.is_nan() || value == f64::INFINITY {
                    return Some(CtcError::NonFiniteLogProb {
                        seq,
                        frame,
                        class,
                        value,
                    });
                }
            }
        }
    }
    None
}

/// Equality of errors, NaN values included (NaN != NaN under `PartialEq`).
fn same_error(got: &CtcError, want: &CtcError) -> bool {
    match (got, want) {
        (
            CtcError::NonFiniteLogProb {
                seq,
                frame,
                class,
                value,
            },
            CtcError::NonFiniteLogProb {
                seq: s,
                frame: f,
                class: c,
                value: v,
            },
        ) => {
            (seq, frame, class) == (s, f, c)
                && (value.to_bits() == v.to_bits() || (value.is_nan() && v.is_nan()))
        }
        _ => got == want,
    }
}

/// Checks a loss result against the reference: the same error, or, on
/// valid input, a result of the right size.
fn check_against_reference<F: Real>(
    what: &str,
    got: &Result<CtcOutput<F>, CtcError>,
    want: &Option<CtcError>,
    batch: usize,
    grad_len: usize,
) -> Result<(), TestCaseError> {
    match (got, want) {
        (Err(e), Some(w)) => {
            prop_assert!(
                same_error(e, w),
                "{}: error {:?}, expected {:?}",
                what,
                e,
                w
            );
        }
        (Err(e), None) => {
            return Err(TestCaseError::fail(format!(
                "{what}: error {e:?} on valid input"
            )))
        }
        (Ok(_), Some(w)) => {
            return Err(TestCaseError::fail(format!(
                "{what}: no error, expected {w:?}"
            )))
        }
        (Ok(out), None) => {
            prop_assert_eq!(out.losses.len(), batch);
            prop_assert_eq!(out.grad.len(), grad_len);
        }
    }
    Ok(())
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
    // of the wrong size. Then values, lengths, labels and blank, mostly in
    // range so that the later checks (labels, blank in a target, NaN and
    // +inf) are reached too, now and then out of range.
    (
        0usize..5,
        prop_oneof![1 => Just(0usize), 6 => 1usize..4],
        prop_oneof![1 => Just(0usize), 8 => 1usize..5],
        0u8..8,
        0usize..3,
        0u8..8,
        0usize..3,
    )
        .prop_flat_map(
            |(frames, batch, classes, wrong_values, dv, wrong_lengths, dl)| {
                let n = frames * batch * classes;
                let n_values = if wrong_values == 0 {
                    (n + dv).saturating_sub(1)
                } else {
                    n
                };
                let n_lengths = if wrong_lengths == 0 {
                    (batch + dl).saturating_sub(1)
                } else {
                    batch
                };
                let c = classes as i64;
                let t = frames as i64;
                (
                    prop::collection::vec(
                        prop_oneof![
                            40 => -20.0f64..5.0,
                            1 => Just(f64::NAN),
                            1 => Just(f64::INFINITY),
                            2 => Just(f64::NEG_INFINITY),
                        ],
                        n_values,
                    ),
                    prop::collection::vec(
                        prop_oneof![12 => 0..c.max(1), 1 => -2i64..0, 1 => c..c + 2],
                        1..10,
                    ),
                    prop::collection::vec(
                        prop_oneof![8 => 0..=t, 1 => Just(-1i64), 1 => Just(t + 1)],
                        n_lengths,
                    ),
                    prop::collection::vec(prop_oneof![8 => 0i64..3, 1 => -1i64..5], batch),
                    prop_oneof![6 => 0..classes.max(1), 1 => 0usize..6],
                    any::<bool>(),
                    0usize..4,
                    prop_oneof![3 => Just(true), 1 => Just(false)],
                    prop::option::weighted(0.4, (any::<prop::sample::Index>(), any::<bool>())),
                )
                    .prop_map(
                        move |(
                            values,
                            mut labels,
                            input_lengths,
                            target_lengths,
                            blank,
                            padded,
                            max_len,
                            fit,
                            poison,
                        )| {
                            let mut values = values;
                            // Often one NaN or +inf somewhere.
                            if let (Some((at, nan)), false) = (poison, values.is_empty()) {
                                let i = at.index(values.len());
                                values[i] = if nan { f64::NAN } else { f64::INFINITY };
                            }
                            // Mostly a label buffer of the size the lengths need.
                            if fit {
                                let need = if padded {
                                    batch * max_len
                                } else {
                                    target_lengths.iter().map(|&l| l.max(0) as usize).sum()
                                };
                                labels = labels.iter().copied().cycle().take(need).collect();
                            }
                            Raw {
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
                            }
                        },
                    )
            },
        )
}

/// A valid batch, and the options to run it with.
#[derive(Debug, Clone)]
struct Valid {
    frames: usize,
    batch: usize,
    classes: usize,
    blank: usize,
    /// `[T, N, C]` logits.
    logits: Vec<f64>,
    input_lengths: Vec<i64>,
    /// Each sequence's labels (never the blank).
    targets: Vec<Vec<i64>>,
    /// Padded layout: extra columns beyond the longest target, and the
    /// garbage (blank, out of range) that fills the padding. `None`:
    /// concatenated.
    padding: Option<(usize, i64)>,
    /// NaN in every frame beyond a sequence's input length (must not be read).
    poison: bool,
    zero_infinity: bool,
    reduction: Reduction,
    single: bool,
}

fn valid() -> impl Strategy<Value = Valid> {
    (1usize..=5, 1usize..=3, 2usize..=4).prop_flat_map(|(frames, batch, classes)| {
        (
            0..classes,
            prop::collection::vec(-4.0f64..4.0, frames * batch * classes),
            prop::collection::vec(
                prop_oneof![2 => Just(frames as i64), 1 => 0..=frames as i64],
                batch,
            ),
            // Labels in 0..classes-1, shifted past the blank below.
            prop::collection::vec(prop::collection::vec(0..classes as i64 - 1, 0..=3), batch),
            prop::option::of((0usize..2, -2i64..6)),
            any::<bool>(),
            any::<bool>(),
            prop_oneof![
                Just(Reduction::None),
                Just(Reduction::Sum),
                Just(Reduction::Mean)
            ],
            any::<bool>(),
        )
            .prop_map(
                move |(
                    blank,
                    logits,
                    input_lengths,
                    raw_targets,
                    padding,
                    poison,
                    zero_infinity,
                    reduction,
                    single,
                )| {
                    let targets = raw_targets
                        .into_iter()
                        .map(|t| {
                            t.into_iter()
                                .map(|c| if c >= blank as i64 { c + 1 } else { c })
                                .collect()
                        })
                        .collect();
                    Valid {
                        frames,
                        batch,
                        classes,
                        blank,
                        logits,
                        input_lengths,
                        targets,
                        padding,
                        poison,
                        zero_infinity,
                        reduction,
                        single,
                    }
                },
            )
    })
}

impl Valid {
    /// Log-probabilities (log-softmax of the logits), NaN beyond each input
    /// length when poisoned, rounded to f32 when the case runs in f32.
    fn log_probs(&self) -> Vec<f64> {
        let mut lp = log_softmax_rows(&self.logits, self.classes);
        if self.poison {
            for t in 0..self.frames {
                for b in 0..self.batch {
                    if t as i64 >= self.input_lengths[b] {
                        let start = (t * self.batch + b) * self.classes;
                        lp[start..start + self.classes].fill(f64::NAN);
                    }
                }
            }
        }
        if self.single {
            lp.iter_mut().for_each(|v| *v = *v as f32 as f64);
        }
        lp
    }

    /// The label buffer and the target lengths.
    fn label_buffer(&self) -> (Vec<i64>, Vec<i64>, usize) {
        let lengths: Vec<i64> = self.targets.iter().map(|t| t.len() as i64).collect();
        match self.padding {
            None => (self.targets.concat(), lengths, 0),
            Some((extra, fill)) => {
                let max_len = self.targets.iter().map(Vec::len).max().unwrap_or(0) + extra;
                let mut labels = vec![fill; self.batch * max_len];
                for (b, t) in self.targets.iter().enumerate() {
                    labels[b * max_len..][..t.len()].copy_from_slice(t);
                }
                (labels, lengths, max_len)
            }
        }
    }

    /// Sequence b's negative log-likelihood by path enumeration over its
    /// first `input_lengths[b]` frames of `lp`.
    fn nll(&self, lp: &[f64], b: usize) -> f64 {
        let il = self.input_lengths[b] as usize;
        let mut rows = Vec::with_capacity(il * self.classes);
        for t in 0..il {
            let start = (t * self.batch + b) * self.classes;
            rows.extend_from_slice(&lp[start..start + self.classes]);
        }
        brute_force_nll(&rows, il, self.classes, self.blank, &self.targets[b])
    }

    /// Weight of sequence b's loss in the reduced loss (PyTorch's meaning).
    fn weight(&self, b: usize) -> f64 {
        match self.reduction {
            Reduction::None | Reduction::Sum => 1.0,
            Reduction::Mean => 1.0 / (self.batch * self.targets[b].len().max(1)) as f64,
        }
    }

    /// d(weight_b * nll_b) / d logit[t, b, c] by a central difference of the
    /// enumerated loss (the log-softmax of the perturbed row recomputed).
    fn finite_difference(&self, t: usize, b: usize, c: usize) -> f64 {
        let h = 1e-4;
        let at = |delta: f64| {
            let mut logits = self.logits.clone();
            logits[(t * self.batch + b) * self.classes + c] += delta;
            let lp = log_softmax_rows(&logits, self.classes);
            self.nll(&lp, b)
        };
        self.weight(b) * (at(h) - at(-h)) / (2.0 * h)
    }
}

/// Runs `v` in precision F and checks every loss and gradient entry against
/// path enumeration and finite differences. Tolerances: relative `tol` on
/// losses, absolute `tol` on gradients.
fn check_valid<F: Real>(v: &Valid, tol: f64) -> Result<(), TestCaseError> {
    let lp64 = v.log_probs();
    let lp: Vec<F> = lp64.iter().map(|&x| F::from_f64(x)).collect();
    let (labels, target_lengths, max_len) = v.label_buffer();
    let batch = CtcBatch {
        log_probs: &lp,
        shape: Shape::new(v.frames, v.batch, v.classes),
        targets: if v.padding.is_some() {
            Targets::Padded {
                labels: &labels,
                max_len,
            }
        } else {
            Targets::Concatenated(&labels)
        },
        input_lengths: &v.input_lengths,
        target_lengths: &target_lengths,
    };
    let opts = CtcOptions {
        blank: v.blank,
        reduction: v.reduction,
        zero_infinity: v.zero_infinity,
    };
    let out = ctc_loss_grad(&batch, &opts);
    prop_assert!(out.is_ok(), "valid input refused: {:?}", out.err());
    let out = out.unwrap();
    let loss_only = ctc_loss(&batch, &opts).unwrap();
    prop_assert!(loss_only.grad.is_empty());
    prop_assert_eq!(out.losses.len(), v.batch);
    prop_assert_eq!(out.grad.len(), lp.len());

    let close = |got: f64, want: f64| (got - want).abs() <= tol * want.abs().max(1.0);
    let mut reduced = 0.0;
    for b in 0..v.batch {
        let nll = v.nll(&lp64, b);
        let want = if nll.is_infinite() && v.zero_infinity {
            0.0
        } else {
            nll
        };
        for (name, got) in [("loss", out.losses[b]), ("loss only", loss_only.losses[b])] {
            let got = got.to_f64();
            prop_assert!(
                got == want || close(got, want),
                "{} of sequence {}: {} vs enumeration {}",
                name,
                b,
                got,
                want
            );
        }
        reduced += match v.reduction {
            Reduction::None | Reduction::Sum => want,
            Reduction::Mean => want / v.targets[b].len().max(1) as f64,
        };
        let il = v.input_lengths[b] as usize;
        for t in 0..v.frames {
            for c in 0..v.classes {
                let got = out.grad[(t * v.batch + b) * v.classes + c].to_f64();
                let want = if t >= il || (nll.is_infinite() && v.zero_infinity) {
                    0.0
                } else if nll.is_infinite() {
                    f64::NAN // libtorch's gradient of an infinite loss
                } else {
                    v.finite_difference(t, b, c)
                };
                prop_assert!(
                    (got.is_nan() && want.is_nan()) || (got - want).abs() <= tol,
                    "grad[t={}, b={}, c={}] {} vs finite difference {} (input length {})",
                    t,
                    b,
                    c,
                    got,
                    want,
                    il
                );
            }
        }
    }
    if v.reduction == Reduction::Mean {
        reduced /= v.batch as f64;
    }
    for (name, got) in [("loss", out.loss), ("loss only", loss_only.loss)] {
        let got = got.to_f64();
        prop_assert!(
            got == reduced || close(got, reduced),
            "reduced {} ({:?}) {} vs {}",
            name,
            v.reduction,
            got,
            reduced
        );
    }
    Ok(())
}

proptest! {
    // `make fuzz` raises the count with SORI_FUZZ_CASES.
    #![proptest_config(fuzz::config(200))]

    #[test]
    fn arbitrary_inputs_give_the_predicted_error_or_a_well_formed_result(r in raw()) {
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
        let want = reference_error(&batch, r.blank);
        for reduction in [Reduction::None, Reduction::Sum, Reduction::Mean] {
            for zero_infinity in [false, true] {
                let opts = CtcOptions { blank: r.blank, reduction, zero_infinity };
                let got = ctc_loss_grad(&batch, &opts);
                check_against_reference("ctc_loss_grad", &got, &want, r.batch, r.values.len())?;
                let got = ctc_loss(&batch, &opts);
                check_against_reference("ctc_loss", &got, &want, r.batch, 0)?;
            }
        }
        // The same input in f32 gives the same error.
        let values32: Vec<f32> = r.values.iter().map(|&v| v as f32).collect();
        let batch32 = CtcBatch {
            log_probs: &values32,
            shape: batch.shape,
            targets: batch.targets,
            input_lengths: batch.input_lengths,
            target_lengths: batch.target_lengths,
        };
        let opts = CtcOptions { blank: r.blank, reduction: Reduction::Mean, zero_infinity: false };
        let got = ctc_loss_grad(&batch32, &opts);
        check_against_reference("ctc_loss_grad f32", &got, &want, r.batch, r.values.len())?;

        let classes = r.classes.max(1);
        match greedy_decode(&r.values, classes, r.blank) {
            Ok(path) => {
                prop_assert!(r.blank < classes && r.values.len() % classes == 0);
                prop_assert!(path.iter().all(|&c| c < r.classes && c != r.blank));
                if r.values.iter().all(|v| !v.is_nan()) {
                    // First maximum of each frame, repeats merged, blanks dropped.
                    let mut want = Vec::new();
                    let mut prev = None;
                    for row in r.values.chunks(classes) {
                        let best = (0..classes).fold(0, |b, c| if row[c] > row[b] { c } else { b });
                        if Some(best) != prev && best != r.blank {
                            want.push(best);
                        }
                        prev = Some(best);
                    }
                    prop_assert_eq!(path, want);
                }
            }
            Err(e) => {
                let want = if r.blank >= classes {
                    CtcError::BlankOutOfRange { blank: r.blank, classes }
                } else {
                    let n = r.values.len();
                    CtcError::LogProbsShape {
                        got: n,
                        expected: n / classes * classes,
                        frames: n / classes,
                        batch: 1,
                        classes,
                    }
                };
                prop_assert_eq!(e, want);
            }
        }
    }

    #[test]
    fn valid_inputs_match_path_enumeration_and_finite_differences(v in valid()) {
        if v.single {
            check_valid::<f32>(&v, 2e-4)?;
        } else {
            check_valid::<f64>(&v, 1e-6)?;
            // The logits entry point applies the log-softmax itself.
            if !v.poison {
                let (labels, target_lengths, max_len) = v.label_buffer();
                let targets = if v.padding.is_some() {
                    Targets::Padded { labels: &labels, max_len }
                } else {
                    Targets::Concatenated(&labels)
                };
                let opts = CtcOptions {
                    blank: v.blank,
                    reduction: v.reduction,
                    zero_infinity: v.zero_infinity,
                };
                let lp = v.log_probs();
                let shape = Shape::new(v.frames, v.batch, v.classes);
                let on_lp = ctc_loss_grad(
                    &CtcBatch { log_probs: &lp, shape, targets, input_lengths: &v.input_lengths, target_lengths: &target_lengths },
                    &opts,
                ).unwrap();
                let on_logits = ctc_loss_grad_logits(
                    &CtcBatch { log_probs: &v.logits, shape, targets, input_lengths: &v.input_lengths, target_lengths: &target_lengths },
                    &opts,
                ).unwrap();
                prop_assert!(on_lp.loss == on_logits.loss || (on_lp.loss - on_logits.loss).abs() < 1e-9);
                for (a, b) in on_lp.grad.iter().zip(&on_logits.grad) {
                    prop_assert!((a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-9);
                }
            }
        }
    }
}

/// A valid batch to break one thing at a time: T=4, N=2, C=4, blank 2,
/// padded targets [1, 3] and [0], full input lengths.
struct Case {
    lp: Vec<f64>,
    labels: Vec<i64>,
    max_len: usize,
    padded: bool,
    input_lengths: Vec<i64>,
    target_lengths: Vec<i64>,
    blank: usize,
    shape: Shape,
}

impl Case {
    fn new() -> Case {
        let shape = Shape::new(4, 2, 4);
        let logits: Vec<f64> = (0..shape.len())
            .map(|i| ((i * 7) % 5) as f64 * 0.3)
            .collect();
        Case {
            lp: log_softmax_rows(&logits, 4),
            labels: vec![1, 3, 0, 2],
            max_len: 2,
            padded: true,
            input_lengths: vec![4, 4],
            target_lengths: vec![2, 1],
            blank: 2,
            shape,
        }
    }
    fn at(&mut self, t: usize, b: usize, c: usize) -> &mut f64 {
        &mut self.lp[(t * self.shape.batch + b) * self.shape.classes + c]
    }
    /// The error (if any) of both entry points, in f64 and f32, checked to
    /// agree with each other and with the reference validator.
    fn error(&self) -> Option<CtcError> {
        let targets = if self.padded {
            Targets::Padded {
                labels: &self.labels,
                max_len: self.max_len,
            }
        } else {
            Targets::Concatenated(&self.labels)
        };
        let batch = CtcBatch {
            log_probs: &self.lp,
            shape: self.shape,
            targets,
            input_lengths: &self.input_lengths,
            target_lengths: &self.target_lengths,
        };
        let lp32: Vec<f32> = self.lp.iter().map(|&v| v as f32).collect();
        let batch32 = CtcBatch {
            log_probs: &lp32,
            shape: batch.shape,
            targets: batch.targets,
            input_lengths: batch.input_lengths,
            target_lengths: batch.target_lengths,
        };
        let opts = CtcOptions {
            blank: self.blank,
            reduction: Reduction::Mean,
            zero_infinity: true,
        };
        let errors = [
            ctc_loss_grad(&batch, &opts).err(),
            ctc_loss(&batch, &opts).err(),
            ctc_loss_grad(&batch32, &opts).err(),
            ctc_loss(&batch32, &opts).err(),
        ];
        for e in &errors[1..] {
            assert_eq!(
                e.is_some(),
                errors[0].is_some(),
                "entry points disagree: {errors:?}"
            );
            if let (Some(a), Some(b)) = (e, &errors[0]) {
                assert!(same_error(a, b), "entry points disagree: {errors:?}");
            }
        }
        let want = reference_error(&batch, self.blank);
        match (&errors[0], &want) {
            (Some(a), Some(b)) => assert!(same_error(a, b), "{a:?} vs reference {b:?}"),
            (a, b) => assert_eq!(a.is_some(), b.is_some(), "{a:?} vs reference {b:?}"),
        }
        errors[0].clone()
    }
}

#[test]
fn each_bad_input_gives_its_own_error() {
    assert_eq!(Case::new().error(), None, "the base case is valid");

    // A NaN, and +inf, in a used frame: named by sequence, frame and class.
    for bad in [f64::NAN, f64::INFINITY] {
        let mut c = Case::new();
        *c.at(2, 1, 3) = bad;
        match c.error() {
            Some(CtcError::NonFiniteLogProb {
                seq: 1,
                frame: 2,
                class: 3,
                value,
            }) => assert!(value.is_nan() || value == f64::INFINITY),
            e => panic!("{bad} at frame 2: {e:?}"),
        }
    }
    // -inf is log(0), a valid value; NaN beyond the input length is unread.
    let mut c = Case::new();
    *c.at(0, 0, 0) = f64::NEG_INFINITY;
    assert_eq!(c.error(), None);
    let mut c = Case::new();
    c.input_lengths = vec![4, 3];
    *c.at(3, 1, 0) = f64::NAN;
    assert_eq!(c.error(), None);

    // The blank inside a target (blank 2, not 0, so a check against 0 fails).
    let mut c = Case::new();
    c.labels = vec![1, 2, 0, 0];
    assert_eq!(
        c.error(),
        Some(CtcError::BlankInTarget {
            seq: 0,
            pos: 1,
            blank: 2
        })
    );
    let mut c = Case::new();
    c.padded = false;
    c.labels = vec![1, 3, 2];
    assert_eq!(
        c.error(),
        Some(CtcError::BlankInTarget {
            seq: 1,
            pos: 0,
            blank: 2
        })
    );
    // Padding beyond the target length may hold anything.
    let mut c = Case::new();
    c.labels = vec![1, 3, 0, 9];
    assert_eq!(c.error(), None);

    // Labels out of range, both sides.
    for (label, pos) in [(4, 0), (-1, 1)] {
        let mut c = Case::new();
        c.labels[pos] = label;
        assert_eq!(
            c.error(),
            Some(CtcError::LabelOutOfRange {
                seq: 0,
                pos,
                label,
                classes: 4
            })
        );
    }

    // Lengths.
    for len in [5, -1] {
        let mut c = Case::new();
        c.input_lengths[1] = len;
        assert_eq!(
            c.error(),
            Some(CtcError::InputLength {
                seq: 1,
                len,
                max: 4
            })
        );
    }
    for len in [3, -1] {
        let mut c = Case::new();
        c.target_lengths[1] = len;
        assert_eq!(
            c.error(),
            Some(CtcError::TargetLength {
                seq: 1,
                len,
                max: 2
            })
        );
    }
    let mut c = Case::new();
    c.target_lengths = vec![2];
    assert_eq!(
        c.error(),
        Some(CtcError::LengthsCount {
            what: "target_lengths",
            got: 1,
            batch: 2
        })
    );
    let mut c = Case::new();
    c.input_lengths = vec![4, 4, 4];
    assert_eq!(
        c.error(),
        Some(CtcError::LengthsCount {
            what: "input_lengths",
            got: 3,
            batch: 2
        })
    );
    let mut c = Case::new();
    c.padded = false;
    c.labels = vec![1, 3, 0, 1];
    assert_eq!(
        c.error(),
        Some(CtcError::ConcatenatedTargetsShape {
            got: 4,
            expected: 3
        })
    );
    let mut c = Case::new();
    c.max_len = 3;
    assert_eq!(
        c.error(),
        Some(CtcError::PaddedTargetsShape {
            got: 4,
            expected: 6,
            batch: 2,
            max_len: 3
        })
    );

    // Shapes and the blank index.
    let mut c = Case::new();
    c.lp.pop();
    assert_eq!(
        c.error(),
        Some(CtcError::LogProbsShape {
            got: 31,
            expected: 32,
            frames: 4,
            batch: 2,
            classes: 4
        })
    );
    let mut c = Case::new();
    c.blank = 4;
    assert_eq!(
        c.error(),
        Some(CtcError::BlankOutOfRange {
            blank: 4,
            classes: 4
        })
    );
}
