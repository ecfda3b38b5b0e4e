//! `/healthz` and `/metrics`.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

/// Liveness and a summary of the catalog.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let s = state.snapshot();
    let body = serde_json::json!({
        "status": "ok",
        "generation": s.generation,
        "files": s.files.len(),
        "layers": s.layers.len(),
        // File names only: /healthz is public, the server's directories are not.
        "skipped": s.skipped.iter().map(|k| {
            let name = k.path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let reason = k.reason.replace(&k.path.display().to_string(), &name);
            serde_json::json!({ "file": name, "reason": reason })
        }).collect::<Vec<_>>(),
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
}

/// Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    use std::sync::atomic::Ordering::Relaxed;
    let (fe, fb) = state.fields.usage();
    let (te, tb) = state.tiles.usage();
    let extra = [
        (
            "fst_field_cache_hits_total",
            "counter",
            state.fields.hits.load(Relaxed) as f64,
        ),
        (
            "fst_field_cache_misses_total",
            "counter",
            state.fields.misses.load(Relaxed) as f64,
        ),
        ("fst_field_cache_entries", "gauge", fe as f64),
        ("fst_field_cache_bytes", "gauge", fb as f64),
        (
            "fst_tile_cache_hits_total",
            "counter",
            state.tiles.hits.load(Relaxed) as f64,
        ),
        (
            "fst_tile_cache_misses_total",
            "counter",
            state.tiles.misses.load(Relaxed) as f64,
        ),
        ("fst_tile_cache_entries", "gauge", te as f64),
        ("fst_tile_cache_bytes", "gauge", tb as f64),
        (
            "fst_proj_transforms_idle",
            "gauge",
            crate::render::proj_pool::idle_count() as f64,
        ),
        (
            "fst_catalog_layers",
            "gauge",
            state.snapshot().layers.len() as f64,
        ),
    ];
    let c = &state.connections;
    let conns = [
        ("open", "gauge", &c.open),
        ("accepted_total", "counter", &c.accepted),
        ("refused_per_ip_total", "counter", &c.refused_per_ip),
        ("refused_total", "counter", &c.refused_total),
    ];
    let names: Vec<String> = conns
        .iter()
        .map(|(n, _, _)| format!("fst_connections_{n}"))
        .collect();
    let extra: Vec<(&str, &str, f64)> = extra
        .into_iter()
        .chain(
            conns
                .iter()
                .zip(&names)
                .map(|((_, kind, v), name)| (name.as_str(), *kind, v.load(Relaxed) as f64)),
        )
        .collect();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&extra),
    )
}
