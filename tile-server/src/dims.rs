//! Dimension parameters: TIME, ELEVATION and `DIM_REFERENCE_TIME`, parsed and resolved against
//! a layer. Defaults: the latest run, the valid time nearest to now, the level nearest the
//! surface (layers list their levels surface first: [`surface_first`]).

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDateTime, Utc};
use fst_core::ip::{Level, LevelKind};

use crate::error::ApiError;
use crate::source::{Layer, Slice};

/// ISO-8601 text of a time, `YYYY-MM-DDTHH:MM:SSZ`.
#[must_use]
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parse one ISO-8601 instant, tolerant: with or without `Z`, seconds or milliseconds, a
/// date alone.
#[must_use]
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let s = s.trim_end_matches('Z');
    let hour_only = format!("{s}:00");
    for (text, f) in [
        (s, "%Y-%m-%dT%H:%M:%S%.f"),
        (s, "%Y-%m-%dT%H:%M"),
        (hour_only.as_str(), "%Y-%m-%dT%H:%M"),
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, f) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// A time request: an instant, `current`, a list (first match wins), or a range (the latest
/// time inside it).
fn pick_time(
    value: &str,
    avail: &[DateTime<Utc>],
    dim: &'static str,
) -> Result<DateTime<Utc>, ApiError> {
    let bad = || ApiError::InvalidDimensionValue {
        dim,
        value: value.chars().take(80).collect(),
    };
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::MissingDimensionValue(dim));
    }
    if v.eq_ignore_ascii_case("current") || v.eq_ignore_ascii_case("now") {
        return nearest(avail, Utc::now()).ok_or_else(bad);
    }
    for item in v.split(',') {
        let parts: Vec<&str> = item.split('/').collect();
        match parts.as_slice() {
            [one] => {
                let t = parse_time(one).ok_or_else(bad)?;
                if avail.contains(&t) {
                    return Ok(t);
                }
            }
            [a, b] | [a, b, _] => {
                let (a, b) = (
                    parse_time(a).ok_or_else(bad)?,
                    parse_time(b).ok_or_else(bad)?,
                );
                if let Some(t) = avail.iter().rev().find(|t| **t >= a && **t <= b) {
                    return Ok(*t);
                }
            }
            _ => return Err(bad()),
        }
    }
    Err(bad())
}

fn nearest(avail: &[DateTime<Utc>], to: DateTime<Utc>) -> Option<DateTime<Utc>> {
    avail
        .iter()
        .min_by_key(|t| (**t - to).num_seconds().unsigned_abs())
        .copied()
}

/// Dimension values of a request (raw text; `None` = not given).
#[derive(Debug, Clone, Default)]
pub struct DimRequest {
    /// TIME.
    pub time: Option<String>,
    /// ELEVATION.
    pub elevation: Option<String>,
    /// `DIM_REFERENCE_TIME`.
    pub reference_time: Option<String>,
}

impl DimRequest {
    /// The dimension parameters of a query: `TIME`, `ELEVATION`, and `DIM_REFERENCE_TIME`
    /// or its short form `reference_time` (XYZ and TileJSON).
    #[must_use]
    pub fn from_params(p: &crate::params::Params) -> Self {
        Self {
            time: p.get("time").map(str::to_string),
            elevation: p.get("elevation").map(str::to_string),
            reference_time: p
                .get("dim_reference_time")
                .or_else(|| p.get("reference_time"))
                .map(str::to_string),
        }
    }
}

/// Whether a slice is at a listed level: by its ip1 or, the same level under another ip1
/// encoding (old or new style) in some files, by its decoded level
/// (`source::distinct_levels`).
fn at_level(s: &Slice, l: &(u32, Option<Level>)) -> bool {
    s.ip1 == l.0 || (l.1.is_some() && s.level == l.1)
}

/// The slice a request selects. Without `DIM_REFERENCE_TIME`, the latest run in which the
/// request's TIME and ELEVATION resolve: the capabilities list the times and levels of every
/// run, and each of them must draw without naming its run (a client such as QGIS or OWSLib
/// sends TIME alone). With no dimension at all, that is the latest run.
pub fn select<'a>(layer: &'a Layer, req: &DimRequest) -> Result<&'a Slice, ApiError> {
    if let Some(v) = &req.reference_time {
        let run = pick_time(v, &layer.runs, "DIM_REFERENCE_TIME")?;
        return select_in_run(layer, run, req);
    }
    let mut first_err = None;
    for run in layer.runs.iter().rev() {
        match select_in_run(layer, *run, req) {
            Ok(s) => return Ok(s),
            // A value this run lacks may be another run's; any other error is the
            // request's own and the same in every run.
            Err(e @ ApiError::InvalidDimensionValue { .. }) => {
                first_err.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(first_err.unwrap_or_else(|| ApiError::Internal("layer without runs".into())))
}

/// The slice a request selects in one run.
fn select_in_run<'a>(
    layer: &'a Layer,
    run: DateTime<Utc>,
    req: &DimRequest,
) -> Result<&'a Slice, ApiError> {
    let in_run: Vec<&Slice> = layer.slices.iter().filter(|s| s.run == run).collect();
    let mut times: Vec<DateTime<Utc>> = in_run.iter().map(|s| s.valid).collect();
    times.dedup();
    let time = match &req.time {
        Some(v) => pick_time(v, &times, "TIME")?,
        None => nearest(&times, Utc::now())
            .ok_or_else(|| ApiError::Internal("run without times".into()))?,
    };
    let at_time: Vec<&Slice> = in_run.into_iter().filter(|s| s.valid == time).collect();
    let level = match &req.elevation {
        None => layer
            .levels
            .iter()
            .find(|l| at_time.iter().any(|s| at_level(s, l))),
        Some(v) => {
            let v = v.trim();
            if v.is_empty() {
                return Err(ApiError::MissingDimensionValue("ELEVATION"));
            }
            let bad = || ApiError::InvalidDimensionValue {
                dim: "ELEVATION",
                value: v.chars().take(80).collect(),
            };
            let x: f64 = v
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .parse()
                .ok()
                .ok_or_else(bad)?;
            let found = layer.levels.iter().find(|l| match l.1 {
                Some(lv) => (f64::from(lv.value) - x).abs() <= 1e-4 * x.abs().max(1.0),
                None => (f64::from(l.0) - x).abs() < 0.5,
            });
            Some(found.ok_or_else(bad)?)
        }
    };
    at_time
        .into_iter()
        .find(|s| level.is_some_and(|l| at_level(s, l)))
        .ok_or_else(|| ApiError::InvalidDimensionValue {
            dim: if req.elevation.is_some() {
                "ELEVATION"
            } else {
                "TIME"
            },
            value: req
                .elevation
                .clone()
                .or_else(|| req.time.clone())
                .unwrap_or_default()
                .chars()
                .take(80)
                .collect(),
        })
}

/// The slice a request without dimensions draws: the capabilities' defaults are its run,
/// time and level.
#[must_use]
pub fn default_slice(layer: &Layer) -> Option<&Slice> {
    select(layer, &DimRequest::default()).ok()
}

/// The ELEVATION text of the level a request without dimensions draws.
#[must_use]
pub fn default_level(layer: &Layer) -> Option<String> {
    let s = default_slice(layer)?;
    layer.levels.iter().find(|l| at_level(s, l)).map(level_text)
}

/// Rank of a level kind among several (a whole field across its kinds, the tie-break of a
/// field split by kind): the kinds that sit on or near the ground
/// first (a 2 m or 10 m diagnostic level, then the model's terrain-following levels), then
/// pressure, heights above sea level, isentropic levels, depths and codes.
fn kind_rank(kind: LevelKind) -> u8 {
    match kind {
        LevelKind::HeightAboveGround => 0,
        LevelKind::Hybrid | LevelKind::Sigma => 1,
        LevelKind::Pressure => 2,
        LevelKind::Height | LevelKind::PressureMetres => 3,
        LevelKind::Theta => 4,
        LevelKind::Depth => 5,
        _ => 6,
    }
}

/// The order in which a layer lists its levels, the one nearest the surface first, so that
/// the first level is the default `ELEVATION` and the first map is the one a forecaster
/// looks at: hybrid, sigma (nearest 1) and pressure (highest) descending; heights above
/// ground or sea level, depths and potential temperature ascending; arbitrary codes
/// ascending. Undecoded levels come last, by ip1.
#[must_use]
pub fn surface_first(a: &(u32, Option<Level>), b: &(u32, Option<Level>)) -> Ordering {
    match (a.1, b.1) {
        (Some(x), Some(y)) => kind_rank(x.kind)
            .cmp(&kind_rank(y.kind))
            .then_with(|| (x.kind.code()).cmp(&y.kind.code()))
            .then_with(|| {
                let up = x.value.total_cmp(&y.value);
                match x.kind {
                    LevelKind::Hybrid | LevelKind::Sigma | LevelKind::Pressure => up.reverse(),
                    _ => up,
                }
            }),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.0.cmp(&b.0),
    }
}

/// Elevation value text of a level.
#[must_use]
pub fn level_text(l: &(u32, Option<Level>)) -> String {
    match l.1 {
        Some(lv) => format!("{}", lv.value),
        None => l.0.to_string(),
    }
}

/// The capabilities text of a list of times: `start/end/PTnH` when evenly spaced, else a list.
#[must_use]
pub fn time_extent(times: &[DateTime<Utc>]) -> String {
    if times.len() >= 3 {
        let step = times[1] - times[0];
        if step.num_seconds() > 0 && times.windows(2).all(|w| w[1] - w[0] == step) {
            let s = step.num_seconds();
            let p = if s % 3600 == 0 {
                format!("PT{}H", s / 3600)
            } else if s % 60 == 0 {
                format!("PT{}M", s / 60)
            } else {
                format!("PT{s}S")
            };
            return format!("{}/{}/{p}", iso(times[0]), iso(times[times.len() - 1]));
        }
    }
    times.iter().map(|t| iso(*t)).collect::<Vec<_>>().join(",")
}

/// Default time of a layer: that of the slice a request without dimensions draws (latest
/// run, nearest to now).
#[must_use]
pub fn default_time(layer: &Layer) -> Option<DateTime<Utc>> {
    default_slice(layer).map(|s| s.valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_list_the_one_nearest_the_surface_first() {
        let lv = |value: f32, kind: LevelKind| (0u32, Some(Level { value, kind }));
        let sorted = |mut v: Vec<(u32, Option<Level>)>| {
            v.sort_by(surface_first);
            v.iter()
                .map(|l| l.1.map_or(f32::NAN, |l| l.value))
                .collect::<Vec<f32>>()
        };
        let hy = LevelKind::Hybrid;
        assert_eq!(
            sorted(vec![
                lv(0.0058, hy),
                lv(0.5, hy),
                lv(1.0, hy),
                lv(0.995, hy)
            ]),
            [1.0, 0.995, 0.5, 0.0058]
        );
        let sg = LevelKind::Sigma;
        assert_eq!(sorted(vec![lv(0.2, sg), lv(1.0, sg)]), [1.0, 0.2]);
        let p = LevelKind::Pressure;
        assert_eq!(
            sorted(vec![lv(500.0, p), lv(1000.0, p), lv(850.0, p)]),
            [1000.0, 850.0, 500.0]
        );
        let m = LevelKind::HeightAboveGround;
        assert_eq!(sorted(vec![lv(10.0, m), lv(1.5, m)]), [1.5, 10.0]);
        let z = LevelKind::Height;
        assert_eq!(
            sorted(vec![lv(1500.5, z), lv(-100.0, z), lv(0.0, z)]),
            [-100.0, 0.0, 1500.5]
        );
        let th = LevelKind::Theta;
        assert_eq!(sorted(vec![lv(330.5, th), lv(300.0, th)]), [300.0, 330.5]);
        let d = LevelKind::Depth;
        assert_eq!(sorted(vec![lv(50.0, d), lv(5.0, d)]), [5.0, 50.0]);
        // Mixed kinds: the diagnostic level above ground, then the model levels.
        assert_eq!(
            sorted(vec![lv(0.5, hy), lv(850.0, p), lv(2.0, m), lv(1.0, hy)]),
            [2.0, 1.0, 0.5, 850.0]
        );
        // Undecoded levels last.
        let mut v = [(7, None), lv(1.0, hy)];
        v.sort_by(surface_first);
        assert_eq!(v[1].0, 7);
    }

    #[test]
    fn tolerant_times() {
        let t = parse_time("2026-11-20T12:00:00Z").unwrap();
        assert_eq!(parse_time("2026-11-20T12:00:00.000Z"), Some(t));
        assert_eq!(parse_time("2026-11-20T12:00Z"), Some(t));
        assert_eq!(parse_time("2026-11-20T12:00:00"), Some(t));
        assert_eq!(parse_time("2026-11-20T12"), Some(t));
        assert!(parse_time("yesterday").is_none());
        let avail = [
            t,
            t + chrono::Duration::hours(6),
            t + chrono::Duration::hours(12),
        ];
        assert_eq!(
            pick_time("2026-11-20T00:00Z/2026-11-20T19:00Z", &avail, "TIME").unwrap(),
            avail[1]
        );
        assert_eq!(
            pick_time("2026-11-19T00:00Z,2026-11-21T00:00:00Z", &avail, "TIME").unwrap(),
            avail[2]
        );
        assert!(matches!(
            pick_time("2020-01-01T00:00Z", &avail, "TIME"),
            Err(ApiError::InvalidDimensionValue { .. })
        ));
        assert!(matches!(
            pick_time("", &avail, "TIME"),
            Err(ApiError::MissingDimensionValue(_))
        ));
        assert_eq!(
            time_extent(&avail),
            "2026-11-20T12:00:00Z/2026-11-21T00:00:00Z/PT6H"
        );
    }
}
