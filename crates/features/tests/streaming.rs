//! Streaming equals whole-utterance extraction, for random chunkings and
//! every framing / delta combination that can stream.

use proptest::prelude::*;
use sori_features::{
    open_wav, Extractor, FeatureConfig, FeatureError, Features, LogKind, Output, StreamingExtractor,
};

fn signal(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
            0.3 * (i as f32 * 0.05).sin() + 0.1 * noise
        })
        .collect()
}

fn stream(config: &FeatureConfig, x: &[f32], chunks: &[usize]) -> Vec<f32> {
    let mut s = StreamingExtractor::new(config).unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut k = 0;
    while pos < x.len() {
        let size = chunks[k % chunks.len()].max(1);
        let end = (pos + size).min(x.len());
        let before = out.len();
        let n = s.push(&x[pos..end], &mut out).unwrap();
        assert_eq!(out.len() - before, n * s.dim());
        pos = end;
        k += 1;
    }
    s.finish(&mut out).unwrap();
    out
}

fn configs() -> Vec<FeatureConfig> {
    let librosa_streamable = FeatureConfig {
        log: LogKind::Decibel {
            amin: 1e-10,
            top_db: None,
        },
        ..FeatureConfig::librosa(16000)
    };
    vec![
        FeatureConfig::kaldi(16000),
        FeatureConfig::kaldi_fbank(16000),
        FeatureConfig {
            delta_order: 1,
            ..FeatureConfig::default()
        },
        FeatureConfig {
            delta_order: 2,
            ..FeatureConfig::kaldi(8000)
        },
        FeatureConfig {
            delta_order: 2,
            output: Output::Fbank,
            use_energy: true,
            ..librosa_streamable.clone()
        },
        FeatureConfig {
            frame_length: 300,
            frame_shift: 400, // hop longer than the frame: samples are skipped
            n_fft: 512,
            ..FeatureConfig::default()
        },
        FeatureConfig {
            frame_length: 400,
            frame_shift: 160,
            n_fft: 1024,
            delta_order: 2,
            ..librosa_streamable
        },
    ]
}

fn whole(config: &FeatureConfig, x: &[f32]) -> Features {
    Extractor::new(config).unwrap().compute(x).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_chunkings_match_whole_file(
        len in 0usize..12000,
        seed in any::<u64>(),
        chunks in proptest::collection::vec(1usize..3000, 1..8),
        which in 0usize..7,
    ) {
        let config = &configs()[which];
        let x = signal(len, seed);
        let expect = whole(config, &x);
        let got = stream(config, &x, &chunks);
        prop_assert_eq!(got.len(), expect.data.len());
        prop_assert!(got == expect.data, "streamed rows differ");
    }
}

#[test]
fn every_config_and_edge_lengths() {
    for config in configs() {
        for len in [0, 1, 399, 400, 401, 560, 2047, 2048, 5000] {
            let x = signal(len, len as u64);
            let expect = whole(&config, &x);
            for chunks in [vec![1], vec![7, 160], vec![100000]] {
                assert_eq!(stream(&config, &x, &chunks), expect.data, "len {len}");
            }
        }
    }
}

#[test]
fn frames_come_out_as_soon_as_complete() {
    let config = FeatureConfig::kaldi(16000);
    let mut s = StreamingExtractor::new(&config).unwrap();
    let mut out = Vec::new();
    assert_eq!(s.push(&vec![0.1; 399], &mut out).unwrap(), 0);
    assert_eq!(s.push(&[0.2], &mut out).unwrap(), 1);
    assert_eq!(s.push(&vec![0.0; 159], &mut out).unwrap(), 0);
    assert_eq!(s.push(&[0.0], &mut out).unwrap(), 1);
    // With deltas a row waits for its two frames of look-ahead.
    let mut s = StreamingExtractor::new(&FeatureConfig {
        delta_order: 1,
        ..config
    })
    .unwrap();
    assert_eq!(s.push(&vec![0.1; 400 + 2 * 160], &mut out).unwrap(), 1);
}

#[test]
fn utterance_level_steps_cannot_stream() {
    assert!(matches!(
        StreamingExtractor::new(&FeatureConfig::librosa(22050)),
        Err(FeatureError::NotStreamable(_))
    ));
    assert!(matches!(
        StreamingExtractor::new(&FeatureConfig {
            cmvn: sori_features::Cmvn::Mean,
            ..FeatureConfig::default()
        }),
        Err(FeatureError::NotStreamable(_))
    ));
}

/// A WAV at 22.05 kHz streamed through chunked decoding and resampling gives
/// what whole-file reading, resampling and extraction give.
#[test]
fn wav_streaming_with_resampling_equals_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 22050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let x = signal(22050 * 3 + 123, 5);
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for v in &x {
        let s = (v * 20000.0) as i16;
        w.write_sample(s).unwrap();
        w.write_sample(s / 2).unwrap();
    }
    w.finalize().unwrap();
    let config = FeatureConfig {
        delta_order: 2,
        ..FeatureConfig::kaldi(16000)
    };
    let expect = Extractor::new(&config)
        .unwrap()
        .compute_file(&path)
        .unwrap();
    let mut got = Vec::new();
    let n = StreamingExtractor::new(&config)
        .unwrap()
        .run_wav(open_wav(&path).unwrap(), |rows| {
            got.extend_from_slice(rows);
            Ok(())
        })
        .unwrap();
    assert_eq!(n, expect.n_frames);
    assert_eq!(got, expect.data);
}

/// Ten minutes pushed in chunks of up to 100k samples: the buffer never holds
/// more than one frame, so an hour-long stream needs no more memory.
#[test]
fn memory_stays_bounded_on_long_streams() {
    for config in [
        FeatureConfig::kaldi(16000),
        FeatureConfig {
            delta_order: 2,
            ..FeatureConfig::default()
        },
    ] {
        let mut s = StreamingExtractor::new(&config).unwrap();
        let chunk = signal(100_000, 3);
        let mut out = Vec::new();
        let mut frames = 0;
        let mut size = 1usize;
        let mut pushed = 0usize;
        while pushed < 16000 * 600 {
            size = (size * 7919 + 17) % chunk.len() + 1;
            frames += s.push(&chunk[..size], &mut out).unwrap();
            pushed += size;
            assert!(s.buffered_samples() <= config.frame_length.max(config.n_fft));
            out.clear();
        }
        frames += s.finish(&mut out).unwrap();
        assert_eq!(frames, config.num_frames(pushed));
    }
}
