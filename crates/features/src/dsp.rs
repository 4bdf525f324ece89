//! The per-frame arithmetic: window, real FFT, power spectrum, sparse mel
//! filterbank, log, DCT-II, lifter. Everything that depends only on the
//! configuration (window, FFT plan, filters, DCT matrix) is built once in
//! [`FrameProcessor::new`]; processing a frame allocates nothing.

use std::f64::consts::PI;

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};

use crate::config::{FeatureConfig, LogKind, MelNorm, MelScale, Triangles, WindowKind};
use crate::error::{FeatureError, Result};
use crate::simd;

/// Calls `simd::avx2::$f` when `$avx2` (the CPU has AVX2 and FMA), else the
/// portable `simd::$f`.
macro_rules! kernel {
    ($avx2:expr, $f:ident($($arg:expr),* $(,)?)) => {{
        #[cfg(target_arch = "x86_64")]
        let r = if $avx2 {
            // SAFETY: the flag comes from `detect_avx2`.
            unsafe { simd::avx2::$f($($arg),*) }
        } else {
            simd::$f($($arg),*)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let r = {
            let _ = $avx2;
            simd::$f($($arg),*)
        };
        r
    }};
}

fn detect_avx2() -> bool {
    simd::has_avx2()
}

/// Hz to mel on the given scale.
pub fn hz_to_mel(f: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 1127.0 * (1.0 + f / 700.0).ln(),
        MelScale::Slaney => {
            let f_sp = 200.0 / 3.0;
            let min_log_hz = 1000.0;
            let min_log_mel = min_log_hz / f_sp;
            let logstep = 6.4f64.ln() / 27.0;
            if f >= min_log_hz {
                min_log_mel + (f / min_log_hz).ln() / logstep
            } else {
                f / f_sp
            }
        }
    }
}

/// Mel to Hz on the given scale.
pub fn mel_to_hz(m: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * ((m / 1127.0).exp() - 1.0),
        MelScale::Slaney => {
            let f_sp = 200.0 / 3.0;
            let min_log_hz = 1000.0;
            let min_log_mel = min_log_hz / f_sp;
            let logstep = 6.4f64.ln() / 27.0;
            if m >= min_log_mel {
                min_log_hz * (logstep * (m - min_log_mel)).exp()
            } else {
                f_sp * m
            }
        }
    }
}

/// Window coefficients of length `n`.
pub fn window(kind: WindowKind, n: usize, periodic: bool) -> Vec<f64> {
    let denom = if periodic { n } else { n.saturating_sub(1) }.max(1) as f64;
    (0..n)
        .map(|i| {
            let c = (2.0 * PI * i as f64 / denom).cos();
            match kind {
                WindowKind::Rectangular => 1.0,
                WindowKind::Hann => 0.5 - 0.5 * c,
                WindowKind::Hamming => 0.54 - 0.46 * c,
                WindowKind::Povey => (0.5 - 0.5 * c).powf(0.85),
            }
        })
        .collect()
}

/// Kaldi's piecewise-linear vocal tract length warp of a frequency: `f /
/// factor` between the cut-offs, and lines from there to the fixed edges of
/// the filterbank so that its range is unchanged. The cut-offs move with the
/// factor (`low * max(1, factor)`, `high * min(1, factor)`) so the middle
/// segment never leaves the range.
#[derive(Debug, Clone, Copy)]
pub struct VtlnWarp {
    pub low_cutoff: f64,
    pub high_cutoff: f64,
    pub low_freq: f64,
    pub high_freq: f64,
    pub factor: f64,
}

impl VtlnWarp {
    /// The warped frequency (outside `low_freq..=high_freq`: unchanged).
    pub fn apply(&self, f: f64) -> f64 {
        if f < self.low_freq || f > self.high_freq {
            return f;
        }
        let l = self.low_cutoff * self.factor.max(1.0);
        let h = self.high_cutoff * self.factor.min(1.0);
        let scale = 1.0 / self.factor;
        if f < l {
            let slope = (scale * l - self.low_freq) / (l - self.low_freq);
            self.low_freq + slope * (f - self.low_freq)
        } else if f < h {
            scale * f
        } else {
            let slope = (self.high_freq - scale * h) / (self.high_freq - h);
            self.high_freq + slope * (f - self.high_freq)
        }
    }
}

/// A mel filterbank stored sparsely: each filter is a run of consecutive
/// FFT-bin weights.
#[derive(Debug, Clone)]
pub struct MelBank {
    /// `(first_bin, offset into weights, length)` per filter.
    spans: Vec<(usize, usize, usize)>,
    weights: Vec<f64>,
    n_bins: usize,
}

impl MelBank {
    /// Builds the filters for `config` over `n_fft/2 + 1` bins.
    pub fn new(config: &FeatureConfig) -> MelBank {
        let n_bins = config.n_fft / 2 + 1;
        let scale = config.mel_scale;
        let mel_lo = hz_to_mel(config.f_min as f64, scale);
        let mel_hi = hz_to_mel(config.high_freq() as f64, scale);
        let n = config.n_mels;
        let step = (mel_hi - mel_lo) / (n + 1) as f64;
        let mut mel_points: Vec<f64> = (0..n + 2).map(|i| mel_lo + step * i as f64).collect();
        if config.vtln_warp != 1.0 {
            // Kaldi warps each filter's edge points (in Hz), not the spectrum.
            let (lo, hi) = config.vtln_cutoffs();
            let warp = VtlnWarp {
                low_cutoff: lo as f64,
                high_cutoff: hi as f64,
                low_freq: config.f_min as f64,
                high_freq: config.high_freq() as f64,
                factor: config.vtln_warp as f64,
            };
            for m in mel_points.iter_mut() {
                *m = hz_to_mel(warp.apply(mel_to_hz(*m, scale)), scale);
            }
        }
        let hz_points: Vec<f64> = mel_points.iter().map(|&m| mel_to_hz(m, scale)).collect();
        let bin_hz = config.sample_rate as f64 / config.n_fft as f64;
        let mut spans = Vec::with_capacity(n);
        let mut weights = Vec::new();
        for m in 0..n {
            let mut first = None;
            let start = weights.len();
            let norm = match config.mel_norm {
                MelNorm::None => 1.0,
                MelNorm::Slaney => 2.0 / (hz_points[m + 2] - hz_points[m]),
            };
            for k in 0..n_bins {
                let f = k as f64 * bin_hz;
                let w = match config.triangles {
                    Triangles::MelDomain => {
                        // Kaldi: strictly inside the edges, linear in mel.
                        let mel = hz_to_mel(f, scale);
                        let (l, c, r) = (mel_points[m], mel_points[m + 1], mel_points[m + 2]);
                        if mel > l && mel < r {
                            if mel <= c {
                                (mel - l) / (c - l)
                            } else {
                                (r - mel) / (r - c)
                            }
                        } else {
                            0.0
                        }
                    }
                    Triangles::HzDomain => {
                        let (l, c, r) = (hz_points[m], hz_points[m + 1], hz_points[m + 2]);
                        let lower = (f - l) / (c - l);
                        let upper = (r - f) / (r - c);
                        lower.min(upper).max(0.0)
                    }
                } * norm;
                if w > 0.0 {
                    if first.is_none() {
                        first = Some(k);
                    }
                    // Keep the run contiguous: zeros inside a filter are stored.
                    let f0 = first.unwrap();
                    while weights.len() - start < k - f0 {
                        weights.push(0.0);
                    }
                    weights.push(w);
                }
            }
            let first = first.unwrap_or(0);
            let len = weights.len() - start;
            // Pad the run with zero weights to a multiple of four bins (within
            // the spectrum) so `apply` runs whole vector lanes without a tail.
            let (first, len) = if len == 0 {
                (first, 0)
            } else {
                let target = len.next_multiple_of(4).min(n_bins);
                let after = (target - len).min(n_bins - (first + len));
                let before = target - len - after;
                weights.resize(start + len + after, 0.0);
                weights.splice(start..start, std::iter::repeat_n(0.0, before));
                (first - before, target)
            };
            spans.push((first, start, len));
        }
        MelBank {
            spans,
            weights,
            n_bins,
        }
    }

    /// The same filters with every weight multiplied by `factor`.
    fn scaled(&self, factor: f64) -> MelBank {
        MelBank {
            weights: self.weights.iter().map(|w| w * factor).collect(),
            ..self.clone()
        }
    }

    /// Number of filters.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are no filters.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Dense weight of filter `m` at FFT bin `k` (for tests and inspection).
    pub fn weight(&self, m: usize, k: usize) -> f32 {
        let (first, off, len) = self.spans[m];
        if k >= first && k < first + len {
            self.weights[off + k - first] as f32
        } else {
            0.0
        }
    }

    /// Number of FFT bins the filters span (`n_fft/2 + 1`).
    pub fn n_bins(&self) -> usize {
        self.n_bins
    }

    /// `out[m] = sum_k w[m,k] spectrum[k]`.
    pub fn apply(&self, spectrum: &[f64], out: &mut [f64]) {
        self.apply_with(spectrum, out, detect_avx2());
    }

    #[inline(always)]
    fn apply_with(&self, spectrum: &[f64], out: &mut [f64], avx2: bool) {
        for (o, &(first, off, len)) in out.iter_mut().zip(&self.spans) {
            let w = &self.weights[off..off + len];
            let s = &spectrum[first..first + len];
            *o = kernel!(avx2, dot(w, s));
        }
    }
}

/// Orthonormal DCT-II matrix, `n_ceps` rows of `n_in` coefficients.
pub fn dct_matrix(n_ceps: usize, n_in: usize) -> Vec<f64> {
    let mut m = Vec::with_capacity(n_ceps * n_in);
    for k in 0..n_ceps {
        let s = if k == 0 {
            (1.0 / n_in as f64).sqrt()
        } else {
            (2.0 / n_in as f64).sqrt()
        };
        for n in 0..n_in {
            m.push(s * (PI * k as f64 * (2 * n + 1) as f64 / (2 * n_in) as f64).cos());
        }
    }
    m
}

/// Largest output block of the DCT kernel: 16 coefficients (four AVX lanes
/// of four) accumulate together over the log mel energies.
const DCT_BLOCK: usize = 16;

/// The real FFT of one frame straight into its power spectrum.
enum Spectrum {
    /// Even `n_fft = 2M`: the frame, read as `M` complex samples
    /// `x[2j] + i x[2j+1]`, goes through one `M`-point complex FFT `Z`; the
    /// spectrum of the real frame is `X[k] = E[k] + W^k O[k]` with
    /// `E[k] = (Z[k] + conj Z[M-k]) / 2`, `O[k] = (Z[k] - conj Z[M-k]) / 2i`,
    /// `W = exp(-2 pi i / n_fft)`, and `X[M-k] = conj(E[k] - W^k O[k])`, so
    /// each pair of bins comes from one pass over `Z` (what realfft does,
    /// fused with the squared magnitude and laid out so it vectorises).
    Packed {
        fft: Arc<dyn Fft<f64>>,
        input: Vec<Complex<f64>>,
        output: Vec<Complex<f64>>,
        scratch: Vec<Complex<f64>>,
        tw: simd::Twiddles,
    },
    /// Odd `n_fft`: realfft's real-to-complex transform.
    Real {
        fft: Arc<dyn RealToComplex<f64>>,
        input: Vec<f64>,
        output: Vec<Complex<f64>>,
        scratch: Vec<Complex<f64>>,
    },
}

impl Spectrum {
    fn new(n_fft: usize) -> Spectrum {
        if n_fft.is_multiple_of(2) && n_fft >= 4 {
            let m = n_fft / 2;
            let fft = FftPlanner::<f64>::new().plan_fft_forward(m);
            Spectrum::Packed {
                input: vec![Complex::default(); m],
                output: vec![Complex::default(); m],
                scratch: vec![Complex::default(); fft.get_outofplace_scratch_len()],
                tw: simd::Twiddles::new(n_fft),
                fft,
            }
        } else {
            Spectrum::real(n_fft)
        }
    }

    /// realfft's transform (any `n_fft`).
    fn real(n_fft: usize) -> Spectrum {
        {
            let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
            Spectrum::Real {
                input: fft.make_input_vec(),
                output: fft.make_output_vec(),
                scratch: fft.make_scratch_vec(),
                fft,
            }
        }
    }

    /// The exact power-of-two factor on the power spectrum (the packed
    /// unpacking skips a multiply by a quarter per bin).
    fn gain(&self) -> f64 {
        match self {
            Spectrum::Packed { .. } => 4.0,
            Spectrum::Real { .. } => 1.0,
        }
    }

    /// The `n_fft` real input samples.
    #[inline(always)]
    fn input(&mut self) -> &mut [f64] {
        match self {
            Spectrum::Packed { input, .. } => {
                // SAFETY: `Complex<f64>` is `#[repr(C)] { re: f64, im: f64 }`,
                // so `m` complex values are `2m` contiguous, aligned f64s, and
                // the returned slice borrows `input` exclusively.
                unsafe {
                    std::slice::from_raw_parts_mut(
                        input.as_mut_ptr().cast::<f64>(),
                        2 * input.len(),
                    )
                }
            }
            Spectrum::Real { input, .. } => input,
        }
    }

    /// Transforms the input (which it leaves undefined) into the power
    /// spectrum `power[k] = g |X[k]|^2`, where `g` is [`gain`](Self::gain).
    #[inline(always)]
    fn power(&mut self, power: &mut [f64], avx2: bool) {
        match self {
            Spectrum::Packed {
                fft,
                input,
                output,
                scratch,
                tw,
            } => {
                fft.process_outofplace_with_scratch(input, output, scratch);
                // SAFETY: `Complex<f64>` is `#[repr(C)] { re, im }`, the same
                // layout as `[f64; 2]`; the view borrows `output` shared.
                let z = unsafe {
                    std::slice::from_raw_parts(output.as_ptr().cast::<[f64; 2]>(), output.len())
                };
                #[cfg(target_arch = "x86_64")]
                if avx2 {
                    // SAFETY: `avx2` is set only when the CPU reports AVX2 and FMA.
                    return unsafe { simd::avx2::packed_power(z, tw, power) };
                }
                let _ = avx2;
                simd::packed_power(z, tw, power);
            }
            Spectrum::Real {
                fft,
                input,
                output,
                scratch,
            } => {
                fft.process_with_scratch(input, output, scratch)
                    .expect("buffers come from the plan");
                for (p, z) in power.iter_mut().zip(output.iter()) {
                    *p = z.re * z.re + z.im * z.im;
                }
            }
        }
    }
}

/// Computes one frame's log mel energies and cepstra with preallocated buffers.
pub struct FrameProcessor {
    config: FeatureConfig,
    /// Window times `input_scale`.
    window: Vec<f64>,
    spectrum: Spectrum,
    power: Vec<f64>,
    frame: Vec<f32>,
    /// The frame widened to f64.
    wide: Vec<f64>,
    avx2: bool,
    mel: MelBank,
    /// `mel` divided by the spectrum's gain (its square root for
    /// magnitudes): exact, so the energies equal those of `mel` on `|X|^2`.
    mel_for_spectrum: MelBank,
    /// DCT-II rows times the lifter, transposed into blocks of
    /// [`DCT_BLOCK`] coefficients: block `b` is `n_mels` rows of
    /// `DCT_BLOCK` values (zero past `n_ceps`).
    dct_blocks: Vec<f64>,
}

impl Clone for FrameProcessor {
    fn clone(&self) -> Self {
        FrameProcessor::new(&self.config).expect("a processor's own config is valid")
    }
}

impl FrameProcessor {
    /// Builds the window, FFT plan, filterbank and DCT for `config`.
    pub fn new(config: &FeatureConfig) -> Result<Self> {
        config.validate()?;
        let mel = MelBank::new(config);
        if let Some(m) = (0..mel.len()).find(|&m| mel.spans[m].2 == 0) {
            return Err(FeatureError::Config(format!(
                "mel filter {m} covers no FFT bin; use fewer mel bins or a larger n_fft"
            )));
        }
        let lifter: Vec<f64> = (0..config.n_ceps)
            .map(|i| {
                if config.lifter > 0.0 {
                    let l = config.lifter as f64;
                    1.0 + 0.5 * l * (PI * i as f64 / l).sin()
                } else {
                    1.0
                }
            })
            .collect();
        let dct = dct_matrix(config.n_ceps, config.n_mels);
        let n_blocks = config.n_ceps.div_ceil(DCT_BLOCK);
        let mut dct_blocks = vec![0.0; n_blocks * config.n_mels * DCT_BLOCK];
        for (k, lift) in lifter.iter().enumerate() {
            let (b, lane) = (k / DCT_BLOCK, k % DCT_BLOCK);
            for j in 0..config.n_mels {
                dct_blocks[(b * config.n_mels + j) * DCT_BLOCK + lane] =
                    dct[k * config.n_mels + j] * lift;
            }
        }
        let spectrum = Spectrum::new(config.n_fft);
        let gain = if config.magnitude {
            spectrum.gain().sqrt()
        } else {
            spectrum.gain()
        };
        Ok(FrameProcessor {
            window: window(config.window, config.frame_length, config.window_periodic)
                .into_iter()
                .map(|w| w * config.input_scale as f64)
                .collect(),
            spectrum,
            power: vec![0.0; config.n_fft / 2 + 1],
            frame: vec![0.0; config.frame_length],
            wide: vec![0.0; config.frame_length],
            mel_for_spectrum: mel.scaled(1.0 / gain),
            avx2: detect_avx2(),
            config: config.clone(),
            mel,
            dct_blocks,
        })
    }

    /// The configuration this processor computes.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// The filterbank in use.
    pub fn mel_bank(&self) -> &MelBank {
        &self.mel
    }

    /// Buffer of `frame_length` samples to fill with the next frame.
    #[inline]
    pub fn frame_mut(&mut self) -> &mut [f32] {
        &mut self.frame
    }

    /// Turns the frame in [`frame_mut`](Self::frame_mut) into log mel
    /// energies (`n_mels` values written to `log_mel`, before any utterance
    /// level `top_db` clipping); returns the log energy of the frame.
    ///
    /// The arithmetic is in f64: Kaldi's quiet frames (int16-scale samples of
    /// a few units) put some mel energies 1e-8 below the frame's peak, where
    /// f32 FFT rounding would move their logs by 1e-4 and liftered cepstra by
    /// 1e-3 (measured: an f32 FFT alone raises the error against the
    /// torchaudio Kaldi fixtures from 3.7e-4 to 9e-4).
    pub fn log_mel(&mut self, log_mel: &mut [f64]) -> f64 {
        let frame = std::mem::take(&mut self.frame);
        let e = self.log_mel_of(&frame, log_mel);
        self.frame = frame;
        e
    }

    /// [`log_mel`](Self::log_mel) of `frame` (`frame_length` samples) read in place.
    pub(crate) fn log_mel_of(&mut self, frame: &[f32], log_mel: &mut [f64]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU reports AVX2 and FMA.
            return unsafe { self.log_mel_avx2(frame, log_mel) };
        }
        self.log_mel_body(frame, log_mel)
    }

    /// The same body compiled with AVX2 + FMA enabled (the elementwise passes,
    /// the filterbank and the power spectrum vectorise four-wide).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn log_mel_avx2(&mut self, frame: &[f32], log_mel: &mut [f64]) -> f64 {
        self.log_mel_body(frame, log_mel)
    }

    #[inline(always)]
    fn log_mel_body(&mut self, frame: &[f32], log_mel: &mut [f64]) -> f64 {
        let c = &self.config;
        let n = c.frame_length;
        let x = &frame[..n];
        // The input scale is folded into the window (and the energy below):
        // every later quantity is linear in it.
        let scale = c.input_scale as f64;
        let avx2 = self.avx2;
        let raw_energy = c.use_energy && c.raw_energy;
        // Frame statistics only when DC removal or the raw energy needs them;
        // the frame is then widened to f64 once and read from there.
        let (sum, squares) = if c.remove_dc || raw_energy {
            kernel!(avx2, widen(x, &mut self.wide))
        } else {
            (0.0, 0.0)
        };
        // DC removal is folded into the next pass as an offset: with mean m,
        // y[i] = ((x[i]-m) - k (x[i-1]-m)) w[i] = (x[i] - k x[i-1] - (1-k) m) w[i],
        // and the energy of x - m is sum(x^2) - n m^2.
        let mean = if c.remove_dc { sum / n as f64 } else { 0.0 };
        let mut e = if raw_energy {
            (squares - n as f64 * mean * mean).max(0.0) * scale * scale
        } else {
            0.0
        };
        // Pre-emphasis fused with the window, reading the unmodified frame,
        // with x[-1] = x[0] as in Kaldi.
        let fin = self.spectrum.input();
        let k = c.preemphasis as f64;
        let offset = (1.0 - k) * mean;
        let w = &self.window;
        if c.remove_dc || raw_energy {
            kernel!(
                avx2,
                emphasise_window(&self.wide, w, k, offset, &mut fin[..n])
            );
        } else {
            kernel!(avx2, emphasise_window_f32(x, w, k, offset, &mut fin[..n]));
        }
        fin[n..].iter_mut().for_each(|x| *x = 0.0);
        if c.use_energy && !c.raw_energy {
            e = simd::dot(&fin[..n], &fin[..n]);
        }
        self.spectrum.power(&mut self.power, avx2);
        if c.magnitude {
            self.power.iter_mut().for_each(|p| *p = p.sqrt());
        }
        self.mel_for_spectrum.apply_with(&self.power, log_mel, avx2);
        let (floor, scale) = c.log.floor_and_scale();
        kernel!(avx2, log_floor(log_mel, floor, scale));
        match c.log {
            LogKind::Natural { .. } => e.max(floor).ln(),
            LogKind::Decibel { .. } => 10.0 * e.max(floor).log10(),
            LogKind::Whisper => e.max(floor).log10(),
        }
    }

    /// Writes the output row for one frame from its log mel energies.
    pub fn finish_row(&self, log_mel: &[f64], log_energy: f64, row: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU reports AVX2 and FMA.
            return unsafe { self.finish_row_avx2(log_mel, log_energy, row) };
        }
        self.finish_row_body(log_mel, log_energy, row)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn finish_row_avx2(&self, log_mel: &[f64], log_energy: f64, row: &mut [f32]) {
        self.finish_row_body(log_mel, log_energy, row)
    }

    #[inline(always)]
    fn finish_row_body(&self, log_mel: &[f64], log_energy: f64, row: &mut [f32]) {
        let c = &self.config;
        match c.output {
            crate::config::Output::Fbank => {
                let mels = if c.use_energy {
                    row[0] = log_energy as f32;
                    &mut row[1..=c.n_mels]
                } else {
                    &mut row[..c.n_mels]
                };
                for (o, &x) in mels.iter_mut().zip(log_mel) {
                    *o = x as f32;
                }
            }
            crate::config::Output::Mfcc => {
                // Liftered cepstra as a small matrix product: each log mel
                // energy scales one contiguous row of DCT_BLOCK coefficients.
                let n_mels = c.n_mels;
                let log_mel = &log_mel[..n_mels];
                let blocks = self.dct_blocks.chunks_exact(n_mels * DCT_BLOCK);
                for (out, block) in row[..c.n_ceps].chunks_mut(DCT_BLOCK).zip(blocks) {
                    let mut acc = [0.0f64; DCT_BLOCK];
                    for (&x, d) in log_mel.iter().zip(block.chunks_exact(DCT_BLOCK)) {
                        for l in 0..DCT_BLOCK {
                            acc[l] += x * d[l];
                        }
                    }
                    for (o, a) in out.iter_mut().zip(acc) {
                        *o = a as f32;
                    }
                }
                if c.use_energy {
                    row[0] = log_energy as f32;
                }
            }
        }
    }

    /// Width of the base row (before deltas).
    pub fn base_dim(&self) -> usize {
        let c = &self.config;
        match c.output {
            crate::config::Output::Mfcc => c.n_ceps,
            crate::config::Output::Fbank => c.n_mels + usize::from(c.use_energy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Output;

    /// The portable path and the AVX2 path (where this CPU has it) give the
    /// same log mel energies and rows to rounding, for every spectrum path
    /// (even and odd `n_fft`, power and magnitude) and framing statistics.
    #[test]
    fn portable_and_simd_paths_agree() {
        let mut configs = vec![
            FeatureConfig::kaldi(16000),
            FeatureConfig::kaldi_fbank(8000),
            FeatureConfig::librosa(22050),
            FeatureConfig::default(),
        ];
        configs.push(FeatureConfig {
            n_fft: 401,
            magnitude: true,
            ..FeatureConfig::default()
        });
        let mut even_magnitude = FeatureConfig::kaldi(16000);
        even_magnitude.magnitude = true;
        even_magnitude.raw_energy = false;
        configs.push(even_magnitude);
        for config in configs {
            let mut simd = FrameProcessor::new(&config).unwrap();
            let mut portable = FrameProcessor::new(&config).unwrap();
            portable.avx2 = false;
            let n = config.frame_length;
            let mut s = 99u64;
            for frame in 0..20 {
                let x: Vec<f32> = (0..n)
                    .map(|i| {
                        s = s
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let noise = (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                        // Quiet frames too, with a DC offset.
                        let level = if frame % 3 == 0 { 1e-4 } else { 0.3 };
                        level * ((i as f32 * 0.07).sin() + 0.2 * noise) + 0.01
                    })
                    .collect();
                let mut a = vec![0.0; config.n_mels];
                let mut b = vec![0.0; config.n_mels];
                let ea = simd.log_mel_of(&x, &mut a);
                let eb = portable.log_mel_of(&x, &mut b);
                assert!(
                    (ea - eb).abs() <= 1e-9 * eb.abs().max(1.0),
                    "{config:?}: energy"
                );
                for (m, (u, v)) in a.iter().zip(&b).enumerate() {
                    assert!(
                        (u - v).abs() <= 1e-9 * v.abs().max(1.0),
                        "mel {m}: {u} vs {v}"
                    );
                }
                let dim = simd.base_dim();
                let (mut ra, mut rb) = (vec![0.0f32; dim], vec![0.0f32; dim]);
                simd.finish_row(&a, ea, &mut ra);
                portable.finish_row(&b, eb, &mut rb);
                for (u, v) in ra.iter().zip(&rb) {
                    assert!((u - v).abs() <= 1e-5 * v.abs().max(1.0), "row: {u} vs {v}");
                }
                if config.output == Output::Mfcc {
                    assert_eq!(dim, config.n_ceps);
                }
            }
        }
    }

    /// The packed spectrum (gain 4, folded into the weights) gives the log
    /// mel energies of realfft's spectrum, for power and magnitude.
    #[test]
    fn packed_spectrum_equals_realfft() {
        for magnitude in [false, true] {
            for config in [FeatureConfig::kaldi(16000), FeatureConfig::librosa(16000)] {
                let config = FeatureConfig {
                    magnitude,
                    ..config
                };
                let mut packed = FrameProcessor::new(&config).unwrap();
                let mut real = FrameProcessor::new(&config).unwrap();
                real.spectrum = Spectrum::real(config.n_fft);
                real.mel_for_spectrum = real.mel.clone();
                let x: Vec<f32> = (0..config.frame_length)
                    .map(|i| (i as f32 * 0.031).sin() * 0.2 + (i as f32 * 0.5).cos() * 0.01)
                    .collect();
                let mut a = vec![0.0; config.n_mels];
                let mut b = vec![0.0; config.n_mels];
                packed.log_mel_of(&x, &mut a);
                real.log_mel_of(&x, &mut b);
                for (u, v) in a.iter().zip(&b) {
                    assert!((u - v).abs() <= 1e-9 * v.abs().max(1.0), "{u} vs {v}");
                }
            }
        }
    }
}
