//! Train an n-gram model from a text file and write ARPA, or score a text
//! with an ARPA model (perplexity). The speech recogniser's `asr lm` is the
//! character-model front end; this example also does word models and is
//! what `scripts/make-lm-fixtures.py` runs.
//!
//! ```text
//! cargo run --release -p sori-lm --example ngram -- train TEXT ORDER chars|words kn|wb OUT.arpa
//! cargo run --release -p sori-lm --example ngram -- ppl MODEL.arpa TEXT chars|words
//! ```
use sori_lm::{read_lines, train_text_files, NgramLm, Smoothing, Tokenization, TrainOptions};
use std::path::Path;

fn tokenization(s: &str) -> Result<Tokenization, String> {
    match s {
        "chars" => Ok(Tokenization::Chars),
        "words" => Ok(Tokenization::Words),
        _ => Err(format!("tokens must be chars or words, not {s:?}")),
    }
}

fn run(args: &[String]) -> Result<(), String> {
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["train", text, order, tokens, smoothing, out] => {
            let smoothing = match smoothing {
                "kn" => Smoothing::KneserNey,
                "wb" => Smoothing::WittenBell,
                _ => return Err(format!("smoothing must be kn or wb, not {smoothing:?}")),
            };
            let order: usize = order.parse().map_err(|_| format!("bad order {order:?}"))?;
            let opts = TrainOptions {
                order,
                smoothing,
                discounts: None,
                prune: Vec::new(),
            };
            let lm = train_text_files(&[Path::new(text)], tokenization(tokens)?, &opts)
                .map_err(|e| e.to_string())?;
            lm.save_arpa(Path::new(out)).map_err(|e| e.to_string())?;
            println!("n-grams {:?} -> {out}", lm.ngram_counts());
            Ok(())
        }
        ["ppl", model, text, tokens] => {
            let lm = NgramLm::read_arpa(Path::new(model)).map_err(|e| e.to_string())?;
            let t = tokenization(tokens)?;
            let lines = read_lines(Path::new(text)).map_err(|e| e.to_string())?;
            let sentences: Vec<Vec<String>> = lines.iter().map(|l| t.tokens(l)).collect();
            let p = lm.perplexity(&sentences);
            println!(
                "{} sentences, {} tokens, {} OOV: log10 prob {:.4}, perplexity {:.4}",
                p.sentences,
                p.tokens,
                p.oovs,
                p.log10_prob,
                p.perplexity()
            );
            Ok(())
        }
        _ => Err("usage: ngram train TEXT ORDER chars|words kn|wb OUT.arpa | ngram ppl MODEL.arpa TEXT chars|words".into()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
