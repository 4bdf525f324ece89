//! The `asr` command: argument parsing and printing only; the work lives in
//! the library crates.
use clap::Parser;

/// Speech recognition trained with a native CTC loss: audio in, text out.
#[derive(Parser, Debug)]
#[command(name = "asr", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
