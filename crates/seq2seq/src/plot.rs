//! The attention matrix of one translation as a PNG heat map: one row per
//! output piece, one column per source piece, darker = more weight. This is
//! the lecture's alignment picture; a good model shows a roughly diagonal
//! band that bends where the word order of the languages differs.
//!
//! The image is drawn into an RGB buffer here and written by plotters'
//! bitmap backend. Labels are rasterised with `ab_glyph` from a TrueType file
//! read at run time (`$SORI_FONT`, else a CJK font when installed, for Korean
//! pieces, else DejaVu Sans); plotters' own font feature is not used because
//! it would be unified into criterion's plotters and break its charts.
//! Without any font the cells are still drawn.

use std::path::Path;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use plotters::prelude::*;

use crate::error::{Result, Seq2SeqError};

const FONT_CANDIDATES: [&str; 6] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansKR-Regular.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
];

fn load_font() -> Option<FontVec> {
    let env = std::env::var("SORI_FONT").ok();
    let font = env
        .iter()
        .map(String::as_str)
        .chain(FONT_CANDIDATES)
        .filter_map(|p| std::fs::read(p).ok())
        .find_map(|b| FontVec::try_from_vec(b).ok());
    font
}

struct Canvas {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn blend(&mut self, x: i64, y: i64, coverage: f32) {
        if x < 0 || y < 0 || x as usize >= self.w || y as usize >= self.h {
            return;
        }
        let i = 3 * (y as usize * self.w + x as usize);
        for c in &mut self.rgb[i..i + 3] {
            *c = (*c as f32 * (1.0 - coverage.clamp(0.0, 1.0))) as u8;
        }
    }

    fn fill(&mut self, x0: usize, y0: usize, x1: usize, y1: usize, shade: u8) {
        for y in y0..y1.min(self.h) {
            for x in x0..x1.min(self.w) {
                let i = 3 * (y * self.w + x);
                self.rgb[i..i + 3].fill(shade);
            }
        }
    }

    /// Draws `text` with its baseline start at `(x, y)`; `vertical` runs it
    /// upwards (rotated 90° counter-clockwise).
    fn text(&mut self, font: &FontVec, text: &str, x: f32, y: f32, px: f32, vertical: bool) {
        let scaled = font.as_scaled(PxScale::from(px));
        let mut pen = 0.0f32;
        for ch in text.chars() {
            let id = scaled.glyph_id(ch);
            let glyph = id.with_scale_and_position(px, ab_glyph::point(pen, 0.0));
            pen += scaled.h_advance(id);
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let b = outline.px_bounds();
            outline.draw(|gx, gy, cov| {
                let (dx, dy) = (b.min.x + gx as f32, b.min.y + gy as f32);
                let (px_, py_) = if vertical {
                    (x + dy, y - dx)
                } else {
                    (x + dx, y + dy)
                };
                self.blend(px_ as i64, py_ as i64, cov);
            });
        }
    }
}

/// Draws `weights[out][src]` with the piece labels to `path` (PNG).
pub fn attention_png(
    path: &Path,
    src_pieces: &[String],
    out_pieces: &[String],
    weights: &[Vec<f32>],
) -> Result<()> {
    if weights.is_empty() || src_pieces.is_empty() {
        return Err(Seq2SeqError::Plot(format!(
            "{}: nothing to draw (empty translation)",
            path.display()
        )));
    }
    let cell = 32usize;
    let (left, top) = (150usize, 150usize);
    let cols = src_pieces.len();
    let rows = weights.len();
    let (w, h) = (left + cols * cell + 20, top + rows * cell + 20);
    let mut c = Canvas {
        w,
        h,
        rgb: vec![255; w * h * 3],
    };
    for (r, row) in weights.iter().enumerate() {
        for (k, &v) in row.iter().enumerate().take(cols) {
            let shade = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
            let (x, y) = (left + k * cell, top + r * cell);
            c.fill(x, y, x + cell, y + cell, shade);
        }
    }
    if let Some(font) = load_font() {
        for (r, piece) in out_pieces.iter().enumerate().take(rows) {
            let y = (top + r * cell + cell / 2 + 5) as f32;
            c.text(&font, piece, 6.0, y, 15.0, false);
        }
        for (k, piece) in src_pieces.iter().enumerate() {
            let x = (left + k * cell + cell / 2 + 5) as f32;
            c.text(&font, piece, x, (top - 6) as f32, 15.0, true);
        }
    }
    let err = |e: &dyn std::fmt::Display| Seq2SeqError::Plot(format!("{}: {e}", path.display()));
    let mut backend = BitMapBackend::new(path, (w as u32, h as u32));
    backend
        .blit_bitmap((0, 0), (w as u32, h as u32), &c.rgb)
        .map_err(|e| err(&e))?;
    backend.present().map_err(|e| err(&e))?;
    Ok(())
}
