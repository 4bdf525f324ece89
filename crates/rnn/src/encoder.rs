//! The recurrent encoder: one configurable stack of RNN, LSTM or GRU layers on
//! libtorch's fused kernels, correct for padded batches.
//!
//! Why not `tch::nn::lstm`: it has no plain RNN, no packed-sequence path and
//! no lengths, so a padded batch would run the backward direction over the
//! padding and report the state after the padding as the "final" state. Here
//! a batch whose sequences all have the full length goes straight to the fused
//! kernel (fast path, used by the benchmarks), and any other batch is sorted by
//! length, packed (`_pack_padded_sequence`), run through the `*_data` kernels
//! and unpacked, so every sequence sees exactly its own frames in both
//! directions and its final state is the one after its last real frame.
//!
//! Weight layout (identical to PyTorch `nn.LSTM`/`nn.GRU`/`nn.RNN`, so the
//! names in a checkpoint are `weight_ih_l{k}[_reverse]`, `weight_hh_l{k}...`,
//! `bias_ih_l{k}...`, `bias_hh_l{k}...`):
//!
//! - LSTM: rows of `weight_ih` ([4H, I]) and `weight_hh` ([4H, H]) are the
//!   lecture's gates stacked in the order input `i`, forget `f`, candidate
//!   `g` (the lecture's c̃), output `o`:
//!   `i = σ(W_ii x + b_ii + W_hi h + b_hi)`, `f = σ(W_if x + b_if + W_hf h + b_hf)`,
//!   `g = tanh(W_ig x + b_ig + W_hg h + b_hg)`, `o = σ(W_io x + b_io + W_ho h + b_ho)`,
//!   `c' = f∘c + i∘g`, `h' = o∘tanh(c')`.
//! - GRU: rows are reset `r`, update `z`, new `n` (the lecture's h̃):
//!   `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h + b_hz)`,
//!   `n = tanh(W_in x + b_in + r∘(W_hn h + b_hn))`, `h' = (1−z)∘n + z∘h`.
//!   Note r multiplies `W_hn h + b_hn` (after the matrix product), as in cuDNN
//!   and Keras' `reset_after=True`, not `W_hn (r∘h)` as in the original paper.
//! - RNN: `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)` (or ReLU).
//!
//! libtorch keeps two bias vectors (`b_i*` and `b_h*`) where the lecture and
//! Keras' LSTM have one; see [`crate::summary`] for what that does to
//! parameter counts.
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use tch::{nn, Device, Kind, Tensor};

use crate::RnnError;

/// The recurrent cell of every layer of an [`Encoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// Elman RNN with tanh (Keras `SimpleRNN`).
    RnnTanh,
    /// Elman RNN with ReLU.
    RnnRelu,
    /// Long short-term memory.
    Lstm,
    /// Gated recurrent unit (PyTorch/cuDNN variant, see the module docs).
    Gru,
}

impl Cell {
    /// Number of gate blocks stacked in the weight matrices (4 for LSTM,
    /// 3 for GRU, 1 for a plain RNN).
    pub fn gates(self) -> i64 {
        match self {
            Cell::RnnTanh | Cell::RnnRelu => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }

    /// Short lowercase name, as accepted by `FromStr` and used in configs.
    pub fn name(self) -> &'static str {
        match self {
            Cell::RnnTanh => "rnn",
            Cell::RnnRelu => "rnn_relu",
            Cell::Lstm => "lstm",
            Cell::Gru => "gru",
        }
    }

    /// Keras-style layer type name for summaries.
    pub fn layer_type(self) -> &'static str {
        match self {
            Cell::RnnTanh | Cell::RnnRelu => "SimpleRNN",
            Cell::Lstm => "LSTM",
            Cell::Gru => "GRU",
        }
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Cell {
    type Err = RnnError;
    /// Accepts `rnn` (= `rnn_tanh`, `simplernn`), `rnn_relu`, `lstm`, `gru`
    /// (case-insensitive, `-` or `_`).
    fn from_str(s: &str) -> Result<Self, RnnError> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "rnn" | "rnn_tanh" | "simplernn" | "simple_rnn" => Ok(Cell::RnnTanh),
            "rnn_relu" => Ok(Cell::RnnRelu),
            "lstm" => Ok(Cell::Lstm),
            "gru" => Ok(Cell::Gru),
            _ => Err(RnnError::Config(format!(
                "unknown cell {s:?} (expected rnn, rnn_relu, lstm or gru)"
            ))),
        }
    }
}

/// Frame subsampling applied to the input before the first layer (speech:
/// 100 frames/s is more time resolution than characters need).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subsample {
    /// Keep every frame.
    #[default]
    None,
    /// Concatenate each group of `k` consecutive frames into one frame of
    /// `k * input` features (the last group is zero-padded); length becomes
    /// `ceil(len / k)`.
    Stack(i64),
    /// Keep frames `0, k, 2k, ...`; length becomes `ceil(len / k)`.
    Stride(i64),
}

impl Subsample {
    fn factor(self) -> i64 {
        match self {
            Subsample::None => 1,
            Subsample::Stack(k) | Subsample::Stride(k) => k,
        }
    }
}

/// Largest input, hidden and projection size an [`EncoderConfig`] accepts.
pub const MAX_SIZE: i64 = 16_384;
/// Most stacked layers an [`EncoderConfig`] accepts.
pub const MAX_LAYERS: i64 = 64;
/// Largest frame subsampling (stacking or stride) factor.
pub const MAX_SUBSAMPLE: i64 = 64;
/// Most parameters a model may have (2^30, 4 GiB of `f32`): encoders and
/// the applications' whole models are checked against it before anything
/// is allocated, so an absurd size in a command line or a `config.json` is
/// a one-line error instead of an allocation failure.
pub const MAX_PARAMETERS: i64 = 1 << 30;

/// Architecture of an [`Encoder`]; serialisable so it can live in a model
/// directory's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderConfig {
    pub cell: Cell,
    /// Features per input frame (before subsampling).
    pub input: i64,
    /// Hidden units per direction.
    pub hidden: i64,
    /// Stacked layers (>= 1).
    pub layers: i64,
    pub bidirectional: bool,
    /// Dropout between stacked layers (libtorch semantics: not after the last).
    pub dropout: f64,
    /// Optional linear projection of the outputs to this many features.
    #[serde(default)]
    pub projection: Option<i64>,
    #[serde(default)]
    pub subsample: Subsample,
}

impl EncoderConfig {
    /// One unidirectional layer, no dropout, no projection, no subsampling.
    pub fn new(cell: Cell, input: i64, hidden: i64) -> Self {
        EncoderConfig {
            cell,
            input,
            hidden,
            layers: 1,
            bidirectional: false,
            dropout: 0.0,
            projection: None,
            subsample: Subsample::None,
        }
    }
    pub fn layers(mut self, layers: i64) -> Self {
        self.layers = layers;
        self
    }
    pub fn bidirectional(mut self, yes: bool) -> Self {
        self.bidirectional = yes;
        self
    }
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }
    pub fn projection(mut self, dim: Option<i64>) -> Self {
        self.projection = dim;
        self
    }
    pub fn subsample(mut self, s: Subsample) -> Self {
        self.subsample = s;
        self
    }

    /// 2 when bidirectional, else 1.
    pub fn directions(&self) -> i64 {
        if self.bidirectional {
            2
        } else {
            1
        }
    }

    /// Features per output frame: the projection size, else `hidden * directions`.
    pub fn output_dim(&self) -> i64 {
        self.projection.unwrap_or(self.hidden * self.directions())
    }

    /// Features the first recurrent layer sees (after stacking).
    pub fn rnn_input_dim(&self) -> i64 {
        match self.subsample {
            Subsample::Stack(k) => self.input * k,
            _ => self.input,
        }
    }

    /// Number of parameters the encoder has (recurrent layers plus
    /// projection), computed from the configuration alone; `None` when it
    /// overflows (only for sizes [`EncoderConfig::validate`] refuses).
    pub fn parameters(&self) -> Option<i64> {
        let h = self.hidden;
        let gate_dim = self.cell.gates().checked_mul(h)?;
        let dirs = self.directions();
        let mut total: i64 = 0;
        for layer in 0..self.layers {
            let in_dim = if layer == 0 {
                match self.subsample {
                    Subsample::Stack(k) => self.input.checked_mul(k)?,
                    _ => self.input,
                }
            } else {
                h.checked_mul(dirs)?
            };
            let per_dir = gate_dim.checked_mul(in_dim.checked_add(h)?.checked_add(2)?)?;
            total = total.checked_add(per_dir.checked_mul(dirs)?)?;
        }
        if let Some(p) = self.projection {
            let proj = h.checked_mul(dirs)?.checked_add(1)?.checked_mul(p)?;
            total = total.checked_add(proj)?;
        }
        Some(total)
    }

    /// Checks sizes and probabilities against the limits [`MAX_SIZE`],
    /// [`MAX_LAYERS`], [`MAX_SUBSAMPLE`] and [`MAX_PARAMETERS`] (before
    /// anything is allocated); the error names the bad field.
    pub fn validate(&self) -> Result<(), RnnError> {
        let bad = |m: String| Err(RnnError::Config(m));
        for (name, v) in [("input size", self.input), ("hidden size", self.hidden)] {
            if !(1..=MAX_SIZE).contains(&v) {
                return bad(format!(
                    "encoder {name} must be from 1 to {MAX_SIZE}, got {v}"
                ));
            }
        }
        if !(1..=MAX_LAYERS).contains(&self.layers) {
            return bad(format!(
                "encoder layers must be from 1 to {MAX_LAYERS}, got {}",
                self.layers
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!(
                "encoder dropout must be in [0, 1), got {}",
                self.dropout
            ));
        }
        if let Some(p) = self.projection {
            if !(1..=MAX_SIZE).contains(&p) {
                return bad(format!(
                    "encoder projection must be from 1 to {MAX_SIZE}, got {p}"
                ));
            }
        }
        if !(1..=MAX_SUBSAMPLE).contains(&self.subsample.factor()) {
            return bad(format!(
                "encoder subsampling factor must be from 1 to {MAX_SUBSAMPLE}, got {}",
                self.subsample.factor()
            ));
        }
        match self.parameters() {
            Some(n) if n <= MAX_PARAMETERS => Ok(()),
            n => bad(format!(
                "encoder of {} parameters is larger than the limit of {MAX_PARAMETERS}",
                n.map_or("too many".to_string(), |n| n.to_string())
            )),
        }
    }
}

/// Recurrent state, shaped like libtorch's: `[layers * directions, B, H]`,
/// index `layer * directions + direction` (direction 1 = backward).
#[derive(Debug)]
pub struct State {
    pub h: Tensor,
    /// Cell state, LSTM only.
    pub c: Option<Tensor>,
}

impl State {
    /// `h` of the last layer, both directions concatenated: `[B, H * dirs]`
    /// (forward then backward), the usual sentence vector for a classifier.
    pub fn last_layer_h(&self, directions: i64) -> Tensor {
        let n = self.h.size()[0];
        let parts: Vec<Tensor> = (n - directions..n).map(|i| self.h.get(i)).collect();
        Tensor::cat(&parts, 1)
    }

    /// Shallow copy (shares storage).
    pub fn shallow_clone(&self) -> State {
        State {
            h: self.h.shallow_clone(),
            c: self.c.as_ref().map(|c| c.shallow_clone()),
        }
    }
}

/// What [`Encoder::forward`] returns.
#[derive(Debug)]
pub struct EncoderOutput {
    /// `[B, T', output_dim]`, batch first; zeros after each sequence's end.
    pub outputs: Tensor,
    /// Lengths after subsampling (equal to the input lengths without it).
    pub lengths: Vec<i64>,
    /// Final state: for each sequence, the state after its last real frame
    /// (forward direction) or after its first frame (backward direction).
    pub state: State,
}

/// A stack of recurrent layers; see the module docs for the equations and
/// the weight layout.
#[derive(Debug)]
pub struct Encoder {
    config: EncoderConfig,
    flat_weights: Vec<Tensor>,
    projection: Option<nn::Linear>,
    device: Device,
}

impl Encoder {
    /// Creates the weights under `p` with PyTorch's default initialisation
    /// (uniform in ±1/√hidden for every weight and bias).
    pub fn new(p: &nn::Path, config: &EncoderConfig) -> Result<Encoder, RnnError> {
        config.validate()?;
        let h = config.hidden;
        let gate_dim = config.cell.gates() * h;
        let bound = 1.0 / (h as f64).sqrt();
        let init = nn::Init::Uniform {
            lo: -bound,
            up: bound,
        };
        let dirs = config.directions();
        let mut flat_weights = Vec::new();
        for layer in 0..config.layers {
            let in_dim = if layer == 0 {
                config.rnn_input_dim()
            } else {
                h * dirs
            };
            for dir in 0..dirs {
                let sfx = if dir == 1 { "_reverse" } else { "" };
                // `f_var`: a failed allocation is an error, not a panic.
                let mut var = |name: String, dims: &[i64]| {
                    p.f_var(&name, dims, init)
                        .map(|t| flat_weights.push(t))
                        .map_err(|e| {
                            let e = e.to_string();
                            let first = e.lines().next().unwrap_or_default();
                            RnnError::Config(format!(
                                "cannot allocate the encoder's {name}: {first}"
                            ))
                        })
                };
                var(format!("weight_ih_l{layer}{sfx}"), &[gate_dim, in_dim])?;
                var(format!("weight_hh_l{layer}{sfx}"), &[gate_dim, h])?;
                var(format!("bias_ih_l{layer}{sfx}"), &[gate_dim])?;
                var(format!("bias_hh_l{layer}{sfx}"), &[gate_dim])?;
            }
        }
        let projection = config
            .projection
            .map(|dim| nn::linear(p / "projection", h * dirs, dim, nn::LinearConfig::default()));
        Ok(Encoder {
            config: config.clone(),
            flat_weights,
            projection,
            device: p.device(),
        })
    }

    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// Features per output frame.
    pub fn output_dim(&self) -> i64 {
        self.config.output_dim()
    }

    /// Re-initialises the recurrent weights as Keras does, for reproducing
    /// Keras experiments: input kernels Glorot-uniform (limit
    /// `sqrt(6 / (in + gates·hidden))`), recurrent kernels orthogonal (the
    /// `gates·hidden × hidden` matrix has orthonormal columns, i.e. Keras'
    /// `hidden × gates·hidden` kernel has orthonormal rows), biases zero
    /// except the LSTM forget gate's, which is 1 (`unit_forget_bias`; put in
    /// `bias_ih`, libtorch's second bias stays 0). The gate order of
    /// libtorch's LSTM (i, f, g, o) is Keras' (i, f, c, o). Uses the libtorch
    /// generator (`tch::manual_seed`).
    pub fn init_keras(&self) {
        let h = self.config.hidden;
        let gates = self.config.cell.gates();
        tch::no_grad(|| {
            for w in self.flat_weights.chunks(4) {
                let (mut w_ih, mut w_hh, mut b_ih, mut b_hh) = (
                    w[0].shallow_clone(),
                    w[1].shallow_clone(),
                    w[2].shallow_clone(),
                    w[3].shallow_clone(),
                );
                let fan_in = w_ih.size()[1];
                let limit = (6.0 / (fan_in + gates * h) as f64).sqrt();
                let _ = w_ih.uniform_(-limit, limit);
                let a = Tensor::randn([gates * h, h], (Kind::Float, w_hh.device()));
                let (q, r) = Tensor::linalg_qr(&a, "reduced");
                // Signs of R's diagonal make the distribution uniform (Haar).
                let q = q * r.diagonal(0, 0, 1).sign().unsqueeze(0);
                w_hh.copy_(&q.to_kind(w_hh.kind()));
                let _ = b_ih.zero_();
                let _ = b_hh.zero_();
                if self.config.cell == Cell::Lstm {
                    let _ = b_ih.narrow(0, h, h).fill_(1.0);
                }
            }
        });
    }

    /// Number of parameters (recurrent layers plus projection).
    pub fn param_count(&self) -> i64 {
        let rnn: i64 = self.flat_weights.iter().map(|t| t.numel() as i64).sum();
        let proj = self
            .projection
            .as_ref()
            .map(|l| l.ws.numel() as i64 + l.bs.as_ref().map_or(0, |b| b.numel() as i64))
            .unwrap_or(0);
        rnn + proj
    }

    /// A zero state for a batch of `batch` sequences.
    pub fn zero_state(&self, batch: i64) -> State {
        let shape = [
            self.config.layers * self.config.directions(),
            batch,
            self.config.hidden,
        ];
        let h = Tensor::zeros(shape, (Kind::Float, self.device));
        let c = (self.config.cell == Cell::Lstm).then(|| h.zeros_like());
        State { h, c }
    }

    /// Runs the encoder over a padded batch `xs` `[B, T, input]` (batch first)
    /// whose sequence `b` has `lengths[b]` real frames (1..=T). `train`
    /// enables dropout between layers.
    pub fn forward(
        &self,
        xs: &Tensor,
        lengths: &[i64],
        train: bool,
    ) -> Result<EncoderOutput, RnnError> {
        self.forward_with_state(xs, lengths, None, train)
    }

    /// As [`Encoder::forward`], starting from `initial` (zeros when `None`),
    /// e.g. a decoder initialised with the encoder's final state.
    pub fn forward_with_state(
        &self,
        xs: &Tensor,
        lengths: &[i64],
        initial: Option<&State>,
        train: bool,
    ) -> Result<EncoderOutput, RnnError> {
        let size = xs.size();
        if size.len() != 3 {
            return Err(RnnError::Shape(format!(
                "encoder input must be [batch, time, features], got {size:?}"
            )));
        }
        let (b, t, f) = (size[0], size[1], size[2]);
        if f != self.config.input {
            return Err(RnnError::Shape(format!(
                "encoder expects {} features per frame, got {f}",
                self.config.input
            )));
        }
        if lengths.len() as i64 != b {
            return Err(RnnError::Shape(format!(
                "{} lengths for a batch of {b} sequences",
                lengths.len()
            )));
        }
        if let Some((i, &l)) = lengths.iter().enumerate().find(|(_, &l)| l < 1 || l > t) {
            return Err(RnnError::Shape(format!(
                "sequence {i} has length {l}, outside 1..={t}"
            )));
        }
        let (xs, lengths) = self.subsample(xs, lengths);
        let t = xs.size()[1];
        let state0 = match initial {
            Some(s) => {
                self.check_state(s, b)?;
                s.shallow_clone()
            }
            None => self.zero_state(b),
        };
        let full = lengths.iter().all(|&l| l == t);
        let (mut outputs, state) = if full {
            self.run_full(&xs, &state0, train)
        } else {
            self.run_packed(&xs, &lengths, &state0, t, train)
        };
        if let Some(proj) = &self.projection {
            outputs = outputs.apply(proj);
            if !full {
                let mask = length_mask(&lengths, t, self.device).unsqueeze(-1);
                let kind = outputs.kind();
                outputs *= mask.to_kind(kind);
            }
        }
        Ok(EncoderOutput {
            outputs,
            lengths,
            state,
        })
    }

    /// One time step for every sequence of the batch: `x` `[B, input]`,
    /// returns the output `[B, output_dim]` and the new state. Meant for
    /// unidirectional decoders fed one token at a time.
    pub fn step(&self, x: &Tensor, state: Option<&State>) -> Result<(Tensor, State), RnnError> {
        let b = x.size()[0];
        let lengths = vec![1; b as usize];
        let out = self.forward_with_state(&x.unsqueeze(1), &lengths, state, false)?;
        Ok((out.outputs.squeeze_dim(1), out.state))
    }

    /// As [`Encoder::step`] but with dropout between layers when `train`.
    pub fn step_train(
        &self,
        x: &Tensor,
        state: Option<&State>,
        train: bool,
    ) -> Result<(Tensor, State), RnnError> {
        let b = x.size()[0];
        let lengths = vec![1; b as usize];
        let out = self.forward_with_state(&x.unsqueeze(1), &lengths, state, train)?;
        Ok((out.outputs.squeeze_dim(1), out.state))
    }

    fn check_state(&self, s: &State, b: i64) -> Result<(), RnnError> {
        let want = [
            self.config.layers * self.config.directions(),
            b,
            self.config.hidden,
        ];
        if s.h.size() != want {
            return Err(RnnError::Shape(format!(
                "initial state h is {:?}, expected {want:?}",
                s.h.size()
            )));
        }
        if (self.config.cell == Cell::Lstm) != s.c.is_some() {
            return Err(RnnError::Shape(
                "initial state must carry a cell state for an LSTM and only then".into(),
            ));
        }
        Ok(())
    }

    fn subsample(&self, xs: &Tensor, lengths: &[i64]) -> (Tensor, Vec<i64>) {
        let k = self.config.subsample.factor();
        if k == 1 {
            return (xs.shallow_clone(), lengths.to_vec());
        }
        let new_lengths = lengths.iter().map(|&l| (l + k - 1) / k).collect();
        let size = xs.size();
        let (b, t, f) = (size[0], size[1], size[2]);
        let xs = match self.config.subsample {
            Subsample::Stack(_) => {
                // Zero the padding first: the last group of a short sequence
                // would otherwise stack its real frames with padding frames.
                let xs = if lengths.iter().all(|&l| l == t) {
                    xs.shallow_clone()
                } else {
                    let mask = length_mask(lengths, t, xs.device()).unsqueeze(-1);
                    xs * mask.to_kind(xs.kind())
                };
                let t_pad = (t + k - 1) / k * k;
                let padded = if t_pad > t {
                    xs.constant_pad_nd([0, 0, 0, t_pad - t])
                } else {
                    xs
                };
                padded.reshape([b, t_pad / k, k * f])
            }
            Subsample::Stride(_) => xs.slice(1, 0, t, k),
            Subsample::None => unreachable!(),
        };
        (xs, new_lengths)
    }

    fn run_full(&self, xs: &Tensor, s: &State, train: bool) -> (Tensor, State) {
        let c = &self.config;
        let w: Vec<&Tensor> = self.flat_weights.iter().collect();
        let w = w.as_slice();
        let (layers, p, bi) = (c.layers, c.dropout, c.bidirectional);
        match c.cell {
            Cell::Lstm => {
                let hc = [&s.h, s.c.as_ref().expect("lstm state has c")];
                let (out, h, cc) = xs.lstm(&hc, w, true, layers, p, train, bi, true);
                (out, State { h, c: Some(cc) })
            }
            Cell::Gru => {
                let (out, h) = xs.gru(&s.h, w, true, layers, p, train, bi, true);
                (out, State { h, c: None })
            }
            Cell::RnnTanh => {
                let (out, h) = xs.rnn_tanh(&s.h, w, true, layers, p, train, bi, true);
                (out, State { h, c: None })
            }
            Cell::RnnRelu => {
                let (out, h) = xs.rnn_relu(&s.h, w, true, layers, p, train, bi, true);
                (out, State { h, c: None })
            }
        }
    }

    fn run_packed(
        &self,
        xs: &Tensor,
        lengths: &[i64],
        s: &State,
        t: i64,
        train: bool,
    ) -> (Tensor, State) {
        // Packing wants lengths sorted longest first; sort, run, unsort.
        let mut order: Vec<i64> = (0..lengths.len() as i64).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(lengths[i as usize]));
        let mut inverse = vec![0i64; order.len()];
        for (pos, &i) in order.iter().enumerate() {
            inverse[i as usize] = pos as i64;
        }
        let sorted_lengths: Vec<i64> = order.iter().map(|&i| lengths[i as usize]).collect();
        let order_t = Tensor::from_slice(&order).to_device(self.device);
        let inverse_t = Tensor::from_slice(&inverse).to_device(self.device);
        let xs_sorted = xs.index_select(0, &order_t);
        let (data, batch_sizes) =
            xs_sorted.internal_pack_padded_sequence(&Tensor::from_slice(&sorted_lengths), true);
        let h0 = s.h.index_select(1, &order_t);
        let c = &self.config;
        let w: Vec<&Tensor> = self.flat_weights.iter().collect();
        let w = w.as_slice();
        let (layers, p, bi) = (c.layers, c.dropout, c.bidirectional);
        let (out_data, h, cc) = match c.cell {
            Cell::Lstm => {
                let c0 =
                    s.c.as_ref()
                        .expect("lstm state has c")
                        .index_select(1, &order_t);
                let (o, h, cc) = Tensor::lstm_data(
                    &data,
                    &batch_sizes,
                    &[&h0, &c0],
                    w,
                    true,
                    layers,
                    p,
                    train,
                    bi,
                );
                (o, h, Some(cc))
            }
            Cell::Gru => {
                let (o, h) =
                    Tensor::gru_data(&data, &batch_sizes, &h0, w, true, layers, p, train, bi);
                (o, h, None)
            }
            Cell::RnnTanh => {
                let (o, h) =
                    Tensor::rnn_tanh_data(&data, &batch_sizes, &h0, w, true, layers, p, train, bi);
                (o, h, None)
            }
            Cell::RnnRelu => {
                let (o, h) =
                    Tensor::rnn_relu_data(&data, &batch_sizes, &h0, w, true, layers, p, train, bi);
                (o, h, None)
            }
        };
        let (padded, _) =
            Tensor::internal_pad_packed_sequence(&out_data, &batch_sizes, true, 0.0, t);
        let outputs = padded.index_select(0, &inverse_t);
        let state = State {
            h: h.index_select(1, &inverse_t),
            c: cc.map(|c| c.index_select(1, &inverse_t)),
        };
        (outputs, state)
    }
}

/// Boolean mask `[B, max_len]`, true at the real (non-padding) positions.
pub fn length_mask(lengths: &[i64], max_len: i64, device: Device) -> Tensor {
    let lens = Tensor::from_slice(lengths).to_device(device).unsqueeze(1);
    let pos = Tensor::arange(max_len, (Kind::Int64, device)).unsqueeze(0);
    pos.lt_tensor(&lens)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The count the limits are checked with is the count of the weights
    /// the encoder creates.
    #[test]
    fn parameters_match_the_created_weights() {
        for cell in [Cell::RnnTanh, Cell::Lstm, Cell::Gru] {
            for (layers, bi, sub, proj) in [
                (1, false, Subsample::None, None),
                (2, true, Subsample::Stack(3), None),
                (3, true, Subsample::Stride(2), Some(5)),
            ] {
                let cfg = EncoderConfig::new(cell, 7, 6)
                    .layers(layers)
                    .bidirectional(bi)
                    .subsample(sub)
                    .projection(proj);
                let vs = nn::VarStore::new(Device::Cpu);
                let enc = Encoder::new(&vs.root(), &cfg).unwrap();
                assert_eq!(cfg.parameters(), Some(enc.param_count()), "{cfg:?}");
            }
        }
    }

    #[test]
    fn sizes_above_the_limits_are_refused_before_allocating() {
        let ok = EncoderConfig::new(Cell::Gru, 40, 160).layers(3);
        assert!(ok.validate().is_ok());
        for (cfg, says) in [
            (ok.clone().layers(MAX_LAYERS + 1), "layers"),
            (
                EncoderConfig::new(Cell::Gru, 40, 1_000_000_000),
                "hidden size",
            ),
            (EncoderConfig::new(Cell::Gru, 1 << 40, 8), "input size"),
            (
                ok.clone().subsample(Subsample::Stack(1 << 40)),
                "subsampling",
            ),
            (ok.clone().projection(Some(MAX_SIZE + 1)), "projection"),
            (
                EncoderConfig::new(Cell::Lstm, MAX_SIZE, MAX_SIZE).layers(4),
                "parameters",
            ),
        ] {
            let e = cfg.validate().unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}
