//! The history plots must still be drawn on a machine without any TrueType
//! font (PNG: curves without text; SVG: text is left to the viewer);
//! `SORI_FONT=none` simulates that. Its own test binary, because the font
//! lookup happens once per process.
use sori_train::history::{plot, EpochRecord};
use std::collections::BTreeMap;

#[test]
fn plots_are_drawn_without_a_font() {
    std::env::set_var("SORI_FONT", "none");
    let tmp = tempfile::tempdir().unwrap();
    let records: Vec<EpochRecord> = (1..=3)
        .map(|e| EpochRecord {
            epoch: e,
            step: e as u64 * 10,
            lr: 1e-3,
            seconds: 1.0,
            skipped_batches: 0,
            metrics: BTreeMap::from([
                ("loss".to_string(), 1.0 / e as f64),
                ("val_loss".to_string(), 1.2 / e as f64),
                ("cer".to_string(), 0.5 / e as f64),
            ]),
        })
        .collect();
    plot(tmp.path(), &records, None).unwrap();
    let png = std::fs::read(tmp.path().join("history.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    let svg = std::fs::read_to_string(tmp.path().join("history.svg")).unwrap();
    assert!(svg.contains("polyline"), "no curves");
    for label in [
        "training and validation loss",
        "training and validation cer",
        "epoch",
    ] {
        assert!(svg.contains(label), "svg lacks {label:?}");
    }
}
