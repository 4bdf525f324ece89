//! A short FSDD-like run on data made inside the test: single spoken digits
//! from espeak-ng training voices, scored on voice variants never heard in
//! training (the leave-speakers-out protocol of the FSDD evaluation).
//! Without espeak-ng: a failure under CI, a visible skip elsewhere.
use sori_asr::corpus::synth::{synthesize, SynthConfig};
use sori_asr::eval::evaluate;
use sori_asr::frontend::FrontEnd;
use sori_asr::recognize::Recognizer;
use sori_asr::support::tools::espeak_or_skip;
use sori_asr::train::{train, TrainOptions};
use sori_asr::{read_manifest, Architecture};
use sori_train::{DecayKind, OptimizerKind, OptimizerSpec, TrainConfig};

#[test]
fn digits_are_recognised_for_unseen_voices() {
    if !espeak_or_skip("digits_are_recognised_for_unseen_voices") {
        return;
    }
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir_all(corpus.join("words")).unwrap();
    std::fs::write(corpus.join("templates.txt"), "{digit}\n").unwrap();
    std::fs::write(
        corpus.join("words/digit.txt"),
        "zero\none\ntwo\nthree\nfour\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut cfg = SynthConfig::new(corpus, data.clone(), 200, 0, 40);
    cfg.seed = 3;
    synthesize(&cfg, |_, _| {}).unwrap();

    let opts = TrainOptions {
        frontend: FrontEnd {
            sample_rate: 8000,
            n_mels: 30,
            ..FrontEnd::default()
        },
        arch: Architecture {
            cell: sori_rnn::Cell::Gru,
            layers: 1,
            hidden: 64,
            stack: 2,
            dropout: 0.0,
        },
        spec_augment: None,
        ..TrainOptions::default()
    };
    let mut config = TrainConfig {
        epochs: 40,
        batch_size: 8,
        optimizer: OptimizerSpec::new(OptimizerKind::Adam, 5e-3),
        quiet: true,
        seed: 1,
        ..TrainConfig::default()
    };
    config.schedule.decay = DecayKind::Cosine;
    let out = dir.path().join("model");
    train(
        &[&data.join("train.jsonl")],
        None,
        &out,
        &opts,
        config,
        tch::Device::Cpu,
        |_| {},
    )
    .unwrap();

    let mut rec = Recognizer::load(&out).unwrap();
    let test = read_manifest(&data.join("test.jsonl")).unwrap();
    assert!(test.iter().all(|u| {
        let s = u.speaker.as_deref().unwrap();
        s.ends_with("+m7") || s.ends_with("+f5")
    }));
    let report = evaluate(&mut rec, &test, |_, _| {});
    assert!(report.failed.is_empty());
    eprintln!(
        "held-out voices: accuracy {:.3}, CER {:.3}",
        report.exact_rate(),
        report.cer()
    );
    assert!(
        report.exact_rate() >= 0.6,
        "accuracy {}",
        report.exact_rate()
    );
}
