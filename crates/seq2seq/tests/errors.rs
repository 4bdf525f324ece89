//! Bad input gives one clear error naming the file and the problem.

use sori_seq2seq::data::{read_parallel, read_tsv};
use sori_seq2seq::Translator;
use sori_train::ModelDir;
use tch::Device;

#[test]
fn mismatched_line_counts_name_both_files_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("a.de");
    let tgt = dir.path().join("a.en");
    std::fs::write(&src, "eins\nzwei\ndrei\n").unwrap();
    std::fs::write(&tgt, "one\ntwo\n").unwrap();
    let msg = read_parallel(&src, &tgt).unwrap_err().to_string();
    assert!(msg.contains("a.de has 3 lines"), "{msg}");
    assert!(msg.contains("a.en has 2"), "{msg}");
    assert!(!msg.contains('\n'));
}

#[test]
fn tsv_line_without_tab_is_reported_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pairs.tsv");
    std::fs::write(&f, "Hi.\t안녕.\tCC-BY\n\nno tab here\n").unwrap();
    let msg = read_tsv(&f, false).unwrap_err().to_string();
    assert!(msg.contains("pairs.tsv:3:"), "{msg}");
    let ok = dir.path().join("ok.tsv");
    std::fs::write(&ok, "Hi.\t안녕.\tCC-BY\n").unwrap();
    let p = read_tsv(&ok, true).unwrap();
    assert_eq!((p[0].src.as_str(), p[0].tgt.as_str()), ("안녕.", "Hi."));
}

#[test]
fn missing_file_and_model_dirs_of_another_kind_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.de");
    let msg = read_parallel(&missing, &missing).unwrap_err().to_string();
    assert!(msg.contains("nope.de"), "{msg}");

    let msg = Translator::load(&dir.path().join("none"), Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains("no such model directory"), "{msg}");

    let other = dir.path().join("imdb-model");
    ModelDir::create(&other)
        .unwrap()
        .write_config("imdb", &serde_json::json!({"vocab": 10}))
        .unwrap();
    let msg = Translator::load(&other, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains("imdb"), "{msg}");
    assert!(msg.contains("config.json"), "{msg}");
}
