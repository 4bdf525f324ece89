//! Beam search with the character LM on a constructed posteriorgram: the
//! acoustics of "the cat" make 'k' slightly more likely than 'c', so greedy
//! decoding writes "the kat"; an LM trained on text where "kat" never
//! occurs must make the beam search write "the cat", and the word times
//! (from the Viterbi alignment of the beam's answer) must be where the
//! characters were put.
use sori_asr::decode::lm::{train_char_lm, CharLm};
use sori_asr::recognize::{words_from_emissions, BeamDecoder, Decoder, Greedy};
use sori_asr::Vocab;
use sori_lm::Smoothing;
use std::sync::Arc;

/// `[frames, classes]` log-probabilities: each character held for 2 frames
/// followed by a blank frame; the character at `ambiguous` has its mass
/// split 0.5 'k' / 0.4 'c'.
fn posteriorgram(vocab: &Vocab, text: &str, ambiguous: usize) -> (Vec<f32>, usize) {
    let classes = vocab.classes();
    let blank = vocab.blank();
    let mut rows: Vec<Vec<f32>> = Vec::new();
    let row = |probs: &[(usize, f32)]| {
        let rest: f32 = probs.iter().map(|p| p.1).sum();
        let mut r = vec![((1.0 - rest) / (classes - probs.len()) as f32).ln(); classes];
        for &(c, p) in probs {
            r[c] = p.ln();
        }
        r
    };
    for (i, ch) in text.chars().enumerate() {
        let c = vocab.index(ch).unwrap();
        let probs: Vec<(usize, f32)> = if i == ambiguous {
            vec![(vocab.index('k').unwrap(), 0.5), (c, 0.4)]
        } else {
            vec![(c, 0.9)]
        };
        rows.push(row(&probs));
        rows.push(row(&probs));
        rows.push(row(&[(blank, 0.9)]));
    }
    let frames = rows.len();
    (rows.concat(), frames)
}

fn text_of(vocab: &Vocab, d: &dyn Decoder, lp: &[f32], frames: usize) -> (String, Vec<usize>) {
    let em = d
        .decode(lp, frames, vocab.classes(), vocab.blank())
        .unwrap();
    let text = em.iter().map(|e| vocab.labels()[e.label]).collect();
    (text, em.iter().map(|e| e.step).collect())
}

#[test]
fn the_lm_fixes_what_greedy_gets_wrong() {
    let vocab = Vocab::new("thecaksrnm".chars());
    let (lp, frames) = posteriorgram(&vocab, "the cat", 4);
    let (greedy, _) = text_of(&vocab, &Greedy, &lp, frames);
    assert_eq!(greedy, "the kat");

    // Without an LM the beam agrees with greedy here.
    let (plain, _) = text_of(&vocab, &BeamDecoder::new(8), &lp, frames);
    assert_eq!(plain, "the kat");

    let corpus: Vec<String> = [
        "the cat sat",
        "a cat ran",
        "the cats",
        "the man sat",
        "the rat ran",
        "kent ran",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let lm = train_char_lm(&corpus, 4, Smoothing::KneserNey, &[]).unwrap();
    let lm = Arc::new(CharLm::new(lm, &vocab));
    let beam = BeamDecoder::new(8).with_lm(lm.clone(), 1.0, 0.5);
    let (fixed, steps) = text_of(&vocab, &beam, &lp, frames);
    assert_eq!(fixed, "the cat");
    // Each character was put at frames 3i, 3i+1: its first frame is 3i.
    assert_eq!(steps, (0..7).map(|i| 3 * i).collect::<Vec<_>>());
    let chars: Vec<(char, usize, f64)> =
        fixed.chars().zip(steps).map(|(c, s)| (c, s, 1.0)).collect();
    let words = words_from_emissions(&chars, 0.04, 0.0);
    assert_eq!(words.len(), 2);
    assert!((words[1].start - 12.0 * 0.04).abs() < 1e-9);

    // A weight of zero is the plain beam again.
    let zero = BeamDecoder::new(8).with_lm(lm, 0.0, 0.0);
    assert_eq!(text_of(&vocab, &zero, &lp, frames).0, "the kat");
}
