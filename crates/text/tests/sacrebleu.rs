//! BLEU and chrF against numbers written by the real sacreBLEU 2.6.0
//! (`scripts/make-bleu-fixtures.py`; files in tests/fixtures/sacrebleu).
//! Agreement is required to 1e-9 points: the arithmetic is the same, so any
//! difference would be a tokenisation or counting bug, not rounding.

use std::path::PathBuf;

use serde_json::Value;
use sori_text::bleu::{tokenize_13a, Bleu};
use sori_text::chrf::Chrf;

const TOL: f64 = 1e-9;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sacrebleu")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn lines(name: &str, side: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir().join(format!("{name}.{side}"))).unwrap();
    let mut v: Vec<String> = text.split('\n').map(str::to_string).collect();
    assert_eq!(v.pop().as_deref(), Some(""), "fixture ends with a newline");
    v
}

fn corpora() -> Vec<(String, Value)> {
    let e = expected();
    let map = e["corpora"].as_object().unwrap();
    assert!(map.len() >= 6);
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn tokenizer_13a_matches_sacrebleu_line_by_line() {
    let mut checked = 0;
    for (name, e) in corpora() {
        for side in ["hyp", "ref"] {
            let want = e[format!("tok13a_{side}")].as_array().unwrap();
            let got = lines(&name, side);
            assert_eq!(want.len(), got.len(), "{name}.{side}");
            for (line, w) in got.iter().zip(want) {
                let trimmed = line.trim_end();
                assert_eq!(
                    tokenize_13a(trimmed),
                    w.as_str().unwrap(),
                    "{name}.{side}: {line:?}"
                );
                checked += 1;
            }
        }
    }
    for pair in expected()["tok13a_extra"].as_array().unwrap() {
        assert_eq!(
            tokenize_13a(pair[0].as_str().unwrap()),
            pair[1].as_str().unwrap()
        );
        checked += 1;
    }
    assert!(checked > 700);
}

#[test]
fn corpus_bleu_matches_sacrebleu() {
    for (name, e) in corpora() {
        let hyps = lines(&name, "hyp");
        let refs = lines(&name, "ref");
        let s = Bleu::sacrebleu().corpus_score(&hyps, &refs).unwrap();
        assert!(
            (s.score - f(&e["bleu"])).abs() < TOL,
            "{name}: {} vs {}",
            s.score,
            e["bleu"]
        );
        assert!((s.bp - f(&e["bleu_bp"])).abs() < TOL, "{name}: bp");
        assert_eq!(
            s.stats.hyp_len as u64,
            e["bleu_sys_len"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            s.stats.ref_len as u64,
            e["bleu_ref_len"].as_u64().unwrap(),
            "{name}"
        );
        for n in 0..4 {
            assert_eq!(
                s.stats.correct[n] as u64,
                e["bleu_counts"][n].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                s.stats.total[n] as u64,
                e["bleu_totals"][n].as_u64().unwrap(),
                "{name}"
            );
        }
        let lc = Bleu::lowercased().corpus_score(&hyps, &refs).unwrap();
        assert!(
            (lc.score - f(&e["bleu_lowercase"])).abs() < TOL,
            "{name}: lc {} vs {}",
            lc.score,
            e["bleu_lowercase"]
        );
    }
}

#[test]
fn sentence_bleu_with_effective_order_matches_sacrebleu() {
    let bleu = Bleu {
        effective_order: true,
        ..Bleu::sacrebleu()
    };
    for (name, e) in corpora() {
        let want = e["sentence_bleu"].as_array().unwrap();
        let (hyps, refs) = (lines(&name, "hyp"), lines(&name, "ref"));
        // Every sentence has its fixture score (zip alone would stop early).
        assert_eq!(hyps.len(), refs.len(), "{name}");
        assert_eq!(hyps.len(), want.len(), "{name}");
        assert!(!want.is_empty(), "{name}");
        for ((h, r), w) in hyps.iter().zip(refs).zip(want) {
            let got = bleu.sentence_score(h, &r).score;
            assert!(
                (got - f(w)).abs() < TOL,
                "{name}: {h:?} / {r:?}: {got} vs {w}"
            );
        }
    }
}

#[test]
fn chrf_matches_sacrebleu_corpus_and_sentence() {
    let chrf = Chrf::default();
    for (name, e) in corpora() {
        let hyps = lines(&name, "hyp");
        let refs = lines(&name, "ref");
        let got = chrf.corpus_score(&hyps, &refs).unwrap();
        assert!(
            (got - f(&e["chrf"])).abs() < TOL,
            "{name}: {got} vs {}",
            e["chrf"]
        );
        let want = e["sentence_chrf"].as_array().unwrap();
        assert_eq!(hyps.len(), refs.len(), "{name}");
        assert_eq!(hyps.len(), want.len(), "{name}");
        assert!(!want.is_empty(), "{name}");
        for ((h, r), w) in hyps.iter().zip(&refs).zip(want) {
            let got = chrf.sentence_score(h, r);
            assert!(
                (got - f(w)).abs() < TOL,
                "{name}: {h:?} / {r:?}: {got} vs {w}"
            );
        }
    }
}
