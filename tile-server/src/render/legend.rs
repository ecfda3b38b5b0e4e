//! Legends: a vertical colour bar drawn with the very colour map that colours the tiles,
//! with value labels.

use super::canvas::Canvas;
use super::color::{ColorMap, Rgba};
use super::font::{draw_text, text_width};

const TEXT: Rgba = [20, 20, 20, 255];
const FRAME: Rgba = [60, 60, 60, 255];

/// Format a label value compactly.
#[must_use]
pub fn label(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(0.01..1e5).contains(&a) {
        format!("{v:.1e}")
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else if a < 1.0 {
        format!("{v:.2}").trim_end_matches('0').to_string()
    } else {
        format!("{v:.1}")
    }
}

/// A `w`×`h` legend (white background so it reads on any page). Ramps: a bar from max (top)
/// to min, colouring the mid value of each bar row through `cm`, so the bar shows exactly
/// the tile colours; intervals: one box per interval with its label.
#[must_use]
pub fn legend(
    cm: &ColorMap,
    interval_labels: &[Option<String>],
    units: &str,
    w: usize,
    h: usize,
) -> Vec<u8> {
    let mut rgba = vec![255u8; w * h * 4];
    let scale = if h >= 150 { 2 } else { 1 };
    let top = 8 + 7 * scale;
    let bottom = h.saturating_sub(6);
    let bar_x = 6;
    let bar_w = (w / 5).clamp(8, 30);
    draw_text(&mut Canvas::new(&mut rgba, w, h), 4, 4, units, scale, TEXT);
    if bottom <= top + 4 {
        return rgba;
    }
    let rows = bottom - top;
    let mut fill = |y: usize, c: Rgba| {
        // Blend over white for display.
        let a = f64::from(c[3]) / 255.0;
        let px: Vec<u8> = (0..3)
            .map(|k| (f64::from(c[k]) * a + 255.0 * (1.0 - a)).round() as u8)
            .collect();
        for x in bar_x..(bar_x + bar_w).min(w) {
            let k = (y * w + x) * 4;
            rgba[k..k + 3].copy_from_slice(&px);
            rgba[k + 3] = 255;
        }
    };
    let mut labels: Vec<(usize, String)> = Vec::new();
    if cm.intervals.is_empty() {
        for r in 0..rows {
            let t = 1.0 - (r as f64 + 0.5) / rows as f64;
            let v = cm.value_at(t);
            let native = ((v - cm.offset) / cm.scale) as f32;
            fill(top + r, cm.color(native));
        }
        let n = (rows / (10 * scale + 12)).clamp(1, 10);
        for k in 0..=n {
            let t = k as f64 / n as f64;
            labels.push((
                bottom - ((t * rows as f64) as usize).min(rows),
                label(cm.value_at(t)),
            ));
        }
    } else {
        let n = cm.intervals.len();
        for (k, iv) in cm.intervals.iter().enumerate() {
            let y0 = top + rows * (n - 1 - k) / n;
            let y1 = top + rows * (n - k) / n;
            let mid = if iv.1 - iv.0 > 1e12 {
                iv.0
            } else {
                0.5 * (iv.0 + iv.1)
            };
            let native = ((mid - cm.offset) / cm.scale) as f32;
            for y in y0..y1 {
                fill(y, cm.color(native));
            }
            let text = interval_labels
                .get(k)
                .cloned()
                .flatten()
                .unwrap_or_else(|| label(iv.0));
            labels.push((y1, text));
        }
    }
    // Frame.
    for y in top..bottom {
        for x in [bar_x.saturating_sub(1), (bar_x + bar_w).min(w - 1)] {
            let k = (y * w + x) * 4;
            rgba[k..k + 4].copy_from_slice(&FRAME);
        }
    }
    let lx = bar_x + bar_w + 4;
    for (y, text) in labels {
        let ty = y
            .saturating_sub(5 * scale / 2)
            .min(h.saturating_sub(5 * scale));
        if lx + text_width(&text, scale) <= w + scale {
            let mut canvas = Canvas::new(&mut rgba, w, h);
            draw_text(&mut canvas, lx, ty, &text, scale, TEXT);
        }
        for x in (bar_x + bar_w)..(bar_x + bar_w + 3).min(w) {
            let k = (y.min(h - 1) * w + x) * 4;
            rgba[k..k + 4].copy_from_slice(&FRAME);
        }
    }
    rgba
}
