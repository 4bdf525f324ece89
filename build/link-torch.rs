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
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
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
