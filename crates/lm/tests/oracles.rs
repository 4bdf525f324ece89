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

/// Sentences "a a b c" ×2, "a b c", "b c"; order 3. Padded, the longest
/// n-gram at each position is: "<s> a", "<s> a a", "a a b", "a b c",
/// "b c </s>" (×2); "<s> a", "<s> a b", "a b c", "b c </s>"; "<s> b",
/// "<s> b c", "b c </s>".
#[test]
fn kneser_ney_order_3_by_hand() {
    let mut counter = NgramCounter::new(3).unwrap();
    for s in words(&["a a b c", "a a b c", "a b c", "b c"]) {
        counter.add_sentence(&s);
    }
    let v = counter.vocab().clone();
    let [a, b, c] = ["a", "b", "c"].map(|t| v.get(t).unwrap());
    let counts = counter.counts(Smoothing::KneserNey);
    // Trigrams (highest order) keep raw counts: <s> a a 2, a a b 2,
    // a b c 3, b c </s> 4, <s> a b 1, <s> b c 1 (13 in all).
    let trigrams = [
        ([BOS, a, a], 2),
        ([a, a, b], 2),
        ([a, b, c], 3),
        ([b, c, EOS], 4),
        ([BOS, a, b], 1),
        ([BOS, b, c], 1),
    ];
    for (g, want) in trigrams {
        assert_eq!(counts.get(&g), want, "trigram {g:?}");
    }
    assert_eq!(counts.get(&[a, c, EOS]), 0);
    // Bigrams starting with <s> keep raw counts: <s> a 3, <s> b 1.
    assert_eq!(counts.get(&[BOS, a]), 3);
    assert_eq!(counts.get(&[BOS, b]), 1);
    // Other bigrams count distinct left extensions among the trigrams:
    // a a {<s>}, a b {a, <s>}, b c {a, <s>}, c </s> {b}. Raw counts would
    // give a b 3, b c 4, c </s> 4.
    assert_eq!(counts.get(&[a, a]), 1);
    assert_eq!(counts.get(&[a, b]), 2);
    assert_eq!(counts.get(&[b, c]), 2);
    assert_eq!(counts.get(&[c, EOS]), 1);
    assert_eq!(counts.get(&[c, a]), 0);
    // Unigrams count distinct left extensions among the bigram types:
    // a {<s>, a}, b {<s>, a}, c {b}, </s> {c}.
    assert_eq!([a, b, c, EOS].map(|w| counts.get(&[w])), [2, 2, 1, 1]);

    // Count-of-counts n1..n4 per order:
    //   3: n1 = {<s> a b, <s> b c}, n2 = {<s> a a, a a b}, n3 = {a b c},
    //      n4 = {b c </s>}: [2, 2, 1, 1];
    //   2: n1 = {<s> b, a a, c </s>}, n2 = {a b, b c}, n3 = {<s> a}: [3, 2, 1, 0];
    //   1: n1 = {c, </s>}, n2 = {a, b}: [2, 2, 0, 0].
    assert_eq!(counts.count_of_counts(3), [2, 2, 1, 1]);
    assert_eq!(counts.count_of_counts(2), [3, 2, 1, 0]);
    assert_eq!(counts.count_of_counts(1), [2, 2, 0, 0]);
    // Order 3: Y = 2/(2 + 2·2) = 1/3; D1 = 1 - 2·(1/3)·2/2 = 1/3,
    // D2 = 2 - 3·(1/3)·1/2 = 3/2, D3+ = 3 - 4·(1/3)·1/1 = 5/3, all valid.
    let d3 = kn_discounts(counts.count_of_counts(3));
    for (got, want) in d3.iter().zip([1.0 / 3.0, 1.5, 5.0 / 3.0]) {
        assert!(close(*got, want, 1e-12), "{d3:?}");
    }
    // Order 2: n4 = 0, so the single discount Y = 3/(3 + 2·2) = 3/7.
    let d2 = kn_discounts(counts.count_of_counts(2));
    for got in d2 {
        assert!(close(got, 3.0 / 7.0, 1e-12), "{d2:?}");
    }
    // Order 1: n3 = 0, so Y = 2/(2 + 2·2) = 1/3.
    let d1 = kn_discounts(counts.count_of_counts(1));
    for got in d1 {
        assert!(close(got, 1.0 / 3.0, 1e-12), "{d1:?}");
    }

    let lm = counter.build(&TrainOptions::new(3)).unwrap();
    let p = |ctx: &[u32], w: u32| 10f64.powf(lm.log10_prob(ctx, w));
    let check = |ctx: &[u32], w: u32, want: f64| {
        let got = p(ctx, w);
        assert!(
            close(got, want, 1e-12),
            "p({w} | {ctx:?}) = {got}, want {want}"
        );
    };
    // Unigrams: total 6, D = 1/3 each, γ = (1/3)·4/6 = 2/9, |V| = 5
    // (a b c </s> <unk>), so γ/|V| = 2/45:
    //   p(a) = p(b) = (2 - 1/3)/6 + 2/45 = 29/90,
    //   p(c) = p(</s>) = (1 - 1/3)/6 + 2/45 = 7/45, p(<unk>) = 2/45.
    let (p_a, p_c, p_unk) = (29.0 / 90.0, 7.0 / 45.0, 2.0 / 45.0);
    check(&[], a, p_a);
    check(&[], b, p_a);
    check(&[], c, p_c);
    check(&[], EOS, p_c);
    check(&[], UNK, p_unk);
    // Bigrams, D = 3/7 for every count.
    // After <s>: <s> a 3, <s> b 1; c = 4, γ = 2·(3/7)/4 = 3/14.
    //   p(a|<s>) = (3 - 3/7)/4 + (3/14)(29/90) = 9/14 + 29/420 = 299/420,
    //   p(b|<s>) = (1 - 3/7)/4 + 29/420 = 89/420, p(c|<s>) = (3/14)(7/45) = 1/30.
    check(&[BOS], a, 299.0 / 420.0);
    check(&[BOS], b, 89.0 / 420.0);
    check(&[BOS], c, 1.0 / 30.0);
    // After a: a a 1, a b 2; c = 3, γ = 2·(3/7)/3 = 2/7.
    //   p(a|a) = (1 - 3/7)/3 + (2/7)(29/90) = 4/21 + 29/315 = 89/315,
    //   p(b|a) = (2 - 3/7)/3 + 29/315 = 11/21 + 29/315 = 194/315,
    //   p(c|a) = (2/7)(7/45) = 2/45, p(<unk>|a) = (2/7)(2/45) = 4/315.
    let (p_a_a, p_b_a, p_c_a) = (89.0 / 315.0, 194.0 / 315.0, 2.0 / 45.0);
    check(&[a], a, p_a_a);
    check(&[a], b, p_b_a);
    check(&[a], c, p_c_a);
    check(&[a], UNK, 4.0 / 315.0);
    // After b: b c 2; γ = (3/7)/2 = 3/14.
    //   p(c|b) = (2 - 3/7)/2 + (3/14)(7/45) = 11/14 + 1/30 = 86/105,
    //   p(a|b) = (3/14)(29/90) = 29/420.
    let (p_c_b, p_a_b) = (86.0 / 105.0, 29.0 / 420.0);
    check(&[b], c, p_c_b);
    check(&[b], a, p_a_b);
    // After c: c </s> 1; γ = 3/7.
    //   p(</s>|c) = (1 - 3/7) + (3/7)(7/45) = 4/7 + 1/15 = 67/105,
    //   p(a|c) = (3/7)(29/90) = 29/210.
    let (p_eos_c, p_a_c) = (67.0 / 105.0, 29.0 / 210.0);
    check(&[c], EOS, p_eos_c);
    check(&[c], a, p_a_c);
    // Trigrams, D1 = 1/3, D2 = 3/2, D3+ = 5/3.
    // After <s> a: <s> a a 2, <s> a b 1; c = 3, γ = (3/2 + 1/3)/3 = 11/18.
    //   p(a|<s> a) = (2 - 3/2)/3 + (11/18)(89/315) = 1/6 + 979/5670 = 962/2835,
    //   p(b|<s> a) = (1 - 1/3)/3 + (11/18)(194/315) = 2/9 + 1067/2835 = 1697/2835,
    //   unseen, bigram a c unseen too: p(c|<s> a) = (11/18)(2/45) = 11/405,
    //   p(<unk>|<s> a) = (11/18)(4/315) = 22/2835.
    check(&[BOS, a], a, 962.0 / 2835.0);
    check(&[BOS, a], b, 1697.0 / 2835.0);
    check(&[BOS, a], c, 11.0 / 405.0);
    check(&[BOS, a], EOS, 11.0 / 405.0);
    check(&[BOS, a], UNK, 22.0 / 2835.0);
    // After a a: a a b 2; γ = (3/2)/2 = 3/4.
    //   p(b|a a) = (2 - 3/2)/2 + (3/4)(194/315) = 1/4 + 97/210 = 299/420;
    //   a a a unseen but bigram a a seen: p(a|a a) = (3/4)(89/315) = 89/420;
    //   p(c|a a) = (3/4)(2/45) = 1/30.
    check(&[a, a], b, 299.0 / 420.0);
    check(&[a, a], a, 89.0 / 420.0);
    check(&[a, a], c, 1.0 / 30.0);
    // After a b: a b c 3; γ = (5/3)/3 = 5/9.
    //   p(c|a b) = (3 - 5/3)/3 + (5/9)(86/105) = 4/9 + 86/189 = 170/189,
    //   p(a|a b) = (5/9)(29/420) = 29/756.
    check(&[a, b], c, 170.0 / 189.0);
    check(&[a, b], a, 29.0 / 756.0);
    // After b c: b c </s> 4; γ = (5/3)/4 = 5/12.
    //   p(</s>|b c) = (4 - 5/3)/4 + (5/12)(67/105) = 7/12 + 67/252 = 107/126,
    //   p(a|b c) = (5/12)(29/210) = 29/504 (neither b c a nor c a seen).
    check(&[b, c], EOS, 107.0 / 126.0);
    check(&[b, c], a, 29.0 / 504.0);
    // After <s> b: <s> b c 1; γ = 1/3.
    //   p(c|<s> b) = (1 - 1/3) + (1/3)(86/105) = 2/3 + 86/315 = 296/315.
    check(&[BOS, b], c, 296.0 / 315.0);
    // An unseen context (c a): its weight is 1, so p(b|c a) = p(b|a).
    check(&[c, a], b, p_b_a);
    // Every context sums to one over a b c </s> <unk>:
    // (962 + 1697 + 77 + 77 + 22)/2835, (299 + 89 + 14 + 14 + 4)/420.
    assert_sums_to_one(&lm, "order-3 corpus");

    // The stored backoff weights are the γ of each context.
    let backoffs: [(&[u32], f64); 11] = [
        (&[BOS], 3.0 / 14.0),
        (&[a], 2.0 / 7.0),
        (&[b], 3.0 / 14.0),
        (&[c], 3.0 / 7.0),
        (&[EOS], 1.0), // never a context
        (&[BOS, a], 11.0 / 18.0),
        (&[a, a], 3.0 / 4.0),
        (&[a, b], 5.0 / 9.0),
        (&[b, c], 5.0 / 12.0),
        (&[BOS, b], 1.0 / 3.0),
        (&[c, EOS], 1.0), // never a context
    ];
    for (h, gamma) in backoffs {
        let got = lm.entry(h).unwrap().log10_backoff;
        assert!(close(got, gamma.log10(), 1e-12), "B({h:?}) = {got}");
    }
    // Sentence "a b c": p(a|<s>) p(b|<s> a) p(c|a b) p(</s>|b c).
    let s: f64 = (299.0 / 420.0) * (1697.0 / 2835.0) * (170.0 / 189.0) * (107.0 / 126.0);
    assert!(close(lm.sentence_log10_prob(&[a, b, c]), s.log10(), 1e-12));
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
