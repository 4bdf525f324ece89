//! Fuzz-style robustness: arbitrary bytes, valid WAVs, and FLAC, Ogg Vorbis,
//! MP3, AAC/ALAC in M4A, ADTS, Opus and ADPCM streams with random byte
//! corruption or truncation, go through decoding and MFCC without panicking
//! (errors are fine, panics are not), read from memory or as a pipe.

use std::sync::OnceLock;

use proptest::prelude::*;
use sori_features::{decode_wav, read_audio_from, Audio, Extractor, FeatureConfig, Result};

#[path = "support/formats.rs"]
mod formats;

fn pipeline(bytes: &[u8]) {
    features_of(decode_wav(bytes, "fuzz.wav"));
}

fn features_of(decoded: Result<Audio>) {
    if let Ok(audio) = decoded {
        assert!(audio.sample_rate > 0);
        let mut ex = Extractor::new(&FeatureConfig::kaldi(16000)).unwrap();
        if let Ok(f) = ex.compute_audio(&audio, "fuzz") {
            assert!(f.data.iter().all(|x| x.is_finite()));
        }
    }
}

fn valid_wav(channels: u16, rate: u32, bits: u16, float: bool, n: usize) -> Vec<u8> {
    let mut cur = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    {
        let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
        for i in 0..n * channels as usize {
            let v = ((i * 2654435761) % 2000) as f32 / 1000.0 - 1.0;
            if float {
                w.write_sample(v).unwrap();
            } else {
                let scaled = (v * ((1i64 << (bits - 1)) - 1) as f32) as i32;
                match bits {
                    8 => w.write_sample(scaled as i8).unwrap(),
                    16 => w.write_sample(scaled as i16).unwrap(),
                    _ => w.write_sample(scaled).unwrap(),
                }
            }
        }
        w.finalize().unwrap();
    }
    cur.into_inner()
}

/// One valid stream of each compressed format: the committed fixtures, and
/// FLAC, Ogg Vorbis, AIFF and IMA ADPCM WAV made with sox when it is there.
fn compressed() -> &'static [(String, Vec<u8>)] {
    static STREAMS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    STREAMS.get_or_init(|| {
        let mut v: Vec<(String, Vec<u8>)> = [
            "speech16k.mp3",
            "stereo44k.mp3",
            "speech16k-aac.m4a",
            "speech16k-alac.m4a",
            "speech16k.aac",
            "speech16k.opus",
        ]
        .iter()
        .map(|n| (n.to_string(), std::fs::read(formats::fixture(n)).unwrap()))
        .collect();
        if formats::have_sox("robustness: FLAC, Ogg, AIFF and ADPCM cases") {
            let dir = tempfile::tempdir().unwrap();
            let src = formats::fixture("speech16k.wav");
            for (name, extra) in [
                ("x.flac", &[][..]),
                ("x.ogg", &[][..]),
                ("x.aiff", &[][..]),
                ("ima.wav", &["-e", "ima-adpcm"][..]),
            ] {
                let out = dir.path().join(name);
                let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&src];
                args.extend(extra.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
                args.push(&out);
                formats::sox(&args);
                v.push((name.to_string(), std::fs::read(&out).unwrap()));
            }
        }
        v
    })
}

proptest! {
    // `make fuzz` raises the count with SORI_FUZZ_CASES.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("SORI_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300),
    ))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        pipeline(&bytes);
        // Also behind a plausible RIFF/WAVE prefix, so the header parser is reached.
        let mut prefixed = b"RIFF\xff\xff\x00\x00WAVEfmt ".to_vec();
        prefixed.extend_from_slice(&bytes);
        pipeline(&prefixed);
    }

    #[test]
    fn corrupted_wavs_never_panic(
        which in 0usize..6,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        header_only in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let (ch, rate, bits, float) = [
            (1, 16000, 16, false), (2, 8000, 8, false), (1, 22050, 24, false),
            (3, 44100, 32, false), (2, 48000, 32, true), (1, 11025, 16, false),
        ][which];
        let mut bytes = valid_wav(ch, rate, bits, float, 700);
        for (i, v) in flips {
            // Half the cases corrupt the header, where the interesting branches
            // are; the others hit sample data too (float data may become NaN).
            let span = if header_only { bytes.len().min(64) } else { bytes.len() };
            bytes[i.index(span)] = v;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        pipeline(&bytes);
    }

    #[test]
    fn corrupted_compressed_streams_never_panic(
        which in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        header_only in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        as_pipe in any::<bool>(),
    ) {
        let streams = compressed();
        let (name, bytes) = &streams[which.index(streams.len())];
        let mut bytes = bytes.clone();
        for (i, v) in flips {
            let span = if header_only { bytes.len().min(512) } else { bytes.len() };
            bytes[i.index(span)] = v;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        if as_pipe {
            features_of(read_audio_from(&bytes[..], name));
        } else {
            features_of(sori_features::decode_audio(&bytes, name));
        }
    }
}
