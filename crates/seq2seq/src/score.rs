//! Scoring glue of the binary: hypotheses against references from files,
//! a model's translations of a file scored against its references, the
//! test-set report `seq2seq train` ends with, and the JSON form of a
//! report. The metrics themselves are [`crate::translator::evaluate`]'s.
use std::path::Path;
use std::time::Instant;

use crate::data::{read_lines, Pair};
use crate::error::{Result, Seq2SeqError};
use crate::translator::{evaluate, DecodeOptions, EvalReport, Translator};

/// Writes `lines`, one per line, atomically (a failure never leaves a
/// half-written file).
pub fn write_lines(path: &Path, lines: &[String]) -> Result<()> {
    let mut text = lines.join("\n");
    text.push('\n');
    Ok(sori_train::atomic_write(path, text.as_bytes())?)
}

/// Reads two files that must have one line for each other's: `a_what` and
/// `b_what` name their contents in the error ("hypotheses", "references").
pub fn read_aligned(
    a: &Path,
    a_what: &'static str,
    b: &Path,
    b_what: &'static str,
) -> Result<(Vec<String>, Vec<String>)> {
    let x = read_lines(a)?;
    let y = read_lines(b)?;
    if x.len() != y.len() {
        return Err(Seq2SeqError::Misaligned {
            a_what,
            a: a.to_path_buf(),
            a_lines: x.len(),
            b_what,
            b: b.to_path_buf(),
            b_lines: y.len(),
        });
    }
    Ok((x, y))
}

/// `seq2seq score`: the translations in `hyp` against the references in
/// `reference`, line by line.
pub fn score_files(hyp: &Path, reference: &Path) -> Result<EvalReport> {
    let (hyps, refs) = read_aligned(hyp, "hypotheses", reference, "references")?;
    evaluate(&hyps, &refs)
}

/// `seq2seq eval`: translates `src` and scores it against `reference`;
/// with `output`, also writes the translations there.
pub fn evaluate_files(
    t: &Translator,
    src: &Path,
    reference: &Path,
    opts: &DecodeOptions,
    output: Option<&Path>,
) -> Result<EvalReport> {
    let (srcs, refs) = read_aligned(src, "source sentences", reference, "references")?;
    let hyps = t.translate_lines(&srcs, opts)?;
    if let Some(o) = output {
        write_lines(o, &hyps)?;
    }
    evaluate(&hyps, &refs)
}

/// The end of `seq2seq train`: translates the held-out test pairs with a
/// beam of `beam`, writes `test.src`, `test.ref`, `test.hyp` and
/// `test_scores.txt` into `out`, and returns the text of the scores (also
/// in `test_scores.txt`).
pub fn score_test_set(t: &Translator, test: &[Pair], beam: usize, out: &Path) -> Result<String> {
    let src: Vec<String> = test.iter().map(|p| p.src.clone()).collect();
    let refs: Vec<String> = test.iter().map(|p| p.tgt.clone()).collect();
    write_lines(&out.join("test.src"), &src)?;
    write_lines(&out.join("test.ref"), &refs)?;
    let started = Instant::now();
    let opts = DecodeOptions { beam, alpha: 0.6 };
    let hyps = t.translate_lines(&src, &opts)?;
    write_lines(&out.join("test.hyp"), &hyps)?;
    let rep = evaluate(&hyps, &refs)?;
    let text = format!(
        "test set ({} sentences, beam {beam}, {:.0} s):\n{rep}\n",
        src.len(),
        started.elapsed().as_secs_f64()
    );
    sori_train::atomic_write(&out.join("test_scores.txt"), text.as_bytes())?;
    Ok(text)
}

impl EvalReport {
    /// The report as one JSON object: `sentences`, `bleu` (sacreBLEU's
    /// score, `precisions` of 1- to 4-grams, `bp`, `hyp_len`, `ref_len`),
    /// `bleu_lowercase` (score) and `chrf`.
    pub fn to_json(&self) -> serde_json::Value {
        let b = &self.bleu;
        serde_json::json!({
            "sentences": self.sentences,
            "bleu": {
                "score": b.score,
                "precisions": b.precisions,
                "bp": b.bp,
                "hyp_len": b.stats.hyp_len,
                "ref_len": b.stats.ref_len,
            },
            "bleu_lowercase": self.bleu_lowercase.score,
            "chrf": self.chrf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misaligned_files_are_named_with_what_they_hold() {
        let dir = tempfile::tempdir().unwrap();
        let (h, r) = (dir.path().join("a.hyp"), dir.path().join("a.ref"));
        std::fs::write(&h, "one\ntwo\n").unwrap();
        std::fs::write(&r, "one\n").unwrap();
        let err = score_files(&h, &r).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "2 hypotheses in {} but 1 references in {}; they must be line-aligned, one per line each",
                h.display(),
                r.display()
            )
        );
    }
}
