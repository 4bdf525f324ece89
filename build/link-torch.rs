//! Shared build script for every package whose binaries, tests or examples
//! link libtorch (through `tch`).
//!
//! Why it exists:
//! - binaries must run without `LD_LIBRARY_PATH`, so we embed an rpath to the
//!   libtorch `lib/` directory;
//! - GNU ld's `--as-needed` drops `libtorch_cuda.so` (nothing references its
//!   symbols directly; it registers the CUDA backend from static initialisers),
//!   so a GPU would be invisible even with the full install. We force it in.
//! - a missing libtorch should fail with one line that says how to fix it.
//! - the applications' `--version` names the git commit and the libtorch
//!   they were built with (`SORI_GIT_COMMIT`, `SORI_LIBTORCH_VERSION`; only
//!   for the packages with a binary, so that a commit does not rebuild the
//!   libraries).
use std::path::{Path, PathBuf};
use std::process::Command;

/// Packages whose binaries print `--version` (sori_train::build_info!).
const APPS: [&str; 3] = ["sori-asr", "sori-imdb", "sori-seq2seq"];

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    // sori-ctc links libtorch only through its `tch` feature (on by
    // default); without it the crate is backend-free and needs none.
    if std::env::var("CARGO_PKG_NAME").as_deref() == Ok("sori-ctc")
        && std::env::var_os("CARGO_FEATURE_TCH").is_none()
    {
        return;
    }
    let raw = std::env::var("LIBTORCH").unwrap_or_else(|_| ".libtorch".into());
    let dir = match std::fs::canonicalize(PathBuf::from(&raw)) {
        Ok(d) => d,
        Err(_) => {
            eprintln!(
                "error: libtorch not found at LIBTORCH={raw}. Run `make setup` \
                 (installs PyTorch 2.13.0 into ~/.cache/sori and links it as .libtorch)."
            );
            std::process::exit(1);
        }
    };
    let lib = dir.join("lib");
    if !lib.join("libtorch_cpu.so").exists() {
        eprintln!(
            "error: {} has no libtorch_cpu.so; LIBTORCH must point at a PyTorch 2.13.0 \
             `torch` directory. Run `make setup`.",
            lib.display()
        );
        std::process::exit(1);
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if APPS.contains(&std::env::var("CARGO_PKG_NAME").unwrap_or_default().as_str()) {
        println!(
            "cargo:rustc-env=SORI_LIBTORCH_VERSION={}",
            libtorch_version(&dir).unwrap_or_else(|| "unknown".into())
        );
        println!(
            "cargo:rustc-env=SORI_GIT_COMMIT={}",
            git_commit().unwrap_or_else(|| "unknown".into())
        );
    }
    // The lean CPU install ships libtorch_cuda.so without the CUDA libraries it
    // needs (cuSPARSE, cuDNN, ...); forcing it in there would make every binary
    // fail to start. Only link it when all of its dependencies resolve.
    let cuda = lib.join("libtorch_cuda.so");
    if cuda.exists() && all_dependencies_resolve(&cuda) {
        println!("cargo:rustc-link-search=native={}", lib.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}

/// True when `ldd` finds every shared library that `so` needs.
fn all_dependencies_resolve(so: &std::path::Path) -> bool {
    match std::process::Command::new("ldd").arg(so).output() {
        Ok(out) if out.status.success() => {
            !String::from_utf8_lossy(&out.stdout).contains("not found")
        }
        _ => false,
    }
}

/// `__version__` of the PyTorch package (`version.py`), or the C++
/// distribution's `build-version`.
fn libtorch_version(dir: &Path) -> Option<String> {
    if let Ok(text) = std::fs::read_to_string(dir.join("version.py")) {
        let v = text.lines().find_map(|l| {
            let rest = l.trim().strip_prefix("__version__")?;
            let value = rest.trim_start().strip_prefix('=')?.trim();
            Some(value.trim_matches(|c| c == '\'' || c == '"').to_string())
        });
        if v.is_some() {
            return v;
        }
    }
    std::fs::read_to_string(dir.join("build-version"))
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(std::env::var_os("CARGO_MANIFEST_DIR")?)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The short commit of HEAD; reruns when HEAD or the branch it points to
/// moves (only files that exist are watched: cargo reruns a build script
/// on every build when a watched file is missing).
fn git_commit() -> Option<String> {
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    let mut watched = vec![git(&[
        "rev-parse",
        "--path-format=absolute",
        "--git-path",
        "HEAD",
    ])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            &branch,
        ]));
    }
    watched.push(git(&[
        "rev-parse",
        "--path-format=absolute",
        "--git-path",
        "packed-refs",
    ]));
    for path in watched.into_iter().flatten() {
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(commit)
}
