//! Greedy and beam search (`sori_seq2seq::search`) against independent
//! oracles on a stub model whose next-piece distributions are fixed tables
//! (hand-made, or drawn once from a seeded SplitMix64 per source and
//! prefix), so the right answer is known without the network:
//!
//! - beam search with a beam wide enough to hold every prefix equals an
//!   exhaustive search over all outputs up to the length limit, scored
//!   with the same GNMT length penalty (written out here, not the crate's);
//! - any beam returns a hypothesis whose summed and normalised
//!   log-probabilities are those of its pieces under the tables, and never
//!   beats the exhaustive optimum;
//! - a hand-made table where greedy is wrong and beam 2 is right;
//! - beam 1 equals greedy, and greedy equals a plain arg-max walk;
//! - greedy on a padded batch equals greedy one sentence at a time (on the
//!   stub, and on the committed model `models/de-en`).
use sori_seq2seq::search::{beam_search, greedy, StepModel};
use sori_seq2seq::subword::{BOS, EOS, PAD};
use sori_seq2seq::Result;
use tch::{Device, Kind, Tensor};

/// Next-piece log-probabilities for a source and a target prefix (pieces
/// after `<s>`).
type Table = dyn Fn(&[i64], &[i64]) -> Vec<f64>;

/// A model that is nothing but a table of next-piece distributions.
struct Stub<'a> {
    vocab: usize,
    table: &'a Table,
}

/// Per row: the source's real pieces.
struct Src(Vec<Vec<i64>>);
/// Per row: the pieces read so far, `<s>` included.
#[derive(Clone)]
struct Prefixes(Vec<Vec<i64>>);

impl StepModel for Stub<'_> {
    type Source = Src;
    type State = Prefixes;
    fn device(&self) -> Device {
        Device::Cpu
    }
    fn encode_source(&self, src: &Tensor, lengths: &[i64]) -> Result<Src> {
        let s = src.size()[1] as usize;
        let flat: Vec<i64> = Vec::try_from(&src.reshape([-1])).unwrap();
        assert_eq!(flat.len(), s * lengths.len());
        Ok(Src(lengths
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                let row = &flat[i * s..(i + 1) * s];
                // Padding is PAD and comes after the real pieces.
                assert!(row[l as usize..].iter().all(|&p| p == PAD), "{row:?}");
                row[..l as usize].to_vec()
            })
            .collect()))
    }
    fn repeat_source(&self, src: &Src, k: i64) -> Src {
        Src(src
            .0
            .iter()
            .flat_map(|r| std::iter::repeat_n(r.clone(), k as usize))
            .collect())
    }
    fn start_state(&self, src: &Src) -> Prefixes {
        Prefixes(vec![Vec::new(); src.0.len()])
    }
    fn next_logits(
        &self,
        y: &Tensor,
        state: &Prefixes,
        src: &Src,
    ) -> Result<(Tensor, Prefixes, Tensor)> {
        let ys: Vec<i64> = Vec::try_from(y).unwrap();
        assert_eq!(ys.len(), state.0.len());
        assert_eq!(ys.len(), src.0.len());
        let mut next = Vec::new();
        let mut logits: Vec<f32> = Vec::new();
        for ((prefix, &y), s) in state.0.iter().zip(&ys).zip(&src.0) {
            let mut p = prefix.clone();
            p.push(y);
            assert_eq!(p[0], BOS, "every prefix starts with <s>");
            let row = (self.table)(s, &p[1..]);
            assert_eq!(row.len(), self.vocab);
            logits.extend(row.iter().map(|&x| x as f32));
            next.push(p);
        }
        let b = ys.len() as i64;
        let s = src.0.iter().map(|r| r.len()).max().unwrap_or(1).max(1) as i64;
        Ok((
            Tensor::from_slice(&logits).reshape([b, self.vocab as i64]),
            Prefixes(next),
            Tensor::zeros([b, s], (Kind::Float, Device::Cpu)),
        ))
    }
    fn select_rows(&self, state: &Prefixes, index: &Tensor) -> Prefixes {
        let ix: Vec<i64> = Vec::try_from(index).unwrap();
        Prefixes(ix.iter().map(|&i| state.0[i as usize].clone()).collect())
    }
}

/// The GNMT length penalty, written out independently of the crate.
fn penalty(len: usize, alpha: f64) -> f64 {
    ((5.0 + len as f64) / 6.0).powf(alpha)
}

/// The crate's length limit as its README states it: `2 * source pieces +
/// 10`, at most `max_len`, at least 1.
fn limit(src_len: usize, max_len: usize) -> usize {
    (2 * src_len + 10).min(max_len).max(1)
}

/// Summed log-probability of `tokens` (then `</s>` when `eos`).
fn log_prob(table: &Table, src: &[i64], tokens: &[i64], eos: bool) -> f64 {
    let mut lp = 0.0;
    for i in 0..tokens.len() {
        lp += table(src, &tokens[..i])[tokens[i] as usize] as f32 as f64;
    }
    if eos {
        lp += table(src, tokens)[EOS as usize] as f32 as f64;
    }
    lp
}

/// Every output the search may return, with its score: `n < limit` pieces
/// then `</s>` (normalised by `n + 1`), or `limit` pieces cut at the limit
/// (normalised by `limit + 1`), pieces being any id but `</s>`.
fn exhaustive(
    table: &Table,
    src: &[i64],
    vocab: usize,
    lim: usize,
    alpha: f64,
) -> Vec<(Vec<i64>, f64)> {
    let mut out = Vec::new();
    let mut stack: Vec<Vec<i64>> = vec![Vec::new()];
    while let Some(p) = stack.pop() {
        if p.len() == lim {
            let lp = log_prob(table, src, &p, false);
            out.push((p, lp / penalty(lim + 1, alpha)));
            continue;
        }
        let lp = log_prob(table, src, &p, true);
        out.push((p.clone(), lp / penalty(p.len() + 1, alpha)));
        for t in 0..vocab as i64 {
            if t != EOS {
                let mut q = p.clone();
                q.push(t);
                stack.push(q);
            }
        }
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// Plain arg-max walk: the greedy oracle (first maximum on ties).
fn argmax_walk(table: &Table, src: &[i64], lim: usize) -> Vec<i64> {
    let mut p = Vec::new();
    while p.len() < lim {
        let row: Vec<f32> = table(src, &p).iter().map(|&x| x as f32).collect();
        let mut best = 0;
        for (i, &x) in row.iter().enumerate() {
            if x > row[best] {
                best = i;
            }
        }
        if best as i64 == EOS {
            break;
        }
        p.push(best as i64);
    }
    p
}

/// SplitMix64, as in the crate's other tests' oracles.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A fixed random table: each (source, prefix) has its own distribution,
/// drawn from a hash of the seed, the source and the prefix; its sharpness
/// varies so that `</s>` sometimes wins early and sometimes never.
fn random_table(seed: u64, vocab: usize) -> impl Fn(&[i64], &[i64]) -> Vec<f64> {
    move |src: &[i64], prefix: &[i64]| {
        let mut h = splitmix(seed);
        for &x in src.iter().chain([-1i64].iter()).chain(prefix) {
            h = splitmix(h ^ (x as u64).wrapping_mul(0x100_0000_01B3));
        }
        let scale = [0.5, 1.5, 4.0][(h % 3) as usize];
        let logits: Vec<f64> = (0..vocab)
            .map(|j| {
                let u = splitmix(h.wrapping_add(j as u64 + 1)) >> 11;
                (u as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
            })
            .collect();
        let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z = logits.iter().map(|x| (x - m).exp()).sum::<f64>().ln() + m;
        logits.iter().map(|x| x - z).collect()
    }
}

fn run_beam(
    table: &Table,
    vocab: usize,
    src: &[i64],
    beam: usize,
    max_len: usize,
    alpha: f64,
) -> (Vec<i64>, f64, f64) {
    let stub = Stub { vocab, table };
    let h = beam_search(&stub, src, beam, max_len, alpha, false).unwrap();
    (h.tokens, h.score, h.log_prob)
}

fn run_greedy(table: &Table, vocab: usize, srcs: &[&[i64]], max_len: usize) -> Vec<Vec<i64>> {
    let stub = Stub { vocab, table };
    let s = srcs.iter().map(|r| r.len()).max().unwrap();
    let mut flat = Vec::new();
    for r in srcs {
        flat.extend_from_slice(r);
        flat.extend(std::iter::repeat_n(PAD, s - r.len()));
    }
    let src = Tensor::from_slice(&flat).reshape([srcs.len() as i64, s as i64]);
    let lengths: Vec<i64> = srcs.iter().map(|r| r.len() as i64).collect();
    greedy(&stub, &src, &lengths, max_len).unwrap()
}

const SOURCES: [&[i64]; 3] = [&[5, 3], &[4], &[6, 7, 3]];

#[test]
fn a_beam_holding_every_prefix_finds_the_exhaustive_optimum() {
    let mut checked = 0;
    for seed in 0..40u64 {
        for &(vocab, max_len) in &[(5usize, 4usize), (6, 3), (7, 2), (5, 1)] {
            let table = random_table(seed, vocab);
            for &alpha in &[0.0, 0.6, 1.5] {
                let src = SOURCES[(seed % 3) as usize];
                let lim = limit(src.len(), max_len);
                let all = exhaustive(&table, src, vocab, lim, alpha);
                let k = vocab.pow(lim as u32);
                let (toks, score, lp) = run_beam(&table, vocab, src, k, max_len, alpha);
                let (best, best_score) = &all[0];
                // Ties within float noise: any output scoring as the best does.
                let ok = all
                    .iter()
                    .take_while(|(_, s)| best_score - s < 1e-4)
                    .any(|(t, _)| *t == toks);
                assert!(
                    ok,
                    "seed {seed} V {vocab} limit {lim} alpha {alpha}: beam {k} gave {toks:?} \
                     ({score}), exhaustive {best:?} ({best_score})"
                );
                assert!((score - best_score).abs() < 1e-4, "{score} vs {best_score}");
                // Shorter than the limit: ended by </s>; at the limit: cut.
                let want_lp = log_prob(&table, src, &toks, toks.len() < lim);
                assert!((lp - want_lp).abs() < 1e-4, "log_prob {lp} vs {want_lp}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 40 * 4 * 3);
}

#[test]
fn any_beam_returns_a_true_score_no_better_than_the_optimum() {
    for seed in 100..160u64 {
        let vocab = 6;
        let max_len = 4;
        let table = random_table(seed, vocab);
        let src = SOURCES[(seed % 3) as usize];
        let lim = limit(src.len(), max_len);
        let alpha = 0.6;
        let all = exhaustive(&table, src, vocab, lim, alpha);
        for beam in 1..=4 {
            let (toks, score, lp) = run_beam(&table, vocab, src, beam, max_len, alpha);
            assert!(toks.len() <= lim);
            assert!(!toks.contains(&EOS));
            // The returned pieces' own score, from the table: with `</s>`
            // when shorter than the limit; at the limit it may be either.
            let with_eos = log_prob(&table, src, &toks, true);
            let cut = log_prob(&table, src, &toks, false);
            let ok_lp =
                (lp - with_eos).abs() < 1e-4 || (toks.len() == lim && (lp - cut).abs() < 1e-4);
            assert!(
                ok_lp,
                "seed {seed} beam {beam}: {toks:?} log_prob {lp}, table {with_eos} / {cut}"
            );
            let want = lp / penalty(toks.len() + 1, alpha);
            assert!((score - want).abs() < 1e-6, "score {score} vs {want}");
            assert!(
                score <= all[0].1 + 1e-5,
                "beam {beam} beat the exhaustive optimum"
            );
        }
    }
}

/// Greedy takes the likelier first piece 4 (0.6 > 0.4), then 5 (0.5), then
/// `</s>` (1.0): `4 5 </s>` = 0.6 * 0.5 = 0.30. But 5 is followed by a near
/// sure `</s>`: `5 </s>` = 0.4 * 0.9 = 0.36, the best output (every other
/// continuation of 4 is below 0.6 * 0.3).
fn hand_table(_src: &[i64], prefix: &[i64]) -> Vec<f64> {
    let p: [f64; 6] = match prefix {
        [] => [0.0, 0.0, 0.0, 0.0, 0.6, 0.4],
        [4] => [0.0, 0.0, 0.0, 0.2, 0.3, 0.5],
        [5] => [0.0, 0.0, 0.0, 0.9, 0.05, 0.05],
        _ => [0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
    };
    // A floor so that no log-probability is -inf.
    p.iter().map(|&x| (x + 1e-9).ln()).collect()
}

#[test]
fn hand_made_case_where_greedy_misses_and_beam_two_finds_the_best() {
    let src: &[i64] = &[4, 3];
    assert_eq!(run_greedy(&hand_table, 6, &[src], 10), vec![vec![4, 5]]);
    assert_eq!(argmax_walk(&hand_table, src, 10), vec![4, 5]);
    let (toks, _, lp) = run_beam(&hand_table, 6, src, 1, 10, 0.0);
    assert_eq!(toks, vec![4, 5], "beam 1 is greedy");
    assert!((lp - (0.6f64 * 0.5).ln()).abs() < 1e-5, "{lp}");
    for alpha in [0.0, 0.6] {
        let (toks, score, lp) = run_beam(&hand_table, 6, src, 2, 10, alpha);
        assert_eq!(toks, vec![5], "alpha {alpha}");
        assert!((lp - (0.4f64 * 0.9).ln()).abs() < 1e-5, "{lp}");
        assert!((score - (0.36f64).ln() / penalty(2, alpha)).abs() < 1e-5);
    }
}

#[test]
fn beam_one_is_greedy_and_greedy_is_the_argmax_walk() {
    let mut differ = Vec::new();
    for seed in 200..400u64 {
        let vocab = 6;
        let max_len = 5;
        let table = random_table(seed, vocab);
        let src = SOURCES[(seed % 3) as usize];
        let lim = limit(src.len(), max_len);
        let g = run_greedy(&table, vocab, &[src], max_len);
        assert_eq!(g[0], argmax_walk(&table, src, lim), "seed {seed}");
        let (b1, _, _) = run_beam(&table, vocab, src, 1, max_len, 0.6);
        if b1 != g[0] {
            differ.push((seed, b1, g[0].clone()));
        }
    }
    assert!(
        differ.is_empty(),
        "beam 1 differs from greedy (seed, beam, greedy): {differ:?}"
    );
}

#[test]
fn greedy_on_a_padded_batch_equals_one_sentence_at_a_time() {
    let srcs: [&[i64]; 4] = [&[5, 3], &[4], &[6, 7, 8, 9, 3], &[7, 3]];
    for seed in 400..440u64 {
        let vocab = 7;
        let table = random_table(seed, vocab);
        // Limits 14, 12, 20, 14 at max_len 20; 13, 12, 13, 13 at 13; 3 at 3.
        for max_len in [3usize, 13, 20] {
            let batch = run_greedy(&table, vocab, &srcs, max_len);
            for (i, s) in srcs.iter().enumerate() {
                let one = run_greedy(&table, vocab, &[s], max_len);
                assert_eq!(
                    batch[i], one[0],
                    "seed {seed} max_len {max_len} sentence {i}"
                );
                assert_eq!(one[0], argmax_walk(&table, s, limit(s.len(), max_len)));
            }
        }
    }
}

/// A table under which every source keeps writing piece 4 (never `</s>`)
/// exercises the per-sentence length limits of a padded batch: 2 * 1 + 10,
/// 2 * 3 + 10, 2 * 2 + 10 pieces.
#[test]
fn greedy_stops_each_sentence_at_its_own_limit() {
    let table = |_: &[i64], _: &[i64]| -> Vec<f64> {
        let mut p = vec![(0.01f64).ln(); 5];
        p[4] = (0.96f64).ln();
        p
    };
    let srcs: [&[i64]; 3] = [&[4], &[4, 4, 4], &[4, 4]];
    let out = run_greedy(&table, 5, &srcs, 100);
    let lens: Vec<usize> = out.iter().map(|o| o.len()).collect();
    assert_eq!(lens, vec![12, 16, 14]);
    assert!(out.iter().all(|o| o.iter().all(|&p| p == 4)));
    let single: Vec<usize> = srcs
        .iter()
        .map(|s| run_greedy(&table, 5, &[s], 100)[0].len())
        .collect();
    assert_eq!(single, vec![12, 16, 14]);
}

/// The committed model: padding a batch must not change any sentence's
/// greedy translation (the encoder's packing and the attention mask).
#[test]
fn committed_model_greedy_batch_equals_single_sentences() {
    tch::set_num_threads(1);
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/de-en");
    let t = sori_seq2seq::Translator::load(&dir, Device::Cpu).unwrap();
    let lines = [
        "Ein Hund läuft durch den Park.",
        "Zwei Kinder.",
        "Eine Frau mit einem großen roten Hut sitzt neben einem alten Mann auf einer Bank am Fluss.",
        "Ein Mann spielt Gitarre.",
    ];
    let batch = t
        .translate_lines(
            &lines,
            &sori_seq2seq::DecodeOptions {
                beam: 1,
                alpha: 0.6,
            },
        )
        .unwrap();
    for (i, l) in lines.iter().enumerate() {
        let one = t
            .translate_lines(
                &[l],
                &sori_seq2seq::DecodeOptions {
                    beam: 1,
                    alpha: 0.6,
                },
            )
            .unwrap();
        assert_eq!(batch[i], one[0], "{l:?}");
        assert!(!one[0].is_empty(), "{l:?}");
    }
}
