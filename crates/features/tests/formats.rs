//! Every format through the one loader (`read_audio` and the names it had,
//! `read_wav` ...): lossless formats (FLAC, AIFF, ALAC, WAV encodings,
//! WAVE_FORMAT_EXTENSIBLE) give exactly the samples of their WAV source;
//! lossy ones (MP3, Ogg Vorbis, AAC) correlate with it above 0.99 once
//! aligned; WAV with an unknown length (streamed headers) decodes fully from
//! files, memory and pipes; and bad input (unsupported codecs, corrupt or cut
//! streams, empty input, a directory) gives one line naming the input.
//!
//! FLAC, Ogg, AIFF and the WAV encodings are made here with sox (a missing
//! sox skips those tests with a visible line, and fails them under
//! `CI=true`); MP3, M4A, ADTS and Opus fixtures are committed
//! (`tests/fixtures/formats/make-fixtures.sh`).

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use hound::{SampleFormat, WavSpec, WavWriter};
use sori_features::{
    decode_audio, extract_file, read_audio, read_audio_from, read_wav, resample, AudioSource,
    FeatureConfig, FeatureError, StreamingExtractor,
};

#[path = "support/formats.rs"]
mod formats;
use formats::{best_correlation, fixture, have_sox, snr_db, source, sox};

/// A 16-bit WAV of `frames` frames of `channels` distinct deterministic
/// signals (a chirp-like tone per channel plus a little noise).
fn wav16(channels: u16, rate: u32, frames: usize) -> Vec<u8> {
    wav_bytes(
        WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        },
        frames,
    )
}

fn wav_bytes(spec: WavSpec, frames: usize) -> Vec<u8> {
    let mut cur = Cursor::new(Vec::new());
    {
        let mut w = WavWriter::new(&mut cur, spec).unwrap();
        let mut noise = 12345u32;
        for i in 0..frames {
            for c in 0..spec.channels {
                noise = noise.wrapping_mul(1664525).wrapping_add(1013904223);
                let t = i as f64 / spec.sample_rate as f64;
                let f = 200.0 * (c + 1) as f64 + 900.0 * t;
                let v = 0.6 * (2.0 * std::f64::consts::PI * f * t).sin()
                    + ((noise >> 16) as f64 / 65536.0 - 0.5) * 0.02;
                match (spec.sample_format, spec.bits_per_sample) {
                    (SampleFormat::Float, _) => w.write_sample(v as f32).unwrap(),
                    (_, 16) => w.write_sample((v * 32767.0) as i16).unwrap(),
                    (_, 24) => w.write_sample((v * 8_388_607.0) as i32).unwrap(),
                    _ => unreachable!(),
                }
            }
        }
        w.finalize().unwrap();
    }
    cur.into_inner()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The error of a decode that must fail (without printing megabytes of
/// samples when it does not).
fn decode_err(r: sori_features::Result<sori_features::Audio>) -> FeatureError {
    match r {
        Ok(a) => panic!(
            "decoded {} samples at {} Hz",
            a.samples.len(),
            a.sample_rate
        ),
        Err(e) => e,
    }
}

/// Asserts a one-line error that starts with the input's name and contains
/// every piece of `mentions`.
fn assert_error(e: &FeatureError, name: &str, mentions: &[&str]) {
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("{name}: ")), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
    for m in mentions {
        assert!(msg.contains(m), "{msg:?} should mention {m:?}");
    }
}

#[test]
fn lossless_formats_equal_their_wav_source() {
    if !have_sox("lossless_formats_equal_their_wav_source") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("stereo44k.wav", wav16(2, 44100, 30_000)),
        ("mono8k.wav", wav16(1, 8000, 9_001)),
        ("three16k.wav", wav16(3, 16000, 12_345)),
        (
            "mono24bit.wav",
            wav_bytes(
                WavSpec {
                    channels: 1,
                    sample_rate: 22050,
                    bits_per_sample: 24,
                    sample_format: SampleFormat::Int,
                },
                10_000,
            ),
        ),
    ] {
        let src = write(dir.path(), name, &bytes);
        let want = read_audio(&src).unwrap();
        assert!(want.samples.len() > 9000, "{name}");
        for ext in ["flac", "aiff"] {
            let out = dir.path().join(format!("{name}.{ext}"));
            sox(&[&src, &out]);
            let got = read_audio(&out).unwrap();
            assert_eq!(got.sample_rate, want.sample_rate, "{name}.{ext}");
            assert_eq!(got.samples, want.samples, "{name}.{ext}: exact");
            // The old name reads it too.
            assert_eq!(read_wav(&out).unwrap(), got);
        }
        // The same file through the streaming feature extractor.
        let flac = dir.path().join(format!("{name}.flac"));
        let cfg = FeatureConfig::kaldi(16000);
        let mut rows = Vec::new();
        let n = StreamingExtractor::new(&cfg)
            .unwrap()
            .run_wav(sori_features::open_audio(&flac).unwrap(), |r| {
                rows.extend_from_slice(r);
                Ok(())
            })
            .unwrap();
        let whole = extract_file(&src, &cfg).unwrap();
        assert_eq!(
            (n, rows),
            (whole.n_frames, whole.data),
            "{name}: streamed FLAC"
        );
    }
}

/// WAV encodings sox writes and hound does not read: 64-bit float and
/// WAVE_FORMAT_EXTENSIBLE are exact; A-law and µ-law equal sox's own
/// expansion back to 16-bit; IMA and MS ADPCM stay close to the source.
#[test]
fn wav_encodings_and_extensible_headers() {
    if !have_sox("wav_encodings_and_extensible_headers") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("speech16k.wav");
    let want = source();
    let run = |name: &str, args: &[&str]| -> PathBuf {
        let out = dir.path().join(name);
        let mut a: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&src];
        a.extend(args.iter().map(|s| s as &dyn AsRef<std::ffi::OsStr>));
        a.push(&out);
        sox(&a);
        out
    };
    // 64-bit float: every 16-bit value is exact in f64.
    let f64_wav = run("f64.wav", &["-e", "floating-point", "-b", "64"]);
    assert_eq!(read_audio(&f64_wav).unwrap().samples, want, "f64");
    // sox writes WAVE_FORMAT_EXTENSIBLE (format tag 0xFFFE) for 24-bit and
    // for more than two channels.
    let ext24 = run("ext24.wav", &["-b", "24"]);
    let ext3 = run("ext3.wav", &["-c", "3"]);
    for p in [&ext24, &ext3] {
        let bytes = std::fs::read(p).unwrap();
        assert_eq!(&bytes[20..22], &[0xFE, 0xFF], "{}", p.display());
        assert_eq!(read_audio(p).unwrap().samples, want, "{}", p.display());
    }
    // A-law / µ-law: the same values sox expands them to.
    for (name, enc) in [("alaw.wav", "a-law"), ("ulaw.wav", "u-law")] {
        let coded = run(name, &["-e", enc]);
        let back = dir.path().join(format!("{name}.s16.wav"));
        sox(&[&coded, &"-e", &"signed-integer", &"-b", &"16", &back]);
        let got = read_audio(&coded).unwrap();
        let expanded = read_audio(&back).unwrap();
        assert_eq!(got.samples, expanded.samples, "{name}");
        assert!(snr_db(&want, &got.samples) > 25.0, "{name}");
    }
    for enc in ["ima-adpcm", "ms-adpcm"] {
        let got = read_audio(&run(&format!("{enc}.wav"), &["-e", enc])).unwrap();
        let snr = snr_db(&want, &got.samples);
        eprintln!("{enc}: SNR {snr:.1} dB");
        assert!(snr > 15.0, "{enc}: SNR {snr:.1} dB");
        assert!(got.samples.len().abs_diff(want.len()) < 1024, "{enc}");
    }
}

#[test]
fn ogg_vorbis_correlates_with_its_source() {
    if !have_sox("ogg_vorbis_correlates_with_its_source") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("speech.ogg");
    sox(&[&fixture("speech16k.wav"), &out]);
    let want = source();
    let got = read_audio(&out).unwrap();
    assert_eq!(got.sample_rate, 16000);
    // Vorbis in Ogg is gapless: same length, no shift.
    assert_eq!(got.samples.len(), want.len());
    let (c, lag) = best_correlation(&want, &got.samples, 64);
    eprintln!(
        "ogg: correlation {c:.4} at lag {lag}, SNR {:.1} dB",
        snr_db(&want, &got.samples)
    );
    assert!(c > 0.99 && lag == 0, "correlation {c} at lag {lag}");
}

#[test]
fn mp3_aac_and_alac_fixtures_match_their_source() {
    let want = source();
    // ALAC is lossless.
    let alac = read_audio(&fixture("speech16k-alac.m4a")).unwrap();
    assert_eq!((alac.sample_rate, &alac.samples), (16000, &want));
    // Lossy: the best alignment within 2048 samples (AAC in MP4 keeps its
    // 1024-sample encoder delay: symphonia does not trim it there).
    for name in ["speech16k.mp3", "speech16k-aac.m4a", "speech16k.aac"] {
        let got = read_audio(&fixture(name)).unwrap();
        assert_eq!(got.sample_rate, 16000, "{name}");
        let (c, lag) = best_correlation(&want, &got.samples, 2048);
        eprintln!("{name}: correlation {c:.4} at lag {lag}");
        assert!(c > 0.99, "{name}: correlation {c} at lag {lag}");
        assert!(
            got.samples.len() >= want.len() && got.samples.len() < want.len() + 2048 + 1152,
            "{name}: {} samples",
            got.samples.len()
        );
    }
    // MP3 with a LAME header is gapless: aligned exactly.
    let mp3 = read_audio(&fixture("speech16k.mp3")).unwrap();
    assert_eq!(best_correlation(&want, &mp3.samples, 2048).1, 0);
    assert_eq!(mp3.samples.len(), want.len());
}

/// 44.1 kHz stereo with gains 0.9 / 0.3: mixed down to 0.6 x the source.
#[test]
fn stereo_mp3_is_mixed_down_and_keeps_its_rate() {
    let got = read_audio(&fixture("stereo44k.mp3")).unwrap();
    assert_eq!(got.sample_rate, 44100);
    let mono16 = resample(&got.samples, 44100, 16000, "stereo44k.mp3").unwrap();
    let want = source();
    let (c, lag) = best_correlation(&want, &mono16, 256);
    assert_eq!(lag, 0);
    // The gain of the source in the decoded signal (least squares).
    let n = want.len().min(mono16.len());
    let dot = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| x as f64 * y as f64)
            .sum::<f64>()
    };
    let gain = dot(&mono16[..n], &want[..n]) / dot(&want[..n], &want[..n]);
    eprintln!("stereo44k.mp3: correlation {c:.4} at lag {lag}, gain {gain:.3} of the source");
    assert!(c > 0.99, "correlation {c}");
    // MP3 coding itself loses about 5 % of the level here (ffmpeg's decoder
    // measures the same); a sum of the channels would give 1.2, either
    // channel alone 0.9 or 0.3.
    assert!((0.55..0.62).contains(&gain), "gain {gain}");
}

/// Headers written by programs that cannot seek back: the data size is
/// 0xFFFFFFFF (ffmpeg), 0x7FFFF000 (sox, espeak-ng --stdout), 0x7FFFFFFF
/// or 0. From a file, from memory and from a pipe, all of the data is
/// decoded; a trailing half frame is dropped.
#[test]
fn streamed_wav_with_unknown_length_decodes_fully() {
    let normal = wav16(2, 22050, 20_001);
    let want = decode_audio(&normal, "normal.wav").unwrap();
    assert_eq!(want.samples.len(), 20_001);
    let data = normal.windows(4).position(|w| w == b"data").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (riff, size) in [
        (u32::MAX, u32::MAX),
        (0x7FFF_F024, 0x7FFF_F000),
        (u32::MAX, 0x7FFF_FFFF),
        (0, 0),
    ] {
        let mut streamed = normal.clone();
        streamed[4..8].copy_from_slice(&riff.to_le_bytes());
        streamed[data + 4..data + 8].copy_from_slice(&size.to_le_bytes());
        // Half a frame more at the end: dropped.
        streamed.extend_from_slice(&[1, 2]);
        let path = write(dir.path(), &format!("{size:x}.wav"), &streamed);
        let what = format!("data size {size:#x}");
        assert_eq!(
            decode_audio(&streamed, "m.wav").unwrap(),
            want,
            "{what}: memory"
        );
        assert_eq!(read_audio(&path).unwrap(), want, "{what}: file");
        // A pipe: a reader with no length, delivering a few bytes at a time.
        let pipe = Trickle(&streamed[..], 0);
        assert_eq!(read_audio_from(pipe, "-").unwrap(), want, "{what}: pipe");
        let src = AudioSource::from_reader(&streamed[..], "-").unwrap();
        assert_eq!(src.info().frames, None, "{what}: unknown length");
    }
    // A size that is not one of those is trusted: a pipe that ends early is
    // a truncated WAV, like a short file.
    let cut = &normal[..normal.len() - 1000];
    let e = decode_err(read_audio_from(cut, "-"));
    assert!(matches!(e, FeatureError::Truncated { .. }), "{e}");
    assert_error(&e, "-", &["truncated WAV", "40002 samples"]);
    let e = decode_err(decode_audio(cut, "cut.wav"));
    assert_error(&e, "cut.wav", &["truncated WAV", "40002 samples"]);
}

/// A reader that returns at most 7 bytes per call, like a slow pipe.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(7).min(self.0.len() - self.1);
        buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
        self.1 += n;
        Ok(n)
    }
}

/// What `espeak-ng --stdout > file` leaves: a header announcing 0x7FFFF000
/// bytes over a short file. It used to be refused as truncated.
#[test]
fn espeak_stdout_file_is_read() {
    let Ok(out) = std::process::Command::new("espeak-ng")
        .args(["--stdout", "hello"])
        .output()
    else {
        // No silent skip (issue 24): a failure under CI, a visible line
        // elsewhere (written past libtest's capture of eprintln!).
        let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
        assert!(!ci, "espeak-ng not found, and under CI (CI=true) this test must run; `make setup` installs it");
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED espeak_stdout_file_is_read: espeak-ng not found (run `make setup`; the synthetic header is tested above)"
        );
        return;
    };
    assert!(out.status.success());
    let bytes = out.stdout;
    assert_eq!(
        &bytes[40..44],
        &0x7FFF_F000u32.to_le_bytes(),
        "espeak-ng's header"
    );
    let a = decode_audio(&bytes, "hello.wav").unwrap();
    assert_eq!(a.samples.len(), (bytes.len() - 44) / 2);
    assert_eq!(read_audio_from(&bytes[..], "-").unwrap(), a);
}

#[test]
fn readers_and_chunked_decoding_agree_with_whole_files() {
    for name in [
        "speech16k.wav",
        "speech16k.mp3",
        "stereo44k.mp3",
        "speech16k-aac.m4a",
        "speech16k-alac.m4a",
        "speech16k.aac",
    ] {
        let path = fixture(name);
        let whole = read_audio(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // From a pipe (MP4 keeps its index after the audio: read whole).
        assert_eq!(
            read_audio_from(Trickle(&bytes, 0), "-").unwrap(),
            whole,
            "{name}"
        );
        assert_eq!(decode_audio(&bytes, name).unwrap(), whole, "{name}");
        // Small, odd chunk sizes.
        let mut src = AudioSource::from_bytes(&bytes, name).unwrap();
        assert_eq!(src.info().sample_rate, whole.sample_rate);
        let mut out = Vec::new();
        let mut size = 1;
        loop {
            let n = src.read_chunk(&mut out, size).unwrap();
            if n == 0 {
                break;
            }
            assert!(n <= size);
            size = size * 7 % 1000 + 1;
        }
        assert_eq!(out, whole.samples, "{name}: chunked");
    }
}

#[test]
fn chained_ogg_streams_are_read_to_the_end() {
    if !have_sox("chained_ogg_streams_are_read_to_the_end") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("speech16k.wav");
    let a = dir.path().join("a.ogg");
    let b8k = dir.path().join("b8k.ogg");
    sox(&[&src, &a]);
    sox(&[&src, &"-r", &"8000", &b8k]);
    let one = read_audio(&a).unwrap();
    let ogg = std::fs::read(&a).unwrap();
    let chained = [ogg.clone(), ogg.clone()].concat();
    let two = decode_audio(&chained, "chained.ogg").unwrap();
    assert_eq!(two.samples, [one.samples.clone(), one.samples].concat());
    // A link at another rate cannot join one signal.
    let mixed = [ogg, std::fs::read(&b8k).unwrap()].concat();
    let e = decode_err(decode_audio(&mixed, "mixed.ogg"));
    assert_error(&e, "mixed.ogg", &["16000 to 8000 Hz at 1.200 s"]);
}

#[test]
fn unsupported_codecs_are_named() {
    let e = decode_err(read_audio(&fixture("speech16k.opus")));
    assert!(matches!(e, FeatureError::Unsupported { .. }), "{e}");
    assert_error(
        &e,
        &fixture("speech16k.opus").display().to_string(),
        &["Opus"],
    );
    if have_sox("unsupported_codecs_are_named: GSM in WAV") {
        let dir = tempfile::tempdir().unwrap();
        let gsm = dir.path().join("gsm.wav");
        sox(&[&fixture("speech16k.wav"), &"-e", &"gsm-full-rate", &gsm]);
        let e = decode_err(read_audio(&gsm));
        assert!(matches!(e, FeatureError::Unsupported { .. }), "{e}");
        assert_error(
            &e,
            &gsm.display().to_string(),
            &["WAV format tag 0x0031 (GSM 6.10)"],
        );
    }
}

/// Damage in the middle stops decoding with the position; a FLAC cut short
/// is truncated; lossy streams cut short decode up to the cut (they announce
/// no exact length); an MP4 whose index is cut off is not valid.
#[test]
fn corrupt_and_cut_streams() {
    let flip = |bytes: &[u8], at: f64| {
        let mut b = bytes.to_vec();
        let p = (b.len() as f64 * at) as usize;
        for x in &mut b[p..p + 64] {
            *x ^= 0x5A;
        }
        b
    };
    // AAC and ALAC in M4A: the decoder rejects the damaged packet.
    for name in ["speech16k-aac.m4a", "speech16k-alac.m4a", "speech16k.aac"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let e = decode_err(decode_audio(&flip(&bytes, 0.5), name));
        let FeatureError::Corrupt { seconds, .. } = e else {
            panic!("{name}: {e}")
        };
        assert!(seconds > 0.1 && seconds < 1.2, "{name}: at {seconds} s");
        assert_error(&e, name, &["corrupt", "data at"]);
    }
    let m4a = std::fs::read(fixture("speech16k-aac.m4a")).unwrap();
    let e = decode_err(decode_audio(&m4a[..m4a.len() * 3 / 4], "cut.m4a"));
    assert_error(&e, "cut.m4a", &["not a valid MP4/M4A file", "moov"]);
    let mp3 = std::fs::read(fixture("speech16k.mp3")).unwrap();
    let half = decode_audio(&mp3[..mp3.len() / 2], "cut.mp3").unwrap();
    let whole = source().len();
    assert!(half.samples.len() > whole / 3 && half.samples.len() < whole * 2 / 3);

    if !have_sox("corrupt_and_cut_streams: FLAC and Ogg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // 4.8 s, so that the middle is neither the first nor the last Ogg page.
    let src = fixture("speech16k.wav");
    for ext in ["flac", "ogg"] {
        let out = dir.path().join(format!("s.{ext}"));
        sox(&[&src, &src, &src, &src, &out]);
        let bytes = std::fs::read(&out).unwrap();
        // The demuxer skips what fails its checksum; the time stamps show
        // the hole.
        let e = decode_err(decode_audio(&flip(&bytes, 0.5), "bad"));
        let FeatureError::Corrupt { seconds, .. } = e else {
            panic!("{ext}: {e}")
        };
        assert!(seconds > 1.0 && seconds < 4.0, "{ext}: at {seconds} s");
        assert_error(&e, "bad", &["skipped by the demuxer"]);
    }
    let flac = std::fs::read(dir.path().join("s.flac")).unwrap();
    let e = decode_err(decode_audio(&flac[..flac.len() * 2 / 3], "cut.flac"));
    assert!(
        matches!(
            e,
            FeatureError::Truncated {
                expected: 76800,
                ..
            }
        ),
        "{e}"
    );
    assert_error(&e, "cut.flac", &["truncated FLAC", "76800 samples"]);
}

#[test]
fn empty_and_unrecognised_inputs_and_directories() {
    let e = decode_err(decode_audio(&[], "empty.flac"));
    assert!(matches!(e, FeatureError::NotWav { .. }), "{e}");
    assert_error(
        &e,
        "empty.flac",
        &["not a valid FLAC file", "empty input (0 bytes)"],
    );
    let e = decode_err(read_audio_from(std::io::empty(), "-"));
    assert_error(&e, "-", &["not a valid audio file", "empty"]);
    // Text: named by its extension, with the formats that are read.
    let text = b"these are meeting notes, not audio\n";
    let e = decode_err(decode_audio(text, "notes.wav"));
    assert_error(&e, "notes.wav", &["not a valid WAV file", "FLAC, MP3"]);
    let e = decode_err(decode_audio(text, "notes.txt"));
    assert_error(&e, "notes.txt", &["not a valid audio file"]);
    // Format markers over garbage.
    for (bytes, what) in [
        (&b"fLaC\0\0\0\x22garbage"[..], "FLAC"),
        (b"OggS\0\x02garbage garbage garbage", "Ogg"),
        (b"FORM\0\0\0\x10AIFFCOMMxx", "AIFF"),
    ] {
        let e = decode_err(decode_audio(bytes, "x"));
        assert!(matches!(e, FeatureError::NotWav { .. }), "{e}");
        assert_error(&e, "x", &[&format!("not a valid {what} file")]);
    }
    // A stream with a valid header and no samples is empty audio, not an
    // error (callers decide; `asr` says "empty audio").
    let empty = wav16(1, 16000, 0);
    assert!(decode_audio(&empty, "e.wav").unwrap().samples.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let e = decode_err(read_audio(dir.path()));
    assert!(matches!(e, FeatureError::Io { .. }), "{e}");
    assert_error(&e, &dir.path().display().to_string(), &["is a directory"]);
    // A FLAC without a single frame: symphonia cannot read it, and says so.
    if have_sox("empty_and_unrecognised_inputs_and_directories: empty FLAC") {
        let flac = dir.path().join("empty.flac");
        sox(&[
            &"-n", &"-r", &"16000", &"-c", &"1", &"-b", &"16", &flac, &"trim", &"0", &"0",
        ]);
        let e = decode_err(read_audio(&flac));
        let name = flac.display().to_string();
        assert_error(
            &e,
            &name,
            &["not a valid FLAC file", "no audio after the header"],
        );
    }
}
