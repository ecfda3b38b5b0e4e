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
//!   dropped, also across the seam of a global grid or of a Yin-Yang pair). Winds on grids
//!   whose axes turn come from the UU+VV pair layer, both components interpolated, then
//!   turned east and north by the angle of the grid's i axis at the observation.
//! - Which level: a field with a single level that is not a pressure level (`P0`, `PN`, a
//!   2-D field) serves every observation. Otherwise surface reports (`prepbufrReportType`
//!   180–199, 280–299, or no `MetaData/pressure`) take the surface level (the lowest height
//!   above ground, else sigma or hybrid 1.0, else `ip1` 0), and the others are linear in
//!   ln(pressure) between the two pressure levels (ip1 kind 2) around their
//!   `MetaData/pressure` (Pa); outside the levels, dropped.
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

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use fst_core::ip::LevelKind;
use ioda::ObsDataset;
use serde::Serialize;

use super::{Extent, ObsIndex, ObsLayer, Quantity};
use crate::error::ApiError;
use crate::render::FieldValues;
use crate::source::{Layer, Slice, Snapshot};
use crate::state::AppState;

/// Knots to metres per second (1 kt = 1852 m / 3600 s).
const KNOT: f64 = 1852.0 / 3600.0;

/// One row of the IODA variable ↔ FST nomvar table.
#[derive(Debug, Clone, Copy)]
pub struct Mapping {
    /// Canonical (v3) IODA variable name, without the group.
    pub variable: &'static str,
    /// The FST nomvar of the same quantity.
    pub nomvar: &'static str,
    /// The field's unit in FST (the CMC variable dictionary).
    pub field_units: &'static str,
    /// The observation `units` accepted, each with (scale, offset):
    /// observation unit = field value × scale + offset.
    pub conversions: &'static [(&'static str, f64, f64)],
    /// Wind components: FST's are along the grid's axes. On grids whose axes point east and
    /// north (A, B, G, L and Z/Y grids on an L reference) the component's own layer serves;
    /// on others the UU+VV pair layer (`UV`), both components interpolated and turned east
    /// and north at the observation.
    pub grid_relative: bool,
}

/// IODA variable → FST nomvar, and the unit conversion. The tile server's README has the
/// same table with notes.
pub const TABLE: &[Mapping] = &[
    Mapping {
        variable: "airTemperature",
        nomvar: "TT",
        field_units: "°C",
        conversions: &[("K", 1.0, 273.15)],
        grid_relative: false,
    },
    Mapping {
        variable: "dewpointTemperature",
        nomvar: "TD",
        field_units: "°C",
        conversions: &[("K", 1.0, 273.15)],
        grid_relative: false,
    },
    Mapping {
        variable: "specificHumidity",
        nomvar: "HU",
        field_units: "kg/kg",
        conversions: &[("kg kg-1", 1.0, 0.0), ("kg/kg", 1.0, 0.0), ("1", 1.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "relativeHumidity",
        nomvar: "HR",
        field_units: "1",
        conversions: &[("1", 1.0, 0.0), ("%", 100.0, 0.0), ("percent", 100.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "surfacePressure",
        nomvar: "P0",
        field_units: "hPa",
        conversions: &[("Pa", 100.0, 0.0), ("hPa", 1.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "stationPressure",
        nomvar: "P0",
        field_units: "hPa",
        conversions: &[("Pa", 100.0, 0.0), ("hPa", 1.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "pressureReducedToMeanSeaLevel",
        nomvar: "PN",
        field_units: "hPa",
        conversions: &[("Pa", 100.0, 0.0), ("hPa", 1.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "geopotentialHeight",
        nomvar: "GZ",
        field_units: "dam",
        conversions: &[("m", 10.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "windEastward",
        nomvar: "UU",
        field_units: "kt",
        conversions: &[("m s-1", KNOT, 0.0), ("m/s", KNOT, 0.0)],
        grid_relative: true,
    },
    Mapping {
        variable: "windNorthward",
        nomvar: "VV",
        field_units: "kt",
        conversions: &[("m s-1", KNOT, 0.0), ("m/s", KNOT, 0.0)],
        grid_relative: true,
    },
    Mapping {
        variable: "seaSurfaceTemperature",
        nomvar: "TM",
        field_units: "K",
        conversions: &[("K", 1.0, 0.0)],
        grid_relative: false,
    },
];

/// The row of `variable` (canonical name, with or without its group).
#[must_use]
pub fn mapping(variable: &str) -> Option<&'static Mapping> {
    let name = variable.rsplit('/').next().unwrap_or(variable);
    TABLE.iter().find(|m| m.variable == name)
}

/// (scale, offset) from the field's unit to `obs_units`, if the table converts to it.
fn conversion(m: &Mapping, obs_units: Option<&str>) -> Option<(f64, f64)> {
    let units = obs_units?.trim();
    m.conversions
        .iter()
        .find(|(u, _, _)| *u == units)
        .map(|(_, s, o)| (*s, *o))
}

/// Whether a grid's axes point east and north.
fn geographic_axes(layer: &Layer) -> bool {
    match layer.grid.grtyp() {
        'A' | 'B' | 'G' | 'L' => true,
        'Z' | 'Y' | '#' => layer.grid.ref_grtyp() == Some('L'),
        _ => false,
    }
}

/// How a field answers in the vertical.
#[derive(Debug, Clone, PartialEq)]
enum Vertical {
    /// One level that is not a pressure level: every observation takes it.
    Single(u32),
    /// Pressure levels (ln hPa, ip1), highest pressure first, and the surface level.
    Levels {
        pressure: Vec<(f64, u32)>,
        surface: Option<u32>,
    },
}

impl Vertical {
    /// The ip1 of each level slot (the pressure levels, then the single or surface level),
    /// and the slot of the single or surface level.
    fn slots(&self) -> (Vec<u32>, Option<usize>) {
        match self {
            Self::Single(ip1) => (vec![*ip1], Some(0)),
            Self::Levels { pressure, surface } => {
                let mut s: Vec<u32> = pressure.iter().map(|p| p.1).collect();
                let slot = surface.map(|ip1| {
                    s.push(ip1);
                    s.len() - 1
                });
                (s, slot)
            }
        }
    }

    fn of(layer: &Layer) -> Option<Self> {
        if let [(ip1, level)] = layer.levels.as_slice() {
            if level.is_none_or(|l| l.kind != LevelKind::Pressure || *ip1 == 0) {
                return Some(Self::Single(*ip1));
            }
        }
        let mut pressure: Vec<(f64, u32)> = layer
            .levels
            .iter()
            .filter_map(|(ip1, l)| {
                let l = (*l)?;
                (l.kind == LevelKind::Pressure && l.value > 0.0 && *ip1 != 0)
                    .then(|| (f64::from(l.value).ln(), *ip1))
            })
            .collect();
        pressure.sort_by(|a, b| b.0.total_cmp(&a.0));
        // One slot per level value (two ip1 encodings of one pressure are one level).
        pressure.dedup_by(|a, b| a.0.to_bits() == b.0.to_bits());
        let above_ground = layer
            .levels
            .iter()
            .filter_map(|(ip1, l)| {
                let l = (*l)?;
                (l.kind == LevelKind::HeightAboveGround).then_some((l.value, *ip1))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, ip1)| ip1);
        let unit_level = || {
            layer.levels.iter().find_map(|(ip1, l)| {
                let l = (*l)?;
                (matches!(l.kind, LevelKind::Sigma | LevelKind::Hybrid)
                    && (l.value - 1.0).abs() < 1e-6)
                    .then_some(*ip1)
            })
        };
        let zero = || layer.levels.iter().find(|(ip1, _)| *ip1 == 0).map(|l| l.0);
        let surface = above_ground.or_else(unit_level).or_else(zero);
        (!pressure.is_empty() || surface.is_some()).then_some(Self::Levels { pressure, surface })
    }
}

/// The field layer an observation variable departs from, and the conversion to its units:
/// `chosen` (config `obs.model_layers`, by variable) if it names a layer of the mapped
/// nomvar, else the layer named as the nomvar, else the first such layer by name; a layer
/// qualifies with a usable vertical ([`Vertical`]) and, for winds, a grid whose axes point
/// east and north.
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
    if let Some(name) = chosen.get(m.variable) {
        return snapshot
            .layers
            .get(name)
            .filter(|l| usable(l) || usable_pair(l))
            .map(Arc::clone);
    }
    if let Some(l) = snapshot.layers.get(m.nomvar).filter(|l| usable(l)) {
        return Some(Arc::clone(l));
    }
    snapshot
        .layers
        .values()
        .find(|l| usable(l))
        .or_else(|| snapshot.layers.values().find(|l| usable_pair(l)))
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
    /// Above the top or below the bottom pressure level, no pressure where one is needed,
    /// or a surface report where the field has no surface level.
    pub outside_levels: usize,
    /// A record needed is absent, or a grid point around the observation is missing.
    pub missing_field: usize,
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
    /// The equivalents only: the observations' arrays are shared with (and charged to) the
    /// variable's own index.
    fn weight(&self) -> usize {
        self.model().map_or(0, |m| m.values.len() * 8) + 256
    }
}

/// Where one observation takes the field: indices, and (slot, weight) in time and level.
#[derive(Debug, Clone, Copy)]
struct Plan {
    i: f64,
    j: f64,
    time: usize,
    w_time: f64,
    level: usize,
    w_level: f64,
}

/// Bilinear value at fractional indices (i, j) of `f`, in f64; NaN outside the points or
/// where a corner is missing, and across the row `seam` (the Yin-Yang boundary).
fn bilinear(f: &FieldValues, i: f64, j: f64, seam: Option<usize>) -> f64 {
    let (ni, nj) = (f.ni, f.nj);
    if ni == 0 || nj == 0 || !(i >= 0.0 && j >= 0.0) {
        return f64::NAN;
    }
    if i > (ni - 1) as f64 || j > (nj - 1) as f64 {
        return f64::NAN;
    }
    let i0 = (i.floor() as usize).min(ni.saturating_sub(2));
    let j0 = (j.floor() as usize).min(nj.saturating_sub(2));
    let (i1, j1) = ((i0 + 1).min(ni - 1), (j0 + 1).min(nj - 1));
    if seam.is_some_and(|h| (j0 < h) != (j1 < h)) {
        return f64::NAN;
    }
    let (a, b) = (i - i0 as f64, j - j0 as f64);
    let at = |x: usize, y: usize| f.values.get(x + y * ni).map_or(f64::NAN, |v| f64::from(*v));
    let top = at(i0, j0) + a * (at(i1, j0) - at(i0, j0));
    let bottom = at(i0, j1) + a * (at(i1, j1) - at(i0, j1));
    top + b * (bottom - top)
}

/// The surface reports of a prepbufr report type.
fn surface_type(t: f64) -> bool {
    (180.0..200.0).contains(&t) || (280.0..300.0).contains(&t)
}

/// A variable of the observation files, one value per location, NaN where missing; `None`
/// where the files do not have it or its shape is not one per location.
fn per_location(dataset: &ObsDataset, name: &str, n: usize) -> Option<Vec<f64>> {
    let info = dataset.variable(name)?;
    let values = dataset.read(&info.name.to_string()).ok()?.to_f64();
    (values.len() == n).then_some(values)
}

/// The record of each (valid time, ip1): the latest run's.
type RecordMap = BTreeMap<(i64, u32), Slice>;

fn records_of(layer: &Layer) -> RecordMap {
    let mut out: RecordMap = BTreeMap::new();
    for s in &layer.slices {
        let key = (s.valid.timestamp(), s.ip1);
        if out.get(&key).is_none_or(|old| old.run < s.run) {
            out.insert(key, s.clone());
        }
    }
    out
}

/// What places every observation in the field: the grid indices, the valid times, the
/// level slots and the observations' vertical metadata.
struct Planner<'a> {
    index: &'a ObsIndex,
    gi: Vec<f64>,
    gj: Vec<f64>,
    ni: usize,
    nj: usize,
    times: Vec<i64>,
    vertical: &'a Vertical,
    surface_slot: Option<usize>,
    pressure: Option<Vec<f64>>,
    report: Option<Vec<f64>>,
    /// Seconds either side of a field's only valid time that it serves.
    single_time_window: u64,
}

impl Planner<'_> {
    /// The plan of observation `k`, or `None` with the reason counted in `dropped`.
    fn plan(&self, k: usize, dropped: &mut Dropped) -> Option<Plan> {
        if self
            .index
            .position(k)
            .is_none_or(|(x, y)| !(x.is_finite() && y.is_finite()))
        {
            dropped.no_location += 1;
            return None;
        }
        let (i, j) = (self.gi[k], self.gj[k]);
        // In f64: a grid of no points has no inside (and no `0 - 1`).
        let inside = i >= 0.0 && j >= 0.0 && i <= self.ni as f64 - 1.0 && j <= self.nj as f64 - 1.0;
        if !inside {
            dropped.outside_grid += 1;
            return None;
        }
        let Some(t) = self.index.time(k) else {
            dropped.no_time += 1;
            return None;
        };
        let times = &self.times;
        let (time, w_time) = match times.binary_search(&t) {
            Ok(at) => (at, 0.0),
            Err(after) if after > 0 && after < times.len() => {
                let (t0, t1) = (times[after - 1], times[after]);
                (after - 1, (t - t0) as f64 / (t1 - t0) as f64)
            }
            // One valid time (an analysis): the observations of its window.
            Err(_) if times.len() == 1 && t.abs_diff(times[0]) <= self.single_time_window => {
                (0, 0.0)
            }
            Err(_) => {
                dropped.outside_times += 1;
                return None;
            }
        };
        let Some((level, w_level)) = self.level(k) else {
            dropped.outside_levels += 1;
            return None;
        };
        Some(Plan {
            i,
            j,
            time,
            w_time,
            level,
            w_level,
        })
    }

    /// The level slot and weight of observation `k` (see the module's rules).
    fn level(&self, k: usize) -> Option<(usize, f64)> {
        let Vertical::Levels {
            pressure: levels, ..
        } = self.vertical
        else {
            return Some((0, 0.0));
        };
        let p = self.pressure.as_ref().and_then(|p| p.get(k).copied());
        let surface = self
            .report
            .as_ref()
            .and_then(|r| r.get(k).copied())
            .is_some_and(surface_type)
            || p.is_none_or(|p| !p.is_finite());
        if surface {
            return self.surface_slot.map(|s| (s, 0.0));
        }
        // ln hPa; levels run from the highest pressure up.
        let lp = (p.unwrap_or(f64::NAN) / 100.0).ln();
        let b = levels.iter().rposition(|(l, _)| *l >= lp)?;
        if b + 1 < levels.len() {
            let (l0, l1) = (levels[b].0, levels[b + 1].0);
            Some((b, (lp - l0) / (l1 - l0)))
        } else if levels[b].0 <= lp {
            // At the top level exactly.
            Some((b, 0.0))
        } else {
            None
        }
    }
}

/// The weight of record (time `t`, level slot `s`) in observation plan `p`.
fn weight(p: &Plan, t: usize, s: usize) -> f64 {
    let wt = if p.time == t {
        1.0 - p.w_time
    } else if p.time + 1 == t {
        p.w_time
    } else {
        0.0
    };
    let wl = if p.level == s {
        1.0 - p.w_level
    } else if p.level + 1 == s {
        p.w_level
    } else {
        0.0
    };
    wt * wl
}

/// Which values of a record an accumulation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Component {
    /// The record's values.
    Scalar,
    /// The first component of a vector layer's pair (UU, along the grid's i axis).
    U,
    /// The second (VV, along j).
    V,
}

/// The records of a field by (valid time, level slot), and how to sample them.
struct Records<'a> {
    by_key: RecordMap,
    times: &'a [i64],
    slots: &'a [u32],
    seam: Option<usize>,
}

impl Records<'_> {
    /// Σ weight × value over the records each plan uses, record by record (only those some
    /// observation needs with a nonzero weight, so that one decoded field at a time is held
    /// here), and whether a value used was missing.
    fn accumulate(
        &self,
        state: &AppState,
        field: &Layer,
        plans: &[Option<Plan>],
        component: Component,
    ) -> Result<(Vec<f64>, Vec<bool>), ApiError> {
        let n = plans.len();
        let mut values = vec![0.0f64; n];
        let mut missing = vec![false; n];
        for (t, valid) in self.times.iter().enumerate() {
            for (s, ip1) in self.slots.iter().enumerate() {
                if !plans.iter().flatten().any(|p| weight(p, t, s) != 0.0) {
                    continue;
                }
                let f: Option<Arc<FieldValues>> = match self.by_key.get(&(*valid, *ip1)) {
                    None => None,
                    Some(slice) => Some(match component {
                        Component::Scalar => crate::maps::field(state, &field.name, slice)?,
                        Component::U | Component::V => {
                            let uv = crate::maps::components(state, &field.name, slice)?;
                            Arc::new(if component == Component::U {
                                uv.0.clone()
                            } else {
                                uv.1.clone()
                            })
                        }
                    }),
                };
                for (k, plan) in plans.iter().enumerate() {
                    let Some(p) = plan else { continue };
                    let w = weight(p, t, s);
                    if w == 0.0 {
                        continue;
                    }
                    let v = f
                        .as_ref()
                        .map_or(f64::NAN, |f| bilinear(f, p.i, p.j, self.seam));
                    if v.is_finite() {
                        values[k] += w * v;
                    } else {
                        missing[k] = true;
                    }
                }
            }
        }
        Ok((values, missing))
    }
}

/// Angle (radians, counter-clockwise from east) of the grid's i axis at fractional (i, j):
/// a centred difference of a thousandth of a cell on the local tangent plane (the grids
/// wind layers come on are conformal, so j is a quarter turn further).
fn axis_angle(grid: &grids::Grid, i: f64, j: f64) -> Option<f64> {
    const H: f64 = 1e-3;
    let (ni, _) = grid.shape();
    let (a, b) = ((i - H).max(-0.5), (i + H).min(ni as f64 - 0.5));
    let (la0, lo0) = grid.point(a, j)?;
    let (la1, lo1) = grid.point(b, j)?;
    let dlon = ((lo1 - lo0 + 540.0).rem_euclid(360.0)) - 180.0;
    let dx = dlon * (0.5 * (la0 + la1)).to_radians().cos();
    let dy = la1 - la0;
    (dx != 0.0 || dy != 0.0).then(|| dy.atan2(dx))
}

/// Compute the model equivalents of `index`'s observations (those of `layer`'s files) from
/// the field layer `field`. Blocking: decodes the records needed, one at a time (through
/// the server's field cache).
pub fn compute(
    state: &AppState,
    layer: &ObsLayer,
    index: &ObsIndex,
    field: &Layer,
) -> Result<ModelEquivalents, ApiError> {
    let m = mapping(&layer.variable).ok_or_else(|| {
        ApiError::Internal(format!("{}: no FST field maps to it", layer.variable))
    })?;
    let (scale, offset) = conversion(m, layer.units.as_deref()).ok_or_else(|| {
        ApiError::Internal(format!(
            "{}: units {:?} are not converted from {}",
            layer.variable, layer.units, m.field_units
        ))
    })?;
    let vertical = Vertical::of(field)
        .ok_or_else(|| ApiError::Internal(format!("field {} has no usable level", field.name)))?;
    let n = index.locations();
    let dataset =
        ObsDataset::open_members(&layer.members, ioda::Limits::default()).map_err(|e| {
            tracing::error!("observation layer {}: {e}", layer.name);
            ApiError::Internal(format!("observation layer `{}` is unreadable", layer.name))
        })?;
    let pressure = per_location(&dataset, "MetaData/pressure", n);
    let report = per_location(&dataset, "MetaData/prepbufrReportType", n);
    drop(dataset);

    // Horizontal: grids' bulk inverse.
    let (mut lon, mut lat) = (vec![f64::NAN; n], vec![f64::NAN; n]);
    for k in 0..n {
        if let Some((x, y)) = index.position(k) {
            lon[k] = x;
            lat[k] = y;
        }
    }
    let (mut gi, mut gj) = (vec![f64::NAN; n], vec![f64::NAN; n]);
    field
        .grid
        .index_of_many(&lon, &lat, &mut gi, &mut gj)
        .map_err(|e| ApiError::Internal(format!("field {}: grid: {e}", field.name)))?;
    drop((lon, lat));
    let seam = (field.grid.grtyp() == 'U').then(|| field.grid.shape().1 / 2);
    let (ni, nj) = field.grid.shape();

    let records = records_of(field);
    let mut times: Vec<i64> = records.keys().map(|k| k.0).collect();
    times.dedup();
    let (slots, surface_slot) = vertical.slots();
    let planner = Planner {
        index,
        gi,
        gj,
        ni,
        nj,
        times,
        vertical: &vertical,
        surface_slot,
        pressure,
        report,
        single_time_window: u64::from(state.config.obs.half_window_minutes) * 60,
    };
    let mut dropped = Dropped::default();
    let plans: Vec<Option<Plan>> = (0..n).map(|k| planner.plan(k, &mut dropped)).collect();

    let records = Records {
        by_key: records,
        times: &planner.times,
        slots: &slots,
        seam,
    };
    let (mut values, missing) = if field.vector {
        // Grid-relative components, each interpolated, then turned east and north at the
        // observation (the turn is linear in the components: the order does not matter).
        let (u, u_missing) = records.accumulate(state, field, &plans, Component::U)?;
        let (v, v_missing) = records.accumulate(state, field, &plans, Component::V)?;
        let east = m.nomvar == "UU";
        let mut out = vec![f64::NAN; n];
        let mut missing = vec![false; n];
        for (k, plan) in plans.iter().enumerate() {
            let Some(p) = plan else { continue };
            if let Some(a) = axis_angle(&field.grid, p.i, p.j) {
                let (c, s) = (a.cos(), a.sin());
                out[k] = if east {
                    u[k] * c - v[k] * s
                } else {
                    u[k] * s + v[k] * c
                };
                missing[k] = u_missing[k] || v_missing[k];
            } else {
                missing[k] = true;
            }
        }
        (out, missing)
    } else {
        records.accumulate(state, field, &plans, Component::Scalar)?
    };
    for (k, plan) in plans.iter().enumerate() {
        if plan.is_none() {
            values[k] = f64::NAN;
        } else if missing[k] {
            dropped.missing_field += 1;
            values[k] = f64::NAN;
        } else {
            values[k] = values[k] * scale + offset;
        }
    }
    Ok(ModelEquivalents {
        values,
        dropped,
        field: field.name.clone(),
    })
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

/// The index of an O−F layer: its variable's index with the model equivalents, computed
/// unless cached for these observation files and this field version. Blocking.
pub fn departure_index(state: &AppState, layer: &ObsLayer) -> Result<Arc<ObsIndex>, ApiError> {
    let base = state.obs.index(layer).map_err(|e| {
        tracing::error!("observation layer {}: {e}", layer.name);
        ApiError::Internal(format!("observation layer `{}` is unreadable", layer.name))
    })?;
    let name = layer.model.as_deref().unwrap_or_default();
    let snapshot = state.snapshot();
    let field = snapshot
        .layers
        .get(name)
        .map(Arc::clone)
        .ok_or_else(|| ApiError::LayerNotDefined(layer.name.clone()))?;
    let key = format!("{}|{}|{:016x}", layer.name, base.stamp, field_key(&field));
    if let Some(hit) = state.obs.departures.get(&key) {
        return Ok(hit);
    }
    let model = compute(state, layer, &base, &field)?;
    tracing::info!(
        "O−F layer {}: {} of {} observations against {} ({:?} dropped)",
        layer.name,
        model.values.iter().filter(|v| v.is_finite()).count(),
        model.values.len(),
        field.name,
        model.dropped
    );
    let index = Arc::new(base.with_model(Arc::new(model)));
    state.obs.departures.put(key, Arc::clone(&index));
    Ok(index)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // values exact by construction
mod tests {
    use super::*;

    #[test]
    fn table_converts_field_units_to_observation_units() {
        let t = mapping("ObsValue/airTemperature").unwrap();
        assert_eq!(t.nomvar, "TT");
        assert_eq!(conversion(t, Some("K")), Some((1.0, 273.15)));
        assert_eq!(conversion(t, Some("degC")), None);
        let p = mapping("stationPressure").unwrap();
        assert_eq!(conversion(p, Some("Pa")), Some((100.0, 0.0)));
        let u = mapping("windEastward").unwrap();
        let (s, _) = conversion(u, Some("m s-1")).unwrap();
        assert!((s * 3600.0 - 1852.0).abs() < 1e-9);
        assert!(mapping("brightnessTemperature").is_none());
    }

    #[test]
    fn bilinear_needs_the_four_points_around() {
        let f = FieldValues {
            ni: 3,
            nj: 2,
            values: vec![0.0, 1.0, 2.0, 10.0, 11.0, 12.0],
        };
        assert_eq!(bilinear(&f, 0.5, 0.5, None), 5.5);
        assert_eq!(bilinear(&f, 2.0, 1.0, None), 12.0);
        assert!(bilinear(&f, 2.01, 0.0, None).is_nan());
        assert!(bilinear(&f, -0.01, 0.0, None).is_nan());
        assert!(bilinear(&f, f64::NAN, 0.0, None).is_nan());
        assert!(bilinear(&f, 0.5, 0.5, Some(1)).is_nan());
        let holed = FieldValues {
            values: vec![0.0, f32::NAN, 2.0, 10.0, 11.0, 12.0],
            ..f
        };
        assert!(bilinear(&holed, 0.5, 0.5, None).is_nan());
        assert!(bilinear(&holed, 1.5, 0.0, None).is_nan());
    }

    #[test]
    fn surface_report_types() {
        assert!(surface_type(181.0));
        assert!(surface_type(281.0));
        assert!(!surface_type(120.0));
        assert!(!surface_type(f64::NAN));
    }
}
