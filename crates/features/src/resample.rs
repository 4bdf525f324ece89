//! Sample-rate conversion with `rubato`'s synchronous FFT resampler, wrapped
//! so it can be fed chunks of any size and flushed at the end.
//!
//! Whole-clip resampling ([`resample`]) is this same stream pushed once, so a
//! file resampled in one go and one resampled chunk by chunk are identical.
//! The output has exactly `ceil(len * to / from)` samples, aligned with the
//! input: rubato's start-up delay is trimmed and the tail is flushed with
//! zeros.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::error::{FeatureError, Result};

const CHUNK: usize = 1024;

/// A streaming mono resampler from one fixed rate to another.
pub struct StreamResampler {
    inner: Option<Fft<f32>>,
    from: u32,
    to: u32,
    pending: Vec<f32>,
    scratch: Vec<f32>,
    to_trim: usize,
    consumed: u64,
    produced: u64,
    name: String,
}

impl StreamResampler {
    /// Builds a resampler from `from` Hz to `to` Hz; `name` labels errors.
    /// Equal rates pass samples through untouched.
    pub fn new(from: u32, to: u32, name: &str) -> Result<Self> {
        let err = |reason: String| FeatureError::Resample {
            path: name.to_string(),
            from,
            to,
            reason,
        };
        // Outside this range the FFT resampler's block sizes (multiples of
        // rate / gcd) grow without bound; no real recording lives there.
        const RATES: std::ops::RangeInclusive<u32> = 100..=1_000_000;
        if !RATES.contains(&from) || !RATES.contains(&to) {
            return Err(err(format!(
                "sample rates must be between {} Hz and {} Hz",
                RATES.start(),
                RATES.end()
            )));
        }
        let inner = if from == to {
            None
        } else {
            Some(
                Fft::<f32>::new(from as usize, to as usize, CHUNK, 1, FixedSync::Input)
                    .map_err(|e| err(e.to_string()))?,
            )
        };
        let (to_trim, scratch) = match &inner {
            Some(r) => (r.output_delay(), vec![0.0; r.output_frames_max()]),
            None => (0, Vec::new()),
        };
        Ok(StreamResampler {
            inner,
            from,
            to,
            pending: Vec::with_capacity(CHUNK),
            scratch,
            to_trim,
            consumed: 0,
            produced: 0,
            name: name.to_string(),
        })
    }

    fn error(&self, e: impl std::fmt::Display) -> FeatureError {
        FeatureError::Resample {
            path: self.name.clone(),
            from: self.from,
            to: self.to,
            reason: e.to_string(),
        }
    }

    fn emit(&mut self, produced: usize, out: &mut Vec<f32>) {
        let skip = self.to_trim.min(produced);
        self.to_trim -= skip;
        out.extend_from_slice(&self.scratch[skip..produced]);
        self.produced += (produced - skip) as u64;
    }

    /// Resamples `input`, appending whatever output is ready to `out`.
    pub fn push(&mut self, mut input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        self.consumed += input.len() as u64;
        let Some(_) = self.inner else {
            out.extend_from_slice(input);
            self.produced += input.len() as u64;
            return Ok(());
        };
        while !input.is_empty() {
            let take = (CHUNK - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() == CHUNK {
                self.process(None, out)?;
                self.pending.clear();
            }
        }
        Ok(())
    }

    fn process(&mut self, partial: Option<usize>, out: &mut Vec<f32>) -> Result<()> {
        let resampler = self
            .inner
            .as_mut()
            .expect("process is only called when resampling");
        let mut input_block = [0.0f32; CHUNK];
        let n = self.pending.len();
        input_block[..n].copy_from_slice(&self.pending);
        let (name, from, to) = (&self.name, self.from, self.to);
        let fail = |e: &dyn std::fmt::Display| FeatureError::Resample {
            path: name.clone(),
            from,
            to,
            reason: e.to_string(),
        };
        let adapter_in = InterleavedSlice::new(&input_block[..], 1, CHUNK).map_err(|e| fail(&e))?;
        let out_len = self.scratch.len();
        let mut adapter_out =
            InterleavedSlice::new_mut(&mut self.scratch[..], 1, out_len).map_err(|e| fail(&e))?;
        let indexing = partial.map(|p| Indexing::new().partial_len(p));
        let (_, produced) = resampler
            .process_into_buffer(&adapter_in, &mut adapter_out, indexing.as_ref())
            .map_err(|e| fail(&e))?;
        self.emit(produced, out);
        Ok(())
    }

    /// Flushes the tail: after this the total output is exactly
    /// `ceil(total_input * to / from)` samples.
    pub fn finish(mut self, out: &mut Vec<f32>) -> Result<()> {
        if self.inner.is_none() {
            return Ok(());
        }
        let expected = (self.consumed * self.to as u64).div_ceil(self.from as u64);
        let start = out.len();
        let before = self.produced;
        let n = self.pending.len();
        self.process(Some(n), out)?;
        self.pending.clear();
        let mut rounds = 0;
        while self.produced < expected {
            self.process(Some(0), out)?;
            rounds += 1;
            if rounds > 1000 {
                return Err(self.error("resampler did not flush"));
            }
        }
        let keep = expected.saturating_sub(before) as usize;
        out.truncate(start + keep);
        Ok(())
    }
}

/// Resamples a whole clip from `from` Hz to `to` Hz.
pub fn resample(samples: &[f32], from: u32, to: u32, name: &str) -> Result<Vec<f32>> {
    let mut r = StreamResampler::new(from, to, name)?;
    if from == to {
        return Ok(samples.to_vec());
    }
    let expected = (samples.len() as u64 * to as u64).div_ceil(from as u64) as usize;
    let mut out = Vec::with_capacity(expected + CHUNK);
    r.push(samples, &mut out)?;
    r.finish(&mut out)?;
    Ok(out)
}
