//! `asr synth` and `asr fsdd`: corpus building commands (parsing and
//! printing; the work is in `sori_asr::synth` and `sori_asr::fsdd`).
use anyhow::Result;
use clap::Args;
use sori_asr::synth::{synthesize, SynthConfig, SPLITS};
use std::io::Write;
use std::path::PathBuf;

/// Synthesize multi-speaker English speech with espeak-ng.
#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Output folder (wav/, train.jsonl, valid.jsonl, test.jsonl, text.txt).
    #[arg(long)]
    out: PathBuf,
    /// Folder with templates.txt and words/*.txt.
    #[arg(long, default_value = "corpora/english")]
    corpus: PathBuf,
    /// Templates file to use instead of CORPUS/templates.txt.
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Training utterances (training voices).
    #[arg(long, default_value_t = 2000)]
    train: usize,
    /// Validation utterances (training voices, other sentences).
    #[arg(long, default_value_t = 200)]
    valid: usize,
    /// Test utterances (held-out voices only).
    #[arg(long, default_value_t = 500)]
    test: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Parallel espeak-ng processes.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
}

pub fn synth(a: SynthArgs) -> Result<()> {
    let mut cfg = SynthConfig::new(a.corpus, a.out.clone(), a.train, a.valid, a.test);
    cfg.seed = a.seed;
    cfg.jobs = a.jobs;
    cfg.templates = a.templates;
    let start = std::time::Instant::now();
    let summary = synthesize(&cfg, |done, total| {
        if done % 100 == 0 || done == total {
            eprint!("\rsynth: {done}/{total} utterances");
            let _ = std::io::stderr().flush();
        }
    })?;
    eprintln!();
    for (i, split) in SPLITS.iter().enumerate() {
        println!(
            "{}: {} utterances, {:.1} min",
            a.out.join(format!("{split}.jsonl")).display(),
            summary.utterances[i],
            summary.seconds[i] / 60.0
        );
    }
    println!("took {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// Build leave-one-speaker-out manifests for the Free Spoken Digit Dataset.
#[derive(Args, Debug)]
pub struct FsddArgs {
    /// Folder of {digit}_{speaker}_{index}.wav files.
    #[arg(long)]
    recordings: PathBuf,
    /// Output folder: one subfolder per held-out speaker.
    #[arg(long)]
    out: PathBuf,
}

pub fn fsdd(a: FsddArgs) -> Result<()> {
    let speakers = sori_asr::fsdd::write_loso(&a.recordings, &a.out)?;
    for s in speakers {
        println!("{}", a.out.join(&s).display());
    }
    Ok(())
}
