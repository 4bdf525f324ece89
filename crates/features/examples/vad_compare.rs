//! Measures sori's voice activity detector (`sori_features::vad`: energy and
//! spectral flux with hysteresis) against earshot (a pure-Rust successor of
//! the WebRTC VAD, a small neural network on 16 ms frames; issue 17 asks
//! which is better) on speech whose timing is known.
//!
//! The test signal: sentences spoken by espeak-ng in two English voices the
//! committed recogniser never trained on, with 0.4-3 s pauses between them,
//! mixed with noise at stated signal-to-noise ratios. The truth comes from
//! the clean signal: a 16 ms frame is speech when its energy is within 40 dB
//! of the loudest frame, and gaps under 250 ms (between words) count as
//! speech. Both detectors are scored per 16 ms frame (precision, recall,
//! F1); earshot's frame scores (threshold 0.5) go through the same joining,
//! minimum length and 0.1 s padding as sori's regions, so the comparison is
//! of the detectors, not of the post-processing.
//!
//! `cargo run --release -p sori-features --example vad_compare` (needs
//! espeak-ng, which `make setup` installs). The figures it printed are in
//! `crates/features/README.md`.
use std::process::Command;
use std::time::Instant;

use sori_features::vad::{finish_regions, Vad, VadConfig};

const RATE: u32 = 16000;
const FRAME: usize = 256;

const SENTENCES: [&str; 8] = [
    "the children played in the garden until dark",
    "she bought fresh bread and a bottle of milk",
    "we will meet at the station tomorrow morning",
    "please close the window before you leave",
    "the train was late because of the snow",
    "a cold wind blew across the empty field",
    "he plays the guitar every evening after dinner",
    "the market sells apples oranges and pears",
];

/// SplitMix64 for the pauses and the noise (reproducible without a crate).
struct Mix(u64);
impl Mix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-300), self.next());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn speak(text: &str, voice: &str, dir: &std::path::Path, i: usize) -> Vec<f32> {
    let wav = dir.join(format!("s{i}.wav"));
    let ok = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "160", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "espeak-ng failed (run make setup)");
    let a = sori_features::read_audio(&wav).expect("espeak-ng output");
    sori_features::resample(&a.samples, a.sample_rate, RATE, "espeak").expect("resample")
}

fn frame_energy(x: &[f32]) -> Vec<f64> {
    x.chunks(FRAME)
        .map(|c| c.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / c.len() as f64)
        .collect()
}

/// Frame labels from sample ranges: a frame is speech when a region covers
/// at least half of it.
fn frames_of(regions: &[std::ops::Range<usize>], n_frames: usize) -> Vec<bool> {
    let mut cover = vec![0usize; n_frames];
    for r in regions {
        for (f, c) in cover.iter_mut().enumerate() {
            let (s, e) = (f * FRAME, (f + 1) * FRAME);
            *c += r.end.min(e).saturating_sub(r.start.max(s));
        }
    }
    cover.iter().map(|&c| c * 2 >= FRAME).collect()
}

fn regions_of(labels: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (f, &l) in labels.iter().chain([false].iter()).enumerate() {
        match (l, start) {
            (true, None) => start = Some(f * FRAME),
            (false, Some(s)) => {
                out.push((s, f * FRAME));
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn prf(truth: &[bool], got: &[bool]) -> (f64, f64, f64) {
    let tp = truth.iter().zip(got).filter(|(t, g)| **t && **g).count() as f64;
    let fp = truth.iter().zip(got).filter(|(t, g)| !**t && **g).count() as f64;
    let fn_ = truth.iter().zip(got).filter(|(t, g)| **t && !**g).count() as f64;
    let p = if tp + fp > 0.0 { tp / (tp + fp) } else { 1.0 };
    let r = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 1.0 };
    (
        p,
        r,
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        },
    )
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut rng = Mix(17);
    let mut clean: Vec<f32> = vec![0.0; (RATE as f64 * 1.5) as usize];
    for (i, s) in SENTENCES.iter().enumerate() {
        let voice = if i % 2 == 0 { "en-us+m7" } else { "en-gb+f5" };
        clean.extend(speak(s, voice, dir.path(), i));
        let pause = 0.4 + 2.6 * rng.next();
        clean.extend(std::iter::repeat_n(0.0, (pause * RATE as f64) as usize));
    }
    let n_frames = clean.len() / FRAME;
    clean.truncate(n_frames * FRAME);
    let energy = frame_energy(&clean);
    let peak = energy.iter().cloned().fold(0.0, f64::max);
    let loud: Vec<bool> = energy.iter().map(|&e| e > peak * 1e-4).collect();
    let gap = (0.25 * RATE as f64) as usize;
    let truth = frames_of(
        &finish_regions(regions_of(&loud), gap, 1, 0, clean.len()),
        n_frames,
    );
    let speech_power = energy
        .iter()
        .zip(&truth)
        .filter(|(_, t)| **t)
        .map(|(e, _)| *e)
        .sum::<f64>()
        / truth.iter().filter(|t| **t).count() as f64;
    let seconds = clean.len() as f64 / RATE as f64;
    println!(
        "{seconds:.1} s of audio, {:.1} % speech frames (16 ms)\n",
        100.0 * truth.iter().filter(|t| **t).count() as f64 / n_frames as f64
    );
    println!("| noise | SNR | sori P / R / F1 | earshot P / R / F1 | earshot raw F1 |");
    println!("|---|---|---|---|---|");
    let config = VadConfig::default();
    let (min_gap, min_len, pad) = (
        (config.min_silence * RATE as f64) as usize,
        (config.min_speech * RATE as f64) as usize,
        (config.pad * RATE as f64) as usize,
    );
    let (mut t_sori, mut t_ear) = (0.0, 0.0);
    for (kind, snr) in [
        ("none (dither 1e-4)", f64::INFINITY),
        ("white", 20.0),
        ("white", 10.0),
        ("white", 5.0),
        ("brown", 10.0),
        ("hum 120 Hz + white", 10.0),
    ] {
        let mut noise: Vec<f64> = Vec::with_capacity(clean.len());
        let mut brown = 0.0;
        for i in 0..clean.len() {
            let w = rng.gauss();
            noise.push(match kind {
                "brown" => {
                    brown = 0.98 * brown + w;
                    brown
                }
                "hum 120 Hz + white" => {
                    5.0 * (std::f64::consts::TAU * 120.0 * i as f64 / RATE as f64).sin() + w
                }
                _ => w,
            });
        }
        let noise_power = noise.iter().map(|v| v * v).sum::<f64>() / noise.len() as f64;
        let scale = if snr.is_finite() {
            (speech_power / noise_power / 10f64.powf(snr / 10.0)).sqrt()
        } else {
            1e-4 / noise_power.sqrt()
        };
        let x: Vec<f32> = clean
            .iter()
            .zip(&noise)
            .map(|(&c, &n)| c + (n * scale) as f32)
            .collect();

        let t0 = Instant::now();
        let mut vad = Vad::new(&config, RATE).expect("vad");
        let sori = frames_of(&vad.detect(&x), n_frames);
        t_sori += t0.elapsed().as_secs_f64();

        let t0 = Instant::now();
        let mut det = earshot::Detector::default();
        let raw: Vec<bool> = x
            .chunks_exact(FRAME)
            .map(|f| det.predict_f32(f) >= 0.5)
            .collect();
        t_ear += t0.elapsed().as_secs_f64();
        let ear = frames_of(
            &finish_regions(regions_of(&raw), min_gap, min_len, pad, x.len()),
            n_frames,
        );
        let (sp, sr, sf) = prf(&truth, &sori);
        let (ep, er, ef) = prf(&truth, &ear);
        let (_, _, rf) = prf(&truth, &raw);
        let snr = if snr.is_finite() {
            format!("{snr} dB")
        } else {
            "-".into()
        };
        println!(
            "| {kind} | {snr} | {sp:.3} / {sr:.3} / **{sf:.3}** | {ep:.3} / {er:.3} / **{ef:.3}** | {rf:.3} |"
        );
    }
    let total = 6.0 * seconds;
    println!(
        "\nspeed, one thread: sori {:.0}x real time, earshot {:.0}x",
        total / t_sori,
        total / t_ear
    );
}
