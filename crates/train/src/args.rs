//! Command-line options every training binary shares; a binary embeds them
//! with `#[command(flatten)] train: TrainArgs` and keeps its own defaults
//! (the numeric options are optional here, see [`TrainArgs::apply`]), which
//! its `--help` shows through [`HelpDefaults`]. Also the binaries' common
//! command-line behaviour: [`parse_args`] (usage, one-line usage errors,
//! `--version` with the build's commit and libtorch) and
//! [`TrainArgs::prepare_out_dir`] (never train over a run by accident).
use std::path::Path;

use tch::Device;

use crate::checkpoint::ModelDir;
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

/// What every command that runs a trained model does before loading it:
/// applies `--threads` ([`set_threads`]), resolves `--device`, and takes
/// `model` or else the committed model that `$var` or `rel` names
/// ([`crate::default_model_dir`]). Returns the directory and the device.
pub fn model_run(
    model: Option<&Path>,
    var: &str,
    rel: &str,
    device: DeviceArg,
    threads: usize,
) -> Result<(std::path::PathBuf, Device), TrainError> {
    set_threads(threads);
    let device = device.resolve()?;
    let dir = match model {
        Some(d) => d.to_path_buf(),
        None => crate::default_model_dir(var, rel)?,
    };
    Ok((dir, device))
}

/// Shared training options. Their help shows no default by itself: the
/// application's `--help` appends its own with [`HelpDefaults`].
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct TrainArgs {
    /// Intra-op CPU threads for libtorch (0: libtorch's default, one per
    /// core; more than the cores are capped to them with a note; at most 65536).
    #[arg(long, default_value_t = 0, value_parser = threads)]
    pub threads: usize,
    /// Where to train.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Seed for initialisation, data order and dropout.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Examples per batch.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Base learning rate.
    #[arg(long, value_parser = finite_f64)]
    pub lr: Option<f64>,
    /// Optimiser.
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Weight decay (AdamW: decoupled; others: L2).
    #[arg(long, value_parser = finite_f64)]
    pub weight_decay: Option<f64>,
    /// Momentum of SGD and RMSprop (Adam and AdamW have none).
    #[arg(long, value_parser = finite_f64)]
    pub momentum: Option<f64>,
    /// Learning-rate decay after the warm-up.
    #[arg(long, value_enum)]
    pub schedule: Option<DecayKind>,
    /// Linear warm-up steps (at most 1000000000).
    #[arg(long, value_parser = warmup_steps)]
    pub warmup_steps: Option<u64>,
    /// Clip the global gradient norm to this value.
    #[arg(long, value_parser = finite_f64)]
    pub clip_grad_norm: Option<f64>,
    /// Stop after this many epochs without improvement of the monitored metric.
    #[arg(long)]
    pub patience: Option<usize>,
    /// Fraction of the training data held out for validation (Keras-style:
    /// the last examples).
    #[arg(long, value_parser = finite_f64)]
    pub validation_split: Option<f64>,
    /// Plain progress lines instead of bars (still one line per epoch with
    /// the loss, the validation metrics and the time).
    #[arg(long)]
    pub quiet: bool,
    /// Continue the interrupted run in the model directory (its
    /// last.safetensors must exist).
    #[arg(long)]
    pub resume: bool,
    /// Continue the run in the model directory if it has a checkpoint,
    /// else start one (for scripts that rerun the same command).
    #[arg(long, conflicts_with = "resume")]
    pub resume_or_start: bool,
    /// Train afresh in a model directory that already holds a run (its
    /// checkpoints, trainer state and history are removed first).
    #[arg(long, conflicts_with_all = ["resume", "resume_or_start"])]
    pub overwrite: bool,
    /// A NaN or infinite loss or gradient: stop with an error (keeping the
    /// last checkpoint) or skip the batch (too many in a row still stop).
    #[arg(long, value_enum, default_value_t = OnNan::Stop)]
    pub on_nan: OnNan,
}

/// The most `--threads` any binary accepts: more is a usage error, not a
/// number of threads (between the cores and this, [`set_threads`] caps).
pub const MAX_THREADS: usize = 65_536;
/// The widest beam (`--beam`) any binary accepts: the search keeps this
/// many hypotheses, each with its decoder state, per step.
pub const MAX_BEAM: usize = 1024;
/// The longest linear warm-up (`--warmup-steps`) accepted.
pub const MAX_WARMUP_STEPS: u64 = 1_000_000_000;

/// `clap` value parser: a finite number (refuses `nan`, `inf`, `-inf`).
pub fn finite_f64(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err("must be a finite number".into()),
        Err(_) => Err("not a number".into()),
    }
}

/// `clap` value parser: a probability, a number in [0, 1].
pub fn probability(s: &str) -> Result<f64, String> {
    let v = finite_f64(s).map_err(|_| "must be a number between 0 and 1".to_string())?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err("must be a number between 0 and 1".into())
    }
}

/// A `clap` value parser of a finite number in `[lo, hi]`, for options with
/// documented limits: `value_parser = f64_in(1.0, 3600.0)`.
pub fn f64_in(lo: f64, hi: f64) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync {
    move |s| {
        let v = finite_f64(s).map_err(|_| format!("must be a number from {lo} to {hi}"))?;
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(format!("must be from {lo} to {hi}"))
        }
    }
}

/// A `clap` value parser of an integer in `[lo, hi]` (model sizes and
/// other options with documented limits): `value_parser = i64_in(1, 4096)`.
pub fn i64_in(lo: i64, hi: i64) -> impl Fn(&str) -> Result<i64, String> + Clone + Send + Sync {
    move |s| match s.trim().parse::<i64>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(format!("must be an integer from {lo} to {hi}")),
    }
}

/// A `clap` value parser of a count in `[lo, hi]`: `value_parser = usize_in(1, 64)`.
pub fn usize_in(
    lo: usize,
    hi: usize,
) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync {
    move |s| match s.trim().parse::<usize>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(format!("must be an integer from {lo} to {hi}")),
    }
}

/// `clap` value parser of `--threads`: 0 (libtorch's default) to [`MAX_THREADS`].
pub fn threads(s: &str) -> Result<usize, String> {
    usize_in(0, MAX_THREADS)(s)
        .map_err(|_| format!("must be a number of threads from 0 (one per core) to {MAX_THREADS}"))
}

/// `clap` value parser of `--beam`: a width from 1 to [`MAX_BEAM`].
pub fn beam_width(s: &str) -> Result<usize, String> {
    usize_in(1, MAX_BEAM)(s)
}

/// `clap` value parser of `--warmup-steps`: 0 to [`MAX_WARMUP_STEPS`].
pub fn warmup_steps(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(v) if v <= MAX_WARMUP_STEPS => Ok(v),
        _ => Err(format!("must be an integer from 0 to {MAX_WARMUP_STEPS}")),
    }
}

/// Applies `--threads`: 0 leaves libtorch's default (one per core); more
/// than the CPU cores this process may use are capped to them, with a
/// one-line note on stderr (more threads than cores only slow libtorch's
/// OpenMP pool down). Returns the number set (0: default).
pub fn set_threads(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(n);
    let n = if n > cores {
        eprintln!("note: --threads {n} is more than the {cores} CPU cores; using {cores}");
        cores
    } else {
        n
    };
    tch::set_num_threads(n.min(i32::MAX as usize) as i32);
    n
}

/// Files of a model directory that say it holds a finished or partial run.
const RUN_MARKERS: [&str; 2] = ["config.json", "last.safetensors"];
/// The trainer's files that `--overwrite` removes (the application
/// rewrites `config.json` and its own files).
const TRAINER_FILES: [&str; 6] = [
    "last.safetensors",
    "best.safetensors",
    "trainer_state.json",
    "history.jsonl",
    "history.png",
    "history.svg",
];

impl TrainArgs {
    /// Applies `--threads` and `--seed` to libtorch and resolves `--device`.
    /// Call once at start-up, before building the model. Also flushes
    /// subnormal floats to zero ([`crate::cpu`]; binaries do that first
    /// thing in `main` too, so that every worker thread inherits it).
    pub fn setup(&self) -> Result<Device, TrainError> {
        crate::cpu::flush_denormals();
        set_threads(self.threads);
        tch::manual_seed(self.seed as i64);
        self.device.resolve()
    }

    /// `defaults` (the application's settings) overridden by every option
    /// given on the command line; validated.
    pub fn apply(&self, defaults: TrainConfig) -> Result<TrainConfig, TrainError> {
        let mut c = defaults;
        c.seed = self.seed;
        // `--quiet` only changes how progress is drawn: libraries take
        // `TrainConfig::quiet` as "print nothing", which a user never asks
        // for on the command line.
        c.plain_progress = self.quiet;
        c.resume = self.resume || self.resume_or_start;
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

    /// Call before any work (reading data, writing files) with the `--out`
    /// directory and the application's model kind. Refuses a directory
    /// that holds a model of another kind ([`ModelDir::refuse_other_kind`]),
    /// and one that already holds a finished or partial run (`config.json`
    /// or `last.safetensors`) unless `--resume` continues it or
    /// `--overwrite` starts afresh, which removes the trainer's files of the
    /// old run (checkpoints, state, history) so that nothing of it can be
    /// mistaken for the new one. `--resume` needs a checkpoint
    /// (`last.safetensors`); `--resume-or-start` continues one if there is
    /// one and starts afresh otherwise.
    ///
    /// It also creates the directory and takes an exclusive advisory lock
    /// on it (`flock`) that this process holds until it exits, so a second
    /// training into the same directory is refused with one line while the
    /// first runs (the lock goes with the process, even one killed with
    /// SIGKILL); and it removes temporary files that writers killed
    /// mid-write left there ([`sori_fs::remove_stale_temps`]).
    pub fn prepare_out_dir(&self, out: &Path, kind: &str) -> Result<(), TrainError> {
        ModelDir::new(out).refuse_other_kind(kind)?;
        lock_out_dir(out)?;
        sori_fs::remove_stale_temps(out).map_err(|e| TrainError::io(out, e))?;
        if self.resume && !out.join("last.safetensors").exists() {
            return Err(TrainError::model(
                out,
                "--resume: no checkpoint to continue from (no last.safetensors); pass --resume-or-start to start a new run when there is none",
            ));
        }
        let found: Vec<&str> = RUN_MARKERS
            .into_iter()
            .filter(|f| out.join(f).exists())
            .collect();
        if found.is_empty() || self.resume || self.resume_or_start {
            return Ok(());
        }
        if !self.overwrite {
            return Err(TrainError::model(
                out,
                format!(
                    "already holds a training run ({}); pass --resume to continue it or --overwrite to train afresh",
                    found.join(", ")
                ),
            ));
        }
        for f in TRAINER_FILES {
            let path = out.join(f);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(TrainError::io(&path, e))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Output directories this process has locked ([`lock_out_dir`]), with the
/// open directories that hold the locks until the process exits, and
/// whether this process created them.
static LOCKED_OUT_DIRS: std::sync::Mutex<Vec<(std::path::PathBuf, std::fs::File, bool)>> =
    std::sync::Mutex::new(Vec::new());

/// Removes the output directories this process created ([`lock_out_dir`])
/// and left empty: a training that fails after preparing `--out` (a broken
/// manifest, a model too large) leaves nothing behind. A directory that
/// existed before, or holds anything, is kept. The binaries call it before
/// exiting with an error.
pub fn remove_empty_created_out_dirs() {
    let held = LOCKED_OUT_DIRS.lock().unwrap_or_else(|e| e.into_inner());
    for (path, _, created) in held.iter() {
        if *created {
            // Fails (harmlessly) unless the directory is empty.
            let _ = std::fs::remove_dir(path);
        }
    }
}

/// Creates `out` and takes an exclusive advisory lock on it for the rest of
/// the process (see [`TrainArgs::prepare_out_dir`]); a directory this
/// process already locked is fine. Another process holding the lock is an
/// error naming the directory.
pub fn lock_out_dir(out: &Path) -> Result<(), TrainError> {
    let created = !out.exists();
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    let canonical = out.canonicalize().map_err(|e| TrainError::io(out, e))?;
    let mut held = LOCKED_OUT_DIRS.lock().unwrap_or_else(|e| e.into_inner());
    if held.iter().any(|(p, _, _)| *p == canonical) {
        return Ok(());
    }
    let dir = std::fs::File::open(&canonical).map_err(|e| TrainError::io(out, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a descriptor we own; LOCK_NB never blocks.
        if unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(TrainError::model(
                    out,
                    "another training run is writing to this directory (it holds its lock); wait for it to end or choose another output directory",
                ));
            }
            return Err(TrainError::io(out, e));
        }
    }
    held.push((canonical, dir, created));
    Ok(())
}

/// The application's defaults of the shared options, for its `--help`
/// (the options themselves stay unset so that [`TrainArgs::apply`] can
/// tell them from the application's settings). On the subcommand:
///
/// ```ignore
/// #[command(mut_args(HelpDefaults::new(&my_defaults()).validation_split(0.2).into_fn()))]
/// ```
///
/// Each shown default is a value the option accepts, first; what differs
/// for some settings follows after `; ` (`[default: 10; best: 2]`).
#[derive(Debug, Clone, Default)]
pub struct HelpDefaults {
    shown: Vec<(&'static str, String)>,
    hidden: Vec<&'static str>,
}

impl HelpDefaults {
    /// The defaults in `c`. `--validation-split` is hidden unless
    /// [`HelpDefaults::validation_split`] gives its default (an application
    /// that validates otherwise must refuse it).
    pub fn new(c: &TrainConfig) -> HelpDefaults {
        let o = &c.optimizer;
        let mut shown = vec![
            ("epochs", c.epochs.to_string()),
            ("batch_size", c.batch_size.to_string()),
            ("lr", o.lr.to_string()),
            ("optimizer", o.kind.name().to_string()),
            (
                "weight_decay",
                match o.weight_decay {
                    Some(w) => w.to_string(),
                    None => format!("0; adamw: {}", crate::optim::ADAMW_DEFAULT_DECAY),
                },
            ),
            (
                "momentum",
                match o.momentum {
                    Some(m) => m.to_string(),
                    None => format!("0; sgd: {}", crate::optim::SGD_DEFAULT_MOMENTUM),
                },
            ),
            ("schedule", decay_name(c.schedule.decay).to_string()),
            ("warmup_steps", c.schedule.warmup_steps.to_string()),
        ];
        if let Some(g) = c.clip_grad_norm {
            shown.push(("clip_grad_norm", g.to_string()));
        }
        if let Some(e) = &c.early_stopping {
            shown.push(("patience", e.patience.to_string()));
        }
        HelpDefaults {
            shown,
            hidden: vec!["validation_split"],
        }
    }

    /// Shows `--validation-split` with this default.
    pub fn validation_split(self, v: f64) -> HelpDefaults {
        self.with("validation_split", v.to_string())
    }

    /// Shows `text` as the default of the option `id` (its field name, e.g.
    /// `batch_size`), for defaults that depend on other options.
    pub fn with(mut self, id: &'static str, text: impl Into<String>) -> HelpDefaults {
        self.hidden.retain(|h| *h != id);
        self.shown.retain(|(k, _)| *k != id);
        self.shown.push((id, text.into()));
        self
    }

    /// Appends ` [default: ...]` to the help of the options it knows
    /// (options without a default say "off unless given"); hides the
    /// options the application does not use.
    pub fn apply(&self, arg: clap::Arg) -> clap::Arg {
        let id = arg.get_id().as_str();
        if self.hidden.contains(&id) {
            return arg.hide(true);
        }
        let suffix = match self.shown.iter().find(|(k, _)| *k == id) {
            Some((_, v)) => format!(" [default: {v}]"),
            None if matches!(id, "clip_grad_norm" | "patience") => " (off unless given)".into(),
            None => return arg,
        };
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        let long = arg.get_long_help().map(|h| h.to_string());
        let arg = arg.help(format!("{help}{suffix}"));
        match long {
            Some(l) => arg.long_help(format!("{}{suffix}", l.trim_end())),
            None => arg,
        }
    }

    /// [`HelpDefaults::apply`] as the closure `Command::mut_args` takes.
    pub fn into_fn(self) -> impl FnMut(clap::Arg) -> clap::Arg {
        move |a| self.apply(a)
    }
}

fn decay_name(d: DecayKind) -> &'static str {
    match d {
        DecayKind::Constant => "constant",
        DecayKind::Cosine => "cosine",
        DecayKind::Plateau => "plateau",
    }
}

/// What `--version` prints besides the version: the binary's build
/// (`build_info!()` in the binary fills it from its own build script).
#[derive(Debug, Clone, Copy)]
pub struct BuildInfo {
    /// `CARGO_PKG_VERSION` of the binary's package.
    pub version: &'static str,
    /// The git commit it was built from (`SORI_GIT_COMMIT`, set by
    /// `build/link-torch.rs`), if known.
    pub commit: Option<&'static str>,
    /// The libtorch it links (`SORI_LIBTORCH_VERSION`), if known.
    pub libtorch: Option<&'static str>,
}

/// The calling package's [`BuildInfo`], from the environment its build
/// script sets.
#[macro_export]
macro_rules! build_info {
    () => {
        $crate::BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            commit: option_env!("SORI_GIT_COMMIT"),
            libtorch: option_env!("SORI_LIBTORCH_VERSION"),
        }
    };
}

impl BuildInfo {
    /// The `--version` text after the program's name: version, commit,
    /// libtorch and whether libtorch sees a CUDA device (asked only here,
    /// since it may load the CUDA libraries).
    pub fn version_text(&self) -> String {
        let cuda = if tch::Cuda::is_available() {
            format!("CUDA visible ({} device(s))", tch::Cuda::device_count())
        } else {
            "CUDA not visible (CPU only)".to_string()
        };
        format!(
            "{}\ncommit {}\nlibtorch {}, {cuda}",
            self.version,
            self.commit.unwrap_or("unknown"),
            self.libtorch.unwrap_or("unknown"),
        )
    }
}

/// Parses the command line like [`clap::Parser::parse`], except that a
/// usage error (unknown flag, bad value, missing argument) prints ONE line,
/// `error: ...`, on stderr and exits with status 2, like every other error
/// of the binaries (which exit with 1). Without any argument it prints the
/// usage and the list of subcommands on stderr and exits with 2, as git and
/// cargo do. `--help` and `--version` print as usual and exit with 0;
/// `--version` also names the commit, the libtorch and whether CUDA is
/// visible (`info`: [`build_info!`]). Output piped into a reader that stops
/// early (`asr transcribe *.wav | head -1`) ends the program quietly, as
/// with other Unix tools, instead of a "failed printing to stdout" panic.
pub fn parse_args<P: clap::Parser>(info: BuildInfo) -> P {
    end_quietly_on_closed_pipe();
    let mut cmd = P::command().arg_required_else_help(true);
    let first = std::env::args_os().nth(1);
    if first
        .as_deref()
        .is_some_and(|a| a == "--version" || a == "-V")
    {
        let text: &'static str = Box::leak(info.version_text().into_boxed_str());
        cmd = cmd.version(text).long_version(text);
    }
    let parsed = cmd
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|mut m| P::from_arg_matches_mut(&mut m).map_err(|e| e.format(&mut cmd)));
    match parsed {
        Ok(p) => p,
        Err(e)
            if !e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => {
            let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
            eprintln!("{}", usage_error_line_in(&cmd, &args, &e));
            std::process::exit(2);
        }
    }
}

/// [`usage_error_line`] for a command line `args` (program name first) of
/// `cmd`. An `--option` that the chosen subcommand lacks but another one
/// has is said so (`error: unexpected argument '--beam' for 'imdb
/// classify'; it is an option of 'imdb train'`) instead of clap's tip to
/// pass it as a value with `--`, which misleads there; clap's "a similar
/// argument exists" tip stays.
pub fn usage_error_line_in(
    cmd: &clap::Command,
    args: &[std::ffi::OsString],
    e: &clap::Error,
) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let line = usage_error_line(e);
    if e.kind() != ErrorKind::UnknownArgument {
        return line;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return line;
    };
    let Some(long) = arg.strip_prefix("--") else {
        return line;
    };
    let long = long.split('=').next().unwrap_or(long);
    // The subcommand being parsed: the first argument naming one.
    let chosen = args.iter().skip(1).find_map(|a| {
        let a = a.to_str()?;
        cmd.get_subcommands()
            .find(|s| s.get_name() == a || s.get_all_aliases().any(|x| x == a))
    });
    let program = cmd.get_name();
    let others: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| {
            s.get_arguments().any(|a| {
                !a.is_hide_set()
                    && (a.get_long() == Some(long)
                        || a.get_visible_aliases().is_some_and(|v| v.contains(&long)))
            })
        })
        .map(|s| format!("'{program} {}'", s.get_name()))
        .collect();
    match (chosen, others.is_empty()) {
        (Some(c), false) => {
            let list = match others.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => unreachable!("others is not empty"),
            };
            format!(
                "error: unexpected argument '--{long}' for '{program} {}'; it is an option of {list}",
                c.get_name()
            )
        }
        // clap's line without the tip to pass the option as a value.
        _ => match line.find(" tip: to pass ") {
            Some(i) => line[..i].to_string(),
            None => line,
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_parsers_refuse_what_is_not_a_value() {
        assert_eq!(finite_f64("0.5"), Ok(0.5));
        for bad in ["nan", "NaN", "inf", "-inf", "x", ""] {
            assert!(finite_f64(bad).is_err(), "{bad}");
        }
        assert_eq!(probability("1"), Ok(1.0));
        for bad in ["2", "-0.1", "nan"] {
            assert!(probability(bad).is_err(), "{bad}");
        }
        let chunk = f64_in(1.0, 3600.0);
        assert_eq!(chunk("20"), Ok(20.0));
        for bad in ["0", "-1", "nan", "1e-9", "1e9"] {
            assert!(chunk(bad).is_err(), "{bad}");
        }
        assert_eq!(threads("0"), Ok(0));
        assert_eq!(threads("2000"), Ok(2000));
        for bad in ["-1", "4294967297", "1e3"] {
            assert!(threads(bad).is_err(), "{bad}");
        }
        assert_eq!(beam_width("1024"), Ok(1024));
        for bad in ["0", "1025", "1000000000"] {
            assert!(beam_width(bad).is_err(), "{bad}");
        }
        assert!(warmup_steps("18446744073709551615").is_err());
        assert_eq!(warmup_steps("300"), Ok(300));
        assert!(i64_in(1, 64)("65").is_err());
        assert!(usize_in(1, 64)("0").is_err());
    }
}
