//! Ctrl-C during `Trainer::fit` (issue 18): a SIGINT raised from inside a
//! training step stops the run before the next batch with `Interrupted`,
//! whose line names the epoch whose checkpoint is kept and `--resume`;
//! nothing of the interrupted epoch reaches the model directory (the
//! history and the trainer state are those of the kept epoch), the exit
//! status becomes 130, and resuming ends with exactly the weights of a run
//! that was never interrupted. One test in its own file: the signal goes to
//! the whole test process.
use sori_train::trainer::{failure_exit_code, Interrupted};
use sori_train::{
    InMemory, ModelDir, OptimizerKind, OptimizerSpec, StepOutput, Task, TaskResult, TrainConfig,
    TrainError, Trainer,
};
use tch::{nn, nn::Module, Device, Kind, Tensor};

/// y = 2x - 1 on a few points.
fn points(n: usize) -> Vec<(f32, f32)> {
    (0..n)
        .map(|i| {
            let x = i as f32 / n as f32;
            (x, 2.0 * x - 1.0)
        })
        .collect()
}

fn collate(items: &[&(f32, f32)]) -> TaskResult<(Tensor, Tensor)> {
    let xs: Vec<f32> = items.iter().map(|p| p.0).collect();
    let ys: Vec<f32> = items.iter().map(|p| p.1).collect();
    Ok((
        Tensor::from_slice(&xs).unsqueeze(1),
        Tensor::from_slice(&ys).unsqueeze(1),
    ))
}

struct Line {
    vs: nn::VarStore,
    layer: nn::Linear,
    steps: usize,
    /// Raise SIGINT inside this 1-based training step.
    ctrl_c_at: Option<usize>,
}

impl Line {
    fn new(ctrl_c_at: Option<usize>) -> Line {
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = nn::linear(vs.root() / "line", 1, 1, Default::default());
        Line {
            vs,
            layer,
            steps: 0,
            ctrl_c_at,
        }
    }

    fn loss(&self, b: &(Tensor, Tensor)) -> StepOutput {
        let loss = self
            .layer
            .forward(&b.0)
            .mse_loss(&b.1, tch::Reduction::Mean);
        StepOutput::new(loss, b.0.size()[0] as usize)
    }
}

impl Task for Line {
    type Batch = (Tensor, Tensor);
    fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }
    fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }
    fn train_step(&mut self, b: &Self::Batch) -> TaskResult<StepOutput> {
        self.steps += 1;
        if Some(self.steps) == self.ctrl_c_at {
            // What Ctrl-C in a terminal does to the process.
            // SAFETY: raising a signal has no preconditions.
            assert_eq!(unsafe { libc::raise(libc::SIGINT) }, 0);
        }
        Ok(self.loss(b))
    }
    fn eval_step(&mut self, b: &Self::Batch) -> TaskResult<StepOutput> {
        Ok(self.loss(b))
    }
}

fn config(resume: bool) -> TrainConfig {
    TrainConfig {
        epochs: 5,
        batch_size: 4,
        optimizer: OptimizerSpec::new(OptimizerKind::Adam, 0.05),
        quiet: true,
        resume,
        ..TrainConfig::default()
    }
}

fn data() -> InMemory<(f32, f32), (Tensor, Tensor)> {
    // 16 training points in 4 batches, 4 validation points.
    InMemory::new(points(16), points(4), 4, collate)
}

fn weights(vs: &nn::VarStore) -> Vec<f32> {
    let mut v: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.iter()
        .flat_map(|(_, t)| Vec::<f32>::try_from(t.flatten(0, -1).to_kind(Kind::Float)).unwrap())
        .collect()
}

#[test]
fn ctrl_c_keeps_the_last_epoch_and_resume_finishes_the_run() {
    // A test run in the background of a non-interactive shell inherits an
    // ignored SIGINT, which fit rightly leaves alone; this test wants the
    // terminal's default.
    // SAFETY: setting the default action has no preconditions.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    assert_eq!(failure_exit_code(), 1, "before any interruption");

    // The reference: five epochs without interruption.
    let mut plain = Line::new(None);
    Trainer::new(config(false), None)
        .silent()
        .fit(&mut plain, &mut data())
        .unwrap();

    // Ctrl-C in the 2nd batch of epoch 3 (steps 9..12 are epoch 3).
    let mut task = Line::new(Some(10));
    let err = Trainer::new(config(false), Some(ModelDir::new(&dir)))
        .silent()
        .fit(&mut task, &mut data())
        .unwrap_err();
    let TrainError::Task(inner) = &err else {
        panic!("not an interruption: {err}");
    };
    let stop = inner
        .downcast_ref::<Interrupted>()
        .unwrap_or_else(|| panic!("not an interruption: {err}"));
    assert_eq!((stop.epoch, stop.kept_epoch), (3, 2), "{err}");
    // It stopped before the next batch: step 10 ran, step 11 did not.
    assert_eq!(task.steps, 10);
    let line = err.to_string();
    assert_eq!(
        line,
        format!(
            "interrupted (Ctrl-C) before batch 3 of epoch 3: the checkpoint of epoch 2 in {} is kept; run the same command with --resume to continue from it",
            dir.display()
        )
    );
    assert!(!line.contains('\n'));
    assert_eq!(failure_exit_code(), 130);

    // The directory holds epoch 2, whole: two history lines, the trainer
    // state of epoch 2 in last.safetensors' header, no temporary files.
    let history = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 2, "{history}");
    let (_, header) = sori_train::read_safetensors(&dir.join("last.safetensors")).unwrap();
    let state: serde_json::Value = serde_json::from_str(
        header
            .get("sori.trainer_state")
            .expect("sori.trainer_state"),
    )
    .unwrap();
    assert_eq!(state["epoch"], 2, "{state}");
    assert_eq!(state["global_step"], 8, "{state}");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");

    // The default action is back: the handler lives only while fit runs.
    // SAFETY: reads the current action.
    let action = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old), 0);
        old.sa_sigaction
    };
    assert_eq!(action, libc::SIG_DFL);

    // --resume continues from epoch 2 and ends where the plain run ended.
    let mut resumed = Line::new(None);
    let report = Trainer::new(config(true), Some(ModelDir::new(&dir)))
        .silent()
        .fit(&mut resumed, &mut data())
        .unwrap();
    assert_eq!(report.resumed_from, 2);
    assert_eq!(report.history.len(), 5);
    assert_eq!(resumed.steps, 12, "epochs 3 to 5, four batches each");
    assert_eq!(weights(&resumed.vs), weights(&plain.vs));
}
