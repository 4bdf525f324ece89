//! Recognition: audio file → text with word times. Long recordings are cut
//! into chunks (at the quietest 10 ms inside the last seconds of each
//! window, so words are rarely split) and decoded one chunk at a time, so
//! the network's memory does not grow with the recording.
//!
//! Decoding is greedy ([`Greedy`]) or a prefix beam search with an optional
//! character LM ([`BeamDecoder`]); several decoders can share one run of
//! the network ([`Recognizer::transcribe_file_with`]), which is how `asr
//! eval` compares them.
use crate::decode::lm::CharLm;
use crate::error::{AsrError, Result};
use crate::frontend::{FeatureNorm, SpeakerNorm};
use crate::model::AsrModel;
use serde::Serialize;
use sori_ctc::{beam_search, force_align, BeamOptions, LanguageModel};
use sori_features::{Extractor, Features};
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
}

impl BeamDecoder {
    /// A beam search without LM.
    pub fn new(beam_width: usize) -> Self {
        BeamDecoder {
            beam_width,
            lm: None,
            alpha: 0.0,
            beta: 0.0,
        }
    }

    /// Adds an LM with weight `alpha` and per-character bonus `beta`.
    pub fn with_lm(mut self, lm: Arc<CharLm>, alpha: f64, beta: f64) -> Self {
        self.lm = Some(lm);
        self.alpha = alpha;
        self.beta = beta;
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
        let lm = self.lm.as_deref().map(|l| l as &dyn LanguageModel);
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

/// The beam decoders of an alpha × beta grid (one decoder without LM when
/// `lm` is `None`), each with a label for reports.
pub fn beam_grid(
    beam_width: usize,
    lm: Option<Arc<CharLm>>,
    alphas: &[f64],
    betas: &[f64],
) -> Vec<(String, BeamDecoder)> {
    let Some(lm) = lm else {
        return vec![(format!("beam {beam_width}"), BeamDecoder::new(beam_width))];
    };
    let mut out = Vec::new();
    for &a in alphas {
        for &b in betas {
            out.push((
                format!("beam {beam_width} + LM (alpha {a}, beta {b})"),
                BeamDecoder::new(beam_width).with_lm(lm.clone(), a, b),
            ));
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
}

impl Recognizer {
    /// Loads the model of a directory, greedy decoding.
    pub fn load(dir: &Path) -> Result<Self> {
        Self::new(AsrModel::load(dir, Device::Cpu)?)
    }

    pub fn new(model: AsrModel) -> Result<Self> {
        let extractor = model.config.frontend.extractor()?;
        Ok(Recognizer {
            model,
            extractor,
            chunk_seconds: 20.0,
            decoder: Box::new(Greedy),
            speaker_norm: None,
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
        self.speaker_norm = SpeakerNorm::fit(fe.dim(), feats.iter().map(|f| f.as_slice()));
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
        let mut words: Vec<Vec<Word>> = vec![Vec::new(); decoders.len()];
        let mut decoder_seconds = vec![0.0; decoders.len()];
        let mut start = 0;
        while start < samples.len() {
            let end = cut_point(samples, start, chunk, rate);
            let piece = &samples[start..end];
            // A tail shorter than one frame carries no speech.
            if piece.len() >= self.model.config.frontend.feature_config().frame_length {
                let offset = start as f64 / rate as f64;
                let (lp, steps) = self.log_probs(piece, path)?;
                for (i, d) in decoders.iter().enumerate() {
                    let t = Instant::now();
                    words[i].extend(self.decode_piece(*d, &lp, steps, offset)?);
                    decoder_seconds[i] += t.elapsed().as_secs_f64();
                }
            }
            start = end;
        }
        let duration = samples.len() as f64 / rate as f64;
        let transcripts = words
            .into_iter()
            .map(|words| Transcript::from_words(words, duration))
            .collect();
        let total = started.elapsed().as_secs_f64();
        Ok(MultiTranscript {
            transcripts,
            shared_seconds: total - decoder_seconds.iter().sum::<f64>(),
            decoder_seconds,
        })
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
                    own = SpeakerNorm::fit(f.dim, [f.data.as_slice()]);
                    own.as_ref().expect("features() refuses zero frames")
                }
            };
            norm.apply(&mut f.data);
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

/// Subtitle cues: up to 7 words or 5 seconds each.
pub fn cues(words: &[Word]) -> Vec<(f64, f64, String)> {
    let mut out: Vec<(f64, f64, String)> = Vec::new();
    let mut cur: Vec<&Word> = Vec::new();
    for w in words {
        if !cur.is_empty() && (cur.len() >= 7 || w.end - cur[0].start > 5.0) {
            out.push(cue_of(&cur));
            cur.clear();
        }
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
pub fn to_srt(t: &Transcript) -> String {
    let mut s = String::new();
    for (i, (a, b, text)) in cues(&t.words).iter().enumerate() {
        s.push_str(&format!(
            "{}\n{} --> {}\n{text}\n\n",
            i + 1,
            timestamp(*a, ','),
            timestamp(*b, ',')
        ));
    }
    s
}

/// WebVTT subtitles of a transcript.
pub fn to_vtt(t: &Transcript) -> String {
    let mut s = String::from("WEBVTT\n\n");
    for (a, b, text) in cues(&t.words) {
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
        assert_eq!(to_srt(&t), "1\n00:00:01,060 --> 00:00:01,300\nhi yo\n\n");
        assert_eq!(
            to_vtt(&t),
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
