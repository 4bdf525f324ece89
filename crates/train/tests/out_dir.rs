//! The output directory of a training run (issue 21): an exclusive lock
//! refuses a second run into it, `--resume` needs a checkpoint unless
//! `--resume-or-start`, and temporary files of dead writers are removed.
//! "Another process" holding the lock is a second open file description of
//! the directory with `flock` on it (locks of `flock` belong to the open
//! file, so this process conflicts with it exactly as another would); the
//! dead writer is a child that has exited.
use clap::Parser;
use sori_train::TrainArgs;
use std::os::unix::io::AsRawFd;
use std::path::Path;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    train: TrainArgs,
}

fn args(extra: &[&str]) -> TrainArgs {
    let mut v = vec!["x"];
    v.extend_from_slice(extra);
    Cli::try_parse_from(v).unwrap().train
}

/// Locks `dir` as another run would; unlocked when the file is dropped.
fn hold_lock(dir: &Path) -> std::fs::File {
    let f = std::fs::File::open(dir).unwrap();
    // SAFETY: flock on a descriptor we own.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    f
}

#[test]
fn a_second_run_into_a_locked_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("busy");
    std::fs::create_dir(&out).unwrap();
    let other = hold_lock(&out);
    for flags in [&[][..], &["--resume-or-start"], &["--overwrite"]] {
        let e = args(flags)
            .prepare_out_dir(&out, "toy")
            .unwrap_err()
            .to_string();
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(
            e.starts_with(&out.display().to_string()) && e.contains("another training run"),
            "{e}"
        );
    }
    drop(other);
    // Free now: this process takes the lock and keeps it (a second call
    // of its own is fine), so the other "process" cannot.
    args(&[]).prepare_out_dir(&out, "toy").unwrap();
    args(&[]).prepare_out_dir(&out, "toy").unwrap();
    let f = std::fs::File::open(&out).unwrap();
    // SAFETY: flock on a descriptor we own.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_ne!(rc, 0, "the directory was not locked");
    // A directory that does not exist yet is created and locked.
    let fresh = tmp.path().join("a/b");
    args(&[]).prepare_out_dir(&fresh, "toy").unwrap();
    assert!(fresh.is_dir());
}

#[test]
fn resume_needs_a_checkpoint_unless_resume_or_start() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m");
    // A run killed before its first checkpoint: config.json, no last.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(
        out.join("config.json"),
        r#"{"kind":"toy","format_version":1,"config":{}}"#,
    )
    .unwrap();
    let e = args(&["--resume"])
        .prepare_out_dir(&out, "toy")
        .unwrap_err()
        .to_string();
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.contains("no last.safetensors") && e.contains("--resume-or-start"),
        "{e}"
    );
    let a = args(&["--resume-or-start"]);
    a.prepare_out_dir(&out, "toy").unwrap();
    assert!(a.apply(Default::default()).unwrap().resume);
    // With a checkpoint both continue it.
    std::fs::write(out.join("last.safetensors"), "weights").unwrap();
    args(&["--resume"]).prepare_out_dir(&out, "toy").unwrap();
    args(&["--resume-or-start"])
        .prepare_out_dir(&out, "toy")
        .unwrap();
    assert!(Cli::try_parse_from(["x", "--resume", "--resume-or-start"]).is_err());
    assert!(Cli::try_parse_from(["x", "--overwrite", "--resume-or-start"]).is_err());
}

#[test]
fn temporaries_of_dead_writers_are_removed_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m");
    std::fs::create_dir(&out).unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = out.join(format!(".tmp-{dead}-x1y2z3-config.json"));
    let mine = out.join(format!(".tmp-{}-a1b2c3-config.json", std::process::id()));
    std::fs::write(&stale, "{").unwrap();
    std::fs::write(&mine, "{").unwrap();
    args(&[]).prepare_out_dir(&out, "toy").unwrap();
    assert!(!stale.exists(), "the dead writer's temporary file is left");
    assert!(mine.exists(), "a live writer's temporary file was removed");
}
