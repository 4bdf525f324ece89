//! The lecture's Korean toy: "안녕하세요" spoken by `espeak-ng -v ko` in a
//! few voice variants and rates. Its label set is `{<space>:0, 안:1, 녕:2,
//! 하:3, 세:4, 요:5, <blank>:6}`, and a tiny BiGRU learns to transcribe it in
//! seconds: the smallest end-to-end check that features, encoder, native CTC
//! loss, training loop and decoding fit together.
use crate::corpus::synth::render_espeak;
use crate::data::manifest::{wav_duration, write_manifest, Utterance};
use crate::data::vocab::OovPolicy;
use crate::error::Result;
use crate::frontend::FrontEnd;
use crate::model::Architecture;
use crate::train::TrainOptions;
use sori_rnn::Cell;
use sori_train::{OptimizerKind, OptimizerSpec, TrainConfig};
use std::path::{Path, PathBuf};

/// The toy's one sentence.
pub const HELLO: &str = "안녕하세요";

/// Renders the toy corpus into `dir`; returns (train manifest, test
/// manifest). The test utterance uses a voice variant absent from training.
pub fn make_korean_toy(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let train_voices = [
        ("m1", 150, 50),
        ("m3", 175, 40),
        ("f1", 160, 60),
        ("f2", 140, 55),
        ("m2", 190, 45),
        ("f3", 165, 35),
        ("m5", 155, 55),
        ("f4", 180, 50),
        ("m6", 145, 40),
        ("f5", 170, 65),
    ];
    let test_voices = [("m4", 170, 50)];
    let mut manifests = Vec::new();
    for (name, voices) in [("train", &train_voices[..]), ("test", &test_voices[..])] {
        let mut utts = Vec::new();
        for (variant, rate, pitch) in voices {
            let path = dir.join(format!("{name}-{variant}.wav"));
            render_espeak(HELLO, &format!("ko+{variant}"), *rate, *pitch, &path)?;
            utts.push(Utterance {
                duration: wav_duration(&path)?,
                audio: path,
                text: HELLO.to_string(),
                speaker: Some(format!("ko+{variant}")),
            });
        }
        let m = dir.join(format!("{name}.jsonl"));
        write_manifest(&m, &utts)?;
        manifests.push(m);
    }
    Ok((manifests[0].clone(), manifests[1].clone()))
}

/// Settings that learn the toy in seconds: one bidirectional GRU layer of
/// 48 units over pairs of 40-dim log-mel frames, Adam at 1e-2.
pub fn toy_recipe(epochs: usize) -> (TrainOptions, TrainConfig) {
    let opts = TrainOptions {
        frontend: FrontEnd::default(),
        arch: Architecture {
            cell: Cell::Gru,
            layers: 1,
            hidden: 48,
            stack: 2,
            dropout: 0.0,
        },
        oov: OovPolicy::Error,
        augment: None,
        spec_augment: None,
        max_train: None,
        extra_chars: String::new(),
        strict: false,
    };
    let config = TrainConfig {
        epochs,
        batch_size: 6,
        optimizer: OptimizerSpec::new(OptimizerKind::Adam, 1e-2),
        quiet: true,
        seed: 7,
        ..TrainConfig::default()
    };
    (opts, config)
}
