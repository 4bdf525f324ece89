//! The `seq2seq` command: argument parsing and printing only; the work lives
//! in the `sori_seq2seq` library.
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand, ValueEnum};
use sori_rnn::{AttentionKind, Cell, MAX_LAYERS, MAX_SIZE};
use sori_seq2seq::data::{read_line_limited, LineError};
use sori_seq2seq::model::MAX_VOCAB;
use sori_seq2seq::score::{evaluate_files, score_files, score_test_set};
use sori_seq2seq::{
    load_splits, train, DecodeOptions, EvalReport, ModelConfig, Source, SplitOptions, TrainOptions,
    Translator,
};
use sori_train::{DeviceArg, HelpDefaults, OptimizerKind, OptimizerSpec, TrainArgs, TrainConfig};

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
    /// Translate each TEXT (one output line each), or stdin line by line
    /// to stdout; empty lines stay empty.
    #[command(after_help = "Examples:\n  \
seq2seq translate \"Ein Mann fährt Fahrrad.\" \"Zwei Hunde spielen im Schnee.\"\n  \
seq2seq translate --model models/de-en < sentences.de > sentences.en")]
    Translate {
        /// Sentences to translate; without them, lines from stdin.
        text: Vec<String>,
        #[command(flatten)]
        model: ModelArgs,
        /// Beam width (1 = greedy; at most 1024).
        #[arg(long, default_value_t = 5, value_parser = sori_train::beam_width)]
        beam: usize,
        /// Length-normalisation exponent (GNMT length penalty).
        #[arg(long, default_value_t = 0.6, value_parser = sori_train::finite_f64)]
        alpha: f64,
        /// Draw the attention matrix of the one TEXT as a PNG heat map
        /// (rows: output pieces, columns: source pieces).
        // `--attention` is the attention kind in `train`; the old spelling
        // of this option still works (hidden).
        #[arg(long, value_name = "PNG", alias = "attention")]
        attention_map: Option<PathBuf>,
    },
    /// Translate --src-file and score against --ref: BLEU (sacreBLEU
    /// defaults), lowercased BLEU, chrF.
    #[command(after_help = "Examples:\n  \
seq2seq eval --src-file test.de --ref test.en\n  \
seq2seq eval --model models/de-en --src-file test.de --ref test.en --beam 1 --output test.hyp --json")]
    Eval {
        #[command(flatten)]
        model: ModelArgs,
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
        /// Print the scores as one JSON object (sentences, bleu {score,
        /// precisions, bp, hyp_len, ref_len}, bleu_lowercase, chrf).
        #[arg(long)]
        json: bool,
    },
    /// Score a translation file against references (no model).
    #[command(after_help = "Examples:\n  \
seq2seq score --hyp test.hyp --ref test.en\n  \
seq2seq score --hyp test.hyp --ref test.en --json")]
    Score {
        /// Translations to score, one per line.
        #[arg(long)]
        hyp: PathBuf,
        /// Reference translations, line-aligned with --hyp.
        #[arg(long = "ref", value_name = "REF")]
        reference: PathBuf,
        /// Print the scores as one JSON object (sentences, bleu {score,
        /// precisions, bp, hyp_len, ref_len}, bleu_lowercase, chrf).
        #[arg(long)]
        json: bool,
    },
}

/// Where a trained model runs: shared by `translate` and `eval`.
#[derive(clap::Args, Debug)]
struct ModelArgs {
    /// Model directory written by `seq2seq train` [default:
    /// $SORI_SEQ2SEQ_MODEL, else the checkout's models/de-en].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// Intra-op CPU threads for libtorch (0: libtorch's default, one per
    /// core; more than the cores are capped to them with a note; at most 65536).
    #[arg(long, default_value_t = 0, value_parser = sori_train::threads)]
    threads: usize,
}

/// The model `translate` and `eval` use without --model (issue 22), and
/// the variable that overrides it.
const DEFAULT_MODEL: &str = "models/de-en";
const DEFAULT_MODEL_VAR: &str = "SORI_SEQ2SEQ_MODEL";

impl ModelArgs {
    /// Applies --threads and --device and loads the model.
    fn load(&self) -> Result<(Translator, PathBuf)> {
        let (dir, device) = sori_train::model_run(
            self.model.as_deref(),
            DEFAULT_MODEL_VAR,
            DEFAULT_MODEL,
            self.device,
            self.threads,
        )?;
        Ok((Translator::load(&dir, device)?, dir))
    }
}

/// Prints a report as text or one JSON object.
fn print_report(rep: &EvalReport, json: bool) {
    if json {
        println!("{}", rep.to_json());
    } else {
        println!("{rep}");
    }
}

/// Warns on stderr when the model knows none of `text`'s pieces.
fn warn_if_unknown(t: &Translator, dir: &std::path::Path, text: &str, at: &str) -> Result<()> {
    if !text.trim().is_empty() && t.known_pieces(text)? == 0 {
        eprintln!(
            "warning: {at}: none of its sub-words is in the model's source vocabulary ({}); its translation says nothing about it",
            dir.join(sori_seq2seq::translator::SRC_TOKENIZER).display()
        );
    }
    Ok(())
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

/// The `--data`/`--src-file`/`--tsv` choice as a [`Source`].
fn source(c: &TrainCmd) -> Result<Source> {
    Ok(match c.data {
        Some(Dataset::Multi30k) => Source::Multi30k {
            dir: c.corpus_dir.clone(),
            src_lang: c.src.clone(),
            tgt_lang: c.tgt.clone(),
        },
        Some(Dataset::Tatoeba) => match &c.tatoeba_file {
            Some(f) => Source::Tatoeba {
                file: f.clone(),
                reverse: c.reverse,
            },
            None => bail!(
                "--data tatoeba needs --tatoeba-file FILE (e.g. kor.txt from the Anki export)"
            ),
        },
        None => match (&c.src_file, &c.tgt_file, &c.tsv) {
            (Some(s), Some(t), None) => Source::Parallel {
                src: s.clone(),
                tgt: t.clone(),
            },
            (None, None, Some(f)) => Source::Tsv {
                file: f.clone(),
                reverse: c.reverse,
            },
            _ => bail!("give --data multi30k|tatoeba, or --src-file and --tgt-file, or --tsv"),
        },
    })
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
    let splits = load_splits(
        &source(&c)?,
        &SplitOptions {
            test_fraction: c.test_fraction,
            val_fraction: c.val_fraction,
            limit: c.limit,
            seed: c.train.seed,
        },
    )?;
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
        src_lang: splits.src_lang,
        tgt_lang: splits.tgt_lang,
        show_samples: c.samples,
        silent: false,
    };
    // After the options and the data are checked, before any training work.
    c.train
        .prepare_out_dir(&c.out, sori_seq2seq::translator::KIND)?;
    let started = std::time::Instant::now();
    let (translator, report) = train(
        splits.train,
        splits.val,
        &opts,
        config,
        Some(&c.out),
        device,
    )?;
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
    if !splits.test.is_empty() {
        println!(
            "{}",
            score_test_set(&translator, &splits.test, c.beam, &c.out)?
        );
    }
    Ok(())
}

fn main() {
    // Before any thread exists, so every worker inherits it (sori_train::cpu).
    sori_train::configure_process();
    if let Err(e) = run() {
        // Library errors already name the file and the cause on one line.
        eprintln!("error: {e}");
        // 130 when Ctrl-C stopped training, else 1.
        sori_train::remove_empty_created_out_dirs();
        std::process::exit(sori_train::trainer::failure_exit_code());
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
            attention_map,
        } => {
            if attention_map.is_some() && text.len() != 1 {
                bail!(
                    "--attention-map needs exactly one TEXT argument (got {})",
                    text.len()
                );
            }
            let (t, dir) = model.load()?;
            let opts = DecodeOptions { beam, alpha };
            if let Some(png) = attention_map {
                let out = t.translate_with_attention(&text[0], &opts)?;
                warn_if_unknown(&t, &dir, &text[0], "TEXT")?;
                // The picture first: a path that cannot be written fails
                // before anything is printed.
                sori_seq2seq::plot::attention_png(
                    &png,
                    &out.src_pieces,
                    &out.tgt_pieces,
                    &out.attention,
                )?;
                println!("{}", out.text);
                eprintln!("attention written to {}", png.display());
                return Ok(());
            }
            if !text.is_empty() {
                for (i, line) in text.iter().enumerate() {
                    warn_if_unknown(&t, &dir, line, &format!("TEXT {}", i + 1))?;
                }
                for out in t.translate_lines(&text, &opts)? {
                    println!("{out}");
                }
                return Ok(());
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
                warn_if_unknown(&t, &dir, &line, &format!("stdin: line {number}"))?;
                let out = t.translate(&line, &opts)?;
                writeln!(stdout, "{}", out.text)?;
                stdout.flush()?;
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
            json,
        } => {
            let (t, _) = model.load()?;
            let opts = DecodeOptions { beam, alpha };
            let rep = evaluate_files(&t, &src_file, &reference, &opts, output.as_deref())?;
            print_report(&rep, json);
            Ok(())
        }
        Command::Score {
            hyp,
            reference,
            json,
        } => {
            print_report(&score_files(&hyp, &reference)?, json);
            Ok(())
        }
    }
}
