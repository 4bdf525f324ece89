//! The Korean toy learns: "안녕하세요" rendered by espeak-ng, a tiny BiGRU
//! trained with the native CTC loss through the shared training loop, then
//! transcribed from the saved model directory. Skipped (with a note) when
//! espeak-ng is not installed (`make setup` installs it).
use sori_asr::recognize::Recognizer;
use sori_asr::synth::espeak_available;
use sori_asr::toy::{make_korean_toy, toy_recipe, HELLO};
use sori_asr::train::train;
use sori_asr::{AsrModel, Vocab};

#[test]
fn korean_toy_learns_hello() {
    if !espeak_available() {
        eprintln!("note: espeak-ng not found; skipping the Korean toy (run `make setup`)");
        return;
    }
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let (train_m, test_m) = make_korean_toy(dir.path()).unwrap();
    let (opts, config) = toy_recipe(80);
    let out = dir.path().join("model");
    let report = train(
        &[&train_m],
        None,
        &out,
        &opts,
        config,
        tch::Device::Cpu,
        |_| {},
    )
    .unwrap();
    let first = report.history.first().unwrap().get("loss").unwrap();
    let last = report.history.last().unwrap().get("loss").unwrap();
    assert!(last < first * 0.1, "loss {first} -> {last}");

    // The label set of the lecture.
    let model = AsrModel::load(&out, tch::Device::Cpu).unwrap();
    assert_eq!(model.config.vocab, Vocab::new(" 안녕하세요".chars()));
    assert_eq!(model.config.vocab.blank(), 6);

    let mut rec = Recognizer::load(&out).unwrap();
    for m in [&train_m, &test_m] {
        for u in sori_asr::read_manifest(m).unwrap() {
            let t = rec.transcribe_file(&u.audio).unwrap();
            assert_eq!(t.text, HELLO, "{}", u.audio.display());
        }
    }
}
