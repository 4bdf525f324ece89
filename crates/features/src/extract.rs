//! Whole-utterance extraction: framing over a sample slice, the utterance
//! level steps (librosa's `top_db` clipping, CMVN, deltas), and batch
//! extraction of many files in parallel.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::audio::{read_audio, Audio};
use crate::cmvn::CmvnStats;
use crate::config::{Cmvn, FeatureConfig, Framing};
use crate::dsp::FrameProcessor;
use crate::error::{display_path, FeatureError, Result};
use crate::resample::resample;

/// A feature matrix: `n_frames` rows of `dim` values, row-major (the
/// `(T, D)` layout of Kaldi and torchaudio; librosa returns its transpose).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Features {
    pub data: Vec<f32>,
    pub n_frames: usize,
    pub dim: usize,
}

impl Features {
    /// An empty matrix with `dim` columns.
    pub fn empty(dim: usize) -> Self {
        Features {
            data: Vec::new(),
            n_frames: 0,
            dim,
        }
    }

    /// Row `t`.
    pub fn row(&self, t: usize) -> &[f32] {
        &self.data[t * self.dim..(t + 1) * self.dim]
    }

    /// Iterates over the rows.
    pub fn rows(&self) -> impl Iterator<Item = &[f32]> {
        self.data.chunks_exact(self.dim.max(1))
    }
}

/// Where frame `t` starts in signal coordinates (negative inside the left padding).
pub(crate) fn frame_origin(config: &FeatureConfig) -> isize {
    match config.framing {
        Framing::SnipEdges => 0,
        Framing::Centered | Framing::CenteredReflect => {
            (config.n_fft - config.frame_length) as isize / 2 - (config.n_fft / 2) as isize
        }
    }
}

/// Delta regression of one row: `sum_n n (x[t+n] - x[t-n]) / (2 sum_n n^2)`
/// with frame indices clamped to `[0, last]` (edge replication, as Kaldi
/// `add-deltas` and `torchaudio.functional.compute_deltas`).
pub(crate) fn delta_row<'a>(
    row: impl Fn(usize) -> &'a [f32],
    t: usize,
    last: usize,
    window: usize,
    out: &mut [f32],
) {
    let denom = (2 * (1..=window).map(|n| n * n).sum::<usize>()) as f32;
    out.iter_mut().for_each(|x| *x = 0.0);
    for n in 1..=window {
        let fwd = row((t + n).min(last));
        let back = row(t.saturating_sub(n));
        let w = n as f32;
        for ((o, &a), &b) in out.iter_mut().zip(fwd).zip(back) {
            *o += w * (a - b);
        }
    }
    out.iter_mut().for_each(|x| *x /= denom);
}

/// Checks that every sample is finite.
pub fn check_finite(samples: &[f32], name: &str) -> Result<()> {
    check_finite_at(samples, 0, name)
}

/// [`check_finite`] of `samples`, which start at index `offset` of the signal
/// named `name` (for the error).
fn check_finite_at(samples: &[f32], offset: usize, name: &str) -> Result<()> {
    match crate::simd::find_non_finite(samples) {
        None => Ok(()),
        Some(i) => Err(FeatureError::NonFinite {
            path: name.to_string(),
            index: (offset + i) as u64,
            value: samples[i],
        }),
    }
}

/// Computes features for whole utterances with one set of prebuilt plans.
#[derive(Clone)]
pub struct Extractor {
    proc: FrameProcessor,
    mel: Vec<f64>,
}

impl Extractor {
    /// Validates `config` and builds the window, FFT plan, filters and DCT.
    pub fn new(config: &FeatureConfig) -> Result<Self> {
        Ok(Extractor {
            proc: FrameProcessor::new(config)?,
            mel: vec![0.0; config.n_mels],
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &FeatureConfig {
        self.proc.config()
    }

    /// Features of `samples`, which must already be at `config.sample_rate`.
    /// Audio shorter than one frame gives an empty matrix.
    pub fn compute(&mut self, samples: &[f32]) -> Result<Features> {
        const NAME: &str = "<samples>";
        let config = self.proc.config().clone();
        let n_frames = config.num_frames(samples.len());
        let dim = config.dim();
        if n_frames == 0 {
            check_finite(samples, NAME)?;
            return Ok(Features::empty(dim));
        }
        // Samples are checked in blocks just ahead of the frames that read
        // them, so a long signal streams through the cache once, not twice.
        const CHECK_BLOCK: usize = 8192;
        let mut checked = 0;
        let base = self.proc.base_dim();
        let n_mels = config.n_mels;
        let origin = frame_origin(&config);
        let shift = config.frame_shift;
        let mut data = vec![0.0f32; n_frames * dim];
        // top_db (and Whisper's clamp) clips against the utterance maximum, so
        // the log mel rows are kept until every frame is seen; otherwise each
        // row is finished at once.
        let top_db = config.log.dynamic_range();
        let reflect = config.framing == Framing::CenteredReflect;
        let mut kept = if top_db.is_some() {
            Vec::with_capacity(n_frames * n_mels)
        } else {
            Vec::new()
        };
        let mut energies = Vec::new();
        let len = config.frame_length;
        for t in 0..n_frames {
            let start = origin + (t * shift) as isize;
            let end = ((start + len as isize).max(0) as usize).min(samples.len());
            if end > checked {
                let upto = (checked + CHECK_BLOCK).max(end).min(samples.len());
                check_finite_at(&samples[checked..upto], checked, NAME)?;
                checked = upto;
            }
            // Frames inside the signal are read in place; only those reaching
            // into the padding of centred framing are copied.
            let e = if start >= 0 && start as usize + len <= samples.len() {
                let start = start as usize;
                self.proc
                    .log_mel_of(&samples[start..start + len], &mut self.mel)
            } else {
                fill_frame(self.proc.frame_mut(), samples, start, reflect);
                self.proc.log_mel(&mut self.mel)
            };
            if top_db.is_some() {
                kept.extend_from_slice(&self.mel);
                energies.push(e);
            } else {
                self.proc
                    .finish_row(&self.mel, e, &mut data[t * dim..t * dim + base]);
            }
        }
        check_finite_at(&samples[checked..], checked, NAME)?;
        if let Some(top_db) = top_db {
            let max = kept.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let floor = max - top_db;
            let log = config.log;
            kept.iter_mut().for_each(|x| *x = log.rescale(x.max(floor)));
            for t in 0..n_frames {
                self.proc.finish_row(
                    &kept[t * n_mels..(t + 1) * n_mels],
                    energies[t],
                    &mut data[t * dim..t * dim + base],
                );
            }
        }
        let mut f = Features {
            data,
            n_frames,
            dim,
        };
        apply_cmvn(&mut f, base, config.cmvn);
        add_deltas(&mut f, base, config.delta_order, config.delta_window);
        Ok(f)
    }

    /// Features of decoded audio, resampled to `config.sample_rate` first if needed.
    pub fn compute_audio(&mut self, audio: &Audio, name: &str) -> Result<Features> {
        let rate = self.config().sample_rate;
        if audio.sample_rate == rate {
            self.compute(&audio.samples)
        } else {
            let samples = resample(&audio.samples, audio.sample_rate, rate, name)?;
            self.compute(&samples)
        }
    }

    /// Reads (any format [`read_audio`] decodes), resamples and featurises one
    /// audio file.
    pub fn compute_file(&mut self, path: &Path) -> Result<Features> {
        let audio = read_audio(path)?;
        self.compute_audio(&audio, &display_path(path))
    }
}

/// Copies `frame.len()` samples starting at `start` (possibly negative or past
/// the end, where zeros are used, or with `reflect` the signal mirrored about
/// its end samples).
fn fill_frame(frame: &mut [f32], samples: &[f32], start: isize, reflect: bool) {
    let n = frame.len() as isize;
    let len = samples.len() as isize;
    if start >= 0 && start + n <= len {
        frame.copy_from_slice(&samples[start as usize..(start + n) as usize]);
        return;
    }
    for (i, x) in frame.iter_mut().enumerate() {
        let j = start + i as isize;
        *x = if (0..len).contains(&j) {
            samples[j as usize]
        } else if reflect && len > 0 {
            samples[reflect_index(j, len as usize)]
        } else {
            0.0
        };
    }
}

/// Index of signal position `j` (any integer) in a signal of `len > 0`
/// samples extended by mirroring about its first and last samples, again and
/// again (`numpy.pad(mode="reflect")`: period `2 (len - 1)`).
pub(crate) fn reflect_index(j: isize, len: usize) -> usize {
    if len == 1 {
        return 0;
    }
    let period = 2 * (len as isize - 1);
    let r = j.rem_euclid(period) as usize;
    if r < len {
        r
    } else {
        period as usize - r
    }
}

/// Normalises the first `base` columns per utterance ([`CmvnStats`]).
fn apply_cmvn(f: &mut Features, base: usize, cmvn: Cmvn) {
    if cmvn == Cmvn::None {
        return;
    }
    let variance = cmvn == Cmvn::MeanVariance;
    if let Some(stats) = CmvnStats::fit(f.dim, base, variance, [f.data.as_slice()]) {
        stats.apply(&mut f.data, f.dim);
    }
}

/// Fills columns `base..2*base` with deltas and `2*base..3*base` with
/// delta-deltas (the deltas of the deltas).
fn add_deltas(f: &mut Features, base: usize, order: usize, window: usize) {
    if order == 0 || f.n_frames == 0 {
        return;
    }
    let (dim, last) = (f.dim, f.n_frames - 1);
    let mut tmp = vec![0.0f32; f.n_frames * base];
    for level in 1..=order {
        let src = (level - 1) * base;
        {
            let data = &f.data;
            for t in 0..f.n_frames {
                delta_row(
                    |i| &data[i * dim + src..i * dim + src + base],
                    t,
                    last,
                    window,
                    &mut tmp[t * base..(t + 1) * base],
                );
            }
        }
        for t in 0..f.n_frames {
            let dst = t * dim + level * base;
            f.data[dst..dst + base].copy_from_slice(&tmp[t * base..(t + 1) * base]);
        }
    }
}

/// Features of one audio file (any format [`read_audio`] decodes) under `config`.
pub fn extract_file(path: &Path, config: &FeatureConfig) -> Result<Features> {
    Extractor::new(config)?.compute_file(path)
}

/// Features of many audio files in parallel (rayon), one result per input in
/// input order; a bad file yields its own error without stopping the others.
pub fn extract_files(paths: &[PathBuf], config: &FeatureConfig) -> Result<Vec<Result<Features>>> {
    let template = Extractor::new(config)?;
    Ok(paths
        .par_iter()
        .map_init(|| template.clone(), |ex, p| ex.compute_file(p))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mirror indices equal `numpy.pad(x, p, mode="reflect")`, printed by
    /// numpy 2.4 for x = [1, 2, 3] (p = 7), [1, 2, 3, 4] (p = 9) and [5] (p = 3).
    #[test]
    fn reflect_index_is_numpy_reflect() {
        let cases: [(&[i32], isize, &[i32]); 3] = [
            (
                &[1, 2, 3],
                7,
                &[2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2],
            ),
            (
                &[1, 2, 3, 4],
                9,
                &[
                    4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1,
                ],
            ),
            (&[5], 3, &[5, 5, 5, 5, 5, 5, 5]),
        ];
        for (x, pad, want) in cases {
            let got: Vec<i32> = (-pad..x.len() as isize + pad)
                .map(|j| x[reflect_index(j, x.len())])
                .collect();
            assert_eq!(got, want, "{x:?} padded by {pad}");
        }
    }

    #[test]
    fn compute_reports_the_first_non_finite_sample_anywhere() {
        let n = 40_000;
        let clean: Vec<f32> = (0..n).map(|i| (i as f32 * 0.01).sin()).collect();
        let mut wide_shift = FeatureConfig::kaldi(16000);
        // Frames of 400 every 1000 samples leave gaps no frame reads.
        wide_shift.frame_shift = 1000;
        for config in [
            FeatureConfig::kaldi(16000),
            FeatureConfig::librosa(16000),
            wide_shift,
        ] {
            let mut ex = Extractor::new(&config).unwrap();
            assert!(ex.compute(&clean).is_ok());
            // The last sample lies past the last snip-edges frame; 1500 lies
            // in a gap of the wide shift.
            for &at in &[0, 1500, 5000, 8191, 8192, 20_000, n - 1] {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut x = clean.clone();
                    x[at] = bad;
                    if at + 7 < n {
                        x[at + 7] = f32::NAN;
                    }
                    match ex.compute(&x) {
                        Err(FeatureError::NonFinite { index, value, .. }) => {
                            assert_eq!(index, at as u64);
                            assert_eq!(value.to_bits(), bad.to_bits());
                        }
                        other => panic!("sample {at} = {bad}: {other:?}"),
                    }
                    assert!(matches!(
                        check_finite(&x, "x"),
                        Err(FeatureError::NonFinite { index, .. }) if index == at as u64
                    ));
                }
            }
        }
    }
}
