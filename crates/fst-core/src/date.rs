//! CMC date-time stamps and librmn's date arithmetic (`newdate`, `incdatr`).
//!
//! A stamp is a signed 32-bit integer in one of three styles (`fst-format.md` §5.1):
//!
//! * **old**, `0 ≤ s < 123 200 000`: decimal `MMDDYYHHR` (years 1900–1999, whole hours, a
//!   legacy "run" digit R);
//! * **new**, `s ≥ 123 200 000`: 5-second ticks since 1980-01-01, written with an octal last
//!   digit;
//! * **extended**, `s < −1`: hours since 0000-01-01 (proleptic Gregorian), offset by 3·10⁹ in
//!   the unsigned 32-bit value.
//!
//! 0 means "no date" and −1 is the search wildcard.
//!
//! The conversions and the arithmetic follow librmn's integer steps exactly, including its
//! rounding before 1980 and its error result [`INCDATR_ERROR`] (`101010101`, which is also a
//! valid old-style stamp: 1910-10-10 10:00, run 1). Readers report `dateo = datev − deet·npas`
//! computed this way, so a few stored records show that sentinel as their origin date
//! (see [`dateo_from_datev`]).

// Integer arithmetic here is librmn's, on i64 values widened from 32-bit stamps and date
// fields (magnitudes below 2^40), so it cannot overflow; the offsets a caller passes are
// combined with checked or saturating operations and bounded before use. The property
// tests feed arbitrary stamps and offsets in debug builds, where overflow panics.
#![allow(clippy::arithmetic_side_effects)]

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use crate::record::{date_word_from_stamp, stamp_from_date_word};

/// The stamp librmn's `incdatr` returns when it fails: 1910-10-10 10:00, run digit 1.
pub const INCDATR_ERROR: i32 = 101_010_101;

/// First new-style stamp (1980-01-01 00:00).
const TDSTART: i64 = 123_200_000;
/// Julian day numbers of 1980-01-01, 1900-01-01, 0000-01-01, 10000-01-01 and 2236-01-01.
const JD1980: i64 = 2_444_240;
const JD1900: i64 = 2_415_021;
const JD0: i64 = 1_721_060;
const JD10K: i64 = 5_373_485;
const JD2236: i64 = 2_537_742;
/// Largest offset of an extended stamp above 3·10⁹.
const MAX_OFFSET: i64 = 109_572_750;
/// Extended "true date" (hours since year 0) of 1901-01-01 01:00, always stored extended
/// because its old-style stamp is [`INCDATR_ERROR`].
const EXCEPTION: i64 = 16_663_825;
/// "True dates" (5-second ticks since 1980) of 2000-01-01, 1900-01-01 and the last tick
/// librmn's arithmetic accepts before switching to extended stamps (late 2235).
const TD2000: i64 = 126_230_400;
const TD1900: i64 = -504_904_320;
const TD2235: i64 = 1_615_714_548;
/// Offset of extended stamps.
const TROISG: i64 = 3_000_000_000;
/// 5-second ticks per hour and per day.
const TICKS_PER_HOUR: i64 = 720;
const TICKS_PER_DAY: i64 = 17_280;

/// Why a date could not be converted or shifted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// The stamp does not denote a date (bad fields, out of range, 0 or −1).
    #[error("stamp {stamp} is not a valid CMC date-time stamp")]
    InvalidStamp {
        /// The stamp.
        stamp: i32,
    },
    /// The date is outside the years 0–9999 that stamps can hold.
    #[error("{date} is outside the years 0..=9999 that CMC stamps can hold")]
    OutOfRange {
        /// The date, as ISO text.
        date: String,
    },
    /// Shifting the stamp by the offset fails (librmn returns 101010101).
    #[error("cannot add {hours} h to stamp {stamp}")]
    Arithmetic {
        /// The starting stamp.
        stamp: i32,
        /// The offset in hours.
        hours: f64,
    },
    /// The date does not exist in the calendar used for the arithmetic.
    #[error("{date} does not exist in the {calendar} calendar")]
    NotInCalendar {
        /// The date, as ISO text.
        date: String,
        /// The calendar.
        calendar: Calendar,
    },
}

/// The calendar for date arithmetic: librmn's `NEWDATE_OPTIONS="year=..."` setting.
///
/// Stored stamps are the same in every calendar; only sums and differences change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Calendar {
    /// Proleptic Gregorian (librmn's default).
    #[default]
    Gregorian,
    /// 365-day years: February 29 is skipped (`year=365_day`). A start on February 29
    /// counts as February 28.
    NoLeap,
    /// 360-day years of twelve 30-day months (`year=360_day`), labelled with Gregorian dates
    /// the way librmn does: 360-day "Feb 1" is January 31, "Feb 2..29" are February 1..28,
    /// "Feb 30" is March 1 and "Mar 1..30" are March 2..31.
    Days360,
}

impl Calendar {
    /// Parse a `NEWDATE_OPTIONS` value such as `year=365_day` (`gregorian`, `365_day`,
    /// `360_day`). Returns `None` for anything else.
    #[must_use]
    pub fn from_newdate_options(options: &str) -> Option<Calendar> {
        let value = options.trim();
        let value = value.strip_prefix("year=").unwrap_or(value);
        match value.trim().to_ascii_lowercase().as_str() {
            "gregorian" => Some(Calendar::Gregorian),
            "365_day" => Some(Calendar::NoLeap),
            "360_day" => Some(Calendar::Days360),
            _ => None,
        }
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Calendar::Gregorian => "gregorian",
            Calendar::NoLeap => "365_day",
            Calendar::Days360 => "360_day",
        })
    }
}

/// The three stamp styles, plus the two special values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StampStyle {
    /// 0: no date.
    None,
    /// −1: search wildcard.
    Wildcard,
    /// `MMDDYYHHR`.
    Old,
    /// 5-second ticks since 1980.
    New,
    /// Hours since year 0.
    Extended,
}

/// A CMC date-time stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct DateStamp(pub i32);

impl DateStamp {
    /// Stamp 0: no date.
    pub const NONE: DateStamp = DateStamp(0);
    /// Stamp −1: matches any date in searches.
    pub const WILDCARD: DateStamp = DateStamp(-1);

    /// The style of the stamp.
    #[must_use]
    pub fn style(self) -> StampStyle {
        match i64::from(self.0) {
            0 => StampStyle::None,
            -1 => StampStyle::Wildcard,
            s if s < -1 => StampStyle::Extended,
            s if s >= TDSTART => StampStyle::New,
            _ => StampStyle::Old,
        }
    }

    /// The stamp from the directory's octal-packed date word.
    #[must_use]
    pub fn from_date_word(raw: u32) -> DateStamp {
        DateStamp(stamp_from_date_word(raw))
    }

    /// The octal-packed word the directory stores.
    #[must_use]
    pub fn date_word(self) -> u32 {
        date_word_from_stamp(self.0)
    }

    /// The packed word with its low 3 bits cleared: what searches compare (the run digit
    /// of old stamps, up to 35 seconds of new stamps, up to 7 hours of extended stamps).
    #[must_use]
    pub fn search_word(self) -> u32 {
        self.date_word() & !7
    }

    /// Whether a record whose valid date is `self` matches the search criterion
    /// `criterion` the way librmn's fst98 search does: −1 matches anything, otherwise the
    /// packed words are compared without their low 3 bits.
    #[must_use]
    pub fn matches(self, criterion: DateStamp) -> bool {
        criterion == DateStamp::WILDCARD || self.search_word() == criterion.search_word()
    }

    /// The date and time the stamp denotes (`newdate` stamp → printable), or `None` for
    /// 0, −1 and invalid stamps. The run digit of old stamps is ignored.
    #[must_use]
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        stamp_to_civil(self.0)?.to_datetime()
    }

    /// ISO-8601 text like the fixture manifests (`2024-06-15T12:00:00Z`), or `None` when
    /// [`to_datetime`](Self::to_datetime) is `None`.
    #[must_use]
    pub fn to_iso8601(self) -> Option<String> {
        stamp_to_civil(self.0).map(|c| c.to_string())
    }

    /// The stamp librmn's `newdate` (printable → stamp) gives for a date and time:
    /// extended outside 1900–2235 (and for 1901-01-01 01:00:00); new style from 2000, or
    /// from 1980 when the time is not on the hour; old style otherwise (whole hours).
    /// Seconds are truncated to a multiple of 5 (new style) or to the hour (old and
    /// extended styles).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use fst_core::date::DateStamp;
    ///
    /// let noon = Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0).unwrap();
    /// let stamp = DateStamp::from_datetime(&noon)?;
    /// assert_eq!(stamp, DateStamp(473_930_000));
    /// assert_eq!(stamp.to_iso8601().as_deref(), Some("2024-06-15T12:00:00Z"));
    /// # Ok::<(), fst_core::date::DateError>(())
    /// ```
    pub fn from_datetime(datetime: &DateTime<Utc>) -> Result<DateStamp, DateError> {
        let civil = Civil {
            year: i64::from(datetime.year()),
            month: i64::from(datetime.month()),
            day: i64::from(datetime.day()),
            hour: i64::from(datetime.hour()),
            minute: i64::from(datetime.minute()),
            second: i64::from(datetime.second()),
        };
        civil_to_stamp(&civil).map(DateStamp)
    }

    /// librmn `incdatr`: this stamp plus `hours` (may be negative).
    pub fn add_hours(self, hours: f64, calendar: Calendar) -> Result<DateStamp, DateError> {
        incdatr(self.0, hours, calendar).map(DateStamp)
    }

    /// The valid date a writer stores for origin `self` and `deet·npas` seconds
    /// (librmn `fstecr`): unchanged when the product is 0, else `incdatr`, with librmn's
    /// error stamp [`INCDATR_ERROR`] when that fails (for instance for origin 0).
    #[must_use]
    pub fn valid_from_origin(self, deet: u32, npas: u32) -> DateStamp {
        self.valid_from_origin_in(deet, npas, Calendar::Gregorian)
    }

    /// [`valid_from_origin`](Self::valid_from_origin) in another calendar.
    #[must_use]
    pub fn valid_from_origin_in(self, deet: u32, npas: u32, calendar: Calendar) -> DateStamp {
        let seconds = u64::from(deet) * u64::from(npas);
        if seconds == 0 {
            return self;
        }
        DateStamp(incdatr(self.0, seconds as f64 / 3600.0, calendar).unwrap_or(INCDATR_ERROR))
    }

    /// The origin date a reader reports for valid date `self` (see [`dateo_from_datev`]).
    #[must_use]
    pub fn origin_from_valid(self, deet: u32, npas: u32) -> DateStamp {
        DateStamp(dateo_from_datev(self.0, u64::from(deet) * u64::from(npas)))
    }
}

impl fmt::Display for DateStamp {
    /// ISO-8601 when the stamp denotes a date, else the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match stamp_to_civil(self.0) {
            Some(c) => c.fmt(f),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The origin date stamp librmn's readers (`fstprm`, fst24) report for valid date `datev`
/// and an offset of `seconds` (= deet·npas): `datev` itself when the offset is 0, else
/// `incdatr(datev, −seconds/3600)` in the Gregorian calendar.
///
/// When `incdatr` fails the result is librmn's error stamp [`INCDATR_ERROR`]
/// (`101010101`), as librmn reports it. This happens for a new-style valid date whose
/// origin would fall before 1980 on a non-whole hour (librmn only accepts whole hours
/// there): 1979-12-31T23 + 7×900 s is stored as 1980-01-01T01 and read back with origin
/// `101010101`.
#[must_use]
pub fn dateo_from_datev(datev: i32, seconds: u64) -> i32 {
    dateo_from_datev_in(datev, seconds, Calendar::Gregorian)
}

/// [`dateo_from_datev`] in another calendar.
#[must_use]
pub fn dateo_from_datev_in(datev: i32, seconds: u64, calendar: Calendar) -> i32 {
    if seconds == 0 {
        return datev;
    }
    incdatr(datev, -(seconds as f64) / 3600.0, calendar).unwrap_or(INCDATR_ERROR)
}

/// librmn `incdatr`: `stamp + hours`, re-encoded in librmn's choice of style.
///
/// * From 1900 to 2235 the arithmetic uses 5-second ticks and the offset is rounded to the
///   nearest tick; when the start is before 1980, the start is first rounded to the nearest
///   hour and the offset to whole hours.
/// * The result is a new-style stamp from 2000 on or when it is not on a whole hour, an
///   old-style stamp otherwise (keeping the start's run digit), and an extended stamp
///   (whole hours, offset rounded to hours) outside 1900–2235.
/// * Extended starts are handled in whole hours.
///
/// librmn returns [`INCDATR_ERROR`] where this returns an error. One deliberate deviation:
/// librmn builds a meaningless stamp when the result falls outside years 0–9999; this
/// returns an error.
pub fn incdatr(stamp: i32, hours: f64, calendar: Calendar) -> Result<i32, DateError> {
    let fail = || DateError::Arithmetic { stamp, hours };
    if !hours.is_finite() {
        return Err(fail());
    }
    if stamp < -1 {
        let start = ext_true_from_stamp(stamp).ok_or_else(fail)?;
        let end = shift(start, nint(hours), Unit::Hours, calendar)?.ok_or_else(fail)?;
        return ext_true_to_stamp(end).ok_or_else(fail);
    }
    let (mut start, run) = stamp_to_true(stamp).ok_or_else(fail)?;
    let offset = if start < 0 {
        // Before 1980: start rounded to the nearest hour, offset in whole hours.
        start = (start - TICKS_PER_HOUR / 2) / TICKS_PER_HOUR * TICKS_PER_HOUR;
        nint(hours).checked_mul(TICKS_PER_HOUR).ok_or_else(fail)?
    } else {
        nint(TICKS_PER_HOUR as f64 * hours)
    };
    let in_range = |t: i64| (TD1900..=TD2235).contains(&t);
    let end = if in_range(start.saturating_add(offset)) {
        shift(start, offset, Unit::Ticks, calendar)?.filter(|&t| in_range(t))
    } else {
        None
    };
    if let Some(end) = end {
        return true_to_stamp(end, run).ok_or_else(fail);
    }
    // Outside 1900..2235: redo the sum in extended hours (minutes are dropped).
    let civil = stamp_to_civil(stamp).ok_or_else(fail)?;
    let start = civil_to_ext_true(&civil).ok_or_else(fail)?;
    let end = shift(start, nint(hours), Unit::Hours, calendar)?.ok_or_else(fail)?;
    ext_true_to_stamp(end).ok_or_else(fail)
}

/// Fortran `nint` on a double: round half away from zero (saturating).
fn nint(x: f64) -> i64 {
    x.round() as i64
}

/// Date fields as librmn's "printable" dates carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
}

impl Civil {
    fn to_datetime(self) -> Option<DateTime<Utc>> {
        let date = NaiveDate::from_ymd_opt(
            i32::try_from(self.year).ok()?,
            u32::try_from(self.month).ok()?,
            u32::try_from(self.day).ok()?,
        )?;
        let time = date.and_hms_opt(
            u32::try_from(self.hour).ok()?,
            u32::try_from(self.minute).ok()?,
            u32::try_from(self.second).ok()?,
        )?;
        Some(time.and_utc())
    }
}

impl fmt::Display for Civil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Julian day number of a Gregorian date (Fliegel & Van Flandern, CACM 1968), with
/// truncating integer division, valid for any field values librmn feeds it.
fn julian_day(year: i64, month: i64, day: i64) -> i64 {
    let a = (month - 14) / 12;
    day - 32_075 + 1461 * (year + 4800 + a) / 4 + 367 * (month - 2 - a * 12) / 12
        - 3 * ((year + 4900 + a) / 100) / 4
}

/// Inverse of [`julian_day`] (same publication), for non-negative day numbers.
fn civil_from_julian_day(jd: i64) -> (i64, i64, i64) {
    let mut l = jd + 68_569;
    let n = 4 * l / 146_097;
    l -= (146_097 * n + 3) / 4;
    let i = 4000 * (l + 1) / 1_461_001;
    l = l - 1461 * i / 4 + 31;
    let j = 80 * l / 2447;
    let day = l - 2447 * j / 80;
    l = j / 11;
    let month = j + 2 - 12 * l;
    let year = 100 * (n - 49) + i + l;
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> Option<i64> {
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => return None,
    })
}

/// Whether the fields form a real date and hour with the year in `years`.
fn valid_fields(c: &Civil, years: std::ops::Range<i64>) -> bool {
    years.contains(&c.year)
        && days_in_month(c.year, c.month).is_some_and(|n| (1..=n).contains(&c.day))
        && (0..=23).contains(&c.hour)
}

/// librmn's check of a tick count: any non-negative count, or a whole hour from 1900 on.
fn valid_ticks(t: i64) -> bool {
    t >= 0 || (t >= TD1900 && (t - TD1900) % TICKS_PER_HOUR == 0)
}

/// Ticks since 1980 to date fields (librmn mode −2), for `t ≥ TD1900`.
fn civil_from_ticks(t: i64) -> Civil {
    let since_1900 = t - TD1900;
    let (year, month, day) = civil_from_julian_day(JD1900 + since_1900 / TICKS_PER_DAY);
    let in_day = since_1900 % TICKS_PER_DAY;
    let hour = in_day / TICKS_PER_HOUR;
    let second = (in_day - hour * TICKS_PER_HOUR) * 5;
    Civil {
        year,
        month,
        day,
        hour,
        minute: second / 60,
        second: second % 60,
    }
}

/// Stamp to date fields (librmn mode −3, stamp → printable).
fn stamp_to_civil(stamp: i32) -> Option<Civil> {
    let s = i64::from(stamp);
    let civil = if s < -1 {
        // Extended: hours since year 0.
        let hours = ext_true_from_stamp(stamp)?;
        let (year, month, day) = civil_from_julian_day(JD0 + hours / 24);
        let c = Civil {
            year,
            month,
            day,
            hour: hours % 24,
            minute: 0,
            second: 0,
        };
        return valid_fields(&c, 0..10_000).then_some(c);
    } else if s >= TDSTART {
        civil_from_ticks(new_stamp_ticks(s))
    } else {
        let (year, month, day, hour, _run) = old_stamp_fields(s);
        Civil {
            year,
            month,
            day,
            hour,
            minute: 0,
            second: 0,
        }
    };
    valid_fields(&civil, 1900..2236).then_some(civil)
}

/// Ticks of a new-style stamp (`s ≥ TDSTART`).
fn new_stamp_ticks(s: i64) -> i64 {
    let f = s - TDSTART;
    f / 10 * 8 + f % 10
}

/// Fields of an old-style stamp `MMDDYYHHR`: year, month, day, hour, run.
fn old_stamp_fields(s: i64) -> (i64, i64, i64, i64, i64) {
    let run = s % 10;
    let hour = (s / 10) % 100;
    let year = (s / 1000) % 100 + 1900;
    let day = (s / 100_000) % 100;
    let month = (s / 10_000_000) % 100;
    (year, month, day, hour, run)
}

/// Hours since year 0 of an extended stamp (librmn mode 6 for stamps below −1).
fn ext_true_from_stamp(stamp: i32) -> Option<i64> {
    let u = i64::from(stamp as u32);
    if !(TROISG..=TROISG + MAX_OFFSET).contains(&u) {
        return None;
    }
    let f = u - TROISG;
    Some(f / 10 * 8 + f % 10)
}

/// Stamp to (ticks since 1980, run digit) (librmn mode 1). Old-style fields are not
/// validated beyond the tick check, like librmn.
fn stamp_to_true(stamp: i32) -> Option<(i64, i64)> {
    let s = i64::from(stamp);
    let (ticks, run) = if s >= TDSTART {
        (new_stamp_ticks(s), 0)
    } else if s < -1 {
        return None;
    } else {
        let (year, month, day, hour, run) = old_stamp_fields(s);
        (
            (julian_day(year, month, day) - JD1980) * TICKS_PER_DAY + hour * TICKS_PER_HOUR,
            run,
        )
    };
    valid_ticks(ticks).then_some((ticks, run))
}

/// (ticks since 1980, run digit) to a stamp (librmn mode −1): new style from 2000 or off
/// the hour, old style otherwise.
fn true_to_stamp(ticks: i64, run: i64) -> Option<i32> {
    if run > 9 || !valid_ticks(ticks) {
        return None;
    }
    let stamp = if ticks >= TD2000 || ticks % TICKS_PER_HOUR != 0 {
        TDSTART + ticks / 8 * 10 + ticks % 8
    } else {
        let c = civil_from_ticks(ticks);
        c.month * 10_000_000 + c.day * 100_000 + (c.year - 1900) * 1000 + c.hour * 10 + run
    };
    i32::try_from(stamp).ok()
}

/// Date fields to hours since year 0 (librmn mode 7; minutes and seconds dropped).
fn civil_to_ext_true(c: &Civil) -> Option<i64> {
    valid_fields(c, 0..10_000).then(|| (julian_day(c.year, c.month, c.day) - JD0) * 24 + c.hour)
}

/// Hours since year 0 to a stamp (librmn mode −6): extended outside 1900..2235 and for
/// 1901-01-01 01:00, else new or old style (run digit 0).
fn ext_true_to_stamp(hours: i64) -> Option<i32> {
    if !(0..(JD10K - JD0) * 24).contains(&hours) {
        // librmn would build a meaningless stamp here.
        return None;
    }
    let jd = hours / 24 + JD0;
    if hours == EXCEPTION || !(JD1900..JD2236).contains(&jd) {
        return ext_true_to_stamp_raw(hours);
    }
    true_to_stamp(
        (jd - JD1980) * TICKS_PER_DAY + hours % 24 * TICKS_PER_HOUR,
        0,
    )
}

/// Date fields to a stamp (librmn mode 3, printable → stamp).
fn civil_to_stamp(c: &Civil) -> Result<i32, DateError> {
    let out_of_range = || DateError::OutOfRange {
        date: c.to_string(),
    };
    let exception = (c.year, c.month, c.day, c.hour, c.minute, c.second) == (1901, 1, 1, 1, 0, 0);
    if exception || !(1900..=2235).contains(&c.year) {
        let hours = civil_to_ext_true(c).ok_or_else(out_of_range)?;
        return ext_true_to_stamp_raw(hours).ok_or_else(out_of_range);
    }
    if !valid_fields(c, 1900..2236) {
        return Err(out_of_range());
    }
    let seconds_in_hour = c.minute * 60 + c.second;
    let ticks = (julian_day(c.year, c.month, c.day) - JD1980) * TICKS_PER_DAY
        + c.hour * TICKS_PER_HOUR
        + seconds_in_hour / 5;
    let stamp = if c.year >= 2000 || (c.year >= 1980 && seconds_in_hour != 0) {
        TDSTART + ticks / 8 * 10 + ticks % 8
    } else {
        let hour_ticks = (ticks - TD1900) / TICKS_PER_HOUR * TICKS_PER_HOUR + TD1900;
        let h = civil_from_ticks(hour_ticks);
        h.month * 10_000_000 + h.day * 100_000 + (h.year - 1900) * 1000 + h.hour * 10
    };
    i32::try_from(stamp).ok().ok_or_else(out_of_range)
}

/// Hours since year 0 to an extended stamp, unconditionally (librmn mode 5).
fn ext_true_to_stamp_raw(hours: i64) -> Option<i32> {
    if !(0..(JD10K - JD0) * 24).contains(&hours) {
        return None;
    }
    let u = TROISG + hours / 8 * 10 + hours % 8;
    // u < 2^32 because hours < (JD10K - JD0)·24.
    Some(u32::try_from(u).ok()? as i32)
}

/// The unit of a "true date": 5-second ticks since 1980, or hours since year 0.
#[derive(Clone, Copy)]
enum Unit {
    Ticks,
    Hours,
}

impl Unit {
    fn per_day(self) -> i64 {
        match self {
            Unit::Ticks => TICKS_PER_DAY,
            Unit::Hours => 24,
        }
    }

    /// Julian day number of day 0 of the count.
    fn epoch(self) -> i64 {
        match self {
            Unit::Ticks => JD1980,
            Unit::Hours => JD0,
        }
    }
}

/// `start + offset` in `unit`, in `calendar`. `Ok(None)` on overflow; an error when the
/// start date does not exist in the calendar.
fn shift(
    start: i64,
    offset: i64,
    unit: Unit,
    calendar: Calendar,
) -> Result<Option<i64>, DateError> {
    // Far beyond the 10 000 years stamps can hold in either unit; keeps the day arithmetic
    // below well inside i64.
    const MAX_OFFSET_UNITS: i64 = 1 << 40;
    if !(-MAX_OFFSET_UNITS..=MAX_OFFSET_UNITS).contains(&offset) {
        return Ok(None);
    }
    if calendar == Calendar::Gregorian {
        return Ok(Some(start + offset));
    }
    let per_day = unit.per_day();
    let jd = start.div_euclid(per_day) + unit.epoch();
    let within = start.rem_euclid(per_day);
    let (year, month, day) = civil_from_julian_day(jd);
    let not_in_calendar = || DateError::NotInCalendar {
        date: Civil {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
        }
        .to_string(),
        calendar,
    };
    let index = calendar_day_index(calendar, year, month, day).ok_or_else(not_in_calendar)?;
    let total = index * per_day + within + offset;
    let (y, m, d) = calendar_day_from_index(calendar, total.div_euclid(per_day));
    Ok(Some(
        (julian_day(y, m, d) - unit.epoch()) * per_day + total.rem_euclid(per_day),
    ))
}

/// Days before each month in a 365-day year.
const NOLEAP_MONTH_START: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/// Position of a (Gregorian-labelled) date in the calendar's continuous day count.
fn calendar_day_index(calendar: Calendar, year: i64, month: i64, day: i64) -> Option<i64> {
    let month_start = |m: i64| {
        usize::try_from(m - 1)
            .ok()
            .and_then(|i| NOLEAP_MONTH_START.get(i).copied())
    };
    match calendar {
        Calendar::Gregorian => Some(julian_day(year, month, day)),
        // February 29 is folded onto February 28, which is what librmn's leap-day count
        // amounts to: Feb 29 06:00 + 24 h is Mar 1 06:00 and − 24 h is Feb 27 06:00.
        Calendar::NoLeap => {
            Some(year * 365 + month_start(month)? + day.min(days_in_month(1900, month)?) - 1)
        }
        Calendar::Days360 => {
            if (month == 2 && day > 28) || (month > 4 && day > 30) {
                return None;
            }
            let (m, d) = match (month, day) {
                (1, 31) => (2, 1),
                (2, d) => (2, d + 1),
                (3, 1) => (2, 30),
                (3, d) => (3, d - 1),
                (m, d) => (m, d),
            };
            Some(year * 360 + (m - 1) * 30 + d - 1)
        }
    }
}

/// Inverse of [`calendar_day_index`].
fn calendar_day_from_index(calendar: Calendar, index: i64) -> (i64, i64, i64) {
    match calendar {
        Calendar::Gregorian => civil_from_julian_day(index),
        Calendar::NoLeap => {
            let year = index.div_euclid(365);
            let doy = index.rem_euclid(365);
            let month = NOLEAP_MONTH_START
                .iter()
                .rposition(|&s| s <= doy)
                .unwrap_or(0);
            let start = NOLEAP_MONTH_START.get(month).copied().unwrap_or(0);
            (year, month as i64 + 1, doy - start + 1)
        }
        Calendar::Days360 => {
            let year = index.div_euclid(360);
            let doy = index.rem_euclid(360);
            let (m, d) = (doy / 30 + 1, doy % 30 + 1);
            let (m, d) = match (m, d) {
                (2, 1) => (1, 31),
                (2, 30) => (3, 1),
                (2, d) => (2, d - 1),
                (3, d) => (3, d + 1),
                (m, d) => (m, d),
            };
            (year, m, d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn stamp(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i32 {
        DateStamp::from_datetime(&at(y, mo, d, h, mi, s)).unwrap().0
    }

    #[test]
    fn spec_section_5_2_examples() {
        assert_eq!(stamp(2024, 3, 15, 12, 0, 0), 471_942_800);
        assert_eq!(stamp(1999, 1, 1, 6, 0, 0), 10_199_060);
        assert_eq!(stamp(1985, 7, 4, 23, 0, 0), 70_485_230);
        assert_eq!(stamp(1985, 7, 4, 23, 0, 15), 166_658_303);
        assert_eq!(stamp(2000, 1, 1, 0, 0, 0), 280_988_000);
        assert_eq!(stamp(2236, 1, 1, 0, 0, 0), -1_270_466_836);
    }

    #[test]
    fn oracle_readme_examples() {
        assert_eq!(stamp(1949, 12, 25, 12, 0, 0), 122_549_120);
        assert_eq!(stamp(1949, 12, 25, 12, 30, 0), 122_549_120);
        assert_eq!(stamp(1980, 1, 1, 0, 0, 0), 10_180_000);
        assert_eq!(stamp(1999, 12, 31, 18, 0, 0), 123_199_180);
        assert_eq!(stamp(1980, 1, 1, 0, 0, 5), 123_200_001);
        assert_eq!(stamp(2024, 6, 15, 12, 0, 0), 473_930_000);
        assert_eq!(stamp(2235, 1, 1, 0, 0, 0), 2_134_959_200);
        assert_eq!(stamp(1985, 6, 1, 12, 0, 0), 60_185_120);
        assert_eq!(stamp(1985, 6, 1, 12, 30, 0), 165_936_050);
    }

    #[test]
    fn extended_stamps() {
        let s = stamp(1850, 3, 1, 7, 59, 59);
        assert!(s < -1);
        assert_eq!(DateStamp(s).to_datetime(), Some(at(1850, 3, 1, 7, 0, 0)));
        let e = stamp(1901, 1, 1, 1, 0, 0);
        assert_eq!(DateStamp(e).style(), StampStyle::Extended);
        assert_eq!(
            DateStamp(e).to_iso8601().as_deref(),
            Some("1901-01-01T01:00:00Z")
        );
        assert_eq!(
            DateStamp(stamp(0, 1, 1, 0, 0, 0)).to_iso8601().as_deref(),
            Some("0000-01-01T00:00:00Z")
        );
        assert_eq!(
            DateStamp(stamp(9999, 12, 31, 23, 0, 0)).to_datetime(),
            Some(at(9999, 12, 31, 23, 0, 0))
        );
        assert!(DateStamp::from_datetime(&at(10_000, 1, 1, 0, 0, 0)).is_err());
    }

    #[test]
    fn special_stamps_have_no_date() {
        assert_eq!(DateStamp::NONE.to_iso8601(), None);
        assert_eq!(DateStamp::WILDCARD.to_iso8601(), None);
        assert_eq!(DateStamp(2_147_483_647).to_iso8601(), None);
        assert_eq!(
            DateStamp(INCDATR_ERROR).to_iso8601().as_deref(),
            Some("1910-10-10T10:00:00Z")
        );
    }

    #[test]
    fn incdatr_rounding_before_1980() {
        let start = stamp(1949, 12, 25, 12, 0, 0);
        // +35 min rounds to +1 h; +60 s rounds to nothing.
        assert_eq!(
            incdatr(start, 2100.0 / 3600.0, Calendar::Gregorian),
            Ok(122_549_130)
        );
        assert_eq!(
            incdatr(start, 60.0 / 3600.0, Calendar::Gregorian),
            Ok(start)
        );
    }

    #[test]
    fn librmn_error_cases() {
        // Origin 0 cannot be shifted: the writer stores 101010101 ...
        assert_eq!(
            DateStamp(0).valid_from_origin(300, 12),
            DateStamp(INCDATR_ERROR)
        );
        // ... and the reader shifts that back by one hour, keeping run digit 1.
        assert_eq!(dateo_from_datev(INCDATR_ERROR, 3600), 101_010_091);
        // 1980-01-01T01 − 1.75 h is 1979-12-31T23:15, not a whole hour: librmn fails.
        assert_eq!(dateo_from_datev(10_180_010, 6300), INCDATR_ERROR);
    }

    #[test]
    fn extended_arithmetic() {
        let s = stamp(2235, 12, 31, 12, 0, 0);
        let next = incdatr(s, 24.0, Calendar::Gregorian).unwrap();
        assert_eq!(
            DateStamp(next).to_datetime(),
            Some(at(2236, 1, 1, 12, 0, 0))
        );
        assert_eq!(incdatr(next, -24.0, Calendar::Gregorian), Ok(s));
        let old = stamp(1900, 1, 1, 0, 0, 0);
        let before = incdatr(old, -1.0, Calendar::Gregorian).unwrap();
        assert_eq!(
            DateStamp(before).to_datetime(),
            Some(at(1899, 12, 31, 23, 0, 0))
        );
    }

    #[test]
    fn search_mask_ignores_run_digit() {
        assert!(DateStamp(101_010_101).matches(DateStamp(101_010_100)));
        assert!(!DateStamp(101_010_101).matches(DateStamp(101_010_111)));
        assert!(DateStamp(5).matches(DateStamp::WILDCARD));
        assert_eq!(
            DateStamp::from_date_word(DateStamp(473_940_800).date_word()),
            DateStamp(473_940_800)
        );
    }

    #[test]
    fn alternative_calendars() {
        let feb28 = stamp(2024, 2, 28, 12, 0, 0);
        let gregorian = incdatr(feb28, 24.0, Calendar::Gregorian).unwrap();
        assert_eq!(
            DateStamp(gregorian).to_datetime(),
            Some(at(2024, 2, 29, 12, 0, 0))
        );
        let noleap = incdatr(feb28, 24.0, Calendar::NoLeap).unwrap();
        assert_eq!(
            DateStamp(noleap).to_datetime(),
            Some(at(2024, 3, 1, 12, 0, 0))
        );
        assert_eq!(incdatr(noleap, -24.0, Calendar::NoLeap), Ok(feb28));
        let feb29 = stamp(2024, 2, 29, 6, 0, 0);
        assert_eq!(
            incdatr(feb29, 24.0, Calendar::NoLeap),
            Ok(stamp(2024, 3, 1, 6, 0, 0))
        );
        assert_eq!(
            incdatr(feb29, -24.0, Calendar::NoLeap),
            Ok(stamp(2024, 2, 27, 6, 0, 0))
        );
        let year_later =
            incdatr(stamp(2023, 6, 1, 0, 0, 0), 365.0 * 24.0, Calendar::NoLeap).unwrap();
        assert_eq!(
            DateStamp(year_later).to_datetime(),
            Some(at(2024, 6, 1, 0, 0, 0))
        );
        // 360-day: 30 days after January 15 is "February 15", labelled February 14.
        let jan15 = stamp(2023, 1, 15, 0, 0, 0);
        let d360 = incdatr(jan15, 30.0 * 24.0, Calendar::Days360).unwrap();
        assert_eq!(
            DateStamp(d360).to_datetime(),
            Some(at(2023, 2, 14, 0, 0, 0))
        );
        assert_eq!(incdatr(d360, -30.0 * 24.0, Calendar::Days360), Ok(jan15));
        let may31 = stamp(2023, 5, 31, 0, 0, 0);
        assert!(matches!(
            incdatr(may31, 1.0, Calendar::Days360),
            Err(DateError::NotInCalendar { .. })
        ));
        assert_eq!(
            Calendar::from_newdate_options("year=365_day"),
            Some(Calendar::NoLeap)
        );
        assert_eq!(
            Calendar::from_newdate_options("year=360_day"),
            Some(Calendar::Days360)
        );
    }
}
