//! Open English text for the speech corpus: documents split into sentences,
//! each normalised to what the recogniser writes, or refused.
//!
//! The normal form (also what `asr eval` compares after its own
//! lower-casing): lower-case ASCII letters, the apostrophe inside words
//! ("don't", "dog's", as LibriSpeech writes them), single spaces. Numbers are
//! spelled out (`1984` → "nineteen eighty four" when it reads as a year,
//! `42` → "forty two"), `&` becomes "and", `%` "percent", hyphens and slashes
//! are word breaks, accents are folded (`café` → "cafe"), other punctuation
//! goes. A sentence that still holds anything else (digits glued to letters
//! as in "1990s" or "3rd", symbols, other scripts) is refused rather than
//! guessed at: the recogniser would learn a wrong spelling.
use crate::corpus::synth::{number_to_words, year_to_words};

/// Sentences shorter or longer than these (in words) are refused: too short
/// carries little, too long makes slow, memory-hungry training utterances.
pub const MIN_WORDS: usize = 3;
pub const MAX_WORDS: usize = 30;

/// Folds the accented Latin letters that English text borrows.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => "o",
        'œ' => "oe",
        'ù' | 'ú' | 'û' | 'ü' => "u",
        'ý' | 'ÿ' => "y",
        'ß' => "ss",
        _ => return None,
    })
}

/// Spells out a run of digits, or `None` when it is too long to read.
/// `grouped`: it was written with thousands commas, so it is a quantity,
/// never a year.
fn spell_number(digits: &str, grouped: bool) -> Option<String> {
    let n: u32 = digits.parse().ok()?;
    if n >= 1_000_000 {
        return None;
    }
    // "0042" is read digit by digit; "1984" as a year; the rest as numbers.
    if digits.len() > 1 && digits.starts_with('0') {
        let words: Vec<String> = digits
            .chars()
            .map(|d| number_to_words(d.to_digit(10).unwrap()))
            .collect();
        return Some(words.join(" "));
    }
    if !grouped && digits.len() == 4 && (1100..=2099).contains(&n) {
        return Some(year_to_words(n));
    }
    Some(number_to_words(n))
}

/// The normal form of one sentence, or `None` when it cannot be written in
/// it faithfully or its length is outside `MIN_WORDS..=MAX_WORDS`.
pub fn normalize_sentence(raw: &str) -> Option<String> {
    let mut s = String::with_capacity(raw.len() + 8);
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        let c = c.to_lowercase().next().unwrap_or(c);
        match c {
            'a'..='z' => s.push(c),
            '0'..='9' => {
                // A whole number: digits with optional thousands commas.
                let mut digits = String::from(c);
                let mut grouped = false;
                while let Some(&d) = chars.peek() {
                    if d.is_ascii_digit() {
                        digits.push(d);
                        chars.next();
                    } else if d == ',' {
                        let mut ahead = chars.clone();
                        ahead.next();
                        let next3: String = ahead.clone().take(3).collect();
                        let after = ahead.clone().nth(3);
                        if next3.len() == 3
                            && next3.chars().all(|x| x.is_ascii_digit())
                            && !after.is_some_and(|x| x.is_ascii_digit())
                        {
                            chars.next();
                            grouped = true;
                        } else {
                            break;
                        }
                    } else {
                        break;
                    }
                }
                if s.chars().last().is_some_and(|p| p.is_ascii_alphabetic())
                    || chars.peek().is_some_and(|p| p.is_alphabetic())
                {
                    return None; // "1990s", "3rd", "mp3"
                }
                s.push(' ');
                s.push_str(&spell_number(&digits, grouped)?);
                s.push(' ');
            }
            '\'' | '’' | '‘' => {
                // An apostrophe inside a word stays; quotes around words go.
                let inside = s.chars().last().is_some_and(|p| p.is_ascii_alphabetic())
                    && chars.peek().is_some_and(|n| n.is_alphabetic());
                s.push(if inside { '\'' } else { ' ' });
            }
            '&' => s.push_str(" and "),
            '%' => s.push_str(" percent "),
            '-' | '–' | '—' | '/' | '_' => s.push(' '),
            c if c.is_whitespace() => s.push(' '),
            '.' | ',' | ';' | ':' | '!' | '?' | '"' | '“' | '”' | '(' | ')' | '[' | ']' | '…'
            | '«' | '»' => s.push(' '),
            c => s.push_str(fold(c)?),
        }
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    if !(MIN_WORDS..=MAX_WORDS).contains(&words.len()) {
        return None;
    }
    Some(words.join(" "))
}

/// Splits running text (a review, a paragraph) into sentences: at `.`, `!`
/// or `?` followed by white space and a capital letter, a digit or a quote,
/// and at HTML line breaks (`<br />`, as IMDB reviews have them). Abbreviations
/// such as "Mr." split wrongly now and then; the normaliser then usually
/// refuses the short piece.
pub fn split_sentences(doc: &str) -> Vec<String> {
    let doc = doc.replace("<br />", "\n").replace("<br/>", "\n");
    let mut out = Vec::new();
    for para in doc.lines() {
        let chars: Vec<char> = para.chars().collect();
        let mut start = 0;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if matches!(c, '.' | '!' | '?') {
                // Take the whole run of closing marks ("?!", "...", ".\"").
                let mut j = i + 1;
                while j < chars.len() && matches!(chars[j], '.' | '!' | '?' | '"' | '\'' | ')') {
                    j += 1;
                }
                let next = chars[j..].iter().find(|c| !c.is_whitespace());
                let gap = j < chars.len() && chars[j].is_whitespace();
                if j == chars.len()
                    || (gap
                        && next
                            .is_some_and(|n| n.is_uppercase() || n.is_ascii_digit() || *n == '"'))
                {
                    out.push(
                        chars[start..j]
                            .iter()
                            .collect::<String>()
                            .trim()
                            .to_string(),
                    );
                    start = j;
                }
                i = j;
            } else {
                i += 1;
            }
        }
        let rest: String = chars[start..].iter().collect::<String>().trim().to_string();
        if !rest.is_empty() {
            out.push(rest);
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Every normalised sentence of a text where each line is one document:
/// split, normalised, refused ones dropped, duplicates kept (the caller
/// decides).
pub fn sentences_of(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .flat_map(split_sentences)
        .filter_map(|s| normalize_sentence(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_by_example() {
        let cases = [
            ("A man, in a BLUE shirt.", Some("a man in a blue shirt")),
            (
                "Don't stop; it's Tom's dog!",
                Some("don't stop it's tom's dog"),
            ),
            ("'Hello there,' she said.", Some("hello there she said")),
            (
                "I was born in 1984 and I'm 42.",
                Some("i was born in nineteen eighty four and i'm forty two"),
            ),
            (
                "It costs 1,250 dollars now",
                Some("it costs one thousand two hundred fifty dollars now"),
            ),
            (
                "Call 007 right away",
                Some("call zero zero seven right away"),
            ),
            (
                "Rock & roll is 100% fun",
                Some("rock and roll is one hundred percent fun"),
            ),
            (
                "A well-known café in town",
                Some("a well known cafe in town"),
            ),
            ("Back in the 1990s people", None),
            ("He came in 3rd place", None),
            ("The price is $5 today", None),
            ("Привет мир друзья", None),
            ("Too short", None),
            ("“Quoted” words — fine here", Some("quoted words fine here")),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_sentence(raw).as_deref(), want, "{raw:?}");
        }
        let long = "word ".repeat(MAX_WORDS + 1);
        assert_eq!(normalize_sentence(&long), None);
    }

    #[test]
    fn the_normal_form_is_a_fixed_point_and_in_the_alphabet() {
        for raw in [
            "Don't stop; it's Tom's dog!",
            "In 2007 we saw 12 films, 3 of them twice.",
            "A well-known café in town",
        ] {
            let once = normalize_sentence(raw).unwrap();
            assert_eq!(normalize_sentence(&once).as_deref(), Some(once.as_str()));
            assert!(once
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == ' ' || c == '\''));
        }
    }

    #[test]
    fn reviews_split_into_sentences() {
        let doc = "I loved it. The cast was great!<br /><br />Would I watch it again? \
                   Yes. Mr. Smith agrees... 10 out of 10 \"Best\" film.";
        let got = split_sentences(doc);
        assert_eq!(
            got,
            vec![
                "I loved it.",
                "The cast was great!",
                "Would I watch it again?",
                "Yes.",
                "Mr.",
                "Smith agrees...",
                "10 out of 10 \"Best\" film.",
            ]
        );
        let kept: Vec<String> = sentences_of(doc).collect();
        assert_eq!(
            kept,
            vec![
                "i loved it",
                "the cast was great",
                "would i watch it again",
                "ten out of ten best film"
            ]
        );
    }
}
