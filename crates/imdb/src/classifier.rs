//! A trained model on disk and in memory.
//!
//! The model directory is the one `sori-train` writes ([`ModelDir`]):
//! `config.json` (envelope `kind = "sori-imdb"` around our [`SavedConfig`]),
//! `best.safetensors` / `last.safetensors` (weights, including the fixed NB
//! ratios of `best`), `history.jsonl` and the plots; this module adds
//! `vocab.json` (the [`Vocabulary`], so a model always reads text the way it
//! was trained). Loading checks the kind and every file, so pointing
//! `imdb classify` at an `asr` or `seq2seq` model directory is a one-line
//! error instead of a shape mismatch deep in libtorch.
use crate::data::Review;
use crate::error::{io_err, ImdbError, Result};
use crate::metrics::Report;
use crate::model::{encode, ModelConfig, SentimentNet};
use crate::tokenize::{words, Vocabulary, OOV};
use serde::{Deserialize, Serialize};
use sori_train::{ModelDir, Which};
use std::path::{Path, PathBuf};
use tch::{nn, Device};

/// The `kind` written into every `config.json` of this application.
pub const KIND: &str = "sori-imdb";
pub const VOCAB_FILE: &str = "vocab.json";

/// Our part of `config.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedConfig {
    pub model: ModelConfig,
    /// Facts about the run that produced the weights (data, split, epochs).
    #[serde(default)]
    pub training: serde_json::Value,
}

/// One classified review.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Probability of the positive class (a review is called positive from
    /// 0.5 up).
    pub probability: f64,
    /// Words of the review that the model's vocabulary knows (the others
    /// all read as one out-of-vocabulary id). 0: the probability is the
    /// model's answer to a review it cannot read.
    pub known_words: usize,
}

impl Prediction {
    pub fn label(&self) -> &'static str {
        if self.probability >= 0.5 {
            "positive"
        } else {
            "negative"
        }
    }
}

/// A network with its vocabulary, ready to classify.
pub struct Classifier {
    pub vs: nn::VarStore,
    pub net: SentimentNet,
    pub vocab: Vocabulary,
    pub device: Device,
    pub training: serde_json::Value,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("config", &self.net.config)
            .finish()
    }
}

/// Rejects reviews with no words (empty, blank or punctuation only).
pub fn check_review(text: &str, at: Option<String>) -> Result<()> {
    if words(text).is_empty() {
        Err(ImdbError::EmptyReview { at })
    } else {
        Ok(())
    }
}

impl Classifier {
    /// A freshly initialised network of `config` (random weights).
    pub fn new(config: &ModelConfig, vocab: Vocabulary, device: Device) -> Result<Self> {
        if vocab.num_words != config.num_words {
            return Err(ImdbError::Invalid(format!(
                "vocabulary has num_words {} but the model expects {}",
                vocab.num_words, config.num_words
            )));
        }
        let vs = nn::VarStore::new(device);
        let net = SentimentNet::new(&vs.root(), config)?;
        Ok(Classifier {
            vs,
            net,
            vocab,
            device,
            training: serde_json::Value::Null,
        })
    }

    /// Writes `config.json` and `vocab.json` into `dir` (created if
    /// needed); the trainer writes the weights.
    pub fn save_config(&self, dir: &ModelDir) -> Result<()> {
        std::fs::create_dir_all(dir.path()).map_err(io_err(dir.path()))?;
        let cfg = SavedConfig {
            model: self.net.config.clone(),
            training: self.training.clone(),
        };
        dir.write_config(KIND, &cfg)?;
        self.vocab.save(&dir.path().join(VOCAB_FILE))
    }

    /// Writes config, vocabulary and the current weights as `last` (and
    /// `best`) weights: a complete model directory without training.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let md = ModelDir::new(dir);
        self.save_config(&md)?;
        md.save_weights(&self.vs, Which::Best)?;
        Ok(md.save_weights(&self.vs, Which::Last)?)
    }

    /// Reads a model directory: config (kind checked), vocabulary, and the
    /// best weights (the last ones when there is no best file).
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        if !dir.is_dir() {
            return Err(ImdbError::BadData {
                path: dir.to_path_buf(),
                message: "no such model directory (train one with `imdb train --out DIR`)".into(),
            });
        }
        let md = ModelDir::new(dir);
        if !md.config_path().is_file() {
            return Err(ImdbError::MissingModelFile {
                dir: dir.to_path_buf(),
                missing: "config.json".into(),
            });
        }
        let cfg: SavedConfig = md.read_config(KIND).map_err(|e| ImdbError::WrongModel {
            dir: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        // Sizes are checked against their limits before anything is read
        // or allocated.
        cfg.model.validate().map_err(|e| ImdbError::BadData {
            path: md.config_path(),
            message: e.to_string(),
        })?;
        let vocab_path = dir.join(VOCAB_FILE);
        if !vocab_path.exists() {
            return Err(ImdbError::MissingModelFile {
                dir: dir.to_path_buf(),
                missing: VOCAB_FILE.into(),
            });
        }
        if !md.weights_path(Which::Best).is_file() && !md.weights_path(Which::Last).is_file() {
            return Err(ImdbError::MissingModelFile {
                dir: dir.to_path_buf(),
                missing: "best.safetensors or last.safetensors".into(),
            });
        }
        let vocab = Vocabulary::load(&vocab_path)?;
        let mut c = Classifier::new(&cfg.model, vocab, device)?;
        md.load_best_or_last(&mut c.vs)?;
        c.training = cfg.training;
        Ok(c)
    }

    /// Probabilities for `texts` (each must have at least one word).
    pub fn classify(&self, texts: &[&str]) -> Result<Vec<Prediction>> {
        for (i, t) in texts.iter().enumerate() {
            check_review(t, (texts.len() > 1).then(|| format!("review {}", i + 1)))?;
        }
        let data = encode(texts, &self.vocab, &self.net.config);
        let probs = self.net.probabilities(&data, 256, self.device)?;
        Ok(probs
            .into_iter()
            .zip(texts)
            .map(|(probability, t)| Prediction {
                probability,
                known_words: self.known_words(t),
            })
            .collect())
    }

    /// Words of `text` that the vocabulary knows.
    pub fn known_words(&self, text: &str) -> usize {
        words(text)
            .iter()
            .filter(|w| self.vocab.id(w) != OOV)
            .count()
    }

    /// [`Classifier::classify`] for input lines where blank lines keep
    /// their place: `None` for a blank (empty or white-space) line, a
    /// prediction for every other line (which must have a word; `at(i)`
    /// names line `i` in that error).
    pub fn classify_lines(
        &self,
        lines: &[&str],
        at: impl Fn(usize) -> String,
    ) -> Result<Vec<Option<Prediction>>> {
        let todo: Vec<usize> = (0..lines.len())
            .filter(|&i| !lines[i].trim().is_empty())
            .collect();
        for &i in &todo {
            check_review(lines[i], Some(at(i)))?;
        }
        let texts: Vec<&str> = todo.iter().map(|&i| lines[i]).collect();
        let mut out = vec![None; lines.len()];
        for (i, p) in todo.into_iter().zip(self.classify(&texts)?) {
            out[i] = Some(p);
        }
        Ok(out)
    }

    /// Probabilities for labelled reviews, without the empty-review check
    /// (a labelled corpus may hold a few punctuation-only snippets).
    pub fn probabilities(&self, reviews: &[Review]) -> Result<Vec<f64>> {
        let texts: Vec<&str> = reviews.iter().map(|r| r.text.as_str()).collect();
        let data = encode(&texts, &self.vocab, &self.net.config);
        self.net.probabilities(&data, 256, self.device)
    }

    /// Accuracy, precision, recall, F1, ROC AUC and the confusion matrix.
    pub fn evaluate(&self, reviews: &[Review]) -> Result<Report> {
        let probs = self.probabilities(reviews)?;
        let labels: Vec<u8> = reviews.iter().map(|r| r.label).collect();
        Ok(Report::new(&probs, &labels))
    }
}

/// Reads reviews to classify from a file (or `-` for stdin): one review a
/// line; blank lines are kept (as empty strings, so that each answer keeps
/// its line's place: [`Classifier::classify_lines`]); a line with no words
/// is an error naming it, and so is a file with nothing but blank lines.
pub fn read_review_lines(path: &Path) -> Result<Vec<String>> {
    let (text, name): (String, PathBuf) = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map_err(io_err("<stdin>"))?;
        (
            String::from_utf8_lossy(&buf).into_owned(),
            PathBuf::from("<stdin>"),
        )
    } else {
        (crate::data::read_lossy(path)?, path.to_path_buf())
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            out.push(String::new());
            continue;
        }
        check_review(line, Some(format!("{}: line {}", name.display(), i + 1)))?;
        out.push(line.to_string());
    }
    if out.iter().all(String::is_empty) {
        return Err(ImdbError::BadData {
            path: name,
            message: "no reviews in the file (it is empty or blank): nothing to classify".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Arch, ModelConfig};

    fn tiny() -> Classifier {
        let mut cfg = ModelConfig::preset(Arch::Lstm);
        cfg.num_words = 50;
        cfg.maxlen = 10;
        let vocab = Vocabulary::fit(["good bad movie"], 50).unwrap();
        Classifier::new(&cfg, vocab, Device::Cpu).unwrap()
    }

    #[test]
    fn save_load_round_trip_gives_same_probabilities() {
        let dir = tempfile::tempdir().unwrap();
        let c = tiny();
        c.save(dir.path()).unwrap();
        let back = Classifier::load(dir.path(), Device::Cpu).unwrap();
        let texts = ["good movie", "bad bad movie"];
        assert_eq!(c.classify(&texts).unwrap(), back.classify(&texts).unwrap());
    }

    #[test]
    fn bad_model_dirs_and_empty_reviews_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = Classifier::load(dir.path(), Device::Cpu).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("not a model directory: missing config.json"),
            "{err}"
        );
        ModelDir::new(dir.path())
            .write_config("sori-asr", &serde_json::json!({}))
            .unwrap();
        let err = Classifier::load(dir.path(), Device::Cpu).unwrap_err();
        assert!(
            err.to_string().contains("expected a \"sori-imdb\" model"),
            "{err}"
        );
        // Saving over another kind's model is refused; clear it first.
        assert!(tiny().save(dir.path()).is_err());
        std::fs::remove_file(dir.path().join("config.json")).unwrap();
        tiny().save(dir.path()).unwrap();
        std::fs::remove_file(dir.path().join("best.safetensors")).unwrap();
        std::fs::remove_file(dir.path().join("last.safetensors")).unwrap();
        let err = Classifier::load(dir.path(), Device::Cpu).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("missing best.safetensors or last.safetensors"),
            "{err}"
        );
        let c = tiny();
        assert_eq!(
            c.classify(&["  ...  "]).unwrap_err().to_string(),
            "empty review: nothing to classify"
        );
        let f = dir.path().join("r.txt");
        std::fs::write(&f, "good\n\n!!!\n").unwrap();
        let err = read_review_lines(&f).unwrap_err().to_string();
        assert!(err.contains("r.txt: line 3"), "{err}");
    }
}
