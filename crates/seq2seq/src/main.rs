//! The `seq2seq` command: argument parsing and printing only; the work lives
//! in the `sori_seq2seq` library.
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::{Parser, Subcommand, ValueEnum};
use sori_rnn::{AttentionKind, Cell, MAX_LAYERS, MAX_SIZE};
use sori_seq2seq::data::{drop_empty, held_out_split, read_multi30k, read_parallel, read_tsv};
use sori_seq2seq::data::{read_line_limited, LineError};
use sori_seq2seq::model::MAX_VOCAB;
use sori_seq2seq::{
    evaluate, train, DecodeOptions, ModelConfig, Multi30kSplit, Pair, TrainOptions, Translator,
};
use sori_train::{HelpDefaults, OptimizerKind, OptimizerSpec, TrainArgs, TrainConfig};
use tch::Device;

/// Attention encoder-decoder translation (bidirectional GRU/LSTM encoder,
/// Bahdanau or Luong attention, BPE sub-words).
#[derive(Parser, Debug)]
#[command(name = "seq2seq", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Dataset {
    /// Multi30k (`{train,val,test_2016_flickr}.{lang}.gz` in --corpus-dir).
    Multi30k,
    /// Tatoeba/Anki TSV (`source<TAB>target<TAB>attribution`) in --tatoeba-file.
    Tatoeba,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a translator and write it to --out.
    #[command(
        mut_args(HelpDefaults::new(&train_defaults()).into_fn()),
        after_help = "Examples:\n  \
seq2seq train --data multi30k --corpus-dir corpora/multi30k --src de --tgt en --out models/de-en\n  \
seq2seq train --src-file train.de --tgt-file train.en --out models/de-en --epochs 20"
    )]
    Train(Box<TrainCmd>),
    /// Translate TEXT, or stdin line by line to stdout.
    #[command(after_help = "Examples:\n  \
seq2seq translate \"Ein Mann fährt Fahrrad.\" --model models/de-en\n  \
seq2seq translate --model models/de-en < sentences.de > sentences.en")]
    Translate {
        /// The sentence; without it, lines from stdin (empty lines stay empty).
        text: Option<String>,
        /// Model directory written by `seq2seq train`.
        #[arg(long)]
        model: PathBuf,
        /// Beam width (1 = greedy; at most 1024).
        #[arg(long, default_value_t = 5, value_parser = sori_train::beam_width)]
        beam: usize,
        /// Length-normalisation exponent (GNMT length penalty).
        #[arg(long, default_value_t = 0.6, value_parser = sori_train::finite_f64)]
        alpha: f64,
        /// Draw the attention matrix of TEXT as a PNG heat map.
        #[arg(long, value_name = "PNG")]
        attention: Option<PathBuf>,
        /// Intra-op CPU threads for libtorch (0: libtorch's default, one per
        /// core; more than the cores are capped to them with a note; at most 65536).
        #[arg(long, default_value_t = 0, value_parser = sori_train::threads)]
        threads: usize,
    },
    /// Translate --src-file and score against --ref: BLEU (sacreBLEU
    /// defaults), lowercased BLEU, chrF.
    #[command(after_help = "Examples:\n  \
seq2seq eval --model models/de-en --src-file test.de --ref test.en\n  \
seq2seq eval --model models/de-en --src-file test.de --ref test.en --beam 1 --output test.hyp")]
    Eval {
        /// Model directory written by `seq2seq train`.
        #[arg(long)]
        model: PathBuf,
        /// Source sentences, one per line (plain or .gz).
        // `--src` is a language in `train`; the old spelling still works.
        #[arg(long, alias = "src")]
        src_file: PathBuf,
        /// Reference translations, line-aligned with --src-file.
        #[arg(long = "ref", value_name = "REF")]
        reference: PathBuf,
        /// Beam width (1 = greedy; at most 1024).
        #[arg(long, default_value_t = 5, value_parser = sori_train::beam_width)]
        beam: usize,
        /// Length-normalisation exponent (GNMT length penalty).
        #[arg(long, default_value_t = 0.6, value_parser = sori_train::finite_f64)]
        alpha: f64,
        /// Also write the translations here.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Intra-op CPU threads for libtorch (0: libtorch's default, one per
        /// core; more than the cores are capped to them with a note; at most 65536).
        #[arg(long, default_value_t = 0, value_parser = sori_train::threads)]
        threads: usize,
    },
    /// Score a translation file against references (no model).
    #[command(after_help = "Examples:\n  \
seq2seq score --hyp test.hyp --ref test.en")]
    Score {
        /// Translations to score, one per line.
        #[arg(long)]
        hyp: PathBuf,
        /// Reference translations, line-aligned with --hyp.
        #[arg(long = "ref", value_name = "REF")]
        reference: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct TrainCmd {
    /// Model directory to write.
    #[arg(long)]
    out: PathBuf,
    /// A known corpus instead of --src-file/--tgt-file or --tsv.
    #[arg(long, value_enum)]
    data: Option<Dataset>,
    /// Multi30k directory.
    #[arg(long, default_value = "corpora/multi30k")]
    corpus_dir: PathBuf,
    /// Multi30k source language.
    #[arg(long, default_value = "de")]
    src: String,
    /// Multi30k target language.
    #[arg(long, default_value = "en")]
    tgt: String,
    /// Tatoeba TSV file (English first).
    #[arg(long)]
    tatoeba_file: Option<PathBuf>,
    /// Source sentences, one per line (plain or .gz).
    #[arg(long)]
    src_file: Option<PathBuf>,
    /// Target sentences, line-aligned with --src-file.
    #[arg(long)]
    tgt_file: Option<PathBuf>,
    /// A TSV with source and target in its first two columns.
    #[arg(long)]
    tsv: Option<PathBuf>,
    /// Swap the two TSV columns (e.g. Korean -> English on Tatoeba).
    #[arg(long)]
    reverse: bool,
    /// Fraction held out as a test set (Tatoeba, --tsv, --src-file), seeded.
    #[arg(long, default_value_t = 0.1, value_parser = sori_train::finite_f64)]
    test_fraction: f64,
    /// Fraction of the rest used for validation (when no validation split exists).
    #[arg(long, default_value_t = 0.05, value_parser = sori_train::finite_f64)]
    val_fraction: f64,
    /// Use only the first N training pairs (all unless given).
    #[arg(long)]
    limit: Option<usize>,
    /// BPE vocabulary size of each side (at most 1048576).
    #[arg(long, default_value_t = 8000, value_parser = sori_train::usize_in(1, MAX_VOCAB as usize))]
    vocab_size: usize,
    /// Embedding size (source and target; 1 to 16384).
    #[arg(long, default_value_t = 256, value_parser = sori_train::i64_in(1, MAX_SIZE))]
    emb: i64,
    /// Encoder units per direction (1 to 16384).
    #[arg(long, default_value_t = 256, value_parser = sori_train::i64_in(1, MAX_SIZE))]
    hidden: i64,
    /// Encoder layers (each bidirectional; 1 to 64).
    #[arg(long, default_value_t = 1, value_parser = sori_train::i64_in(1, MAX_LAYERS))]
    layers: i64,
    /// Decoder units (1 to 16384).
    #[arg(long, default_value_t = 256, value_parser = sori_train::i64_in(1, MAX_SIZE))]
    dec_hidden: i64,
    /// gru or lstm.
    #[arg(long, default_value = "gru")]
    cell: String,
    /// bahdanau, luong (general) or dot.
    #[arg(long, default_value = "bahdanau")]
    attention: String,
    /// Attention size (Bahdanau's hidden layer; 1 to 16384).
    #[arg(long, default_value_t = 256, value_parser = sori_train::i64_in(1, MAX_SIZE))]
    attn_dim: i64,
    /// Dropout on embeddings and before the output layer.
    #[arg(long, default_value_t = 0.3, value_parser = sori_train::finite_f64)]
    dropout: f64,
    /// Separate output layer instead of the tied target embedding.
    #[arg(long)]
    no_tie: bool,
    /// Label smoothing of the cross-entropy, in [0, 1).
    #[arg(long, default_value_t = 0.1, value_parser = sori_train::finite_f64)]
    label_smoothing: f64,
    /// Skip training pairs longer than this many pieces.
    #[arg(long, default_value_t = 64)]
    max_train_len: usize,
    /// Print N validation translations after each epoch.
    #[arg(long, default_value_t = 2)]
    samples: usize,
    /// Beam width for the final test-set score (at most 1024).
    #[arg(long, default_value_t = 5, value_parser = sori_train::beam_width)]
    beam: usize,
    #[command(flatten)]
    train: TrainArgs,
}

/// The training settings the shared options override.
fn train_defaults() -> TrainConfig {
    TrainConfig {
        epochs: 10,
        batch_size: 64,
        optimizer: OptimizerSpec::new(OptimizerKind::Adam, 1e-3),
        clip_grad_norm: Some(1.0),
        ..TrainConfig::default()
    }
}

fn limit(mut v: Vec<Pair>, n: Option<usize>) -> Vec<Pair> {
    if let Some(n) = n {
        v.truncate(n);
    }
    v
}

/// (train, validation, test, source language, target language)
type Splits = (Vec<Pair>, Vec<Pair>, Vec<Pair>, String, String);

fn load_splits(c: &TrainCmd) -> Result<Splits> {
    let seed = c.train.seed;
    let split3 = |all: Vec<Pair>| -> Result<(Vec<Pair>, Vec<Pair>, Vec<Pair>)> {
        let (rest, test) = held_out_split(all, c.test_fraction, seed)?;
        let (train, val) = held_out_split(rest, c.val_fraction, seed.wrapping_add(1))?;
        Ok((train, val, test))
    };
    match c.data {
        Some(Dataset::Multi30k) => {
            let d = &c.corpus_dir;
            let train = read_multi30k(d, Multi30kSplit::Train, &c.src, &c.tgt)?;
            let val = read_multi30k(d, Multi30kSplit::Val, &c.src, &c.tgt)?;
            let test = read_multi30k(d, Multi30kSplit::Test2016, &c.src, &c.tgt)?;
            Ok((
                limit(train, c.limit),
                val,
                test,
                c.src.clone(),
                c.tgt.clone(),
            ))
        }
        Some(Dataset::Tatoeba) => {
            let Some(f) = &c.tatoeba_file else {
                bail!(
                    "--data tatoeba needs --tatoeba-file FILE (e.g. kor.txt from the Anki export)"
                );
            };
            let all = read_tsv(f, c.reverse)?;
            if all.is_empty() {
                bail!("{}: no sentence pairs (empty file?)", f.display());
            }
            let (tr, va, te) = split3(all)?;
            let (s, t) = if c.reverse {
                ("tgt", "src")
            } else {
                ("src", "tgt")
            };
            let (s, t) = guess_langs(f, s, t);
            Ok((limit(tr, c.limit), va, te, s, t))
        }
        None => {
            let (all, files) = match (&c.src_file, &c.tgt_file, &c.tsv) {
                (Some(s), Some(t), None) => (
                    read_parallel(s, t)?,
                    format!("{} and {}", s.display(), t.display()),
                ),
                (None, None, Some(f)) => (read_tsv(f, c.reverse)?, f.display().to_string()),
                _ => bail!("give --data multi30k|tatoeba, or --src-file and --tgt-file, or --tsv"),
            };
            if all.is_empty() {
                bail!("{files}: no sentence pairs (empty files?)");
            }
            let (tr, va, te) = split3(all)?;
            Ok((limit(tr, c.limit), va, te, "src".into(), "tgt".into()))
        }
    }
}

/// Tatoeba's Anki files are `<lang3>.txt` with English first.
fn guess_langs(f: &Path, s: &str, t: &str) -> (String, String) {
    let stem = f
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    if stem.len() == 3 {
        if s == "src" {
            ("eng".into(), stem)
        } else {
            (stem, "eng".into())
        }
    } else {
        (s.into(), t.into())
    }
}

fn write_lines(path: &Path, lines: &[String]) -> Result<()> {
    let mut text = lines.join("\n");
    text.push('\n');
    // Atomically: a failure never leaves a half-written file.
    sori_train::atomic_write(path, text.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn run_train(c: TrainCmd) -> Result<()> {
    if c.train.validation_split.is_some() {
        bail!("--validation-split: seq2seq train holds out --val-fraction (or uses the corpus's validation split)");
    }
    let device = c.train.setup()?;
    let cell: Cell = c.cell.parse()?;
    if !matches!(cell, Cell::Gru | Cell::Lstm) {
        bail!("--cell must be gru or lstm, got {}", c.cell);
    }
    let attention: AttentionKind = c.attention.parse()?;
    let config = c.train.apply(train_defaults())?;
    let (mut tr, val, test, src_lang, tgt_lang) = load_splits(&c)?;
    drop_empty(&mut tr);
    let mut model = ModelConfig::new(0, 0);
    model.emb_dim = c.emb;
    model.enc_hidden = c.hidden;
    model.enc_layers = c.layers;
    model.dec_hidden = c.dec_hidden;
    model.cell = cell;
    model.attention = attention;
    model.attn_dim = c.attn_dim;
    model.dropout = c.dropout;
    model.tie_embeddings = !c.no_tie;
    let opts = TrainOptions {
        model,
        src_vocab_size: c.vocab_size,
        tgt_vocab_size: c.vocab_size,
        label_smoothing: c.label_smoothing,
        max_train_len: c.max_train_len,
        max_len: 128,
        src_lang,
        tgt_lang,
        show_samples: c.samples,
        silent: false,
    };
    // After the options and the data are checked, before any training work.
    c.train
        .prepare_out_dir(&c.out, sori_seq2seq::translator::KIND)?;
    let started = std::time::Instant::now();
    let (translator, report) = train(tr, val, &opts, config, Some(&c.out), device)?;
    let best = match report.best_value {
        Some(v) if report.monitor.ends_with("bleu") || report.monitor.ends_with("chrf") => {
            format!("{v:.2}")
        }
        Some(v) => format!("{v:.4}"),
        None => "n/a".into(),
    };
    println!(
        "trained in {:.0} s; best {} = {best} at epoch {}; model in {}",
        started.elapsed().as_secs_f64(),
        report.monitor,
        report.best_epoch,
        c.out.display()
    );
    if !test.is_empty() {
        let src: Vec<String> = test.iter().map(|p| p.src.clone()).collect();
        let refs: Vec<String> = test.iter().map(|p| p.tgt.clone()).collect();
        write_lines(&c.out.join("test.src"), &src)?;
        write_lines(&c.out.join("test.ref"), &refs)?;
        let t0 = std::time::Instant::now();
        let opts = DecodeOptions {
            beam: c.beam,
            alpha: 0.6,
        };
        let hyps = translator.translate_lines(&src, &opts)?;
        write_lines(&c.out.join("test.hyp"), &hyps)?;
        let rep = evaluate(&hyps, &refs)?;
        let text = format!(
            "test set ({} sentences, beam {}, {:.0} s):\n{rep}\n",
            src.len(),
            c.beam,
            t0.elapsed().as_secs_f64()
        );
        sori_train::atomic_write(&c.out.join("test_scores.txt"), text.as_bytes())?;
        println!("{text}");
    }
    Ok(())
}

fn main() {
    // Before any thread exists, so every worker inherits it (sori_train::cpu).
    sori_train::configure_process();
    if let Err(e) = run() {
        // Library errors already name the file and the cause on one line.
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let cli: Cli = sori_train::parse_args(sori_train::build_info!());
    match cli.command {
        Command::Train(c) => run_train(*c),
        Command::Translate {
            text,
            model,
            beam,
            alpha,
            attention,
            threads,
        } => {
            sori_train::set_threads(threads);
            let t = Translator::load(&model, Device::Cpu)?;
            let opts = DecodeOptions { beam, alpha };
            match text {
                Some(text) => {
                    let out = if attention.is_some() {
                        t.translate_with_attention(&text, &opts)?
                    } else {
                        t.translate(&text, &opts)?
                    };
                    println!("{}", out.text);
                    if let Some(png) = attention {
                        sori_seq2seq::plot::attention_png(
                            &png,
                            &out.src_pieces,
                            &out.tgt_pieces,
                            &out.attention,
                        )?;
                        eprintln!("attention written to {}", png.display());
                    }
                }
                None => {
                    if attention.is_some() {
                        bail!("--attention needs a TEXT argument");
                    }
                    let mut stdin = std::io::stdin().lock();
                    let mut stdout = std::io::stdout().lock();
                    let mut number = 0;
                    loop {
                        number += 1;
                        let line = match read_line_limited(&mut stdin) {
                            Ok(Some(line)) => line,
                            Ok(None) => break,
                            Err(LineError::Io(e)) => bail!("stdin: {e}"),
                            Err(e) => bail!("stdin: line {number}: {e}"),
                        };
                        let out = t.translate(&line, &opts)?;
                        writeln!(stdout, "{}", out.text)?;
                        stdout.flush()?;
                    }
                }
            }
            Ok(())
        }
        Command::Eval {
            model,
            src_file,
            reference,
            beam,
            alpha,
            output,
            threads,
        } => {
            sori_train::set_threads(threads);
            let t = Translator::load(&model, Device::Cpu)?;
            let pairs = read_parallel(&src_file, &reference)?;
            let srcs: Vec<&str> = pairs.iter().map(|p| p.src.as_str()).collect();
            let refs: Vec<&str> = pairs.iter().map(|p| p.tgt.as_str()).collect();
            let hyps = t.translate_lines(&srcs, &DecodeOptions { beam, alpha })?;
            if let Some(o) = output {
                write_lines(&o, &hyps)?;
            }
            println!("{}", evaluate(&hyps, &refs)?);
            Ok(())
        }
        Command::Score { hyp, reference } => {
            let pairs = read_parallel(&hyp, &reference)?;
            let hyps: Vec<&str> = pairs.iter().map(|p| p.src.as_str()).collect();
            let refs: Vec<&str> = pairs.iter().map(|p| p.tgt.as_str()).collect();
            println!("{}", evaluate(&hyps, &refs)?);
            Ok(())
        }
    }
}
