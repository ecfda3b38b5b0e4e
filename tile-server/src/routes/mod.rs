//! HTTP routes: parse and validate, call the pipeline, set headers.

pub mod catalog;
pub mod health;
pub mod legend;
pub mod viewer;
pub mod wms;
pub mod xyz;

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::maps::{render_stack_png, stack_key, MapRequest};
use crate::state::AppState;

/// A strong `ETag` from the bytes.
#[must_use]
pub fn etag(bytes: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("\"{:016x}-{:x}\"", h.finish(), bytes.len())
}

/// A cacheable response: 304 when `If-None-Match` matches, else the bytes with `ETag` and
/// `Cache-Control` (only successful responses carry `Cache-Control`).
pub fn cacheable(
    state: &AppState,
    headers: &HeaderMap,
    bytes: &[u8],
    ctype: &'static str,
) -> Response {
    let tag = etag(bytes);
    let cc = format!("public, max-age={}", state.config.cache.max_age_seconds);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut r = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, bytes.to_vec()).into_response()
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cc) {
        h.insert(header::CACHE_CONTROL, v);
    }
    if !matches {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    }
    r
}

/// Render a map (one or more layers, the first at the bottom) under the concurrency limit, on
/// the blocking pool. Warm tiles skip both.
pub async fn render(state: &AppState, reqs: Vec<MapRequest>) -> Result<Arc<Vec<u8>>, ApiError> {
    if let Some(png) = state.tiles.get(&stack_key(&reqs)) {
        return Ok(png);
    }
    let wait = Duration::from_millis(state.config.limits.render_wait_ms);
    let permit = tokio::time::timeout(wait, Arc::clone(&state.renders).acquire_owned())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(ApiError::Busy)?;
    let st = state.clone();
    let out = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        render_stack_png(&st, &reqs)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("render task failed: {e}")))?;
    out
}
