//! WMS 1.3.0 and 1.1.1: `GetCapabilities`, `GetMap`, `GetFeatureInfo`, `GetLegendGraphic`. Parameter
//! names are case-insensitive; every error is a `ServiceExceptionReport`.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::{cacheable, render};
use crate::dims::{self, iso, DimRequest};
use crate::error::{xml_escape as esc, ApiError, WmsError};
use crate::maps::{point_value, MapRequest, PointValue};
use crate::params::{check_png, clip, parse_bbox, parse_bgcolor, parse_crs, Params};
use crate::render::{self, to_web_mercator, OutputCrs};
use crate::source::Layer;
use crate::state::AppState;
use crate::styles::Style;

/// CRSs listed in capabilities (any other EPSG code also works through PROJ).
pub const ADVERTISED_CRS: [&str; 6] = [
    "EPSG:3857",
    "EPSG:4326",
    "CRS:84",
    "EPSG:3978",
    "EPSG:3995",
    "EPSG:900913",
];

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
                v111: false,
            }
            .into_response()
        }
    };
    let version = p
        .get("version")
        .or_else(|| p.get("wmtver"))
        .unwrap_or("1.3.0")
        .trim()
        .to_string();
    let v111 = version.starts_with("1.1");
    match dispatch(&state, &headers, &p, v111).await {
        Ok(r) => r,
        Err(error) => WmsError { error, v111 }.into_response(),
    }
}

async fn dispatch(
    state: &AppState,
    headers: &HeaderMap,
    p: &Params,
    v111: bool,
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
        "getcapabilities" | "capabilities" => Ok(capabilities(state, headers, p, v111)),
        "getmap" | "map" => get_map(state, headers, p, v111).await,
        "getfeatureinfo" | "feature_info" => get_feature_info(state, p, v111).await,
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

struct MapParams {
    layers: Vec<Arc<Layer>>,
    crs: OutputCrs,
    bbox: [f64; 4],
    width: u32,
    height: u32,
}

fn map_params(
    state: &AppState,
    p: &Params,
    v111: bool,
    layers_key: &'static str,
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
        .map(|n| find_layer(state, n))
        .collect::<Result<Vec<_>, _>>()?;
    let crs_key = if v111 { "SRS" } else { "CRS" };
    let crs_text = p
        .get(&crs_key.to_ascii_lowercase())
        .or_else(|| p.get(if v111 { "crs" } else { "srs" }));
    let crs_text = crs_text
        .filter(|c| !c.trim().is_empty())
        .ok_or(ApiError::MissingParameter(crs_key))?;
    let (crs, swap) = parse_crs(crs_text, v111)?;
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
    v111: bool,
) -> Result<Response, ApiError> {
    let mp = map_params(state, p, v111, "LAYERS")?;
    check_png(Some(p.req("FORMAT")?))?;
    parse_bgcolor(p.get("bgcolor"))?;
    let styles = style_names(p, mp.layers.len())?;
    let overrides = p.overrides()?;
    let dims = dim_request(p);
    let mut reqs = Vec::new();
    for (layer, style) in mp.layers.iter().zip(styles) {
        reqs.push(MapRequest {
            style: find_style(state, layer, style)?,
            slice: dims::select(layer, &dims)?.clone(),
            layer: Arc::clone(layer),
            crs: mp.crs,
            bbox: mp.bbox,
            width: mp.width,
            height: mp.height,
            overrides: overrides.clone(),
        });
    }
    let png = render(state, reqs).await?;
    Ok(cacheable(state, headers, &png, "image/png"))
}

async fn get_feature_info(state: &AppState, p: &Params, v111: bool) -> Result<Response, ApiError> {
    let key = if p.get("query_layers").is_some() {
        "QUERY_LAYERS"
    } else {
        "LAYERS"
    };
    let mp = map_params(state, p, v111, key)?;
    let (ik, jk) = if v111 { ("X", "Y") } else { ("I", "J") };
    let i = query_pixel(p, ik, mp.width)?;
    let j = query_pixel(p, jk, mp.height)?;
    let fmt = info_format(p)?;
    let (lon, lat) = pixel_position(&mp, i, j)?;
    let dims = dim_request(p);
    let mut infos = Vec::new();
    for layer in &mp.layers {
        let slice = dims::select(layer, &dims)?.clone();
        let (st, l) = (state.clone(), Arc::clone(layer));
        let sl = slice.clone();
        let val = tokio::task::spawn_blocking(move || point_value(&st, &l, &sl, lon, lat))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
        infos.push(FeatureInfo {
            layer: Arc::clone(layer),
            slice,
            value: val,
        });
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

/// The `GetFeatureInfo` document in format `fmt`, and its content type.
fn feature_info_body(
    infos: &[FeatureInfo],
    fmt: &str,
    lon: f64,
    lat: f64,
) -> (String, &'static str) {
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

fn bbox_3857(b: [f64; 4]) -> [f64; 4] {
    let (x0, y0) = to_web_mercator(b[0], b[1]);
    let (x1, y1) = to_web_mercator(b[2], b[3]);
    [x0, y0, x1, y1]
}

/// The capabilities document.
fn capabilities(state: &AppState, headers: &HeaderMap, p: &Params, v111: bool) -> Response {
    let base = base_url(state, headers);
    let snap = state.snapshot();
    let only = p.get("layers").filter(|l| !l.is_empty());
    // Built once per catalog generation (and version, host, filter): a capabilities document
    // of many layers takes milliseconds, and clients ask for it often.
    let key = format!("{}|{v111}|{base}|{}", snap.generation, only.unwrap_or(""));
    let x = state.capabilities.get(&key).unwrap_or_else(|| {
        let x = Arc::new(capabilities_xml(state, &base, &snap, only, v111));
        state.capabilities.put(key, Arc::clone(&x));
        x
    });
    let mut r = x.as_str().to_owned().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if v111 {
            "application/vnd.ogc.wms_xml"
        } else {
            "text/xml"
        }),
    );
    r
}

fn capabilities_xml(
    state: &AppState,
    base: &str,
    snap: &crate::source::Snapshot,
    only: Option<&str>,
    v111: bool,
) -> String {
    let only: Option<Vec<&str>> = only.map(|l| l.split(',').collect());
    let url = esc(&format!("{base}/wms?"));
    let lim = &state.config.limits;
    let mut x = String::new();
    let crs_tag = if v111 { "SRS" } else { "CRS" };
    if v111 {
        let _ = write!(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<WMT_MS_Capabilities version=\"1.1.1\" updateSequence=\"{}\">\n", snap.generation);
    } else {
        let _ = write!(
            x,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<WMS_Capabilities version=\"1.3.0\" updateSequence=\"{}\" xmlns=\"http://www.opengis.net/wms\" \
             xmlns:xlink=\"http://www.w3.org/1999/xlink\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:schemaLocation=\"http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd\">\n",
            snap.generation
        );
    }
    let _ = write!(
        x,
        "<Service>\n  <Name>{}</Name>\n  <Title>fstgis: RPN standard files (FST)</Title>\n  <Abstract>Weather model fields served directly from FST files.</Abstract>\n  \
         <OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\" xlink:href=\"{url}\"/>\n  <Fees>none</Fees>\n  <AccessConstraints>none</AccessConstraints>\n",
        if v111 { "OGC:WMS" } else { "WMS" }
    );
    if !v111 {
        let _ = write!(x, "  <LayerLimit>{}</LayerLimit>\n  <MaxWidth>{}</MaxWidth>\n  <MaxHeight>{}</MaxHeight>\n", lim.max_layers.max(1), lim.max_width, lim.max_height);
    }
    x.push_str("</Service>\n<Capability>\n  <Request>\n");
    let dcp = format!(
        "<DCPType><HTTP><Get><OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\" xlink:href=\"{url}\"/></Get></HTTP></DCPType>"
    );
    let capfmt = if v111 {
        "application/vnd.ogc.wms_xml"
    } else {
        "text/xml"
    };
    let _ = writeln!(
        x,
        "    <GetCapabilities><Format>{capfmt}</Format>{dcp}</GetCapabilities>"
    );
    let _ = writeln!(x, "    <GetMap><Format>image/png</Format>{dcp}</GetMap>");
    let _ = writeln!(x, "    <GetFeatureInfo><Format>application/json</Format><Format>text/plain</Format><Format>text/xml</Format>{dcp}</GetFeatureInfo>");
    x.push_str("  </Request>\n");
    let _ = writeln!(
        x,
        "  <Exception><Format>{}</Format></Exception>",
        if v111 {
            "application/vnd.ogc.se_xml"
        } else {
            "XML"
        }
    );
    x.push_str("  <Layer>\n    <Title>fstgis</Title>\n");
    for c in ADVERTISED_CRS {
        let _ = writeln!(x, "    <{crs_tag}>{c}</{crs_tag}>");
    }
    let layers: Vec<&Arc<Layer>> = snap
        .layers
        .values()
        .filter(|l| only.as_ref().is_none_or(|o| o.contains(&l.name.as_str())))
        .collect();
    let mut all = [180.0f64, 90.0, -180.0, -90.0];
    for l in &layers {
        let b = crate::source::bbox_pm180(l.bbox);
        all = [
            all[0].min(b[0]),
            all[1].min(b[1]),
            all[2].max(b[2]),
            all[3].max(b[3]),
        ];
    }
    if layers.is_empty() {
        all = [-180.0, -90.0, 180.0, 90.0];
    }
    geo_bbox(&mut x, all, v111, "    ");
    for l in layers {
        layer_xml(&mut x, state, base, l, v111);
    }
    x.push_str("  </Layer>\n</Capability>\n");
    x.push_str(if v111 {
        "</WMT_MS_Capabilities>\n"
    } else {
        "</WMS_Capabilities>\n"
    });
    x
}

fn geo_bbox(x: &mut String, b: [f64; 4], v111: bool, ind: &str) {
    let e = b[2].min(180.0);
    if v111 {
        let _ = writeln!(
            x,
            "{ind}<LatLonBoundingBox minx=\"{}\" miny=\"{}\" maxx=\"{e}\" maxy=\"{}\"/>",
            b[0], b[1], b[3]
        );
    } else {
        let _ = writeln!(
            x,
            "{ind}<EX_GeographicBoundingBox><westBoundLongitude>{}</westBoundLongitude><eastBoundLongitude>{e}</eastBoundLongitude>\
             <southBoundLatitude>{}</southBoundLatitude><northBoundLatitude>{}</northBoundLatitude></EX_GeographicBoundingBox>",
            b[0], b[1], b[3]
        );
    }
}

fn layer_xml(x: &mut String, state: &AppState, base: &str, l: &Layer, v111: bool) {
    let ind = "      ";
    let _ = write!(
        x,
        "    <Layer queryable=\"1\" opaque=\"0\">\n{ind}<Name>{}</Name>\n{ind}<Title>{}</Title>\n",
        esc(&l.name),
        esc(&l.title)
    );
    let _ = writeln!(
        x,
        "{ind}<Abstract>nomvar {} typvar {} etiket {}; native unit {}; grid {}</Abstract>",
        esc(&l.nomvar),
        esc(&l.typvar),
        esc(&l.etiket),
        esc(if l.units.is_empty() {
            "unknown"
        } else {
            &l.units
        }),
        l.grid.grtyp()
    );
    let b = crate::source::bbox_pm180(l.bbox);
    let e = b[2];
    geo_bbox(x, b, v111, ind);
    let m = bbox_3857([b[0], b[1], e, b[3]]);
    if v111 {
        let _ = writeln!(x, "{ind}<BoundingBox SRS=\"EPSG:4326\" minx=\"{}\" miny=\"{}\" maxx=\"{e}\" maxy=\"{}\"/>", b[0], b[1], b[3]);
        let _ = writeln!(
            x,
            "{ind}<BoundingBox SRS=\"EPSG:3857\" minx=\"{}\" miny=\"{}\" maxx=\"{}\" maxy=\"{}\"/>",
            m[0], m[1], m[2], m[3]
        );
    } else {
        let _ = writeln!(
            x,
            "{ind}<BoundingBox CRS=\"CRS:84\" minx=\"{}\" miny=\"{}\" maxx=\"{e}\" maxy=\"{}\"/>",
            b[0], b[1], b[3]
        );
        let _ = writeln!(x, "{ind}<BoundingBox CRS=\"EPSG:4326\" minx=\"{}\" miny=\"{}\" maxx=\"{}\" maxy=\"{e}\"/>", b[1], b[0], b[3]);
        let _ = writeln!(
            x,
            "{ind}<BoundingBox CRS=\"EPSG:3857\" minx=\"{}\" miny=\"{}\" maxx=\"{}\" maxy=\"{}\"/>",
            m[0], m[1], m[2], m[3]
        );
    }
    let dt = dims::default_time(l).map(iso).unwrap_or_default();
    let times = dims::time_extent(&l.times);
    let runs = dims::time_extent(&l.runs);
    let dr = l.runs.last().map(|t| iso(*t)).unwrap_or_default();
    let levels: Vec<String> = l.levels.iter().map(dims::level_text).collect();
    let dl = levels.first().cloned().unwrap_or_default();
    let lu = if l.level_units.is_empty() {
        "code"
    } else {
        &l.level_units
    };
    let lunits = esc(lu);
    if v111 {
        let _ = write!(x, "{ind}<Dimension name=\"time\" units=\"ISO8601\"/>\n{ind}<Dimension name=\"elevation\" units=\"{lunits}\"/>\n{ind}<Dimension name=\"reference_time\" units=\"ISO8601\"/>\n");
        let _ = writeln!(
            x,
            "{ind}<Extent name=\"time\" default=\"{dt}\" nearestValue=\"0\">{times}</Extent>"
        );
        let _ = writeln!(
            x,
            "{ind}<Extent name=\"elevation\" default=\"{}\">{}</Extent>",
            esc(&dl),
            esc(&levels.join(","))
        );
        let _ = writeln!(
            x,
            "{ind}<Extent name=\"reference_time\" default=\"{dr}\">{runs}</Extent>"
        );
    } else {
        let _ = writeln!(x, "{ind}<Dimension name=\"time\" units=\"ISO8601\" default=\"{dt}\" nearestValue=\"0\">{times}</Dimension>");
        let _ = writeln!(
            x,
            "{ind}<Dimension name=\"elevation\" units=\"{lunits}\" default=\"{}\">{}</Dimension>",
            esc(&dl),
            esc(&levels.join(","))
        );
        let _ = writeln!(x, "{ind}<Dimension name=\"reference_time\" units=\"ISO8601\" default=\"{dr}\">{runs}</Dimension>");
    }
    for s in state.styles.for_layer(&l.nomvar, l.vector) {
        let href = esc(&format!(
            "{base}/wms?SERVICE=WMS&VERSION={}&REQUEST=GetLegendGraphic&FORMAT=image/png&LAYER={}&STYLE={}",
            if v111 { "1.1.1" } else { "1.3.0" },
            l.name,
            s.name
        ));
        let _ = writeln!(
            x,
            "{ind}<Style><Name>{}</Name><Title>{}</Title><LegendURL width=\"110\" height=\"300\"><Format>image/png</Format>\
             <OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\" xlink:href=\"{href}\"/></LegendURL></Style>",
            esc(&s.name),
            esc(&s.title)
        );
    }
    x.push_str("    </Layer>\n");
}
