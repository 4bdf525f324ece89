//! Files written whole or not at all.
//!
//! Every file sori writes for a user (features, manifests, checkpoints,
//! vocabularies, transcripts, scores) goes through [`write_with`]: the
//! content is written to a temporary file beside the target, flushed to
//! disk, and renamed over the target, so a crash, a full disk or a killed
//! process leaves either the old file or the new one, never half of one.
//! It is its own crate because both a backend-free leaf (`sori-features`)
//! and the libtorch side (`sori-train`, and through it the applications)
//! need it, and one copy is what keeps them behaving alike.
//!
//! The temporary file is named `.tmp-<pid>-<random>-<target name>`: hidden,
//! in the same directory (a rename across file systems would not be atomic),
//! ending in the target's own name so writers that pick a format by
//! extension see the right one, and naming the process that wrote it. It is
//! removed when writing fails; a process killed mid-write can leave one
//! behind (no destructor runs), which is harmless and recognisable by its
//! prefix and process id: [`remove_stale_temps`] removes those whose process
//! is gone (the training binaries call it on their output directory at
//! start).
//!
//! It also holds the one bounded line reader ([`read_line_bounded`]) of the
//! text inputs read line by line (manifests, LM training text), so that a
//! file without line ends (a link to `/dev/zero`) is an error after a
//! bounded read, not memory exhausted.
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Prefix of the temporary files (see the module docs).
pub const TEMP_PREFIX: &str = ".tmp-";

/// Writes `target` atomically. `write` receives the temporary file's path
/// and writes the whole content there (it may open the path itself, as
/// format libraries do); only if it succeeds is the file synced and renamed
/// over `target`, and the directory synced so the rename survives a power
/// loss. On any failure the temporary file is removed and `target` is
/// untouched. `io` turns an I/O failure of this function into the caller's
/// error type, with the path it concerns.
pub fn write_with<E>(
    target: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
    io: impl Fn(&Path, io::Error) -> E,
) -> Result<(), E> {
    let dir = parent_dir(target);
    let Some(name) = target.file_name() else {
        return Err(io(
            target,
            io::Error::new(io::ErrorKind::InvalidInput, "not a file path"),
        ));
    };
    let mut suffix = String::from("-");
    suffix.push_str(&name.to_string_lossy());
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(&suffix);
    #[cfg(unix)]
    builder.permissions(permissions_for(target));
    let tmp = builder.tempfile_in(&dir).map_err(|e| io(&dir, e))?;
    // `tmp` deletes the file when dropped on any early return below.
    write(tmp.path())?;
    File::open(tmp.path())
        .and_then(|f| f.sync_all())
        .map_err(|e| io(tmp.path(), e))?;
    tmp.persist(target).map_err(|e| io(target, e.error))?;
    if let Ok(d) = File::open(&dir) {
        // Best effort: some file systems refuse to sync a directory.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes the temporary files ([`write_with`]'s `.tmp-<pid>-...`) in `dir`
/// whose writing process is no longer alive: a process killed between
/// creating one and renaming it (SIGKILL, power loss) leaves it behind
/// forever otherwise. Files of live processes (this one included, or one
/// whose id was reused: kept, harmlessly) and every other file are left
/// alone. Returns the removed paths; a missing `dir` removes nothing.
pub fn remove_stale_temps(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        r => r?,
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_file_pid) else {
            continue;
        };
        if !entry.file_type()?.is_file() || process_alive(pid) {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed.push(entry.path()),
            // Another cleaner got there first.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    removed.sort();
    Ok(removed)
}

/// The process id in a temporary file's name `.tmp-<pid>-<random>-<name>`.
fn temp_file_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(TEMP_PREFIX)?;
    let (pid, rest) = rest.split_once('-')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) || rest.is_empty() {
        return None;
    }
    pid.parse().ok().filter(|&p| p > 0)
}

/// Whether a process with this id exists (signal 0 checks without sending;
/// EPERM means it exists but belongs to someone else).
#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks for the process.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Without a way to ask, every writer counts as alive (nothing removed).
#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true
}

/// Writes `bytes` to `target` atomically ([`write_with`]).
pub fn write_bytes(target: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(target, |tmp| std::fs::write(tmp, bytes), |_, e| e)
}

/// The mode the new file gets: an existing target's own (replacing a file
/// never changes who may read it), else what `File::create` gives (0o666
/// less the umask), not the temporary file's private 0o600.
#[cfg(unix)]
fn permissions_for(target: &Path) -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(target) {
        Ok(m) if m.is_file() => m.permissions(),
        _ => std::fs::Permissions::from_mode(0o666),
    }
}

/// The directory a relative or absolute file path lives in (`.` for a bare
/// file name).
fn parent_dir(target: &Path) -> PathBuf {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_the_target_and_leaves_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("a.json");
        std::fs::write(&t, "old").unwrap();
        write_bytes(&t, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&t).unwrap(), "new");
        assert_eq!(entries(d.path()), ["a.json"]);
    }

    #[test]
    fn the_writer_sees_a_hidden_sibling_ending_in_the_target_name() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("w.safetensors");
        let mut seen = PathBuf::new();
        write_with(
            &t,
            |tmp| {
                seen = tmp.to_path_buf();
                std::fs::write(tmp, b"x")
            },
            |_, e| e,
        )
        .unwrap();
        assert_eq!(seen.parent(), Some(d.path()));
        let name = seen.file_name().unwrap().to_string_lossy().into_owned();
        let pid = format!("{TEMP_PREFIX}{}-", std::process::id());
        assert!(
            name.starts_with(&pid) && name.ends_with("-w.safetensors"),
            "{name}"
        );
    }

    #[test]
    fn a_failing_writer_leaves_the_old_file_and_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("m.txt");
        std::fs::write(&t, "old").unwrap();
        let r: Result<(), String> = write_with(
            &t,
            |tmp| {
                std::fs::write(tmp, "half").unwrap();
                Err("disk full".to_string())
            },
            |p, e| format!("{}: {e}", p.display()),
        );
        assert_eq!(r.unwrap_err(), "disk full");
        assert_eq!(std::fs::read_to_string(&t).unwrap(), "old");
        assert_eq!(entries(d.path()), ["m.txt"]);
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_it() {
        let d = tempfile::tempdir().unwrap();
        let missing = d.path().join("no/such");
        let r: Result<(), String> = write_with(
            &missing.join("f.txt"),
            |_| Ok(()),
            |p, e| format!("{}: {e}", p.display()),
        );
        let e = r.unwrap_err();
        assert!(e.starts_with(&missing.display().to_string()), "{e}");
        assert!(write_bytes(Path::new(""), b"x").is_err());
    }

    /// The oracle for a new file is what `File::create` gives under the
    /// same umask; a replaced file keeps its own mode.
    #[cfg(unix)]
    #[test]
    fn new_files_get_the_usual_mode_and_replaced_files_keep_theirs() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let plain = d.path().join("plain.txt");
        std::fs::File::create(&plain).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let fresh = d.path().join("fresh.txt");
        write_bytes(&fresh, b"x").unwrap();
        assert_eq!(mode(&fresh), mode(&plain));
        let kept = d.path().join("kept.txt");
        std::fs::write(&kept, "old").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_bytes(&kept, b"new").unwrap();
        assert_eq!(mode(&kept), 0o640);
    }

    /// The dead process is a child that has exited and been reaped (its
    /// id is free until reused, and `kill -0` of it fails as for any dead
    /// process); the live ones are this process and its parent.
    #[cfg(unix)]
    #[test]
    fn stale_temporaries_of_dead_processes_are_removed_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let me = std::process::id();
        // SAFETY: getppid has no preconditions.
        let parent = unsafe { libc::getppid() } as u32;
        let names = [
            format!(".tmp-{dead}-aB3xYz-config.json"),
            format!(".tmp-{dead}-Q1w2e3-last.safetensors"),
            format!(".tmp-{me}-aaaaaa-config.json"),
            format!(".tmp-{parent}-bbbbbb-best.safetensors"),
            ".tmp-notapid-cccccc-x.json".to_string(),
            format!(".tmp-{dead}"),
            "config.json".to_string(),
            format!("tmp-{dead}-dddddd-x.json"),
        ];
        for n in &names {
            std::fs::write(d.path().join(n), "x").unwrap();
        }
        // A directory with a temporary's name is not a file: kept.
        std::fs::create_dir(d.path().join(format!(".tmp-{dead}-eeeeee-dir"))).unwrap();
        let removed = remove_stale_temps(d.path()).unwrap();
        let mut expected = vec![d.path().join(&names[0]), d.path().join(&names[1])];
        expected.sort();
        assert_eq!(removed, expected);
        let mut left: Vec<String> = names[2..].to_vec();
        left.push(format!(".tmp-{dead}-eeeeee-dir"));
        left.sort();
        assert_eq!(entries(d.path()), left);
        // Nothing more to remove; a missing directory is not an error.
        assert!(remove_stale_temps(d.path()).unwrap().is_empty());
        assert!(remove_stale_temps(&d.path().join("none"))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_bare_file_name_is_written_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("x.txt")), PathBuf::from("."));
        assert_eq!(parent_dir(Path::new("a/x.txt")), PathBuf::from("a"));
    }
}

/// Why [`read_line_bounded`] gave no line.
#[derive(Debug)]
pub enum LineError {
    Io(io::Error),
    /// Longer than the bound (the bound is in the variant).
    TooLong(usize),
    NotUtf8,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::Io(e) => write!(f, "{e}"),
            LineError::TooLong(max) => write!(f, "line longer than {max} bytes"),
            LineError::NotUtf8 => write!(f, "not valid UTF-8"),
        }
    }
}

/// The next line of `reader` without its end (`\n` or `\r\n`), `None` at
/// the end of the input; never holds more than `max` bytes of a line (plus
/// its end) in memory.
pub fn read_line_bounded<R: io::BufRead>(
    reader: &mut R,
    max: usize,
) -> Result<Option<String>, LineError> {
    use io::{BufRead, Read};
    let mut buf = Vec::new();
    let n = reader
        .by_ref()
        .take(max as u64 + 2)
        .read_until(b'\n', &mut buf)
        .map_err(LineError::Io)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    if buf.len() > max {
        return Err(LineError::TooLong(max));
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| LineError::NotUtf8)
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn lines_end_at_newlines_and_the_bound_holds() {
        let mut r = io::Cursor::new(b"ab\r\ncd\n\nxyz".to_vec());
        let mut got = Vec::new();
        while let Some(l) = read_line_bounded(&mut r, 3).unwrap() {
            got.push(l);
        }
        assert_eq!(got, ["ab", "cd", "", "xyz"]);
        // Exactly the bound passes; one more byte is refused.
        let mut r = io::Cursor::new(b"abcd\n".to_vec());
        assert!(matches!(
            read_line_bounded(&mut r, 3),
            Err(LineError::TooLong(3))
        ));
        let mut r = io::Cursor::new(b"abc\n".to_vec());
        assert_eq!(
            read_line_bounded(&mut r, 3).unwrap().as_deref(),
            Some("abc")
        );
        // An endless input without line ends stops after max + 2 bytes.
        let mut zeros = io::BufReader::new(io::repeat(0));
        assert!(matches!(
            read_line_bounded(&mut zeros, 1000),
            Err(LineError::TooLong(1000))
        ));
        let mut r = io::Cursor::new(vec![0xffu8, b'\n']);
        assert!(matches!(
            read_line_bounded(&mut r, 10),
            Err(LineError::NotUtf8)
        ));
    }
}
