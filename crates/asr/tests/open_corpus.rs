//! The open-vocabulary corpus (`asr synth --text ... --test-text ...`): test
//! sentences come only from the held-out text and never reach training or
//! the LM text; test voices are never training voices; `test_b` holds the
//! test speech with added silence; a second run reuses what is there and
//! re-renders a file whose plan changed.
use sori_asr::corpus::open::{
    build_open_corpus, OpenConfig, ESPEAK_TEST_VARIANTS, FLITE_TEST_VOICES,
};
use sori_asr::read_manifest;
use sori_asr::support::tools::espeak_and_flite_or_skip;
use std::collections::HashSet;

#[test]
fn held_out_text_and_voices_stay_out_of_training() {
    if !espeak_and_flite_or_skip("held_out_text_and_voices_stay_out_of_training") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let train_text = dir.path().join("reviews.txt");
    let test_text = dir.path().join("heldout.txt");
    // Documents split into sentences; one held-out sentence also occurs in
    // the training text and must be dropped from training.
    std::fs::write(
        &train_text,
        "The film was long. A dog runs in the park! Two men play chess outside.\n\
         Children are singing a song. The weather is nice today. We watched it twice.\n\
         I will call you tomorrow morning.\n",
    )
    .unwrap();
    std::fs::write(
        &test_text,
        "I will call you tomorrow morning.\nWhere is the station, please?\n\
         She has 3 brothers.\nMy cat likes warm milk.\n",
    )
    .unwrap();
    let out = dir.path().join("corpus");
    let mut cfg = OpenConfig::new(vec![train_text.clone()], test_text.clone(), out.clone());
    cfg.train = 10;
    cfg.valid = 2;
    cfg.test = 4;
    cfg.flite_share = 0.5;
    let summary = build_open_corpus(&cfg, |_, _| {}).unwrap();
    assert_eq!(summary.utterances, [10, 2, 4, 4]);
    assert_eq!(
        summary.pool_sizes[0].1, 6,
        "the shared sentence left the pool"
    );

    let test = read_manifest(&out.join("test.jsonl")).unwrap();
    let held: HashSet<String> = [
        "i will call you tomorrow morning",
        "where is the station please",
        "she has three brothers",
        "my cat likes warm milk",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for u in &test {
        assert!(held.contains(&u.text), "{}", u.text);
        let speaker = u.speaker.as_deref().unwrap();
        let voice = speaker.split_once(':').unwrap().1;
        let ok = match speaker.split_once(':').unwrap().0 {
            "espeak" => ESPEAK_TEST_VARIANTS
                .iter()
                .any(|v| voice.ends_with(&format!("+{v}"))),
            "flite" => FLITE_TEST_VOICES.contains(&voice),
            other => panic!("engine {other}"),
        };
        assert!(ok, "test voice {speaker} is not a held-out one");
        assert!(u.duration > 0.3);
    }
    let lm_text = std::fs::read_to_string(out.join("text.txt")).unwrap();
    for split in ["train", "valid"] {
        for u in read_manifest(&out.join(format!("{split}.jsonl"))).unwrap() {
            assert!(!held.contains(&u.text), "{split}: {}", u.text);
            let voice = u.speaker.unwrap();
            assert!(
                !ESPEAK_TEST_VARIANTS
                    .iter()
                    .any(|v| voice.ends_with(&format!("+{v}")))
                    && !FLITE_TEST_VOICES
                        .iter()
                        .any(|v| voice == format!("flite:{v}")),
                "{split} uses a test voice: {voice}"
            );
        }
    }
    for line in lm_text.lines() {
        assert!(
            !held.contains(line),
            "LM text holds a test sentence: {line}"
        );
    }
    // test_b: the same speech with at least a second of silence around it.
    let b = read_manifest(&out.join("test_b.jsonl")).unwrap();
    for (i, (bu, tu)) in b.iter().zip(&test).enumerate() {
        assert!(bu.text.starts_with(&tu.text));
        assert!(
            bu.duration >= tu.duration + 1.0,
            "{i}: {} vs {}",
            bu.duration,
            tu.duration
        );
    }

    // Resume: everything is reused...
    let again = build_open_corpus(&cfg, |_, _| {}).unwrap();
    assert_eq!(again.reused, 16);
    // ...unless the plan of a file changed (another seed draws other voices
    // and sentences): those are rendered anew, not trusted.
    cfg.seed = 99;
    let other = build_open_corpus(&cfg, |_, _| {}).unwrap();
    assert!(other.reused < 16, "reused {} stale files", other.reused);
}
