//! Metadata items: per-band `FST_*` items and descriptions, and the netCDF driver's
//! `NETCDF_DIM_*` convention for time x level hypercubes.

use chrono::{DateTime, Timelike, Utc};
use fst_core::catalog::{Field as CatField, FieldSlice};
use fst_core::date::DateStamp;
use fst_core::ip::LevelKind;
use fst_core::RecordMeta;

use super::dataset::{Band, DataType};
use crate::names;

#[allow(clippy::needless_pass_by_value)]
pub(super) fn kv(k: &str, v: impl ToString) -> (String, String) {
    (k.to_owned(), v.to_string())
}

/// `NETCDF_DIM_*` items (the netCDF driver's convention, read by its `CreateCopy`) when the
/// field is a full valid-time × level hypercube in band order (time slowest, nk = 1): then
/// `gdal_translate -of netCDF` writes one `(time, level, y, x)` variable instead of one
/// variable per band. Time is in seconds since 1970, level in the ip1 kind's unit.
#[allow(clippy::type_complexity)]
pub(super) fn netcdf_dims(
    f: &CatField,
) -> Option<(Vec<(String, String)>, Vec<Vec<(String, String)>>)> {
    let kind = f.slices.first()?.level?.kind;
    let mut points = Vec::new();
    for s in &f.slices {
        let level = s.level.filter(|l| l.kind == kind && s.nk == 1)?;
        let t = DateStamp(s.datev).to_datetime()?.timestamp();
        points.push((t, level.value));
    }
    let mut times: Vec<i64> = points.iter().map(|p| p.0).collect();
    times.dedup();
    let levels: Vec<f32> = points
        .iter()
        .take_while(|p| Some(&p.0) == times.first())
        .map(|p| p.1)
        .collect();
    let full = times.len() * levels.len() == points.len()
        && points.iter().enumerate().all(|(k, p)| {
            times.get(k / levels.len()) == Some(&p.0) && levels.get(k % levels.len()) == Some(&p.1)
        });
    let distinct = |v: &[f32]| {
        v.iter()
            .enumerate()
            .all(|(k, x)| !v.iter().skip(k + 1).any(|y| y.to_bits() == x.to_bits()))
    };
    if !full || times.windows(2).any(|w| w[0] >= w[1]) || !distinct(&levels) {
        return None;
    }
    let list = |v: Vec<String>| format!("{{{}}}", v.join(","));
    let mut dims = vec![
        kv("NETCDF_DIM_EXTRA", "{time,level}"),
        kv("NETCDF_DIM_time_DEF", format!("{{{},6}}", times.len())),
        kv(
            "NETCDF_DIM_time_VALUES",
            list(times.iter().map(ToString::to_string).collect()),
        ),
        kv("NETCDF_DIM_level_DEF", format!("{{{},5}}", levels.len())),
        kv(
            "NETCDF_DIM_level_VALUES",
            list(levels.iter().map(ToString::to_string).collect()),
        ),
        kv("time#standard_name", "time"),
        kv("time#units", "seconds since 1970-01-01 00:00:00"),
        kv("time#calendar", "standard"),
    ];
    dims.extend(level_attributes(kind));
    let per_band = points
        .iter()
        .map(|&(t, l)| vec![kv("NETCDF_DIM_time", t), kv("NETCDF_DIM_level", l)])
        .collect();
    Some((dims, per_band))
}

/// The `level#…` items of the level coordinate (`fst-cf`'s CF vertical coordinate of the
/// kind: units, standard name, long name, positive, axis), which GDAL's netCDF writer puts
/// on the `level` variable.
fn level_attributes(kind: LevelKind) -> Vec<(String, String)> {
    let Some(v) = fst_cf::vertical(kind) else {
        return vec![kv("level#units", kind.unit())];
    };
    let mut items = vec![
        kv("level#units", v.units),
        kv("level#long_name", v.long_name),
    ];
    if let Some(s) = v.standard_name {
        items.push(kv("level#standard_name", s));
    }
    if let Some(p) = v.positive {
        items.push(kv("level#positive", p));
    }
    if let Some(a) = v.axis {
        items.push(kv("level#axis", a));
    }
    items
}

/// The `<var>#long_name` item of a field's netCDF variable (the keys that name the field).
pub(super) fn variable_attributes(k: &fst_core::catalog::FieldKey) -> Vec<(String, String)> {
    let var = names::netcdf_varname(k.nomvar.trimmed());
    vec![kv(&format!("{var}#long_name"), netcdf_long_name(k))]
}

fn iso_minutes(t: &DateTime<Utc>) -> String {
    if t.second() == 0 {
        t.format("%Y-%m-%dT%H:%MZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

/// A forecast lead for a band description: `12 h`, `35 min`, `1 h 45 min`, `10 s`, exact (a
/// fraction of an hour as `0.5833333333333334 h` was hard to read), `0 h` for an analysis.
pub(super) fn forecast_text(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let parts: Vec<String> = [(h, "h"), (m, "min"), (s, "s")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    if parts.is_empty() {
        "0 h".to_string()
    } else {
        parts.join(" ")
    }
}

pub(super) fn band(
    rec: &RecordMeta,
    s: &FieldSlice,
    k: u32,
    dt: DataType,
    block: (usize, usize),
) -> Band {
    let nomvar = rec.nomvar.trimmed();
    let level = match s.level {
        Some(l) => l.to_string(),
        None => format!("ip1={}", rec.ip1),
    };
    let datev = DateStamp(rec.datev).to_datetime();
    let dateo = DateStamp(s.dateo).to_datetime();
    let when = datev
        .as_ref()
        .map_or_else(|| format!("datev={}", rec.datev), iso_minutes);
    let lead = forecast_text(s.forecast_seconds);
    let mut description = format!("{nomvar} {level} {when} (+{lead})");
    if rec.nk > 1 {
        description = format!("{description} k={}", k + 1);
    }
    let mut md = vec![
        kv("FST_NOMVAR", nomvar),
        kv("FST_TYPVAR", rec.typvar.trimmed()),
        kv("FST_ETIKET", rec.etiket.trimmed()),
        kv("FST_IP1", rec.ip1),
        kv("FST_IP2", rec.ip2),
        kv("FST_IP3", rec.ip3),
    ];
    if let Some(l) = s.level {
        md.push(kv("FST_LEVEL", l.value));
        md.push(kv("FST_LEVEL_KIND", l.kind.code()));
        md.push(kv("FST_LEVEL_UNIT", l.kind.unit()));
    }
    if let Some(t) = DateStamp(s.dateo).to_iso8601() {
        md.push(kv("FST_DATEO", t));
    }
    if let Some(t) = dateo {
        md.push(kv("FST_DATEO_EPOCH", t.timestamp()));
    }
    if let Some(t) = DateStamp(rec.datev).to_iso8601() {
        md.push(kv("FST_DATEV", t));
    }
    if let Some(t) = datev {
        md.push(kv("FST_DATEV_EPOCH", t.timestamp()));
    }
    md.extend([
        kv("FST_DATEO_STAMP", s.dateo),
        kv("FST_DATEV_STAMP", rec.datev),
        kv("FST_FORECAST_SECONDS", s.forecast_seconds),
        kv("FST_DEET", rec.deet),
        kv("FST_NPAS", rec.npas),
        kv("FST_DATYP", rec.datyp.0),
        kv("FST_NBITS", rec.nbits),
        kv("FST_NK", rec.nk),
        kv("FST_K", k + 1),
        kv("FST_RECORD", rec.index.0),
    ]);
    if let Some(j) = &rec.extended_metadata {
        md.push(kv("FST_METADATA_JSON", j));
    }
    let has_missing = rec.datyp.has_missing() && matches!(rec.datyp.base(), 1 | 2 | 4 | 5 | 6);
    let fst_metadata = md.clone();
    md.push(kv("NETCDF_VARNAME", names::netcdf_varname(nomvar)));
    // CF meaning of the nomvar (`fst-cf`), which GDAL's netCDF writer copies onto the
    // variable with the rest of the band's default-domain items (not `FST` items).
    let cf = fst_cf::variable(nomvar);
    if let Some(s) = cf.and_then(|v| v.standard_name) {
        md.push(kv("standard_name", s));
    }
    if let Some(v) = cf {
        md.push(kv("units", v.units));
    }
    Band {
        unit_type: cf.map_or_else(String::new, |v| v.units.to_owned()),
        data_type: dt,
        description,
        metadata: md,
        fst_metadata,
        nodata: if has_missing { dt.missing_flag() } else { None },
        block,
        record: rec.index,
        k,
    }
}

/// In a time × level hypercube GDAL's netCDF writer makes one variable of all the bands and
/// copies every band's default-domain metadata onto it, the last band winning: drop from the
/// default domain the `FST_*` keys whose values differ between bands (ip1, dates, record, …),
/// so that the variable carries only what holds for all of it. The band keeps them in the
/// `FST` domain; its level and time are its `NETCDF_DIM_*` items.
pub(super) fn keep_uniform_keys(bands: &mut [Band]) {
    let Some((first, rest)) = bands.split_first() else {
        return;
    };
    let varying: Vec<String> = first
        .fst_metadata
        .iter()
        .filter(|(key, value)| {
            rest.iter().any(|b| {
                b.fst_metadata
                    .iter()
                    .find(|(k, _)| k == key)
                    .is_none_or(|(_, v)| v != value)
            })
        })
        .map(|(key, _)| key.clone())
        .collect();
    for b in bands.iter_mut() {
        b.metadata
            .retain(|(k, _)| !(k.starts_with("FST_") && varying.contains(k)));
    }
}

/// The netCDF `long_name` of a field: `TT (typvar P, etiket R1_V800)`.
fn netcdf_long_name(k: &fst_core::catalog::FieldKey) -> String {
    let (n, t, e) = (k.nomvar.trimmed(), k.typvar.trimmed(), k.etiket.trimmed());
    if e.is_empty() {
        format!("{n} (typvar {t})")
    } else {
        format!("{n} (typvar {t}, etiket {e})")
    }
}
