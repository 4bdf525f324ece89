//! The CTC loss and its gradient by the forward-backward (alpha-beta)
//! dynamic programme of Graves et al. (2006), in log space.
//!
//! For a target `l` of length L the extended sequence `l'` puts a blank
//! before, between and after the labels (S = 2L+1 states). alpha[t][s] is the
//! log-probability of all paths through frames 0..=t that end in state s;
//! beta[t][s] that of finishing frames t+1.. from state s. Their sum over the
//! states of a label gives the posterior occupation gamma[t][c], and the
//! gradient libtorch reports is `exp(lp[t][c]) - gamma[t][c]` (the gradient
//! with respect to the logits under a log-softmax; see the crate docs).
//!
//! How it stays fast and exact:
//! - per frame only the states that can still reach the end and can be
//!   reached from the start are computed (a band, as in libtorch);
//! - the log-probabilities each state needs are gathered once per sequence;
//! - each trellis row is kept relative to the previous row's maximum (the
//!   running offset lives in f64), so f32 rows hold small numbers and lose no
//!   precision on long inputs;
//! - the row loops are branch-free with a finite sentinel for log(0), so
//!   they vectorise, and on x86-64 an AVX2+FMA copy is picked at run time;
//! - sequences run in parallel with rayon; each is computed independently and
//!   reductions are summed in batch order, so results do not depend on the
//!   number of threads.
//!
//! Memory per sequence: two T x (2S+1) matrices (gathered log-probs, alpha)
//! and two rows for beta.

use rayon::prelude::*;

use crate::error::CtcError;
use crate::real::Real;

/// How per-sequence losses are combined, with PyTorch's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// One loss per sequence; the gradient is that of their sum.
    None,
    /// Sum over the batch.
    Sum,
    /// Each loss divided by its target length (at least 1), then averaged.
    Mean,
}

/// Target labels of a batch, in either of PyTorch's two layouts.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    /// `[N, max_len]` row-major; row b holds target b in its first
    /// `target_lengths[b]` entries, the rest is ignored.
    Padded { labels: &'a [i64], max_len: usize },
    /// All targets back to back; their lengths must add up to `len()`.
    Concatenated(&'a [i64]),
}

/// The layout `[T, N, C]` of a batch of log-probabilities (time-major, as
/// PyTorch's `ctc_loss` takes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub frames: usize,
    pub batch: usize,
    pub classes: usize,
}

impl Shape {
    pub fn new(frames: usize, batch: usize, classes: usize) -> Self {
        Shape {
            frames,
            batch,
            classes,
        }
    }
    /// Number of values in the buffer.
    pub fn len(&self) -> usize {
        self.frames * self.batch * self.classes
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Options of the loss: blank index, reduction, and whether infinite losses
/// (targets that cannot fit the input) become zero with zero gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtcOptions {
    pub blank: usize,
    pub reduction: Reduction,
    pub zero_infinity: bool,
}

impl Default for CtcOptions {
    fn default() -> Self {
        CtcOptions {
            blank: 0,
            reduction: Reduction::Mean,
            zero_infinity: false,
        }
    }
}

/// One batch: `[T, N, C]` log-probabilities, targets and lengths.
#[derive(Debug, Clone, Copy)]
pub struct CtcBatch<'a, F> {
    pub log_probs: &'a [F],
    pub shape: Shape,
    pub targets: Targets<'a>,
    pub input_lengths: &'a [i64],
    pub target_lengths: &'a [i64],
}

/// Result of [`ctc_loss`] / [`ctc_loss_grad`].
#[derive(Debug, Clone)]
pub struct CtcOutput<F> {
    /// Negative log-likelihood of each sequence (0 where `zero_infinity`
    /// removed an infinite one).
    pub losses: Vec<F>,
    /// The reduced loss; for [`Reduction::None`] the sum of `losses`.
    pub loss: F,
    /// Gradient of `loss` with respect to the log-probabilities, `[T, N, C]`,
    /// as libtorch's backward gives it; empty when not requested.
    pub grad: Vec<F>,
}

/// Loss only (no gradient).
pub fn ctc_loss<F: Real>(
    batch: &CtcBatch<'_, F>,
    opts: &CtcOptions,
) -> Result<CtcOutput<F>, CtcError> {
    run(batch, opts, false)
}

/// Loss and gradient with respect to the log-probabilities.
///
/// The gradient matches libtorch's `ctc_loss` backward, which is
/// `w_b * (exp(lp[t,b,c]) - gamma[t,b,c])` for frames inside the input
/// length and 0 beyond (w_b = 1, or 1/(N max(1, target length)) for `Mean`).
/// Like libtorch, an infinite loss without `zero_infinity` gives NaN
/// gradients in that sequence's frames.
pub fn ctc_loss_grad<F: Real>(
    batch: &CtcBatch<'_, F>,
    opts: &CtcOptions,
) -> Result<CtcOutput<F>, CtcError> {
    run(batch, opts, true)
}

/// Loss and gradient with respect to unnormalised logits `[T, N, C]`: applies
/// a log-softmax over classes, then the loss. The gradient with respect to
/// the logits equals libtorch's log-prob gradient (`exp(lp) - gamma`, because
/// the occupations of a frame sum to one), so this is what a model whose last
/// layer is a log-softmax receives.
pub fn ctc_loss_grad_logits<F: Real>(
    logits: &CtcBatch<'_, F>,
    opts: &CtcOptions,
) -> Result<CtcOutput<F>, CtcError> {
    check_shape(logits.log_probs.len(), logits.shape)?;
    let lp = log_softmax_rows(logits.log_probs, logits.shape.classes);
    let batch = CtcBatch {
        log_probs: &lp,
        ..*logits
    };
    run(&batch, opts, true)
}

/// Row-wise log-softmax over the last axis (`classes` wide).
pub fn log_softmax_rows<F: Real>(x: &[F], classes: usize) -> Vec<F> {
    let mut out = x.to_vec();
    if classes == 0 {
        return out;
    }
    for row in out.chunks_mut(classes) {
        let m = row.iter().fold(F::NEG, |m, &v| m.fmax(v));
        let s: f64 = row.iter().map(|&v| (v - m).to_f64().exp()).sum();
        let shift = m + F::from_f64(s.ln());
        for v in row.iter_mut() {
            *v -= shift;
        }
    }
    out
}

fn check_shape(got: usize, shape: Shape) -> Result<(), CtcError> {
    if got != shape.len() {
        return Err(CtcError::LogProbsShape {
            got,
            expected: shape.len(),
            frames: shape.frames,
            batch: shape.batch,
            classes: shape.classes,
        });
    }
    Ok(())
}

/// Checks lengths and labels and returns each sequence's (input length,
/// target labels as class indices).
pub(crate) fn validate<F>(
    batch: &CtcBatch<'_, F>,
    blank: usize,
) -> Result<Vec<(usize, Vec<usize>)>, CtcError> {
    let Shape {
        frames,
        batch: n,
        classes,
    } = batch.shape;
    check_shape(batch.log_probs.len(), batch.shape)?;
    if blank >= classes {
        return Err(CtcError::BlankOutOfRange { blank, classes });
    }
    for (what, got) in [
        ("input_lengths", batch.input_lengths.len()),
        ("target_lengths", batch.target_lengths.len()),
    ] {
        if got != n {
            return Err(CtcError::LengthsCount {
                what,
                got,
                batch: n,
            });
        }
    }
    let max_target = match batch.targets {
        Targets::Padded { labels, max_len } => {
            if labels.len() != n * max_len {
                return Err(CtcError::PaddedTargetsShape {
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
    let mut out = Vec::with_capacity(n);
    let mut offset = 0usize;
    for seq in 0..n {
        let il = batch.input_lengths[seq];
        if il < 0 || il as u64 > frames as u64 {
            return Err(CtcError::InputLength {
                seq,
                len: il,
                max: frames,
            });
        }
        let tl = batch.target_lengths[seq];
        if tl < 0 || tl as u64 > max_target as u64 {
            return Err(CtcError::TargetLength {
                seq,
                len: tl,
                max: max_target,
            });
        }
        let tl = tl as usize;
        let raw = match batch.targets {
            Targets::Padded { labels, max_len } => &labels[seq * max_len..seq * max_len + tl],
            Targets::Concatenated(labels) => {
                if offset + tl > labels.len() {
                    return Err(CtcError::ConcatenatedTargetsShape {
                        got: labels.len(),
                        expected: batch
                            .target_lengths
                            .iter()
                            .map(|&l| l.max(0) as usize)
                            .sum(),
                    });
                }
                let r = &labels[offset..offset + tl];
                offset += tl;
                r
            }
        };
        let mut target = Vec::with_capacity(tl);
        for (pos, &label) in raw.iter().enumerate() {
            if label < 0 || label as u64 >= classes as u64 {
                return Err(CtcError::LabelOutOfRange {
                    seq,
                    pos,
                    label,
                    classes,
                });
            }
            if label as usize == blank {
                return Err(CtcError::BlankInTarget { seq, pos, blank });
            }
            target.push(label as usize);
        }
        out.push((il as usize, target));
    }
    if let Targets::Concatenated(labels) = batch.targets {
        if offset != labels.len() {
            return Err(CtcError::ConcatenatedTargetsShape {
                got: labels.len(),
                expected: offset,
            });
        }
    }
    Ok(out)
}

fn run<F: Real>(
    batch: &CtcBatch<'_, F>,
    opts: &CtcOptions,
    want_grad: bool,
) -> Result<CtcOutput<F>, CtcError> {
    let seqs = validate(batch, opts.blank)?;
    let Shape {
        frames,
        batch: n,
        classes,
    } = batch.shape;
    let weight = |tl: usize| -> F {
        match opts.reduction {
            Reduction::None | Reduction::Sum => F::ONE,
            Reduction::Mean => F::from_f64(1.0 / (n as f64 * tl.max(1) as f64)),
        }
    };
    let lp = batch.log_probs;
    let mut grad: Vec<F> = Vec::new();
    let results: Vec<Result<f64, CtcError>> = if want_grad {
        grad = vec![F::ZERO; frames * n * classes];
        let mut rows: Vec<Vec<&mut [F]>> = (0..n).map(|_| Vec::with_capacity(frames)).collect();
        if classes > 0 && n > 0 {
            for (i, row) in grad.chunks_mut(classes).enumerate() {
                rows[i % n].push(row);
            }
        }
        rows.into_par_iter()
            .enumerate()
            .map(|(b, mut rows)| {
                let (il, ref target) = seqs[b];
                let job = Job {
                    lp,
                    shape: batch.shape,
                    seq: b,
                    input_len: il,
                    target,
                    blank: opts.blank,
                };
                let nll = job.run(Some((&mut rows, weight(target.len()))))?;
                if nll.is_infinite() {
                    let fill = if opts.zero_infinity {
                        F::ZERO
                    } else {
                        F::from_f64(f64::NAN)
                    };
                    for row in rows.iter_mut().take(il) {
                        row.fill(fill);
                    }
                }
                Ok(nll)
            })
            .collect()
    } else {
        (0..n)
            .into_par_iter()
            .map(|b| {
                let (il, ref target) = seqs[b];
                Job {
                    lp,
                    shape: batch.shape,
                    seq: b,
                    input_len: il,
                    target,
                    blank: opts.blank,
                }
                .run(None)
            })
            .collect()
    };
    let mut losses = Vec::with_capacity(n);
    for r in results {
        let nll = r?;
        losses.push(if nll.is_infinite() && opts.zero_infinity {
            0.0
        } else {
            nll
        });
    }
    let loss = match opts.reduction {
        Reduction::None | Reduction::Sum => losses.iter().sum::<f64>(),
        Reduction::Mean => {
            losses
                .iter()
                .zip(&seqs)
                .map(|(l, (_, t))| l / t.len().max(1) as f64)
                .sum::<f64>()
                / n as f64
        }
    };
    Ok(CtcOutput {
        losses: losses.into_iter().map(F::from_f64).collect(),
        loss: F::from_f64(loss),
        grad,
    })
}

/// One sequence's forward-backward.
struct Job<'a, F> {
    lp: &'a [F],
    shape: Shape,
    seq: usize,
    input_len: usize,
    target: &'a [usize],
    blank: usize,
}

/// Padding on each side of a trellis row so that s-2 and s+2 are always
/// valid indices.
const PAD: usize = 2;

impl<F: Real> Job<'_, F> {
    /// Returns the negative log-likelihood (f64, may be +inf); with `grad`,
    /// writes `weight * (exp(lp) - gamma)` into the sequence's frame rows.
    fn run(&self, grad: Option<(&mut [&mut [F]], F)>) -> Result<f64, CtcError> {
        self.check_finite()?;
        #[cfg(target_arch = "x86_64")]
        match crate::kernel::current_kernel() {
            // SAFETY: `current_kernel` only returns kernels the CPU supports
            // (forced ones are checked when forced).
            crate::kernel::Kernel::Avx512 => return Ok(unsafe { self.run_avx512(grad) }),
            crate::kernel::Kernel::Avx2 => return Ok(unsafe { self.run_avx2(grad) }),
            crate::kernel::Kernel::Generic => {}
        }
        Ok(self.run_generic(grad))
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2(&self, grad: Option<(&mut [&mut [F]], F)>) -> f64 {
        self.forward_backward(grad)
    }

    /// The same kernels compiled for 512-bit vectors (16 f32 lanes).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    unsafe fn run_avx512(&self, grad: Option<(&mut [&mut [F]], F)>) -> f64 {
        self.forward_backward(grad)
    }

    fn run_generic(&self, grad: Option<(&mut [&mut [F]], F)>) -> f64 {
        self.forward_backward(grad)
    }

    fn row(&self, t: usize) -> &[F] {
        let c = self.shape.classes;
        let start = (t * self.shape.batch + self.seq) * c;
        &self.lp[start..start + c]
    }

    /// NaN or +inf in a used frame is an error (vectorised scan).
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    fn check_finite(&self) -> Result<(), CtcError> {
        let limit = F::from_f64(f64::INFINITY);
        for t in 0..self.input_len {
            let row = self.row(t);
            let mut bad = false;
            for &v in row {
                bad |= !(v < limit);
            }
            if bad {
                let (class, &value) = row
                    .iter()
                    .enumerate()
                    .find(|(_, &v)| !(v < limit))
                    .expect("a bad value was seen");
                return Err(CtcError::NonFiniteLogProb {
                    seq: self.seq,
                    frame: t,
                    class,
                    value: value.to_f64(),
                });
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn forward_backward(&self, grad: Option<(&mut [&mut [F]], F)>) -> f64 {
        let big_t = self.input_len;
        let l = self.target.len();
        if big_t == 0 {
            return if l == 0 { 0.0 } else { f64::INFINITY };
        }
        let repeats = self.target.windows(2).filter(|w| w[0] == w[1]).count();
        if big_t < l + repeats {
            return f64::INFINITY;
        }
        let s_len = 2 * l + 1;
        let w = s_len + 2 * PAD;
        // Extended labels and the skip mask (0 where s-2 -> s is allowed).
        let ext: Vec<usize> = (0..s_len)
            .map(|s| {
                if s % 2 == 0 {
                    self.blank
                } else {
                    self.target[s / 2]
                }
            })
            .collect();
        let mut skip = vec![F::NEG; w];
        for s in (3..s_len).step_by(2) {
            if ext[s] != ext[s - 2] {
                skip[s + PAD] = F::ZERO;
            }
        }
        // Gathered log-probs, log(0) mapped to the sentinel.
        let mut lpx = vec![F::NEG; big_t * w];
        for t in 0..big_t {
            let row = self.row(t);
            let dst = &mut lpx[t * w + PAD..t * w + PAD + s_len];
            for (d, &c) in dst.iter_mut().zip(&ext) {
                *d = row[c].fmax(F::NEG);
            }
        }
        let band = |t: usize| -> (usize, usize) {
            let lo = s_len.saturating_sub(2 * (big_t - t));
            let hi = (2 * t + 1).min(s_len - 1);
            (lo, hi)
        };

        // Forward: alpha_hat[t] = alpha[t] - a_off[t].
        let mut alpha = vec![F::NEG; big_t * w];
        let mut a_off = vec![0.0f64; big_t];
        alpha[PAD] = lpx[PAD];
        if s_len > 1 {
            alpha[PAD + 1] = lpx[PAD + 1];
        }
        let (lo0, hi0) = band(0);
        let mut prev_max = row_max(&alpha[PAD + lo0..PAD + hi0 + 1]);
        for t in 1..big_t {
            if prev_max <= F::NEG_HALF {
                return f64::INFINITY;
            }
            a_off[t] = a_off[t - 1] + prev_max.to_f64();
            let (lo, hi) = band(t);
            let (done, rest) = alpha.split_at_mut(t * w);
            let prev = &done[(t - 1) * w..];
            let cur = &mut rest[..w];
            let n = hi + 1 - lo;
            let p = PAD + lo;
            forward_row(
                &mut cur[p..p + n],
                &prev[p..p + n],
                &prev[p - 1..p - 1 + n],
                &prev[p - 2..p - 2 + n],
                &skip[p..p + n],
                &lpx[t * w + p..t * w + p + n],
                prev_max,
            );
            prev_max = row_max(&cur[p..p + n]);
        }
        let last = &alpha[(big_t - 1) * w..big_t * w];
        let mut z = last[PAD + s_len - 1].to_f64();
        if s_len > 1 {
            z = crate::real::log_add(z, last[PAD + s_len - 2].to_f64());
        }
        if z <= F::NEG_HALF.to_f64() {
            return f64::INFINITY;
        }
        let log_z = z + a_off[big_t - 1];
        let Some((rows, weight)) = grad else {
            return -log_z;
        };

        // Backward, fused with the gradient: beta_hat[t] = beta[t] - b_off.
        let mut beta_next = vec![F::NEG; w];
        let mut beta_cur = vec![F::NEG; w];
        let mut post = vec![F::ZERO; w];
        beta_next[PAD + s_len - 1] = F::ZERO;
        if s_len > 1 {
            beta_next[PAD + s_len - 2] = F::ZERO;
        }
        let mut b_off = 0.0f64;
        let t_last = big_t - 1;
        self.frame_grad(
            t_last,
            rows[t_last],
            &alpha[t_last * w..],
            &beta_next,
            &mut post,
            &ext,
            band(t_last),
            F::from_f64(a_off[t_last] + b_off - log_z),
            weight,
        );
        for t in (0..t_last).rev() {
            let (lo_n, hi_n) = band(t + 1);
            let next_max = row_max(&beta_next[PAD + lo_n..PAD + hi_n + 1]);
            b_off += next_max.to_f64();
            let (lo, hi) = band(t);
            let n = hi + 1 - lo;
            let p = PAD + lo;
            let lx = &lpx[(t + 1) * w..(t + 2) * w];
            backward_row(
                &mut beta_cur[p..p + n],
                [
                    &beta_next[p..p + n],
                    &beta_next[p + 1..p + 1 + n],
                    &beta_next[p + 2..p + 2 + n],
                ],
                [&lx[p..p + n], &lx[p + 1..p + 1 + n], &lx[p + 2..p + 2 + n]],
                &skip[p + 2..p + 2 + n],
                next_max,
            );
            self.frame_grad(
                t,
                rows[t],
                &alpha[t * w..],
                &beta_cur,
                &mut post,
                &ext,
                (lo, hi),
                F::from_f64(a_off[t] + b_off - log_z),
                weight,
            );
            std::mem::swap(&mut beta_cur, &mut beta_next);
        }
        -log_z
    }

    /// grad_row = weight * (exp(lp) - sum over the states of label c of
    /// exp(alpha_hat + beta_hat + offset)), the posterior occupation.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn frame_grad(
        &self,
        t: usize,
        grad_row: &mut [F],
        alpha_row: &[F],
        beta_row: &[F],
        post: &mut [F],
        ext: &[usize],
        (lo, hi): (usize, usize),
        offset: F,
        weight: F,
    ) {
        let lp = self.row(t);
        let c = grad_row.len().min(lp.len());
        let (g, lp) = (&mut grad_row[..c], &lp[..c]);
        for k in 0..c {
            g[k] = lp[k].fexp() * weight;
        }
        let n = hi + 1 - lo;
        let p = PAD + lo;
        let (a, b, out) = (&alpha_row[p..p + n], &beta_row[p..p + n], &mut post[..n]);
        for i in 0..n {
            out[i] = (a[i] + b[i] + offset).fexp() * weight;
        }
        for (&label, &q) in ext[lo..=hi].iter().zip(out.iter()) {
            g[label] -= q;
        }
    }
}

/// `(m, s)` with `lse(a, b, c) = m + ln s`: the maximum term contributes
/// exactly 1, so only the other two need an `exp` (min/max select them
/// without branches, which keeps the loops vectorised).
#[inline(always)]
fn lse3_parts<F: Real>(a: F, b: F, c: F) -> (F, F) {
    let (lo_ab, hi_ab) = (a.fmin(b), a.fmax(b));
    let m = hi_ab.fmax(c);
    let lo = lo_ab.fmin(c);
    let mid = lo_ab.fmax(hi_ab.fmin(c));
    (m, F::ONE + (mid - m).fexp() + (lo - m).fexp())
}

/// One forward row: out = lse(x0, x1, x2 + skip) + emit - shift.
#[inline(always)]
fn forward_row<F: Real>(
    out: &mut [F],
    x0: &[F],
    x1: &[F],
    x2: &[F],
    skip: &[F],
    emit: &[F],
    shift: F,
) {
    let n = out.len();
    let (x0, x1, x2, skip, emit) = (&x0[..n], &x1[..n], &x2[..n], &skip[..n], &emit[..n]);
    for i in 0..n {
        let (m, s) = lse3_parts(x0[i], x1[i], x2[i] + skip[i]);
        out[i] = (m + s.fln() + emit[i] - shift).fmax(F::NEG);
    }
}

/// One backward row: out = lse(x0+e0, x1+e1, x2+e2+skip) - shift.
#[inline(always)]
fn backward_row<F: Real>(out: &mut [F], x: [&[F]; 3], e: [&[F]; 3], skip: &[F], shift: F) {
    let n = out.len();
    let (x0, x1, x2) = (&x[0][..n], &x[1][..n], &x[2][..n]);
    let (e0, e1, e2, skip) = (&e[0][..n], &e[1][..n], &e[2][..n], &skip[..n]);
    for i in 0..n {
        let (m, s) = lse3_parts(x0[i] + e0[i], x1[i] + e1[i], x2[i] + e2[i] + skip[i]);
        out[i] = (m + s.fln() - shift).fmax(F::NEG);
    }
}

/// Maximum of a slice (the sentinel for an empty one), in independent lanes
/// so it vectorises.
#[inline(always)]
fn row_max<F: Real>(x: &[F]) -> F {
    let mut lanes = [F::NEG; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for k in 0..8 {
            lanes[k] = lanes[k].fmax(c[k]);
        }
    }
    let mut m = F::NEG;
    for &v in chunks.remainder() {
        m = m.fmax(v);
    }
    for v in lanes {
        m = m.fmax(v);
    }
    m
}
