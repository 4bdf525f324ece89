//! NaN and infinite losses or gradients (`--on-nan stop|skip`), with a task
//! that poisons chosen batches: `stop` ends the run with a one-line error
//! naming the epoch and batch and leaves the checkpoint of the last
//! finished epoch byte for byte as it was; `skip` takes no optimiser step on
//! those batches (checked against a run whose poisoned batches have a zero
//! gradient instead, which plain SGD turns into no change either), counts
//! them in the history, and stops after too many in a row.
use sori_train::{
    InMemory, ModelDir, OnNan, OptimizerKind, OptimizerSpec, StepOutput, Task, TaskResult,
    TrainConfig, TrainError, Trainer, Which,
};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use tch::{nn, nn::Module, Device, Kind, Tensor};

static TORCH_RNG: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// How a poisoned batch misbehaves.
#[derive(Clone, Copy, PartialEq)]
enum Poison {
    /// The loss is NaN.
    NanLoss,
    /// The loss is finite (0) but its gradient is not: `sqrt` at 0 (∞ · 0).
    InfGradient,
    /// The reference: a finite loss with a zero gradient.
    ZeroGradient,
}

struct Regression {
    vs: nn::VarStore,
    lin: nn::Linear,
    /// 1-based `train_step` calls that are poisoned (8 batches per epoch:
    /// epoch e, batch b is call 8 (e - 1) + b).
    poisoned: BTreeSet<usize>,
    poison: Poison,
    calls: usize,
    /// `last.safetensors` as it was after each finished epoch.
    dir: Option<PathBuf>,
    snapshots: Vec<Vec<u8>>,
}

impl Regression {
    fn new(poisoned: &[usize], poison: Poison, dir: Option<PathBuf>) -> Regression {
        tch::manual_seed(5);
        let vs = nn::VarStore::new(Device::Cpu);
        let lin = nn::linear(vs.root() / "lin", 3, 1, Default::default());
        Regression {
            vs,
            lin,
            poisoned: poisoned.iter().copied().collect(),
            poison,
            calls: 0,
            dir,
            snapshots: Vec::new(),
        }
    }

    fn mse(&self, b: &(Tensor, Tensor)) -> Tensor {
        (self.lin.forward(&b.0).squeeze_dim(-1) - &b.1)
            .square()
            .mean(Kind::Float)
    }

    fn weights(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = self.vs.variables().into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

impl Task for Regression {
    type Batch = (Tensor, Tensor);
    fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }
    fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }
    fn train_step(&mut self, b: &Self::Batch) -> TaskResult<StepOutput> {
        self.calls += 1;
        let n = b.1.size()[0] as usize;
        let mse = self.mse(b);
        let loss = if self.poisoned.contains(&self.calls) {
            match self.poison {
                Poison::NanLoss => mse * f64::NAN,
                Poison::InfGradient => (mse * 0.0).sqrt(),
                Poison::ZeroGradient => mse * 0.0,
            }
        } else {
            mse
        };
        Ok(StepOutput::new(loss, n))
    }
    fn eval_step(&mut self, b: &Self::Batch) -> TaskResult<StepOutput> {
        Ok(StepOutput::new(self.mse(b), b.1.size()[0] as usize))
    }
    fn on_epoch_end(&mut self, _: &sori_train::EpochRecord) -> TaskResult<()> {
        if let Some(d) = &self.dir {
            self.snapshots
                .push(std::fs::read(ModelDir::new(d).weights_path(Which::Last))?);
        }
        Ok(())
    }
}

/// y = x · (1, -2, 0.5) + 0.3; 64 training examples, batches of 8.
fn data() -> InMemory<(Vec<f32>, f32), (Tensor, Tensor)> {
    let make = |n: usize, seed: u64| {
        let mut rng = sori_train::Rng::new(seed);
        (0..n)
            .map(|_| {
                let x: Vec<f32> = (0..3).map(|_| rng.next_f64() as f32 * 2.0 - 1.0).collect();
                let y = x[0] - 2.0 * x[1] + 0.5 * x[2] + 0.3;
                (x, y)
            })
            .collect::<Vec<_>>()
    };
    InMemory::new(
        make(64, 1),
        make(16, 2),
        8,
        |items: &[&(Vec<f32>, f32)]| {
            let xs: Vec<f32> = items.iter().flat_map(|e| e.0.clone()).collect();
            let ys: Vec<f32> = items.iter().map(|e| e.1).collect();
            Ok((
                Tensor::from_slice(&xs).reshape([items.len() as i64, 3]),
                Tensor::from_slice(&ys),
            ))
        },
    )
}

fn config(on_nan: OnNan) -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch_size: 8,
        optimizer: OptimizerSpec {
            kind: OptimizerKind::Sgd,
            lr: 0.05,
            weight_decay: None,
            momentum: Some(0.0),
        },
        on_nan,
        max_consecutive_skips: 3,
        ..TrainConfig::default()
    }
}

#[test]
fn stop_names_epoch_and_batch_and_keeps_the_last_checkpoint() {
    let _serial = serial();
    for poison in [Poison::NanLoss, Poison::InfGradient] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ModelDir::create(tmp.path()).unwrap();
        // Epoch 2, batch 3.
        let mut task = Regression::new(&[11], poison, Some(tmp.path().to_path_buf()));
        let err = Trainer::new(config(OnNan::Stop), Some(dir.clone()))
            .silent()
            .fit(&mut task, &mut data())
            .unwrap_err();
        assert!(matches!(err, TrainError::Diverged { .. }), "{err:?}");
        let msg = err.to_string();
        assert_eq!(msg.lines().count(), 1, "{msg}");
        let what = match poison {
            Poison::NanLoss => "loss is NaN",
            _ => "gradient norm is NaN",
        };
        assert!(
            msg.starts_with(&format!("{what} at epoch 2, batch 3; training stopped")),
            "{msg}"
        );
        assert!(
            msg.contains("the checkpoint of epoch 1 in") && msg.contains("--on-nan skip"),
            "{msg}"
        );
        // The checkpoint is epoch 1's, byte for byte, and loads.
        assert_eq!(task.snapshots.len(), 1);
        let now = std::fs::read(dir.weights_path(Which::Last)).unwrap();
        assert!(now == task.snapshots[0], "last.safetensors changed");
        assert_eq!(dir.read_state().unwrap().unwrap().epoch, 1);
        let mut fresh = Regression::new(&[], poison, None);
        let mut opt = config(OnNan::Stop).optimizer.build(&fresh.vs).unwrap();
        let (state, _) = dir
            .load_checkpoint(&mut fresh.vs, &mut opt)
            .unwrap()
            .unwrap();
        assert_eq!(state.epoch, 1);
        assert!(fresh
            .weights()
            .iter()
            .all(|(_, t)| t.isfinite().all().int64_value(&[]) == 1));
    }
    // Without a model directory the message says so.
    let mut task = Regression::new(&[2], Poison::NanLoss, None);
    let msg = Trainer::new(config(OnNan::Stop), None)
        .silent()
        .fit(&mut task, &mut data())
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("loss is NaN at epoch 1, batch 2;"), "{msg}");
}

#[test]
fn skip_takes_no_step_and_counts_the_batches() {
    let _serial = serial();
    // Epoch 2, batches 3 and 5; epoch 3, batch 8.
    let poisoned = [11, 13, 24];
    for poison in [Poison::NanLoss, Poison::InfGradient] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ModelDir::create(tmp.path()).unwrap();
        let mut skipped = Regression::new(&poisoned, poison, None);
        let report = Trainer::new(config(OnNan::Skip), Some(dir.clone()))
            .silent()
            .fit(&mut skipped, &mut data())
            .unwrap();
        let counts: Vec<u64> = report.history.iter().map(|r| r.skipped_batches).collect();
        assert_eq!(counts, [0, 2, 1]);
        // Steps are optimiser steps: 24 batches, 3 skipped.
        assert_eq!(report.history.last().unwrap().step, 21);
        // The history file records it (and only where non-zero).
        let lines = std::fs::read_to_string(dir.history_path()).unwrap();
        let with: Vec<bool> = lines
            .lines()
            .map(|l| l.contains("\"skipped_batches\""))
            .collect();
        assert_eq!(with, [false, true, true], "{lines}");
        assert!(lines.contains("\"skipped_batches\":2"), "{lines}");
        // The training loss of the epoch leaves the skipped batches out.
        assert!(report
            .history
            .iter()
            .all(|r| r.get("loss").unwrap().is_finite()));

        let mut reference = Regression::new(&poisoned, Poison::ZeroGradient, None);
        Trainer::new(config(OnNan::Skip), None)
            .silent()
            .fit(&mut reference, &mut data())
            .unwrap();
        for ((n, a), (_, b)) in skipped.weights().iter().zip(reference.weights()) {
            assert!(a.equal(&b), "{n}: skipping differs from a zero step");
        }
    }
}

#[test]
fn too_many_skips_in_a_row_stop_the_run() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path()).unwrap();
    // 3 in a row are allowed (epoch 1, batches 2-4), then a good batch
    // resets the count; epoch 2, batches 1-4 are one too many.
    let mut task = Regression::new(&[2, 3, 4, 9, 10, 11, 12], Poison::NanLoss, None);
    let msg = Trainer::new(config(OnNan::Skip), Some(dir))
        .silent()
        .fit(&mut task, &mut data())
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("loss is NaN at epoch 2, batch 4; 4 batches in a row skipped (limit 3): training stopped, the checkpoint of epoch 1 in"),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1);
}

#[test]
fn on_nan_flag_is_parsed() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        train: sori_train::TrainArgs,
    }
    let c = Cli::try_parse_from(["x"]).unwrap();
    assert_eq!(
        c.train.apply(TrainConfig::default()).unwrap().on_nan,
        OnNan::Stop
    );
    let c = Cli::try_parse_from(["x", "--on-nan", "skip"]).unwrap();
    assert_eq!(
        c.train.apply(TrainConfig::default()).unwrap().on_nan,
        OnNan::Skip
    );
    assert!(Cli::try_parse_from(["x", "--on-nan", "ignore"]).is_err());
}
