//! WAV input with `hound`: integer (8/16/24/32-bit) and 32-bit float PCM, any
//! channel count, any sample rate, decoded to mono `f32`.
//!
//! Integer samples are scaled to [-1, 1) by dividing by 2^(bits-1) (8-bit
//! unsigned data is centred first, as hound does). Multi-channel audio is
//! downmixed to mono by averaging the channels of each frame: the average keeps
//! the level of a signal recorded identically on every channel, which is what a
//! speech front end wants. A trailing incomplete frame (fewer samples than
//! channels) is dropped.
//!
//! Every size is checked against the bytes actually available before anything
//! is allocated, so a header that lies about its length cannot make us reserve
//! gigabytes; reading then stops with [`FeatureError::Truncated`].

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use hound::{SampleFormat, WavReader};

use crate::error::{display_path, FeatureError, Result};

/// Mono audio samples at a known rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Mono samples, nominally in [-1, 1].
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

impl Audio {
    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate as f64
    }
}

/// What the header of a WAV stream says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavInfo {
    pub channels: u16,
    pub sample_rate: u32,
    pub bits_per_sample: u16,
    pub is_float: bool,
    /// Frames (one sample per channel) announced by the header.
    pub frames: u64,
}

/// A WAV stream decoded chunk by chunk to mono `f32`, so an hour of audio can
/// be processed without holding it in memory.
pub struct WavSource<R: Read> {
    reader: WavReader<R>,
    name: String,
    info: WavInfo,
    scale: f32,
    frames_read: u64,
    samples_read: u64,
    interleaved: Vec<f32>,
}

/// Opens a WAV file for chunked decoding.
pub fn open_wav(path: &Path) -> Result<WavSource<BufReader<File>>> {
    let name = display_path(path);
    let file = File::open(path).map_err(|cause| FeatureError::Io {
        path: name.clone(),
        cause,
    })?;
    let file_len = file
        .metadata()
        .map_err(|cause| FeatureError::Io {
            path: name.clone(),
            cause,
        })?
        .len();
    WavSource::new(BufReader::new(file), name, file_len)
}

/// Decodes a whole WAV file to mono.
pub fn read_wav(path: &Path) -> Result<Audio> {
    open_wav(path)?.read_all()
}

/// Decodes WAV bytes held in memory; `name` is used in error messages.
pub fn decode_wav(bytes: &[u8], name: &str) -> Result<Audio> {
    WavSource::new(Cursor::new(bytes), name.to_string(), bytes.len() as u64)?.read_all()
}

fn map_hound(name: &str, err: hound::Error) -> FeatureError {
    let path = name.to_string();
    match err {
        // The file is already open, so a read failure here means the header
        // is cut short (hound reports that as a generic I/O error).
        hound::Error::IoError(source) => FeatureError::NotWav {
            path,
            reason: format!("incomplete header ({source})"),
        },
        hound::Error::FormatError(msg) if msg.contains("zero channels") => {
            FeatureError::ZeroChannels { path }
        }
        hound::Error::FormatError(msg) => FeatureError::NotWav {
            path,
            reason: msg.to_string(),
        },
        hound::Error::Unsupported => FeatureError::Unsupported {
            path,
            reason: "only integer PCM (8/16/24/32-bit) and 32-bit float are read".into(),
        },
        hound::Error::TooWide | hound::Error::InvalidSampleFormat => FeatureError::Unsupported {
            path,
            reason: "sample width does not match its format".into(),
        },
        other => FeatureError::NotWav {
            path,
            reason: other.to_string(),
        },
    }
}

impl<R: Read> WavSource<R> {
    /// Parses the header of `reader`; `available_bytes` bounds the sizes the
    /// header may announce.
    pub fn new(reader: R, name: String, available_bytes: u64) -> Result<Self> {
        let reader = WavReader::new(reader).map_err(|e| map_hound(&name, e))?;
        let spec = reader.spec();
        if spec.channels == 0 {
            return Err(FeatureError::ZeroChannels { path: name });
        }
        if spec.sample_rate == 0 {
            return Err(FeatureError::ZeroSampleRate { path: name });
        }
        let is_float = spec.sample_format == SampleFormat::Float;
        let scale = match (is_float, spec.bits_per_sample) {
            (true, 32) => 1.0,
            (false, b @ (8 | 16 | 24 | 32)) => 1.0 / (1u64 << (b - 1)) as f32,
            (f, b) => {
                return Err(FeatureError::Unsupported {
                    path: name,
                    reason: format!("{}-bit {} samples", b, if f { "float" } else { "integer" }),
                })
            }
        };
        let samples = reader.len() as u64;
        let bytes_per_sample = (spec.bits_per_sample as u64).div_ceil(8);
        if samples.saturating_mul(bytes_per_sample) > available_bytes {
            return Err(FeatureError::Truncated {
                path: name,
                expected: samples,
                found: available_bytes / bytes_per_sample,
            });
        }
        let info = WavInfo {
            channels: spec.channels,
            sample_rate: spec.sample_rate,
            bits_per_sample: spec.bits_per_sample,
            is_float,
            frames: samples / spec.channels as u64,
        };
        Ok(WavSource {
            reader,
            name,
            info,
            scale,
            frames_read: 0,
            samples_read: 0,
            interleaved: Vec::new(),
        })
    }

    /// The header's description of the stream.
    pub fn info(&self) -> WavInfo {
        self.info
    }

    /// The name used in error messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Decodes up to `max_frames` frames, downmixed to mono, appending them to
    /// `out`. Returns the number of frames appended; 0 means the end.
    pub fn read_chunk(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize> {
        let channels = self.info.channels as usize;
        let left = (self.info.frames - self.frames_read) as usize;
        let frames = left.min(max_frames);
        if frames == 0 {
            return Ok(0);
        }
        let want = frames * channels;
        self.interleaved.clear();
        self.interleaved.reserve(want);
        let expected = self.info.frames * channels as u64;
        let truncated = |found: u64, name: &str| FeatureError::Truncated {
            path: name.to_string(),
            expected,
            found,
        };
        if self.info.is_float {
            for s in self.reader.samples::<f32>().take(want) {
                match s {
                    Ok(v) => {
                        if !v.is_finite() {
                            return Err(FeatureError::NonFinite {
                                path: self.name.clone(),
                                index: self.samples_read + self.interleaved.len() as u64,
                                value: v,
                            });
                        }
                        self.interleaved.push(v)
                    }
                    Err(hound::Error::IoError(_)) => {
                        return Err(truncated(
                            self.samples_read + self.interleaved.len() as u64,
                            &self.name,
                        ))
                    }
                    Err(e) => return Err(map_hound(&self.name, e)),
                }
            }
        } else {
            let scale = self.scale;
            for s in self.reader.samples::<i32>().take(want) {
                match s {
                    Ok(v) => self.interleaved.push(v as f32 * scale),
                    Err(hound::Error::IoError(_)) => {
                        return Err(truncated(
                            self.samples_read + self.interleaved.len() as u64,
                            &self.name,
                        ))
                    }
                    Err(e) => return Err(map_hound(&self.name, e)),
                }
            }
        }
        if self.interleaved.len() < want {
            return Err(truncated(
                self.samples_read + self.interleaved.len() as u64,
                &self.name,
            ));
        }
        self.samples_read += want as u64;
        self.frames_read += frames as u64;
        if channels == 1 {
            out.extend_from_slice(&self.interleaved);
        } else {
            let inv = 1.0 / channels as f32;
            out.extend(
                self.interleaved
                    .chunks_exact(channels)
                    .map(|frame| frame.iter().sum::<f32>() * inv),
            );
        }
        Ok(frames)
    }

    /// Decodes the rest of the stream.
    pub fn read_all(mut self) -> Result<Audio> {
        let mut samples = Vec::with_capacity((self.info.frames - self.frames_read) as usize);
        while self.read_chunk(&mut samples, 1 << 16)? > 0 {}
        Ok(Audio {
            samples,
            sample_rate: self.info.sample_rate,
        })
    }
}
