//! JSONL manifests: one utterance per line, `{"audio", "text", "duration",
//! "speaker"}`. Audio paths are stored relative to the manifest's folder when
//! they can be, so a corpus folder can be moved or copied as a whole; reading
//! resolves them back. A broken line is reported with the file and the line
//! number instead of being skipped, since a silently shorter corpus gives
//! misleading scores.
use crate::error::{AsrError, Result};
use serde::{Deserialize, Serialize};
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// One utterance: an audio file and its transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    /// Path to the WAV file (absolute, or relative to the manifest).
    pub audio: PathBuf,
    /// The transcript.
    pub text: String,
    /// Duration in seconds (0 when unknown).
    #[serde(default)]
    pub duration: f64,
    /// Who spoke it (voice name for synthetic speech).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
}

/// Reads a manifest; relative audio paths are resolved against its folder.
/// Empty lines are skipped; every other line must be a JSON utterance with a
/// non-empty `audio`.
/// Longest manifest line, in bytes (a record with a transcript of a
/// hundred thousand characters still fits).
pub const MAX_MANIFEST_LINE: usize = 1 << 20;

pub fn read_manifest(path: &Path) -> Result<Vec<Utterance>> {
    let file = std::fs::File::open(path).map_err(|e| AsrError::io(path, e))?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    let mut reader = BufReader::new(file);
    let mut line_no = 0;
    loop {
        line_no += 1;
        // Bounded: a file without line ends (a link to /dev/zero) is an
        // error of its first line, not memory exhausted.
        let line = match sori_fs::read_line_bounded(&mut reader, MAX_MANIFEST_LINE) {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                return Err(AsrError::Manifest {
                    path: path.to_path_buf(),
                    line: line_no,
                    message: format!("cannot read line: {e}"),
                })
            }
        };
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let mut utt: Utterance = serde_json::from_str(trimmed).map_err(|e| AsrError::Manifest {
            path: path.to_path_buf(),
            line: line_no,
            message: format!("not a valid utterance record ({e})"),
        })?;
        if utt.audio.as_os_str().is_empty() {
            return Err(AsrError::Manifest {
                path: path.to_path_buf(),
                line: line_no,
                message: "empty \"audio\" path".into(),
            });
        }
        if utt.audio.is_relative() {
            utt.audio = base.join(&utt.audio);
        }
        out.push(utt);
    }
    if out.is_empty() {
        return Err(AsrError::Manifest {
            path: path.to_path_buf(),
            line: 0,
            message: "no utterances".into(),
        });
    }
    Ok(out)
}

/// Indices of each speaker's utterances, in order, from the utterances'
/// `speaker` fields (`utts.iter().map(|u| u.speaker.as_deref())`); the
/// utterances without a speaker under `None`.
pub fn by_speaker<'a>(
    speakers: impl IntoIterator<Item = Option<&'a str>>,
) -> std::collections::BTreeMap<Option<&'a str>, Vec<usize>> {
    let mut groups: std::collections::BTreeMap<Option<&str>, Vec<usize>> = Default::default();
    for (i, s) in speakers.into_iter().enumerate() {
        groups.entry(s).or_default().push(i);
    }
    groups
}

pub fn write_manifest(path: &Path, utts: &[Utterance]) -> Result<()> {
    let base = path.parent().unwrap_or(Path::new(""));
    let cwd = std::env::current_dir().map_err(|e| AsrError::io(".", e))?;
    let mut text = String::new();
    for u in utts {
        let mut u = u.clone();
        match u.audio.strip_prefix(base) {
            Ok(rel) if !base.as_os_str().is_empty() => u.audio = rel.to_path_buf(),
            _ if u.audio.is_relative() && !base.as_os_str().is_empty() => {
                u.audio = cwd.join(&u.audio)
            }
            _ => {}
        }
        text.push_str(&serde_json::to_string(&u).expect("utterances serialise"));
        text.push('\n');
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| AsrError::io(dir, e))?;
    }
    // Atomically: an interrupted `asr synth` never leaves half a manifest.
    Ok(sori_train::atomic_write(path, text.as_bytes())?)
}

/// Duration of a WAV file in seconds, from its header.
pub fn wav_duration(path: &Path) -> Result<f64> {
    let reader = hound::WavReader::open(path).map_err(|e| AsrError::Audio {
        path: path.to_path_buf(),
        message: format!("not a readable WAV file ({e})"),
    })?;
    let spec = reader.spec();
    Ok(reader.duration() as f64 / spec.sample_rate as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_records_and_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m.jsonl");
        let utts = vec![
            Utterance {
                audio: dir.path().join("wav/a.wav"),
                text: "hello there".into(),
                duration: 1.25,
                speaker: Some("en-us+m1".into()),
            },
            Utterance {
                audio: PathBuf::from("/elsewhere/b.wav"),
                text: "one two".into(),
                duration: 0.5,
                speaker: None,
            },
        ];
        write_manifest(&m, &utts).unwrap();
        // A path relative to the working directory, outside the manifest's
        // folder, still resolves to the same file after a round trip.
        let outside = Utterance {
            audio: PathBuf::from("../x/c.wav"),
            text: "c".into(),
            duration: 0.0,
            speaker: None,
        };
        let m2 = dir.path().join("sub/m2.jsonl");
        write_manifest(&m2, std::slice::from_ref(&outside)).unwrap();
        let back = read_manifest(&m2).unwrap();
        assert_eq!(
            back[0].audio,
            std::env::current_dir().unwrap().join("../x/c.wav")
        );
        let raw = std::fs::read_to_string(&m).unwrap();
        assert!(raw.contains("\"audio\":\"wav/a.wav\""), "{raw}");
        assert_eq!(read_manifest(&m).unwrap(), utts);
    }

    #[test]
    fn broken_line_is_reported_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("bad.jsonl");
        std::fs::write(
            &m,
            "{\"audio\":\"a.wav\",\"text\":\"a\"}\n\n{\"audio\":\"b.wav\",\"text\":\n",
        )
        .unwrap();
        let err = read_manifest(&m).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:3: ", m.display())), "{err}");
        std::fs::write(&m, "{\"text\":\"no audio\"}\n").unwrap();
        let err = read_manifest(&m).unwrap_err().to_string();
        assert!(err.contains(":1: ") && err.contains("audio"), "{err}");
    }
}
