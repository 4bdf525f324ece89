//! `asr train`: parsing and printing around `sori_asr::train::train`.
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use sori_asr::frontend::{FeatureKind, FeatureNorm, FrontEnd, SpecAugment};
use sori_asr::train::{train, Augment, TrainOptions};
use sori_asr::{Architecture, OovPolicy};
use sori_rnn::Cell;
use sori_train::{
    DecayKind, HelpDefaults, LrSchedule, OptimizerKind, OptimizerSpec, TrainArgs, TrainConfig,
};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CellArg {
    Lstm,
    Gru,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FeaturesArg {
    Fbank,
    Mfcc,
    /// Whisper's log-mel (sori_features::FeatureConfig::whisper): 16 kHz, 80 bins unless --n-mels.
    Whisper,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NormArg {
    Utterance,
    Speaker,
    None,
}

/// What to do with transcript characters outside the vocabulary.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OovArg {
    /// Refuse (list them).
    Error,
    /// Remove them.
    Drop,
    /// Replace them by a space.
    Space,
}

impl From<OovArg> for OovPolicy {
    fn from(a: OovArg) -> Self {
        match a {
            OovArg::Error => OovPolicy::Error,
            OovArg::Drop => OovPolicy::Drop,
            OovArg::Space => OovPolicy::MapToSpace,
        }
    }
}

/// Train a CTC model from JSONL manifests.
#[derive(Args, Debug)]
pub struct TrainCmd {
    /// Training manifest(s) (JSONL: audio, text, duration, speaker); repeat or separate with commas.
    #[arg(long, required = true, value_delimiter = ',')]
    train: Vec<PathBuf>,
    /// Validation manifest (CER/WER after each epoch pick the best weights;
    /// without it, the training loss does).
    #[arg(long)]
    valid: Option<PathBuf>,
    /// Model directory to write.
    #[arg(long)]
    out: PathBuf,
    /// Recurrent cell.
    #[arg(long, value_enum, default_value_t = CellArg::Gru)]
    cell: CellArg,
    /// Recurrent layers (each bidirectional; 1 to 64).
    #[arg(long, default_value_t = 3, value_parser = sori_train::i64_in(1, sori_rnn::MAX_LAYERS))]
    layers: i64,
    /// Units per direction (1 to 16384; the whole model at most 2^30 parameters).
    #[arg(long, default_value_t = 160, value_parser = sori_train::i64_in(1, sori_rnn::MAX_SIZE))]
    hidden: i64,
    /// Feature frames stacked per encoder step (1 to 64).
    #[arg(long, default_value_t = 3, value_parser = sori_train::i64_in(1, sori_rnn::MAX_SUBSAMPLE))]
    stack: i64,
    /// Dropout between recurrent layers.
    #[arg(long, default_value_t = 0.1, value_parser = sori_train::finite_f64)]
    dropout: f64,
    /// Features.
    #[arg(long, value_enum, default_value_t = FeaturesArg::Fbank)]
    features: FeaturesArg,
    /// Sample rate of the features (audio is resampled); 8000 for telephone-band data like FSDD.
    #[arg(long, default_value_t = 16000)]
    sample_rate: u32,
    /// Feature normalisation: mean and variance per utterance, per speaker
    /// (the manifests' "speaker"; recognition fits the new speaker's
    /// statistics on their recordings), or none.
    #[arg(long, value_enum, default_value_t = NormArg::Utterance)]
    norm: NormArg,
    /// Mel filters (1 to 1024) [default: 40; whisper: 80].
    #[arg(long, value_parser = sori_train::usize_in(1, sori_features::MAX_MELS))]
    n_mels: Option<usize>,
    /// Speed perturbation: comma-separated factors, one drawn per utterance ("1" turns it off).
    #[arg(long, value_delimiter = ',', default_value = "0.9,1,1.1", value_parser = sori_train::finite_f64)]
    speed: Vec<f64>,
    /// Probability of adding white noise to an utterance (0 to 1).
    #[arg(long, default_value_t = 0.0, value_parser = sori_train::probability)]
    noise_prob: f64,
    /// SNR range of the added noise in dB, "low,high".
    #[arg(long, value_delimiter = ',', default_value = "10,30", value_parser = sori_train::finite_f64)]
    snr: Vec<f64>,
    /// Vocal tract length perturbation: filterbank warp range "low,high"
    /// (e.g. 0.85,1.15), one draw per utterance; off unless given.
    #[arg(long, value_delimiter = ',', value_parser = sori_train::finite_f64)]
    vtlp: Vec<f64>,
    /// Silence padding "prob,seconds": with this probability, 0 to SECONDS of
    /// silence before and after the speech (e.g. 0.5,2); off unless given.
    #[arg(long, value_delimiter = ',', value_parser = sori_train::finite_f64)]
    pad: Vec<f64>,
    /// Background noise "prob,low,high": with this probability, white or pink
    /// noise at an SNR in low..high dB over the whole (padded) signal (e.g.
    /// 0.5,15,40); off unless given.
    #[arg(long, value_delimiter = ',', value_parser = sori_train::finite_f64)]
    background: Vec<f64>,
    /// Each training utterance enters this many times, each copy with its own augmentation draws.
    #[arg(long, default_value_t = 1)]
    copies: usize,
    /// Turn SpecAugment masks off.
    #[arg(long)]
    no_spec_augment: bool,
    /// Use only the first N training utterances (all unless given).
    #[arg(long)]
    max_train: Option<usize>,
    /// Refuse an utterance whose transcript CTC cannot align with its audio
    /// (more labels, plus repeats, than encoder steps) instead of skipping it
    /// with a warning naming its manifest line.
    #[arg(long)]
    strict: bool,
    /// Transcript characters outside the vocabulary of the validation data.
    #[arg(long, value_enum, default_value_t = OovArg::Error)]
    oov: OovArg,
    #[command(flatten)]
    common: TrainArgs,
}

/// The English recipe of crates/asr/README.md (3 x BiGRU-160, 14 epochs),
/// which the shared training options override.
pub fn defaults() -> TrainConfig {
    TrainConfig {
        epochs: 14,
        batch_size: 16,
        optimizer: OptimizerSpec::new(OptimizerKind::Adam, 3e-3),
        schedule: LrSchedule {
            decay: DecayKind::Cosine,
            warmup_steps: 300,
            ..LrSchedule::default()
        },
        clip_grad_norm: Some(5.0),
        monitor: Some("val_cer".into()),
        plot_metric: Some("val_cer".into()),
        ..TrainConfig::default()
    }
}

/// [`defaults`] in `asr train --help` (validation is the --valid manifest).
pub fn help_defaults() -> HelpDefaults {
    HelpDefaults::new(&defaults())
}

pub fn run(a: TrainCmd) -> Result<()> {
    if a.common.validation_split.is_some() {
        bail!("--validation-split: asr train validates on the --valid manifest");
    }
    let device = a.common.setup()?;
    if a.snr.len() != 2 || a.snr[0] > a.snr[1] {
        bail!("--snr needs two values low,high (got {:?})", a.snr);
    }
    let vtlp = match a.vtlp[..] {
        [] => None,
        [lo, hi] => Some((lo, hi)),
        _ => bail!("--vtlp needs two values low,high (got {:?})", a.vtlp),
    };
    let mut config = a.common.apply(defaults())?;
    if a.valid.is_none() {
        config.monitor = Some("loss".into());
        config.plot_metric = None;
    }
    let pad = match a.pad[..] {
        [] => None,
        [p, secs] => Some((p, secs)),
        _ => bail!("--pad needs two values prob,seconds (got {:?})", a.pad),
    };
    let background = match a.background[..] {
        [] => None,
        [p, lo, hi] => Some((p, (lo, hi))),
        _ => bail!(
            "--background needs three values prob,low,high (got {:?})",
            a.background
        ),
    };
    if matches!(a.features, FeaturesArg::Whisper) && a.sample_rate != 16000 {
        bail!(
            "--features whisper computes at 16000 Hz, Whisper's rate (audio is resampled to it); --sample-rate {} does not apply",
            a.sample_rate
        );
    }
    let opts = TrainOptions {
        frontend: FrontEnd {
            sample_rate: a.sample_rate,
            kind: match a.features {
                FeaturesArg::Fbank => FeatureKind::Fbank,
                FeaturesArg::Mfcc => FeatureKind::Mfcc,
                FeaturesArg::Whisper => FeatureKind::Whisper,
            },
            n_mels: a.n_mels.unwrap_or(match a.features {
                FeaturesArg::Whisper => 80,
                _ => 40,
            }),
            norm: match a.norm {
                NormArg::Utterance => FeatureNorm::Utterance,
                NormArg::Speaker => FeatureNorm::Speaker,
                NormArg::None => FeatureNorm::None,
            },
            ..FrontEnd::default()
        },
        arch: Architecture {
            cell: match a.cell {
                CellArg::Lstm => Cell::Lstm,
                CellArg::Gru => Cell::Gru,
            },
            layers: a.layers,
            hidden: a.hidden,
            stack: a.stack,
            dropout: a.dropout,
        },
        oov: a.oov.into(),
        augment: Some(Augment {
            speeds: a.speed.clone(),
            noise_prob: a.noise_prob,
            noise_snr: (a.snr[0], a.snr[1]),
            vtlp,
            pad,
            background,
            copies: a.copies,
        })
        .filter(|aug| aug.is_active() || aug.copies != 1),
        spec_augment: (!a.no_spec_augment).then_some(SpecAugment {
            freq_masks: 2,
            freq_width: 8,
            time_masks: 2,
            time_width: 10,
        }),
        max_train: a.max_train,
        extra_chars: String::new(),
        strict: a.strict,
    };
    // The model's sizes (and the parameters they imply) before any work,
    // with a placeholder vocabulary of every ASCII letter (the real one comes
    // from the data).
    sori_asr::model::AsrConfig::new(
        opts.frontend.clone(),
        sori_asr::Vocab::new('a'..='z'),
        &opts.arch,
    )
    .validate()?;
    // After the options are checked, before any work.
    a.common.prepare_out_dir(&a.out, sori_asr::MODEL_KIND)?;
    let start = std::time::Instant::now();
    let manifests: Vec<&std::path::Path> = a.train.iter().map(|p| p.as_path()).collect();
    let report = train(
        &manifests,
        a.valid.as_deref(),
        &a.out,
        &opts,
        config,
        device,
        |s| {
            eprintln!(
            "train: {} utterances ({:.2} h), valid: {}, features in {:.1} s; {} parameters; vocabulary {:?}",
            s.train_utterances,
            s.train_hours,
            s.valid_utterances,
            s.feature_seconds,
            s.parameters,
            s.vocab.labels().iter().collect::<String>()
        );
        },
    )?;
    println!(
        "best {} = {:.4} at epoch {} ({} epochs, {:.1} min); model in {}",
        report.monitor,
        report.best_value.unwrap_or(f64::NAN),
        report.best_epoch,
        report.history.len(),
        start.elapsed().as_secs_f64() / 60.0,
        a.out.display()
    );
    Ok(())
}
