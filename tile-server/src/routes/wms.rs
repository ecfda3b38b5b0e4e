//! WMS 1.3.0 and 1.1.1: `GetCapabilities`, `GetMap`, `GetFeatureInfo`, `GetLegendGraphic`. Parameter
//! names are case-insensitive; every error is a `ServiceExceptionReport`.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::capabilities::capabilities;
pub use super::capabilities::ADVERTISED_CRS;
use super::{cacheable, render, reserve};
use crate::dims::{self, iso, DimRequest};
use crate::error::{xml_escape as esc, ApiError, WmsError};
use crate::maps::{decode_cost, point_value, MapRequest, PointValue};
use crate::obs::wms::{self as obs_wms, MapLayer, ObsInfo, ObsParams, ObsRequest};
use crate::obs::ObsLayer;
use crate::params::{check_png, clip, parse_bbox, parse_bgcolor, parse_crs, Params};
use crate::render::{self, OutputCrs};
use crate::source::Layer;
use crate::state::AppState;
use crate::styles::Style;

/// The `/wms` endpoint.
pub async fn wms(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = match Params::parse(q.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            return WmsError {
                error: e,
                version: WmsVersion::V130,
            }
            .into_response()
        }
    };
    let version = WmsVersion::of(&p);
    match dispatch(&state, &headers, &p, version).await {
        Ok(r) => r,
        Err(error) => WmsError { error, version }.into_response(),
    }
}

/// The two WMS versions served. They differ in parameter names (`CRS`/`SRS`, `I`/`J` or
/// `X`/`Y`), axis order, content types and document shapes; everything version-dependent
/// asks this type rather than testing a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WmsVersion {
    /// WMS 1.1.1.
    V111,
    /// WMS 1.3.0 (the default).
    V130,
}

impl WmsVersion {
    /// The version of a request (`VERSION`, or the older `WMTVER`): any 1.1.x is 1.1.1,
    /// everything else 1.3.0.
    #[must_use]
    pub fn of(p: &Params) -> Self {
        let v = p.get("version").or_else(|| p.get("wmtver")).unwrap_or("");
        if v.trim().starts_with("1.1") {
            Self::V111
        } else {
            Self::V130
        }
    }

    /// The version number as written in documents and URLs.
    #[must_use]
    pub fn number(self) -> &'static str {
        match self {
            Self::V111 => "1.1.1",
            Self::V130 => "1.3.0",
        }
    }

    /// Name of the CRS parameter and element (`SRS` in 1.1.1).
    #[must_use]
    pub fn crs_key(self) -> &'static str {
        match self {
            Self::V111 => "SRS",
            Self::V130 => "CRS",
        }
    }

    /// Names of the `GetFeatureInfo` pixel parameters.
    #[must_use]
    pub fn pixel_keys(self) -> (&'static str, &'static str) {
        match self {
            Self::V111 => ("X", "Y"),
            Self::V130 => ("I", "J"),
        }
    }

    /// Content type of the capabilities document.
    #[must_use]
    pub fn capabilities_type(self) -> &'static str {
        match self {
            Self::V111 => "application/vnd.ogc.wms_xml",
            Self::V130 => "text/xml",
        }
    }

    /// Content type of a service exception report.
    #[must_use]
    pub fn exception_type(self) -> &'static str {
        match self {
            Self::V111 => "application/vnd.ogc.se_xml",
            Self::V130 => "text/xml",
        }
    }

    /// Whether `EPSG:4326` and other northing-first CRSs take their authority axis order
    /// (1.3.0) rather than longitude first (1.1.1).
    #[must_use]
    pub fn authority_axis_order(self) -> bool {
        self == Self::V130
    }
}

async fn dispatch(
    state: &AppState,
    headers: &HeaderMap,
    p: &Params,
    version: WmsVersion,
) -> Result<Response, ApiError> {
    if let Some(s) = p.get("service") {
        if !s.trim().eq_ignore_ascii_case("WMS") && !s.trim().is_empty() {
            return Err(ApiError::OperationNotSupported(format!(
                "service {}",
                clip(s)
            )));
        }
    }
    let request = p.req("REQUEST")?.to_ascii_lowercase();
    match request.as_str() {
        "getcapabilities" | "capabilities" => {
            let obs = obs_wms::summaries(state).await;
            Ok(capabilities(state, headers, p, version, &obs))
        }
        "getmap" | "map" => get_map(state, headers, p, version).await,
        "getfeatureinfo" | "feature_info" => get_feature_info(state, p, version).await,
        "getlegendgraphic" => super::legend::get_legend(state, headers, p).await,
        _ => Err(ApiError::OperationNotSupported(clip(&request))),
    }
}

/// The base URL for links: the configured one, else from the `Host` header.
#[must_use]
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(b) = &state.config.base_url {
        return b.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .map_or_else(|| state.config.listen.to_string(), str::to_string);
    format!("http://{host}")
}

/// Look up a layer (names never contain path characters, so no traversal is possible).
pub fn find_layer(state: &AppState, name: &str) -> Result<Arc<Layer>, ApiError> {
    state
        .snapshot()
        .layers
        .get(name.trim())
        .cloned()
        .ok_or_else(|| ApiError::LayerNotDefined(clip(name)))
}

/// Resolve the style of a request: named (`name` or `name/palette`; the palette part is
/// ignored) or the layer's default.
pub fn find_style(state: &AppState, layer: &Layer, name: Option<&str>) -> Result<Style, ApiError> {
    let offered = state.styles.for_layer(&layer.nomvar, layer.vector);
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("default"));
    match name {
        None => offered
            .first()
            .map(|s| (*s).clone())
            .or_else(|| state.styles.get("viridis").cloned())
            .ok_or_else(|| ApiError::StyleNotDefined("default".into())),
        Some(n) => {
            let base = n.split('/').next().unwrap_or(n);
            match state.styles.get(base) {
                Some(s) if !s.is_vector() || layer.vector => Ok(s.clone()),
                _ => Err(ApiError::StyleNotDefined(clip(n))),
            }
        }
    }
}

fn dim_request(p: &Params) -> DimRequest {
    DimRequest {
        time: p.get("time").map(str::to_string),
        elevation: p.get("elevation").map(str::to_string),
        reference_time: p.get("dim_reference_time").map(str::to_string),
    }
}

/// A layer named in a request: a field, or observations.
enum Named {
    Field(Arc<Layer>),
    Obs(ObsLayer),
}

struct MapParams {
    layers: Vec<Named>,
    crs: OutputCrs,
    bbox: [f64; 4],
    width: u32,
    height: u32,
}

/// The observation catalog when a request names a layer that is not a field (read on the
/// blocking pool); empty otherwise.
async fn obs_catalog_for(
    state: &AppState,
    p: &Params,
    layers_key: &'static str,
) -> Result<Arc<Vec<ObsLayer>>, ApiError> {
    let snap = state.snapshot();
    let all_fields = p
        .get(&layers_key.to_ascii_lowercase())
        .is_none_or(|names| names.split(',').all(|n| snap.layers.contains_key(n.trim())));
    if all_fields {
        Ok(Arc::default())
    } else {
        obs_wms::catalog(state).await
    }
}

fn map_params(
    state: &AppState,
    p: &Params,
    version: WmsVersion,
    layers_key: &'static str,
    obs: &[ObsLayer],
) -> Result<MapParams, ApiError> {
    let names: Vec<&str> = p.req(layers_key)?.split(',').collect();
    let most = state.config.limits.max_layers.max(1);
    if names.len() > most {
        return Err(ApiError::invalid(
            layers_key,
            format!("at most {most} layers per request (LayerLimit)"),
        ));
    }
    let layers = names
        .iter()
        .map(|n| match find_layer(state, n) {
            Ok(l) => Ok(Named::Field(l)),
            Err(e) => obs
                .iter()
                .find(|o| o.name == n.trim())
                .map(|o| Named::Obs(o.clone()))
                .ok_or(e),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Either spelling is accepted in either version; the version's own is asked first.
    let crs_key = version.crs_key();
    let crs_text = p
        .get(&crs_key.to_ascii_lowercase())
        .or_else(|| p.get("crs"))
        .or_else(|| p.get("srs"));
    let crs_text = crs_text
        .filter(|c| !c.trim().is_empty())
        .ok_or(ApiError::MissingParameter(crs_key))?;
    let (crs, swap) = parse_crs(crs_text, !version.authority_axis_order())?;
    let bbox = parse_bbox(p.req("BBOX")?, swap)?;
    let lim = &state.config.limits;
    let width = p.size("WIDTH", lim.max_width, None)?;
    let height = p.size("HEIGHT", lim.max_height, None)?;
    Ok(MapParams {
        layers,
        crs,
        bbox,
        width,
        height,
    })
}

/// The style names of a `GetMap`: none (`STYLES=` or absent: every layer's default) or one per
/// layer, where an empty entry also means the default.
fn style_names(p: &Params, layers: usize) -> Result<Vec<Option<&str>>, ApiError> {
    match p.get("styles").filter(|s| !s.trim().is_empty()) {
        None => Ok(vec![None; layers]),
        Some(s) => {
            let names: Vec<Option<&str>> = s
                .split(',')
                .map(|n| Some(n).filter(|n| !n.trim().is_empty()))
                .collect();
            if names.len() == layers {
                Ok(names)
            } else {
                Err(ApiError::StyleNotDefined(format!(
                    "{} styles for {layers} layers: give one per layer, or none",
                    names.len()
                )))
            }
        }
    }
}

async fn get_map(
    state: &AppState,
    headers: &HeaderMap,
    p: &Params,
    version: WmsVersion,
) -> Result<Response, ApiError> {
    let obs = obs_catalog_for(state, p, "LAYERS").await?;
    let mp = map_params(state, p, version, "LAYERS", &obs)?;
    check_png(Some(p.req("FORMAT")?))?;
    parse_bgcolor(p.get("bgcolor"))?;
    let styles = style_names(p, mp.layers.len())?;
    let overrides = p.overrides()?;
    let dims = dim_request(p);
    let mut stack = Vec::new();
    for (layer, style) in mp.layers.iter().zip(styles) {
        stack.push(match layer {
            Named::Field(layer) => MapLayer::Field(MapRequest {
                style: find_style(state, layer, style)?,
                slice: dims::select(layer, &dims)?.clone(),
                layer: Arc::clone(layer),
                crs: mp.crs,
                bbox: mp.bbox,
                width: mp.width,
                height: mp.height,
                overrides: overrides.clone(),
            }),
            Named::Obs(layer) => {
                MapLayer::Obs(obs_request(state, p, &mp, layer, style, &overrides).await?)
            }
        });
    }
    let png = if stack.iter().all(|l| matches!(l, MapLayer::Field(_))) {
        let reqs = stack
            .into_iter()
            .filter_map(|l| match l {
                MapLayer::Field(r) => Some(r),
                MapLayer::Obs(_) => None,
            })
            .collect();
        render(state, reqs).await?
    } else {
        obs_wms::render_stack(state, stack).await?
    };
    Ok(cacheable(state, headers, &png, "image/png"))
}

/// The drawing of an observation layer in a `GetMap` or `GetFeatureInfo`.
async fn obs_request(
    state: &AppState,
    p: &Params,
    mp: &MapParams,
    layer: &ObsLayer,
    style: Option<&str>,
    overrides: &crate::styles::StyleOverrides,
) -> Result<ObsRequest, ApiError> {
    let params = ObsParams::parse(state, p)?;
    let style = obs_wms::find_style(state, layer, style)?;
    Ok(ObsRequest {
        index: obs_wms::index(state, layer).await?,
        layer: layer.clone(),
        style,
        overrides: overrides.clone(),
        params,
        crs: mp.crs,
        bbox: mp.bbox,
        width: mp.width,
        height: mp.height,
    })
}

async fn get_feature_info(
    state: &AppState,
    p: &Params,
    version: WmsVersion,
) -> Result<Response, ApiError> {
    let key = if p.get("query_layers").is_some() {
        "QUERY_LAYERS"
    } else {
        "LAYERS"
    };
    let obs = obs_catalog_for(state, p, key).await?;
    let mp = map_params(state, p, version, key, &obs)?;
    let (ik, jk) = version.pixel_keys();
    let i = query_pixel(p, ik, mp.width)?;
    let j = query_pixel(p, jk, mp.height)?;
    let fmt = info_format(p)?;
    let (lon, lat) = pixel_position(&mp, i, j)?;
    let dims = dim_request(p);
    let count = obs_wms::feature_count(p)?;
    let mut infos = Vec::new();
    for named in &mp.layers {
        let layer = match named {
            Named::Field(layer) => layer,
            Named::Obs(layer) => {
                let req = obs_request(state, p, &mp, layer, None, &p.overrides()?).await?;
                let info =
                    tokio::task::spawn_blocking(move || obs_wms::feature_info(&req, i, j, count))
                        .await
                        .map_err(|e| ApiError::Internal(e.to_string()))??;
                infos.push(Info::Obs(info));
                continue;
            }
        };
        let slice = dims::select(layer, &dims)?.clone();
        // A field not yet decoded takes its decode's bytes from the render budget.
        let cost = decode_cost(state, layer, &slice);
        let reservation = if cost > 0 {
            Some(reserve(state, cost).await?)
        } else {
            None
        };
        let (st, l) = (state.clone(), Arc::clone(layer));
        let sl = slice.clone();
        let val = tokio::task::spawn_blocking(move || {
            let _reservation = reservation;
            point_value(&st, &l, &sl, lon, lat)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
        infos.push(Info::Field(FeatureInfo {
            layer: Arc::clone(layer),
            slice,
            value: val,
        }));
    }
    let (body, ctype) = feature_info_body(&infos, &fmt, lon, lat);
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    Ok(r)
}

/// The queried pixel column (`I`, or `X` in 1.1.1) or row (`J`, `Y`) of a `GetFeatureInfo`,
/// inside an image `max` pixels across. Either spelling is accepted in any version.
fn query_pixel(p: &Params, k: &'static str, max: u32) -> Result<u32, ApiError> {
    let column = k == "I" || k == "X";
    let v = p
        .get(&k.to_ascii_lowercase())
        .or_else(|| p.get(if column { "i" } else { "j" }))
        .or_else(|| p.get(if column { "x" } else { "y" }));
    let v = v
        .filter(|v| !v.trim().is_empty())
        .ok_or(ApiError::MissingParameter(k))?;
    let n: i64 = v
        .trim()
        .parse()
        .map_err(|e| ApiError::InvalidPoint(format!("{k}={}: {e}", clip(v))))?;
    if n < 0 || n >= i64::from(max) {
        return Err(ApiError::InvalidPoint(format!(
            "{k}={n} is outside the {max}-pixel image"
        )));
    }
    Ok(n as u32)
}

/// The `INFO_FORMAT` of a `GetFeatureInfo`, lower case (plain text when absent).
fn info_format(p: &Params) -> Result<String, ApiError> {
    let fmt = p
        .get("info_format")
        .unwrap_or("text/plain")
        .trim()
        .to_ascii_lowercase();
    if !matches!(
        fmt.as_str(),
        "application/json" | "text/plain" | "text/xml" | "application/vnd.ogc.gml" | "text/html"
    ) {
        return Err(ApiError::InvalidFormat(clip(&fmt)));
    }
    Ok(fmt)
}

/// Geographic (lon, lat) of the centre of pixel (i, j) of the requested image.
fn pixel_position(mp: &MapParams, i: u32, j: u32) -> Result<(f64, f64), ApiError> {
    let (w, h) = (f64::from(mp.width), f64::from(mp.height));
    let b = mp.bbox;
    let x = b[0] + (f64::from(i) + 0.5) * (b[2] - b[0]) / w;
    let y = b[3] - (f64::from(j) + 0.5) * (b[3] - b[1]) / h;
    // A 1×1 image around the point: its one pixel centre is the point.
    let sub = [
        x - 1e-9 * (b[2] - b[0]),
        y - 1e-9 * (b[3] - b[1]),
        x + 1e-9 * (b[2] - b[0]),
        y + 1e-9 * (b[3] - b[1]),
    ];
    let (lon, lat) = render::pixel_lon_lat(mp.crs, sub, 1, 1)
        .map_err(|e| ApiError::InvalidCrs(e.to_string()))?;
    Ok((lon[0], lat[0]))
}

/// What `GetFeatureInfo` reports for one layer: a field's value or observations.
enum Info {
    Field(FeatureInfo),
    Obs(ObsInfo),
}

impl Info {
    fn json(&self, lon: f64, lat: f64) -> serde_json::Value {
        match self {
            Self::Field(f) => f.json(lon, lat),
            Self::Obs(o) => o.json(lon, lat),
        }
    }
    fn xml(&self, x: &mut String, lon: f64, lat: f64) {
        match self {
            Self::Field(f) => f.xml(x, lon, lat),
            Self::Obs(o) => o.xml(x, lon, lat),
        }
    }
    fn text(&self, lon: f64, lat: f64) -> String {
        match self {
            Self::Field(f) => f.text(lon, lat),
            Self::Obs(o) => o.text(lon, lat),
        }
    }
    fn html(&self, lon: f64, lat: f64) -> String {
        match self {
            Self::Field(f) => format!("<pre>{}</pre>\n", esc(&f.text(lon, lat))),
            Self::Obs(o) => o.html(),
        }
    }
}

/// The `GetFeatureInfo` document in format `fmt`, and its content type.
fn feature_info_body(infos: &[Info], fmt: &str, lon: f64, lat: f64) -> (String, &'static str) {
    match fmt {
        "application/json" => {
            let mut objs: Vec<serde_json::Value> = infos.iter().map(|f| f.json(lon, lat)).collect();
            // One queried layer gives one object (the common case, and this server's original
            // shape); several give `{"features": [...]}` in QUERY_LAYERS order.
            let body = if objs.len() == 1 {
                objs.remove(0)
            } else {
                serde_json::json!({ "features": objs })
            };
            (body.to_string(), "application/json")
        }
        "text/xml" | "application/vnd.ogc.gml" => {
            let mut x =
                String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<FeatureInfoResponse>\n");
            for f in infos {
                f.xml(&mut x, lon, lat);
            }
            x.push_str("</FeatureInfoResponse>\n");
            (x, "text/xml")
        }
        // Fields answered HTML as plain text before observation layers came; a page whose
        // only layers are fields keeps that answer.
        "text/html" if infos.iter().any(|f| matches!(f, Info::Obs(_))) => {
            let mut h = String::from("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>GetFeatureInfo</title></head><body>\n");
            for f in infos {
                h.push_str(&f.html(lon, lat));
            }
            h.push_str("</body></html>\n");
            (h, "text/html; charset=utf-8")
        }
        _ => (
            infos
                .iter()
                .map(|f| f.text(lon, lat))
                .collect::<Vec<_>>()
                .join("\n"),
            "text/plain",
        ),
    }
}

/// What `GetFeatureInfo` reports for one layer.
struct FeatureInfo {
    layer: Arc<Layer>,
    slice: crate::source::Slice,
    value: Option<PointValue>,
}

impl FeatureInfo {
    fn value(&self) -> Option<f32> {
        self.value.as_ref().map(|v| v.value).filter(|v| !v.is_nan())
    }

    fn level(&self) -> Option<String> {
        self.slice.level.map(|lv| format!("{}", lv.value))
    }

    /// Wind of a vector layer: (u east, v north, direction the wind blows from in degrees).
    fn wind(&self) -> Option<(f32, f32, f32)> {
        self.value.as_ref().and_then(|v| v.wind)
    }

    fn json(&self, lon: f64, lat: f64) -> serde_json::Value {
        let l = &self.layer;
        let mut o = serde_json::json!({
            "layer": l.name, "title": l.title, "nomvar": l.nomvar,
            "value": self.value(), "units": l.units,
            "level": self.level(), "level_units": l.level_units,
            "time": iso(self.slice.valid), "reference_time": iso(self.slice.run),
            "lon": lon, "lat": lat,
            "i": self.value.as_ref().map(|v| v.i), "j": self.value.as_ref().map(|v| v.j),
        });
        if l.vector {
            let w = self.wind();
            o["u_east"] = serde_json::json!(w.map(|w| w.0));
            o["v_north"] = serde_json::json!(w.map(|w| w.1));
            o["direction_deg"] = serde_json::json!(w.map(|w| w.2));
        }
        o
    }

    fn xml(&self, x: &mut String, lon: f64, lat: f64) {
        let l = &self.layer;
        let none = || "none".to_string();
        let _ = write!(
            x,
            "  <FeatureInfo>\n    <layer>{}</layer>\n    <lon>{lon}</lon>\n    <lat>{lat}</lat>\n    <value>{}</value>\n    <units>{}</units>\n    \
             <level>{}</level>\n    <level_units>{}</level_units>\n    <time>{}</time>\n    <reference_time>{}</reference_time>\n",
            esc(&l.name),
            self.value().map_or_else(none, |v| v.to_string()),
            esc(&l.units),
            esc(self.level().as_deref().unwrap_or("")),
            esc(&l.level_units),
            iso(self.slice.valid),
            iso(self.slice.run)
        );
        if l.vector {
            let w = self.wind();
            let _ = write!(
                x,
                "    <u_east>{}</u_east>\n    <v_north>{}</v_north>\n    <direction_deg>{}</direction_deg>\n",
                w.map_or_else(none, |w| w.0.to_string()),
                w.map_or_else(none, |w| w.1.to_string()),
                w.map_or_else(none, |w| w.2.to_string())
            );
        }
        x.push_str("  </FeatureInfo>\n");
    }

    fn text(&self, lon: f64, lat: f64) -> String {
        let l = &self.layer;
        let none = || "none".to_string();
        let mut t = format!(
            "layer = {}\nvalue = {}\nunits = {}\nlevel = {} {}\ntime = {}\nreference_time = {}\nlon = {lon}\nlat = {lat}\n",
            l.name,
            self.value().map_or_else(none, |v| v.to_string()),
            l.units,
            self.level().as_deref().unwrap_or(""),
            l.level_units,
            iso(self.slice.valid),
            iso(self.slice.run)
        );
        if l.vector {
            if let Some((u, v, d)) = self.wind() {
                let _ = write!(t, "u_east = {u}\nv_north = {v}\ndirection_deg = {d}\n");
            }
        }
        t
    }
}
