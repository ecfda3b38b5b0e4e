//! WKT2:2019 of our four projections, written without PROJ.
//!
//! The Python wheel and other PROJ-free builds still owe their users a `crs_wkt` (CF) or a
//! GDAL-readable CRS. Our CRSes are a handful of fixed shapes on a sphere, so the text is
//! built here, in the form PROJ 9 exports them (single-line). Numbers are `%.15g` correctly
//! rounded; PROJ formats through `SQLite`'s printf, which is not, so PROJ's last digit can
//! differ by one. With the `proj` feature a test compares both over many parameters, token
//! by token, and has PROJ read our text back.

use crate::grid::Projection;
use crate::params::EARTH_RADIUS_M;
use crate::rotation::norm180;

const DEGREE: &str = "ANGLEUNIT[\"degree\",0.0174532925199433]";
const DEGREE_ID: &str = "ANGLEUNIT[\"degree\",0.0174532925199433,ID[\"EPSG\",9122]]";
const METRE_ID: &str = "LENGTHUNIT[\"metre\",1,ID[\"EPSG\",9001]]";

/// How PROJ writes a number in WKT: 15 significant digits (`%.15g`),
/// 14 when that shows a run of ten nines (a binary artefact such as 59.999999999999993),
/// zero as `0`, and the exponent letter in upper case.
pub(crate) fn proj_number(x: f64) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    let s = general(x, 15);
    let s = if s.contains("9999999999") {
        general(x, 14)
    } else {
        s
    };
    s.replace('e', "E")
}

/// C's `%.{precision}g` for a finite non-zero `x`.
fn general(x: f64, precision: usize) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let sci = format!("{:.*e}", precision - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let p = i64::try_from(precision).unwrap_or(i64::MAX);
    if exp < -4 || exp >= p {
        let mantissa = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let decimals = usize::try_from(p - 1 - exp).unwrap_or(0);
        trim_fraction(&format!("{x:.decimals$}")).to_owned()
    }
}

/// Drop trailing zeros of a fraction, and the point when nothing follows it.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// The spherical datum every FST grid uses, with its prime meridian.
fn datum() -> String {
    format!(
        "DATUM[\"unknown\",ELLIPSOID[\"unknown\",{},0,{METRE_ID}]],\
         PRIMEM[\"Greenwich\",0,{DEGREE},ID[\"EPSG\",8901]]",
        proj_number(EARTH_RADIUS_M)
    )
}

fn lon_lat_axes() -> String {
    format!(
        "CS[ellipsoidal,2],AXIS[\"longitude\",east,ORDER[1],{DEGREE_ID}],\
         AXIS[\"latitude\",north,ORDER[2],{DEGREE_ID}]"
    )
}

/// WKT2:2019 of a projection, single-line, as PROJ exports the equivalent PROJ string
/// ([`crate::crs::proj_string`]).
pub(crate) fn wkt2019(p: &Projection) -> String {
    match p {
        Projection::LongLat => format!("GEOGCRS[\"unknown\",{},{}]", datum(), lon_lat_axes()),
        Projection::Polar { north, dgrw } => {
            let (lat_ts, lon_0, dir, n_meridian) = if *north {
                (60.0, norm180(270.0 - dgrw), "south", 180)
            } else {
                (-60.0, norm180(dgrw - 90.0), "north", 0)
            };
            let param = |name: &str, value: f64, unit: &str, id: u32| {
                format!(
                    "PARAMETER[\"{name}\",{},{unit},ID[\"EPSG\",{id}]]",
                    proj_number(value)
                )
            };
            let metre = "LENGTHUNIT[\"metre\",1]";
            let axis = |name: &str, meridian: u32, order: u32| {
                format!(
                    "AXIS[\"({name})\",{dir},MERIDIAN[{meridian},{DEGREE_ID}],ORDER[{order}],\
                     {METRE_ID}]"
                )
            };
            format!(
                "PROJCRS[\"unknown\",BASEGEOGCRS[\"unknown\",{}],CONVERSION[\"unknown\",\
                 METHOD[\"Polar Stereographic (variant B)\",ID[\"EPSG\",9829]],{},{},{},{}],\
                 CS[Cartesian,2],{},{}]",
                datum(),
                param("Latitude of standard parallel", lat_ts, DEGREE, 8832),
                param("Longitude of origin", lon_0, DEGREE, 8833),
                param("False easting", 0.0, metre, 8806),
                param("False northing", 0.0, metre, 8807),
                axis("E", 90, 1),
                axis("N", n_meridian, 2),
            )
        }
        Projection::Rotated(rot) => {
            let o = rot.ob_tran();
            let param = |name: &str, value: f64| {
                format!("PARAMETER[\"{name}\",{},{DEGREE_ID}]", proj_number(value))
            };
            format!(
                "GEOGCRS[\"unnamed\",BASEGEOGCRS[\"unknown\",{}],DERIVINGCONVERSION[\"unknown\",\
                 METHOD[\"PROJ ob_tran o_proj=longlat\"],{},{},{}],{}]",
                datum(),
                param("o_lat_p", o.o_lat_p),
                param("o_lon_p", o.o_lon_p),
                param("lon_0", o.lon_0),
                lon_lat_axes()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_proj_writes_them() {
        let cases = [
            (60.0, "60"),
            (-100.0, "-100"),
            (6_371_000.0, "6371000"),
            (0.017_453_292_519_943_295, "0.0174532925199433"),
            (31.758_000_000_000_003, "31.758"),
            (f64::from_bits(60f64.to_bits() - 1), "60"),
            (1.0e20, "1E+20"),
            (1.5e-7, "1.5E-07"),
            (0.0001, "0.0001"),
            (-0.0, "0"),
            (123_456_789_012_345_680.0, "1.23456789012346E+17"),
        ];
        for (x, want) in cases {
            assert_eq!(proj_number(x), want, "{x:e}");
        }
    }

    /// PROJ's own export, with the line breaks and indentation of its multi-line form
    /// removed (every break is followed by indentation only).
    #[cfg(feature = "proj")]
    fn proj_wkt(p: &Projection) -> String {
        one_line(&crate::proj_ffi::wkt_of(&crate::crs::proj_string(p)).unwrap())
    }

    #[cfg(feature = "proj")]
    fn one_line(multi: &str) -> String {
        multi
            .lines()
            .map(str::trim_start)
            .collect::<Vec<_>>()
            .concat()
    }

    /// The text split into the numbers it holds (outside quotes) and the text between them.
    #[cfg(feature = "proj")]
    fn tokens(wkt: &str) -> (Vec<String>, Vec<f64>) {
        let (mut text, mut numbers) = (vec![String::new()], Vec::new());
        let mut quoted = false;
        let mut number = String::new();
        for c in wkt.chars() {
            let numeric = !quoted
                && (c.is_ascii_digit() || ".-+E".contains(c))
                && (!number.is_empty() || c != 'E');
            if numeric {
                number.push(c);
                continue;
            }
            if !number.is_empty() {
                numbers.push(number.parse().unwrap());
                number.clear();
                text.push(String::new());
            }
            if c == '"' {
                quoted = !quoted;
            }
            text.last_mut().unwrap().push(c);
        }
        (text, numbers)
    }

    /// Our text and PROJ's have the same words, and numbers equal to 15 significant digits
    /// (PROJ's can be one unit off in the last); PROJ reads ours back to the same text.
    #[cfg(feature = "proj")]
    fn assert_as_proj(p: &Projection) -> Result<(), String> {
        let (ours, theirs) = (wkt2019(p), proj_wkt(p));
        let ((ot, on), (tt, tn)) = (tokens(&ours), tokens(&theirs));
        if ot != tt || on.len() != tn.len() {
            return Err(format!("{ours}\n!=\n{theirs}"));
        }
        for (a, b) in on.iter().zip(&tn) {
            if (a - b).abs() > 1.5e-14 * a.abs().max(1e-300) {
                return Err(format!("{a} != {b} in\n{ours}\n{theirs}"));
            }
        }
        let again = one_line(&crate::proj_ffi::wkt_of(&ours).map_err(|e| e.to_string())?);
        if tokens(&again).0 != ot {
            return Err(format!("PROJ read\n{ours}\nas\n{again}"));
        }
        Ok(())
    }

    #[cfg(feature = "proj")]
    mod against_proj {
        use super::*;
        use crate::params::RotatedParams;
        use crate::rotation::Rotation;
        use proptest::prelude::*;

        #[test]
        fn fixed_cases() {
            assert_eq!(
                wkt2019(&Projection::LongLat),
                proj_wkt(&Projection::LongLat)
            );
            for (north, dgrw) in [(true, 10.0), (false, 10.0), (true, 0.0), (true, -350.0)] {
                let p = Projection::Polar { north, dgrw };
                assert_eq!(wkt2019(&p), proj_wkt(&p), "{p:?}");
            }
            // PROJ (through SQLite's printf) writes -127.2312097986074946 as …608.
            let p = Projection::Polar {
                north: false,
                dgrw: -37.231_209_798_607_48,
            };
            assert!(wkt2019(&p).contains("-127.231209798607,"));
            assert_as_proj(&p).unwrap();
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]
            #[test]
            fn polar(north: bool, dgrw in -720.0f64..720.0) {
                let p = Projection::Polar { north, dgrw };
                prop_assert!(assert_as_proj(&p).is_ok(), "{}", assert_as_proj(&p).unwrap_err());
            }

            #[test]
            fn rotated(xlat1 in -80.0f64..80.0, xlon1 in 0.0f64..360.0,
                       dlon in 1.0f64..170.0, xlat2 in -80.0f64..80.0) {
                let rp = RotatedParams { xlat1, xlon1, xlat2, xlon2: xlon1 + dlon };
                let Ok(rot) = Rotation::new(&rp) else { return Ok(()) };
                let p = Projection::Rotated(rot);
                prop_assert!(assert_as_proj(&p).is_ok(), "{}", assert_as_proj(&p).unwrap_err());
            }
        }
    }
}
