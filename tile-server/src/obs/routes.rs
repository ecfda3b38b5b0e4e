//! `/collections` and `/collections/{layer}/items`: observation layers as GeoJSON, shaped
//! like OGC API – Features (`bbox`, `datetime`, `limit`; `qc=N` keeps QC flags 0 to N,
//! `qc=all` turns the QC filter off);
//! `/collections/{layer}/stats`: count, mean (bias), standard deviation and RMS of the
//! layer's quantity over the same selection.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::{Filter, ObsLayer, QcFilter};
use crate::error::ApiError;
use crate::AppState;

/// Features per page when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest `limit` accepted.
pub const MAX_LIMIT: usize = 10_000;

fn geojson(body: &Value, content_type: &'static str) -> Response {
    let mut r = body.to_string().into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

pub(crate) fn iso(seconds: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

pub(crate) async fn layers(state: &AppState) -> Result<Arc<Vec<ObsLayer>>, ApiError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        state.obs.catalog_with_models(
            &state.config.data,
            &state.snapshot(),
            &state.config.obs.model_layers,
        )
    })
    .await
    .map_err(|e| ApiError::Internal(format!("observation catalog: {e}")))
}

/// `GET /collections`: the observation layers.
pub async fn collections(State(state): State<AppState>) -> Result<Response, ApiError> {
    let list: Vec<Value> = layers(&state)
        .await?
        .iter()
        .map(|l| {
            json!({
                "id": l.name,
                "title": l.title(),
                "itemType": "feature",
                "links": [{"rel": "items", "type": "application/geo+json",
                           "href": format!("/collections/{}/items", l.name)},
                          {"rel": "stats", "type": "application/json",
                           "href": format!("/collections/{}/stats", l.name)}],
            })
        })
        .collect();
    Ok(geojson(&json!({ "collections": list }), "application/json"))
}

/// `bbox=W,S,E,N` in degrees (W > E crosses the antimeridian).
pub(crate) fn parse_bbox(text: &str) -> Result<[f64; 4], ApiError> {
    let numbers: Vec<f64> = text
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::invalid("bbox", format!("{text:?}: {e}")))?;
    let [west, south, east, north] = numbers[..] else {
        return Err(ApiError::invalid(
            "bbox",
            format!("{text:?}: expected four numbers W,S,E,N"),
        ));
    };
    let lon_ok = |x: f64| (-180.0..=180.0).contains(&x);
    let lat_ok = |y: f64| (-90.0..=90.0).contains(&y);
    if !(lon_ok(west) && lon_ok(east) && lat_ok(south) && lat_ok(north)) || south > north {
        return Err(ApiError::invalid(
            "bbox",
            format!("{text:?}: outside [-180,180]×[-90,90] or south above north"),
        ));
    }
    Ok([west, south, east, north])
}

fn parse_instant(text: &str) -> Result<Option<i64>, ApiError> {
    if text.is_empty() || text == ".." {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| Some(t.timestamp()))
        .map_err(|e| ApiError::invalid("datetime", format!("{text:?}: {e}")))
}

/// `datetime=T`, `T1/T2`, `../T2`, `T1/..` (RFC 3339).
pub(crate) fn parse_datetime(text: &str) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let Some((start, end)) = text.split_once('/') else {
        let at = parse_instant(text)?;
        return Ok((at, at));
    };
    let (start, end) = (parse_instant(start)?, parse_instant(end)?);
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(ApiError::invalid(
                "datetime",
                format!("{text:?}: start after end"),
            ));
        }
    }
    Ok((start, end))
}

/// The selection of `items` and `stats`: `bbox`, `datetime` and `qc`.
fn selection(params: &HashMap<String, String>) -> Result<Filter, ApiError> {
    let mut filter = Filter::default();
    if let Some(b) = params.get("bbox") {
        filter.bbox = Some(parse_bbox(b)?);
    }
    if let Some(d) = params.get("datetime") {
        (filter.start, filter.end) = parse_datetime(d)?;
    }
    filter.qc = QcFilter::parse(params.get("qc").map_or("", String::as_str))
        .map_err(|why| ApiError::invalid("qc", why))?;
    Ok(filter)
}

/// `GET /collections/{layer}/stats?bbox=&datetime=&qc=`: over the observations the
/// selection keeps that have a value of the layer's quantity, their count, mean (`bias` too
/// for an O−B layer), standard deviation, RMS, minimum and maximum, in the file's units.
#[allow(clippy::implicit_hasher)] // the extractor's type, not a caller's map
pub async fn stats(
    State(state): State<AppState>,
    Path(layer): Path<String>,
    Query(params): Query<HashMap<String, String>>, // axum builds it with the default hasher
) -> Result<Response, ApiError> {
    let filter = selection(&params)?;
    let found = layers(&state)
        .await?
        .iter()
        .find(|l| l.name == layer)
        .cloned()
        .ok_or_else(|| ApiError::LayerNotDefined(crate::params::clip(&layer)))?;
    let index = super::wms::index(&state, &found).await?;
    let quantity = found.quantity;
    let (s, without_model, index) = tokio::task::spawn_blocking(move || {
        let s = super::draw::stats(&index, quantity, &filter);
        let without = index.model().map(|_| index.without_model(&filter));
        (s, without, index)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("observation statistics: {e}")))?;
    let mut body = json!({
        "layer": found.name,
        "variable": found.variable,
        "channel": found.channel.map(|c| c.1),
        "quantity": quantity.title(),
        "units": found.units,
        "count": s.count,
        "mean": s.mean,
        "std": s.std,
        "rms": s.rms,
        "min": s.min,
        "max": s.max,
    });
    if matches!(quantity, super::Quantity::OmB | super::Quantity::OmF) {
        body["bias"] = json!(s.mean);
    }
    if let Some(model) = index.model() {
        // Observations the selection keeps, with a value, that the field does not cover;
        // and, over the whole layer, why observations have no model equivalent.
        body["outside_model"] = json!(without_model);
        body["model"] = json!({"field": model.field, "dropped": model.dropped});
    }
    Ok(geojson(&body, "application/json"))
}

/// `GET /collections/{layer}/items`.
#[allow(clippy::implicit_hasher)] // the extractor's type, not a caller's map
pub async fn items(
    State(state): State<AppState>,
    Path(layer): Path<String>,
    Query(params): Query<HashMap<String, String>>, // axum builds it with the default hasher
) -> Result<Response, ApiError> {
    let filter = selection(&params)?;
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(
                    "limit",
                    format!("{l:?}: expected 1 to {MAX_LIMIT}"),
                ))
            }
        },
    };
    let found = layers(&state)
        .await?
        .iter()
        .find(|l| l.name == layer)
        .cloned()
        .ok_or_else(|| ApiError::LayerNotDefined(layer.clone()))?;
    let index = super::wms::index(&state, &found).await?;
    let (selected, matched) = index.query(&filter, limit);
    let features: Vec<Value> = selected
        .iter()
        .filter_map(|i| index.observation(*i))
        .map(|o| {
            json!({
                "type": "Feature",
                "id": o.index,
                "geometry": {"type": "Point", "coordinates": [o.lon, o.lat]},
                "properties": {
                    "variable": index.variable,
                    "layer_value": Some(index.quantity(found.quantity, o.index as usize)).filter(|v| v.is_finite()),
                    "value": o.value,
                    "units": index.units,
                    "time": o.time.and_then(iso),
                    "station": o.station,
                    "qc": o.qc,
                    "error": o.error,
                    "hofx": o.hofx,
                    "model": index.model_value(o.index as usize),
                },
            })
        })
        .collect();
    Ok(geojson(
        &json!({
            "type": "FeatureCollection",
            "numberMatched": matched,
            "numberReturned": features.len(),
            "features": features,
        }),
        "application/geo+json",
    ))
}
