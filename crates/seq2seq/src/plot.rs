//! The attention matrix of one translation as a PNG heat map: one row per
//! output piece, one column per source piece, darker = more weight. This is
//! the lecture's alignment picture; a good model shows a roughly diagonal
//! band that bends where the word order of the languages differs.
//!
//! The image is drawn into an RGB buffer here and written by plotters'
//! bitmap backend. Labels are rasterised by `sori_train::glyphs` (a CJK font
//! when installed, for Korean pieces; that module says why not plotters'
//! text). Without any font the cells are still drawn.

use std::path::Path;

use plotters::prelude::*;
use sori_train::glyphs::{self, Pen, Rgb};

use crate::error::{Result, Seq2SeqError};

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
    let mut rgb = vec![255u8; w * h * 3];
    for (r, row) in weights.iter().enumerate() {
        for (k, &v) in row.iter().enumerate().take(cols) {
            let shade = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
            let (x, y) = (left + k * cell, top + r * cell);
            for line in rgb[3 * (y * w + x)..].chunks_mut(3 * w).take(cell) {
                line[..3 * cell].fill(shade);
            }
        }
    }
    if let Some(font) = glyphs::font() {
        let mut img = Rgb {
            pixels: &mut rgb,
            width: w,
            height: h,
        };
        let pen = Pen {
            size: 15.0,
            color: [0, 0, 0],
            vertical: false,
        };
        for (r, piece) in out_pieces.iter().enumerate().take(rows) {
            let y = (top + r * cell + cell / 2 + 5) as f32;
            glyphs::draw_text(&mut img, font, piece, (6.0, y), pen);
        }
        let up = Pen {
            vertical: true,
            ..pen
        };
        for (k, piece) in src_pieces.iter().enumerate() {
            let x = (left + k * cell + cell / 2 + 5) as f32;
            glyphs::draw_text(&mut img, font, piece, (x, (top - 6) as f32), up);
        }
    }
    let err = |e: &dyn std::fmt::Display| Seq2SeqError::Plot(format!("{}: {e}", path.display()));
    // Written whole or not at all (sori-fs: a temporary sibling whose name
    // keeps the extension plotters picks the format by, then a rename).
    sori_fs::write_with(
        path,
        |tmp| {
            let mut backend = BitMapBackend::new(tmp, (w as u32, h as u32));
            backend
                .blit_bitmap((0, 0), (w as u32, h as u32), &rgb)
                .map_err(|e| err(&e))?;
            backend.present().map_err(|e| err(&e))
        },
        |p, e| Seq2SeqError::Plot(format!("{}: {e}", p.display())),
    )
}
