//! The `seq2seq` command: argument parsing and printing only; the work lives in
//! the library crates.
use clap::Parser;

/// Attention encoder-decoder translation.
#[derive(Parser, Debug)]
#[command(name = "seq2seq", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
