//! An RGBA image being drawn on by the glyph and text painters.

use super::color::Rgba;

/// A straight-alpha RGBA pixel buffer together with its size, so that painters take one
/// argument for the image they draw on.
#[derive(Debug)]
pub struct Canvas<'a> {
    /// Pixels, row by row, 4 bytes each: `width * height * 4` bytes.
    pub rgba: &'a mut [u8],
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
}

impl<'a> Canvas<'a> {
    /// Wrap the pixels of a `width`×`height` image.
    pub fn new(rgba: &'a mut [u8], width: usize, height: usize) -> Self {
        Self {
            rgba,
            width,
            height,
        }
    }

    /// Paint one pixel; pixels past the right or bottom edge are ignored, since glyphs and
    /// labels may overhang the image.
    pub fn put(&mut self, x: usize, y: usize, c: Rgba) {
        if x < self.width && y < self.height {
            let k = (y * self.width + x) * 4;
            self.rgba[k..k + 4].copy_from_slice(&c);
        }
    }
}
