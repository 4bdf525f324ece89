//! The per-frame arithmetic: window, real FFT, power spectrum, sparse mel
//! filterbank, log, DCT-II, lifter. Everything that depends only on the
//! configuration (window, FFT plan, filters, DCT matrix) is built once in
//! [`FrameProcessor::new`]; processing a frame allocates nothing.

use std::f64::consts::PI;

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::config::{FeatureConfig, LogKind, MelNorm, MelScale, Triangles, WindowKind};
use crate::error::{FeatureError, Result};

/// Dot product with eight independent accumulators, so the compiler can
/// vectorise it (a single running sum is one long dependency chain).
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        let x: &[f64; 8] = x.try_into().expect("chunks of 8");
        let y: &[f64; 8] = y.try_into().expect("chunks of 8");
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    acc.iter().sum::<f64>() + tail
}

/// Sum with eight independent accumulators (see [`dot`]).
#[inline(always)]
fn sum(a: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = a.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().sum();
    for x in chunks {
        let x: &[f64; 8] = x.try_into().expect("chunks of 8");
        for i in 0..8 {
            acc[i] += x[i];
        }
    }
    acc.iter().sum::<f64>() + tail
}

fn detect_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
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
        let mel_points: Vec<f64> = (0..n + 2).map(|i| mel_lo + step * i as f64).collect();
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
            spans.push((first.unwrap_or(0), start, weights.len() - start));
        }
        MelBank {
            spans,
            weights,
            n_bins,
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
    #[inline(always)]
    pub fn apply(&self, spectrum: &[f64], out: &mut [f64]) {
        for (o, &(first, off, len)) in out.iter_mut().zip(&self.spans) {
            let w = &self.weights[off..off + len];
            let s = &spectrum[first..first + len];
            *o = dot(w, s);
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

/// Computes one frame's log mel energies and cepstra with preallocated buffers.
pub struct FrameProcessor {
    config: FeatureConfig,
    window: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
    fft_in: Vec<f64>,
    fft_out: Vec<Complex<f64>>,
    fft_scratch: Vec<Complex<f64>>,
    power: Vec<f64>,
    frame: Vec<f32>,
    work: Vec<f64>,
    avx2: bool,
    mel: MelBank,
    dct: Vec<f64>,
    lifter: Vec<f64>,
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
        let lifter = (0..config.n_ceps)
            .map(|i| {
                if config.lifter > 0.0 {
                    let l = config.lifter as f64;
                    1.0 + 0.5 * l * (PI * i as f64 / l).sin()
                } else {
                    1.0
                }
            })
            .collect();
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(config.n_fft);
        Ok(FrameProcessor {
            window: window(config.window, config.frame_length, config.window_periodic)
                .into_iter()
                .map(|w| w * config.input_scale as f64)
                .collect(),
            power: vec![0.0; config.n_fft / 2 + 1],
            frame: vec![0.0; config.frame_length],
            work: vec![0.0; config.frame_length],
            avx2: detect_avx2(),
            dct: dct_matrix(config.n_ceps, config.n_mels),
            config: config.clone(),
            fft_in: fft.make_input_vec(),
            fft_out: fft.make_output_vec(),
            fft_scratch: fft.make_scratch_vec(),
            fft,
            mel,
            lifter,
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
    /// 1e-3.
    pub fn log_mel(&mut self, log_mel: &mut [f64]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU reports AVX2 and FMA.
            return unsafe { self.log_mel_avx2(log_mel) };
        }
        self.log_mel_body(log_mel)
    }

    /// The same body compiled with AVX2 + FMA enabled (the elementwise passes,
    /// the filterbank and the power spectrum vectorise four-wide).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn log_mel_avx2(&mut self, log_mel: &mut [f64]) -> f64 {
        self.log_mel_body(log_mel)
    }

    #[inline(always)]
    fn log_mel_body(&mut self, log_mel: &mut [f64]) -> f64 {
        let c = &self.config;
        let n = c.frame_length;
        let tmp = &mut self.work;
        // The input scale is folded into the window (and the energy below):
        // every later quantity is linear in it.
        let scale = c.input_scale as f64;
        for (d, &x) in tmp.iter_mut().zip(&self.frame) {
            *d = x as f64;
        }
        // DC removal is folded into the next pass as an offset: with mean m,
        // y[i] = ((x[i]-m) - k (x[i-1]-m)) w[i] = (x[i] - k x[i-1] - (1-k) m) w[i],
        // and the energy of x - m is sum(x^2) - n m^2.
        let mean = if c.remove_dc {
            sum(tmp) / n as f64
        } else {
            0.0
        };
        let mut e = if c.use_energy && c.raw_energy {
            (dot(tmp, tmp) - n as f64 * mean * mean).max(0.0) * scale * scale
        } else {
            0.0
        };
        // Pre-emphasis fused with the window, reading the unmodified frame,
        // with x[-1] = x[0] as in Kaldi.
        let fin = &mut self.fft_in;
        let w = &self.window;
        let k = c.preemphasis as f64;
        let offset = (1.0 - k) * mean;
        if k != 0.0 {
            fin[0] = (tmp[0] - k * tmp[0] - offset) * w[0];
            let (cur, prev) = (&tmp[1..n], &tmp[..n - 1]);
            for (((y, &x), &p), &w) in fin[1..n].iter_mut().zip(cur).zip(prev).zip(&w[1..n]) {
                *y = (x - k * p - offset) * w;
            }
        } else {
            for ((y, &x), &w) in fin[..n].iter_mut().zip(tmp.iter()).zip(w) {
                *y = (x - offset) * w;
            }
        }
        fin[n..].iter_mut().for_each(|x| *x = 0.0);
        if c.use_energy && !c.raw_energy {
            e = dot(&fin[..n], &fin[..n]);
        }
        self.fft
            .process_with_scratch(fin, &mut self.fft_out, &mut self.fft_scratch)
            .expect("buffers come from the plan");
        if c.magnitude {
            for (p, z) in self.power.iter_mut().zip(&self.fft_out) {
                *p = z.norm();
            }
        } else {
            for (p, z) in self.power.iter_mut().zip(&self.fft_out) {
                *p = z.re * z.re + z.im * z.im;
            }
        }
        self.mel.apply(&self.power, log_mel);
        match c.log {
            LogKind::Natural { floor } => {
                let floor = floor as f64;
                log_mel.iter_mut().for_each(|x| *x = x.max(floor).ln());
                e.max(floor).ln()
            }
            LogKind::Decibel { amin, .. } => {
                let amin = amin as f64;
                log_mel
                    .iter_mut()
                    .for_each(|x| *x = 10.0 * x.max(amin).log10());
                10.0 * e.max(amin).log10()
            }
        }
    }

    /// Writes the output row for one frame from its log mel energies.
    pub fn finish_row(&self, log_mel: &[f64], log_energy: f64, row: &mut [f32]) {
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
                let n_in = c.n_mels;
                for (k, out) in row[..c.n_ceps].iter_mut().enumerate() {
                    let basis = &self.dct[k * n_in..(k + 1) * n_in];
                    let s = dot(basis, log_mel);
                    *out = (s * self.lifter[k]) as f32;
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
