//! Redraws `history.png` and `history.svg` of a model directory from its
//! `history.jsonl` (e.g. after copying the file from another machine).
//! Usage: `cargo run --release -p sori-train --example plot_history -- DIR [METRIC]`
use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("error: usage: plot_history DIR [METRIC]");
        std::process::exit(2);
    };
    let metric = args.next();
    let result = sori_train::history::read_jsonl(&dir.join("history.jsonl"))
        .and_then(|records| sori_train::history::plot(&dir, &records, metric.as_deref()));
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
