//! Query parameters: case-insensitive keys, validated values.

use std::collections::HashMap;

use crate::error::ApiError;
use crate::render::color::parse_color;
use crate::render::color::OutOfRange;
use crate::render::{epsg_northing_first, OutputCrs};
use crate::styles::{ColorRange, StyleOverrides};

/// Longest query string accepted.
pub const MAX_QUERY: usize = 8192;

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decode (and `+` → space) a query component; invalid UTF-8 is replaced.
#[must_use]
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    out.reserve_exact(b.len());
    let mut k = 0;
    while k < b.len() {
        match b[k] {
            b'+' => out.push(b' '),
            b'%' if k + 2 < b.len() => match (hex(b[k + 1]), hex(b[k + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    k += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        k += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters with lower-cased keys (the first occurrence of a key wins).
#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parse a raw query string.
    pub fn parse(q: Option<&str>) -> Result<Self, ApiError> {
        let q = q.unwrap_or("");
        if q.len() > MAX_QUERY {
            return Err(ApiError::invalid(
                "query",
                format!("longer than {MAX_QUERY} bytes"),
            ));
        }
        let mut m = HashMap::new();
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            m.entry(percent_decode(k).to_ascii_lowercase())
                .or_insert_with(|| percent_decode(v));
        }
        Ok(Self(m))
    }

    /// A value.
    #[must_use]
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    /// A required value.
    pub fn req(&self, k: &'static str) -> Result<&str, ApiError> {
        match self.get(&k.to_ascii_lowercase()) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim()),
            _ => Err(ApiError::MissingParameter(k)),
        }
    }

    /// A positive size within a limit.
    pub fn size(&self, k: &'static str, max: u32, default: Option<u32>) -> Result<u32, ApiError> {
        let v = match (self.get(&k.to_ascii_lowercase()), default) {
            (Some(v), _) if !v.trim().is_empty() => v.trim(),
            (_, Some(d)) => return Ok(d),
            _ => return Err(ApiError::MissingParameter(k)),
        };
        let n: u64 = v.parse().map_err(|e| {
            ApiError::invalid(k, format!("`{}` is not a positive integer: {e}", clip(v)))
        })?;
        if n == 0 || n > u64::from(max) {
            return Err(ApiError::invalid(k, format!("{n} is outside 1..={max}")));
        }
        Ok(n as u32)
    }

    /// The ncWMS style overrides.
    pub fn overrides(&self) -> Result<StyleOverrides, ApiError> {
        let mut o = StyleOverrides::default();
        let range = self.get("colorscalerange").map(str::trim);
        if range.is_some_and(|v| v.eq_ignore_ascii_case("auto")) {
            o.range = ColorRange::Auto;
        } else if let Some(v) =
            range.filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("default"))
        {
            let p: Vec<f64> = v
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|e| {
                    ApiError::invalid(
                        "COLORSCALERANGE",
                        format!("expected min,max, `auto` or `default`: {e}"),
                    )
                })?;
            match p.as_slice() {
                [a, b] if a.is_finite() && b.is_finite() && b > a => {
                    o.range = ColorRange::Fixed([*a, *b]);
                }
                [_, _] => {
                    return Err(ApiError::invalid(
                        "COLORSCALERANGE",
                        "expected min,max with min < max (finite numbers)",
                    ))
                }
                _ => {
                    return Err(ApiError::invalid(
                        "COLORSCALERANGE",
                        format!(
                            "expected two numbers min,max, `auto` or `default`, got {} number(s)",
                            p.len()
                        ),
                    ))
                }
            }
        }
        if let Some(v) = self.get("numcolorbands").filter(|v| !v.is_empty()) {
            let n: u32 = v
                .trim()
                .parse()
                .map_err(|e| ApiError::invalid("NUMCOLORBANDS", format!("not an integer: {e}")))?;
            if !(2..=250).contains(&n) {
                return Err(ApiError::invalid("NUMCOLORBANDS", "must be in 2..=250"));
            }
            o.bands = Some(n);
        }
        if let Some(v) = self.get("logscale").filter(|v| !v.is_empty()) {
            o.log = Some(match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(ApiError::invalid("LOGSCALE", "true or false")),
            });
        }
        for (k, name, slot) in [
            ("abovemaxcolor", "ABOVEMAXCOLOR", &mut o.above),
            ("belowmincolor", "BELOWMINCOLOR", &mut o.below),
        ] {
            if let Some(v) = self.get(k).filter(|v| !v.is_empty()) {
                *slot = Some(OutOfRange::parse(v).ok_or_else(|| {
                    ApiError::invalid(name, "`extend`, `transparent` or a colour")
                })?);
            }
        }
        if let Some(v) = self.get("opacity").filter(|v| !v.is_empty()) {
            let p: f64 = v
                .trim()
                .parse()
                .map_err(|e| ApiError::invalid("OPACITY", format!("a percentage: {e}")))?;
            if !(0.0..=100.0).contains(&p) {
                return Err(ApiError::invalid("OPACITY", "must be in 0..=100"));
            }
            o.opacity = Some(p.round() as u8);
        }
        Ok(o)
    }
}

/// At most 80 characters of a value, for messages.
#[must_use]
pub fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Parse a CRS name. Returns the CRS and whether its coordinates come northing first: WMS
/// 1.3.0 follows the EPSG axis order (latitude first for EPSG:4326, 4258, 4269...; northing
/// first for some projected CRSes such as EPSG:3035), WMS 1.1.1 is always x then y.
pub fn parse_crs(s: &str, v111: bool) -> Result<(OutputCrs, bool), ApiError> {
    let u = s.trim().to_ascii_uppercase();
    let code = |t: &str| -> Option<u32> { t.parse().ok() };
    match u.as_str() {
        "CRS:84" | "OGC:CRS84" => Ok((OutputCrs::LonLat, false)),
        _ => {
            let n = u
                .strip_prefix("EPSG:")
                .or_else(|| u.strip_prefix("URN:OGC:DEF:CRS:EPSG::"))
                .and_then(code)
                .ok_or_else(|| ApiError::InvalidCrs(clip(s)))?;
            match n {
                3857 | 900_913 | 3785 | 102_100 | 102_113 => Ok((OutputCrs::WebMercator, false)),
                4326 => Ok((OutputCrs::LonLat, !v111)),
                _ => {
                    let northing_first = epsg_northing_first(n)?;
                    Ok((OutputCrs::Epsg(n), !v111 && northing_first))
                }
            }
        }
    }
}

/// Parse a BBOX (normalised to x east, y north).
pub fn parse_bbox(s: &str, swap: bool) -> Result<[f64; 4], ApiError> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::invalid("BBOX", format!("expected four numbers: {e}")))?;
    let [a, b, c, d] = v.as_slice() else {
        return Err(ApiError::invalid("BBOX", "expected four numbers"));
    };
    let bb = if swap {
        [*b, *a, *d, *c]
    } else {
        [*a, *b, *c, *d]
    };
    if bb.iter().any(|x| !x.is_finite()) || bb[2] <= bb[0] || bb[3] <= bb[1] {
        return Err(ApiError::invalid("BBOX", "min must be below max"));
    }
    Ok(bb)
}

/// Accept the PNG formats only.
pub fn check_png(format: Option<&str>) -> Result<(), ApiError> {
    match format.map(|f| f.trim().to_ascii_lowercase()) {
        None => Ok(()),
        Some(f)
            if f.is_empty() || f == "image/png" || f.starts_with("image/png;") || f == "png" =>
        {
            Ok(())
        }
        Some(f) => Err(ApiError::InvalidFormat(clip(&f))),
    }
}

/// Validate BGCOLOR (accepted for compatibility; images are always transparent outside the
/// data, as `TRANSPARENT=TRUE`).
pub fn parse_bgcolor(s: Option<&str>) -> Result<(), ApiError> {
    match s {
        Some(v) if !v.is_empty() && parse_color(v).is_none() => {
            Err(ApiError::invalid("BGCOLOR", "not a colour"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_decoded() {
        let p = Params::parse(Some(
            "SERVICE=WMS&Request=GetMap&layers=T%54&bbox=1,2,3,4&x=a+b&bad=%zz&tail=%4",
        ))
        .unwrap();
        assert_eq!(p.get("request"), Some("GetMap"));
        assert_eq!(p.get("layers"), Some("TT"));
        assert_eq!(p.get("x"), Some("a b"));
        assert_eq!(p.get("bad"), Some("%zz"));
        assert_eq!(p.get("tail"), Some("%4"));
    }

    #[test]
    #[allow(clippy::float_cmp)] // the swapped bbox must hold exactly the parsed numbers
    fn crs_and_bbox() {
        assert_eq!(
            parse_crs("EPSG:4326", false).unwrap(),
            (OutputCrs::LonLat, true)
        );
        assert_eq!(
            parse_crs("EPSG:4326", true).unwrap(),
            (OutputCrs::LonLat, false)
        );
        assert_eq!(
            parse_crs("epsg:900913", false).unwrap().0,
            OutputCrs::WebMercator
        );
        assert_eq!(
            parse_crs("EPSG:3978", false).unwrap(),
            (OutputCrs::Epsg(3978), false)
        );
        // Geographic CRSes other than 4326 and northing-first projected ones swap in 1.3.0.
        assert_eq!(
            parse_crs("EPSG:4269", false).unwrap(),
            (OutputCrs::Epsg(4269), true)
        );
        assert_eq!(
            parse_crs("EPSG:4258", true).unwrap(),
            (OutputCrs::Epsg(4258), false)
        );
        assert_eq!(
            parse_crs("EPSG:3035", false).unwrap(),
            (OutputCrs::Epsg(3035), true)
        );
        assert_eq!(
            parse_crs("EPSG:32618", false).unwrap(),
            (OutputCrs::Epsg(32618), false)
        );
        assert!(parse_crs("EPSG:0", false).is_err());
        assert!(parse_crs("FOO", false).is_err());
        assert_eq!(
            parse_bbox("10,20,30,40", true).unwrap(),
            [20.0, 10.0, 40.0, 30.0]
        );
        assert!(parse_bbox("1,2,3", false).is_err());
        assert!(parse_bbox("3,2,1,4", false).is_err());
        assert!(parse_bbox("NaN,2,3,4", false).is_err());
    }
}
