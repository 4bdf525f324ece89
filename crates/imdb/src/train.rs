//! Training: the application's side of `sori-train`'s loop.
//!
//! The lecture's recipe is the default: RMSprop (lr 1e-3), binary
//! cross-entropy (here on logits, the stable form), 10 epochs, the last 20%
//! of the training reviews held out for validation (Keras'
//! `validation_split=0.2`). The vocabulary is fitted on the training part
//! (validation included, like `keras.datasets.imdb` which indexes the whole
//! training set); the NB ratios of `best` only on the part the weights are
//! fitted on, so the validation accuracy stays honest. The checkpoint kept as
//! `best.safetensors` is the epoch with the highest validation accuracy.
use crate::classifier::Classifier;
use crate::data::Review;
use crate::error::{ImdbError, Result};
use crate::model::{default_batch_size, encode, nb_ratios, Arch, Batch, Encoded, ModelConfig};
use crate::tokenize::Vocabulary;
use sori_train::{
    binary_accuracy, validation_split, FitReport, InMemory, ModelDir, OptimizerKind, OptimizerSpec,
    StepOutput, Task, TaskResult, TrainConfig, Trainer,
};
use std::path::Path;
use std::rc::Rc;
use tch::{nn, Device, Tensor};

/// The lecture's training settings for `arch` (RMSprop 1e-3, 10 epochs, its
/// batch size), monitoring validation accuracy; `best` uses Adam 2e-3 and
/// 2 epochs (measured: validation accuracy 0.9145, 0.9165, then 0.9010 at
/// epoch 3, when the n-gram branch has memorised the training set).
pub fn default_train_config(arch: Arch) -> TrainConfig {
    let (kind, lr, epochs) = match arch {
        Arch::Best => (OptimizerKind::Adam, 2e-3, 2),
        _ => (OptimizerKind::RmsProp, 1e-3, 10),
    };
    TrainConfig {
        epochs,
        batch_size: default_batch_size(arch),
        optimizer: OptimizerSpec::new(kind, lr),
        monitor: Some("val_accuracy".into()),
        plot_metric: Some("accuracy".into()),
        ..TrainConfig::default()
    }
}

/// Validation fraction of the training reviews, like Keras' `validation_split`.
pub const DEFAULT_VALIDATION_SPLIT: f64 = 0.2;

/// A batch with its labels.
#[derive(Debug)]
pub struct LabelledBatch {
    pub inputs: Batch,
    pub labels: Tensor,
}

/// The model as `sori-train` sees it.
struct ImdbTask<'a> {
    classifier: &'a mut Classifier,
}

impl ImdbTask<'_> {
    fn step(&mut self, b: &LabelledBatch, train: bool) -> TaskResult<StepOutput> {
        let logits = self.classifier.net.forward(&b.inputs, train)?;
        let loss = logits.binary_cross_entropy_with_logits::<Tensor>(
            &b.labels,
            None,
            None,
            tch::Reduction::Mean,
        );
        Ok(StepOutput::new(loss, b.labels.size()[0] as usize)
            .with_metric(binary_accuracy(&logits, &b.labels)))
    }
}

impl Task for ImdbTask<'_> {
    type Batch = LabelledBatch;
    fn var_store(&self) -> &nn::VarStore {
        &self.classifier.vs
    }
    fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.classifier.vs
    }
    fn train_step(&mut self, b: &LabelledBatch) -> TaskResult<StepOutput> {
        self.step(b, true)
    }
    fn eval_step(&mut self, b: &LabelledBatch) -> TaskResult<StepOutput> {
        self.step(b, false)
    }
}

fn data_source(
    data: Rc<Encoded>,
    labels: Rc<Vec<u8>>,
    train_rows: Vec<usize>,
    val_rows: Vec<usize>,
    batch_size: usize,
    device: Device,
) -> InMemory<usize, LabelledBatch> {
    InMemory::new(
        train_rows,
        val_rows,
        batch_size,
        move |rows: &[&usize]| {
            let rows: Vec<usize> = rows.iter().map(|&&r| r).collect();
            let y: Vec<f32> = rows.iter().map(|&r| labels[r] as f32).collect();
            Ok(LabelledBatch {
                inputs: Batch::gather(&data, &rows, device),
                labels: Tensor::from_slice(&y).to_device(device),
            })
        },
    )
}

/// What [`train`] produced.
#[derive(Debug)]
pub struct Trained {
    pub classifier: Classifier,
    pub report: FitReport,
    pub train_examples: usize,
    pub val_examples: usize,
}

/// Trains a model of `config` on `reviews` (already shuffled: the last
/// `validation` fraction is the validation set). With `out`, the model
/// directory is written (config, vocabulary, checkpoints, history, plots)
/// and the returned classifier holds the best checkpoint's weights.
pub fn train(
    reviews: &[Review],
    config: &ModelConfig,
    train_config: TrainConfig,
    validation: f64,
    out: Option<&Path>,
    device: Device,
) -> Result<Trained> {
    if reviews.is_empty() {
        return Err(ImdbError::Invalid("no training reviews".into()));
    }
    let texts: Vec<&str> = reviews.iter().map(|r| r.text.as_str()).collect();
    let labels: Vec<u8> = reviews.iter().map(|r| r.label).collect();
    let (train_rows, val_rows) =
        validation_split((0..reviews.len()).collect::<Vec<usize>>(), validation)?;
    if train_rows.is_empty() {
        return Err(ImdbError::Invalid(format!(
            "{} reviews leave nothing to train on after a validation split of {validation}",
            reviews.len()
        )));
    }
    let vocab = Vocabulary::fit(texts.iter().copied(), config.num_words)?;
    let encoded = encode(&texts, &vocab, config);
    // Initial weights come from the seed too, so one seed gives one model.
    tch::manual_seed(train_config.seed as i64);
    let mut classifier = Classifier::new(config, vocab, device)?;
    if config.ngram_buckets > 0 {
        let g: Vec<Vec<i64>> = train_rows
            .iter()
            .map(|&r| encoded.ngrams[r].clone())
            .collect();
        let y: Vec<u8> = train_rows.iter().map(|&r| labels[r]).collect();
        classifier
            .net
            .set_ngram_ratios(&nb_ratios(&g, &y, config.ngram_buckets));
    }
    classifier.training = serde_json::json!({
        "train_examples": train_rows.len(),
        "validation_examples": val_rows.len(),
        "validation_split": validation,
        "config": train_config,
    });
    let (n_train, n_val) = (train_rows.len(), val_rows.len());
    let mut train_config = train_config;
    if n_val == 0 && train_config.monitor.as_deref() == Some("val_accuracy") {
        train_config.monitor = Some("accuracy".into());
    }
    let mut source = data_source(
        Rc::new(encoded),
        Rc::new(labels),
        train_rows,
        val_rows,
        train_config.batch_size,
        device,
    );
    let dir = match out {
        Some(p) => {
            let md = ModelDir::create(p)?;
            classifier.save_config(&md)?;
            Some(md)
        }
        None => None,
    };
    let quiet = train_config.quiet;
    let mut trainer = Trainer::new(train_config, dir.clone());
    if quiet && out.is_none() {
        trainer = trainer.silent();
    }
    let report = {
        let mut task = ImdbTask {
            classifier: &mut classifier,
        };
        trainer.fit(&mut task, &mut source)?
    };
    if let Some(md) = &dir {
        md.load_best_or_last(&mut classifier.vs)?;
    }
    Ok(Trained {
        classifier,
        report,
        train_examples: n_train,
        val_examples: n_val,
    })
}
