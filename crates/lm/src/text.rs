//! Turning text lines into tokens. A character model needs a spelling for
//! the space, because ARPA separates tokens by white space: it is
//! [`SPACE_TOKEN`], and runs of white space count as one.
use crate::error::{LmError, Result};
use std::io::BufRead;
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

/// The non-empty lines of a text file (one sentence per line). A line that
/// is not UTF-8 is reported with its number.
pub fn read_lines(path: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|e| LmError::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                LmError::Text {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message: "not valid UTF-8".into(),
                }
            } else {
                LmError::io(path, e)
            }
        })?;
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
