//! Text on the project's PNG plots (training history, attention maps),
//! rasterised with `ab_glyph` from a TrueType file read at run time.
//!
//! Why not plotters' own text: its "ttf" feature needs fontconfig and a
//! system -dev package to build, and its "ab_glyph" feature would be unified
//! into criterion's plotters and make every criterion bench panic when it
//! draws its charts. So plotters draws lines and cells, and this module puts
//! the letters into the RGB buffer.
//!
//! The font: the first readable file of `$SORI_FONT`, a CJK font (Korean
//! pieces of the en→ko translator), DejaVu Sans, Liberation Sans or FreeSans
//! in the usual Linux/macOS places (`scripts/setup-system.sh` installs
//! `fonts-dejavu-core` when none is there). `SORI_FONT=none`, or no font at
//! all, leaves the plots without text.
use std::sync::OnceLock;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};

const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansKR-Regular.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
];

/// The font for plot text, loaded once; `None` when there is none.
pub fn font() -> Option<&'static FontVec> {
    static FONT: OnceLock<Option<FontVec>> = OnceLock::new();
    FONT.get_or_init(|| {
        let from_env = std::env::var("SORI_FONT").ok();
        if from_env.as_deref() == Some("none") {
            return None;
        }
        from_env
            .iter()
            .map(String::as_str)
            .chain(FONT_CANDIDATES.iter().copied())
            .filter_map(|p| std::fs::read(p).ok())
            .find_map(|b| FontVec::try_from_vec(b).ok())
    })
    .as_ref()
}

/// An RGB8 image buffer (`3 * width * height` bytes, rows top to bottom).
pub struct Rgb<'a> {
    pub pixels: &'a mut [u8],
    pub width: usize,
    pub height: usize,
}

/// How a piece of text is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Pen {
    /// Height in pixels.
    pub size: f32,
    pub color: [u8; 3],
    /// Runs upwards (rotated 90° counter-clockwise) instead of rightwards.
    pub vertical: bool,
}

/// The advance of each glyph of `text` (with kerning) and the total width.
fn layout(font: &FontVec, text: &str, size: f32) -> (Vec<(ab_glyph::GlyphId, f32)>, f32) {
    let scaled = font.as_scaled(PxScale::from(size));
    let mut glyphs = Vec::new();
    let mut pen = 0.0f32;
    let mut prev = None;
    for ch in text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        glyphs.push((id, pen));
        pen += scaled.h_advance(id);
        prev = Some(id);
    }
    (glyphs, pen)
}

/// Width in pixels of `text` at `size` (for centring and right alignment).
pub fn text_width(font: &FontVec, text: &str, size: f32) -> f32 {
    layout(font, text, size).1
}

/// Half the sum of ascent and descent at `size`: added to a line's vertical
/// centre it gives the baseline.
pub fn centre_to_baseline(font: &FontVec, size: f32) -> f32 {
    let scaled = font.as_scaled(PxScale::from(size));
    (scaled.ascent() + scaled.descent()) / 2.0
}

/// Draws `text` with its baseline starting at `(x, y)`, blending each pixel
/// towards the pen's colour by the glyph's coverage; what falls outside the
/// image is dropped.
pub fn draw_text(img: &mut Rgb, font: &FontVec, text: &str, (x, y): (f32, f32), pen: Pen) {
    let (glyphs, _) = layout(font, text, pen.size);
    for (id, advance) in glyphs {
        let glyph = id.with_scale_and_position(pen.size, ab_glyph::point(advance, 0.0));
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let (dx, dy) = (b.min.x + gx as f32, b.min.y + gy as f32);
            let (px, py) = if pen.vertical {
                (x + dy, y - dx)
            } else {
                (x + dx, y + dy)
            };
            let (px, py) = (px.floor() as i64, py.floor() as i64);
            if px < 0 || py < 0 || px as usize >= img.width || py as usize >= img.height {
                return;
            }
            let i = 3 * (py as usize * img.width + px as usize);
            let a = coverage.clamp(0.0, 1.0);
            for (k, c) in pen.color.into_iter().enumerate() {
                let old = img.pixels[i + k] as f32;
                img.pixels[i + k] = (old * (1.0 - a) + c as f32 * a).round() as u8;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With a font installed, text darkens pixels near where it was asked
    /// for and nowhere else; vertical text lies above its start point.
    #[test]
    fn text_lands_where_asked() {
        let Some(font) = font() else {
            eprintln!("skipped: no font installed (scripts/setup-system.sh)");
            assert!(std::env::var("CI").is_err(), "CI needs a font");
            return;
        };
        // The pixels `draw_text` darkens on a white 200 x 100 image.
        let dark = |text: &str, at: (f32, f32), pen: Pen| -> Vec<(usize, usize)> {
            let (w, h) = (200usize, 100usize);
            let mut pixels = vec![255u8; 3 * w * h];
            let mut img = Rgb {
                pixels: &mut pixels,
                width: w,
                height: h,
            };
            draw_text(&mut img, font, text, at, pen);
            (0..h)
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .filter(|&(x, y)| pixels[3 * (y * w + x)] < 128)
                .collect()
        };
        let pen = Pen {
            size: 20.0,
            color: [0, 0, 0],
            vertical: false,
        };
        let width = text_width(font, "Hi", 20.0);
        let flat = dark("Hi", (10.0, 30.0), pen);
        assert!(!flat.is_empty());
        for &(x, y) in &flat {
            assert!((10..=10 + width.ceil() as usize + 1).contains(&x), "x {x}");
            assert!((10..=31).contains(&y), "y {y}");
        }
        let up = Pen {
            vertical: true,
            ..pen
        };
        let dark_up = dark("Hi", (50.0, 90.0), up);
        assert!(!dark_up.is_empty());
        for &(x, y) in &dark_up {
            assert!(y <= 90 && y + width.ceil() as usize + 1 >= 90, "y {y}");
            assert!((30..=51).contains(&x), "x {x}");
        }
    }
}
