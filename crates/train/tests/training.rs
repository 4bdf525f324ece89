//! The loop end to end on a tiny sequence task: variable-length sequences of
//! ±1 values (plus noise), label 1 when the sum is positive. A small GRU
//! from sori-rnn over padded, length-bucketed batches must learn it to 95%
//! validation accuracy (chance is ~50%), the same seed must give
//! bit-identical weights, and a run interrupted after 2 epochs and resumed
//! must end with exactly the weights of an uninterrupted run, for every
//! optimiser (their moments and step counts travel in the checkpoint).
use sori_rnn::{Cell, Encoder, EncoderConfig};
use sori_train::{
    binary_accuracy, pad_frames, EarlyStopping, InMemory, ModelDir, OptimizerKind, OptimizerSpec,
    Rng, StepOutput, Task, TaskResult, TrainConfig, Trainer, Which,
};
use std::sync::{Mutex, MutexGuard};
use tch::{nn, nn::Module, Device, Tensor};

/// libtorch's random generator is global to the process and the test
/// harness runs tests on parallel threads; seeded runs must not interleave.
static TORCH_RNG: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone)]
struct Example {
    values: Vec<f32>,
    label: f32,
}

fn make_data(n: usize, seed: u64) -> Vec<Example> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let len = 3 + rng.below(10) as usize;
            // Odd lengths cannot tie; for even ones, flip until the sum is non-zero.
            let mut signs: Vec<f32> = (0..len)
                .map(|_| if rng.below(2) == 0 { -1.0 } else { 1.0 })
                .collect();
            while signs.iter().sum::<f32>() == 0.0 {
                let i = rng.below(len as u64) as usize;
                signs[i] = -signs[i];
            }
            let label = if signs.iter().sum::<f32>() > 0.0 {
                1.0
            } else {
                0.0
            };
            let values = signs
                .iter()
                .map(|s| s + 0.2 * (rng.next_f64() as f32 - 0.5))
                .collect();
            Example { values, label }
        })
        .collect()
}

struct Batch {
    xs: Tensor,
    lengths: Vec<i64>,
    ys: Tensor,
}

fn collate(items: &[&Example]) -> TaskResult<Batch> {
    let seqs: Vec<&[f32]> = items.iter().map(|e| e.values.as_slice()).collect();
    let (xs, lengths) = pad_frames(&seqs, 1, Device::Cpu)?;
    let ys: Vec<f32> = items.iter().map(|e| e.label).collect();
    Ok(Batch {
        xs,
        lengths,
        ys: Tensor::from_slice(&ys),
    })
}

struct SumSign {
    vs: nn::VarStore,
    encoder: Encoder,
    out: nn::Linear,
}

impl SumSign {
    fn new(seed: u64) -> SumSign {
        tch::manual_seed(seed as i64);
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = EncoderConfig::new(Cell::Gru, 1, 12);
        let encoder = Encoder::new(&(vs.root() / "encoder"), &cfg).unwrap();
        let out = nn::linear(vs.root() / "out", 12, 1, Default::default());
        SumSign { vs, encoder, out }
    }

    fn step(&self, b: &Batch, train: bool) -> TaskResult<StepOutput> {
        let enc = self.encoder.forward(&b.xs, &b.lengths, train)?;
        let logits = self.out.forward(&enc.state.last_layer_h(1)).squeeze_dim(-1);
        let loss = logits.binary_cross_entropy_with_logits::<Tensor>(
            &b.ys,
            None,
            None,
            tch::Reduction::Mean,
        );
        Ok(StepOutput::new(loss, b.lengths.len()).with_metric(binary_accuracy(&logits, &b.ys)))
    }

    fn weights(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = self.vs.variables().into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

impl Task for SumSign {
    type Batch = Batch;
    fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }
    fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }
    fn train_step(&mut self, b: &Batch) -> TaskResult<StepOutput> {
        self.step(b, true)
    }
    fn eval_step(&mut self, b: &Batch) -> TaskResult<StepOutput> {
        self.step(b, false)
    }
}

fn data(n_train: usize, n_val: usize, batch: usize) -> InMemory<Example, Batch> {
    InMemory::new(make_data(n_train, 1), make_data(n_val, 2), batch, collate)
        .bucket_by(|e: &Example| e.values.len())
}

fn identical(a: &[(String, Tensor)], b: &[(String, Tensor)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((na, ta), (nb, tb))| na == nb && ta.equal(tb))
}

#[test]
fn learns_the_sign_of_a_sum_to_95_percent() {
    let _serial = serial();
    let mut model = SumSign::new(5);
    let config = TrainConfig {
        epochs: 8,
        batch_size: 32,
        optimizer: OptimizerSpec::new(OptimizerKind::Adam, 0.01),
        monitor: Some("val_accuracy".into()),
        ..TrainConfig::default()
    };
    let mut d = data(1024, 256, 32);
    let report = Trainer::new(config, None)
        .silent()
        .fit(&mut model, &mut d)
        .unwrap();
    let last = report.history.last().unwrap();
    let first = &report.history[0];
    assert!(
        last.get("loss").unwrap() < first.get("loss").unwrap(),
        "training loss did not fall: {:?}",
        report.history
    );
    let best = report.best_value.unwrap();
    assert!(best >= 0.95, "best validation accuracy {best}");
}

#[test]
fn same_seed_gives_bit_identical_weights() {
    let _serial = serial();
    let run = |seed: u64| {
        let mut model = SumSign::new(seed);
        let config = TrainConfig {
            epochs: 2,
            batch_size: 16,
            seed,
            optimizer: OptimizerSpec::new(OptimizerKind::RmsProp, 0.005),
            ..TrainConfig::default()
        };
        let mut d = data(128, 32, 16);
        Trainer::new(config, None)
            .silent()
            .fit(&mut model, &mut d)
            .unwrap();
        model.weights()
    };
    let a = run(11);
    let b = run(11);
    let c = run(12);
    assert!(identical(&a, &b), "same seed, different weights");
    assert!(!identical(&a, &c), "different seeds gave identical weights");
}

#[test]
fn resumed_run_ends_where_an_uninterrupted_run_ends() {
    let _serial = serial();
    for (kind, lr, momentum) in [
        (OptimizerKind::Adam, 0.01, None),
        (OptimizerKind::AdamW, 0.01, None),
        (OptimizerKind::RmsProp, 0.005, Some(0.5)),
        (OptimizerKind::Sgd, 0.1, None),
        (OptimizerKind::Sgd, 0.1, Some(0.0)),
    ] {
        let optimizer = OptimizerSpec {
            kind,
            lr,
            weight_decay: None,
            momentum,
        };
        resumed_run_matches(optimizer, kind == OptimizerKind::Adam);
    }
}

fn resumed_run_matches(optimizer: OptimizerSpec, check_files: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let config = |epochs: usize, resume: bool| TrainConfig {
        epochs,
        batch_size: 16,
        seed: 3,
        resume,
        optimizer: optimizer.clone(),
        // A warm-up that spans the interruption: the schedule resumes too.
        schedule: sori_train::LrSchedule {
            warmup_steps: 20,
            decay: sori_train::DecayKind::Cosine,
            ..Default::default()
        },
        clip_grad_norm: Some(1.0),
        ..TrainConfig::default()
    };
    // Uninterrupted: 4 epochs.
    let mut straight = SumSign::new(3);
    let dir_a = ModelDir::create(tmp.path().join("a")).unwrap();
    Trainer::new(config(4, false), Some(dir_a))
        .silent()
        .fit(&mut straight, &mut data(128, 32, 16))
        .unwrap();
    // Interrupted after 2 epochs, then resumed in a new process-like setting:
    // a freshly initialised model (other seed) that must load the checkpoint.
    let dir_b = ModelDir::create(tmp.path().join("b")).unwrap();
    let mut first = SumSign::new(3);
    Trainer::new(config(2, false), Some(dir_b.clone()))
        .silent()
        .fit(&mut first, &mut data(128, 32, 16))
        .unwrap();
    let mut resumed = SumSign::new(999);
    let report = Trainer::new(config(4, true), Some(dir_b.clone()))
        .silent()
        .fit(&mut resumed, &mut data(128, 32, 16))
        .unwrap();
    assert_eq!(report.resumed_from, 2);
    assert_eq!(
        report.history.iter().map(|r| r.epoch).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(
        identical(&straight.weights(), &resumed.weights()),
        "{optimizer:?}: resumed weights differ from the uninterrupted run"
    );
    let state = dir_b.read_state().unwrap().unwrap();
    assert_eq!(state.epoch, 4);
    assert_eq!(state.global_step, 4 * 8);
    if !check_files {
        return;
    }
    // The files a run leaves behind.
    for f in [
        "last.safetensors",
        "best.safetensors",
        "trainer_state.json",
        "history.jsonl",
        "history.svg",
    ] {
        assert!(dir_b.path().join(f).exists(), "{f} missing");
    }
    let png = std::fs::read(dir_b.path().join("history.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "history.png is not a PNG");
    let svg = std::fs::read_to_string(dir_b.path().join("history.svg")).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("polyline"),
        "svg has no curves"
    );
    let lines = std::fs::read_to_string(dir_b.path().join("history.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 4);
    // Resuming a finished run does nothing and keeps the weights.
    let mut again = SumSign::new(999);
    again.vs.copy(&resumed.vs).unwrap();
    Trainer::new(config(4, true), Some(dir_b.clone()))
        .silent()
        .fit(&mut again, &mut data(128, 32, 16))
        .unwrap();
    assert!(identical(&again.weights(), &resumed.weights()));
    // The best checkpoint loads into a fresh model.
    let mut fresh = SumSign::new(1);
    dir_b.load_weights(&mut fresh.vs, Which::Best).unwrap();
}

/// A task whose validation loss never improves after the first epoch.
struct Stuck {
    vs: nn::VarStore,
    w: Tensor,
    calls: usize,
}

impl Task for Stuck {
    type Batch = Batch;
    fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }
    fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }
    fn train_step(&mut self, b: &Batch) -> TaskResult<StepOutput> {
        Ok(StepOutput::new(
            (&self.w * &self.w).sum(tch::Kind::Float),
            b.lengths.len(),
        ))
    }
    fn eval_step(&mut self, b: &Batch) -> TaskResult<StepOutput> {
        self.calls += 1;
        Ok(StepOutput::new(Tensor::from(1.0f32), b.lengths.len()))
    }
}

#[test]
fn early_stopping_stops_after_patience_epochs() {
    let _serial = serial();
    let vs = nn::VarStore::new(Device::Cpu);
    let w = vs.root().var("w", &[3], nn::Init::Const(1.0));
    let mut task = Stuck { vs, w, calls: 0 };
    let config = TrainConfig {
        epochs: 50,
        batch_size: 16,
        early_stopping: Some(EarlyStopping {
            patience: 3,
            min_delta: 0.0,
        }),
        ..TrainConfig::default()
    };
    let report = Trainer::new(config, None)
        .silent()
        .fit(&mut task, &mut data(64, 16, 16))
        .unwrap();
    assert!(report.stopped_early);
    assert_eq!(report.best_epoch, 1);
    assert_eq!(
        report.history.len(),
        4,
        "1 best epoch + 3 without improvement"
    );
    assert_eq!(report.monitor, "val_loss");
}
