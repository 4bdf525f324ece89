//! The bad-input matrix shared by the binaries' `tests/bad_inputs.rs`
//! (included there with `#[path]`): each row runs the binary as a
//! subprocess and checks the exit status, that stderr is exactly one line
//! starting with `error:` that mentions the file and the problem, and that
//! no output file was left behind half-written (failing rows: the output
//! does not exist; every row: no `.tmp-*` file next to it). All rows run,
//! then every failure is reported at once.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One row of the matrix.
pub struct Row {
    pub name: &'static str,
    pub args: Vec<OsString>,
    /// Expected exit status: 0 (handled), 1 (bad input), 2 (usage error).
    pub code: i32,
    /// Substrings the error line must contain (the file, the problem).
    pub mentions: Vec<String>,
    /// Files the command would write: absent after a failure, present
    /// after a success.
    pub outputs: Vec<PathBuf>,
    /// A file to read as standard input (none: empty input).
    pub stdin: Option<PathBuf>,
    /// Run without the power to bypass file permissions (see
    /// [`Row::unprivileged`]).
    pub unprivileged: bool,
    /// Standard output must be empty ([`Row::no_stdout`]).
    pub no_stdout: bool,
}

impl Row {
    /// A row expecting exit status `code`.
    pub fn new<S: Into<OsString>>(
        name: &'static str,
        args: impl IntoIterator<Item = S>,
        code: i32,
    ) -> Row {
        Row {
            name,
            args: args.into_iter().map(Into::into).collect(),
            code,
            mentions: Vec::new(),
            outputs: Vec::new(),
            stdin: None,
            unprivileged: false,
            no_stdout: false,
        }
    }
    /// Runs the command without the capabilities that bypass file
    /// permissions, so a `chmod 000` file (see [`make_unreadable`]) is
    /// unreadable to it: as root (how CI runs), under `setpriv` with
    /// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped from the inheritable
    /// and bounding sets (it stays uid 0, so root's 0700 home with libtorch
    /// stays reachable); as any other user, as is. Never skipped: a missing
    /// or refused `setpriv` fails the row.
    pub fn unprivileged(mut self) -> Row {
        self.unprivileged = true;
        self
    }
    /// Standard input is read from `path` (e.g. `/dev/zero`).
    pub fn stdin(mut self, path: impl Into<PathBuf>) -> Row {
        self.stdin = Some(path.into());
        self
    }
    fn stdin_stdio(&self) -> Stdio {
        match &self.stdin {
            Some(path) => std::fs::File::open(path)
                .unwrap_or_else(|e| panic!("row {:?}: {}: {e}", self.name, path.display()))
                .into(),
            None => Stdio::null(),
        }
    }
    /// The error line must contain `text` (a status 0 row: stderr must,
    /// e.g. a note).
    pub fn mentions(mut self, text: impl AsRef<str>) -> Row {
        self.mentions.push(text.as_ref().to_string());
        self
    }
    /// The error line must contain the file name of `path`.
    pub fn names(self, path: &Path) -> Row {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        self.mentions(name)
    }
    pub fn output(mut self, path: &Path) -> Row {
        self.outputs.push(path.to_path_buf());
        self
    }
    /// Standard output must stay empty (nothing printed before the error).
    pub fn no_stdout(mut self) -> Row {
        self.no_stdout = true;
        self
    }
}

fn temp_files_next_to(path: &Path) -> Vec<String> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp-"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Whether the process runs as root, for whom `chmod 000` files stay
/// readable unless the row is [`Row::unprivileged`].
pub fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs every row against `bin` and panics with the list of failures.
pub fn run_matrix(bin: &str, rows: Vec<Row>) {
    let mut failures = Vec::new();
    let n = rows.len();
    let root = running_as_root();
    for row in rows {
        let mut cmd = if row.unprivileged && root {
            let drop = "-dac_override,-dac_read_search";
            let mut c = Command::new("setpriv");
            c.args(["--inh-caps", drop, "--bounding-set", drop, "--"])
                .arg(bin);
            c
        } else {
            Command::new(bin)
        };
        let out = cmd
            .args(&row.args)
            .stdin(row.stdin_stdio())
            .output()
            .unwrap_or_else(|e| {
                let how = if row.unprivileged && root {
                    "setpriv "
                } else {
                    ""
                };
                panic!("row {:?}: {how}{bin}: {e}", row.name)
            });
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let mut problems = Vec::new();
        if row.no_stdout && !out.stdout.is_empty() {
            problems.push(format!(
                "printed {:?} before failing",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        if out.status.code() != Some(row.code) {
            problems.push(format!(
                "exit status {:?}, expected {}",
                out.status.code(),
                row.code
            ));
        }
        if row.code != 0 {
            let lines: Vec<&str> = stderr.lines().collect();
            if lines.len() != 1 || !lines[0].starts_with("error: ") {
                problems.push("stderr is not exactly one `error: ...` line".to_string());
            }
            for m in &row.mentions {
                if !stderr.contains(m.as_str()) {
                    problems.push(format!("error does not mention {m:?}"));
                }
            }
            for o in &row.outputs {
                if o.exists() {
                    problems.push(format!("output {} was written", o.display()));
                }
            }
        } else {
            for o in &row.outputs {
                if !o.exists() {
                    problems.push(format!("output {} is missing", o.display()));
                }
            }
            for m in &row.mentions {
                if !stderr.contains(m.as_str()) {
                    problems.push(format!("stderr does not mention {m:?}"));
                }
            }
        }
        for o in &row.outputs {
            let tmp = temp_files_next_to(o);
            if !tmp.is_empty() {
                problems.push(format!(
                    "temporary files left next to {}: {tmp:?}",
                    o.display()
                ));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "row {:?} ({}):\n    {}\n    stderr: {}",
                row.name,
                row.args
                    .iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" "),
                problems.join("; "),
                stderr.trim_end().replace('\n', "\n            ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `chmod 000` (Unix), for the unreadable-file rows (which must be
/// [`Row::unprivileged`] to stay unreadable when the tests run as root).
pub fn make_unreadable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
}

/// A model directory whose `config.json` says it is a model of `kind` in
/// format `version` (no weights).
pub fn fake_model_dir(path: &Path, kind: &str, version: u32) {
    std::fs::create_dir_all(path).unwrap();
    std::fs::write(
        path.join("config.json"),
        format!("{{\"kind\":\"{kind}\",\"format_version\":{version},\"sori_version\":\"0.0.0\",\"config\":{{}}}}\n"),
    )
    .unwrap();
}
