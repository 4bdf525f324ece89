//! The ARPA back-off format (Doug Paul's, as written by SRILM and KenLM):
//!
//! ```text
//! \data\
//! ngram 1=5
//! ngram 2=3
//!
//! \1-grams:
//! -0.70   a   -0.30          log10 p, tokens, log10 backoff (optional)
//! ...
//! \2-grams:
//! -0.40   a b
//! \end\
//! ```
//!
//! Reading trusts nothing: the declared counts are checked against the file
//! size before anything is allocated, every entry is parsed and checked
//! (number of fields, finite log10 probability ≤ 0, tokens listed as
//! unigrams, no duplicates, as many entries as declared) and a problem is an
//! [`LmError::Arpa`] `FILE:LINE: problem`, never a panic. Text before
//! `\data\` and after `\end\` is ignored; a missing `<unk>` gets log10
//! probability -100, as KenLM does; `<s>` and `</s>` must be listed.
use crate::error::{LmError, Result};
use crate::model::{Entry, NgramLm, Table, LOG10_ZERO, MAX_ORDER};
use crate::vocab::{Vocab, BOS, BOS_TOKEN, EOS, EOS_TOKEN, UNK};
use std::io::{BufRead, Read, Seek, Write};
use std::path::Path;

/// Longest line the reader accepts.
const MAX_LINE: usize = 1 << 20;

/// log10 probability given to `<unk>` when a file does not list it.
pub const MISSING_UNK_LOG10: f64 = -100.0;

/// Most entries preallocated when the input size is unknown.
const UNSIZED_RESERVE: usize = 1 << 16;

impl NgramLm {
    /// Writes the model as ARPA text. Numbers are written with full
    /// precision, so reading the file back gives the same model.
    pub fn write_arpa<W: Write>(&self, mut w: W) -> std::io::Result<()> {
        let counts = self.ngram_counts();
        writeln!(w, "\\data\\")?;
        for (n, c) in counts.iter().enumerate() {
            writeln!(w, "ngram {}={c}", n + 1)?;
        }
        let order = self.order();
        let mut line = String::new();
        for n in 1..=order {
            writeln!(w, "\n\\{n}-grams:")?;
            let mut grams = self.ngrams(n);
            grams.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            for (g, e) in grams {
                line.clear();
                line.push_str(&format!("{}", e.log10_prob));
                for (i, id) in g.iter().enumerate() {
                    line.push(if i == 0 { '\t' } else { ' ' });
                    line.push_str(self.vocab.token(*id).unwrap_or("<unk>"));
                }
                if n < order {
                    line.push_str(&format!("\t{}", e.log10_backoff));
                }
                writeln!(w, "{line}")?;
            }
        }
        writeln!(w, "\n\\end\\")?;
        w.flush()
    }

    /// Writes the model to an ARPA file, gzip-compressed when the path ends
    /// in `.gz` (KenLM and SRILM read such files too). The file is written
    /// whole or not at all (`sori-fs`): a failure leaves an older file as it
    /// was.
    pub fn save_arpa(&self, path: &Path) -> Result<()> {
        let gz = path.extension().is_some_and(|e| e == "gz");
        sori_fs::write_with(
            path,
            |tmp| {
                let file = std::fs::File::create(tmp).map_err(|e| LmError::io(path, e))?;
                let w = std::io::BufWriter::new(file);
                let r = if gz {
                    let mut enc = flate2::write::GzEncoder::new(w, flate2::Compression::best());
                    self.write_arpa(&mut enc)
                        .and_then(|()| enc.finish())
                        .and_then(|mut w| w.flush())
                } else {
                    self.write_arpa(w)
                };
                r.map_err(|e| LmError::io(path, e))
            },
            |p, e| LmError::io(p, e),
        )
    }

    /// Reads an ARPA file, plain or gzip-compressed (recognised by its
    /// first bytes, whatever the name).
    pub fn read_arpa(path: &Path) -> Result<NgramLm> {
        let mut file = std::fs::File::open(path).map_err(|e| LmError::io(path, e))?;
        let size = file.metadata().ok().map(|m| m.len());
        let mut magic = [0u8; 2];
        let mut got = 0;
        while got < 2 {
            match file.read(&mut magic[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(LmError::io(path, e)),
            }
        }
        file.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| LmError::io(path, e))?;
        if got == 2 && magic == [0x1f, 0x8b] {
            // The text's size is not known: counts preallocate only a little.
            let text = flate2::read::MultiGzDecoder::new(file);
            Self::parse_arpa(std::io::BufReader::new(text), path, None)
        } else {
            Self::parse_arpa(std::io::BufReader::new(file), path, size)
        }
    }

    /// Reads ARPA text from `reader`; `name` names it in errors and
    /// `size_bytes`, when known, bounds the declared counts.
    pub fn parse_arpa<R: BufRead>(
        reader: R,
        name: &Path,
        size_bytes: Option<u64>,
    ) -> Result<NgramLm> {
        Parser {
            lines: Lines {
                reader,
                name,
                line_no: 0,
                buf: Vec::new(),
            },
            size_bytes,
        }
        .parse()
    }
}

struct Lines<'a, R> {
    reader: R,
    name: &'a Path,
    line_no: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> Lines<'_, R> {
    fn error(&self, message: impl Into<String>) -> LmError {
        self.error_at(self.line_no, message)
    }

    fn error_at(&self, line: usize, message: impl Into<String>) -> LmError {
        LmError::Arpa {
            path: self.name.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// Reads the next line, without its end, into `out`; false at the end
    /// of the input.
    fn next_into(&mut self, out: &mut String) -> Result<bool> {
        self.buf.clear();
        out.clear();
        let n = self
            .reader
            .by_ref()
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| LmError::io(self.name, e))?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        if self.buf.len() > MAX_LINE {
            return Err(self.error(format!("line longer than {MAX_LINE} bytes")));
        }
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        match std::str::from_utf8(&self.buf) {
            Ok(s) => {
                out.push_str(s);
                Ok(true)
            }
            Err(_) => Err(self.error("not valid UTF-8")),
        }
    }

    /// The next line that is not blank, trimmed.
    fn next_nonblank(&mut self) -> Result<Option<String>> {
        let mut line = String::new();
        while self.next_into(&mut line)? {
            if !line.trim().is_empty() {
                return Ok(Some(line.trim().to_string()));
            }
        }
        Ok(None)
    }
}

struct Parser<'a, R> {
    lines: Lines<'a, R>,
    size_bytes: Option<u64>,
}

fn section_header(line: &str) -> Option<&str> {
    line.strip_prefix('\\')
        .and_then(|s| s.strip_suffix("-grams:"))
}

impl<R: BufRead> Parser<'_, R> {
    fn parse(mut self) -> Result<NgramLm> {
        // Preamble.
        let mut raw = String::new();
        loop {
            if !self.lines.next_into(&mut raw)? {
                return Err(self.lines.error("no \\data\\ line: not an ARPA file"));
            }
            if raw.trim() == "\\data\\" {
                break;
            }
        }
        let (declared, mut pending) = self.read_counts()?;
        let order = declared.len();
        let mut vocab = Vocab::new();
        let mut unigrams: Vec<Option<Entry>> = vec![None; vocab.len()];
        let mut higher: Vec<Table> = Vec::with_capacity(order - 1);
        let mut unigram_header_line = 0;
        for n in 1..=order {
            let header = match pending.take() {
                Some(h) => h,
                None => self.lines.next_nonblank()?.ok_or_else(|| {
                    self.lines
                        .error(format!("input ends before the \\{n}-grams: section"))
                })?,
            };
            if section_header(&header) != Some(&n.to_string()) {
                return Err(self
                    .lines
                    .error(format!("expected \\{n}-grams:, found {:?}", clip(&header))));
            }
            if n == 1 {
                unigram_header_line = self.lines.line_no;
            }
            let want = declared[n - 1];
            let reserve = self.reserve(want as usize);
            let mut table = Table::with_capacity_and_hasher(
                if n == 1 { 0 } else { reserve },
                Default::default(),
            );
            if n == 1 {
                unigrams.reserve(reserve);
            }
            let mut seen = 0u64;
            let mut ids = Vec::with_capacity(n);
            while self.lines.next_into(&mut raw)? {
                let line = raw.trim();
                if line.is_empty() {
                    continue;
                }
                if line.starts_with('\\') {
                    pending = Some(line.to_string());
                    break;
                }
                seen += 1;
                if seen > want {
                    return Err(self.lines.error(format!(
                        "more {n}-grams than the {want} declared in \\data\\"
                    )));
                }
                let fields: Vec<&str> = line.split_whitespace().collect();
                let max_fields = if n < order { n + 2 } else { n + 1 };
                if fields.len() < n + 1 || fields.len() > max_fields {
                    return Err(self.lines.error(format!(
                        "a {n}-gram line needs a log10 probability, {n} token(s){}; found {} field(s)",
                        if n < order { " and an optional backoff" } else { "" },
                        fields.len()
                    )));
                }
                let log10_prob = parse_number(fields[0], true)
                    .map_err(|m| self.lines.error(format!("log10 probability: {m}")))?;
                let log10_backoff = match fields.get(n + 1) {
                    Some(f) => parse_number(f, false)
                        .map_err(|m| self.lines.error(format!("backoff weight: {m}")))?,
                    None => 0.0,
                };
                let entry = Entry {
                    log10_prob,
                    log10_backoff,
                };
                if n == 1 {
                    let id = vocab.insert(fields[1]) as usize;
                    if id >= unigrams.len() {
                        unigrams.resize(id + 1, None);
                    }
                    if unigrams[id].is_some() {
                        return Err(self
                            .lines
                            .error(format!("duplicate unigram {:?}", clip(fields[1]))));
                    }
                    unigrams[id] = Some(entry);
                } else {
                    ids.clear();
                    for t in &fields[1..=n] {
                        match vocab.get(t) {
                            Some(id) if unigrams[id as usize].is_some() => ids.push(id),
                            _ => {
                                return Err(self.lines.error(format!(
                                    "token {:?} is not listed in \\1-grams:",
                                    clip(t)
                                )))
                            }
                        }
                    }
                    if table.insert(ids.as_slice().into(), entry).is_some() {
                        return Err(self
                            .lines
                            .error(format!("duplicate {n}-gram {:?}", clip(line))));
                    }
                }
            }
            if seen < want {
                return Err(self.lines.error(format!(
                    "{seen} {n}-gram(s) listed, {want} declared in \\data\\"
                )));
            }
            if n > 1 {
                higher.push(table);
            }
        }
        let end = match pending.take() {
            Some(l) => Some(l),
            None => self.lines.next_nonblank()?,
        };
        match end.as_deref() {
            Some("\\end\\") => {}
            Some(other) => {
                return Err(self
                    .lines
                    .error(format!("expected \\end\\, found {:?}", clip(other))))
            }
            None => return Err(self.lines.error("input ends without \\end\\")),
        }
        for (id, token) in [(BOS, BOS_TOKEN), (EOS, EOS_TOKEN)] {
            if unigrams[id as usize].is_none() {
                return Err(self.lines.error_at(
                    unigram_header_line,
                    format!("{token} is not listed in \\1-grams:"),
                ));
            }
        }
        if unigrams[UNK as usize].is_none() {
            unigrams[UNK as usize] = Some(Entry {
                log10_prob: MISSING_UNK_LOG10,
                log10_backoff: 0.0,
            });
        }
        let unigrams: Vec<Entry> = unigrams
            .into_iter()
            .map(|e| {
                e.unwrap_or(Entry {
                    log10_prob: LOG10_ZERO,
                    log10_backoff: 0.0,
                })
            })
            .collect();
        Ok(NgramLm::from_parts(vocab, unigrams, higher))
    }

    /// The `ngram N=COUNT` lines; returns the counts and the first line
    /// after them.
    fn read_counts(&mut self) -> Result<(Vec<u64>, Option<String>)> {
        let mut counts: Vec<u64> = Vec::new();
        let mut min_bytes: u64 = 0;
        loop {
            let Some(line) = self.lines.next_nonblank()? else {
                return Err(self.lines.error("input ends inside \\data\\"));
            };
            let Some(spec) = line.strip_prefix("ngram") else {
                if counts.is_empty() {
                    return Err(self.lines.error("\\data\\ declares no n-gram counts"));
                }
                return Ok((counts, Some(line)));
            };
            let parsed = spec.split_once('=').and_then(|(n, c)| {
                Some((
                    n.trim().parse::<usize>().ok()?,
                    c.trim().parse::<u64>().ok()?,
                ))
            });
            let Some((n, c)) = parsed else {
                return Err(self.lines.error(format!(
                    "expected \"ngram N=COUNT\", found {:?}",
                    clip(&line)
                )));
            };
            if n != counts.len() + 1 {
                return Err(self.lines.error(format!(
                    "expected the count of order {}, found order {n}",
                    counts.len() + 1
                )));
            }
            if n > MAX_ORDER {
                return Err(self.lines.error(format!(
                    "order {n} exceeds the supported maximum {MAX_ORDER}"
                )));
            }
            if n == 1 && (c == 0 || c > (u32::MAX - 3) as u64) {
                return Err(self
                    .lines
                    .error(format!("{c} unigrams: need 1..={}", u32::MAX - 3)));
            }
            // An n-gram line takes at least 2n bytes ("p w" + separators).
            min_bytes = min_bytes.saturating_add(c.saturating_mul(2 * n as u64));
            if let Some(size) = self.size_bytes {
                if min_bytes > size {
                    return Err(self.lines.error(format!(
                        "declared counts need at least {min_bytes} bytes, the file has {size}"
                    )));
                }
            }
            counts.push(c);
        }
    }

    /// How many entries to allocate for a section that declares `want`.
    fn reserve(&self, want: usize) -> usize {
        match self.size_bytes {
            Some(_) => want, // already bounded by the file size
            None => want.min(UNSIZED_RESERVE),
        }
    }
}

/// A log10 number: finite, or `-inf` (read as [`LOG10_ZERO`]); a
/// probability must not be positive.
fn parse_number(s: &str, probability: bool) -> std::result::Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{:?} is not a number", clip(s)))?;
    if v.is_nan() || v == f64::INFINITY {
        return Err(format!("{s} is not a finite number"));
    }
    if v == f64::NEG_INFINITY {
        return Ok(LOG10_ZERO);
    }
    if probability && v > 0.0 {
        return Err(format!("{s} is positive (a probability above 1)"));
    }
    Ok(v)
}

/// At most 40 characters of a piece of input, for messages.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}
