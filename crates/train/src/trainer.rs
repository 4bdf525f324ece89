//! The training loop: epochs of optimiser steps over a [`DataSource`], a
//! validation pass, history, checkpoints of the best and last weights,
//! learning-rate schedule, gradient clipping and early stopping, all driven
//! by an application's [`Task`].
//!
//! Reproducibility: before every epoch the libtorch generator is seeded
//! from `(seed, epoch)`, and the data order depends only on `(seed, epoch)`;
//! so on CPU the same seed gives bit-identical weights, and `--resume`
//! replays the same data order and dropout masks (tch 0.26 cannot read
//! libtorch's generator state, so it is reseeded rather than saved). A
//! resume restores the weights, the optimiser's state (step counts,
//! Adam/RMSprop moments, momentum buffers; see [`crate::optim`]), the
//! trainer state (step, schedule, best metric, early-stopping counters) and
//! the task's own random state ([`Task::task_state`]: SpecAugment's
//! generator) from `last.safetensors`,
//! so on CPU a run stopped after epoch k and resumed ends with the weights
//! of an uninterrupted run. Resuming is per epoch: a run killed mid-epoch
//! restarts that epoch.
//!
//! Non-finite values: after every forward pass the loss, and after every
//! backward pass the global gradient norm, are checked (a batch whose every
//! loss the task zeroed, [`StepOutput::zeroed`], counts as a non-finite
//! loss). A NaN or infinite
//! one either stops the run with [`TrainError::Diverged`] (naming the epoch
//! and batch; no step is taken and nothing is written, so the checkpoint
//! of the last finished epoch stays intact) or, with [`OnNan::Skip`], skips
//! the batch without an optimiser step and counts it in the epoch's
//! `skipped_batches`; more than [`TrainConfig::max_consecutive_skips`]
//! skipped batches in a row stop the run as above. After every optimiser
//! step the parameters are checked: a non-finite one stops the run as
//! above whatever `--on-nan` says (the step cannot be undone).
//!
//! Ctrl-C (SIGINT): while [`Trainer::fit`] runs it catches the signal
//! (unless the process ignores it or handles it itself) and only sets a
//! flag, which the loop checks before every batch, every validation batch
//! and after every epoch's checkpoint. The run then stops with an
//! [`Interrupted`] error whose one line names the epoch whose checkpoint is
//! kept and says to continue with `--resume`; nothing is half-written (the
//! checkpoint files are written whole, between checks). The binaries exit
//! with [`failure_exit_code`], 130 after such a stop. A second Ctrl-C ends
//! the process at once, as without the handler.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tch::{nn, Tensor};

use crate::checkpoint::{Checkpoint, ModelDir, TrainerState, Which};
use crate::data::DataSource;
use crate::history::{self, EpochRecord};
use crate::optim::{EarlyStopping, LrSchedule, Mode, OptimizerKind, OptimizerSpec, StateRestore};
use crate::progress::Progress;
use crate::{TaskResult, TrainError};

/// An application metric accumulated over batches as `sum / count`
/// (accuracy: correct / total; CER: edits / reference characters).
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub sum: f64,
    pub count: f64,
}

impl Metric {
    /// A ratio metric: `sum / count` over the epoch.
    pub fn ratio(name: impl Into<String>, sum: f64, count: f64) -> Metric {
        Metric {
            name: name.into(),
            sum,
            count,
        }
    }
    /// A per-batch mean `value` over `count` examples.
    pub fn mean(name: impl Into<String>, value: f64, count: f64) -> Metric {
        Metric::ratio(name, value * count, count)
    }
}

/// What one step on one batch reports.
#[derive(Debug)]
pub struct StepOutput {
    /// Mean loss over the batch, a scalar; in `train_step` it must carry
    /// the graph (the trainer calls `backward` on it).
    pub loss: Tensor,
    /// Examples in the batch (weights the loss in the epoch mean).
    pub examples: usize,
    /// Extra metrics (accuracy, ...).
    pub metrics: Vec<Metric>,
    /// Examples whose loss was infinite and counted as zero (CTC's
    /// `zero_infinity`), when the task counts them: the loop adds them up
    /// per epoch (`zeroed_losses` in the history, present when not zero)
    /// and treats a batch whose every loss was zeroed as a non-finite loss
    /// (`--on-nan`): nothing in it trains the model.
    pub zeroed: Option<usize>,
}

impl StepOutput {
    pub fn new(loss: Tensor, examples: usize) -> StepOutput {
        StepOutput {
            loss,
            examples,
            metrics: Vec::new(),
            zeroed: None,
        }
    }
    /// `n` of the batch's examples had an infinite loss counted as zero.
    pub fn with_zeroed(mut self, n: usize) -> StepOutput {
        self.zeroed = Some(n);
        self
    }
    pub fn with_metric(mut self, m: Metric) -> StepOutput {
        self.metrics.push(m);
        self
    }
}

/// The application side of the loop.
pub trait Task {
    type Batch;
    /// The variables being trained (the optimiser and checkpoints use it).
    fn var_store(&self) -> &nn::VarStore;
    fn var_store_mut(&mut self) -> &mut nn::VarStore;
    /// Forward pass in training mode (dropout on); returns the loss with
    /// its graph.
    fn train_step(&mut self, batch: &Self::Batch) -> TaskResult<StepOutput>;
    /// Forward pass in evaluation mode; runs under `no_grad`.
    fn eval_step(&mut self, batch: &Self::Batch) -> TaskResult<StepOutput>;
    /// Metrics over the whole validation set, computed after all
    /// `eval_step`s (corpus BLEU, CER); names get the `val_` prefix.
    fn eval_end(&mut self) -> TaskResult<Vec<(String, f64)>> {
        Ok(Vec::new())
    }
    /// Called after each epoch's checkpoint (e.g. print sample outputs).
    fn on_epoch_end(&mut self, _record: &EpochRecord) -> TaskResult<()> {
        Ok(())
    }
    /// The state of every random generator the task draws from across
    /// epochs that is not derived from `(seed, epoch)` (a SpecAugment
    /// generator seeded once), as text of the task's choosing; saved in
    /// `last.safetensors` after every epoch and handed back to
    /// [`Task::restore_task_state`] on `--resume`, so that the resumed run
    /// draws what an uninterrupted one would. `None`: nothing to save.
    fn task_state(&self) -> Option<String> {
        None
    }
    /// Restores what [`Task::task_state`] returned at the end of the epoch
    /// a resumed run continues from.
    fn restore_task_state(&mut self, _state: &str) -> TaskResult<()> {
        Ok(())
    }
}

/// What to do with a batch whose loss or gradient is NaN or infinite
/// (`--on-nan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum OnNan {
    /// End training with an error; the last checkpoint stays as it was.
    #[default]
    Stop,
    /// Skip the batch (no optimiser step) and go on.
    Skip,
}

/// Settings of a run; [`crate::TrainArgs::apply`] fills it from the CLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerSpec,
    pub schedule: LrSchedule,
    /// Clip the global gradient norm to this value.
    pub clip_grad_norm: Option<f64>,
    pub early_stopping: Option<EarlyStopping>,
    /// Metric that selects the best checkpoint and drives early stopping
    /// and plateau decay; `None`: `val_loss` with validation data, else `loss`.
    pub monitor: Option<String>,
    /// Metric plotted next to the loss (default: the first non-loss one).
    pub plot_metric: Option<String>,
    pub seed: u64,
    /// Print as little as the caller wants: plain progress lines here;
    /// libraries may take it as "print nothing" (tests).
    pub quiet: bool,
    /// Plain progress lines instead of bars, even on a terminal (`--quiet`
    /// of the binaries); the epoch lines stay.
    #[serde(default)]
    pub plain_progress: bool,
    pub resume: bool,
    /// What a NaN/infinite loss or gradient does.
    #[serde(default)]
    pub on_nan: OnNan,
    /// With [`OnNan::Skip`]: more skipped batches in a row than this stop
    /// the run (a model that only produces NaN is not training).
    #[serde(default = "default_max_consecutive_skips")]
    pub max_consecutive_skips: usize,
}

fn default_max_consecutive_skips() -> usize {
    10
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 32,
            optimizer: OptimizerSpec::new(OptimizerKind::Adam, 1e-3),
            schedule: LrSchedule::default(),
            clip_grad_norm: None,
            early_stopping: None,
            monitor: None,
            plot_metric: None,
            seed: 42,
            quiet: false,
            plain_progress: false,
            resume: false,
            on_nan: OnNan::Stop,
            max_consecutive_skips: default_max_consecutive_skips(),
        }
    }
}

/// What [`Trainer::fit`] returns.
#[derive(Debug, Clone)]
pub struct FitReport {
    /// Every epoch of the run, including those before a resume.
    pub history: Vec<EpochRecord>,
    pub monitor: String,
    pub best_value: Option<f64>,
    pub best_epoch: usize,
    pub stopped_early: bool,
    /// Epoch the run continued from (0 = fresh start).
    pub resumed_from: usize,
}

/// Weighted means of metrics over an epoch.
#[derive(Debug, Default)]
struct Accumulator {
    sums: BTreeMap<String, (f64, f64)>,
}

impl Accumulator {
    fn add(&mut self, name: &str, sum: f64, count: f64) {
        let e = self.sums.entry(name.to_string()).or_insert((0.0, 0.0));
        e.0 += sum;
        e.1 += count;
    }
    fn mean(&self, name: &str) -> f64 {
        self.sums
            .get(name)
            .map_or(f64::NAN, |(s, c)| if *c > 0.0 { s / c } else { f64::NAN })
    }
    fn means(&self, prefix: &str) -> BTreeMap<String, f64> {
        self.sums
            .keys()
            .map(|k| (format!("{prefix}{k}"), self.mean(k)))
            .collect()
    }
}

/// Runs the loop; see the module docs.
pub struct Trainer {
    pub config: TrainConfig,
    dir: Option<ModelDir>,
    progress: Option<Progress>,
}

fn epoch_seed(seed: u64, epoch: usize) -> i64 {
    let mut r = crate::data::Rng::for_stream(seed, 0x5EED_0000 + epoch as u64);
    (r.next_u64() >> 1) as i64
}

impl Trainer {
    /// `dir`: where checkpoints, state and history go (`None`: keep nothing
    /// on disk, e.g. in tests). The directory's `config.json` is the
    /// application's business ([`ModelDir::write_config`]).
    pub fn new(config: TrainConfig, dir: Option<ModelDir>) -> Trainer {
        Trainer {
            config,
            dir,
            progress: None,
        }
    }

    /// Print nothing (tests).
    pub fn silent(mut self) -> Trainer {
        self.progress = Some(Progress::silent());
        self
    }

    pub fn fit<T, D>(&mut self, task: &mut T, data: &mut D) -> Result<FitReport, TrainError>
    where
        T: Task,
        D: DataSource<Batch = T::Batch>,
    {
        let cfg = self.config.clone();
        if cfg.epochs == 0 {
            return Err(TrainError::Config("epochs must be >= 1".into()));
        }
        cfg.optimizer.validate()?;
        // Ctrl-C only sets a flag while the loop runs (module docs).
        let _ctrl_c = CtrlC::catch();
        let mut progress = self
            .progress
            .take()
            .unwrap_or_else(|| Progress::new(cfg.epochs, cfg.quiet || cfg.plain_progress));
        let has_val = data.val_batches().map_err(TrainError::Task)?.is_some();
        let monitor = cfg
            .monitor
            .clone()
            .unwrap_or_else(|| if has_val { "val_loss" } else { "loss" }.to_string());
        let mode = Mode::for_metric(&monitor);
        let min_delta = cfg.early_stopping.as_ref().map_or(0.0, |e| e.min_delta);

        let mut state = TrainerState {
            epoch: 0,
            global_step: 0,
            seed: cfg.seed,
            monitor: monitor.clone(),
            best_value: None,
            best_epoch: 0,
            epochs_without_improvement: 0,
            schedule: cfg.schedule.initial_state(),
            stopped_early: false,
        };
        let mut records: Vec<EpochRecord> = Vec::new();
        let mut resumed_from = 0;
        let mut opt = cfg.optimizer.build(task.var_store())?;
        if let Some(dir) = &self.dir {
            std::fs::create_dir_all(dir.path()).map_err(|e| TrainError::Io {
                path: dir.path().to_path_buf(),
                source: e,
            })?;
            if cfg.resume {
                match dir.load_checkpoint_with_task(task.var_store_mut(), &mut opt)? {
                    Some(Checkpoint {
                        state: saved,
                        restore,
                        task_state,
                    }) => {
                        if dir.history_path().exists() {
                            records = history::read_jsonl(&dir.history_path())?;
                            records.retain(|r| r.epoch <= saved.epoch);
                        }
                        resumed_from = saved.epoch;
                        let optimiser = match restore {
                            StateRestore::Restored => format!(
                                "{} state restored",
                                cfg.optimizer.kind.name()
                            ),
                            StateRestore::OtherOptimizer(saved) => format!(
                                "the checkpoint holds {saved} state, not {}: optimiser state starts from zero",
                                opt.state_layout()
                            ),
                            StateRestore::Missing => {
                                "the checkpoint has no optimiser state: it starts from zero".into()
                            }
                        };
                        match task_state {
                            Some(t) => task.restore_task_state(&t).map_err(TrainError::Task)?,
                            None if task.task_state().is_some() => progress.note(
                                "the checkpoint has no task state (random generators of augmentation): they start over, so the resumed run will not equal an uninterrupted one bit for bit",
                            ),
                            None => {}
                        }
                        progress.note(&format!(
                            "resuming from {} after epoch {} (step {}); {optimiser}",
                            dir.path().display(),
                            saved.epoch,
                            saved.global_step
                        ));
                        state = saved;
                        state.monitor = monitor.clone();
                    }
                    None => progress.note(&format!(
                        "--resume: no checkpoint in {}, starting from scratch",
                        dir.path().display()
                    )),
                }
            }
        }
        if state.stopped_early || state.epoch >= cfg.epochs {
            progress.note("nothing to do: the saved run already finished");
            return Ok(FitReport {
                history: records,
                monitor,
                best_value: state.best_value,
                best_epoch: state.best_epoch,
                stopped_early: state.stopped_early,
                resumed_from,
            });
        }

        let per_epoch = data.train_len();
        let total_steps = per_epoch.map_or(0, |n| (n * cfg.epochs) as u64);
        let mut lr = cfg.optimizer.lr;
        let mut consecutive_skips = 0usize;

        for epoch in state.epoch + 1..=cfg.epochs {
            let started = Instant::now();
            tch::manual_seed(epoch_seed(cfg.seed, epoch));
            progress.start_epoch(epoch, per_epoch);
            let mut acc = Accumulator::default();
            let mut done = 0usize;
            let mut skipped = 0u64;
            let mut zeroed = 0usize;
            let batches = data
                .train_batches(epoch, cfg.seed)
                .map_err(TrainError::Task)?;
            for batch in batches {
                self.check_interrupt(epoch, &state, Phase::Batch(done + 1))?;
                let batch = batch.map_err(TrainError::Task)?;
                done += 1;
                lr = cfg.schedule.lr(
                    cfg.optimizer.lr,
                    state.global_step,
                    total_steps,
                    &state.schedule,
                );
                opt.set_lr(lr);
                let out = task.train_step(&batch).map_err(TrainError::Task)?;
                let loss = out.loss.double_value(&[]);
                let mut bad = (!loss.is_finite()).then(|| ("loss".to_string(), loss));
                if bad.is_none() && out.zeroed.is_some_and(|z| z >= out.examples) {
                    bad = Some((
                        format!("the loss of all {} examples of the batch", out.examples),
                        f64::INFINITY,
                    ));
                }
                if bad.is_none() {
                    opt.zero_grad();
                    out.loss.backward();
                    let norm = match cfg.clip_grad_norm {
                        Some(max) => opt.clip_grad_norm(max),
                        None => opt.grad_norm(),
                    };
                    if !norm.is_finite() {
                        bad = Some(("gradient norm".to_string(), norm));
                    }
                }
                if let Some((what, value)) = bad {
                    let checkpoint = self.last_good_checkpoint(state.epoch);
                    let advice = "lower the learning rate, clip gradients (--clip-grad-norm) or skip such batches (--on-nan skip)";
                    if cfg.on_nan == OnNan::Stop {
                        return Err(TrainError::Diverged {
                            what,
                            value,
                            epoch,
                            batch: done,
                            detail: format!("training stopped, {checkpoint}; {advice}"),
                        });
                    }
                    consecutive_skips += 1;
                    skipped += 1;
                    if consecutive_skips > cfg.max_consecutive_skips {
                        return Err(TrainError::Diverged {
                            what,
                            value,
                            epoch,
                            batch: done,
                            detail: format!(
                                "{consecutive_skips} batches in a row skipped (limit {}): training stopped, {checkpoint}; lower the learning rate or clip gradients (--clip-grad-norm)",
                                cfg.max_consecutive_skips
                            ),
                        });
                    }
                    opt.zero_grad();
                    progress.note(&format!(
                        "epoch {epoch}, batch {done}: {what} is {value}; batch skipped (--on-nan skip)"
                    ));
                    continue;
                }
                consecutive_skips = 0;
                opt.step();
                if let Some(value) = non_finite_parameters(task.var_store()) {
                    // The step is taken and cannot be undone: stop whatever
                    // --on-nan says; the last epoch's checkpoint is intact.
                    return Err(TrainError::Diverged {
                        what: "a parameter after the optimiser step".into(),
                        value,
                        epoch,
                        batch: done,
                        detail: format!(
                            "the weights diverged: training stopped, {}; lower the learning rate or clip gradients (--clip-grad-norm)",
                            self.last_good_checkpoint(state.epoch)
                        ),
                    });
                }
                zeroed += out.zeroed.unwrap_or(0);
                let n = out.examples as f64;
                acc.add("loss", loss * n, n);
                for m in &out.metrics {
                    acc.add(&m.name, m.sum, m.count);
                }
                state.global_step += 1;
                progress.step(done, acc.mean("loss"));
            }
            if done == 0 {
                return Err(TrainError::Config(format!(
                    "epoch {epoch} had no training batches; is the training set empty?"
                )));
            }
            let mut metrics = acc.means("");
            if zeroed > 0 {
                metrics.insert("zeroed_losses".into(), zeroed as f64);
                progress.note(&format!(
                    "epoch {epoch}: the loss of {zeroed} training example(s) was infinite and counted as zero (zeroed_losses in the history)"
                ));
            }
            if let Some(val) = data.val_batches().map_err(TrainError::Task)? {
                let _guard = tch::no_grad_guard();
                let mut vacc = Accumulator::default();
                for batch in val {
                    self.check_interrupt(epoch, &state, Phase::Validation)?;
                    let batch = batch.map_err(TrainError::Task)?;
                    let out = task.eval_step(&batch).map_err(TrainError::Task)?;
                    let n = out.examples as f64;
                    vacc.add("loss", out.loss.double_value(&[]) * n, n);
                    for m in &out.metrics {
                        vacc.add(&m.name, m.sum, m.count);
                    }
                }
                metrics.extend(vacc.means("val_"));
                for (k, v) in task.eval_end().map_err(TrainError::Task)? {
                    metrics.insert(format!("val_{k}"), v);
                }
            }
            let record = EpochRecord {
                epoch,
                step: state.global_step,
                lr,
                seconds: started.elapsed().as_secs_f64(),
                skipped_batches: skipped,
                metrics,
            };
            let value = record.get(&monitor).ok_or_else(|| {
                TrainError::Config(format!(
                    "monitored metric {monitor:?} is not among the epoch's metrics ({})",
                    record
                        .metrics
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            let improved = match state.best_value {
                None => value.is_finite(),
                Some(best) => mode.better(value, best, min_delta),
            };
            state.epoch = epoch;
            if improved {
                state.best_value = Some(value);
                state.best_epoch = epoch;
                state.epochs_without_improvement = 0;
            } else {
                state.epochs_without_improvement += 1;
            }
            cfg.schedule
                .on_epoch_end(&mut state.schedule, value, |a, b| mode.better(a, b, 0.0));
            if let Some(es) = &cfg.early_stopping {
                if state.epochs_without_improvement >= es.patience.max(1) {
                    state.stopped_early = true;
                }
            }
            records.push(record.clone());
            if let Some(dir) = &self.dir {
                // The history first and last.safetensors (the commit point
                // of the epoch) after it: a crash in between leaves a
                // history line that a resume drops (it keeps epochs up to
                // the checkpoint's).
                history::write_jsonl(&dir.history_path(), &records)?;
                if improved {
                    dir.save_weights(task.var_store(), Which::Best)?;
                }
                dir.save_checkpoint_with_task(
                    task.var_store(),
                    &opt,
                    &state,
                    task.task_state().as_deref(),
                )?;
                history::plot(dir.path(), &records, cfg.plot_metric.as_deref())?;
            }
            let note = if improved {
                format!(" ({monitor} improved)")
            } else {
                String::new()
            };
            progress.end_epoch(&record, &note);
            task.on_epoch_end(&record).map_err(TrainError::Task)?;
            self.check_interrupt(epoch, &state, Phase::AfterEpoch)?;
            if state.stopped_early {
                progress.note(&format!(
                    "early stopping: {monitor} has not improved for {} epochs (best {:.4} at epoch {})",
                    state.epochs_without_improvement,
                    state.best_value.unwrap_or(f64::NAN),
                    state.best_epoch
                ));
                break;
            }
        }
        Ok(FitReport {
            history: records,
            monitor,
            best_value: state.best_value,
            best_epoch: state.best_epoch,
            stopped_early: state.stopped_early,
            resumed_from,
        })
    }
}

/// Where the loop was when Ctrl-C was seen.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Before the batch with this 1-based number.
    Batch(usize),
    Validation,
    /// After the epoch's checkpoint.
    AfterEpoch,
}

/// A training run stopped by Ctrl-C (SIGINT); inside
/// [`TrainError::Task`], so `err.downcast_ref::<Interrupted>()` finds it.
/// Its message is the one line a user needs: which epoch's checkpoint is
/// kept, where, and that `--resume` continues from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// The epoch that was running (or had just ended), 1-based.
    pub epoch: usize,
    /// The last finished epoch, whose checkpoint is kept (0: none).
    pub kept_epoch: usize,
    /// The model directory (`None`: nothing kept on disk).
    pub dir: Option<std::path::PathBuf>,
    /// What the loop was doing, in words ("before batch 7 of epoch 3").
    pub at: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted (Ctrl-C) {}: ", self.at)?;
        match &self.dir {
            Some(dir) if self.kept_epoch > 0 => write!(
                f,
                "the checkpoint of epoch {} in {} is kept; run the same command with --resume to continue from it",
                self.kept_epoch,
                dir.display()
            ),
            Some(dir) => write!(
                f,
                "no epoch had finished, so no checkpoint was written to {}; run the same command with --resume-or-start (or without --resume) to start it again",
                dir.display()
            ),
            None => write!(f, "no checkpoint is kept (no model directory)"),
        }
    }
}

impl std::error::Error for Interrupted {}

/// Set by the SIGINT handler; cleared when the loop reports it.
static CTRL_C_SEEN: AtomicBool = AtomicBool::new(false);
/// Set once a run stopped with [`Interrupted`] ([`failure_exit_code`]).
static STOPPED_BY_CTRL_C: AtomicBool = AtomicBool::new(false);

/// The exit status of a binary whose command failed: 130 (128 + SIGINT,
/// what a shell reports for a program ended by Ctrl-C) when a training run
/// in this process stopped because of Ctrl-C ([`Interrupted`]), else 1.
pub fn failure_exit_code() -> i32 {
    if STOPPED_BY_CTRL_C.load(Ordering::SeqCst) {
        130
    } else {
        1
    }
}

#[cfg(unix)]
extern "C" fn on_sigint(_: libc::c_int) {
    if CTRL_C_SEEN.swap(true, Ordering::SeqCst) {
        // The second Ctrl-C: end now, as without the handler. Both calls
        // are async-signal-safe.
        // SAFETY: restoring the default action and raising a signal have no
        // preconditions.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::raise(libc::SIGINT);
        }
    }
}

/// The SIGINT handler of one [`Trainer::fit`]: installed only where the
/// signal has its default action (a process that ignores Ctrl-C, such as a
/// background job, or handles it itself keeps doing so), restored on drop.
struct CtrlC {
    #[cfg(unix)]
    previous: Option<libc::sigaction>,
}

impl CtrlC {
    fn catch() -> CtrlC {
        #[cfg(unix)]
        // SAFETY: sigaction with a zeroed struct and our handler, whose body
        // only touches an atomic and async-signal-safe calls; the previous
        // action is read first and kept when it is not the default.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction != libc::SIG_DFL
            {
                return CtrlC { previous: None };
            }
            CTRL_C_SEEN.store(false, Ordering::SeqCst);
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
            new.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut new.sa_mask);
            if libc::sigaction(libc::SIGINT, &new, &mut old) != 0 {
                return CtrlC { previous: None };
            }
            CtrlC {
                previous: Some(old),
            }
        }
        #[cfg(not(unix))]
        CtrlC {}
    }
}

impl Drop for CtrlC {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(old) = self.previous.take() {
            // SAFETY: puts back the action read in `catch`.
            unsafe {
                libc::sigaction(libc::SIGINT, &old, std::ptr::null_mut());
            }
            // A Ctrl-C the loop did not get to report (it came after the
            // last check): honour it now with the default action.
            if CTRL_C_SEEN.swap(false, Ordering::SeqCst) {
                // SAFETY: raising a signal has no preconditions.
                unsafe {
                    libc::raise(libc::SIGINT);
                }
            }
        }
    }
}

impl Trainer {
    /// Stops the run with [`Interrupted`] when Ctrl-C was pressed.
    fn check_interrupt(
        &self,
        epoch: usize,
        state: &TrainerState,
        phase: Phase,
    ) -> Result<(), TrainError> {
        if !CTRL_C_SEEN.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        STOPPED_BY_CTRL_C.store(true, Ordering::SeqCst);
        let at = match phase {
            Phase::Batch(b) => format!("before batch {b} of epoch {epoch}"),
            Phase::Validation => format!("during the validation of epoch {epoch}"),
            Phase::AfterEpoch => format!("after epoch {epoch}"),
        };
        Err(TrainError::Task(Box::new(Interrupted {
            epoch,
            kept_epoch: state.epoch,
            dir: self.dir.as_ref().map(|d| d.path().to_path_buf()),
            at,
        })))
    }

    /// Words for the error message: where the last good checkpoint is.
    fn last_good_checkpoint(&self, epoch: usize) -> String {
        match &self.dir {
            Some(dir) if epoch > 0 => format!(
                "the checkpoint of epoch {epoch} in {} is kept",
                dir.path().display()
            ),
            Some(dir) => format!("no checkpoint was written to {}", dir.path().display()),
            None => "no checkpoint is kept (no model directory)".into(),
        }
    }
}

/// The first non-finite value among the trainable parameters of `vs`
/// (`None`: all finite). One reduction per tensor in f64, summed on the
/// device and read once, so it costs one synchronisation per step; a sum
/// overflowing f64 (parameters near 1e308) counts as diverged too.
fn non_finite_parameters(vs: &nn::VarStore) -> Option<f64> {
    let _guard = tch::no_grad_guard();
    let total = vs
        .trainable_variables()
        .iter()
        .map(|t| t.sum(tch::Kind::Double))
        .reduce(|a, b| a + b)?;
    let v = total.double_value(&[]);
    (!v.is_finite()).then_some(v)
}

/// Mean-reduced binary accuracy helper: fraction of `logits > 0` matching
/// `labels` (0/1), as a [`Metric`] named `accuracy`.
pub fn binary_accuracy(logits: &Tensor, labels: &Tensor) -> Metric {
    let pred = logits.gt(0.0).to_kind(tch::Kind::Float);
    let correct = pred
        .eq_tensor(&labels.to_kind(tch::Kind::Float))
        .to_kind(tch::Kind::Float)
        .sum(tch::Kind::Float)
        .double_value(&[]);
    Metric::ratio("accuracy", correct, logits.numel() as f64)
}

/// Multi-class accuracy: argmax of `logits` `[N, C]` equal to `labels` `[N]`.
pub fn accuracy(logits: &Tensor, labels: &Tensor) -> Metric {
    let pred = logits.argmax(-1, false);
    let correct = pred
        .eq_tensor(labels)
        .to_kind(tch::Kind::Float)
        .sum(tch::Kind::Float)
        .double_value(&[]);
    Metric::ratio("accuracy", correct, labels.numel() as f64)
}
