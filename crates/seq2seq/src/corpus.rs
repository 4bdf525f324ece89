//! The training, validation and test pairs of a run (what `seq2seq train`
//! reads): a known corpus with its own splits (Multi30k), or pairs split
//! here with seeded held-out fractions (Tatoeba's Anki TSV, any TSV, two
//! line-aligned files).
use std::path::{Path, PathBuf};

use crate::data::{drop_empty, held_out_split, read_multi30k, read_parallel, read_tsv};
use crate::data::{Multi30kSplit, Pair};
use crate::error::{Result, Seq2SeqError};

/// Where the pairs come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Multi30k in `dir` (`{train,val,test_2016_flickr}.{lang}.gz`), with
    /// its own validation and test splits.
    Multi30k {
        dir: PathBuf,
        src_lang: String,
        tgt_lang: String,
    },
    /// A Tatoeba/Anki TSV (`english<TAB>other<TAB>attribution`); `reverse`
    /// translates from the second column. The languages are guessed from
    /// the file name (`kor.txt`: `eng` and `kor`).
    Tatoeba { file: PathBuf, reverse: bool },
    /// A TSV with source and target in its first two columns.
    Tsv { file: PathBuf, reverse: bool },
    /// Two line-aligned files.
    Parallel { src: PathBuf, tgt: PathBuf },
}

/// How pairs without splits of their own are divided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitOptions {
    /// Fraction held out as the test set, in [0, 1).
    pub test_fraction: f64,
    /// Fraction of the rest held out for validation, in [0, 1).
    pub val_fraction: f64,
    /// Keep only the first this many training pairs.
    pub limit: Option<usize>,
    /// Seeds the test split (`seed`) and the validation split (`seed + 1`).
    pub seed: u64,
}

/// A run's data.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    /// Training pairs, without empty ones ([`drop_empty`]).
    pub train: Vec<Pair>,
    pub val: Vec<Pair>,
    pub test: Vec<Pair>,
    /// Language names for the model's config (`src`/`tgt` when unknown).
    pub src_lang: String,
    pub tgt_lang: String,
}

/// Reads `source` and splits it (see [`Source`] and [`SplitOptions`]).
pub fn load_splits(source: &Source, opts: &SplitOptions) -> Result<Splits> {
    let split3 = |all: Vec<Pair>, what: &str| -> Result<(Vec<Pair>, Vec<Pair>, Vec<Pair>)> {
        if all.is_empty() {
            return Err(Seq2SeqError::NoData(format!(
                "{what}: no sentence pairs (empty file?)"
            )));
        }
        let (rest, test) = held_out_split(all, opts.test_fraction, opts.seed)?;
        let (train, val) = held_out_split(rest, opts.val_fraction, opts.seed.wrapping_add(1))?;
        Ok((train, val, test))
    };
    let (mut train, val, test, src_lang, tgt_lang) = match source {
        Source::Multi30k {
            dir,
            src_lang,
            tgt_lang,
        } => (
            read_multi30k(dir, Multi30kSplit::Train, src_lang, tgt_lang)?,
            read_multi30k(dir, Multi30kSplit::Val, src_lang, tgt_lang)?,
            read_multi30k(dir, Multi30kSplit::Test2016, src_lang, tgt_lang)?,
            src_lang.clone(),
            tgt_lang.clone(),
        ),
        Source::Tatoeba { file, reverse } => {
            let (train, val, test) =
                split3(read_tsv(file, *reverse)?, &file.display().to_string())?;
            let (s, t) = tatoeba_languages(file, *reverse);
            (train, val, test, s, t)
        }
        Source::Tsv { file, reverse } => {
            let (train, val, test) =
                split3(read_tsv(file, *reverse)?, &file.display().to_string())?;
            (train, val, test, "src".into(), "tgt".into())
        }
        Source::Parallel { src, tgt } => {
            let what = format!("{} and {}", src.display(), tgt.display());
            let (train, val, test) = split3(read_parallel(src, tgt)?, &what)?;
            (train, val, test, "src".into(), "tgt".into())
        }
    };
    if let Some(n) = opts.limit {
        train.truncate(n);
    }
    drop_empty(&mut train);
    Ok(Splits {
        train,
        val,
        test,
        src_lang,
        tgt_lang,
    })
}

/// Tatoeba's Anki files are `<lang3>.txt` with English first: `(source,
/// target)` language names, swapped by `reverse`; for other file names the
/// columns' names `src` and `tgt` (so `(tgt, src)` reversed).
pub fn tatoeba_languages(file: &Path, reverse: bool) -> (String, String) {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    let (english, other) = if stem.len() == 3 {
        ("eng".to_string(), stem)
    } else {
        ("src".to_string(), "tgt".to_string())
    };
    if reverse {
        (other, english)
    } else {
        (english, other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, lines: &[&str]) {
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    #[test]
    fn languages_of_anki_files() {
        let kor = Path::new("corpora/kor.txt");
        assert_eq!(tatoeba_languages(kor, false), ("eng".into(), "kor".into()));
        assert_eq!(tatoeba_languages(kor, true), ("kor".into(), "eng".into()));
        let other = Path::new("pairs.tsv");
        assert_eq!(
            tatoeba_languages(other, false),
            ("src".into(), "tgt".into())
        );
        assert_eq!(tatoeba_languages(other, true), ("tgt".into(), "src".into()));
    }

    #[test]
    fn splits_are_disjoint_seeded_limited_and_without_empty_training_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let (s, t) = (dir.path().join("a.src"), dir.path().join("a.tgt"));
        let src: Vec<String> = (0..40).map(|i| format!("s{i}")).collect();
        let mut tgt: Vec<String> = (0..40).map(|i| format!("t{i}")).collect();
        tgt[7] = String::new();
        write(&s, &src.iter().map(String::as_str).collect::<Vec<_>>());
        write(&t, &tgt.iter().map(String::as_str).collect::<Vec<_>>());
        let source = Source::Parallel {
            src: s.clone(),
            tgt: t.clone(),
        };
        let opts = SplitOptions {
            test_fraction: 0.1,
            val_fraction: 0.25,
            limit: None,
            seed: 5,
        };
        let a = load_splits(&source, &opts).unwrap();
        // 4 test pairs, 9 of the other 36 for validation.
        assert_eq!((a.test.len(), a.val.len()), (4, 9));
        let empty_in_train = !a.val.iter().chain(&a.test).any(|p| p.src == "s7");
        assert_eq!(a.train.len(), 27 - usize::from(empty_in_train));
        assert!(a.train.iter().all(|p| !p.tgt.is_empty()));
        let mut seen: Vec<&str> = a
            .train
            .iter()
            .chain(&a.val)
            .chain(&a.test)
            .map(|p| p.src.as_str())
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), a.train.len() + a.val.len() + a.test.len());
        assert_eq!(load_splits(&source, &opts).unwrap(), a);
        let b = load_splits(&source, &SplitOptions { seed: 6, ..opts }).unwrap();
        assert_ne!(a.test, b.test);
        let limited = load_splits(
            &source,
            &SplitOptions {
                limit: Some(5),
                ..opts
            },
        )
        .unwrap();
        assert!(limited.train.len() <= 5 && limited.train.len() >= 4);
        assert_eq!((limited.val, limited.test), (a.val, a.test));
    }

    #[test]
    fn empty_sources_name_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("kor.txt");
        std::fs::write(&f, "").unwrap();
        let opts = SplitOptions {
            test_fraction: 0.1,
            val_fraction: 0.1,
            limit: None,
            seed: 1,
        };
        let err = load_splits(
            &Source::Tatoeba {
                file: f.clone(),
                reverse: false,
            },
            &opts,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("kor.txt") && err.contains("no sentence pairs"),
            "{err}"
        );
    }
}
