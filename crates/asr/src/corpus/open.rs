//! An open-vocabulary English speech corpus: sentences from real text
//! (image captions, movie reviews, ...) and the number templates, spoken by
//! two synthesizers (espeak-ng and flite) in many voices, with a test split
//! whose text source and voices training never touches.
//!
//! Why: a recogniser trained on template sentences learns the templates'
//! words, and one trained on one synthesizer learns its voice. Here the test
//! sentences come only from `test_text` (a source kept out of training; any
//! sentence that also occurs in a training source is dropped from training),
//! and the test voices are espeak-ng variants and a flite voice that training
//! never hears ([`ESPEAK_TEST_VARIANTS`], [`FLITE_TEST_VOICES`]).
//!
//! A second test split, `test_b`, speaks the same test sentences with 0.5-3 s
//! of silence or low background noise before, after and between them (two
//! sentences in one file): the recogniser must neither invent words in the
//! pauses nor lose the speech after them.
//!
//! Rendering runs `jobs` synthesizer processes at once, writes each WAV
//! atomically (a temporary name, then a rename) and skips files that are
//! already there and readable, so an interrupted run resumes where it was.
use crate::corpus::synth::{
    render_espeak, run_synthesizer, SentenceGenerator, ACCENTS, TEST_VARIANTS, TRAIN_VARIANTS,
};
use crate::corpus::text::sentences_of;
use crate::data::manifest::{wav_duration, write_manifest, Utterance};
use crate::error::{AsrError, Result};
use crate::frontend::{add_background, pad_silence, rms, write_wav16, NoiseColour};
use crate::rng::Rng;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// espeak-ng's named voice variants heard in training (besides
/// [`TRAIN_VARIANTS`]); robotic, whispered and croaking ones are left out.
pub const ESPEAK_TRAIN_NAMED: [&str; 36] = [
    "Adam", "Alex", "Alicia", "Andrea", "Annie", "Auntie", "Belinda", "Benjamin", "Caleb", "David",
    "Ed", "Edward", "Gene", "Hugo", "Jacky", "John", "Lee", "Max", "Michael", "Mike", "Paul",
    "Quincy", "Rob", "Robert", "Steph", "Storm", "Zac", "anika", "grandma", "grandpa", "klatt",
    "klatt2", "klatt3", "norbert", "shelby", "travis",
];
/// espeak-ng variants only the test splits use ([`TEST_VARIANTS`] plus two
/// named ones).
pub const ESPEAK_TEST_VARIANTS: [&str; 4] = ["m7", "f5", "Andy", "Linda"];
/// flite voices heard in training.
pub const FLITE_TRAIN_VOICES: [&str; 4] = ["kal", "kal16", "awb", "rms"];
/// The flite voice only the test splits use.
pub const FLITE_TEST_VOICES: [&str; 1] = ["slt"];

/// Who speaks an utterance, and how.
#[derive(Debug, Clone, PartialEq)]
pub enum Speaker {
    Espeak {
        /// `accent+variant`, e.g. `en-gb-scotland+m3`.
        voice: String,
        rate: u32,
        pitch: u32,
    },
    Flite {
        voice: String,
        /// Duration stretch (above 1: slower).
        stretch: f64,
        /// Mean pitch target in Hz (`None`: the voice's own).
        f0: Option<f64>,
    },
}

impl Speaker {
    /// The manifest's `speaker`: engine and voice (not rate or pitch).
    pub fn name(&self) -> String {
        match self {
            Speaker::Espeak { voice, .. } => format!("espeak:{voice}"),
            Speaker::Flite { voice, .. } => format!("flite:{voice}"),
        }
    }

    /// Renders `text` into the WAV file `out`.
    pub fn render(&self, text: &str, out: &Path) -> Result<()> {
        match self {
            Speaker::Espeak { voice, rate, pitch } => {
                render_espeak(text, voice, *rate, *pitch, out)
            }
            Speaker::Flite { voice, stretch, f0 } => render_flite(text, voice, *stretch, *f0, out),
        }
    }
}

/// Whether `flite` can be run.
pub fn flite_available() -> bool {
    Command::new("flite")
        .arg("-lv")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Speaks `text` with `flite -voice V --setf duration_stretch=S
/// [--setf int_f0_target_mean=F] -t TEXT -o out`.
pub fn render_flite(
    text: &str,
    voice: &str,
    stretch: f64,
    f0: Option<f64>,
    out: &Path,
) -> Result<()> {
    let mut cmd = Command::new("flite");
    cmd.args(["-voice", voice, "--setf"])
        .arg(format!("duration_stretch={stretch:.3}"));
    if let Some(f0) = f0 {
        cmd.arg("--setf").arg(format!("int_f0_target_mean={f0:.1}"));
    }
    cmd.arg("-t").arg(text).arg("-o").arg(out);
    run_synthesizer(cmd, "flite", voice, out)
}

/// What to build.
#[derive(Debug, Clone)]
pub struct OpenConfig {
    /// Training text files, one document per line (split into sentences and
    /// normalised, [`crate::corpus::text`]); each file gets an equal share.
    pub train_text: Vec<PathBuf>,
    /// The held-out text: test sentences come only from here.
    pub test_text: PathBuf,
    /// Folder with `templates.txt` and `words/` (numbers, digit strings,
    /// years), drawn for `template_share` of training utterances.
    pub templates: Option<PathBuf>,
    pub template_share: f64,
    /// Share of utterances spoken by flite (the rest by espeak-ng).
    pub flite_share: f64,
    pub out: PathBuf,
    pub train: usize,
    pub valid: usize,
    pub test: usize,
    pub seed: u64,
    /// Parallel synthesizer processes.
    pub jobs: usize,
    /// espeak-ng speaking rates (words per minute) and pitches (0-99).
    pub rate: (u32, u32),
    pub pitch: (u32, u32),
}

impl OpenConfig {
    pub fn new(train_text: Vec<PathBuf>, test_text: PathBuf, out: PathBuf) -> Self {
        OpenConfig {
            train_text,
            test_text,
            templates: None,
            template_share: 0.15,
            flite_share: 0.3,
            out,
            train: 12000,
            valid: 300,
            test: 600,
            seed: 1,
            jobs: 2,
            rate: (130, 210),
            pitch: (25, 75),
        }
    }
}

/// Counts of what [`build_open_corpus`] wrote, per split (train, valid,
/// test, test_b).
#[derive(Debug, Clone, Default)]
pub struct OpenSummary {
    pub utterances: [usize; 4],
    pub seconds: [f64; 4],
    /// Sentences available per training source after normalisation.
    pub pool_sizes: Vec<(PathBuf, usize)>,
    /// Held-out sentences available.
    pub test_pool: usize,
    /// Files found already rendered (a resumed run).
    pub reused: usize,
}

/// Split names in manifest order.
pub const OPEN_SPLITS: [&str; 4] = ["train", "valid", "test", "test_b"];

struct Job {
    split: usize,
    text: String,
    speaker: Speaker,
    path: PathBuf,
}

impl Job {
    /// What the file holds: the text and every synthesis setting.
    fn key(&self) -> String {
        format!("{:?}\t{}", self.speaker, self.text)
    }
}

/// The previous run's plan (file name → key); `None` when there is none,
/// i.e. a corpus made before plan files existed, whose files are trusted.
fn read_plan(path: &Path) -> Option<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(name, key)| (name.to_string(), key.to_string()))
            .collect(),
    )
}

fn write_plan(path: &Path, jobs: &[Job]) -> Result<()> {
    let mut text = String::new();
    for j in jobs {
        let name = j.path.file_name().unwrap().to_string_lossy();
        text.push_str(&format!("{name}\t{}\n", j.key()));
    }
    let tmp = path.with_extension("tsv.tmp");
    std::fs::write(&tmp, text).map_err(|e| AsrError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| AsrError::io(path, e))
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| AsrError::io(path, e))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Distinct normalised sentences of a file, in file order.
fn pool(path: &Path) -> Result<Vec<String>> {
    let text = read_text(path)?;
    let mut seen = HashSet::new();
    Ok(sentences_of(&text)
        .filter(|s| seen.insert(s.clone()))
        .collect())
}

fn espeak_voices(variants: &[&str]) -> Vec<String> {
    ACCENTS
        .iter()
        .flat_map(|a| variants.iter().map(move |v| format!("{a}+{v}")))
        .collect()
}

fn draw_speaker(test: bool, cfg: &OpenConfig, rng: &mut Rng, espeak: &[String]) -> Speaker {
    if rng.uniform() < cfg.flite_share {
        let voices: &[&str] = if test {
            &FLITE_TEST_VOICES
        } else {
            &FLITE_TRAIN_VOICES
        };
        let voice = rng.choose(voices).to_string();
        // Training stretches time and moves the pitch widely so that four
        // voices cover more; the test voice speaks near its own defaults.
        let (stretch, f0) = if test {
            (0.9 + 0.2 * rng.uniform(), None)
        } else {
            let f0 = (rng.uniform() < 0.6).then(|| 80.0 + 140.0 * rng.uniform());
            (0.8 + 0.45 * rng.uniform(), f0)
        };
        Speaker::Flite { voice, stretch, f0 }
    } else {
        Speaker::Espeak {
            voice: rng.choose(espeak).clone(),
            rate: rng.range(cfg.rate.0 as usize, cfg.rate.1 as usize) as u32,
            pitch: rng.range(cfg.pitch.0 as usize, cfg.pitch.1 as usize) as u32,
        }
    }
}

/// Renders the jobs whose WAV is not there yet, `n` at a time; returns how
/// many were already there.
fn render_all(
    jobs: &[Job],
    n: usize,
    progress: &Mutex<&mut (dyn FnMut(usize, usize) + Send)>,
) -> Result<usize> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let reused = AtomicUsize::new(0);
    let failure: Mutex<Option<AsrError>> = Mutex::new(None);
    let total = jobs.len();
    std::thread::scope(|s| {
        for _ in 0..n.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || failure.lock().unwrap().is_some() {
                    break;
                }
                let j = &jobs[i];
                if wav_duration(&j.path).is_ok_and(|d| d > 0.0) {
                    reused.fetch_add(1, Ordering::Relaxed);
                } else {
                    let tmp = j.path.with_extension("tmp.wav");
                    let r = j.speaker.render(&j.text, &tmp).and_then(|()| {
                        std::fs::rename(&tmp, &j.path).map_err(|e| AsrError::io(&j.path, e))
                    });
                    if let Err(e) = r {
                        *failure.lock().unwrap() = Some(e);
                        break;
                    }
                }
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                (progress.lock().unwrap())(d, total);
            });
        }
    });
    match failure.into_inner().unwrap() {
        Some(e) => Err(e),
        None => Ok(reused.into_inner()),
    }
}

/// Builds the corpus: `wav/`, `train.jsonl`, `valid.jsonl`, `test.jsonl`,
/// `test_b.jsonl` and `text.txt` (every training-side sentence, for the LM;
/// never a test or validation sentence).
pub fn build_open_corpus(
    cfg: &OpenConfig,
    mut progress: impl FnMut(usize, usize) + Send,
) -> Result<OpenSummary> {
    if cfg.train == 0 || cfg.jobs == 0 || cfg.train_text.is_empty() {
        return Err(AsrError::Config(
            "synth: --train, --jobs and at least one --text file are needed".into(),
        ));
    }
    for (name, share) in [
        ("template share", cfg.template_share),
        ("flite share", cfg.flite_share),
    ] {
        if !(0.0..=1.0).contains(&share) {
            return Err(AsrError::Config(format!(
                "synth: {name} {share} must be in 0..=1"
            )));
        }
    }
    let mut summary = OpenSummary::default();
    let held_out = pool(&cfg.test_text)?;
    let held_set: HashSet<&str> = held_out.iter().map(String::as_str).collect();
    let mut pools = Vec::new();
    for p in &cfg.train_text {
        let mut sentences = pool(p)?;
        sentences.retain(|s| !held_set.contains(s.as_str()));
        if sentences.is_empty() {
            return Err(AsrError::Config(format!(
                "{}: no usable English sentence in it",
                p.display()
            )));
        }
        summary.pool_sizes.push((p.clone(), sentences.len()));
        pools.push(sentences);
    }
    summary.test_pool = held_out.len();
    if held_out.len() < cfg.test {
        return Err(AsrError::Config(format!(
            "{}: {} usable sentences, fewer than the {} test utterances asked for",
            cfg.test_text.display(),
            held_out.len(),
            cfg.test
        )));
    }
    let gen = match &cfg.templates {
        Some(dir) => Some(SentenceGenerator::from_dir(dir)?),
        None => None,
    };
    let mut rng = Rng::new(cfg.seed);
    for p in pools.iter_mut() {
        rng.shuffle(p);
    }
    let mut test_sentences = held_out.clone();
    rng.shuffle(&mut test_sentences);
    let train_named: Vec<&str> = TRAIN_VARIANTS
        .iter()
        .chain(ESPEAK_TRAIN_NAMED.iter())
        .copied()
        .collect();
    let train_espeak = espeak_voices(&train_named);
    let test_espeak = espeak_voices(&ESPEAK_TEST_VARIANTS);
    debug_assert!(TEST_VARIANTS
        .iter()
        .all(|v| ESPEAK_TEST_VARIANTS.contains(v)));

    let wav_dir = cfg.out.join("wav");
    std::fs::create_dir_all(&wav_dir).map_err(|e| AsrError::io(&wav_dir, e))?;
    let mut cursors = vec![0usize; pools.len()];
    let mut jobs = Vec::new();
    // The test split draws from its own stream, so that its plan does not
    // depend on the other splits' sizes.
    let mut test_rng = Rng::new(cfg.seed ^ 0x7E57_0001);
    // Validation first, so that its sentences never reach training.
    for (split, count) in [(1usize, cfg.valid), (0, cfg.train), (2, cfg.test)] {
        let rng = if split == 2 { &mut test_rng } else { &mut rng };
        for i in 0..count {
            let text = if split == 2 {
                test_sentences[i % test_sentences.len()].clone()
            } else if gen.is_some() && split == 0 && rng.uniform() < cfg.template_share {
                gen.as_ref().unwrap().sentence(rng)
            } else {
                // An equal share per source; a source used up is reused from
                // its start (training only: validation sentences stay unique).
                let k = rng.range(0, pools.len() - 1);
                let c = &mut cursors[k];
                let s = pools[k][*c % pools[k].len()].clone();
                *c += 1;
                s
            };
            let speaker = draw_speaker(
                split == 2,
                cfg,
                rng,
                if split == 2 {
                    &test_espeak
                } else {
                    &train_espeak
                },
            );
            let path = wav_dir.join(format!("{}-{i:06}.wav", OPEN_SPLITS[split]));
            jobs.push(Job {
                split,
                text,
                speaker,
                path,
            });
        }
    }
    // The LM text: every training-side sentence not used for validation.
    let valid_texts: HashSet<&str> = jobs
        .iter()
        .filter(|j| j.split == 1)
        .map(|j| j.text.as_str())
        .collect();
    let mut lm_text = String::new();
    for p in &pools {
        for s in p {
            if !valid_texts.contains(s.as_str()) {
                lm_text.push_str(s);
                lm_text.push('\n');
            }
        }
    }
    for j in jobs.iter().filter(|j| j.split == 0) {
        if !pools.iter().any(|p| p.contains(&j.text)) {
            lm_text.push_str(&j.text);
            lm_text.push('\n');
        }
    }

    // A file is reused only when the previous run planned the same text and
    // speaker for it: `wav/plan.tsv` holds each file's plan, and files whose
    // plan changed (another seed, other sources) are rendered again.
    let plan_path = wav_dir.join("plan.tsv");
    let old_plan = read_plan(&plan_path);
    let mut stale = Vec::new();
    for j in &jobs {
        let name = j.path.file_name().unwrap().to_string_lossy().to_string();
        if j.path.exists()
            && old_plan
                .as_ref()
                .is_some_and(|p| p.get(&name) != Some(&j.key()))
        {
            stale.push(j.path.clone());
        }
    }
    for p in &stale {
        std::fs::remove_file(p).map_err(|e| AsrError::io(p, e))?;
    }
    write_plan(&plan_path, &jobs)?;
    let progress: &mut (dyn FnMut(usize, usize) + Send) = &mut progress;
    let progress = Mutex::new(progress);
    summary.reused = render_all(&jobs, cfg.jobs, &progress)?;

    let mut manifests: [Vec<Utterance>; 4] = Default::default();
    for j in &jobs {
        let duration = wav_duration(&j.path)?;
        summary.utterances[j.split] += 1;
        summary.seconds[j.split] += duration;
        manifests[j.split].push(Utterance {
            audio: j.path.clone(),
            text: j.text.clone(),
            duration,
            speaker: Some(j.speaker.name()),
        });
    }
    manifests[3] = build_test_b(&manifests[2], &wav_dir, cfg.seed)?;
    for u in &manifests[3] {
        summary.utterances[3] += 1;
        summary.seconds[3] += u.duration;
    }
    for (split, utts) in manifests.iter().enumerate() {
        write_manifest(&cfg.out.join(format!("{}.jsonl", OPEN_SPLITS[split])), utts)?;
    }
    let tpath = cfg.out.join("text.txt");
    std::fs::write(&tpath, lm_text).map_err(|e| AsrError::io(&tpath, e))?;
    Ok(summary)
}

/// The sample rate of `test_b`'s files.
pub const TEST_B_RATE: u32 = 16000;

fn load16(path: &Path) -> Result<Vec<f32>> {
    let fe = crate::frontend::FrontEnd {
        sample_rate: TEST_B_RATE,
        ..Default::default()
    };
    fe.load(path)
}

/// The `test_b` split from the test utterances, one file each, in three
/// kinds taken in turn: (0) 0.5-3 s of digital silence before and after;
/// (1) the same with white or pink background noise 20-30 dB below the
/// speech; (2) the utterance and the next one with a 0.5-3 s pause between
/// them (and 0.5-1.5 s before and after), with low noise half the time.
pub fn build_test_b(test: &[Utterance], wav_dir: &Path, seed: u64) -> Result<Vec<Utterance>> {
    let mut rng = Rng::new(seed ^ 0x0007_E57B);
    let mut out = Vec::with_capacity(test.len());
    let n = test.len();
    // Each file is read once, though kind 2 also uses it as the next one's
    // partner.
    let audio: Vec<Vec<f32>> = test
        .iter()
        .map(|u| load16(&u.audio))
        .collect::<Result<_>>()?;
    for (i, u) in test.iter().enumerate() {
        let path = wav_dir.join(format!("test_b-{i:06}.wav"));
        let kind = i % 3;
        let lead_hi = if kind == 2 { 1.5 } else { 3.0 };
        let lead = 0.5 + (lead_hi - 0.5) * rng.uniform();
        let trail = 0.5 + (lead_hi - 0.5) * rng.uniform();
        let noisy = kind == 1 || (kind == 2 && rng.uniform() < 0.5);
        let snr_db = 20.0 + 10.0 * rng.uniform();
        let colour = if rng.uniform() < 0.5 {
            NoiseColour::White
        } else {
            NoiseColour::Pink
        };
        let mut text = u.text.clone();
        let mut speech = audio[i].clone();
        if kind == 2 && n > 1 {
            let next = &test[(i + 1) % n];
            let gap = 0.5 + 2.5 * rng.uniform();
            speech = pad_silence(&speech, TEST_B_RATE, 0.0, gap);
            speech.extend_from_slice(&audio[(i + 1) % n]);
            text = format!("{} {}", u.text, next.text);
        }
        let level = rms(&speech) / 10f64.powf(snr_db / 20.0);
        let mut samples = pad_silence(&speech, TEST_B_RATE, lead, trail);
        if noisy {
            add_background(&mut samples, level, colour, &mut rng);
        }
        // Always written anew (cheap): it follows the test files it mixes.
        let tmp = path.with_extension("tmp.wav");
        write_wav16(&tmp, TEST_B_RATE, &samples)?;
        std::fs::rename(&tmp, &path).map_err(|e| AsrError::io(&path, e))?;
        out.push(Utterance {
            audio: path,
            text,
            duration: samples.len() as f64 / TEST_B_RATE as f64,
            speaker: u.speaker.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_voices_are_never_training_voices() {
        let train: Vec<&str> = TRAIN_VARIANTS
            .iter()
            .chain(ESPEAK_TRAIN_NAMED.iter())
            .copied()
            .collect();
        let train = espeak_voices(&train);
        for v in espeak_voices(&ESPEAK_TEST_VARIANTS) {
            assert!(!train.contains(&v), "{v}");
        }
        for v in FLITE_TEST_VOICES {
            assert!(!FLITE_TRAIN_VOICES.contains(&v));
        }
        // Drawn speakers respect the split.
        let cfg = OpenConfig::new(vec![], PathBuf::new(), PathBuf::new());
        let mut rng = Rng::new(5);
        let test_espeak = espeak_voices(&ESPEAK_TEST_VARIANTS);
        for _ in 0..500 {
            match draw_speaker(true, &cfg, &mut rng, &test_espeak) {
                Speaker::Espeak { voice, .. } => assert!(test_espeak.contains(&voice)),
                Speaker::Flite { voice, .. } => {
                    assert!(FLITE_TEST_VOICES.contains(&voice.as_str()))
                }
            }
        }
    }
}
