//! Optimisers, learning-rate schedules and early stopping.
//!
//! The optimisers are this crate's own, written with tch tensor ops under
//! `no_grad` (in-place updates, one set of state tensors per parameter),
//! because libtorch's C++ optimisers keep their state (step counts, moment
//! estimates, momentum buffers) out of reach of `tch`: with them a
//! `--resume` had to restart the moments from zero. Here the state is
//! plain tensors that [`crate::ModelDir`] saves in `last.safetensors` next
//! to the weights, so a resumed run continues exactly where it stopped.
//!
//! The update rules are libtorch's (= PyTorch's), and a test checks each one
//! step for step against `tch::nn::{adam, adamw, rms_prop, sgd}`:
//!
//! - Adam: `m = β1 m + (1-β1) g`, `v = β2 v + (1-β2) g²`,
//!   `p -= lr / (1-β1ᵗ) · m / (√v / √(1-β2ᵗ) + ε)`; weight decay is L2
//!   (`g += wd p`). β = (0.9, 0.999), ε = 1e-8 (Keras uses 1e-7; the
//!   difference is below anything visible).
//! - AdamW: Adam without the L2 term, and `p *= 1 - lr·wd` before the
//!   update (decoupled decay, default wd = 0.01).
//! - RMSprop: `s = ρ s + (1-ρ) g²`, `p -= lr · g / (√s + ε)`, with Keras'
//!   defaults ρ = 0.9, ε = 1e-7. With momentum μ > 0:
//!   `b = μ b + g / (√s + ε)`, `p -= lr · b`. PyTorch semantics: ε is added
//!   outside the square root (Keras adds it inside, `g / √(s + ε)`, and
//!   keeps `lr` inside its momentum buffer, `b = μ b + lr · g / √(s + ε)`);
//!   with ε = 1e-7 and a constant rate both give the same steps to within
//!   rounding, and with a schedule PyTorch's form lets a rate change act at
//!   once instead of through the buffer. Not centred.
//! - SGD: `b = μ b + g` (the first step sets `b = g`), `p -= lr · b`;
//!   momentum 0.9 unless told otherwise, 0 for plain SGD (no buffer). L2
//!   weight decay. No dampening, no Nesterov.
//!
//! Gradients are zeroed in place (PyTorch's `zero_grad(set_to_none=False)`),
//! so a parameter that once had a gradient keeps taking (zero-gradient)
//! steps; libtorch's default `set_to_none` would skip it. This only differs
//! for parameters that a forward pass sometimes leaves unused.
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use tch::{nn, Kind, Tensor};

use crate::TrainError;

/// Which optimiser to use (`--optimizer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    Adam,
    #[value(name = "adamw")]
    AdamW,
    #[value(name = "rmsprop")]
    RmsProp,
    /// Stochastic gradient descent with momentum.
    Sgd,
}

impl OptimizerKind {
    /// The name used on the command line and in checkpoints.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Adam => "adam",
            OptimizerKind::AdamW => "adamw",
            OptimizerKind::RmsProp => "rmsprop",
            OptimizerKind::Sgd => "sgd",
        }
    }
}

/// Adam/AdamW β1, β2 and ε.
pub const ADAM_BETAS: (f64, f64) = (0.9, 0.999);
pub const ADAM_EPS: f64 = 1e-8;
/// RMSprop ρ and ε (Keras' defaults).
pub const RMSPROP_RHO: f64 = 0.9;
pub const RMSPROP_EPS: f64 = 1e-7;
/// AdamW's decoupled weight decay when none is given.
pub const ADAMW_DEFAULT_DECAY: f64 = 0.01;
/// SGD's momentum when none is given.
pub const SGD_DEFAULT_MOMENTUM: f64 = 0.9;

/// An optimiser and its hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSpec {
    pub kind: OptimizerKind,
    pub lr: f64,
    /// L2 penalty (Adam, RMSprop, SGD) or decoupled decay (AdamW; default 0.01).
    pub weight_decay: Option<f64>,
    /// SGD and RMSprop momentum (SGD default 0.9, RMSprop 0).
    pub momentum: Option<f64>,
}

impl OptimizerSpec {
    pub fn new(kind: OptimizerKind, lr: f64) -> OptimizerSpec {
        OptimizerSpec {
            kind,
            lr,
            weight_decay: None,
            momentum: None,
        }
    }

    pub fn validate(&self) -> Result<(), TrainError> {
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(TrainError::Config(format!(
                "learning rate must be a positive number, got {}",
                self.lr
            )));
        }
        if let Some(w) = self.weight_decay {
            if !(w >= 0.0 && w.is_finite()) {
                return Err(TrainError::Config(format!(
                    "weight decay must be >= 0, got {w}"
                )));
            }
        }
        if let Some(m) = self.momentum {
            if !(0.0..1.0).contains(&m) {
                return Err(TrainError::Config(format!(
                    "momentum must be in [0, 1), got {m}"
                )));
            }
        }
        Ok(())
    }

    /// The weight decay in effect (the kind's default when none is given).
    pub fn effective_weight_decay(&self) -> f64 {
        self.weight_decay.unwrap_or(match self.kind {
            OptimizerKind::AdamW => ADAMW_DEFAULT_DECAY,
            _ => 0.0,
        })
    }

    /// The momentum in effect (SGD: 0.9 unless given; RMSprop: 0; Adam: unused).
    pub fn effective_momentum(&self) -> f64 {
        self.momentum.unwrap_or(match self.kind {
            OptimizerKind::Sgd => SGD_DEFAULT_MOMENTUM,
            _ => 0.0,
        })
    }

    /// Builds the optimiser over every trainable variable of `vs` (those
    /// with `requires_grad`, as they are now: create the model first).
    pub fn build(&self, vs: &nn::VarStore) -> Result<Optimizer, TrainError> {
        Optimizer::new(self, vs)
    }
}

/// Prefix of the optimiser's tensors inside a checkpoint file (a `VarStore`
/// name never starts with it).
pub const STATE_PREFIX: &str = "__optimizer__/";

/// One trained parameter and its optimiser state.
struct Param {
    name: String,
    /// Shares storage with the `VarStore` variable.
    var: Tensor,
    /// Updates applied to this parameter (Adam's bias correction).
    step: u64,
    /// The kind's state tensors, in [`Optimizer::slot_names`] order; `None`
    /// until first used (SGD's momentum buffer starts as the first gradient).
    slots: Vec<Option<Tensor>>,
    /// A buffer the size of the parameter for intermediate results, kept
    /// between steps so an update allocates nothing (not saved).
    scratch: Option<Tensor>,
}

impl Param {
    fn scratch(&mut self) -> Tensor {
        self.scratch
            .get_or_insert_with(|| self.var.empty_like())
            .shallow_clone()
    }
}

/// What [`Optimizer::load_state`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateRestore {
    /// Step counts and moments restored.
    Restored,
    /// The file holds state of another optimiser (or momentum setting);
    /// the state starts from zero. The string names the saved one.
    OtherOptimizer(String),
    /// The file holds no optimiser state (written before this crate kept
    /// it, or weights only); the state starts from zero.
    Missing,
}

/// Adam, AdamW, RMSprop or SGD over the trainable variables of a
/// `VarStore`; see the module docs for the update rules.
pub struct Optimizer {
    spec: OptimizerSpec,
    lr: f64,
    weight_decay: f64,
    momentum: f64,
    /// Steps taken ([`Optimizer::step`] calls), saved with the state.
    steps: u64,
    params: Vec<Param>,
}

impl Optimizer {
    /// See [`OptimizerSpec::build`].
    pub fn new(spec: &OptimizerSpec, vs: &nn::VarStore) -> Result<Optimizer, TrainError> {
        spec.validate()?;
        let mut vars: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let mut opt = Optimizer {
            spec: spec.clone(),
            lr: spec.lr,
            weight_decay: spec.effective_weight_decay(),
            momentum: spec.effective_momentum(),
            steps: 0,
            params: Vec::new(),
        };
        let slots = opt.slot_names().len();
        opt.params = vars
            .into_iter()
            .map(|(name, var)| Param {
                name,
                var,
                step: 0,
                slots: (0..slots).map(|_| None).collect(),
                scratch: None,
            })
            .collect();
        Ok(opt)
    }

    pub fn spec(&self) -> &OptimizerSpec {
        &self.spec
    }
    pub fn kind(&self) -> OptimizerKind {
        self.spec.kind
    }
    pub fn lr(&self) -> f64 {
        self.lr
    }
    /// Sets the rate of the next steps (the schedule calls it every step).
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    /// Steps taken since the start (including before a resume).
    pub fn steps(&self) -> u64 {
        self.steps
    }
    /// Names of the trained parameters, sorted.
    pub fn param_names(&self) -> Vec<&str> {
        self.params.iter().map(|p| p.name.as_str()).collect()
    }

    /// The state tensors kept per parameter by this kind and momentum.
    pub fn slot_names(&self) -> &'static [&'static str] {
        match self.spec.kind {
            OptimizerKind::Adam | OptimizerKind::AdamW => &["exp_avg", "exp_avg_sq"],
            OptimizerKind::RmsProp if self.momentum > 0.0 => &["square_avg", "momentum_buffer"],
            OptimizerKind::RmsProp => &["square_avg"],
            OptimizerKind::Sgd if self.momentum > 0.0 => &["momentum_buffer"],
            OptimizerKind::Sgd => &[],
        }
    }

    /// A short description of the state layout, saved with it; a resume
    /// with another description starts from zero.
    pub fn state_layout(&self) -> String {
        format!("{}[{}]", self.spec.kind.name(), self.slot_names().join(","))
    }

    /// Zeroes every parameter's gradient in place.
    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            p.var.zero_grad();
        }
    }

    /// The global L2 norm of all gradients (0 when none is defined).
    pub fn grad_norm(&self) -> f64 {
        tch::no_grad(|| {
            let norms: Vec<Tensor> = self
                .params
                .iter()
                .map(|p| p.var.grad())
                .filter(|g| g.defined())
                .map(|g| g.to_kind(Kind::Float).norm())
                .collect();
            if norms.is_empty() {
                return 0.0;
            }
            Tensor::stack(&norms, 0).norm().double_value(&[])
        })
    }

    /// Scales all gradients so that their global L2 norm is at most `max`
    /// (like `torch.nn.utils.clip_grad_norm_`); returns the norm before
    /// clipping. A non-finite norm leaves the gradients as they are.
    pub fn clip_grad_norm(&mut self, max: f64) -> f64 {
        let total = self.grad_norm();
        let coef = max / (total + 1e-6);
        if total.is_finite() && coef < 1.0 {
            tch::no_grad(|| {
                for p in &self.params {
                    let mut g = p.var.grad();
                    if g.defined() {
                        let _ = g.g_mul_scalar_(coef);
                    }
                }
            });
        }
        total
    }

    /// One update of every parameter that has a gradient.
    pub fn step(&mut self) {
        let (lr, wd, mom) = (self.lr, self.weight_decay, self.momentum);
        let kind = self.spec.kind;
        tch::no_grad(|| {
            for p in &mut self.params {
                let grad = p.var.grad();
                if !grad.defined() {
                    continue;
                }
                p.step += 1;
                match kind {
                    OptimizerKind::Adam => adam_update(p, &grad, lr, wd, false),
                    OptimizerKind::AdamW => adam_update(p, &grad, lr, wd, true),
                    OptimizerKind::RmsProp => rmsprop_update(p, &grad, lr, wd, mom),
                    OptimizerKind::Sgd => sgd_update(p, &grad, lr, wd, mom),
                }
            }
        });
        self.steps += 1;
    }

    /// The state as named CPU tensors (names start with [`STATE_PREFIX`]):
    /// `step/<param>` (i64 scalar) and `<slot>/<param>` for each state
    /// tensor that exists.
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let slot_names = self.slot_names();
        let mut out = Vec::new();
        for p in &self.params {
            out.push((
                format!("{STATE_PREFIX}step/{}", p.name),
                Tensor::from_slice(&[p.step as i64]),
            ));
            for (slot, t) in slot_names.iter().zip(&p.slots) {
                if let Some(t) = t {
                    out.push((
                        format!("{STATE_PREFIX}{slot}/{}", p.name),
                        t.detach().to_device(tch::Device::Cpu).contiguous(),
                    ));
                }
            }
        }
        out
    }

    /// Restores the state from tensors saved by [`Optimizer::state_tensors`]
    /// with layout `layout` (`None`: the file had none) and `steps` steps.
    /// Shapes are checked; a mismatch is an error naming `source`.
    pub fn load_state(
        &mut self,
        tensors: &HashMap<String, Tensor>,
        layout: Option<&str>,
        steps: u64,
        source: &Path,
    ) -> Result<StateRestore, TrainError> {
        let Some(layout) = layout else {
            return Ok(StateRestore::Missing);
        };
        if layout != self.state_layout() {
            return Ok(StateRestore::OtherOptimizer(layout.to_string()));
        }
        let slot_names = self.slot_names();
        let bad = |m: String| TrainError::Model {
            path: source.to_path_buf(),
            message: m,
        };
        // Check everything before changing anything.
        let mut restored: Vec<(u64, Vec<Option<Tensor>>)> = Vec::new();
        for p in &self.params {
            let step_name = format!("{STATE_PREFIX}step/{}", p.name);
            let step = tensors
                .get(&step_name)
                .ok_or_else(|| bad(format!("optimizer state has no {step_name:?}")))?;
            if step.numel() != 1 || step.kind() != Kind::Int64 {
                return Err(bad(format!(
                    "optimizer state {step_name:?} is not one integer"
                )));
            }
            let step = step.int64_value(&[0]);
            if step < 0 {
                return Err(bad(format!("optimizer state {step_name:?} is negative")));
            }
            let mut slots = Vec::new();
            for slot in slot_names {
                let name = format!("{STATE_PREFIX}{slot}/{}", p.name);
                match tensors.get(&name) {
                    Some(t) if t.size() != p.var.size() => {
                        return Err(bad(format!(
                            "optimizer state {name:?} is {:?} but the parameter is {:?}",
                            t.size(),
                            p.var.size()
                        )))
                    }
                    Some(t) => slots.push(Some(t.to_device(p.var.device()).to_kind(p.var.kind()))),
                    // SGD's buffer exists only after the first step with a gradient.
                    None if step == 0
                        || *slot == "momentum_buffer" && self.spec.kind == OptimizerKind::Sgd =>
                    {
                        slots.push(None)
                    }
                    None => return Err(bad(format!("optimizer state has no {name:?}"))),
                }
            }
            restored.push((step as u64, slots));
        }
        for (p, (step, slots)) in self.params.iter_mut().zip(restored) {
            p.step = step;
            p.slots = slots;
        }
        self.steps = steps;
        Ok(StateRestore::Restored)
    }
}

/// The slot `i` of `p`, created as zeros on first use.
fn slot(p: &mut Param, i: usize) -> Tensor {
    p.slots[i]
        .get_or_insert_with(|| p.var.zeros_like())
        .shallow_clone()
}

/// `grad + wd · param` (L2 penalty), or `grad` itself when `wd` is 0.
fn with_l2(grad: &Tensor, var: &Tensor, wd: f64) -> Tensor {
    if wd != 0.0 {
        grad + var * wd
    } else {
        grad.shallow_clone()
    }
}

// The updates below are libtorch's (torch.optim, single-tensor path) with
// its scalar factors folded into fewer passes over memory and no
// allocation: a parameter-sized scratch buffer holds the intermediates.
// `tests/optimizers.rs` checks them against libtorch's own optimisers.

fn adam_update(p: &mut Param, grad: &Tensor, lr: f64, wd: f64, decoupled: bool) {
    let (b1, b2) = ADAM_BETAS;
    let grad = if decoupled {
        if wd != 0.0 {
            let _ = p.var.g_mul_scalar_(1.0 - lr * wd);
        }
        grad.shallow_clone()
    } else {
        with_l2(grad, &p.var, wd)
    };
    let t = p.step as f64;
    let bias1 = 1.0 - b1.powf(t);
    let bias2 = 1.0 - b2.powf(t);
    let mut m = slot(p, 0);
    let mut v = slot(p, 1);
    let mut tmp = p.scratch();
    // m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g²
    let _ = m.lerp_(&grad, 1.0 - b1);
    let _ = grad.mul_out(&tmp, &grad);
    let _ = v.lerp_(&tmp, 1.0 - b2);
    // p -= lr/bias1 · m / (sqrt(v)/sqrt(bias2) + eps), written as
    // p += m / d with d = c·sqrt(v) + c·sqrt(bias2)·eps, c = -bias1/(lr sqrt(bias2)).
    let c = -bias1 / (lr * bias2.sqrt());
    let _ = v.sqrt_out(&tmp);
    let _ = tmp.g_mul_scalar_(c);
    let _ = tmp.g_add_scalar_(c * bias2.sqrt() * ADAM_EPS);
    let _ = p.var.addcdiv_(&m, &tmp);
}

fn rmsprop_update(p: &mut Param, grad: &Tensor, lr: f64, wd: f64, momentum: f64) {
    let grad = with_l2(grad, &p.var, wd);
    let mut s = slot(p, 0);
    let mut tmp = p.scratch();
    // s = rho s + (1 - rho) g²;  avg = sqrt(s) + eps
    let _ = grad.mul_out(&tmp, &grad);
    let _ = s.lerp_(&tmp, 1.0 - RMSPROP_RHO);
    let _ = s.sqrt_out(&tmp);
    let _ = tmp.g_add_scalar_(RMSPROP_EPS);
    if momentum > 0.0 {
        let mut b = slot(p, 1);
        let _ = b.g_mul_scalar_(momentum);
        let _ = b.addcdiv_(&grad, &tmp);
        tmp.copy_(&b);
        let _ = tmp.g_mul_scalar_(-lr);
        let _ = p.var.g_add_(&tmp);
    } else {
        // p -= lr g / avg, as p += g / (-avg / lr).
        let _ = tmp.g_mul_scalar_(-1.0 / lr);
        let _ = p.var.addcdiv_(&grad, &tmp);
    }
}

fn sgd_update(p: &mut Param, grad: &Tensor, lr: f64, wd: f64, momentum: f64) {
    let grad = with_l2(grad, &p.var, wd);
    let direction = if momentum > 0.0 {
        match &mut p.slots[0] {
            Some(b) => {
                let _ = b.g_mul_scalar_(momentum);
                let _ = b.g_add_(&grad);
                b.shallow_clone()
            }
            None => {
                let b = grad.detach().copy();
                p.slots[0] = Some(b.shallow_clone());
                b
            }
        }
    } else {
        grad
    };
    let _ = p.var.g_add_(&(&direction * -lr));
}

/// How the learning rate decays after the warm-up (`--schedule`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
pub enum DecayKind {
    /// Keep the base rate.
    #[default]
    Constant,
    /// Cosine from the base rate to `min_factor × base` over the whole run.
    Cosine,
    /// Multiply by `factor` when the monitored metric has not improved for
    /// `patience` epochs (Keras' ReduceLROnPlateau).
    Plateau,
}

/// A learning-rate schedule: linear warm-up, then a decay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    /// Steps of linear warm-up from `base / warmup_steps` to `base`.
    pub warmup_steps: u64,
    pub decay: DecayKind,
    /// Cosine: final rate as a fraction of the base rate.
    pub min_factor: f64,
    /// Plateau: multiply by this on a plateau.
    pub plateau_factor: f64,
    /// Plateau: epochs without improvement before reducing.
    pub plateau_patience: usize,
}

impl Default for LrSchedule {
    fn default() -> Self {
        LrSchedule {
            warmup_steps: 0,
            decay: DecayKind::Constant,
            min_factor: 0.01,
            plateau_factor: 0.5,
            plateau_patience: 2,
        }
    }
}

/// The schedule's running state (saved with checkpoints, so a resumed run
/// continues the same curve).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ScheduleState {
    /// Product of the plateau reductions so far (1 = none).
    pub plateau_scale: f64,
    pub plateau_best: Option<f64>,
    pub plateau_bad_epochs: usize,
}

impl LrSchedule {
    pub fn initial_state(&self) -> ScheduleState {
        ScheduleState {
            plateau_scale: 1.0,
            plateau_best: None,
            plateau_bad_epochs: 0,
        }
    }

    /// The rate for (0-based) `step` of a run of `total_steps` steps.
    pub fn lr(&self, base: f64, step: u64, total_steps: u64, state: &ScheduleState) -> f64 {
        let warm = if self.warmup_steps > 0 && step < self.warmup_steps {
            (step + 1) as f64 / self.warmup_steps as f64
        } else {
            1.0
        };
        let decay = match self.decay {
            DecayKind::Constant => 1.0,
            DecayKind::Cosine => {
                let span = total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
                let done = step.saturating_sub(self.warmup_steps) as f64;
                let progress = (done / span).min(1.0);
                let cos = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                self.min_factor + (1.0 - self.min_factor) * cos
            }
            DecayKind::Plateau => state.plateau_scale,
        };
        base * warm * decay
    }

    /// Updates the plateau state with the epoch's monitored value
    /// (`better(new, old)` says whether `new` improves on `old`).
    pub fn on_epoch_end(
        &self,
        state: &mut ScheduleState,
        value: f64,
        better: impl Fn(f64, f64) -> bool,
    ) {
        if self.decay != DecayKind::Plateau {
            return;
        }
        match state.plateau_best {
            Some(best) if !better(value, best) => {
                state.plateau_bad_epochs += 1;
                if state.plateau_bad_epochs >= self.plateau_patience.max(1) {
                    state.plateau_scale *= self.plateau_factor;
                    state.plateau_bad_epochs = 0;
                }
            }
            _ => {
                state.plateau_best = Some(value);
                state.plateau_bad_epochs = 0;
            }
        }
    }
}

/// Whether a smaller or a larger value of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Min,
    Max,
}

impl Mode {
    /// Losses and error rates (`loss`, `cer`, `wer`, `error`, `perplexity`)
    /// are minimised, everything else (accuracy, BLEU, ...) maximised.
    pub fn for_metric(name: &str) -> Mode {
        let n = name.to_ascii_lowercase();
        if ["loss", "cer", "wer", "error", "perplexity"]
            .iter()
            .any(|k| n.contains(k))
        {
            Mode::Min
        } else {
            Mode::Max
        }
    }

    /// Whether `new` beats `old` by more than `min_delta`.
    pub fn better(self, new: f64, old: f64, min_delta: f64) -> bool {
        match self {
            Mode::Min => new < old - min_delta,
            Mode::Max => new > old + min_delta,
        }
    }
}

/// Stop when the monitored metric has not improved for `patience` epochs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    pub patience: usize,
    pub min_delta: f64,
}
