//! Synthetic multi-speaker English speech: sentences generated from the
//! templates and word lists in `corpora/english`, spoken by `espeak-ng` in
//! many accents, voice variants, rates and pitches.
//!
//! Why: the project may download nothing at run time, yet a recogniser needs
//! thousands of transcribed utterances from many "speakers". espeak-ng is a
//! Debian package; its accents (`en-us`, `en-gb-scotland`, ...) change the
//! phonemes and its variants (`+m1`, `+f3`, ...) change the voice, so holding
//! variants out of training gives a test split of voices never heard.
use crate::data::manifest::{wav_duration, write_manifest, Utterance};
use crate::error::{AsrError, Result};
use crate::rng::Rng;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// English words for `0..=999_999` ("four hundred and two" without "and":
/// "four hundred two", which every espeak accent reads the same way).
pub fn number_to_words(n: u32) -> String {
    assert!(
        n < 1_000_000,
        "number_to_words supports 0..=999999, got {n}"
    );
    fn below_thousand(n: u32, out: &mut Vec<&'static str>) {
        let (h, r) = (n / 100, n % 100);
        if h > 0 {
            out.push(ONES[h as usize]);
            out.push("hundred");
        }
        if r >= 20 {
            out.push(TENS[(r / 10) as usize]);
            if r % 10 > 0 {
                out.push(ONES[(r % 10) as usize]);
            }
        } else if r > 0 || h == 0 {
            out.push(ONES[r as usize]);
        }
    }
    let mut words = Vec::new();
    if n >= 1000 {
        below_thousand(n / 1000, &mut words);
        words.push("thousand");
        if !n.is_multiple_of(1000) {
            below_thousand(n % 1000, &mut words);
        }
    } else {
        below_thousand(n, &mut words);
    }
    words.join(" ")
}

/// A year as people say it: 1984 "nineteen eighty four", 1905 "nineteen oh
/// five", 1900 "nineteen hundred", 2007 "two thousand seven".
pub fn year_to_words(y: u32) -> String {
    let (hi, lo) = (y / 100, y % 100);
    if !(1100..=2999).contains(&y) || (2000..2010).contains(&y) {
        return number_to_words(y);
    }
    let tail = match lo {
        0 => "hundred".to_string(),
        1..=9 => format!("oh {}", ONES[lo as usize]),
        _ => number_to_words(lo),
    };
    format!("{} {tail}", number_to_words(hi))
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Slot(String),
}

/// Random sentences from templates with `{slot}`s filled from word lists.
#[derive(Debug, Clone)]
pub struct SentenceGenerator {
    templates: Vec<Vec<Piece>>,
    lists: BTreeMap<String, Vec<String>>,
}

const GENERATED_SLOTS: [&str; 3] = ["number", "digits", "year"];

impl SentenceGenerator {
    /// Loads `templates.txt` and `words/*.txt` from a corpus folder.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        Self::load(dir, &dir.join("templates.txt"))
    }

    /// Loads templates from `tpath` and word lists from `dir/words/*.txt`.
    pub fn load(dir: &Path, tpath: &Path) -> Result<Self> {
        let tpath = tpath.to_path_buf();
        let templates = std::fs::read_to_string(&tpath).map_err(|e| AsrError::io(&tpath, e))?;
        let wdir = dir.join("words");
        let mut lists = BTreeMap::new();
        let entries = std::fs::read_dir(&wdir).map_err(|e| AsrError::io(&wdir, e))?;
        for entry in entries {
            let path = entry.map_err(|e| AsrError::io(&wdir, e))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("txt") {
                continue;
            }
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| AsrError::io(&path, e))?;
            lists.insert(name, text.lines().map(str::to_string).collect());
        }
        Self::from_parts(&templates, lists).map_err(|m| AsrError::Manifest {
            path: tpath,
            line: m.0,
            message: m.1,
        })
    }

    /// Builds a generator from template text (one per line, `#` comments)
    /// and word lists. Errors are `(line, message)`.
    pub fn from_parts(
        templates: &str,
        lists: BTreeMap<String, Vec<String>>,
    ) -> std::result::Result<Self, (usize, String)> {
        let lists: BTreeMap<String, Vec<String>> = lists
            .into_iter()
            .map(|(k, v)| {
                let words: Vec<String> = v
                    .into_iter()
                    .map(|w| w.trim().to_lowercase())
                    .filter(|w| !w.is_empty() && !w.starts_with('#'))
                    .collect();
                (k, words)
            })
            .collect();
        let mut parsed = Vec::new();
        for (i, line) in templates.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut pieces = Vec::new();
            let mut rest = line;
            while let Some(open) = rest.find('{') {
                if open > 0 {
                    pieces.push(Piece::Text(rest[..open].to_string()));
                }
                let close = rest[open..]
                    .find('}')
                    .ok_or((i + 1, format!("unclosed '{{' in template {line:?}")))?
                    + open;
                let slot = &rest[open + 1..close];
                let known = GENERATED_SLOTS.contains(&slot)
                    || lists.get(slot).is_some_and(|l| !l.is_empty());
                if !known {
                    return Err((
                        i + 1,
                        format!("no word list words/{slot}.txt for {{{slot}}}"),
                    ));
                }
                pieces.push(Piece::Slot(slot.to_string()));
                rest = &rest[close + 1..];
            }
            if !rest.is_empty() {
                pieces.push(Piece::Text(rest.to_string()));
            }
            parsed.push(pieces);
        }
        if parsed.is_empty() {
            return Err((0, "no templates".into()));
        }
        Ok(SentenceGenerator {
            templates: parsed,
            lists,
        })
    }

    /// Every word any sentence can contain (for LM corpora and vocabularies).
    pub fn words(&self) -> Vec<String> {
        let mut set: HashSet<String> = HashSet::new();
        for list in self.lists.values() {
            for w in list {
                set.extend(w.split_whitespace().map(str::to_string));
            }
        }
        for t in &self.templates {
            for p in t {
                if let Piece::Text(s) = p {
                    set.extend(s.split_whitespace().map(str::to_string));
                }
            }
        }
        let mut v: Vec<String> = set.into_iter().collect();
        v.sort();
        v
    }

    /// One random sentence: lower case, single spaces.
    pub fn sentence(&self, rng: &mut Rng) -> String {
        let template = rng.choose(&self.templates);
        let mut s = String::new();
        for piece in template {
            match piece {
                Piece::Text(t) => s.push_str(t),
                Piece::Slot(name) => match name.as_str() {
                    "number" => {
                        let n = match rng.range(0, 2) {
                            0 => rng.range(0, 99),
                            1 => rng.range(100, 999),
                            _ => rng.range(1000, 9999),
                        };
                        s.push_str(&number_to_words(n as u32))
                    }
                    "digits" => {
                        let k = rng.range(3, 6);
                        let d: Vec<&str> = (0..k).map(|_| ONES[rng.range(0, 9)]).collect();
                        s.push_str(&d.join(" "));
                    }
                    "year" => s.push_str(&year_to_words(rng.range(1900, 2029) as u32)),
                    other => {
                        let w: &String = rng.choose(&self.lists[other]);
                        s.push_str(w)
                    }
                },
            }
        }
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// An espeak-ng voice: an accent (`en-gb-scotland`) and a variant (`m3`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Voice {
    pub language: String,
    pub variant: String,
}

impl fmt::Display for Voice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}", self.language, self.variant)
    }
}

/// The English accents of espeak-ng used for the corpus.
pub const ACCENTS: [&str; 8] = [
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-rp",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
];
/// Voice variants heard in training.
pub const TRAIN_VARIANTS: [&str; 10] = ["m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f3", "f4"];
/// Voice variants kept out of training: the test split uses only these.
pub const TEST_VARIANTS: [&str; 2] = ["m7", "f5"];

/// All accent × variant voices for the given variants.
pub fn voices(variants: &[&str]) -> Vec<Voice> {
    let mut v = Vec::new();
    for a in ACCENTS {
        for var in variants {
            v.push(Voice {
                language: a.to_string(),
                variant: var.to_string(),
            });
        }
    }
    v
}

/// Whether `espeak-ng` can be run.
pub fn espeak_available() -> bool {
    Command::new("espeak-ng")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Speaks `text` with `espeak-ng -v voice -s rate -p pitch -w out`.
pub fn render_espeak(text: &str, voice: &str, rate: u32, pitch: u32, out: &Path) -> Result<()> {
    let mut cmd = Command::new("espeak-ng");
    cmd.args([
        "-v",
        voice,
        "-s",
        &rate.to_string(),
        "-p",
        &pitch.to_string(),
        "-w",
    ])
    .arg(out)
    .arg("--")
    .arg(text);
    run_synthesizer(cmd, "espeak-ng", voice, out)
}

/// Runs a synthesizer command that writes `out`; a failure to start it, a
/// non-zero exit or a missing output file is one `External` error naming
/// the program and voice.
pub(crate) fn run_synthesizer(
    mut cmd: Command,
    program: &str,
    voice: &str,
    out: &Path,
) -> Result<()> {
    let output = cmd.output().map_err(|e| AsrError::External {
        program: program.into(),
        message: format!("cannot run it ({e}); install it with scripts/setup-system.sh"),
    })?;
    if !output.status.success() || !out.exists() {
        return Err(AsrError::External {
            program: program.into(),
            message: format!(
                "failed for voice {voice}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(())
}

/// What to synthesize.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Folder with `templates.txt` and `words/`.
    pub corpus: PathBuf,
    /// Output folder: `wav/`, `train.jsonl`, `valid.jsonl`, `test.jsonl`, `text.txt`.
    pub out: PathBuf,
    pub train: usize,
    pub valid: usize,
    pub test: usize,
    pub seed: u64,
    /// Parallel espeak-ng processes.
    pub jobs: usize,
    /// Speaking rates (words per minute) drawn uniformly from this range.
    pub rate: (u32, u32),
    /// Pitches (0-99) drawn uniformly from this range.
    pub pitch: (u32, u32),
    /// Templates to use instead of `corpus/templates.txt`.
    pub templates: Option<PathBuf>,
}

impl SynthConfig {
    /// Defaults for a corpus of the given split sizes.
    pub fn new(corpus: PathBuf, out: PathBuf, train: usize, valid: usize, test: usize) -> Self {
        SynthConfig {
            corpus,
            out,
            train,
            valid,
            test,
            seed: 1,
            jobs: 2,
            rate: (140, 200),
            pitch: (30, 70),
            templates: None,
        }
    }
}

/// One utterance to render.
#[derive(Debug, Clone)]
struct Job {
    split: usize,
    text: String,
    voice: Voice,
    rate: u32,
    pitch: u32,
    path: PathBuf,
}

/// Counts of what [`synthesize`] wrote.
#[derive(Debug, Clone, Default)]
pub struct SynthSummary {
    pub utterances: [usize; 3],
    pub seconds: [f64; 3],
}

/// Split names in manifest order.
pub const SPLITS: [&str; 3] = ["train", "valid", "test"];

/// Generates sentences, renders them in parallel, writes the three manifests
/// and `text.txt` (the training sentences, for `asr lm`). Test sentences are
/// never training sentences, and test voices are never training voices.
pub fn synthesize(
    cfg: &SynthConfig,
    mut progress: impl FnMut(usize, usize) + Send,
) -> Result<SynthSummary> {
    if cfg.train == 0 || cfg.jobs == 0 {
        return Err(AsrError::Config(
            "synth: --train and --jobs must be at least 1".into(),
        ));
    }
    let gen = match &cfg.templates {
        Some(t) => SentenceGenerator::load(&cfg.corpus, t)?,
        None => SentenceGenerator::from_dir(&cfg.corpus)?,
    };
    let mut rng = Rng::new(cfg.seed);
    let train_voices = voices(&TRAIN_VARIANTS);
    let test_voices = voices(&TEST_VARIANTS);
    let wav_dir = cfg.out.join("wav");
    std::fs::create_dir_all(&wav_dir).map_err(|e| AsrError::io(&wav_dir, e))?;
    let mut seen_train: HashSet<String> = HashSet::new();
    let mut jobs = Vec::new();
    for (split, &count) in [cfg.train, cfg.valid, cfg.test].iter().enumerate() {
        for i in 0..count {
            let mut text = gen.sentence(&mut rng);
            if split == 0 {
                seen_train.insert(text.clone());
            } else {
                // Held-out sentences differ from training ones (a few tries;
                // tiny template spaces may not allow it).
                for _ in 0..20 {
                    if !seen_train.contains(&text) {
                        break;
                    }
                    text = gen.sentence(&mut rng);
                }
            }
            let voice = rng
                .choose(if split == 2 {
                    &test_voices
                } else {
                    &train_voices
                })
                .clone();
            let rate = rng.range(cfg.rate.0 as usize, cfg.rate.1 as usize) as u32;
            let pitch = rng.range(cfg.pitch.0 as usize, cfg.pitch.1 as usize) as u32;
            let path = wav_dir.join(format!("{}-{i:06}.wav", SPLITS[split]));
            jobs.push(Job {
                split,
                text,
                voice,
                rate,
                pitch,
                path,
            });
        }
    }
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failure: Mutex<Option<AsrError>> = Mutex::new(None);
    let total = jobs.len();
    let progress = Mutex::new(&mut progress);
    std::thread::scope(|s| {
        for _ in 0..cfg.jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || failure.lock().unwrap().is_some() {
                    break;
                }
                let j = &jobs[i];
                if let Err(e) =
                    render_espeak(&j.text, &j.voice.to_string(), j.rate, j.pitch, &j.path)
                {
                    *failure.lock().unwrap() = Some(e);
                    break;
                }
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                (progress.lock().unwrap())(d, total);
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap() {
        return Err(e);
    }
    let mut summary = SynthSummary::default();
    let mut manifests: [Vec<Utterance>; 3] = Default::default();
    for j in &jobs {
        let duration = wav_duration(&j.path)?;
        summary.utterances[j.split] += 1;
        summary.seconds[j.split] += duration;
        manifests[j.split].push(Utterance {
            audio: j.path.clone(),
            text: j.text.clone(),
            duration,
            speaker: Some(j.voice.to_string()),
        });
    }
    for (split, utts) in manifests.iter().enumerate() {
        write_manifest(&cfg.out.join(format!("{}.jsonl", SPLITS[split])), utts)?;
    }
    let text: String = manifests[0]
        .iter()
        .map(|u| format!("{}\n", u.text))
        .collect();
    let tpath = cfg.out.join("text.txt");
    std::fs::write(&tpath, text).map_err(|e| AsrError::io(&tpath, e))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_words() {
        let cases = [
            (0, "zero"),
            (7, "seven"),
            (13, "thirteen"),
            (40, "forty"),
            (42, "forty two"),
            (100, "one hundred"),
            (305, "three hundred five"),
            (999, "nine hundred ninety nine"),
            (1000, "one thousand"),
            (2019, "two thousand nineteen"),
            (12_011, "twelve thousand eleven"),
            (700_070, "seven hundred thousand seventy"),
        ];
        for (n, w) in cases {
            assert_eq!(number_to_words(n), w, "{n}");
        }
        assert_eq!(year_to_words(1984), "nineteen eighty four");
        assert_eq!(year_to_words(1905), "nineteen oh five");
        assert_eq!(year_to_words(1900), "nineteen hundred");
        assert_eq!(year_to_words(2007), "two thousand seven");
        assert_eq!(year_to_words(2021), "twenty twenty one");
    }

    #[test]
    fn templates_fill_slots_and_report_unknown_ones() {
        let mut lists = BTreeMap::new();
        lists.insert(
            "noun".to_string(),
            vec!["cat".to_string(), "dog".to_string()],
        );
        let g =
            SentenceGenerator::from_parts("# comment\nthe {noun}  is {number}\n", lists.clone())
                .unwrap();
        let mut rng = Rng::new(3);
        for _ in 0..50 {
            let s = g.sentence(&mut rng);
            let rest = s
                .strip_prefix("the cat is ")
                .or_else(|| s.strip_prefix("the dog is "))
                .unwrap_or_else(|| panic!("{s}"));
            assert!(
                rest.split(' ')
                    .all(|w| w.chars().all(|c| c.is_ascii_lowercase())),
                "{s}"
            );
        }
        let err = SentenceGenerator::from_parts("a\n{colour} b", lists.clone()).unwrap_err();
        assert_eq!(err.0, 2);
        assert!(err.1.contains("colour"));
        assert!(SentenceGenerator::from_parts("the {noun", lists).is_err());
    }

    #[test]
    fn project_corpus_loads_and_varies() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora/english");
        let g = SentenceGenerator::from_dir(&dir).unwrap();
        let mut rng = Rng::new(1);
        let s: HashSet<String> = (0..500).map(|_| g.sentence(&mut rng)).collect();
        assert!(s.len() > 450, "only {} distinct sentences of 500", s.len());
        for t in &s {
            assert!(
                t.chars().all(|c| c.is_ascii_lowercase() || c == ' '),
                "{t:?}"
            );
        }
        assert!(g.words().len() > 300);
    }

    #[test]
    fn test_voices_are_never_training_voices() {
        let train: HashSet<Voice> = voices(&TRAIN_VARIANTS).into_iter().collect();
        assert!(voices(&TEST_VARIANTS).iter().all(|v| !train.contains(v)));
    }
}
