//! Gzip-compressed ARPA files: `save_arpa` compresses when the name ends in
//! `.gz`, `read_arpa` recognises gzip by its first bytes, and the model read
//! back scores exactly as the one written. The compressed bytes are checked
//! against an independent decoder (the `gzip` program when it is installed,
//! else flate2's plain `GzDecoder`), and a damaged or cut-off file is one
//! error line naming the file.
use sori_lm::{train, NgramLm, Tokenization, TrainOptions, BOS};
use std::io::Read;

fn model() -> NgramLm {
    let text = [
        "the cat sat on the mat",
        "the dog sat on the log",
        "a cat ran",
        "the cat ran to the dog",
    ];
    let sentences: Vec<Vec<String>> = text.iter().map(|l| Tokenization::Words.tokens(l)).collect();
    train(&sentences, &TrainOptions::new(3)).unwrap()
}

fn plain_text(lm: &NgramLm) -> Vec<u8> {
    let mut out = Vec::new();
    lm.write_arpa(&mut out).unwrap();
    out
}

#[test]
fn gz_name_writes_gzip_that_reads_back_the_same_model() {
    let lm = model();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("words.arpa.gz");
    lm.save_arpa(&gz).unwrap();
    let bytes = std::fs::read(&gz).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
    // Independent decoding gives exactly the plain ARPA text.
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut text)
        .unwrap();
    assert_eq!(text, plain_text(&lm));
    if let Ok(out) = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&gz)
        .output()
    {
        assert!(out.status.success());
        assert_eq!(out.stdout, plain_text(&lm), "gzip -dc");
    }
    let back = NgramLm::read_arpa(&gz).unwrap();
    assert_eq!(back.ngram_counts(), lm.ngram_counts());
    let v = lm.vocab();
    let (the, cat, sat) = (
        v.get("the").unwrap(),
        v.get("cat").unwrap(),
        v.get("sat").unwrap(),
    );
    let w = back.vocab();
    assert_eq!(
        back.log10_prob(
            &[w.get("the").unwrap(), w.get("cat").unwrap()],
            w.get("sat").unwrap()
        ),
        lm.log10_prob(&[the, cat], sat)
    );
    assert_eq!(
        back.log10_prob(&[BOS], w.get("the").unwrap()),
        lm.log10_prob(&[BOS], the)
    );
    // A plain name stays plain text.
    let plain = dir.path().join("words.arpa");
    lm.save_arpa(&plain).unwrap();
    assert_eq!(std::fs::read(&plain).unwrap(), plain_text(&lm));
}

#[test]
fn gzip_is_recognised_by_content_not_name() {
    let lm = model();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("a.arpa.gz");
    lm.save_arpa(&gz).unwrap();
    let odd = dir.path().join("compressed-but-named.arpa");
    std::fs::copy(&gz, &odd).unwrap();
    assert_eq!(
        NgramLm::read_arpa(&odd).unwrap().ngram_counts(),
        lm.ngram_counts()
    );
}

#[test]
fn damaged_or_cut_gzip_is_one_line_naming_the_file() {
    let lm = model();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("lm.arpa.gz");
    lm.save_arpa(&gz).unwrap();
    let bytes = std::fs::read(&gz).unwrap();
    let cut = dir.path().join("cut.arpa.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    flipped[mid + 1] ^= 0x55;
    let bad = dir.path().join("bad.arpa.gz");
    std::fs::write(&bad, &flipped).unwrap();
    let only_magic = dir.path().join("magic.arpa.gz");
    std::fs::write(&only_magic, [0x1f, 0x8b]).unwrap();
    for p in [&cut, &bad, &only_magic] {
        let e = NgramLm::read_arpa(p)
            .expect_err("must be refused")
            .to_string();
        assert!(!e.contains('\n'), "one line: {e}");
        assert!(e.contains(&*p.to_string_lossy()), "names the file: {e}");
    }
}
