//! Observations on a map, free of HTTP: which locations an image can show (the R*-tree
//! queried over the image's geographic box plus the point radius; for Web Mercator images,
//! the same locations from the tile order of [`super::tile_order`]), where each falls in the
//! image, filled circles coloured through the same [`ColorMap`] as fields, the nearest
//! observations to a pixel (`GetFeatureInfo`) and summary statistics.

use std::f64::consts::PI;

use grids::crs::CrsTransform;

use super::index::{Filter, ObsIndex, QcFilter};
use super::tile_order::{cells_of, flag, key_of, quantity_bit, Run, TileOrder};
use super::Quantity;
use crate::render::color::ColorMap;
use crate::render::epsg_transform;
use crate::render::proj_pool::Direction;
use crate::render::{
    pixel_lon_lat, to_web_mercator, web_mercator_lat, OutputCrs, RenderError, WEB_MERCATOR_R,
};

/// Largest point radius any request may ask for, pixels (the configured bound is at most
/// this).
pub const MAX_RADIUS: u32 = 32;

/// Half the circumference of the EPSG:3857 sphere: a longitude shift of 360° in metres.
const HALF_WORLD: f64 = PI * WEB_MERCATOR_R;

/// What an image of observations shows.
#[derive(Debug, Clone, Copy)]
pub struct PointMap<'a> {
    /// The layer's index.
    pub index: &'a ObsIndex,
    /// The quantity drawn.
    pub quantity: Quantity,
    /// Time window and QC (its bbox is not used: the image's is).
    pub filter: Filter,
    /// Output CRS.
    pub crs: OutputCrs,
    /// Bounds in `crs` (x east, y north).
    pub bbox: [f64; 4],
    /// Width, pixels.
    pub width: usize,
    /// Height, pixels.
    pub height: usize,
    /// Circle radius, pixels (0: one pixel).
    pub radius: u32,
    /// Threads a drawing may use: 1, or 2 when the server renders nothing else (as fields
    /// do): an image over at least [`SPLIT_LOCATIONS`] located observations in Web Mercator
    /// is then scanned in two halves at once.
    pub threads: usize,
}

/// Fewest located observations worth a second thread (a thread costs some 50 µs to start).
pub const SPLIT_LOCATIONS: usize = 100_000;

/// A geographic box to query and the longitude shift (a multiple of 360°) that brings its
/// locations into the image.
type GeoBox = ([f64; 4], f64);

/// The geographic boxes whose locations may land inside `bbox` (in `crs`), each in
/// [-180, 180] with its shift: an image over the antimeridian or wider than the world
/// queries two or three.
pub fn geo_boxes(crs: OutputCrs, bbox: [f64; 4]) -> Result<Vec<GeoBox>, RenderError> {
    let (west, south, east, north) = match crs {
        OutputCrs::LonLat => (bbox[0], bbox[1], bbox[2], bbox[3]),
        OutputCrs::WebMercator => (
            bbox[0] / WEB_MERCATOR_R * 180.0 / PI,
            web_mercator_lat(bbox[1]),
            bbox[2] / WEB_MERCATOR_R * 180.0 / PI,
            web_mercator_lat(bbox[3]),
        ),
        OutputCrs::Epsg(_) => {
            // Not a corner computation: the box of a 33×33 lattice over the image, widened by
            // two lattice cells; the whole world where PROJ fails on part of the image.
            let (lon, lat) = pixel_lon_lat(crs, bbox, 33, 33)?;
            let finite = lon.iter().chain(&lat).all(|v| v.is_finite());
            let span = |v: &[f64]| {
                v.iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                        (a.min(*x), b.max(*x))
                    })
            };
            let ((w, e), (s, n)) = (span(&lon), span(&lat));
            if !finite || e - w > 180.0 {
                return Ok(vec![([-180.0, -90.0, 180.0, 90.0], 0.0)]);
            }
            let (dx, dy) = ((e - w) / 16.0, (n - s) / 16.0);
            (w - dx, s - dy, e + dx, n + dy)
        }
    };
    let (south, north) = (south.max(-90.0), north.min(90.0));
    if !(west.is_finite() && east.is_finite() && south <= north) {
        return Ok(Vec::new());
    }
    let mut boxes = Vec::new();
    for k in -2..=2 {
        let shift = f64::from(k) * 360.0;
        let (w, e) = ((west - shift).max(-180.0), (east - shift).min(180.0));
        // Not a sliver from rounding (Web Mercator's ±20037508.34 m is 180° ± 1 ulp).
        if e - w > 1e-9 {
            boxes.push(([w, south, e, north], shift));
        }
    }
    Ok(boxes)
}

/// Where location `i` (shifted by `shift` degrees of longitude) falls in `crs` (`forward`:
/// the transformation from geographic coordinates of an EPSG code).
fn project(
    index: &ObsIndex,
    crs: OutputCrs,
    forward: Option<&CrsTransform>,
    i: usize,
    shift: f64,
) -> Option<(f64, f64)> {
    match crs {
        OutputCrs::LonLat => index.position(i).map(|(x, y)| (x + shift, y)),
        OutputCrs::WebMercator => index
            .mercator(i)
            .map(|[x, y]| (x + shift / 180.0 * HALF_WORLD, y)),
        OutputCrs::Epsg(_) => {
            let (x, y) = index.position(i)?;
            let (mut x, mut y) = ([x], [y]);
            forward?.convert(&mut x, &mut y);
            (x[0].is_finite() && y[0].is_finite()).then_some((x[0], y[0]))
        }
    }
}

/// How [`candidates`] finds the locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Web Mercator images scan the tile order ([`scan_tile_order`]), others go through
    /// [`scan_geographic`].
    Fast,
    /// Every image through [`scan_geographic`]: the reference the fast scan must equal.
    #[cfg(test)]
    Reference,
}

/// Where [`candidates`] found a location.
#[derive(Debug, Clone, Copy, PartialEq)]
enum At {
    /// x and y in the image's CRS (shifted by whole worlds into the image).
    Xy(f64, f64),
    /// Web Mercator only, when asked for: the location's Z-order key (its cell of the tile
    /// order's sorting grid, see [`CellGrid`]) and the world copy it is drawn in (−1 one
    /// world west, 1 one east).
    Cell(u32, i32),
}

/// Calls `found(index, at)` for each location an image may show, with where it falls:
/// those inside the image plus a margin of `margin` pixels, passing `map.filter`'s time
/// window and QC, with a value of the quantity. `cells` (Web Mercator images only) asks for
/// [`At::Cell`], else [`At::Xy`]. Nothing is collected: a tile of a million observations
/// allocates nothing per observation. A location may be found more than once (an image
/// wider than the world), in no particular order.
fn candidates(
    map: &PointMap<'_>,
    margin: f64,
    scan: Scan,
    share: Share,
    cells: bool,
    found: impl FnMut(u32, At),
) -> Result<(), RenderError> {
    let b = map.bbox;
    let dx = (b[2] - b[0]) / map.width as f64;
    let dy = (b[3] - b[1]) / map.height as f64;
    let wide = [
        b[0] - margin * dx,
        b[1] - margin * dy,
        b[2] + margin * dx,
        b[3] + margin * dy,
    ];
    match (map.crs, scan) {
        (OutputCrs::WebMercator, Scan::Fast) => scan_tile_order(map, wide, share, cells, found),
        // Not split: the first share is everything.
        _ if share.part > 0 => Ok(()),
        _ => scan_geographic(map, wide, cells && map.crs == OutputCrs::WebMercator, found),
    }
}

/// Part `part` of `parts` equal parts of a scan (of the tile order's runs, end to end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Share {
    part: usize,
    parts: usize,
}

/// The whole scan.
const WHOLE: Share = Share { part: 0, parts: 1 };

/// [`candidates`] of any CRS, through the geographic boxes of `wide` (the image and its
/// margin): the R*-tree (or a pass over the arrays) per box, then the location's time, QC
/// and value, then its projection into `wide`. The definition of what an image shows.
fn scan_geographic(
    map: &PointMap<'_>,
    wide: [f64; 4],
    cells: bool,
    mut found: impl FnMut(u32, At),
) -> Result<(), RenderError> {
    // One PROJ transformation for the whole image (EPSG codes other than 3857 and 4326).
    let forward = match map.crs {
        OutputCrs::Epsg(code) => Some(epsg_transform(code, Direction::FromGeographic)?),
        _ => None,
    };
    for (geo, shift) in geo_boxes(map.crs, wide)? {
        let mut keep = |i: usize| {
            if !map.index.keeps(i, &map.filter) || !map.index.quantity(map.quantity, i).is_finite()
            {
                return;
            }
            if let Some((x, y)) = project(map.index, map.crs, forward.as_deref(), i, shift) {
                if x >= wide[0] && x <= wide[2] && y >= wide[1] && y <= wide[3] {
                    let at = match map.index.mercator(i) {
                        // The key the tile order stores, from the same projection.
                        Some([mx, my]) if cells => At::Cell(key_of(mx, my), world_copy(shift)),
                        _ => At::Xy(x, y),
                    };
                    found(i as u32, at);
                }
            }
        };
        map.index.visit_box(geo, &mut keep);
    }
    Ok(())
}

/// Metres of Web Mercator y within which the rounding of `to_web_mercator`'s tan and ln may
/// not be monotone in latitude: ten thousand times the worst (~1e-8 m near the poles).
const Y_SLACK: f64 = 1e-4;

/// [`scan_geographic`] of a Web Mercator image, finding the same locations with the same
/// (x, y) from the tile order: per geographic box, the runs of the order whose cells
/// meet it, scanned with the filters as a mask over the flags and the geographic test
/// replaced by one on the stored x and y. That replacement is exact: x is monotone in
/// longitude (`R · lon.to_radians()`, both roundings monotone) and y in latitude up to
/// [`Y_SLACK`], so a location strictly inside the box's bounds projected (x, and y by more
/// than the slack) is inside the box, one outside the bounds widened by the slack is
/// outside, and the few between (on an edge, or beyond ±85.05° where y is clamped) take
/// the geographic test itself.
fn scan_tile_order(
    map: &PointMap<'_>,
    wide: [f64; 4],
    share: Share,
    cells: bool,
    mut found: impl FnMut(u32, At),
) -> Result<(), RenderError> {
    let (order, flags) = map.index.tile_order();
    let f = &map.filter;
    let window = f.start.is_some() || f.end.is_some();
    let (start, end) = (f.start.unwrap_or(i64::MIN), f.end.unwrap_or(i64::MAX));
    let (need, largest_flag) = needed_flags(map.quantity, f.qc, window);
    let flag_ok = |i: u32| largest_flag.is_none_or(|n| map.index.flag_at_most(i as usize, n));
    let boxes = tile_order_runs(map, order, wide)?;
    // This share's locations: [from, to) of the runs end to end.
    let total: usize = boxes
        .iter()
        .flat_map(|b| &b.2)
        .map(|r| r.end - r.start)
        .sum();
    let parts = share.parts.max(1);
    let (from, to) = (total * share.part / parts, total * (share.part + 1) / parts);
    let mut passed = 0;
    for (geo, shift, runs) in boxes {
        let shift_m = shift / 180.0 * HALF_WORLD;
        let copy = world_copy(shift);
        let (gx0, gy0) = to_web_mercator(geo[0], geo[1]);
        let (gx1, gy1) = to_web_mercator(geo[2], geo[3]);
        for run in runs {
            let (a, z) = (run.start, run.end);
            // The part of the run in [from, to).
            let (start_at, len) = (passed, z - a);
            passed += len;
            let (a, z) = (
                a + from.saturating_sub(start_at).min(len),
                a + to.saturating_sub(start_at).min(len),
            );
            if a >= z {
                continue;
            }
            let (xs, ys, keys) = (&order.x[a..z], &order.y[a..z], &order.key[a..z]);
            let (fs, ts, ids) = (&flags[a..z], &order.time[a..z], &order.index[a..z]);
            if run.interior {
                let kept = |k: usize| {
                    fs[k] & need == need
                        && (!window || (ts[k] >= start && ts[k] <= end))
                        && flag_ok(ids[k])
                };
                // Two loops, so that the cell one reads neither x nor y.
                if cells {
                    for k in 0..keys.len() {
                        if kept(k) {
                            found(ids[k], At::Cell(keys[k], copy));
                        }
                    }
                } else {
                    for k in 0..xs.len() {
                        if kept(k) {
                            found(ids[k], At::Xy(xs[k] + shift_m, ys[k]));
                        }
                    }
                }
                continue;
            }
            for k in 0..xs.len() {
                if fs[k] & need != need
                    || (window && !(ts[k] >= start && ts[k] <= end))
                    || !flag_ok(ids[k])
                {
                    continue;
                }
                let (x, y) = (xs[k], ys[k]);
                let sx = x + shift_m;
                if !(sx >= wide[0] && sx <= wide[2] && y >= wide[1] && y <= wide[3]) {
                    continue;
                }
                if !(x > gx0 && x < gx1 && y > gy0 + Y_SLACK && y < gy1 - Y_SLACK) {
                    if x < gx0 || x > gx1 || y < gy0 - Y_SLACK || y > gy1 + Y_SLACK {
                        continue;
                    }
                    // On an edge: the geographic test.
                    match map.index.position(ids[k] as usize) {
                        Some((lon, lat))
                            if lon >= geo[0] && lon <= geo[2] && lat >= geo[1] && lat <= geo[3] => {
                        }
                        _ => continue,
                    }
                }
                found(
                    ids[k],
                    if cells {
                        At::Cell(keys[k], copy)
                    } else {
                        At::Xy(sx, y)
                    },
                );
            }
        }
    }
    Ok(())
}

/// The [`flag`] bits a location needs to be drawn, and the largest QC flag to check per
/// location where the filter is not a precomputed bit (the default's is).
fn needed_flags(quantity: Quantity, qc: QcFilter, window: bool) -> (u8, Option<i64>) {
    let mut need = quantity_bit(quantity);
    if window {
        need |= flag::HAS_TIME;
    }
    let largest_flag = match qc {
        QcFilter::All => None,
        QcFilter::Passed => {
            need |= flag::QC_OK;
            None
        }
        QcFilter::AtMost(n) => {
            need |= quantity_bit(Quantity::ObsValue);
            Some(n)
        }
    };
    (need, largest_flag)
}

/// The geographic boxes of `wide` (one per world copy, with its longitude shift) and the
/// runs of the tile order each one meets.
#[allow(clippy::type_complexity)]
fn tile_order_runs(
    map: &PointMap<'_>,
    order: &TileOrder,
    wide: [f64; 4],
) -> Result<Vec<([f64; 4], f64, Vec<Run>)>, RenderError> {
    Ok(geo_boxes(map.crs, wide)?
        .into_iter()
        .map(|(geo, shift)| {
            // The box's bounds projected as the locations were.
            let (gx0, gy0) = to_web_mercator(geo[0], geo[1]);
            let (gx1, gy1) = to_web_mercator(geo[2], geo[3]);
            let shift_m = shift / 180.0 * HALF_WORLD;
            // Where every test below passes, a metre in from each bound (rounding moves
            // these sums by nanometres): the runs wholly inside skip the tests.
            let inner = [
                gx0.max(wide[0] - shift_m) + 1.0,
                (gy0 + Y_SLACK).max(wide[1]) + 1.0,
                gx1.min(wide[2] - shift_m) - 1.0,
                (gy1 - Y_SLACK).min(wide[3]) - 1.0,
            ];
            let runs = order.runs(
                [
                    gx0,
                    (gy0 - Y_SLACK).max(wide[1]),
                    gx1,
                    (gy1 + Y_SLACK).min(wide[3]),
                ],
                inner,
            );
            (geo, shift, runs)
        })
        .collect())
}

/// The world copy of a longitude shift (a multiple of 360°).
fn world_copy(shift: f64) -> i32 {
    (shift / 360.0).round() as i32
}

/// A Web Mercator image whose pixels are blocks of the tile order's sorting cells (2¹⁶ a
/// side over the world): the XYZ tiles of zoom ≤ 8 (256 pixels), and any image of a
/// power-of-two number of pixels per world aligned on them. There a location's pixel comes
/// from its Z-order key in integers, without reading its x and y. It is the pixel the
/// division by the pixel size gives, but for a location within rounding of a pixel edge,
/// which either side may take: both scans draw through this same function, so the images
/// still agree bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CellGrid {
    /// Cells per pixel side: 2^`shift`.
    shift: u32,
    /// Pixels per world side.
    world: i64,
    /// Global pixel column and row (from the north) of the image's top-left pixel.
    col0: i64,
    row0: i64,
}

impl CellGrid {
    fn of(b: [f64; 4], width: usize, height: usize) -> Option<Self> {
        let side = 2.0 * HALF_WORLD;
        let (px, py) = (
            width as f64 * side / (b[2] - b[0]),
            height as f64 * side / (b[3] - b[1]),
        );
        let n = px.log2().round();
        if !(0.0..=16.0).contains(&n) {
            return None;
        }
        let world = n.exp2();
        let (col0, row0) = (
            (b[0] + HALF_WORLD) / side * world,
            (HALF_WORLD - b[3]) / side * world,
        );
        // Aligned to a millionth of a pixel: tile bounds computed in floating point.
        let aligned = |v: f64| (v - v.round()).abs() <= 1e-6;
        if (px - world).abs() > 1e-9 * world
            || (py - world).abs() > 1e-9 * world
            || !aligned(col0)
            || !aligned(row0)
        {
            return None;
        }
        Some(Self {
            shift: 16 - n as u32,
            world: world as i64,
            col0: col0.round() as i64,
            row0: row0.round() as i64,
        })
    }

    /// (column, row) in the image of the location with Z-order `key`, drawn in world copy
    /// `copy`.
    #[inline]
    fn pixel(self, key: u32, copy: i32) -> (i64, i64) {
        let (cx, cy) = cells_of(key);
        (
            i64::from(cx >> self.shift) + i64::from(copy) * self.world - self.col0,
            self.world - 1 - i64::from(cy >> self.shift) - self.row0,
        )
    }
}

/// The row half-widths of a filled circle of radius `r` pixels: pixel (dx, dy) is inside
/// when dx² + dy² ≤ r² + r/2 (rounder than ≤ r² at small radii, and not the square ≤ r² + r
/// gives at radius 1).
fn disc(r: u32) -> Vec<(i64, i64)> {
    let r = i64::from(r);
    (-r..=r)
        .map(|dy| {
            let mut half = 0;
            while 2 * ((half + 1) * (half + 1) + dy * dy) <= 2 * r * r + r {
                half += 1;
            }
            (dy, half)
        })
        .collect()
}

/// Peak bytes per output pixel of drawing points: the RGBA image, the winner of each pixel
/// (u32; two when the scan is split over two threads), and the PNG encoder's copy and
/// output.
pub const BYTES_PER_PIXEL: u64 = 24;

/// RGBA of the observations of `map`: a filled circle per observation, coloured by `cm`
/// from the quantity's value; transparent elsewhere. Where circles overlap, the observation
/// of higher index (later in the file) is on top; circles are centred on the pixel that
/// holds their observation, so the observations of one pixel draw one circle (the top one):
/// a million observations cost a million lookups and at most one circle per pixel.
pub fn draw_points(map: &PointMap<'_>, cm: &ColorMap) -> Result<Vec<u8>, RenderError> {
    draw(map, cm, Scan::Fast)
}

fn draw(map: &PointMap<'_>, cm: &ColorMap, scan: Scan) -> Result<Vec<u8>, RenderError> {
    let (w, h) = (map.width, map.height);
    let mut rgba = vec![0u8; w * h * 4];
    if w == 0 || h == 0 {
        return Ok(rgba);
    }
    let r = map.radius.min(MAX_RADIUS);
    let m = i64::from(r);
    // The winner (index + 1; 0: none) of each pixel of the image extended by the radius.
    let (ew, eh) = (w as i64 + 2 * m, h as i64 + 2 * m);
    let b = map.bbox;
    let dx = (b[2] - b[0]) / w as f64;
    let dy = (b[3] - b[1]) / h as f64;
    let (col_of, row_of) = (FloorDiv::new(dx), FloorDiv::new(dy));
    let grid = (map.crs == OutputCrs::WebMercator)
        .then(|| CellGrid::of(b, w, h))
        .flatten();
    let winners = |share: Share| -> Result<Vec<u32>, RenderError> {
        let mut winner = vec![0u32; (ew * eh) as usize];
        // The last location's pixel: a station's reports (one location, several times) come
        // one after another in the tile order, and take it again.
        let mut last = (At::Xy(f64::NAN, f64::NAN), 0, 0);
        candidates(
            map,
            f64::from(r) + 1.0,
            scan,
            share,
            grid.is_some(),
            |i, at| {
                let (col, row) = if at == last.0 {
                    (last.1, last.2)
                } else {
                    let (col, row) = match (at, grid) {
                        (At::Cell(key, copy), Some(g)) => g.pixel(key, copy),
                        // ⌊(x − x0) / dx⌋ and ⌊(y1 − y) / dy⌋, the pixel holding the location.
                        (At::Xy(x, y), _) => (col_of.floor(x - b[0]), row_of.floor(b[3] - y)),
                        // Never: cells are asked for only with a grid.
                        (At::Cell(..), None) => return,
                    };
                    last = (at, col + m, row + m);
                    (col + m, row + m)
                };
                if col >= 0 && row >= 0 && col < ew && row < eh {
                    let slot = &mut winner[(row * ew + col) as usize];
                    *slot = (*slot).max(i + 1);
                }
            },
        )?;
        Ok(winner)
    };
    // The winner of a pixel is the largest index found there, whatever the order: two
    // halves scanned at once, merged, give the same winners.
    let split = map.threads > 1
        && map.crs == OutputCrs::WebMercator
        && map.index.len() >= SPLIT_LOCATIONS
        && scan == Scan::Fast;
    let winner = if split {
        let (first, second) = std::thread::scope(|s| {
            let t = s.spawn(|| winners(Share { part: 1, parts: 2 }));
            let first = winners(Share { part: 0, parts: 2 });
            (first, t.join())
        });
        // A panic of the second half is one of this thread (the render task's to report).
        let second = second.unwrap_or_else(|p| std::panic::resume_unwind(p))?;
        let mut winner = first?;
        for (a, b) in winner.iter_mut().zip(second) {
            *a = (*a).max(b);
        }
        winner
    } else {
        winners(WHOLE)?
    };
    // (index, slot) packed in a u64: sorting by it is sorting by index.
    let mut tops: Vec<u64> = winner
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| (u64::from(*v - 1) << 32) | k as u64)
        .collect();
    drop(winner);
    tops.sort_unstable();
    let spans = disc(r);
    for top in tops {
        let (i, k) = ((top >> 32) as usize, (top & 0xffff_ffff) as i64);
        let (col, row) = (k % ew - m, k / ew - m);
        let v = map.index.quantity(map.quantity, i);
        let c = cm.color(v as f32);
        for (ddy, half) in &spans {
            let y = row + ddy;
            if y < 0 || y >= h as i64 {
                continue;
            }
            let (x0, x1) = ((col - half).max(0), (col + half).min(w as i64 - 1));
            if x0 > x1 {
                continue;
            }
            let at = y as usize * w;
            let span = &mut rgba[(at + x0 as usize) * 4..(at + x1 as usize + 1) * 4];
            for pixel in span.chunks_exact_mut(4) {
                pixel.copy_from_slice(&c);
            }
        }
    }
    Ok(rgba)
}

/// `(t / d).floor() as i64` for many `t` and one `d`, bit for bit, mostly without the
/// division: `t · (1/d)` is within 4e-16 relative of the rounded quotient, so where its
/// fractional part is not within 1e-6 of an integer (and it is in [0, 2²⁰): an error below
/// 4e-10) both have the same floor; elsewhere (one location in a few hundred thousand, the
/// margin left of and above the image, NaN, infinities, huge quotients) the division
/// itself.
#[derive(Debug, Clone, Copy)]
struct FloorDiv {
    d: f64,
    inv: f64,
}

impl FloorDiv {
    fn new(d: f64) -> Self {
        Self { d, inv: 1.0 / d }
    }

    #[inline]
    fn floor(self, t: f64) -> i64 {
        let q = t * self.inv;
        // The image and its margin: q ≥ 0 but for the margin left and above.
        if (0.0..1_048_576.0).contains(&q) {
            // floor(q): truncation, exact at this magnitude.
            let f = q as i64;
            let frac = q - f as f64;
            if frac > 1e-6 && frac < 1.0 - 1e-6 {
                return f;
            }
        }
        floor_i64(t / self.d)
    }
}

/// `v.floor() as i64` without the libm call `floor` is on x86-64 before SSE4.1: truncation
/// (saturating, NaN to 0, as `as` does), one less where it rounded up.
#[inline]
fn floor_i64(v: f64) -> i64 {
    let t = v as i64;
    if (t as f64) > v {
        t.saturating_sub(1)
    } else {
        t
    }
}

/// The observations nearest to pixel (`i`, `j`) of `map`'s image, within `tolerance`
/// pixels of it: (index, distance in pixels), nearest first (ties by index), at most `count`.
pub fn nearest(
    map: &PointMap<'_>,
    i: u32,
    j: u32,
    tolerance: f64,
    count: usize,
) -> Result<Vec<(u32, f64)>, RenderError> {
    nearest_via(map, i, j, tolerance, count, Scan::Fast)
}

fn nearest_via(
    map: &PointMap<'_>,
    i: u32,
    j: u32,
    tolerance: f64,
    count: usize,
    scan: Scan,
) -> Result<Vec<(u32, f64)>, RenderError> {
    let b = map.bbox;
    let dx = (b[2] - b[0]) / map.width as f64;
    let dy = (b[3] - b[1]) / map.height as f64;
    let cx = b[0] + (f64::from(i) + 0.5) * dx;
    let cy = b[3] - (f64::from(j) + 0.5) * dy;
    // The image around the click, one pixel: its margin is the tolerance.
    let around = PointMap {
        bbox: [cx - 0.5 * dx, cy - 0.5 * dy, cx + 0.5 * dx, cy + 0.5 * dy],
        width: 1,
        height: 1,
        ..*map
    };
    let mut hits: Vec<(u32, f64)> = Vec::new();
    candidates(
        &around,
        tolerance.ceil() + 1.0,
        scan,
        WHOLE,
        false,
        |k, at| {
            if let At::Xy(x, y) = at {
                let d = ((x - cx) / dx).hypot((y - cy) / dy);
                if d <= tolerance {
                    hits.push((k, d));
                }
            }
        },
    )?;
    hits.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    hits.dedup_by_key(|h| h.0);
    hits.truncate(count);
    Ok(hits)
}

/// Summary statistics of a quantity over a selection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Observations with a value.
    pub count: usize,
    /// Mean (the bias, for departures).
    pub mean: Option<f64>,
    /// Standard deviation (population: over the observations, not an estimate).
    pub std: Option<f64>,
    /// Root mean square.
    pub rms: Option<f64>,
    /// Smallest value.
    pub min: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
}

/// Statistics of `quantity` over the locations of `index` that `filter` keeps (its bbox,
/// time window and QC). Two passes (the mean, then the deviations from it), so the standard
/// deviation of values far from zero (temperatures in K) loses nothing to cancellation.
#[must_use]
pub fn stats(index: &ObsIndex, quantity: Quantity, filter: &Filter) -> Stats {
    let (selected, _) = index.query(filter, usize::MAX);
    let values: Vec<f64> = selected
        .iter()
        .map(|i| index.quantity(quantity, *i as usize))
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        return Stats {
            count: 0,
            mean: None,
            std: None,
            rms: None,
            min: None,
            max: None,
        };
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let mean_square = values.iter().map(|v| v * v).sum::<f64>() / n;
    Stats {
        count: values.len(),
        mean: Some(mean),
        std: Some(variance.sqrt()),
        rms: Some(mean_square.sqrt()),
        min: values.iter().copied().reduce(f64::min),
        max: values.iter().copied().reduce(f64::max),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use fst_testkit::numbers::Numbers;

    use super::*;
    use crate::obs::index::Columns;
    use crate::obs::model::{Dropped, ModelEquivalents};
    use crate::render::tile_bbox;

    /// Observations that exercise every test of the scan: random over the globe, clusters
    /// (several per pixel), locations on tile edges and on the antimeridian, beyond ±85.05°
    /// and at the poles, without coordinates; times missing or spread over six hours;
    /// values, HofX, errors and model equivalents with fill values; QC flags 0, 1 and
    /// missing (or no QC flags at all).
    fn generated(n: usize, seed: u64, with_qc: bool) -> ObsIndex {
        let mut r = Numbers::new(seed);
        let edges_lat: Vec<f64> = (0..=8)
            .map(|k| web_mercator_lat(-HALF_WORLD + f64::from(k) * HALF_WORLD / 4.0))
            .collect();
        let mut c = Columns {
            lon: Vec::new(),
            lat: Vec::new(),
            time: Vec::new(),
            value: Vec::new(),
            hofx: Some(Vec::new()),
            error: Some(Vec::new()),
            qc: with_qc.then(Vec::new),
            station: None,
        };
        for _ in 0..n {
            let (lon, lat) = match r.below(12) {
                0 => (
                    -180.0 + 45.0 * r.below(9) as f64,
                    edges_lat[r.below(9) as usize].clamp(-90.0, 90.0),
                ),
                1 => (
                    [-180.0, 180.0, 179.999_999, -179.999_999][r.below(4) as usize],
                    -80.0 + 160.0 * r.unit(),
                ),
                2 => (
                    -180.0 + 360.0 * r.unit(),
                    [90.0, -90.0, 85.06, -85.06, 85.051_128_78, 89.0][r.below(6) as usize],
                ),
                3 => match r.below(3) {
                    0 => (f64::NAN, 10.0),
                    1 => (10.0, f64::NAN),
                    _ => (f64::INFINITY, 10.0),
                },
                4..=6 => (-100.0 + 0.05 * r.unit(), 40.0 + 0.05 * r.unit()),
                _ => (-180.0 + 360.0 * r.unit(), -90.0 + 180.0 * r.unit()),
            };
            c.lon.push(lon);
            c.lat.push(lat);
            c.time
                .push((r.below(10) > 0).then(|| 1_700_000_000 + r.below(21_600) as i64));
            let v = 200.0 + 120.0 * r.unit();
            c.value.push(if r.below(10) == 0 { f64::NAN } else { v });
            let h = v + 10.0 * r.unit() - 5.0;
            if let Some(hofx) = c.hofx.as_mut() {
                hofx.push(if r.below(8) == 0 { f64::NAN } else { h });
            }
            if let Some(e) = c.error.as_mut() {
                e.push(if r.below(8) == 0 {
                    f64::NAN
                } else {
                    0.5 + r.unit()
                });
            }
            if let Some(q) = c.qc.as_mut() {
                q.push(match r.below(6) {
                    0 => None,
                    // -1, 1, 3 or 5: on both sides of the largest flags the tests keep.
                    1 => Some(r.below(4) as i64 * 2 - 1),
                    _ => Some(0),
                });
            }
        }
        let base = ObsIndex::from_columns("ObsValue/airTemperature".into(), None, c);
        let values = (0..n)
            .map(|i| {
                let v = base.quantity(Quantity::ObsValue, i) + 4.0 * r.unit() - 2.0;
                if r.below(7) == 0 {
                    f64::NAN
                } else {
                    v
                }
            })
            .collect();
        base.with_model(Arc::new(ModelEquivalents {
            values,
            dropped: Dropped::default(),
            field: "TT".into(),
        }))
    }

    /// A colour per 1/8192 of the quantity's span: nearly every observation its own colour,
    /// so that a different winner of a pixel shows.
    fn fine_colors(index: &ObsIndex, quantity: Quantity) -> ColorMap {
        let (lo, hi) = (0..index.locations())
            .map(|i| index.quantity(quantity, i))
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        ColorMap {
            scale: 1.0,
            offset: 0.0,
            min: lo,
            max: hi,
            log: false,
            lut: (0..8192u32)
                .map(|k| [(k & 0xff) as u8, (k >> 8) as u8 * 8, 200, 255])
                .collect(),
            intervals: Vec::new(),
            below: [1, 2, 3, 255],
            above: [4, 5, 6, 255],
            nodata: [7, 8, 9, 255],
            opacity: 255,
        }
    }

    fn found(map: &PointMap<'_>, margin: f64, scan: Scan, cells: bool) -> Vec<(u32, u64, u64)> {
        let mut all = Vec::new();
        candidates(map, margin, scan, WHOLE, cells, |i, at| match at {
            At::Xy(x, y) => all.push((i, x.to_bits(), y.to_bits())),
            At::Cell(key, copy) => all.push((i, u64::from(key), copy as u64)),
        })
        .unwrap();
        all.sort_unstable();
        all.dedup();
        all
    }

    #[test]
    #[allow(clippy::too_many_lines)] // one table of cases, compared case by case
    fn the_tile_order_scan_draws_what_the_geographic_scan_draws() {
        let quantities = [
            Quantity::ObsValue,
            Quantity::ObsError,
            Quantity::HofX,
            Quantity::OmB,
            Quantity::OmF,
        ];
        let filters = [
            Filter::default(),
            Filter {
                qc: QcFilter::All,
                ..Filter::default()
            },
            Filter {
                qc: QcFilter::AtMost(2),
                ..Filter::default()
            },
            Filter {
                start: Some(1_700_003_600),
                end: Some(1_700_010_800),
                ..Filter::default()
            },
            Filter {
                start: Some(1_700_018_000),
                qc: QcFilter::All,
                ..Filter::default()
            },
            Filter {
                end: Some(1_700_001_000),
                ..Filter::default()
            },
        ];
        let h = HALF_WORLD;
        let mut boxes: Vec<([f64; 4], usize, usize)> = vec![(tile_bbox(0, 0, 0), 256, 256)];
        for (z, x, y) in [
            (1, 0, 0),
            (1, 1, 1),
            (2, 0, 1),
            (2, 3, 1),
            (2, 1, 2),
            (3, 2, 2),
            (3, 7, 3),
            (3, 0, 0),
            (5, 5, 11),
            (8, 59, 95),
        ] {
            boxes.push((tile_bbox(z, x, y), 256, 256));
        }
        // WMS images: across the antimeridian, wider than the world, not square, inverted.
        boxes.extend([
            ([h - 2.0e6, -3.0e6, h + 2.0e6, 4.0e6], 300, 200),
            ([-3.0 * h, -h, 3.0 * h, h], 512, 171),
            ([-h - 1.0e6, 1.0e6, -h + 5.0e5, 9.0e6], 97, 301),
            ([-2.0e7, 1.9e7, 2.0e7, 2.2e7], 256, 64),
            ([1.0e6, 1.0e6, -1.0e6, -1.0e6], 64, 64),
        ]);
        for with_qc in [true, false] {
            let index = generated(30_000, 0x9e37_79b9_7f4a_7c15 + u64::from(with_qc), with_qc);
            let mut drawn = 0;
            for (n, (bbox, width, height)) in boxes.iter().enumerate() {
                for (k, quantity) in quantities.iter().enumerate() {
                    let cm = fine_colors(&index, *quantity);
                    let filter = filters[(n + k) % filters.len()];
                    let radius = [0, 1, 3, 8][(n + 2 * k) % 4];
                    let map = PointMap {
                        index: &index,
                        quantity: *quantity,
                        filter,
                        crs: OutputCrs::WebMercator,
                        bbox: *bbox,
                        width: *width,
                        height: *height,
                        radius,
                        threads: 1,
                    };
                    let margin = f64::from(radius) + 1.0;
                    for cells in [false, true] {
                        assert_eq!(
                            found(&map, margin, Scan::Fast, cells),
                            found(&map, margin, Scan::Reference, cells),
                            "{bbox:?} {quantity:?} {filter:?} cells {cells}"
                        );
                    }
                    let image = draw(&map, &cm, Scan::Fast).unwrap();
                    assert!(
                        image == draw(&map, &cm, Scan::Reference).unwrap(),
                        "{bbox:?} {quantity:?} {filter:?} radius {radius}"
                    );
                    if image.chunks(4).any(|p| p[3] > 0) {
                        drawn += 1;
                    }
                    for (i, j) in [(0, 0), (width / 2, height / 3), (width - 1, height - 1)] {
                        let (i, j) = (i as u32, j as u32);
                        assert_eq!(
                            nearest_via(&map, i, j, 5.0, 50, Scan::Fast).unwrap(),
                            nearest_via(&map, i, j, 5.0, 50, Scan::Reference).unwrap()
                        );
                    }
                }
            }
            // The comparisons are not of empty images.
            assert!(drawn > boxes.len() * quantities.len() * 3 / 4, "{drawn}");
        }

        // Split over two threads (enough locations for it): the same images.
        let index = generated(SPLIT_LOCATIONS + 20_000, 11, true);
        for (n, (bbox, width, height)) in boxes.iter().enumerate().step_by(3) {
            let quantity = quantities[n % quantities.len()];
            let map = PointMap {
                index: &index,
                quantity,
                filter: filters[n % filters.len()],
                crs: OutputCrs::WebMercator,
                bbox: *bbox,
                width: *width,
                height: *height,
                radius: 3,
                threads: 2,
            };
            let cm = fine_colors(&index, quantity);
            assert!(
                draw(&map, &cm, Scan::Fast).unwrap() == draw(&map, &cm, Scan::Reference).unwrap(),
                "{bbox:?} {quantity:?} split"
            );
        }
    }

    #[test]
    fn floors_are_those_of_the_division() {
        let mut r = Numbers::new(7);
        let special = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.999_999_999_999_999_9,
            -1e-300,
            2.5,
            -2.5,
            1_048_575.999_999,
            -1_048_576.5,
            4.5e15,
            9.3e18,
            -9.3e18,
            9.223_372_036_854_775e18,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ];
        for v in special {
            assert_eq!(floor_i64(v), v.floor() as i64, "{v}");
        }
        let h = HALF_WORLD;
        for d in [
            2.0 * h / 256.0,
            2.0 * h / 1024.0 / 256.0,
            3.0,
            0.1,
            1e-300,
            0.0,
            -7.0,
            f64::INFINITY,
            f64::NAN,
        ] {
            let f = FloorDiv::new(d);
            let mut ts: Vec<f64> = special.iter().map(|v| v * d).chain(special).collect();
            for _ in 0..200_000 {
                let q = (r.unit() - 0.3) * 400.0;
                // Quotients on and near integers, and anywhere.
                let q = match r.below(3) {
                    0 => q.round(),
                    1 => q.round() + (r.unit() - 0.5) * 1e-9,
                    _ => q,
                };
                ts.push(q * d);
                ts.push(f64::from_bits(
                    (q * d).to_bits().wrapping_add(r.below(5).wrapping_sub(2)),
                ));
            }
            for t in ts {
                assert_eq!(f.floor(t), (t / d).floor() as i64, "{t} / {d}");
            }
        }
    }

    #[test]
    fn cell_pixels_are_the_divisions_pixels_off_the_edges() {
        // Tiles of zoom ≤ 8 (and images aligned like them) take the integer path; a
        // location's pixel there is the one the division gives unless it lies within
        // rounding of a pixel edge.
        let mut r = Numbers::new(23);
        for z in 0..=8u8 {
            let n = 1u32 << z;
            for _ in 0..20 {
                let (tx, ty) = (r.below(u64::from(n)) as u32, r.below(u64::from(n)) as u32);
                let b = tile_bbox(z, tx, ty);
                let g = CellGrid::of(b, 256, 256).unwrap_or_else(|| panic!("z{z} {tx} {ty}"));
                let (dx, dy) = ((b[2] - b[0]) / 256.0, (b[3] - b[1]) / 256.0);
                let mut checked = 0;
                for _ in 0..2_000 {
                    // Inside the tile and a few pixels around it.
                    let x = b[0] + (r.unit() * 1.1 - 0.05) * (b[2] - b[0]);
                    let y = b[1] + (r.unit() * 1.1 - 0.05) * (b[3] - b[1]);
                    let (fc, fr) = ((x - b[0]) / dx, (b[3] - y) / dy);
                    if (fc - fc.round()).abs() < 1e-6 || (fr - fr.round()).abs() < 1e-6 {
                        continue;
                    }
                    if y.abs() >= HALF_WORLD || x.abs() >= HALF_WORLD {
                        continue; // beyond the world: cells clamp there
                    }
                    let want = (fc.floor() as i64, fr.floor() as i64);
                    assert_eq!(g.pixel(key_of(x, y), 0), want, "z{z} ({x}, {y})");
                    checked += 1;
                }
                assert!(checked > 1_000);
            }
        }
        // A copy one world east is one world of pixels right.
        let g = CellGrid::of(tile_bbox(0, 0, 0), 256, 256).unwrap();
        assert_eq!(
            g.pixel(key_of(-1.0e7, 0.0), 1).0,
            g.pixel(key_of(-1.0e7, 0.0), 0).0 + 256
        );
        // Zoom 9, a WMS box off the pixel lattice, one of unequal scales, and a 512-pixel
        // tile of zoom 8 (zoom 9 pixels): the division.
        assert_eq!(CellGrid::of(tile_bbox(9, 10, 10), 256, 256), None);
        assert_eq!(CellGrid::of(tile_bbox(8, 10, 10), 512, 512), None);
        assert!(CellGrid::of(tile_bbox(7, 10, 10), 512, 512).is_some());
        let h = HALF_WORLD;
        assert_eq!(CellGrid::of([-h + 1.0, -h, h + 1.0, h], 256, 256), None);
        assert_eq!(CellGrid::of([-h, -h, h, h], 256, 128), None);
        assert_eq!(CellGrid::of([h, -h, -h, h], 256, 256), None);
        assert_eq!(CellGrid::of([f64::NAN, -h, h, h], 256, 256), None);
    }

    #[test]
    fn discs_are_round_and_grow_with_the_radius() {
        assert_eq!(disc(0), vec![(0, 0)]);
        assert_eq!(disc(1), vec![(-1, 0), (0, 1), (1, 0)]);
        let area = |r| disc(r).iter().map(|(_, h)| 2 * h + 1).sum::<i64>();
        assert_eq!(area(3), 37);
        assert!(area(8) > area(7));
    }

    #[test]
    fn geographic_boxes_wrap_the_antimeridian() {
        let b = geo_boxes(OutputCrs::LonLat, [170.0, -10.0, 190.0, 10.0]).unwrap();
        assert_eq!(
            b,
            vec![
                ([170.0, -10.0, 180.0, 10.0], 0.0),
                ([-180.0, -10.0, -170.0, 10.0], 360.0)
            ]
        );
        let world = geo_boxes(
            OutputCrs::WebMercator,
            [-HALF_WORLD, -HALF_WORLD, HALF_WORLD, HALF_WORLD],
        )
        .unwrap();
        assert_eq!(world.len(), 1);
        assert!((world[0].0[3] - 85.0511).abs() < 1e-3);
    }
}
