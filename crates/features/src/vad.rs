//! Voice activity detection: where in a recording someone speaks.
//!
//! A frame-based energy + spectral-flux detector with hysteresis (no model,
//! no libtorch), for a whole recording at once:
//!
//! 1. Frames of `frame_seconds` (25 ms) every `hop_seconds` (10 ms). For each
//!    frame: its energy `e` (dB, mean square of the samples) and its
//!    spectral flux `φ` (dB): the mean over 16 log-spaced bands between
//!    100 Hz and 4 kHz (the Nyquist rate if lower) of the rise of the band's
//!    log energy since the previous frame (falls count 0), Hann window,
//!    smoothed over 5 frames. Steady noise and hum barely move the bands;
//!    syllable onsets do.
//! 2. The noise floor `N`: the `floor_percentile` (3rd) percentile of the
//!    frame energies, raised to `range_db` (50 dB) below the loudest frame
//!    when it is lower (digital silence between words would otherwise make
//!    any faint hiss look like speech). The flux of noise, `φ₀`: the median
//!    flux of the frames within 3 dB of the floor.
//! 3. A frame's score: `e − N + flux_weight · max(0, φ − φ₀)` dB. A speech
//!    region starts at a frame scoring above `on_db` (10) and lasts while
//!    frames score above `off_db` (5): the hysteresis keeps the quiet end of
//!    a word inside its region without letting noise start one. Frames below
//!    `min_level_db` (−70 dBFS) are never speech.
//! 4. Regions closer than `min_silence` (0.25 s) are joined, regions shorter
//!    than `min_speech` (0.1 s) dropped, and each is widened by `pad` (0.1 s)
//!    on both sides, within the recording.
//!
//! Times are frame centres: a region's edges are accurate to about one hop
//! plus the pad. The floor is one number per recording, so a recording whose
//! background noise changes level a lot (a car starting) is segmented as if
//! all of it had the quieter noise. [`speech_regions`] is the whole
//! pipeline; [`Vad::frame_scores`] exposes step 3 for plots and tests.
use std::ops::Range;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::error::{FeatureError, Result};

/// Settings of the detector (see the module documentation for each step).
#[derive(Debug, Clone, PartialEq)]
pub struct VadConfig {
    /// Frame length in seconds.
    pub frame_seconds: f64,
    /// Frame step in seconds.
    pub hop_seconds: f64,
    /// Score (dB above the noise floor) at which a speech region starts.
    pub on_db: f64,
    /// Score under which a speech region ends (at most `on_db`).
    pub off_db: f64,
    /// Weight of the spectral flux (dB) in the score; 0 turns it off.
    pub flux_weight: f64,
    /// Percentile (0..1) of the frame energies taken as the noise floor.
    pub floor_percentile: f64,
    /// The floor is at most this many dB below the loudest frame.
    pub range_db: f64,
    /// Frames quieter than this (dBFS: 0 is a full-scale square wave) are
    /// never speech.
    pub min_level_db: f64,
    /// Speech regions shorter than this (seconds) are dropped.
    pub min_speech: f64,
    /// Pauses shorter than this (seconds) do not split a region.
    pub min_silence: f64,
    /// Seconds added before and after each region.
    pub pad: f64,
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig {
            frame_seconds: 0.025,
            hop_seconds: 0.010,
            on_db: 10.0,
            off_db: 5.0,
            flux_weight: 1.0,
            floor_percentile: 0.03,
            range_db: 50.0,
            min_level_db: -70.0,
            min_speech: 0.1,
            min_silence: 0.25,
            pad: 0.1,
        }
    }
}

impl VadConfig {
    /// Refuses settings the detector cannot use, naming the setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(FeatureError::Config(format!("VAD {m}")));
        let finite = [
            ("frame_seconds", self.frame_seconds),
            ("hop_seconds", self.hop_seconds),
            ("on_db", self.on_db),
            ("off_db", self.off_db),
            ("flux_weight", self.flux_weight),
            ("floor_percentile", self.floor_percentile),
            ("range_db", self.range_db),
            ("min_level_db", self.min_level_db),
            ("min_speech", self.min_speech),
            ("min_silence", self.min_silence),
            ("pad", self.pad),
        ];
        for (name, v) in finite {
            if !v.is_finite() {
                return bad(format!("{name} must be a finite number, not {v}"));
            }
        }
        if !(0.001..=1.0).contains(&self.frame_seconds) {
            return bad(format!(
                "frame_seconds {} is outside 0.001..1",
                self.frame_seconds
            ));
        }
        if !(0.001..=self.frame_seconds).contains(&self.hop_seconds) {
            return bad(format!(
                "hop_seconds {} is outside 0.001..frame_seconds",
                self.hop_seconds
            ));
        }
        if self.off_db > self.on_db {
            return bad(format!(
                "off_db {} is above on_db {}",
                self.off_db, self.on_db
            ));
        }
        if !(0.0..=1.0).contains(&self.floor_percentile) {
            return bad(format!(
                "floor_percentile {} is outside 0..1",
                self.floor_percentile
            ));
        }
        for (name, v) in [
            ("flux_weight", self.flux_weight),
            ("range_db", self.range_db),
            ("min_speech", self.min_speech),
            ("min_silence", self.min_silence),
            ("pad", self.pad),
        ] {
            if v < 0.0 {
                return bad(format!("{name} {v} is negative"));
            }
        }
        Ok(())
    }
}

/// Number of flux bands.
const BANDS: usize = 16;
/// Frames in the flux smoothing window (centred).
const FLUX_SMOOTH: usize = 5;
/// Energy of a frame of digital silence, dB.
const SILENCE_DB: f64 = -120.0;

/// The detector for one sample rate: FFT plan and buffers, reused across
/// recordings.
pub struct Vad {
    config: VadConfig,
    rate: u32,
    frame: usize,
    hop: usize,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// Band edges as FFT bin ranges.
    bands: Vec<Range<usize>>,
}

impl Vad {
    /// A detector for audio at `rate` Hz.
    pub fn new(config: &VadConfig, rate: u32) -> Result<Vad> {
        config.validate()?;
        if rate < 1000 {
            return Err(FeatureError::Config(format!(
                "VAD sample rate {rate} Hz is below 1000 Hz"
            )));
        }
        let frame = ((config.frame_seconds * rate as f64).round() as usize).max(2);
        let hop = ((config.hop_seconds * rate as f64).round() as usize).clamp(1, frame);
        let n_fft = frame.next_power_of_two();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
        let window = (0..frame)
            .map(|i| {
                let x = std::f64::consts::PI * i as f64 / frame as f64;
                (x.sin() * x.sin()) as f32
            })
            .collect();
        let bins = n_fft / 2 + 1;
        let hz_per_bin = rate as f64 / n_fft as f64;
        let lo = 100.0f64;
        let hi = 4000.0f64.min(rate as f64 / 2.0).max(lo * 2.0);
        let mut bands: Vec<Range<usize>> = Vec::with_capacity(BANDS);
        for b in 0..BANDS {
            let f0 = lo * (hi / lo).powf(b as f64 / BANDS as f64);
            let f1 = lo * (hi / lo).powf((b + 1) as f64 / BANDS as f64);
            let a = ((f0 / hz_per_bin).round() as usize).min(bins - 1);
            let z = ((f1 / hz_per_bin).round() as usize).clamp(a + 1, bins);
            bands.push(a..z);
        }
        Ok(Vad {
            config: config.clone(),
            rate,
            frame,
            hop,
            window,
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            bands,
        })
    }

    pub fn config(&self) -> &VadConfig {
        &self.config
    }

    /// Samples per frame step.
    pub fn hop(&self) -> usize {
        self.hop
    }

    /// The number of frames of `n` samples (a last partial frame counts).
    pub fn n_frames(&self, n: usize) -> usize {
        if n == 0 {
            0
        } else if n <= self.frame {
            1
        } else {
            (n - self.frame).div_ceil(self.hop) + 1
        }
    }

    /// Per frame: energy (dB) and smoothed flux (dB).
    fn energy_and_flux(&mut self, samples: &[f32]) -> (Vec<f64>, Vec<f64>) {
        let n = self.n_frames(samples.len());
        let mut energy = Vec::with_capacity(n);
        let mut flux = Vec::with_capacity(n);
        let mut prev = [0f64; BANDS];
        let mut cur = [0f64; BANDS];
        for t in 0..n {
            let start = t * self.hop;
            let end = (start + self.frame).min(samples.len());
            let x = &samples[start..end];
            let ms = x.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / x.len() as f64;
            energy.push(if ms > 0.0 {
                (10.0 * ms.log10()).max(SILENCE_DB)
            } else {
                SILENCE_DB
            });
            for (i, slot) in self.input.iter_mut().enumerate() {
                *slot = match x.get(i) {
                    Some(&v) => v * self.window[i],
                    None => 0.0,
                };
            }
            // The plan's buffers have the lengths it asked for: no error.
            let _ = self.fft.process_with_scratch(
                &mut self.input,
                &mut self.spectrum,
                &mut self.scratch,
            );
            for (b, r) in self.bands.iter().enumerate() {
                let p: f32 = self.spectrum[r.clone()].iter().map(|c| c.norm_sqr()).sum();
                cur[b] = 10.0 * (p as f64 + 1e-12).log10();
            }
            let rise = if t == 0 {
                0.0
            } else {
                cur.iter()
                    .zip(&prev)
                    .map(|(c, p)| (c - p).max(0.0))
                    .sum::<f64>()
                    / BANDS as f64
            };
            flux.push(rise);
            prev = cur;
        }
        (energy, smooth(&flux, FLUX_SMOOTH))
    }

    /// Each frame's score (dB; step 3 of the module documentation), or
    /// `None` for a frame quieter than `min_level_db`.
    pub fn frame_scores(&mut self, samples: &[f32]) -> Vec<Option<f64>> {
        let (energy, flux) = self.energy_and_flux(samples);
        if energy.is_empty() {
            return Vec::new();
        }
        let c = &self.config;
        let loudest = energy.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let floor = percentile(&energy, c.floor_percentile).max(loudest - c.range_db);
        let noise_flux: Vec<f64> = energy
            .iter()
            .zip(&flux)
            .filter(|(e, _)| **e <= floor + 3.0)
            .map(|(_, f)| *f)
            .collect();
        let flux0 = if noise_flux.is_empty() {
            0.0
        } else {
            percentile(&noise_flux, 0.5)
        };
        energy
            .iter()
            .zip(&flux)
            .map(|(&e, &f)| {
                (e >= c.min_level_db).then(|| e - floor + c.flux_weight * (f - flux0).max(0.0))
            })
            .collect()
    }

    /// The speech regions of `samples` (at this detector's rate) as sample
    /// ranges, in order, not overlapping.
    pub fn detect(&mut self, samples: &[f32]) -> Vec<Range<usize>> {
        let scores = self.frame_scores(samples);
        let c = self.config.clone();
        // Hysteresis over frames.
        let mut raw: Vec<(usize, usize)> = Vec::new();
        let mut open: Option<usize> = None;
        for (t, s) in scores.iter().enumerate() {
            let s = s.unwrap_or(f64::NEG_INFINITY);
            match open {
                None if s > c.on_db => open = Some(t),
                Some(a) if s <= c.off_db => {
                    raw.push((a, t));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(a) = open {
            raw.push((a, scores.len()));
        }
        // Frames [a, b) to samples: frame centres, half a hop either side.
        let centre = |t: usize| t * self.hop + self.frame / 2;
        let len = samples.len();
        let to_samples = |(a, b): (usize, usize)| -> (usize, usize) {
            let s = centre(a).saturating_sub(self.hop / 2).min(len);
            let e = (centre(b - 1) + self.hop.div_ceil(2)).min(len);
            (s, e)
        };
        let regions: Vec<(usize, usize)> = raw.into_iter().map(to_samples).collect();
        let secs = |s: f64| (s * self.rate as f64).round() as usize;
        finish_regions(
            regions,
            secs(c.min_silence),
            secs(c.min_speech),
            secs(c.pad),
            len,
        )
    }
}

/// Steps 4 of the module documentation on sample ranges `(start, end)` in
/// order: join across gaps shorter than `min_gap`, drop regions shorter
/// than `min_len`, widen by `pad` within `0..len`, join what then overlaps.
pub fn finish_regions(
    regions: Vec<(usize, usize)>,
    min_gap: usize,
    min_len: usize,
    pad: usize,
    len: usize,
) -> Vec<Range<usize>> {
    let mut joined: Vec<(usize, usize)> = Vec::new();
    for (s, e) in regions {
        match joined.last_mut() {
            Some(last) if s.saturating_sub(last.1) < min_gap => last.1 = last.1.max(e),
            _ => joined.push((s, e)),
        }
    }
    let mut out: Vec<Range<usize>> = Vec::new();
    for (s, e) in joined.into_iter().filter(|(s, e)| e - s >= min_len) {
        let (s, e) = (s.saturating_sub(pad), (e + pad).min(len));
        match out.last_mut() {
            Some(last) if s <= last.end => last.end = last.end.max(e),
            _ => out.push(s..e),
        }
    }
    out
}

/// [`Vad::detect`] with a fresh detector: the speech regions of `samples`
/// at `rate` Hz, as sample ranges.
pub fn speech_regions(samples: &[f32], rate: u32, config: &VadConfig) -> Result<Vec<Range<usize>>> {
    Ok(Vad::new(config, rate)?.detect(samples))
}

/// The `q` quantile (0..1) of `x` (nearest rank, x not empty).
fn percentile(x: &[f64], q: f64) -> f64 {
    let mut v = x.to_vec();
    let k = ((v.len() - 1) as f64 * q).round() as usize;
    let (_, m, _) = v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    *m
}

/// Centred moving average over `w` values (fewer at the ends).
fn smooth(x: &[f64], w: usize) -> Vec<f64> {
    let h = w / 2;
    let mut prefix = Vec::with_capacity(x.len() + 1);
    prefix.push(0.0);
    for v in x {
        prefix.push(prefix.last().unwrap() + v);
    }
    (0..x.len())
        .map(|i| {
            let a = i.saturating_sub(h);
            let b = (i + h + 1).min(x.len());
            (prefix[b] - prefix[a]) / (b - a) as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_join_short_gaps_drop_short_bursts_and_pad() {
        // Gap 5 < 10 joins; the 3-sample burst is dropped; pads clamp.
        let r = finish_regions(
            vec![(2, 20), (25, 40), (100, 103), (200, 260)],
            10,
            5,
            4,
            262,
        );
        assert_eq!(r, vec![0..44, 196..262]);
        // Padding that makes neighbours overlap joins them.
        let r = finish_regions(vec![(10, 20), (30, 40)], 5, 1, 6, 100);
        assert_eq!(r, vec![4..46]);
        assert!(finish_regions(vec![], 5, 1, 6, 100).is_empty());
    }

    #[test]
    fn percentile_and_smoothing() {
        let x = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(percentile(&x, 0.0), 1.0);
        assert_eq!(percentile(&x, 0.5), 3.0);
        assert_eq!(percentile(&x, 1.0), 5.0);
        assert_eq!(smooth(&[0.0, 3.0, 6.0, 9.0], 3), vec![1.5, 3.0, 6.0, 7.5]);
    }

    #[test]
    fn frame_count_covers_every_sample() {
        let v = Vad::new(&VadConfig::default(), 16000).unwrap();
        assert_eq!((v.frame, v.hop), (400, 160));
        assert_eq!(v.n_frames(0), 0);
        assert_eq!(v.n_frames(1), 1);
        assert_eq!(v.n_frames(400), 1);
        assert_eq!(v.n_frames(401), 2);
        assert_eq!(v.n_frames(560), 2);
        assert_eq!(v.n_frames(561), 3);
    }

    #[test]
    fn bad_settings_are_refused_by_name() {
        let mut c = VadConfig {
            off_db: 12.0,
            ..VadConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("off_db"));
        c.off_db = 5.0;
        c.pad = f64::NAN;
        assert!(c.validate().unwrap_err().to_string().contains("pad"));
        c.pad = 0.1;
        c.hop_seconds = 0.5;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("hop_seconds"));
        assert!(Vad::new(&VadConfig::default(), 100).is_err());
    }
}
