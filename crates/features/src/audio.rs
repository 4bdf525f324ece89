//! Audio input: one loader for WAV, FLAC, MP3, Ogg Vorbis, AAC and ALAC (in
//! MP4/M4A, or raw ADTS AAC) and AIFF, decoded to mono `f32` by `symphonia`
//! (pure Rust).
//!
//! The format is recognised from the bytes, not the file name (the name's
//! extension only names the format in an error when the bytes say nothing).
//! For WAV, `hound` checks the header first, so malformed headers get the
//! messages they always had; symphonia then decodes it (about 3x faster than
//! hound's sample-by-sample reader) along with the encodings hound does not
//! read (A-law, µ-law, IMA/MS ADPCM, 64-bit float).
//!
//! Integer samples are scaled to [-1, 1) by dividing by 2^(bits-1) (8-bit
//! unsigned data is centred first). Multi-channel audio is downmixed to mono
//! by averaging the channels of each frame: the average keeps the level of a
//! signal recorded identically on every channel, which is what a speech front
//! end wants. A trailing incomplete frame (fewer samples than channels) is
//! dropped.
//!
//! WAV with an unknown length: a header whose data size is `0xFFFFFFFF`
//! (ffmpeg), `0x7FFFF000` (sox, `espeak-ng --stdout`), `0x7FFFFFFF` or 0 is
//! read to the end of the input, whether that is a pipe or a file written
//! from one. Any other size is trusted: when a file holds less, the result
//! is [`FeatureError::Truncated`], checked against the file's length before
//! decoding (from a pipe, when the data ends).
//!
//! Errors (one line each, naming the input): bytes in no format read here,
//! and malformed headers, are [`FeatureError::NotWav`] ("not a valid WAV /
//! FLAC / ... file"); a codec this build does not decode (Opus, AC-3, WMA,
//! GSM ...) is [`FeatureError::Unsupported`]; a stream whose header
//! announces an exact length (WAV, AIFF, FLAC, ALAC, Ogg Vorbis) and that
//! holds fewer samples is [`FeatureError::Truncated`]; damage in the middle,
//! whether the decoder rejects a packet or the demuxer skips data that
//! fails its checksum (an Ogg page, a FLAC frame: the time stamps jump), is
//! [`FeatureError::Corrupt`] with its position. Decoding stops there rather
//! than skipping the damage with a warning: the recogniser would otherwise
//! see shifted audio, and every later time stamp would be off by the hole.
//! What no check can see decodes as it is: MP3 frames carry no checksum, and
//! lossy streams cut short (MP3, ADTS AAC) announce no exact length.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;

use hound::WavReader;
use symphonia::core::audio::conv::FromSample;
use symphonia::core::audio::sample::Sample;
use symphonia::core::audio::{Audio as _, AudioBuffer, GenericAudioBufferRef};
use symphonia::core::codecs::audio::well_known as codec_ids;
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;

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

/// What the header (and, for compressed formats, the first decoded packet)
/// says about a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    /// The container, as symphonia names it: `"wave"`, `"flac"`, `"ogg"`,
    /// `"isomp4"`, `"mp3"`, `"aiff"`, `"aac"` (ADTS).
    pub container: &'static str,
    /// The codec, e.g. `"pcm_s16le"`, `"flac"`, `"mp3"`, `"vorbis"`, `"aac"`.
    pub codec: &'static str,
    pub channels: u16,
    pub sample_rate: u32,
    /// Bits per sample of PCM-like codecs; 0 for lossy codecs.
    pub bits_per_sample: u16,
    pub is_float: bool,
    /// Frames (one sample per channel) the header announces, when it does
    /// (`None` for a streamed WAV and for most lossy streams).
    pub frames: Option<u64>,
}

/// The name this type had when only WAV was read.
pub type WavInfo = AudioInfo;

/// The name this type had when only WAV was read.
pub type WavSource<'a> = AudioSource<'a>;

/// An audio stream decoded chunk by chunk to mono `f32`, so an hour of audio
/// can be processed without holding it in memory.
pub struct AudioSource<'a> {
    name: String,
    info: AudioInfo,
    stream: Box<CodecStream<'a>>,
}

/// Most bytes of a non-WAV stream (a pipe, standard input, a device) that
/// are read into memory to decode it.
pub const MAX_STREAM_BYTES: u64 = 2 << 30;

/// Formats this build reads, for error messages.
const READ_HERE: &str = "read here: WAV, FLAC, MP3, Ogg Vorbis, AAC/ALAC in MP4/M4A, AIFF";

/// Opens an audio file (any supported format) for chunked decoding.
pub fn open_audio(path: &Path) -> Result<AudioSource<'static>> {
    let name = display_path(path);
    let io_err = |cause| FeatureError::Io {
        path: name.clone(),
        cause,
    };
    let file = File::open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if meta.is_dir() {
        return Err(io_err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory, not an audio file",
        )));
    }
    // Pipes, terminals and other special files (`/dev/stdin`) have no
    // length to check a header against.
    let (input, len) = if meta.is_file() {
        (Input::File(file), Some(meta.len()))
    } else {
        (Input::Stream(Box::new(file)), None)
    };
    Source::new(input, len, name).open()
}

/// Decodes a whole audio file (any supported format) to mono.
pub fn read_audio(path: &Path) -> Result<Audio> {
    open_audio(path)?.read_all()
}

/// Decodes audio bytes held in memory; `name` is used in error messages.
pub fn decode_audio(bytes: &[u8], name: &str) -> Result<Audio> {
    AudioSource::from_bytes(bytes, name)?.read_all()
}

/// Decodes audio from a reader of unknown length, such as standard input;
/// `name` (e.g. `"-"`) is used in error messages. WAV is decoded as it
/// arrives; other formats are read whole into memory first (compressed, so
/// small), because some containers (MP4) put their index at the end.
pub fn read_audio_from<R: Read + Send>(reader: R, name: &str) -> Result<Audio> {
    AudioSource::from_reader(reader, name)?.read_all()
}

/// [`open_audio`]: every supported format, not only WAV.
pub fn open_wav(path: &Path) -> Result<AudioSource<'static>> {
    open_audio(path)
}

/// [`read_audio`]: every supported format, not only WAV.
pub fn read_wav(path: &Path) -> Result<Audio> {
    read_audio(path)
}

/// [`decode_audio`]: every supported format, not only WAV.
pub fn decode_wav(bytes: &[u8], name: &str) -> Result<Audio> {
    decode_audio(bytes, name)
}

impl<'a> AudioSource<'a> {
    /// Opens a stream from `reader`, whose total length is `available_bytes`
    /// (the bound a WAV header's sizes are checked against).
    pub fn new<R: Read + Send + 'a>(reader: R, name: String, available_bytes: u64) -> Result<Self> {
        Source::new(Input::Stream(Box::new(reader)), Some(available_bytes), name).open()
    }

    /// Opens a stream of unknown length (a pipe, standard input).
    pub fn from_reader<R: Read + Send + 'a>(reader: R, name: &str) -> Result<Self> {
        Source::new(Input::Stream(Box::new(reader)), None, name.to_string()).open()
    }

    /// Opens bytes held in memory.
    pub fn from_bytes(bytes: &'a [u8], name: &str) -> Result<Self> {
        Source::new(
            Input::Bytes(bytes),
            Some(bytes.len() as u64),
            name.to_string(),
        )
        .open()
    }

    /// The stream's description.
    pub fn info(&self) -> AudioInfo {
        self.info
    }

    /// The name used in error messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Decodes up to `max_frames` frames, downmixed to mono, appending them to
    /// `out`. Returns the number of frames appended; 0 means the end (fewer
    /// than `max_frames` does not).
    pub fn read_chunk(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize> {
        if max_frames == 0 {
            return Ok(0);
        }
        self.stream.read_chunk(out, max_frames, &self.name)
    }

    /// Decodes the rest of the stream.
    pub fn read_all(mut self) -> Result<Audio> {
        // An announced length is only a hint (capped: headers can lie).
        let hint = self.info.frames.unwrap_or(0).min(1 << 24) as usize;
        let mut samples = Vec::with_capacity(hint);
        while self.read_chunk(&mut samples, 1 << 16)? > 0 {}
        Ok(Audio {
            samples,
            sample_rate: self.info.sample_rate,
        })
    }
}

// ---------------------------------------------------------------------------
// Input and format recognition

enum Input<'a> {
    Bytes(&'a [u8]),
    /// A regular file, positioned after the bytes already in `head`.
    File(File),
    Stream(Box<dyn Read + Send + 'a>),
}

/// An input whose first bytes have been read into `head`.
struct Source<'a> {
    input: Input<'a>,
    /// Total length in bytes, when known.
    len: Option<u64>,
    head: Vec<u8>,
    eof: bool,
    name: String,
    ext: Option<String>,
}

/// Bytes of chunks before a WAV's data chunk that are read to find it; a
/// WAV whose data starts later is refused as an incomplete header.
const RIFF_SCAN_LIMIT: usize = 16 << 20;

impl<'a> Source<'a> {
    fn new(input: Input<'a>, len: Option<u64>, name: String) -> Self {
        let ext = Path::new(&name)
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        Source {
            input,
            len,
            head: Vec::new(),
            eof: false,
            name,
            ext,
        }
    }

    fn io_err(&self, cause: io::Error) -> FeatureError {
        FeatureError::Io {
            path: self.name.clone(),
            cause,
        }
    }

    /// Reads until `head` holds `n` bytes or the input ends.
    fn fill(&mut self, n: usize) -> Result<()> {
        if self.head.len() >= n || self.eof {
            return Ok(());
        }
        let r: &mut dyn Read = match &mut self.input {
            Input::Bytes(b) => {
                let end = n.min(b.len());
                let start = self.head.len();
                self.head.extend_from_slice(&b[start..end]);
                self.eof = end == b.len();
                return Ok(());
            }
            Input::File(f) => f,
            Input::Stream(s) => s,
        };
        let start = self.head.len();
        self.head.resize(n, 0);
        let mut got = start;
        let res = loop {
            match r.read(&mut self.head[got..]) {
                Ok(0) => {
                    self.eof = true;
                    break Ok(());
                }
                Ok(k) => {
                    got += k;
                    if got == n {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.head.truncate(got);
        res.map_err(|e| self.io_err(e))
    }

    /// Reads the rest of the input into `head`.
    fn fill_all(&mut self) -> Result<()> {
        let res = match &mut self.input {
            Input::Bytes(b) => {
                let start = self.head.len();
                self.head.extend_from_slice(&b[start..]);
                Ok(0)
            }
            Input::File(f) => f.read_to_end(&mut self.head),
            // An endless stream (a link to /dev/urandom) stops at the bound.
            Input::Stream(s) => s
                .take(MAX_STREAM_BYTES + 1 - self.head.len() as u64)
                .read_to_end(&mut self.head),
        };
        self.eof = true;
        res.map_err(|e| self.io_err(e))?;
        if self.head.len() as u64 > MAX_STREAM_BYTES {
            return Err(FeatureError::NotWav {
                path: self.name.clone(),
                format: self.label(),
                reason: format!(
                    "a stream of more than {} GiB of compressed audio (not read further)",
                    MAX_STREAM_BYTES >> 30
                ),
            });
        }
        Ok(())
    }

    /// What the first bytes say the format is, else what the file name says.
    fn label(&self) -> &'static str {
        sniff(&self.head)
            .or_else(|| self.ext.as_deref().and_then(label_of_extension))
            .unwrap_or("audio")
    }

    fn open(mut self) -> Result<AudioSource<'a>> {
        self.fill(12)?;
        if self.head.is_empty() {
            return Err(FeatureError::NotWav {
                path: self.name.clone(),
                format: self.label(),
                reason: "empty input (0 bytes)".into(),
            });
        }
        if self.head.starts_with(b"RIFF") {
            open_riff(self)
        } else if matches!(self.input, Input::Stream(_)) && sniff(&self.head).is_none() {
            // A stream is read whole before decoding (below): refuse what no
            // known format starts like at once, instead of reading an endless
            // device such as /dev/zero until memory runs out.
            Err(FeatureError::NotWav {
                path: self.name.clone(),
                format: self.label(),
                reason: format!("its first bytes are no known audio format ({READ_HERE})"),
            })
        } else {
            open_codec(self, None)
        }
    }
}

/// The format the first bytes announce.
fn sniff(head: &[u8]) -> Option<&'static str> {
    let at = |i: usize, tag: &[u8]| head.get(i..i + tag.len()) == Some(tag);
    if at(0, b"RIFF") {
        Some("WAV")
    } else if at(0, b"fLaC") {
        Some("FLAC")
    } else if at(0, b"OggS") {
        Some("Ogg")
    } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        Some("AIFF")
    } else if at(4, b"ftyp") {
        Some("MP4/M4A")
    } else if at(0, b"ID3") {
        Some("MP3")
    } else if head.len() >= 2 && head[0] == 0xFF && head[1] & 0xF6 == 0xF0 {
        Some("AAC")
    } else if head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0 {
        Some("MP3")
    } else {
        None
    }
}

fn label_of_extension(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "wav" | "wave" => "WAV",
        "flac" => "FLAC",
        "mp3" => "MP3",
        "ogg" | "oga" | "opus" => "Ogg",
        "m4a" | "mp4" | "m4b" => "MP4/M4A",
        "aac" => "AAC",
        "aif" | "aiff" | "aifc" => "AIFF",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// WAV

/// Where a RIFF/WAVE header puts its data chunk, found by walking the chunk
/// list (only to patch an unknown length; hound or symphonia parse it).
#[derive(Debug, Clone, Copy)]
struct RiffData {
    /// Offset of the data chunk's 4-byte size field.
    size_at: usize,
    /// The size it announces.
    size: u32,
    /// Offset of the first sample byte.
    start: usize,
    /// Bytes per frame (channels x container bytes per sample), from the
    /// fmt chunk; at least 1.
    block: u64,
    /// Container bytes per sample (what hound counts sizes in); at least 1.
    bytes_per_sample: u64,
    /// The fmt chunk's format tag (1 PCM, 3 float, 0xFFFE extensible, ...).
    tag: Option<u16>,
}

enum RiffScan {
    Found(RiffData),
    /// The header continues past the bytes read so far.
    NeedMore(usize),
}

/// Data sizes written by programs that cannot seek back to fill the real
/// one in: ffmpeg to a pipe (0xFFFFFFFF), sox and espeak-ng (0x7FFFF000),
/// others (0x7FFFFFFF, 0).
fn is_unknown_length(size: u32) -> bool {
    matches!(size, 0 | 0x7FFF_F000 | 0x7FFF_FFFF | u32::MAX)
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn scan_riff(head: &[u8]) -> RiffScan {
    let mut pos = 12usize;
    let mut fmt = None;
    loop {
        if head.len() < pos + 8 {
            return RiffScan::NeedMore(pos + 8);
        }
        let len = le32(head, pos + 4) as usize;
        match &head[pos..pos + 4] {
            b"data" => {
                let (channels, bytes_per_sample, tag) = match fmt {
                    Some((c, b, t)) => (c, b, Some(t)),
                    None => (1, 1, None),
                };
                return RiffScan::Found(RiffData {
                    size_at: pos + 4,
                    size: len as u32,
                    start: pos + 8,
                    block: (channels * bytes_per_sample).max(1),
                    bytes_per_sample,
                    tag,
                });
            }
            b"fmt " if len >= 16 => {
                if head.len() < pos + 24 {
                    return RiffScan::NeedMore(pos + 24);
                }
                let tag = le16(head, pos + 8);
                let channels = le16(head, pos + 10) as u64;
                let block_align = le16(head, pos + 20) as u64;
                // As hound derives it, so sizes patched here pass its checks.
                let bytes_per_sample = (block_align / channels.max(1)).max(1);
                fmt = Some((channels, bytes_per_sample, tag));
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        pos = pos.saturating_add(len).saturating_add(8 + (len & 1));
    }
}

/// A copy of `head` whose data chunk announces `size` bytes; the RIFF size
/// becomes "unknown" (hound ignores it; symphonia would check the data
/// chunk against it).
fn patch_data_size(head: &[u8], d: &RiffData, size: u32) -> Vec<u8> {
    let mut patched = head.to_vec();
    patched[d.size_at..d.size_at + 4].copy_from_slice(&size.to_le_bytes());
    patched[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    patched
}

/// The data size symphonia should see for a WAV whose header does not know
/// its length: all the input holds, in whole frames, when the length is
/// known; else `0xFFFFFFFF`, which symphonia reads to the end of the input.
fn exact_data_size(d: &RiffData, len: Option<u64>) -> u32 {
    match len {
        Some(len) => {
            let max = u32::MAX as u64 / d.block * d.block;
            (len.saturating_sub(d.start as u64) / d.block * d.block).min(max) as u32
        }
        None => u32::MAX,
    }
}

fn map_hound(name: &str, err: hound::Error) -> FeatureError {
    let path = name.to_string();
    let not_wav = |reason: String| FeatureError::NotWav {
        path: path.clone(),
        format: "WAV",
        reason,
    };
    match err {
        // The input is already open, so a read failure here means the
        // header is cut short (hound reports that as a generic I/O error).
        hound::Error::IoError(source) => not_wav(format!("incomplete header ({source})")),
        hound::Error::FormatError(msg) if msg.contains("zero channels") => {
            FeatureError::ZeroChannels { path }
        }
        hound::Error::FormatError(msg) => not_wav(msg.to_string()),
        hound::Error::Unsupported => FeatureError::Unsupported {
            path,
            reason: format!("WAV encoding not read here ({WAV_ENCODINGS})"),
        },
        hound::Error::TooWide | hound::Error::InvalidSampleFormat => FeatureError::Unsupported {
            path,
            reason: "WAV sample width does not match its format".into(),
        },
        other => not_wav(other.to_string()),
    }
}

const WAV_ENCODINGS: &str = "read: integer PCM, float, A-law, µ-law, IMA and MS ADPCM";

/// A WAV: hound checks the header (its messages are the ones callers have
/// always seen), the sizes are checked against the input's length, and
/// symphonia decodes (several times faster than hound's sample reader).
fn open_riff(mut src: Source<'_>) -> Result<AudioSource<'_>> {
    let scan = loop {
        match scan_riff(&src.head) {
            RiffScan::NeedMore(n) if !src.eof && n <= RIFF_SCAN_LIMIT => src.fill(n)?,
            RiffScan::NeedMore(_) => break None,
            RiffScan::Found(d) => break Some(d),
        }
    };
    let header = match &scan {
        // A size hound can check (a whole number of frames).
        Some(d) if is_unknown_length(d.size) => {
            let size = u32::MAX as u64 / d.block * d.block;
            patch_data_size(&src.head[..d.start], d, size as u32)
        }
        Some(d) => src.head[..d.start].to_vec(),
        None => src.head.clone(),
    };
    match WavReader::new(Cursor::new(header)).map(|r| r.spec()) {
        Ok(spec) if spec.sample_rate == 0 => Err(FeatureError::ZeroSampleRate { path: src.name }),
        Ok(_) => {
            if let (Some(d), Some(len)) = (&scan, src.len) {
                let available = len.saturating_sub(d.start as u64);
                if !is_unknown_length(d.size) && d.size as u64 > available {
                    return Err(FeatureError::Truncated {
                        path: src.name,
                        format: "WAV",
                        expected: d.size as u64 / d.bytes_per_sample,
                        found: available / d.bytes_per_sample,
                    });
                }
            }
            open_codec(src, scan)
        }
        Err(e) => {
            let err = map_hound(&src.name, e);
            // An incomplete header or zero channels is no better elsewhere.
            if scan.is_none() || matches!(err, FeatureError::ZeroChannels { .. }) {
                return Err(err);
            }
            fallback(src, scan, err)
        }
    }
}

/// Hound refused the header: symphonia gets a try (it reads A-law, µ-law,
/// ADPCM, 64-bit float and headers hound is strict about). When it fails
/// too, an encoding neither reads is named by its format tag; otherwise
/// hound's error is reported.
fn fallback<'a>(
    src: Source<'a>,
    scan: Option<RiffData>,
    hound_err: FeatureError,
) -> Result<AudioSource<'a>> {
    let name = src.name.clone();
    open_codec(src, scan).map_err(|_| match scan.and_then(|d| d.tag) {
        Some(tag) if !matches!(tag, 1 | 3 | 0xFFFE) => FeatureError::Unsupported {
            path: name,
            reason: format!(
                "WAV format tag {tag:#06x}{} ({WAV_ENCODINGS})",
                match tag {
                    0x0031 => " (GSM 6.10)",
                    0x0050 => " (MPEG audio)",
                    0x0055 => " (MP3)",
                    0x0064 | 0x0045 => " (G.726 ADPCM)",
                    0x0065 => " (G.722 ADPCM)",
                    0x0160..=0x0163 => " (WMA)",
                    0x2000 => " (AC-3)",
                    _ => "",
                }
            ),
        },
        _ => hound_err,
    })
}

/// Lets a reader that is only `Send` be the `Send + Sync` source symphonia
/// asks for (one reader, so the lock is never contended).
struct SyncRead<'a>(Mutex<Box<dyn Read + Send + 'a>>);

impl Read for SyncRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.get_mut() {
            Ok(r) => r.read(buf),
            Err(poisoned) => poisoned.into_inner().read(buf),
        }
    }
}

// ---------------------------------------------------------------------------
// Everything else: symphonia

/// A demuxer and decoder from symphonia, downmixing each packet as it comes.
struct CodecStream<'a> {
    format: Box<dyn FormatReader + 'a>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    label: &'static str,
    sample_rate: u32,
    /// Frames the stream must hold (see `exact` in `open_codec`): fewer is
    /// an error.
    exact_frames: Option<u64>,
    /// Mono frames decoded so far.
    decoded: u64,
    /// Interleaved samples decoded so far (for the index of a NaN).
    samples_seen: u64,
    /// Where the next packet should start, in time-base ticks.
    next_pts: Option<i64>,
    seconds_per_tick: f64,
    pending: Vec<f32>,
    pos: usize,
    done: bool,
}

fn open_codec<'a>(mut src: Source<'a>, riff: Option<RiffData>) -> Result<AudioSource<'a>> {
    let label = src.label();
    // A WAV whose header does not know its length gets one symphonia reads
    // to the end of the input.
    let patched = riff
        .filter(|d| is_unknown_length(d.size))
        .map(|d| patch_data_size(&src.head, &d, exact_data_size(&d, src.len)));
    let media: Box<dyn MediaSource + 'a> = match (src.input, patched) {
        (Input::Bytes(b), None) => Box::new(Cursor::new(b)),
        (Input::Bytes(b), Some(mut head)) => {
            head.extend_from_slice(&b[src.head.len()..]);
            Box::new(Cursor::new(head))
        }
        (Input::File(mut f), None) => {
            f.seek(SeekFrom::Start(0))
                .map_err(|cause| FeatureError::Io {
                    path: src.name.clone(),
                    cause,
                })?;
            Box::new(f)
        }
        (Input::File(f), Some(head)) => Box::new(ReadOnlySource::new(Cursor::new(head).chain(f))),
        // WAV is decoded as it arrives.
        (Input::Stream(s), Some(head)) => Box::new(ReadOnlySource::new(
            Cursor::new(head).chain(SyncRead(Mutex::new(s))),
        )),
        (Input::Stream(s), None) if riff.is_some() => {
            let head = std::mem::take(&mut src.head);
            Box::new(ReadOnlySource::new(
                Cursor::new(head).chain(SyncRead(Mutex::new(s))),
            ))
        }
        // Other formats are read whole: MP4 may keep its index at the end.
        (input @ Input::Stream(_), None) => {
            src.input = input;
            src.fill_all()?;
            Box::new(Cursor::new(std::mem::take(&mut src.head)))
        }
    };
    let name = src.name;
    let not_valid = |reason: String| FeatureError::NotWav {
        path: name.clone(),
        format: label,
        reason,
    };
    let mss = MediaSourceStream::new(media, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = &src.ext {
        hint.with_extension(ext);
    }
    let format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymError::Unsupported(m) if m.contains("no suitable format reader") => {
                not_valid(format!("no known format marker ({READ_HERE})"))
            }
            // e.g. "isomp4: missing moov atom": damage, not a feature.
            SymError::Unsupported(m) if m.contains("missing") => not_valid(m.to_string()),
            SymError::Unsupported(m) => FeatureError::Unsupported {
                path: name.clone(),
                reason: m.to_string(),
            },
            // Also a FLAC with no audio frames at all.
            SymError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                not_valid("the input ends early (cut short, or no audio after the header)".into())
            }
            SymError::IoError(cause) => FeatureError::Io {
                path: name.clone(),
                cause,
            },
            e => not_valid(e.to_string()),
        })?;
    let container = format.format_info().short_name;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| not_valid("no audio track".into()))?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| not_valid("no audio track".into()))?
        .clone();
    let track_id = track.id;
    let num_frames = track.num_frames.filter(|&n| n > 0);
    let seconds_per_tick = match (track.time_base, params.sample_rate) {
        (Some(tb), _) => tb.numer.get() as f64 / tb.denom.get() as f64,
        (None, Some(rate)) if rate > 0 => 1.0 / rate as f64,
        _ => 0.0,
    };
    let decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| FeatureError::Unsupported {
            path: name.clone(),
            reason: match e {
                SymError::Unsupported(m) if m.contains("unsupported audio codec") => format!(
                    "{} in {container}: not decoded here (codecs read: PCM, ADPCM, FLAC, MP3, \
                     Vorbis, AAC-LC, ALAC)",
                    codec_name(params.codec)
                ),
                e => e.to_string(),
            },
        })?;
    let codec = decoder.codec_info().short_name;
    // Codecs whose announced length is exact (a WAV or AIFF data size, FLAC's
    // STREAMINFO, MP4 sample tables for ALAC, the last Ogg granule for
    // Vorbis): fewer frames means a cut or damaged file. (MP3 and AAC
    // lengths come from encoder tags and delays, and are only a hint.)
    let exact = (codec_ids::CODEC_ID_PCM_S32LE..=codec_ids::CODEC_ID_ADPCM_IMA_QT)
        .contains(&params.codec)
        || [
            codec_ids::CODEC_ID_FLAC,
            codec_ids::CODEC_ID_ALAC,
            codec_ids::CODEC_ID_VORBIS,
        ]
        .contains(&params.codec);
    let mut stream = CodecStream {
        format,
        decoder,
        track_id,
        label,
        sample_rate: params.sample_rate.unwrap_or(0),
        exact_frames: if exact { num_frames } else { None },
        decoded: 0,
        samples_seen: 0,
        next_pts: None,
        seconds_per_tick,
        pending: Vec::new(),
        pos: 0,
        done: false,
    };
    let mut channels = params.channels.as_ref().map_or(0, |c| c.count());
    // Decode the first packet now: some containers leave the rate or the
    // channels to the codec, and a broken stream fails at open, like a
    // broken WAV header.
    match stream.next_buffer(&name)? {
        Some((rate, ch)) => {
            stream.sample_rate = rate;
            channels = ch;
        }
        None => stream.finish(&name)?,
    }
    if stream.sample_rate == 0 {
        return Err(not_valid("the sample rate is 0 Hz or missing".into()));
    }
    if channels == 0 {
        return Err(not_valid("no channels".into()));
    }
    let info = AudioInfo {
        container,
        codec,
        channels: channels.min(u16::MAX as usize) as u16,
        sample_rate: stream.sample_rate,
        bits_per_sample: params.bits_per_sample.unwrap_or(0).min(64) as u16,
        is_float: matches!(
            params.codec,
            codec_ids::CODEC_ID_PCM_F32LE
                | codec_ids::CODEC_ID_PCM_F32BE
                | codec_ids::CODEC_ID_PCM_F64LE
                | codec_ids::CODEC_ID_PCM_F64BE
        ),
        frames: num_frames,
    };
    Ok(AudioSource {
        name,
        info,
        stream: Box::new(stream),
    })
}

/// A readable name for codecs this build may meet but not decode.
fn codec_name(id: AudioCodecId) -> String {
    use codec_ids::*;
    let name = match id {
        CODEC_ID_OPUS => "Opus",
        CODEC_ID_SPEEX => "Speex",
        CODEC_ID_AC3 => "AC-3",
        CODEC_ID_EAC3 => "E-AC-3",
        CODEC_ID_AC4 => "AC-4",
        CODEC_ID_DCA => "DTS",
        CODEC_ID_WMA => "WMA",
        CODEC_ID_MP1 => "MPEG-1 Layer I",
        CODEC_ID_MP2 => "MPEG-1 Layer II",
        CODEC_ID_WAVPACK => "WavPack",
        CODEC_ID_MONKEYS_AUDIO => "Monkey's Audio",
        CODEC_ID_TTA => "TTA",
        CODEC_ID_MUSEPACK => "Musepack",
        CODEC_ID_ATRAC1 | CODEC_ID_ATRAC3 | CODEC_ID_ATRAC3PLUS | CODEC_ID_ATRAC9 => "ATRAC",
        CODEC_ID_ADPCM_G722 | CODEC_ID_ADPCM_G726 | CODEC_ID_ADPCM_G726LE => "G.72x ADPCM",
        _ => return format!("codec {id}"),
    };
    name.to_string()
}

impl CodecStream<'_> {
    fn position(&self) -> (u64, f64) {
        let seconds = if self.sample_rate > 0 {
            self.decoded as f64 / self.sample_rate as f64
        } else {
            0.0
        };
        (self.decoded, seconds)
    }

    fn corrupt(&self, name: &str, reason: String) -> FeatureError {
        let (frame, seconds) = self.position();
        FeatureError::Corrupt {
            path: name.to_string(),
            format: self.label,
            frame,
            seconds,
            reason,
        }
    }

    /// Decodes the next packet of the track into `pending`; returns its rate
    /// and channel count, or `None` at the end of the stream.
    fn next_buffer(&mut self, name: &str) -> Result<Option<(u32, usize)>> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(None),
                // A packet cut short by the end of the input.
                Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Ok(None)
                }
                Err(SymError::IoError(cause)) => {
                    return Err(FeatureError::Io {
                        path: name.to_string(),
                        cause,
                    })
                }
                // A chained Ogg stream: the next link has its own headers.
                Err(SymError::ResetRequired) => {
                    self.restart(name)?;
                    continue;
                }
                Err(e) => return Err(self.corrupt(name, e.to_string())),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            // Demuxers skip what fails their checksums (an Ogg page, a FLAC
            // frame) without an error; the time stamps show the hole.
            let pts = packet.pts.get();
            if let Some(next) = self.next_pts.filter(|&next| pts > next) {
                let gap = (pts - next) as f64 * self.seconds_per_tick;
                return Err(self.corrupt(
                    name,
                    format!("{gap:.3} s of damaged data skipped by the demuxer"),
                ));
            }
            // Demuxers disagree on whether trimmed frames (encoder delay)
            // count in `dur`; counting them too only widens the bound.
            let span = packet
                .dur
                .get()
                .saturating_add(packet.trim_start.get())
                .saturating_add(packet.trim_end.get());
            self.next_pts = Some(pts.saturating_add(span.min(i64::MAX as u64) as i64));
            let (frames, rate, channels, bad) = match self.decoder.decode(&packet) {
                Ok(buf) => {
                    let start = self.pending.len();
                    let bad = downmix(&buf, &mut self.pending);
                    let frames = self.pending.len() - start;
                    (frames, buf.spec().rate(), buf.num_planes(), bad)
                }
                Err(e) => return Err(self.corrupt(name, e.to_string())),
            };
            if let Some((index, value)) = bad {
                return Err(FeatureError::NonFinite {
                    path: name.to_string(),
                    index: self.samples_seen + index as u64,
                    value,
                });
            }
            if frames == 0 {
                continue;
            }
            if self.decoded > 0 && rate != self.sample_rate {
                let (_, seconds) = self.position();
                return Err(FeatureError::Unsupported {
                    path: name.to_string(),
                    reason: format!(
                        "the sample rate changes from {} to {rate} Hz at {seconds:.3} s",
                        self.sample_rate
                    ),
                });
            }
            self.sample_rate = rate;
            self.decoded += frames as u64;
            self.samples_seen += (frames * channels) as u64;
            return Ok(Some((rate, channels)));
        }
    }

    /// A new logical stream (chained Ogg): decode it with a new decoder.
    fn restart(&mut self, name: &str) -> Result<()> {
        let params = self
            .format
            .default_track(TrackType::Audio)
            .and_then(|t| Some((t.id, t.codec_params.as_ref()?.audio()?.clone())));
        let Some((id, params)) = params else {
            return Err(self.corrupt(name, "a chained stream has no audio track".into()));
        };
        self.decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| self.corrupt(name, format!("a chained stream: {e}")))?;
        self.track_id = id;
        self.exact_frames = None;
        self.next_pts = None;
        Ok(())
    }

    /// At the end: a stream with an exact announced length must hold it.
    fn finish(&mut self, name: &str) -> Result<()> {
        self.done = true;
        if let Some(expected) = self.exact_frames {
            if self.decoded < expected {
                let channels = self
                    .decoder
                    .codec_params()
                    .channels
                    .as_ref()
                    .map_or(1, |c| c.count().max(1)) as u64;
                return Err(FeatureError::Truncated {
                    path: name.to_string(),
                    format: self.label,
                    expected: expected * channels,
                    found: self.decoded * channels,
                });
            }
        }
        Ok(())
    }

    fn read_chunk(&mut self, out: &mut Vec<f32>, max_frames: usize, name: &str) -> Result<usize> {
        loop {
            if self.pos < self.pending.len() {
                let n = (self.pending.len() - self.pos).min(max_frames);
                out.extend_from_slice(&self.pending[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            self.pending.clear();
            self.pos = 0;
            if self.next_buffer(name)?.is_none() {
                self.finish(name)?;
            }
        }
    }
}

/// Appends the mean of the channels of `buf` to `out`; returns the first
/// non-finite sample (interleaved index, value) of a float buffer.
fn downmix(buf: &GenericAudioBufferRef<'_>, out: &mut Vec<f32>) -> Option<(usize, f32)> {
    match buf {
        GenericAudioBufferRef::U8(b) => mix(b, out),
        GenericAudioBufferRef::U16(b) => mix(b, out),
        GenericAudioBufferRef::U24(b) => mix(b, out),
        GenericAudioBufferRef::U32(b) => mix(b, out),
        GenericAudioBufferRef::S8(b) => mix(b, out),
        GenericAudioBufferRef::S16(b) => mix(b, out),
        GenericAudioBufferRef::S24(b) => mix(b, out),
        GenericAudioBufferRef::S32(b) => mix(b, out),
        GenericAudioBufferRef::F32(b) => {
            let bad = first_non_finite(b, |x| x.is_finite(), |x| x);
            if bad.is_some() {
                return bad;
            }
            mix(b, out)
        }
        GenericAudioBufferRef::F64(b) => {
            let bad = first_non_finite(b, |x| x.is_finite(), |x| x as f32);
            if bad.is_some() {
                return bad;
            }
            mix(b, out)
        }
    }
}

fn first_non_finite<S: Sample>(
    b: &AudioBuffer<S>,
    finite: impl Fn(S) -> bool,
    as_f32: impl Fn(S) -> f32,
) -> Option<(usize, f32)> {
    let n = b.frames();
    let ch = b.num_planes();
    (0..ch)
        .filter_map(|c| {
            let plane = &b.plane(c)?[..n];
            let i = plane.iter().position(|&x| !finite(x))?;
            Some((i * ch + c, as_f32(plane[i])))
        })
        .min_by_key(|&(i, _)| i)
}

fn mix<S: Sample>(b: &AudioBuffer<S>, out: &mut Vec<f32>) -> Option<(usize, f32)>
where
    f32: FromSample<S>,
{
    let n = b.frames();
    let ch = b.num_planes();
    let planes = (0..ch).filter_map(|c| b.plane(c)).map(|p| &p[..n]);
    if ch == 1 {
        for p in planes {
            out.extend(p.iter().map(|&s| f32::from_sample(s)));
        }
        return None;
    }
    let start = out.len();
    out.resize(start + n, 0.0);
    let acc = &mut out[start..];
    for p in planes {
        for (o, &s) in acc.iter_mut().zip(p) {
            *o += f32::from_sample(s);
        }
    }
    let inv = 1.0 / ch as f32;
    for o in acc.iter_mut() {
        *o *= inv;
    }
    None
}
