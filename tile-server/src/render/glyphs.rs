//! Wind arrows and barbs drawn on an RGBA image.

use super::canvas::Canvas;
use super::color::Rgba;

/// Put one pixel at signed coordinates (glyph geometry may fall left of or above the image).
fn put(canvas: &mut Canvas<'_>, x: i64, y: i64, c: Rgba) {
    if x >= 0 && y >= 0 {
        canvas.put(x as usize, y as usize, c);
    }
}

/// A line (Bresenham).
pub fn line(canvas: &mut Canvas<'_>, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: Rgba) {
    let (mut x, mut y) = (x0.round() as i64, y0.round() as i64);
    let (xe, ye) = (x1.round() as i64, y1.round() as i64);
    let (dx, dy) = ((xe - x).abs(), -(ye - y).abs());
    let (sx, sy) = (if x < xe { 1 } else { -1 }, if y < ye { 1 } else { -1 });
    let mut err = dx + dy;
    for _ in 0..4096 {
        put(canvas, x, y, c);
        if x == xe && y == ye {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x += sx;
        }
        if e2 <= dx {
            err += dx;
            y += sy;
        }
    }
}

/// An arrow centred at (cx, cy) pointing where the wind blows to. `east`, `north` are the
/// true-north wind components; `len` the arrow length in pixels.
pub fn arrow(
    canvas: &mut Canvas<'_>,
    (cx, cy): (f64, f64),
    (east, north): (f64, f64),
    len: f64,
    c: Rgba,
) {
    let s = east.hypot(north);
    if s < 1e-6 || !s.is_finite() {
        return;
    }
    // Screen y grows downwards.
    let (ux, uy) = (east / s, -north / s);
    let tip = (cx + ux * len / 2.0, cy + uy * len / 2.0);
    let tail = (cx - ux * len / 2.0, cy - uy * len / 2.0);
    line(canvas, tail, tip, c);
    let head = len * 0.3;
    for side in [-1.0, 1.0] {
        let (ax, ay) = (-ux * 0.866 - side * uy * 0.5, -uy * 0.866 + side * ux * 0.5);
        line(canvas, tip, (tip.0 + ax * head, tip.1 + ay * head), c);
    }
}

/// A wind barb at (cx, cy): the staff points into the wind (where it blows from); flags are
/// 50 kt, full barbs 10 kt, half barbs 5 kt, on the left of the staff (northern-hemisphere
/// convention). `east`, `north` in knots.
pub fn barb(
    canvas: &mut Canvas<'_>,
    (cx, cy): (f64, f64),
    (east, north): (f64, f64),
    len: f64,
    c: Rgba,
) {
    let speed = east.hypot(north);
    if !speed.is_finite() {
        return;
    }
    if speed < 2.5 {
        // Calm: a small circle.
        for k in 0..16 {
            let a = f64::from(k) * std::f64::consts::PI / 8.0;
            put(
                canvas,
                (cx + 3.0 * a.cos()).round() as i64,
                (cy + 3.0 * a.sin()).round() as i64,
                c,
            );
        }
        return;
    }
    // Direction towards where the wind comes from, on screen.
    let (ux, uy) = (-east / speed, north / speed);
    let end = (cx + ux * len, cy + uy * len);
    line(canvas, (cx, cy), end, c);
    // Perpendicular, to the left of the staff as seen from the station.
    let (px, py) = (-uy, ux);
    let feather = len * 0.45;
    let step = len * 0.14;
    let mut left = ((speed + 2.5) / 5.0).floor() as i64 * 5;
    let mut pos = 0.0;
    while left >= 50 {
        let a = (end.0 - ux * pos, end.1 - uy * pos);
        let b = (
            end.0 - ux * (pos + step * 1.5),
            end.1 - uy * (pos + step * 1.5),
        );
        let tip = (a.0 + px * feather, a.1 + py * feather);
        line(canvas, a, tip, c);
        line(canvas, tip, b, c);
        line(canvas, a, b, c);
        pos += step * 2.0;
        left -= 50;
    }
    while left >= 10 {
        let a = (end.0 - ux * pos, end.1 - uy * pos);
        line(
            canvas,
            a,
            (
                a.0 + px * feather + ux * step,
                a.1 + py * feather + uy * step,
            ),
            c,
        );
        pos += step;
        left -= 10;
    }
    if left >= 5 {
        if pos == 0.0 {
            pos = step;
        }
        let a = (end.0 - ux * pos, end.1 - uy * pos);
        line(
            canvas,
            a,
            (
                a.0 + px * feather * 0.5 + ux * step * 0.5,
                a.1 + py * feather * 0.5 + uy * step * 0.5,
            ),
            c,
        );
    }
}
