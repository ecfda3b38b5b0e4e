//! The keys and packing of a band: creation options, then the band's `FST_*` metadata, then
//! what GRIB2 and netCDF sources publish, then defaults.

use chrono::{DateTime, NaiveDateTime, Utc};
use fst_core::date::DateStamp;
use fst_core::ip::{encode_ip, IpStyle, LevelKind};
use fst_core::write::RecordKeys;

use super::options::{name, CreateOptions};
use super::BandInput;

/// The value of metadata item `key` (GDAL's keys compared as its `CSLFetchNameValue` does).
pub(super) fn find<'a>(md: &'a [(String, String)], key: &str) -> Option<&'a str> {
    md.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// Metadata item `key` parsed as a number (surrounding blanks ignored).
pub(super) fn number<T: std::str::FromStr>(md: &[(String, String)], key: &str) -> Option<T> {
    find(md, key).and_then(|v| v.trim().parse().ok())
}

/// The ip1 of a band's `FST_LEVEL` item with its kind, from `FST_LEVEL_KIND` (a code) or
/// `FST_LEVEL_UNIT` (librmn's unit: `mb`, `sg`, `M`, …): how a user sets a level through
/// rasterio tags or band metadata without computing the ip1.
fn level_item_ip1(md: &[(String, String)]) -> Option<u32> {
    let value = number::<f32>(md, "FST_LEVEL")?;
    let kind = number::<u32>(md, "FST_LEVEL_KIND")
        .and_then(LevelKind::from_code)
        .or_else(|| {
            let unit = find(md, "FST_LEVEL_UNIT")?.trim();
            LevelKind::ALL.into_iter().find(|k| k.unit() == unit)
        })?;
    encode_ip(value, kind, IpStyle::New).ok()
}

/// A name from foreign metadata (GRIB element, netCDF variable): its first `max` printable
/// ASCII letters, digits or underscores, upper case.
fn foreign_name(v: &str, max: usize) -> Option<String> {
    let s: String = v
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(max)
        .collect::<String>()
        .to_ascii_uppercase();
    (!s.is_empty()).then_some(s)
}

/// GDAL's GRIB times: `"  1577836800 sec UTC"`.
fn grib_time(md: &[(String, String)], key: &str) -> Option<i64> {
    find(md, key)?.split_whitespace().next()?.parse().ok()
}

/// A CF time `value` in `units` ("hours since 2020-01-01 00:00:00") as seconds since 1970.
fn cf_time(value: f64, units: &str) -> Option<i64> {
    let (unit, origin) = units.split_once(" since ")?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "seconds" | "second" | "secs" | "sec" | "s" => 1.0,
        "minutes" | "minute" | "mins" | "min" => 60.0,
        "hours" | "hour" | "hrs" | "hr" | "h" => 3600.0,
        "days" | "day" | "d" => 86400.0,
        _ => return None,
    };
    let origin = origin
        .trim()
        .trim_end_matches("UTC")
        .trim()
        .trim_end_matches('Z');
    let t0 = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(origin, f).ok())
    .or_else(|| {
        chrono::NaiveDate::parse_from_str(origin, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)
    })?
    .and_utc();
    let secs = value * scale;
    if !secs.is_finite() || secs.abs() > 1e13 {
        return None;
    }
    Some(t0.timestamp() + secs.round() as i64)
}

fn stamp(epoch: i64) -> Option<DateStamp> {
    let t: DateTime<Utc> = DateTime::from_timestamp(epoch, 0)?;
    DateStamp::from_datetime(&t).ok()
}

/// A forecast length as (deet, npas): hours, minutes or seconds, whichever divides it.
fn steps(seconds: i64) -> Option<(u32, u32)> {
    let s = u32::try_from(seconds).ok()?;
    let (deet, npas) = [3600u32, 60, 1]
        .into_iter()
        .find(|d| s % d == 0)
        .map(|d| (d, s / d))?;
    (npas < 1 << 24).then_some((deet, npas))
}

/// (npas, forecast hours when whole) of a record valid at `valid` (seconds since 1970)
/// from `dateo` in steps of `deet` seconds; `None` unless the steps are whole.
fn steps_from_valid(
    dateo: DateStamp,
    deet: Option<u32>,
    valid: Option<&i64>,
) -> Option<(u32, Option<u32>)> {
    let deet = i64::from(deet.filter(|&d| d > 0)?);
    let seconds = valid? - dateo.to_datetime()?.timestamp();
    if seconds < 0 || seconds % deet != 0 {
        return None;
    }
    let npas = u32::try_from(seconds / deet)
        .ok()
        .filter(|&n| n < 1 << 24)?;
    let hours = (seconds % 3600 == 0)
        .then(|| u32::try_from(seconds / 3600).ok())
        .flatten();
    Some((npas, hours))
}

/// The netCDF driver's per-band `NETCDF_DIM_<dim>=value`, with the dataset's `<dim>#units`.
fn netcdf_dims<'a>(
    band: &'a [(String, String)],
    dataset: &'a [(String, String)],
) -> impl Iterator<Item = (&'a str, f64, &'a str)> + 'a {
    band.iter().filter_map(move |(k, v)| {
        let dim = k.strip_prefix("NETCDF_DIM_")?;
        let value = v.trim().parse::<f64>().ok()?;
        let units = find(dataset, &format!("{dim}#units")).unwrap_or("");
        Some((dim, value, units))
    })
}

/// ip1 of a GRIB2 level (`GRIB_SHORT_NAME`, e.g. `85000-ISBL`, `2-HTGL`, `0-SFC`).
fn grib_ip1(short: &str) -> Option<u32> {
    let (value, kind) = short.trim().split_once('-')?;
    let v: f32 = value.parse().ok()?;
    let (v, kind) = match kind {
        "ISBL" => (v / 100.0, LevelKind::Pressure),
        "HTGL" => (v, LevelKind::HeightAboveGround),
        "HTFL" => (v, LevelKind::Height),
        "SFC" | "MSL" => return Some(0),
        _ => return None,
    };
    encode_ip(v, kind, IpStyle::New).ok()
}

/// ip1 of a netCDF level coordinate: the kind its CF `standard_name` names, else the kind its
/// units imply (both from `fst-cf`, the table our reader writes them from).
fn netcdf_ip1(value: f64, units: &str, standard_name: Option<&str>) -> Option<u32> {
    let by_units = fst_cf::kind_of_units(units);
    let (kind, scale) = match standard_name.and_then(fst_cf::kind_of_standard_name) {
        // The units still scale it (pressure in Pa).
        Some(kind) => (
            kind,
            by_units.filter(|(k, _)| *k == kind).map_or(1.0, |(_, s)| s),
        ),
        None => by_units?,
    };
    encode_ip((value * scale) as f32, kind, IpStyle::New).ok()
}

/// The record keys of one band (grid and shape are the caller's).
pub(super) fn band_keys(
    o: &CreateOptions,
    dataset: &[(String, String)],
    band: &BandInput<'_>,
) -> Result<RecordKeys, String> {
    let md = band.metadata;
    let meta_name = |key: &str, max: usize| -> Result<Option<String>, String> {
        find(md, key)
            .map(|v| name(key, v, max).map_err(|e| e.to_string()))
            .transpose()
    };
    let nomvar = match o.nomvar.clone().or(meta_name("FST_NOMVAR", 4)?) {
        Some(n) => n,
        None => find(md, "GRIB_ELEMENT")
            .or_else(|| find(md, "NETCDF_VARNAME"))
            .and_then(|v| foreign_name(v, 4))
            .unwrap_or_else(|| "XX".into()),
    };
    let typvar = o
        .typvar
        .clone()
        .or(meta_name("FST_TYPVAR", 2)?)
        .unwrap_or_else(|| "P".into());
    let etiket = o
        .etiket
        .clone()
        .or(meta_name("FST_ETIKET", 12)?)
        .unwrap_or_default();

    // Times. FST sources keep their stamps exactly (the valid date too: librmn's arithmetic
    // cannot always give it back from dateo).
    let netcdf_times: Vec<i64> = netcdf_dims(md, dataset)
        .filter_map(|(_, v, units)| {
            units
                .contains(" since ")
                .then(|| cf_time(v, units))
                .flatten()
        })
        .collect();
    let grib_ref = grib_time(md, "GRIB_REF_TIME");
    let grib_valid = grib_time(md, "GRIB_VALID_TIME");
    let mut datev = None;
    let (mut dateo, mut deet, mut npas, mut forecast_hours) = (None, None, None, None);
    if let Some(s) = number::<i32>(md, "FST_DATEO_STAMP") {
        dateo = Some(DateStamp(s));
        deet = number(md, "FST_DEET");
        npas = number(md, "FST_NPAS");
        datev = number::<i32>(md, "FST_DATEV_STAMP").map(DateStamp);
        if npas.is_none() {
            // A field varying in time publishes its per-band keys in the "FST" domain only,
            // which GeoTIFF does not keep; the valid time it keeps (NETCDF_DIM_time) and the
            // field-wide dateo and deet give the step back.
            if let Some((n, hours)) = steps_from_valid(DateStamp(s), deet, netcdf_times.first()) {
                npas = Some(n);
                forecast_hours = hours;
            }
        }
    } else if let Some(r) = grib_ref {
        dateo = stamp(r);
        if let Some((d, n)) = grib_valid.and_then(|v| steps(v - r)) {
            (deet, npas) = (Some(d), Some(n));
            if (d * n) % 3600 == 0 {
                forecast_hours = Some(d * n / 3600);
            }
        }
    } else if let Some(&t) = netcdf_times.first() {
        dateo = stamp(t);
    }
    if o.dateo.is_some() || o.deet.is_some() || o.npas.is_some() {
        datev = None;
    }
    let dateo = o.dateo.or(dateo).unwrap_or(DateStamp(0));
    let deet = o.deet.or(deet).unwrap_or(0);
    let npas = o.npas.or(npas).unwrap_or(0);

    let ip1 = o
        .ip1
        .or_else(|| number(md, "FST_IP1"))
        .or_else(|| level_item_ip1(md))
        .or_else(|| find(md, "GRIB_SHORT_NAME").and_then(grib_ip1))
        .or_else(|| {
            // The level kind of an FST source, else the coordinate's units.
            let kind = number::<u32>(md, "FST_LEVEL_KIND").and_then(LevelKind::from_code);
            netcdf_dims(md, dataset)
                .filter(|(_, _, u)| !u.contains(" since "))
                .find_map(|(dim, v, u)| match kind {
                    Some(kind) => encode_ip(v as f32, kind, IpStyle::New).ok(),
                    None => netcdf_ip1(v, u, find(dataset, &format!("{dim}#standard_name"))),
                })
        })
        .unwrap_or(0);
    let ip2 = o
        .ip2
        .or_else(|| number(md, "FST_IP2"))
        .or(forecast_hours)
        .unwrap_or(0);
    let ip3 = o.ip3.or_else(|| number(md, "FST_IP3")).unwrap_or(0);
    Ok(RecordKeys {
        nomvar,
        typvar,
        etiket,
        dateo,
        datev,
        deet,
        npas,
        ip1,
        ip2,
        ip3,
        ..RecordKeys::default()
    })
}

/// (datyp without +64, nbits) of a band.
pub(super) fn packing(o: &CreateOptions, band: &BandInput<'_>, turbo: bool) -> (u8, u8) {
    let meta_nbits = number::<u8>(band.metadata, "FST_NBITS").filter(|&n| (1..=64).contains(&n));
    // Raw (datyp 0) where the band holds a raw record's elements as the reader gives them:
    // unsigned integers at least nbits wide (8 → Byte, 16 and 32 → UInt32, 64 → UInt64), so
    // that an FST → FST copy keeps the record raw and bit for bit.
    let type_bits = match band.gdal_type {
        1 => 8,
        2 => 16,
        4 => 32,
        12 => 64,
        _ => 0,
    };
    let raw_fits = meta_nbits.is_some_and(|n| matches!(n, 8 | 16 | 32 | 64) && n <= type_bits);
    let meta_datyp = number::<u8>(band.metadata, "FST_DATYP")
        .map(|d| d & !64)
        .filter(|&d| matches!(d, 1 | 2 | 4 | 5 | 6 | 133 | 134) || (d == 0 && raw_fits));
    // GDT_Byte 1, UInt16 2, Int16 3, UInt32 4, Int32 5, Float64 7, UInt64 12, Int64 13, Int8 14.
    let wide = matches!(band.gdal_type, 7 | 12 | 13);
    let by_type = match band.gdal_type {
        1 => (2, 8),
        2 => (2, 16),
        3 => (4, 16),
        4 => (2, 32),
        5 => (4, 32),
        14 => (4, 8),
        // 64-bit integers: 32-bit integers when every value (but nodata) fits, which librmn
        // reads as integers (it reads none wider); else 64-bit IEEE, exact up to 2^53.
        // Packing them in 16 bits would lose them.
        12 if band.values.integers_within(0, u32::MAX.into(), band.nodata) => (2, 32),
        13 if band
            .values
            .integers_within(i32::MIN.into(), i32::MAX.into(), band.nodata) =>
        {
            (4, 32)
        }
        12 | 13 => (5, 64),
        // Turbo float_packer when this build has the turbo encoder, else plain 16-bit packing.
        _ => (if turbo { 134 } else { 1 }, 16),
    };
    // Asked for IEEE without a width: every bit of a 64-bit band is kept.
    let ieee_bits = if wide { 64 } else { 32 };
    let (mut datyp, mut nbits) = match (o.datyp, meta_datyp) {
        (Some(d), _) => (
            d,
            o.nbits.unwrap_or(if d & 127 == 5 { ieee_bits } else { 16 }),
        ),
        (None, Some(d)) => (d, o.nbits.or(meta_nbits).unwrap_or(16)),
        (None, None) => (by_type.0, o.nbits.unwrap_or(by_type.1)),
    };
    if datyp & 128 != 0 && !turbo {
        datyp &= 127;
    }
    if nbits == 64 && datyp != 5 && datyp != 0 {
        nbits = 32;
    }
    (datyp, nbits)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // levels decode exactly
mod tests {
    use super::*;

    #[test]
    fn a_level_item_with_its_unit_or_kind_sets_ip1() {
        // rasterio users tag FST_LEVEL and FST_LEVEL_UNIT (what the reader shows): they were
        // ignored, and the record was written at ip1 0.
        let pressure = encode_ip(850.0, LevelKind::Pressure, IpStyle::New).ok();
        let md = |items: &[(&str, &str)]| -> Vec<(String, String)> {
            items
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        };
        let by_unit = md(&[("FST_LEVEL", "850"), ("FST_LEVEL_UNIT", "mb")]);
        assert_eq!(level_item_ip1(&by_unit), pressure);
        let by_kind = md(&[("FST_LEVEL", "850"), ("FST_LEVEL_KIND", "2")]);
        assert_eq!(level_item_ip1(&by_kind), pressure);
        let sigma = md(&[("FST_LEVEL", "0.995"), ("FST_LEVEL_UNIT", "sg")]);
        assert_eq!(
            level_item_ip1(&sigma),
            encode_ip(0.995, LevelKind::Sigma, IpStyle::New).ok()
        );
        assert_eq!(level_item_ip1(&md(&[("FST_LEVEL", "850")])), None);
        assert_eq!(level_item_ip1(&md(&[("FST_LEVEL_UNIT", "mb")])), None);
    }

    #[test]
    fn cf_and_grib_times() {
        assert_eq!(
            cf_time(6.0, "hours since 2020-01-01 00:00:00"),
            Some(1_577_836_800 + 6 * 3600)
        );
        assert_eq!(
            cf_time(1.0, "days since 2020-01-01"),
            Some(1_577_836_800 + 86400)
        );
        assert_eq!(cf_time(1.0, "fortnights since 2020-01-01"), None);
        assert_eq!(steps(7200), Some((3600, 2)));
        assert_eq!(steps(90), Some((1, 90)));
        assert_eq!(steps(120), Some((60, 2)));
        assert_eq!(grib_ip1("0-SFC"), Some(0));
        let ip = grib_ip1("85000-ISBL").unwrap();
        let l = fst_core::ip::decode_ip(ip).unwrap().level();
        assert_eq!((l.value, l.kind), (850.0, LevelKind::Pressure));
    }

    #[test]
    fn netcdf_levels_by_standard_name_then_units() {
        let level = |ip: Option<u32>| {
            let l = fst_core::ip::decode_ip(ip.unwrap()).unwrap().level();
            (l.value, l.kind)
        };
        assert_eq!(
            level(netcdf_ip1(85000.0, "Pa", None)),
            (850.0, LevelKind::Pressure)
        );
        assert_eq!(
            level(netcdf_ip1(85000.0, "Pa", Some("air_pressure"))),
            (850.0, LevelKind::Pressure)
        );
        assert_eq!(
            level(netcdf_ip1(10.0, "m", None)),
            (10.0, LevelKind::Height)
        );
        assert_eq!(
            level(netcdf_ip1(10.0, "m", Some("height"))),
            (10.0, LevelKind::HeightAboveGround)
        );
        assert_eq!(
            level(netcdf_ip1(0.5, "1", Some("atmosphere_sigma_coordinate"))),
            (0.5, LevelKind::Sigma)
        );
        assert_eq!(
            level(netcdf_ip1(0.5, "1", None)),
            (0.5, LevelKind::Arbitrary)
        );
        assert_eq!(netcdf_ip1(3.0, "furlong", None), None);
    }

    /// A band of an FST time × level field after a `GeoTIFF`: the per-band keys are gone, the
    /// field-wide ones and the netCDF dimension values are left; ip1, ip2 and npas come back.
    #[test]
    fn a_time_level_band_gets_its_keys_back_from_its_dimensions() {
        let kv = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let dataset = kv(&[
            ("time#units", "seconds since 1970-01-01 00:00:00"),
            ("level#units", "mb"),
        ]);
        let dateo =
            DateStamp::from_datetime(&DateTime::from_timestamp(1_736_899_200, 0).unwrap()).unwrap();
        let stamp = dateo.0.to_string();
        let band_md = kv(&[
            ("FST_NOMVAR", "TT"),
            ("FST_DATEO_STAMP", &stamp),
            ("FST_DEET", "3600"),
            ("FST_LEVEL_KIND", "2"),
            ("NETCDF_DIM_level", "850"),
            ("NETCDF_DIM_time", "1736920800"),
        ]);
        let band = BandInput {
            number: 2,
            gdal_type: 6,
            metadata: &band_md,
            nodata: None,
            values: crate::write::BandValues::F64(&[]),
        };
        let keys = band_keys(&CreateOptions::default(), &dataset, &band).unwrap();
        assert_eq!((keys.deet, keys.npas, keys.ip2), (3600, 6, 6));
        assert_eq!(keys.dateo, dateo);
        assert_eq!(
            keys.ip1,
            encode_ip(850.0, LevelKind::Pressure, IpStyle::New).unwrap()
        );
        // A valid time between steps is not forced onto one.
        let mut off_step = band_md.clone();
        off_step.retain(|(k, _)| k != "NETCDF_DIM_time");
        off_step.push(("NETCDF_DIM_time".into(), "1736899300".into()));
        let band = BandInput {
            metadata: &off_step,
            ..band
        };
        let keys = band_keys(&CreateOptions::default(), &dataset, &band).unwrap();
        assert_eq!((keys.npas, keys.ip2), (0, 0));
    }
}
