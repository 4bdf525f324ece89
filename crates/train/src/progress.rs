//! Progress display: an `indicatif` bar with ETA, throughput and running
//! loss on a terminal; plain lines (about ten per epoch) when stderr is not
//! a terminal or with `--quiet`, so CI logs stay readable. Epoch summaries
//! always go to stderr as one line.
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

use crate::history::EpochRecord;

pub struct Progress {
    fancy: bool,
    bar: Option<ProgressBar>,
    epochs: usize,
    epoch: usize,
    total: Option<usize>,
    started: Instant,
    last_line: Instant,
    /// Print nothing at all (library tests).
    silent: bool,
}

impl Progress {
    /// `quiet` forces plain lines even on a terminal.
    pub fn new(epochs: usize, quiet: bool) -> Progress {
        Progress {
            fancy: !quiet && std::io::stderr().is_terminal(),
            bar: None,
            epochs,
            epoch: 0,
            total: None,
            started: Instant::now(),
            last_line: Instant::now(),
            silent: false,
        }
    }

    /// No output at all.
    pub fn silent() -> Progress {
        let mut p = Progress::new(0, true);
        p.silent = true;
        p
    }

    pub fn start_epoch(&mut self, epoch: usize, batches: Option<usize>) {
        self.epoch = epoch;
        self.total = batches;
        self.started = Instant::now();
        self.last_line = Instant::now();
        if self.fancy && !self.silent {
            let bar = match batches {
                Some(n) => ProgressBar::new(n as u64),
                None => ProgressBar::new_spinner(),
            };
            let template = "{prefix} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}";
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(format!("epoch {epoch}/{}", self.epochs));
            self.bar = Some(bar);
        }
    }

    /// After batch number `done` (1-based) with the running mean loss.
    pub fn step(&mut self, done: usize, running_loss: f64) {
        if self.silent {
            return;
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            bar.set_message(format!("loss {running_loss:.4}"));
            return;
        }
        let every = self.total.map_or(50, |n| (n / 10).max(1));
        let due = done.is_multiple_of(every) || self.last_line.elapsed().as_secs() >= 30;
        if !due || Some(done) == self.total {
            return;
        }
        self.last_line = Instant::now();
        let secs = self.started.elapsed().as_secs_f64();
        let rate = done as f64 / secs.max(1e-9);
        let eta = self
            .total
            .map(|n| format!(" eta {:.0}s", (n - done.min(n)) as f64 / rate.max(1e-9)))
            .unwrap_or_default();
        let of = self.total.map(|n| format!("/{n}")).unwrap_or_default();
        eprintln!(
            "epoch {}/{} batch {done}{of} loss {running_loss:.4} {rate:.1} batch/s{eta}",
            self.epoch, self.epochs
        );
    }

    /// Replaces the bar by the epoch summary line.
    pub fn end_epoch(&mut self, record: &EpochRecord, note: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.silent {
            return;
        }
        let metrics: Vec<String> = record
            .metrics
            .iter()
            .map(|(k, v)| format!("{k} {v:.4}"))
            .collect();
        eprintln!(
            "epoch {}/{} {} lr {:.2e} {:.1}s{note}",
            record.epoch,
            self.epochs,
            metrics.join(" "),
            record.lr,
            record.seconds
        );
    }

    /// A free-form line (resume notes, early stopping).
    pub fn note(&self, text: &str) {
        if let Some(bar) = &self.bar {
            bar.println(text);
        } else if !self.silent {
            eprintln!("{text}");
        }
    }
}
