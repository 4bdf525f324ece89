//! Broken ARPA input: each problem is one `FILE:LINE: message` error, and
//! random or mutated text never panics the reader (proptest, fixed number
//! of cases, no persistence files).
#[path = "../../train/tests/support/fuzz.rs"]
mod fuzz;
use proptest::prelude::*;
use sori_lm::{train, LmError, NgramLm, Tokenization, TrainOptions, BOS};

const GOOD: &str = "\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-1.0\t<unk>
-99\t<s>\t-0.3
-0.4\ta\t-0.2
-0.5\t</s>

\\2-grams:
-0.1\t<s> a
-0.2\ta </s>

\\end\\
";

fn parse(text: &str) -> Result<NgramLm, LmError> {
    NgramLm::parse_arpa(
        text.as_bytes(),
        "bad.arpa".as_ref(),
        Some(text.len() as u64),
    )
}

fn error_of(text: &str) -> String {
    let e = parse(text).expect_err("should be refused").to_string();
    assert!(!e.contains('\n'), "one line: {e}");
    e
}

#[test]
fn the_good_file_reads() {
    let lm = parse(GOOD).unwrap();
    let a = lm.vocab().get("a").unwrap();
    assert!((lm.log10_prob(&[BOS], a) + 0.1).abs() < 1e-12);
}

#[test]
fn each_problem_names_file_and_line() {
    let cases: Vec<(String, &str)> =
        vec![
        (String::new(), "bad.arpa:0: no \\data\\ line"),
        ("hello\nworld\n".into(), "bad.arpa:2: no \\data\\ line"),
        (
            GOOD.replace("ngram 2=2", "ngram 2=3"),
            "bad.arpa:15: 2 2-gram(s) listed, 3 declared",
        ),
        (
            GOOD.replace("ngram 1=4", "ngram 1=3"),
            "bad.arpa:9: more 1-grams than the 3 declared",
        ),
        (
            GOOD.replace("-0.4\ta", "-0.x\ta"),
            "bad.arpa:8: log10 probability: \"-0.x\" is not a number",
        ),
        (
            GOOD.replace("-0.4\ta", "0.4\ta"),
            "bad.arpa:8: log10 probability: 0.4 is positive",
        ),
        (
            GOOD.replace("-0.4\ta\t-0.2", "-0.4\ta\tNaN"),
            "bad.arpa:8: backoff weight: NaN is not a finite number",
        ),
        (
            GOOD.replace("a </s>", "b </s>"),
            "bad.arpa:13: token \"b\" is not listed in \\1-grams:",
        ),
        (
            GOOD.replace("-0.5\t</s>", "-0.5\ta"),
            "bad.arpa:9: duplicate unigram \"a\"",
        ),
        (
            GOOD.replace("-0.2\ta </s>", "-0.2\t<s> a"),
            "bad.arpa:13: duplicate 2-gram",
        ),
        (
            GOOD.replace("-0.2\ta </s>", "-0.2\ta </s> -0.1"),
            "bad.arpa:13: a 2-gram line needs a log10 probability, 2 token(s); found 4 field(s)",
        ),
        (
            GOOD.replace("-1.0\t<unk>", "-1.0"),
            "bad.arpa:6: a 1-gram line needs",
        ),
        (
            GOOD.replace("ngram 1=4", "ngram 1=4000"),
            "bad.arpa:2: declared counts need at least 8000 bytes, the file has",
        ),
        (
            GOOD.replace("ngram 2=2", "ngram 2=99999999999999999999"),
            "bad.arpa:3: expected \"ngram N=COUNT\"",
        ),
        (
            GOOD.replace("ngram 2=2", "ngram 3=2"),
            "bad.arpa:3: expected the count of order 2, found order 3",
        ),
        (
            GOOD.replace("ngram 1=4", "ngram 1=0"),
            "bad.arpa:2: 0 unigrams",
        ),
        (
            GOOD.replace("\\2-grams:", "\\3-grams:"),
            "bad.arpa:11: expected \\2-grams:, found \"\\\\3-grams:\"",
        ),
        (
            GOOD.replace("\\end\\\n", ""),
            "bad.arpa:14: input ends without \\end\\",
        ),
        (
            GOOD.replace("\\end\\", "\\3-grams:"),
            "bad.arpa:15: expected \\end\\",
        ),
        (
            GOOD.replace("-0.5\t</s>", "-0.5\tb").replace("a </s>", "a b"),
            "bad.arpa:5: </s> is not listed in \\1-grams:",
        ),
        ("\\data\\\n\\1-grams:\n".into(), "bad.arpa:2: \\data\\ declares no n-gram counts"),
    ];
    for (text, want) in cases {
        let got = error_of(&text);
        assert!(got.starts_with(want), "got {got:?}, want {want:?}");
    }
    // Too high an order.
    let mut text = String::from("\\data\\\n");
    for n in 1..=17 {
        text.push_str(&format!("ngram {n}=1\n"));
    }
    text.push_str(&" ".repeat(1000));
    assert!(error_of(&text).starts_with("bad.arpa:18: order 17 exceeds the supported maximum 16"));
    // Not UTF-8.
    let mut bytes = GOOD.as_bytes().to_vec();
    bytes[GOOD.find("a\t-0.2").unwrap()] = 0xff;
    let e = NgramLm::parse_arpa(&bytes[..], "bad.arpa".as_ref(), None).unwrap_err();
    assert_eq!(e.to_string(), "bad.arpa:8: not valid UTF-8");
}

#[test]
fn missing_file_is_named() {
    let e = NgramLm::read_arpa("/nonexistent/dir/lm.arpa".as_ref()).unwrap_err();
    assert!(
        e.to_string().starts_with("/nonexistent/dir/lm.arpa: "),
        "{e}"
    );
}

/// Edits of a valid ARPA text.
#[derive(Debug, Clone)]
enum Edit {
    DeleteChars(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
    DeleteLine(usize),
    ReplaceNumber(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let junk = prop_oneof![
        "[ \\t\\n\\\\a-z0-9=.<>/-]{0,12}",
        Just("\n\\end\\\n".to_string()),
        Just("ngram 7=3\n".to_string()),
        Just("\\2-grams:\n".to_string()),
        Just("-inf".to_string()),
        Just("1e308".to_string()),
        Just("é\u{0}".to_string()),
    ];
    let number = prop_oneof![
        "-?[0-9]{1,3}(\\.[0-9]{1,4})?",
        Just("-inf".into()),
        Just("inf".into()),
        Just("NaN".into()),
        Just("18446744073709551616".into()),
        Just("0".into()),
    ];
    prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(p, n)| Edit::DeleteChars(p, n)),
        (any::<usize>(), junk).prop_map(|(p, s)| Edit::Insert(p, s)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        any::<usize>().prop_map(Edit::DeleteLine),
        (any::<usize>(), number).prop_map(|(p, s)| Edit::ReplaceNumber(p, s)),
    ]
}

fn apply(text: &str, e: &Edit) -> String {
    let chars: Vec<char> = text.chars().collect();
    let lines: Vec<&str> = text.lines().collect();
    match e {
        Edit::DeleteChars(p, n) => {
            let p = p % (chars.len() + 1);
            let end = (p + n).min(chars.len());
            chars[..p].iter().chain(&chars[end..]).collect()
        }
        Edit::Insert(p, s) => {
            let p = p % (chars.len() + 1);
            let mut out: String = chars[..p].iter().collect();
            out.push_str(s);
            out.extend(&chars[p..]);
            out
        }
        Edit::DuplicateLine(i) => {
            let i = i % lines.len();
            let mut l = lines.clone();
            l.insert(i, lines[i]);
            l.join("\n")
        }
        Edit::DeleteLine(i) => {
            let mut l = lines.clone();
            l.remove(i % lines.len());
            l.join("\n")
        }
        Edit::ReplaceNumber(i, s) => {
            // Replace the i-th number-like field.
            let mut fields: Vec<String> = Vec::new();
            let mut count = 0;
            let numeric: Vec<usize> = text
                .split_inclusive(['\t', ' ', '\n', '='])
                .enumerate()
                .filter(|(_, f)| f.trim_end().parse::<f64>().is_ok())
                .map(|(k, _)| k)
                .collect();
            let target = if numeric.is_empty() {
                usize::MAX
            } else {
                numeric[i % numeric.len()]
            };
            for (k, f) in text.split_inclusive(['\t', ' ', '\n', '=']).enumerate() {
                if k == target {
                    let end = &f[f.trim_end().len()..];
                    fields.push(format!("{s}{end}"));
                    count += 1;
                } else {
                    fields.push(f.to_string());
                }
            }
            debug_assert!(count <= 1);
            fields.concat()
        }
    }
}

fn base_arpa() -> String {
    let text = ["ab ba", "abc", "b a c", "cab"];
    let sentences: Vec<Vec<String>> = text.iter().map(|l| Tokenization::Chars.tokens(l)).collect();
    let lm = train(&sentences, &TrainOptions::new(3)).unwrap();
    let mut out = Vec::new();
    lm.write_arpa(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Uses a model that was accepted: queries and a write/read round trip
/// must not panic either.
fn exercise(lm: &NgramLm) {
    let n = lm.vocab().len() as u32;
    for a in 0..n.min(8) {
        for b in 0..n.min(8) {
            let p = lm.log10_prob(&[BOS, a], b);
            assert!(!p.is_nan());
        }
    }
    let mut out = Vec::new();
    lm.write_arpa(&mut out).unwrap();
    let back = NgramLm::parse_arpa(&out[..], "again.arpa".as_ref(), None).unwrap();
    assert_eq!(back.ngram_counts(), lm.ngram_counts());
    assert_eq!(back.vocab().len(), lm.vocab().len());
    for a in 0..n.min(8) {
        for b in 0..n.min(8) {
            let (p, q) = (lm.log10_prob(&[BOS, a], b), back.log10_prob(&[BOS, a], b));
            assert!(p == q, "{a} {b}: {p} before the round trip, {q} after");
        }
    }
}

/// Reads `input` as `name`: an accepted model must answer queries and
/// survive a write/read round trip with the same scores; a refusal is one
/// line naming the file and a line of the input (1 ..= its line count, or
/// 0 for an empty input).
fn check_outcome(name: &str, input: &[u8], size: Option<u64>) -> Result<(), TestCaseError> {
    match NgramLm::parse_arpa(input, name.as_ref(), size) {
        Ok(lm) => exercise(&lm),
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(!msg.contains('\n'), "{}", msg);
            let line: usize = msg
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(':'))
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| TestCaseError::fail(format!("no {name}:LINE: prefix: {msg}")))?;
            // Lines as the reader counts them: a last line needs no newline.
            let lines = input.iter().filter(|&&b| b == b'\n').count()
                + usize::from(input.last().is_some_and(|&b| b != b'\n'));
            prop_assert!(line <= lines, "line {} of {}: {}", line, lines, msg);
            prop_assert!(
                line > 0 || lines == 0,
                "line 0 of a non-empty input: {}",
                msg
            );
        }
    }
    Ok(())
}

proptest! {
    // `make fuzz` raises the count with SORI_FUZZ_CASES.
    #![proptest_config(fuzz::config(600))]

    #[test]
    fn mutated_arpa_never_panics(edits in prop::collection::vec(edit(), 1..5), sized in any::<bool>()) {
        let mut text = base_arpa();
        for e in &edits {
            text = apply(&text, e);
        }
        let size = sized.then_some(text.len() as u64);
        check_outcome("m.arpa", text.as_bytes(), size)?;
    }

    #[test]
    fn random_text_gives_a_located_error_or_a_usable_model(body in "[ \\t\\n\\\\a-z0-9=.<>/-]{0,400}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let text = format!("\\data\\\n{body}");
        check_outcome("r.arpa", text.as_bytes(), Some(text.len() as u64))?;
        check_outcome("r.arpa", &bytes, None)?;
        let mut raw = b"\\data\\\nngram 1=3\n\n\\1-grams:\n".to_vec();
        raw.extend(&bytes);
        check_outcome("r.arpa", &raw, None)?;
    }
}
