//! Observation layers in WMS and XYZ: their request parameters (`TIME` as an assimilation
//! window, `QC`, `RADIUS`), styles, images (alone or stacked with fields), `GetFeatureInfo`
//! and their part of the capabilities document.

use std::fmt::Write as _;
use std::sync::Arc;

use super::draw::{self, PointMap};
use super::routes::{iso, parse_datetime};
use super::{Extent, Filter, ObsIndex, ObsLayer, QcFilter, Quantity};
use crate::error::{xml_escape as esc, ApiError};
use crate::maps::{self, MapRequest};
use crate::params::{clip, Params};
use crate::render::color::ColorMap;
use crate::render::{self, OutputCrs};
use crate::routes::reserve;
use crate::state::AppState;
use crate::styles::{Style, StyleKind, StyleOverrides};

/// Name of the diverging style O−B layers use by default (when the styles folder has it).
pub const DEPARTURE_STYLE: &str = "departure";

/// How many observations `GetFeatureInfo` reports at most (`FEATURE_COUNT`).
pub const MAX_FEATURE_COUNT: usize = 50;

/// The observation catalog, read on the blocking pool.
pub async fn catalog(state: &AppState) -> Result<Arc<Vec<ObsLayer>>, ApiError> {
    super::routes::layers(state).await
}

/// The index of a layer, built on the blocking pool if needed. Read errors are logged in
/// full (with the server's paths) and reported without them.
pub async fn index(state: &AppState, layer: &ObsLayer) -> Result<Arc<ObsIndex>, ApiError> {
    let (st, l) = (state.clone(), layer.clone());
    if layer.quantity == Quantity::OmF {
        return super::model::departure_index(state, layer).await;
    }
    let name = layer.name.clone();
    tokio::task::spawn_blocking(move || st.obs.index(&l))
        .await
        .map_err(|e| ApiError::Internal(format!("observation layer: {e}")))?
        .map_err(|e| {
            tracing::error!("observation layer {name}: {e}");
            ApiError::Internal(format!("observation layer `{}` is unreadable", clip(&name)))
        })
}

/// What selects and draws the observations of a request: its time window and QC filter
/// (`TIME`, `QC`) and the circle radius (`RADIUS`).
#[derive(Debug, Clone, Copy)]
pub struct ObsParams {
    /// Time window and QC; no bbox.
    pub filter: Filter,
    /// Pixels.
    pub radius: u32,
}

impl ObsParams {
    /// From the query: `TIME` (`T1/T2`, `T1/..`, or an instant `T` for [T − h, T + h] where
    /// h is `obs.half_window_minutes`; absent or `current`: every time), `QC` (see
    /// [`QcFilter::parse`]: by default observations with a value and a QC flag 0; `QC=3`
    /// flags 0 to 3; `QC=all` every observation), `RADIUS` (pixels,
    /// 0..=`obs.max_point_radius_px`; default `obs.point_radius_px`).
    pub fn parse(state: &AppState, p: &Params) -> Result<Self, ApiError> {
        let mut filter = Filter::default();
        if let Some(t) = p
            .get("time")
            .map(str::trim)
            .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("current"))
        {
            // A capabilities extent `start/end/resolution` as given: its interval.
            let t = match t.splitn(3, '/').collect::<Vec<_>>().as_slice() {
                [a, b, _] => format!("{a}/{b}"),
                _ => t.to_owned(),
            };
            let t = t.as_str();
            let window =
                parse_datetime(t).map_err(|_not_rfc3339| ApiError::InvalidDimensionValue {
                    dim: "time",
                    value: clip(t),
                })?;
            (filter.start, filter.end) = if t.contains('/') {
                window
            } else {
                let half = i64::from(state.config.obs.half_window_minutes) * 60;
                (window.0.map(|s| s - half), window.1.map(|e| e + half))
            };
        }
        filter.qc = QcFilter::parse(p.get("qc").unwrap_or_default())
            .map_err(|why| ApiError::invalid("QC", why))?;
        let most = state.config.obs.max_point_radius_px.min(draw::MAX_RADIUS);
        let radius = match p.get("radius").map(str::trim).filter(|r| !r.is_empty()) {
            None => state.config.obs.point_radius_px.min(most),
            Some(r) => match r.parse::<u32>() {
                Ok(n) if n <= most => n,
                _ => {
                    return Err(ApiError::invalid(
                        "RADIUS",
                        format!("{:?}: expected 0 to {most} pixels", clip(r)),
                    ))
                }
            },
        };
        Ok(Self { filter, radius })
    }

    /// A stable text form for cache keys.
    fn key(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{}",
            self.filter.start, self.filter.end, self.filter.qc, self.radius
        )
    }
}

/// The styles offered for an observation layer, its default first: for O−B the diverging
/// `departure` style; for values, styles whose unit is the observation's; then the generic
/// colour ramps. Line and vector styles do not apply to points.
#[must_use]
pub fn styles_for<'a>(state: &'a AppState, layer: &ObsLayer) -> Vec<&'a Style> {
    let colour = |s: &&Style| !s.is_vector() && s.kind != StyleKind::Contours;
    let mut offered: Vec<&Style> = Vec::new();
    if matches!(layer.quantity, Quantity::OmB | Quantity::OmF) {
        offered.extend(state.styles.get(DEPARTURE_STYLE));
    } else if let Some(units) = layer
        .units
        .as_deref()
        .filter(|_| layer.quantity != Quantity::ObsError)
    {
        offered.extend(
            state
                .styles
                .iter()
                .filter(colour)
                .filter(|s| s.units.as_deref() == Some(units)),
        );
    }
    for s in state.styles.iter().filter(colour).filter(|s| s.generic) {
        if !offered.iter().any(|o| o.name == s.name) {
            offered.push(s);
        }
    }
    offered
}

/// The style of a request (`name`, `name/palette`, or the layer's default).
pub fn find_style(
    state: &AppState,
    layer: &ObsLayer,
    name: Option<&str>,
) -> Result<Style, ApiError> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("default"));
    match name {
        None => styles_for(state, layer)
            .first()
            .map(|s| (*s).clone())
            .ok_or_else(|| ApiError::StyleNotDefined("default".into())),
        Some(n) => {
            let base = n.split('/').next().unwrap_or(n);
            match state.styles.get(base) {
                Some(s) if !s.is_vector() && s.kind != StyleKind::Contours => Ok(s.clone()),
                _ => Err(ApiError::StyleNotDefined(clip(n))),
            }
        }
    }
}

/// The colour map of a request: the style with its overrides, over the layer's robust
/// extent when the range depends on the data. A style's unit transform applies only when it
/// starts from the observation's unit and the quantity is a value (a departure or an error
/// has no offset): otherwise the style's colours are read in the observation's unit.
#[must_use]
pub fn color_map(
    layer: &ObsLayer,
    index: &ObsIndex,
    style: &Style,
    o: &StyleOverrides,
) -> ColorMap {
    let keeps_transform = !layer.quantity.is_difference()
        && style
            .transform
            .as_ref()
            .is_some_and(|t| layer.units.as_deref() == Some(t.from.as_str()));
    let mut style = style.clone();
    if !keeps_transform {
        style.transform = None;
    }
    style.color_map_for(o, || index.range(layer.quantity))
}

/// One layer of an image: a field or observations.
#[derive(Debug, Clone)]
pub enum MapLayer {
    /// A model field.
    Field(MapRequest),
    /// Observations.
    Obs(ObsRequest),
}

/// Everything an image of one observation layer depends on.
#[derive(Debug, Clone)]
pub struct ObsRequest {
    /// The layer.
    pub layer: ObsLayer,
    /// Its index.
    pub index: Arc<ObsIndex>,
    /// Style.
    pub style: Style,
    /// ncWMS overrides.
    pub overrides: StyleOverrides,
    /// Window, QC, radius.
    pub params: ObsParams,
    /// Output CRS.
    pub crs: OutputCrs,
    /// Bounds in `crs`.
    pub bbox: [f64; 4],
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl std::fmt::Debug for ObsIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObsIndex")
            .field("variable", &self.variable)
            .field("locations", &self.len())
            .field("stamp", &self.stamp)
            .finish_non_exhaustive()
    }
}

impl ObsRequest {
    /// The tile-cache key: the index build, the layer, and every drawing parameter.
    fn key(&self) -> String {
        format!(
            "obs|{}|{}|{:?}|{:.6},{:.6},{:.6},{:.6}|{}x{}|{}|{}|{}",
            self.index.stamp,
            self.layer.name,
            self.crs,
            self.bbox[0],
            self.bbox[1],
            self.bbox[2],
            self.bbox[3],
            self.width,
            self.height,
            self.style.name,
            self.overrides.key(),
            self.params.key()
        )
    }

    /// What `threads` threads draw.
    fn point_map(&self, threads: usize) -> PointMap<'_> {
        PointMap {
            index: &self.index,
            quantity: self.layer.quantity,
            filter: self.params.filter,
            crs: self.crs,
            bbox: self.bbox,
            width: self.width as usize,
            height: self.height as usize,
            radius: self.params.radius,
            threads,
        }
    }

    /// RGBA of the request, on up to `threads` threads. Blocking.
    pub fn rgba(&self, threads: usize) -> Result<Vec<u8>, ApiError> {
        let cm = color_map(&self.layer, &self.index, &self.style, &self.overrides);
        draw::draw_points(&self.point_map(threads), &cm)
            .map_err(|e| ApiError::InvalidCrs(e.to_string()))
    }

    /// Peak bytes of drawing it.
    fn cost(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height) * draw::BYTES_PER_PIXEL
    }
}

impl MapLayer {
    fn key(&self) -> String {
        match self {
            Self::Field(r) => r.key(),
            Self::Obs(r) => r.key(),
        }
    }
}

/// Render a stack of layers (fields and observations, the first at the bottom) under the
/// render-memory budget and the concurrency limit, through the tile cache. Stacks of fields
/// only go through [`crate::routes::render`].
pub async fn render_stack(
    state: &AppState,
    stack: Vec<MapLayer>,
) -> Result<Arc<Vec<u8>>, ApiError> {
    let key = stack
        .iter()
        .map(MapLayer::key)
        .collect::<Vec<_>>()
        .join("\u{1e}");
    if let Some(png) = state.tiles.get(&key) {
        return Ok(png);
    }
    let (w, h) = match stack.first() {
        Some(MapLayer::Field(r)) => (r.width, r.height),
        Some(MapLayer::Obs(r)) => (r.width, r.height),
        None => return Err(ApiError::Internal("no layer to render".into())),
    };
    let budget = state.config.limits.render_budget_mb.max(1) * 1024 * 1024;
    let fields: Vec<MapRequest> = stack
        .iter()
        .filter_map(|l| match l {
            MapLayer::Field(r) => Some(r.clone()),
            MapLayer::Obs(_) => None,
        })
        .collect();
    let field_cost = if fields.is_empty() {
        maps::RenderCost {
            image: 0,
            decode: 0,
        }
    } else {
        maps::render_cost(state, &fields)
    };
    let obs_cost: u64 = stack
        .iter()
        .map(|l| match l {
            MapLayer::Obs(r) => r.cost(),
            MapLayer::Field(_) => 0,
        })
        .max()
        .unwrap_or(0);
    // The composite below the layer being drawn.
    let image = field_cost.image.max(u64::from(w) * u64::from(h) * 4) + obs_cost;
    if image > budget {
        return Err(ApiError::TooExpensive {
            needed: image,
            budget,
        });
    }
    let permits = reserve(state, image + field_cost.decode).await?;
    // Alone on the server (every other render slot free), a large scan of observations
    // takes two threads, as a field's colouring does (`maps::render_png`); under load the
    // slots already keep every core busy.
    let alone = state.renders.available_permits() + 1 >= state.config.limits.max_concurrent_renders;
    let threads = if alone {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
    } else {
        1
    };
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let _permits = permits;
        let (w, h) = (w as usize, h as usize);
        let mut rgba: Option<Vec<u8>> = None;
        for layer in &stack {
            let top = match layer {
                MapLayer::Field(r) => maps::render_rgba(&st, r, w, h)?,
                MapLayer::Obs(r) => r.rgba(threads)?,
            };
            match rgba.as_mut() {
                None => rgba = Some(top),
                Some(base) => render::composite_over(base, &top),
            }
        }
        let rgba = rgba.unwrap_or_default();
        let png = Arc::new(render::encode_png(&rgba, w, h)?);
        st.metrics
            .renders
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        st.tiles.put(key, Arc::clone(&png));
        Ok(png)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("render task failed: {e}")))?
}

/// One observation in a `GetFeatureInfo` answer.
#[derive(Debug, Clone)]
pub struct Found {
    /// The observation.
    pub obs: super::Observation,
    /// The layer's quantity at it (the departure for O−B layers).
    pub layer_value: Option<f64>,
    /// Distance from the queried pixel's centre, pixels.
    pub distance_px: f64,
    /// The field's value at it (O−F layers), in the observation's units.
    pub model: Option<f64>,
}

/// What `GetFeatureInfo` reports for one observation layer.
#[derive(Debug, Clone)]
pub struct ObsInfo {
    /// The layer.
    pub layer: ObsLayer,
    /// Nearest first.
    pub found: Vec<Found>,
}

/// The observations of `req`'s layer nearest to pixel (i, j), within the point radius plus
/// two pixels, at most `count`. Blocking.
pub fn feature_info(req: &ObsRequest, i: u32, j: u32, count: usize) -> Result<ObsInfo, ApiError> {
    let tolerance = f64::from(req.params.radius) + 2.0;
    let hits = draw::nearest(&req.point_map(1), i, j, tolerance, count)
        .map_err(|e| ApiError::InvalidCrs(e.to_string()))?;
    let found = hits
        .into_iter()
        .filter_map(|(k, d)| {
            let obs = req.index.observation(k)?;
            let v = req.index.quantity(req.layer.quantity, k as usize);
            Some(Found {
                obs,
                layer_value: v.is_finite().then_some(v),
                distance_px: d,
                model: req.index.model_value(k as usize),
            })
        })
        .collect();
    Ok(ObsInfo {
        layer: req.layer.clone(),
        found,
    })
}

/// `FEATURE_COUNT` (1 when absent, at most [`MAX_FEATURE_COUNT`]).
pub fn feature_count(p: &Params) -> Result<usize, ApiError> {
    match p
        .get("feature_count")
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => Ok(1),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_FEATURE_COUNT).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(
                "FEATURE_COUNT",
                format!("{:?}: expected 1 to {MAX_FEATURE_COUNT}", clip(v)),
            )),
        },
    }
}

fn text_or_none<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "none".to_string(), |v| v.to_string())
}

impl ObsInfo {
    /// JSON: the layer and its observations, nearest first.
    #[must_use]
    pub fn json(&self, lon: f64, lat: f64) -> serde_json::Value {
        let l = &self.layer;
        let observations: Vec<serde_json::Value> = self
            .found
            .iter()
            .map(|f| {
                let o = &f.obs;
                serde_json::json!({
                    "index": o.index, "lon": o.lon, "lat": o.lat,
                    "station": o.station, "time": o.time.and_then(iso),
                    "value": o.value, "units": l.units, "error": o.error, "qc": o.qc,
                    "hofx": o.hofx, "omb": o.value.zip(o.hofx).map(|(v, h)| v - h),
                    "model": f.model,
                    "layer_value": f.layer_value, "distance_px": f.distance_px,
                })
            })
            .collect();
        serde_json::json!({
            "layer": l.name, "title": l.title(), "variable": l.variable,
            "channel": l.channel.map(|c| c.1), "quantity": l.quantity.suffix().trim_start_matches('.'),
            "units": l.units, "lon": lon, "lat": lat, "observations": observations,
        })
    }

    /// Plain text: `key = value` lines, a blank line between observations.
    #[must_use]
    pub fn text(&self, lon: f64, lat: f64) -> String {
        let l = &self.layer;
        let mut t = format!(
            "layer = {}\ntitle = {}\nlon = {lon}\nlat = {lat}\nobservations = {}\n",
            l.name,
            l.title(),
            self.found.len()
        );
        for f in &self.found {
            let o = &f.obs;
            let _ = write!(
                t,
                "\nstation = {}\ntime = {}\nobs_lon = {}\nobs_lat = {}\nvalue = {}\nunits = {}\nerror = {}\nqc = {}\nhofx = {}\nomb = {}\nmodel = {}\nlayer_value = {}\n",
                o.station.as_deref().unwrap_or("none"),
                text_or_none(o.time.and_then(iso)),
                o.lon,
                o.lat,
                text_or_none(o.value),
                l.units.as_deref().unwrap_or("none"),
                text_or_none(o.error),
                text_or_none(o.qc),
                text_or_none(o.hofx),
                text_or_none(o.value.zip(o.hofx).map(|(v, h)| v - h)),
                text_or_none(f.model),
                text_or_none(f.layer_value),
            );
        }
        t
    }

    /// XML elements for a `FeatureInfoResponse`.
    pub fn xml(&self, x: &mut String, lon: f64, lat: f64) {
        let l = &self.layer;
        let _ = write!(
            x,
            "  <ObservationInfo>\n    <layer>{}</layer>\n    <lon>{lon}</lon>\n    <lat>{lat}</lat>\n",
            esc(&l.name)
        );
        for f in &self.found {
            let o = &f.obs;
            let _ = write!(
                x,
                "    <Observation>\n      <station>{}</station>\n      <time>{}</time>\n      <lon>{}</lon>\n      <lat>{}</lat>\n      \
                 <value>{}</value>\n      <units>{}</units>\n      <error>{}</error>\n      <qc>{}</qc>\n      <hofx>{}</hofx>\n    </Observation>\n",
                esc(o.station.as_deref().unwrap_or("")),
                text_or_none(o.time.and_then(iso)),
                o.lon,
                o.lat,
                text_or_none(o.value),
                esc(l.units.as_deref().unwrap_or("")),
                text_or_none(o.error),
                text_or_none(o.qc),
                text_or_none(o.hofx),
            );
        }
        x.push_str("  </ObservationInfo>\n");
    }

    /// An HTML table (a fragment: the caller wraps the page).
    #[must_use]
    pub fn html(&self) -> String {
        let l = &self.layer;
        let mut h = format!("<h3>{}</h3>\n<p>{}</p>\n", esc(&l.name), esc(&l.title()));
        if self.found.is_empty() {
            h.push_str("<p>no observation here</p>\n");
            return h;
        }
        h.push_str("<table>\n<tr><th>station</th><th>time</th><th>lon</th><th>lat</th><th>value</th><th>units</th><th>error</th><th>QC</th><th>HofX</th><th>O−B</th></tr>\n");
        for f in &self.found {
            let o = &f.obs;
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(o.station.as_deref().unwrap_or("")),
                text_or_none(o.time.and_then(iso)),
                o.lon,
                o.lat,
                text_or_none(o.value),
                esc(l.units.as_deref().unwrap_or("")),
                text_or_none(o.error),
                text_or_none(o.qc),
                text_or_none(o.hofx),
                text_or_none(o.value.zip(o.hofx).map(|(v, h)| v - h)),
            );
        }
        h.push_str("</table>\n");
        h
    }
}

/// What the capabilities document lists of one observation layer.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The layer.
    pub layer: ObsLayer,
    /// Where and when.
    pub extent: Extent,
    /// Its styles (name, title), default first.
    pub styles: Vec<(String, String)>,
}

/// The observation layers with a located observation, for the capabilities document. Reads
/// each set's coordinates and times once per file version (blocking pool).
pub async fn summaries(state: &AppState) -> Vec<Summary> {
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let snapshot = st.snapshot();
        let layers =
            st.obs
                .catalog_with_models(&st.config.data, &snapshot, &st.config.obs.model_layers);
        layers
            .iter()
            .filter_map(|l| {
                let mut extent = st.obs.extent(l)?;
                if let Some(field) = l.model.as_ref().and_then(|m| snapshot.fields.get(m)) {
                    extent = super::model::departure_extent(extent, field);
                }
                let styles = styles_for(&st, l)
                    .iter()
                    .map(|s| (s.name.clone(), s.title.clone()))
                    .collect();
                Some(Summary {
                    layer: l.clone(),
                    extent,
                    styles,
                })
            })
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// A cache-key fragment that changes when the observation layers or their extents do.
#[must_use]
pub fn fingerprint(summaries: &[Summary]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for s in summaries {
        s.layer.name.hash(&mut h);
        for v in s.extent.bbox {
            v.to_bits().hash(&mut h);
        }
        s.extent.time.hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// The `TIME` extent of a layer in capabilities: `start/end/0` (any instant or interval
/// within; WMS 1.3.0 Annex C: resolution 0 is no restriction), or a single instant.
#[must_use]
pub fn time_extent(extent: &Extent) -> Option<(String, String)> {
    let (start, end) = extent.time?;
    let (s, e) = (iso(start)?, iso(end)?);
    Some(if start == end {
        (s.clone(), s)
    } else {
        (format!("{s}/{e}/0"), format!("{s}/{e}"))
    })
}

/// `GetLegendGraphic` of an observation layer: the colour bar of its style over the colour
/// range its images use (from the layer's observations when the range comes from the data).
/// `not_found` is the error when `name` is no observation layer either.
pub async fn get_legend(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    p: &Params,
    name: &str,
    not_found: ApiError,
) -> Result<axum::response::Response, ApiError> {
    let layers = catalog(state).await?;
    let Some(layer) = layers.iter().find(|l| l.name == name.trim()) else {
        return Err(not_found);
    };
    let style = find_style(state, layer, p.get("style").or_else(|| p.get("styles")))?;
    crate::params::check_png(p.get("format"))?;
    let w = p.size("WIDTH", 1024, Some(110))? as usize;
    let h = p.size("HEIGHT", 2048, Some(300))? as usize;
    let o = p.overrides()?;
    let index = index(state, layer).await?;
    let (l, st) = (layer.clone(), style.clone());
    let png = tokio::task::spawn_blocking(move || {
        let cm = color_map(&l, &index, &st, &o);
        // The style's unit where its transform applies, else the file's.
        let transformed = cm.scale.to_bits() != 1f64.to_bits() || cm.offset != 0.0;
        let units = if transformed { st.units.clone() } else { None }
            .or_else(|| l.units.clone())
            .unwrap_or_default();
        let labels: Vec<Option<String>> = st.intervals.iter().map(|i| i.3.clone()).collect();
        render::encode_png(&render::legend::legend(&cm, &labels, &units, w, h), w, h)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("legend task failed: {e}")))?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(crate::routes::cacheable(state, headers, &png, "image/png"))
}
