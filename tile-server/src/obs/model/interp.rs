//! Where, which level and when an observation takes the field: the plan of each
//! observation (grid indices, level slot, valid time and weights), and the record-by-record
//! accumulation of the model equivalents.

use std::collections::BTreeMap;
use std::sync::Arc;

use fst_core::ip::LevelKind;
use ioda::ObsDataset;

use super::station::{Missing, Reduction};
use super::table::{conversion, mapping};
use super::{Dropped, ModelEquivalents};
use crate::error::ApiError;
use crate::obs::{ObsIndex, ObsLayer};
use crate::render::FieldValues;
use crate::source::{Layer, Slice};
use crate::state::AppState;

/// How a field answers in the vertical.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Vertical {
    /// One level that is not a pressure level: every observation takes it.
    Single(u32),
    /// Pressure levels (ln hPa, ip1), highest pressure first; height levels (metres, ip1),
    /// lowest first; and the surface level.
    Levels {
        pressure: Vec<(f64, u32)>,
        heights: Heights,
        surface: Option<u32>,
    },
}

/// A field's height levels: two or more of one kind, metres, lowest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Heights {
    /// (metres, ip1), lowest first; empty when the field has fewer than two.
    pub(super) levels: Vec<(f64, u32)>,
    /// Above ground (ip1 kind 4) rather than above sea level (kind 0).
    pub(super) above_ground: bool,
}

impl Heights {
    /// The height levels of `layer` of `kind`, lowest first, one per value; empty unless
    /// there are two or more.
    fn of_kind(layer: &Layer, kind: LevelKind) -> Vec<(f64, u32)> {
        let mut h: Vec<(f64, u32)> = layer
            .levels
            .iter()
            .filter_map(|(ip1, l)| {
                let l = (*l)?;
                (l.kind == kind && l.value.is_finite()).then_some((f64::from(l.value), *ip1))
            })
            .collect();
        h.sort_by(|a, b| a.0.total_cmp(&b.0));
        h.dedup_by(|a, b| a.0.to_bits() == b.0.to_bits());
        if h.len() < 2 {
            h.clear();
        }
        h
    }

    /// Above sea level where the field has two such levels or more, else above ground.
    fn of(layer: &Layer) -> Self {
        let asl = Self::of_kind(layer, LevelKind::Height);
        if asl.is_empty() {
            Self {
                levels: Self::of_kind(layer, LevelKind::HeightAboveGround),
                above_ground: true,
            }
        } else {
            Self {
                levels: asl,
                above_ground: false,
            }
        }
    }
}

impl Vertical {
    /// The ip1 of each level slot (the pressure levels, then the height levels, then the
    /// single or surface level unless it is one of the height levels), and the slot of the
    /// single or surface level.
    fn slots(&self) -> (Vec<u32>, Option<usize>) {
        match self {
            Self::Single(ip1) => (vec![*ip1], Some(0)),
            Self::Levels {
                pressure,
                heights,
                surface,
            } => {
                let mut s: Vec<u32> = pressure.iter().map(|p| p.1).collect();
                s.extend(heights.levels.iter().map(|h| h.1));
                let slot = surface.map(|ip1| {
                    s.iter().position(|x| *x == ip1).unwrap_or_else(|| {
                        s.push(ip1);
                        s.len() - 1
                    })
                });
                (s, slot)
            }
        }
    }

    pub(super) fn of(layer: &Layer) -> Option<Self> {
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
        let heights = Heights::of(layer);
        (!pressure.is_empty() || !heights.levels.is_empty() || surface.is_some()).then_some(
            Self::Levels {
                pressure,
                heights,
                surface,
            },
        )
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

/// Column index `i` of a grid of `ni` columns, with a position half a column west of
/// column 0 on a grid round the globe (`wrap`) counted from the last column instead: it lies
/// between the last column and the first.
pub(super) fn wrap_column(i: f64, ni: usize, wrap: bool) -> f64 {
    if wrap && i < 0.0 {
        i + ni as f64
    } else {
        i
    }
}

/// Bilinear value at fractional indices (i, j) of `f`, in f64; NaN outside the points or
/// where a corner is missing, and across the row `seam` (the Yin-Yang boundary). With
/// `wrap` (the columns go round the globe) i runs from −1 (see [`wrap_column`]) up to `ni`,
/// column 0 following column `ni − 1`.
pub(super) fn bilinear(f: &FieldValues, i: f64, j: f64, seam: Option<usize>, wrap: bool) -> f64 {
    let (ni, nj) = (f.ni, f.nj);
    let i = wrap_column(i, ni, wrap);
    if ni == 0 || nj == 0 || !(i >= 0.0 && j >= 0.0) {
        return f64::NAN;
    }
    let beyond = if wrap {
        i >= ni as f64
    } else {
        i > (ni - 1) as f64
    };
    if beyond || j > (nj - 1) as f64 {
        return f64::NAN;
    }
    let (i0, i1) = if wrap {
        let i0 = (i.floor() as usize).min(ni - 1);
        (i0, (i0 + 1) % ni)
    } else {
        let i0 = (i.floor() as usize).min(ni.saturating_sub(2));
        (i0, (i0 + 1).min(ni - 1))
    };
    let j0 = (j.floor() as usize).min(nj.saturating_sub(2));
    let j1 = (j0 + 1).min(nj - 1);
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
pub(super) type RecordMap = BTreeMap<(i64, u32), Slice>;

pub(super) fn records_of(layer: &Layer) -> RecordMap {
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
    /// The columns go round the globe ([`grids::Grid::wraps_columns`]).
    wrap: bool,
    times: Vec<i64>,
    vertical: &'a Vertical,
    surface_slot: Option<usize>,
    pressure: Option<Vec<f64>>,
    /// `MetaData/height` (else `MetaData/geopotentialHeight`), metres above sea level.
    height: Option<Vec<f64>>,
    /// `MetaData/stationElevation`, metres above sea level.
    elevation: Option<Vec<f64>>,
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
        let (i, j) = (wrap_column(self.gi[k], self.ni, self.wrap), self.gj[k]);
        let ni = self.ni as f64;
        let last_i = if self.wrap { ni } else { ni - 1.0 };
        // In f64: a grid of no points has no inside (and no `0 - 1`).
        let inside = i >= 0.0
            && j >= 0.0
            && (i < last_i || (!self.wrap && i <= last_i))
            && j <= self.nj as f64 - 1.0;
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
        let at = |v: &Option<Vec<f64>>| v.as_ref().and_then(|v| v.get(k).copied());
        let obs = ObsVertical {
            pressure: at(&self.pressure),
            height: at(&self.height),
            elevation: at(&self.elevation),
            report: at(&self.report),
        };
        level_slot(self.vertical, self.surface_slot, obs)
    }
}

/// An observation's vertical metadata (NaN or `None` where missing).
#[derive(Debug, Clone, Copy, Default)]
struct ObsVertical {
    /// `MetaData/pressure`, Pa.
    pressure: Option<f64>,
    /// Metres above sea level.
    height: Option<f64>,
    /// The station's elevation, metres above sea level.
    elevation: Option<f64>,
    /// `prepbufrReportType`.
    report: Option<f64>,
}

/// The level slot and weight at which an observation takes a field answering `vertical`
/// (slots: the pressure levels, then the height levels; `surface_slot` the surface level's),
/// or `None` (see the module's rules).
fn level_slot(
    vertical: &Vertical,
    surface_slot: Option<usize>,
    obs: ObsVertical,
) -> Option<(usize, f64)> {
    let Vertical::Levels {
        pressure: levels,
        heights,
        ..
    } = vertical
    else {
        return Some((0, 0.0));
    };
    let p = obs.pressure.filter(|p| p.is_finite());
    // The observation's height in the field's height coordinate.
    let z = obs
        .height
        .and_then(|h| {
            if heights.above_ground {
                obs.elevation.map(|e| h - e)
            } else {
                Some(h)
            }
        })
        .filter(|z| z.is_finite());
    let in_heights = |z: f64| {
        let slot = levels.len();
        between(&heights.levels, z).map(|(b, w)| (slot + b, w))
    };
    let surface_report = obs.report.is_some_and(surface_type);
    if surface_report {
        return match (surface_slot, z) {
            (Some(s), _) => Some((s, 0.0)),
            (None, Some(z)) => in_heights(z),
            (None, None) => None,
        };
    }
    // An observation with a height is somewhere in the air: never the surface level (also
    // when its height above ground is unknown for want of the station's elevation).
    let has_height = obs.height.is_some_and(f64::is_finite);
    match (p, z) {
        // ln hPa; levels run from the highest pressure up: negated, they ascend.
        (Some(p), _) if !levels.is_empty() => {
            let ascending: Vec<(f64, u32)> = levels.iter().map(|(l, i)| (-l, *i)).collect();
            between(&ascending, -(p / 100.0).ln())
        }
        (_, Some(z)) if !heights.levels.is_empty() => in_heights(z),
        (None, _) if !has_height => surface_slot.map(|s| (s, 0.0)),
        _ => None,
    }
}

/// The slot `b` and weight w of `x` between `levels[b]` and `levels[b + 1]` (their
/// coordinates ascending): linear, w = 0 at the top level exactly; `None` outside.
fn between(levels: &[(f64, u32)], x: f64) -> Option<(usize, f64)> {
    let b = levels.iter().rposition(|(l, _)| *l <= x)?;
    match (levels.get(b), levels.get(b + 1)) {
        (Some((l0, _)), Some((l1, _))) => Some((b, (x - l0) / (l1 - l0))),
        // l0 <= x: at the top level exactly.
        (Some((l0, _)), None) if x <= *l0 => Some((b, 0.0)),
        _ => None,
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
    wrap: bool,
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
                        .map_or(f64::NAN, |f| bilinear(f, p.i, p.j, self.seam, self.wrap));
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

    /// The east (`east`) or north component at each observation of a vector layer: the
    /// grid-relative components, each interpolated, then turned east and north at the
    /// observation (the turn is linear in the components: the order does not matter).
    fn east_or_north(
        &self,
        state: &AppState,
        field: &Layer,
        plans: &[Option<Plan>],
        east: bool,
    ) -> Result<(Vec<f64>, Vec<bool>), ApiError> {
        let (u, u_missing) = self.accumulate(state, field, plans, Component::U)?;
        let (v, v_missing) = self.accumulate(state, field, plans, Component::V)?;
        let mut out = vec![f64::NAN; plans.len()];
        let mut missing = vec![false; plans.len()];
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
        Ok((out, missing))
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

/// The accumulated field values in the observation's units (`(scale, offset)`), carried to
/// the station first for station pressure (`reduction`); NaN where the observation was not
/// planned, and counted in `dropped` where a value was missing or cannot be carried.
fn in_observation_units(
    mut values: Vec<f64>,
    missing: &[bool],
    plans: &[Option<Plan>],
    reduction: Option<&Reduction>,
    (scale, offset): (f64, f64),
    dropped: &mut Dropped,
) -> Vec<f64> {
    for (k, plan) in plans.iter().enumerate() {
        if plan.is_none() {
            values[k] = f64::NAN;
        } else if missing[k] {
            dropped.missing_field += 1;
            values[k] = f64::NAN;
        } else {
            let at_station = reduction.map_or(Ok(values[k]), |r| r.at(k, values[k]));
            values[k] = match at_station {
                Ok(v) => v * scale + offset,
                Err(Missing::Orography) => {
                    dropped.no_orography += 1;
                    f64::NAN
                }
                Err(Missing::Elevation) => {
                    dropped.no_elevation += 1;
                    f64::NAN
                }
            };
        }
    }
    values
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
    let height = per_location(&dataset, "MetaData/height", n)
        .or_else(|| per_location(&dataset, "MetaData/geopotentialHeight", n));
    let elevation = per_location(&dataset, "MetaData/stationElevation", n);
    drop(dataset);
    let station_pressure = m.nomvar == "P0";

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
    // P0 is at the model's orography: carried to each station's elevation (its
    // `stationElevation`, else its `height`).
    let reduction = if station_pressure {
        let station = elevation.clone().or_else(|| height.clone());
        Some(Reduction::new(state, field, &lon, &lat, station)?)
    } else {
        None
    };
    drop((lon, lat));
    let seam = (field.grid.grtyp() == 'U').then(|| field.grid.shape().1 / 2);
    let (ni, nj) = field.grid.shape();
    let wrap = field.grid.wraps_columns();

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
        wrap,
        times,
        vertical: &vertical,
        surface_slot,
        pressure,
        height,
        elevation,
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
        wrap,
    };
    let (values, missing) = if field.vector {
        records.east_or_north(state, field, &plans, m.nomvar == "UU")?
    } else {
        records.accumulate(state, field, &plans, Component::Scalar)?
    };
    let values = in_observation_units(
        values,
        &missing,
        &plans,
        reduction.as_ref(),
        (scale, offset),
        &mut dropped,
    );
    Ok(ModelEquivalents {
        values,
        dropped,
        field: field.name.clone(),
    })
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // values exact by construction
mod tests {
    use super::*;

    /// Rows 0, 1, 2 and 10, 11, 12.
    fn three_by_two() -> FieldValues {
        FieldValues {
            ni: 3,
            nj: 2,
            values: vec![0.0, 1.0, 2.0, 10.0, 11.0, 12.0],
        }
    }

    #[test]
    fn bilinear_needs_the_four_points_around() {
        let f = three_by_two();
        assert_eq!(bilinear(&f, 0.5, 0.5, None, false), 5.5);
        assert_eq!(bilinear(&f, 2.0, 1.0, None, false), 12.0);
        assert!(bilinear(&f, 2.01, 0.0, None, false).is_nan());
        assert!(bilinear(&f, -0.01, 0.0, None, false).is_nan());
        assert!(bilinear(&f, f64::NAN, 0.0, None, false).is_nan());
        assert!(bilinear(&f, 0.5, 0.5, Some(1), false).is_nan());
        let holed = FieldValues {
            values: vec![0.0, f32::NAN, 2.0, 10.0, 11.0, 12.0],
            ..f
        };
        assert!(bilinear(&holed, 0.5, 0.5, None, false).is_nan());
        assert!(bilinear(&holed, 1.5, 0.0, None, false).is_nan());
    }

    #[test]
    fn bilinear_round_the_globe_joins_the_last_column_to_the_first() {
        let f = three_by_two();
        // Between column 2 and column 0 (3 ≡ 0).
        assert_eq!(bilinear(&f, 2.25, 0.0, None, true), 1.5);
        assert_eq!(bilinear(&f, 2.5, 1.0, None, true), 11.0);
        assert_eq!(bilinear(&f, 2.5, 0.5, None, true), 6.0);
        assert!(bilinear(&f, 3.0, 0.0, None, true).is_nan());
        // Not round the globe: past the last column is outside.
        assert!(bilinear(&f, 2.25, 0.0, None, false).is_nan());
    }

    #[test]
    fn between_levels_is_linear_and_outside_is_none() {
        let levels = [(100.0, 1), (500.0, 2), (1000.0, 3)];
        assert_eq!(between(&levels, 300.0), Some((0, 0.5)));
        assert_eq!(between(&levels, 500.0), Some((1, 0.0)));
        assert_eq!(between(&levels, 1000.0), Some((2, 0.0)));
        assert_eq!(between(&levels, 99.0), None);
        assert_eq!(between(&levels, 1000.5), None);
        assert_eq!(between(&levels, f64::NAN), None);
        assert_eq!(between(&[], 1.0), None);
    }

    #[test]
    fn heights_above_ground_are_the_observations_height_less_its_elevation() {
        // Heights above ground 10, 100 and 1000 m (slots 0..2: no pressure levels), the
        // surface level the lowest.
        let vertical = Vertical::Levels {
            pressure: Vec::new(),
            heights: Heights {
                levels: vec![(10.0, 1), (100.0, 2), (1000.0, 3)],
                above_ground: true,
            },
            surface: Some(1),
        };
        let slot = |height, elevation, report| {
            let obs = ObsVertical {
                height,
                elevation,
                report,
                ..ObsVertical::default()
            };
            level_slot(&vertical, Some(0), obs)
        };
        // 600 m above sea level at a station 500 m up: 100 m above ground, the second level.
        assert_eq!(slot(Some(600.0), Some(500.0), Some(220.0)), Some((1, 0.0)));
        // 1050 m at 500 m: 550 m above ground, halfway between 100 and 1000 m.
        assert_eq!(slot(Some(1050.0), Some(500.0), None), Some((1, 0.5)));
        // No elevation: no height above ground, so dropped (not the surface level: the
        // observation is in the air).
        assert_eq!(slot(Some(600.0), None, Some(220.0)), None);
        assert_eq!(slot(Some(600.0), Some(f64::NAN), Some(220.0)), None);
        // Neither pressure nor height: the surface level.
        assert_eq!(slot(None, None, Some(220.0)), Some((0, 0.0)));
        assert_eq!(slot(Some(f64::NAN), Some(500.0), None), Some((0, 0.0)));
        // Below the lowest level above ground, and above the highest: outside.
        assert_eq!(slot(Some(505.0), Some(500.0), Some(220.0)), None);
        assert_eq!(slot(Some(2000.0), Some(500.0), Some(220.0)), None);
        // A surface report takes the surface level whatever its height.
        assert_eq!(slot(Some(2000.0), Some(500.0), Some(181.0)), Some((0, 0.0)));
        // Above sea level, the elevation plays no part.
        let asl = Vertical::Levels {
            pressure: Vec::new(),
            heights: Heights {
                levels: vec![(10.0, 1), (100.0, 2), (1000.0, 3)],
                above_ground: false,
            },
            surface: None,
        };
        let obs = ObsVertical {
            height: Some(100.0),
            elevation: Some(500.0),
            ..ObsVertical::default()
        };
        assert_eq!(level_slot(&asl, None, obs), Some((1, 0.0)));
    }

    #[test]
    fn surface_report_types() {
        assert!(surface_type(181.0));
        assert!(surface_type(281.0));
        assert!(!surface_type(120.0));
        assert!(!surface_type(f64::NAN));
    }
}
