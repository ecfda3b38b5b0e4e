//! Isolines drawn per pixel, and their value labels.
//!
//! A pixel is on an isoline where the interval index (`floor(value / interval)`) changes
//! between it and its right or lower neighbour. Labels sit on isolines at roughly regular
//! spacing: the line is knocked out under the label and the value written in the line colour,
//! the way printed weather charts label isobars.

use super::canvas::Canvas;
use super::color::Rgba;
use super::font;

/// Text scale of labels (3×5 glyphs → 6×10 pixels).
const LABEL_SCALE: usize = 2;

/// A field sampled on an image, and the isolines to draw on it.
#[derive(Debug, Clone, Copy)]
pub struct Isolines<'a> {
    /// Sampled values, row by row (NaN where missing or outside the grid).
    pub values: &'a [f32],
    /// Image width.
    pub w: usize,
    /// Image height.
    pub h: usize,
    /// Displayed value = native · `scale` + `offset`.
    pub scale: f64,
    /// See `scale`.
    pub offset: f64,
    /// One isoline every `interval` displayed units.
    pub interval: f64,
}

impl Isolines<'_> {
    /// Interval index of every pixel (`None` where missing), in displayed units.
    fn bands(&self) -> Vec<Option<i64>> {
        let (scale, offset, interval) = (self.scale, self.offset, self.interval);
        self.values
            .iter()
            .map(|&v| {
                (!v.is_nan()).then(|| ((f64::from(v) * scale + offset) / interval).floor() as i64)
            })
            .collect()
    }
}

/// Draw the isolines in `color` into an RGBA image of the same size.
pub fn draw_contours(rgba: &mut [u8], lines: &Isolines<'_>, color: Rgba) {
    let (w, h) = (lines.w, lines.h);
    let bands = lines.bands();
    for r in 0..h {
        for c in 0..w {
            let k = r * w + c;
            let Some(b) = bands[k] else { continue };
            let right = if c + 1 < w { bands[k + 1] } else { None };
            let down = if r + 1 < h { bands[k + w] } else { None };
            if right.is_some_and(|x| x != b) || down.is_some_and(|x| x != b) {
                rgba[k * 4..k * 4 + 4].copy_from_slice(&color);
            }
        }
    }
}

/// A label: its text and the top-left corner of its box (text plus a 1-pixel margin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Value of the isoline, formatted.
    pub text: String,
    /// Left of the box.
    pub x: usize,
    /// Top of the box.
    pub y: usize,
    /// Box width.
    pub w: usize,
    /// Box height.
    pub h: usize,
}

impl Label {
    fn overlaps(&self, o: &Label, gap: usize) -> bool {
        self.x < o.x + o.w + gap
            && o.x < self.x + self.w + gap
            && self.y < o.y + o.h + gap
            && o.y < self.y + self.h + gap
    }
}

/// Shortest decimal text of an isoline value (`1012`, `2.5`, `-0.25`).
#[must_use]
pub fn format_value(v: f64) -> String {
    let v = if v == 0.0 { 0.0 } else { v }; // no "-0"
    for digits in 0..=4 {
        let t = format!("{v:.digits$}");
        if (t.parse::<f64>().unwrap_or(f64::NAN) - v).abs() <= 1e-9 * v.abs().max(1.0) {
            return t;
        }
    }
    format!("{v:.4}")
}

/// Where to label the isolines: one candidate per cell of a `spacing`-pixel lattice (every
/// other row shifted by half a cell). In each cell the crossing nearest to the cell's centre
/// along its middle row is taken, if it separates two adjacent intervals (one isoline, not a
/// cliff). Labels lie wholly inside the image and never overlap.
#[must_use]
pub fn place_labels(lines: &Isolines<'_>, spacing: usize) -> Vec<Label> {
    let (w, h, interval) = (lines.w, lines.h, lines.interval);
    let bands = lines.bands();
    let spacing = spacing.max(16);
    let mut out: Vec<Label> = Vec::new();
    let (th, reach) = (5 * LABEL_SCALE + 2, spacing / 3);
    let mut row = 0;
    let mut cy = spacing / 2;
    while cy < h {
        let shift = if row % 2 == 1 { spacing / 2 } else { 0 };
        let mut cx = spacing / 2 + shift;
        while cx < w {
            if let Some((x, value)) = crossing_near(&bands, w, cy, cx, reach) {
                let text = format_value(value * interval);
                let tw = font::text_width(&text, LABEL_SCALE) + 2;
                let (half_w, half_h) = (tw / 2, th / 2);
                if x >= half_w && cy >= half_h && x - half_w + tw <= w && cy - half_h + th <= h {
                    let l = Label {
                        text,
                        x: x - half_w,
                        y: cy - half_h,
                        w: tw,
                        h: th,
                    };
                    if !out.iter().any(|o| o.overlaps(&l, 8)) {
                        out.push(l);
                    }
                }
            }
            cx += spacing;
        }
        cy += spacing;
        row += 1;
    }
    out
}

/// The crossing on row `r` nearest to column `c` (within `reach`): its column and the index
/// of the isoline (the upper of the two intervals).
fn crossing_near(
    bands: &[Option<i64>],
    w: usize,
    r: usize,
    c: usize,
    reach: usize,
) -> Option<(usize, f64)> {
    let at = |x: usize| -> Option<f64> {
        let (a, b) = (bands[r * w + x]?, bands[r * w + x + 1]?);
        ((a - b).abs() == 1).then(|| a.max(b) as f64)
    };
    for d in 0..=reach {
        for x in [c.checked_sub(d), c.checked_add(d)].into_iter().flatten() {
            if x + 1 < w {
                if let Some(v) = at(x) {
                    return Some((x, v));
                }
            }
        }
    }
    None
}

/// Knock the isolines out under each label and write its value in `color`.
pub fn draw_labels(canvas: &mut Canvas<'_>, labels: &[Label], color: Rgba) {
    let (w, h) = (canvas.width, canvas.height);
    for l in labels {
        for y in l.y..(l.y + l.h).min(h) {
            for x in l.x..(l.x + l.w).min(w) {
                canvas.rgba[(y * w + x) * 4..(y * w + x) * 4 + 4].copy_from_slice(&[0, 0, 0, 0]);
            }
        }
        font::draw_text(canvas, l.x + 1, l.y + 1, &l.text, LABEL_SCALE, color);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A field rising by 1 per column: value = column.
    fn ramp(w: usize, h: usize) -> Vec<f32> {
        (0..w * h).map(|k| (k % w) as f32).collect()
    }

    #[test]
    fn values_are_formatted_short() {
        assert_eq!(format_value(1012.0), "1012");
        assert_eq!(format_value(2.5), "2.5");
        assert_eq!(format_value(-0.25), "-0.25");
        assert_eq!(format_value(-0.0), "0");
        assert_eq!(format_value(1.0 / 3.0), "0.3333");
    }

    #[test]
    #[allow(clippy::float_cmp)] // a label's value is an exact multiple of the interval
    fn labels_sit_on_their_isolines_inside_the_image_without_overlap() {
        let (w, h) = (400, 300);
        let v = ramp(w, h);
        // Displayed = native·2 + 1, every 40 displayed units: isolines where 2c + 1 crosses 40k.
        let labels = place_labels(
            &Isolines {
                values: &v,
                w,
                h,
                scale: 2.0,
                offset: 1.0,
                interval: 40.0,
            },
            100,
        );
        assert!(labels.len() >= 4, "{labels:?}");
        for (n, l) in labels.iter().enumerate() {
            assert!(l.x + l.w <= w && l.y + l.h <= h);
            let value: f64 = l.text.parse().unwrap();
            assert_eq!(value % 40.0, 0.0, "{l:?}");
            // The isoline of `value` is at 2c + 1 = value: under the label's centre.
            let centre = (l.x + l.w / 2) as f64;
            assert!((centre - (value - 1.0) / 2.0).abs() <= 1.5, "{l:?}");
            for o in &labels[n + 1..] {
                assert!(!l.overlaps(o, 0), "{l:?} {o:?}");
            }
        }
    }

    #[test]
    fn no_labels_on_flat_missing_or_cliff_fields() {
        let (w, h) = (200, 200);
        assert!(place_labels(
            &Isolines {
                values: &vec![5.0; w * h],
                w,
                h,
                scale: 1.0,
                offset: 0.0,
                interval: 10.0
            },
            64
        )
        .is_empty());
        assert!(place_labels(
            &Isolines {
                values: &vec![f32::NAN; w * h],
                w,
                h,
                scale: 1.0,
                offset: 0.0,
                interval: 10.0
            },
            64
        )
        .is_empty());
        // A jump across three intervals at one column is a cliff, not an isoline to label.
        let cliff: Vec<f32> = (0..w * h)
            .map(|k| if k % w < 100 { 0.0 } else { 35.0 })
            .collect();
        assert!(place_labels(
            &Isolines {
                values: &cliff,
                w,
                h,
                scale: 1.0,
                offset: 0.0,
                interval: 10.0
            },
            64
        )
        .is_empty());
    }

    #[test]
    fn drawing_knocks_out_the_line_and_writes_the_value() {
        let (w, h) = (200, 100);
        let v = ramp(w, h);
        let mut img = vec![0u8; w * h * 4];
        let lines = Isolines {
            values: &v,
            w,
            h,
            scale: 1.0,
            offset: 0.0,
            interval: 50.0,
        };
        draw_contours(&mut img, &lines, [0, 0, 0, 255]);
        let labels = place_labels(&lines, 64);
        assert!(!labels.is_empty());
        draw_labels(&mut Canvas::new(&mut img, w, h), &labels, [200, 0, 0, 255]);
        let l = &labels[0];
        let inside = |x: usize, y: usize| img[(y * w + x) * 4..(y * w + x) * 4 + 4].to_vec();
        // Text pixels in the label colour inside the box, no line pixels left there.
        let mut red = 0;
        for y in l.y..l.y + l.h {
            for x in l.x..l.x + l.w {
                let p = inside(x, y);
                assert!(p == [0, 0, 0, 0] || p == [200, 0, 0, 255], "{p:?}");
                red += usize::from(p[3] == 255);
            }
        }
        assert!(red > 10);
    }
}
