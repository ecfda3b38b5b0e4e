//! `GET /api/layers`: the catalog as JSON (layers, dimensions, styles), for the viewer and
//! scripts.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::dims::{self, iso};
use crate::state::AppState;

/// The layer list.
pub async fn layers(State(state): State<AppState>) -> impl IntoResponse {
    let snap = state.snapshot();
    let layers: Vec<serde_json::Value> = snap
        .layers
        .values()
        .map(|l| {
            serde_json::json!({
                "name": l.name,
                "title": l.title,
                "nomvar": l.nomvar, "typvar": l.typvar, "etiket": l.etiket,
                "units": l.units,
                "vector": l.vector,
                "grid": l.grid.grtyp().to_string(),
                "bbox": l.bbox,
                "times": l.times.iter().map(|t| iso(*t)).collect::<Vec<_>>(),
                "default_time": dims::default_time(l).map(iso),
                "reference_times": l.runs.iter().map(|t| iso(*t)).collect::<Vec<_>>(),
                "levels": l.levels.iter().map(dims::level_text).collect::<Vec<_>>(),
                "runs": l.runs.iter().map(|run| {
                    let mut times: Vec<_> = l.slices.iter().filter(|s| s.run == *run).map(|s| s.valid).collect();
                    times.dedup();
                    let levels: Vec<String> = l.levels.iter()
                        .filter(|lv| l.slices.iter().any(|s| s.run == *run && s.ip1 == lv.0))
                        .map(dims::level_text).collect();
                    serde_json::json!({"reference_time": iso(*run), "times": times.iter().map(|t| iso(*t)).collect::<Vec<_>>(), "levels": levels})
                }).collect::<Vec<_>>(),
                "level_units": l.level_units,
                "styles": state.styles.for_layer(&l.nomvar, l.vector).iter().map(|s| serde_json::json!({"name": s.name, "title": s.title})).collect::<Vec<_>>(),
            })
        })
        .collect();
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "generation": snap.generation, "layers": layers }).to_string(),
    )
}
