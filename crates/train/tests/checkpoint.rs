//! Model directories: weights round-trip, config validation, refusal of
//! other models, and crash safety of the atomic writes, including a writer
//! process killed with SIGKILL in the middle of writing a checkpoint.
use serde::{Deserialize, Serialize};
use sori_train::{atomic_write_with, ModelDir, TrainError, Which};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tch::{nn, Device, Kind, Tensor};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AppConfig {
    vocab: Vec<String>,
    hidden: i64,
}

fn model(seed: i64, hidden: i64) -> nn::VarStore {
    tch::manual_seed(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let _l = nn::linear(vs.root() / "dense", 8, hidden, Default::default());
    let _e = nn::embedding(vs.root() / "emb", 50, 8, Default::default());
    vs
}

fn same(a: &nn::VarStore, b: &nn::VarStore) -> bool {
    let bv = b.variables();
    a.variables().iter().all(|(n, t)| t.equal(&bv[n]))
}

#[test]
fn weights_round_trip_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path().join("m")).unwrap();
    let a = model(1, 4);
    dir.save_weights(&a, Which::Best).unwrap();
    let mut b = model(2, 4);
    assert!(!same(&a, &b));
    dir.load_weights(&mut b, Which::Best).unwrap();
    assert!(same(&a, &b));
    // load_best_or_last falls back to last when there is no best.
    let dir2 = ModelDir::create(tmp.path().join("m2")).unwrap();
    dir2.save_weights(&a, Which::Last).unwrap();
    let mut c = model(3, 4);
    dir2.load_best_or_last(&mut c).unwrap();
    assert!(same(&a, &c));
    // The file is standard safetensors (readable by other tools).
    let bytes = std::fs::read(dir.weights_path(Which::Best)).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    assert!(
        header.contains("\"dense.weight\"") && header.contains("F32"),
        "{header}"
    );
}

/// Narrowed weights load back into the f32 model as each value rounded to
/// f16 (the oracle: libtorch's own f32 -> f16 -> f32 cast, element by
/// element), the file holds F16 and is about half the size, and a value
/// beyond f16's range is refused instead of becoming infinity.
#[test]
fn narrowed_weights_load_as_rounded_f32_and_out_of_range_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path().join("m")).unwrap();
    let a = model(1, 64);
    dir.save_weights(&a, Which::Best).unwrap();
    let full = dir.weights_path(Which::Best);
    let half = tmp.path().join("half.safetensors");
    sori_train::write_narrow_floats(&full, &half, Kind::Half).unwrap();
    let (full_len, half_len) = (
        std::fs::metadata(&full).unwrap().len(),
        std::fs::metadata(&half).unwrap().len(),
    );
    assert!(half_len * 10 < full_len * 6, "{half_len} vs {full_len}");
    let bytes = std::fs::read(&half).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    assert!(
        header.contains("F16") && !header.contains("F32"),
        "{header}"
    );
    let mut b = model(2, 64);
    sori_train::load_var_store(&mut b, &half).unwrap();
    let bv = b.variables();
    for (name, t) in a.variables() {
        let expect = t.to_kind(Kind::Half).to_kind(Kind::Float);
        assert_eq!(bv[&name].kind(), Kind::Float, "{name}");
        assert!(bv[&name].equal(&expect), "{name}");
        assert!(!bv[&name].equal(&t), "{name}: nothing was rounded?");
    }
    // 1e6 does not fit in f16.
    tch::no_grad(|| {
        let _ = a.variables()["dense.weight"].get(0).get(0).fill_(1e6);
    });
    dir.save_weights(&a, Which::Last).unwrap();
    let err = sori_train::write_narrow_floats(&dir.weights_path(Which::Last), &half, Kind::Half)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dense.weight") && err.contains("range"),
        "{err}"
    );
    // bf16 holds it.
    sori_train::write_narrow_floats(&dir.weights_path(Which::Last), &half, Kind::BFloat16).unwrap();
}

#[test]
fn config_round_trips_and_other_models_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path()).unwrap();
    let cfg = AppConfig {
        vocab: vec!["<pad>".into(), "a".into()],
        hidden: 4,
    };
    dir.write_config("imdb", &cfg).unwrap();
    let back: AppConfig = dir.read_config("imdb").unwrap();
    assert_eq!(back, cfg);

    let e = dir.read_config::<AppConfig>("asr").unwrap_err().to_string();
    assert!(
        e.contains("config.json") && e.contains("\"imdb\" model, expected a \"asr\""),
        "{e}"
    );

    let text = std::fs::read_to_string(dir.config_path()).unwrap();
    std::fs::write(
        dir.config_path(),
        text.replace("\"format_version\": 1", "\"format_version\": 99"),
    )
    .unwrap();
    let e = dir
        .read_config::<AppConfig>("imdb")
        .unwrap_err()
        .to_string();
    assert!(e.contains("format version 99 is not supported"), "{e}");

    std::fs::write(dir.config_path(), "{ not json").unwrap();
    let e = dir
        .read_config::<AppConfig>("imdb")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("config.json") && e.contains("invalid JSON"),
        "{e}"
    );

    // Writing a model of another kind over it is refused; the file stays.
    let other = ModelDir::create(tmp.path().join("other")).unwrap();
    other.write_config("imdb", &cfg).unwrap();
    let e = other.write_config("asr", &cfg).unwrap_err().to_string();
    assert!(
        e.contains("config.json") && e.contains("holds a \"imdb\" model; refusing to overwrite it"),
        "{e}"
    );
    let _: AppConfig = other.read_config("imdb").unwrap();
    other.write_config("imdb", &cfg).unwrap(); // the same kind: retraining

    let e = ModelDir::new(tmp.path().join("nope"))
        .read_config::<AppConfig>("imdb")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no such model directory"), "{e}");
}

#[test]
fn weights_of_another_architecture_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path()).unwrap();
    dir.save_weights(&model(1, 4), Which::Last).unwrap();
    let mut wider = model(1, 6);
    let e = dir
        .load_weights(&mut wider, Which::Last)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("last.safetensors")
            && e.contains("tensor \"dense.bias\" is [4] in the file but [6]"),
        "{e}"
    );
    let extra = model(1, 4);
    let _more = nn::linear(extra.root() / "head", 4, 2, Default::default());
    let mut extra = extra;
    let e = dir
        .load_weights(&mut extra, Which::Last)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no tensor \"head."), "{e}");
    let e = dir
        .load_weights(&mut extra, Which::Best)
        .unwrap_err()
        .to_string();
    assert!(e.contains("best.safetensors: no such weights file"), "{e}");
    // A torn file (what a non-atomic write could leave) is a clean error.
    let bytes = std::fs::read(dir.weights_path(Which::Last)).unwrap();
    std::fs::write(dir.weights_path(Which::Last), &bytes[..bytes.len() / 2]).unwrap();
    let mut m = model(1, 4);
    let e = dir
        .load_weights(&mut m, Which::Last)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unreadable weights"), "{e}");
}

fn leftover_temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-"))
        .collect()
}

#[test]
fn failed_write_leaves_the_old_checkpoint_loadable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path()).unwrap();
    let old = model(1, 4);
    dir.save_weights(&old, Which::Last).unwrap();
    // The new checkpoint's bytes, of which only half get written before
    // the write fails (disk full, I/O error).
    let new = model(2, 4);
    let scratch = tmp.path().join("scratch.safetensors");
    new.save(&scratch).unwrap();
    let new_bytes = std::fs::read(&scratch).unwrap();
    std::fs::remove_file(&scratch).unwrap();
    let target = dir.weights_path(Which::Last);
    let r = atomic_write_with(&target, |tmp_path| {
        let mut f = std::fs::File::create(tmp_path).unwrap();
        f.write_all(&new_bytes[..new_bytes.len() / 2]).unwrap();
        Err(TrainError::Config("simulated I/O failure".into()))
    });
    assert!(r.is_err());
    let mut back = model(3, 4);
    dir.load_weights(&mut back, Which::Last).unwrap();
    assert!(
        same(&back, &old),
        "old checkpoint no longer loads after a failed write"
    );
    assert!(leftover_temp_files(tmp.path()).is_empty());
}

/// Not a test on its own: the body of the writer process that
/// `killed_writer_leaves_the_old_checkpoint_loadable` kills mid-write.
#[test]
fn child_writer_process() {
    let Ok(target) = std::env::var("SORI_TEST_CHILD_TARGET") else {
        return;
    };
    let _ = atomic_write_with(Path::new(&target), |tmp_path| {
        let mut f = std::fs::File::create(tmp_path).unwrap();
        f.write_all(b"partial checkpoint bytes").unwrap();
        f.flush().unwrap();
        // Hang mid-write until killed.
        std::thread::sleep(Duration::from_secs(120));
        Ok(())
    });
    panic!("the writer should have been killed");
}

#[test]
fn killed_writer_leaves_the_old_checkpoint_loadable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path()).unwrap();
    let old = model(1, 4);
    dir.save_weights(&old, Which::Last).unwrap();
    let target = dir.weights_path(Which::Last);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_writer_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SORI_TEST_CHILD_TARGET", &target)
        .spawn()
        .unwrap();
    // Wait until the child is in the middle of writing its temporary file.
    let started = Instant::now();
    while leftover_temp_files(tmp.path()).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "child never started writing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(50));
    child.kill().unwrap(); // SIGKILL: no cleanup code runs
    child.wait().unwrap();
    assert_eq!(
        leftover_temp_files(tmp.path()).len(),
        1,
        "stale temp file expected"
    );
    let mut back = model(3, 4);
    dir.load_weights(&mut back, Which::Last).unwrap();
    assert!(same(&back, &old), "killed write damaged the checkpoint");
    // The next save succeeds despite the stale temporary file.
    let newer = model(4, 4);
    dir.save_weights(&newer, Which::Last).unwrap();
    dir.load_weights(&mut back, Which::Last).unwrap();
    assert!(same(&back, &newer));
}

#[test]
fn saved_weights_are_device_independent_cpu_tensors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ModelDir::create(tmp.path()).unwrap();
    let vs = model(1, 4);
    dir.save_weights(&vs, Which::Last).unwrap();
    let loaded = Tensor::read_safetensors(dir.weights_path(Which::Last)).unwrap();
    assert_eq!(loaded.len(), 3); // dense.weight, dense.bias, emb.weight
    for (_, t) in loaded {
        assert_eq!(t.device(), Device::Cpu);
        assert_eq!(t.kind(), Kind::Float);
    }
}
