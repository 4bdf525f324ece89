//! `Encoder::init_keras`: the properties that define Keras' initialisers,
//! checked on the weights themselves (orthogonality, Glorot's limit and
//! variance, zero biases, the LSTM forget bias of 1).
use sori_rnn::{Cell, Encoder, EncoderConfig};
use tch::{nn, Device, Kind, Tensor};

fn weights(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn keras_initialisation_has_keras_properties() {
    for (cell, bi) in [
        (Cell::Lstm, false),
        (Cell::Gru, true),
        (Cell::RnnTanh, false),
    ] {
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let (input, hidden) = (96, 32);
        let cfg = EncoderConfig::new(cell, input, hidden)
            .layers(2)
            .bidirectional(bi);
        let enc = Encoder::new(&(vs.root() / "rnn"), &cfg).unwrap();
        enc.init_keras();
        let gates = cell.gates();
        let mut seen = 0;
        for (name, w) in weights(&vs) {
            let w = w.to_kind(Kind::Double);
            if name.contains("weight_hh") {
                // Orthonormal columns: QᵀQ = I.
                let qtq = w.transpose(0, 1).matmul(&w);
                let err = (&qtq - Tensor::eye(hidden, (Kind::Double, Device::Cpu)))
                    .abs()
                    .max()
                    .double_value(&[]);
                assert!(err < 1e-5, "{name}: |QᵀQ - I| = {err}");
            } else if name.contains("weight_ih") {
                let fan_in = w.size()[1];
                let limit = (6.0 / (fan_in + gates * hidden) as f64).sqrt();
                let max = w.abs().max().double_value(&[]);
                let var = w.var(true).double_value(&[]);
                assert!(max <= limit, "{name}: {max} > {limit}");
                // Uniform(-l, l) has variance l²/3.
                let want = limit * limit / 3.0;
                assert!(
                    (var - want).abs() < 0.1 * want,
                    "{name}: var {var} vs {want}"
                );
            } else if name.contains("bias_ih") && cell == Cell::Lstm {
                let forget = w.narrow(0, hidden, hidden);
                assert_eq!(forget.min().double_value(&[]), 1.0, "{name}");
                assert_eq!(forget.max().double_value(&[]), 1.0, "{name}");
                let rest = w.abs().sum(Kind::Double).double_value(&[]);
                assert_eq!(
                    rest, hidden as f64,
                    "{name}: only the forget block is non-zero"
                );
            } else {
                assert!(name.contains("bias"), "{name}");
                assert_eq!(w.abs().max().double_value(&[]), 0.0, "{name}");
            }
            seen += 1;
        }
        assert_eq!(seen, 2 * cfg.directions() * 4, "{cell:?}");
    }
}
