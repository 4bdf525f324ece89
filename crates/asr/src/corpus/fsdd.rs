//! The Free Spoken Digit Dataset as manifests: `{digit}_{speaker}_{index}.wav`
//! becomes the word of the digit, and the splits leave one speaker out, since
//! a recogniser is only useful if it works for people it never heard.
use crate::corpus::synth::number_to_words;
use crate::data::manifest::{wav_duration, write_manifest, Utterance};
use crate::error::{AsrError, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One FSDD recording, parsed from its file name.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub path: PathBuf,
    pub digit: u8,
    pub speaker: String,
    pub index: u32,
}

/// Parses `{digit}_{speaker}_{index}.wav`; `None` when the name does not fit.
pub fn parse_name(name: &str) -> Option<(u8, String, u32)> {
    let stem = name.strip_suffix(".wav")?;
    let mut parts = stem.splitn(2, '_');
    let digit: u8 = parts.next()?.parse().ok().filter(|d| *d <= 9)?;
    let rest = parts.next()?;
    let (speaker, index) = rest.rsplit_once('_')?;
    if speaker.is_empty() {
        return None;
    }
    Some((digit, speaker.to_string(), index.parse().ok()?))
}

/// Lists the recordings of a folder; a `.wav` whose name does not fit the
/// pattern is an error naming it.
pub fn scan(dir: &Path) -> Result<Vec<Recording>> {
    let entries = std::fs::read_dir(dir).map_err(|e| AsrError::io(dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| AsrError::io(dir, e))?.path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".wav") {
            continue;
        }
        let (digit, speaker, index) = parse_name(&name).ok_or_else(|| AsrError::Audio {
            path: path.clone(),
            message: "not an FSDD name {digit}_{speaker}_{index}.wav".into(),
        })?;
        out.push(Recording {
            path,
            digit,
            speaker,
            index,
        });
    }
    if out.is_empty() {
        return Err(AsrError::Audio {
            path: dir.to_path_buf(),
            message: "no FSDD recordings ({digit}_{speaker}_{index}.wav)".into(),
        });
    }
    out.sort_by(|a, b| (&a.speaker, a.digit, a.index).cmp(&(&b.speaker, b.digit, b.index)));
    Ok(out)
}

/// The speakers, sorted.
pub fn speakers(recs: &[Recording]) -> Vec<String> {
    recs.iter()
        .map(|r| r.speaker.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn utterance(r: &Recording) -> Result<Utterance> {
    Ok(Utterance {
        audio: r.path.clone(),
        text: number_to_words(r.digit as u32),
        duration: wav_duration(&r.path)?,
        speaker: Some(r.speaker.clone()),
    })
}

/// Leave-one-speaker-out splits: for each speaker `s`, writes
/// `out/{s}/train.jsonl` (the other speakers minus every tenth recording),
/// `out/{s}/valid.jsonl` (those tenth recordings) and `out/{s}/test.jsonl`
/// (all of `s`). Returns the speakers.
pub fn write_loso(dir: &Path, out: &Path) -> Result<Vec<String>> {
    let recs = scan(dir)?;
    let utts: Vec<(Recording, Utterance)> = recs
        .iter()
        .map(|r| Ok((r.clone(), utterance(r)?)))
        .collect::<Result<_>>()?;
    let speakers = speakers(&recs);
    for s in &speakers {
        let (mut train, mut valid, mut test) = (Vec::new(), Vec::new(), Vec::new());
        for (r, u) in &utts {
            if &r.speaker == s {
                test.push(u.clone());
            } else if r.index % 10 == 9 {
                valid.push(u.clone());
            } else {
                train.push(u.clone());
            }
        }
        let d = out.join(s);
        write_manifest(&d.join("train.jsonl"), &train)?;
        write_manifest(&d.join("valid.jsonl"), &valid)?;
        write_manifest(&d.join("test.jsonl"), &test)?;
    }
    Ok(speakers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!(
            parse_name("7_jackson_12.wav"),
            Some((7, "jackson".into(), 12))
        );
        assert_eq!(parse_name("0_a_b_3.wav"), Some((0, "a_b".into(), 3)));
        assert_eq!(parse_name("12_x_1.wav"), None);
        assert_eq!(parse_name("3_x.wav"), None);
        assert_eq!(parse_name("3__1.wav"), None);
        assert_eq!(parse_name("3_x_1.mp3"), None);
    }

    fn write_tone(path: &Path) {
        let tone: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.3).sin() * 0.25).collect();
        crate::support::bench_audio::write_wav16(path, 8000, &tone).unwrap();
    }

    #[test]
    fn loso_splits_hold_each_speaker_out() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("rec");
        std::fs::create_dir(&rec).unwrap();
        for s in ["amy", "bob", "cy"] {
            for d in 0..3 {
                for i in 0..10 {
                    write_tone(&rec.join(format!("{d}_{s}_{i}.wav")));
                }
            }
        }
        let out = dir.path().join("loso");
        assert_eq!(write_loso(&rec, &out).unwrap(), ["amy", "bob", "cy"]);
        let test = crate::data::manifest::read_manifest(&out.join("bob/test.jsonl")).unwrap();
        assert_eq!(test.len(), 30);
        assert!(test.iter().all(|u| u.speaker.as_deref() == Some("bob")));
        assert!((test[0].duration - 0.5).abs() < 1e-9);
        let train = crate::data::manifest::read_manifest(&out.join("bob/train.jsonl")).unwrap();
        let valid = crate::data::manifest::read_manifest(&out.join("bob/valid.jsonl")).unwrap();
        assert_eq!((train.len(), valid.len()), (54, 6));
        assert!(train.iter().all(|u| u.speaker.as_deref() != Some("bob")));
        let words: BTreeSet<&str> = train.iter().map(|u| u.text.as_str()).collect();
        assert_eq!(words, ["one", "two", "zero"].into_iter().collect());
        std::fs::write(rec.join("x.wav"), b"junk").unwrap();
        let err = scan(&rec).unwrap_err().to_string();
        assert!(err.contains("x.wav") && err.contains("FSDD"), "{err}");
    }
}
