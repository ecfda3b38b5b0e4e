//! `GetLegendGraphic`: the colour bar of a layer and style, drawn with the colour map the
//! tiles use, over the colour range in use. When that range comes from the data
//! (`COLORSCALERANGE=auto`, or a style range that does not suit the field), the legend takes
//! the same TIME, ELEVATION and `DIM_REFERENCE_TIME` as the map, so that its labels are the
//! map's.

use axum::http::HeaderMap;
use axum::response::Response;

use super::cacheable;
use crate::dims::{self, DimRequest};
use crate::error::ApiError;
use crate::maps;
use crate::params::{check_png, Params};
use crate::render::{self, legend};
use crate::routes::wms::{find_layer, find_style};
use crate::source::Layer;
use crate::state::AppState;
use crate::styles::{ColorRange, Style, StyleKind, StyleOverrides};

/// `REQUEST=GetLegendGraphic`.
pub async fn get_legend(
    state: &AppState,
    headers: &HeaderMap,
    p: &Params,
) -> Result<Response, ApiError> {
    let name = p.req("LAYER")?;
    let layer = match find_layer(state, name) {
        Ok(layer) => layer,
        // Not a field: the legend of an observation layer, or this error.
        Err(e) => return crate::obs::wms::get_legend(state, headers, p, name, e).await,
    };
    let style = find_style(state, &layer, p.get("style").or_else(|| p.get("styles")))?;
    check_png(p.get("format"))?;
    let w = p.size("WIDTH", 1024, Some(110))? as usize;
    let h = p.size("HEIGHT", 2048, Some(300))? as usize;
    let o = p.overrides()?;
    let data = if style.has_color_range() && !matches!(o.range, ColorRange::Fixed(_)) {
        let slice = dims::select(&layer, &DimRequest::from_params(p))?.clone();
        let (st, name) = (state.clone(), layer.name.clone());
        tokio::task::spawn_blocking(move || {
            maps::field(&st, &name, &slice).map(|f| st.ranges.get(&slice.data_key(), &f))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("legend task failed: {e}")))??
    } else {
        None
    };
    let range = style.range_in_use(&o, data.as_ref());
    let png = legend_png(&layer, &style, &o, range, w, h)?;
    Ok(cacheable(state, headers, &png, "image/png"))
}

/// The legend PNG of a layer and style over the colour range `range` (displayed unit).
pub fn legend_png(
    layer: &Layer,
    style: &Style,
    o: &StyleOverrides,
    range: [f64; 2],
    w: usize,
    h: usize,
) -> Result<Vec<u8>, ApiError> {
    let cm = style.color_map_in(o, range);
    let units = style.units.clone().unwrap_or_else(|| layer.units.clone());
    let rgba = if style.kind == StyleKind::Contours {
        let mut img = vec![255u8; w * h * 4];
        let text = format!("{} {units}", style.interval.unwrap_or(0.0));
        let mut canvas = render::canvas::Canvas::new(&mut img, w, h);
        render::font::draw_text(&mut canvas, 4, 4, &text, 2, [20, 20, 20, 255]);
        img
    } else {
        let labels: Vec<Option<String>> = style.intervals.iter().map(|i| i.3.clone()).collect();
        legend::legend(&cm, &labels, &units, w, h)
    };
    render::encode_png(&rgba, w, h).map_err(|e| ApiError::Internal(e.to_string()))
}
