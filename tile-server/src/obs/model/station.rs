//! Station pressure against the model's surface pressure: `P0` is the pressure at the
//! model's orography, a station reports at its own elevation, and in mountains the two
//! differ by tens of hPa. The field's value is carried from the model's surface height to
//! the station's through the ICAO standard atmosphere.

use std::collections::BTreeMap;
use std::sync::Arc;

use fst_core::ip::LevelKind;

use super::interp::{bilinear, records_of};
use crate::error::ApiError;
use crate::source::{Layer, Slice};
use crate::state::AppState;

/// ICAO standard atmosphere: sea-level temperature (K), tropospheric lapse rate (K/m),
/// standard gravity (m/s²) and the gas constant of dry air (J/(kg·K)).
const T0: f64 = 288.15;
const LAPSE: f64 = 0.0065;
const G: f64 = 9.806_65;
const R_DRY: f64 = 287.053;

/// Pressure at height `z_station` (m) from pressure `p_model` at height `z_model` (m), in
/// `p_model`'s unit: the standard atmosphere's ratio
/// `((T0 − L·z_station) / (T0 − L·z_model))^(g / (R·L))`, hydrostatic with the standard
/// lapse rate through the layer between the two heights.
#[must_use]
pub(super) fn reduce(p_model: f64, z_model: f64, z_station: f64) -> f64 {
    let ratio = (T0 - LAPSE * z_station) / (T0 - LAPSE * z_model);
    p_model * ratio.powf(G / (R_DRY * LAPSE))
}

/// Whether a level is the ground: ip1 0, sigma or hybrid 1.0, or 0 m above ground.
fn at_ground(ip1: u32, level: Option<fst_core::ip::Level>) -> bool {
    ip1 == 0
        || level.is_some_and(|l| match l.kind {
            LevelKind::Sigma | LevelKind::Hybrid => (l.value - 1.0).abs() < 1e-6,
            LevelKind::HeightAboveGround => l.value == 0.0,
            _ => false,
        })
}

/// The record of the model's orography among `layers`, and the factor to metres: `ME`
/// (m), else `GZ` at the ground (dam); on `field`'s grid first (same shape and type), then
/// by name. Orography does not change in time: the latest record.
fn orography_record(
    layers: &BTreeMap<String, Arc<Layer>>,
    field: &Layer,
) -> Option<(Arc<Layer>, Slice, f64)> {
    let same_grid =
        |l: &Layer| l.grid.grtyp() == field.grid.grtyp() && l.grid.shape() == field.grid.shape();
    let mut best: Option<(bool, &str, &Arc<Layer>, Slice, f64)> = None;
    for (nomvar, to_metres) in [("ME", 1.0), ("GZ", 10.0)] {
        for l in layers.values().filter(|l| !l.vector && l.nomvar == nomvar) {
            let Some(slice) = records_of(l)
                .into_values()
                .rfind(|s| nomvar == "ME" || at_ground(s.ip1, s.level))
            else {
                continue;
            };
            let rank = !same_grid(l);
            if best
                .as_ref()
                .is_none_or(|b| (rank, l.name.as_str()) < (b.0, b.1))
            {
                best = Some((rank, l.name.as_str(), l, slice, to_metres));
            }
        }
        if best.is_some() {
            break;
        }
    }
    best.map(|(_, _, l, s, f)| (Arc::clone(l), s, f))
}

/// Why an observation has no reduced pressure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Missing {
    /// The data directories have no orography, or it has no value at the observation.
    Orography,
    /// The observation has no elevation.
    Elevation,
}

/// The heights that carry `P0` to each station: the model's orography at the
/// observations and the stations' elevations.
pub(super) struct Reduction {
    orography: Option<Vec<f64>>,
    elevation: Option<Vec<f64>>,
}

impl Reduction {
    /// The orography of the data directories (see [`orography_record`]) interpolated
    /// bilinearly at (`lon`, `lat`), and the stations' `elevation` (m).
    pub(super) fn new(
        state: &AppState,
        field: &Layer,
        lon: &[f64],
        lat: &[f64],
        elevation: Option<Vec<f64>>,
    ) -> Result<Self, ApiError> {
        let snapshot = state.snapshot();
        let Some((layer, slice, to_metres)) = orography_record(&snapshot.layers, field) else {
            return Ok(Self {
                orography: None,
                elevation,
            });
        };
        let values = crate::maps::field(state, &layer.name, &slice)?;
        let n = lon.len();
        let (mut gi, mut gj) = (vec![f64::NAN; n], vec![f64::NAN; n]);
        layer
            .grid
            .index_of_many(lon, lat, &mut gi, &mut gj)
            .map_err(|e| ApiError::Internal(format!("field {}: grid: {e}", layer.name)))?;
        let wrap = layer.grid.wraps_columns();
        let seam = (layer.grid.grtyp() == 'U').then(|| layer.grid.shape().1 / 2);
        let orography = gi
            .iter()
            .zip(&gj)
            .map(|(i, j)| bilinear(&values, *i, *j, seam, wrap) * to_metres)
            .collect();
        Ok(Self {
            orography: Some(orography),
            elevation,
        })
    }

    /// `p_model` (the field's value at observation `k`) carried to the station's elevation.
    pub(super) fn at(&self, k: usize, p_model: f64) -> Result<f64, Missing> {
        let finite = |v: &Option<Vec<f64>>| {
            v.as_ref()
                .and_then(|v| v.get(k).copied())
                .filter(|z| z.is_finite())
        };
        let z_model = finite(&self.orography).ok_or(Missing::Orography)?;
        let z_station = finite(&self.elevation).ok_or(Missing::Elevation)?;
        Ok(reduce(p_model, z_model, z_station))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_atmosphere_loses_about_an_eighth_of_an_hpa_per_metre_near_the_sea() {
        // ICAO: 1013.25 hPa at 0 m, 898.75 hPa at 1000 m, 794.95 hPa at 2000 m.
        assert!((reduce(1013.25, 0.0, 1000.0) - 898.75).abs() < 0.01);
        assert!((reduce(1013.25, 0.0, 2000.0) - 794.95).abs() < 0.01);
        // Up then down again is the identity; the same height changes nothing.
        let up = reduce(950.0, 300.0, 1700.0);
        assert!((reduce(up, 1700.0, 300.0) - 950.0).abs() < 1e-9);
        assert!((reduce(950.0, 420.0, 420.0) - 950.0).abs() < 1e-12);
    }
}
