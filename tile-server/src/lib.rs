#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// The crate documentation is the README, written as prose for people (OGC names unquoted).
#![allow(clippy::doc_markdown)]

pub mod cache;
pub mod config;
pub mod dims;
pub mod error;
pub mod maps;
pub mod metrics;
pub mod obs;
pub mod params;
pub mod render;
pub mod routes;
pub mod serve;
pub mod sidecars;
pub mod source;
pub mod state;
pub mod styles;
pub mod vars;
pub mod watch;

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub use config::Config;
pub use error::ApiError;
pub use state::AppState;

async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let t0 = Instant::now();
    let r = next.run(req).await;
    state
        .metrics
        .observe(&route, r.status().as_u16(), t0.elapsed().as_secs_f64());
    r
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

/// The whole HTTP API. Tests call this directly (no socket). `GET` routes answer `HEAD` too.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(routes::viewer::index))
        .route("/static/{*path}", get(routes::viewer::static_file))
        .route("/wms", get(routes::wms::wms))
        .route("/ows", get(routes::wms::wms))
        .route("/tiles/{layer}/tilejson.json", get(routes::xyz::tilejson))
        .route("/tiles/{layer}/{z}/{x}/{y}", get(routes::xyz::tile))
        .route("/api/layers", get(routes::catalog::layers))
        .route("/collections", get(obs::routes::collections))
        .route("/collections/{layer}/items", get(obs::routes::items))
        .route("/collections/{layer}/stats", get(obs::routes::stats))
        .route("/healthz", get(routes::health::healthz))
        .route("/metrics", get(routes::health::metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}
