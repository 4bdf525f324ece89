//! `asr transcribe` and `asr eval`: parsing and printing around
//! `sori_asr::recognize` and `sori_asr::eval`.
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use sori_asr::closed::choices::Choices;
use sori_asr::closed::ensemble::evaluate_choices_ensemble;
use sori_asr::closed::pseudo::pseudo_label;
use sori_asr::decode::lm::load_for_model;
use sori_asr::eval::metrics::alignment_lines;
use sori_asr::eval::{evaluate_with, EvalReport};
use sori_asr::read_manifest;
use sori_asr::recognize::{beam_grid, to_srt, to_vtt, BeamDecoder, Decoder, Greedy, Recognizer};
use std::path::PathBuf;
use std::sync::Arc;

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
    /// Longest audio chunk run through the network at once, in seconds
    /// (1 to 3600).
    #[arg(long, default_value_t = 20.0, value_parser = sori_train::f64_in(1.0, 3600.0))]
    chunk_seconds: f64,
    /// Prefix beam search of this width instead of greedy decoding (1 to 1024).
    #[arg(long, value_parser = sori_train::beam_width)]
    beam: Option<usize>,
    /// Character LM for the beam search (ARPA, from `asr lm`); implies --beam 16.
    /// Without it, the model directory's `lm.arpa` is used when there is one.
    #[arg(long)]
    lm: Option<PathBuf>,
    /// Ignore the model directory's `lm.arpa` (greedy decoding unless --beam).
    #[arg(long, conflicts_with = "lm")]
    no_lm: bool,
    /// LM weight (default tuned on the English valid split); eval takes a
    /// comma-separated list to compare.
    #[arg(long, value_delimiter = ',', default_value = "1.0", value_parser = sori_train::finite_f64)]
    alpha: Vec<f64>,
    /// Bonus per emitted character (default tuned with --alpha); eval takes
    /// a comma-separated list.
    #[arg(long, value_delimiter = ',', default_value = "2.0", value_parser = sori_train::finite_f64)]
    beta: Vec<f64>,
    /// Closed vocabulary: answer with the likeliest of these comma-separated
    /// transcripts (e.g. the ten digit words), scored by CTC likelihood.
    #[arg(long, conflicts_with_all = ["beam", "lm"])]
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
        sori_train::set_threads(self.threads);
        let dir = match &self.model {
            Some(d) => d.clone(),
            None => sori_asr::model::default_model_dir()?,
        };
        let mut rec = Recognizer::load(&dir)?;
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
            .as_ref()
            .map(|d| d.join(sori_asr::decode::lm::MODEL_LM_FILE))
            .filter(|p| p.is_file() && !self.no_lm && self.choices.is_none());
        let lm_path = self.lm.clone().or(shipped);
        let width = match (self.beam, &lm_path) {
            (Some(w), _) => w,
            (None, Some(_)) => 16,
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
        Ok(beam_grid(width, lm, &self.alpha, &self.beta))
    }
}

/// Transcribe audio files.
#[derive(Args, Debug)]
pub struct TranscribeArgs {
    /// Audio files: WAV, FLAC, MP3, Ogg Vorbis, AAC/ALAC (M4A), AIFF; `-` reads standard input.
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
fn transcript_json(
    path: &std::path::Path,
    t: &sori_asr::recognize::Transcript,
) -> serde_json::Value {
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

pub fn transcribe(mut a: TranscribeArgs) -> Result<bool> {
    let mut rec = a.decode.recognizer()?;
    let mut beams = a.decode.beam_decoders(&rec)?;
    if beams.len() > 1 {
        bail!("transcribe takes one --alpha and one --beta value");
    }
    if let Some((_, d)) = beams.pop() {
        rec.decoder = Box::new(d);
    }
    if let Some(c) = a.decode.choices(&rec)? {
        rec.decoder = Box::new(c);
    }
    let together = a.together.transduction()?;
    let many = a.files.len() > 1;
    // (Joint labelling fits the speaker statistics itself.)
    if rec.wants_speaker_norm() && many && !together.is_active() {
        // Files given together are taken as one speaker's.
        let paths: Vec<&std::path::Path> = a.files.iter().map(|p| p.as_path()).collect();
        let used = rec.fit_speaker(&paths);
        eprintln!(
            "note: speaker normalisation fitted on {used} of {} files",
            a.files.len()
        );
    }
    let mut ok = true;
    // Joint labelling answers every file first; each answer is then placed
    // in time by forced alignment.
    let mut answers = std::collections::HashMap::new();
    if together.is_active() {
        let spec = a.decode.choices.clone().unwrap_or_default();
        let candidates: Vec<&str> = spec.split(',').collect();
        let mut recs = [rec];
        let labelled = pseudo_label(&mut recs, &a.files, &candidates, &together, |_, _| {})?;
        [rec] = recs;
        for (path, e) in labelled.failed {
            answers.insert(path, Err(e));
        }
        for l in labelled.labels {
            answers.insert(l.audio, Ok(l.text));
        }
    }
    for path in &a.files {
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
                sori_asr::recognize::Transcript::from_words(kept, t.duration)
            } else {
                t
            }
        });
        match result {
            Ok(t) => match a.format {
                Format::Text => {
                    if many {
                        println!("{}: {}", path.display(), t.text);
                    } else {
                        println!("{}", t.text);
                    }
                    if a.timestamps {
                        for w in &t.words {
                            println!(
                                "  {:8.2} {:8.2}  {:.2}  {}",
                                w.start, w.end, w.confidence, w.word
                            );
                        }
                    }
                }
                Format::Json => println!("{}", transcript_json(path, &t)),
                Format::Srt => {
                    if many {
                        println!("# {}", path.display());
                    }
                    print!("{}", to_srt(&t));
                }
                Format::Vtt => {
                    if many {
                        println!("NOTE {}\n", path.display());
                    }
                    print!("{}", to_vtt(&t));
                }
            },
            Err(e) => {
                ok = false;
                eprintln!("error: {e}");
            }
        }
    }
    Ok(ok)
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
}

pub fn eval(mut a: EvalArgs) -> Result<bool> {
    let mut utts = read_manifest(&a.manifest)?;
    if let Some(n) = a.limit {
        utts.truncate(n);
    }
    let together = a.together.transduction()?;
    let mut rec = a.decode.recognizer()?;
    // Several models or joint labelling: one closed-vocabulary report.
    // Otherwise greedy, any beams and --choices on one run of the network.
    let (names, reports) = if !a.ensemble.is_empty() || together.is_active() {
        let spec = a.decode.choices.clone().unwrap_or_default();
        let candidates: Vec<&str> = spec.split(',').collect();
        let mut recs = vec![rec];
        for dir in &a.ensemble {
            recs.push(Recognizer::load(dir)?);
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
