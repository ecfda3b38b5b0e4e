//! Observations on a map, free of HTTP: which locations an image can show (the R*-tree
//! queried over the image's geographic box plus the point radius), where each falls in the
//! image, filled circles coloured through the same [`ColorMap`] as fields, the nearest
//! observations to a pixel (`GetFeatureInfo`) and summary statistics.

use std::cell::RefCell;
use std::collections::HashMap;
use std::f64::consts::PI;

use super::index::{Filter, ObsIndex};
use super::Quantity;
use crate::render::color::ColorMap;
use crate::render::{pixel_lon_lat, web_mercator_lat, OutputCrs, RenderError, WEB_MERCATOR_R};

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
}

thread_local! {
    // proj::Proj is not Send: one per worker thread and CRS (style guide 2.5).
    static FORWARD: RefCell<HashMap<u32, Option<proj::Proj>>> = RefCell::new(HashMap::new());
}

/// Geographic (lon, lat) → (x, y) in `EPSG:code`, through a per-thread PROJ transformation;
/// `None` where PROJ cannot.
fn forward_epsg(code: u32, points: &[(f64, f64)]) -> Vec<Option<(f64, f64)>> {
    FORWARD.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 64 {
            cache.clear();
        }
        let p = cache.entry(code).or_insert_with(|| {
            proj::Proj::new_known_crs("EPSG:4326", &format!("EPSG:{code}"), None).ok()
        });
        match p {
            Some(p) => points
                .iter()
                .map(|xy| {
                    p.convert(*xy)
                        .ok()
                        .filter(|(x, y): &(f64, f64)| x.is_finite() && y.is_finite())
                })
                .collect(),
            None => vec![None; points.len()],
        }
    })
}

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

/// Where location `i` (shifted by `shift` degrees of longitude) falls in `crs`.
fn project(index: &ObsIndex, crs: OutputCrs, i: usize, shift: f64) -> Option<(f64, f64)> {
    match crs {
        OutputCrs::LonLat => index.position(i).map(|(x, y)| (x + shift, y)),
        OutputCrs::WebMercator => index
            .mercator(i)
            .map(|[x, y]| (x + shift / 180.0 * HALF_WORLD, y)),
        OutputCrs::Epsg(code) => {
            let (x, y) = index.position(i)?;
            forward_epsg(code, &[(x, y)]).first().copied().flatten()
        }
    }
}

/// Calls `found(index, x, y)` for each location an image may show, with where it falls
/// (x, y in the image's CRS): those inside the image plus a margin of `margin` pixels,
/// passing `map.filter`'s time window and QC, with a value of the quantity. Nothing is
/// collected: a tile of a million observations allocates nothing per observation.
fn candidates(
    map: &PointMap<'_>,
    margin: f64,
    mut found: impl FnMut(u32, f64, f64),
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
    for (geo, shift) in geo_boxes(map.crs, wide)? {
        let mut keep = |i: usize| {
            if !map.index.keeps(i, &map.filter) || !map.index.quantity(map.quantity, i).is_finite()
            {
                return;
            }
            if let Some((x, y)) = project(map.index, map.crs, i, shift) {
                if x >= wide[0] && x <= wide[2] && y >= wide[1] && y <= wide[3] {
                    found(i as u32, x, y);
                }
            }
        };
        map.index.visit_box(geo, &mut keep);
    }
    Ok(())
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
/// (u32), and the PNG encoder's copy and output.
pub const BYTES_PER_PIXEL: u64 = 20;

/// RGBA of the observations of `map`: a filled circle per observation, coloured by `cm`
/// from the quantity's value; transparent elsewhere. Where circles overlap, the observation
/// of higher index (later in the file) is on top; circles are centred on the pixel that
/// holds their observation, so the observations of one pixel draw one circle (the top one):
/// a million observations cost a million lookups and at most one circle per pixel.
pub fn draw_points(map: &PointMap<'_>, cm: &ColorMap) -> Result<Vec<u8>, RenderError> {
    let (w, h) = (map.width, map.height);
    let mut rgba = vec![0u8; w * h * 4];
    if w == 0 || h == 0 {
        return Ok(rgba);
    }
    let r = map.radius.min(MAX_RADIUS);
    let m = i64::from(r);
    // The winner (index + 1; 0: none) of each pixel of the image extended by the radius.
    let (ew, eh) = (w as i64 + 2 * m, h as i64 + 2 * m);
    let mut winner = vec![0u32; (ew * eh) as usize];
    let b = map.bbox;
    let dx = (b[2] - b[0]) / w as f64;
    let dy = (b[3] - b[1]) / h as f64;
    candidates(map, f64::from(r) + 1.0, |i, x, y| {
        let col = ((x - b[0]) / dx).floor() as i64 + m;
        let row = ((b[3] - y) / dy).floor() as i64 + m;
        if col >= 0 && row >= 0 && col < ew && row < eh {
            let slot = &mut winner[(row * ew + col) as usize];
            *slot = (*slot).max(i + 1);
        }
    })?;
    let mut tops: Vec<(u32, i64, i64)> = winner
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| (*v - 1, k as i64 % ew - m, k as i64 / ew - m))
        .collect();
    drop(winner);
    tops.sort_unstable_by_key(|t| t.0);
    let spans = disc(r);
    for (i, col, row) in tops {
        let v = map.index.quantity(map.quantity, i as usize);
        let c = cm.color(v as f32);
        for (ddy, half) in &spans {
            let y = row + ddy;
            if y < 0 || y >= h as i64 {
                continue;
            }
            let (x0, x1) = ((col - half).max(0), (col + half).min(w as i64 - 1));
            let mut k = (y as usize * w + x0.max(0) as usize) * 4;
            for _ in x0..=x1 {
                rgba[k..k + 4].copy_from_slice(&c);
                k += 4;
            }
        }
    }
    Ok(rgba)
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
    candidates(&around, tolerance.ceil() + 1.0, |k, x, y| {
        let d = ((x - cx) / dx).hypot((y - cy) / dy);
        if d <= tolerance {
            hits.push((k, d));
        }
    })?;
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
    use super::*;

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
