//! The attention encoder-decoder.
//!
//! Encoder: source embeddings → bidirectional GRU/LSTM ([`sori_rnn::Encoder`]);
//! its outputs `[B, S, 2H]` are the attention keys and values, and its final
//! forward and backward states, through a `tanh` layer, start the decoder.
//!
//! Decoder, one target piece per step, in one of the two classic forms
//! (the attention module is [`sori_rnn::Attention`]):
//! - Bahdanau (additive): the previous decoder state queries the source,
//!   `c_t = attn(s_{t-1})`, then `s_t = RNN([emb(y_{t-1}); c_t], s_{t-1})` and
//!   the output vector is `o_t = tanh(W [s_t; c_t; emb(y_{t-1})])`.
//! - Luong (general or dot): `h_t = RNN([emb(y_{t-1}); o_{t-1}], h_{t-1})`
//!   ("input feeding"), `c_t = attn(h_t)`, `o_t = tanh(W [h_t; c_t])`.
//!
//! `o_t` has the embedding size, so the output layer can share its weight
//! with the target embedding (`tie_embeddings`, Press & Wolf 2017), which
//! saves `V × E` parameters and regularises small-data runs. Training uses
//! teacher forcing (the reference piece is the next input), dropout on
//! embeddings and output vectors, and label-smoothed cross-entropy.

use serde::{Deserialize, Serialize};
use sori_rnn::{
    length_mask, Attention, AttentionKind, Cell, Encoder, EncoderConfig, PreparedKeys, State,
};
use tch::{nn, nn::Module, Device, Kind, Tensor};

use crate::error::{Result, Seq2SeqError};
use crate::subword::PAD;

/// Largest sub-word vocabulary of either side.
pub const MAX_VOCAB: i64 = 1 << 20;

/// Architecture, stored in the model directory's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub src_vocab: i64,
    pub tgt_vocab: i64,
    /// Embedding size (also the size of the decoder's output vector).
    pub emb_dim: i64,
    /// Encoder units per direction.
    pub enc_hidden: i64,
    pub enc_layers: i64,
    /// Decoder units.
    pub dec_hidden: i64,
    pub cell: Cell,
    pub attention: AttentionKind,
    /// Bahdanau attention size.
    pub attn_dim: i64,
    pub dropout: f64,
    pub tie_embeddings: bool,
}

impl ModelConfig {
    /// A small default for the given vocabularies.
    pub fn new(src_vocab: i64, tgt_vocab: i64) -> ModelConfig {
        ModelConfig {
            src_vocab,
            tgt_vocab,
            emb_dim: 256,
            enc_hidden: 256,
            enc_layers: 1,
            dec_hidden: 256,
            cell: Cell::Gru,
            attention: AttentionKind::Bahdanau,
            attn_dim: 256,
            dropout: 0.2,
            tie_embeddings: true,
        }
    }

    /// An upper bound on the parameters of the model this configuration
    /// builds, computed before anything is allocated (`None` on overflow).
    pub fn parameters(&self) -> Option<i64> {
        let key_dim = self.enc_hidden.checked_mul(2)?;
        let enc = EncoderConfig::new(self.cell, self.emb_dim, self.enc_hidden)
            .layers(self.enc_layers)
            .bidirectional(true)
            .parameters()?;
        let dec_input = self.emb_dim.checked_add(key_dim.max(self.emb_dim))?;
        let dec = EncoderConfig::new(self.cell, dec_input, self.dec_hidden).parameters()?;
        let emb = self
            .src_vocab
            .checked_add(self.tgt_vocab)?
            .checked_mul(self.emb_dim)?;
        let bridge = key_dim.checked_add(1)?.checked_mul(self.dec_hidden)?;
        let attn = self
            .dec_hidden
            .checked_add(key_dim)?
            .checked_add(1)?
            .checked_mul(self.attn_dim.max(key_dim))?;
        let combine = self
            .dec_hidden
            .checked_add(key_dim)?
            .checked_add(self.emb_dim)?
            .checked_add(1)?
            .checked_mul(self.emb_dim)?;
        let out = self.emb_dim.checked_add(1)?.checked_mul(self.tgt_vocab)?;
        [enc, dec, emb, bridge, attn, combine, out]
            .into_iter()
            .try_fold(0i64, |a, b| a.checked_add(b))
    }

    /// Checks every size against its limit (vocabularies up to
    /// [`MAX_VOCAB`], layers up to [`sori_rnn::MAX_LAYERS`], other sizes up
    /// to [`sori_rnn::MAX_SIZE`], the whole model up to
    /// [`sori_rnn::MAX_PARAMETERS`]) before anything is allocated.
    pub(crate) fn validate(&self) -> Result<()> {
        for (name, v, max) in [
            ("source vocabulary", self.src_vocab, MAX_VOCAB),
            ("target vocabulary", self.tgt_vocab, MAX_VOCAB),
            ("embedding size", self.emb_dim, sori_rnn::MAX_SIZE),
            ("encoder size", self.enc_hidden, sori_rnn::MAX_SIZE),
            ("encoder layers", self.enc_layers, sori_rnn::MAX_LAYERS),
            ("decoder size", self.dec_hidden, sori_rnn::MAX_SIZE),
            ("attention size", self.attn_dim, sori_rnn::MAX_SIZE),
        ] {
            if !(1..=max).contains(&v) {
                return Err(Seq2SeqError::Config(format!(
                    "{name} must be from 1 to {max}, got {v}"
                )));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Seq2SeqError::Config(format!(
                "dropout must be in [0, 1), got {}",
                self.dropout
            )));
        }
        match self.parameters() {
            Some(n) if n <= sori_rnn::MAX_PARAMETERS => Ok(()),
            n => Err(Seq2SeqError::Config(format!(
                "a model of {} parameters is larger than the limit of {}",
                n.map_or("too many".to_string(), |n| n.to_string()),
                sori_rnn::MAX_PARAMETERS
            ))),
        }
    }
}

/// The encoder's result for a batch, ready for decoding.
pub struct Encoded {
    pub keys: PreparedKeys,
    /// `[B, S]` true at real source positions.
    pub mask: Tensor,
    /// Initial decoder state.
    pub state: State,
    pub src_lengths: Vec<i64>,
}

impl Encoded {
    /// Repeats every sequence `k` times along the batch (beam search).
    pub fn repeat(&self, k: i64, attn: &Attention) -> Encoded {
        let values = self.keys.values.repeat_interleave_self_int(k, 0, None);
        Encoded {
            keys: attn.prepare(&values),
            mask: self.mask.repeat_interleave_self_int(k, 0, None),
            state: State {
                h: self.state.h.repeat_interleave_self_int(k, 1, None),
                c: self
                    .state
                    .c
                    .as_ref()
                    .map(|c| c.repeat_interleave_self_int(k, 1, None)),
            },
            src_lengths: self
                .src_lengths
                .iter()
                .flat_map(|&l| std::iter::repeat_n(l, k as usize))
                .collect(),
        }
    }
}

/// Decoder state between steps.
pub struct DecoderState {
    pub rnn: State,
    /// Luong's previous output vector (input feeding); zeros at the start.
    pub feed: Tensor,
}

impl DecoderState {
    /// Keeps the rows `index` (beam reordering).
    pub fn select(&self, index: &Tensor) -> DecoderState {
        DecoderState {
            rnn: State {
                h: self.rnn.h.index_select(1, index),
                c: self.rnn.c.as_ref().map(|c| c.index_select(1, index)),
            },
            feed: self.feed.index_select(0, index),
        }
    }
}

/// The network; its variables live in the [`nn::VarStore`] it was built on.
#[derive(Debug)]
pub struct Seq2Seq {
    pub config: ModelConfig,
    src_emb: nn::Embedding,
    tgt_emb: nn::Embedding,
    encoder: Encoder,
    bridge: nn::Linear,
    decoder: Encoder,
    pub attention: Attention,
    combine: nn::Linear,
    out_weight: Option<nn::Linear>,
    out_bias: Tensor,
    device: Device,
}

impl Seq2Seq {
    /// Creates the variables under `p`.
    pub fn new(p: &nn::Path, config: &ModelConfig) -> Result<Seq2Seq> {
        config.validate()?;
        let c = config;
        let emb_cfg = nn::EmbeddingConfig {
            ws_init: nn::Init::Randn {
                mean: 0.0,
                stdev: (c.emb_dim as f64).powf(-0.5),
            },
            padding_idx: PAD,
            ..Default::default()
        };
        let src_emb = nn::embedding(p / "src_emb", c.src_vocab, c.emb_dim, emb_cfg);
        let tgt_emb = nn::embedding(p / "tgt_emb", c.tgt_vocab, c.emb_dim, emb_cfg);
        let enc_cfg = EncoderConfig::new(c.cell, c.emb_dim, c.enc_hidden)
            .layers(c.enc_layers)
            .bidirectional(true)
            .dropout(if c.enc_layers > 1 { c.dropout } else { 0.0 });
        let encoder = Encoder::new(&(p / "encoder"), &enc_cfg)?;
        let key_dim = 2 * c.enc_hidden;
        let bridge = nn::linear(p / "bridge", key_dim, c.dec_hidden, Default::default());
        let (dec_input, combine_input) = match c.attention {
            AttentionKind::Bahdanau => (c.emb_dim + key_dim, c.dec_hidden + key_dim + c.emb_dim),
            AttentionKind::LuongGeneral | AttentionKind::LuongDot => {
                (2 * c.emb_dim, c.dec_hidden + key_dim)
            }
        };
        let decoder = Encoder::new(
            &(p / "decoder"),
            &EncoderConfig::new(c.cell, dec_input, c.dec_hidden),
        )?;
        let attention = Attention::new(
            &(p / "attention"),
            c.attention,
            c.dec_hidden,
            key_dim,
            c.attn_dim,
        )?;
        let combine = nn::linear(p / "combine", combine_input, c.emb_dim, Default::default());
        let no_bias = nn::LinearConfig {
            bias: false,
            ..Default::default()
        };
        let out_weight =
            (!c.tie_embeddings).then(|| nn::linear(p / "out", c.emb_dim, c.tgt_vocab, no_bias));
        let out_bias = p.zeros("out_bias", &[c.tgt_vocab]);
        Ok(Seq2Seq {
            config: c.clone(),
            src_emb,
            tgt_emb,
            encoder,
            bridge,
            decoder,
            attention,
            combine,
            out_weight,
            out_bias,
            device: p.device(),
        })
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// Encodes a padded source batch `[B, S]` (int64) with its lengths.
    pub fn encode(&self, src: &Tensor, lengths: &[i64], train: bool) -> Result<Encoded> {
        let x = self
            .src_emb
            .forward(src)
            .dropout(self.config.dropout, train);
        let out = self.encoder.forward(&x, lengths, train)?;
        let s = out.outputs.size()[1];
        let sentence = out.state.last_layer_h(2);
        let h0 = sentence.apply(&self.bridge).tanh().unsqueeze(0);
        let c0 = (self.config.cell == Cell::Lstm).then(|| h0.zeros_like());
        Ok(Encoded {
            keys: self.attention.prepare(&out.outputs),
            mask: length_mask(&out.lengths, s, self.device),
            state: State { h: h0, c: c0 },
            src_lengths: out.lengths,
        })
    }

    /// The decoder's starting state for `enc`.
    pub fn start(&self, enc: &Encoded) -> DecoderState {
        let b = enc.state.h.size()[1];
        DecoderState {
            rnn: enc.state.shallow_clone(),
            feed: Tensor::zeros([b, self.config.emb_dim], (Kind::Float, self.device)),
        }
    }

    /// One decoder step: previous pieces `y_prev` `[B]` → output vector
    /// `[B, E]` (before the vocabulary layer), new state, attention weights
    /// `[B, S]`.
    pub fn step(
        &self,
        y_prev: &Tensor,
        state: &DecoderState,
        enc: &Encoded,
        train: bool,
    ) -> Result<(Tensor, DecoderState, Tensor)> {
        let p = self.config.dropout;
        let emb = self.tgt_emb.forward(y_prev).dropout(p, train);
        let (out, rnn, weights) = match self.config.attention {
            AttentionKind::Bahdanau => {
                let query = state.rnn.h.get(0);
                let (ctx, w) = self.attention.attend(&query, &enc.keys, Some(&enc.mask));
                let input = Tensor::cat(&[&emb, &ctx], 1);
                let (h, rnn) = self.decoder.step_train(&input, Some(&state.rnn), train)?;
                let o = Tensor::cat(&[&h, &ctx, &emb], 1)
                    .apply(&self.combine)
                    .tanh();
                (o, rnn, w)
            }
            AttentionKind::LuongGeneral | AttentionKind::LuongDot => {
                let input = Tensor::cat(&[&emb, &state.feed], 1);
                let (h, rnn) = self.decoder.step_train(&input, Some(&state.rnn), train)?;
                let (ctx, w) = self.attention.attend(&h, &enc.keys, Some(&enc.mask));
                let o = Tensor::cat(&[&h, &ctx], 1).apply(&self.combine).tanh();
                (o, rnn, w)
            }
        };
        let next = DecoderState {
            feed: out.shallow_clone(),
            rnn,
        };
        Ok((out, next, weights))
    }

    /// Vocabulary logits of output vectors `[..., E]` → `[..., V]`.
    pub fn logits(&self, out: &Tensor, train: bool) -> Tensor {
        let out = out.dropout(self.config.dropout, train);
        let z = match &self.out_weight {
            Some(l) => out.apply(l),
            None => out.matmul(&self.tgt_emb.ws.tr()),
        };
        z + &self.out_bias
    }

    /// Teacher-forced logits `[B, T, V]` for decoder inputs `tgt_in` `[B, T]`
    /// (`<s>` followed by the reference without its last piece).
    pub fn forward(
        &self,
        src: &Tensor,
        src_lengths: &[i64],
        tgt_in: &Tensor,
        train: bool,
    ) -> Result<Tensor> {
        let enc = self.encode(src, src_lengths, train)?;
        let mut state = self.start(&enc);
        let t = tgt_in.size()[1];
        let mut outs = Vec::with_capacity(t as usize);
        for i in 0..t {
            let y = tgt_in.select(1, i);
            let (o, next, _) = self.step(&y, &state, &enc, train)?;
            outs.push(o);
            state = next;
        }
        let outs = Tensor::stack(&outs, 1);
        Ok(self.logits(&outs, train))
    }

    /// Mean label-smoothed cross-entropy over the non-padding targets.
    pub fn loss(logits: &Tensor, tgt_out: &Tensor, label_smoothing: f64) -> Tensor {
        let v = logits.size()[2];
        logits.reshape([-1, v]).cross_entropy_loss::<Tensor>(
            &tgt_out.reshape([-1]),
            None,
            tch::Reduction::Mean,
            PAD,
            label_smoothing,
        )
    }
}
