//! Writing feature matrices as NPY (numpy's `.npy`, float32, C order, shape
//! `(T, D)`), CSV (one row per frame) or JSON (`{"n_frames", "dim", "data"}`),
//! and [`write_atomic`], which writes to a temporary file beside the target
//! and renames it into place so a failure never leaves a half-written file.

use std::io::Write;
use std::path::Path;

use crate::error::{display_path, FeatureError, Result};
use crate::extract::Features;

/// Output file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Npy,
    Csv,
    Json,
}

impl Format {
    /// Guesses the format from a file extension (`npy`, `csv`, `json`).
    pub fn from_extension(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "npy" => Some(Format::Npy),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Npy => "npy",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

/// Writes `f` as an NPY version 1.0 array of little-endian float32.
pub fn write_npy(f: &Features, w: &mut impl Write) -> std::io::Result<()> {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        f.n_frames, f.dim
    );
    // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat(total.next_multiple_of(64) - total));
    header.push('\n');
    w.write_all(b"\x93NUMPY\x01\x00")?;
    w.write_all(&(header.len() as u16).to_le_bytes())?;
    w.write_all(header.as_bytes())?;
    let mut buf = Vec::with_capacity(f.data.len() * 4);
    for x in &f.data {
        buf.extend_from_slice(&x.to_le_bytes());
    }
    w.write_all(&buf)
}

/// Writes one comma-separated line per frame (shortest round-trip decimals).
pub fn write_csv(f: &Features, w: &mut impl Write) -> std::io::Result<()> {
    let mut line = String::new();
    for row in f.rows().take(f.n_frames) {
        line.clear();
        for (i, x) in row.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&x.to_string());
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Writes `{"n_frames": T, "dim": D, "data": [[...], ...]}`.
pub fn write_json(f: &Features, w: &mut impl Write) -> std::io::Result<()> {
    write!(
        w,
        "{{\"n_frames\": {}, \"dim\": {}, \"data\": [",
        f.n_frames, f.dim
    )?;
    for (t, row) in f.rows().take(f.n_frames).enumerate() {
        if t > 0 {
            w.write_all(b",")?;
        }
        w.write_all(b"\n[")?;
        for (i, x) in row.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            // Features are finite by construction; JSON has no NaN anyway.
            if x.is_finite() {
                write!(w, "{x}")?;
            } else {
                w.write_all(b"null")?;
            }
        }
        w.write_all(b"]")?;
    }
    w.write_all(b"]}\n")
}

/// Writes `f` in `format` to any writer.
pub fn write_features(f: &Features, format: Format, w: &mut impl Write) -> std::io::Result<()> {
    match format {
        Format::Npy => write_npy(f, w),
        Format::Csv => write_csv(f, w),
        Format::Json => write_json(f, w),
    }
}

/// Writes `f` to `path` atomically: a temporary file in the same directory
/// is written, flushed and renamed over `path`.
pub fn write_atomic(f: &Features, format: Format, path: &Path) -> Result<()> {
    let err = |cause| FeatureError::Write {
        path: display_path(path),
        cause,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("directory {} does not exist", dir.display()),
        )));
    }
    if path.is_dir() {
        return Err(err(std::io::Error::other("it is a directory")));
    }
    sori_fs::write_with(
        path,
        |tmp| {
            let write = || -> std::io::Result<()> {
                let mut w = std::io::BufWriter::new(std::fs::File::create(tmp)?);
                write_features(f, format, &mut w)?;
                w.flush()
            };
            write().map_err(err)
        },
        |_, cause| err(cause),
    )
}
