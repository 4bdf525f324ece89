//! Command-line options every training binary shares; a binary embeds them
//! with `#[command(flatten)] train: TrainArgs` and keeps its own defaults
//! (the numeric options are optional here, see [`TrainArgs::apply`]).
use tch::Device;

use crate::optim::{DecayKind, EarlyStopping, OptimizerKind};
use crate::trainer::{OnNan, TrainConfig};
use crate::TrainError;

/// `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DeviceArg {
    #[default]
    Cpu,
    Cuda,
    /// CUDA when available, else CPU.
    Auto,
}

impl DeviceArg {
    /// The libtorch device; `cuda` without a usable GPU is an error.
    pub fn resolve(self) -> Result<Device, TrainError> {
        match self {
            DeviceArg::Cpu => Ok(Device::Cpu),
            DeviceArg::Auto => Ok(Device::cuda_if_available()),
            DeviceArg::Cuda => {
                if tch::Cuda::is_available() {
                    Ok(Device::Cuda(0))
                } else {
                    Err(TrainError::Config(
                        "--device cuda: no CUDA device is visible to libtorch (CPU-only libtorch install or no GPU); use --device cpu or auto".into(),
                    ))
                }
            }
        }
    }
}

/// Shared training options.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct TrainArgs {
    /// Intra-op CPU threads for libtorch (0: libtorch's default).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Where to train.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Seed for initialisation, data order and dropout.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of epochs [default: the application's].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Examples per batch [default: the application's].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Base learning rate [default: the application's].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Optimiser [default: the application's].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Weight decay (AdamW: decoupled; others: L2).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Momentum for SGD (default 0.9) and RMSprop (default 0).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Learning-rate decay after the warm-up.
    #[arg(long, value_enum)]
    pub schedule: Option<DecayKind>,
    /// Linear warm-up steps.
    #[arg(long)]
    pub warmup_steps: Option<u64>,
    /// Clip the global gradient norm to this value.
    #[arg(long)]
    pub clip_grad_norm: Option<f64>,
    /// Stop after this many epochs without improvement of the monitored metric.
    #[arg(long)]
    pub patience: Option<usize>,
    /// Fraction of the training data held out for validation (Keras-style:
    /// the last examples) [default: the application's].
    #[arg(long)]
    pub validation_split: Option<f64>,
    /// Plain progress lines instead of bars.
    #[arg(long)]
    pub quiet: bool,
    /// Continue the interrupted run in the model directory.
    #[arg(long)]
    pub resume: bool,
    /// A NaN or infinite loss or gradient: stop with an error (keeping the
    /// last checkpoint) or skip the batch (too many in a row still stop).
    #[arg(long, value_enum, default_value_t = OnNan::Stop)]
    pub on_nan: OnNan,
}

impl TrainArgs {
    /// Applies `--threads` and `--seed` to libtorch and resolves `--device`.
    /// Call once at start-up, before building the model. Also flushes
    /// subnormal floats to zero ([`crate::cpu`]; binaries do that first
    /// thing in `main` too, so that every worker thread inherits it).
    pub fn setup(&self) -> Result<Device, TrainError> {
        crate::cpu::flush_denormals();
        if self.threads > 0 {
            tch::set_num_threads(self.threads as i32);
        }
        tch::manual_seed(self.seed as i64);
        self.device.resolve()
    }

    /// `defaults` (the application's settings) overridden by every option
    /// given on the command line; validated.
    pub fn apply(&self, defaults: TrainConfig) -> Result<TrainConfig, TrainError> {
        let mut c = defaults;
        c.seed = self.seed;
        c.quiet = self.quiet;
        c.resume = self.resume;
        c.on_nan = self.on_nan;
        if let Some(e) = self.epochs {
            c.epochs = e;
        }
        if let Some(b) = self.batch_size {
            c.batch_size = b;
        }
        if let Some(k) = self.optimizer {
            c.optimizer.kind = k;
        }
        if let Some(lr) = self.lr {
            c.optimizer.lr = lr;
        }
        if self.weight_decay.is_some() {
            c.optimizer.weight_decay = self.weight_decay;
        }
        if self.momentum.is_some() {
            c.optimizer.momentum = self.momentum;
        }
        if let Some(d) = self.schedule {
            c.schedule.decay = d;
        }
        if let Some(w) = self.warmup_steps {
            c.schedule.warmup_steps = w;
        }
        if self.clip_grad_norm.is_some() {
            c.clip_grad_norm = self.clip_grad_norm;
        }
        if let Some(p) = self.patience {
            c.early_stopping = Some(EarlyStopping {
                patience: p,
                min_delta: 0.0,
            });
        }
        if c.epochs == 0 {
            return Err(TrainError::Config("--epochs must be >= 1".into()));
        }
        if c.batch_size == 0 {
            return Err(TrainError::Config("--batch-size must be >= 1".into()));
        }
        if let Some(g) = c.clip_grad_norm {
            if !(g > 0.0 && g.is_finite()) {
                return Err(TrainError::Config(format!(
                    "--clip-grad-norm must be positive, got {g}"
                )));
            }
        }
        if let Some(v) = self.validation_split {
            if !(0.0..1.0).contains(&v) {
                return Err(TrainError::Config(format!(
                    "--validation-split must be in [0, 1), got {v}"
                )));
            }
        }
        c.optimizer.validate()?;
        Ok(c)
    }
}

/// Parses the command line like [`clap::Parser::parse`], except that a
/// usage error (unknown flag, bad value, missing argument) prints ONE line,
/// `error: ...`, on stderr and exits with status 2, like every other error
/// of the binaries (which exit with 1). `--help` and `--version` print as
/// usual and exit with 0. Output piped into a reader that stops early
/// (`asr transcribe *.wav | head -1`) ends the program quietly, as with
/// other Unix tools, instead of a "failed printing to stdout" panic.
pub fn parse_args<P: clap::Parser>() -> P {
    end_quietly_on_closed_pipe();
    match P::try_parse() {
        Ok(p) => p,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprintln!("{}", usage_error_line(&e));
            std::process::exit(2);
        }
    }
}

/// Restores the default action of SIGPIPE (terminate), which the Rust
/// runtime sets to "ignore" so that writes to a closed pipe return EPIPE and
/// `println!` panics. Files are written atomically (temporary + rename), so
/// ending at a print loses nothing already written.
pub fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_DFL has no
    // preconditions; it runs before the program writes anything.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// A clap error as one line: its message without the usage block and the
/// "For more information" hint, lines joined with spaces.
pub fn usage_error_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut message = text.as_str();
    for cut in ["\n\nUsage:", "\nUsage:", "\n\nFor more information"] {
        if let Some(i) = message.find(cut) {
            message = &message[..i];
        }
    }
    let line = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if line.starts_with("error:") {
        line
    } else {
        format!("error: {line}")
    }
}

/// An error and its causes as one line for `error: ...`: each cause is
/// appended after `: ` unless the message already contains it (library
/// errors often print their source themselves), line breaks become spaces.
pub fn error_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}
