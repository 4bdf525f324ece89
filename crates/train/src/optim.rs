//! Optimisers, learning-rate schedules and early stopping.
//!
//! The optimisers are libtorch's (through `tch::nn::OptimizerConfig`); this
//! module only fixes their defaults so that they match the lecture (Keras):
//! RMSprop uses ρ = 0.9 and ε = 1e-7, Adam/AdamW β = (0.9, 0.999), ε = 1e-8
//! (Keras uses 1e-7 for Adam; the difference is below anything visible),
//! SGD uses momentum 0.9 unless told otherwise.
use serde::{Deserialize, Serialize};
use tch::nn::{self, OptimizerConfig};

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

    /// Builds the libtorch optimiser over every trainable variable of `vs`.
    pub fn build(&self, vs: &nn::VarStore) -> Result<nn::Optimizer, TrainError> {
        self.validate()?;
        let wd = self.weight_decay;
        let opt = match self.kind {
            OptimizerKind::Adam => nn::adam(0.9, 0.999, wd.unwrap_or(0.0)).build(vs, self.lr)?,
            OptimizerKind::AdamW => nn::adamw(0.9, 0.999, wd.unwrap_or(0.01)).build(vs, self.lr)?,
            OptimizerKind::RmsProp => nn::rms_prop(
                0.9,
                1e-7,
                wd.unwrap_or(0.0),
                self.momentum.unwrap_or(0.0),
                false,
            )
            .build(vs, self.lr)?,
            OptimizerKind::Sgd => {
                nn::sgd(self.momentum.unwrap_or(0.9), 0.0, wd.unwrap_or(0.0), false)
                    .build(vs, self.lr)?
            }
        };
        Ok(opt)
    }
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
