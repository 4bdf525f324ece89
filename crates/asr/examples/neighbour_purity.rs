//! How often a recording's nearest other recording of the same speaker
//! (DTW over a model's input features, as `--neighbours` uses) says the
//! same words: the diagnostic behind the claim in the crate README that
//! the graph of `sori_asr::closed::transduce` is nearly pure within a speaker. It
//! reads the reference transcripts, which `asr eval --neighbours` never
//! does for its answers.
//!
//!     cargo run --release -p sori-asr --example neighbour_purity -- MANIFEST MODEL_DIR
use sori_asr::closed::transduce::distance_matrix;
use sori_asr::recognize::Recognizer;
use std::path::{Path, PathBuf};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [manifest, model] = args.as_slice() else {
        anyhow::bail!("usage: neighbour_purity MANIFEST MODEL_DIR");
    };
    tch::set_num_threads(1);
    let utts = sori_asr::read_manifest(Path::new(manifest))?;
    let mut rec = Recognizer::load(&PathBuf::from(model))?;
    let mut speakers: Vec<Option<String>> = utts.iter().map(|u| u.speaker.clone()).collect();
    speakers.sort();
    speakers.dedup();
    let (mut same, mut total) = (0, 0);
    for speaker in speakers {
        let group: Vec<_> = utts.iter().filter(|u| u.speaker == speaker).collect();
        let paths: Vec<&Path> = group.iter().map(|u| u.audio.as_path()).collect();
        if rec.wants_speaker_norm() {
            rec.fit_speaker(&paths);
        }
        let mut inputs = Vec::new();
        for u in &group {
            let samples = rec.model.config.frontend.load(&u.audio)?;
            inputs.push(rec.input_features(&samples, &u.audio)?);
        }
        let n = inputs.len();
        let dim = inputs.first().map_or(1, |f| f.dim);
        let refs: Vec<&[f32]> = inputs.iter().map(|f| f.data.as_slice()).collect();
        let d = distance_matrix(&refs, dim);
        let mut hits = 0;
        for i in 0..n {
            let nearest = (0..n)
                .filter(|&j| j != i)
                .min_by(|&a, &b| d.get(i, a).total_cmp(&d.get(i, b)));
            if let Some(j) = nearest {
                hits += usize::from(group[i].text == group[j].text);
            }
        }
        println!(
            "{}: nearest recording says the same in {hits} of {n} ({:.1} %)",
            speaker.as_deref().unwrap_or("(no speaker)"),
            100.0 * hits as f64 / n.max(1) as f64
        );
        same += hits;
        total += n;
    }
    println!(
        "all: {same} of {total} ({:.1} %)",
        100.0 * same as f64 / total.max(1) as f64
    );
    Ok(())
}
