//! The models against oracles that do not share their code: probabilities
//! summed by brute force over the vocabulary for every context, values
//! worked out by hand from the formulas on tiny corpora, and a hand-written
//! ARPA file evaluated with the backoff rule by hand.
use sori_lm::{
    kn_discounts, train, NgramCounter, NgramLm, Smoothing, Tokenization, TrainOptions, BOS, EOS,
    UNK,
};

fn words(lines: &[&str]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| Tokenization::Words.tokens(l))
        .collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// A small deterministic generator (xorshift), so the corpora are fixed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_corpus(rng: &mut Rng, alphabet: &[&str], sentences: usize) -> Vec<Vec<String>> {
    (0..sentences)
        .map(|_| {
            let len = rng.below(7);
            // Skewed choice so counts of 1, 2, 3 and more all occur.
            (0..len)
                .map(|_| {
                    let i = rng.below(alphabet.len()).min(rng.below(alphabet.len()));
                    alphabet[i].to_string()
                })
                .collect()
        })
        .collect()
}

/// Every context of length 0..order over `<s>` and the predictable ids.
fn all_contexts(lm: &NgramLm) -> Vec<Vec<u32>> {
    let symbols: Vec<u32> = (0..lm.vocab().len() as u32).collect();
    let mut out = vec![vec![]];
    let mut frontier = vec![vec![]];
    for _ in 1..lm.order() {
        let mut next = Vec::new();
        for c in &frontier {
            for &s in &symbols {
                let mut c2: Vec<u32> = c.clone();
                c2.push(s);
                next.push(c2);
            }
        }
        out.extend(next.iter().cloned());
        frontier = next;
    }
    out
}

fn assert_sums_to_one(lm: &NgramLm, what: &str) {
    let predictable: Vec<u32> = (0..lm.vocab().len() as u32).filter(|&i| i != BOS).collect();
    for ctx in all_contexts(lm) {
        let total: f64 = predictable
            .iter()
            .map(|&w| 10f64.powf(lm.log10_prob(&ctx, w)))
            .sum();
        assert!(
            close(total, 1.0, 1e-9),
            "{what}: context {ctx:?} sums to {total}"
        );
    }
}

#[test]
fn probabilities_sum_to_one_for_every_context() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let alphabet = ["a", "b", "c", "d", "e"];
    for order in 1..=5 {
        for smoothing in [Smoothing::KneserNey, Smoothing::WittenBell] {
            let corpus = random_corpus(&mut rng, &alphabet, 40);
            let opts = TrainOptions {
                order,
                smoothing,
                discounts: None,
                prune: Vec::new(),
            };
            let lm = train(&corpus, &opts).unwrap();
            let what = format!("order {order} {smoothing:?}");
            assert_sums_to_one(&lm, &what);
            // The model read back from its ARPA text too.
            let mut text = Vec::new();
            lm.write_arpa(&mut text).unwrap();
            let back = NgramLm::parse_arpa(&text[..], "rt.arpa".as_ref(), None).unwrap();
            assert_sums_to_one(&back, &format!("{what}, from ARPA"));
        }
    }
}

#[test]
fn a_token_added_without_counts_gets_the_uniform_share() {
    let mut counter = NgramCounter::new(2).unwrap();
    counter.add_sentence(&["a", "b"]);
    counter.add_sentence(&["a"]);
    let z = counter.add_token("z");
    let lm = counter.build(&TrainOptions::new(2)).unwrap();
    assert_eq!(lm.log10_prob(&[], z), lm.log10_prob(&[], UNK));
    assert_sums_to_one(&lm, "with an uncounted token");
}

/// Sentences "a b" ×3, "a c" ×2, "b"; order 2. Bigram counts: <s> a 5,
/// a b 3, a c 2, b </s> 4, c </s> 2, <s> b 1.
fn tiny_corpus() -> Vec<Vec<String>> {
    words(&["a b", "a b", "a b", "a c", "a c", "b"])
}

#[test]
fn kneser_ney_by_hand() {
    let corpus = tiny_corpus();
    let mut counter = NgramCounter::new(2).unwrap();
    for s in &corpus {
        counter.add_sentence(s);
    }
    let v = counter.vocab().clone();
    let (a, b, c) = (
        v.get("a").unwrap(),
        v.get("b").unwrap(),
        v.get("c").unwrap(),
    );
    let counts = counter.counts(Smoothing::KneserNey);
    // Continuation counts N1+(• w): a {<s>}, b {a, <s>}, c {a}, </s> {b, c}.
    assert_eq!(
        [a, b, c, EOS].map(|w| counts.get(&[w])),
        [1, 2, 1, 2],
        "unigram continuation counts"
    );
    // Bigrams keep raw counts (highest order).
    assert_eq!(counts.get(&[BOS, a]), 5);
    assert_eq!(counts.get(&[a, b]), 3);
    // Bigram count-of-counts n1..n4 = 1 (<s> b), 2 (a c, c </s>), 1 (a b), 1 (b </s>):
    // Y = 1/5, D1 = 1 - 2·0.2·2 = 0.2, D2 = 2 - 3·0.2·1/2 = 1.7, D3+ = 3 - 4·0.2·1 = 2.2.
    assert_eq!(counts.count_of_counts(2), [1, 2, 1, 1]);
    let d2 = kn_discounts(counts.count_of_counts(2));
    for (got, want) in d2.iter().zip([0.2, 1.7, 2.2]) {
        assert!(close(*got, want, 1e-12), "{d2:?}");
    }
    // Unigram count-of-counts [2, 2, 0, 0]: n3 = 0, so one discount Y = 2/6.
    assert_eq!(kn_discounts(counts.count_of_counts(1)), [1.0 / 3.0; 3]);

    let lm = counter.build(&TrainOptions::new(2)).unwrap();
    // Unigrams: total 6, D = 1/3, γ = (1/3)·4/6 = 2/9, |V| = 5 (a b c </s> <unk>).
    let uni = |w: u32| 10f64.powf(lm.log10_prob(&[], w));
    let p_a = 7.0 / 45.0; // (1 - 1/3)/6 + (2/9)/5
    let p_b = 29.0 / 90.0; // (2 - 1/3)/6 + (2/9)/5
    let p_unk = 2.0 / 45.0;
    assert!(close(uni(a), p_a, 1e-12));
    assert!(close(uni(b), p_b, 1e-12));
    assert!(close(uni(c), p_a, 1e-12));
    assert!(close(uni(EOS), p_b, 1e-12));
    assert!(close(uni(UNK), p_unk, 1e-12));
    // After a: c(a) = 5, a b (3 → D3+ 2.2), a c (2 → D2 1.7); γ = 3.9/5 = 0.78.
    let bi = |h: u32, w: u32| 10f64.powf(lm.log10_prob(&[h], w));
    assert!(close(bi(a, b), 0.8 / 5.0 + 0.78 * p_b, 1e-12));
    assert!(close(bi(a, c), 0.3 / 5.0 + 0.78 * p_a, 1e-12));
    assert!(close(bi(a, a), 0.78 * p_a, 1e-12));
    assert!(close(bi(a, UNK), 0.78 * p_unk, 1e-12));
    // After <s>: 6 = <s> a (5 → 2.2) + <s> b (1 → 0.2); γ = 2.4/6 = 0.4.
    assert!(close(bi(BOS, a), 2.8 / 6.0 + 0.4 * p_a, 1e-12));
    assert!(close(bi(BOS, b), 0.8 / 6.0 + 0.4 * p_b, 1e-12));
    // After b: b </s> 4 (→ 2.2), γ = 0.55; after c: c </s> 2 (→ 1.7), γ = 0.85.
    assert!(close(bi(b, EOS), 1.8 / 4.0 + 0.55 * p_b, 1e-12));
    assert!(close(bi(c, EOS), 0.3 / 2.0 + 0.85 * p_b, 1e-12));
    // The backoff weights are the γ.
    assert!(close(
        lm.entry(&[a]).unwrap().log10_backoff,
        0.78f64.log10(),
        1e-12
    ));
    assert!(close(
        lm.entry(&[BOS]).unwrap().log10_backoff,
        0.4f64.log10(),
        1e-12
    ));
    // Sentence "a c" = p(a|<s>) p(c|a) p(</s>|c); perplexity over 3 tokens.
    let s = (2.8 / 6.0 + 0.4 * p_a) * (0.3 / 5.0 + 0.78 * p_a) * (0.3 / 2.0 + 0.85 * p_b);
    assert!(close(lm.sentence_log10_prob(&[a, c]), s.log10(), 1e-12));
    let ppl = lm.perplexity(words(&["a c"]));
    assert_eq!((ppl.sentences, ppl.tokens, ppl.oovs), (1, 3, 0));
    assert!(close(ppl.perplexity(), s.powf(-1.0 / 3.0), 1e-9));
    // An unknown word is scored as <unk> and counted.
    let ppl = lm.perplexity(words(&["zzz"]));
    assert_eq!(ppl.oovs, 1);
    let want = (0.4 * p_unk).log10() + lm.log10_prob(&[UNK], EOS);
    assert!(close(ppl.log10_prob, want, 1e-12));
}

#[test]
fn witten_bell_by_hand() {
    let opts = TrainOptions {
        order: 2,
        smoothing: Smoothing::WittenBell,
        discounts: None,
        prune: Vec::new(),
    };
    let lm = train(tiny_corpus(), &opts).unwrap();
    let v = lm.vocab();
    let (a, b) = (v.get("a").unwrap(), v.get("b").unwrap());
    // Raw unigram counts a 5, b 4, c 2, </s> 6: total 17, T = 4, |V| = 5.
    let p_a = (5.0 + 4.0 / 5.0) / 21.0;
    let p_b = (4.0 + 4.0 / 5.0) / 21.0;
    assert!(close(10f64.powf(lm.log10_prob(&[], a)), p_a, 1e-12));
    assert!(close(
        10f64.powf(lm.log10_prob(&[], UNK)),
        0.8 / 21.0,
        1e-12
    ));
    // After a: c = 5, T = 2.
    assert!(close(
        10f64.powf(lm.log10_prob(&[a], b)),
        (3.0 + 2.0 * p_b) / 7.0,
        1e-12
    ));
    assert!(close(
        10f64.powf(lm.log10_prob(&[a], a)),
        2.0 * p_a / 7.0,
        1e-12
    ));
    // After <s>: c = 6, T = 2.
    assert!(close(
        10f64.powf(lm.log10_prob(&[BOS], a)),
        (5.0 + 2.0 * p_a) / 8.0,
        1e-12
    ));
}

#[test]
fn trigram_counts_by_hand() {
    // <s> a b c </s>, <s> b c </s>, <s> a b </s>
    let mut counter = NgramCounter::new(3).unwrap();
    for s in words(&["a b c", "b c", "a b"]) {
        counter.add_sentence(&s);
    }
    let v = counter.vocab().clone();
    let [a, b, c] = ["a", "b", "c"].map(|t| v.get(t).unwrap());
    let kn = counter.counts(Smoothing::KneserNey);
    // Trigrams: raw counts.
    assert_eq!(kn.get(&[BOS, a, b]), 2);
    assert_eq!(kn.get(&[b, c, EOS]), 2);
    assert_eq!(kn.get(&[a, b, c]), 1);
    // Bigrams starting with <s>: raw; others: distinct left extensions.
    assert_eq!(kn.get(&[BOS, a]), 2);
    assert_eq!(kn.get(&[BOS, b]), 1);
    assert_eq!(kn.get(&[a, b]), 1); // {<s>}
    assert_eq!(kn.get(&[b, c]), 2); // {a, <s>}
    assert_eq!(kn.get(&[c, EOS]), 1); // {b}
    assert_eq!(kn.get(&[b, EOS]), 1); // {a}
                                      // Unigrams: a {<s>}, b {<s>, a}, c {b}, </s> {c, b}.
    assert_eq!([a, b, c, EOS].map(|w| kn.get(&[w])), [1, 2, 1, 2]);
    let wb = counter.counts(Smoothing::WittenBell);
    assert_eq!([a, b, c, EOS].map(|w| wb.get(&[w])), [2, 3, 2, 3]);
    assert_eq!(wb.get(&[a, b]), 2);
    assert_eq!(wb.get(&[b, c]), 2);
    assert_eq!(wb.get(&[b, EOS]), 1);
}

#[test]
fn arpa_round_trip_keeps_every_probability() {
    let mut rng = Rng(77);
    let corpus = random_corpus(&mut rng, &["x", "y", "z", "<sp>", "é", "ß"], 200);
    for smoothing in [Smoothing::KneserNey, Smoothing::WittenBell] {
        let opts = TrainOptions {
            order: 4,
            smoothing,
            discounts: None,
            prune: Vec::new(),
        };
        let lm = train(&corpus, &opts).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lm.arpa");
        lm.save_arpa(&path).unwrap();
        let back = NgramLm::read_arpa(&path).unwrap();
        assert_eq!(back.ngram_counts(), lm.ngram_counts());
        assert_eq!(back.order(), 4);
        // Ids may differ: compare through the token strings.
        let map = |id: u32| back.vocab().get(lm.vocab().token(id).unwrap()).unwrap();
        for n in 1..=4 {
            for (g, e) in lm.ngrams(n) {
                let g2: Vec<u32> = g.iter().map(|&i| map(i)).collect();
                assert_eq!(back.entry(&g2), Some(e));
            }
        }
        for ctx in all_contexts(&lm).iter().step_by(7) {
            let ctx2: Vec<u32> = ctx.iter().map(|&i| map(i)).collect();
            for w in 0..lm.vocab().len() as u32 {
                assert_eq!(lm.log10_prob(ctx, w), back.log10_prob(&ctx2, map(w)));
            }
        }
    }
}

const HAND_ARPA: &str = "some tool's header
\\data\\
ngram 1=6
ngram 2=4
ngram 3=2

\\1-grams:
-1.5\t<unk>
-99\t<s>\t-0.4
-0.6\ta\t-0.3
-0.7\tb\t-0.25
-0.9\tc
-0.5\t</s>

\\2-grams:
-0.2\t<s> a\t-0.1
-0.35\ta b\t-0.15
-0.45\tb c
-0.3\tb </s>

\\3-grams:
-0.05\t<s> a b
-0.12\ta b </s>

\\end\\
";

#[test]
fn hand_written_arpa_follows_the_backoff_rule() {
    let lm = NgramLm::parse_arpa(HAND_ARPA.as_bytes(), "hand.arpa".as_ref(), None).unwrap();
    assert_eq!(lm.order(), 3);
    assert_eq!(lm.ngram_counts(), [6, 4, 2]);
    let v = lm.vocab();
    let [a, b, c] = ["a", "b", "c"].map(|t| v.get(t).unwrap());
    let p = |ctx: &[u32], w: u32| lm.log10_prob(ctx, w);
    let cases: [(&[u32], u32, f64); 9] = [
        (&[BOS], a, -0.2),                // listed bigram
        (&[BOS, a], b, -0.05),            // listed trigram
        (&[BOS, a], c, -0.1 - 0.3 - 0.9), // B(<s> a) B(a) p(c)
        (&[a, b], EOS, -0.12),            // listed trigram
        (&[a, b], c, -0.15 - 0.45),       // B(a b) p(c|b)
        (&[a, b], a, -0.15 - 0.25 - 0.6), // B(a b) B(b) p(a)
        (&[c, c], b, -0.7),               // unlisted contexts: B = 1
        (&[a], 999, -0.3 - 1.5),          // unknown id → <unk>
        (&[b, a, b], EOS, -0.12),         // only the last two tokens matter
    ];
    for (ctx, w, want) in cases {
        assert!(
            close(p(ctx, w), want, 1e-12),
            "{ctx:?} {w}: {} vs {want}",
            p(ctx, w)
        );
    }
    assert!(close(
        lm.sentence_log10_prob(&[a, b]),
        -0.2 - 0.05 - 0.12,
        1e-12
    ));
    assert_eq!(p(&[], BOS), -99.0);
}

#[test]
fn missing_unk_gets_minus_100() {
    let text = "\\data\\\nngram 1=3\n\n\\1-grams:\n-0.3 <s>\n-0.5 a\n-0.2 </s>\n\n\\end\\\n";
    let lm = NgramLm::parse_arpa(text.as_bytes(), "x.arpa".as_ref(), None).unwrap();
    assert_eq!(lm.log10_prob(&[BOS], UNK), -100.0);
    assert_eq!(lm.order(), 1);
}
