//! The first `make setup` on a fresh machine, without network: an empty cache
//! (`XDG_CACHE_HOME` in a temporary folder) and stub `python3`/`pip` on `PATH`
//! that print noise on stdout and stderr, as the real pip does, and lay out a
//! fake torch tree. `scripts/setup.sh` captures `scripts/setup-libtorch.sh`'s
//! stdout as the libtorch directory, so any noise there breaks the first run
//! (the bug of issue 18: a warm cache hid it).
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writing an executable while another test thread forks leaves the child
/// holding the file open for writing until it execs, and executing the file
/// then fails with ETXTBSY ("Text file busy", a CI failure seen once). Writers
/// take this lock exclusively; spawns share it, and `spawn` returns only after
/// the child has exec'd, so no fork overlaps a write.
static FORK_GUARD: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn write_exe(path: &Path, body: &str) {
    let _writing = FORK_GUARD.write().unwrap_or_else(|e| e.into_inner());
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A clone-like folder with the two set-up scripts and a no-op
/// `setup-system.sh` (apt is not this test's business), plus a `bin/` of stubs.
struct Sandbox {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    cache: PathBuf,
    bin: PathBuf,
}

/// `python3 -m venv DIR` makes DIR/bin/{python,pip}; that pip, asked to install
/// torch, prints progress on stdout and warnings on stderr and writes a torch
/// tree with `lib/libtorch_cpu.so` and `version.py`.
const PYTHON_STUB: &str = r#"#!/usr/bin/env bash
if [ "$1" = -m ] && [ "$2" = venv ]; then
  [ -n "${STUB_VENV_FAILS:-}" ] && { echo "Error: ensurepip is not available" >&2; exit 1; }
  mkdir -p "$3/bin"
  cat > "$3/bin/pip" <<'PIP'
#!/usr/bin/env bash
echo "Looking in links: /nowhere"
echo "Collecting torch==2.13.0"
echo "WARNING: noise on stderr" >&2
venv="$(cd "$(dirname "$0")/.." && pwd)"
case " $* " in
  *" torch==2.13.0 "*)
    t="$venv/lib/python3.11/site-packages/torch"
    mkdir -p "$t/lib"
    : > "$t/lib/libtorch_cpu.so"
    echo "__version__ = '2.13.0+cpu'" > "$t/version.py"
    echo "Successfully installed torch-2.13.0";;
esac
exit 0
PIP
  chmod +x "$3/bin/pip"
  printf '#!/bin/sh\nexit 0\n' > "$3/bin/python"
  chmod +x "$3/bin/python"
  echo "venv created (stdout noise)"
  exit 0
fi
echo "unexpected python3 call: $*" >&2
exit 3
"#;

impl Sandbox {
    fn new() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("clone");
        let scripts = root.join("scripts");
        std::fs::create_dir_all(&scripts).unwrap();
        for name in ["setup.sh", "setup-libtorch.sh"] {
            let src = repo().join("scripts").join(name);
            let body = std::fs::read_to_string(&src).unwrap();
            write_exe(&scripts.join(name), &body);
        }
        write_exe(
            &scripts.join("setup-system.sh"),
            "#!/bin/sh\necho system-noise\nexit 0\n",
        );
        let bin = tmp.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        write_exe(&bin.join("python3"), PYTHON_STUB);
        let cache = tmp.path().join("cache");
        Sandbox {
            _tmp: tmp,
            root,
            cache,
            bin,
        }
    }

    fn run(&self, script: &str, extra_env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new(self.root.join("scripts").join(script));
        cmd.current_dir(&self.root)
            .env_remove("LIBTORCH")
            .env_remove("PYTHON")
            .env_remove("SORI_TORCH")
            .env("XDG_CACHE_HOME", &self.cache)
            .env("PATH", path);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = {
            let _spawning = FORK_GUARD.read().unwrap_or_else(|e| e.into_inner());
            cmd.spawn().unwrap()
        };
        child.wait_with_output().unwrap()
    }

    fn torch_dir(&self) -> PathBuf {
        self.cache
            .join("sori/torch-2.13.0/lib/python3.11/site-packages/torch")
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn setup_libtorch_prints_only_the_directory_on_a_fresh_cache() {
    let sb = Sandbox::new();
    let out = sb.run("setup-libtorch.sh", &[]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let want = format!("{}\n", sb.torch_dir().display());
    assert_eq!(
        text(&out.stdout),
        want,
        "stdout must be the directory alone"
    );
    // The noise went somewhere a person sees it.
    let err = text(&out.stderr);
    assert!(err.contains("Collecting torch==2.13.0"), "stderr: {err}");
    assert!(err.contains("noise on stderr"), "stderr: {err}");
    // A second run answers from the stamp, again with the directory alone.
    let again = sb.run("setup-libtorch.sh", &[]);
    assert!(again.status.success());
    assert_eq!(text(&again.stdout), want);
}

#[test]
fn setup_links_libtorch_on_the_first_run() {
    let sb = Sandbox::new();
    let out = sb.run("setup.sh", &[]);
    assert!(
        out.status.success(),
        "first run failed: {}",
        text(&out.stderr)
    );
    let link = std::fs::read_link(sb.root.join(".libtorch")).expect(".libtorch is a link");
    assert_eq!(link, sb.torch_dir());
    assert!(sb.root.join(".libtorch/lib/libtorch_cpu.so").exists());
    // And the second run is quiet about linking and still succeeds.
    let again = sb.run("setup.sh", &[]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(!text(&again.stderr).contains("linked .libtorch"));
}

#[test]
fn a_missing_venv_module_stops_with_one_line_naming_the_package() {
    let sb = Sandbox::new();
    let out = sb.run("setup.sh", &[("STUB_VENV_FAILS", "1")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("setup-libtorch: error:") && last.contains("python3-venv"),
        "stderr: {err}"
    );
    assert!(!sb.root.join(".libtorch").exists());
}

#[test]
fn a_missing_python_stops_with_one_line() {
    let sb = Sandbox::new();
    let out = sb.run("setup-libtorch.sh", &[("PYTHON", "/nonexistent/python3")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    assert!(err.contains("apt-get install python3"), "stderr: {err}");
    assert!(out.stdout.is_empty());
}
