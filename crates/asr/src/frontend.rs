//! Audio in, feature matrix out, with the checks and augmentations the
//! recogniser needs around the features crate: the settings stored in a
//! model's config (so transcription computes exactly what training saw),
//! refusal of empty or silent audio with a clear message, and the three
//! augmentations (speed perturbation, additive noise at an SNR, SpecAugment).
use crate::error::{AsrError, Result};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use sori_features::{Cmvn, CmvnStats, Extractor, FeatureConfig, Features, Output, WindowKind};
use std::path::Path;

/// Which features the model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    /// Log mel filterbank energies.
    Fbank,
    /// Mel cepstra.
    Mfcc,
    /// Whisper's log-mel (`FeatureConfig::whisper`, `n_mels` bins): centred
    /// reflect-padded frames, log10 clamped to the utterance maximum - 8.
    Whisper,
}

/// The feature settings of a model (stored in its `config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontEnd {
    /// Audio is resampled to this rate first.
    pub sample_rate: u32,
    pub kind: FeatureKind,
    pub n_mels: usize,
    pub n_ceps: usize,
    /// 0: none, 1: deltas, 2: deltas and delta-deltas.
    pub deltas: usize,
    /// Feature normalisation (models from before this field: per utterance).
    #[serde(default)]
    pub norm: FeatureNorm,
}

/// How features are normalised before the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureNorm {
    /// Mean and variance of each dimension over the utterance: indifferent
    /// to recording gain and channel, but on a one-word utterance the mean
    /// is partly the word's own spectrum.
    #[default]
    Utterance,
    /// Mean and variance of each dimension over all of a speaker's
    /// utterances ([`SpeakerNorm`]): removes the speaker's channel and
    /// average spectrum but keeps what distinguishes one word from another.
    /// Training groups by the manifests' `speaker`; recognition fits the
    /// statistics on the new speaker's recordings (no transcripts needed).
    Speaker,
    /// None: the network sees the raw log-mel or cepstral values.
    None,
}

/// Per-dimension mean and scale of all of a speaker's feature matrices:
/// sori-features' CMVN statistics ([`CmvnStats`]) over every frame of them,
/// the same computation as per-utterance normalisation over more frames.
/// Fit with [`speaker_norm`], apply with `apply(data, dim)`.
pub type SpeakerNorm = CmvnStats;

/// [`SpeakerNorm`] of `frames × dim` matrices (all their columns, mean and
/// variance); `None` when there are no frames.
pub fn speaker_norm<'a, I>(dim: usize, matrices: I) -> Option<SpeakerNorm>
where
    I: IntoIterator<Item = &'a [f32]>,
    I::IntoIter: Clone,
{
    CmvnStats::fit(dim, dim, true, matrices)
}

impl Default for FrontEnd {
    /// 16 kHz, 40 log-mel energies every 10 ms over 25 ms Hamming frames,
    /// normalised per utterance (mean and variance), which makes the model
    /// indifferent to recording gain.
    fn default() -> Self {
        FrontEnd {
            sample_rate: 16000,
            kind: FeatureKind::Fbank,
            n_mels: 40,
            n_ceps: 13,
            deltas: 0,
            norm: FeatureNorm::Utterance,
        }
    }
}

/// Peak amplitude under which audio counts as silent.
pub const SILENCE_PEAK: f32 = 1e-4;

impl FrontEnd {
    /// The features crate's configuration for these settings.
    pub fn feature_config(&self) -> FeatureConfig {
        let mut c = match self.kind {
            FeatureKind::Whisper => {
                FeatureConfig::whisper(self.n_mels).with_sample_rate(self.sample_rate)
            }
            FeatureKind::Fbank | FeatureKind::Mfcc => {
                let mut c = FeatureConfig::kaldi(self.sample_rate);
                c.input_scale = 1.0;
                c.window = WindowKind::Hamming;
                c.n_mels = self.n_mels;
                c.n_ceps = self.n_ceps;
                c.use_energy = false;
                c.output = match self.kind {
                    FeatureKind::Mfcc => Output::Mfcc,
                    _ => Output::Fbank,
                };
                c
            }
        };
        c.delta_order = self.deltas;
        c.cmvn = match self.norm {
            FeatureNorm::Utterance => Cmvn::MeanVariance,
            FeatureNorm::Speaker | FeatureNorm::None => Cmvn::None,
        };
        c
    }

    /// Values per frame.
    pub fn dim(&self) -> usize {
        self.feature_config().dim()
    }

    /// Frames per second.
    pub fn frame_rate(&self) -> f64 {
        self.sample_rate as f64 / self.feature_config().frame_shift as f64
    }

    /// A reusable extractor.
    pub fn extractor(&self) -> Result<Extractor> {
        self.warped_extractor(1.0)
    }

    /// An extractor whose filterbank is warped by `warp` (VTLP; training only).
    pub fn warped_extractor(&self, warp: f64) -> Result<Extractor> {
        let mut c = self.feature_config();
        c.vtln_warp = warp as f32;
        Extractor::new(&c).map_err(|e| AsrError::Config(e.to_string()))
    }

    /// Reads an audio file (any format `sori-features` decodes; the path
    /// `-` is standard input), mixes to mono and resamples to
    /// `sample_rate`; refuses empty and silent audio.
    pub fn load(&self, path: &Path) -> Result<Vec<f32>> {
        let read = if path == Path::new("-") {
            sori_features::read_audio_from(std::io::stdin(), "-")
        } else {
            sori_features::read_wav(path)
        };
        let audio = read?;
        let samples = if audio.sample_rate == self.sample_rate {
            audio.samples
        } else {
            sori_features::resample(
                &audio.samples,
                audio.sample_rate,
                self.sample_rate,
                &path.display().to_string(),
            )?
        };
        check_signal(&samples, path, self)?;
        Ok(samples)
    }

    /// Features of samples at `sample_rate`.
    pub fn features(&self, ex: &mut Extractor, samples: &[f32], path: &Path) -> Result<Features> {
        let f = ex.compute(samples).map_err(|e| AsrError::Audio {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if f.n_frames == 0 {
            return Err(AsrError::Audio {
                path: path.to_path_buf(),
                message: "too short for one feature frame".into(),
            });
        }
        Ok(f)
    }
}

/// Refuses empty, too short, non-finite and silent signals.
pub fn check_signal(samples: &[f32], path: &Path, fe: &FrontEnd) -> Result<()> {
    let bad = |m: &str| {
        Err(AsrError::Audio {
            path: path.to_path_buf(),
            message: m.to_string(),
        })
    };
    if samples.is_empty() {
        return bad("empty audio (no samples)");
    }
    if samples.len() < fe.feature_config().frame_length {
        return bad("audio too short (less than one 25 ms frame)");
    }
    if samples.iter().any(|x| !x.is_finite()) {
        return bad("audio contains NaN or infinite samples");
    }
    let peak = samples.iter().fold(0f32, |m, x| m.max(x.abs()));
    if peak < SILENCE_PEAK {
        return bad("silent audio (peak amplitude below 1e-4)");
    }
    Ok(())
}

/// Speed perturbation as in Kaldi: the signal is played `factor` times
/// faster (tempo and pitch both change) by resampling.
pub fn speed_perturb(samples: &[f32], sample_rate: u32, factor: f64) -> Result<Vec<f32>> {
    if !(0.5..=2.0).contains(&factor) {
        return Err(AsrError::Config(format!(
            "speed factor {factor} outside 0.5..2"
        )));
    }
    let from = (sample_rate as f64 * factor).round() as u32;
    if from == sample_rate {
        return Ok(samples.to_vec());
    }
    sori_features::resample(samples, from, sample_rate, "speed perturbation")
        .map_err(|e| AsrError::Config(e.to_string()))
}

/// Adds white Gaussian noise so that signal power / noise power is
/// `snr_db` decibels.
pub fn add_noise(samples: &mut [f32], snr_db: f64, rng: &mut Rng) {
    let n = samples.len().max(1) as f64;
    let power = samples
        .iter()
        .map(|&x| (x as f64) * (x as f64))
        .sum::<f64>()
        / n;
    let sigma = (power / 10f64.powf(snr_db / 10.0)).sqrt();
    for x in samples.iter_mut() {
        *x += (sigma * rng.normal()) as f32;
    }
}

/// Writes `samples` (in [-1, 1], clipped) as a mono 16-bit PCM WAV file.
pub fn write_wav16(path: &std::path::Path, rate: u32, samples: &[f32]) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let fail = |e: hound::Error| crate::error::AsrError::Audio {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(fail)?;
    for &s in samples {
        w.write_sample((s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
            .map_err(fail)?;
    }
    w.finalize().map_err(fail)
}

/// Pads `samples` with `lead` and `trail` seconds of silence at `rate` Hz.
pub fn pad_silence(samples: &[f32], rate: u32, lead: f64, trail: f64) -> Vec<f32> {
    let n = |s: f64| (s.max(0.0) * rate as f64).round() as usize;
    let mut out = vec![0.0; n(lead)];
    out.extend_from_slice(samples);
    out.resize(out.len() + n(trail), 0.0);
    out
}

/// The colour of added background noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseColour {
    White,
    /// 1/f power (Paul Kellet's economy filter over white noise): closer to
    /// room and fan noise than white.
    Pink,
}

/// Adds `colour` noise at `level` (its RMS, linear) to every sample,
/// silence included (a recording's background is never digital zero).
pub fn add_background(samples: &mut [f32], level: f64, colour: NoiseColour, rng: &mut Rng) {
    let (mut b0, mut b1, mut b2) = (0.0f64, 0.0f64, 0.0f64);
    // The economy pink filter has a gain of about 3.3 on unit white noise.
    let scale = match colour {
        NoiseColour::White => level,
        NoiseColour::Pink => level / 3.3,
    };
    for x in samples.iter_mut() {
        let w = rng.normal();
        let v = match colour {
            NoiseColour::White => w,
            NoiseColour::Pink => {
                b0 = 0.99765 * b0 + w * 0.0990460;
                b1 = 0.96300 * b1 + w * 0.2965164;
                b2 = 0.57000 * b2 + w * 1.0526913;
                b0 + b1 + b2 + w * 0.1848
            }
        };
        *x += (scale * v) as f32;
    }
}

/// Root mean square of the samples (0 for none).
pub fn rms(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples
        .iter()
        .map(|&x| (x as f64) * (x as f64))
        .sum::<f64>()
        / samples.len() as f64)
        .sqrt()
}

/// SpecAugment settings: masks of up to `freq_width` channels and up to
/// `time_width` frames (never more than a fifth of the utterance).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpecAugment {
    pub freq_masks: usize,
    pub freq_width: usize,
    pub time_masks: usize,
    pub time_width: usize,
}

impl SpecAugment {
    /// Zeroes random frequency bands and time spans of a `(frames, dim)`
    /// matrix in place (zero is the mean after per-utterance normalisation).
    pub fn apply(&self, data: &mut [f32], dim: usize, rng: &mut Rng) {
        let frames = data.len() / dim.max(1);
        if frames == 0 {
            return;
        }
        for _ in 0..self.freq_masks {
            let w = rng.range(0, self.freq_width.min(dim));
            let f0 = rng.range(0, dim - w);
            for t in 0..frames {
                data[t * dim + f0..t * dim + f0 + w].fill(0.0);
            }
        }
        let max_t = self.time_width.min(frames / 5);
        for _ in 0..self.time_masks {
            let w = rng.range(0, max_t);
            let t0 = rng.range(0, frames - w);
            data[t0 * dim..(t0 + w) * dim].fill(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Speaker normalisation fitted on one utterance is per-utterance
    /// normalisation: the same statistics (`sori_features::CmvnStats`, whose
    /// arithmetic its own tests check) over the same frames, bit for bit.
    /// Over two utterances the statistics span both.
    #[test]
    fn speaker_norm_of_one_utterance_is_utterance_norm() {
        let utt = FrontEnd::default();
        let spk = FrontEnd {
            norm: FeatureNorm::Speaker,
            ..FrontEnd::default()
        };
        let samples: Vec<f32> = (0..16000)
            .map(|i| ((i as f32 * 0.07).sin() + (i as f32 * 0.013).sin()) * 0.3)
            .collect();
        let path = Path::new("x.wav");
        let want = utt
            .features(&mut utt.extractor().unwrap(), &samples, path)
            .unwrap();
        let mut raw = spk
            .features(&mut spk.extractor().unwrap(), &samples, path)
            .unwrap();
        assert_ne!(raw.data, want.data);
        let norm = speaker_norm(raw.dim, [raw.data.as_slice()]).unwrap();
        norm.apply(&mut raw.data, raw.dim);
        assert_eq!(raw.data, want.data);
        let half = raw.n_frames / 2 * raw.dim;
        let both = speaker_norm(raw.dim, [&raw.data[..half], &raw.data[half..]]).unwrap();
        assert_eq!(both.frames, raw.n_frames);
        assert_eq!(speaker_norm(3, std::iter::empty::<&[f32]>()), None);
    }

    fn tone(n: usize) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.05).sin() * 0.5).collect()
    }

    #[test]
    fn noise_has_the_requested_snr() {
        let clean = tone(160_000);
        let mut noisy = clean.clone();
        add_noise(&mut noisy, 10.0, &mut Rng::new(5));
        let ps: f64 = clean.iter().map(|&x| (x as f64).powi(2)).sum();
        let pn: f64 = clean
            .iter()
            .zip(&noisy)
            .map(|(&a, &b)| ((b - a) as f64).powi(2))
            .sum();
        let snr = 10.0 * (ps / pn).log10();
        assert!((snr - 10.0).abs() < 0.1, "{snr}");
    }

    #[test]
    fn speed_perturbation_changes_length_by_the_factor() {
        let x = tone(16_000);
        let fast = speed_perturb(&x, 16_000, 1.1).unwrap();
        let slow = speed_perturb(&x, 16_000, 0.9).unwrap();
        assert!(
            (fast.len() as f64 - 16_000.0 / 1.1).abs() < 20.0,
            "{}",
            fast.len()
        );
        assert!(
            (slow.len() as f64 - 16_000.0 / 0.9).abs() < 20.0,
            "{}",
            slow.len()
        );
        assert!(speed_perturb(&x, 16_000, 3.0).is_err());
    }

    #[test]
    fn spec_augment_masks_whole_bands_and_spans() {
        let (frames, dim) = (100, 40);
        let mut d = vec![1f32; frames * dim];
        let sa = SpecAugment {
            freq_masks: 1,
            freq_width: 10,
            time_masks: 0,
            time_width: 0,
        };
        sa.apply(&mut d, dim, &mut Rng::new(1));
        // Each channel is either all zero or all one over time.
        for f in 0..dim {
            let zeros = (0..frames).filter(|t| d[t * dim + f] == 0.0).count();
            assert!(zeros == 0 || zeros == frames);
        }
        let mut d = vec![1f32; frames * dim];
        let sa = SpecAugment {
            freq_masks: 0,
            freq_width: 0,
            time_masks: 2,
            time_width: 50,
        };
        sa.apply(&mut d, dim, &mut Rng::new(2));
        let zero_frames = (0..frames).filter(|t| d[t * dim] == 0.0).count();
        assert!(zero_frames <= 40, "{zero_frames}");
        for t in 0..frames {
            let z = d[t * dim..(t + 1) * dim]
                .iter()
                .filter(|&&x| x == 0.0)
                .count();
            assert!(z == 0 || z == dim);
        }
    }

    #[test]
    fn vtlp_warps_the_features_and_1_leaves_them() {
        let fe = FrontEnd::default();
        let x = tone(16_000);
        let p = Path::new("x.wav");
        let plain = fe.features(&mut fe.extractor().unwrap(), &x, p).unwrap();
        let one = fe
            .features(&mut fe.warped_extractor(1.0).unwrap(), &x, p)
            .unwrap();
        let warped = fe
            .features(&mut fe.warped_extractor(1.1).unwrap(), &x, p)
            .unwrap();
        assert_eq!(plain.data, one.data);
        let diff = plain
            .data
            .iter()
            .zip(&warped.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff > 0.1, "{diff}");
        assert!(fe.warped_extractor(3.0).is_err());
    }

    #[test]
    fn empty_silent_and_short_audio_are_refused() {
        let fe = FrontEnd::default();
        let p = Path::new("x.wav");
        let e = |s: &[f32]| check_signal(s, p, &fe).unwrap_err().to_string();
        assert!(e(&[]).contains("empty"));
        assert!(e(&[0.1; 100]).contains("short"));
        assert!(e(&vec![0.0; 16_000]).contains("silent"));
        assert!(check_signal(&tone(16_000), p, &fe).is_ok());
    }

    #[test]
    fn silence_padding_keeps_the_speech_in_place() {
        let speech = vec![0.5f32; 100];
        let out = pad_silence(&speech, 1000, 0.25, 0.1);
        assert_eq!(out.len(), 250 + 100 + 100);
        assert!(out[..250].iter().all(|&x| x == 0.0));
        assert_eq!(&out[250..350], &speech[..]);
        assert!(out[350..].iter().all(|&x| x == 0.0));
        assert_eq!(pad_silence(&speech, 1000, -1.0, 0.0).len(), 100);
    }

    #[test]
    fn background_noise_has_the_asked_level_and_colour() {
        for colour in [NoiseColour::White, NoiseColour::Pink] {
            let mut x = vec![0.0f32; 200_000];
            add_background(&mut x, 0.01, colour, &mut Rng::new(9));
            let level = rms(&x);
            assert!((level / 0.01 - 1.0).abs() < 0.15, "{colour:?}: rms {level}");
            // Lag-1 correlation: about 0 for white noise, near 1 for pink.
            let c: f64 = x.windows(2).map(|w| w[0] as f64 * w[1] as f64).sum::<f64>()
                / x.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
            match colour {
                NoiseColour::White => assert!(c.abs() < 0.02, "white lag-1 {c}"),
                NoiseColour::Pink => assert!(c > 0.5, "pink lag-1 {c}"),
            }
        }
    }
}
