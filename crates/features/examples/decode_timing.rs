//! Decoding time of audio files with `open_audio` + `read_all` (any format), robust to a
//! busy machine: the minimum and median of several runs per file, with the
//! stream's description and the speed as a multiple of real time. A file
//! that fails prints its one-line error.
//!
//! `cargo run --release -p sori-features --example decode_timing -- [--runs N] FILE...`

use std::path::PathBuf;
use std::time::Instant;

use sori_features::open_audio;

fn main() {
    let mut runs = 5usize;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--runs" {
            runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N");
        } else {
            files.push(PathBuf::from(a));
        }
    }
    for path in files {
        let mut info = None;
        let mut times = Vec::new();
        let mut seconds = 0.0;
        let mut samples = 0;
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let decoded = open_audio(&path).and_then(|source| {
                info = Some(source.info());
                source.read_all()
            });
            match decoded {
                Ok(a) => {
                    seconds = a.duration_s();
                    samples = a.samples.len();
                }
                Err(e) => {
                    println!("{e}");
                    break;
                }
            }
            times.push(t.elapsed().as_secs_f64());
        }
        let (Some(info), false) = (info, times.is_empty()) else {
            continue;
        };
        times.sort_by(f64::total_cmp);
        let (min, median) = (times[0], times[times.len() / 2]);
        println!(
            "{}: {} / {}, {} ch, {} Hz, {:.1} s of audio ({} samples, {} announced): min {:.1} ms, \
             median {:.1} ms ({:.0}x real time at the median)",
            path.display(),
            info.container,
            info.codec,
            info.channels,
            info.sample_rate,
            seconds,
            samples,
            info.frames.map_or("none".to_string(), |f| f.to_string()),
            min * 1e3,
            median * 1e3,
            seconds / median
        );
    }
}
