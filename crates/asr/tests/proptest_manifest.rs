//! Property tests of the JSONL manifest parser (issue 10). Oracles:
//! manifests assembled from lines whose validity is known by construction
//! (valid records, blank lines, and several kinds of broken line) must
//! parse to exactly the valid records, or fail naming `FILE:LINE` of the
//! first broken line; any utterances written with `write_manifest` read
//! back equal (durations to 1e-12 relative: serde_json's default float
//! parser is not exactly round-trip, a last-digit difference nobody hears);
//! arbitrary bytes never panic. A fixed, small number of cases, so it runs
//! in `make test`.
#[path = "../../train/tests/support/fuzz.rs"]
mod fuzz;
use proptest::prelude::*;
use sori_asr::data::manifest::{read_manifest, write_manifest, Utterance};
use std::path::PathBuf;

#[derive(Debug, Clone)]
enum Line {
    Valid(Utterance),
    Blank(String),
    Broken(String),
}

fn utterance() -> impl Strategy<Value = Utterance> {
    (
        "[a-z0-9_]{1,8}",
        "\\PC{0,20}",
        prop_oneof![Just(0.0), 0.0f64..1e4],
        prop::option::of("\\PC{1,10}"),
    )
        .prop_map(|(name, text, duration, speaker)| Utterance {
            audio: PathBuf::from(format!("{name}.wav")),
            text,
            duration,
            speaker,
        })
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        4 => utterance().prop_map(Line::Valid),
        1 => prop_oneof![Just(String::new()), Just("   ".to_string()), Just("\t".to_string())]
            .prop_map(Line::Blank),
        1 => prop_oneof![
            Just("{".to_string()),
            Just("{\"audio\": 3, \"text\": \"a\"}".to_string()),
            Just("{\"text\": \"no audio\"}".to_string()),
            Just("{\"audio\": \"a.wav\"}".to_string()),
            Just("{\"audio\": \"\", \"text\": \"a\"}".to_string()),
            Just("{\"audio\": \"a.wav\", \"text\": \"a\", \"duration\": \"long\"}".to_string()),
            Just("[1, 2, 3]".to_string()),
            // Free text with at least one letter (all-space lines are blank).
            "[a-z ]{0,6}[a-z][a-z ]{0,5}",
        ]
        .prop_map(Line::Broken),
    ]
}

/// Equal, durations to 1e-12 relative.
fn same(a: &[Utterance], b: &[Utterance]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.audio == y.audio
                && x.text == y.text
                && x.speaker == y.speaker
                && (x.duration - y.duration).abs() <= 1e-12 * y.duration.abs().max(1.0)
        })
}

fn render(l: &Line) -> String {
    match l {
        Line::Valid(u) => serde_json::to_string(u).unwrap(),
        Line::Blank(s) | Line::Broken(s) => s.clone(),
    }
}

proptest! {
    // `make fuzz` raises the count with SORI_FUZZ_CASES.
    #![proptest_config(fuzz::config(64))]

    #[test]
    fn parses_exactly_the_valid_lines_or_names_the_first_broken_one(
        lines in prop::collection::vec(line(), 0..12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let text: Vec<String> = lines.iter().map(render).collect();
        std::fs::write(&path, text.join("\n")).unwrap();
        let first_broken = lines.iter().position(|l| matches!(l, Line::Broken(_)));
        let valid: Vec<Utterance> = lines
            .iter()
            .filter_map(|l| match l {
                Line::Valid(u) => Some(Utterance { audio: dir.path().join(&u.audio), ..u.clone() }),
                _ => None,
            })
            .collect();
        match (read_manifest(&path), first_broken) {
            (Err(e), Some(i)) => {
                let msg = e.to_string();
                prop_assert!(msg.contains(&format!("m.jsonl:{}:", i + 1)), "{}", msg);
                prop_assert!(!msg.contains('\n'));
            }
            (Err(e), None) => {
                prop_assert!(valid.is_empty(), "{}", e);
                prop_assert!(e.to_string().contains("no utterances"));
            }
            (Ok(utts), None) => prop_assert!(same(&utts, &valid), "{:?} vs {:?}", utts, valid),
            (Ok(_), Some(i)) => prop_assert!(false, "broken line {} accepted", i + 1),
        }
    }

    #[test]
    fn written_manifests_read_back_equal(utts in prop::collection::vec(utterance(), 1..8)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("out.jsonl");
        let placed: Vec<Utterance> = utts
            .iter()
            .map(|u| Utterance { audio: dir.path().join("sub").join(&u.audio), ..u.clone() })
            .collect();
        write_manifest(&path, &placed).unwrap();
        let back = read_manifest(&path).unwrap();
        prop_assert!(same(&back, &placed), "{:?} vs {:?}", back, placed);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        std::fs::write(&path, &bytes).unwrap();
        if let Err(e) = read_manifest(&path) {
            prop_assert!(e.to_string().contains("m.jsonl"));
        }
    }
}
