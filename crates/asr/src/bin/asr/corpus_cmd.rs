//! `asr synth` and `asr fsdd`: corpus building commands (parsing and
//! printing; the work is in `sori_asr::corpus::synth` and `sori_asr::corpus::fsdd`).
use anyhow::Result;
use clap::Args;
use sori_asr::corpus::open::{build_open_corpus, OpenConfig, OPEN_SPLITS};
use sori_asr::corpus::synth::{synthesize, SynthConfig, SPLITS};
use std::io::Write;
use std::path::PathBuf;

/// Synthesize multi-speaker English speech: template sentences with
/// espeak-ng, or (with --text) open text with espeak-ng and flite.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  asr synth --out corpora/speech/en --train 8000 --valid 300 --test 600\n  \
asr synth --out corpora/speech/open --text multi30k.txt,imdb.txt --test-text tatoeba.txt --train 16000"
)]
pub struct SynthArgs {
    /// Output folder (wav/, train.jsonl, valid.jsonl, test.jsonl, text.txt;
    /// with --text also test_b.jsonl).
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
    /// Parallel synthesizer processes.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Open-text mode: training text files (one document per line: split
    /// into sentences, normalised); comma-separated, an equal share each.
    #[arg(long, value_delimiter = ',')]
    text: Vec<PathBuf>,
    /// Open-text mode: the held-out text file the test sentences come from
    /// (kept out of training).
    #[arg(long, requires = "text")]
    test_text: Option<PathBuf>,
    /// Open-text mode: share of training utterances from CORPUS's templates
    /// (numbers, digit strings, years).
    #[arg(long, default_value_t = 0.15, requires = "text")]
    template_share: f64,
    /// Open-text mode: share of utterances spoken by flite (else espeak-ng).
    #[arg(long, default_value_t = 0.3, requires = "text")]
    flite_share: f64,
}

fn show_progress(done: usize, total: usize) {
    if done.is_multiple_of(100) || done == total {
        eprint!("\rsynth: {done}/{total} utterances");
        let _ = std::io::stderr().flush();
    }
}

fn open_synth(a: SynthArgs) -> Result<()> {
    let Some(test_text) = a.test_text else {
        anyhow::bail!("--text needs --test-text (the held-out source of the test sentences)");
    };
    let mut cfg = OpenConfig::new(a.text, test_text, a.out.clone());
    cfg.train = a.train;
    cfg.valid = a.valid;
    cfg.test = a.test;
    cfg.seed = a.seed;
    cfg.jobs = a.jobs;
    cfg.templates = Some(a.corpus);
    cfg.template_share = a.template_share;
    cfg.flite_share = a.flite_share;
    let start = std::time::Instant::now();
    let summary = build_open_corpus(&cfg, show_progress)?;
    eprintln!();
    for (p, n) in &summary.pool_sizes {
        println!("{}: {n} training sentences", p.display());
    }
    println!(
        "{}: {} held-out sentences",
        cfg.test_text.display(),
        summary.test_pool
    );
    if summary.reused > 0 {
        println!("{} files were already rendered (resumed)", summary.reused);
    }
    print_splits(
        &a.out,
        &OPEN_SPLITS,
        &summary.utterances,
        &summary.seconds,
        start,
    );
    Ok(())
}

pub fn synth(a: SynthArgs) -> Result<()> {
    if !a.text.is_empty() {
        return open_synth(a);
    }
    let mut cfg = SynthConfig::new(a.corpus, a.out.clone(), a.train, a.valid, a.test);
    cfg.seed = a.seed;
    cfg.jobs = a.jobs;
    cfg.templates = a.templates;
    let start = std::time::Instant::now();
    let summary = synthesize(&cfg, show_progress)?;
    eprintln!();
    print_splits(
        &a.out,
        &SPLITS,
        &summary.utterances,
        &summary.seconds,
        start,
    );
    Ok(())
}

/// One line per written manifest (utterances, minutes of audio), then the time.
fn print_splits(
    out: &std::path::Path,
    splits: &[&str],
    utterances: &[usize],
    seconds: &[f64],
    start: std::time::Instant,
) {
    for (i, split) in splits.iter().enumerate() {
        println!(
            "{}: {} utterances, {:.1} min",
            out.join(format!("{split}.jsonl")).display(),
            utterances[i],
            seconds[i] / 60.0
        );
    }
    println!("took {:.1} s", start.elapsed().as_secs_f64());
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
    let speakers = sori_asr::corpus::fsdd::write_loso(&a.recordings, &a.out)?;
    for s in speakers {
        println!("{}", a.out.join(&s).display());
    }
    Ok(())
}
