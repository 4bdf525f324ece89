//! The `imdb` command: argument parsing and printing only; the work lives in
//! the `sori_imdb` library.
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use sori_imdb::classifier::{read_review_lines, Classifier};
use sori_imdb::data::{self, Subset};
use sori_imdb::model::{summary_note, Arch, ModelConfig, SentimentNet, MAX_MAXLEN, MAX_NUM_WORDS};
use sori_imdb::train::{default_train_config, train, DEFAULT_VALIDATION_SPLIT};
use sori_train::{DeviceArg, HelpDefaults, TrainArgs, TrainConfig};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{nn, Device};

/// IMDB sentiment classification with embeddings and recurrent networks
/// (the lecture's Embedding, SimpleRNN and LSTM practice sessions, and more).
#[derive(Parser, Debug)]
#[command(name = "imdb", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Architecture overrides shared by `summary` and `train`.
#[derive(clap::Args, Debug, Clone)]
struct ArchArgs {
    /// embedding-flatten, simple-rnn, lstm, gru, bilstm, bigru or best.
    // `--model` names a model directory in `classify` and `eval`; the old
    // spelling of this option still works.
    #[arg(long, alias = "model", default_value = "lstm")]
    arch: Arch,
    #[arg(long, value_parser = sori_train::i64_in(5, MAX_NUM_WORDS),
          help = per_arch_help("Vocabulary size (Embedding rows, 4 reserved ids; 5 to 16777216)", |c| c.num_words.to_string()))]
    num_words: Option<i64>,
    #[arg(long, value_parser = sori_train::usize_in(1, MAX_MAXLEN),
          help = per_arch_help("Words kept per review (pad_sequences maxlen; 1 to 10000)", |c| c.maxlen.to_string()))]
    maxlen: Option<usize>,
    #[arg(long, value_parser = sori_train::i64_in(1, sori_rnn::MAX_SIZE),
          help = per_arch_help("Embedding size (1 to 16384)", |c| c.embedding_dim.to_string()))]
    embedding_dim: Option<i64>,
    #[arg(long, value_parser = sori_train::i64_in(1, sori_rnn::MAX_SIZE),
          help = per_arch_help("Recurrent units per direction (1 to 16384)", |c| c.hidden.to_string()))]
    hidden: Option<i64>,
    #[arg(long, value_parser = sori_train::finite_f64,
          help = per_arch_help("Dropout on embeddings and before the output layer", |c| c.dropout.to_string()))]
    dropout: Option<f64>,
}

/// The default arch (`--arch`'s default).
const DEFAULT_ARCH: Arch = Arch::Lstm;

/// A default that depends on `--arch`: the default arch's value first (what
/// the option accepts), then the archs that differ: `500; embedding-flatten: 20, best: 200`.
fn per_arch(value: impl Fn(Arch) -> String) -> String {
    let default = value(DEFAULT_ARCH);
    let others: Vec<String> = Arch::ALL
        .into_iter()
        .filter_map(|a| {
            let v = value(a);
            (v != default).then(|| format!("{}: {v}", a.name()))
        })
        .collect();
    if others.is_empty() {
        default
    } else {
        format!("{default}; {}", others.join(", "))
    }
}

fn per_arch_help(text: &str, value: impl Fn(&ModelConfig) -> String) -> String {
    let shown = per_arch(|a| value(&ModelConfig::preset(a)));
    format!("{text} [default: {shown}]")
}

/// `imdb train --help`: the training defaults of each arch.
fn train_help_defaults() -> HelpDefaults {
    let of = |f: fn(&TrainConfig) -> String| per_arch(|a| f(&default_train_config(a)));
    HelpDefaults::new(&default_train_config(DEFAULT_ARCH))
        .validation_split(DEFAULT_VALIDATION_SPLIT)
        .with("epochs", of(|c| c.epochs.to_string()))
        .with("batch_size", of(|c| c.batch_size.to_string()))
        .with("lr", of(|c| c.optimizer.lr.to_string()))
        .with("optimizer", of(|c| c.optimizer.kind.name().to_string()))
}

impl ArchArgs {
    fn config(&self) -> Result<ModelConfig> {
        let mut c = ModelConfig::preset(self.arch);
        if let Some(v) = self.num_words {
            if v < 5 {
                bail!("--num-words must be at least 5 (ids 0-3 are reserved), got {v}");
            }
            c.num_words = v;
        }
        if let Some(v) = self.maxlen {
            if v == 0 {
                bail!("--maxlen must be at least 1");
            }
            c.maxlen = v;
        }
        if let Some(v) = self.embedding_dim {
            if v < 1 {
                bail!("--embedding-dim must be at least 1, got {v}");
            }
            c.embedding_dim = v;
        }
        if let Some(v) = self.hidden {
            if v < 1 {
                bail!("--hidden must be at least 1, got {v}");
            }
            c.hidden = v;
        }
        if let Some(v) = self.dropout {
            if !(0.0..1.0).contains(&v) {
                bail!("--dropout must be in [0, 1), got {v}");
            }
            c.dropout = v;
        }
        Ok(c)
    }
}

// Parsed once per run; boxing the big `train` variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Print the Keras-style summary of a model (layers, shapes, parameters).
    #[command(after_help = "Examples:\n  \
imdb summary --arch lstm\n  \
imdb summary --arch best --num-words 20000")]
    Summary {
        #[command(flatten)]
        arch: ArchArgs,
    },
    /// Train a model on the training part of the data and save it.
    #[command(
        mut_args(train_help_defaults().into_fn()),
        after_help = "Examples:\n  \
imdb train --arch lstm --out models/imdb-lstm --eval\n  \
imdb train --arch best --out models/imdb-best --validation-split 0.1 --eval"
    )]
    Train {
        #[command(flatten)]
        arch: ArchArgs,
        /// Model directory to write (config, vocabulary, checkpoints, history, plots).
        #[arg(long)]
        out: PathBuf,
        /// Reviews: the combined CSV, an aclImdb directory or .tar.gz, or a label<TAB>text file.
        #[arg(long, default_value = data::DEFAULT_CSV)]
        data: PathBuf,
        /// Use only the first N training reviews (quick runs; all unless given).
        #[arg(long)]
        limit: Option<usize>,
        /// After training, evaluate on the held-out reviews (and Rotten Tomatoes for the CSV).
        #[arg(long)]
        eval: bool,
        #[command(flatten)]
        train: TrainArgs,
    },
    /// Classify reviews: the TEXT arguments, --file (one review a line), or
    /// stdin. Prints one line per review: the label, the probability that
    /// the review is positive (positive from 0.5 up) and its first words.
    /// A blank input line gives an empty output line, so answers keep their
    /// lines' places.
    #[command(after_help = "Examples:\n  \
imdb classify \"This movie was a wonderful surprise\" \"Two hours I will never get back\"\n  \
imdb classify --file reviews.txt --model models/imdb-lstm --format json")]
    Classify {
        /// Reviews to classify.
        text: Vec<String>,
        #[command(flatten)]
        model: ModelArgs,
        /// File with one review per line (`-` for stdin) [default: stdin
        /// when no TEXT is given].
        #[arg(long)]
        file: Option<PathBuf>,
        /// text: label, probability of positive and the review's start,
        /// tab-separated; json: one object per line, {"label", "probability"
        /// (of positive), "known_words"} ({"skipped": "blank line"} for a
        /// blank line).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Accuracy, precision, recall, F1, ROC AUC and confusion matrix on labelled reviews.
    #[command(after_help = "Examples:\n  \
imdb eval --subset test\n  \
imdb eval --model models/imdb-lstm --data reviews.tsv --json")]
    Eval {
        #[command(flatten)]
        model: ModelArgs,
        /// Reviews: the combined CSV, an aclImdb directory or .tar.gz, or a label<TAB>text file.
        #[arg(long, default_value = data::DEFAULT_CSV)]
        data: PathBuf,
        /// train, test (the held-out 20 % of the project's split; aclImdb:
        /// test/), rt (Rotten Tomatoes) or all [default: test; all for any
        /// file but the combined CSV and aclImdb].
        #[arg(long)]
        subset: Option<Subset>,
        /// Print the report as one JSON line.
        #[arg(long)]
        json: bool,
    },
}

/// How `classify` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Where a trained model runs: shared by `classify` and `eval`.
#[derive(clap::Args, Debug)]
struct ModelArgs {
    /// Model directory written by `imdb train` [default: $SORI_IMDB_MODEL,
    /// else the checkout's models/imdb-en].
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

impl ModelArgs {
    /// Applies --threads and --device and loads the model.
    fn load(&self) -> Result<(Classifier, PathBuf)> {
        let (dir, device) = sori_train::model_run(
            self.model.as_deref(),
            DEFAULT_MODEL_VAR,
            DEFAULT_MODEL,
            self.device,
            self.threads,
        )?;
        Ok((Classifier::load(&dir, device)?, dir))
    }
}

/// The model `classify` and `eval` use without --model (issue 22), and the
/// variable that overrides it.
const DEFAULT_MODEL: &str = "models/imdb-en";
const DEFAULT_MODEL_VAR: &str = "SORI_IMDB_MODEL";

fn main() {
    // Before any thread exists, so every worker inherits it (sori_train::cpu).
    sori_train::configure_process();
    if let Err(e) = run(sori_train::parse_args(sori_train::build_info!())) {
        eprintln!("error: {}", sori_train::error_line(e.as_ref()));
        // 130 when Ctrl-C stopped training, else 1.
        sori_train::remove_empty_created_out_dirs();
        std::process::exit(sori_train::trainer::failure_exit_code());
    }
}

fn load_data(path: &Path, subset: Subset) -> Result<Vec<data::Review>> {
    if !path.exists() && path.as_os_str() == data::DEFAULT_CSV {
        bail!(
            "{}: not found; run scripts/fetch-imdb.sh first (or pass --data)",
            path.display()
        );
    }
    Ok(data::load(path, subset)?)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Summary { arch } => {
            let config = arch.config()?;
            let vs = nn::VarStore::new(Device::Cpu);
            let net = SentimentNet::new(&vs.root(), &config)?;
            println!("{}", net.summary(&vs));
            if let Some(note) = summary_note(&config) {
                println!("{note}");
            }
        }
        Command::Train {
            arch,
            out,
            data: data_path,
            limit,
            eval,
            train: targs,
        } => {
            let config = arch.config()?;
            let device = targs.setup()?;
            let tc = targs.apply(default_train_config(config.arch))?;
            let validation = targs.validation_split.unwrap_or(DEFAULT_VALIDATION_SPLIT);
            if limit == Some(0) {
                bail!("--limit must be at least 1");
            }
            // After the options are checked, before any work.
            targs.prepare_out_dir(&out, sori_imdb::classifier::KIND)?;
            let mut reviews = load_data(&data_path, Subset::Train)?;
            if let Some(n) = limit {
                reviews.truncate(n);
            }
            eprintln!(
                "imdb: training {} on {} reviews from {} ({:.0}% for validation), {} epochs, batch {}, {:?} lr {}",
                config.arch,
                reviews.len(),
                data_path.display(),
                validation * 100.0,
                tc.epochs,
                tc.batch_size,
                tc.optimizer.kind,
                tc.optimizer.lr
            );
            let started = Instant::now();
            let trained = train(&reviews, &config, tc, validation, Some(&out), device)?;
            let secs = started.elapsed().as_secs_f64();
            let r = &trained.report;
            println!(
                "trained {} in {:.0} s; best {} = {:.4} at epoch {}; model in {}",
                config.arch,
                secs,
                r.monitor,
                r.best_value.unwrap_or(f64::NAN),
                r.best_epoch,
                out.display()
            );
            if eval {
                let held_out = load_data(&data_path, Subset::Test)?;
                let rep = trained.classifier.evaluate(&held_out)?;
                println!(
                    "held-out ({} reviews): accuracy {:.4}, F1 {:.4}, ROC AUC {:.4}",
                    rep.n,
                    rep.accuracy,
                    rep.f1,
                    rep.roc_auc.unwrap_or(f64::NAN)
                );
                if let Ok(rt) = data::load(&data_path, Subset::RottenTomatoes) {
                    let rep = trained.classifier.evaluate(&rt)?;
                    println!(
                        "rotten tomatoes ({} snippets): accuracy {:.4}, ROC AUC {:.4}",
                        rep.n,
                        rep.accuracy,
                        rep.roc_auc.unwrap_or(f64::NAN)
                    );
                }
            }
        }
        Command::Classify {
            text,
            model,
            file,
            format,
        } => {
            let (texts, at): (Vec<String>, Box<dyn Fn(usize) -> String>) =
                match (&file, text.is_empty()) {
                    (Some(_), false) => bail!("give reviews as arguments or with --file, not both"),
                    (Some(f), true) => {
                        let name = if f.as_os_str() == "-" {
                            "<stdin>".to_string()
                        } else {
                            f.display().to_string()
                        };
                        (
                            read_review_lines(f)?,
                            Box::new(move |i| format!("{name}: line {}", i + 1)),
                        )
                    }
                    (None, false) => (text, Box::new(|i| format!("review {}", i + 1))),
                    (None, true) => (
                        read_review_lines(&PathBuf::from("-")).context(
                            "no review given (pass TEXT, --file, or pipe reviews on stdin)",
                        )?,
                        Box::new(|i| format!("<stdin>: line {}", i + 1)),
                    ),
                };
            let (clf, dir) = model.load()?;
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let predictions = clf.classify_lines(&refs, &at)?;
            for (i, (p, t)) in predictions.iter().zip(&texts).enumerate() {
                let Some(p) = p else {
                    match format {
                        Format::Text => println!(),
                        Format::Json => {
                            println!("{}", serde_json::json!({"skipped": "blank line"}))
                        }
                    }
                    continue;
                };
                if p.known_words == 0 {
                    eprintln!(
                        "warning: {}: no word of it is in the model's vocabulary ({}); its probability says nothing about it",
                        at(i),
                        dir.join(sori_imdb::classifier::VOCAB_FILE).display()
                    );
                }
                match format {
                    Format::Text => {
                        let shown: String = t.chars().take(60).collect();
                        let ell = if t.chars().count() > 60 { "..." } else { "" };
                        println!("{}\t{:.4}\t{shown}{ell}", p.label(), p.probability);
                    }
                    Format::Json => println!(
                        "{}",
                        serde_json::json!({
                            "label": p.label(),
                            "probability": p.probability,
                            "known_words": p.known_words,
                        })
                    ),
                }
            }
        }
        Command::Eval {
            model,
            data: data_path,
            subset,
            json,
        } => {
            let (clf, _) = model.load()?;
            let subset = subset.unwrap_or_else(|| data::default_eval_subset(&data_path));
            let reviews = load_data(&data_path, subset)?;
            eprintln!(
                "imdb: scoring {} reviews of {} (--subset {})",
                reviews.len(),
                data_path.display(),
                subset.name()
            );
            let rep = clf.evaluate(&reviews)?;
            if json {
                println!("{}", serde_json::to_string(&rep)?);
            } else {
                println!("{rep}");
            }
        }
    }
    Ok(())
}
