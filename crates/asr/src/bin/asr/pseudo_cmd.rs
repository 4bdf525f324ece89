//! `asr pseudo-label`: parsing and printing around `sori_asr::closed::pseudo`.
use anyhow::{bail, Result};
use clap::Args;
use sori_asr::closed::pseudo::{pseudo_label, select};
use sori_asr::closed::transduce::Transduction;
use sori_asr::recognize::Recognizer;
use sori_asr::write_manifest;
use std::path::PathBuf;

/// Label unlabelled recordings with a model's confident closed-vocabulary answers.
#[derive(Args, Debug)]
pub struct PseudoLabelArgs {
    /// WAV files of the new speaker (their transcripts are never read).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Model directory; more with --ensemble.
    #[arg(long)]
    model: PathBuf,
    /// More model directories whose likelihoods are averaged with --model's.
    #[arg(long, value_delimiter = ',')]
    ensemble: Vec<PathBuf>,
    /// The candidate transcripts, comma-separated (e.g. the ten digit words).
    #[arg(long)]
    choices: String,
    /// Fraction of each answer's files to keep, the most confident first.
    #[arg(long, default_value_t = 0.5)]
    keep: f64,
    /// Also drop labels whose posterior is under this.
    #[arg(long, default_value_t = 0.0)]
    min_confidence: f64,
    /// Speaker name written into the manifest.
    #[arg(long)]
    speaker: Option<String>,
    /// Manifest (JSONL) to write.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    together: TogetherArgs,
    /// Intra-op CPU threads for libtorch (0: libtorch's default, one per
    /// core; more than the cores are capped to them with a note; at most 65536).
    #[arg(long, default_value_t = 0, value_parser = sori_train::threads)]
    threads: usize,
}

/// Labelling one speaker's recordings together (`sori_asr::closed::transduce`);
/// shared with `asr eval`.
#[derive(Args, Debug, Clone)]
pub struct TogetherArgs {
    /// Let each recording's answer lean on its N most similar recordings of
    /// the same speaker (DTW over the model's input; label propagation).
    /// 0: each recording alone.
    #[arg(long, default_value_t = 0, requires = "choices")]
    neighbours: usize,
    /// Weight of the neighbours against the model's own answer, in (0, 1).
    #[arg(long, default_value_t = 0.9)]
    neighbour_weight: f64,
    /// The recordings say every candidate about equally often (a word list
    /// read the same number of times per word): share the answers out
    /// evenly. Wrong for other recordings.
    #[arg(long, requires = "choices")]
    balanced: bool,
}

impl TogetherArgs {
    /// The settings, after checking them.
    pub fn transduction(&self) -> Result<Transduction> {
        if !(self.neighbour_weight > 0.0 && self.neighbour_weight < 1.0) {
            bail!(
                "--neighbour-weight must be in (0, 1) (got {})",
                self.neighbour_weight
            );
        }
        Ok(Transduction {
            neighbours: self.neighbours,
            alpha: self.neighbour_weight,
            balanced: self.balanced,
        })
    }
}

pub fn run(a: PseudoLabelArgs) -> Result<bool> {
    if !(0.0..=1.0).contains(&a.keep) || a.keep == 0.0 {
        bail!("--keep must be in (0, 1] (got {})", a.keep);
    }
    let together = a.together.transduction()?;
    sori_train::set_threads(a.threads);
    let mut recs = vec![Recognizer::load(&a.model)?];
    for dir in &a.ensemble {
        recs.push(Recognizer::load(dir)?);
    }
    let candidates: Vec<&str> = a.choices.split(',').collect();
    let sori_asr::closed::pseudo::Labelled { labels, failed } =
        pseudo_label(&mut recs, &a.files, &candidates, &together, |_, _| {})?;
    for (_, e) in &failed {
        eprintln!("error: {e}");
    }
    let kept = select(&labels, a.keep, a.min_confidence, a.speaker.as_deref());
    if kept.is_empty() {
        bail!(
            "no label passed the selection ({} labelled, --keep {}, --min-confidence {}); {} not written",
            labels.len(),
            a.keep,
            a.min_confidence,
            a.out.display()
        );
    }
    write_manifest(&a.out, &kept)?;
    let mean_confidence =
        labels.iter().map(|l| l.confidence).sum::<f64>() / labels.len().max(1) as f64;
    let mut counts: Vec<(String, usize, usize)> = Vec::new();
    for text in candidates
        .iter()
        .map(|c| sori_asr::data::vocab::normalize(c))
    {
        let all = labels.iter().filter(|l| l.text == text).count();
        let k = kept.iter().filter(|u| u.text == text).count();
        counts.push((text, k, all));
    }
    println!(
        "{} of {} files labelled (mean confidence {:.3}), {} kept in {}",
        labels.len(),
        a.files.len(),
        mean_confidence,
        kept.len(),
        a.out.display()
    );
    println!(
        "kept / answered: {}",
        counts
            .iter()
            .map(|(t, k, n)| format!("{t} {k}/{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(failed.is_empty())
}
