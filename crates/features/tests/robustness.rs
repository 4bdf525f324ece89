//! Fuzz-style robustness: arbitrary bytes, and valid WAVs with random byte
//! corruption or truncation, go through decoding and MFCC without panicking
//! (errors are fine, panics are not).

use proptest::prelude::*;
use sori_features::{decode_wav, Extractor, FeatureConfig};

fn pipeline(bytes: &[u8]) {
    if let Ok(audio) = decode_wav(bytes, "fuzz.wav") {
        let mut ex = Extractor::new(&FeatureConfig::kaldi(16000)).unwrap();
        if let Ok(f) = ex.compute_audio(&audio, "fuzz.wav") {
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
}
