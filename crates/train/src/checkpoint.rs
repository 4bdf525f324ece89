//! Model directories and crash-safe checkpoints.
//!
//! A model directory holds:
//! - `config.json`: `{"kind", "format_version", "sori_version", "config"}`;
//!   `config` is the application's own serde value (architecture,
//!   vocabulary, feature settings). Loading checks kind and version and
//!   refuses anything else with a one-line message naming the file.
//! - `best.safetensors`, `last.safetensors`: weights (`VarStore` names).
//! - `trainer_state.json`: epoch, step, best metric, schedule and early
//!   stopping counters, for `--resume`.
//! - `history.jsonl`, `history.png`, `history.svg`: see [`crate::history`].
//!
//! Every file is written atomically: to a temporary file in the same
//! directory, fsynced, renamed over the target, and the directory fsynced.
//! A crash at any point leaves either the old or the new file, never a torn
//! one; a stale temporary file from a crash is ignored and overwritten.
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use tch::{nn, Tensor};

use crate::TrainError;

/// Version of the model directory layout written by this crate.
pub const FORMAT_VERSION: u32 = 1;

/// Writes `target` atomically: `write` receives a temporary path next to
/// `target` (same extension, so format detection by extension still works),
/// and only if it succeeds is the file fsynced and renamed over `target`.
/// On failure the temporary file is removed and `target` is untouched.
pub fn atomic_write_with(
    target: &Path,
    write: impl FnOnce(&Path) -> Result<(), TrainError>,
) -> Result<(), TrainError> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| TrainError::Config(format!("{}: not a file path", target.display())))?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".tmp-{}-{name}", std::process::id()));
    let result = write(&tmp).and_then(|()| {
        File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| TrainError::io(&tmp, e))?;
        fs::rename(&tmp, target).map_err(|e| TrainError::io(target, e))?;
        // Make the rename itself durable.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
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
    /// `config`.
    pub fn write_config<T: Serialize>(&self, kind: &str, config: &T) -> Result<(), TrainError> {
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

    /// Reads `config.json`, checks that it is a model of `kind` in this
    /// crate's format version, and decodes the application config.
    pub fn read_config<T: DeserializeOwned>(&self, kind: &str) -> Result<T, TrainError> {
        let path = self.config_path();
        if !self.root.is_dir() {
            return Err(TrainError::model(&self.root, "no such model directory"));
        }
        let text = fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
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

    /// The saved trainer state, `None` when there is none.
    pub fn read_state(&self) -> Result<Option<TrainerState>, TrainError> {
        let path = self.state_path();
        if !path.exists() {
            return Ok(None);
        }
        let text = fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| TrainError::Json { path, source })
    }
}

/// Saves `vs` to a `.safetensors` file atomically.
pub fn save_var_store(vs: &nn::VarStore, target: &Path) -> Result<(), TrainError> {
    atomic_write_with(target, |tmp| {
        // Save CPU copies so the file is device-independent.
        let vars = vs.variables();
        let mut named: Vec<(String, Tensor)> = vars
            .into_iter()
            .map(|(n, t)| (n, t.detach().to_device(tch::Device::Cpu)))
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let refs: Vec<(&str, &Tensor)> = named.iter().map(|(n, t)| (n.as_str(), t)).collect();
        Tensor::write_safetensors(&refs, tmp).map_err(|e| TrainError::model(tmp, e.to_string()))
    })
}

/// Loads a `.safetensors` file into `vs`, checking names and shapes.
pub fn load_var_store(vs: &mut nn::VarStore, path: &Path) -> Result<(), TrainError> {
    if !path.exists() {
        return Err(TrainError::model(path, "no such weights file"));
    }
    let tensors: HashMap<String, Tensor> = Tensor::read_safetensors(path)
        .map_err(|e| TrainError::model(path, format!("unreadable weights: {e}")))?
        .into_iter()
        .collect();
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
