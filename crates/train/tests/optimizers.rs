//! The crate's own optimisers against libtorch's (`tch::nn::adam`, `adamw`,
//! `rms_prop`, `sgd`, an independent implementation) step for step, and the
//! optimiser state's round trip through a checkpoint: k steps, save, drop
//! everything, load into a fresh model, N-k steps must give exactly the
//! weights of N uninterrupted steps.
use sori_train::{
    ModelDir, Optimizer, OptimizerKind, OptimizerSpec, StateRestore, TrainerState, Which,
};
use std::sync::{Mutex, MutexGuard};
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// Model initialisation uses libtorch's global generator.
static TORCH_RNG: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// A small two-layer network with an embedding, so that every parameter
/// shape an application uses (matrices, vectors, a lookup table whose rows
/// get sparse-looking dense gradients) is updated.
struct Net {
    vs: nn::VarStore,
    emb: nn::Embedding,
    l1: nn::Linear,
    l2: nn::Linear,
}

impl Net {
    fn new(seed: i64) -> Net {
        tch::manual_seed(seed);
        let vs = nn::VarStore::new(Device::Cpu);
        let emb = nn::embedding(vs.root() / "emb", 20, 4, Default::default());
        let l1 = nn::linear(vs.root() / "l1", 10, 16, Default::default());
        let l2 = nn::linear(vs.root() / "l2", 16, 3, Default::default());
        Net { vs, emb, l1, l2 }
    }

    fn loss(&self, b: &Batch) -> Tensor {
        let e = self.emb.forward(&b.tokens).mean_dim(1, false, Kind::Float);
        let x = Tensor::cat(&[&b.xs, &e], 1);
        let logits = self.l2.forward(&self.l1.forward(&x).tanh());
        logits.cross_entropy_for_logits(&b.ys)
    }

    fn weights(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = self
            .vs
            .variables()
            .into_iter()
            .map(|(n, t)| (n, t.detach().copy()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

struct Batch {
    xs: Tensor,
    tokens: Tensor,
    ys: Tensor,
}

/// Fixed batches (their own generator state, so both runs see the same).
fn batches(n: usize) -> Vec<Batch> {
    tch::manual_seed(1234);
    (0..n)
        .map(|_| Batch {
            xs: Tensor::randn([8, 6], (Kind::Float, Device::Cpu)),
            tokens: Tensor::randint(20, [8, 5], (Kind::Int64, Device::Cpu)),
            ys: Tensor::randint(3, [8], (Kind::Int64, Device::Cpu)),
        })
        .collect()
}

/// The learning rate of step `i`: changes every step, like a warm-up.
fn lr_at(base: f64, i: usize) -> f64 {
    base * (1.0 + (i % 5) as f64) / 5.0
}

fn max_abs_diff(a: &[(String, Tensor)], b: &[(String, Tensor)]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|((na, ta), (nb, tb))| {
            assert_eq!(na, nb);
            (ta - tb).abs().max().double_value(&[])
        })
        .fold(0.0, f64::max)
}

fn libtorch_optimizer(spec: &OptimizerSpec, vs: &nn::VarStore) -> nn::Optimizer {
    let wd = spec.effective_weight_decay();
    let m = spec.effective_momentum();
    match spec.kind {
        OptimizerKind::Adam => nn::adam(0.9, 0.999, wd).build(vs, spec.lr),
        OptimizerKind::AdamW => nn::adamw(0.9, 0.999, wd).build(vs, spec.lr),
        OptimizerKind::RmsProp => nn::rms_prop(0.9, 1e-7, wd, m, false).build(vs, spec.lr),
        OptimizerKind::Sgd => nn::sgd(m, 0.0, wd, false).build(vs, spec.lr),
    }
    .unwrap()
}

fn spec(kind: OptimizerKind, lr: f64, wd: Option<f64>, momentum: Option<f64>) -> OptimizerSpec {
    OptimizerSpec {
        kind,
        lr,
        weight_decay: wd,
        momentum,
    }
}

fn specs() -> Vec<OptimizerSpec> {
    use OptimizerKind::*;
    vec![
        spec(Adam, 1e-2, None, None),
        spec(Adam, 1e-2, Some(1e-2), None),
        spec(AdamW, 1e-2, None, None),
        spec(AdamW, 1e-2, Some(0.1), None),
        spec(RmsProp, 1e-3, None, None),
        spec(RmsProp, 1e-3, Some(1e-2), Some(0.9)),
        spec(Sgd, 5e-2, None, None),
        spec(Sgd, 5e-2, Some(1e-3), Some(0.0)),
    ]
}

#[test]
fn each_optimizer_matches_libtorch_step_for_step() {
    let _serial = serial();
    let data = batches(30);
    for spec in specs() {
        for clip in [None, Some(0.5)] {
            let theirs = Net::new(7);
            let ours = Net::new(7);
            assert_eq!(max_abs_diff(&theirs.weights(), &ours.weights()), 0.0);
            let mut reference = libtorch_optimizer(&spec, &theirs.vs);
            let mut opt = spec.build(&ours.vs).unwrap();
            for (i, b) in data.iter().enumerate() {
                let lr = lr_at(spec.lr, i);
                reference.set_lr(lr);
                reference.zero_grad();
                theirs.loss(b).backward();
                if let Some(max) = clip {
                    reference.clip_grad_norm(max);
                }
                reference.step();

                opt.set_lr(lr);
                opt.zero_grad();
                ours.loss(b).backward();
                if let Some(max) = clip {
                    opt.clip_grad_norm(max);
                }
                opt.step();

                let d = max_abs_diff(&theirs.weights(), &ours.weights());
                assert!(
                    d <= 1e-6,
                    "{spec:?} clip {clip:?}: step {i} differs from libtorch by {d:e}"
                );
            }
            // The weights did move (the comparison is not vacuous).
            let moved = max_abs_diff(&Net::new(7).weights(), &ours.weights());
            assert!(moved > 1e-3, "{spec:?}: weights barely moved ({moved:e})");
            assert_eq!(opt.steps(), data.len() as u64);
        }
    }
}

#[test]
fn clip_grad_norm_reports_the_norm_and_clips_to_it() {
    let _serial = serial();
    let net = Net::new(3);
    let mut opt = OptimizerSpec::new(OptimizerKind::Sgd, 0.1)
        .build(&net.vs)
        .unwrap();
    let b = &batches(1)[0];
    opt.zero_grad();
    net.loss(b).backward();
    // Brute force: the L2 norm of all gradients concatenated.
    let flat: Vec<Tensor> = net
        .weights()
        .iter()
        .map(|(n, _)| net.vs.variables()[n].grad().flatten(0, -1))
        .collect();
    let expected = Tensor::cat(&flat, 0).norm().double_value(&[]);
    let before = opt.clip_grad_norm(expected / 4.0);
    assert!((before - expected).abs() < 1e-5 * expected);
    let after = opt.grad_norm();
    assert!((after - expected / 4.0).abs() < 1e-4 * expected, "{after}");
}

fn state(step: u64) -> TrainerState {
    TrainerState {
        epoch: 1,
        global_step: step,
        seed: 0,
        monitor: "loss".into(),
        best_value: None,
        best_epoch: 0,
        epochs_without_improvement: 0,
        schedule: Default::default(),
        stopped_early: false,
    }
}

fn train(net: &Net, opt: &mut Optimizer, data: &[Batch], from: usize) {
    for (i, b) in data.iter().enumerate() {
        opt.set_lr(lr_at(opt.spec().lr, from + i));
        opt.zero_grad();
        net.loss(b).backward();
        opt.step();
    }
}

#[test]
fn state_saved_after_k_steps_continues_like_an_uninterrupted_run() {
    let _serial = serial();
    let data = batches(12);
    let k = 5;
    for spec in specs() {
        let straight = Net::new(11);
        let mut opt = spec.build(&straight.vs).unwrap();
        train(&straight, &mut opt, &data, 0);

        let tmp = tempfile::tempdir().unwrap();
        let dir = ModelDir::create(tmp.path()).unwrap();
        {
            let first = Net::new(11);
            let mut opt = spec.build(&first.vs).unwrap();
            train(&first, &mut opt, &data[..k], 0);
            dir.save_checkpoint(&first.vs, &opt, &state(k as u64))
                .unwrap();
        } // everything dropped: only the files remain
        let mut resumed = Net::new(999);
        let mut opt = spec.build(&resumed.vs).unwrap();
        let (saved, restore) = dir
            .load_checkpoint(&mut resumed.vs, &mut opt)
            .unwrap()
            .expect("a checkpoint");
        assert_eq!(restore, StateRestore::Restored, "{spec:?}");
        assert_eq!(saved, state(k as u64));
        assert_eq!(opt.steps(), k as u64);
        train(&resumed, &mut opt, &data[k..], k);
        let d = max_abs_diff(&straight.weights(), &resumed.weights());
        assert_eq!(d, 0.0, "{spec:?}: resumed weights differ by {d:e}");

        // Without the optimiser state (what a resume did before), the run
        // ends elsewhere: the test above can tell the difference.
        if spec.kind != OptimizerKind::Sgd || spec.effective_momentum() > 0.0 {
            let mut fresh = Net::new(999);
            dir.load_weights(&mut fresh.vs, Which::Last).unwrap();
            let mut opt = spec.build(&fresh.vs).unwrap();
            train(&fresh, &mut opt, &data[k..], k);
            let d = max_abs_diff(&straight.weights(), &fresh.weights());
            assert!(d > 1e-6, "{spec:?}: state made no difference ({d:e})");
        }
    }
}

#[test]
fn checkpoint_state_is_checked_and_other_optimizers_start_from_zero() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path()).unwrap();
    let net = Net::new(1);
    let adam = OptimizerSpec::new(OptimizerKind::Adam, 1e-3);
    let mut opt = adam.build(&net.vs).unwrap();
    train(&net, &mut opt, &batches(2), 0);
    dir.save_checkpoint(&net.vs, &opt, &state(2)).unwrap();

    // The file is plain safetensors: weights under their names, the state
    // under __optimizer__/, the trainer state in the header.
    let (tensors, meta) = sori_train::read_safetensors(&dir.weights_path(Which::Last)).unwrap();
    assert!(tensors.contains_key("l1.weight"));
    assert_eq!(tensors["__optimizer__/exp_avg/l1.weight"].size(), [16, 10]);
    assert_eq!(
        Vec::<i64>::try_from(&tensors["__optimizer__/step/l1.weight"]).unwrap(),
        [2]
    );
    assert_eq!(meta["sori.optimizer"], "adam[exp_avg,exp_avg_sq]");
    assert!(meta["sori.trainer_state"].contains("\"global_step\":2"));

    // Resuming with another optimiser: weights load, its state starts at zero.
    let mut other = Net::new(2);
    let mut sgd = OptimizerSpec::new(OptimizerKind::Sgd, 1e-3)
        .build(&other.vs)
        .unwrap();
    let (_, restore) = dir
        .load_checkpoint(&mut other.vs, &mut sgd)
        .unwrap()
        .unwrap();
    assert_eq!(
        restore,
        StateRestore::OtherOptimizer("adam[exp_avg,exp_avg_sq]".into())
    );
    assert_eq!(sgd.steps(), 0);
    assert_eq!(max_abs_diff(&net.weights(), &other.weights()), 0.0);

    // An old-style checkpoint (weights only + trainer_state.json).
    let old = ModelDir::create(tmp.path().join("old")).unwrap();
    old.save_weights(&net.vs, Which::Last).unwrap();
    let mut m = Net::new(3);
    let mut opt = adam.build(&m.vs).unwrap();
    assert!(old.load_checkpoint(&mut m.vs, &mut opt).unwrap().is_none());
    old.write_state(&state(2)).unwrap();
    let (s, restore) = old.load_checkpoint(&mut m.vs, &mut opt).unwrap().unwrap();
    assert_eq!((s, restore), (state(2), StateRestore::Missing));

    // A state tensor of the wrong shape is refused by name, nothing changed.
    let mut bad: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(n, t)| (n.clone(), t.shallow_clone()))
        .collect();
    for (n, t) in bad.iter_mut() {
        if n == "__optimizer__/exp_avg_sq/l2.bias" {
            *t = Tensor::zeros([4], (Kind::Float, Device::Cpu));
        }
    }
    sori_train::write_safetensors(&bad, Some(meta.clone()), &dir.weights_path(Which::Last))
        .unwrap();
    let mut m = Net::new(4);
    let mut opt = adam.build(&m.vs).unwrap();
    let e = dir
        .load_checkpoint(&mut m.vs, &mut opt)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("last.safetensors")
            && e.contains("\"__optimizer__/exp_avg_sq/l2.bias\" is [4] but the parameter is [3]"),
        "{e}"
    );
}
