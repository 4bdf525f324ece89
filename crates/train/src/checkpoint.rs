//! Model directories and crash-safe checkpoints.
//!
//! A model directory holds:
//! - `config.json`: `{"kind", "format_version", "sori_version", "config"}`;
//!   `config` is the application's own serde value (architecture,
//!   vocabulary, feature settings). Loading checks kind and version and
//!   refuses anything else with a one-line message naming the file.
//! - `best.safetensors`: weights (`VarStore` names) of the best epoch.
//! - `last.safetensors`: the checkpoint `--resume` continues from, in one
//!   file so that it is written in one atomic step: the weights of the
//!   latest epoch, the optimiser's state (step counts, moment estimates,
//!   momentum buffers; tensors named `__optimizer__/<slot>/<parameter>`) and,
//!   in the safetensors header's `__metadata__`, the trainer state as JSON
//!   (`sori.trainer_state`) and the optimiser's layout
//!   (`sori.optimizer`, e.g. `adam[exp_avg,exp_avg_sq]`) and, when the
//!   application's task draws random numbers of its own across epochs
//!   (SpecAugment masks), that generator's state (`sori.task_state`, the
//!   task's own text; [`crate::Task::task_state`]), so that a resumed run
//!   draws exactly what an uninterrupted one would. Other tools reading it
//!   as weights just see extra tensors.
//! - `trainer_state.json`: the same trainer state (epoch, step, best
//!   metric, schedule and early stopping counters) for people and scripts;
//!   `--resume` uses the copy inside `last.safetensors` when there is one,
//!   because only that one is always consistent with the weights.
//! - `history.jsonl`, `history.png`, `history.svg`: see [`crate::history`].
//!
//! Every file is written atomically: to a temporary file in the same
//! directory, fsynced, renamed over the target, and the directory fsynced.
//! A crash at any point leaves either the old or the new file, never a torn
//! one; a stale temporary file from a crash is ignored and overwritten.
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use tch::{nn, Kind, Tensor};

use crate::optim::{Optimizer, StateRestore};
use crate::TrainError;

/// `__metadata__` key of the trainer state in `last.safetensors`.
pub const META_TRAINER_STATE: &str = "sori.trainer_state";
/// `__metadata__` key of the optimiser's state layout.
pub const META_OPTIMIZER: &str = "sori.optimizer";
/// `__metadata__` key of the optimiser's step count.
pub const META_OPTIMIZER_STEPS: &str = "sori.optimizer_steps";
/// `__metadata__` key of the task's own random state
/// ([`crate::Task::task_state`]).
pub const META_TASK_STATE: &str = "sori.task_state";

/// What [`ModelDir::load_checkpoint_with_task`] restored.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The trainer state saved with the weights.
    pub state: TrainerState,
    /// What became of the optimiser's state.
    pub restore: StateRestore,
    /// The task's own state ([`crate::Task::task_state`]); `None` when the
    /// task saved none (or the checkpoint predates it).
    pub task_state: Option<String>,
}

/// Version of the model directory layout written by this crate.
pub const FORMAT_VERSION: u32 = 1;

/// Writes `target` atomically: `write` receives a temporary path next to
/// `target` (ending in the target's name, so format detection by extension
/// still works), and only if it succeeds is the file fsynced and renamed over
/// `target`. On failure the temporary file is removed and `target` is
/// untouched. The workspace's one implementation: [`sori_fs::write_with`].
pub fn atomic_write_with(
    target: &Path,
    write: impl FnOnce(&Path) -> Result<(), TrainError>,
) -> Result<(), TrainError> {
    sori_fs::write_with(target, write, TrainError::io)
}

/// Writes `bytes` to `target` atomically.
pub fn atomic_write(target: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    atomic_write_with(target, |tmp| {
        let mut f = File::create(tmp).map_err(|e| TrainError::io(tmp, e))?;
        f.write_all(bytes).map_err(|e| TrainError::io(tmp, e))
    })
}

/// The `config.json` envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelConfig {
    pub kind: String,
    pub format_version: u32,
    /// Version of sori that wrote the model (informational).
    #[serde(default)]
    pub sori_version: String,
    pub config: serde_json::Value,
}

/// Which weights file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Best epoch by the monitored metric.
    Best,
    /// Most recent epoch (what `--resume` continues from).
    Last,
}

/// Progress of a run, saved after every epoch for `--resume`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainerState {
    /// Last completed epoch (1-based; 0 = none).
    pub epoch: usize,
    /// Optimiser steps taken so far.
    pub global_step: u64,
    pub seed: u64,
    pub monitor: String,
    pub best_value: Option<f64>,
    pub best_epoch: usize,
    /// Epochs since the monitored metric last improved (early stopping).
    pub epochs_without_improvement: usize,
    pub schedule: crate::optim::ScheduleState,
    /// True when early stopping ended the run.
    pub stopped_early: bool,
}

/// The model directory an application uses when the user names none:
/// `$var` when set (it must then be a directory: the error names the
/// variable), else `rel` (a committed model such as `models/asr-en`) under
/// the current directory, else under the checkout the running binary was
/// built in (`target/release/asr` -> `../../`). An empty variable counts as
/// unset. The error lists the places looked at and how to choose one.
pub fn default_model_dir(var: &str, rel: &str) -> Result<PathBuf, TrainError> {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_dir() {
            return Err(TrainError::Config(format!(
                "{} (from ${var}): no such model directory",
                p.display()
            )));
        }
        return Ok(p);
    }
    let mut tried = vec![PathBuf::from(rel)];
    if let Ok(exe) = std::env::current_exe() {
        if let Some(root) = exe.parent().and_then(Path::parent).and_then(Path::parent) {
            tried.push(root.join(rel));
        }
    }
    tried
        .iter()
        .find(|p| p.join("config.json").is_file())
        .cloned()
        .ok_or_else(|| {
            TrainError::Config(format!(
                "no --model given and no default model found (looked for {}; set {var} or pass --model DIR)",
                tried
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// A model directory (see the module docs for its files).
#[derive(Debug, Clone)]
pub struct ModelDir {
    root: PathBuf,
}

impl ModelDir {
    /// Refers to `path` without touching the file system.
    pub fn new(path: impl Into<PathBuf>) -> ModelDir {
        ModelDir { root: path.into() }
    }

    /// Creates the directory (and parents) if needed.
    pub fn create(path: impl Into<PathBuf>) -> Result<ModelDir, TrainError> {
        let root = path.into();
        fs::create_dir_all(&root).map_err(|e| TrainError::io(&root, e))?;
        Ok(ModelDir { root })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }
    pub fn weights_path(&self, which: Which) -> PathBuf {
        self.root.join(match which {
            Which::Best => "best.safetensors",
            Which::Last => "last.safetensors",
        })
    }
    pub fn state_path(&self) -> PathBuf {
        self.root.join("trainer_state.json")
    }
    pub fn history_path(&self) -> PathBuf {
        self.root.join("history.jsonl")
    }

    /// Writes `config.json` for a model of `kind` with the application's
    /// `config`. A directory that already holds a model of another kind is
    /// refused (training must not overwrite, say, an IMDB classifier with a
    /// speech model because of a mistyped `--out`).
    pub fn write_config<T: Serialize>(&self, kind: &str, config: &T) -> Result<(), TrainError> {
        self.refuse_other_kind(kind)?;
        let path = self.config_path();
        let value = serde_json::to_value(config).map_err(|source| TrainError::Json {
            path: path.clone(),
            source,
        })?;
        let envelope = ModelConfig {
            kind: kind.to_string(),
            format_version: FORMAT_VERSION,
            sori_version: env!("CARGO_PKG_VERSION").to_string(),
            config: value,
        };
        let text = serde_json::to_string_pretty(&envelope).expect("JSON value serialises");
        atomic_write(&path, format!("{text}\n").as_bytes())
    }

    /// An error when the directory already holds a model of another kind
    /// than `kind` (its `config.json` says so); fine when it holds none or
    /// one of `kind`. Training calls it (through [`ModelDir::write_config`],
    /// or before any work) so that a mistyped `--out` never overwrites
    /// another application's model.
    pub fn refuse_other_kind(&self, kind: &str) -> Result<(), TrainError> {
        let path = self.config_path();
        let Ok(text) = read_text_bounded(&path, MAX_JSON_BYTES) else {
            return Ok(());
        };
        match serde_json::from_str::<ModelConfig>(&text) {
            Ok(old) if old.kind != kind => Err(TrainError::model(
                &path,
                format!(
                    "the directory holds a {:?} model; refusing to overwrite it with a {kind:?} model (choose another output directory)",
                    old.kind
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Reads `config.json`, checks that it is a model of `kind` in this
    /// crate's format version, and decodes the application config.
    pub fn read_config<T: DeserializeOwned>(&self, kind: &str) -> Result<T, TrainError> {
        let path = self.config_path();
        if !self.root.is_dir() {
            return Err(TrainError::model(&self.root, "no such model directory"));
        }
        let text = read_text_bounded(&path, MAX_JSON_BYTES)?;
        let envelope: ModelConfig =
            serde_json::from_str(&text).map_err(|source| TrainError::Json {
                path: path.clone(),
                source,
            })?;
        if envelope.kind != kind {
            return Err(TrainError::model(
                &path,
                format!(
                    "this is a {:?} model, expected a {kind:?} model",
                    envelope.kind
                ),
            ));
        }
        if envelope.format_version != FORMAT_VERSION {
            return Err(TrainError::model(
                &path,
                format!(
                    "model format version {} is not supported (this build reads version {FORMAT_VERSION}); retrain or use the sori version that wrote it ({})",
                    envelope.format_version, envelope.sori_version
                ),
            ));
        }
        serde_json::from_value(envelope.config).map_err(|source| TrainError::Json { path, source })
    }

    /// Saves every variable of `vs` to `best`/`last.safetensors`, atomically.
    pub fn save_weights(&self, vs: &nn::VarStore, which: Which) -> Result<(), TrainError> {
        let target = self.weights_path(which);
        save_var_store(vs, &target)
    }

    /// Loads weights into `vs`; every variable must be present with the
    /// same shape (a model of another architecture is refused by name).
    pub fn load_weights(&self, vs: &mut nn::VarStore, which: Which) -> Result<(), TrainError> {
        load_var_store(vs, &self.weights_path(which))
    }

    /// Loads the best weights, or the last if there is no best file.
    pub fn load_best_or_last(&self, vs: &mut nn::VarStore) -> Result<(), TrainError> {
        if self.weights_path(Which::Best).exists() {
            self.load_weights(vs, Which::Best)
        } else {
            self.load_weights(vs, Which::Last)
        }
    }

    pub fn write_state(&self, state: &TrainerState) -> Result<(), TrainError> {
        let text = serde_json::to_string_pretty(state).expect("state serialises");
        atomic_write(&self.state_path(), format!("{text}\n").as_bytes())
    }

    /// Writes the `--resume` checkpoint: weights, optimiser state and trainer
    /// state in `last.safetensors` (one atomic write), then the
    /// `trainer_state.json` copy.
    pub fn save_checkpoint(
        &self,
        vs: &nn::VarStore,
        optimizer: &Optimizer,
        state: &TrainerState,
    ) -> Result<(), TrainError> {
        self.save_checkpoint_with_task(vs, optimizer, state, None)
    }

    /// [`ModelDir::save_checkpoint`] with the task's own state
    /// ([`crate::Task::task_state`]) in the header as `sori.task_state`.
    pub fn save_checkpoint_with_task(
        &self,
        vs: &nn::VarStore,
        optimizer: &Optimizer,
        state: &TrainerState,
        task_state: Option<&str>,
    ) -> Result<(), TrainError> {
        let mut named = var_store_tensors(vs);
        named.extend(optimizer.state_tensors());
        let mut metadata = HashMap::from([
            (
                META_TRAINER_STATE.to_string(),
                serde_json::to_string(state).expect("state serialises"),
            ),
            (META_OPTIMIZER.to_string(), optimizer.state_layout()),
            (
                META_OPTIMIZER_STEPS.to_string(),
                optimizer.steps().to_string(),
            ),
        ]);
        if let Some(t) = task_state {
            metadata.insert(META_TASK_STATE.to_string(), t.to_string());
        }
        write_safetensors(&named, Some(metadata), &self.weights_path(Which::Last))?;
        self.write_state(state)
    }

    /// Loads the `--resume` checkpoint into `vs` and `optimizer` and returns
    /// the trainer state saved with it; `None` when there is no checkpoint
    /// (no `last.safetensors`, or one without any trainer state).
    /// Checkpoints written before the optimiser state was kept restore the
    /// weights and report [`StateRestore::Missing`].
    pub fn load_checkpoint(
        &self,
        vs: &mut nn::VarStore,
        optimizer: &mut Optimizer,
    ) -> Result<Option<(TrainerState, StateRestore)>, TrainError> {
        Ok(self
            .load_checkpoint_with_task(vs, optimizer)?
            .map(|c| (c.state, c.restore)))
    }

    /// [`ModelDir::load_checkpoint`], also returning the task's own state
    /// saved with it.
    pub fn load_checkpoint_with_task(
        &self,
        vs: &mut nn::VarStore,
        optimizer: &mut Optimizer,
    ) -> Result<Option<Checkpoint>, TrainError> {
        let path = self.weights_path(Which::Last);
        if !path.exists() {
            return Ok(None);
        }
        let (tensors, metadata) = read_safetensors(&path)?;
        let state = match metadata.get(META_TRAINER_STATE) {
            Some(text) => serde_json::from_str(text).map_err(|e| {
                TrainError::model(&path, format!("invalid trainer state in the header: {e}"))
            })?,
            None => match self.read_state()? {
                Some(s) => s,
                None => return Ok(None),
            },
        };
        load_tensors_into(vs, &tensors, &path)?;
        let steps = match metadata.get(META_OPTIMIZER_STEPS) {
            Some(n) => n.parse::<u64>().map_err(|_| {
                TrainError::model(&path, format!("invalid optimizer step count {n:?}"))
            })?,
            None => 0,
        };
        let restore = optimizer.load_state(
            &tensors,
            metadata.get(META_OPTIMIZER).map(String::as_str),
            steps,
            &path,
        )?;
        Ok(Some(Checkpoint {
            state,
            restore,
            task_state: metadata.get(META_TASK_STATE).cloned(),
        }))
    }

    /// The saved trainer state, `None` when there is none.
    pub fn read_state(&self) -> Result<Option<TrainerState>, TrainError> {
        let path = self.state_path();
        if !path.exists() {
            return Ok(None);
        }
        let text = read_text_bounded(&path, MAX_JSON_BYTES)?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| TrainError::Json { path, source })
    }
}

/// CPU copies of every variable of `vs`, sorted by name (so the file is
/// device-independent and byte-identical for identical weights).
fn var_store_tensors(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(n, t)| (n, t.detach().to_device(tch::Device::Cpu).contiguous()))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
}

/// Saves `vs` to a `.safetensors` file atomically.
pub fn save_var_store(vs: &nn::VarStore, target: &Path) -> Result<(), TrainError> {
    write_safetensors(&var_store_tensors(vs), None, target)
}

/// A tensor's bytes as the safetensors writer wants them.
struct TensorBytes {
    dtype: safetensors::Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl safetensors::View for TensorBytes {
    fn dtype(&self) -> safetensors::Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// Writes named tensors (and optional header metadata) to `target` as
/// safetensors, atomically.
pub fn write_safetensors(
    named: &[(String, Tensor)],
    metadata: Option<HashMap<String, String>>,
    target: &Path,
) -> Result<(), TrainError> {
    let mut views = Vec::with_capacity(named.len());
    for (name, t) in named {
        let t = t.detach().to_device(tch::Device::Cpu).contiguous();
        let dtype = safetensors::Dtype::try_from(t.kind())
            .map_err(|e| TrainError::model(target, format!("tensor {name:?}: {e}")))?;
        let numel = t.numel();
        let mut data = vec![0u8; numel * t.kind().elt_size_in_bytes()];
        t.f_copy_data_u8(&mut data, numel)?;
        let shape = t.size().iter().map(|&d| d as usize).collect();
        views.push((name.as_str(), TensorBytes { dtype, shape, data }));
    }
    atomic_write_with(target, |tmp| {
        safetensors::serialize_to_file(views, &metadata, tmp)
            .map_err(|e| TrainError::model(tmp, format!("cannot write safetensors: {e:?}")))
    })
}

/// A safetensors file's tensors by name and its header's `__metadata__`.
pub type SafetensorsContents = (HashMap<String, Tensor>, HashMap<String, String>);

/// Reads every tensor of a safetensors file and its header metadata.
/// Only the safetensors format is read (never pickles); a torn or foreign
/// file is an error naming `path`.
pub fn read_safetensors(path: &Path) -> Result<SafetensorsContents, TrainError> {
    if !path.exists() {
        return Err(TrainError::model(path, "no such weights file"));
    }
    let bytes = fs::read(path).map_err(|e| TrainError::io(path, e))?;
    let unreadable = |e: String| TrainError::model(path, format!("unreadable weights: {e}"));
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| unreadable(format!("{e:?}")))?;
    let metadata = meta.metadata().clone().unwrap_or_default();
    let file =
        safetensors::SafeTensors::deserialize(&bytes).map_err(|e| unreadable(format!("{e:?}")))?;
    let mut tensors = HashMap::new();
    for (name, view) in file.tensors() {
        let kind = Kind::try_from(view.dtype())
            .map_err(|e| unreadable(format!("tensor {name:?}: {e}")))?;
        let size: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        let t = Tensor::f_from_data_size(view.data(), &size, kind)
            .map_err(|e| unreadable(format!("tensor {name:?}: {e}")))?;
        tensors.insert(name, t);
    }
    Ok((tensors, metadata))
}

/// Copies the weights file `src` to `dst` with every 32- or 64-bit float
/// tensor stored as `kind` (`Kind::Half` or `Kind::BFloat16`), halving a
/// committed model's size; other tensors and the header metadata are kept.
/// Loading converts back to the model's kind ([`load_var_store`]), so
/// nothing else changes. A value the narrower type cannot hold (beyond
/// f16's ±65504) is refused by tensor name rather than stored as infinity.
pub fn write_narrow_floats(src: &Path, dst: &Path, kind: Kind) -> Result<(), TrainError> {
    if !matches!(kind, Kind::Half | Kind::BFloat16) {
        return Err(TrainError::Config(format!(
            "weights can be narrowed to f16 or bf16, not {kind:?}"
        )));
    }
    let (tensors, metadata) = read_safetensors(src)?;
    let mut named: Vec<(String, Tensor)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let t = if matches!(t.kind(), Kind::Float | Kind::Double) {
            let narrow = t.to_kind(kind);
            let finite_before = t.isfinite().all().int64_value(&[]) != 0;
            let finite_after = narrow.isfinite().all().int64_value(&[]) != 0;
            if finite_before && !finite_after {
                return Err(TrainError::model(
                    src,
                    format!("tensor {name:?} has values out of {kind:?}'s range"),
                ));
            }
            narrow
        } else {
            t
        };
        named.push((name, t));
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let metadata = (!metadata.is_empty()).then_some(metadata);
    write_safetensors(&named, metadata, dst)
}

/// Loads a `.safetensors` file into `vs`, checking names and shapes.
pub fn load_var_store(vs: &mut nn::VarStore, path: &Path) -> Result<(), TrainError> {
    let (tensors, _) = read_safetensors(path)?;
    load_tensors_into(vs, &tensors, path)
}

/// Whether every value of a floating-point tensor is finite (an empty one
/// is).
fn all_finite(t: &Tensor) -> bool {
    t.numel() == 0
        || t.f_isfinite()
            .and_then(|f| f.f_all())
            .map(|a| a.int64_value(&[]) != 0)
            .unwrap_or(false)
}

/// Copies `tensors` into `vs`: every variable must be present with its
/// shape (a model of another architecture is refused by name) and finite
/// (NaN or infinity in a file is damage, refused by name); extra tensors
/// (optimiser state) are ignored. Nothing is changed on error.
fn load_tensors_into(
    vs: &mut nn::VarStore,
    tensors: &HashMap<String, Tensor>,
    path: &Path,
) -> Result<(), TrainError> {
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    // Sorted, so the first problem reported is the same on every run.
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, var) in vars.iter() {
        match tensors.get(name) {
            None => {
                return Err(TrainError::model(
                    path,
                    format!("weights have no tensor {name:?}; a model of another architecture?"),
                ))
            }
            Some(t) if t.size() != var.size() => {
                return Err(TrainError::model(
                    path,
                    format!(
                        "tensor {name:?} is {:?} in the file but {:?} in the model; a model of another configuration?",
                        t.size(),
                        var.size()
                    ),
                ))
            }
            Some(t) if t.is_floating_point() && !all_finite(t) => {
                return Err(TrainError::model(
                    path,
                    format!("tensor {name:?} holds NaN or infinite values; the weights are damaged"),
                ))
            }
            Some(_) => {}
        }
    }
    tch::no_grad(|| {
        for (name, var) in vars.iter_mut() {
            let src = &tensors[name];
            var.f_copy_(&src.to_device(var.device()).to_kind(var.kind()))
                .map_err(|e| TrainError::model(path, format!("{name}: {e}")))?;
        }
        Ok(())
    })
}

/// Largest JSON file of a model directory (`config.json`, the trainer
/// state) that is read: real ones are a few kilobytes, and the bound makes a
/// link to `/dev/zero` or a huge file fail at once instead of filling memory.
pub const MAX_JSON_BYTES: u64 = 16 << 20;

/// Largest vocabulary or tokenizer file that is read (a model's own are a
/// few megabytes at most): the same protection for the larger JSON files.
pub const MAX_VOCAB_BYTES: u64 = 256 << 20;

/// Reads a UTF-8 text file of at most `max` bytes; a longer file (or an
/// endless device) is one error naming it, found after reading `max + 1`
/// bytes at most.
pub fn read_text_bounded(path: &Path, max: u64) -> Result<String, TrainError> {
    let file = File::open(path).map_err(|e| TrainError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| TrainError::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(TrainError::model(
            path,
            format!(
                "larger than {} MB: not a model directory's JSON file",
                max >> 20
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|_| TrainError::model(path, "not valid UTF-8"))
}
