//! A Keras-style model summary (layer, output shape, parameter count,
//! totals), the lecture's `model.summary()`.
//!
//! The application lists its layers (it knows their output shapes); the
//! counts come from the variables actually created, so they are exact for
//! libtorch's parameterisation. [`rnn_param_count`] gives the formula and
//! [`keras_rnn_param_count`] the Keras one, for comparing with the lecture.
//!
//! Why an LSTM(32) on 32 inputs has 8,448 parameters here and 8,320 in Keras:
//! each of the 4 gates has an input matrix (32×32), a recurrent matrix
//! (32×32) and bias. Keras keeps one bias vector per gate:
//! 4·(32·32 + 32·32 + 32) = 8,320. libtorch (like cuDNN) keeps two, `b_ih`
//! and `b_hh`: 4·(32·32 + 32·32 + 32 + 32) = 8,448. The two biases are
//! redundant for the LSTM and plain RNN (only their sum matters), so the
//! models are equally expressive. For the GRU the second bias is not
//! redundant (`b_hn` sits inside `r∘(W_hn h + b_hn)`), and Keras' default
//! `reset_after=True` GRU also has two, so the counts agree.
use std::fmt;
use tch::nn;

use crate::Cell;

/// One row of a [`Summary`].
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub name: String,
    /// Layer type, e.g. `Embedding`, `LSTM`, `Dense`.
    pub kind: String,
    /// Output shape; `None` is the batch (or any variable) dimension.
    pub output_shape: Vec<Option<i64>>,
    pub params: i64,
    pub trainable: bool,
}

/// A table of layers; `Display` prints it like Keras.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub title: String,
    pub rows: Vec<SummaryRow>,
}

impl Summary {
    pub fn new(title: impl Into<String>) -> Summary {
        Summary {
            title: title.into(),
            rows: Vec::new(),
        }
    }

    /// Adds a trainable layer.
    pub fn add(
        &mut self,
        name: impl Into<String>,
        kind: impl Into<String>,
        output_shape: &[Option<i64>],
        params: i64,
    ) -> &mut Summary {
        self.rows.push(SummaryRow {
            name: name.into(),
            kind: kind.into(),
            output_shape: output_shape.to_vec(),
            params,
            trainable: true,
        });
        self
    }

    /// Adds a layer whose parameters are the variables of `vs` named
    /// `prefix` or `prefix.*` (the `nn::Path` the layer was built under),
    /// counting frozen (no-grad) variables as non-trainable.
    pub fn add_from_vars(
        &mut self,
        name: impl Into<String>,
        kind: impl Into<String>,
        output_shape: &[Option<i64>],
        vs: &nn::VarStore,
        prefix: &str,
    ) -> &mut Summary {
        let (trainable, frozen) = count_params(vs, prefix);
        self.add(name, kind, output_shape, trainable + frozen);
        if frozen > 0 && trainable == 0 {
            self.rows.last_mut().expect("row just added").trainable = false;
        }
        self
    }

    pub fn total_params(&self) -> i64 {
        self.rows.iter().map(|r| r.params).sum()
    }

    pub fn trainable_params(&self) -> i64 {
        self.rows
            .iter()
            .filter(|r| r.trainable)
            .map(|r| r.params)
            .sum()
    }
}

/// Formats 8448 as `8,448`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn shape_str(shape: &[Option<i64>]) -> String {
    let parts: Vec<String> = shape
        .iter()
        .map(|d| d.map_or("None".to_string(), |v| v.to_string()))
        .collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layer_cells: Vec<String> = self
            .rows
            .iter()
            .map(|r| format!("{} ({})", r.name, r.kind))
            .collect();
        let shapes: Vec<String> = self
            .rows
            .iter()
            .map(|r| shape_str(&r.output_shape))
            .collect();
        let w1 = layer_cells
            .iter()
            .map(|s| s.len())
            .max()
            .unwrap_or(0)
            .max(27)
            + 2;
        let w2 = shapes.iter().map(|s| s.len()).max().unwrap_or(0).max(24) + 2;
        let w3 = 12;
        let width = w1 + w2 + w3;
        writeln!(f, "Model: \"{}\"", self.title)?;
        writeln!(f, "{}", "_".repeat(width))?;
        writeln!(
            f,
            "{:<w1$}{:<w2$}{:>w3$}",
            "Layer (type)", "Output Shape", "Param #"
        )?;
        writeln!(f, "{}", "=".repeat(width))?;
        for (i, r) in self.rows.iter().enumerate() {
            writeln!(
                f,
                "{:<w1$}{:<w2$}{:>w3$}",
                layer_cells[i],
                shapes[i],
                thousands(r.params)
            )?;
        }
        writeln!(f, "{}", "=".repeat(width))?;
        let total = self.total_params();
        let trainable = self.trainable_params();
        writeln!(f, "Total params: {}", thousands(total))?;
        writeln!(f, "Trainable params: {}", thousands(trainable))?;
        writeln!(f, "Non-trainable params: {}", thousands(total - trainable))?;
        write!(f, "{}", "_".repeat(width))
    }
}

/// (trainable, frozen) parameter counts of the variables of `vs` named
/// `prefix` or starting with `prefix.`; an empty prefix counts everything.
pub fn count_params(vs: &nn::VarStore, prefix: &str) -> (i64, i64) {
    let mut trainable = 0;
    let mut frozen = 0;
    for (name, t) in vs.variables() {
        let inside = prefix.is_empty() || name == prefix || name.starts_with(&format!("{prefix}."));
        if inside {
            if t.requires_grad() {
                trainable += t.numel() as i64;
            } else {
                frozen += t.numel() as i64;
            }
        }
    }
    (trainable, frozen)
}

/// Parameters of a libtorch recurrent stack: per layer and direction,
/// `gates · (H·I + H·H + 2H)` with `I` the layer's input size (`input` for
/// the first layer, `H · directions` above it).
pub fn rnn_param_count(
    cell: Cell,
    input: i64,
    hidden: i64,
    layers: i64,
    bidirectional: bool,
) -> i64 {
    let dirs = if bidirectional { 2 } else { 1 };
    let g = cell.gates();
    (0..layers)
        .map(|l| {
            let i = if l == 0 { input } else { hidden * dirs };
            dirs * g * (hidden * i + hidden * hidden + 2 * hidden)
        })
        .sum()
}

/// Parameters of the same single layer in Keras (TF 2 defaults): one bias
/// vector for SimpleRNN and LSTM, two for GRU (`reset_after=True`).
pub fn keras_rnn_param_count(cell: Cell, input: i64, hidden: i64) -> i64 {
    let biases = if cell == Cell::Gru { 2 } else { 1 };
    cell.gates() * (hidden * input + hidden * hidden + biases * hidden)
}
