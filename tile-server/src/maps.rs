//! Wiring of the pipeline for one image: cache lookup → field (decoded-field cache) →
//! [`crate::render`] → PNG → tile cache. Blocking code, run on the blocking pool; no HTTP.

use std::sync::Arc;

use crate::error::ApiError;
use crate::render::canvas::Canvas;
use crate::render::{self, contours, glyphs, OutputCrs, PixelIndex};
use crate::source::{decode_components, decode_slice, panic_text, Layer, Slice};
use crate::state::AppState;
use crate::styles::{Style, StyleKind, StyleOverrides};

/// Everything an image depends on.
#[derive(Debug, Clone)]
pub struct MapRequest {
    /// Layer.
    pub layer: Arc<Layer>,
    /// Selected slice.
    pub slice: Slice,
    /// Output CRS.
    pub crs: OutputCrs,
    /// Bounds in the output CRS (x east, y north).
    pub bbox: [f64; 4],
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Style.
    pub style: Style,
    /// ncWMS overrides.
    pub overrides: StyleOverrides,
}

impl MapRequest {
    /// The tile-cache key: the data identity (file, version, record) plus every rendering
    /// parameter.
    #[must_use]
    pub fn key(&self) -> String {
        format!(
            "{}|{:?}|{:.6},{:.6},{:.6},{:.6}|{}x{}|{}|{}",
            self.slice.data_key(),
            self.crs,
            self.bbox[0],
            self.bbox[1],
            self.bbox[2],
            self.bbox[3],
            self.width,
            self.height,
            self.style.name,
            self.overrides.key()
        )
    }
}

/// Peak bytes one output pixel costs a render of one layer: the pixel index (fractional i,
/// j and lon, lat: 4 × f64), the sampled value (f32), its RGBA, and the PNG encoder's copy
/// and output. Measured: a 4096² GetMap peaked at 0.6–0.9 GB; a 1024² one grows the process
/// by 48 MiB (`tests/render_memory.rs`).
pub const RENDER_BYTES_PER_PIXEL: u64 = 56;

/// Peak bytes each further layer of a stack adds per pixel (the composite below it, and the
/// allocator's retention between layers). Measured: a three-layer 1024² stack grows the
/// process by 88 MiB.
pub const RENDER_BYTES_PER_STACKED_PIXEL: u64 = 20;

/// Peak bytes a field decode costs per grid point beyond the decoded f32 (the codec's own
/// samples and missing-value mask).
pub const DECODE_BYTES_PER_POINT: u64 = 12;

/// What a render of a stack of layers may hold at its peak, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderCost {
    /// The image's buffers (independent of the data).
    pub image: u64,
    /// Decodes of fields not in the field cache yet.
    pub decode: u64,
}

/// The estimated peak bytes of rendering `reqs` (all of one image size). Fields already in
/// the decoded-field cache cost nothing more.
#[must_use]
pub fn render_cost(state: &AppState, reqs: &[MapRequest]) -> RenderCost {
    let per_pixel =
        RENDER_BYTES_PER_PIXEL + RENDER_BYTES_PER_STACKED_PIXEL * (reqs.len().max(1) as u64 - 1);
    let image = reqs
        .first()
        .map_or(0, |r| u64::from(r.width) * u64::from(r.height) * per_pixel);
    let decode = reqs
        .iter()
        .map(|r| decode_cost(state, &r.layer, &r.slice))
        .max()
        .unwrap_or(0);
    RenderCost { image, decode }
}

/// Peak bytes of decoding the field of `slice` (both components of a vector layer); 0 when
/// it is in the decoded-field cache.
#[must_use]
pub fn decode_cost(state: &AppState, layer: &Layer, slice: &Slice) -> u64 {
    if state.fields.contains(&slice.data_key()) {
        return 0;
    }
    let (ni, nj) = layer.grid.shape();
    let comps = if slice.record_v.is_some() { 2 } else { 1 };
    (ni as u64) * (nj as u64) * DECODE_BYTES_PER_POINT * comps
}

/// The decoded field of a slice (wind speed for vector layers), through the field cache.
pub fn field(
    state: &AppState,
    layer: &str,
    slice: &Slice,
) -> Result<Arc<render::FieldValues>, ApiError> {
    let key = slice.data_key();
    if let Some(f) = state.fields.get(&key) {
        return Ok(f);
    }
    let f = Arc::new(decode_slice(slice).map_err(|e| ApiError::data(layer, e))?);
    state.fields.put(key, Arc::clone(&f));
    Ok(f)
}

pub(crate) fn components(
    state: &AppState,
    layer: &str,
    slice: &Slice,
) -> Result<Arc<(render::FieldValues, render::FieldValues)>, ApiError> {
    let key = slice.data_key();
    if let Some(f) = state.components.get(&key) {
        return Ok(f);
    }
    let f = Arc::new(decode_components(slice).map_err(|e| ApiError::data(layer, e))?);
    state.components.put(key, Arc::clone(&f));
    Ok(f)
}

/// Render (or fetch from the cache) the PNG of a request.
pub fn render_png(state: &AppState, req: &MapRequest) -> Result<Arc<Vec<u8>>, ApiError> {
    let key = req.key();
    if let Some(png) = state.tiles.get(&key) {
        return Ok(png);
    }
    let (w, h) = (req.width as usize, req.height as usize);
    // Alone on the server (every other render slot free), a colour-only image is rendered as
    // two halves on two threads: the first tile a user waits for is twice as fast. Under load
    // the slots already keep every core busy.
    let alone = state.renders.available_permits() + 1 >= state.config.limits.max_concurrent_renders;
    let split = alone
        && matches!(req.style.kind, StyleKind::Ramp | StyleKind::Intervals)
        && h % 32 == 0
        && w * h >= 256 * 256
        && std::thread::available_parallelism().map_or(1, std::num::NonZero::get) > 1;
    let rgba = if split {
        let b = req.bbox;
        let mid = b[1] + 0.5 * (b[3] - b[1]);
        // Decode once, before the threads.
        field(state, &req.layer.name, &req.slice)?;
        let (top, bottom) = std::thread::scope(|s| {
            let t = s.spawn(|| colour_only(state, req, [b[0], mid, b[2], b[3]], w, h / 2));
            let bottom = colour_only(state, req, [b[0], b[1], b[2], mid], w, h / 2);
            (t.join(), bottom)
        });
        let mut top = top.map_err(|p| {
            ApiError::Internal(format!(
                "render thread panicked: {}",
                panic_text(p.as_ref())
            ))
        })??;
        top.extend_from_slice(&bottom?);
        top
    } else {
        render_rgba(state, req, w, h)?
    };
    encode_and_keep(state, key, &rgba, w, h)
}

/// Encode a rendered image, count it, and keep it in the tile cache.
fn encode_and_keep(
    state: &AppState,
    key: String,
    rgba: &[u8],
    w: usize,
    h: usize,
) -> Result<Arc<Vec<u8>>, ApiError> {
    let png = Arc::new(render::encode_png(rgba, w, h)?);
    state
        .metrics
        .renders
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    state.tiles.put(key, Arc::clone(&png));
    Ok(png)
}

/// The tile-cache key of a stack of layers.
#[must_use]
pub fn stack_key(reqs: &[MapRequest]) -> String {
    reqs.iter()
        .map(MapRequest::key)
        .collect::<Vec<_>>()
        .join("\u{1e}")
}

/// Render (or fetch from the cache) the PNG of several layers drawn in order, the first at the
/// bottom (WMS `LAYERS=a,b,...`). One layer is [`render_png`].
pub fn render_stack_png(state: &AppState, reqs: &[MapRequest]) -> Result<Arc<Vec<u8>>, ApiError> {
    let [first, rest @ ..] = reqs else {
        return Err(ApiError::Internal("no layer to render".into()));
    };
    if rest.is_empty() {
        return render_png(state, first);
    }
    let key = stack_key(reqs);
    if let Some(png) = state.tiles.get(&key) {
        return Ok(png);
    }
    let (w, h) = (first.width as usize, first.height as usize);
    let mut rgba = render_rgba(state, first, w, h)?;
    for r in rest {
        render::composite_over(&mut rgba, &render_rgba(state, r, w, h)?);
    }
    encode_and_keep(state, key, &rgba, w, h)
}

/// Whether an image over `bbox` (in `crs`) certainly misses the layer's grid: its geographic
/// box and the grid's (from the grid's points plus half a cell) are disjoint. Such images are
/// transparent without locating a pixel — otherwise every pixel of a tile far from a regional
/// grid costs an exact inverse, since blocks with corners outside the grid are computed
/// exactly. PROJ output CRSes are not pre-checked (their geographic box is not a corner
/// computation).
#[must_use]
pub fn misses_layer(layer: &Layer, crs: OutputCrs, bbox: [f64; 4]) -> bool {
    let geo = match crs {
        OutputCrs::LonLat => bbox,
        OutputCrs::WebMercator => {
            let (lon, lat) = (render::web_mercator_lon, render::web_mercator_lat);
            [lon(bbox[0]), lat(bbox[1]), lon(bbox[2]), lat(bbox[3])]
        }
        OutputCrs::Epsg(_) => return false,
    };
    let [w, s, e, n] = layer.bbox;
    if !(geo.iter().chain(&layer.bbox).all(|v| v.is_finite())) {
        return false;
    }
    if geo[3] < s || geo[1] > n {
        return true;
    }
    if geo[2] - geo[0] >= 360.0 || e - w >= 360.0 {
        return false;
    }
    ![-720.0, -360.0, 0.0, 360.0, 720.0]
        .iter()
        .any(|k| geo[0] + k <= e && geo[2] + k >= w)
}

fn locate(req: &MapRequest, bbox: [f64; 4], w: usize, h: usize) -> Result<PixelIndex, ApiError> {
    Ok(render::locate(&req.layer.grid, req.crs, bbox, w, h)?)
}

/// RGBA of a ramp or interval style over `bbox`.
fn colour_only(
    state: &AppState,
    req: &MapRequest,
    bbox: [f64; 4],
    w: usize,
    h: usize,
) -> Result<Vec<u8>, ApiError> {
    if misses_layer(&req.layer, req.crs, bbox) {
        return Ok(vec![0u8; w * h * 4]);
    }
    let px = locate(req, bbox, w, h)?;
    if px.i.iter().all(|i| i.is_nan()) {
        return Ok(vec![0u8; w * h * 4]);
    }
    let f = field(state, &req.layer.name, &req.slice)?;
    let values = render::sample_field(&px, &f, req.style.sampling);
    Ok(render::colorize(
        &px,
        &values,
        &req.style.color_map_for(&req.overrides, || {
            state.ranges.get(&req.slice.data_key(), &f)
        }),
    ))
}

/// RGBA of any style over the request's bbox.
pub fn render_rgba(
    state: &AppState,
    req: &MapRequest,
    w: usize,
    h: usize,
) -> Result<Vec<u8>, ApiError> {
    if misses_layer(&req.layer, req.crs, req.bbox) {
        return Ok(vec![0u8; w * h * 4]);
    }
    let px = locate(req, req.bbox, w, h)?;
    let rgba = if px.i.iter().all(|i| i.is_nan()) {
        vec![0u8; w * h * 4]
    } else {
        let f = field(state, &req.layer.name, &req.slice)?;
        let values = render::sample_field(&px, &f, req.style.sampling);
        let cm = req.style.color_map_for(&req.overrides, || {
            state.ranges.get(&req.slice.data_key(), &f)
        });
        let mut rgba = match req.style.kind {
            StyleKind::Contours => {
                let mut out = vec![0u8; w * h * 4];
                let mut line = req.style.line_color;
                line[3] = ((u16::from(line[3]) * u16::from(cm.opacity)) / 255) as u8;
                let lines = contours::Isolines {
                    values: &values,
                    w,
                    h,
                    scale: cm.scale,
                    offset: cm.offset,
                    interval: req.style.interval.unwrap_or(1.0),
                };
                contours::draw_contours(&mut out, &lines, line);
                if let Some(spacing) = req.style.label_spacing {
                    let labels = contours::place_labels(&lines, spacing as usize);
                    contours::draw_labels(&mut Canvas::new(&mut out, w, h), &labels, line);
                }
                out
            }
            _ => render::colorize(&px, &values, &cm),
        };
        if req.style.is_vector() && req.slice.record_v.is_some() {
            let uv = components(state, &req.layer.name, &req.slice)?;
            draw_wind(&mut rgba, &px, &req.layer.grid, &uv.0, &uv.1, &req.style);
        }
        rgba
    };
    Ok(rgba)
}

/// Angle (radians, counter-clockwise from east) of the grid's i axis at a fractional point.
fn grid_angle(grid: &grids::Grid, i: f64, j: f64) -> Option<f64> {
    let (ni, _) = grid.shape();
    let (a, b) = if i + 0.5 <= ni as f64 - 1.0 {
        (i, i + 0.5)
    } else {
        (i - 0.5, i)
    };
    let (la0, lo0) = grid.point(a, j)?;
    let (la1, lo1) = grid.point(b, j)?;
    let dlon = ((lo1 - lo0 + 540.0).rem_euclid(360.0)) - 180.0;
    let dx = dlon * (0.5 * (la0 + la1)).to_radians().cos();
    Some((la1 - la0).atan2(dx))
}

/// Grid-relative wind (u along the grid's i axis, v along j) at a fractional point, as
/// (eastward, northward) components.
fn true_wind(grid: &grids::Grid, i: f64, j: f64, u: f64, v: f64) -> Option<(f64, f64)> {
    if !(u.is_finite() && v.is_finite()) {
        return None;
    }
    let t = grid_angle(grid, i, j)?;
    Some((u * t.cos() - v * t.sin(), u * t.sin() + v * t.cos()))
}

/// Arrows or barbs on a regular lattice of pixels, rotated from grid-relative to true north
/// and then to the screen through the local Jacobian of the output projection.
fn draw_wind(
    rgba: &mut [u8],
    px: &PixelIndex,
    grid: &grids::Grid,
    u: &render::FieldValues,
    v: &render::FieldValues,
    style: &Style,
) {
    let (w, h) = (px.w, px.h);
    let mut canvas = Canvas::new(rgba, w, h);
    let sp = style.spacing as usize;
    let mut r = sp / 2;
    while r + 1 < h {
        let mut c = sp / 2;
        while c + 1 < w {
            let k = r * w + c;
            let (i, j) = (px.i[k], px.j[k]);
            if !i.is_nan() {
                let (uu, vv) = (f64::from(u.bilinear(i, j)), f64::from(v.bilinear(i, j)));
                if let Some((east, north)) = true_wind(grid, i, j, uu, vv) {
                    if let Some((sx, sy)) = screen_direction(px, r, c, east, north) {
                        // Screen components scaled back to the speed.
                        let s = east.hypot(north);
                        let (se, sn) = (sx * s, -sy * s);
                        let len = sp as f64 * 0.8;
                        let centre = (c as f64, r as f64);
                        if style.kind == StyleKind::Barbs {
                            let staff_len = len * 0.6;
                            glyphs::barb(
                                &mut canvas,
                                centre,
                                (se, sn),
                                staff_len,
                                style.glyph_color,
                            );
                        } else {
                            glyphs::arrow(&mut canvas, centre, (se, sn), len, style.glyph_color);
                        }
                    }
                }
            }
            c += sp;
        }
        r += sp;
    }
}

/// Unit screen vector (x right, y down) of a geographic direction (east, north) at pixel
/// (r, c): solve the 2×2 Jacobian of pixel → (east metres, north metres).
fn screen_direction(
    px: &PixelIndex,
    r: usize,
    c: usize,
    east: f64,
    north: f64,
) -> Option<(f64, f64)> {
    let w = px.w;
    let k = r * w + c;
    let (lo, la) = (px.lon[k], px.lat[k]);
    let d = |k2: usize| {
        let dlon = ((px.lon[k2] - lo + 540.0).rem_euclid(360.0)) - 180.0;
        (dlon * la.to_radians().cos(), px.lat[k2] - la)
    };
    let (ax, ay) = d(k + 1); // per column
    let (bx, by) = d(k + w); // per row
    let det = ax * by - bx * ay;
    if !det.is_finite() || det.abs() < 1e-18 {
        return None;
    }
    let dc = (east * by - north * bx) / det;
    let dr = (north * ax - east * ay) / det;
    let n = dc.hypot(dr);
    (n > 0.0).then(|| (dc / n, dr / n))
}

/// What a layer holds at a geographic point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointValue {
    /// Native value at the nearest grid point (wind speed for vector layers); NaN if missing.
    pub value: f32,
    /// Fractional grid index along i.
    pub i: f64,
    /// Fractional grid index along j.
    pub j: f64,
    /// Vector layers: (eastward, northward, direction the wind blows from in degrees
    /// clockwise from true north), rotated from the grid's axes at the nearest point.
    pub wind: Option<(f32, f32, f32)>,
}

/// Value of a layer's slice at a geographic point; `None` outside the grid.
pub fn point_value(
    state: &AppState,
    layer: &Layer,
    slice: &Slice,
    lon: f64,
    lat: f64,
) -> Result<Option<PointValue>, ApiError> {
    let Some((i, j)) = layer.grid.index_of(lat, lon) else {
        return Ok(None);
    };
    let f = field(state, &layer.name, slice)?;
    let wind = if layer.vector && slice.record_v.is_some() {
        let uv = components(state, &layer.name, slice)?;
        let (ni, nj) = ((i + 0.5).floor(), (j + 0.5).floor());
        let (u, v) = (f64::from(uv.0.nearest(i, j)), f64::from(uv.1.nearest(i, j)));
        true_wind(&layer.grid, ni, nj, u, v).map(|(east, north)| {
            let from = (-east).atan2(-north).to_degrees().rem_euclid(360.0);
            (east as f32, north as f32, from as f32)
        })
    } else {
        None
    };
    Ok(Some(PointValue {
        value: f.nearest(i, j),
        i,
        j,
        wind,
    }))
}
