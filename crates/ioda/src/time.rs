//! The three IODA time forms, turned into UTC instants (seconds since 1970-01-01T00:00:00Z).
//!
//! * epoch: `MetaData/dateTime` integers with `units = "<unit> since <ISO 8601>"` (v3; the
//!   epoch is not always 1970);
//! * string: `MetaData/datetime` ISO 8601 strings (v2);
//! * offset: `MetaData/time` in hours from the global attribute `date_time` = `YYYYMMDDhh` (v1).

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Seconds since 1970-01-01T00:00:00Z.
pub type UnixSeconds = i64;

/// Formats an instant as `YYYY-MM-DDThh:mm:ssZ`, or `None` if it is out of chrono's range.
#[must_use]
pub fn format_utc(seconds: UnixSeconds) -> Option<String> {
    DateTime::from_timestamp(seconds, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// A parsed `"<unit> since <reference>"`: each stored value `v` is the instant
/// `reference + v × seconds_per_unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochUnits {
    /// Seconds in one unit (1 for seconds, 60 for minutes, ...).
    pub seconds_per_unit: i64,
    /// The reference instant.
    pub reference: UnixSeconds,
}

impl EpochUnits {
    /// Parses CF/IODA time units; `None` if they are not `<unit> since <date[time]>`.
    #[must_use]
    pub fn parse(units: &str) -> Option<Self> {
        let (unit, reference) = units.trim().split_once(" since ")?;
        let seconds_per_unit = match unit.trim().to_ascii_lowercase().as_str() {
            "seconds" | "second" | "secs" | "sec" | "s" => 1,
            "minutes" | "minute" | "mins" | "min" => 60,
            "hours" | "hour" | "hrs" | "hr" | "h" => 3600,
            "days" | "day" | "d" => 86_400,
            _ => return None,
        };
        Some(Self {
            seconds_per_unit,
            reference: parse_iso8601(reference)?,
        })
    }

    /// The instant of a stored value, or `None` on overflow.
    #[must_use]
    pub fn instant(&self, value: i64) -> Option<UnixSeconds> {
        value
            .checked_mul(self.seconds_per_unit)?
            .checked_add(self.reference)
    }

    /// The instant of a stored floating value, rounded to the second.
    #[must_use]
    pub fn instant_f64(&self, value: f64) -> Option<UnixSeconds> {
        let offset = (value * self.seconds_per_unit as f64).round();
        if offset.is_finite() && offset.abs() < 9.0e15 {
            (offset as i64).checked_add(self.reference)
        } else {
            None
        }
    }
}

/// Parses the ISO 8601 forms found in IODA files: `2018-04-15T00:00:00Z`, with a space
/// instead of `T`, without `Z`, with an offset, fractional seconds, or a bare date.
#[must_use]
pub fn parse_iso8601(text: &str) -> Option<UnixSeconds> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp());
    }
    let naive = text.trim_end_matches(['Z', 'z']).trim_end_matches(" UTC");
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(t.and_utc().timestamp());
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
}

/// Parses v1's global `date_time` (`YYYYMMDDhh`) into an instant.
#[must_use]
pub fn parse_yyyymmddhh(value: i64) -> Option<UnixSeconds> {
    let hour = u32::try_from(value % 100).ok()?;
    let ymd = value / 100;
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(ymd / 10_000).ok()?,
        u32::try_from(ymd / 100 % 100).ok()?,
        u32::try_from(ymd % 100).ok()?,
    )?;
    Some(date.and_hms_opt(hour, 0, 0)?.and_utc().timestamp())
}

/// Parses ODB-2's `date` (`YYYYMMDD`) and `time` (`HHMMSS`) integers into an instant.
///
/// Minutes and seconds of 60 roll over (real files carry `56000` for 06:00:00, written
/// by a converter that did not carry the minute), so the time is added as an offset.
#[must_use]
pub fn parse_odb_date_time(date: i64, time: i64) -> Option<UnixSeconds> {
    let day = NaiveDate::from_ymd_opt(
        i32::try_from(date / 10_000).ok()?,
        u32::try_from(date / 100 % 100).ok()?,
        u32::try_from(date % 100).ok()?,
    )?;
    let (hours, minutes, seconds) = (time / 10_000, time / 100 % 100, time % 100);
    if !(0..=24).contains(&hours) || !(0..=60).contains(&minutes) || !(0..=60).contains(&seconds) {
        return None;
    }
    let midnight = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
    Some(midnight + hours * 3600 + minutes * 60 + seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_units_with_any_reference() {
        let u = EpochUnits::parse("seconds since 1970-01-01T00:00:00Z").unwrap();
        assert_eq!(u.instant(1_653_590_772), Some(1_653_590_772));
        let u = EpochUnits::parse("seconds since 2019-08-27T00:00:00Z").unwrap();
        assert_eq!(
            format_utc(u.instant(3600).unwrap()).unwrap(),
            "2019-08-27T01:00:00Z"
        );
        let u = EpochUnits::parse("hours since 2021-12-21").unwrap();
        assert_eq!(
            format_utc(u.instant(-1).unwrap()).unwrap(),
            "2021-12-20T23:00:00Z"
        );
        assert_eq!(EpochUnits::parse("fortnights since 2021-12-21"), None);
        assert_eq!(EpochUnits::parse("K"), None);
        assert_eq!(u.instant(i64::MAX), None);
    }

    #[test]
    fn strings_and_offsets() {
        let want = parse_iso8601("2018-04-15T00:01:00Z").unwrap();
        assert_eq!(format_utc(want).unwrap(), "2018-04-15T00:01:00Z");
        assert_eq!(parse_iso8601("2018-04-15 00:01:00"), Some(want));
        assert_eq!(parse_iso8601("2018-04-15T02:01:00+02:00"), Some(want));
        assert_eq!(parse_iso8601("not a date"), None);
        assert_eq!(
            format_utc(parse_yyyymmddhh(2_018_041_506).unwrap()).unwrap(),
            "2018-04-15T06:00:00Z"
        );
        assert_eq!(parse_yyyymmddhh(2_018_134_506), None);
        assert_eq!(
            format_utc(parse_odb_date_time(20_200_701, 123_456).unwrap()).unwrap(),
            "2020-07-01T12:34:56Z"
        );
        assert_eq!(
            format_utc(parse_odb_date_time(20_160_304, 56_000).unwrap()).unwrap(),
            "2016-03-04T06:00:00Z"
        );
        assert_eq!(parse_odb_date_time(20_160_304, 256_000), None);
    }
}
