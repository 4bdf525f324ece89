//! `asr features`: MFCC or log-mel filterbank features of audio files (or
//! standard input, `-`), written as NPY, CSV or JSON. Parsing and printing
//! only; the computation is `sori_features`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use sori_features::{
    extract_files, open_wav, read_audio_from, write_atomic, write_features, AudioSource, Cmvn,
    Extractor, FeatureConfig, FeatureError, Features, Format, Output, StreamingExtractor,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// 25 ms Hamming frames every 10 ms, 512-point FFT, 40 mel bins, 13 cepstra.
    Default,
    /// Kaldi compute-mfcc-feats defaults (povey window, 23 bins, energy in C0).
    Kaldi,
    /// librosa.feature.mfcc defaults (n_fft 2048, hop 512, 128 Slaney bins, 20 cepstra).
    Librosa,
    /// Whisper's log-mel input: 16 kHz, n_fft 400, hop 160, 80 Slaney bins, log10 clamped to max - 8, (x + 4) / 4.
    Whisper,
    /// The same with 128 bins (Whisper large-v3).
    #[value(name = "whisper-128")]
    Whisper128,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Npy,
    Csv,
    Json,
}

/// Compute MFCC (or log-mel filterbank) features of audio files.
#[derive(Args, Debug)]
pub struct FeaturesArgs {
    /// Audio files (WAV, FLAC, MP3, Ogg Vorbis, M4A, AIFF; any rate, channels averaged); `-` reads standard input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Parameter preset.
    #[arg(long, value_enum, default_value_t = Preset::Default)]
    pub preset: Preset,
    /// Rate to compute at, audio is resampled to it [default: 16000; librosa: 22050; whisper: 16000 only].
    #[arg(long)]
    pub rate: Option<u32>,
    /// Append deltas and delta-deltas (regression window 2).
    #[arg(long)]
    pub deltas: bool,
    /// Per-utterance mean and variance normalisation.
    #[arg(long)]
    pub cmvn: bool,
    /// Output log mel filterbank energies instead of cepstra.
    #[arg(long)]
    pub fbank: bool,
    /// Output format [default: npy (csv on stdout; the -o file's extension when it names one)].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Output file (one input) or directory (several inputs) [default: stdout].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

fn config_for(args: &FeaturesArgs) -> anyhow::Result<FeatureConfig> {
    let whisper = |n_mels| {
        match args.rate {
            Some(r) if r != 16000 => bail!(
                "--preset whisper computes at 16000 Hz, Whisper's rate (audio is resampled to it); --rate {r} does not apply"
            ),
            _ => Ok(FeatureConfig::whisper(n_mels)),
        }
    };
    let mut c = match args.preset {
        Preset::Default => FeatureConfig::default().with_sample_rate(args.rate.unwrap_or(16000)),
        Preset::Kaldi => FeatureConfig::kaldi(args.rate.unwrap_or(16000)),
        Preset::Librosa => FeatureConfig::librosa(args.rate.unwrap_or(22050)),
        Preset::Whisper => whisper(80)?,
        Preset::Whisper128 => whisper(128)?,
    };
    if args.fbank {
        c.output = Output::Fbank;
        c.use_energy = false;
    }
    if args.deltas {
        c.delta_order = 2;
    }
    if args.cmvn {
        c.cmvn = Cmvn::MeanVariance;
    }
    Ok(c)
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

pub fn run(args: FeaturesArgs) -> anyhow::Result<()> {
    let config = config_for(&args)?;
    let dashes = args.files.iter().filter(|f| is_stdin(f)).count();
    if dashes > 1 {
        bail!("standard input (-) is named {dashes} times; it can be read once");
    }
    let explicit = args.format.map(|f| match f {
        FormatArg::Npy => Format::Npy,
        FormatArg::Csv => Format::Csv,
        FormatArg::Json => Format::Json,
    });
    let many = args.files.len() > 1;
    if many && args.output.is_none() {
        bail!(
            "{} input files need -o DIR for their outputs",
            args.files.len()
        );
    }
    let format = explicit
        .or_else(|| {
            args.output
                .as_deref()
                .filter(|_| !many)
                .and_then(Format::from_extension)
        })
        .unwrap_or(if args.output.is_some() {
            Format::Npy
        } else {
            Format::Csv
        });
    if let Some(out) = args.output.as_deref() {
        check_targets(&args.files, out, many, format)?;
    }
    if let Some(dir) = args.output.as_deref().filter(|_| many) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create output directory", dir.display()))?;
    }
    let results = if many {
        // The files in parallel, standard input (read once) on its own.
        let files: Vec<PathBuf> = args
            .files
            .iter()
            .filter(|f| !is_stdin(f))
            .cloned()
            .collect();
        let mut results = extract_files(&files, &config)?.into_iter();
        args.files
            .iter()
            .map(|f| {
                if is_stdin(f) {
                    extract_one(f, &config)
                } else {
                    results.next().expect("one result per file")
                }
            })
            .collect()
    } else {
        vec![extract_one(&args.files[0], &config)]
    };
    let mut failures = 0;
    for (path, result) in args.files.iter().zip(results) {
        let features = match result {
            Ok(f) => f,
            Err(e) if many => {
                eprintln!("error: {e}");
                failures += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        match args.output.as_deref() {
            None => {
                let stdout = std::io::stdout();
                let mut w = std::io::BufWriter::new(stdout.lock());
                write_features(&features, format, &mut w)
                    .and_then(|_| w.flush())
                    .context("cannot write to stdout")?;
            }
            Some(out) => {
                let target = if many {
                    output_in_dir(out, path, format)
                } else {
                    out.to_path_buf()
                };
                write_atomic(&features, format, &target)?;
                eprintln!(
                    "{}: {} frames x {} -> {}",
                    path.display(),
                    features.n_frames,
                    features.dim,
                    target.display()
                );
            }
        }
    }
    if failures > 0 {
        bail!("{failures} of {} files failed", args.files.len());
    }
    Ok(())
}

/// One file (or standard input, `-`): streamed in chunks when the
/// configuration allows it (memory bounded by the output, not the audio: an
/// hour of speech is fine), else decoded whole. Both give identical features.
fn extract_one(path: &Path, config: &FeatureConfig) -> Result<Features, FeatureError> {
    let Ok(stream) = StreamingExtractor::new(config) else {
        if is_stdin(path) {
            let audio = read_audio_from(std::io::stdin(), "-")?;
            return Extractor::new(config)?.compute_audio(&audio, "-");
        }
        return sori_features::extract_file(path, config);
    };
    let source = if is_stdin(path) {
        AudioSource::from_reader(std::io::stdin(), "-")?
    } else {
        open_wav(path)?
    };
    let dim = stream.dim();
    let mut data = Vec::new();
    let n_frames = stream.run_wav(source, |rows| {
        data.extend_from_slice(rows);
        Ok(())
    })?;
    Ok(Features {
        data,
        n_frames,
        dim,
    })
}

/// Before any work: refuses an output that is one of the inputs (`-o
/// x.wav` for `x.wav`, or a link to it: the recording would be replaced by
/// features) and two inputs whose outputs in the `-o` directory would have
/// the same name (the second would replace the first).
fn check_targets(files: &[PathBuf], out: &Path, many: bool, format: Format) -> anyhow::Result<()> {
    let targets: Vec<PathBuf> = if many {
        files
            .iter()
            .map(|f| output_in_dir(out, f, format))
            .collect()
    } else {
        vec![out.to_path_buf()]
    };
    for (i, target) in targets.iter().enumerate() {
        if let Some(j) = targets[..i].iter().position(|t| t == target) {
            bail!(
                "{} and {} would both be written to {}; rename one, or compute them into separate directories",
                files[j].display(),
                files[i].display(),
                target.display()
            );
        }
        // An existing target that is the same file as an input (by device
        // and inode, so links and other spellings of the path count).
        let Ok(t) = std::fs::metadata(target) else {
            continue;
        };
        for input in files.iter().filter(|f| !is_stdin(f)) {
            if std::fs::metadata(input).is_ok_and(|m| same_file(&m, &t)) {
                bail!(
                    "{}: is the input {}; refusing to write features over it (choose another -o)",
                    target.display(),
                    input.display()
                );
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}

fn output_in_dir(dir: &Path, input: &Path, format: Format) -> PathBuf {
    if is_stdin(input) {
        return dir.join("stdin").with_extension(format.extension());
    }
    let stem = input.file_stem().unwrap_or(input.as_os_str());
    dir.join(stem).with_extension(format.extension())
}
