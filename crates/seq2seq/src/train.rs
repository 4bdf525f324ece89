//! Training a translator with the shared loop ([`sori_train::Trainer`]).
//!
//! This module only supplies what is specific to translation: sub-word
//! vocabularies trained on the training side, examples bucketed by length
//! (little padding, so little wasted decoder work), the teacher-forced
//! label-smoothed loss, and corpus BLEU / chrF of greedy translations of the
//! validation set after every epoch (`val_bleu` selects the best checkpoint).

use std::path::Path;

use sori_train::{
    pad_tokens, DataSource, FitReport, InMemory, Metric, ModelDir, Side, StepOutput, Task,
    TaskResult, TrainConfig, Trainer,
};
use tch::{nn, Device, Kind, Tensor};

use crate::data::{drop_empty, Pair};
use crate::error::{Result, Seq2SeqError};
use crate::model::{ModelConfig, Seq2Seq};
use crate::subword::{Subword, BOS, EOS, PAD};
use crate::translator::{evaluate, Translator, TranslatorConfig};

/// Everything about a run that is not the loop's own settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Architecture; the vocabulary sizes are filled in after BPE training.
    pub model: ModelConfig,
    pub src_vocab_size: usize,
    pub tgt_vocab_size: usize,
    pub label_smoothing: f64,
    /// Training pairs longer than this many pieces (either side) are skipped.
    pub max_train_len: usize,
    pub max_len: usize,
    pub src_lang: String,
    pub tgt_lang: String,
    /// Print a few validation translations after each epoch.
    pub show_samples: usize,
    /// Print nothing at all (tests).
    pub silent: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            model: ModelConfig::new(0, 0),
            src_vocab_size: 8000,
            tgt_vocab_size: 8000,
            label_smoothing: 0.1,
            max_train_len: 64,
            max_len: 128,
            src_lang: "src".into(),
            tgt_lang: "tgt".into(),
            show_samples: 0,
            silent: false,
        }
    }
}

/// One tokenised pair; `reference` is the raw target text (for BLEU).
#[derive(Debug, Clone)]
pub struct Example {
    pub src: Vec<i64>,
    pub tgt: Vec<i64>,
    pub reference: String,
}

/// A padded batch.
pub struct Batch {
    pub src: Tensor,
    pub src_lengths: Vec<i64>,
    /// `<s> y_1 .. y_n` padded.
    pub tgt_in: Tensor,
    /// `y_1 .. y_n </s>` padded.
    pub tgt_out: Tensor,
    pub references: Vec<String>,
    /// Source ids, for greedy validation decoding.
    pub src_ids: Vec<Vec<i64>>,
}

/// Pads examples into a [`Batch`] on `device`.
pub fn collate(items: &[&Example], device: Device) -> Batch {
    let src: Vec<&[i64]> = items.iter().map(|e| e.src.as_slice()).collect();
    let (src_t, src_lengths) = pad_tokens(&src, PAD, None, Side::Post, Side::Post, device);
    let tin: Vec<Vec<i64>> = items
        .iter()
        .map(|e| std::iter::once(BOS).chain(e.tgt.iter().copied()).collect())
        .collect();
    let tout: Vec<Vec<i64>> = items
        .iter()
        .map(|e| e.tgt.iter().copied().chain(std::iter::once(EOS)).collect())
        .collect();
    let tin_r: Vec<&[i64]> = tin.iter().map(|v| v.as_slice()).collect();
    let tout_r: Vec<&[i64]> = tout.iter().map(|v| v.as_slice()).collect();
    let (tgt_in, _) = pad_tokens(&tin_r, PAD, None, Side::Post, Side::Post, device);
    let (tgt_out, _) = pad_tokens(&tout_r, PAD, None, Side::Post, Side::Post, device);
    Batch {
        src: src_t,
        src_lengths,
        tgt_in,
        tgt_out,
        references: items.iter().map(|e| e.reference.clone()).collect(),
        src_ids: items.iter().map(|e| e.src.clone()).collect(),
    }
}

/// The training task: a translator plus the validation outputs of the
/// current epoch.
pub struct TranslationTask {
    pub translator: Translator,
    pub label_smoothing: f64,
    pub show_samples: usize,
    hyps: Vec<String>,
    refs: Vec<String>,
    sources: Vec<Vec<i64>>,
}

impl TranslationTask {
    pub fn new(translator: Translator, label_smoothing: f64) -> TranslationTask {
        TranslationTask {
            translator,
            label_smoothing,
            show_samples: 0,
            hyps: Vec::new(),
            refs: Vec::new(),
            sources: Vec::new(),
        }
    }

    fn step(&self, b: &Batch, train: bool) -> Result<StepOutput> {
        let logits = self
            .translator
            .model
            .forward(&b.src, &b.src_lengths, &b.tgt_in, train)?;
        let loss = Seq2Seq::loss(&logits, &b.tgt_out, self.label_smoothing);
        let real = b.tgt_out.ne(PAD);
        let correct = logits
            .argmax(-1, false)
            .eq_tensor(&b.tgt_out)
            .logical_and(&real)
            .sum(Kind::Int64)
            .int64_value(&[]);
        let total = real.sum(Kind::Int64).int64_value(&[]);
        Ok(
            StepOutput::new(loss, b.src_lengths.len()).with_metric(Metric::ratio(
                "acc",
                correct as f64,
                total as f64,
            )),
        )
    }
}

impl Task for TranslationTask {
    type Batch = Batch;

    fn var_store(&self) -> &nn::VarStore {
        &self.translator.vs
    }

    fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.translator.vs
    }

    fn train_step(&mut self, b: &Batch) -> TaskResult<StepOutput> {
        Ok(self.step(b, true)?)
    }

    fn eval_step(&mut self, b: &Batch) -> TaskResult<StepOutput> {
        let out = self.step(b, false)?;
        let decoded = self.translator.greedy_batch(&b.src_ids)?;
        for toks in decoded {
            self.hyps.push(self.translator.tgt_tok.decode(&toks)?);
        }
        self.refs.extend(b.references.iter().cloned());
        if self.sources.len() < self.show_samples {
            self.sources
                .extend(b.src_ids.iter().take(self.show_samples).cloned());
        }
        Ok(out)
    }

    fn eval_end(&mut self) -> TaskResult<Vec<(String, f64)>> {
        let report = evaluate(&self.hyps, &self.refs)?;
        for (i, src) in self.sources.iter().enumerate().take(self.show_samples) {
            let s = self.translator.src_tok.decode(src)?;
            eprintln!(
                "  src: {s}\n  ref: {}\n  hyp: {}",
                self.refs[i], self.hyps[i]
            );
        }
        self.hyps.clear();
        self.refs.clear();
        self.sources.clear();
        Ok(vec![
            ("bleu".into(), report.bleu.score),
            ("chrf".into(), report.chrf),
        ])
    }
}

/// Tokenises pairs, skipping those with an empty side or longer than
/// `max_len` pieces (training only; validation keeps everything).
pub fn tokenise(
    pairs: &[Pair],
    src: &Subword,
    tgt: &Subword,
    max_len: Option<usize>,
    max_src_len: usize,
) -> Result<Vec<Example>> {
    let mut out = Vec::with_capacity(pairs.len());
    for p in pairs {
        if p.src.trim().is_empty() || p.tgt.trim().is_empty() {
            continue;
        }
        let mut s = src.encode(&p.src)?;
        let t = tgt.encode(&p.tgt)?;
        if let Some(m) = max_len {
            if s.len() > m || t.len() > m {
                continue;
            }
        }
        s.truncate(max_src_len.saturating_sub(1).max(1));
        s.push(EOS);
        out.push(Example {
            src: s,
            tgt: t,
            reference: p.tgt.clone(),
        });
    }
    Ok(out)
}

/// Trains BPE vocabularies on `train`, builds a model and fits it; writes
/// the model directory when `out` is given. Returns the trained translator
/// (best weights when validation data exists) and the loop's report.
pub fn train(
    mut train: Vec<Pair>,
    val: Vec<Pair>,
    opts: &TrainOptions,
    config: TrainConfig,
    out: Option<&Path>,
    device: Device,
) -> Result<(Translator, FitReport)> {
    // Settings first, so that a bad flag fails at once, before any work
    // and before anything is printed.
    let mut sized = opts.model.clone();
    sized.src_vocab = sized.src_vocab.max(5);
    sized.tgt_vocab = sized.tgt_vocab.max(5);
    sized.validate()?;
    if !(0.0..1.0).contains(&opts.label_smoothing) {
        return Err(Seq2SeqError::Config(format!(
            "label smoothing must be in [0, 1), got {}",
            opts.label_smoothing
        )));
    }
    if let Some(p) = out {
        ModelDir::new(p).refuse_other_kind(crate::translator::KIND)?;
    }
    let dropped = drop_empty(&mut train);
    if train.is_empty() {
        return Err(Seq2SeqError::NoData(
            "no training pairs with both sides non-empty".into(),
        ));
    }
    if dropped > 0 && !opts.silent {
        eprintln!("skipped {dropped} training pairs with an empty side");
    }
    let src_texts: Vec<&str> = train.iter().map(|p| p.src.as_str()).collect();
    let tgt_texts: Vec<&str> = train.iter().map(|p| p.tgt.as_str()).collect();
    let src_tok = Subword::train(&src_texts, opts.src_vocab_size, 2)?;
    let tgt_tok = Subword::train(&tgt_texts, opts.tgt_vocab_size, 2)?;
    let mut model = opts.model.clone();
    model.src_vocab = src_tok.vocab_size() as i64;
    model.tgt_vocab = tgt_tok.vocab_size() as i64;
    let tconfig = TranslatorConfig {
        model,
        src_lang: opts.src_lang.clone(),
        tgt_lang: opts.tgt_lang.clone(),
        max_src_len: opts.max_train_len.max(opts.max_len),
        max_len: opts.max_len,
    };
    let max_src = tconfig.max_src_len;
    let train_ex = tokenise(
        &train,
        &src_tok,
        &tgt_tok,
        Some(opts.max_train_len),
        max_src,
    )?;
    let val_ex = tokenise(&val, &src_tok, &tgt_tok, None, max_src)?;
    if train_ex.is_empty() {
        return Err(Seq2SeqError::NoData(format!(
            "no training pair is at most {} pieces long",
            opts.max_train_len
        )));
    }
    if !opts.silent {
        eprintln!(
            "{} training pairs, {} validation pairs; vocabularies {} ({}) / {} ({})",
            train_ex.len(),
            val_ex.len(),
            src_tok.vocab_size(),
            opts.src_lang,
            tgt_tok.vocab_size(),
            opts.tgt_lang
        );
    }
    // Initial weights come from the seed too, so one seed gives one model.
    tch::manual_seed(config.seed as i64);
    let translator = Translator::new(tconfig, src_tok, tgt_tok, device)?;
    let dir = match out {
        Some(p) => {
            let d = ModelDir::create(p)?;
            translator.save_config(&d)?;
            Some(d)
        }
        None => None,
    };
    let mut data = InMemory::new(train_ex, val_ex, config.batch_size, move |items| {
        Ok(collate(items, device))
    })
    .bucket_by(|e: &Example| e.src.len().max(e.tgt.len()));
    let has_val = data.val_batches().map(|v| v.is_some()).unwrap_or(false);
    let mut config = config;
    if has_val {
        config.monitor.get_or_insert_with(|| "val_bleu".into());
        config.plot_metric.get_or_insert_with(|| "val_bleu".into());
    }
    let mut task = TranslationTask::new(translator, opts.label_smoothing);
    task.show_samples = opts.show_samples;
    let mut trainer = Trainer::new(config, dir);
    if opts.silent {
        trainer = trainer.silent();
    }
    let report = trainer.fit(&mut task, &mut data)?;
    let mut translator = task.translator;
    if let Some(p) = out {
        // Use the selected checkpoint, as `seq2seq translate` will.
        ModelDir::new(p).load_best_or_last(&mut translator.vs)?;
    }
    Ok((translator, report))
}
