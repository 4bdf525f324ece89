//! WAV decoding across encodings and channel layouts (written with hound's
//! writer from known sample values), resampling against an analytic sine, and
//! a clear error for every kind of bad input.

use std::io::Cursor;
use std::path::Path;

use hound::{SampleFormat, WavSpec, WavWriter};
use sori_features::{
    decode_wav, extract_file, extract_files, read_wav, resample, Extractor, FeatureConfig,
    FeatureError, StreamResampler,
};

fn wav_bytes(spec: WavSpec, write: impl FnOnce(&mut WavWriter<&mut Cursor<Vec<u8>>>)) -> Vec<u8> {
    let mut cur = Cursor::new(Vec::new());
    {
        let mut w = WavWriter::new(&mut cur, spec).unwrap();
        write(&mut w);
        w.finalize().unwrap();
    }
    cur.into_inner()
}

fn spec(channels: u16, rate: u32, bits: u16, float: bool) -> WavSpec {
    WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            SampleFormat::Float
        } else {
            SampleFormat::Int
        },
    }
}

#[test]
fn integer_widths_scale_to_unit_range() {
    for bits in [8u16, 16, 24, 32] {
        let full = 1i64 << (bits - 1);
        let values = [0i64, full / 2, -full / 4, full - 1, -full];
        let bytes = wav_bytes(spec(1, 8000, bits, false), |w| {
            for &v in &values {
                match bits {
                    8 => w.write_sample(v as i8).unwrap(),
                    16 => w.write_sample(v as i16).unwrap(),
                    _ => w.write_sample(v as i32).unwrap(),
                }
            }
        });
        let a = decode_wav(&bytes, "t.wav").unwrap();
        assert_eq!(a.sample_rate, 8000);
        let expect: Vec<f32> = values.iter().map(|&v| v as f32 / full as f32).collect();
        assert_eq!(a.samples, expect, "{bits}-bit");
    }
}

#[test]
fn float_and_multichannel_downmix_to_mean() {
    let bytes = wav_bytes(spec(3, 44100, 32, true), |w| {
        for frame in [[0.5f32, -0.25, 1.0], [0.0, 0.0, -0.75]] {
            for s in frame {
                w.write_sample(s).unwrap();
            }
        }
    });
    let a = decode_wav(&bytes, "f.wav").unwrap();
    assert_eq!(a.sample_rate, 44100);
    assert_eq!(a.samples.len(), 2);
    assert!((a.samples[0] - 1.25 / 3.0).abs() < 1e-7 && a.samples[1] == -0.25);
}

#[test]
fn stereo_16bit_downmix() {
    let bytes = wav_bytes(spec(2, 16000, 16, false), |w| {
        for (l, r) in [(1000i16, 3000i16), (-32768, 0)] {
            w.write_sample(l).unwrap();
            w.write_sample(r).unwrap();
        }
    });
    let a = decode_wav(&bytes, "s.wav").unwrap();
    assert_eq!(a.samples, vec![2000.0 / 32768.0, -0.5]);
}

fn expect_err(bytes: &[u8], check: impl Fn(&FeatureError) -> bool, what: &str) {
    match decode_wav(bytes, "bad.wav") {
        Ok(a) => panic!("{what}: decoded {} samples", a.samples.len()),
        Err(e) => {
            let msg = e.to_string();
            assert!(check(&e), "{what}: wrong error {msg}");
            assert!(msg.starts_with("bad.wav: "), "{what}: {msg}");
            assert!(!msg.contains('\n'), "{what}: one line: {msg}");
        }
    }
}

fn pcm16(n: usize) -> Vec<u8> {
    wav_bytes(spec(1, 16000, 16, false), |w| {
        for i in 0..n {
            w.write_sample((i as i16).wrapping_mul(37)).unwrap();
        }
    })
}

#[test]
fn bad_inputs_give_clear_errors() {
    expect_err(
        b"definitely not audio",
        |e| matches!(e, FeatureError::NotWav { .. }),
        "not a wav",
    );
    expect_err(&[], |e| matches!(e, FeatureError::NotWav { .. }), "empty");
    let good = pcm16(1000);
    // Truncated data: the header still announces 1000 samples.
    expect_err(
        &good[..good.len() - 300],
        |e| matches!(e, FeatureError::Truncated { expected: 1000, .. }),
        "truncated",
    );
    // A header that lies: data chunk length set to 2^31.
    let mut lying = good.clone();
    let pos = lying.windows(4).position(|w| w == b"data").unwrap();
    lying[pos + 4..pos + 8].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    expect_err(
        &lying,
        |e| matches!(e, FeatureError::Truncated { .. }),
        "lying header",
    );
    // Zero channels / zero sample rate, patched into the fmt chunk.
    let fmt = good.windows(4).position(|w| w == b"fmt ").unwrap();
    let mut zero_ch = good.clone();
    zero_ch[fmt + 10..fmt + 12].copy_from_slice(&0u16.to_le_bytes());
    expect_err(
        &zero_ch,
        |e| matches!(e, FeatureError::ZeroChannels { .. }),
        "zero channels",
    );
    let mut zero_rate = good.clone();
    // Byte rate too, so the header stays self-consistent apart from the rate.
    zero_rate[fmt + 12..fmt + 20].copy_from_slice(&[0; 8]);
    expect_err(
        &zero_rate,
        |e| matches!(e, FeatureError::ZeroSampleRate { .. }),
        "zero rate",
    );
    // NaN and infinity in float data.
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let bytes = wav_bytes(spec(1, 16000, 32, true), |w| {
            w.write_sample(0.1f32).unwrap();
            w.write_sample(bad).unwrap();
        });
        expect_err(
            &bytes,
            |e| matches!(e, FeatureError::NonFinite { index: 1, .. }),
            "non-finite",
        );
    }
}

#[test]
fn missing_file_names_the_path() {
    let e = read_wav(Path::new("/nonexistent/x.wav")).unwrap_err();
    assert!(matches!(e, FeatureError::Io { .. }));
    assert!(e.to_string().starts_with("/nonexistent/x.wav: cannot read"));
}

#[test]
fn shorter_than_one_frame_is_an_empty_matrix() {
    let a = decode_wav(&pcm16(300), "short.wav").unwrap();
    let f = Extractor::new(&FeatureConfig::kaldi(16000))
        .unwrap()
        .compute(&a.samples)
        .unwrap();
    assert_eq!((f.n_frames, f.dim, f.data.len()), (0, 13, 0));
    // The same 300 samples make 1 + 300/512 = 1 centred librosa frame.
    let f = Extractor::new(&FeatureConfig::librosa(16000))
        .unwrap()
        .compute(&a.samples)
        .unwrap();
    assert_eq!((f.n_frames, f.dim), (1, 20));
}

#[test]
fn non_finite_samples_are_rejected_by_compute() {
    let mut ex = Extractor::new(&FeatureConfig::default()).unwrap();
    let mut x = vec![0.0f32; 1000];
    x[500] = f32::NAN;
    assert!(matches!(
        ex.compute(&x),
        Err(FeatureError::NonFinite { index: 500, .. })
    ));
}

/// Resampling a band-limited sine gives the same sine at the new rate.
#[test]
fn resampling_preserves_a_sine() {
    for (from, to) in [
        (8000u32, 16000u32),
        (22050, 16000),
        (44100, 16000),
        (16000, 8000),
    ] {
        let f0 = 440.0f64;
        let n = from as usize; // one second
        let x: Vec<f32> = (0..n)
            .map(|i| {
                (0.5 * (2.0 * std::f64::consts::PI * f0 * i as f64 / from as f64).sin()) as f32
            })
            .collect();
        let y = resample(&x, from, to, "sine").unwrap();
        assert_eq!(
            y.len(),
            (n as u64 * to as u64).div_ceil(from as u64) as usize
        );
        // Away from the edges, compare with the analytic sine at the new rate.
        // rubato rounds its delay to whole output samples, so for
        // non-integer ratios the output may lag by a fraction of a sample:
        // allow the best delay within +-1 sample.
        let margin = to as usize / 20;
        let err_at = |delay: f64| {
            y[margin..y.len() - margin]
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let t = ((i + margin) as f64 + delay) / to as f64;
                    (v as f64 - 0.5 * (2.0 * std::f64::consts::PI * f0 * t).sin()).abs()
                })
                .fold(0.0, f64::max)
        };
        let (err, delay) = (-100..=100)
            .map(|d| (err_at(d as f64 / 100.0), d as f64 / 100.0))
            .fold((f64::MAX, 0.0), |a, b| if b.0 < a.0 { b } else { a });
        eprintln!("{from}->{to}: max error {err:.2e} at delay {delay} samples");
        assert!(err < 2e-3, "{from}->{to}: max error {err} at delay {delay}");
        if to % from == 0 || from % to == 0 {
            assert_eq!(delay, 0.0, "integer ratios are exactly aligned");
        }
    }
}

#[test]
fn streaming_resampler_equals_whole_clip() {
    let x: Vec<f32> = (0..20_000)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    let whole = resample(&x, 22050, 16000, "x").unwrap();
    let mut r = StreamResampler::new(22050, 16000, "x").unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut size = 1;
    while pos < x.len() {
        let end = (pos + size).min(x.len());
        r.push(&x[pos..end], &mut out).unwrap();
        pos = end;
        size = size * 3 % 2999 + 1;
    }
    r.finish(&mut out).unwrap();
    assert_eq!(out, whole);
}

#[test]
fn batch_extraction_keeps_input_order_and_per_file_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, n) in [4000usize, 8000, 1600, 12000].iter().enumerate() {
        let p = dir.path().join(format!("{i}.wav"));
        std::fs::write(&p, pcm16(*n)).unwrap();
        paths.push(p);
    }
    let bad = dir.path().join("bad.wav");
    std::fs::write(&bad, b"RIFF").unwrap();
    paths.insert(2, bad);
    let cfg = FeatureConfig::kaldi(16000);
    let results = extract_files(&paths, &cfg).unwrap();
    assert_eq!(results.len(), 5);
    for (p, r) in paths.iter().zip(&results) {
        if p.ends_with("bad.wav") {
            let msg = r.as_ref().unwrap_err().to_string();
            assert!(
                msg.contains("bad.wav") && msg.contains("not a valid WAV"),
                "{msg}"
            );
        } else {
            assert_eq!(r.as_ref().unwrap(), &extract_file(p, &cfg).unwrap());
        }
    }
    let frames: Vec<usize> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|f| f.n_frames))
        .collect();
    assert_eq!(frames, vec![23, 48, 8, 73]);
}
