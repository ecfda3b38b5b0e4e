//! Subdataset names: `FST:"path":NOMVAR:TYPVAR:ETIKET:GRIDKEY[:PART]`.
//!
//! Names are written without their trailing blanks. The few characters that would break the
//! syntax (`%`, `:`, `"`, blank) are percent-encoded, so that every name round-trips; a
//! blank etiket is an empty component.

use fst_core::catalog::FieldKey;

/// The driver prefix of subdataset names.
pub const PREFIX: &str = "FST:";

/// Which part of a field a subdataset shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The whole field (every grid but U).
    Whole,
    /// The Yin half of a U grid (first nj/2 rows of the record).
    Yin,
    /// The Yang half of a U grid.
    Yang,
    /// The longitude of every point (a GEOLOCATION array).
    Lon,
    /// The latitude of every point.
    Lat,
}

impl Part {
    fn suffix(self) -> Option<&'static str> {
        match self {
            Part::Whole => None,
            Part::Yin => Some("YIN"),
            Part::Yang => Some("YANG"),
            Part::Lon => Some("LON"),
            Part::Lat => Some("LAT"),
        }
    }

    fn parse(s: &str) -> Option<Part> {
        Some(match s.to_ascii_uppercase().as_str() {
            "YIN" => Part::Yin,
            "YANG" => Part::Yang,
            "LON" => Part::Lon,
            "LAT" => Part::Lat,
            _ => return None,
        })
    }
}

/// A parsed subdataset name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubdatasetName {
    /// The file (a local path or any VSI path).
    pub path: String,
    /// Encoded nomvar, typvar, etiket and grid key, as [`encode_key`] writes them.
    pub key: [String; 4],
    /// The part of the field.
    pub part: Part,
}

/// Percent-encode the characters that the name syntax reserves.
#[must_use]
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' | ':' | '"' | ' ' => {
                use std::fmt::Write as _;
                let _ = write!(out, "%{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The four encoded components of a field key.
#[must_use]
pub fn encode_key(key: &FieldKey) -> [String; 4] {
    [
        encode_component(key.nomvar.trimmed()),
        encode_component(key.typvar.trimmed()),
        encode_component(key.etiket.trimmed()),
        key.grid.to_string(),
    ]
}

/// The subdataset name of a field part.
#[must_use]
pub fn format(path: &str, key: &FieldKey, part: Part) -> String {
    let [n, t, e, g] = encode_key(key);
    let mut s = format!("{PREFIX}\"{path}\":{n}:{t}:{e}:{g}");
    if let Some(x) = part.suffix() {
        s.push(':');
        s.push_str(x);
    }
    s
}

/// The netCDF variable name of a field (`NETCDF_VARNAME`, read by GDAL's netCDF `CreateCopy`):
/// the nomvar without its trailing blanks, with the characters netCDF or CDL tools trip on
/// (anything but letters, digits and `_`) as `_`, and a leading `_` when it would not start
/// with a letter (`^^` becomes `___`, `1A` becomes `_1A`). A blank nomvar is `FIELD`.
///
/// ```
/// assert_eq!(gdal_fst::names::netcdf_varname("TT  "), "TT");
/// assert_eq!(gdal_fst::names::netcdf_varname("^^"), "___");
/// assert_eq!(gdal_fst::names::netcdf_varname("1A"), "_1A");
/// assert_eq!(gdal_fst::names::netcdf_varname("    "), "FIELD");
/// ```
#[must_use]
pub fn netcdf_varname(nomvar: &str) -> String {
    let t = nomvar.trim_end();
    if t.is_empty() {
        return "FIELD".to_owned();
    }
    let mut out: String = t
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert(0, '_');
    }
    out
}

/// True when `name` uses the subdataset syntax.
#[must_use]
pub fn is_subdataset(name: &str) -> bool {
    name.get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
}

/// Parse a subdataset name. The path may be quoted (`FST:"a:b.fst":…`) or not; unquoted,
/// the components are taken from the right.
pub fn parse(name: &str) -> Result<SubdatasetName, String> {
    let bad = || {
        format!("invalid FST subdataset name {name:?}: expected FST:\"path\":NOMVAR:TYPVAR:ETIKET:GRID[:YIN|YANG|LON|LAT]")
    };
    if !is_subdataset(name) {
        return Err(bad());
    }
    let rest = name.get(PREFIX.len()..).ok_or_else(bad)?;
    let (path, comps): (String, Vec<&str>) = if let Some(q) = rest.strip_prefix('"') {
        let end = q.find('"').ok_or_else(bad)?;
        let path = q.get(..end).ok_or_else(bad)?.to_owned();
        let after = q.get(end + 1..).ok_or_else(bad)?;
        let after = after.strip_prefix(':').ok_or_else(bad)?;
        (path, after.split(':').collect())
    } else {
        let all: Vec<&str> = rest.split(':').collect();
        let n = match all.last().and_then(|s| Part::parse(s)) {
            Some(_) => 5,
            None => 4,
        };
        if all.len() <= n {
            return Err(bad());
        }
        let (p, c) = all.split_at(all.len() - n);
        (p.join(":"), c.to_vec())
    };
    let part = match comps.len() {
        4 => Part::Whole,
        5 => comps.get(4).and_then(|s| Part::parse(s)).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    let c = |i: usize| comps.get(i).map(|s| (*s).to_owned()).unwrap_or_default();
    Ok(SubdatasetName {
        path,
        key: [c(0), c(1), c(2), c(3)],
        part,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_unquoted() {
        let p = parse("FST:\"/a/b:c.fst\":TT:P::Z-48x36-1234-5678-0-0:YIN").unwrap();
        assert_eq!(p.path, "/a/b:c.fst");
        assert_eq!(
            p.key,
            [
                "TT".to_owned(),
                "P".into(),
                String::new(),
                "Z-48x36-1234-5678-0-0".into()
            ]
        );
        assert_eq!(p.part, Part::Yin);
        let q = parse("fst:/x/y.fst:TT:P:E:L-1x1-0-0-0-0").unwrap();
        assert_eq!(q.path, "/x/y.fst");
        assert_eq!(q.part, Part::Whole);
        assert!(parse("FST:\"/x\":TT").is_err());
        assert!(parse("GTiff:/x").is_err());
        assert_eq!(encode_component("A: %\""), "A%3A%20%25%22");
    }
}
