//! Training history, like the lecture's `plot(history)`: one JSON line per
//! epoch (`history.jsonl`) and a two-panel plot (loss; main metric) of
//! training vs validation curves as `history.png` and `history.svg`,
//! redrawn after every epoch.
//!
//! Text: plotters draws lines and markers only. The labels are collected
//! while drawing and then written as `<text>` elements into the SVG (the
//! viewer picks the font) and rasterised into the PNG by [`crate::glyphs`]
//! (which says why and which font). Without any font (or with
//! `SORI_FONT=none`) the PNG has curves and grid but no text.
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

use ab_glyph::FontVec;

use crate::checkpoint::atomic_write;
use crate::glyphs;
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
    /// Batches skipped because of a NaN/infinite loss or gradient
    /// (`--on-nan skip`); omitted from the JSON when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_batches: u64,
    #[serde(flatten)]
    pub metrics: BTreeMap<String, f64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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

/// Horizontal anchor of a label.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Align {
    Left,
    Center,
    Right,
}

/// A piece of text at a pixel position (vertical centre of the text).
#[derive(Debug, Clone)]
struct Label {
    text: String,
    x: i32,
    y: i32,
    size: f32,
    align: Align,
    color: RGBColor,
}

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 400;

/// Draws `history.png` and `history.svg` into `dir`.
pub fn plot(
    dir: &Path,
    records: &[EpochRecord],
    preferred: Option<&str>,
) -> Result<(), TrainError> {
    if records.is_empty() {
        return Ok(());
    }
    let metric = main_metric(records, preferred);
    let png_path = dir.join("history.png");
    let svg_path = dir.join("history.svg");

    let mut pixels = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    let labels = {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, records, metric.as_deref())
            .map_err(|e| TrainError::model(&png_path, format!("plot: {e}")))?
    };
    if let Some(f) = glyphs::font() {
        for l in &labels {
            rasterise(&mut pixels, f, l);
        }
    }
    crate::checkpoint::atomic_write_with(&png_path, |tmp| {
        image::save_buffer_with_format(
            tmp,
            &pixels,
            WIDTH,
            HEIGHT,
            image::ColorType::Rgb8,
            image::ImageFormat::Png,
        )
        .map_err(|e| TrainError::model(&png_path, format!("plot: {e}")))
    })?;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let labels = draw(&root, records, metric.as_deref())
            .map_err(|e| TrainError::model(&svg_path, format!("plot: {e}")))?;
        for l in labels {
            let anchor = match l.align {
                Align::Left => HPos::Left,
                Align::Center => HPos::Center,
                Align::Right => HPos::Right,
            };
            let style = TextStyle::from(("sans-serif", l.size as f64).into_font())
                .color(&l.color)
                .pos(Pos::new(anchor, VPos::Center));
            root.draw(&Text::new(l.text, (l.x, l.y), style))
                .map_err(|e| TrainError::model(&svg_path, format!("plot: {e}")))?;
        }
        root.present()
            .map_err(|e| TrainError::model(&svg_path, format!("plot: {e}")))?;
    }
    atomic_write(&svg_path, svg.as_bytes())
}

/// Alpha-blends `label` into an RGB buffer of `WIDTH × HEIGHT`.
fn rasterise(pixels: &mut [u8], font: &FontVec, label: &Label) {
    let width = glyphs::text_width(font, &label.text, label.size);
    let left = match label.align {
        Align::Left => label.x as f32,
        Align::Center => label.x as f32 - width / 2.0,
        Align::Right => label.x as f32 - width,
    };
    let baseline = label.y as f32 + glyphs::centre_to_baseline(font, label.size);
    let RGBColor(r, g, b) = label.color;
    let mut img = glyphs::Rgb {
        pixels,
        width: WIDTH as usize,
        height: HEIGHT as usize,
    };
    let pen = glyphs::Pen {
        size: label.size,
        color: [r, g, b],
        vertical: false,
    };
    glyphs::draw_text(&mut img, font, &label.text, (left, baseline), pen);
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

/// About `n` round tick values covering `lo..=hi`.
fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

fn tick_text(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
            + usize::from((step / 10f64.powf(step.log10().floor()) - 2.5).abs() < 1e-9)
    };
    format!("{v:.decimals$}")
}

/// Draws lines, markers, grid and legend swatches; returns the labels.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    records: &[EpochRecord],
    metric: Option<&str>,
) -> Result<Vec<Label>, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let mut labels = Vec::new();
    let panels: Vec<&str> = std::iter::once("loss").chain(metric).collect();
    let areas = root.split_evenly((1, panels.len()));
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    let grey = RGBColor(220, 220, 220);
    let dark = RGBColor(40, 40, 40);
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
        let (lo, hi) = (lo - pad, hi + pad);
        let first = records.first().map_or(1, |r| r.epoch) as f64;
        let last = records.last().map_or(1, |r| r.epoch) as f64;
        let x_hi = if last > first { last } else { first + 1.0 };
        let (ox, oy) = area.get_base_pixel();
        let (aw, _) = area.dim_in_pixel();
        let inner = area.margin(40, 40, 64, 16);
        let chart_area = inner.clone();
        let mut chart = ChartBuilder::on(&chart_area)
            .build_cartesian_2d(first..x_hi, lo..hi)
            .map_err(err)?;
        let y_ticks = nice_ticks(lo, hi, 6);
        let y_step = if y_ticks.len() > 1 {
            y_ticks[1] - y_ticks[0]
        } else {
            1.0
        };
        let span = (x_hi - first).max(1.0);
        let x_step = (span / 10.0).ceil().max(1.0);
        let mut x_ticks = Vec::new();
        let mut xt = first;
        while xt <= x_hi + 1e-9 {
            x_ticks.push(xt);
            xt += x_step;
        }
        for &y in &y_ticks {
            chart
                .draw_series(LineSeries::new([(first, y), (x_hi, y)], grey))
                .map_err(err)?;
            let (px, py) = chart.backend_coord(&(first, y));
            labels.push(Label {
                text: tick_text(y, y_step),
                x: px - 6,
                y: py,
                size: 12.0,
                align: Align::Right,
                color: dark,
            });
        }
        for &x in &x_ticks {
            chart
                .draw_series(LineSeries::new([(x, lo), (x, hi)], grey))
                .map_err(err)?;
            let (px, py) = chart.backend_coord(&(x, lo));
            labels.push(Label {
                text: format!("{x:.0}"),
                x: px,
                y: py + 12,
                size: 12.0,
                align: Align::Center,
                color: dark,
            });
        }
        // Axes.
        chart
            .draw_series(LineSeries::new(
                [(first, hi), (first, lo), (x_hi, lo)],
                dark,
            ))
            .map_err(err)?;
        if !train.is_empty() {
            chart
                .draw_series(LineSeries::new(train.clone(), blue.stroke_width(2)))
                .map_err(err)?;
            chart
                .draw_series(train.iter().map(|&p| Circle::new(p, 3, blue.filled())))
                .map_err(err)?;
        }
        if !val.is_empty() {
            chart
                .draw_series(LineSeries::new(val.clone(), orange.stroke_width(2)))
                .map_err(err)?;
        }
        let cx = ox + aw as i32 / 2;
        labels.push(Label {
            text: format!("training and validation {name}"),
            x: cx,
            y: oy + 18,
            size: 16.0,
            align: Align::Center,
            color: dark,
        });
        let (bx, by) = chart.backend_coord(&(x_hi, lo));
        labels.push(Label {
            text: "epoch".into(),
            x: (bx + chart.backend_coord(&(first, lo)).0) / 2,
            y: by + 28,
            size: 12.0,
            align: Align::Center,
            color: dark,
        });
        // Legend in the right corner away from where the curves end.
        let entries: Vec<(&str, RGBColor)> = [
            ("training", blue, !train.is_empty()),
            ("validation", orange, !val.is_empty()),
        ]
        .into_iter()
        .filter(|t| t.2)
        .map(|t| (t.0, t.1))
        .collect();
        let ends_high = all.last().is_some_and(|&v| v > (lo + hi) / 2.0);
        let (rx, top) = chart.backend_coord(&(x_hi, hi));
        let (_, bottom) = chart.backend_coord(&(x_hi, lo));
        let box_h = 8 + 18 * entries.len() as i32;
        let ty = if ends_high {
            bottom - box_h - 6
        } else {
            top + 6
        };
        root.draw(&Rectangle::new(
            [(rx - 118, ty), (rx - 6, ty + box_h)],
            WHITE.filled(),
        ))
        .map_err(err)?;
        root.draw(&Rectangle::new(
            [(rx - 118, ty), (rx - 6, ty + box_h)],
            grey,
        ))
        .map_err(err)?;
        for (i, (text, color)) in entries.into_iter().enumerate() {
            let y = ty + 13 + 18 * i as i32;
            root.draw(&PathElement::new(
                vec![(rx - 110, y), (rx - 90, y)],
                color.stroke_width(2),
            ))
            .map_err(err)?;
            labels.push(Label {
                text: text.into(),
                x: rx - 84,
                y,
                size: 12.0,
                align: Align::Left,
                color: dark,
            });
        }
    }
    root.present().map_err(err)?;
    Ok(labels)
}
