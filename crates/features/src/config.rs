//! Every knob of the front end, and the presets that reproduce the references
//! people compare with: Kaldi's `compute-mfcc-feats`, `librosa.feature.mfcc`
//! and Whisper's `log_mel_spectrogram`.
//!
//! Sizes are in samples at [`FeatureConfig::sample_rate`]; the presets derive
//! them from milliseconds the way each reference does (Kaldi truncates
//! `ms * rate / 1000`).

use crate::error::{FeatureError, Result};

/// Analysis window shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    Rectangular,
    Hann,
    Hamming,
    /// Kaldi's default: a Hann window raised to the power 0.85.
    Povey,
}

/// How frames are laid over the signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Kaldi `--snip-edges=true`: frame `t` covers `[t*shift, t*shift+len)`,
    /// only frames that fit entirely; audio shorter than one frame gives zero
    /// frames (an empty matrix, not an error).
    SnipEdges,
    /// librosa `center=True, pad_mode="constant"`: the signal is padded with
    /// `n_fft/2` zeros on both sides; frame `t` is centred on sample
    /// `t*shift`; `1 + len/shift` frames for any non-empty signal.
    Centered,
    /// `torch.stft` / librosa `center=True, pad_mode="reflect"` (Whisper):
    /// frames as [`Framing::Centered`], but the padding mirrors the signal
    /// about its first and last samples (`x[-i] = x[i]`, `x[n-1+i] =
    /// x[n-1-i]`), repeatedly for signals shorter than the padding, as
    /// `numpy.pad(mode="reflect")` does. Not streamable (the right padding
    /// mirrors the end of the signal).
    CenteredReflect,
}

/// Mel scale used to space the filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MelScale {
    /// `2595 log10(1 + f/700)` (HTK, Kaldi).
    Htk,
    /// Slaney's Auditory Toolbox: linear below 1 kHz, logarithmic above (librosa default).
    Slaney,
}

/// Shape of each triangular filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triangles {
    /// Linear in mel between the edge points (Kaldi).
    MelDomain,
    /// Linear in Hz between the edge points (librosa, HTK's `melfb` after conversion).
    HzDomain,
}

/// Filter normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MelNorm {
    /// Peak 1 (Kaldi).
    None,
    /// Equal area: each filter scaled by `2 / (f_right - f_left)` (librosa `norm="slaney"`).
    Slaney,
}

/// Compression applied to the mel energies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LogKind {
    /// `ln(max(x, floor))` (Kaldi uses `floor = f32::EPSILON`).
    Natural { floor: f32 },
    /// `10 log10(max(x, amin))`, then, if `top_db` is set, every value is
    /// raised to at least `max - top_db` where `max` is over the whole
    /// utterance (librosa `power_to_db(ref=1.0)`).
    Decibel { amin: f32, top_db: Option<f32> },
    /// Whisper's `log_mel_spectrogram`: `log10(max(x, 1e-10))`, then every
    /// value raised to at least `max - 8` where `max` is over the whole
    /// utterance, then `(x + 4) / 4`.
    Whisper,
}

impl LogKind {
    /// The floor under the energies and the factor from `ln` to this log.
    pub(crate) fn floor_and_scale(&self) -> (f64, f64) {
        match *self {
            LogKind::Natural { floor } => (floor as f64, 1.0),
            LogKind::Decibel { amin, .. } => (amin as f64, 10.0 / std::f64::consts::LN_10),
            LogKind::Whisper => (1e-10, 1.0 / std::f64::consts::LN_10),
        }
    }

    /// How far below the utterance maximum values are clipped, if at all
    /// (such a log needs the whole utterance).
    pub(crate) fn dynamic_range(&self) -> Option<f64> {
        match *self {
            LogKind::Natural { .. } => None,
            LogKind::Decibel { top_db, .. } => top_db.map(f64::from),
            LogKind::Whisper => Some(8.0),
        }
    }

    /// The affine map applied after the clipping: `(x + 4) / 4` for Whisper.
    pub(crate) fn rescale(&self, x: f64) -> f64 {
        match self {
            LogKind::Whisper => (x + 4.0) / 4.0,
            _ => x,
        }
    }
}

/// Per-utterance cepstral mean and variance normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmvn {
    None,
    /// Subtract each dimension's mean over the utterance.
    Mean,
    /// Subtract the mean and divide by the (population) standard deviation.
    MeanVariance,
}

/// What each output row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Cepstral coefficients (`n_ceps` per frame).
    Mfcc,
    /// Log mel filterbank energies (`n_mels` per frame, plus the log energy
    /// first when `use_energy` is set, as Kaldi's `compute-fbank-feats`).
    Fbank,
}

/// Most mel filters a [`FeatureConfig`] accepts (`n_mels`).
pub const MAX_MELS: usize = 1024;

/// The complete description of a feature extractor.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureConfig {
    /// Rate the features are computed at; other audio is resampled to it.
    pub sample_rate: u32,
    /// Multiplier applied to samples in [-1, 1] before anything else
    /// (Kaldi reads 16-bit WAV as raw integers, so its preset uses 32768).
    pub input_scale: f32,
    /// Samples per frame (window length).
    pub frame_length: usize,
    /// Samples between frame starts.
    pub frame_shift: usize,
    /// FFT size (>= `frame_length`); the windowed frame is zero-padded to it.
    pub n_fft: usize,
    pub framing: Framing,
    /// Drop the last frame, as Whisper does (`stft[..., :-1]`): with centred
    /// framing, `len/shift` frames instead of `1 + len/shift`.
    pub drop_last_frame: bool,
    /// Subtract each frame's mean before pre-emphasis (Kaldi `remove_dc_offset`).
    pub remove_dc: bool,
    /// Pre-emphasis `x[i] -= k x[i-1]` within each frame (0 disables); the
    /// first sample uses itself as predecessor, as Kaldi does.
    pub preemphasis: f32,
    pub window: WindowKind,
    /// Periodic (`N` denominator, librosa/scipy `fftbins=True`) rather than
    /// symmetric (`N-1`, Kaldi) window.
    pub window_periodic: bool,
    /// Use |X| instead of |X|^2.
    pub magnitude: bool,
    /// Mel filters, 1 to [`MAX_MELS`].
    pub n_mels: usize,
    pub f_min: f32,
    /// Upper filterbank edge; `None` means the Nyquist frequency.
    pub f_max: Option<f32>,
    pub mel_scale: MelScale,
    pub triangles: Triangles,
    pub mel_norm: MelNorm,
    pub log: LogKind,
    /// Number of cepstral coefficients kept from the orthonormal DCT-II.
    pub n_ceps: usize,
    /// Sinusoidal liftering `1 + L/2 sin(pi i / L)` (0 disables).
    pub lifter: f32,
    /// Replace C0 by (fbank: prepend) the log frame energy.
    pub use_energy: bool,
    /// Energy from the frame before pre-emphasis and windowing (Kaldi
    /// `raw_energy`), rather than after.
    pub raw_energy: bool,
    pub output: Output,
    /// Append deltas (1) or deltas and delta-deltas (2); 0 for none.
    pub delta_order: usize,
    /// Half-width of the delta regression window (Kaldi and HTK use 2).
    pub delta_window: usize,
    pub cmvn: Cmvn,
    /// Vocal tract length warp of the filterbank (Kaldi `vtln_warp`; 1.0 is
    /// none). Training recipes draw one per utterance (VTLP) so that a model
    /// meets many vocal tract lengths from a few speakers.
    pub vtln_warp: f32,
    /// Below this frequency (Hz) the warp is a line to `f_min` (Kaldi `vtln_low`).
    pub vtln_low: f32,
    /// Above this frequency the warp is a line to the upper edge; negative
    /// values count down from the Nyquist frequency (Kaldi `vtln_high`).
    pub vtln_high: f32,
}

fn ms_to_samples(ms: f32, rate: u32) -> usize {
    (ms as f64 * rate as f64 * 0.001) as usize
}

impl Default for FeatureConfig {
    /// 16 kHz, 25 ms Hamming frames every 10 ms, 512-point FFT, 40 HTK mel
    /// filters from 20 Hz to Nyquist, natural log, 13 liftered cepstra: a
    /// classic ASR front end with unit-scale input.
    fn default() -> Self {
        let mut c = FeatureConfig::kaldi(16000);
        c.input_scale = 1.0;
        c.window = WindowKind::Hamming;
        c.n_mels = 40;
        c.use_energy = false;
        c
    }
}

impl FeatureConfig {
    /// Kaldi `compute-mfcc-feats` defaults at `sample_rate`: dither 0, 25 ms
    /// povey window, 10 ms shift, snip edges, DC removal, pre-emphasis 0.97,
    /// FFT size rounded up to a power of two (512 at 16 kHz), 23 mel bins
    /// from 20 Hz to Nyquist, 13 cepstra, lifter 22, raw log energy in C0.
    /// Input is scaled by 32768, as Kaldi reads 16-bit samples as integers.
    pub fn kaldi(sample_rate: u32) -> Self {
        let frame_length = ms_to_samples(25.0, sample_rate);
        FeatureConfig {
            sample_rate,
            input_scale: 32768.0,
            frame_length,
            frame_shift: ms_to_samples(10.0, sample_rate),
            n_fft: frame_length.max(1).next_power_of_two(),
            framing: Framing::SnipEdges,
            drop_last_frame: false,
            remove_dc: true,
            preemphasis: 0.97,
            window: WindowKind::Povey,
            window_periodic: false,
            magnitude: false,
            n_mels: 23,
            f_min: 20.0,
            f_max: None,
            mel_scale: MelScale::Htk,
            triangles: Triangles::MelDomain,
            mel_norm: MelNorm::None,
            log: LogKind::Natural {
                floor: f32::EPSILON,
            },
            n_ceps: 13,
            lifter: 22.0,
            use_energy: true,
            raw_energy: true,
            output: Output::Mfcc,
            delta_order: 0,
            delta_window: 2,
            cmvn: Cmvn::None,
            vtln_warp: 1.0,
            vtln_low: 100.0,
            vtln_high: -500.0,
        }
    }

    /// Kaldi `compute-fbank-feats` defaults: the MFCC preset's framing with
    /// 23 log mel energies and no energy column.
    pub fn kaldi_fbank(sample_rate: u32) -> Self {
        FeatureConfig {
            output: Output::Fbank,
            use_energy: false,
            ..FeatureConfig::kaldi(sample_rate)
        }
    }

    /// `librosa.feature.mfcc` defaults at `sample_rate`: centred frames with
    /// zero padding, periodic Hann, `n_fft` 2048, hop 512, power spectrum,
    /// 128 Slaney-normalised Slaney-scale mel filters from 0 Hz to Nyquist,
    /// `power_to_db` with `top_db` 80, 20 orthonormal DCT-II coefficients.
    pub fn librosa(sample_rate: u32) -> Self {
        FeatureConfig {
            sample_rate,
            input_scale: 1.0,
            frame_length: 2048,
            frame_shift: 512,
            n_fft: 2048,
            framing: Framing::Centered,
            drop_last_frame: false,
            remove_dc: false,
            preemphasis: 0.0,
            window: WindowKind::Hann,
            window_periodic: true,
            magnitude: false,
            n_mels: 128,
            f_min: 0.0,
            f_max: None,
            mel_scale: MelScale::Slaney,
            triangles: Triangles::HzDomain,
            mel_norm: MelNorm::Slaney,
            log: LogKind::Decibel {
                amin: 1e-10,
                top_db: Some(80.0),
            },
            n_ceps: 20,
            lifter: 0.0,
            use_energy: false,
            raw_energy: false,
            output: Output::Mfcc,
            delta_order: 0,
            delta_window: 2,
            cmvn: Cmvn::None,
            vtln_warp: 1.0,
            vtln_low: 100.0,
            vtln_high: -500.0,
        }
    }

    /// Whisper's front end (`whisper.audio.log_mel_spectrogram`, and
    /// `transformers`' `WhisperFeatureExtractor`): 16 kHz, `n_fft` 400
    /// with a periodic Hann window of 400, hop 160, centred frames with
    /// reflect padding, power spectrum, `n_mels` Slaney-normalised
    /// Slaney-scale filters from 0 to 8000 Hz (librosa `mel(sr=16000,
    /// n_fft=400, n_mels)`), the last frame dropped, then `log10`, the clamp
    /// to the utterance maximum minus 8 and `(x + 4) / 4` ([`LogKind::Whisper`]).
    /// `n_mels` is 80 for the original models and 128 for large-v3. Rows are
    /// frames (`(T, n_mels)`: Whisper's `(n_mels, T)` transposed); audio is
    /// not padded to 30 s (pad it first to get Whisper's 3000 frames).
    pub fn whisper(n_mels: usize) -> Self {
        FeatureConfig {
            sample_rate: 16000,
            input_scale: 1.0,
            frame_length: 400,
            frame_shift: 160,
            n_fft: 400,
            framing: Framing::CenteredReflect,
            drop_last_frame: true,
            remove_dc: false,
            preemphasis: 0.0,
            window: WindowKind::Hann,
            window_periodic: true,
            magnitude: false,
            n_mels,
            f_min: 0.0,
            f_max: None,
            mel_scale: MelScale::Slaney,
            triangles: Triangles::HzDomain,
            mel_norm: MelNorm::Slaney,
            log: LogKind::Whisper,
            n_ceps: 13.min(n_mels),
            lifter: 0.0,
            use_energy: false,
            raw_energy: false,
            output: Output::Fbank,
            delta_order: 0,
            delta_window: 2,
            cmvn: Cmvn::None,
            vtln_warp: 1.0,
            vtln_low: 100.0,
            vtln_high: -500.0,
        }
    }

    /// The same configuration computed at another rate, with frame sizes in
    /// samples rescaled to keep their duration (FFT size rounded up to a power
    /// of two when it was one).
    pub fn with_sample_rate(&self, sample_rate: u32) -> Self {
        let scale =
            |n: usize| ((n as f64 * sample_rate as f64 / self.sample_rate as f64) as usize).max(1);
        let frame_length = scale(self.frame_length);
        let mut n_fft = scale(self.n_fft).max(frame_length);
        if self.n_fft.is_power_of_two() {
            n_fft = n_fft.next_power_of_two();
        }
        FeatureConfig {
            sample_rate,
            frame_length,
            frame_shift: scale(self.frame_shift),
            n_fft,
            ..self.clone()
        }
    }

    /// Upper filterbank edge in Hz.
    pub fn high_freq(&self) -> f32 {
        self.f_max.unwrap_or(self.sample_rate as f32 / 2.0)
    }

    /// The VTLN cut-offs in Hz (`vtln_high` resolved against Nyquist).
    pub fn vtln_cutoffs(&self) -> (f32, f32) {
        let hi = if self.vtln_high < 0.0 {
            self.sample_rate as f32 / 2.0 + self.vtln_high
        } else {
            self.vtln_high
        };
        (self.vtln_low, hi)
    }

    /// Width of one output row.
    pub fn dim(&self) -> usize {
        let base = match self.output {
            Output::Mfcc => self.n_ceps,
            Output::Fbank => self.n_mels + usize::from(self.use_energy),
        };
        base * (1 + self.delta_order)
    }

    /// Number of frames for `n` input samples.
    pub fn num_frames(&self, n: usize) -> usize {
        let frames = match self.framing {
            Framing::SnipEdges => {
                if n < self.frame_length {
                    0
                } else {
                    1 + (n - self.frame_length) / self.frame_shift
                }
            }
            Framing::Centered | Framing::CenteredReflect => {
                if n == 0 {
                    0
                } else {
                    let pad = self.n_fft / 2;
                    1 + (n + 2 * pad - self.n_fft) / self.frame_shift
                }
            }
        };
        frames.saturating_sub(usize::from(self.drop_last_frame))
    }

    /// Checks that the parameters make sense together.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(FeatureError::Config(m));
        if self.sample_rate == 0 {
            return bad("sample_rate must be positive".into());
        }
        if !(self.input_scale.is_finite() && self.input_scale > 0.0) {
            return bad(format!("input_scale {} must be positive", self.input_scale));
        }
        if self.frame_length == 0 || self.frame_shift == 0 {
            return bad("frame_length and frame_shift must be positive".into());
        }
        if self.n_fft < self.frame_length {
            return bad(format!(
                "n_fft {} is shorter than frame_length {}",
                self.n_fft, self.frame_length
            ));
        }
        if self.n_fft > 1 << 20 {
            return bad(format!("n_fft {} is too large", self.n_fft));
        }
        if !(0.0..=1.0).contains(&self.preemphasis) {
            return bad(format!("preemphasis {} outside [0, 1]", self.preemphasis));
        }
        if !(1..=MAX_MELS).contains(&self.n_mels) {
            return bad(format!(
                "n_mels must be from 1 to {MAX_MELS}, got {}",
                self.n_mels
            ));
        }
        let nyquist = self.sample_rate as f32 / 2.0;
        let hi = self.high_freq();
        if !(self.f_min >= 0.0 && self.f_min < hi && hi <= nyquist) {
            return bad(format!(
                "mel range {}..{} Hz must satisfy 0 <= f_min < f_max <= {} Hz (Nyquist)",
                self.f_min, hi, nyquist
            ));
        }
        if self.output == Output::Mfcc && (self.n_ceps == 0 || self.n_ceps > self.n_mels) {
            return bad(format!(
                "n_ceps {} must be between 1 and n_mels {}",
                self.n_ceps, self.n_mels
            ));
        }
        if self.lifter < 0.0 || !self.lifter.is_finite() {
            return bad(format!("lifter {} must be >= 0", self.lifter));
        }
        if self.delta_order > 2 {
            return bad(format!(
                "delta_order {} must be 0, 1 or 2",
                self.delta_order
            ));
        }
        if self.delta_order > 0 && self.delta_window == 0 {
            return bad("delta_window must be positive".into());
        }
        let valid_log = match self.log {
            LogKind::Natural { floor } => floor > 0.0,
            LogKind::Decibel { amin, top_db } => amin > 0.0 && top_db.is_none_or(|t| t >= 0.0),
            LogKind::Whisper => true,
        };
        if !valid_log {
            return bad("log floor / amin must be positive and top_db non-negative".into());
        }
        if !(self.vtln_warp.is_finite() && (0.5..=2.0).contains(&self.vtln_warp)) {
            return bad(format!("vtln_warp {} outside 0.5..2", self.vtln_warp));
        }
        if self.vtln_warp != 1.0 {
            let (lo, hi) = self.vtln_cutoffs();
            if !(self.f_min < lo && lo < hi && hi < self.high_freq()) {
                return bad(format!(
                    "VTLN cut-offs {lo}..{hi} Hz must lie strictly inside the mel range {}..{} Hz",
                    self.f_min,
                    self.high_freq()
                ));
            }
        }
        Ok(())
    }
}
