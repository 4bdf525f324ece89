//! Streaming extraction: push samples in chunks of any size and get each
//! frame's row as soon as it is complete.
//!
//! Only the last frame's worth of samples is buffered, plus a few rows when
//! deltas need look-ahead (`delta_window * delta_order` frames), so memory is
//! bounded whatever the stream's length. The rows are bit-identical to
//! [`Extractor::compute`](crate::Extractor::compute) on the whole signal.
//! Steps that need the whole utterance (`top_db` clipping, Whisper's clamp,
//! CMVN, reflect padding, dropping the last frame) are refused with
//! [`FeatureError::NotStreamable`].

use crate::audio::AudioSource;
use crate::config::{Cmvn, FeatureConfig, Framing, LogKind};
use crate::dsp::FrameProcessor;
use crate::error::{FeatureError, Result};
use crate::extract::{check_finite, delta_row, frame_origin};
use crate::resample::StreamResampler;

/// Rows kept in the look-ahead rings; far more than the `2*W+2` the delta
/// recursions reach back.
fn ring_capacity(window: usize) -> usize {
    4 * window + 4
}

/// Incremental feature extractor over samples at `config.sample_rate`.
pub struct StreamingExtractor {
    proc: FrameProcessor,
    mel: Vec<f64>,
    /// Unconsumed samples; `pending[0]` is signal sample `pending_start`.
    pending: Vec<f32>,
    pending_start: i64,
    total: u64,
    /// Next frame to compute (base rows computed so far).
    n_base: usize,
    n_delta: usize,
    n_emitted: usize,
    base: usize,
    cap: usize,
    base_ring: Vec<f32>,
    delta_ring: Vec<f32>,
    row: Vec<f32>,
    finished: bool,
}

impl StreamingExtractor {
    /// Builds a streaming extractor; fails for configurations that need the
    /// whole utterance.
    pub fn new(config: &FeatureConfig) -> Result<Self> {
        if let LogKind::Decibel {
            top_db: Some(_), ..
        } = config.log
        {
            return Err(FeatureError::NotStreamable("top_db clipping"));
        }
        if config.log == LogKind::Whisper {
            return Err(FeatureError::NotStreamable(
                "Whisper's clamp to the maximum",
            ));
        }
        if config.framing == Framing::CenteredReflect {
            return Err(FeatureError::NotStreamable("reflect padding"));
        }
        if config.drop_last_frame {
            return Err(FeatureError::NotStreamable("dropping the last frame"));
        }
        if config.cmvn != Cmvn::None {
            return Err(FeatureError::NotStreamable("CMVN"));
        }
        let proc = FrameProcessor::new(config)?;
        let base = proc.base_dim();
        let cap = ring_capacity(config.delta_window);
        Ok(StreamingExtractor {
            mel: vec![0.0; config.n_mels],
            pending: Vec::with_capacity(2 * config.n_fft.max(config.frame_shift)),
            pending_start: frame_origin(config) as i64,
            total: 0,
            n_base: 0,
            n_delta: 0,
            n_emitted: 0,
            base,
            cap,
            base_ring: vec![0.0; cap * base],
            delta_ring: vec![
                0.0;
                if config.delta_order > 1 {
                    cap * base
                } else {
                    0
                }
            ],
            row: vec![0.0; config.dim()],
            finished: false,
            proc,
        })
        .map(|mut s| {
            // Centred framing starts inside the zero padding.
            let lead = (-s.pending_start).max(0) as usize;
            s.pending.resize(lead, 0.0);
            s
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &FeatureConfig {
        self.proc.config()
    }

    /// Width of each emitted row.
    pub fn dim(&self) -> usize {
        self.row.len()
    }

    /// Samples held back for frames not yet complete: never more than one
    /// frame (or the initial zero padding of centred framing), whatever the
    /// chunk sizes, which is what bounds memory on long streams.
    pub fn buffered_samples(&self) -> usize {
        self.pending.len()
    }

    /// Frames emitted so far.
    pub fn frames_emitted(&self) -> usize {
        self.n_emitted
    }

    /// Feeds samples; appends every row completed by them to `out`
    /// (row-major) and returns how many rows were appended.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<f32>) -> Result<usize> {
        if self.finished {
            return Err(FeatureError::Config(
                "samples pushed after the stream was finished".into(),
            ));
        }
        check_finite(samples, "<stream>")?;
        let before = self.n_emitted;
        let (len, shift) = (self.config().frame_length, self.config().frame_shift as i64);
        let origin = frame_origin(self.config()) as i64;
        let mut input = samples;
        self.total += samples.len() as u64;
        while !input.is_empty() {
            // Skip samples before the next frame's start (shift > length).
            let next_start = origin + self.n_base as i64 * shift;
            let buffered_end = self.pending_start + self.pending.len() as i64;
            if self.pending.is_empty() && buffered_end < next_start {
                let skip = ((next_start - buffered_end) as usize).min(input.len());
                input = &input[skip..];
                self.pending_start += skip as i64;
                continue;
            }
            // Take at most what completes the next frame, so the buffer stays
            // within one frame whatever the chunk size.
            let need = (next_start + len as i64 - buffered_end).max(1) as usize;
            let take = need.min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            self.drain_frames(out)?;
        }
        Ok(self.n_emitted - before)
    }

    fn drain_frames(&mut self, out: &mut Vec<f32>) -> Result<()> {
        let len = self.config().frame_length;
        let shift = self.config().frame_shift as i64;
        let origin = frame_origin(self.config()) as i64;
        loop {
            let start = origin + self.n_base as i64 * shift;
            let off = start - self.pending_start;
            if off < 0 || off as usize + len > self.pending.len() {
                break;
            }
            self.compute_base(off as usize);
            self.advance(out, false);
        }
        let next_start = origin + self.n_base as i64 * shift;
        let drop = (next_start - self.pending_start).clamp(0, self.pending.len() as i64) as usize;
        if drop > 0 {
            self.pending.drain(..drop);
            self.pending_start += drop as i64;
        }
        Ok(())
    }

    /// Computes the base row of the frame at `pending[off..off + frame_length]`,
    /// read in place.
    fn compute_base(&mut self, off: usize) {
        let len = self.config().frame_length;
        let e = self
            .proc
            .log_mel_of(&self.pending[off..off + len], &mut self.mel);
        let slot = (self.n_base % self.cap) * self.base;
        let base = self.base;
        self.proc
            .finish_row(&self.mel, e, &mut self.base_ring[slot..slot + base]);
        self.n_base += 1;
    }

    /// Computes deltas and emits rows whose look-ahead is available (or all
    /// remaining rows once the stream is finished).
    fn advance(&mut self, out: &mut Vec<f32>, finished: bool) {
        let (order, w) = (self.config().delta_order, self.config().delta_window);
        if self.n_base == 0 {
            return;
        }
        let last = self.n_base - 1;
        let (base, cap) = (self.base, self.cap);
        if order >= 2 {
            while self.n_delta < self.n_base && (finished || self.n_delta + w <= last) {
                let t = self.n_delta;
                let slot = (t % cap) * base;
                let ring = &self.base_ring;
                delta_row(
                    |i| &ring[(i % cap) * base..(i % cap) * base + base],
                    t,
                    last,
                    w,
                    &mut self.delta_ring[slot..slot + base],
                );
                self.n_delta += 1;
            }
        }
        let ready = match order {
            0 => self.n_base,
            1 => {
                if finished {
                    self.n_base
                } else {
                    (last + 1).saturating_sub(w)
                }
            }
            _ => {
                if finished {
                    self.n_base
                } else {
                    self.n_delta.saturating_sub(w)
                }
            }
        };
        while self.n_emitted < ready {
            let t = self.n_emitted;
            let slot = (t % cap) * base;
            self.row[..base].copy_from_slice(&self.base_ring[slot..slot + base]);
            if order >= 1 {
                let ring = &self.base_ring;
                delta_row(
                    |i| &ring[(i % cap) * base..(i % cap) * base + base],
                    t,
                    last,
                    w,
                    &mut self.row[base..2 * base],
                );
            }
            if order >= 2 {
                let ring = &self.delta_ring;
                let last_delta = if finished { last } else { self.n_delta - 1 };
                delta_row(
                    |i| &ring[(i % cap) * base..(i % cap) * base + base],
                    t,
                    last_delta,
                    w,
                    &mut self.row[2 * base..3 * base],
                );
            }
            out.extend_from_slice(&self.row);
            self.n_emitted += 1;
        }
    }

    /// Ends the stream: pads as the framing requires and appends the last rows.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<usize> {
        let before = self.n_emitted;
        if self.finished {
            return Ok(0);
        }
        let total_frames = self.config().num_frames(self.total as usize);
        if total_frames > self.n_base {
            // Centred framing: the right padding completes the remaining frames.
            let pad = self.config().n_fft;
            let zeros = vec![0.0f32; pad];
            self.pending.extend_from_slice(&zeros);
            let len = self.config().frame_length;
            let shift = self.config().frame_shift as i64;
            let origin = frame_origin(self.config()) as i64;
            while self.n_base < total_frames {
                let start = origin + self.n_base as i64 * shift;
                let off = (start - self.pending_start) as usize;
                if off + len > self.pending.len() {
                    self.pending.extend_from_slice(&zeros);
                    continue;
                }
                self.compute_base(off);
                self.advance(out, false);
            }
        }
        self.finished = true;
        self.advance(out, true);
        Ok(self.n_emitted - before)
    }

    /// Streams a whole audio source (any format [`open_audio`](crate::open_audio)
    /// reads) through resampling and extraction in chunks, calling `sink` with
    /// each batch of rows (row-major). Memory stays bounded by the chunk size
    /// whatever the file's length.
    pub fn run_wav(
        mut self,
        mut source: AudioSource<'_>,
        mut sink: impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<usize> {
        let rate = self.config().sample_rate;
        let info = source.info();
        let mut resampler = StreamResampler::new(info.sample_rate, rate, source.name())?;
        let mut chunk = Vec::with_capacity(8192);
        let mut resampled = Vec::new();
        let mut rows = Vec::new();
        loop {
            chunk.clear();
            if source.read_chunk(&mut chunk, 8192)? == 0 {
                break;
            }
            resampled.clear();
            resampler.push(&chunk, &mut resampled)?;
            rows.clear();
            self.push(&resampled, &mut rows)?;
            if !rows.is_empty() {
                sink(&rows)?;
            }
        }
        resampled.clear();
        resampler.finish(&mut resampled)?;
        rows.clear();
        self.push(&resampled, &mut rows)?;
        self.finish(&mut rows)?;
        if !rows.is_empty() {
            sink(&rows)?;
        }
        Ok(self.n_emitted)
    }
}
