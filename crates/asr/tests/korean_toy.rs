//! The Korean toy learns: "안녕하세요" rendered by espeak-ng, a tiny BiGRU
//! trained with the native CTC loss through the shared training loop, then
//! transcribed from the saved model directory. Without espeak-ng
//! (`make setup` installs it): a failure under CI, a visible skip elsewhere.
use sori_asr::recognize::Recognizer;
use sori_asr::support::tools::espeak_or_skip;
use sori_asr::support::toy::{make_korean_toy, toy_recipe, HELLO};
use sori_asr::train::train;
use sori_asr::{AsrModel, Vocab};

#[test]
fn korean_toy_learns_hello() {
    if !espeak_or_skip("korean_toy_learns_hello") {
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

    // Forced alignment from the saved model (the word timing itself is
    // checked against known paths in sori_asr::align's unit tests): the
    // word lies inside the audio, and of two copies of the sentence the
    // second word is found after the first.
    let u = &sori_asr::read_manifest(&test_m).unwrap()[0];
    let fe = rec.model.config.frontend.clone();
    let clean = fe.load(&u.audio).unwrap();
    let seconds = clean.len() as f64 / fe.sample_rate as f64;
    let alone = rec.align_samples(&clean, &u.audio, HELLO).unwrap();
    assert_eq!(alone.words.len(), 1);
    let w = &alone.words[0];
    assert_eq!(w.word, HELLO);
    assert!(
        0.0 <= w.start && w.start < w.end && w.end <= seconds + 0.03,
        "{w:?}"
    );
    let twice: Vec<f32> = [&clean[..], &clean[..]].concat();
    let a = rec
        .align_samples(&twice, &u.audio, &format!("{HELLO} {HELLO}"))
        .unwrap();
    assert_eq!(a.words.len(), 2);
    assert!(a.words[0].end <= a.words[1].start, "{:?}", a.words);
    // Too long a transcript for the audio is an error, not a panic.
    let long = vec![HELLO; 20].join(" ");
    let e = rec.align_samples(&clean, &u.audio, &long).unwrap_err();
    assert!(e.to_string().contains("too short"), "{e}");
}
