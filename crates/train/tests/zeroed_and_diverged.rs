//! Losses a task zeroed (CTC's `zero_infinity`) and weights that diverge
//! (issue 21): the loop counts zeroed losses per epoch in the history
//! (`zeroed_losses`), treats a batch whose every loss was zeroed as a
//! non-finite loss (`--on-nan`), and stops at the optimiser step after
//! which a parameter is no longer finite, even when the loss was finite.
//! The counts are the ones the test's task reports (the oracle is the
//! construction), the overflow is SGD with a learning rate of 1e300 on f32
//! weights.
use sori_train::{
    EpochRecord, InMemory, OnNan, OptimizerKind, OptimizerSpec, StepOutput, Task, TaskResult,
    TrainConfig, TrainError, Trainer,
};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use tch::{nn, nn::Module, Device, Kind, Tensor};

static TORCH_RNG: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

struct Regression {
    vs: nn::VarStore,
    lin: nn::Linear,
    /// Zeroed losses reported by the n-th (1-based) `train_step` call.
    zeroed: BTreeMap<usize, usize>,
    calls: usize,
}

impl Regression {
    fn new(zeroed: &[(usize, usize)]) -> Regression {
        tch::manual_seed(5);
        let vs = nn::VarStore::new(Device::Cpu);
        let lin = nn::linear(vs.root() / "lin", 3, 1, Default::default());
        Regression {
            vs,
            lin,
            zeroed: zeroed.iter().copied().collect(),
            calls: 0,
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
        let n = b.1.size()[0] as usize;
        let out = StepOutput::new(self.mse(b), n);
        Ok(out.with_zeroed(self.zeroed.get(&self.calls).copied().unwrap_or(0)))
    }
    fn eval_step(&mut self, b: &Self::Batch) -> TaskResult<StepOutput> {
        Ok(StepOutput::new(self.mse(b), b.1.size()[0] as usize))
    }
}

/// 64 examples of y = x · (1, -2, 0.5), batches of 8: 8 batches an epoch.
fn data() -> InMemory<(Vec<f32>, f32), (Tensor, Tensor)> {
    let mut rng = sori_train::Rng::new(1);
    let items: Vec<(Vec<f32>, f32)> = (0..64)
        .map(|_| {
            let x: Vec<f32> = (0..3).map(|_| rng.next_f64() as f32 * 2.0 - 1.0).collect();
            let y = x[0] - 2.0 * x[1] + 0.5 * x[2];
            (x, y)
        })
        .collect();
    InMemory::new(items, Vec::new(), 8, |items: &[&(Vec<f32>, f32)]| {
        let xs: Vec<f32> = items.iter().flat_map(|e| e.0.clone()).collect();
        let ys: Vec<f32> = items.iter().map(|e| e.1).collect();
        Ok((
            Tensor::from_slice(&xs).reshape([items.len() as i64, 3]),
            Tensor::from_slice(&ys),
        ))
    })
}

fn config(lr: f64, on_nan: OnNan) -> TrainConfig {
    TrainConfig {
        epochs: 2,
        batch_size: 8,
        optimizer: OptimizerSpec {
            kind: OptimizerKind::Sgd,
            lr,
            weight_decay: None,
            momentum: Some(0.0),
        },
        on_nan,
        ..TrainConfig::default()
    }
}

fn zeroed_in(h: &EpochRecord) -> Option<f64> {
    h.metrics.get("zeroed_losses").copied()
}

#[test]
fn zeroed_losses_are_counted_per_epoch() {
    let _serial = serial();
    // Epoch 1: calls 1..=8, epoch 2: calls 9..=16.
    let mut task = Regression::new(&[(2, 1), (5, 3), (16, 7)]);
    let report = Trainer::new(config(0.05, OnNan::Stop), None)
        .silent()
        .fit(&mut task, &mut data())
        .unwrap();
    let counts: Vec<Option<f64>> = report.history.iter().map(zeroed_in).collect();
    assert_eq!(counts, [Some(4.0), Some(7.0)]);
    // A task that zeroes nothing leaves no such entry.
    let mut task = Regression::new(&[]);
    let report = Trainer::new(config(0.05, OnNan::Stop), None)
        .silent()
        .fit(&mut task, &mut data())
        .unwrap();
    assert!(report.history.iter().all(|h| zeroed_in(h).is_none()));
}

#[test]
fn a_batch_whose_every_loss_was_zeroed_is_a_non_finite_loss() {
    let _serial = serial();
    // Epoch 2, batch 3: all 8 losses zeroed.
    let mut task = Regression::new(&[(11, 8)]);
    let err = Trainer::new(config(0.05, OnNan::Stop), None)
        .silent()
        .fit(&mut task, &mut data())
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, TrainError::Diverged { .. }), "{err:?}");
    assert!(
        msg.starts_with("the loss of all 8 examples of the batch is inf at epoch 2, batch 3;"),
        "{msg}"
    );
    let mut task = Regression::new(&[(11, 8)]);
    let report = Trainer::new(config(0.05, OnNan::Skip), None)
        .silent()
        .fit(&mut task, &mut data())
        .unwrap();
    let skipped: Vec<u64> = report.history.iter().map(|h| h.skipped_batches).collect();
    assert_eq!(skipped, [0, 1]);
}

#[test]
fn weights_that_overflow_stop_the_run_at_that_step() {
    let _serial = serial();
    for on_nan in [OnNan::Stop, OnNan::Skip] {
        let mut task = Regression::new(&[]);
        let err = Trainer::new(config(1e300, on_nan), None)
            .silent()
            .fit(&mut task, &mut data())
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, TrainError::Diverged { .. }), "{err:?}");
        assert_eq!(msg.lines().count(), 1, "{msg}");
        assert!(
            msg.starts_with("a parameter after the optimiser step is ")
                && msg.contains(" at epoch 1, batch 1; the weights diverged"),
            "{msg}"
        );
    }
}
