//! Padded-batch invariance: a sequence's outputs and final state must be the
//! same when it runs alone (no padding, fused kernel) and inside a padded
//! batch (packed path), for every cell, one and two directions, and with
//! stacked layers. The padding is filled with large random values so that
//! any leak of padding into the results shows.
use sori_rnn::{Cell, Encoder, EncoderConfig, Subsample};
use tch::{nn, Device, Kind, Tensor};

const CELLS: [Cell; 4] = [Cell::RnnTanh, Cell::RnnRelu, Cell::Lstm, Cell::Gru];

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

fn check_invariance(cfg: &EncoderConfig, t: i64, lengths: &[i64]) {
    tch::manual_seed(7);
    let vs = nn::VarStore::new(Device::Cpu);
    let enc = Encoder::new(&vs.root(), cfg).unwrap();
    let b = lengths.len() as i64;
    let xs = Tensor::randn([b, t, cfg.input], (Kind::Float, Device::Cpu));
    // Garbage after each sequence's end.
    let padded = xs.copy();
    for (i, &l) in lengths.iter().enumerate() {
        if l < t {
            let noise = Tensor::randn([t - l, cfg.input], (Kind::Float, Device::Cpu)) * 100.0;
            padded.get(i as i64).narrow(0, l, t - l).copy_(&noise);
        }
    }
    let batch = tch::no_grad(|| enc.forward(&padded, lengths, false).unwrap());
    let t_out = batch.outputs.size()[1];
    for (i, &l) in lengths.iter().enumerate() {
        let i = i as i64;
        let alone_x = xs.get(i).narrow(0, 0, l).unsqueeze(0);
        let alone = tch::no_grad(|| enc.forward(&alone_x, &[l], false).unwrap());
        let l_out = alone.lengths[0];
        assert_eq!(
            l_out, batch.lengths[i as usize],
            "{cfg:?}: subsampled length"
        );
        let got = batch.outputs.get(i).narrow(0, 0, l_out);
        let want = alone.outputs.get(0);
        let d = max_abs_diff(&got, &want);
        assert!(d < 1e-5, "{cfg:?} seq {i} (len {l}): outputs differ by {d}");
        if l_out < t_out {
            let tail = batch.outputs.get(i).narrow(0, l_out, t_out - l_out);
            assert_eq!(
                tail.abs().max().double_value(&[]),
                0.0,
                "{cfg:?}: padding not zero"
            );
        }
        let dh = max_abs_diff(&batch.state.h.select(1, i), &alone.state.h.select(1, 0));
        assert!(
            dh < 1e-5,
            "{cfg:?} seq {i} (len {l}): final h differs by {dh}"
        );
        match (&batch.state.c, &alone.state.c) {
            (Some(cb), Some(ca)) => {
                let dc = max_abs_diff(&cb.select(1, i), &ca.select(1, 0));
                assert!(dc < 1e-5, "{cfg:?} seq {i}: final c differs by {dc}");
            }
            (None, None) => assert_ne!(cfg.cell, Cell::Lstm),
            _ => panic!("{cfg:?}: cell state presence differs"),
        }
    }
}

#[test]
fn every_cell_both_directions_alone_equals_in_padded_batch() {
    // Unsorted lengths on purpose: the encoder sorts and unsorts.
    let lengths = [5, 9, 1, 9, 3];
    for cell in CELLS {
        for bidirectional in [false, true] {
            for layers in [1, 2] {
                let cfg = EncoderConfig::new(cell, 6, 8)
                    .layers(layers)
                    .bidirectional(bidirectional);
                check_invariance(&cfg, 9, &lengths);
            }
        }
    }
}

#[test]
fn subsampling_and_projection_keep_invariance() {
    let lengths = [11, 4, 7];
    for sub in [Subsample::Stack(3), Subsample::Stride(2)] {
        let cfg = EncoderConfig::new(Cell::Lstm, 5, 6)
            .layers(2)
            .bidirectional(true)
            .projection(Some(4))
            .subsample(sub);
        check_invariance(&cfg, 11, &lengths);
    }
}

#[test]
fn final_state_of_bidirectional_layer_is_after_last_real_frame() {
    // The forward direction's final h must equal the output at the last real
    // frame; the backward direction's must equal the output at frame 0.
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = EncoderConfig::new(Cell::Gru, 4, 5).bidirectional(true);
    let enc = Encoder::new(&vs.root(), &cfg).unwrap();
    let xs = Tensor::randn([2, 6, 4], (Kind::Float, Device::Cpu));
    let out = tch::no_grad(|| enc.forward(&xs, &[6, 3], false).unwrap());
    for (i, l) in [(0i64, 6i64), (1, 3)] {
        let fwd_last = out.outputs.get(i).get(l - 1).narrow(0, 0, 5);
        let bwd_first = out.outputs.get(i).get(0).narrow(0, 5, 5);
        assert!(max_abs_diff(&fwd_last, &out.state.h.get(0).get(i)) < 1e-6);
        assert!(max_abs_diff(&bwd_first, &out.state.h.get(1).get(i)) < 1e-6);
    }
    let sentence = out.state.last_layer_h(2);
    assert_eq!(sentence.size(), [2, 10]);
}

#[test]
fn bad_lengths_and_shapes_are_clear_errors() {
    let vs = nn::VarStore::new(Device::Cpu);
    let enc = Encoder::new(&vs.root(), &EncoderConfig::new(Cell::Lstm, 3, 4)).unwrap();
    let xs = Tensor::zeros([2, 5, 3], (Kind::Float, Device::Cpu));
    let e = enc.forward(&xs, &[5], false).unwrap_err().to_string();
    assert!(e.contains("1 lengths for a batch of 2"), "{e}");
    let e = enc.forward(&xs, &[5, 0], false).unwrap_err().to_string();
    assert!(e.contains("sequence 1 has length 0"), "{e}");
    let e = enc.forward(&xs, &[5, 6], false).unwrap_err().to_string();
    assert!(e.contains("outside 1..=5"), "{e}");
    let bad = Tensor::zeros([2, 5, 4], (Kind::Float, Device::Cpu));
    let e = enc.forward(&bad, &[5, 5], false).unwrap_err().to_string();
    assert!(e.contains("expects 3 features"), "{e}");
    let e = EncoderConfig::new(Cell::Gru, 3, 0)
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains("hidden size"), "{e}");
    assert!("transformer".parse::<Cell>().is_err());
    assert_eq!("LSTM".parse::<Cell>().unwrap(), Cell::Lstm);
}
