//! The viewer at `/` and its vendored assets (Leaflet 1.9.4 from npm, and Natural Earth's
//! coastlines and borders from the npm package `world-atlas`, committed under `static/`),
//! compiled into the binary so the viewer works offline.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../static/index.html"),
    ),
    (
        "viewer.js",
        "application/javascript",
        include_bytes!("../../static/viewer.js"),
    ),
    (
        "naturalearth/countries-50m.json",
        "application/json",
        include_bytes!("../../static/naturalearth/countries-50m.json"),
    ),
    (
        "leaflet/leaflet.js",
        "application/javascript",
        include_bytes!("../../static/leaflet/leaflet.js"),
    ),
    (
        "leaflet/leaflet.css",
        "text/css",
        include_bytes!("../../static/leaflet/leaflet.css"),
    ),
    (
        "leaflet/images/layers.png",
        "image/png",
        include_bytes!("../../static/leaflet/images/layers.png"),
    ),
    (
        "leaflet/images/layers-2x.png",
        "image/png",
        include_bytes!("../../static/leaflet/images/layers-2x.png"),
    ),
    (
        "leaflet/images/marker-icon.png",
        "image/png",
        include_bytes!("../../static/leaflet/images/marker-icon.png"),
    ),
    (
        "leaflet/images/marker-shadow.png",
        "image/png",
        include_bytes!("../../static/leaflet/images/marker-shadow.png"),
    ),
];

fn asset(name: &str) -> Result<Response, ApiError> {
    let (_, ctype, bytes) = ASSETS
        .iter()
        .find(|a| a.0 == name)
        .ok_or_else(|| ApiError::NotFound(format!("static/{}", crate::params::clip(name))))?;
    Ok((
        [
            (header::CONTENT_TYPE, *ctype),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        *bytes,
    )
        .into_response())
}

/// `GET /`.
pub async fn index() -> Result<Response, ApiError> {
    asset("index.html")
}

/// `GET /static/{*path}`: a fixed table, so no path can escape it.
pub async fn static_file(Path(path): Path<String>) -> Result<Response, ApiError> {
    asset(&path)
}
