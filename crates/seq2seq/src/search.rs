//! Decoding: batched greedy search (validation during training) and beam
//! search with length normalisation (translation).
//!
//! Beam search keeps the `k` best partial translations by summed
//! log-probability. A hypothesis whose `</s>` is among the `k` best
//! candidates of a step is finished and scored by
//! its log-probability divided by the GNMT length penalty
//! `((5 + len) / 6)^alpha`: without it the search prefers short outputs,
//! because every extra piece can only lower a sum of log-probabilities. The
//! search stops when `k` hypotheses are finished or at the length limit.
//!
//! Both searches see the network only through [`StepModel`] (next-piece
//! logits for a batch of prefixes), which [`Seq2Seq`] implements; the tests
//! (`tests/search_oracle.rs`) drive them with hand-made distributions.

use tch::{Device, Kind, Tensor};

use crate::error::Result;
use crate::model::{DecoderState, Encoded, Seq2Seq};
use crate::subword::{BOS, EOS};

/// What the searches need from a model: encode a padded batch once, then
/// give next-piece logits for the rows' prefixes one step at a time.
pub trait StepModel {
    /// The encoded source batch.
    type Source;
    /// The per-row decoding state (the prefix so far, in effect).
    type State;
    /// Where the search's tensors live.
    fn device(&self) -> Device;
    /// Encodes `src` `[B, S]` whose rows have `lengths` real pieces.
    fn encode_source(&self, src: &Tensor, lengths: &[i64]) -> Result<Self::Source>;
    /// Repeats every row `k` times, consecutively (beam search).
    fn repeat_source(&self, src: &Self::Source, k: i64) -> Self::Source;
    /// The state before `<s>` has been read.
    fn start_state(&self, src: &Self::Source) -> Self::State;
    /// Reads the pieces `y` `[B]` (one per row): logits `[B, V]` of the next
    /// piece, the state after `y`, attention weights `[B, S]`.
    fn next_logits(
        &self,
        y: &Tensor,
        state: &Self::State,
        src: &Self::Source,
    ) -> Result<(Tensor, Self::State, Tensor)>;
    /// Keeps the rows `index` of a state, in that order.
    fn select_rows(&self, state: &Self::State, index: &Tensor) -> Self::State;
}

impl StepModel for Seq2Seq {
    type Source = Encoded;
    type State = DecoderState;
    fn device(&self) -> Device {
        Seq2Seq::device(self)
    }
    fn encode_source(&self, src: &Tensor, lengths: &[i64]) -> Result<Encoded> {
        self.encode(src, lengths, false)
    }
    fn repeat_source(&self, src: &Encoded, k: i64) -> Encoded {
        src.repeat(k, &self.attention)
    }
    fn start_state(&self, src: &Encoded) -> DecoderState {
        self.start(src)
    }
    fn next_logits(
        &self,
        y: &Tensor,
        state: &DecoderState,
        src: &Encoded,
    ) -> Result<(Tensor, DecoderState, Tensor)> {
        let (o, next, w) = self.step(y, state, src, false)?;
        Ok((self.logits(&o, false), next, w))
    }
    fn select_rows(&self, state: &DecoderState, index: &Tensor) -> DecoderState {
        state.select(index)
    }
}

/// The length limit for a source of `src_len` pieces.
pub fn length_limit(src_len: usize, max_len: usize) -> usize {
    (2 * src_len + 10).min(max_len).max(1)
}

/// Greedy decoding of a padded batch; returns the pieces of each sentence
/// without `</s>`.
pub fn greedy<M: StepModel + ?Sized>(
    model: &M,
    src: &Tensor,
    lengths: &[i64],
    max_len: usize,
) -> Result<Vec<Vec<i64>>> {
    let b = lengths.len();
    let enc = model.encode_source(src, lengths)?;
    let mut state = model.start_state(&enc);
    let device = model.device();
    let mut y = Tensor::full([b as i64], BOS, (Kind::Int64, device));
    let limits: Vec<usize> = lengths
        .iter()
        .map(|&l| length_limit(l as usize, max_len))
        .collect();
    let steps = limits.iter().copied().max().unwrap_or(1);
    let mut out: Vec<Vec<i64>> = vec![Vec::new(); b];
    let mut done = vec![false; b];
    for t in 0..steps {
        let (logits, next, _) = model.next_logits(&y, &state, &enc)?;
        let next_y = logits.argmax(-1, false);
        let ids: Vec<i64> = Vec::<i64>::try_from(&next_y.to_device(tch::Device::Cpu))?;
        for (i, &id) in ids.iter().enumerate() {
            if done[i] {
                continue;
            }
            if id == EOS || t >= limits[i] {
                done[i] = true;
            } else {
                out[i].push(id);
            }
        }
        if done.iter().all(|&d| d) {
            break;
        }
        state = next;
        y = next_y;
    }
    Ok(out)
}

/// A finished translation from [`beam_search`].
#[derive(Debug, Clone)]
pub struct Hypothesis {
    /// Target pieces without `<s>` and `</s>`.
    pub tokens: Vec<i64>,
    /// Length-normalised log-probability.
    pub score: f64,
    /// Summed log-probability.
    pub log_prob: f64,
    /// Attention weights per output piece (including `</s>`), each over the
    /// source pieces; empty unless requested.
    pub attention: Vec<Vec<f32>>,
}

/// GNMT length penalty.
pub fn length_penalty(len: usize, alpha: f64) -> f64 {
    ((5.0 + len as f64) / 6.0).powf(alpha)
}

/// Beam search for one source sentence (piece ids, `</s>` included).
pub fn beam_search<M: StepModel + ?Sized>(
    model: &M,
    src_ids: &[i64],
    beam: usize,
    max_len: usize,
    alpha: f64,
    keep_attention: bool,
) -> Result<Hypothesis> {
    let k = beam.max(1);
    let device = model.device();
    let s = src_ids.len().max(1) as i64;
    let src = Tensor::from_slice(src_ids)
        .reshape([1, s])
        .to_device(device);
    let enc = model.encode_source(&src, &[s])?;
    let enc = model.repeat_source(&enc, k as i64);
    let mut state = model.start_state(&enc);
    let limit = length_limit(src_ids.len(), max_len);

    let mut tokens: Vec<Vec<i64>> = vec![Vec::new(); k];
    let mut attn: Vec<Vec<Vec<f32>>> = vec![Vec::new(); k];
    // Only the first beam is live at the start, so the k copies of the same
    // prefix do not fill the beam with duplicates.
    let mut scores: Vec<f64> = (0..k)
        .map(|i| if i == 0 { 0.0 } else { f64::NEG_INFINITY })
        .collect();
    let mut y = Tensor::full([k as i64], BOS, (Kind::Int64, device));
    let mut finished: Vec<Hypothesis> = Vec::new();

    for t in 0..limit {
        let (logits, next, w) = model.next_logits(&y, &state, &enc)?;
        let logp = logits.log_softmax(-1, Kind::Float);
        let v = logp.size()[1];
        let prev = Tensor::from_slice(&scores)
            .to_kind(Kind::Float)
            .to_device(device)
            .unsqueeze(1);
        let total = (logp + prev).reshape([-1]);
        let (vals, idx) = total.topk((2 * k) as i64, -1, true, true);
        let vals: Vec<f32> = Vec::try_from(&vals.to_device(tch::Device::Cpu))?;
        let idx: Vec<i64> = Vec::try_from(&idx.to_device(tch::Device::Cpu))?;
        let weights: Vec<Vec<f32>> = if keep_attention {
            let w = w.to_device(tch::Device::Cpu);
            (0..k as i64)
                .map(|i| Vec::<f32>::try_from(&w.get(i)).unwrap_or_default())
                .collect()
        } else {
            Vec::new()
        };
        let last_step = t + 1 == limit;
        let mut new_beams: Vec<(usize, i64, f64)> = Vec::with_capacity(k);
        for (rank, (&val, &ix)) in vals.iter().zip(&idx).enumerate() {
            let score = val as f64;
            if !score.is_finite() {
                continue;
            }
            let (b, tok) = ((ix / v) as usize, ix % v);
            // Only the k best candidates may finish (as in fairseq): the
            // other k are there to keep k beams alive when some of the best
            // end, and a `</s>` ranked below k would end the search on an
            // output the beam never chose (beam 1 would not be greedy).
            if rank >= k && (tok == EOS || last_step) {
                continue;
            }
            if tok == EOS || last_step {
                let mut toks = tokens[b].clone();
                if tok != EOS {
                    toks.push(tok);
                }
                let mut a = if keep_attention {
                    attn[b].clone()
                } else {
                    Vec::new()
                };
                if keep_attention {
                    a.push(weights[b].clone());
                }
                finished.push(Hypothesis {
                    score: score / length_penalty(toks.len() + 1, alpha),
                    tokens: toks,
                    log_prob: score,
                    attention: a,
                });
            } else if new_beams.len() < k {
                new_beams.push((b, tok, score));
            }
        }
        if finished.len() >= k || new_beams.is_empty() || last_step {
            break;
        }
        // Pad with dead beams if fewer than k survived (tiny vocabularies).
        while new_beams.len() < k {
            new_beams.push((new_beams[0].0, new_beams[0].1, f64::NEG_INFINITY));
        }
        let origin: Vec<i64> = new_beams.iter().map(|&(b, _, _)| b as i64).collect();
        tokens = new_beams
            .iter()
            .map(|&(b, tok, _)| {
                let mut t = tokens[b].clone();
                t.push(tok);
                t
            })
            .collect();
        if keep_attention {
            attn = new_beams
                .iter()
                .map(|&(b, _, _)| {
                    let mut a = attn[b].clone();
                    a.push(weights[b].clone());
                    a
                })
                .collect();
        }
        scores = new_beams.iter().map(|&(_, _, s)| s).collect();
        let index = Tensor::from_slice(&origin).to_device(device);
        state = model.select_rows(&next, &index);
        let toks: Vec<i64> = new_beams.iter().map(|&(_, tok, _)| tok).collect();
        y = Tensor::from_slice(&toks).to_device(device);
    }
    let best = finished
        .into_iter()
        .max_by(|a, b| a.score.total_cmp(&b.score))
        .unwrap_or(Hypothesis {
            tokens: Vec::new(),
            score: f64::NEG_INFINITY,
            log_prob: f64::NEG_INFINITY,
            attention: Vec::new(),
        });
    Ok(best)
}
