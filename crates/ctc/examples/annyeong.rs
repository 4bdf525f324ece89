//! The lecture's toy example: CTC for "안녕하세요" with the label set
//! {<space>:0, 안:1, 녕:2, 하:3, 세:4, 요:5, <blank>:6} (blank is 6).
//! Prints the per-frame probabilities, the alpha and beta trellises (as
//! probabilities) and the loss, and checks the loss three ways: the trellis,
//! the fast native loss, and the sum over every one of the 7^8 paths.
//!
//! Run: `cargo run --release -p sori-ctc --example annyeong`

use sori_ctc::annyeong::{brute_force_loss, native_loss, toy_log_probs, BLANK, LABELS, TARGET};
use sori_ctc::trellis;

fn main() {
    let frames = 8;
    let classes = LABELS.len();
    let lp = toy_log_probs(frames);
    println!("labels: {LABELS:?} (blank = {BLANK})");
    println!("target: 안녕하세요 = {TARGET:?}, {frames} frames\n");
    println!("per-frame probabilities:");
    print!("{:>4}", "t");
    for l in LABELS {
        print!("{l:>9}");
    }
    println!();
    for t in 0..frames {
        print!("{t:>4}");
        for c in 0..classes {
            print!("{:>9.4}", lp[t * classes + c].exp());
        }
        println!();
    }
    let tr = trellis(&lp, classes, &TARGET, BLANK).expect("valid toy input");
    let names: Vec<&str> = tr.states.iter().map(|&s| LABELS[s]).collect();
    for (title, m) in [
        (
            "alpha (prob. of the prefix paths ending in state s at t)",
            &tr.alpha,
        ),
        ("beta (prob. of completing from state s after t)", &tr.beta),
    ] {
        println!("\n{title}:");
        print!("{:>4}", "t");
        for n in &names {
            print!("{n:>10}");
        }
        println!();
        for (t, row) in m.iter().enumerate() {
            print!("{t:>4}");
            for v in row {
                print!("{:>10.2e}", v.exp());
            }
            println!();
        }
    }
    let native = native_loss(&lp).expect("valid toy input");
    let brute = brute_force_loss(&lp, classes, &TARGET, BLANK);
    println!("\nloss = -ln p(안녕하세요 | x)");
    println!("  trellis      {:.10}", tr.loss);
    println!("  native fast  {:.10}", native);
    println!(
        "  brute force  {:.10} (sum over all 7^{frames} paths)",
        brute
    );
}
