//! Property tests of model loading (issue 10): whatever `config.json` or
//! a `.safetensors` checkpoint holds (arbitrary bytes, a valid file with
//! bytes flipped or cut, a header announcing absurd sizes), loading returns
//! a one-line error naming the file, or succeeds with shapes checked; it
//! never panics and never allocates what a hostile header announces.
//! A fixed, small number of cases, so it runs in `make test`.
#[path = "support/fuzz.rs"]
mod fuzz;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use sori_train::{ModelDir, OptimizerKind, OptimizerSpec, TrainerState, Which};
use std::sync::OnceLock;
use tch::{nn, Device};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct AppConfig {
    hidden: i64,
    vocab: Vec<String>,
}

fn model() -> nn::VarStore {
    let vs = nn::VarStore::new(Device::Cpu);
    let _l = nn::linear(vs.root() / "dense", 3, 2, Default::default());
    vs
}

/// A valid checkpoint (weights, Adam state, trainer state) and config.
fn valid_files() -> &'static (Vec<u8>, Vec<u8>) {
    static FILES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    FILES.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ModelDir::create(tmp.path()).unwrap();
        let vs = model();
        let opt = OptimizerSpec::new(OptimizerKind::Adam, 1e-3)
            .build(&vs)
            .unwrap();
        let state = TrainerState {
            epoch: 1,
            global_step: 0,
            seed: 1,
            monitor: "loss".into(),
            best_value: None,
            best_epoch: 0,
            epochs_without_improvement: 0,
            schedule: Default::default(),
            stopped_early: false,
        };
        dir.save_checkpoint(&vs, &opt, &state).unwrap();
        dir.write_config(
            "app",
            &AppConfig {
                hidden: 2,
                vocab: vec!["a".into()],
            },
        )
        .unwrap();
        (
            std::fs::read(dir.weights_path(Which::Last)).unwrap(),
            std::fs::read(dir.config_path()).unwrap(),
        )
    })
}

/// A valid file with some bytes replaced and maybe cut short.
fn mutated(valid: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        prop::option::of(any::<prop::sample::Index>()),
    )
        .prop_map(move |(edits, cut)| {
            let mut b = valid.to_vec();
            for (i, v) in edits {
                let i = i.index(b.len());
                b[i] = v;
            }
            if let Some(c) = cut {
                b.truncate(c.index(b.len() + 1));
            }
            b
        })
}

fn check_checkpoint(bytes: &[u8]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path()).unwrap();
    std::fs::write(dir.weights_path(Which::Last), bytes).unwrap();
    let mut vs = model();
    let mut opt = OptimizerSpec::new(OptimizerKind::Adam, 1e-3)
        .build(&vs)
        .unwrap();
    if let Err(e) = dir.load_checkpoint(&mut vs, &mut opt) {
        let msg = e.to_string();
        assert!(
            !msg.contains('\n') && msg.contains("last.safetensors"),
            "{msg}"
        );
    }
    if let Err(e) = dir.load_weights(&mut vs, Which::Last) {
        let msg = e.to_string();
        assert!(
            !msg.contains('\n') && msg.contains("last.safetensors"),
            "{msg}"
        );
    }
}

fn check_config(bytes: &[u8]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path()).unwrap();
    std::fs::write(dir.config_path(), bytes).unwrap();
    if let Err(e) = dir.read_config::<AppConfig>("app") {
        let msg = e.to_string();
        assert!(!msg.contains('\n') && msg.contains("config.json"), "{msg}");
    }
}

proptest! {
    // `make fuzz` raises the count with SORI_FUZZ_CASES.
    #![proptest_config(fuzz::config(64))]

    #[test]
    fn mutated_checkpoints_load_or_fail_cleanly(bytes in mutated(&valid_files().0)) {
        check_checkpoint(&bytes);
    }

    #[test]
    fn arbitrary_checkpoint_bytes_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_checkpoint(&bytes);
    }

    /// A header that announces a huge length or huge tensors.
    #[test]
    fn hostile_headers_fail_without_allocating(
        header_len in prop_oneof![Just(u64::MAX), Just(1u64 << 40), 0u64..4096],
        dim in prop_oneof![Just(u64::MAX / 2), Just(1u64 << 40), 0u64..8],
    ) {
        let header = format!(
            "{{\"dense.weight\":{{\"dtype\":\"F32\",\"shape\":[{dim},3],\"data_offsets\":[0,{}]}}}}",
            dim.wrapping_mul(12)
        );
        let mut bytes = header_len.to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[0u8; 24]);
        check_checkpoint(&bytes);
    }

    #[test]
    fn mutated_configs_load_or_fail_cleanly(bytes in mutated(&valid_files().1)) {
        check_config(&bytes);
    }

    #[test]
    fn arbitrary_configs_fail_cleanly(text in "\\PC{0,80}") {
        check_config(text.as_bytes());
    }
}
