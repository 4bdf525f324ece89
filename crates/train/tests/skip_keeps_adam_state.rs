//! `--on-nan skip` with Adam (and AdamW): a skipped batch leaves the
//! optimiser untouched. Adam is the case that matters: unlike plain SGD, a
//! step on a zero gradient still moves it (the moments decay, the step
//! count and so the bias correction advance), so "no step" must mean no
//! call at all.
//!
//! Every batch of epoch 2 is poisoned (a NaN loss, or a finite loss whose
//! gradient is infinite), so the checkpoint after epoch 2 must hold, tensor
//! for tensor and bit for bit, the weights, `exp_avg`, `exp_avg_sq` and
//! per-parameter step counts of the checkpoint after epoch 1, and the
//! header's optimiser step count must be unchanged; epoch 3 then trains
//! again from there. A single poisoned batch costs exactly one step of the
//! count (15 after two epochs of 8 batches, 16 without poison).
use sori_train::checkpoint::META_OPTIMIZER_STEPS;
use sori_train::{
    read_safetensors, InMemory, ModelDir, OnNan, OptimizerKind, OptimizerSpec, StepOutput, Task,
    TaskResult, TrainConfig, Trainer, Which,
};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use tch::{nn, nn::Module, Device, Kind, Tensor};

static TORCH_RNG: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Poison {
    NanLoss,
    InfGradient,
}

struct Regression {
    vs: nn::VarStore,
    lin: nn::Linear,
    /// 1-based `train_step` calls that are poisoned (8 batches per epoch).
    poisoned: BTreeSet<usize>,
    poison: Poison,
    calls: usize,
    dir: PathBuf,
    /// `last.safetensors` read back after each finished epoch.
    snapshots: Vec<(HashMap<String, Tensor>, HashMap<String, String>)>,
}

impl Regression {
    fn new(poisoned: impl IntoIterator<Item = usize>, poison: Poison, dir: PathBuf) -> Regression {
        tch::manual_seed(5);
        let vs = nn::VarStore::new(Device::Cpu);
        let lin = nn::linear(vs.root() / "lin", 3, 1, Default::default());
        Regression {
            vs,
            lin,
            poisoned: poisoned.into_iter().collect(),
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
        let mse = self.mse(b);
        let loss = if self.poisoned.contains(&self.calls) {
            match self.poison {
                Poison::NanLoss => mse * f64::NAN,
                Poison::InfGradient => (mse * 0.0).sqrt(),
            }
        } else {
            mse
        };
        Ok(StepOutput::new(loss, b.1.size()[0] as usize))
    }
    fn eval_step(&mut self, b: &Self::Batch) -> TaskResult<StepOutput> {
        Ok(StepOutput::new(self.mse(b), b.1.size()[0] as usize))
    }
    fn on_epoch_end(&mut self, _: &sori_train::EpochRecord) -> TaskResult<()> {
        let path = ModelDir::new(&self.dir).weights_path(Which::Last);
        self.snapshots.push(read_safetensors(&path)?);
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

fn config(kind: OptimizerKind, epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 8,
        optimizer: OptimizerSpec {
            kind,
            lr: 0.05,
            weight_decay: if kind == OptimizerKind::AdamW {
                Some(0.1)
            } else {
                None
            },
            momentum: None,
        },
        on_nan: OnNan::Skip,
        max_consecutive_skips: 8,
        ..TrainConfig::default()
    }
}

fn run(
    kind: OptimizerKind,
    epochs: usize,
    poisoned: impl IntoIterator<Item = usize>,
    poison: Poison,
) -> Regression {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path()).unwrap();
    let mut task = Regression::new(poisoned, poison, tmp.path().to_path_buf());
    Trainer::new(config(kind, epochs), Some(dir))
        .silent()
        .fit(&mut task, &mut data())
        .unwrap();
    assert_eq!(task.snapshots.len(), epochs);
    task
}

fn bits_equal(a: &Tensor, b: &Tensor) -> bool {
    a.size() == b.size() && a.kind() == b.kind() && a.equal(b)
}

fn steps(meta: &HashMap<String, String>) -> u64 {
    meta[META_OPTIMIZER_STEPS].parse().unwrap()
}

#[test]
fn a_skipped_epoch_leaves_weights_moments_and_step_counts_bit_for_bit() {
    let _serial = serial();
    for kind in [OptimizerKind::Adam, OptimizerKind::AdamW] {
        for poison in [Poison::NanLoss, Poison::InfGradient] {
            let what = format!("{kind:?} {poison:?}");
            let task = run(kind, 3, 9..=16, poison);
            let (before, meta1) = &task.snapshots[0];
            let (after, meta2) = &task.snapshots[1];
            let (third, meta3) = &task.snapshots[2];
            // The state the test is about is there: both moments and the
            // step count of each parameter (weight and bias).
            for slot in ["exp_avg", "exp_avg_sq", "step"] {
                for p in ["lin.weight", "lin.bias"] {
                    let name = format!("__optimizer__/{slot}/{p}");
                    assert!(
                        before.contains_key(&name),
                        "{what}: no {name} in the checkpoint"
                    );
                }
            }
            assert_eq!(
                before["__optimizer__/step/lin.weight"].int64_value(&[0]),
                8,
                "{what}"
            );
            assert_eq!(steps(meta1), 8, "{what}");
            assert_eq!(steps(meta2), 8, "{what}: the skipped epoch took steps");
            let mut names: Vec<&String> = before.keys().collect();
            names.sort();
            let mut after_names: Vec<&String> = after.keys().collect();
            after_names.sort();
            assert_eq!(names, after_names, "{what}");
            for name in names {
                assert!(
                    bits_equal(&before[name], &after[name]),
                    "{what}: {name} changed over the skipped epoch: {:?} -> {:?}",
                    before[name],
                    after[name]
                );
            }
            // Epoch 3 trains again: 8 more steps, moments and weights move.
            assert_eq!(steps(meta3), 16, "{what}");
            assert_eq!(
                third["__optimizer__/step/lin.bias"].int64_value(&[0]),
                16,
                "{what}"
            );
            for name in ["__optimizer__/exp_avg_sq/lin.weight", "lin.weight"] {
                assert!(
                    !bits_equal(&after[name], &third[name]),
                    "{what}: {name} did not move in epoch 3"
                );
            }
        }
    }
}

#[test]
fn one_skipped_batch_costs_exactly_one_step() {
    let _serial = serial();
    let clean = run(OptimizerKind::Adam, 2, [], Poison::NanLoss);
    assert_eq!(steps(&clean.snapshots[1].1), 16);
    for poison in [Poison::NanLoss, Poison::InfGradient] {
        // Epoch 2, batch 3.
        let task = run(OptimizerKind::Adam, 2, [11], poison);
        let (state, meta) = &task.snapshots[1];
        assert_eq!(steps(meta), 15, "{poison:?}");
        for p in ["lin.weight", "lin.bias"] {
            assert_eq!(
                state[&format!("__optimizer__/step/{p}")].int64_value(&[0]),
                15,
                "{poison:?}"
            );
        }
        // Epoch 1 (before the poison) is the clean run's, bit for bit.
        for (name, t) in &clean.snapshots[0].0 {
            assert!(
                bits_equal(t, &task.snapshots[0].0[name]),
                "{poison:?}: {name}"
            );
        }
        // Every state tensor is finite.
        for (name, t) in state {
            if t.is_floating_point() {
                assert!(
                    t.isfinite().all().int64_value(&[]) == 1,
                    "{poison:?}: {name} is not finite"
                );
            }
        }
    }
}
