//! Recognition: audio file → text with word times. Long recordings are cut
//! into chunks and decoded one chunk at a time, so the network's memory
//! does not grow with the recording. With voice activity detection
//! ([`Recognizer::vad`], `sori_features::vad`) the chunks are planned on
//! the speech regions ([`plan_chunks`]): silences longer than
//! `drop_silence` are left out (but for `context` seconds at each side),
//! and a stretch of speech longer than a chunk is cut in the middle of a
//! pause between regions; only a region longer than a chunk by itself is
//! cut at its quietest 10 ms. Without it, chunks are cut at the quietest
//! 10 ms inside the last seconds of each window ([`cut_point`]).
//!
//! Decoding is greedy ([`Greedy`]) or a prefix beam search with an optional
//! character LM ([`BeamDecoder`]); several decoders can share one run of
//! the network ([`Recognizer::transcribe_file_with`]), which is how `asr
//! eval` compares them.
use crate::data::vocab::Vocab;
use crate::decode::lm::CharLm;
use crate::decode::words::{Fusion, WordLm};
use crate::decode::{
    DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_LM_BEAM, DEFAULT_OOV_PENALTY, DEFAULT_WORD_WEIGHT,
};
use crate::error::{AsrError, Result};
use crate::frontend::{speaker_norm, FeatureNorm, SpeakerNorm};
use crate::model::AsrModel;
use serde::Serialize;
use sori_ctc::{beam_search, force_align, BeamOptions, LanguageModel};
use sori_features::vad::{Vad, VadConfig};
use sori_features::{Extractor, Features};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tch::Device;

/// A recognised word and where it is in the audio.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Word {
    pub word: String,
    /// Seconds from the start of the file.
    pub start: f64,
    pub end: f64,
    /// Mean over the word's characters of the network's posterior for the
    /// character (its highest frame within the character's span), in 0..=1.
    /// Not calibrated: near 1 the network was sure; noise, foreign speech and
    /// mumbling come out lower.
    pub confidence: f64,
}

/// The result for one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    pub text: String,
    pub words: Vec<Word>,
    /// Seconds of audio.
    pub duration: f64,
    /// Mean of the characters' posteriors over the whole transcript (each
    /// character counts once); `None` when nothing was recognised.
    pub confidence: Option<f64>,
    /// Pauses found by voice activity detection, `(start, end)` in seconds
    /// (empty without it): subtitle cues end at them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pauses: Vec<(f64, f64)>,
}

impl Transcript {
    /// A transcript of `words`: the text is the words joined by spaces.
    pub fn from_words(words: Vec<Word>, duration: f64) -> Transcript {
        let chars: usize = words.iter().map(|w| w.word.chars().count()).sum();
        let confidence = (chars > 0).then(|| {
            words
                .iter()
                .map(|w| w.confidence * w.word.chars().count() as f64)
                .sum::<f64>()
                / chars as f64
        });
        Transcript {
            text: words
                .iter()
                .map(|w| w.word.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            words,
            duration,
            confidence,
            pauses: Vec::new(),
        }
    }
}

/// A decoded label and the model step where it was emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emission {
    pub label: usize,
    pub step: usize,
}

/// Turns one chunk's `T × classes` log-probabilities into labels with steps.
pub trait Decoder {
    fn decode(
        &self,
        log_probs: &[f32],
        steps: usize,
        classes: usize,
        blank: usize,
    ) -> Result<Vec<Emission>>;
}

/// Best path: argmax per step, repeats merged, blanks dropped; a label's
/// step is the first of its run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Greedy;

impl Decoder for Greedy {
    fn decode(
        &self,
        lp: &[f32],
        steps: usize,
        classes: usize,
        blank: usize,
    ) -> Result<Vec<Emission>> {
        let frames = lp.get(..steps * classes).unwrap_or(lp);
        Ok(sori_ctc::greedy_decode_frames(frames, classes, blank)?
            .into_iter()
            .map(|(label, step)| Emission { label, step })
            .collect())
    }
}

/// Prefix beam search (Hannun et al. 2014) with an optional character LM:
/// ranking score `ln p_ctc + alpha ln p_lm + beta * characters`. A label's
/// step is the first frame of its span in the Viterbi alignment of the best
/// hypothesis, so word times mean what they mean for [`Greedy`].
#[derive(Debug, Clone)]
pub struct BeamDecoder {
    pub beam_width: usize,
    pub lm: Option<Arc<CharLm>>,
    /// LM weight (alpha).
    pub alpha: f64,
    /// Bonus per emitted character (beta).
    pub beta: f64,
    /// A word LM fused with the character LM at word boundaries
    /// ([`crate::decode::words`]); used only together with `lm`.
    pub words: Option<Arc<WordLm>>,
    /// The word LM's share of a known word's score (0 to 1).
    pub word_weight: f64,
    /// Natural-log penalty of a word the word LM does not know.
    pub oov_penalty: f64,
}

impl BeamDecoder {
    /// A beam search without LM.
    pub fn new(beam_width: usize) -> Self {
        BeamDecoder {
            beam_width,
            lm: None,
            alpha: 0.0,
            beta: 0.0,
            words: None,
            word_weight: 0.0,
            oov_penalty: 0.0,
        }
    }

    /// Adds an LM with weight `alpha` and per-character bonus `beta`.
    pub fn with_lm(mut self, lm: Arc<CharLm>, alpha: f64, beta: f64) -> Self {
        self.lm = Some(lm);
        self.alpha = alpha;
        self.beta = beta;
        self
    }

    /// Adds a word LM fused with the character LM: `weight` is its share of
    /// a known word's score, `oov_penalty` what an unknown word pays.
    pub fn with_words(mut self, words: Arc<WordLm>, weight: f64, oov_penalty: f64) -> Self {
        self.words = Some(words);
        self.word_weight = weight;
        self.oov_penalty = oov_penalty;
        self
    }

    /// The best label sequence of one chunk (no times).
    pub fn best_labels(&self, lp: &[f32], classes: usize, blank: usize) -> Result<Vec<usize>> {
        let opts = BeamOptions {
            beam_width: self.beam_width,
            blank,
            lm_weight: self.alpha,
            insertion_bonus: self.beta,
            nbest: 1,
        };
        let fusion = match (self.lm.as_deref(), self.words.as_deref()) {
            (Some(chars), Some(words)) => Some(Fusion {
                chars,
                words,
                weight: self.word_weight,
                oov_penalty: self.oov_penalty,
            }),
            _ => None,
        };
        let lm = match &fusion {
            Some(f) => Some(f as &dyn LanguageModel),
            None => self.lm.as_deref().map(|l| l as &dyn LanguageModel),
        };
        let hyps = beam_search(lp, classes, &opts, lm)?;
        Ok(hyps
            .into_iter()
            .next()
            .map(|h| h.labels)
            .unwrap_or_default())
    }
}

impl Decoder for BeamDecoder {
    fn decode(
        &self,
        lp: &[f32],
        steps: usize,
        classes: usize,
        blank: usize,
    ) -> Result<Vec<Emission>> {
        let lp = &lp[..steps * classes];
        let labels = self.best_labels(lp, classes, blank)?;
        if labels.is_empty() {
            return Ok(Vec::new());
        }
        aligned_emissions(lp, classes, &labels, blank)
    }
}

/// The labels of a decoded answer placed at the first step of their span in
/// its Viterbi alignment (`sori_ctc::force_align`), so word times mean what
/// they mean for [`Greedy`].
pub fn aligned_emissions(
    lp: &[f32],
    classes: usize,
    labels: &[usize],
    blank: usize,
) -> Result<Vec<Emission>> {
    let a = force_align(lp, classes, labels, blank)?;
    Ok(a.spans
        .iter()
        .map(|s| Emission {
            label: s.label,
            step: s.start,
        })
        .collect())
}

/// The decoder `asr transcribe` uses for a model directory by default: a
/// beam search of [`DEFAULT_LM_BEAM`] with the directory's character LM
/// (`lm.arpa.gz` or `lm.arpa`) fused with its word LM (`words.arpa.gz` or
/// `words.arpa`) when it ships one, at the default weights; `None` when it
/// ships no character LM (greedy decoding).
pub fn shipped_decoder(dir: &Path, vocab: &Vocab) -> Result<Option<BeamDecoder>> {
    let Some(chars) = crate::decode::lm::model_char_lm(dir) else {
        return Ok(None);
    };
    let lm = crate::decode::lm::load_for_model(&chars, vocab)?;
    let mut d =
        BeamDecoder::new(DEFAULT_LM_BEAM).with_lm(Arc::new(lm), DEFAULT_ALPHA, DEFAULT_BETA);
    if let Some(words) = crate::decode::words::model_word_lm(dir) {
        let w = WordLm::load(&words, vocab)?;
        d = d.with_words(Arc::new(w), DEFAULT_WORD_WEIGHT, DEFAULT_OOV_PENALTY);
    }
    Ok(Some(d))
}

/// A word LM and the values of its weight and OOV penalty to try.
#[derive(Debug, Clone)]
pub struct WordGrid<'a> {
    pub lm: Arc<WordLm>,
    pub weights: &'a [f64],
    pub oov_penalties: &'a [f64],
}

/// The beam decoders of an alpha × beta (× word weight × OOV penalty, with
/// a word LM) grid, one decoder without LM when `lm` is `None`, each with a
/// label for reports.
pub fn beam_grid(
    beam_width: usize,
    lm: Option<Arc<CharLm>>,
    alphas: &[f64],
    betas: &[f64],
    words: Option<WordGrid<'_>>,
) -> Vec<(String, BeamDecoder)> {
    let Some(lm) = lm else {
        return vec![(format!("beam {beam_width}"), BeamDecoder::new(beam_width))];
    };
    let mut out = Vec::new();
    for &a in alphas {
        for &b in betas {
            let base = BeamDecoder::new(beam_width).with_lm(lm.clone(), a, b);
            let name = format!("beam {beam_width} + LM (alpha {a}, beta {b}");
            match &words {
                None => out.push((format!("{name})"), base)),
                Some(g) => {
                    for &w in g.weights {
                        for &o in g.oov_penalties {
                            out.push((
                                format!("{name}, word LM {w}, OOV {o})"),
                                base.clone().with_words(g.lm.clone(), w, o),
                            ));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Each emission's posterior: the highest probability of its label from its
/// step up to (not including) the next emission's step.
pub fn emission_posteriors(lp: &[f32], steps: usize, classes: usize, em: &[Emission]) -> Vec<f64> {
    em.iter()
        .enumerate()
        .map(|(i, e)| {
            let next = em.get(i + 1).map_or(steps, |n| n.step);
            let span = e.step.min(steps.saturating_sub(1))..next.clamp(e.step + 1, steps.max(1));
            span.map(|t| lp[t * classes + e.label])
                .fold(f32::NEG_INFINITY, f32::max)
                .exp() as f64
        })
        .collect()
}

/// Groups emitted characters `(char, step, posterior)` into words with
/// times (`step_s` seconds per model step, `offset` seconds added) and
/// confidences (the mean posterior of their characters).
pub fn words_from_emissions(chars: &[(char, usize, f64)], step_s: f64, offset: f64) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let mut cur: Option<(Word, f64, usize)> = None;
    let close = |(mut w, sum, n): (Word, f64, usize)| {
        w.confidence = sum / n as f64;
        w
    };
    for &(c, step, p) in chars {
        let t = offset + step as f64 * step_s;
        if c == ' ' {
            if let Some(w) = cur.take() {
                words.push(close(w));
            }
            continue;
        }
        match cur.as_mut() {
            Some((w, sum, n)) => {
                w.word.push(c);
                w.end = t + step_s;
                *sum += p;
                *n += 1;
            }
            None => {
                cur = Some((
                    Word {
                        word: c.to_string(),
                        start: t,
                        end: t + step_s,
                        confidence: 0.0,
                    },
                    p,
                    1,
                ))
            }
        }
    }
    words.extend(cur.map(close));
    words
}

/// One file decoded by several decoders.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiTranscript {
    /// One transcript per decoder, in the decoders' order.
    pub transcripts: Vec<Transcript>,
    /// Seconds spent in work all decoders share (loading, features, network).
    pub shared_seconds: f64,
    /// Seconds spent in each decoder.
    pub decoder_seconds: Vec<f64>,
}

/// Voice activity detection in recognition (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct VadOptions {
    /// The detector's settings.
    pub config: VadConfig,
    /// Silences (between speech regions) at least this long, in seconds,
    /// are left out of recognition.
    pub drop_silence: f64,
    /// Seconds of a left-out silence kept next to the speech at each side
    /// (the network saw silence around its training utterances).
    pub context: f64,
}

impl Default for VadOptions {
    fn default() -> Self {
        VadOptions {
            config: VadConfig::default(),
            drop_silence: 1.0,
            context: 0.3,
        }
    }
}

/// The pieces of a recording that [`Recognizer::transcribe_samples_with`]
/// decodes, and the pauses between speech regions (sample ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPlan {
    pub chunks: Vec<Range<usize>>,
    pub pauses: Vec<Range<usize>>,
}

/// Plans the chunks of `len` samples at `rate` Hz from the speech
/// `regions` (in order, not overlapping): regions closer than
/// `drop_silence` samples form one stretch, widened by `context` samples at
/// each side; a stretch longer than `chunk` samples is cut in the middle of
/// the last pause between its regions that keeps the chunk within `chunk`
/// (and at least a quarter of it long), else at [`cut_point`]. Every sample
/// of every region lies in exactly one chunk; chunks do not overlap.
pub fn plan_chunks(
    samples: &[f32],
    rate: usize,
    chunk: usize,
    regions: &[Range<usize>],
    drop_silence: usize,
    context: usize,
) -> ChunkPlan {
    let len = samples.len();
    let chunk = chunk.max(1);
    let pauses: Vec<Range<usize>> = regions
        .windows(2)
        .map(|w| w[0].end..w[1].start)
        .filter(|g| !g.is_empty())
        .collect();
    // Stretches of regions joined across short silences.
    let mut stretches: Vec<Vec<Range<usize>>> = Vec::new();
    for r in regions.iter().filter(|r| !r.is_empty()) {
        match stretches.last_mut() {
            Some(s) if r.start - s.last().map_or(0, |l| l.end) < drop_silence => s.push(r.clone()),
            _ => stretches.push(vec![r.clone()]),
        }
    }
    let mut chunks: Vec<Range<usize>> = Vec::new();
    for s in &stretches {
        let prev_end = chunks.last().map_or(0, |c| c.end);
        let start = s[0].start.saturating_sub(context).max(prev_end);
        let end = (s[s.len() - 1].end + context).min(len);
        // Cut candidates: the middles of the pauses inside the stretch.
        let cuts: Vec<usize> = s.windows(2).map(|w| (w[0].end + w[1].start) / 2).collect();
        let mut cs = start;
        while end - cs > chunk {
            let fits = cuts
                .iter()
                .rev()
                .find(|&&m| m > cs + chunk / 4 && m <= cs + chunk);
            let e = match fits {
                Some(&m) => m,
                None => cut_point(&samples[..end], cs, chunk, rate),
            };
            chunks.push(cs..e);
            cs = e;
        }
        chunks.push(cs..end);
    }
    ChunkPlan { chunks, pauses }
}

/// Fixed chunks over the whole recording (no voice activity detection).
pub fn plan_fixed_chunks(samples: &[f32], rate: usize, chunk: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < samples.len() {
        let end = cut_point(samples, start, chunk, rate);
        out.push(start..end);
        start = end;
    }
    out
}

/// A loaded model ready to transcribe.
pub struct Recognizer {
    pub model: AsrModel,
    extractor: Extractor,
    /// Longest piece of audio run through the network at once.
    pub chunk_seconds: f64,
    pub decoder: Box<dyn Decoder>,
    /// The current speaker's feature statistics, for a model trained with
    /// speaker normalisation ([`Recognizer::fit_speaker`]); without them
    /// each piece of audio is normalised by its own.
    pub speaker_norm: Option<SpeakerNorm>,
    /// Voice activity detection before recognition (off unless set:
    /// `asr transcribe` turns it on, `asr eval --vad` too).
    pub vad: Option<VadOptions>,
}

impl Recognizer {
    /// Loads the model of a directory on the CPU, greedy decoding.
    pub fn load(dir: &Path) -> Result<Self> {
        Self::load_on(dir, Device::Cpu)
    }

    /// Loads the model of a directory onto `device` (the network runs
    /// there; decoding reads its outputs back on the CPU).
    pub fn load_on(dir: &Path, device: Device) -> Result<Self> {
        Self::new(AsrModel::load(dir, device)?)
    }

    pub fn new(model: AsrModel) -> Result<Self> {
        let extractor = model.config.frontend.extractor()?;
        Ok(Recognizer {
            model,
            extractor,
            chunk_seconds: 20.0,
            decoder: Box::new(Greedy),
            speaker_norm: None,
            vad: None,
        })
    }

    /// True when the model wants one speaker's statistics (see
    /// [`FeatureNorm::Speaker`]).
    pub fn wants_speaker_norm(&self) -> bool {
        self.model.config.frontend.norm == FeatureNorm::Speaker
    }

    /// Fits the speaker statistics on `files` (recordings of one speaker;
    /// their transcripts are not needed) and uses them from now on. Files
    /// that cannot be read are left out here; transcribing them reports
    /// why. Returns how many files were used.
    pub fn fit_speaker(&mut self, files: &[&Path]) -> usize {
        let fe = self.model.config.frontend.clone();
        let mut feats = Vec::new();
        for path in files {
            let f = fe
                .load(path)
                .and_then(|s| fe.features(&mut self.extractor, &s, path));
            if let Ok(f) = f {
                feats.push(f.data);
            }
        }
        self.speaker_norm = speaker_norm(fe.dim(), feats.iter().map(|f| f.as_slice()));
        feats.len()
    }

    /// [`Recognizer::fit_speaker`] for every model of an ensemble that
    /// wants speaker statistics; models with the same front end share one
    /// fit, so the files are read once per distinct front end.
    pub fn fit_speaker_all(recs: &mut [Recognizer], files: &[&Path]) {
        for i in 0..recs.len() {
            if !recs[i].wants_speaker_norm() {
                continue;
            }
            match same_front_end_before(recs, i) {
                Some(j) => recs[i].speaker_norm = recs[j].speaker_norm.clone(),
                None => {
                    recs[i].fit_speaker(files);
                }
            }
        }
    }

    /// Transcribes a WAV file.
    pub fn transcribe_file(&mut self, path: &Path) -> Result<Transcript> {
        let samples = self.model.config.frontend.load(path)?;
        self.transcribe_samples(&samples, path)
    }

    /// Transcribes samples at the model's rate (`path` names them in errors).
    pub fn transcribe_samples(&mut self, samples: &[f32], path: &Path) -> Result<Transcript> {
        let decoder = std::mem::replace(&mut self.decoder, Box::new(Greedy));
        let out = self.transcribe_samples_with(samples, path, &[decoder.as_ref()]);
        self.decoder = decoder;
        Ok(out?.transcripts.remove(0))
    }

    /// Transcribes a WAV file with each of `decoders`, running the network
    /// once.
    pub fn transcribe_file_with(
        &mut self,
        path: &Path,
        decoders: &[&dyn Decoder],
    ) -> Result<MultiTranscript> {
        let start = Instant::now();
        let samples = self.model.config.frontend.load(path)?;
        let mut out = self.transcribe_samples_with(&samples, path, decoders)?;
        out.shared_seconds =
            start.elapsed().as_secs_f64() - out.decoder_seconds.iter().sum::<f64>();
        Ok(out)
    }

    /// [`Recognizer::transcribe_samples`] with several decoders.
    pub fn transcribe_samples_with(
        &mut self,
        samples: &[f32],
        path: &Path,
        decoders: &[&dyn Decoder],
    ) -> Result<MultiTranscript> {
        let started = Instant::now();
        let rate = self.model.config.frontend.sample_rate as usize;
        let chunk = ((self.chunk_seconds * rate as f64) as usize).max(rate);
        let plan = self.plan(samples, chunk)?;
        let mut words: Vec<Vec<Word>> = vec![Vec::new(); decoders.len()];
        let mut decoder_seconds = vec![0.0; decoders.len()];
        for range in &plan.chunks {
            let piece = &samples[range.clone()];
            // A tail shorter than one frame carries no speech.
            if piece.len() >= self.model.config.frontend.feature_config().frame_length {
                let offset = range.start as f64 / rate as f64;
                let (lp, steps) = self.log_probs(piece, path)?;
                for (i, d) in decoders.iter().enumerate() {
                    let t = Instant::now();
                    words[i].extend(self.decode_piece(*d, &lp, steps, offset)?);
                    decoder_seconds[i] += t.elapsed().as_secs_f64();
                }
            }
        }
        let duration = samples.len() as f64 / rate as f64;
        let secs = |r: &Range<usize>| (r.start as f64 / rate as f64, r.end as f64 / rate as f64);
        let pauses: Vec<(f64, f64)> = plan.pauses.iter().map(secs).collect();
        let transcripts = words
            .into_iter()
            .map(|words| Transcript {
                pauses: pauses.clone(),
                ..Transcript::from_words(words, duration)
            })
            .collect();
        let total = started.elapsed().as_secs_f64();
        Ok(MultiTranscript {
            transcripts,
            shared_seconds: total - decoder_seconds.iter().sum::<f64>(),
            decoder_seconds,
        })
    }

    /// The chunks of `samples` to decode: [`plan_chunks`] on the speech
    /// regions with voice activity detection, else fixed chunks.
    pub fn plan(&self, samples: &[f32], chunk: usize) -> Result<ChunkPlan> {
        let rate = self.model.config.frontend.sample_rate as usize;
        let Some(v) = &self.vad else {
            return Ok(ChunkPlan {
                chunks: plan_fixed_chunks(samples, rate, chunk),
                pauses: Vec::new(),
            });
        };
        let regions = Vad::new(&v.config, rate as u32)
            .map_err(|e| AsrError::Config(e.to_string()))?
            .detect(samples);
        let secs = |s: f64| (s * rate as f64).round() as usize;
        Ok(plan_chunks(
            samples,
            rate,
            chunk,
            &regions,
            secs(v.drop_silence),
            secs(v.context),
        ))
    }

    /// Log-probabilities (`T × classes`) of samples at the model's rate.
    pub fn log_probs(&mut self, samples: &[f32], path: &Path) -> Result<(Vec<f32>, usize)> {
        let f = self.input_features(samples, path)?;
        self.model.log_probs(&f.data, f.n_frames)
    }

    /// The network's input for samples at the model's rate: the front end's
    /// features, normalised as the model was trained.
    pub fn input_features(&mut self, samples: &[f32], path: &Path) -> Result<Features> {
        let fe = &self.model.config.frontend;
        let mut f = fe.features(&mut self.extractor, samples, path)?;
        if fe.norm == FeatureNorm::Speaker {
            let own;
            let norm = match &self.speaker_norm {
                Some(n) => n,
                None => {
                    own = speaker_norm(f.dim, [f.data.as_slice()]);
                    own.as_ref().expect("features() refuses zero frames")
                }
            };
            norm.apply(&mut f.data, f.dim);
        }
        Ok(f)
    }

    fn decode_piece(
        &self,
        decoder: &dyn Decoder,
        lp: &[f32],
        steps: usize,
        offset: f64,
    ) -> Result<Vec<Word>> {
        let vocab = &self.model.config.vocab;
        let em = decoder.decode(lp, steps, vocab.classes(), vocab.blank())?;
        let post = emission_posteriors(lp, steps, vocab.classes(), &em);
        let chars: Vec<(char, usize, f64)> = em
            .iter()
            .zip(post)
            .filter_map(|(e, p)| vocab.labels().get(e.label).map(|&c| (c, e.step, p)))
            .collect();
        Ok(words_from_emissions(
            &chars,
            self.model.config.step_seconds(),
            offset,
        ))
    }
}

/// The first model before `recs[i]` with the same front end (features and
/// normalisation), whose per-file work `recs[i]` can share.
pub fn same_front_end_before(recs: &[Recognizer], i: usize) -> Option<usize> {
    let fe = &recs[i].model.config.frontend;
    (0..i).find(|&j| &recs[j].model.config.frontend == fe)
}

/// End of the chunk that starts at `start`: the whole rest if it fits in
/// `chunk` samples, else the quietest 10 ms window in the chunk's last 3 s.
pub fn cut_point(samples: &[f32], start: usize, chunk: usize, rate: usize) -> usize {
    if samples.len() - start <= chunk {
        return samples.len();
    }
    let hop = (rate / 100).max(1);
    let search = (3 * rate).min(chunk / 2);
    let lo = start + chunk - search;
    let mut best = (start + chunk, f32::INFINITY);
    let mut s = lo;
    while s + hop <= start + chunk {
        let e: f32 = samples[s..s + hop].iter().map(|x| x * x).sum();
        if e < best.1 {
            best = (s + hop / 2, e);
        }
        s += hop;
    }
    best.0
}

/// Errors of the files that failed, in order, with the results of the rest.
pub fn transcribe_many(
    rec: &mut Recognizer,
    paths: &[&Path],
) -> Vec<(std::path::PathBuf, Result<Transcript>)> {
    paths
        .iter()
        .map(|p| (p.to_path_buf(), rec.transcribe_file(p)))
        .collect()
}

fn timestamp(t: f64, sep: char) -> String {
    let ms = (t.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Where subtitle cues end (see [`cues`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CueOptions {
    /// At most this many characters of text per cue (a longer word alone
    /// still makes a cue).
    pub max_chars: usize,
    /// At most this many seconds from a cue's first word's start to its
    /// last word's end (a longer word alone still makes a cue).
    pub max_seconds: f64,
    /// A pause at least this long (seconds) ends a cue: one of the
    /// transcript's `pauses` whose middle lies between the starts of two
    /// consecutive words (a word's end can sit late: CTC emits its last
    /// letter late), or a gap between two words' times.
    pub pause: f64,
}

impl Default for CueOptions {
    /// 42 characters (one subtitle line of the usual broadcast guidelines),
    /// 6 seconds, 0.5 s pauses.
    fn default() -> Self {
        CueOptions {
            max_chars: 42,
            max_seconds: 6.0,
            pause: 0.5,
        }
    }
}

/// Subtitle cues `(start, end, text)` of a transcript: words are added to a
/// cue until the next one would make it longer than `max_chars` or
/// `max_seconds`, or follows a pause (see [`CueOptions`]).
pub fn cues(t: &Transcript, o: &CueOptions) -> Vec<(f64, f64, String)> {
    let mut out: Vec<(f64, f64, String)> = Vec::new();
    let mut cur: Vec<&Word> = Vec::new();
    let mut chars = 0;
    for w in &t.words {
        let n = w.word.chars().count();
        if let (Some(first), Some(last)) = (cur.first(), cur.last()) {
            let paused = w.start - last.end >= o.pause
                || t.pauses.iter().any(|&(a, b)| {
                    let mid = (a + b) / 2.0;
                    b - a >= o.pause && mid > last.start && mid < w.start
                });
            if paused || chars + 1 + n > o.max_chars || w.end - first.start > o.max_seconds {
                out.push(cue_of(&cur));
                cur.clear();
            }
        }
        chars = if cur.is_empty() { n } else { chars + 1 + n };
        cur.push(w);
    }
    if !cur.is_empty() {
        out.push(cue_of(&cur));
    }
    out
}

fn cue_of(ws: &[&Word]) -> (f64, f64, String) {
    (
        ws[0].start,
        ws[ws.len() - 1].end,
        ws.iter()
            .map(|w| w.word.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// SubRip subtitles of a transcript.
pub fn to_srt(t: &Transcript, o: &CueOptions) -> String {
    let mut s = String::new();
    for (i, (a, b, text)) in cues(t, o).iter().enumerate() {
        s.push_str(&format!(
            "{}\n{} --> {}\n{text}\n\n",
            i + 1,
            timestamp(*a, ','),
            timestamp(*b, ',')
        ));
    }
    s
}

/// WebVTT subtitles of a transcript (one document).
pub fn to_vtt(t: &Transcript, o: &CueOptions) -> String {
    let mut s = String::from("WEBVTT\n\n");
    for (a, b, text) in cues(t, o) {
        s.push_str(&format!(
            "{} --> {}\n{text}\n\n",
            timestamp(a, '.'),
            timestamp(b, '.')
        ));
    }
    s
}

/// Refuses a model whose output classes do not match its vocabulary (a
/// hand-edited config).
pub fn check_model(model: &AsrModel, dir: &Path) -> Result<()> {
    let classes = model.output.ws.size()[0] as usize;
    if classes != model.config.vocab.classes() {
        return Err(AsrError::Model {
            path: dir.to_path_buf(),
            message: format!(
                "output layer has {classes} classes but the vocabulary {}",
                model.config.vocab.classes()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_merges_repeats_and_keeps_first_steps() {
        // classes: 0 'a', 1 'b', 2 blank; path a a _ a b b _
        let path = [0, 0, 2, 0, 1, 1, 2];
        let mut lp = vec![-5f32; path.len() * 3];
        for (t, &c) in path.iter().enumerate() {
            lp[t * 3 + c] = -0.1;
        }
        let em = Greedy.decode(&lp, path.len(), 3, 2).unwrap();
        let got: Vec<(usize, usize)> = em.iter().map(|e| (e.label, e.step)).collect();
        assert_eq!(got, [(0, 0), (0, 3), (1, 4)]);
    }

    #[test]
    fn words_get_times_and_subtitles_format() {
        let chars = [
            ('h', 2, 0.5),
            ('i', 3, 1.0),
            (' ', 5, 1.0),
            ('y', 8, 0.9),
            ('o', 9, 0.7),
        ];
        let w = words_from_emissions(&chars, 0.03, 1.0);
        assert!((w[0].confidence - 0.75).abs() < 1e-12 && (w[1].confidence - 0.8).abs() < 1e-12);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].word, "hi");
        assert!((w[0].start - 1.06).abs() < 1e-9 && (w[0].end - 1.12).abs() < 1e-9);
        assert!((w[1].start - 1.24).abs() < 1e-9);
        let t = Transcript::from_words(w, 2.0);
        assert_eq!(t.text, "hi yo");
        // Four characters: (0.5 + 1 + 0.9 + 0.7) / 4.
        assert!((t.confidence.unwrap() - 0.775).abs() < 1e-12);
        let o = CueOptions::default();
        assert_eq!(
            to_srt(&t, &o),
            "1\n00:00:01,060 --> 00:00:01,300\nhi yo\n\n"
        );
        assert_eq!(
            to_vtt(&t, &o),
            "WEBVTT\n\n00:00:01.060 --> 00:00:01.300\nhi yo\n\n"
        );
        assert_eq!(timestamp(3725.5, ','), "01:02:05,500");
    }

    #[test]
    fn chunks_cut_in_the_quiet() {
        let rate = 100;
        // Loud everywhere except a quiet patch at samples 850..870.
        let mut x = vec![0.5f32; 2500];
        for v in &mut x[850..870] {
            *v = 0.0;
        }
        let cut = cut_point(&x, 0, 1000, rate);
        assert!((850..870).contains(&cut), "{cut}");
        assert_eq!(cut_point(&x, 2000, 1000, rate), 2500);
    }

    #[test]
    fn chunks_follow_speech_regions_and_cut_in_pauses() {
        let rate = 100;
        let x = vec![0.5f32; 10_000];
        let regions = [
            100..500,
            560..900,
            950..1400,
            3000..3200,
            3250..3300,
            9950..10_000,
        ];
        // chunk 6 s, silences of 1 s or more dropped, 0.2 s kept at each side.
        let plan = plan_chunks(&x, rate, 600, &regions, 100, 20);
        assert_eq!(
            plan.chunks,
            [80..530, 530..925, 925..1420, 2980..3320, 9930..10_000]
        );
        assert_eq!(
            plan.pauses,
            [500..560, 900..950, 1400..3000, 3200..3250, 3300..9950]
        );
        // A region longer than a chunk by itself: cut at its quietest 10 ms.
        let mut y = vec![0.5f32; 2000];
        for v in &mut y[450..470] {
            *v = 0.0;
        }
        let whole: Vec<Range<usize>> = std::iter::once(0..2000).collect();
        let plan = plan_chunks(&y, rate, 600, &whole, 100, 20);
        let c = &plan.chunks;
        assert!((450..470).contains(&c[0].end), "{c:?}");
        assert_eq!((c[0].start, c[c.len() - 1].end), (0, 2000));
        assert!(c.windows(2).all(|w| w[0].end == w[1].start), "{c:?}");
        assert!(c.iter().all(|r| r.len() <= 600), "{c:?}");
        // No speech: nothing to decode.
        assert!(plan_chunks(&y, rate, 600, &[], 100, 20).chunks.is_empty());
        // Without regions, fixed chunks cover everything.
        let fixed = plan_fixed_chunks(&x[..900], rate, 1000);
        assert_eq!((fixed.len(), fixed[0].clone()), (1, 0..900));
        let fixed = plan_fixed_chunks(&x[..900], rate, 600);
        assert!(fixed.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!((fixed[0].start, fixed[fixed.len() - 1].end), (0, 900));
    }

    #[test]
    fn cues_end_at_pauses_and_at_the_limits() {
        let w = |word: &str, start: f64, end: f64| Word {
            word: word.into(),
            start,
            end,
            confidence: 1.0,
        };
        let mut t = Transcript::from_words(
            vec![
                w("one", 0.0, 0.3),
                // Its letters were emitted late: 0.15 s from its end to
                // "three", but a VAD pause 0.8..1.6 lies between them.
                w("two", 0.4, 1.55),
                w("three", 1.7, 2.0),
                // A 0.6 s gap between words' times.
                w("four", 2.6, 2.9),
                w("five", 3.0, 3.2),
            ],
            4.0,
        );
        t.pauses = vec![(0.8, 1.6), (2.05, 2.2)];
        let o = CueOptions::default();
        let texts = |c: Vec<(f64, f64, String)>| c.into_iter().map(|c| c.2).collect::<Vec<_>>();
        assert_eq!(texts(cues(&t, &o)), ["one two", "three", "four five"]);
        // Pauses below the option do not end a cue.
        let long_pause = CueOptions { pause: 1.01, ..o };
        assert_eq!(texts(cues(&t, &long_pause)), ["one two three four five"]);
        // 13 characters: "one two three" fits, "four" does not.
        let narrow = CueOptions {
            max_chars: 13,
            pause: 10.0,
            ..o
        };
        assert_eq!(texts(cues(&t, &narrow)), ["one two three", "four five"]);
        // 2 s from a cue's first start to its last end.
        let short = CueOptions {
            max_seconds: 2.0,
            pause: 10.0,
            ..o
        };
        assert_eq!(texts(cues(&t, &short)), ["one two three", "four five"]);
        let c = cues(&t, &o);
        assert_eq!((c[1].0, c[1].1), (1.7, 2.0));
    }

    #[test]
    fn an_emission_is_as_sure_as_its_best_frame_before_the_next_one() {
        // 4 steps, 3 classes (blank 2); 'a' (0) emitted at 0, 'b' (1) at 2.
        let p = [
            [0.6f32, 0.1, 0.3],
            [0.9, 0.05, 0.05],
            [0.2, 0.7, 0.1],
            [0.1, 0.4, 0.5],
        ];
        let lp: Vec<f32> = p.iter().flatten().map(|x| x.ln()).collect();
        let em = [
            Emission { label: 0, step: 0 },
            Emission { label: 1, step: 2 },
        ];
        let post = emission_posteriors(&lp, 4, 3, &em);
        assert!(
            (post[0] - 0.9).abs() < 1e-6 && (post[1] - 0.7).abs() < 1e-6,
            "{post:?}"
        );
        // Emissions sharing a step still get their own frame.
        let same = [
            Emission { label: 0, step: 3 },
            Emission { label: 1, step: 3 },
        ];
        let post = emission_posteriors(&lp, 4, 3, &same);
        assert!(
            (post[0] - 0.1).abs() < 1e-6 && (post[1] - 0.4).abs() < 1e-6,
            "{post:?}"
        );
    }
}
