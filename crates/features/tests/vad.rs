//! Voice activity detection on recordings made here with known speech
//! positions: "words" (voiced syllables with a gliding pitch and harmonics,
//! 10 ms attack and release) placed at chosen times, over digital silence,
//! white noise, pink-ish noise and a mains hum. The oracle is the
//! construction: each detected region must match one word's span widened by
//! the configured pad, within [`TOLERANCE`] on each edge, and nothing else
//! may be detected. (`crates/asr/tests/vad_pauses.rs` does the same with
//! espeak-ng speech.)
use std::f64::consts::TAU;
use std::ops::Range;

use sori_features::vad::{speech_regions, Vad, VadConfig};

const RATE: u32 = 16000;
/// Allowed error of a region edge, seconds (two 10 ms hops and the 25 ms
/// frame's half).
const TOLERANCE: f64 = 0.035;

/// SplitMix64 for the noise and the syllables.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (TAU * v).cos()
    }
}

/// A word of `seconds` at RMS about `level`: syllables of 120-250 ms, each
/// a voiced sound with 12 harmonics, pitch gliding, 10 ms attack/release,
/// half of them followed by a 20-60 ms closure (silence, as before a stop
/// consonant).
fn word(seconds: f64, level: f64, rng: &mut Rng) -> Vec<f64> {
    let n = (seconds * RATE as f64) as usize;
    let mut out = Vec::with_capacity(n);
    let mut phase = 0.0;
    while out.len() < n {
        let len = ((0.12 + 0.13 * rng.uniform()) * RATE as f64) as usize;
        let len = len.min(n - out.len());
        let f0 = 90.0 + 150.0 * rng.uniform();
        let f1 = f0 * (0.8 + 0.4 * rng.uniform());
        let ramp = (0.01 * RATE as f64) as usize;
        for i in 0..len {
            let pos = i as f64 / len as f64;
            phase = (phase + TAU * (f0 + (f1 - f0) * pos) / RATE as f64) % TAU;
            let v: f64 = (1..=12).map(|h| (phase * h as f64).sin() / h as f64).sum();
            let edge = (i.min(len - 1 - i) as f64 / ramp as f64).min(1.0);
            // A syllable dips to a third in its middle ("consonant").
            let shape = 1.0 - 0.66 * (std::f64::consts::PI * pos).sin().powi(8);
            out.push(level * 1.3 * edge * shape * v);
        }
        if rng.uniform() < 0.5 {
            let gap = ((0.02 + 0.04 * rng.uniform()) * RATE as f64) as usize;
            out.extend(std::iter::repeat_n(0.0, gap.min(n - out.len())));
        }
    }
    out
}

enum Background {
    Silence,
    White(f64),
    Brown(f64),
    Hum(f64),
}

/// `total` seconds of `background` with words at `spans` (seconds).
fn recording(total: f64, spans: &[(f64, f64)], background: Background, seed: u64) -> Vec<f32> {
    let mut rng = Rng(seed);
    let n = (total * RATE as f64) as usize;
    let mut x: Vec<f64> = match background {
        Background::Silence => vec![0.0; n],
        Background::White(rms) => (0..n).map(|_| rms * rng.normal()).collect(),
        Background::Brown(rms) => {
            // Integrated white noise with a leak: energy falls with frequency.
            let mut y = 0.0;
            let raw: Vec<f64> = (0..n)
                .map(|_| {
                    y = 0.98 * y + rng.normal();
                    y
                })
                .collect();
            let r = (raw.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
            raw.into_iter().map(|v| rms * v / r).collect()
        }
        Background::Hum(rms) => (0..n)
            .map(|i| {
                let t = i as f64 / RATE as f64;
                rms * (1..=5)
                    .map(|h| (TAU * 50.0 * h as f64 * t).sin() / h as f64)
                    .sum::<f64>()
            })
            .collect(),
    };
    for &(a, b) in spans {
        let w = word(b - a, 0.1, &mut rng);
        let s = (a * RATE as f64) as usize;
        for (i, v) in w.into_iter().enumerate() {
            x[s + i] += v;
        }
    }
    x.into_iter().map(|v| v as f32).collect()
}

fn seconds(r: &[Range<usize>]) -> Vec<(f64, f64)> {
    r.iter()
        .map(|r| (r.start as f64 / RATE as f64, r.end as f64 / RATE as f64))
        .collect()
}

/// Every detected region is one expected span widened by the pad (within
/// the recording), each edge within TOLERANCE.
fn check(name: &str, got: &[Range<usize>], spans: &[(f64, f64)], total: f64, pad: f64) {
    let got = seconds(got);
    let want: Vec<(f64, f64)> = spans
        .iter()
        .map(|&(a, b)| ((a - pad).max(0.0), (b + pad).min(total)))
        .collect();
    let ok = got.len() == want.len()
        && got
            .iter()
            .zip(&want)
            .all(|(g, w)| (g.0 - w.0).abs() <= TOLERANCE && (g.1 - w.1).abs() <= TOLERANCE);
    assert!(ok, "{name}: detected {got:.3?}\n expected {want:.3?}");
}

const SPANS: [(f64, f64); 5] = [(0.5, 1.3), (1.8, 3.1), (3.45, 3.8), (5.0, 7.2), (8.0, 8.6)];

#[test]
fn words_are_found_where_they_were_put() {
    let c = VadConfig::default();
    // Word RMS is about 0.1 (-20 dBFS); white noise at 0.01 is 20 dB SNR,
    // 0.03 about 10 dB.
    let cases = [
        ("silence", Background::Silence),
        ("white noise, 20 dB SNR", Background::White(0.01)),
        ("white noise, 10 dB SNR", Background::White(0.03)),
        ("brown noise, 15 dB SNR", Background::Brown(0.018)),
        ("50 Hz hum, 15 dB below", Background::Hum(0.018)),
    ];
    for (seed, (name, bg)) in cases.into_iter().enumerate() {
        let x = recording(9.0, &SPANS, bg, seed as u64 + 1);
        let got = speech_regions(&x, RATE, &c).unwrap();
        check(name, &got, &SPANS, 9.0, c.pad);
    }
}

#[test]
fn pauses_shorter_than_min_silence_do_not_split_and_short_blips_are_dropped() {
    let c = VadConfig::default();
    // A 0.15 s pause (< 0.25 s) inside a phrase, a 50 ms click (< 0.1 s).
    let spans = [(0.5, 1.2), (1.35, 2.0), (3.0, 3.05), (4.0, 4.5)];
    let x = recording(5.0, &spans, Background::White(0.005), 7);
    let got = speech_regions(&x, RATE, &c).unwrap();
    check(
        "short pause, click",
        &got,
        &[(0.5, 2.0), (4.0, 4.5)],
        5.0,
        c.pad,
    );
    // With min_silence below the pause and min_speech below the click,
    // both show.
    let fine = VadConfig {
        min_silence: 0.1,
        min_speech: 0.03,
        pad: 0.03,
        ..c
    };
    let got = speech_regions(&x, RATE, &fine).unwrap();
    check("fine settings", &got, &spans, 5.0, fine.pad);
}

#[test]
fn noise_hum_and_silence_alone_hold_no_speech() {
    let c = VadConfig::default();
    for (name, bg) in [
        ("silence", Background::Silence),
        ("white noise", Background::White(0.05)),
        ("brown noise", Background::Brown(0.05)),
        ("hum", Background::Hum(0.1)),
    ] {
        let x = recording(6.0, &[], bg, 3);
        let got = speech_regions(&x, RATE, &c).unwrap();
        assert!(got.is_empty(), "{name}: {:.3?}", seconds(&got));
    }
    // Below -70 dBFS nothing is speech, whatever its shape.
    let mut rng = Rng(9);
    let faint: Vec<f32> = recording(4.0, &[(1.0, 3.0)], Background::Silence, 4)
        .into_iter()
        .map(|v| v * 1e-3 + 1e-6 * rng.normal() as f32)
        .collect();
    assert!(speech_regions(&faint, RATE, &c).unwrap().is_empty());
    assert!(speech_regions(&[], RATE, &c).unwrap().is_empty());
}

#[test]
fn speech_to_the_edges_and_other_rates() {
    // Speech from the first to the last sample: one region, the whole file.
    let c = VadConfig::default();
    let x = recording(3.0, &[(0.0, 3.0)], Background::White(0.003), 11);
    let got = speech_regions(&x, RATE, &c).unwrap();
    check("whole file", &got, &[(0.0, 3.0)], 3.0, c.pad);
    // 8 kHz: the same spans (resampled by decimating a 16 kHz recording
    // after a crude low-pass: the words' harmonics stay under 4 kHz).
    let x = recording(9.0, &SPANS, Background::White(0.01), 12);
    let half: Vec<f32> = x.chunks(2).map(|p| p.iter().sum::<f32>() / 2.0).collect();
    let mut vad = Vad::new(&c, 8000).unwrap();
    let got: Vec<Range<usize>> = vad
        .detect(&half)
        .into_iter()
        .map(|r| r.start * 2..r.end * 2)
        .collect();
    check("8 kHz", &got, &SPANS, 9.0, c.pad);
}

/// The hysteresis, against levels computed from the construction: a voiced
/// sound whose level rises and falls linearly in dB (60 dB in 0.8 s) over
/// white noise at -60 dBFS. A region opens where the frame energy is `on_db`
/// over the noise (sound + noise power: the sound is then 9.5 dB above the
/// noise) and closes where it falls to `off_db` over it (3.3 dB above): on a
/// fading end the region lasts 80 ms longer than a single threshold would
/// let it (13 ms per dB).
#[test]
fn regions_open_at_on_db_and_close_at_off_db() {
    let c = VadConfig::default();
    let sr = RATE as f64;
    let noise_rms = 0.001f64;
    let noise_db = 20.0 * noise_rms.log10();
    // The voiced sound at unit RMS (12 harmonics of 150 Hz).
    let n = (4.0 * sr) as usize;
    let raw: Vec<f64> = (0..n)
        .map(|i| {
            let ph = TAU * 150.0 * i as f64 / sr;
            (1..=12).map(|h| (ph * h as f64).sin() / h as f64).sum()
        })
        .collect();
    let rms = (raw.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
    // Level in dBFS: noise_db - 20 at 0.5 s, rising to noise_db + 40 at
    // 1.3 s, flat to 2.6 s, falling back by 3.4 s.
    let level = |t: f64| -> f64 {
        let (lo, hi) = (noise_db - 20.0, noise_db + 40.0);
        let slope = (hi - lo) / 0.8; // 60 dB over 0.8 s
        if !(0.5..=3.4).contains(&t) {
            f64::NEG_INFINITY
        } else if t < 1.3 {
            lo + slope * (t - 0.5)
        } else if t <= 2.6 {
            hi
        } else {
            hi - slope * (t - 2.6)
        }
    };
    let mut rng = Rng(21);
    let x: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f64 / sr;
            let a = 10f64.powf(level(t) / 20.0);
            (a * raw[i] / rms + noise_rms * rng.normal()) as f32
        })
        .collect();
    // Where the sound's level makes the energy `db` over the noise.
    let above = |db: f64| noise_db + 10.0 * (10f64.powf(db / 10.0) - 1.0).log10();
    let slope = 60.0 / 0.8;
    let start = 0.5 + (above(c.on_db) - (noise_db - 20.0)) / slope;
    let end = 2.6 + ((noise_db + 40.0) - above(c.off_db)) / slope;
    let got = speech_regions(&x, RATE, &c).unwrap();
    check("fades", &got, &[(start, end)], 4.0, c.pad);
}
