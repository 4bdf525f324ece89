//! The bad-input matrix of the `asr` binary (issue 10): every row runs
//! `asr` as a subprocess and checks the exit status (0 handled, 1 bad input,
//! 2 usage error), that stderr is one `error: ...` line naming the file and
//! the problem, and that no output was left half-written. Rows already in
//! `tests/cli.rs` (broken training manifest line, out-of-vocabulary
//! validation text, transcribe with a model of another kind, one bad file
//! among good ones) are not repeated.
#[path = "../../train/tests/support/bad_input_matrix.rs"]
mod matrix;

use matrix::{fake_model_dir, make_unreadable, run_matrix, Row};
use sori_asr::support::bench_audio::save_tiny_model;
use std::path::{Path, PathBuf};

/// A 16-bit PCM WAV of `seconds` of a 440 Hz tone.
fn write_wav(path: &Path, sample_rate: u32, channels: u16, seconds: f32) {
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = (seconds * sample_rate as f32) as usize;
    for i in 0..n {
        let t = i as f32 / sample_rate as f32;
        let s = ((t * 440.0 * std::f32::consts::TAU).sin() * 12000.0) as i16;
        for _ in 0..channels {
            w.write_sample(s).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// An untrained model (enough for loading and decoding).
fn model_dir(path: &Path) {
    save_tiny_model(path, "abc", 8, 1).unwrap();
}

/// A copy of model directory `from` at `to`, to tamper with.
fn tampered_copy(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to.to_path_buf()
}

/// Overwrites the first value of the first F32 tensor of a safetensors
/// file with NaN (header: 8-byte length, JSON, then the data).
fn poison_first_float(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let (_, t) = header
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, v)| *k != "__metadata__" && v["dtype"] == "F32")
        .expect("an F32 tensor");
    let start = 8 + n + t["data_offsets"][0].as_u64().unwrap() as usize;
    bytes[start..start + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

#[test]
fn asr_bad_input_matrix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| -> PathBuf { tmp.path().join(name) };
    let model = d("model");
    model_dir(&model);
    let ok = d("ok.wav");
    write_wav(&ok, 16000, 1, 1.0);
    let stereo44 = d("stereo44k.wav");
    write_wav(&stereo44, 44100, 2, 1.0);
    let mono8 = d("mono8k.wav");
    write_wav(&mono8, 8000, 1, 1.0);
    let bytes = std::fs::read(&ok).unwrap();
    let truncated = d("truncated.wav");
    std::fs::write(&truncated, &bytes[..200]).unwrap();
    let garbage = d("garbage.wav");
    std::fs::write(&garbage, b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk").unwrap();
    let text_as_wav = d("notes.wav");
    std::fs::write(&text_as_wav, "these are meeting notes, not audio\n").unwrap();
    let empty_wav = d("empty.wav");
    std::fs::write(&empty_wav, b"").unwrap();
    let a_dir = d("recordings");
    std::fs::create_dir(&a_dir).unwrap();
    let missing = d("missing.wav");
    let good_manifest = d("good.jsonl");
    std::fs::write(&good_manifest, "{\"audio\":\"ok.wav\",\"text\":\"abc\"}\n").unwrap();
    let own_wav = d("own.wav");
    std::fs::copy(&ok, &own_wav).unwrap();
    let link_to_wav = d("own-link.npy");
    std::os::unix::fs::symlink(&own_wav, &link_to_wav).unwrap();
    let (same_a, same_b) = (d("take1/x.wav"), d("take2/x.wav"));
    for f in [&same_a, &same_b] {
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::copy(&ok, f).unwrap();
    }
    let too_long = d("too-long.jsonl");
    std::fs::write(
        &too_long,
        format!(
            "{{\"audio\":\"ok.wav\",\"text\":\"abc\"}}\n{{\"audio\":\"ok.wav\",\"text\":\"{}\"}}\n",
            "abc".repeat(100)
        ),
    )
    .unwrap();
    let empty_manifest = d("empty.jsonl");
    std::fs::write(&empty_manifest, "").unwrap();
    let broken = d("broken.jsonl");
    std::fs::write(
        &broken,
        "{\"audio\":\"ok.wav\",\"text\":\"abc\"}\n{\"audio\":\"ok.wav\",\"text\":\n",
    )
    .unwrap();
    let unknown_chars = d("unknown-chars.jsonl");
    std::fs::write(
        &unknown_chars,
        "{\"audio\":\"ok.wav\",\"text\":\"안녕 ÿ@#\"}\n",
    )
    .unwrap();
    // config.json linked to an endless device: refused after a bounded
    // read (issue 21), not read until memory runs out.
    let zero_config = d("zero-config");
    std::fs::create_dir(&zero_config).unwrap();
    for entry in std::fs::read_dir(&model).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "config.json" {
            std::fs::copy(entry.path(), zero_config.join(entry.file_name())).unwrap();
        }
    }
    std::os::unix::fs::symlink("/dev/zero", zero_config.join("config.json")).unwrap();
    // Tampered models (issue 21): a duplicated vocabulary label, a NaN
    // weight. Refused at load, naming the file.
    let dup_label = tampered_copy(&model, &d("dup-label"));
    {
        let path = dup_label.join("config.json");
        let mut cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let labels = cfg["config"]["vocab"]["labels"].as_array_mut().unwrap();
        let first = labels[1].clone();
        labels[2] = first;
        std::fs::write(&path, cfg.to_string()).unwrap();
    }
    let nan_weight = tampered_copy(&model, &d("nan-weight"));
    poison_first_float(&nan_weight.join("last.safetensors"));
    // Inputs linked to an endless device (issue 21): each refused after a
    // bounded read.
    let (zero_wav, zero_jsonl, zero_txt) = (d("zero.wav"), d("zero.jsonl"), d("zero.txt"));
    for link in [&zero_wav, &zero_jsonl, &zero_txt] {
        std::os::unix::fs::symlink("/dev/zero", link).unwrap();
    }
    let empty_reference = d("empty-reference.jsonl");
    std::fs::write(
        &empty_reference,
        "{\"audio\":\"ok.wav\",\"text\":\"abc\"}\n{\"audio\":\"ok.wav\",\"text\":\" \"}\n",
    )
    .unwrap();
    let missing_audio = d("missing-audio.jsonl");
    std::fs::write(
        &missing_audio,
        "{\"audio\":\"gone.wav\",\"text\":\"abc\"}\n",
    )
    .unwrap();
    let imdb_model = d("imdb-model");
    fake_model_dir(&imdb_model, "sori-imdb", 1);
    let future_model = d("future-model");
    let cfg = std::fs::read_to_string(model.join("config.json")).unwrap();
    std::fs::create_dir(&future_model).unwrap();
    std::fs::write(
        future_model.join("config.json"),
        cfg.replace("\"format_version\": 1", "\"format_version\": 99"),
    )
    .unwrap();
    let no_weights = d("no-weights");
    std::fs::create_dir(&no_weights).unwrap();
    std::fs::copy(model.join("config.json"), no_weights.join("config.json")).unwrap();
    let unreadable = d("unreadable.jsonl");
    std::fs::copy(&good_manifest, &unreadable).unwrap();
    make_unreadable(&unreadable);

    let m = p(&model);
    // config.json with absurd sizes (issue 21): refused at load, naming the
    // file, before anything is allocated.
    let tampered = |name: &str, change: &dyn Fn(&mut serde_json::Value)| -> String {
        let dir = d(name);
        std::fs::create_dir(&dir).unwrap();
        for entry in std::fs::read_dir(&model).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        let text = std::fs::read_to_string(model.join("config.json")).unwrap();
        let mut cfg: serde_json::Value = serde_json::from_str(&text).unwrap();
        change(&mut cfg["config"]);
        std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
        p(&dir)
    };
    let huge = serde_json::json!(1_000_000_000u64);
    let huge_hidden = tampered("huge-hidden", &|c| c["encoder"]["hidden"] = huge.clone());
    let huge_layers = tampered("huge-layers", &|c| c["encoder"]["layers"] = huge.clone());
    let huge_mels = tampered("huge-mels", &|c| c["frontend"]["n_mels"] = huge.clone());
    let huge_ceps = tampered("huge-ceps", &|c| c["frontend"]["n_ceps"] = huge.clone());
    let huge_stack = tampered("huge-stack", &|c| {
        let sub = c["encoder"]["subsample"].as_object_mut().expect("stacking");
        let (_, factor) = sub.iter_mut().next().unwrap();
        *factor = huge.clone();
    });
    let transcribe = |extra: &[&str]| -> Vec<String> {
        let mut v = vec![
            "transcribe".to_string(),
            p(&ok),
            "--model".into(),
            m.clone(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let train = |manifest: &Path, out: &str, extra: &[&str]| -> Vec<String> {
        let mut v = vec![
            "train".to_string(),
            "--train".into(),
            p(manifest),
            "--out".into(),
            p(&d(out)),
            "--quiet".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let eval_with = |model: &str| -> Vec<String> {
        vec![
            "eval".to_string(),
            "--manifest".into(),
            p(&good_manifest),
            "--model".into(),
            model.to_string(),
        ]
    };
    let eval_good = |extra: &[&str]| -> Vec<String> {
        let mut v = vec![
            "eval".to_string(),
            "--manifest".into(),
            p(&good_manifest),
            "--model".into(),
            m.clone(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let mut rows = vec![
        // Values that must be refused as usage errors, and absurd sizes
        // (issue 21).
        Row::new(
            "transcribe: --chunk-seconds 0",
            transcribe(&["--chunk-seconds", "0"]),
            2,
        )
        .mentions("--chunk-seconds"),
        Row::new(
            "transcribe: --chunk-seconds -1",
            transcribe(&["--chunk-seconds=-1"]),
            2,
        )
        .mentions("--chunk-seconds"),
        Row::new(
            "transcribe: --chunk-seconds nan",
            transcribe(&["--chunk-seconds", "nan"]),
            2,
        )
        .mentions("--chunk-seconds"),
        Row::new(
            "transcribe: --chunk-seconds 1e-9",
            transcribe(&["--chunk-seconds", "1e-9"]),
            2,
        )
        .mentions("--chunk-seconds"),
        Row::new(
            "transcribe: --alpha nan",
            transcribe(&["--beam", "2", "--alpha", "nan"]),
            2,
        )
        .mentions("--alpha"),
        Row::new(
            "transcribe: --beta -inf",
            transcribe(&["--beam", "2", "--beta=-inf"]),
            2,
        )
        .mentions("--beta"),
        Row::new(
            "eval: --alpha 1,nan",
            eval_good(&["--beam", "2", "--alpha", "1,nan"]),
            2,
        )
        .mentions("--alpha"),
        Row::new(
            "transcribe: --beam 10000000",
            transcribe(&["--beam", "10000000"]),
            2,
        )
        .mentions("--beam"),
        Row::new("transcribe: --threads -1", transcribe(&["--threads=-1"]), 2)
            .mentions("--threads"),
        Row::new(
            "transcribe: --threads 4294967297",
            transcribe(&["--threads", "4294967297"]),
            2,
        )
        .mentions("--threads"),
        Row::new(
            "align: --threads 4294967297",
            [
                "align",
                &p(&ok),
                "abc",
                "--model",
                &m,
                "--threads",
                "4294967297",
            ],
            2,
        )
        .mentions("--threads"),
        Row::new(
            "transcribe: --threads above the cores is capped with a note",
            transcribe(&["--threads", "60000"]),
            0,
        )
        .mentions("note: --threads 60000 is more than the"),
        Row::new(
            "train: --noise-prob 2",
            train(&good_manifest, "o-flags", &["--noise-prob", "2"]),
            2,
        )
        .mentions("--noise-prob")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --noise-prob nan",
            train(&good_manifest, "o-flags", &["--noise-prob", "nan"]),
            2,
        )
        .mentions("--noise-prob")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --snr nan,nan",
            train(&good_manifest, "o-flags", &["--snr", "nan,nan"]),
            2,
        )
        .mentions("--snr")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --warmup-steps u64::MAX",
            train(
                &good_manifest,
                "o-flags",
                &["--warmup-steps", "18446744073709551615"],
            ),
            2,
        )
        .mentions("--warmup-steps")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --threads 4294967297",
            train(&good_manifest, "o-flags", &["--threads", "4294967297"]),
            2,
        )
        .mentions("--threads")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --hidden 1000000000",
            train(&good_manifest, "o-flags", &["--hidden", "1000000000"]),
            2,
        )
        .mentions("--hidden")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --n-mels 1000000000",
            train(&good_manifest, "o-flags", &["--n-mels", "1000000000"]),
            2,
        )
        .mentions("--n-mels")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: sizes within their limits, too many parameters together",
            train(
                &good_manifest,
                "o-flags",
                &["--hidden", "16384", "--layers", "4"],
            ),
            1,
        )
        .mentions("parameters")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "transcribe: config.json with encoder hidden 1e9",
            ["transcribe", &p(&ok), "--model", &huge_hidden],
            1,
        )
        .mentions("huge-hidden/config.json")
        .mentions("hidden"),
        Row::new(
            "transcribe: config.json with encoder layers 1e9",
            ["transcribe", &p(&ok), "--model", &huge_layers],
            1,
        )
        .mentions("huge-layers/config.json")
        .mentions("layers"),
        Row::new(
            "transcribe: config.json with stacking 1e9",
            ["transcribe", &p(&ok), "--model", &huge_stack],
            1,
        )
        .mentions("huge-stack/config.json")
        .mentions("subsampling"),
        Row::new(
            "eval: config.json with n_mels 1e9",
            eval_with(&huge_mels),
            1,
        )
        .mentions("huge-mels/config.json")
        .mentions("n_mels"),
        Row::new(
            "align: config.json with n_ceps 1e9",
            ["align", &p(&ok), "abc", "--model", &huge_ceps],
            1,
        )
        .mentions("huge-ceps/config.json")
        .mentions("n_ceps"),
        // Missing files.
        Row::new(
            "transcribe: missing WAV",
            ["transcribe", &p(&missing), "--model", &m],
            1,
        )
        .names(&missing)
        .mentions("No such file"),
        Row::new(
            "train: missing manifest",
            train(&d("nope.jsonl"), "o-missing", &[]),
            1,
        )
        .names(&d("nope.jsonl"))
        .mentions("No such file")
        .output(&d("o-missing").join("config.json")),
        Row::new(
            "transcribe: a vocabulary label twice in config.json",
            ["transcribe", &p(&ok), "--model", &p(&dup_label)],
            1,
        )
        .mentions("config.json")
        .mentions("appears twice"),
        Row::new(
            "transcribe: a NaN in the weights",
            ["transcribe", &p(&ok), "--model", &p(&nan_weight)],
            1,
        )
        .mentions("last.safetensors")
        .mentions("NaN or infinite"),
        // A training that fails after preparing a new --out leaves no empty
        // directory behind (issue 21).
        Row::new(
            "train: broken manifest into a new --out",
            [
                "train",
                "--train",
                &p(&broken),
                "--out",
                &p(&d("fresh-out")),
                "--epochs",
                "1",
            ],
            1,
        )
        .mentions("broken.jsonl:2:")
        .output(&d("fresh-out")),
        Row::new(
            "transcribe: a WAV linked to /dev/zero",
            ["transcribe", &p(&zero_wav), "--model", &m],
            1,
        )
        .mentions("zero.wav")
        .mentions("no known audio format"),
        Row::new(
            "eval: a manifest linked to /dev/zero",
            ["eval", "--manifest", &p(&zero_jsonl), "--model", &m],
            1,
        )
        .mentions("zero.jsonl:1:")
        .mentions("longer than"),
        Row::new(
            "lm: training text linked to /dev/zero",
            [
                "lm",
                "--text",
                &p(&zero_txt),
                "--out",
                &p(&d("zero-lm.arpa")),
            ],
            1,
        )
        .mentions("zero.txt:1:")
        .mentions("longer than")
        .output(&d("zero-lm.arpa")),
        Row::new(
            "transcribe: config.json is a link to /dev/zero",
            ["transcribe", &p(&ok), "--model", &p(&zero_config)],
            1,
        )
        .mentions("config.json")
        .mentions("larger than 16 MB"),
        // An empty reference has nothing to score against: an error for
        // that utterance (issue 21), not an infinite error rate.
        Row::new(
            "eval: an utterance with an empty reference",
            ["eval", "--manifest", &p(&empty_reference), "--model", &m],
            1,
        )
        .mentions("empty reference transcript"),
        Row::new(
            "eval: manifest names a missing WAV",
            ["eval", "--manifest", &p(&missing_audio), "--model", &m],
            1,
        )
        .mentions("gone.wav"),
        Row::new(
            "transcribe: missing model directory",
            ["transcribe", &p(&ok), "--model", &p(&d("no-model"))],
            1,
        )
        .mentions("no-model")
        .mentions("no such model directory"),
        // A directory instead of a file.
        Row::new(
            "features: directory instead of WAV",
            ["features", &p(&a_dir)],
            1,
        )
        .names(&a_dir)
        .mentions("directory"),
        Row::new(
            "train: directory instead of manifest",
            train(&a_dir, "o-dir", &[]),
            1,
        )
        .names(&a_dir)
        .mentions("directory")
        .output(&d("o-dir").join("config.json")),
        Row::new(
            "transcribe: a file instead of the model directory",
            ["transcribe", &p(&ok), "--model", &p(&ok)],
            1,
        )
        .names(&ok)
        .mentions("model directory"),
        // Empty files.
        Row::new(
            "transcribe: empty WAV",
            ["transcribe", &p(&empty_wav), "--model", &m],
            1,
        )
        .names(&empty_wav)
        .mentions("WAV"),
        Row::new(
            "train: empty manifest",
            train(&empty_manifest, "o-empty", &[]),
            1,
        )
        .names(&empty_manifest)
        .mentions("no utterances")
        .output(&d("o-empty").join("config.json")),
        Row::new(
            "eval: empty manifest",
            ["eval", "--manifest", &p(&empty_manifest), "--model", &m],
            1,
        )
        .names(&empty_manifest)
        .mentions("no utterances"),
        // Corrupt WAVs.
        Row::new(
            "features: garbage WAV",
            ["features", &p(&garbage), "-o", &p(&d("garbage.npy"))],
            1,
        )
        .names(&garbage)
        .mentions("WAV")
        .output(&d("garbage.npy")),
        Row::new(
            "features: truncated WAV",
            ["features", &p(&truncated), "-o", &p(&d("truncated.npy"))],
            1,
        )
        .names(&truncated)
        .mentions("truncated WAV")
        .output(&d("truncated.npy")),
        Row::new(
            "features: text named .wav",
            ["features", &p(&text_as_wav), "-o", &p(&d("notes.csv"))],
            1,
        )
        .names(&text_as_wav)
        .mentions("WAV")
        .output(&d("notes.csv")),
        // Other sample rates and channel counts are resampled and mixed down.
        Row::new(
            "features: 44.1 kHz stereo",
            ["features", &p(&stereo44), "-o", &p(&d("stereo44k.npy"))],
            0,
        )
        .output(&d("stereo44k.npy")),
        Row::new(
            "transcribe: 44.1 kHz stereo and 8 kHz mono",
            ["transcribe", &p(&stereo44), &p(&mono8), "--model", &m],
            0,
        ),
        // Broken JSONL (eval; the training manifest's row is in cli.rs).
        Row::new(
            "eval: broken JSONL line",
            ["eval", "--manifest", &p(&broken), "--model", &m],
            1,
        )
        .mentions("broken.jsonl:2:"),
        // Characters the model has never seen are scored as errors.
        Row::new(
            "eval: unknown characters in the reference",
            ["eval", "--manifest", &p(&unknown_chars), "--model", &m],
            0,
        ),
        // Model directories of another kind or format version.
        Row::new(
            "eval: model of another kind",
            [
                "eval",
                "--manifest",
                &p(&good_manifest),
                "--model",
                &p(&imdb_model),
            ],
            1,
        )
        .mentions("config.json")
        .mentions("sori-imdb"),
        Row::new(
            "transcribe: config.json of format version 99",
            ["transcribe", &p(&ok), "--model", &p(&future_model)],
            1,
        )
        .mentions("config.json")
        .mentions("format version 99"),
        Row::new(
            "transcribe: model without weights",
            ["transcribe", &p(&ok), "--model", &p(&no_weights)],
            1,
        )
        .names(&no_weights)
        .mentions("no weights"),
        Row::new(
            "train: --out holds a model of another kind",
            train(&good_manifest, "imdb-model", &[]),
            1,
        )
        .mentions("config.json")
        .mentions("sori-imdb"),
        // Out-of-range and conflicting flags.
        Row::new(
            "eval: --neighbour-weight 1.5",
            eval_good(&[
                "--choices",
                "abc,cab",
                "--neighbours",
                "3",
                "--neighbour-weight",
                "1.5",
            ]),
            1,
        )
        .mentions("--neighbour-weight must be in (0, 1)"),
        Row::new(
            "eval: --neighbours without --choices",
            eval_good(&["--neighbours", "3"]),
            2,
        )
        .mentions("--choices"),
        Row::new(
            "eval: --balanced with --choices",
            eval_good(&["--choices", "abc,cab", "--neighbours", "3", "--balanced"]),
            0,
        ),
        Row::new(
            "train: --epochs 0",
            train(&good_manifest, "o-flags", &["--epochs", "0"]),
            1,
        )
        .mentions("--epochs")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --lr -1",
            train(&good_manifest, "o-flags", &["--lr=-1"]),
            1,
        )
        .mentions("learning rate")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --momentum 2",
            train(&good_manifest, "o-flags", &["--momentum", "2"]),
            1,
        )
        .mentions("momentum")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --validation-split 1.5",
            train(&good_manifest, "o-flags", &["--validation-split", "1.5"]),
            1,
        )
        .mentions("--validation-split")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --hidden 0",
            train(&good_manifest, "o-flags", &["--hidden", "0"]),
            2,
        )
        .mentions("hidden")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --vtlp out of range",
            train(&good_manifest, "o-flags", &["--vtlp", "0.2,1.1"]),
            1,
        )
        .mentions("VTLP")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --copies 0",
            train(&good_manifest, "o-flags", &["--copies", "0"]),
            1,
        )
        .mentions("copies")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "align: transcript outside the vocabulary",
            ["align", &p(&ok), "日本", "--model", &m],
            1,
        )
        .names(&ok)
        .mentions("cannot output"),
        Row::new(
            "align: empty transcript",
            ["align", &p(&ok), "  ", "--model", &m],
            1,
        )
        .names(&ok)
        .mentions("empty"),
        Row::new(
            "align: empty WAV",
            ["align", &p(&empty_wav), "a", "--model", &m],
            1,
        )
        .names(&empty_wav)
        .mentions("WAV"),
        Row::new(
            "train: --snr high,low",
            train(&good_manifest, "o-flags", &["--snr", "30,10"]),
            1,
        )
        .mentions("--snr")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --device cuda without a GPU",
            train(&good_manifest, "o-flags", &["--device", "cuda"]),
            1,
        )
        .mentions("--device cuda")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --epochs not a number",
            train(&good_manifest, "o-flags", &["--epochs", "many"]),
            2,
        )
        .mentions("--epochs")
        .output(&d("o-flags").join("config.json")),
        Row::new(
            "train: --on-nan unknown",
            train(&good_manifest, "o-flags", &["--on-nan", "ignore"]),
            2,
        )
        .mentions("--on-nan"),
        // Issue 21: an output onto an input, two outputs onto one name.
        Row::new(
            "features: -o names the input",
            ["features", &p(&own_wav), "-o", &p(&own_wav)],
            1,
        )
        .names(&own_wav)
        .mentions("is the input"),
        Row::new(
            "features: -o is a link to the input",
            ["features", &p(&own_wav), "-o", &p(&link_to_wav)],
            1,
        )
        .names(&link_to_wav)
        .mentions("is the input"),
        Row::new(
            "features: two inputs with the same name into one directory",
            [
                "features",
                &p(&same_a),
                &p(&same_b),
                "-o",
                &p(&d("same-out")),
            ],
            1,
        )
        .mentions(p(&same_a))
        .mentions(p(&same_b))
        .mentions("would both be written to")
        .output(&d("same-out").join("x.npy")),
        Row::new(
            "train: --resume without a checkpoint",
            train(&good_manifest, "o-noresume", &["--resume"]),
            1,
        )
        .names(&d("o-noresume"))
        .mentions("--resume-or-start")
        .output(&d("o-noresume").join("config.json")),
        Row::new(
            "features: two files, no -o DIR",
            ["features", &p(&ok), &p(&mono8)],
            1,
        )
        .mentions("-o DIR"),
        Row::new(
            "features: --rate 0",
            [
                "features",
                &p(&ok),
                "--rate",
                "0",
                "-o",
                &p(&d("rate0.npy")),
            ],
            1,
        )
        .mentions("sample_rate")
        .output(&d("rate0.npy")),
        Row::new("unknown subcommand", ["recognise", &p(&ok)], 2).mentions("recognise"),
        // Issue 21: 300 labels on 1 s of audio (98 frames, 33 encoder steps
        // in stacks of 3) cannot be aligned; line 2 of the manifest.
        Row::new(
            "train: a transcript CTC cannot align, --strict",
            train(&too_long, "o-strict", &["--strict", "--epochs", "1"]),
            1,
        )
        .mentions(format!("{}:2:", p(&too_long)))
        .mentions("CTC cannot align")
        .output(&d("o-strict").join("config.json")),
        Row::new(
            "train: a transcript CTC cannot align is skipped with a warning",
            train(
                &too_long,
                "o-skip",
                &["--epochs", "1", "--hidden", "8", "--layers", "1"],
            ),
            0,
        )
        .mentions(format!("{}:2:", p(&too_long)))
        .mentions("skipped 1 of 2 training utterances that CTC cannot align")
        .output(&d("o-skip").join("config.json")),
        Row::new(
            "train: a validation transcript CTC cannot align is skipped with a warning",
            train(
                &good_manifest,
                "o-skip-valid",
                &[
                    "--valid",
                    &p(&too_long),
                    "--epochs",
                    "1",
                    "--hidden",
                    "8",
                    "--layers",
                    "1",
                ],
            ),
            0,
        )
        .mentions(format!("{}:2:", p(&too_long)))
        .mentions("skipped 1 of 2 validation utterances that CTC cannot align")
        .output(&d("o-skip-valid").join("config.json")),
    ];
    if tch::Cuda::is_available() {
        rows.retain(|r| !r.name.contains("--device cuda"));
    }
    // Also as root: the row runs without the capabilities that bypass permissions.
    rows.push(
        Row::new(
            "train: unreadable manifest",
            train(&unreadable, "o-unreadable", &[]),
            1,
        )
        .names(&unreadable)
        .mentions("Permission denied")
        .output(&d("o-unreadable").join("config.json"))
        .unprivileged(),
    );
    rows.extend(folder_and_stream_rows(tmp.path(), &ok, &m));
    run_matrix(env!("CARGO_BIN_EXE_asr"), rows);
    // The recording named as its own output is untouched.
    assert_eq!(std::fs::read(&own_wav).unwrap(), bytes);
    // The model directory of another kind was left alone.
    let cfg = std::fs::read_to_string(imdb_model.join("config.json")).unwrap();
    assert!(cfg.contains("sori-imdb"), "{cfg}");
}

/// Issue 17's rows: folders, patterns, zero-length streams, damage in the
/// middle of a compressed file, output directories. (A folder whose other
/// files are still transcribed around a bad one is `tests/folders.rs`:
/// there the summary line follows the errors.)
fn folder_and_stream_rows(tmp: &Path, ok: &Path, m: &str) -> Vec<Row> {
    let d = |name: &str| -> PathBuf { tmp.join(name) };
    let no_audio = d("no-audio");
    std::fs::create_dir(&no_audio).unwrap();
    std::fs::write(no_audio.join("notes.txt"), "not audio\n").unwrap();
    std::fs::create_dir(no_audio.join("sub")).unwrap();
    let locked_dir = d("locked-inside");
    std::fs::create_dir(&locked_dir).unwrap();
    let locked = locked_dir.join("locked.wav");
    std::fs::copy(ok, &locked).unwrap();
    make_unreadable(&locked);
    let empty_flac = d("empty.flac");
    std::fs::write(&empty_flac, b"").unwrap();
    let no_samples = d("no-samples.wav");
    write_wav(&no_samples, 16000, 1, 0.0);
    // The committed AAC fixture of sori-features with 64 bytes flipped in
    // the middle: the decoder rejects that packet.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../features/tests/fixtures/formats/speech16k-aac.m4a");
    let mut bytes = std::fs::read(&fixture).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5A;
    }
    let corrupt = d("corrupt-middle.m4a");
    std::fs::write(&corrupt, &bytes).unwrap();
    let a_file = d("not-a-dir");
    std::fs::write(&a_file, "x").unwrap();
    let pattern = format!("{}/*.flac", p(&d("no-such-folder")));
    vec![
        Row::new(
            "transcribe: a directory with no audio files",
            ["transcribe", &p(&no_audio), "--model", m],
            1,
        )
        .names(&no_audio)
        .mentions("no audio files")
        .mentions("--recursive"),
        Row::new(
            "transcribe: a quoted pattern that matches nothing",
            ["transcribe", &pattern, "--model", m],
            1,
        )
        .mentions(&pattern)
        .mentions("no file matches"),
        Row::new(
            "transcribe: an unreadable file inside a directory",
            ["transcribe", &p(&locked_dir), "--model", m],
            1,
        )
        .names(&locked)
        .mentions("Permission denied")
        .unprivileged(),
        Row::new(
            "transcribe: zero-length standard input",
            ["transcribe", "-", "--model", m],
            1,
        )
        .stdin("/dev/null")
        .mentions("-: ")
        .mentions("empty"),
        Row::new(
            "align: zero-length standard input",
            ["align", "-", "abc", "--model", m],
            1,
        )
        .stdin("/dev/null")
        .mentions("-: ")
        .mentions("empty"),
        Row::new(
            "transcribe: zero-length FLAC file",
            ["transcribe", &p(&empty_flac), "--model", m],
            1,
        )
        .names(&empty_flac)
        .mentions("not a valid FLAC file")
        .mentions("empty input"),
        Row::new(
            "transcribe: WAV header with no samples",
            ["transcribe", &p(&no_samples), "--model", m],
            1,
        )
        .names(&no_samples)
        .mentions("empty audio"),
        Row::new(
            "transcribe: corrupt frames in the middle of an M4A",
            ["transcribe", &p(&corrupt), "--model", m],
            1,
        )
        .names(&corrupt)
        .mentions("corrupt MP4/M4A data at"),
        Row::new(
            "transcribe: --format srt of two files to standard output",
            [
                "transcribe",
                &p(ok),
                &p(ok),
                "--model",
                m,
                "--format",
                "srt",
            ],
            1,
        )
        .mentions("--output-dir"),
        Row::new(
            "transcribe: --output-dir names a file",
            [
                "transcribe",
                &p(ok),
                "--model",
                m,
                "--output-dir",
                &p(&a_file),
            ],
            1,
        )
        .names(&a_file)
        .mentions("cannot create the directory"),
        Row::new(
            "transcribe: --overwrite without --output-dir",
            ["transcribe", &p(ok), "--model", m, "--overwrite"],
            2,
        )
        .mentions("--output-dir"),
        Row::new(
            "transcribe: --drop-silence 0.1",
            ["transcribe", &p(ok), "--model", m, "--drop-silence", "0.1"],
            2,
        )
        .mentions("--drop-silence"),
        Row::new(
            "transcribe: --max-cue-chars 0",
            ["transcribe", &p(ok), "--model", m, "--max-cue-chars", "0"],
            2,
        )
        .mentions("--max-cue-chars"),
    ]
}
