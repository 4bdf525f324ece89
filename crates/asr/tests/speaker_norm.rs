//! Speaker normalisation (`--norm speaker`): features are normalised by the
//! statistics of all of a speaker's recordings. Checked against what it
//! promises: each speaker's training features come out with zero mean and
//! unit variance over that speaker; a speaker-wide gain change (a different
//! microphone level) leaves the network's input unchanged; and evaluation,
//! pseudo-labelling and `fit_speaker` on the same files agree.
use sori_asr::eval::SpeakerNorms;
use sori_asr::frontend::{FeatureKind, FeatureNorm, FrontEnd};
use sori_asr::recognize::Recognizer;
use sori_asr::rng::Rng;
use sori_asr::support::bench_audio::{speech_like, write_wav16};
use sori_asr::train::build_examples;
use sori_asr::{Architecture, AsrConfig, AsrModel, OovPolicy, Utterance, Vocab};
use std::path::{Path, PathBuf};

const RATE: u32 = 8000;

fn frontend(kind: FeatureKind) -> FrontEnd {
    FrontEnd {
        sample_rate: RATE,
        kind,
        norm: FeatureNorm::Speaker,
        ..FrontEnd::default()
    }
}

/// Speech-like audio with a faint noise floor (so no filterbank channel
/// sits at the log floor, where a gain change would not shift it).
fn audio(seconds: f64, seed: u64, gain: f32) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let n = (seconds * RATE as f64) as usize;
    let skip = (seed as usize * 977) % (RATE as usize);
    speech_like(n + skip, RATE)[skip..]
        .iter()
        .map(|&x| gain * (0.5 * x + 1e-2 * rng.normal() as f32))
        .collect()
}

fn utt(dir: &Path, name: &str, speaker: Option<&str>, samples: &[f32]) -> Utterance {
    let path = dir.join(format!("{name}.wav"));
    write_wav16(&path, RATE, samples).unwrap();
    Utterance {
        audio: path,
        text: "a".into(),
        duration: samples.len() as f64 / RATE as f64,
        speaker: speaker.map(str::to_string),
    }
}

fn column_stats(rows: &[&[f32]], dim: usize) -> Vec<(f64, f64)> {
    (0..dim)
        .map(|d| {
            let v: Vec<f64> = rows
                .iter()
                .flat_map(|m| m.iter().skip(d).step_by(dim).map(|&x| x as f64))
                .collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / v.len() as f64;
            (mean, var)
        })
        .collect()
}

#[test]
fn each_speakers_training_features_are_standardised_over_that_speaker() {
    let dir = tempfile::tempdir().unwrap();
    let utts = vec![
        utt(dir.path(), "a1", Some("a"), &audio(0.6, 1, 1.0)),
        utt(dir.path(), "b1", Some("b"), &audio(0.5, 2, 0.1)),
        utt(dir.path(), "a2", Some("a"), &audio(0.8, 3, 1.0)),
        utt(dir.path(), "lone", None, &audio(0.7, 4, 0.3)),
        utt(dir.path(), "b2", Some("b"), &audio(0.4, 5, 0.1)),
    ];
    let fe = frontend(FeatureKind::Mfcc);
    let vocab = Vocab::new("a".chars());
    let ex = build_examples(&utts, &fe, &vocab, OovPolicy::Error, None).unwrap();
    let dim = fe.dim();
    for group in [vec![0, 2], vec![1, 4], vec![3]] {
        let rows: Vec<&[f32]> = group.iter().map(|&i| ex[i].feats.as_slice()).collect();
        for (d, (mean, var)) in column_stats(&rows, dim).into_iter().enumerate() {
            assert!(mean.abs() < 1e-4, "group {group:?} dim {d}: mean {mean}");
            assert!(
                (var - 1.0).abs() < 1e-3,
                "group {group:?} dim {d}: var {var}"
            );
        }
    }
    // The statistics span the speaker, not each utterance: a1 alone is not
    // centred.
    let a1 = column_stats(&[ex[0].feats.as_slice()], dim);
    assert!(a1.iter().any(|(m, _)| m.abs() > 0.05), "{a1:?}");
}

#[test]
fn a_speaker_wide_gain_change_does_not_change_the_network_input() {
    for kind in [FeatureKind::Mfcc, FeatureKind::Fbank] {
        let dir = tempfile::tempdir().unwrap();
        let mut utts = Vec::new();
        for (i, seconds) in [0.6, 0.9, 0.5].into_iter().enumerate() {
            let loud = audio(seconds, 10 + i as u64, 1.0);
            let quiet: Vec<f32> = loud.iter().map(|x| 0.25 * x).collect();
            utts.push(utt(dir.path(), &format!("loud{i}"), Some("loud"), &loud));
            utts.push(utt(dir.path(), &format!("quiet{i}"), Some("quiet"), &quiet));
        }
        let fe = frontend(kind);
        let vocab = Vocab::new("a".chars());
        let ex = build_examples(&utts, &fe, &vocab, OovPolicy::Error, None).unwrap();
        for pair in ex.chunks(2) {
            // 16-bit quantisation of the quiet copy is the only difference.
            let diff: Vec<f32> = pair[0]
                .feats
                .iter()
                .zip(&pair[1].feats)
                .map(|(a, b)| (a - b).abs())
                .collect();
            let mean = diff.iter().sum::<f32>() / diff.len() as f32;
            assert!(mean < 0.02, "{kind:?}: mean difference {mean}");
        }
        // Without normalisation the gain change is plain to see.
        let mut unnormalised = fe.clone();
        unnormalised.norm = FeatureNorm::None;
        let raw =
            build_examples(&utts[..2], &unnormalised, &vocab, OovPolicy::Error, None).unwrap();
        let diff: Vec<f32> = raw[0]
            .feats
            .iter()
            .zip(&raw[1].feats)
            .map(|(a, b)| (a - b).abs())
            .collect();
        let mean = diff.iter().sum::<f32>() / diff.len() as f32;
        assert!(mean > 0.2, "{kind:?}: without normalisation {mean}");
    }
}

fn speaker_norm_model() -> Recognizer {
    tch::manual_seed(7);
    let vocab = Vocab::new("abc".chars());
    let arch = Architecture {
        hidden: 16,
        layers: 1,
        ..Architecture::default()
    };
    let config = AsrConfig::new(frontend(FeatureKind::Fbank), vocab, &arch);
    Recognizer::new(AsrModel::new(config, tch::Device::Cpu).unwrap()).unwrap()
}

#[test]
fn evaluation_fits_each_speaker_on_that_speakers_files() {
    let dir = tempfile::tempdir().unwrap();
    let utts = vec![
        utt(dir.path(), "a1", Some("a"), &audio(0.6, 21, 1.0)),
        utt(dir.path(), "b1", Some("b"), &audio(0.5, 22, 0.2)),
        utt(dir.path(), "a2", Some("a"), &audio(0.7, 23, 1.0)),
    ];
    let mut rec = speaker_norm_model();
    assert!(rec.wants_speaker_norm());
    let norms = SpeakerNorms::fit(&mut rec, &utts);
    let mut via_eval = Vec::new();
    for u in &utts {
        norms.select(&mut rec, u);
        let s = rec.model.config.frontend.load(&u.audio).unwrap();
        via_eval.push(rec.log_probs(&s, &u.audio).unwrap().0);
    }
    let files = |names: &[&str]| -> Vec<PathBuf> {
        names
            .iter()
            .map(|n| dir.path().join(format!("{n}.wav")))
            .collect()
    };
    for (names, indices) in [(vec!["a1", "a2"], vec![0, 2]), (vec!["b1"], vec![1])] {
        let paths = files(&names);
        let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        assert_eq!(rec.fit_speaker(&refs), names.len());
        for (p, &i) in paths.iter().zip(&indices) {
            let s = rec.model.config.frontend.load(p).unwrap();
            assert_eq!(rec.log_probs(&s, p).unwrap().0, via_eval[i]);
        }
    }
    // Without statistics each file is normalised alone, which differs.
    rec.speaker_norm = None;
    let s = rec.model.config.frontend.load(&utts[0].audio).unwrap();
    assert_ne!(rec.log_probs(&s, &utts[0].audio).unwrap().0, via_eval[0]);
    // An unreadable file is left out of the fit, not fatal.
    let bad = dir.path().join("bad.wav");
    std::fs::write(&bad, b"not a wav").unwrap();
    let a1 = dir.path().join("a1.wav");
    assert_eq!(rec.fit_speaker(&[a1.as_path(), bad.as_path()]), 1);
}
