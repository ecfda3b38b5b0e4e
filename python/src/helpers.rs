//! Module-level helpers with librmn's results: dates (`newdate`, `incdatr`) and ips
//! (`convip`, `DecodeIp`). The Python wrappers in `fstgis/__init__.py` turn datetimes into
//! fields and back.

use chrono::{Datelike, NaiveDate, TimeZone, Timelike, Utc};
use fst_core::date::{Calendar, DateStamp};
use fst_core::ip::{decode_ip_triple_with, decode_ip_with, encode_ip as encode, IpCompat};
use fst_core::ip::{IpRange, IpStyle, LevelKind};
use pyo3::prelude::*;

use crate::errors::{self, Context};
use crate::file::{forecast_hours, level_kind, level_object};

fn compat(text: &str) -> PyResult<IpCompat> {
    match text {
        "current" => Ok(IpCompat::Current),
        "19.5" => Ok(IpCompat::Librmn19_5),
        other => Err(errors::usage(format!(
            "compat={other:?}: expected \"current\" or \"19.5\""
        ))),
    }
}

fn invalid_ip(text: String) -> PyErr {
    errors::raise("InvalidIpError", text, Context::default())
}

fn ip_word(ip: i64) -> PyResult<u32> {
    u32::try_from(ip).map_err(|_out_of_range| invalid_ip(format!("ip {ip} is not a 32-bit ip")))
}

/// The CMC stamp librmn's `newdate` gives for a UTC date and time (fields, see the Python
/// wrapper). Seconds are truncated to the stamp's resolution.
#[pyfunction]
pub(crate) fn datetime_to_cmc(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> PyResult<i32> {
    let dt = NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|d| d.and_hms_opt(hour, minute, second))
        .map(|n| Utc.from_utc_datetime(&n))
        .ok_or_else(|| errors::usage("not a valid date and time"))?;
    DateStamp::from_datetime(&dt)
        .map(|s| s.0)
        .map_err(|e| errors::usage(errors::message(&e)))
}

/// The UTC date and time a stamp denotes, as (year, month, day, hour, minute, second), or
/// None for 0, −1 and stamps that denote no date.
#[pyfunction]
pub(crate) fn cmc_to_datetime(stamp: i64) -> Option<(i32, u32, u32, u32, u32, u32)> {
    let stamp = i32::try_from(stamp).ok()?;
    let dt = DateStamp(stamp).to_datetime()?;
    Some((
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
    ))
}

/// librmn `incdatr`: `stamp + hours`, in librmn's choice of stamp style.
#[pyfunction]
pub(crate) fn incdatr(stamp: i32, hours: f64) -> PyResult<i32> {
    fst_core::date::incdatr(stamp, hours, Calendar::Gregorian)
        .map_err(|e| errors::usage(errors::message(&e)))
}

/// librmn `convip` (decode): an ip → `Level(value, kind, unit)`.
#[pyfunction]
#[pyo3(signature = (ip, compat="current"))]
pub(crate) fn decode_ip(py: Python<'_>, ip: i64, compat: &str) -> PyResult<Py<PyAny>> {
    let d = decode_ip_with(ip_word(ip)?, self::compat(compat)?)
        .map_err(|e| invalid_ip(errors::message(&e)))?;
    level_object(py, d.value, d.kind)
}

fn range_tuple(r: &IpRange) -> (f64, f64, i32) {
    (f64::from(r.v1), f64::from(r.v2), r.kind_code())
}

type Range = (f64, f64, i32);

/// librmn `DecodeIp`: (ip1, ip2, ip3) → ((v1, v2, kind) of the level, of the time, of ip3);
/// kind −1 where ip3 was folded into a range.
#[pyfunction]
#[pyo3(signature = (ip1, ip2, ip3, compat="current"))]
pub(crate) fn decode_ip_triple(
    ip1: i64,
    ip2: i64,
    ip3: i64,
    compat: &str,
) -> PyResult<(Range, Range, Range)> {
    let t = decode_ip_triple_with(
        ip_word(ip1)?,
        ip_word(ip2)?,
        ip_word(ip3)?,
        self::compat(compat)?,
    )
    .map_err(|e| invalid_ip(errors::message(&e)))?;
    Ok((
        range_tuple(&t.rp1),
        range_tuple(&t.rp2),
        range_tuple(&t.rp3),
    ))
}

/// librmn `convip` (encode): a value of a kind → ip, new style (`style="new"`, mode 2) or
/// old style (`"old"`, mode 3; kinds 0–3 only).
#[pyfunction]
#[pyo3(signature = (value, kind, style="new"))]
pub(crate) fn encode_ip(value: f64, kind: i64, style: &str) -> PyResult<u32> {
    let style = match style {
        "new" => IpStyle::New,
        "old" => IpStyle::Old,
        other => {
            return Err(errors::usage(format!(
                "style={other:?}: expected \"new\" or \"old\""
            )))
        }
    };
    encode(value as f32, level_kind(kind)?, style).map_err(|e| invalid_ip(errors::message(&e)))
}

/// deet·npas in hours.
#[pyfunction]
pub(crate) fn forecast_hour(deet: u32, npas: u32) -> f64 {
    forecast_hours(deet, npas)
}

/// Every level kind: (code, unit).
#[pyfunction]
pub(crate) fn level_kinds() -> Vec<(u8, &'static str)> {
    LevelKind::ALL
        .iter()
        .map(|k| (k.code(), k.unit()))
        .collect()
}
