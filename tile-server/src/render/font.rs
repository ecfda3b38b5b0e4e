//! A 3×5 pixel bitmap font for legend labels (digits, signs and the letters of common units),
//! drawn at an integer scale. Lower case is drawn as upper case; unknown characters as blanks.

use super::canvas::Canvas;
use super::color::Rgba;

/// Glyph rows, top to bottom, 3 bits each (bit 2 = left column).
fn glyph(c: char) -> [u8; 5] {
    match c.to_ascii_uppercase() {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 3, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' | 'S' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 2, 2, 2],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '-' => [0, 0, 7, 0, 0],
        '+' => [0, 2, 7, 2, 0],
        '.' => [0, 0, 0, 0, 2],
        '/' => [1, 1, 2, 4, 4],
        '%' => [5, 1, 2, 4, 5],
        '°' => [2, 5, 2, 0, 0],
        'A' => [2, 5, 7, 5, 5],
        'C' => [7, 4, 4, 4, 7],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 6, 4, 7],
        'G' => [7, 4, 5, 5, 7],
        'H' => [5, 5, 7, 5, 5],
        'K' => [5, 5, 6, 5, 5],
        'M' => [5, 7, 7, 5, 5],
        'P' => [7, 5, 7, 4, 4],
        'T' => [7, 2, 2, 2, 2],
        _ => [0, 0, 0, 0, 0],
    }
}

/// Width in pixels of `text` at `scale`.
#[must_use]
pub fn text_width(text: &str, scale: usize) -> usize {
    text.chars().count() * 4 * scale
}

/// Draw `text` with its top-left corner at (x, y).
pub fn draw_text(
    canvas: &mut Canvas<'_>,
    x: usize,
    y: usize,
    text: &str,
    scale: usize,
    color: Rgba,
) {
    for (n, c) in text.chars().enumerate() {
        let g = glyph(c);
        let x0 = x + n * 4 * scale;
        for (row, bits) in g.iter().enumerate() {
            for col in 0..3 {
                if bits & (4 >> col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        canvas.put(x0 + col * scale + dx, y + row * scale + dy, color);
                    }
                }
            }
        }
    }
}
