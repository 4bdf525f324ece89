//! Parallel corpora: two line-aligned files (plain or gzip), a TSV with the
//! source and target in its first two columns (Tatoeba's Anki export:
//! `source<TAB>target<TAB>attribution`), and the Multi30k layout
//! (`{train,val,test_2016_flickr}.{lang}.gz`).
//!
//! Alignment is everything in parallel data, so a line-count mismatch is an
//! error that names both files and both counts rather than a silent zip.
//! Empty lines are kept by the readers (translation must pass them through);
//! [`drop_empty`] removes them from training data only.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use sori_train::Rng;

use crate::error::{Result, Seq2SeqError};

/// One sentence pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub src: String,
    pub tgt: String,
}

impl Pair {
    pub fn new(src: impl Into<String>, tgt: impl Into<String>) -> Pair {
        Pair {
            src: src.into(),
            tgt: tgt.into(),
        }
    }
}

fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    let mut file = File::open(path).map_err(|e| Seq2SeqError::io(path, e))?;
    let mut magic = [0u8; 2];
    let n = file
        .read(&mut magic)
        .map_err(|e| Seq2SeqError::io(path, e))?;
    let file = File::open(path).map_err(|e| Seq2SeqError::io(path, e))?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::new(MultiGzDecoder::new(file))))
    } else {
        Ok(Box::new(BufReader::new(file)))
    }
}

/// Longest line, in bytes, that the readers accept (one sentence; a
/// longer one, such as a binary file without line breaks, is an error
/// naming the line instead of an unbounded allocation).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Why [`read_line_limited`] refused a line (sori-fs's, shared by every
/// line reader of the workspace).
pub use sori_fs::LineError;

/// The next line of `reader` without its line end (`\n` or `\r\n`), or
/// `None` at the end; never holds more than [`MAX_LINE_BYTES`] of it.
pub fn read_line_limited<R: BufRead>(
    reader: &mut R,
) -> std::result::Result<Option<String>, LineError> {
    sori_fs::read_line_bounded(reader, MAX_LINE_BYTES)
}

/// The lines of a UTF-8 text file, gzip-compressed or not (detected from the
/// content), without line ends (`\n` or `\r\n`). Empty lines are kept; a
/// line longer than [`MAX_LINE_BYTES`] is an error naming it.
pub fn read_lines(path: &Path) -> Result<Vec<String>> {
    let mut reader = open(path)?;
    let mut lines = Vec::new();
    loop {
        let line = match read_line_limited(&mut reader) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(LineError::Io(e)) => return Err(Seq2SeqError::io(path, e)),
            Err(e) => {
                return Err(Seq2SeqError::BadLine {
                    path: path.to_path_buf(),
                    line: lines.len() + 1,
                    message: e.to_string(),
                })
            }
        };
        lines.push(line);
    }
    Ok(lines)
}

/// Pairs from two line-aligned files.
pub fn read_parallel(src: &Path, tgt: &Path) -> Result<Vec<Pair>> {
    let s = read_lines(src)?;
    let t = read_lines(tgt)?;
    if s.len() != t.len() {
        return Err(Seq2SeqError::LineCountMismatch {
            src: src.to_path_buf(),
            src_lines: s.len(),
            tgt: tgt.to_path_buf(),
            tgt_lines: t.len(),
        });
    }
    Ok(s.into_iter().zip(t).map(|(s, t)| Pair::new(s, t)).collect())
}

/// Pairs from a TSV whose first two columns are source and target (further
/// columns, such as Tatoeba's attribution, are ignored). `reverse` swaps the
/// two. Empty lines are skipped; a non-empty line without a tab is an error.
pub fn read_tsv(path: &Path, reverse: bool) -> Result<Vec<Pair>> {
    let mut pairs = Vec::new();
    for (i, line) in read_lines(path)?.into_iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split('\t');
        let a = cols.next().unwrap_or_default();
        let Some(b) = cols.next() else {
            return Err(Seq2SeqError::BadLine {
                path: path.to_path_buf(),
                line: i + 1,
                message: "expected source<TAB>target, found no tab".into(),
            });
        };
        let (s, t) = if reverse { (b, a) } else { (a, b) };
        pairs.push(Pair::new(s.trim(), t.trim()));
    }
    if pairs.is_empty() {
        return Err(Seq2SeqError::NoData(format!(
            "{}: no sentence pairs",
            path.display()
        )));
    }
    Ok(pairs)
}

/// The three Multi30k splits, with the file stem of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multi30kSplit {
    Train,
    Val,
    Test2016,
}

impl Multi30kSplit {
    pub fn stem(self) -> &'static str {
        match self {
            Multi30kSplit::Train => "train",
            Multi30kSplit::Val => "val",
            Multi30kSplit::Test2016 => "test_2016_flickr",
        }
    }
}

/// The path of one Multi30k file, `.gz` or plain, whichever exists.
pub fn multi30k_path(dir: &Path, split: Multi30kSplit, lang: &str) -> PathBuf {
    let gz = dir.join(format!("{}.{lang}.gz", split.stem()));
    if gz.exists() {
        return gz;
    }
    let plain = dir.join(format!("{}.{lang}", split.stem()));
    if plain.exists() {
        plain
    } else {
        gz
    }
}

/// One Multi30k split as pairs `src_lang -> tgt_lang` (`de`, `en`, `fr`, ...).
pub fn read_multi30k(
    dir: &Path,
    split: Multi30kSplit,
    src_lang: &str,
    tgt_lang: &str,
) -> Result<Vec<Pair>> {
    if src_lang == tgt_lang {
        return Err(Seq2SeqError::Config(format!(
            "source and target language are both {src_lang:?}"
        )));
    }
    read_parallel(
        &multi30k_path(dir, split, src_lang),
        &multi30k_path(dir, split, tgt_lang),
    )
}

/// Removes pairs where either side is empty or blank; returns how many went.
pub fn drop_empty(pairs: &mut Vec<Pair>) -> usize {
    let before = pairs.len();
    pairs.retain(|p| !p.src.trim().is_empty() && !p.tgt.trim().is_empty());
    before - pairs.len()
}

/// A seeded random split: `(kept, held_out)` with `round(fraction * n)`
/// pairs held out. The same seed gives the same split on every machine.
pub fn held_out_split<T>(mut items: Vec<T>, fraction: f64, seed: u64) -> Result<(Vec<T>, Vec<T>)> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(Seq2SeqError::Config(format!(
            "held-out fraction must be in [0, 1), got {fraction}"
        )));
    }
    Rng::new(seed).shuffle(&mut items);
    let n_out = (items.len() as f64 * fraction).round() as usize;
    let held = items.split_off(items.len() - n_out);
    Ok((items, held))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_and_plain_read_the_same_and_crlf_is_stripped() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.txt");
        std::fs::write(&plain, "eins\r\n\nzwei\n").unwrap();
        let gz = dir.path().join("a.txt.gz");
        let mut enc = flate2::write::GzEncoder::new(
            File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        enc.write_all(b"eins\n\nzwei\n").unwrap();
        enc.finish().unwrap();
        let want = vec!["eins".to_string(), String::new(), "zwei".to_string()];
        assert_eq!(read_lines(&plain).unwrap(), want);
        assert_eq!(read_lines(&gz).unwrap(), want);
    }

    #[test]
    fn lines_are_read_up_to_the_limit_and_no_further() {
        let at_limit = "a".repeat(MAX_LINE_BYTES);
        let text = format!("{at_limit}\r\nlast");
        let mut r = std::io::Cursor::new(text.into_bytes());
        assert_eq!(read_line_limited(&mut r).unwrap(), Some(at_limit));
        assert_eq!(read_line_limited(&mut r).unwrap(), Some("last".into()));
        assert_eq!(read_line_limited(&mut r).unwrap(), None);
        let over = format!("{}\n", "a".repeat(MAX_LINE_BYTES + 1));
        let mut r = std::io::Cursor::new(over.into_bytes());
        assert!(matches!(
            read_line_limited(&mut r),
            Err(LineError::TooLong(_))
        ));
        // A stream without line breaks stops at the limit.
        let mut zeros = std::io::Read::take(std::io::repeat(0), 1 << 30);
        let mut zeros = BufReader::new(&mut zeros);
        assert!(matches!(
            read_line_limited(&mut zeros),
            Err(LineError::TooLong(_))
        ));
        let mut bad = std::io::Cursor::new(b"caf\xe9\n".to_vec());
        assert!(matches!(
            read_line_limited(&mut bad),
            Err(LineError::NotUtf8)
        ));
    }

    #[test]
    fn held_out_split_is_seeded_and_disjoint() {
        let items: Vec<u32> = (0..100).collect();
        let (a, b) = held_out_split(items.clone(), 0.1, 7).unwrap();
        let (a2, b2) = held_out_split(items, 0.1, 7).unwrap();
        assert_eq!((a.len(), b.len()), (90, 10));
        assert_eq!((&a, &b), (&a2, &b2));
        let mut all: Vec<u32> = a.into_iter().chain(b).collect();
        all.sort();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    }
}
