//! Training history, like the lecture's `plot(history)`: one JSON line per
//! epoch (`history.jsonl`) and a two-panel plot (loss; main metric) of
//! training vs validation curves as `history.png` and `history.svg`,
//! redrawn after every epoch.
//!
//! Fonts: plotters renders text with `ab_glyph` from a TrueType file read at
//! run time, so no fontconfig or system -dev package is needed to build. The
//! first existing file of `$SORI_FONT`, DejaVu Sans, Liberation Sans or
//! FreeSans in the usual Linux/macOS locations is used
//! (`scripts/setup-system.sh` installs `fonts-dejavu-core` when none is
//! there). Without any font the plots are still drawn, without text.
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use crate::checkpoint::atomic_write;
use crate::TrainError;

/// One epoch of history. `metrics` holds the training metrics under their
/// own names (`loss`, `accuracy`, ...) and validation ones prefixed with
/// `val_` (Keras style).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    /// Optimiser steps taken by the end of this epoch.
    pub step: u64,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
    /// Wall time of the epoch (training and validation).
    pub seconds: f64,
    #[serde(flatten)]
    pub metrics: BTreeMap<String, f64>,
}

impl EpochRecord {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.metrics.get(name).copied()
    }
}

/// Writes all records as JSON lines, atomically.
pub fn write_jsonl(path: &Path, records: &[EpochRecord]) -> Result<(), TrainError> {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).expect("record serialises"));
        text.push('\n');
    }
    atomic_write(path, text.as_bytes())
}

/// Reads a history file written by [`write_jsonl`].
pub fn read_jsonl(path: &Path) -> Result<Vec<EpochRecord>, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).map_err(|source| TrainError::Json {
                path: path.to_path_buf(),
                source,
            })
        })
        .collect()
}

const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
];

/// Registers a TrueType font with plotters once; false when none was found.
fn font_available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        let from_env = std::env::var("SORI_FONT").ok();
        let candidates = from_env
            .iter()
            .map(String::as_str)
            .chain(FONT_CANDIDATES.iter().copied());
        for path in candidates {
            if let Ok(bytes) = std::fs::read(path) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

/// The main metric to plot next to the loss: `preferred` if present, else
/// the first training metric other than the loss.
fn main_metric(records: &[EpochRecord], preferred: Option<&str>) -> Option<String> {
    let first = records.first()?;
    if let Some(p) = preferred {
        if first.metrics.contains_key(p) {
            return Some(p.to_string());
        }
    }
    first
        .metrics
        .keys()
        .find(|k| k.as_str() != "loss" && !k.starts_with("val_"))
        .cloned()
}

/// Draws `history.png` and `history.svg` into `dir`.
pub fn plot(
    dir: &Path,
    records: &[EpochRecord],
    preferred: Option<&str>,
) -> Result<(), TrainError> {
    if records.is_empty() {
        return Ok(());
    }
    let text = font_available();
    let metric = main_metric(records, preferred);
    let (w, h) = (1000u32, 400u32);
    let png_path = dir.join("history.png");
    atomic_write_with_backend(&png_path, |tmp| {
        let root = BitMapBackend::new(tmp, (w, h)).into_drawing_area();
        draw(&root, records, metric.as_deref(), text)
    })?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        draw(&root, records, metric.as_deref(), text)
            .map_err(|e| TrainError::model(&dir.join("history.svg"), e))?;
    }
    atomic_write(&dir.join("history.svg"), svg.as_bytes())
}

fn atomic_write_with_backend(
    target: &Path,
    draw_to: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), TrainError> {
    crate::checkpoint::atomic_write_with(target, |tmp| {
        draw_to(tmp).map_err(|e| TrainError::model(target, format!("plot: {e}")))
    })
}

fn series(records: &[EpochRecord], name: &str) -> Vec<(f64, f64)> {
    records
        .iter()
        .filter_map(|r| {
            r.get(name)
                .filter(|v| v.is_finite())
                .map(|v| (r.epoch as f64, v))
        })
        .collect()
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    records: &[EpochRecord],
    metric: Option<&str>,
    text: bool,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let panels: Vec<&str> = std::iter::once("loss").chain(metric).collect();
    let areas = root.split_evenly((1, panels.len()));
    for (area, name) in areas.iter().zip(panels) {
        let train = series(records, name);
        let val = series(records, &format!("val_{name}"));
        let all: Vec<f64> = train.iter().chain(val.iter()).map(|p| p.1).collect();
        if all.is_empty() {
            continue;
        }
        let (mut lo, mut hi) = all
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        if hi - lo < 1e-9 {
            lo -= 0.5;
            hi += 0.5;
        }
        let pad = (hi - lo) * 0.05;
        let first = records.first().map_or(1, |r| r.epoch) as f64;
        let last = records.last().map_or(1, |r| r.epoch) as f64;
        let x_hi = if last > first { last } else { first + 1.0 };
        let mut builder = ChartBuilder::on(area);
        builder.margin(12);
        if text {
            builder
                .caption(
                    format!("training and validation {name}"),
                    ("sans-serif", 18),
                )
                .x_label_area_size(32)
                .y_label_area_size(56);
        }
        let mut chart = builder
            .build_cartesian_2d(first..x_hi, (lo - pad)..(hi + pad))
            .map_err(|e| e.to_string())?;
        let mut mesh = chart.configure_mesh();
        if text {
            mesh.x_desc("epoch")
                .y_desc(name)
                .label_style(("sans-serif", 12));
        } else {
            mesh.x_labels(0).y_labels(0);
        }
        mesh.draw().map_err(|e| e.to_string())?;
        let blue = RGBColor(31, 119, 180);
        let orange = RGBColor(255, 127, 14);
        if !train.is_empty() {
            let s = chart
                .draw_series(LineSeries::new(train.clone(), blue.stroke_width(2)))
                .map_err(|e| e.to_string())?;
            if text {
                s.label("training")
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], blue));
            }
            chart
                .draw_series(train.iter().map(|&p| Circle::new(p, 3, blue.filled())))
                .map_err(|e| e.to_string())?;
        }
        if !val.is_empty() {
            let s = chart
                .draw_series(LineSeries::new(val.clone(), orange.stroke_width(2)))
                .map_err(|e| e.to_string())?;
            if text {
                s.label("validation")
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], orange));
            }
        }
        if text {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 12))
                .draw()
                .map_err(|e| e.to_string())?;
        }
    }
    root.present().map_err(|e| e.to_string())
}
