//! Attention for the translator's decoder: additive (Bahdanau) and
//! multiplicative (Luong "general" and "dot") scores over the encoder
//! outputs, a softmax restricted to the real (unpadded) source positions, and
//! the weighted sum of the encoder outputs (the context vector).
//!
//! The weights are returned alongside the context because the translator
//! plots them (the lecture's alignment matrices).
//!
//! Scores, for a decoder query `q` `[B, Q]` and encoder outputs (keys) `k_s`
//! `[B, S, K]`:
//! - Bahdanau (additive): `score_s = vᵀ tanh(W_q q + W_k k_s + b)`, with an
//!   attention size `A` (`W_q` `[A, Q]`, `W_k` `[A, K]`, `v` `[A]`);
//! - Luong general: `score_s = qᵀ W_a k_s` (`W_a` `[Q, K]`);
//! - Luong dot: `score_s = qᵀ k_s` (needs `Q == K`).
//!
//! Padded source positions get a score of −∞ before the softmax, so their
//! weight is exactly zero and the weights of each row sum to 1.
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use tch::{nn, Kind, Tensor};

use crate::RnnError;

/// Which score function an [`Attention`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionKind {
    Bahdanau,
    LuongGeneral,
    LuongDot,
}

impl FromStr for AttentionKind {
    type Err = RnnError;
    /// Accepts `bahdanau` (= `additive`), `luong` (= `general`), `dot`.
    fn from_str(s: &str) -> Result<Self, RnnError> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "bahdanau" | "additive" => Ok(AttentionKind::Bahdanau),
            "luong" | "general" | "luong_general" => Ok(AttentionKind::LuongGeneral),
            "dot" | "luong_dot" => Ok(AttentionKind::LuongDot),
            _ => Err(RnnError::Config(format!(
                "unknown attention {s:?} (expected bahdanau, luong or dot)"
            ))),
        }
    }
}

/// Encoder outputs with their key projection computed once per source batch
/// (the projection does not depend on the decoder step).
#[derive(Debug)]
pub struct PreparedKeys {
    /// `[B, S, K]` encoder outputs (the values the context averages).
    pub values: Tensor,
    /// Bahdanau: `W_k k + b` `[B, S, A]`; general: `k W_aᵀ` `[B, S, Q]`;
    /// dot: the keys themselves.
    projected: Tensor,
}

/// An attention module; see the module docs for the score functions.
#[derive(Debug)]
pub struct Attention {
    kind: AttentionKind,
    w_query: Option<nn::Linear>,
    w_key: Option<nn::Linear>,
    v: Option<nn::Linear>,
}

impl Attention {
    /// Creates the parameters under `p`. `attn_dim` is used by Bahdanau only.
    pub fn new(
        p: &nn::Path,
        kind: AttentionKind,
        query_dim: i64,
        key_dim: i64,
        attn_dim: i64,
    ) -> Result<Attention, RnnError> {
        let no_bias = nn::LinearConfig {
            bias: false,
            ..Default::default()
        };
        let a = match kind {
            AttentionKind::Bahdanau => {
                if attn_dim < 1 {
                    return Err(RnnError::Config(format!(
                        "attention size must be >= 1, got {attn_dim}"
                    )));
                }
                Attention {
                    kind,
                    w_query: Some(nn::linear(p / "w_query", query_dim, attn_dim, no_bias)),
                    w_key: Some(nn::linear(
                        p / "w_key",
                        key_dim,
                        attn_dim,
                        Default::default(),
                    )),
                    v: Some(nn::linear(p / "v", attn_dim, 1, no_bias)),
                }
            }
            AttentionKind::LuongGeneral => Attention {
                kind,
                w_query: None,
                w_key: Some(nn::linear(p / "w_a", key_dim, query_dim, no_bias)),
                v: None,
            },
            AttentionKind::LuongDot => {
                if query_dim != key_dim {
                    return Err(RnnError::Config(format!(
                        "dot attention needs equal query and key sizes, got {query_dim} and {key_dim}"
                    )));
                }
                Attention {
                    kind,
                    w_query: None,
                    w_key: None,
                    v: None,
                }
            }
        };
        Ok(a)
    }

    pub fn kind(&self) -> AttentionKind {
        self.kind
    }

    /// Projects the encoder outputs `[B, S, K]` once for all decoder steps.
    pub fn prepare(&self, keys: &Tensor) -> PreparedKeys {
        let projected = match &self.w_key {
            Some(w) => keys.apply(w),
            None => keys.shallow_clone(),
        };
        PreparedKeys {
            values: keys.shallow_clone(),
            projected,
        }
    }

    /// Raw scores `[B, S]` before masking and softmax.
    pub fn scores(&self, query: &Tensor, keys: &PreparedKeys) -> Tensor {
        match self.kind {
            AttentionKind::Bahdanau => {
                let q = query.apply(self.w_query.as_ref().expect("bahdanau has w_query"));
                (keys.projected.shallow_clone() + q.unsqueeze(1))
                    .tanh()
                    .apply(self.v.as_ref().expect("bahdanau has v"))
                    .squeeze_dim(-1)
            }
            AttentionKind::LuongGeneral | AttentionKind::LuongDot => {
                keys.projected.bmm(&query.unsqueeze(-1)).squeeze_dim(-1)
            }
        }
    }

    /// Context `[B, K]` and weights `[B, S]` for a query `[B, Q]`. `mask`
    /// `[B, S]` (bool, true = real position; see [`crate::length_mask`])
    /// keeps padding out of the softmax.
    pub fn attend(
        &self,
        query: &Tensor,
        keys: &PreparedKeys,
        mask: Option<&Tensor>,
    ) -> (Tensor, Tensor) {
        let mut scores = self.scores(query, keys);
        if let Some(m) = mask {
            scores = scores.masked_fill(&m.logical_not(), f64::NEG_INFINITY);
        }
        let weights = scores.softmax(-1, Kind::Float);
        let context = weights.unsqueeze(1).bmm(&keys.values).squeeze_dim(1);
        (context, weights)
    }

    /// [`Attention::prepare`] then [`Attention::attend`], for one step.
    pub fn forward(
        &self,
        query: &Tensor,
        keys: &Tensor,
        mask: Option<&Tensor>,
    ) -> (Tensor, Tensor) {
        self.attend(query, &self.prepare(keys), mask)
    }
}
