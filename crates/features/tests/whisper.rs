//! The Whisper preset against its reference: fixtures made by
//! `scripts/make-whisper-fixtures.py` with `transformers`'
//! `WhisperFeatureExtractor` (numpy path, the port of openai-whisper's
//! `log_mel_spectrogram`) from the WAVs in `tests/fixtures`.
//!
//! Tolerance: 2e-6 max abs error on the `(x + 4) / 4` scaled values (8e-5
//! dB); measured 6.0e-7, which is the fixtures' six decimals (5e-7) plus the
//! f32 output. The reference casts its log10 values to f32 before the clamp;
//! sori is f64 up to the f32 output.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sori_features::{
    read_wav, Extractor, FeatureConfig, FeatureError, Features, Framing, LogKind, MelNorm,
    MelScale, StreamingExtractor,
};

const TOLERANCE: f32 = 2e-6;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

struct Reference {
    wav: String,
    shape: (usize, usize),
    data: Vec<f32>,
}

fn reference(key: &str) -> Reference {
    let text = std::fs::read_to_string(fixtures().join("whisper.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let r = &v["references"][key];
    assert!(r.is_object(), "no reference {key}");
    let shape = r["shape"].as_array().unwrap();
    Reference {
        wav: r["wav"].as_str().unwrap().to_string(),
        shape: (
            shape[0].as_u64().unwrap() as usize,
            shape[1].as_u64().unwrap() as usize,
        ),
        data: r["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect(),
    }
}

/// `config`'s features of the reference's WAV, with the reference.
fn features(key: &str, config: &FeatureConfig) -> (Features, Reference) {
    let r = reference(key);
    let audio = read_wav(&fixtures().join(&r.wav)).unwrap();
    assert_eq!(audio.sample_rate, 16000);
    let f = Extractor::new(config)
        .unwrap()
        .compute(&audio.samples)
        .unwrap();
    (f, r)
}

/// Max abs error of `config`'s features, mapped by `map`, on the reference's
/// WAV (shapes must agree).
fn mapped_error(key: &str, config: &FeatureConfig, map: impl Fn(f32) -> f32) -> f32 {
    let (f, r) = features(key, config);
    assert_eq!((f.n_frames, f.dim), r.shape, "{key}: shape");
    f.data
        .iter()
        .zip(&r.data)
        .map(|(&a, b)| (map(a) - b).abs())
        .fold(0.0f32, f32::max)
}

fn max_abs_error(key: &str, config: &FeatureConfig) -> f32 {
    mapped_error(key, config, |x| x)
}

const KEYS_80: [&str; 4] = ["chirp16k", "tones16k", "speech16k", "short16k"];

#[test]
fn whisper_preset_matches_the_transformers_extractor() {
    for key in KEYS_80 {
        let err = max_abs_error(&format!("whisper80/{key}"), &FeatureConfig::whisper(80));
        eprintln!("whisper80/{key}: max abs error {err:.3e}");
        assert!(err < TOLERANCE, "whisper 80 {key}: {err}");
    }
    let err = max_abs_error("whisper128/tones16k", &FeatureConfig::whisper(128));
    eprintln!("whisper128/tones16k: max abs error {err:.3e}");
    assert!(err < TOLERANCE, "whisper 128: {err}");
}

/// The fixtures tell each of Whisper's steps from its nearest alternative,
/// so the test above is not vacuous: every one of these departures moves
/// some fixture by far more than the tolerance.
#[test]
fn the_fixtures_catch_each_wrong_step() {
    let w = FeatureConfig::whisper(80);
    let worst = |config: &FeatureConfig, map: &dyn Fn(f32) -> f32| {
        KEYS_80
            .iter()
            .map(|k| mapped_error(&format!("whisper80/{k}"), config, map))
            .fold(0.0f32, f32::max)
    };
    let wrong = [
        (
            "symmetric window",
            FeatureConfig {
                window_periodic: false,
                ..w.clone()
            },
        ),
        (
            "zero padding",
            FeatureConfig {
                framing: Framing::Centered,
                ..w.clone()
            },
        ),
        (
            "HTK mel scale",
            FeatureConfig {
                mel_scale: MelScale::Htk,
                ..w.clone()
            },
        ),
        (
            "no filter normalisation",
            FeatureConfig {
                mel_norm: MelNorm::None,
                ..w.clone()
            },
        ),
    ];
    for (what, config) in wrong {
        let e = worst(&config, &|x| x);
        eprintln!("{what}: max abs error {e:.3e}");
        assert!(e > 100.0 * TOLERANCE, "{what} passes: {e}");
    }
    // Whisper's log is librosa's dB with top_db 80, divided by 40, plus 1:
    // equal within the tolerance with the clamp, far off without it.
    let db = |top_db| FeatureConfig {
        log: LogKind::Decibel {
            amin: 1e-10,
            top_db,
        },
        ..w.clone()
    };
    let scale = |x: f32| x / 40.0 + 1.0;
    let e = worst(&db(Some(80.0)), &scale);
    eprintln!("dB with top_db 80, / 40 + 1: max abs error {e:.3e}");
    assert!(e < TOLERANCE, "{e}");
    let e = worst(&db(None), &scale);
    eprintln!("no clamp: max abs error {e:.3e}");
    assert!(e > 100.0 * TOLERANCE, "no clamp passes: {e}");
    // Keeping the last frame gives one frame more than the reference.
    let keep_last = FeatureConfig {
        drop_last_frame: false,
        ..w
    };
    let (f, r) = features("whisper80/tones16k", &keep_last);
    assert_eq!(f.n_frames, r.shape.0 + 1);
}

/// Whisper's frame count: `len / 160` (`N_FRAMES = N_SAMPLES // HOP_LENGTH`),
/// for any length, including those shorter than the reflect padding.
#[test]
fn frame_count_is_len_over_hop() {
    let c = FeatureConfig::whisper(80);
    let mut ex = Extractor::new(&c).unwrap();
    for n in [0usize, 1, 159, 160, 161, 199, 200, 201, 399, 400, 480_000] {
        let x: Vec<f32> = (0..n).map(|i| ((i * 7919) % 101) as f32 / 200.0).collect();
        let f = ex.compute(&x).unwrap();
        assert_eq!(f.n_frames, n / 160, "{n} samples");
        assert_eq!(f.dim, 80);
        assert_eq!(c.num_frames(n), n / 160);
        assert!(f.data.iter().all(|v| v.is_finite()));
    }
    // 30 s: the 3000 frames of a Whisper input window.
    assert_eq!(c.num_frames(30 * 16000), 3000);
    assert_eq!(FeatureConfig::whisper(128).dim(), 128);
}

/// Digital silence is finite: every value is the floor, log10(1e-10) = -10,
/// lifted to the maximum minus 8, i.e. all (-10 + 4) / 4 = -1.5.
#[test]
fn silence_is_the_floor() {
    let f = Extractor::new(&FeatureConfig::whisper(80))
        .unwrap()
        .compute(&vec![0.0; 16000])
        .unwrap();
    assert_eq!(f.n_frames, 100);
    assert!(f.data.iter().all(|&v| v == -1.5), "{:?}", &f.data[..4]);
}

#[test]
fn whisper_preset_is_not_streamable() {
    for config in [
        FeatureConfig::whisper(80),
        FeatureConfig {
            log: LogKind::Natural { floor: 1e-10 },
            ..FeatureConfig::whisper(80)
        },
        FeatureConfig {
            log: LogKind::Natural { floor: 1e-10 },
            framing: Framing::Centered,
            ..FeatureConfig::whisper(80)
        },
    ] {
        let e = StreamingExtractor::new(&config).err().expect("refused");
        assert!(matches!(e, FeatureError::NotStreamable(_)), "{e}");
        assert!(e.to_string().contains("needs the whole utterance"), "{e}");
    }
}
