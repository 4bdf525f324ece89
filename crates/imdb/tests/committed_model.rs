//! The committed model (`models/imdb-en`, issue 22) on reviews written for
//! this test (never in any corpus the project trains on): clear positive
//! and negative reviews get their label, the weights stay within the size
//! budget in f16, and `imdb classify` finds the model with no `--model`.
use sori_imdb::classifier::Classifier;
use std::path::PathBuf;
use std::process::Command;
use tch::Device;

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/imdb-en")
}

const POSITIVE: [&str; 6] = [
    "One of the best films I have seen in years. The acting is superb and the story kept me hooked until the very end.",
    "A beautiful, moving picture with a wonderful cast. I laughed, I cried, and I would happily watch it again tomorrow.",
    "Brilliant direction and a clever script make this a real gem. Highly recommended to anyone who loves good cinema.",
    "I went in expecting little and came out delighted: warm, funny and full of heart.",
    "The performances are outstanding, the music is gorgeous, and the ending is perfect.",
    "An absolute masterpiece that deserves every award it won.",
];

const NEGATIVE: [&str; 6] = [
    "A complete waste of time. The plot makes no sense and the acting is wooden from start to finish.",
    "Boring, predictable and far too long. I nearly walked out halfway through.",
    "The worst movie I have seen this year: awful dialogue, terrible effects and no story at all.",
    "I wanted to like it, but it is a dull, lifeless mess with characters nobody could care about.",
    "Avoid this one. Poorly written, badly directed and painfully unfunny.",
    "Dreadful. Even the talented cast cannot save such a stupid and lazy script.",
];

#[test]
fn committed_model_labels_clear_reviews_it_never_saw() {
    let clf = Classifier::load(&model_dir(), Device::Cpu).unwrap();
    let texts: Vec<&str> = POSITIVE.iter().chain(NEGATIVE.iter()).copied().collect();
    let preds = clf.classify(&texts).unwrap();
    for (i, (p, t)) in preds.iter().zip(&texts).enumerate() {
        let want = if i < POSITIVE.len() {
            "positive"
        } else {
            "negative"
        };
        assert_eq!(p.label(), want, "{:.3} for {t:?}", p.probability);
        assert!(p.known_words > 5, "{t:?}");
    }
}

#[test]
fn committed_weights_are_f16_within_the_size_budget() {
    let w = model_dir().join("best.safetensors");
    assert!(std::fs::metadata(&w).unwrap().len() <= 10 << 20);
    let (tensors, _) = sori_train::read_safetensors(&w).unwrap();
    assert!(tensors.values().all(|t| t.kind() == tch::Kind::Half));
}

#[test]
fn classify_finds_the_committed_model_without_model_option() {
    let cwd = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_imdb"))
        .current_dir(cwd.path())
        .env_remove("SORI_IMDB_MODEL")
        .args(["classify", POSITIVE[0], NEGATIVE[0], "--threads", "1"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("positive") && lines[1].contains("negative"),
        "{out}"
    );
}
