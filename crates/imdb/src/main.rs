//! The `imdb` command: argument parsing and printing only; the work lives in
//! the library crates.
use clap::Parser;

/// IMDB sentiment classification with embeddings and recurrent networks.
#[derive(Parser, Debug)]
#[command(name = "imdb", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
