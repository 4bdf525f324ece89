//! Batching, padding, validation split, schedules and the shared CLI
//! options, each against values worked out by hand or by brute force.
use clap::Parser;
use sori_train::{
    epoch_batches, pad_frames, pad_tokens, validation_split, DataSource, DecayKind, DeviceArg,
    HelpDefaults, InMemory, LrSchedule, Mode, OptimizerKind, OptimizerSpec, Rng, Side, Streaming,
    TaskResult, TrainArgs, TrainConfig,
};
use tch::Device;

#[test]
fn epoch_batches_cover_every_example_once_and_depend_only_on_seed_and_epoch() {
    let lengths: Vec<usize> = (0..1000).map(|i| (i * 7919) % 97 + 1).collect();
    for bucket in [None, Some(lengths.as_slice())] {
        let a = epoch_batches(1000, 32, bucket, true, 9, 1);
        let mut all: Vec<usize> = a.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert!(a.iter().all(|b| b.len() <= 32));
        assert_eq!(a, epoch_batches(1000, 32, bucket, true, 9, 1));
        assert_ne!(a, epoch_batches(1000, 32, bucket, true, 9, 2));
        assert_ne!(a, epoch_batches(1000, 32, bucket, true, 10, 1));
    }
    // Bucketing cuts padding: sum over batches of (max len × size − lengths).
    let padding = |batches: &[Vec<usize>]| -> usize {
        batches
            .iter()
            .map(|b| {
                let m = b.iter().map(|&i| lengths[i]).max().unwrap();
                b.iter().map(|&i| m - lengths[i]).sum::<usize>()
            })
            .sum()
    };
    let plain = padding(&epoch_batches(1000, 32, None, true, 9, 1));
    let bucketed = padding(&epoch_batches(1000, 32, Some(&lengths), true, 9, 1));
    assert!(bucketed * 5 < plain, "bucketed {bucketed} vs plain {plain}");
    // Validation order: unshuffled.
    let v = epoch_batches(10, 4, None, false, 1, 1);
    assert_eq!(v, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
}

#[test]
fn rng_is_stable_and_shuffle_is_a_uniform_permutation() {
    // Fixed outputs: the data order of a seed must never change.
    let mut r = Rng::new(0);
    assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
    // All 6 orders of 3 items appear about equally often.
    let mut counts = std::collections::HashMap::new();
    let mut rng = Rng::new(5);
    for _ in 0..6000 {
        let mut v = [0, 1, 2];
        rng.shuffle(&mut v);
        *counts.entry(v).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 6);
    assert!(
        counts.values().all(|&c| (850..1150).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn validation_split_takes_the_last_fraction_like_keras() {
    let (train, val) = validation_split((0..10).collect::<Vec<i32>>(), 0.2).unwrap();
    assert_eq!(train, (0..8).collect::<Vec<_>>());
    assert_eq!(val, vec![8, 9]);
    // Keras: int(25000 * (1 - 0.2)) = 20000.
    let (t, v) = validation_split(vec![0u8; 25000], 0.2).unwrap();
    assert_eq!((t.len(), v.len()), (20000, 5000));
    assert!(validation_split(vec![1], 1.0).is_err());
}

#[test]
fn pad_tokens_matches_keras_pad_sequences() {
    let seqs: [&[i64]; 3] = [&[1, 2, 3], &[4], &[]];
    // Keras defaults: padding='pre', truncating='pre'.
    let (t, lens) = pad_tokens(&seqs, 0, Some(2), Side::Pre, Side::Pre, Device::Cpu);
    assert_eq!(
        Vec::<i64>::try_from(t.flatten(0, -1)).unwrap(),
        [2, 3, 0, 4, 0, 0]
    );
    assert_eq!(lens, [2, 1, 1]);
    let (t, _) = pad_tokens(&seqs, 9, Some(2), Side::Post, Side::Post, Device::Cpu);
    assert_eq!(
        Vec::<i64>::try_from(t.flatten(0, -1)).unwrap(),
        [1, 2, 4, 9, 9, 9]
    );
    let (t, lens) = pad_tokens(&seqs, 0, None, Side::Post, Side::Post, Device::Cpu);
    assert_eq!(t.size(), [3, 3]);
    assert_eq!(lens, [3, 1, 1]);
}

#[test]
fn pad_frames_zero_pads_after_the_end() {
    let a = [1.0f32, 2.0, 3.0, 4.0]; // 2 frames of 2
    let b = [5.0f32, 6.0]; // 1 frame
    let (t, lens) = pad_frames(&[&a, &b], 2, Device::Cpu).unwrap();
    assert_eq!(t.size(), [2, 2, 2]);
    assert_eq!(lens, [2, 1]);
    assert_eq!(
        Vec::<f32>::try_from(t.flatten(0, -1)).unwrap(),
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0, 0.0]
    );
    let e = pad_frames(&[&[1.0f32, 2.0, 3.0]], 2, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a multiple of 2"), "{e}");
}

#[test]
fn in_memory_and_streaming_sources_yield_every_example_once_per_epoch() {
    let collate =
        |items: &[&u32]| -> TaskResult<Vec<u32>> { Ok(items.iter().map(|&&x| x).collect()) };
    let mut mem = InMemory::new((0..103).collect(), (200..210).collect(), 10, collate);
    assert_eq!(mem.train_len(), Some(11));
    let mut seen: Vec<u32> = mem
        .train_batches(1, 7)
        .unwrap()
        .flat_map(|b| b.unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..103).collect::<Vec<_>>());
    let val: Vec<u32> = mem
        .val_batches()
        .unwrap()
        .unwrap()
        .flat_map(|b| b.unwrap())
        .collect();
    assert_eq!(val, (200..210).collect::<Vec<_>>());

    let mut stream = Streaming::new(
        |_epoch| Ok(Box::new((0..103u32).map(Ok)) as Box<dyn Iterator<Item = TaskResult<u32>>>),
        10,
        25,
        collate,
    );
    let order = |s: &mut Streaming<u32, Vec<u32>>, epoch| -> Vec<u32> {
        s.train_batches(epoch, 7)
            .unwrap()
            .flat_map(|b| b.unwrap())
            .collect()
    };
    let e1 = order(&mut stream, 1);
    let mut sorted = e1.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..103).collect::<Vec<_>>());
    assert_ne!(e1, (0..103).collect::<Vec<_>>(), "not shuffled");
    assert_eq!(
        e1,
        order(&mut stream, 1),
        "same seed and epoch, other order"
    );
    assert_ne!(e1, order(&mut stream, 2));
    assert!(stream.val_batches().unwrap().is_none());
}

#[test]
fn schedules_follow_their_formulas() {
    let st = LrSchedule::default().initial_state();
    let warm = LrSchedule {
        warmup_steps: 4,
        ..LrSchedule::default()
    };
    let lrs: Vec<f64> = (0..6).map(|s| warm.lr(1.0, s, 100, &st)).collect();
    assert_eq!(lrs, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]);
    let cos = LrSchedule {
        decay: DecayKind::Cosine,
        min_factor: 0.1,
        ..LrSchedule::default()
    };
    assert!((cos.lr(2.0, 0, 100, &st) - 2.0).abs() < 1e-12);
    assert!((cos.lr(2.0, 50, 100, &st) - 2.0 * (0.1 + 0.9 * 0.5)).abs() < 1e-12);
    assert!((cos.lr(2.0, 100, 100, &st) - 0.2).abs() < 1e-12);
    let plateau = LrSchedule {
        decay: DecayKind::Plateau,
        plateau_factor: 0.5,
        plateau_patience: 2,
        ..LrSchedule::default()
    };
    let mut s = plateau.initial_state();
    let better = |a: f64, b: f64| Mode::Min.better(a, b, 0.0);
    for v in [1.0, 0.9, 0.95, 0.93] {
        plateau.on_epoch_end(&mut s, v, better);
    }
    assert_eq!(
        plateau.lr(1.0, 0, 0, &s),
        0.5,
        "two epochs without improvement halve the rate"
    );
    assert_eq!(Mode::for_metric("val_loss"), Mode::Min);
    assert_eq!(Mode::for_metric("val_cer"), Mode::Min);
    assert_eq!(Mode::for_metric("val_accuracy"), Mode::Max);
    assert_eq!(Mode::for_metric("val_bleu"), Mode::Max);
}

#[derive(Parser)]
struct Cli {
    #[arg(long)]
    model_dir: Option<String>,
    #[command(flatten)]
    train: TrainArgs,
}

#[test]
fn shared_cli_options_override_application_defaults() {
    let defaults = TrainConfig {
        epochs: 10,
        batch_size: 128,
        ..TrainConfig::default()
    };
    let cli = Cli::try_parse_from(["imdb"]).unwrap();
    assert_eq!(cli.train.device, DeviceArg::Cpu);
    let c = cli.train.apply(defaults.clone()).unwrap();
    assert_eq!((c.epochs, c.batch_size, c.seed), (10, 128, 42));

    let cli = Cli::try_parse_from([
        "imdb",
        "--model-dir",
        "m",
        "--epochs",
        "3",
        "--batch-size",
        "16",
        "--lr",
        "0.01",
        "--optimizer",
        "rmsprop",
        "--seed",
        "7",
        "--threads",
        "2",
        "--device",
        "auto",
        "--quiet",
        "--resume",
        "--clip-grad-norm",
        "5",
        "--patience",
        "2",
        "--schedule",
        "cosine",
    ])
    .unwrap();
    let c = cli.train.apply(defaults.clone()).unwrap();
    assert_eq!((c.epochs, c.batch_size, c.seed), (3, 16, 7));
    assert_eq!(c.optimizer.kind, OptimizerKind::RmsProp);
    assert_eq!(c.optimizer.lr, 0.01);
    assert!(c.plain_progress && !c.quiet && c.resume);
    assert_eq!(c.clip_grad_norm, Some(5.0));
    assert_eq!(c.early_stopping.unwrap().patience, 2);
    assert_eq!(c.schedule.decay, DecayKind::Cosine);
    assert_eq!(
        cli.train.device.resolve().unwrap(),
        Device::cuda_if_available()
    );

    for (args, msg) in [
        (vec!["x", "--lr=-1"], "learning rate"),
        (vec!["x", "--batch-size", "0"], "--batch-size"),
        (vec!["x", "--validation-split", "1.5"], "--validation-split"),
    ] {
        let cli = Cli::try_parse_from(args).unwrap();
        let e = cli.train.apply(defaults.clone()).unwrap_err().to_string();
        assert!(e.contains(msg), "{e}");
    }
    assert!(Cli::try_parse_from(["x", "--optimizer", "lbfgs"]).is_err());
    assert!(Cli::try_parse_from(["x", "--device", "tpu"]).is_err());
    if !tch::Cuda::is_available() {
        let e = DeviceArg::Cuda.resolve().unwrap_err().to_string();
        assert!(e.contains("no CUDA device"), "{e}");
    }
}

#[test]
fn an_out_dir_holding_a_run_needs_resume_or_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m");
    let args = |extra: &[&str]| {
        let mut v = vec!["x"];
        v.extend_from_slice(extra);
        Cli::try_parse_from(v).unwrap().train
    };
    // Absent or empty: fine.
    args(&[]).prepare_out_dir(&out, "toy").unwrap();
    std::fs::create_dir_all(&out).unwrap(); // prepare_out_dir creates it (to lock it)
    args(&[]).prepare_out_dir(&out, "toy").unwrap();
    // A partial run (a checkpoint, no config yet), then a finished one.
    for f in ["last.safetensors", "config.json"] {
        let text = if f == "config.json" {
            r#"{"kind":"toy","format_version":1,"config":{}}"#
        } else {
            "weights"
        };
        std::fs::write(out.join(f), text).unwrap();
        let e = args(&[])
            .prepare_out_dir(&out, "toy")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(f) && e.contains("--resume") && e.contains("--overwrite"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }
    // Another kind is refused whatever the flags.
    let e = args(&["--overwrite"])
        .prepare_out_dir(&out, "other")
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"toy\" model"), "{e}");
    // --resume keeps everything; --overwrite removes the trainer's files
    // (the application rewrites config.json and its own files).
    std::fs::write(out.join("history.jsonl"), "{}\n").unwrap();
    std::fs::write(out.join("vocab.json"), "{}").unwrap();
    args(&["--resume"]).prepare_out_dir(&out, "toy").unwrap();
    assert!(out.join("last.safetensors").exists());
    args(&["--overwrite"]).prepare_out_dir(&out, "toy").unwrap();
    assert!(!out.join("last.safetensors").exists());
    assert!(!out.join("history.jsonl").exists());
    assert!(out.join("config.json").exists() && out.join("vocab.json").exists());
    assert!(Cli::try_parse_from(["x", "--resume", "--overwrite"]).is_err());
}

#[test]
fn help_shows_the_application_defaults() {
    let defaults = TrainConfig {
        epochs: 14,
        batch_size: 16,
        optimizer: OptimizerSpec::new(OptimizerKind::Adam, 3e-3),
        clip_grad_norm: Some(5.0),
        ..TrainConfig::default()
    };
    let shown = HelpDefaults::new(&defaults).with("epochs", "14; big: 20");
    let cmd = <Cli as clap::CommandFactory>::command().mut_args(shown.into_fn());
    let help = |id: &str| -> String {
        let arg = cmd.get_arguments().find(|a| a.get_id() == id).unwrap();
        assert!(!arg.is_hide_set(), "{id} hidden");
        arg.get_help().unwrap().to_string()
    };
    assert_eq!(help("epochs"), "Number of epochs [default: 14; big: 20]");
    assert_eq!(help("batch_size"), "Examples per batch [default: 16]");
    assert!(help("lr").ends_with("[default: 0.003]"));
    assert!(help("optimizer").ends_with("[default: adam]"));
    assert!(help("schedule").ends_with("[default: constant]"));
    assert!(help("clip_grad_norm").ends_with("[default: 5]"));
    assert!(help("patience").ends_with("(off unless given)"));
    assert!(help("weight_decay").ends_with("[default: 0; adamw: 0.01]"));
    let split = cmd
        .get_arguments()
        .find(|a| a.get_id() == "validation_split")
        .unwrap();
    assert!(
        split.is_hide_set(),
        "not used unless the application says so"
    );
    let cmd = <Cli as clap::CommandFactory>::command()
        .mut_args(HelpDefaults::new(&defaults).validation_split(0.2).into_fn());
    let split = cmd
        .get_arguments()
        .find(|a| a.get_id() == "validation_split")
        .unwrap();
    assert!(!split.is_hide_set());
    assert!(split
        .get_help()
        .unwrap()
        .to_string()
        .ends_with("[default: 0.2]"));
}

#[test]
fn usage_errors_are_one_line() {
    #[derive(Parser, Debug)]
    struct Cli {
        #[arg(long)]
        out: std::path::PathBuf,
        #[command(flatten)]
        train: TrainArgs,
    }
    for (args, expected) in [
        (
            &["x", "--out", "m", "--epochs", "-1"][..],
            "error: unexpected argument '-1' found",
        ),
        (
            &["x", "--out", "m", "--epochs", "many"][..],
            "error: invalid value 'many' for '--epochs <EPOCHS>': invalid digit found in string",
        ),
        (
            &["x"][..],
            "error: the following required arguments were not provided: --out <OUT>",
        ),
        (
            &["x", "--out", "m", "--optimizer", "lion"][..],
            "error: invalid value 'lion' for '--optimizer <OPTIMIZER>'",
        ),
    ] {
        let e = Cli::try_parse_from(args).unwrap_err();
        let line = sori_train::usage_error_line(&e);
        assert!(line.starts_with(expected), "{args:?}: {line}");
        assert!(!line.contains('\n'), "{line}");
    }
}

#[test]
fn error_line_joins_causes_once() {
    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a.txt: {}", self.0)
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone\nreally");
    // The cause is already in the message: not repeated; the line break goes.
    assert_eq!(sori_train::error_line(&Outer(io)), "a.txt: gone really");
    let e = anyhow::Error::new(std::io::Error::other("disk full")).context("model/config.json");
    assert_eq!(
        sori_train::error_line(e.as_ref()),
        "model/config.json: disk full"
    );
}
