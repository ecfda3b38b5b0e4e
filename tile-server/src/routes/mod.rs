//! HTTP routes: parse and validate, call the pipeline, set headers.

pub mod capabilities;
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
use tokio::sync::OwnedSemaphorePermit;

use crate::error::ApiError;
use crate::maps::{render_cost, render_stack_png, stack_key, MapRequest};
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

/// A share of the render budget and a render slot, held while a render or a decode runs.
#[derive(Debug)]
pub struct Reservation {
    _bytes: OwnedSemaphorePermit,
    _slot: OwnedSemaphorePermit,
}

/// Reserve `bytes` of the render budget (never more than the whole budget: such a request
/// waits to run alone) and a render slot, waiting at most `render_wait_ms` for both.
pub async fn reserve(state: &AppState, bytes: u64) -> Result<Reservation, ApiError> {
    let budget_kib = state.config.limits.render_budget_mb.max(1) * 1024;
    let kib = bytes.div_ceil(1024).clamp(1, budget_kib);
    let kib = u32::try_from(kib).unwrap_or(u32::MAX);
    let wait = Duration::from_millis(state.config.limits.render_wait_ms);
    let (slots, budget) = (Arc::clone(&state.renders), Arc::clone(&state.render_budget));
    tokio::time::timeout(wait, async move {
        let bytes = budget.acquire_many_owned(kib).await.ok()?;
        let slot = slots.acquire_owned().await.ok()?;
        Some(Reservation {
            _bytes: bytes,
            _slot: slot,
        })
    })
    .await
    .ok()
    .flatten()
    .ok_or(ApiError::Busy)
}

/// Render a map (one or more layers, the first at the bottom) under the concurrency limit
/// and the render-memory budget, on the blocking pool. Warm tiles skip all three.
///
/// The request first reserves its estimated peak bytes ([`render_cost`]) from the budget and
/// a render slot, waiting at most `render_wait_ms` for both (then 503 `ServerBusy`). An image
/// whose own buffers exceed the whole budget can never run: 400. The decode of fields not
/// yet cached is reserved too, but never more than the whole budget (such a request waits to
/// run alone).
pub async fn render(state: &AppState, reqs: Vec<MapRequest>) -> Result<Arc<Vec<u8>>, ApiError> {
    if let Some(png) = state.tiles.get(&stack_key(&reqs)) {
        return Ok(png);
    }
    let budget_kib = state.config.limits.render_budget_mb.max(1) * 1024;
    let cost = render_cost(state, &reqs);
    let image_kib = cost.image.div_ceil(1024);
    if image_kib > budget_kib {
        return Err(ApiError::TooExpensive {
            needed: cost.image,
            budget: budget_kib * 1024,
        });
    }
    let permits = reserve(state, cost.image + cost.decode).await?;
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let _permits = permits;
        render_stack_png(&st, &reqs)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("render task failed: {e}")))?
}
