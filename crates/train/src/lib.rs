//! Everything around a training run shared by the three applications: data
//! and batching, the loop, optimisers and schedules, checkpoints, history
//! plots and progress display. No application writes its own loop.
//!
//! # How to use
//!
//! The application implements [`Task`] (its model and a step on one batch),
//! builds a [`DataSource`] ([`InMemory`] with a collate function, or
//! [`Streaming`]), and hands both to a [`Trainer`]:
//!
//! ```no_run
//! use clap::Parser;
//! use sori_train::{
//!     validation_split, InMemory, ModelDir, OptimizerKind, OptimizerSpec, StepOutput,
//!     Task, TaskResult, TrainArgs, TrainConfig, Trainer, binary_accuracy,
//! };
//! use tch::{nn, nn::Module, Device, Kind, Tensor};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[arg(long, default_value = "model")]
//!     model_dir: std::path::PathBuf,
//!     #[command(flatten)]
//!     train: TrainArgs, // --threads --device --seed --epochs --batch-size --lr --optimizer ...
//! }
//!
//! struct Batch { xs: Tensor, ys: Tensor }
//! struct Model { vs: nn::VarStore, net: nn::Linear }
//!
//! impl Task for Model {
//!     type Batch = Batch;
//!     fn var_store(&self) -> &nn::VarStore { &self.vs }
//!     fn var_store_mut(&mut self) -> &mut nn::VarStore { &mut self.vs }
//!     fn train_step(&mut self, b: &Batch) -> TaskResult<StepOutput> {
//!         let logits = self.net.forward(&b.xs).squeeze_dim(-1);
//!         let loss = logits.binary_cross_entropy_with_logits::<Tensor>(
//!             &b.ys, None, None, tch::Reduction::Mean);
//!         Ok(StepOutput::new(loss, b.ys.size()[0] as usize)
//!             .with_metric(binary_accuracy(&logits, &b.ys)))
//!     }
//!     fn eval_step(&mut self, b: &Batch) -> TaskResult<StepOutput> {
//!         self.train_step(b) // a model with dropout passes train=false here
//!     }
//! }
//!
//! fn main() -> anyhow::Result<()> {
//!     let cli = Cli::parse();
//!     let device = cli.train.setup()?;           // threads, seed, device
//!     let defaults = TrainConfig {
//!         epochs: 10, batch_size: 128,
//!         optimizer: OptimizerSpec::new(OptimizerKind::RmsProp, 1e-3),
//!         ..TrainConfig::default()
//!     };
//!     let config = cli.train.apply(defaults)?;  // CLI overrides
//!     let vs = nn::VarStore::new(device);
//!     let net = nn::linear(vs.root() / "out", 4, 1, Default::default());
//!     let mut model = Model { vs, net };
//!
//!     let examples: Vec<([f32; 4], f32)> = vec![/* ... */];
//!     let (train, val) = validation_split(examples, cli.train.validation_split.unwrap_or(0.2))?;
//!     let mut data = InMemory::new(train, val, config.batch_size, move |items: &[&([f32; 4], f32)]| {
//!         let xs: Vec<f32> = items.iter().flat_map(|e| e.0).collect();
//!         let ys: Vec<f32> = items.iter().map(|e| e.1).collect();
//!         Ok(Batch {
//!             xs: Tensor::from_slice(&xs).reshape([items.len() as i64, 4]).to_device(device),
//!             ys: Tensor::from_slice(&ys).to_device(device),
//!         })
//!     });
//!     // .bucket_by(|e| e.tokens.len()) groups similar lengths into batches.
//!
//!     let dir = ModelDir::create(&cli.model_dir)?;
//!     dir.write_config("toy", &serde_json::json!({"inputs": 4}))?; // your own config struct
//!     let report = Trainer::new(config, Some(dir)).fit(&mut model, &mut data)?;
//!     println!("best {} = {:?} at epoch {}", report.monitor, report.best_value, report.best_epoch);
//!     Ok(())
//! }
//! ```
//!
//! Later, to use the model: `let cfg: MyConfig = ModelDir::new(p).read_config("toy")?;`
//! (refuses another kind or format version with a one-line error), build the
//! model from `cfg`, then `dir.load_best_or_last(&mut vs)?`.
//!
//! What the loop does per epoch: seeds libtorch from `(seed, epoch)`, runs
//! `train_step` on every batch (zero grad, backward, optional
//! `--clip-grad-norm`, optimiser step, LR from the [`LrSchedule`]), then
//! `eval_step` under `no_grad` on the validation batches and
//! [`Task::eval_end`] for corpus-level metrics (names get `val_`), writes
//! `history.jsonl`, `best.safetensors` when the monitored metric (default
//! `val_loss`) improved, `last.safetensors` (weights, optimiser state and
//! trainer state in one atomic file), `trainer_state.json`,
//! `history.png`/`.svg`, then checks early stopping (`--patience`).
//! `--resume` reloads `last.safetensors` (weights, optimiser moments and
//! step counts, trainer state) and continues with the next epoch; see
//! [`trainer`]. A NaN or infinite loss or gradient stops the run with a
//! one-line error naming the epoch and batch (`--on-nan stop`, the default;
//! the checkpoint of the last finished epoch stays as it was) or skips the
//! batch (`--on-nan skip`, counted as `skipped_batches` in the history; more
//! than [`TrainConfig::max_consecutive_skips`] in a row stop the run).
//!
//! Devices: `--device cpu|cuda|auto`; the task must put its tensors on the
//! device returned by [`TrainArgs::setup`]. Tested on CPU only.
//!
//! Determinism: libtorch's random generator is global to the process, so
//! "same seed, same weights" holds for one training at a time per process
//! (tests that train run serially for that reason).
//!
//! Other pieces: [`pad_tokens`] / [`pad_frames`] (collation),
//! [`epoch_batches`] (seeded order, length bucketing), [`validation_split`]
//! (Keras semantics: the last fraction), [`history::plot`] (redraw plots;
//! `cargo run -p sori-train --example plot_history -- DIR`),
//! [`atomic_write`] (any other file of a model directory, e.g. a vocabulary).
pub mod args;
pub mod checkpoint;
pub mod cpu;
pub mod data;
mod error;
pub mod glyphs;
pub mod history;
pub mod optim;
pub mod progress;
pub mod trainer;

pub use args::{
    beam_width, error_line, f64_in, finite_f64, i64_in, model_run, parse_args, probability,
    remove_empty_created_out_dirs, set_threads, threads, usage_error_line, usize_in, warmup_steps,
    BuildInfo, DeviceArg, HelpDefaults, TrainArgs, MAX_BEAM, MAX_THREADS, MAX_WARMUP_STEPS,
};
pub use checkpoint::{
    atomic_write, atomic_write_with, default_model_dir, load_var_store, read_safetensors,
    read_text_bounded, save_var_store, write_narrow_floats, write_safetensors, ModelConfig,
    ModelDir, TrainerState, Which, FORMAT_VERSION, MAX_JSON_BYTES, MAX_VOCAB_BYTES,
};
pub use cpu::{configure_process, flush_denormals, keep_freed_memory};
pub use data::{
    epoch_batches, pad_frames, pad_tokens, stack_labels, validation_split, BatchIter, DataSource,
    InMemory, Rng, Side, Streaming,
};
pub use error::{TaskError, TaskResult, TrainError};
pub use history::EpochRecord;
pub use optim::{
    DecayKind, EarlyStopping, LrSchedule, Mode, Optimizer, OptimizerKind, OptimizerSpec,
    StateRestore,
};
pub use trainer::{
    accuracy, binary_accuracy, FitReport, Metric, OnNan, StepOutput, Task, TrainConfig, Trainer,
};
