//! The tch bridge: the native loss as a differentiable tch operation.
//!
//! tch has no user-defined autograd functions, so the native gradient is
//! attached by a linear surrogate: with L_b the native losses and G the
//! native gradient (both constants),
//! `v_b = sum_{t,c} lp[t,b,c] G[t,b,c] - (same, detached) + L_b`
//! has the value L_b and the derivative G[:, b, :] with respect to the
//! log-probabilities. The reduction is then applied with ordinary tch ops,
//! so autograd scales the gradient exactly as PyTorch's reduction does.
//!
//! ```no_run
//! use sori_ctc::{CtcLoss, Reduction};
//! # fn f(logits: &tch::Tensor, targets: &tch::Tensor) -> Result<(), sori_ctc::CtcError> {
//! let lp = logits.log_softmax(-1, tch::Kind::Float); // [T, N, C]
//! let loss = CtcLoss::new(0).with_reduction(Reduction::Mean).with_zero_infinity(true)
//!     .forward(&lp, targets, &[50, 42], &[10, 7])?;
//! loss.backward();
//! # Ok(()) }
//! ```

use tch::{Device, Kind, Tensor};

use crate::error::CtcError;
use crate::loss::{ctc_loss, ctc_loss_grad, CtcBatch, CtcOptions, Reduction, Shape, Targets};
use crate::real::Real;

/// The native CTC loss as a tch loss (see the module docs for an example).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtcLoss {
    pub blank: usize,
    pub reduction: Reduction,
    pub zero_infinity: bool,
}

impl Default for CtcLoss {
    fn default() -> Self {
        CtcLoss::new(0)
    }
}

fn terr(e: tch::TchError) -> CtcError {
    CtcError::Tensor(e.to_string())
}

impl CtcLoss {
    /// Mean reduction, `zero_infinity` off (PyTorch's defaults).
    pub fn new(blank: usize) -> Self {
        CtcLoss {
            blank,
            reduction: Reduction::Mean,
            zero_infinity: false,
        }
    }

    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    pub fn with_zero_infinity(mut self, zero_infinity: bool) -> Self {
        self.zero_infinity = zero_infinity;
        self
    }

    fn options(&self) -> CtcOptions {
        CtcOptions {
            blank: self.blank,
            reduction: Reduction::None,
            zero_infinity: self.zero_infinity,
        }
    }

    /// Loss of `log_probs` (`[T, N, C]`, float or double, any device;
    /// normally the output of `log_softmax(-1)`) against `targets` (`[N, S]`
    /// padded or `[sum of lengths]` concatenated, any integer kind).
    ///
    /// Returns a scalar (`Mean`, `Sum`) or `[N]` (`None`) tensor; calling
    /// `backward()` on it delivers the native gradient to `log_probs` (equal
    /// to libtorch's). Sequences whose loss is infinite (without
    /// `zero_infinity`) get a zero gradient rather than libtorch's NaN.
    pub fn forward(
        &self,
        log_probs: &Tensor,
        targets: &Tensor,
        input_lengths: &[i64],
        target_lengths: &[i64],
    ) -> Result<Tensor, CtcError> {
        let (lp, shape, kind) = host_log_probs(log_probs)?;
        let (labels, layout) = host_targets(targets, shape.batch)?;
        let run = Native {
            shape,
            targets: layout.targets(&labels),
            input_lengths,
            target_lengths,
            opts: self.options(),
            want_grad: true,
        };
        let (losses, _, grad) = lp.run(&run)?;
        let device = log_probs.device();
        let grad = grad
            .expect("the gradient was asked for")
            .f_view([
                shape.frames as i64,
                shape.batch as i64,
                shape.classes as i64,
            ])
            .and_then(|g| g.f_to_device(device))
            .map_err(terr)?;
        let losses = Tensor::f_from_slice(&losses)
            .and_then(|t| t.f_to_kind(kind))
            .and_then(|t| t.f_to_device(device))
            .map_err(terr)?;
        let per = log_probs
            .f_mul(&grad)
            .and_then(|p| p.f_sum_dim_intlist(&[0i64, 2][..], false, kind))
            .map_err(terr)?;
        let value = per
            .f_sub(&per.detach())
            .and_then(|v| v.f_add(&losses))
            .map_err(terr)?;
        match self.reduction {
            Reduction::None => Ok(value),
            Reduction::Sum => value.f_sum(kind).map_err(terr),
            Reduction::Mean => {
                let lens: Vec<f64> = target_lengths.iter().map(|&l| l.max(1) as f64).collect();
                let lens = Tensor::f_from_slice(&lens)
                    .and_then(|t| t.f_to_kind(kind))
                    .and_then(|t| t.f_to_device(device))
                    .map_err(terr)?;
                value
                    .f_div(&lens)
                    .and_then(|v| v.f_mean(kind))
                    .map_err(terr)
            }
        }
    }

    /// Loss value only, as plain numbers (per-sequence losses and the reduced
    /// loss); no graph is built.
    pub fn evaluate(
        &self,
        log_probs: &Tensor,
        targets: &Tensor,
        input_lengths: &[i64],
        target_lengths: &[i64],
    ) -> Result<(Vec<f64>, f64), CtcError> {
        let (lp, shape, _) = host_log_probs(log_probs)?;
        let (labels, layout) = host_targets(targets, shape.batch)?;
        let run = Native {
            shape,
            targets: layout.targets(&labels),
            input_lengths,
            target_lengths,
            opts: CtcOptions {
                reduction: self.reduction,
                ..self.options()
            },
            want_grad: false,
        };
        let (losses, loss, _) = lp.run(&run)?;
        Ok((losses, loss))
    }
}

/// One call of the native loss on host data.
struct Native<'a> {
    shape: Shape,
    targets: Targets<'a>,
    input_lengths: &'a [i64],
    target_lengths: &'a [i64],
    opts: CtcOptions,
    want_grad: bool,
}

impl Native<'_> {
    /// Per-sequence losses and the reduced loss as f64, and (when asked
    /// for) the gradient as a flat tensor of the data's kind with NaN
    /// (infinite losses without `zero_infinity`) replaced by 0.
    fn on<F: Real + tch::kind::Element>(
        &self,
        log_probs: &[F],
    ) -> Result<(Vec<f64>, f64, Option<Tensor>), CtcError> {
        let batch = CtcBatch {
            log_probs,
            shape: self.shape,
            targets: self.targets,
            input_lengths: self.input_lengths,
            target_lengths: self.target_lengths,
        };
        let out = if self.want_grad {
            ctc_loss_grad(&batch, &self.opts)?
        } else {
            ctc_loss(&batch, &self.opts)?
        };
        let grad = if self.want_grad {
            let mut g = out.grad;
            g.iter_mut()
                .filter(|x| x.is_nan())
                .for_each(|x| *x = <F as Real>::ZERO);
            Some(Tensor::f_from_slice(&g).map_err(terr)?)
        } else {
            None
        };
        let losses = out.losses.iter().map(|x| x.to_f64()).collect();
        Ok((losses, out.loss.to_f64(), grad))
    }
}

enum HostData {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl HostData {
    fn run(&self, native: &Native<'_>) -> Result<(Vec<f64>, f64, Option<Tensor>), CtcError> {
        match self {
            HostData::F32(v) => native.on(v),
            HostData::F64(v) => native.on(v),
        }
    }
}

fn host_log_probs(log_probs: &Tensor) -> Result<(HostData, Shape, Kind), CtcError> {
    let size = log_probs.size();
    if size.len() != 3 {
        return Err(CtcError::Tensor(format!(
            "log_probs must be [T, N, C], got shape {size:?}"
        )));
    }
    let shape = Shape::new(size[0] as usize, size[1] as usize, size[2] as usize);
    let host = log_probs
        .detach()
        .f_to_device(Device::Cpu)
        .and_then(|t| t.f_contiguous())
        .map_err(terr)?;
    let kind = log_probs.kind();
    let n = shape.len();
    let data = match kind {
        Kind::Float => {
            let mut v = vec![0f32; n];
            host.f_copy_data(&mut v, n).map_err(terr)?;
            HostData::F32(v)
        }
        Kind::Double => {
            let mut v = vec![0f64; n];
            host.f_copy_data(&mut v, n).map_err(terr)?;
            HostData::F64(v)
        }
        other => {
            return Err(CtcError::Tensor(format!(
                "log_probs must be float or double, got {other:?}"
            )))
        }
    };
    Ok((data, shape, kind))
}

#[derive(Clone, Copy)]
enum Layout {
    Padded(usize),
    Concatenated,
}

impl Layout {
    fn targets<'a>(&self, labels: &'a [i64]) -> Targets<'a> {
        match *self {
            Layout::Padded(max_len) => Targets::Padded { labels, max_len },
            Layout::Concatenated => Targets::Concatenated(labels),
        }
    }
}

fn host_targets(targets: &Tensor, batch: usize) -> Result<(Vec<i64>, Layout), CtcError> {
    let size = targets.size();
    let layout = match size.len() {
        1 => Layout::Concatenated,
        2 => {
            if size[0] as usize != batch {
                return Err(CtcError::Tensor(format!(
                    "padded targets have {} rows, but the batch has {batch} sequences",
                    size[0]
                )));
            }
            Layout::Padded(size[1] as usize)
        }
        _ => {
            return Err(CtcError::Tensor(format!(
                "targets must be [N, S] or [sum of lengths], got shape {size:?}"
            )))
        }
    };
    let host = targets
        .f_to_kind(Kind::Int64)
        .and_then(|t| t.f_to_device(Device::Cpu))
        .and_then(|t| t.f_contiguous())
        .map_err(terr)?;
    let n = host.numel();
    let mut v = vec![0i64; n];
    host.f_copy_data(&mut v, n).map_err(terr)?;
    Ok((v, layout))
}
