//! Training: manifests become feature examples (once, in parallel, with
//! optional speed perturbation and noise), and the shared training loop of
//! `sori-train` runs a CTC task over them: native CTC loss on the model's
//! log-probabilities, SpecAugment on training batches, greedy-decoded CER
//! and WER on the validation set after each epoch (the monitored metric).
use crate::data::manifest::{by_speaker, read_manifest, Utterance};
use crate::data::vocab::{OovPolicy, Vocab};
use crate::error::{AsrError, Result};
use crate::eval::metrics::{char_errors, word_errors};
use crate::frontend::{
    add_background, add_noise, pad_silence, rms, speaker_norm, speed_perturb, FeatureNorm,
    FrontEnd, NoiseColour, SpecAugment,
};
use crate::model::{Architecture, AsrConfig, AsrModel};
use crate::rng::Rng;
use rayon::prelude::*;
use sori_ctc::{greedy_decode, CtcLoss, Reduction};
use sori_train::{
    pad_frames, FitReport, InMemory, Metric, ModelDir, StepOutput, Task, TaskResult, TrainConfig,
    Trainer,
};
use std::collections::BTreeSet;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// One utterance ready for training: features and label ids.
#[derive(Debug, Clone)]
pub struct Example {
    pub feats: Vec<f32>,
    pub frames: usize,
    pub labels: Vec<i64>,
    pub text: String,
}

/// Waveform augmentations applied once when the examples are built.
#[derive(Debug, Clone, Default)]
pub struct Augment {
    /// Each utterance is played at one of these speeds (empty: 1.0).
    pub speeds: Vec<f64>,
    /// Noise is added with this probability...
    pub noise_prob: f64,
    /// ...at an SNR drawn uniformly from this range (dB).
    pub noise_snr: (f64, f64),
    /// Vocal tract length perturbation: a filterbank warp drawn uniformly
    /// from this range per utterance (Jaitly & Hinton 2013), so a model
    /// trained on few speakers meets many vocal tract lengths.
    pub vtlp: Option<(f64, f64)>,
    /// Silence padding: with probability `.0`, 0 to `.1` seconds of
    /// silence before and (drawn apart) after the speech, so that the model
    /// meets leading and trailing pauses as real recordings have them.
    pub pad: Option<(f64, f64)>,
    /// Background noise with probability `.0`, white or pink, at an SNR
    /// drawn from `.1` (dB, relative to the speech), over the whole padded
    /// signal: pauses in recordings are never digital zero.
    pub background: Option<(f64, (f64, f64))>,
    /// Each training utterance enters this many times (at least 1), each
    /// copy with its own draws of the augmentations above.
    pub copies: usize,
}

impl Augment {
    /// True when some augmentation would change the audio or features.
    pub fn is_active(&self) -> bool {
        !self.speeds.is_empty()
            || self.noise_prob > 0.0
            || self.vtlp.is_some()
            || self.pad.is_some()
            || self.background.is_some()
    }

    /// Refuses settings that cannot be applied.
    pub fn validate(&self) -> Result<()> {
        if let Some((lo, hi)) = self.vtlp {
            if !(0.5..=2.0).contains(&lo) || !(0.5..=2.0).contains(&hi) || lo > hi {
                return Err(AsrError::Config(format!(
                    "VTLP warp range {lo}..{hi} must satisfy 0.5 <= low <= high <= 2"
                )));
            }
        }
        if let Some((p, secs)) = self.pad {
            if !(0.0..=1.0).contains(&p) || !(0.0..=30.0).contains(&secs) {
                return Err(AsrError::Config(format!(
                    "silence padding probability {p} must be in 0..=1 and its length {secs} s in 0..=30"
                )));
            }
        }
        if let Some((p, (lo, hi))) = self.background {
            if !(0.0..=1.0).contains(&p) || !lo.is_finite() || !hi.is_finite() || lo > hi {
                return Err(AsrError::Config(format!(
                    "background noise probability {p} must be in 0..=1 and its SNR range {lo}..{hi} dB finite and ordered"
                )));
            }
        }
        if self.copies == 0 || self.copies > 100 {
            return Err(AsrError::Config(format!(
                "augmented copies {} must be between 1 and 100",
                self.copies
            )));
        }
        Ok(())
    }
}

/// Reads a manifest and checks that its transcripts fit the vocabulary.
/// Under [`OovPolicy::Error`] every unknown character is listed in the
/// error; under the other policies in one warning on stderr, which says
/// what happens to them, so a dropped character is never silent.
pub fn check_transcripts(
    path: &Path,
    utts: &[Utterance],
    vocab: &Vocab,
    oov: OovPolicy,
) -> Result<()> {
    let mut unknown = BTreeSet::new();
    let mut count = 0;
    for u in utts {
        let c = vocab.unknown_chars(&u.text);
        if !c.is_empty() {
            count += 1;
            unknown.extend(c);
        }
    }
    if count == 0 {
        return Ok(());
    }
    let chars = unknown
        .iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(" ");
    let what = match oov {
        OovPolicy::Error => {
            return Err(AsrError::OutOfVocabulary {
                path: path.to_path_buf(),
                count,
                chars,
            })
        }
        OovPolicy::Drop => "dropped (--oov drop)",
        OovPolicy::MapToSpace => "read as spaces (--oov space)",
    };
    eprintln!(
        "warning: {}: {count} transcripts have characters the model cannot output ({chars}); {what}",
        path.display()
    );
    Ok(())
}

/// Features and labels of every utterance, computed in parallel; the first
/// failing file is the error. Under [`FeatureNorm::Speaker`] each speaker's
/// examples are normalised by the statistics of all of them (an utterance
/// without a speaker by its own).
pub fn build_examples(
    utts: &[Utterance],
    fe: &FrontEnd,
    vocab: &Vocab,
    oov: OovPolicy,
    augment: Option<(&Augment, u64)>,
) -> Result<Vec<Example>> {
    let mut examples = raw_examples(utts, fe, vocab, oov, augment)?;
    if fe.norm == FeatureNorm::Speaker {
        normalise_by_speaker(utts, &mut examples, fe.dim());
    }
    Ok(examples)
}

/// Groups examples by their utterance's speaker (an utterance without one
/// is a group of its own) and normalises each group by its own statistics.
fn normalise_by_speaker(utts: &[Utterance], examples: &mut [Example], dim: usize) {
    let mut groups = by_speaker(utts.iter().map(|u| u.speaker.as_deref()));
    let lone = groups.remove(&None).unwrap_or_default();
    let singles = lone.into_iter().map(|i| vec![i]);
    for members in groups.into_values().chain(singles) {
        let feats = members.iter().map(|&i| examples[i].feats.as_slice());
        if let Some(norm) = speaker_norm(dim, feats) {
            for &i in &members {
                norm.apply(&mut examples[i].feats, dim);
            }
        }
    }
}

fn raw_examples(
    utts: &[Utterance],
    fe: &FrontEnd,
    vocab: &Vocab,
    oov: OovPolicy,
    augment: Option<(&Augment, u64)>,
) -> Result<Vec<Example>> {
    utts.par_iter()
        .enumerate()
        .map_init(
            || fe.extractor(),
            |ex, (i, u)| {
                let ex = ex.as_mut().map_err(|e| AsrError::Config(e.to_string()))?;
                let mut samples = fe.load(&u.audio)?;
                let mut warped = None;
                if let Some((aug, seed)) = augment {
                    let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x9E37_79B9));
                    if !aug.speeds.is_empty() {
                        let f = *rng.choose(&aug.speeds);
                        samples = speed_perturb(&samples, fe.sample_rate, f)?;
                    }
                    if let Some((p, secs)) = aug.pad {
                        if rng.uniform() < p {
                            let (lead, trail) = (secs * rng.uniform(), secs * rng.uniform());
                            samples = pad_silence(&samples, fe.sample_rate, lead, trail);
                        }
                    }
                    if let Some((p, (lo, hi))) = aug.background {
                        if rng.uniform() < p {
                            let snr = lo + (hi - lo) * rng.uniform();
                            let level = rms(&samples) / 10f64.powf(snr / 20.0);
                            let colour = if rng.uniform() < 0.5 {
                                NoiseColour::White
                            } else {
                                NoiseColour::Pink
                            };
                            add_background(&mut samples, level, colour, &mut rng);
                        }
                    }
                    if aug.noise_prob > 0.0 && rng.uniform() < aug.noise_prob {
                        let (lo, hi) = aug.noise_snr;
                        add_noise(&mut samples, lo + (hi - lo) * rng.uniform(), &mut rng);
                    }
                    if let Some((lo, hi)) = aug.vtlp {
                        let warp = lo + (hi - lo) * rng.uniform();
                        warped = Some(fe.warped_extractor(warp)?);
                    }
                }
                let ex = warped.as_mut().unwrap_or(ex);
                let f = fe.features(ex, &samples, &u.audio)?;
                let labels =
                    vocab
                        .encode(&u.text, oov)
                        .map_err(|chars| AsrError::OutOfVocabulary {
                            path: u.audio.clone(),
                            count: 1,
                            chars: chars
                                .iter()
                                .map(|c| format!("{c:?}"))
                                .collect::<Vec<_>>()
                                .join(" "),
                        })?;
                Ok(Example {
                    feats: f.data,
                    frames: f.n_frames,
                    labels,
                    text: crate::data::vocab::normalize(&u.text),
                })
            },
        )
        .collect()
}

/// Encoder steps CTC needs to emit `labels`: one per label, plus a blank
/// between each pair of equal neighbours (without it they would merge).
pub fn ctc_min_steps(labels: &[i64]) -> usize {
    labels.len() + labels.windows(2).filter(|w| w[0] == w[1]).count()
}

/// Whether an utterance of `frames` feature frames, stacked `stack` at a
/// time (`ceil(frames / stack)` encoder steps), can be aligned with
/// `labels` at all; when not, its CTC loss is infinite.
pub fn ctc_feasible(frames: usize, stack: usize, labels: &[i64]) -> bool {
    frames.div_ceil(stack.max(1)) >= ctc_min_steps(labels)
}

/// The 1-based line numbers of a manifest's `count` records, in the order
/// [`read_manifest`] returns them (it skips blank lines).
fn record_lines(path: &Path, count: usize) -> Result<Vec<usize>> {
    let text = std::fs::read_to_string(path).map_err(|e| AsrError::io(path, e))?;
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, _)| i + 1)
        .take(count)
        .collect();
    if lines.len() != count {
        return Err(AsrError::Config(format!(
            "{}: changed while it was read",
            path.display()
        )));
    }
    Ok(lines)
}

/// Drops the examples CTC cannot align ([`ctc_feasible`]), with a warning
/// naming each one's `FILE:LINE` on stderr (at most 10, then a count); with
/// `strict`, the first is an error instead. `origin(i)` is where example
/// `i` comes from.
fn keep_feasible<'a>(
    examples: Vec<Example>,
    stack: usize,
    strict: bool,
    set: &str,
    origin: impl Fn(usize) -> (&'a Path, usize),
) -> Result<Vec<Example>> {
    let mut kept = Vec::with_capacity(examples.len());
    let mut dropped = Vec::new();
    let total = examples.len();
    for (i, e) in examples.into_iter().enumerate() {
        if ctc_feasible(e.frames, stack, &e.labels) {
            kept.push(e);
            continue;
        }
        let (path, line) = origin(i);
        let why = format!(
            "the transcript needs {} encoder steps but the audio gives {} ({} frames / {stack}): CTC cannot align it",
            ctc_min_steps(&e.labels),
            e.frames.div_ceil(stack),
            e.frames
        );
        if strict {
            return Err(AsrError::Manifest {
                path: path.to_path_buf(),
                line,
                message: format!("{why} (--strict)"),
            });
        }
        dropped.push(format!("{}:{line}: {why}", path.display()));
    }
    if !dropped.is_empty() {
        dropped.dedup();
        for d in dropped.iter().take(10) {
            eprintln!("warning: {d}; skipped");
        }
        if dropped.len() > 10 {
            eprintln!("warning: ... and {} more", dropped.len() - 10);
        }
        eprintln!(
            "warning: skipped {} of {total} {set} utterances that CTC cannot align (--strict refuses them)",
            total - kept.len()
        );
    }
    Ok(kept)
}

/// A padded batch.
pub struct Batch {
    pub xs: Tensor,
    pub lengths: Vec<i64>,
    pub targets: Tensor,
    pub target_lengths: Vec<i64>,
    pub texts: Vec<String>,
}

/// Pads examples into a batch on `device`.
pub fn collate(items: &[&Example], dim: usize, device: Device) -> TaskResult<Batch> {
    let seqs: Vec<&[f32]> = items.iter().map(|e| e.feats.as_slice()).collect();
    let (xs, lengths) = pad_frames(&seqs, dim, device)?;
    let flat: Vec<i64> = items
        .iter()
        .flat_map(|e| e.labels.iter().copied())
        .collect();
    Ok(Batch {
        xs,
        lengths,
        targets: Tensor::from_slice(&flat),
        target_lengths: items.iter().map(|e| e.labels.len() as i64).collect(),
        texts: items.iter().map(|e| e.text.clone()).collect(),
    })
}

/// The CTC task the training loop drives.
pub struct CtcTask {
    pub model: AsrModel,
    pub loss: CtcLoss,
    pub spec_augment: Option<SpecAugment>,
    rng: Rng,
    samples_shown: bool,
}

impl CtcTask {
    pub fn new(model: AsrModel, spec_augment: Option<SpecAugment>, seed: u64) -> Self {
        let blank = model.config.vocab.blank();
        CtcTask {
            model,
            // Per utterance and without zero_infinity: `step` counts the
            // infinite ones, zeroes them (the native loss gives them a zero
            // gradient) and takes the mean as `Reduction::Mean` does.
            loss: CtcLoss::new(blank).with_reduction(Reduction::None),
            spec_augment,
            rng: Rng::new(seed),
            samples_shown: false,
        }
    }

    fn masked(&mut self, b: &Batch) -> Tensor {
        let Some(sa) = self.spec_augment else {
            return b.xs.shallow_clone();
        };
        let size = b.xs.size();
        let (bs, t, d) = (size[0] as usize, size[1] as usize, size[2] as usize);
        let mut mask = vec![1f32; bs * t * d];
        for (i, &len) in b.lengths.iter().enumerate() {
            let start = i * t * d;
            sa.apply(&mut mask[start..start + len as usize * d], d, &mut self.rng);
        }
        let mask = Tensor::from_slice(&mask)
            .reshape([bs as i64, t as i64, d as i64])
            .to_device(b.xs.device());
        &b.xs * mask
    }

    /// The mean loss (each utterance's divided by its target length, as
    /// `Reduction::Mean`), the log-probabilities, their lengths, and how
    /// many utterances had an infinite loss, counted as zero (their
    /// transcript cannot be aligned with the output, or the model gives a
    /// needed label a probability of 0).
    fn step(&mut self, b: &Batch, train: bool) -> TaskResult<(Tensor, Tensor, Vec<i64>, usize)> {
        let xs = if train {
            self.masked(b)
        } else {
            b.xs.shallow_clone()
        };
        let (lp, out_lengths) = self.model.forward(&xs, &b.lengths, train)?;
        let lp_tnc = lp.transpose(0, 1);
        let per = self
            .loss
            .forward(&lp_tnc, &b.targets, &out_lengths, &b.target_lengths)?;
        let infinite = per.isinf();
        let zeroed = infinite.sum(Kind::Int64).int64_value(&[]) as usize;
        let lens: Vec<f64> = b.target_lengths.iter().map(|&l| l.max(1) as f64).collect();
        let lens = Tensor::from_slice(&lens)
            .to_kind(per.kind())
            .to_device(per.device());
        let loss = (per.masked_fill(&infinite, 0.0) / lens).mean(per.kind());
        Ok((loss, lp, out_lengths, zeroed))
    }
}

/// Greedy transcripts of a `[B, T, C]` log-probability batch.
pub fn greedy_texts(lp: &Tensor, lengths: &[i64], vocab: &Vocab) -> Result<Vec<String>> {
    let lp = lp.to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
    let size = lp.size();
    let (t, c) = (size[1] as usize, size[2] as usize);
    let data: Vec<f32> = Vec::<f32>::try_from(lp.flatten(0, -1))?;
    lengths
        .iter()
        .enumerate()
        .map(|(b, &len)| {
            let rows = &data[b * t * c..(b * t + len as usize) * c];
            let ids = greedy_decode(rows, c, vocab.blank())
                .map_err(|e| AsrError::Config(e.to_string()))?;
            Ok(vocab.decode(&ids))
        })
        .collect()
}

impl Task for CtcTask {
    type Batch = Batch;

    fn var_store(&self) -> &tch::nn::VarStore {
        &self.model.vs
    }

    fn var_store_mut(&mut self) -> &mut tch::nn::VarStore {
        &mut self.model.vs
    }

    fn train_step(&mut self, b: &Batch) -> TaskResult<StepOutput> {
        let (loss, _, _, zeroed) = self.step(b, true)?;
        Ok(StepOutput::new(loss, b.texts.len()).with_zeroed(zeroed))
    }

    fn eval_step(&mut self, b: &Batch) -> TaskResult<StepOutput> {
        let (loss, lp, out_lengths, _) = self.step(b, false)?;
        let hyps = greedy_texts(&lp, &out_lengths, &self.model.config.vocab)?;
        let (mut ce, mut cn, mut we, mut wn) = (0, 0, 0, 0);
        for (h, r) in hyps.iter().zip(&b.texts) {
            let c = char_errors(r, h);
            let w = word_errors(r, h);
            ce += c.edits;
            cn += c.reference_len;
            we += w.edits;
            wn += w.reference_len;
        }
        if !self.samples_shown {
            if let (Some(h), Some(r)) = (hyps.first(), b.texts.first()) {
                eprintln!("  sample: ref {r:?}\n          hyp {h:?}");
            }
            self.samples_shown = true;
        }
        Ok(StepOutput::new(loss, b.texts.len())
            .with_metric(Metric::ratio("cer", ce as f64, cn as f64))
            .with_metric(Metric::ratio("wer", we as f64, wn as f64)))
    }

    fn on_epoch_end(&mut self, _record: &sori_train::EpochRecord) -> TaskResult<()> {
        self.samples_shown = false;
        Ok(())
    }

    /// SpecAugment's generator, the one random stream of training not
    /// derived from `(seed, epoch)` (speed, noise, padding and VTLP are drawn
    /// once per utterance from the seed and its index when the examples are
    /// built; the order and dropout from `(seed, epoch)` by the loop).
    fn task_state(&self) -> Option<String> {
        Some(format!("{{\"spec_augment_rng\":{}}}", self.rng.state()))
    }

    fn restore_task_state(&mut self, state: &str) -> TaskResult<()> {
        let v: serde_json::Value = serde_json::from_str(state)
            .map_err(|e| AsrError::Config(format!("invalid task state {state:?}: {e}")))?;
        let rng = v["spec_augment_rng"].as_u64().ok_or_else(|| {
            AsrError::Config(format!("invalid task state {state:?}: no spec_augment_rng"))
        })?;
        self.rng = Rng::from_state(rng);
        Ok(())
    }
}

/// Settings of [`train`] besides the loop's own.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub frontend: FrontEnd,
    pub arch: Architecture,
    pub oov: OovPolicy,
    pub augment: Option<Augment>,
    pub spec_augment: Option<SpecAugment>,
    /// Use at most this many training utterances (the first ones).
    pub max_train: Option<usize>,
    /// Extra characters to include in the vocabulary.
    pub extra_chars: String,
    /// Refuse utterances whose transcript CTC cannot align with their audio
    /// ([`ctc_feasible`]) instead of skipping them with a warning.
    pub strict: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            frontend: FrontEnd::default(),
            arch: Architecture::default(),
            oov: OovPolicy::Error,
            augment: None,
            spec_augment: Some(SpecAugment {
                freq_masks: 2,
                freq_width: 8,
                time_masks: 2,
                time_width: 10,
            }),
            max_train: None,
            extra_chars: String::new(),
            strict: false,
        }
    }
}

/// What [`train`] prints before the loop starts.
#[derive(Debug, Clone)]
pub struct TrainSetup {
    pub train_utterances: usize,
    pub valid_utterances: usize,
    pub train_hours: f64,
    pub parameters: i64,
    pub vocab: Vocab,
    pub feature_seconds: f64,
}

/// Trains a model on the training manifests (vocabulary from their
/// transcripts), validating on `valid_manifest`, writing everything to `out`.
pub fn train(
    train_manifests: &[&Path],
    valid_manifest: Option<&Path>,
    out: &Path,
    opts: &TrainOptions,
    config: TrainConfig,
    device: Device,
    mut announce: impl FnMut(&TrainSetup),
) -> Result<FitReport> {
    // Before any work: never train into another application's model.
    ModelDir::new(out).refuse_other_kind(crate::model::MODEL_KIND)?;
    let mut train_utts = Vec::new();
    // Where each utterance comes from (manifest, line), for messages.
    let mut train_origins = Vec::new();
    for m in train_manifests {
        let utts = read_manifest(m)?;
        train_origins.extend(record_lines(m, utts.len())?.into_iter().map(|l| (*m, l)));
        train_utts.extend(utts);
    }
    if let Some(n) = opts.max_train {
        train_utts.truncate(n);
        train_origins.truncate(n);
    }
    if let Some(aug) = &opts.augment {
        aug.validate()?;
    }
    let vocab = Vocab::new(
        Vocab::from_texts(train_utts.iter().map(|u| u.text.as_str()))
            .labels()
            .iter()
            .copied()
            .chain(opts.extra_chars.chars()),
    );
    let (valid_utts, valid_origins) = match valid_manifest {
        Some(p) => {
            let v = read_manifest(p)?;
            check_transcripts(p, &v, &vocab, opts.oov)?;
            let lines = record_lines(p, v.len())?;
            (v, lines.into_iter().map(|l| (p, l)).collect())
        }
        None => (Vec::new(), Vec::new()),
    };
    let started = std::time::Instant::now();
    // Copies are appended whole, so copy k of utterance i sits at index
    // k * n + i and draws its own augmentations from that index.
    let copies = opts.augment.as_ref().map_or(1, |a| a.copies.max(1));
    let augmented_utts: Vec<Utterance> = (0..copies)
        .flat_map(|_| train_utts.iter().cloned())
        .collect();
    let train_ex = build_examples(
        &augmented_utts,
        &opts.frontend,
        &vocab,
        opts.oov,
        opts.augment.as_ref().map(|a| (a, config.seed)),
    )?;
    let valid_ex = build_examples(&valid_utts, &opts.frontend, &vocab, opts.oov, None)?;
    let stack = opts.arch.stack.max(1) as usize;
    let n = train_utts.len().max(1);
    let train_ex = keep_feasible(train_ex, stack, opts.strict, "training", |i| {
        train_origins[i % n]
    })?;
    let valid_ex = keep_feasible(valid_ex, stack, opts.strict, "validation", |i| {
        valid_origins[i]
    })?;
    if train_ex.is_empty() {
        return Err(AsrError::Config(
            "no training utterance is left: CTC can align none of the transcripts with its audio"
                .into(),
        ));
    }
    let feature_seconds = started.elapsed().as_secs_f64();
    // Initial weights come from the seed too, so one seed gives one model.
    tch::manual_seed(config.seed as i64);
    let model = AsrModel::new(
        AsrConfig::new(opts.frontend.clone(), vocab.clone(), &opts.arch),
        device,
    )?;
    let dir = ModelDir::create(out)?;
    model.write_config(&dir)?;
    announce(&TrainSetup {
        train_utterances: train_ex.len(),
        valid_utterances: valid_ex.len(),
        train_hours: train_ex.iter().map(|e| e.frames).sum::<usize>() as f64
            / opts.frontend.frame_rate()
            / 3600.0,
        parameters: model.param_count(),
        vocab,
        feature_seconds,
    });
    let dim = opts.frontend.dim();
    let data = InMemory::new(
        train_ex,
        valid_ex,
        config.batch_size,
        move |items: &[&Example]| collate(items, dim, device),
    )
    .bucket_by(|e: &Example| e.frames);
    let mut data = data;
    let mut task = CtcTask::new(model, opts.spec_augment, config.seed);
    let quiet = config.quiet;
    let mut trainer = Trainer::new(config, Some(dir));
    if quiet {
        trainer = trainer.silent();
    }
    Ok(trainer.fit(&mut task, &mut data)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: a label sequence fits in `t` steps when some path of
    /// `t` symbols (blank 0, labels 1 and 2) collapses to it (merge
    /// repeats, drop blanks).
    fn alignable_by_brute_force(labels: &[i64], t: usize) -> bool {
        (0..3usize.pow(t as u32)).any(|mut code| {
            let mut out = Vec::new();
            let mut prev = None;
            for _ in 0..t {
                let s = (code % 3) as i64;
                code /= 3;
                if s != 0 && prev != Some(s) {
                    out.push(s);
                }
                prev = Some(s);
            }
            out == labels
        })
    }

    /// A batch of one alignable utterance and one that is not (2 encoder
    /// steps for "aa", which needs 3): the infinite loss is counted and
    /// zeroed, and the batch loss is what the native CTC loss with
    /// `Reduction::Mean` and `zero_infinity` gives on the same outputs.
    #[test]
    fn an_infinite_loss_is_counted_and_zeroed_as_zero_infinity_does() {
        let fe = FrontEnd::default();
        let vocab = Vocab::new("ab".chars());
        let arch = Architecture {
            cell: sori_rnn::Cell::Gru,
            layers: 1,
            hidden: 8,
            stack: 3,
            dropout: 0.0,
        };
        tch::manual_seed(3);
        let model = AsrModel::new(
            AsrConfig::new(fe.clone(), vocab.clone(), &arch),
            Device::Cpu,
        )
        .unwrap();
        let dim = fe.dim();
        let mut rng = Rng::new(5);
        let mut example = |text: &str| Example {
            feats: (0..6 * dim).map(|_| rng.uniform() as f32).collect(),
            frames: 6,
            labels: vocab.encode(text, OovPolicy::Error).unwrap(),
            text: text.into(),
        };
        let (ok, bad) = (example("ab"), example("aa"));
        assert!(ctc_feasible(ok.frames, 3, &ok.labels));
        assert!(!ctc_feasible(bad.frames, 3, &bad.labels));
        let batch = collate(&[&ok, &bad], dim, Device::Cpu).unwrap();
        let mut task = CtcTask::new(model, None, 1);
        let (loss, lp, lengths, zeroed) = task.step(&batch, false).unwrap();
        assert_eq!(zeroed, 1);
        let reference = CtcLoss::new(vocab.blank())
            .with_reduction(Reduction::Mean)
            .with_zero_infinity(true)
            .forward(
                &lp.transpose(0, 1),
                &batch.targets,
                &lengths,
                &batch.target_lengths,
            )
            .unwrap();
        let (got, want) = (loss.double_value(&[]), reference.double_value(&[]));
        assert!(got.is_finite() && got > 0.0, "{got}");
        assert!((got - want).abs() <= 1e-6 * want.abs(), "{got} vs {want}");
    }

    #[test]
    fn feasibility_matches_brute_force_over_paths() {
        let mut sequences: Vec<Vec<i64>> = vec![Vec::new()];
        for len in 1..=4 {
            for code in 0..(1 << len) {
                sequences.push((0..len).map(|i| 1 + ((code >> i) & 1) as i64).collect());
            }
        }
        for labels in &sequences {
            for steps in 0..=7 {
                for stack in [1, 3] {
                    // frames that give exactly `steps` encoder steps
                    let frames = steps * stack;
                    assert_eq!(
                        ctc_feasible(frames, stack, labels),
                        alignable_by_brute_force(labels, steps),
                        "{labels:?} in {steps} steps"
                    );
                }
            }
        }
        // The stacked length rounds up: 7 frames in stacks of 3 are 3 steps.
        assert!(ctc_feasible(7, 3, &[1, 2, 1]));
        assert!(!ctc_feasible(6, 3, &[1, 2, 1]));
    }
}
