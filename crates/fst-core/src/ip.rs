//! ip1/ip2/ip3 level and time encodings (librmn `convip_plus` and `DecodeIp`).
//!
//! An ip is a 32-bit word that encodes a real value and a *kind* (height, sigma, pressure,
//! hours, ...). Values above 32767 use the "new style" 28-bit encoding (kind, pseudo-exponent,
//! mantissa); values up to 32767 use the "old style" encoding, whose ranges imply the kind.
//! See `fst-format.md` §6.
//!
//! Decoded values are `f32`, computed with the same floating-point steps as librmn, so that
//! they are bit-identical to what `convip` returns.
//!
//! # librmn versions
//!
//! Two behaviours changed between librmn 19.5 (2020) and current librmn; [`IpCompat`]
//! selects one and the default is the current behaviour:
//!
//! * kind 7 (depth below the sea surface) is invalid in 19.5 and valid now;
//! * `DecodeIp` reads an old-style ip3 (< 32768) as hours (kind 10) when it is at most 240
//!   and as an arbitrary code (kind 3) otherwise in 19.5; current librmn always says kind 3.

// Every integer operation below works on values bounded by the ip layout (a 4-bit kind, a
// 4-bit exponent, a 20-bit mantissa) or on rounded values already checked against their
// kind's range, so none can overflow; the property tests exercise every input in debug
// builds, where overflow panics.
#![allow(clippy::arithmetic_side_effects)]

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// Kind of an ip value: what the number measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LevelKind {
    /// 0: height above mean sea level, metres (`m`).
    Height,
    /// 1: sigma, 0..1 (`sg`).
    Sigma,
    /// 2: pressure, hPa (`mb`).
    Pressure,
    /// 3: arbitrary code (no unit).
    Arbitrary,
    /// 4: height above ground, metres (`M`).
    HeightAboveGround,
    /// 5: hybrid coordinate, 0..1 (`hy`).
    Hybrid,
    /// 6: potential temperature theta, K (`th`).
    Theta,
    /// 7: depth below the sea surface, metres (`m-`). Invalid in librmn 19.5.
    Depth,
    /// 10: time, hours (`H`).
    Hours,
    /// 15: integer code, 0..2 000 000 (`_0`).
    Integer,
    /// 17: index into a conversion matrix (`[]`); shares kind 1's code. Stored as a negative
    /// mantissa, so values above 4.8e8 cannot be encoded although the range says 1e10.
    MatrixIndex,
    /// 21: pressure-metres (`mp`); shares kind 5's code.
    PressureMetres,
}

/// How a kind behaves when decoding and encoding (librmn's per-kind tables).
struct KindTable {
    low: f32,
    high: f32,
    /// Values smaller than this in magnitude are encoded as this value.
    zero: f32,
    /// What a decoded near-zero value becomes.
    zero_decoded: f32,
    /// Scale applied before building the mantissa.
    factor: f32,
}

impl LevelKind {
    /// Every kind, in code order.
    pub const ALL: [LevelKind; 12] = [
        LevelKind::Height,
        LevelKind::Sigma,
        LevelKind::Pressure,
        LevelKind::Arbitrary,
        LevelKind::HeightAboveGround,
        LevelKind::Hybrid,
        LevelKind::Theta,
        LevelKind::Depth,
        LevelKind::Hours,
        LevelKind::Integer,
        LevelKind::MatrixIndex,
        LevelKind::PressureMetres,
    ];

    /// The librmn kind number.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            LevelKind::Height => 0,
            LevelKind::Sigma => 1,
            LevelKind::Pressure => 2,
            LevelKind::Arbitrary => 3,
            LevelKind::HeightAboveGround => 4,
            LevelKind::Hybrid => 5,
            LevelKind::Theta => 6,
            LevelKind::Depth => 7,
            LevelKind::Hours => 10,
            LevelKind::Integer => 15,
            LevelKind::MatrixIndex => 17,
            LevelKind::PressureMetres => 21,
        }
    }

    /// The kind with librmn number `code`, if it is a valid kind.
    #[must_use]
    pub const fn from_code(code: u32) -> Option<LevelKind> {
        Some(match code {
            0 => LevelKind::Height,
            1 => LevelKind::Sigma,
            2 => LevelKind::Pressure,
            3 => LevelKind::Arbitrary,
            4 => LevelKind::HeightAboveGround,
            5 => LevelKind::Hybrid,
            6 => LevelKind::Theta,
            7 => LevelKind::Depth,
            10 => LevelKind::Hours,
            15 => LevelKind::Integer,
            17 => LevelKind::MatrixIndex,
            21 => LevelKind::PressureMetres,
            _ => return None,
        })
    }

    /// librmn's unit string (`kind_to_string`, trimmed): `m sg mb "" M hy th m- H _0 [] mp`.
    #[must_use]
    pub const fn unit(self) -> &'static str {
        match self {
            LevelKind::Height => "m",
            LevelKind::Sigma => "sg",
            LevelKind::Pressure => "mb",
            LevelKind::Arbitrary => "",
            LevelKind::HeightAboveGround => "M",
            LevelKind::Hybrid => "hy",
            LevelKind::Theta => "th",
            LevelKind::Depth => "m-",
            LevelKind::Hours => "H",
            LevelKind::Integer => "_0",
            LevelKind::MatrixIndex => "[]",
            LevelKind::PressureMetres => "mp",
        }
    }

    /// The unit as people read it beside a value (map legends, WMS `ELEVATION` units,
    /// catalogues): `hPa`, `m`, `m above ground`, `sigma`, `hybrid`, `K`, `h`; `code` for kinds
    /// whose values are labels, and empty where the kind has no unit (matrix index, the
    /// pressure-in-metres kind). [`LevelKind::unit`] is librmn's short form (`mb`, `M`, `sg`…),
    /// the one FST tools print and parse; this is the single place both are defined.
    #[must_use]
    pub const fn display_unit(self) -> &'static str {
        match self {
            LevelKind::Height | LevelKind::Depth => "m",
            LevelKind::HeightAboveGround => "m above ground",
            LevelKind::Sigma => "sigma",
            LevelKind::Pressure => "hPa",
            LevelKind::Hybrid => "hybrid",
            LevelKind::Theta => "K",
            LevelKind::Hours => "h",
            LevelKind::Arbitrary | LevelKind::Integer => "code",
            LevelKind::MatrixIndex | LevelKind::PressureMetres => "",
        }
    }

    /// The range of values the kind accepts, inclusive.
    #[must_use]
    pub fn range(self) -> (f32, f32) {
        let t = self.table();
        (t.low, t.high)
    }

    /// Whether librmn considers the kind a vertical level (`is_level`): kinds 0–7 and 21.
    #[must_use]
    pub const fn is_level(self) -> bool {
        matches!(
            self,
            LevelKind::Height
                | LevelKind::Sigma
                | LevelKind::Pressure
                | LevelKind::Arbitrary
                | LevelKind::HeightAboveGround
                | LevelKind::Hybrid
                | LevelKind::Theta
                | LevelKind::Depth
                | LevelKind::PressureMetres
        )
    }

    /// +1 if a larger value is higher in the atmosphere (kinds 0, 4, 21), −1 if lower
    /// (kinds 1, 2, 7), 0 otherwise.
    const fn order(self) -> i8 {
        match self {
            LevelKind::Height | LevelKind::HeightAboveGround | LevelKind::PressureMetres => 1,
            LevelKind::Sigma | LevelKind::Pressure | LevelKind::Depth => -1,
            _ => 0,
        }
    }

    fn table(self) -> KindTable {
        let (low, high, zero, zero_decoded, factor) = match self {
            LevelKind::Height | LevelKind::HeightAboveGround => {
                (-20_000.0, 100_000.0, 0.0, 0.0, 1.0)
            }
            LevelKind::Sigma | LevelKind::Hybrid => (0.0, 1.0, 0.0, 0.0, 1.0),
            LevelKind::Pressure => (0.0, 1100.0, 0.0, 0.0, 1.0),
            LevelKind::Theta => (1.0, 200_000.0, 1.0, 1.0, 1.0),
            LevelKind::Depth => (0.0, 20_000.0, 0.0, 0.0, 1.0),
            LevelKind::Hours => (0.0, 1.0e10, 0.0, 0.0, 1.0),
            LevelKind::Integer => (0.0, 2_000_000.0, 0.0, 0.0, 1.0),
            LevelKind::MatrixIndex => (1.0, 1.0e10, 1.0, 1.0, -1.0),
            LevelKind::PressureMetres => (0.0, 1_000_000.0, 1.001e-4, 0.0, 1.0e4),
            LevelKind::Arbitrary => (-4.8e8, 1.0e10, 0.0, 0.0, 1.0),
        };
        KindTable {
            low,
            high,
            zero,
            zero_decoded,
            factor,
        }
    }

    /// Whether `convip` accepts the kind under `compat` (kind 7 is invalid in 19.5).
    fn valid_in(self, compat: IpCompat) -> bool {
        !(self == LevelKind::Depth && compat == IpCompat::Librmn19_5)
    }
}

impl fmt::Display for LevelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.unit())
    }
}

/// Serialized as the librmn kind number.
impl Serialize for LevelKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

/// Which encoding an ip uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IpStyle {
    /// Old style (ip ≤ 32767; kinds 0–3 only; the range implies the kind).
    Old,
    /// New style (28 bits: kind, pseudo-exponent, mantissa).
    New,
}

/// Which librmn behaviour to reproduce where versions differ (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum IpCompat {
    /// Current librmn (kind 7 valid; old-style ip3 is an arbitrary code in `DecodeIp`).
    #[default]
    Current,
    /// librmn 19.5, the version that wrote the XDF test fixtures (kind 7 invalid; old-style
    /// ip3 ≤ 240 read as hours by `DecodeIp`).
    Librmn19_5,
}

/// A value and its kind: what a level or time is, independent of how it was encoded.
///
/// `Display` gives librmn-like text with the shortest representation of the `f32` value:
/// `850 mb`, `0.995 sg`, `1500.5 m`, `6 H`; kind 3 has no unit (`7`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// The value, in the kind's unit.
    pub value: f32,
    /// What the value measures.
    pub kind: LevelKind,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = self.kind.unit();
        if unit.is_empty() {
            write!(f, "{}", self.value)
        } else {
            write!(f, "{} {}", self.value, unit)
        }
    }
}

/// Serialized as `{value, kind, unit}`.
impl Serialize for Level {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Level", 3)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("unit", self.kind.unit())?;
        st.end()
    }
}

/// A decoded ip: value, kind and the style of the encoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ip {
    /// The value, as librmn computes it (`f32`).
    pub value: f32,
    /// What the value measures.
    pub kind: LevelKind,
    /// Old or new encoding.
    pub style: IpStyle,
}

impl Ip {
    /// The value and kind without the style.
    #[must_use]
    pub fn level(&self) -> Level {
        Level {
            value: self.value,
            kind: self.kind,
        }
    }
}

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.level().fmt(f)
    }
}

/// Serialized as `{value, kind, unit, style}`.
impl Serialize for Ip {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Ip", 4)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("unit", self.kind.unit())?;
        st.serialize_field("style", &self.style)?;
        st.end()
    }
}

/// Why an ip could not be decoded or a value could not be encoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IpError {
    /// The new-style kind field holds a kind librmn does not accept.
    #[error("ip {ip} (0x{ip:08x}): invalid kind {kind}")]
    InvalidKind {
        /// The ip.
        ip: u32,
        /// The kind field (bits 27..24).
        kind: u32,
    },
    /// The decoded value is outside its kind's range and no associated kind accepts it.
    #[error("ip {ip} (0x{ip:08x}): value {value} is outside the range of kind {kind}")]
    ValueOutOfKindRange {
        /// The ip.
        ip: u32,
        /// The decoded value.
        value: f32,
        /// The kind field.
        kind: u32,
    },
    /// A kind-15 ip whose integer exceeds 2 000 000, or with bits above the kind set.
    #[error("ip {ip} (0x{ip:08x}): invalid kind-15 integer")]
    InvalidInteger {
        /// The ip.
        ip: u32,
    },
    /// The value to encode is NaN.
    #[error("cannot encode NaN as kind {kind}")]
    NotANumber {
        /// The requested kind.
        kind: LevelKind,
    },
    /// The value to encode is outside the range of its kind (librmn returns −999999).
    #[error("cannot encode {value} as kind {kind}: outside {low}..={high}")]
    OutOfRange {
        /// The value.
        value: f32,
        /// The requested kind.
        kind: LevelKind,
        /// Lowest accepted value.
        low: f32,
        /// Highest accepted value.
        high: f32,
    },
    /// The value is too large for the mantissa even at the smallest pseudo-exponent
    /// (librmn returns −1).
    #[error("cannot encode {value} as kind {kind}: mantissa overflow")]
    MantissaOverflow {
        /// The value.
        value: f32,
        /// The requested kind.
        kind: LevelKind,
    },
    /// Old-style encoding exists only for kinds 0–3.
    #[error("kind {kind} has no old-style encoding")]
    NoOldStyle {
        /// The requested kind.
        kind: LevelKind,
    },
    /// One ip of a triple is negative as a signed 32-bit integer (`DecodeIp` rejects it).
    #[error("ip{position} = {ip} is negative as a signed 32-bit integer")]
    Negative {
        /// 1, 2 or 3.
        position: u8,
        /// The ip.
        ip: u32,
    },
    /// ip1 of a triple does not decode to a level kind.
    #[error("ip1 = {ip} decodes to kind {kind}, which is not a level")]
    NotALevel {
        /// The ip.
        ip: u32,
        /// The decoded kind.
        kind: LevelKind,
    },
    /// A new-style ip2 of a triple does not decode to hours.
    #[error("ip2 = {ip} decodes to kind {kind}, not a time in hours")]
    NotATime {
        /// The ip.
        ip: u32,
        /// The decoded kind.
        kind: LevelKind,
    },
}

/// Largest value of an old-style ip.
const OLD_STYLE_MAX: i32 = 32_767;

/// Divisors for the pseudo-exponents 0..15, as librmn stores them: the first four are
/// double-precision literals, the others single-precision literals widened to double
/// (so that the last one is 1e11 rounded to `f32`).
const EXPONENT_DIVISORS: [f64; 16] = [
    0.0001,
    0.001,
    0.01,
    0.1,
    1.0,
    10.0,
    100.0,
    1000.0,
    10_000.0,
    100_000.0,
    1_000_000.0,
    10_000_000.0,
    100_000_000.0,
    1_000_000_000.0,
    10_000_000_000.0,
    // 1e11 is not representable in f32; librmn's table holds the f32 value.
    99_999_997_952.0,
];

/// Decode an ip with current librmn rules (§6.4).
///
/// ```
/// use fst_core::ip::{decode_ip, IpStyle, LevelKind};
///
/// let level = decode_ip(41_744_464)?;
/// assert_eq!((level.value, level.kind, level.style), (850.0, LevelKind::Pressure, IpStyle::New));
/// assert_eq!(level.to_string(), "850 mb");
/// assert_eq!(decode_ip(11_950)?.to_string(), "0.995 sg"); // old-style sigma
/// # Ok::<(), fst_core::ip::IpError>(())
/// ```
pub fn decode_ip(ip: u32) -> Result<Ip, IpError> {
    decode_ip_with(ip, IpCompat::Current)
}

/// Decode an ip, reproducing the librmn version `compat`.
pub fn decode_ip_with(ip: u32, compat: IpCompat) -> Result<Ip, IpError> {
    // librmn handles ips as signed integers: a word with bit 31 set is "old style" and
    // falls through to the arbitrary-value case.
    let signed = ip as i32;
    if signed > OLD_STYLE_MAX {
        decode_new_style(ip, compat)
    } else {
        Ok(decode_old_style(signed))
    }
}

fn decode_new_style(ip: u32, compat: IpCompat) -> Result<Ip, IpError> {
    let kind_bits = (ip >> 24) & 15;
    if kind_bits == 15 {
        let value = ip & 0x00FF_FFFF;
        // librmn requires the whole word above bit 23 to be exactly 15.
        if ip >> 24 != 15 || value > 2_000_000 {
            return Err(IpError::InvalidInteger { ip });
        }
        return Ok(Ip {
            value: value as f32,
            kind: LevelKind::Integer,
            style: IpStyle::New,
        });
    }
    let mut kind = LevelKind::from_code(kind_bits)
        .filter(|k| k.valid_in(compat))
        .ok_or(IpError::InvalidKind {
            ip,
            kind: kind_bits,
        })?;
    let exponent = ((ip >> 20) & 15) as usize;
    let raw = ip & 0x000F_FFFF;
    let mantissa = if raw > 1_000_000 {
        -((raw - 1_000_000) as i32)
    } else {
        raw as i32
    };
    let divisor = EXPONENT_DIVISORS.get(exponent).copied().unwrap_or(1.0);
    // librmn: the quotient is computed in double precision, stored as f32, and the scale
    // factor is then applied in single precision.
    let unscaled = (f64::from(mantissa) / divisor) as f32;
    loop {
        let t = kind.table();
        let value = unscaled / t.factor;
        if value < t.low || value > t.high {
            // Out of range: try the kind that shares this code (1 -> 17, 5 -> 21).
            match LevelKind::from_code(u32::from(kind.code()) + 16) {
                Some(next) if next.valid_in(compat) => {
                    kind = next;
                    continue;
                }
                _ => {
                    return Err(IpError::ValueOutOfKindRange {
                        ip,
                        value,
                        kind: kind_bits,
                    })
                }
            }
        }
        let mut value = value.clamp(t.low, t.high);
        if value.abs() < 1.001_f32 * t.zero {
            value = t.zero_decoded;
        }
        return Ok(Ip {
            value,
            kind,
            style: IpStyle::New,
        });
    }
}

fn decode_old_style(ip: i32) -> Ip {
    let (value, kind) = match ip {
        12_001..=32_000 => ((5 * (ip - 12_001)) as f32, LevelKind::Height),
        2000..=12_000 => ((ip - 2000) as f32 / 10_000.0_f32, LevelKind::Sigma),
        0..=1099 => (ip as f32, LevelKind::Pressure),
        // Pressures below 10 hPa; librmn divides in double precision.
        1201..=1399 => (
            (f64::from(ip - 1200) / 20_000.0) as f32,
            LevelKind::Pressure,
        ),
        1400..=1599 => ((f64::from(ip - 1400) / 2000.0) as f32, LevelKind::Pressure),
        1600..=1799 => ((f64::from(ip - 1600) / 200.0) as f32, LevelKind::Pressure),
        1800..=1999 => ((f64::from(ip - 1800) / 20.0) as f32, LevelKind::Pressure),
        1100..=1200 => (1200.0_f32 - ip as f32, LevelKind::Arbitrary),
        // 32001..32767 and negative values: the number itself, arbitrary.
        _ => (ip as f32, LevelKind::Arbitrary),
    };
    Ip {
        value,
        kind,
        style: IpStyle::Old,
    }
}

/// Round half away from zero (Fortran `nint`), in double precision, saturating.
fn nint64(x: f64) -> i64 {
    x.round() as i64
}

/// Round half away from zero (Fortran `nint`), in single precision, saturating.
fn nint32(x: f32) -> i64 {
    x.round() as i64
}

/// Encode `value` of `kind` in the requested style (`convip` modes 2 and 3).
///
/// Pressure 0 encodes as 0 in both styles (librmn's special case). New style accepts
/// every kind, old style only kinds 0–3. The result fits in 28 bits (new style) or is at
/// most 32 000 (old style).
pub fn encode_ip(value: f32, kind: LevelKind, style: IpStyle) -> Result<u32, IpError> {
    if value.is_nan() {
        return Err(IpError::NotANumber { kind });
    }
    if kind == LevelKind::Pressure && value == 0.0 {
        return Ok(0);
    }
    match style {
        IpStyle::New => encode_new_style(value, kind),
        IpStyle::Old => encode_old_style(value, kind),
    }
}

fn encode_new_style(value: f32, kind: LevelKind) -> Result<u32, IpError> {
    let t = kind.table();
    if kind == LevelKind::Integer {
        let n = nint32(value);
        return match u32::try_from(n) {
            Ok(n) if n <= 2_000_000 => Ok(n | 15 << 24),
            _ => Err(IpError::OutOfRange {
                value,
                kind,
                low: t.low,
                high: t.high,
            }),
        };
    }
    if value < t.low || value > t.high {
        return Err(IpError::OutOfRange {
            value,
            kind,
            low: t.low,
            high: t.high,
        });
    }
    let mut v = f64::from(value);
    if v.abs() < f64::from(t.zero) {
        v = f64::from(t.zero);
    }
    v *= f64::from(t.factor);
    let (hi, lo, offset) = if v >= 0.0 {
        (1_000_000.0, 100_000.0, 0_u32)
    } else {
        v = -v;
        (48_000.0, 4_800.0, 1_000_000_u32)
    };
    let mut exponent: u32 = 4;
    while exponent > 0 && exponent < 15 {
        if v >= hi {
            v /= 10.0;
            exponent -= 1;
        } else if v < lo {
            v *= 10.0;
            exponent += 1;
        } else {
            break;
        }
    }
    if v > hi {
        return Err(IpError::MantissaOverflow { value, kind });
    }
    // 0 <= v <= hi <= 1e6 here, so the rounded mantissa fits comfortably.
    let mantissa = offset.saturating_add(nint64(v) as u32);
    Ok(mantissa | exponent << 20 | (u32::from(kind.code()) & 15) << 24)
}

fn encode_old_style(p: f32, kind: LevelKind) -> Result<u32, IpError> {
    let out_of_range = |low: f32, high: f32| IpError::OutOfRange {
        value: p,
        kind,
        low,
        high,
    };
    let ip = match kind {
        LevelKind::Height => nint32(p / 5.0 + 12_001.0).clamp(12_001, 32_000),
        LevelKind::Sigma => {
            if !(0.0..=1.0).contains(&p) {
                return Err(out_of_range(0.0, 1.0));
            }
            nint32(p * 10_000.0) + 2000
        }
        LevelKind::Pressure => {
            if !(0.0..1100.0).contains(&p) {
                return Err(out_of_range(0.0, 1_099.999_9));
            }
            if p >= 0.999_999e1 {
                nint32(p)
            } else if p >= 0.999_999 {
                1800 + nint32(20.0 * p)
            } else if p >= 0.999_999e-1 {
                1600 + nint32(200.0 * p)
            } else if p >= 0.999_999e-2 {
                1400 + nint32(2000.0 * p)
            } else if p >= 0.999_999e-3 {
                1200 + nint32(20_000.0 * p)
            } else {
                0
            }
        }
        LevelKind::Arbitrary => {
            let n = nint32(p);
            if !(0..=100).contains(&n) {
                return Err(out_of_range(0.0, 100.0));
            }
            1200 - n
        }
        _ => return Err(IpError::NoOldStyle { kind }),
    };
    // Every branch above yields 0..=32000.
    Ok(ip as u32)
}

/// One element of a decoded (ip1, ip2, ip3) triple: a value or a range `v1..v2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IpRange {
    /// First value (the only one when `v1 == v2`).
    pub v1: f32,
    /// Second value.
    pub v2: f32,
    /// The kind; `None` for ip3 when it was folded into a range of rp1 or rp2
    /// (librmn reports kind −1 and values 0).
    pub kind: Option<LevelKind>,
}

impl IpRange {
    fn single(value: f32, kind: LevelKind) -> Self {
        IpRange {
            v1: value,
            v2: value,
            kind: Some(kind),
        }
    }

    const CONSUMED: IpRange = IpRange {
        v1: 0.0,
        v2: 0.0,
        kind: None,
    };

    /// Whether this is a range (`v1 != v2`).
    #[must_use]
    pub fn is_range(&self) -> bool {
        self.v1.to_bits() != self.v2.to_bits()
    }

    /// librmn's kind number, −1 for `None`.
    #[must_use]
    pub fn kind_code(&self) -> i32 {
        self.kind.map_or(-1, |k| i32::from(k.code()))
    }
}

/// Serialized as `{v1, v2, kind, unit}` with kind −1 and unit null when absent.
impl Serialize for IpRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("IpRange", 4)?;
        st.serialize_field("v1", &self.v1)?;
        st.serialize_field("v2", &self.v2)?;
        st.serialize_field("kind", &self.kind_code())?;
        st.serialize_field("unit", &self.kind.map(LevelKind::unit))?;
        st.end()
    }
}

/// The result of [`decode_ip_triple`]: a level (rp1), a time (rp2) and a third value (rp3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IpTriple {
    /// The level (or a layer, lower level first in the atmosphere).
    pub rp1: IpRange,
    /// The time in hours (or a period, in ascending order).
    pub rp2: IpRange,
    /// ip3, unless it was folded into rp1 or rp2.
    pub rp3: IpRange,
    /// Which of ip1, ip2, ip3 were old style, so that their kind is a guess.
    pub guessed: [bool; 3],
}

/// librmn `DecodeIp` with current librmn rules.
pub fn decode_ip_triple(ip1: u32, ip2: u32, ip3: u32) -> Result<IpTriple, IpError> {
    decode_ip_triple_with(ip1, ip2, ip3, IpCompat::Current)
}

/// librmn `DecodeIp`: interpret (ip1, ip2, ip3) as level, time and a third value.
///
/// * ip1 must decode to a level kind (0–7, 21).
/// * ip2 < 32768 is taken literally as hours; a new-style ip2 must decode to kind 10.
/// * ip3 < 32768 is taken literally as kind 3 (19.5: kind 10 when ≤ 240); a new-style ip3
///   may be any valid kind.
/// * A new-style ip3 of kind 10 with a new-style ip2 makes rp2 a period (ascending); a
///   new-style ip3 of the same kind as ip1 (kinds 0–6) makes rp1 a layer (lower level
///   first). rp3 then has no kind.
///
/// librmn compares uninitialised kinds when ip2 or ip3 is old style; here an old-style
/// ip2 or ip3 never forms a range, which is what the librmn 19.5 fixtures show.
pub fn decode_ip_triple_with(
    ip1: u32,
    ip2: u32,
    ip3: u32,
    compat: IpCompat,
) -> Result<IpTriple, IpError> {
    for (position, ip) in [(1_u8, ip1), (2, ip2), (3, ip3)] {
        if (ip as i32) < 0 {
            return Err(IpError::Negative { position, ip });
        }
    }
    let is_old = |ip: u32| ip as i32 <= OLD_STYLE_MAX;

    let level = decode_ip_with(ip1, compat)?;
    if !level.kind.is_level() {
        return Err(IpError::NotALevel {
            ip: ip1,
            kind: level.kind,
        });
    }
    let mut rp1 = IpRange::single(level.value, level.kind);

    let (mut rp2, time_kind) = if is_old(ip2) {
        (IpRange::single(ip2 as f32, LevelKind::Hours), None)
    } else {
        let time = decode_ip_with(ip2, compat)?;
        if time.kind != LevelKind::Hours {
            return Err(IpError::NotATime {
                ip: ip2,
                kind: time.kind,
            });
        }
        (IpRange::single(time.value, time.kind), Some(time.kind))
    };

    let (mut rp3, third) = if is_old(ip3) {
        let kind = if compat == IpCompat::Librmn19_5 && ip3 <= 240 {
            LevelKind::Hours
        } else {
            LevelKind::Arbitrary
        };
        (IpRange::single(ip3 as f32, kind), None)
    } else {
        let third = decode_ip_with(ip3, compat)?;
        (IpRange::single(third.value, third.kind), Some(third))
    };

    if let Some(third) = third {
        if third.kind == LevelKind::Hours && time_kind == Some(LevelKind::Hours) {
            rp2.v2 = third.value;
            rp3 = IpRange::CONSUMED;
            if rp2.v2 < rp2.v1 {
                std::mem::swap(&mut rp2.v1, &mut rp2.v2);
            }
        } else if third.kind.code() <= 6 && third.kind == level.kind {
            rp1.v2 = third.value;
            rp3 = IpRange::CONSUMED;
            let order = third.kind.order();
            if (rp1.v2 < rp1.v1 && order > 0) || (rp1.v2 > rp1.v1 && order < 0) {
                std::mem::swap(&mut rp1.v1, &mut rp1.v2);
            }
        }
    }

    Ok(IpTriple {
        rp1,
        rp2,
        rp3,
        guessed: [is_old(ip1), is_old(ip2), is_old(ip3)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(ip: u32) -> (f32, u8, IpStyle) {
        let d = decode_ip(ip).unwrap();
        (d.value, d.kind.code(), d.style)
    }

    #[test]
    fn decodes_the_oracle_examples() {
        assert_eq!(dec(41_744_464), (850.0, 2, IpStyle::New));
        assert_eq!(dec(6_441_506), (1500.5, 0, IpStyle::New));
        assert_eq!(dec(177_809_344), (6.0, 10, IpStyle::New));
        assert_eq!(dec(1193), (7.0, 3, IpStyle::Old));
        assert_eq!(dec(1500), (0.05, 2, IpStyle::Old));
        assert_eq!(dec(12_000), (1.0, 1, IpStyle::Old));
        assert_eq!(dec(11_950), (0.995, 1, IpStyle::Old));
        assert_eq!(dec(32_767), (32_767.0, 3, IpStyle::Old));
        assert_eq!(dec(12_003), (10.0, 0, IpStyle::Old));
    }

    #[test]
    fn encodes_the_oracle_examples() {
        assert_eq!(
            encode_ip(1500.5, LevelKind::Height, IpStyle::New),
            Ok(6_441_506)
        );
        assert_eq!(
            encode_ip(850.0, LevelKind::Pressure, IpStyle::New),
            Ok(41_744_464)
        );
        assert_eq!(
            encode_ip(6.0, LevelKind::Hours, IpStyle::New),
            Ok(177_809_344)
        );
        assert_eq!(encode_ip(0.0, LevelKind::Pressure, IpStyle::New), Ok(0));
        assert_eq!(encode_ip(0.995, LevelKind::Sigma, IpStyle::Old), Ok(11_950));
        assert_eq!(encode_ip(7.0, LevelKind::Arbitrary, IpStyle::Old), Ok(1193));
        assert_eq!(encode_ip(0.05, LevelKind::Pressure, IpStyle::Old), Ok(1500));
        assert!(matches!(
            encode_ip(1100.0, LevelKind::Pressure, IpStyle::Old),
            Err(IpError::OutOfRange { .. })
        ));
        for kind in [
            LevelKind::HeightAboveGround,
            LevelKind::Hybrid,
            LevelKind::Theta,
        ] {
            assert_eq!(
                encode_ip(1.0, kind, IpStyle::Old),
                Err(IpError::NoOldStyle { kind })
            );
        }
    }

    #[test]
    fn kind_17_and_21_share_codes() {
        let ip = encode_ip(5.0, LevelKind::MatrixIndex, IpStyle::New).unwrap();
        assert_eq!((ip >> 24) & 15, 1);
        assert_eq!(dec(ip), (5.0, 17, IpStyle::New));
        let ip = encode_ip(54_321.0, LevelKind::PressureMetres, IpStyle::New).unwrap();
        assert_eq!(ip, 85_477_866);
        assert_eq!(dec(ip), (54_321.0, 21, IpStyle::New));
    }

    #[test]
    fn kind_7_depends_on_the_librmn_version() {
        let ip = encode_ip(150.0, LevelKind::Depth, IpStyle::New).unwrap();
        assert_eq!(dec(ip), (150.0, 7, IpStyle::New));
        assert_eq!(
            decode_ip_with(ip, IpCompat::Librmn19_5),
            Err(IpError::InvalidKind { ip, kind: 7 })
        );
    }

    #[test]
    fn kind_15_integers() {
        const KIND_15: u32 = 0x0F00_0000;
        assert_eq!(
            encode_ip(1234.0, LevelKind::Integer, IpStyle::New),
            Ok(KIND_15 + 1234)
        );
        assert_eq!(dec(KIND_15 + 2_000_000), (2_000_000.0, 15, IpStyle::New));
        assert!(decode_ip(KIND_15 + 2_000_001).is_err());
        assert!(decode_ip(0x1F00_0001).is_err());
    }

    #[test]
    fn words_with_bit_31_are_old_style_arbitrary() {
        let d = decode_ip(0xFFFF_FFFE).unwrap();
        assert_eq!(
            (d.value, d.kind, d.style),
            (-2.0, LevelKind::Arbitrary, IpStyle::Old)
        );
    }

    #[test]
    fn level_display() {
        let show = |value, kind| Level { value, kind }.to_string();
        assert_eq!(show(850.0, LevelKind::Pressure), "850 mb");
        assert_eq!(show(0.995, LevelKind::Sigma), "0.995 sg");
        assert_eq!(show(1500.5, LevelKind::Height), "1500.5 m");
        assert_eq!(show(7.0, LevelKind::Arbitrary), "7");
        assert_eq!(decode_ip(28_257_976).unwrap().to_string(), "0.995 sg");
    }

    #[test]
    fn serializes_value_kind_unit() {
        let json = serde_json::to_string(&decode_ip(41_744_464).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"value":850.0,"kind":2,"unit":"mb","style":"new"}"#
        );
    }

    #[test]
    fn triple_ranges() {
        let t = decode_ip_triple(76_696_048, 176_280_768, 177_809_344).unwrap();
        assert_eq!(
            (t.rp2.v1, t.rp2.v2, t.rp2.kind),
            (6.0, 12.0, Some(LevelKind::Hours))
        );
        assert_eq!(t.rp3.kind, None);
        let t = decode_ip_triple(39_945_888, 176_400_768, 41_394_464).unwrap();
        assert_eq!((t.rp1.v1, t.rp1.v2), (1000.0, 500.0));
        assert_eq!(t.rp3, IpRange::CONSUMED);
        let t = decode_ip_triple(41_394_464, 3, 82).unwrap();
        assert_eq!(t.rp3.kind, Some(LevelKind::Arbitrary));
        let t = decode_ip_triple_with(41_394_464, 3, 82, IpCompat::Librmn19_5).unwrap();
        assert_eq!(t.rp3.kind, Some(LevelKind::Hours));
        let t = decode_ip_triple_with(41_394_464, 3, 241, IpCompat::Librmn19_5).unwrap();
        assert_eq!(t.rp3.kind, Some(LevelKind::Arbitrary));
        assert!(matches!(
            decode_ip_triple(177_809_344, 0, 0),
            Err(IpError::NotALevel { .. })
        ));
        assert!(matches!(
            decode_ip_triple(0, 41_394_464, 0),
            Err(IpError::NotATime { .. })
        ));
    }
}
