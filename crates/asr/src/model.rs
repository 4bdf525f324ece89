//! The acoustic model: features → frame stacking → BiLSTM/BiGRU stack →
//! linear → log-softmax over the characters and the blank.
//!
//! A model directory holds everything needed to run it: `config.json`
//! (kind `sori-asr-ctc`: feature settings, vocabulary, encoder
//! architecture) and the safetensors weights written by the training loop.
//! Loading checks the kind, so pointing `--model` at an IMDB or seq2seq
//! model gives a one-line error instead of garbage.
use crate::data::vocab::Vocab;
use crate::error::{AsrError, Result};
use crate::frontend::FrontEnd;
use serde::{Deserialize, Serialize};
use sori_rnn::{Cell, Encoder, EncoderConfig, Subsample};
use sori_train::ModelDir;
use std::path::Path;
use tch::{nn, nn::Module, Device, Kind, Tensor};

/// The `kind` written in a model directory's `config.json`.
pub const MODEL_KIND: &str = "sori-asr-ctc";

/// Everything that defines a model besides its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AsrConfig {
    pub frontend: FrontEnd,
    pub vocab: Vocab,
    pub encoder: EncoderConfig,
}

/// Architecture choices of [`AsrConfig::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct Architecture {
    pub cell: Cell,
    pub layers: i64,
    pub hidden: i64,
    /// Frames stacked into one encoder step (3: 30 ms per step).
    pub stack: i64,
    pub dropout: f64,
}

/// The English recipe: 3 bidirectional GRU layers of 160 units over stacks
/// of 3 frames.
impl Default for Architecture {
    fn default() -> Self {
        Architecture {
            cell: Cell::Gru,
            layers: 3,
            hidden: 160,
            stack: 3,
            dropout: 0.1,
        }
    }
}

impl AsrConfig {
    /// A bidirectional encoder of the given architecture over `frontend`.
    pub fn new(frontend: FrontEnd, vocab: Vocab, arch: &Architecture) -> Self {
        let encoder = EncoderConfig::new(arch.cell, frontend.dim() as i64, arch.hidden)
            .layers(arch.layers)
            .bidirectional(true)
            .dropout(arch.dropout)
            .subsample(if arch.stack > 1 {
                Subsample::Stack(arch.stack)
            } else {
                Subsample::None
            });
        AsrConfig {
            frontend,
            vocab,
            encoder,
        }
    }

    /// Checks every size against its limit before anything is allocated:
    /// the front end's (`n_mels` and `n_ceps` up to
    /// [`sori_features::MAX_MELS`], and the rest of
    /// [`sori_features::FeatureConfig::validate`]), the encoder's
    /// ([`sori_rnn::EncoderConfig::validate`]: sizes up to
    /// [`sori_rnn::MAX_SIZE`], layers up to [`sori_rnn::MAX_LAYERS`],
    /// stacking up to [`sori_rnn::MAX_SUBSAMPLE`]), that the encoder reads
    /// the front end's features, and the whole model against
    /// [`sori_rnn::MAX_PARAMETERS`].
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(AsrError::Config(m));
        let max = sori_features::MAX_MELS;
        if self.frontend.n_ceps > max {
            return bad(format!(
                "n_ceps must be at most {max}, got {}",
                self.frontend.n_ceps
            ));
        }
        self.frontend
            .feature_config()
            .validate()
            .map_err(|e| AsrError::Config(e.to_string()))?;
        self.encoder
            .validate()
            .map_err(|e| AsrError::Config(e.to_string()))?;
        // Labels are the output classes: each must be one character, once.
        let labels = self.vocab.labels();
        if labels.is_empty() {
            return bad("the vocabulary has no labels".into());
        }
        let mut seen = std::collections::HashMap::with_capacity(labels.len());
        for (i, c) in labels.iter().enumerate() {
            if let Some(first) = seen.insert(*c, i) {
                return bad(format!(
                    "vocabulary label {c:?} appears twice (labels {first} and {i}); the file is damaged"
                ));
            }
        }
        let dim = self.frontend.dim() as i64;
        if self.encoder.input != dim {
            return bad(format!(
                "the encoder reads {} features per frame but the front end makes {dim}",
                self.encoder.input
            ));
        }
        let output = self
            .encoder
            .output_dim()
            .checked_add(1)
            .and_then(|d| d.checked_mul(self.vocab.classes() as i64));
        let total = output.and_then(|o| self.encoder.parameters()?.checked_add(o));
        match total {
            Some(n) if n <= sori_rnn::MAX_PARAMETERS => Ok(()),
            n => bad(format!(
                "a model of {} parameters is larger than the limit of {}",
                n.map_or("too many".to_string(), |n| n.to_string()),
                sori_rnn::MAX_PARAMETERS
            )),
        }
    }

    /// Frames per encoder step.
    pub fn stack(&self) -> usize {
        match self.encoder.subsample {
            Subsample::Stack(k) | Subsample::Stride(k) => k as usize,
            Subsample::None => 1,
        }
    }

    /// Seconds per output step of the model.
    pub fn step_seconds(&self) -> f64 {
        self.stack() as f64 / self.frontend.frame_rate()
    }
}

/// The network and its variables.
pub struct AsrModel {
    pub vs: nn::VarStore,
    pub encoder: Encoder,
    pub output: nn::Linear,
    pub config: AsrConfig,
}

impl AsrModel {
    /// Fresh (randomly initialised) model.
    pub fn new(config: AsrConfig, device: Device) -> Result<Self> {
        config.validate()?;
        let vs = nn::VarStore::new(device);
        let encoder = Encoder::new(&(vs.root() / "encoder"), &config.encoder)
            .map_err(|e| AsrError::Config(e.to_string()))?;
        let output = nn::linear(
            vs.root() / "output",
            encoder.output_dim(),
            config.vocab.classes() as i64,
            Default::default(),
        );
        Ok(AsrModel {
            vs,
            encoder,
            output,
            config,
        })
    }

    /// Loads a trained model (best weights, else last) from a directory.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let md = ModelDir::new(dir);
        if dir.is_dir() && !md.config_path().exists() {
            return Err(AsrError::Model {
                path: dir.to_path_buf(),
                message: "not a model directory (no config.json); train one with `asr train`"
                    .into(),
            });
        }
        let config: AsrConfig = md.read_config(MODEL_KIND)?;
        // Sizes are checked against their limits before anything is allocated.
        config.validate().map_err(|e| AsrError::Model {
            path: md.config_path(),
            message: e.to_string(),
        })?;
        let mut model = AsrModel::new(config, device)?;
        let has_weights = md.weights_path(sori_train::Which::Best).exists()
            || md.weights_path(sori_train::Which::Last).exists();
        if !has_weights {
            return Err(AsrError::Model {
                path: dir.to_path_buf(),
                message: "no weights (best.safetensors or last.safetensors); was training interrupted before the first epoch ended?".into(),
            });
        }
        md.load_best_or_last(&mut model.vs)?;
        Ok(model)
    }

    /// Writes `config.json` into a model directory.
    pub fn write_config(&self, dir: &ModelDir) -> Result<()> {
        dir.write_config(MODEL_KIND, &self.config)?;
        Ok(())
    }

    /// Writes a complete model directory at `path` (config and the current
    /// weights as `last.safetensors`), loadable by [`AsrModel::load`]: how
    /// tests and benchmarks make an untrained model without training.
    pub fn save_as(&self, path: &Path) -> Result<()> {
        let dir = ModelDir::create(path)?;
        self.write_config(&dir)?;
        dir.save_weights(&self.vs, sori_train::Which::Last)?;
        Ok(())
    }

    /// Log-probabilities `[B, T', classes]` of a padded feature batch
    /// `[B, T, dim]`, and the `T'` of each sequence after frame stacking.
    pub fn forward(&self, xs: &Tensor, lengths: &[i64], train: bool) -> Result<(Tensor, Vec<i64>)> {
        let out = self
            .encoder
            .forward(xs, lengths, train)
            .map_err(|e| AsrError::Config(e.to_string()))?;
        let logits = self.output.forward(&out.outputs);
        Ok((logits.log_softmax(-1, Kind::Float), out.lengths))
    }

    /// Log-probabilities of one utterance's features (`frames × dim`,
    /// row-major) as a `T' × classes` row-major matrix.
    pub fn log_probs(&self, feats: &[f32], frames: usize) -> Result<(Vec<f32>, usize)> {
        let dim = self.config.frontend.dim();
        let xs = Tensor::from_slice(feats)
            .reshape([1, frames as i64, dim as i64])
            .to_device(self.vs.device());
        let (lp, lengths) = tch::no_grad(|| self.forward(&xs, &[frames as i64], false))?;
        let t = lengths[0] as usize;
        let lp = lp
            .squeeze_dim(0)
            .narrow(0, 0, t as i64)
            .to_device(Device::Cpu)
            .contiguous();
        let v: Vec<f32> = Vec::<f32>::try_from(lp.flatten(0, -1))?;
        Ok((v, t))
    }

    /// Number of trainable parameters.
    pub fn param_count(&self) -> i64 {
        self.vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum()
    }
}

/// Where the committed English model lives in a checkout.
pub const DEFAULT_MODEL: &str = "models/asr-en";

/// The variable that names another model directory for `asr transcribe`
/// and `asr align` (`sori_train::model_run`).
pub const DEFAULT_MODEL_VAR: &str = "SORI_ASR_MODEL";
