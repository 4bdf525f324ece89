//! `asr transcribe` and `asr eval`: parsing and printing around
//! `sori_asr::recognize` and `sori_asr::eval`.
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use sori_asr::closed::choices::Choices;
use sori_asr::closed::ensemble::evaluate_choices_ensemble;
use sori_asr::closed::pseudo::pseudo_label;
use sori_asr::decode::lm::load_for_model;
use sori_asr::decode::words::WordLm;
use sori_asr::eval::metrics::alignment_lines;
use sori_asr::eval::{evaluate_with, EvalReport};
use sori_asr::read_manifest;
use sori_asr::recognize::{
    beam_grid, to_srt, to_vtt, BeamDecoder, CueOptions, Decoder, Greedy, Recognizer, Transcript,
    VadOptions, WordGrid,
};
use sori_train::DeviceArg;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
pub enum Format {
    Text,
    Json,
    Srt,
    Vtt,
}

/// Decoding options shared by transcribe and eval.
#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// Model directory (from `asr train`) [default: $SORI_ASR_MODEL, else the
    /// checkout's models/asr-en].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Intra-op CPU threads for libtorch (0: libtorch's default, one per
    /// core; more than the cores are capped to them with a note; at most 65536).
    #[arg(long, default_value_t = 0, value_parser = sori_train::threads)]
    threads: usize,
    /// Where the network runs.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Longest audio chunk run through the network at once, in seconds
    /// (1 to 3600).
    #[arg(long, default_value_t = 20.0, value_parser = sori_train::f64_in(1.0, 3600.0))]
    chunk_seconds: f64,
    /// Prefix beam search of this width instead of greedy decoding (1 to 1024).
    #[arg(long, value_parser = sori_train::beam_width)]
    beam: Option<usize>,
    /// Character LM for the beam search (ARPA, plain or .gz, from `asr lm`); implies --beam 64.
    /// Without it, the model directory's `lm.arpa.gz` or `lm.arpa` is used when there is one.
    #[arg(long)]
    lm: Option<PathBuf>,
    /// Ignore the model directory's LMs (greedy decoding unless --beam).
    #[arg(long, conflicts_with = "lm")]
    no_lm: bool,
    /// LM weight (default tuned on the English valid split); eval takes a
    /// comma-separated list to compare.
    #[arg(long, value_delimiter = ',', default_values_t = [sori_asr::decode::DEFAULT_ALPHA], value_parser = sori_train::finite_f64)]
    alpha: Vec<f64>,
    /// Bonus per emitted character (default tuned with --alpha); eval takes
    /// a comma-separated list.
    #[arg(long, value_delimiter = ',', default_values_t = [sori_asr::decode::DEFAULT_BETA], value_parser = sori_train::finite_f64)]
    beta: Vec<f64>,
    /// Word LM (ARPA over words, plain or .gz, from `asr lm --unit word`)
    /// fused with the character LM at word boundaries. Without it, the model
    /// directory's `words.arpa.gz` or `words.arpa` is used when there is one
    /// and a character LM is in use.
    #[arg(long)]
    word_lm: Option<PathBuf>,
    /// Ignore the model directory's word LM (the character LM alone).
    #[arg(long, conflicts_with = "word_lm")]
    no_word_lm: bool,
    /// The word LM's share (0 to 1) of a known word's score; eval takes a
    /// comma-separated list.
    #[arg(long, value_delimiter = ',', default_values_t = [sori_asr::decode::DEFAULT_WORD_WEIGHT], value_parser = sori_train::f64_in(0.0, 1.0))]
    word_weight: Vec<f64>,
    /// Natural-log penalty (at most 0) of a word the word LM does not know;
    /// eval takes a comma-separated list.
    #[arg(long, value_delimiter = ',', default_values_t = [sori_asr::decode::DEFAULT_OOV_PENALTY], allow_hyphen_values = true, value_parser = sori_train::f64_in(-1000.0, 0.0))]
    oov_penalty: Vec<f64>,
    /// Closed vocabulary: answer with the likeliest of these comma-separated
    /// transcripts (e.g. the ten digit words), scored by CTC likelihood.
    #[arg(long, conflicts_with_all = ["beam", "lm", "word_lm"])]
    choices: Option<String>,
    /// The resolved model directory (set by `recognizer`).
    #[arg(skip)]
    model_dir: Option<PathBuf>,
}

impl DecodeArgs {
    /// The closed-vocabulary decoder of `--choices`, if given.
    pub fn choices(&self, rec: &Recognizer) -> Result<Option<Choices>> {
        Ok(match &self.choices {
            Some(spec) => Some(Choices::parse(spec, &rec.model.config.vocab)?),
            None => None,
        })
    }

    pub fn recognizer(&mut self) -> Result<Recognizer> {
        let (dir, device) = sori_train::model_run(
            self.model.as_deref(),
            sori_asr::model::DEFAULT_MODEL_VAR,
            sori_asr::model::DEFAULT_MODEL,
            self.device,
            self.threads,
        )?;
        let mut rec = Recognizer::load_on(&dir, device)?;
        self.model_dir = Some(dir);
        rec.chunk_seconds = self.chunk_seconds;
        Ok(rec)
    }

    /// The beam decoders asked for (none for greedy decoding); loads the LM
    /// and notes the model's characters it does not know.
    pub fn beam_decoders(&self, rec: &Recognizer) -> Result<Vec<(String, BeamDecoder)>> {
        // The LM that ships inside the model directory is the default; a
        // closed vocabulary (--choices) needs none.
        let shipped = self
            .model_dir
            .as_deref()
            .and_then(sori_asr::decode::lm::model_char_lm)
            .filter(|_| !self.no_lm && self.choices.is_none());
        let lm_path = self.lm.clone().or(shipped);
        if let (None, Some(p)) = (&lm_path, &self.word_lm) {
            bail!(
                "--word-lm {}: a word LM needs the character LM too (--lm FILE or the model's lm.arpa)",
                p.display()
            );
        }
        let width = match (self.beam, &lm_path) {
            (Some(w), _) => w,
            (None, Some(_)) => sori_asr::decode::DEFAULT_LM_BEAM,
            (None, None) => return Ok(Vec::new()),
        };
        let lm = match &lm_path {
            Some(path) => {
                let lm = load_for_model(path, &rec.model.config.vocab)?;
                if !lm.unmapped().is_empty() {
                    let chars: Vec<String> =
                        lm.unmapped().iter().map(|c| format!("{c:?}")).collect();
                    eprintln!(
                        "note: {} has no token for {} (scored as <unk>)",
                        path.display(),
                        chars.join(" ")
                    );
                }
                Some(Arc::new(lm))
            }
            None => None,
        };
        let words = match (&lm, self.no_word_lm || self.choices.is_some()) {
            (Some(_), false) => {
                let shipped = self
                    .model_dir
                    .as_deref()
                    .and_then(sori_asr::decode::words::model_word_lm);
                match self.word_lm.clone().or(shipped) {
                    Some(p) => Some(Arc::new(WordLm::load(&p, &rec.model.config.vocab)?)),
                    None => None,
                }
            }
            _ => None,
        };
        let grid = words.map(|lm| WordGrid {
            lm,
            weights: &self.word_weight,
            oov_penalties: &self.oov_penalty,
        });
        Ok(beam_grid(width, lm, &self.alpha, &self.beta, grid))
    }
}

/// Transcribe audio files.
#[derive(Args, Debug)]
pub struct TranscribeArgs {
    /// Audio files: WAV, FLAC, MP3, Ogg Vorbis, AAC/ALAC (M4A), AIFF; `-`
    /// reads standard input; a directory: its audio files (by extension,
    /// sorted); a quoted pattern (`'talks/*.flac'`) is expanded here.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    decode: DecodeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Text format: print word start and end times and confidences too.
    #[arg(long)]
    timestamps: bool,
    /// Leave out words whose confidence (mean posterior of their
    /// characters, 0..1) is below this; 0 keeps every word.
    #[arg(long, default_value_t = 0.0, value_parser = unit_interval)]
    min_confidence: f64,
    /// Directories given also contribute the audio files of their
    /// subdirectories.
    #[arg(short, long)]
    recursive: bool,
    /// Write one file per input into this directory (NAME.txt, .json, .srt
    /// or .vtt by --format; a directory input's subfolders are kept),
    /// atomically; inputs whose output exists are skipped.
    #[arg(short = 'o', long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// With --output-dir: replace outputs that exist instead of skipping
    /// their inputs.
    #[arg(long, requires = "output_dir")]
    overwrite: bool,
    /// No voice activity detection: decode the whole recording in fixed
    /// chunks (silences included).
    #[arg(long)]
    no_vad: bool,
    /// Silences at least this long (seconds) are left out of recognition
    /// (0.3 s of them kept next to the speech).
    #[arg(long, default_value_t = 1.0, value_parser = sori_train::f64_in(0.3, 3600.0), conflicts_with = "no_vad")]
    drop_silence: f64,
    /// Subtitles: at most this many characters per cue.
    #[arg(long, default_value_t = 42, value_parser = sori_train::usize_in(1, 10_000))]
    max_cue_chars: usize,
    /// Subtitles: at most this many seconds per cue.
    #[arg(long, default_value_t = 6.0, value_parser = sori_train::f64_in(0.5, 3600.0))]
    max_cue_seconds: f64,
    /// Subtitles: a pause at least this long (seconds) ends a cue.
    #[arg(long, default_value_t = 0.5, value_parser = sori_train::f64_in(0.0, 3600.0))]
    cue_pause: f64,
    /// --choices answers of the files taken together (one speaker).
    #[command(flatten)]
    together: crate::pseudo_cmd::TogetherArgs,
}

fn unit_interval(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number between 0 and 1")),
    }
}

/// Seconds rounded to milliseconds (JSON shows 0.3, not 0.30000000000000004).
fn ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A transcript as one JSON object: times in seconds to the millisecond,
/// confidences to four decimals (`null` when nothing was recognised).
fn transcript_json(path: &Path, t: &Transcript) -> serde_json::Value {
    let c4 = |x: f64| (x * 1e4).round() / 1e4;
    let words: Vec<serde_json::Value> = t
        .words
        .iter()
        .map(|w| {
            serde_json::json!({
                "word": w.word, "start": ms(w.start), "end": ms(w.end), "confidence": c4(w.confidence)
            })
        })
        .collect();
    serde_json::json!({
        "audio": path, "text": t.text, "duration": ms(t.duration),
        "confidence": t.confidence.map(c4), "words": words
    })
}

/// File name extensions (any case) that count as audio in a directory:
/// the formats `sori-features` decodes, and `.opus`, which it does not, so
/// that such a file is reported rather than passed over.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "flac", "mp3", "ogg", "oga", "m4a", "mp4", "aac", "aif", "aiff", "aifc", "opus",
];

/// One file to transcribe and the name of its output (relative to
/// --output-dir, without extension).
struct Input {
    path: PathBuf,
    name: PathBuf,
}

fn is_audio_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

fn without_extension(rel: &Path) -> PathBuf {
    match rel.file_stem() {
        Some(stem) => rel.with_file_name(stem),
        None => rel.to_path_buf(),
    }
}

/// The audio files of `dir` (hidden names skipped; subdirectories with
/// `recursive`, symbolic links to directories not followed), sorted by
/// path; unreadable subdirectories are errors, the rest is still listed.
fn audio_in_dir(dir: &Path, recursive: bool, errors: &mut Vec<String>) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                errors.push(format!("{}: cannot read the directory: {e}", d.display()));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    errors.push(format!("{}: cannot read the directory: {e}", d.display()));
                    continue;
                }
            };
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let real_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if real_dir {
                if recursive {
                    stack.push(path);
                }
            } else if is_audio_name(&path) && !path.is_dir() {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The inputs named on the command line: files as given, directories'
/// audio files, quoted patterns expanded. A directory without audio, a
/// pattern matching nothing, an unreadable directory: one error line each.
fn expand_inputs(args: &[PathBuf], recursive: bool) -> (Vec<Input>, Vec<String>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    let add_dir = |dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<String>| {
        let before = errors.len();
        let files = audio_in_dir(dir, recursive, errors);
        if files.is_empty() && errors.len() == before {
            let hint = if recursive {
                ""
            } else {
                "; subfolders are read with --recursive"
            };
            errors.push(format!(
                "{}: no audio files in the directory (looked for .{}{hint})",
                dir.display(),
                AUDIO_EXTENSIONS.join(" .")
            ));
        }
        for f in files {
            let rel = f.strip_prefix(dir).unwrap_or(&f).to_path_buf();
            inputs.push(Input {
                name: without_extension(&rel),
                path: f,
            });
        }
    };
    for arg in args {
        let text = arg.to_string_lossy();
        if arg.as_os_str() == "-" {
            inputs.push(Input {
                path: arg.clone(),
                name: PathBuf::from("stdin"),
            });
        } else if arg.is_dir() {
            add_dir(arg, &mut inputs, &mut errors);
        } else if !arg.exists() && text.contains(['*', '?', '[']) {
            let paths = match glob::glob(&text) {
                Ok(p) => p,
                Err(e) => {
                    errors.push(format!("{text}: not a valid file pattern: {e}"));
                    continue;
                }
            };
            let mut matched = Vec::new();
            for p in paths {
                match p {
                    Ok(p) => matched.push(p),
                    Err(e) => errors.push(format!(
                        "{}: cannot read: {}",
                        e.path().display(),
                        e.error()
                    )),
                }
            }
            if matched.is_empty() {
                errors.push(format!("{text}: no file matches the pattern"));
            }
            matched.sort();
            for m in matched {
                if m.is_dir() {
                    add_dir(&m, &mut inputs, &mut errors);
                } else {
                    let name = PathBuf::from(m.file_name().unwrap_or(m.as_os_str()));
                    inputs.push(Input {
                        name: without_extension(&name),
                        path: m,
                    });
                }
            }
        } else {
            let name = PathBuf::from(arg.file_name().unwrap_or(arg.as_os_str()));
            inputs.push(Input {
                name: without_extension(&name),
                path: arg.clone(),
            });
        }
    }
    (inputs, errors)
}

/// The progress bar over files (stderr, terminals only) and the lines
/// printed around it.
struct Report {
    bar: Option<indicatif::ProgressBar>,
}

impl Report {
    fn new(files: usize) -> Report {
        use std::io::IsTerminal;
        let bar = (files > 1 && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(files as u64);
            let template = "[{bar:30}] {pos}/{len} files, eta {eta} {wide_msg}";
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Report { bar }
    }
    fn start(&self, path: &Path) {
        if let Some(b) = &self.bar {
            b.set_message(path.display().to_string());
        }
    }
    fn done(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }
    fn err(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }
    fn out(&self, text: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| print!("{text}")),
            None => print!("{text}"),
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn extension(f: Format) -> &'static str {
    match f {
        Format::Text => "txt",
        Format::Json => "json",
        Format::Srt => "srt",
        Format::Vtt => "vtt",
    }
}

/// One file's output in `format`; `label` prefixes text lines when several
/// files share standard output.
fn render(a: &TranscribeArgs, path: &Path, t: &Transcript, label: bool) -> String {
    let cues = CueOptions {
        max_chars: a.max_cue_chars,
        max_seconds: a.max_cue_seconds,
        pause: a.cue_pause,
    };
    match a.format {
        Format::Text => {
            let mut s = if label {
                format!("{}: {}\n", path.display(), t.text)
            } else {
                format!("{}\n", t.text)
            };
            if a.timestamps {
                for w in &t.words {
                    s.push_str(&format!(
                        "  {:8.2} {:8.2}  {:.2}  {}\n",
                        w.start, w.end, w.confidence, w.word
                    ));
                }
            }
            s
        }
        Format::Json => format!("{}\n", transcript_json(path, t)),
        Format::Srt => to_srt(t, &cues),
        Format::Vtt => to_vtt(t, &cues),
    }
}

pub fn transcribe(mut a: TranscribeArgs) -> Result<bool> {
    let (inputs, expand_errors) = expand_inputs(&a.files, a.recursive);
    let files: Vec<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
    if inputs.is_empty() {
        // Nothing to do: every input was a directory without audio or a
        // pattern without matches.
        bail!("{}", expand_errors.join("; "));
    }
    let many = files.len() > 1;
    if many && a.output_dir.is_none() && matches!(a.format, Format::Srt | Format::Vtt) {
        bail!(
            "{} input files with --format {} need --output-dir DIR (one subtitle document per file)",
            files.len(),
            extension(a.format)
        );
    }
    let mut rec = a.decode.recognizer()?;
    if !a.no_vad {
        rec.vad = Some(VadOptions {
            drop_silence: a.drop_silence,
            ..VadOptions::default()
        });
    }
    let mut beams = a.decode.beam_decoders(&rec)?;
    if beams.len() > 1 {
        bail!("transcribe takes one --alpha, --beta, --word-weight and --oov-penalty value");
    }
    if let Some((_, d)) = beams.pop() {
        rec.decoder = Box::new(d);
    }
    if let Some(c) = a.decode.choices(&rec)? {
        rec.decoder = Box::new(c);
    }
    let together = a.together.transduction()?;
    let report = Report::new(files.len());
    for e in &expand_errors {
        report.err(&format!("error: {e}"));
    }
    let started = Instant::now();
    // Outputs that exist are skipped before any work (so a run can resume).
    let mut skipped = 0;
    let mut outputs: Vec<Option<PathBuf>> = Vec::new();
    let mut failures = expand_errors.len();
    let mut owner: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut todo = Vec::new();
    for input in &inputs {
        let Some(dir) = &a.output_dir else {
            outputs.push(None);
            todo.push(input.path.clone());
            continue;
        };
        let out = dir.join(format!("{}.{}", input.name.display(), extension(a.format)));
        if let Some(first) = owner.get(&out) {
            report.err(&format!(
                "error: {}: its output {} is also that of {} (rename one of them)",
                input.path.display(),
                out.display(),
                first.display()
            ));
            failures += 1;
            outputs.push(None);
            continue;
        }
        owner.insert(out.clone(), input.path.clone());
        if out.exists() && !a.overwrite {
            report.err(&format!(
                "skip: {}: {} exists (--overwrite replaces it)",
                input.path.display(),
                out.display()
            ));
            skipped += 1;
            report.done();
            outputs.push(None);
            continue;
        }
        outputs.push(Some(out));
        todo.push(input.path.clone());
    }
    // (Joint labelling fits the speaker statistics itself.)
    if rec.wants_speaker_norm() && many && !together.is_active() {
        // Files given together are taken as one speaker's.
        let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
        let used = rec.fit_speaker(&paths);
        report.err(&format!(
            "note: speaker normalisation fitted on {used} of {} files",
            files.len()
        ));
    }
    // Joint labelling answers every file first; each answer is then placed
    // in time by forced alignment.
    let mut answers = HashMap::new();
    if together.is_active() && !todo.is_empty() {
        let spec = a.decode.choices.clone().unwrap_or_default();
        let candidates: Vec<&str> = spec.split(',').collect();
        let mut recs = [rec];
        let labelled = pseudo_label(&mut recs, &todo, &candidates, &together, |_, _| {})?;
        [rec] = recs;
        for (path, e) in labelled.failed {
            answers.insert(path, Err(e));
        }
        for l in labelled.labels {
            answers.insert(l.audio, Ok(l.text));
        }
    }
    let mut audio_seconds = 0.0;
    for (input, out) in inputs.iter().zip(&outputs) {
        let path = &input.path;
        if a.output_dir.is_some() && out.is_none() {
            continue; // skipped, or a name clash already reported
        }
        report.start(path);
        let result = match answers.get(path) {
            Some(Err(e)) => Err(anyhow::anyhow!("{e}")),
            Some(Ok(text)) => rec
                .align_file(path, text)
                .map(|al| al.into_transcript())
                .map_err(anyhow::Error::from),
            None => rec.transcribe_file(path).map_err(anyhow::Error::from),
        };
        let result = result.map(|t| {
            if a.min_confidence > 0.0 {
                let kept = t
                    .words
                    .into_iter()
                    .filter(|w| w.confidence >= a.min_confidence)
                    .collect();
                Transcript {
                    pauses: t.pauses,
                    ..Transcript::from_words(kept, t.duration)
                }
            } else {
                t
            }
        });
        let result = result.and_then(|t| {
            audio_seconds += t.duration;
            let text = render(&a, path, &t, many && out.is_none());
            match out {
                Some(out) => write_output(out, &text),
                None => {
                    report.out(&text);
                    Ok(())
                }
            }
        });
        if let Err(e) = result {
            failures += 1;
            report.err(&format!("error: {e}"));
        }
        report.done();
    }
    report.finish();
    let total = inputs.len() + expand_errors.len();
    if total > 1 {
        let seconds = started.elapsed().as_secs_f64();
        let skipped = if skipped > 0 {
            format!(", {skipped} skipped")
        } else {
            String::new()
        };
        // Real-time factor: wall time of the run (after loading the model)
        // over the seconds of audio transcribed.
        let rtf = if audio_seconds > 0.0 {
            format!("{:.3}", seconds / audio_seconds)
        } else {
            "-".to_string()
        };
        eprintln!(
            "{total} files, {failures} failed{skipped}, total audio {audio_seconds:.1} s, real-time factor {rtf}"
        );
    }
    Ok(failures == 0)
}

/// Writes one output file atomically (its folder created first).
fn write_output(out: &Path, text: &str) -> Result<()> {
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("{}: cannot create the directory: {e}", dir.display()))?;
    }
    sori_train::atomic_write(out, text.as_bytes())?;
    Ok(())
}

/// Score a model on a manifest: CER, WER, worst utterances.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Manifest with reference transcripts.
    #[arg(long)]
    manifest: PathBuf,
    #[command(flatten)]
    decode: DecodeArgs,
    /// How many of the worst utterances to show.
    #[arg(long, default_value_t = 5)]
    worst: usize,
    /// Score only the first N utterances.
    #[arg(long)]
    limit: Option<usize>,
    /// Also print every hypothesis.
    #[arg(long)]
    verbose: bool,
    /// More model directories whose --choices likelihoods are averaged with
    /// --model's (an ensemble; comma-separated).
    #[arg(long, value_delimiter = ',', requires = "choices")]
    ensemble: Vec<PathBuf>,
    /// --choices answers of each speaker's recordings taken together.
    #[command(flatten)]
    together: crate::pseudo_cmd::TogetherArgs,
    /// Voice activity detection as `asr transcribe` does it (silences of a
    /// second or more left out, chunks cut at pauses); off by default here.
    #[arg(long)]
    vad: bool,
}

pub fn eval(mut a: EvalArgs) -> Result<bool> {
    let mut utts = read_manifest(&a.manifest)?;
    if let Some(n) = a.limit {
        utts.truncate(n);
    }
    let together = a.together.transduction()?;
    let mut rec = a.decode.recognizer()?;
    if a.vad {
        rec.vad = Some(VadOptions::default());
    }
    // Several models or joint labelling: one closed-vocabulary report.
    // Otherwise greedy, any beams and --choices on one run of the network.
    let (names, reports) = if !a.ensemble.is_empty() || together.is_active() {
        let spec = a.decode.choices.clone().unwrap_or_default();
        let candidates: Vec<&str> = spec.split(',').collect();
        let mut recs = vec![rec];
        for dir in &a.ensemble {
            recs.push(Recognizer::load_on(dir, a.decode.device.resolve()?)?);
        }
        let r = evaluate_choices_ensemble(&mut recs, &utts, &candidates, &together)?;
        let how = match (together.neighbours, together.balanced) {
            (0, false) => String::new(),
            (0, true) => ", balanced".into(),
            (k, b) => format!(
                ", {k} neighbours (weight {}){}",
                together.alpha,
                if b { ", balanced" } else { "" }
            ),
        };
        let models = match recs.len() {
            1 => "one model".to_string(),
            n => format!("ensemble of {n} models"),
        };
        (vec![format!("choices, {models}{how}")], vec![r])
    } else {
        let beams = a.decode.beam_decoders(&rec)?;
        let mut names = vec!["greedy".to_string()];
        let mut decoders: Vec<&dyn Decoder> = vec![&Greedy];
        for (name, d) in &beams {
            names.push(name.clone());
            decoders.push(d);
        }
        let choices = a.decode.choices(&rec)?;
        if let Some(c) = &choices {
            names.push("choices".into());
            decoders.push(c);
        }
        let reports = evaluate_with(&mut rec, &utts, &decoders, |_, _| {});
        (names, reports)
    };
    if a.verbose {
        for (i, s) in reports[0].scored.iter().enumerate() {
            println!("{}\n  ref: {}", s.audio.display(), s.reference);
            for (name, r) in names.iter().zip(&reports) {
                println!("  hyp ({name}): {}", r.scored[i].hypothesis);
            }
        }
    }
    for (_, e) in &reports[0].failed {
        eprintln!("error: {e}");
    }
    if names[..] == ["greedy"] {
        print_summary(&reports[0]);
    } else {
        for (name, r) in names.iter().zip(&reports) {
            println!("{name}:");
            print_summary(r);
        }
    }
    // The worst utterances of the decoder with the fewest word errors.
    let best = reports
        .iter()
        .enumerate()
        .min_by_key(|(i, r)| (r.words.edits, *i))
        .map_or(0, |(i, _)| i);
    let worst = reports[best].worst(a.worst);
    if !worst.is_empty() {
        if reports.len() > 1 {
            println!("worst utterances ({}):", names[best]);
        } else {
            println!("worst utterances:");
        }
        for s in worst {
            let (top, bottom) = alignment_lines(&s.reference, &s.hypothesis);
            println!(
                "  {} [{}] {} char errors\n    ref: {top}\n    hyp: {bottom}",
                s.audio.display(),
                s.speaker.as_deref().unwrap_or("?"),
                s.chars.edits
            );
        }
    }
    Ok(reports[0].failed.is_empty())
}

fn print_summary(r: &EvalReport) {
    println!(
        "{} utterances ({:.1} min of audio), {} failed: CER {:.2}% ({} / {} chars), WER {:.2}% ({} / {} words), exact {:.2}%",
        r.scored.len(),
        r.audio_seconds / 60.0,
        r.failed.len(),
        100.0 * r.cer(),
        r.chars.edits,
        r.chars.reference_len,
        100.0 * r.wer(),
        r.words.edits,
        r.words.reference_len,
        100.0 * r.exact_rate()
    );
    println!(
        "decoding: {:.1} s for {:.1} s of audio (real-time factor {:.4})",
        r.decode_seconds,
        r.audio_seconds,
        r.decode_seconds / r.audio_seconds.max(1e-9)
    );
}
