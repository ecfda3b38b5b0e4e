//! Property tests for ip encoding/decoding and CMC date stamps.
//!
//! Tests run in debug builds, where integer overflow panics, so the "never panics" properties
//! also check the arithmetic of the two modules on arbitrary input.
#![allow(clippy::unwrap_used, clippy::panic)]

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use fst_core::date::{dateo_from_datev, incdatr, Calendar, DateStamp, StampStyle};
use fst_core::ip::{
    decode_ip, decode_ip_triple, decode_ip_with, encode_ip, IpCompat, IpStyle, LevelKind,
};
use proptest::prelude::*;

/// Kinds with a real-valued new-style encoding (kind 15 is an integer code).
const REAL_KINDS: [LevelKind; 11] = [
    LevelKind::Height,
    LevelKind::Sigma,
    LevelKind::Pressure,
    LevelKind::Arbitrary,
    LevelKind::HeightAboveGround,
    LevelKind::Hybrid,
    LevelKind::Theta,
    LevelKind::Depth,
    LevelKind::Hours,
    LevelKind::MatrixIndex,
    LevelKind::PressureMetres,
];

fn kind_and_value() -> impl Strategy<Value = (LevelKind, f32)> {
    (0..REAL_KINDS.len(), 0.0_f64..=1.0, any::<bool>()).prop_map(|(i, t, log_scale)| {
        let kind = REAL_KINDS[i];
        let (low, high) = kind.range();
        let (low, mut high) = (f64::from(low), f64::from(high));
        if kind == LevelKind::MatrixIndex {
            // Kind 17 is stored as a negative mantissa, which holds at most 4.8e8.
            high = 4.8e8;
        }
        let value = if log_scale && low >= 0.0 {
            // Cover small magnitudes too: log-uniform over [max(low, 1e-6), high].
            let lo = low.max(1e-6);
            (lo.ln() + t * (high.ln() - lo.ln())).exp()
        } else {
            low + t * (high - low)
        };
        (kind, (value as f32).clamp(low as f32, high as f32))
    })
}

#[test]
fn kind_17_above_4_8e8_overflows_like_librmn() {
    assert!(encode_ip(4.8e8, LevelKind::MatrixIndex, IpStyle::New).is_ok());
    assert!(encode_ip(4.9e8, LevelKind::MatrixIndex, IpStyle::New).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// decode(encode(v)) gives back the kind and v within the encoding's precision:
    /// 6 significant digits for positive mantissas, 1/4800 relative for negative ones.
    #[test]
    fn new_style_round_trip((kind, value) in kind_and_value()) {
        let ip = encode_ip(value, kind, IpStyle::New).unwrap();
        prop_assert!(ip < 1 << 28);
        let decoded = decode_ip(ip).unwrap();
        if kind == LevelKind::Pressure && value == 0.0 {
            // Pressure 0 is encoded as the old-style 0.
            prop_assert_eq!((decoded.value, decoded.kind, decoded.style), (0.0, kind, IpStyle::Old));
            return Ok(());
        }
        prop_assert_eq!(decoded.kind, kind, "ip {} for {} {:?}", ip, value, kind);
        prop_assert_eq!(decoded.style, IpStyle::New);
        let v = f64::from(value);
        let d = f64::from(decoded.value);
        // Kind 17 is stored with a negative mantissa (scale factor -1).
        let negative_mantissa = v < 0.0 || kind == LevelKind::MatrixIndex;
        let relative = if negative_mantissa { 1.1e-4 } else { 5.1e-6 };
        // librmn snaps decoded values within 0.1 % of a kind's "zero" to that zero: 1 for
        // kinds 6 and 17, 0 for kind 21 (whose smallest encodable value is 1.001e-4).
        let zero = match kind {
            LevelKind::PressureMetres => 1.001e-4 * 1.001,
            LevelKind::Theta | LevelKind::MatrixIndex => 1.001e-3,
            _ => 1e-10,
        };
        prop_assert!((d - v).abs() <= relative * v.abs() + zero, "{} -> ip {} -> {}", v, ip, d);
    }

    /// Old-style round trip for the kinds that have one, at the encoding's resolution.
    #[test]
    fn old_style_round_trip(kind in 0_usize..4, t in 0.0_f32..=1.0) {
        let (kind, value, tolerance) = match kind {
            0 => (LevelKind::Height, t * 99_990.0, 2.51),
            1 => (LevelKind::Sigma, t, 0.000_051),
            2 => (LevelKind::Pressure, 10.0 + t * 1089.0, 0.5),
            _ => (LevelKind::Arbitrary, (t * 100.0).round(), 0.0),
        };
        let ip = encode_ip(value, kind, IpStyle::Old).unwrap();
        prop_assert!(ip <= 32_000);
        let decoded = decode_ip(ip).unwrap();
        prop_assert_eq!(decoded.kind, kind);
        prop_assert_eq!(decoded.style, IpStyle::Old);
        prop_assert!((decoded.value - value).abs() <= tolerance, "{} -> {} -> {}", value, ip, decoded.value);
    }

    /// Decoding any word never panics; new-style values lie in their kind's range.
    #[test]
    fn decode_any_word(ip in any::<u32>()) {
        for compat in [IpCompat::Current, IpCompat::Librmn19_5] {
            if let Ok(d) = decode_ip_with(ip, compat) {
                if d.style == IpStyle::New {
                    let (low, high) = d.kind.range();
                    prop_assert!(d.value >= low && d.value <= high, "{} -> {:?}", ip, d);
                }
            }
        }
        let _ = decode_ip_triple(ip, ip.rotate_left(7), ip.rotate_right(5));
        let _ = decode_ip_triple(ip & 0x0FFF_FFFF, ip >> 17, ip & 0xFFFF);
    }

    /// Encoding any value never panics.
    #[test]
    fn encode_any_value(value in any::<f32>(), kind in 0..LevelKind::ALL.len(), new in any::<bool>()) {
        let style = if new { IpStyle::New } else { IpStyle::Old };
        let _ = encode_ip(value, LevelKind::ALL[kind], style);
    }
}

fn datetime(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).unwrap()
}

/// Unix seconds of 1980-01-01, 2000-01-01, 2236-01-01, and year 0 / year 10000.
const S1980: i64 = 315_532_800;
const S2000: i64 = 946_684_800;
const S2236: i64 = 8_394_105_600;
const S0: i64 = -62_167_219_200;
const S10K: i64 = 253_402_300_800;
const S1900: i64 = -2_208_988_800;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// New-style stamps (2000..2235, 5-second resolution) round-trip exactly.
    #[test]
    fn new_stamps_round_trip(ticks in 0_i64..(S2236 - S2000) / 5) {
        let dt = datetime(S2000 + ticks * 5);
        let stamp = DateStamp::from_datetime(&dt).unwrap();
        prop_assert_eq!(stamp.style(), StampStyle::New);
        prop_assert_eq!(stamp.to_datetime(), Some(dt));
        prop_assert_eq!(DateStamp::from_date_word(stamp.date_word()), stamp);
    }

    /// 1980..2000: off the hour gives new-style stamps (exact to 5 s), on the hour old style.
    #[test]
    fn stamps_1980_to_2000(seconds in S1980..S2000) {
        let dt = datetime(seconds);
        let stamp = DateStamp::from_datetime(&dt).unwrap();
        let back = stamp.to_datetime().unwrap();
        if seconds % 3600 == 0 {
            prop_assert_eq!(stamp.style(), StampStyle::Old);
            prop_assert_eq!(back, dt);
        } else {
            prop_assert_eq!(stamp.style(), StampStyle::New);
            prop_assert_eq!(back, datetime(seconds - seconds.rem_euclid(5)));
        }
    }

    /// Extended stamps (years 0..1899 and 2236..9999) hold whole hours.
    #[test]
    fn extended_stamps_round_trip(
        hours in prop_oneof![0_i64..(S1900 - S0) / 3600, (S2236 - S0) / 3600..(S10K - S0) / 3600]
    ) {
        let seconds = S0 + hours * 3600;
        let dt = datetime(seconds);
        let stamp = DateStamp::from_datetime(&dt).unwrap();
        prop_assert_eq!(stamp.style(), StampStyle::Extended);
        prop_assert_eq!(stamp.to_datetime(), Some(dt));
        prop_assert_eq!(stamp.to_iso8601(), Some(dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()));
    }

    /// Any stamp: converting its date back gives a stamp with the same date.
    #[test]
    fn any_stamp_is_consistent(stamp in any::<i32>()) {
        if let Some(dt) = DateStamp(stamp).to_datetime() {
            let again = DateStamp::from_datetime(&dt).unwrap();
            prop_assert_eq!(again.to_datetime(), Some(dt), "stamp {} -> {} -> {}", stamp, dt, again.0);
            prop_assert_eq!(dt.nanosecond(), 0);
        }
    }

    /// The arithmetic never panics, whatever the stamp, offset and calendar.
    #[test]
    fn incdatr_any_input(stamp in any::<i32>(), hours in prop_oneof![any::<f64>(), -1e6_f64..1e6], cal in 0_usize..3) {
        let calendar = [Calendar::Gregorian, Calendar::NoLeap, Calendar::Days360][cal];
        let _ = incdatr(stamp, hours, calendar);
        let _ = dateo_from_datev(stamp, hours.abs() as u64);
    }

    /// From 2000 on, the reader's dateo undoes the writer's datev for steps on the 5-second
    /// grid, and both agree with plain datetime arithmetic.
    #[test]
    fn writer_and_reader_agree(ticks in 0_i64..(S2236 - S2000) / 5 - 2_000_000, deet in 1_u32..3600, npas in 0_u32..500) {
        let deet = deet - deet % 5 + 5;
        let origin = datetime(S2000 + ticks * 5);
        let dateo = DateStamp::from_datetime(&origin).unwrap();
        let datev = dateo.valid_from_origin(deet, npas);
        let seconds = u64::from(deet) * u64::from(npas);
        prop_assert_eq!(datev.to_datetime(), Some(origin + Duration::seconds(seconds as i64)));
        prop_assert_eq!(dateo_from_datev(datev.0, seconds), dateo.0);
    }

    /// Alternative calendars: adding then subtracting returns to the start.
    #[test]
    fn calendars_invert(day in 0_i64..(S2236 - S2000) / 86_400 - 400, hour in 0_i64..24, hours in -20_000_i64..20_000, cal in 0_usize..2) {
        let calendar = [Calendar::NoLeap, Calendar::Days360][cal];
        let start = datetime(S2000 + day * 86_400 + hour * 3600);
        let stamp = DateStamp::from_datetime(&start).unwrap();
        let (month, day) = (start.month(), start.day());
        let missing = (month == 2 && day == 29) || (calendar == Calendar::Days360 && month > 4 && day == 31);
        let end = stamp.add_hours(hours as f64, calendar);
        if missing {
            // February 29 counts as February 28 in 365-day years; the 360-day calendar
            // rejects dates it has no label for.
            prop_assert!(calendar == Calendar::NoLeap || end.is_err());
            return Ok(());
        }
        let end = end.unwrap();
        prop_assert_eq!(end.add_hours(-hours as f64, calendar), Ok(stamp));
        if hours % 24 == 0 {
            prop_assert_eq!(end.to_datetime().unwrap().hour(), start.hour());
        }
    }
}
