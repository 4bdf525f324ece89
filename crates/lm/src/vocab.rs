//! The token table of a model. Ids 0, 1 and 2 are always `<unk>`, `<s>` and
//! `</s>`, so code that scores sentences never has to look them up, and the
//! other tokens follow in order of first appearance (training text or the
//! ARPA unigram list).
use std::collections::HashMap;

/// Id of the unknown token `<unk>`.
pub const UNK: u32 = 0;
/// Id of the sentence start `<s>` (a context only: never predicted).
pub const BOS: u32 = 1;
/// Id of the sentence end `</s>`.
pub const EOS: u32 = 2;

/// Spelling of [`UNK`].
pub const UNK_TOKEN: &str = "<unk>";
/// Spelling of [`BOS`].
pub const BOS_TOKEN: &str = "<s>";
/// Spelling of [`EOS`].
pub const EOS_TOKEN: &str = "</s>";

/// Token strings and their ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocab {
    tokens: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Default for Vocab {
    fn default() -> Self {
        Self::new()
    }
}

impl Vocab {
    /// The three special tokens only.
    pub fn new() -> Self {
        let mut v = Vocab {
            tokens: Vec::new(),
            ids: HashMap::new(),
        };
        for t in [UNK_TOKEN, BOS_TOKEN, EOS_TOKEN] {
            v.insert(t);
        }
        v
    }

    /// The id of `token`, adding it if new.
    pub fn insert(&mut self, token: &str) -> u32 {
        if let Some(&id) = self.ids.get(token) {
            return id;
        }
        let id = self.tokens.len() as u32;
        self.tokens.push(token.to_string());
        self.ids.insert(token.to_string(), id);
        id
    }

    /// The id of `token`, if known.
    pub fn get(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    /// The id of `token`, [`UNK`] if unknown.
    pub fn id_or_unk(&self, token: &str) -> u32 {
        self.get(token).unwrap_or(UNK)
    }

    /// The spelling of an id.
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// Number of tokens, the three special ones included.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Never true: the special tokens are always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// All tokens in id order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// Ids of a token sequence, unknown tokens mapped to [`UNK`].
    pub fn encode<S: AsRef<str>>(&self, tokens: &[S]) -> Vec<u32> {
        tokens.iter().map(|t| self.id_or_unk(t.as_ref())).collect()
    }
}
