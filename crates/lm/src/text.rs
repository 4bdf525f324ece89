//! Turning text lines into tokens. A character model needs a spelling for
//! the space, because ARPA separates tokens by white space: it is
//! [`SPACE_TOKEN`], and runs of white space count as one.
use crate::error::{LmError, Result};
use std::path::Path;

/// How the space between words is written in a character model.
pub const SPACE_TOKEN: &str = "<sp>";

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tokenization {
    /// Every character is a token; white space becomes one [`SPACE_TOKEN`].
    #[default]
    Chars,
    /// Tokens are separated by white space.
    Words,
}

impl Tokenization {
    /// The tokens of one line (leading and trailing white space ignored).
    pub fn tokens(&self, line: &str) -> Vec<String> {
        match self {
            Tokenization::Words => line.split_whitespace().map(str::to_string).collect(),
            Tokenization::Chars => {
                let mut out = Vec::new();
                for (i, word) in line.split_whitespace().enumerate() {
                    if i > 0 {
                        out.push(SPACE_TOKEN.to_string());
                    }
                    out.extend(word.chars().map(String::from));
                }
                out
            }
        }
    }
}

/// Longest line of a training text, in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The non-empty lines of a text file (one sentence per line). A line that
/// is not UTF-8, or longer than [`MAX_LINE_BYTES`] (a file without line
/// ends, a link to `/dev/zero`), is reported with its number.
pub fn read_lines(path: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|e| LmError::io(path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let mut out = Vec::new();
    let mut line_no = 0;
    loop {
        line_no += 1;
        let line = match sori_fs::read_line_bounded(&mut reader, MAX_LINE_BYTES) {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(sori_fs::LineError::Io(e)) => return Err(LmError::io(path, e)),
            Err(e) => {
                return Err(LmError::Text {
                    path: path.to_path_buf(),
                    line: line_no,
                    message: e.to_string(),
                })
            }
        };
        if !line.trim().is_empty() {
            out.push(line);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_and_spaces() {
        let t = Tokenization::Chars.tokens("  ab \t c ");
        assert_eq!(t, ["a", "b", SPACE_TOKEN, "c"]);
        assert_eq!(Tokenization::Words.tokens(" ab  c "), ["ab", "c"]);
        assert!(Tokenization::Chars.tokens("   ").is_empty());
    }
}
