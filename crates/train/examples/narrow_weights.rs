//! Stores a weights file's floats as f16 (or bf16) to halve a committed
//! model's size (`models/README.md` says which models were narrowed and what
//! that did to their scores). The applications load such files into their
//! f32 models unchanged.
//!
//! `cargo run --release -p sori-train --example narrow_weights -- SRC DST [f16|bf16]`
use std::path::PathBuf;
use tch::Kind;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (src, dst, kind) = match args.as_slice() {
        [s, d] => (s, d, "f16"),
        [s, d, k] => (s, d, k.as_str()),
        _ => {
            eprintln!("usage: narrow_weights SRC.safetensors DST.safetensors [f16|bf16]");
            std::process::exit(2);
        }
    };
    let kind = match kind {
        "f16" => Kind::Half,
        "bf16" => Kind::BFloat16,
        other => {
            eprintln!("error: unknown type {other:?} (expected f16 or bf16)");
            std::process::exit(2);
        }
    };
    if let Err(e) = sori_train::write_narrow_floats(&PathBuf::from(src), &PathBuf::from(dst), kind)
    {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
