//! The `imdb` binary as a user meets it (issues 18 and 22): `classify`
//! keeps blank lines in place, says the number is the probability of
//! positive, prints JSON, warns about reviews it cannot read; `eval` scores
//! a user's whole file; `--device` and the default model of `classify` and
//! `eval`; an option of a sibling subcommand is named as such; Ctrl-C in
//! `train` keeps the last epoch and `--resume` continues. Every test runs
//! the built binary.
#[path = "../../train/tests/support/cli_conventions.rs"]
mod conventions;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_imdb");

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

fn imdb(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("SORI_IMDB_MODEL")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const POS: [&str; 4] = ["great", "wonderful", "superb", "lovely"];
const NEG: [&str; 4] = ["awful", "boring", "terrible", "dull"];

/// `n` labelled reviews, label<TAB>text, odd lines positive.
fn write_tsv(path: &Path, n: usize) {
    let mut out = String::new();
    for i in 0..n {
        let words = if i % 2 == 1 { &POS } else { &NEG };
        let review: Vec<&str> = (0..6).map(|k| words[(i * 7 + k * 3) % 4]).collect();
        out.push_str(&format!("{}\tthe movie was {}\n", i % 2, review.join(" ")));
    }
    std::fs::write(path, out).unwrap();
}

/// A small model trained once for the tests that only read it, on reviews
/// whose cue words make the sentiment plain.
fn model() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, dir) = DIR.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("reviews.tsv");
        write_tsv(&data, 200);
        let dir = tmp.path().join("model");
        let o = imdb(&[
            "train",
            "--data",
            &p(&data),
            "--out",
            &p(&dir),
            "--arch",
            "embedding-flatten",
            "--num-words",
            "15",
            "--maxlen",
            "8",
            "--embedding-dim",
            "4",
            "--epochs",
            "30",
            "--lr",
            "0.02",
            "--quiet",
            "--threads",
            "1",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        (tmp, dir)
    });
    dir
}

/// The words the model knows, from its vocab.json (the oracle of
/// `known_words` for lower-case inputs without punctuation).
fn vocabulary(dir: &Path) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("vocab.json")).unwrap()).unwrap();
    v["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

/// The probability `classify` gives one review on its own (text format).
fn probability_alone(m: &str, review: &str) -> f64 {
    let o = imdb(&["classify", "--model", m, review]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let fields: Vec<&str> = out.trim_end().split('\t').collect();
    assert_eq!(fields.len(), 3, "{out}");
    fields[1].parse().unwrap()
}

#[test]
fn classify_keeps_blank_lines_in_place_and_the_number_is_the_probability_of_positive() {
    let tmp = tempfile::tempdir().unwrap();
    let m = p(model());
    let reviews = [
        "a great superb wonderful movie",
        "",
        "   ",
        "an awful boring terrible dull movie",
        "\t",
        "lovely",
    ];
    let file = tmp.path().join("reviews.txt");
    std::fs::write(&file, reviews.join("\n") + "\n").unwrap();
    for source in ["--file", "stdin", "args"] {
        let mut cmd = Command::new(BIN);
        cmd.args(["classify", "--model", &m]);
        match source {
            "--file" => {
                cmd.args(["--file", &p(&file)]);
            }
            "stdin" => {
                cmd.stdin(std::fs::File::open(&file).unwrap());
            }
            _ => {
                cmd.args(reviews);
            }
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{source}: {}", text(&o.stderr));
        let out = text(&o.stdout);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), reviews.len(), "{source}:\n{out}");
        for (line, review) in lines.iter().zip(reviews) {
            if review.trim().is_empty() {
                assert_eq!(*line, "", "{source}: a blank line gives an empty line");
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "{line}");
            let prob: f64 = fields[1].parse().unwrap();
            // The same number as the review classified on its own.
            let alone = probability_alone(&m, review);
            assert!((prob - alone).abs() < 1e-9, "{review}: {prob} vs {alone}");
            assert_eq!(fields[0], if prob >= 0.5 { "positive" } else { "negative" });
            assert!(review.starts_with(fields[2]), "{line}");
        }
    }
    // The number is the probability of POSITIVE: the model learnt that the
    // cue words of label 1 are positive.
    assert!(probability_alone(&m, "great superb wonderful lovely") > 0.5);
    assert!(probability_alone(&m, "awful boring terrible dull") < 0.5);
    let help = text(&imdb(&["classify", "--help"]).stdout);
    assert!(
        help.contains("probability that the review is positive"),
        "{help}"
    );
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(readme.contains("probability that the review is positive"));
    // Only blank lines: nothing to classify.
    let blank = tmp.path().join("blank.txt");
    std::fs::write(&blank, "\n  \n").unwrap();
    let o = imdb(&["classify", "--model", &m, "--file", &p(&blank)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("no reviews"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn classify_json_has_label_probability_and_known_words_and_warns_about_unreadable_reviews() {
    let m = p(model());
    let vocab = vocabulary(model());
    let reviews = [
        "the movie was great",
        "",
        "zebra quantum xylophone",
        "great great unknownword superb",
    ];
    let mut args = vec!["classify", "--model", &m, "--format", "json"];
    args.extend(reviews);
    let o = imdb(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), reviews.len(), "{out}");
    for (line, review) in lines.iter().zip(reviews) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if review.is_empty() {
            assert_eq!(v, serde_json::json!({"skipped": "blank line"}));
            continue;
        }
        let known = review
            .split_whitespace()
            .filter(|w| vocab.iter().any(|v| v == w))
            .count();
        assert_eq!(v["known_words"], known, "{review}: {line}");
        let prob = v["probability"].as_f64().unwrap();
        assert!(
            (prob - probability_alone(&m, review)).abs() < 5e-5,
            "{line}"
        );
        let label = if prob >= 0.5 { "positive" } else { "negative" };
        assert_eq!(v["label"], label, "{line}");
        assert_eq!(v.as_object().unwrap().len(), 3, "{line}");
    }
    // The oracle has both cases: a review it can read and one it cannot.
    assert!(vocab.iter().any(|w| w == "great"));
    assert!(!vocab
        .iter()
        .any(|w| ["zebra", "quantum", "xylophone"].contains(&w.as_str())));
    // One warning, for review 3 only, naming the vocabulary.
    let err = text(&o.stderr);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].contains("review 3"), "{err}");
    assert!(warnings[0].contains("vocab.json"), "{err}");
}

#[test]
fn eval_scores_a_users_whole_file_unless_a_subset_is_given() {
    let tmp = tempfile::tempdir().unwrap();
    let m = p(model());
    let own = tmp.path().join("own.tsv");
    write_tsv(&own, 60);
    let reviews = |args: &[&str]| -> u64 {
        let mut all = vec![
            "eval",
            "--model",
            &m,
            "--data",
            own.to_str().unwrap(),
            "--json",
        ];
        all.extend(args);
        let o = imdb(&all);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
        v["n"].as_u64().unwrap_or_else(|| panic!("{v}"))
    };
    // 60 lines, 30 of each label; the held-out part is 20 % of each label.
    assert_eq!(reviews(&[]), 60);
    assert_eq!(reviews(&["--subset", "all"]), 60);
    assert_eq!(reviews(&["--subset", "test"]), 12);
    assert_eq!(reviews(&["--subset", "train"]), 48);
    let o = imdb(&["eval", "--model", &m, "--data", &p(&own)]);
    let err = text(&o.stderr);
    assert!(
        err.contains("scoring 60 reviews") && err.contains("--subset all"),
        "{err}"
    );
}

#[test]
fn device_and_threads_wherever_the_model_runs() {
    let m = p(model());
    conventions::check_device(
        BIN,
        &["classify", "eval"],
        &[&["classify", "--model", &m, "great"]],
    );
}

#[test]
fn without_model_the_default_model_or_its_variable_is_used() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model();
    let run = |var: Option<&Path>, args: &[&str]| -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args).current_dir(tmp.path());
        match var {
            Some(v) => cmd.env("SORI_IMDB_MODEL", v),
            None => cmd.env_remove("SORI_IMDB_MODEL"),
        };
        cmd.output().unwrap()
    };
    // $SORI_IMDB_MODEL: the same answers as --model.
    let via_var = run(Some(m), &["classify", "great", "awful"]);
    let via_flag = run(None, &["classify", "--model", &p(m), "great", "awful"]);
    assert!(via_var.status.success(), "{}", text(&via_var.stderr));
    assert_eq!(text(&via_var.stdout), text(&via_flag.stdout));
    let data = tmp.path().join("r.tsv");
    write_tsv(&data, 20);
    let o = run(Some(m), &["eval", "--data", &p(&data)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // A variable that points nowhere is named.
    let nowhere = tmp.path().join("nowhere");
    let o = run(Some(&nowhere), &["classify", "great"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr).trim_end(),
        format!(
            "error: {} (from $SORI_IMDB_MODEL): no such model directory",
            nowhere.display()
        )
    );
    // Neither: the checkout's models/imdb-en, or one line saying where it
    // looked.
    conventions::check_default_model_lookup(
        BIN,
        "SORI_IMDB_MODEL",
        "models/imdb-en",
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        tmp.path(),
        &[&["classify", "great"], &["eval", "--data", &p(&data)]],
    );
}

#[test]
fn an_option_of_another_subcommand_is_named_as_such() {
    let o = imdb(&["classify", "--epochs", "3", "great"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stderr),
        "error: unexpected argument '--epochs' for 'imdb classify'; it is an option of 'imdb train'\n"
    );
    // --json: an option of eval only.
    let o = imdb(&["summary", "--json"]);
    assert_eq!(
        text(&o.stderr),
        "error: unexpected argument '--json' for 'imdb summary'; it is an option of 'imdb eval'\n"
    );
    // An option no subcommand has: clap's line without its tip to pass it
    // as a value after `--`.
    let o = imdb(&["classify", "--beam", "3", "great"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stderr),
        "error: unexpected argument '--beam' found\n"
    );
}

/// Waits for `path` to exist; panics after `limit` (a hang guard, not a
/// speed requirement).
fn wait_for(path: &Path, child: &mut std::process::Child, limit: Duration) {
    let start = Instant::now();
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("imdb train ended ({status}) before {}", path.display());
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("{} did not appear", path.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_in_training_keeps_the_last_epoch_exits_130_and_resume_continues() {
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("reviews.tsv");
    write_tsv(&data, 100);
    let out = tmp.path().join("model");
    let log = tmp.path().join("stderr.txt");
    let train = |epochs: &str, extra: &[&str]| -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(["train", "--data", &p(&data), "--out", &p(&out)])
            .args(["--arch", "lstm", "--num-words", "30", "--maxlen", "12"])
            .args(["--embedding-dim", "4", "--hidden", "4", "--epochs", epochs])
            .args(["--quiet", "--threads", "1"])
            .args(extra)
            .env_remove("SORI_IMDB_MODEL");
        // SAFETY: only async-signal-safe calls between fork and exec. A
        // test started in the background inherits an ignored SIGINT; the
        // user at a terminal has the default.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        cmd
    };
    // Far more epochs than it can run before the signal.
    let mut child = train("1000000", &[])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // After the first epoch's checkpoint, Ctrl-C.
    wait_for(
        &out.join("trainer_state.json"),
        &mut child,
        Duration::from_secs(600),
    );
    // SAFETY: sends SIGINT to our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    let err = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    let last = err.lines().last().unwrap();
    // "error: training: interrupted (Ctrl-C) before batch 2 of epoch 7: the
    // checkpoint of epoch 6 in DIR is kept; run the same command with
    // --resume to continue from it"
    assert!(last.contains("interrupted (Ctrl-C)"), "{err}");
    assert!(last.contains("--resume"), "{last}");
    let kept: usize = last
        .split("the checkpoint of epoch ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no kept epoch in {last:?}"));
    assert!(
        last.contains(&format!("in {} is kept", out.display())),
        "{last}"
    );
    // The model directory holds exactly that epoch.
    let history = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), kept, "{history}");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("trainer_state.json")).unwrap())
            .unwrap();
    assert_eq!(state["epoch"], kept, "{state}");
    // --resume continues from it, to two more epochs.
    let target = (kept + 2).to_string();
    let o = train(&target, &["--resume"]).output().unwrap();
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains(&format!("after epoch {kept} ")), "{err}");
    let history = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), kept + 2, "{history}");
    let epochs: Vec<u64> = history
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["epoch"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(epochs, (1..=kept as u64 + 2).collect::<Vec<_>>());
}
