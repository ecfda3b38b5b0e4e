//! XYZ tiles in EPSG:3857 (`/tiles/{layer}/{z}/{x}/{y}.png`) and `TileJSON`. A tile outside
//! the grid is a fully transparent 256×256 PNG (200, cacheable), not a 204 or 404: map
//! clients then cache it like any tile. Zoom or tile numbers out of range are 404.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use super::{cacheable, render};
use crate::dims::{self, DimRequest};
use crate::error::ApiError;
use crate::maps::MapRequest;
use crate::obs::wms::{self as obs_wms, MapLayer, ObsParams, ObsRequest};
use crate::params::{clip, Params};
use crate::render::{tile_bbox, OutputCrs};
use crate::routes::wms::{base_url, find_layer, find_style};
use crate::state::AppState;

/// `GET /tiles/{layer}/{z}/{x}/{y}.png`.
pub async fn tile(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((layer, z, x, y)): Path<(String, String, String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let name = layer;
    let y = y
        .strip_suffix(".png")
        .ok_or_else(|| ApiError::InvalidFormat(clip(&y)))?;
    let z: u8 = z
        .parse()
        .map_err(|e| ApiError::NotFound(format!("zoom {}: {e}", clip(&z))))?;
    if z > state.config.limits.max_zoom {
        return Err(ApiError::NotFound(format!(
            "zoom {z} > {}",
            state.config.limits.max_zoom
        )));
    }
    let n = 1u64 << z;
    let x: u64 = x
        .parse()
        .map_err(|e| ApiError::NotFound(format!("x {}: {e}", clip(&x))))?;
    let y: u64 = y
        .parse()
        .map_err(|e| ApiError::NotFound(format!("y {}: {e}", clip(y))))?;
    if x >= n || y >= n {
        return Err(ApiError::NotFound(format!("tile {z}/{x}/{y} out of range")));
    }
    let bbox = tile_bbox(z, x as u32, y as u32);
    let layer = match find_layer(&state, &name) {
        Ok(layer) => layer,
        Err(e) => {
            // Not a field: an observation layer, drawn as in GetMap.
            let obs = obs_wms::catalog(&state).await?;
            let Some(layer) = obs.iter().find(|l| l.name == name.trim()) else {
                return Err(e);
            };
            let req = ObsRequest {
                index: obs_wms::index(&state, layer).await?,
                style: obs_wms::find_style(
                    &state,
                    layer,
                    p.get("style").or_else(|| p.get("styles")),
                )?,
                layer: layer.clone(),
                overrides: p.overrides()?,
                params: ObsParams::parse(&state, &p)?,
                crs: OutputCrs::WebMercator,
                bbox,
                width: 256,
                height: 256,
            };
            let png = obs_wms::render_stack(&state, vec![MapLayer::Obs(req)]).await?;
            return Ok(cacheable(&state, &headers, &png, "image/png"));
        }
    };
    let style = find_style(&state, &layer, p.get("style").or_else(|| p.get("styles")))?;
    let slice = dims::select(&layer, &DimRequest::from_params(&p))?.clone();
    let req = MapRequest {
        layer,
        slice,
        crs: OutputCrs::WebMercator,
        bbox,
        width: 256,
        height: 256,
        style,
        overrides: p.overrides()?,
    };
    let png = render(&state, vec![req]).await?;
    Ok(cacheable(&state, &headers, &png, "image/png"))
}

/// `GET /tiles/{layer}/tilejson.json`.
pub async fn tilejson(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(layer): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let layer = find_layer(&state, &layer)?;
    let base = base_url(&state, &headers);
    // Pass the dimension and style parameters through to the tile URLs, and to the legend
    // URL (with the style the tiles use), so that the legend shows the colours and the
    // colour range of the tiles.
    let p = Params::parse(q.as_deref())?;
    let style = find_style(&state, &layer, p.get("style").or_else(|| p.get("styles")))?;
    p.overrides()?;
    let mut tile_qs: Vec<String> = Vec::new();
    if p.get("style").or_else(|| p.get("styles")).is_some() {
        tile_qs.push(format!("style={}", query_value(&style.name)));
    }
    let mut legend_qs = vec![format!("STYLE={}", query_value(&style.name))];
    for (k, wms) in [
        ("time", "TIME"),
        ("elevation", "ELEVATION"),
        ("reference_time", "DIM_REFERENCE_TIME"),
        ("colorscalerange", "COLORSCALERANGE"),
        ("numcolorbands", "NUMCOLORBANDS"),
        ("logscale", "LOGSCALE"),
        ("abovemaxcolor", "ABOVEMAXCOLOR"),
        ("belowmincolor", "BELOWMINCOLOR"),
        ("opacity", ""),
    ] {
        let v = p.get(k).or_else(|| {
            (k == "reference_time")
                .then(|| p.get("dim_reference_time"))
                .flatten()
        });
        if let Some(v) = v {
            let enc = query_value(v);
            tile_qs.push(format!("{k}={enc}"));
            if !wms.is_empty() {
                legend_qs.push(format!("{wms}={enc}"));
            }
        }
    }
    let suffix = if tile_qs.is_empty() {
        String::new()
    } else {
        format!("?{}", tile_qs.join("&"))
    };
    let b = crate::source::bbox_pm180(layer.bbox);
    let e = b[2];
    let body = serde_json::json!({
        "tilejson": "3.0.0",
        "name": layer.name,
        "description": layer.title,
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}.png{suffix}", layer.name)],
        "minzoom": 0,
        "maxzoom": state.config.limits.max_zoom,
        "bounds": [b[0], b[1], e, b[3]],
        "center": [f64::midpoint(b[0], e), f64::midpoint(b[1], b[3]), 3],
        "legend": format!(
            "{base}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&FORMAT=image/png&LAYER={}&{}",
            layer.name,
            legend_qs.join("&")
        ),
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}

/// A query value percent-encoded (unreserved characters and `:,` kept, for readable times
/// and ranges).
fn query_value(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.:,".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
