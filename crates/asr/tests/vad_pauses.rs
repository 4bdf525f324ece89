//! Voice activity detection on speech with pauses at known places (issue
//! 17): three espeak-ng sentences laid out with silences of 1.5, 0.8, 2.5
//! and 1.2 s over faint white noise. The oracle is the layout: each
//! sentence's extent is where its samples first and last exceed 2 % of its
//! peak (found by a plain scan of the clip alone, before mixing), placed at
//! the offset this test chose. `sori_features::vad` must find exactly those
//! three regions, each edge within [`TOLERANCE`] of the extent widened by
//! the detector's pad; `asr transcribe` with the committed model must put
//! every word inside a sentence's extent (nothing is recognised in the
//! silences, which it leaves out), and its subtitle cues must not span a
//! pause.
use sori_asr::corpus::synth::render_espeak;
use sori_asr::support::bench_audio::write_wav16;
use sori_asr::support::tools::espeak_or_skip;
use sori_features::read_audio;
use sori_features::vad::{speech_regions, VadConfig};
use std::process::Command;

/// Allowed error of a detected region edge, seconds: the 2 %-of-peak
/// extent and the detector's 10 dB-over-the-floor rule disagree by a weak
/// consonant at most.
const TOLERANCE: f64 = 0.12;
/// Slack of a word's or cue's time against a sentence's extent, seconds
/// (CTC emissions are peaky: a word's span is where the model emitted its
/// letters, which can sit late).
const WORD_SLACK: f64 = 0.3;

#[test]
fn pauses_are_found_and_respected() {
    if !espeak_or_skip("pauses_are_found_and_respected") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sentences = [
        ("the quick brown fox jumps over the lazy dog", "en-us+m7"),
        ("seven two nine", "en-gb+f5"),
        ("my cat likes warm milk", "en-us+m7"),
    ];
    let silences = [1.5, 0.8, 2.5, 1.2];
    let mut rate = 0;
    let mut clips = Vec::new();
    for (i, (text, voice)) in sentences.iter().enumerate() {
        let path = dir.path().join(format!("s{i}.wav"));
        render_espeak(text, voice, 160, 50, &path).unwrap();
        let a = read_audio(&path).unwrap();
        rate = a.sample_rate;
        clips.push(a.samples);
    }
    let sr = rate as f64;
    let mut x: Vec<f32> = Vec::new();
    let mut extents = Vec::new();
    for (i, clip) in clips.iter().enumerate() {
        x.extend(std::iter::repeat_n(0.0, (silences[i] * sr) as usize));
        let peak = clip.iter().fold(0f32, |m, v| m.max(v.abs()));
        let first = clip.iter().position(|v| v.abs() > 0.02 * peak).unwrap();
        let last = clip.iter().rposition(|v| v.abs() > 0.02 * peak).unwrap();
        extents.push((
            (x.len() + first) as f64 / sr,
            (x.len() + last + 1) as f64 / sr,
        ));
        x.extend_from_slice(clip);
    }
    x.extend(std::iter::repeat_n(0.0, (silences[3] * sr) as usize));
    let total = x.len() as f64 / sr;
    let mut rng = sori_asr::rng::Rng::new(17);
    for v in &mut x {
        *v += (0.002 * rng.normal()) as f32;
    }

    let c = VadConfig::default();
    let got: Vec<(f64, f64)> = speech_regions(&x, rate, &c)
        .unwrap()
        .into_iter()
        .map(|r| (r.start as f64 / sr, r.end as f64 / sr))
        .collect();
    let want: Vec<(f64, f64)> = extents
        .iter()
        .map(|&(a, b)| ((a - c.pad).max(0.0), (b + c.pad).min(total)))
        .collect();
    assert!(
        got.len() == want.len()
            && got
                .iter()
                .zip(&want)
                .all(|(g, w)| { (g.0 - w.0).abs() <= TOLERANCE && (g.1 - w.1).abs() <= TOLERANCE }),
        "detected {got:.3?}\n expected {want:.3?}"
    );

    let wav = dir.path().join("talk.wav");
    write_wav16(&wav, rate, &x).unwrap();
    let run = |extra: &[&str]| -> String {
        let o = Command::new(env!("CARGO_BIN_EXE_asr"))
            .arg("transcribe")
            .arg(&wav)
            .args(extra)
            .env_remove("SORI_ASR_MODEL")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let inside = |a: f64, b: f64| {
        extents
            .iter()
            .any(|&(s, e)| a >= s - WORD_SLACK && b <= e + WORD_SLACK)
    };
    let json: serde_json::Value = serde_json::from_str(&run(&["--format", "json"])).unwrap();
    let words = json["words"].as_array().unwrap();
    assert!(words.len() >= 10, "{json}");
    for w in words {
        let (a, b) = (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap());
        assert!(
            inside(a, b),
            "word {w} is outside the sentences {extents:.3?}"
        );
    }
    // Subtitle cues end at the pauses: none spans two sentences.
    let srt = run(&["--format", "srt"]);
    let parse = |t: &str| {
        let (h, rest) = t.split_once(':').unwrap();
        let (m, rest) = rest.split_once(':').unwrap();
        let (s, ms) = rest.split_once(',').unwrap();
        h.parse::<f64>().unwrap() * 3600.0
            + m.parse::<f64>().unwrap() * 60.0
            + s.parse::<f64>().unwrap()
            + ms.parse::<f64>().unwrap() / 1000.0
    };
    let cues: Vec<(f64, f64)> = srt
        .lines()
        .filter_map(|l| l.split_once(" --> "))
        .map(|(a, b)| (parse(a), parse(b)))
        .collect();
    assert!(cues.len() >= 3, "{srt}");
    for &(a, b) in &cues {
        assert!(inside(a, b), "cue {a}..{b} spans a pause: {srt}");
    }
}
