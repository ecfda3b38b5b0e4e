//! Observation minus model ("O−F"): the departure of each observation from an FST field of
//! the data directories, the field interpolated at the observation.
//!
//! - [`TABLE`] maps IODA variables to nomvars and converts the field's unit to the
//!   observation's (`airTemperature` K ↔ `TT` °C, ...). A layer `{set}.{variable}.OmF` is
//!   listed when the data directories hold a field of the mapped nomvar (the one named
//!   `obs.model_layers` chooses, else the field layer named as the nomvar, else the first by
//!   name) and the observation's `units` are one the table converts to.
//! - Where: bilinear in the grid's index space, the indices from grids' inverse; an
//!   observation needs the four grid points around it (outside the outermost points it is
//!   dropped, also across the seam of a Yin-Yang pair). On a grid whose columns go round
//!   the globe ([`grids::Grid::wraps_columns`]: global A, G, L or Z grids whose last column
//!   does not repeat the first) an observation between the last column and the first takes
//!   those two columns. Winds on grids whose axes turn come from the UU+VV pair layer, both
//!   components interpolated, then turned east and north by the angle of the grid's i axis
//!   at the observation.
//! - Which level: a field with a single level that is not a pressure level (`P0`, `PN`, a
//!   2-D field) serves every observation. Otherwise:
//!   - surface reports (`prepbufrReportType` 180–199, 280–299) take the surface level (the
//!     lowest height above ground, else sigma or hybrid 1.0, else `ip1` 0); a field without
//!     one but with height levels interpolates them at the report's height;
//!   - an observation with a `MetaData/pressure` (Pa), on a field with pressure levels (ip1
//!     kind 2), is linear in ln(pressure) between the two levels around it;
//!   - an observation with a height and no pressure (or on a field with no pressure
//!     levels), on a field with two or more height levels, is linear in height between the
//!     two levels around it. The height is `MetaData/height`, else
//!     `MetaData/geopotentialHeight` (geopotential metres taken as metres: they differ by
//!     under 0.3 % below 20 km), above sea level; against heights above ground (ip1 kind 4,
//!     used when the field has fewer than two kind-0 levels) it is
//!     `height − MetaData/stationElevation`, and an observation without an elevation is
//!     dropped;
//!   - an observation with neither pressure nor height takes the surface level.
//!
//!   Outside the levels, dropped.
//! - Station pressure (`stationPressure`, `surfacePressure` against `P0`): the field's
//!   value is carried from the model's orography (`ME`, else `GZ` at the ground, on the
//!   field's grid first; interpolated like the field) to the station's elevation
//!   (`MetaData/stationElevation`, else `MetaData/height`) through the ICAO standard
//!   atmosphere. Without an orography field, or without an elevation, dropped
//!   (`no_orography`, `no_elevation`).
//! - When: linear between the two valid times around the observation's (an observation at a
//!   valid time takes that time alone); outside the valid times, or without a time,
//!   dropped. A field with a single valid time (an analysis) serves the observations within
//!   `obs.half_window_minutes` of it, its assimilation window. Where several runs give one
//!   valid time, the latest run's record.
//!
//! Dropped observations have no O−F value (counted by reason in [`ModelEquivalents`] and,
//! over a selection, by `/collections/{layer}/stats`). The equivalents are computed once
//! per (layer, field version, observation files' version) and kept in a cache bounded by
//! `obs.model_cache_mb`.

mod interp;
mod station;
mod table;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

pub use interp::compute;
use interp::Vertical;
use table::conversion;
pub use table::{mapping, Mapping, TABLE};

use super::{Extent, ObsIndex, ObsLayer, Quantity};
use crate::error::ApiError;
use crate::source::{Layer, Snapshot};
use crate::state::AppState;

/// Whether a grid's axes point east and north.
fn geographic_axes(layer: &Layer) -> bool {
    match layer.grid.grtyp() {
        'A' | 'B' | 'G' | 'L' => true,
        'Z' | 'Y' | '#' => layer.grid.ref_grtyp() == Some('L'),
        _ => false,
    }
}

/// The field layer an observation variable departs from, and the conversion to its units:
/// `chosen` (config `obs.model_layers`, by variable) if it names a layer of the mapped
/// nomvar, else the layer named as the nomvar, else the first such layer by name; a layer
/// qualifies with levels the module's rules can use. Winds take the component's layer on a
/// grid whose axes point east and north, else the UU+VV pair layer (turned at each
/// observation).
#[must_use]
pub fn field_for<S: std::hash::BuildHasher>(
    snapshot: &Snapshot,
    variable: &str,
    obs_units: Option<&str>,
    chosen: &HashMap<String, String, S>,
) -> Option<Arc<Layer>> {
    let m = mapping(variable)?;
    conversion(m, obs_units)?;
    let usable = |l: &Layer| {
        l.nomvar == m.nomvar
            && !l.vector
            && Vertical::of(l).is_some()
            && (!m.grid_relative || geographic_axes(l))
    };
    // Winds on grids whose axes turn: the UU+VV pair layer, turned at each observation.
    let usable_pair =
        |l: &Layer| m.grid_relative && l.vector && l.nomvar == "UV" && Vertical::of(l).is_some();
    // Whole fields, not their layers per level kind: a model field's surface level and its
    // pressure or height levels serve one observation operator.
    if let Some(name) = chosen.get(m.variable) {
        return snapshot
            .fields
            .get(name)
            .filter(|l| usable(l) || usable_pair(l))
            .map(Arc::clone);
    }
    if let Some(l) = snapshot.fields.get(m.nomvar).filter(|l| usable(l)) {
        return Some(Arc::clone(l));
    }
    snapshot
        .fields
        .values()
        .find(|l| usable(l))
        .or_else(|| snapshot.fields.values().find(|l| usable_pair(l)))
        .map(Arc::clone)
}

/// The O−F layers of `layers` (one per observed variable without channel that maps to a
/// field of `snapshot`), added after their variable's other layers.
#[must_use]
pub fn with_departure_layers<S: std::hash::BuildHasher>(
    layers: &[ObsLayer],
    snapshot: &Snapshot,
    chosen: &HashMap<String, String, S>,
) -> Vec<ObsLayer> {
    let mut out = Vec::new();
    for l in layers {
        out.push(l.clone());
        if l.quantity != Quantity::ObsValue || l.channel.is_some() {
            continue;
        }
        if let Some(field) = field_for(snapshot, &l.variable, l.units.as_deref(), chosen) {
            out.push(ObsLayer {
                name: format!("{}{}", l.base, Quantity::OmF.suffix()),
                quantity: Quantity::OmF,
                model: Some(field.name.clone()),
                ..l.clone()
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

/// Where and when an O−F layer can have values: the observations' extent within the
/// field's bounds and valid times (the observations' own where they do not meet).
#[must_use]
pub fn departure_extent(obs: Extent, field: &Layer) -> Extent {
    let f = crate::source::bbox_pm180(field.bbox);
    let bbox = [
        obs.bbox[0].max(f[0]),
        obs.bbox[1].max(f[1]),
        obs.bbox[2].min(f[2]),
        obs.bbox[3].min(f[3]),
    ];
    let first = field.times.first().map(chrono::DateTime::timestamp);
    let last = field.times.last().map(chrono::DateTime::timestamp);
    let time = match (obs.time, first, last) {
        (Some((s, e)), Some(a), Some(b)) if s.max(a) <= e.min(b) => Some((s.max(a), e.min(b))),
        (time, _, _) => time,
    };
    Extent {
        bbox: if bbox[0] < bbox[2] && bbox[1] < bbox[3] {
            bbox
        } else {
            obs.bbox
        },
        time,
    }
}

/// Observations without a model equivalent, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// No coordinates.
    pub no_location: usize,
    /// Outside the grid's points.
    pub outside_grid: usize,
    /// No time.
    pub no_time: usize,
    /// Before the first valid time or after the last.
    pub outside_times: usize,
    /// Above the top or below the bottom pressure or height level, no pressure or height
    /// where one is needed (no station elevation against heights above ground), or a
    /// surface report where the field has neither a surface level nor height levels.
    pub outside_levels: usize,
    /// A record needed is absent, or a grid point around the observation is missing.
    pub missing_field: usize,
    /// A station pressure where the data directories have no orography (`ME`, or `GZ` at
    /// the ground) to carry the model's surface pressure to the station, or the orography
    /// has no value at the observation.
    pub no_orography: usize,
    /// A station pressure without the station's elevation (`MetaData/stationElevation`,
    /// else `MetaData/height`).
    pub no_elevation: usize,
}

/// The model equivalents of an observation layer: one per location, NaN where dropped.
#[derive(Debug, Clone)]
pub struct ModelEquivalents {
    /// In the observation's units; NaN where dropped.
    pub values: Vec<f64>,
    /// Why the others were dropped.
    pub dropped: Dropped,
    /// The field layer.
    pub field: String,
}

impl crate::cache::Weigh for ObsIndex {
    /// The equivalents and the layer's own flags only: the observations' arrays are
    /// shared with (and charged to) the variable's own index.
    fn weight(&self) -> usize {
        self.model().map_or(0, |m| m.values.len() * 8) + self.own_bytes() + 256
    }
}

/// A cache key of `field`'s data: every record's file version and index.
fn field_key(field: &Layer) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    field.name.hash(&mut h);
    for s in &field.slices {
        s.data_key().hash(&mut h);
    }
    h.finish()
}

/// Bytes an O−F computation holds at its peak, beside the field cache: per observation its
/// indices, plan, the metadata read (pressure, height, elevation, report type), the sums and
/// the result (about 160 bytes, three sums for winds); and one decoded record (two for the
/// components of a wind pair), f32.
fn working_bytes(locations: usize, field: &Layer) -> u64 {
    let (ni, nj) = field.grid.shape();
    let components = if field.vector { 2 } else { 1 };
    let per_obs = 160 + if field.vector { 18 } else { 0 };
    (locations as u64).saturating_mul(per_obs)
        + (ni as u64 * nj as u64).saturating_mul(4 * components)
}

/// What an O−F request needs: the cached index, or what to compute it from.
enum Lookup {
    Cached(Arc<ObsIndex>),
    Compute {
        base: Arc<ObsIndex>,
        field: Arc<Layer>,
        key: String,
    },
}

/// The variable's index, the field and the cache key of an O−F layer, and the cached
/// equivalents if any. Blocking (builds the variable's index if needed).
fn lookup(state: &AppState, layer: &ObsLayer) -> Result<Lookup, ApiError> {
    let base = state.obs.index(layer).map_err(|e| {
        tracing::error!("observation layer {}: {e}", layer.name);
        ApiError::Internal(format!("observation layer `{}` is unreadable", layer.name))
    })?;
    let name = layer.model.as_deref().unwrap_or_default();
    let snapshot = state.snapshot();
    let field = snapshot
        .fields
        .get(name)
        .map(Arc::clone)
        .ok_or_else(|| ApiError::LayerNotDefined(layer.name.clone()))?;
    let key = format!("{}|{}|{:016x}", layer.name, base.stamp, field_key(&field));
    Ok(match state.obs.departures.get(&key) {
        Some(hit) => Lookup::Cached(hit),
        None => Lookup::Compute { base, field, key },
    })
}

/// The index of an O−F layer: its variable's index with the model equivalents, computed
/// unless cached for these observation files and this field version.
///
/// A computation reserves its working memory (about 160 bytes per observation and one
/// decoded record) from the render budget and a render slot, like a render (waiting at
/// most `limits.render_wait_ms`, then 503), and runs on the blocking pool. Concurrent requests for one layer (same files, same field
/// version) wait for a single computation: the first runs it, the others take its result.
pub async fn departure_index(
    state: &AppState,
    layer: &ObsLayer,
) -> Result<Arc<ObsIndex>, ApiError> {
    let (st, l) = (state.clone(), layer.clone());
    let found = tokio::task::spawn_blocking(move || lookup(&st, &l))
        .await
        .map_err(|e| ApiError::Internal(format!("O−F layer: {e}")))??;
    let (base, field, key) = match found {
        Lookup::Cached(hit) => return Ok(hit),
        Lookup::Compute { base, field, key } => (base, field, key),
    };
    let flight = state.obs.flight(&key);
    // Landed when this request ends, also if it is dropped mid-way (a client gone): the
    // entry never outlives the requests that share it.
    let _landing = Landing {
        state,
        key: &key,
        flight: &flight,
    };
    flight
        .get_or_try_init(|| async {
            // A flight that ended between the lookup and joining this one left its result.
            if let Some(hit) = state.obs.departures.get(&key) {
                return Ok(hit);
            }
            let permits =
                crate::routes::reserve(state, working_bytes(base.locations(), &field)).await?;
            let (st, l, k) = (state.clone(), layer.clone(), key.clone());
            tokio::task::spawn_blocking(move || {
                let _permits = permits;
                st.obs.count_departure_computation();
                let model = compute(&st, &l, &base, &field)?;
                tracing::info!(
                    "O−F layer {}: {} of {} observations against {} ({:?} dropped)",
                    l.name,
                    model.values.iter().filter(|v| v.is_finite()).count(),
                    model.values.len(),
                    field.name,
                    model.dropped
                );
                let index = Arc::new(base.with_model(Arc::new(model)));
                st.obs.departures.put(k, Arc::clone(&index));
                Ok::<_, ApiError>(index)
            })
            .await
            .map_err(|e| ApiError::Internal(format!("O−F layer: {e}")))?
        })
        .await
        .map(Arc::clone)
}

/// Ends a request's part in an O−F flight ([`crate::obs::ObsLayers::land`]) when dropped.
struct Landing<'a> {
    state: &'a AppState,
    key: &'a str,
    flight: &'a crate::obs::Flight,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.state.obs.land(self.key, self.flight);
    }
}
