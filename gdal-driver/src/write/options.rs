//! Creation options (`-co NAME=VALUE`): parsed and range-checked before any file is created,
//! so that a bad option leaves nothing behind.

use fst_core::date::DateStamp;
use fst_core::ip::LevelKind;
use fst_core::Container;

use super::CreateError;

/// The creation options the driver advertises (`gdalinfo --format FST`), as GDAL's XML.
pub const CREATION_OPTION_LIST: &str = r#"<CreationOptionList>
  <Option name="NOMVAR" type="string" description="Variable name (at most 4 characters) of every band; default: the band's FST_NOMVAR, GRIB_ELEMENT or NETCDF_VARNAME, else XX"/>
  <Option name="TYPVAR" type="string" description="Field type (at most 2 characters); default: FST_TYPVAR, else P"/>
  <Option name="ETIKET" type="string" description="Label (at most 12 characters); default: FST_ETIKET, else blank"/>
  <Option name="IP1" type="unsigned int" description="Encoded level (0..268435455)"/>
  <Option name="IP2" type="unsigned int" description="ip2, usually the forecast hour (0..268435455)"/>
  <Option name="IP3" type="unsigned int" description="ip3 (0..268435455); bands whose keys would be equal get their band number"/>
  <Option name="LEVEL" type="float" description="Level value, encoded into ip1 with LEVEL_KIND"/>
  <Option name="LEVEL_KIND" type="string" description="Level kind: a code (0 m, 1 sigma, 2 hPa, 3 arbitrary, 4 m above ground, 5 hybrid, 6 theta, 10 hours, 15 integer) or its unit (m, sg, mb, M, hy, th, H, _0)" default="2"/>
  <Option name="DATEO" type="string" description="Origin date: ISO 8601 (2024-01-31T12:00Z) or a CMC date stamp"/>
  <Option name="DEET" type="unsigned int" description="Time step length in seconds"/>
  <Option name="NPAS" type="unsigned int" description="Time step number"/>
  <Option name="DATYP" type="int" description="Data type: 1, 2, 4, 5, 6, 133, 134 (+64 is added when a band has missing values); default: FST_DATYP, else by band type (134 for floats, or 1 when this build has no turbo encoder; 2/4 for integers). Turbo (+128) falls back to the plain codec when unavailable"/>
  <Option name="NBITS" type="int" description="Bits per value (1..32, 64 for DATYP=5); default: FST_NBITS, else 16 for floats, the type's size for integers"/>
  <Option name="CONTAINER" type="string-select" default="RSF" description="File format of a new file">
    <Value>RSF</Value>
    <Value>XDF</Value>
  </Option>
  <Option name="FORCE" type="boolean" default="NO" description="With APPEND_SUBDATASET: append even when the file's writer flag is set (after a writer was killed or an append failed); its unfinished records are cut off"/>
  <Option name="NUM_THREADS" type="string" default="ALL_CPUS" description="Threads that encode bands while the source is read and records are written in band order: a number (1..64) or ALL_CPUS (at most 4); the file is the same whatever the number"/>
  <Option name="APPEND_SUBDATASET" type="boolean" default="NO" description="Add the bands as records to an existing file instead of replacing it (GDAL's name: without it GDAL deletes the target first)"/>
</CreationOptionList>"#;

/// Parsed creation options. `None`: not given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateOptions {
    /// NOMVAR.
    pub nomvar: Option<String>,
    /// TYPVAR.
    pub typvar: Option<String>,
    /// ETIKET.
    pub etiket: Option<String>,
    /// IP1, or `LEVEL` + `LEVEL_KIND` encoded.
    pub ip1: Option<u32>,
    /// IP2.
    pub ip2: Option<u32>,
    /// IP3.
    pub ip3: Option<u32>,
    /// DATEO.
    pub dateo: Option<DateStamp>,
    /// DEET.
    pub deet: Option<u32>,
    /// NPAS.
    pub npas: Option<u32>,
    /// DATYP (without +64).
    pub datyp: Option<u8>,
    /// NBITS.
    pub nbits: Option<u8>,
    /// CONTAINER (XDF or RSF; default RSF).
    pub container: Option<Container>,
    /// `APPEND_SUBDATASET=YES` (GDAL's own name, which stops it deleting the target first).
    pub append: bool,
    /// `FORCE=YES`: take over a file whose writer flag is set (fst-core's `force`).
    pub force: bool,
    /// `NUM_THREADS`: encoding threads (None: `ALL_CPUS`).
    pub threads: Option<usize>,
}

/// Encoding threads of `NUM_THREADS=ALL_CPUS` at most: each holds a band's values and its
/// encoded record, and past four the source's reading and the file's writing set the pace.
pub(super) const MAX_DEFAULT_THREADS: usize = 4;

const IP_MAX: u64 = (1 << 28) - 1;
const STEP_MAX: u64 = (1 << 24) - 1;

fn bad(name: &str, value: &str, reason: impl Into<String>) -> CreateError {
    CreateError::Option {
        name: name.to_owned(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

fn unsigned(name: &str, value: &str, max: u64) -> Result<u32, CreateError> {
    match value.trim().parse::<u64>() {
        Ok(v) if v <= max => Ok(v as u32),
        Ok(_) => Err(bad(name, value, format!("must be at most {max}"))),
        Err(_) => Err(bad(name, value, "not an unsigned integer")),
    }
}

fn yes_no(name: &str, value: &str) -> Result<bool, CreateError> {
    match value.trim().to_ascii_uppercase().as_str() {
        "YES" | "TRUE" | "ON" | "1" => Ok(true),
        "NO" | "FALSE" | "OFF" | "0" => Ok(false),
        _ => Err(bad(name, value, "must be YES or NO")),
    }
}

/// A name of at most `max` printable ASCII characters (trailing blanks ignored).
pub(super) fn name(option: &str, value: &str, max: usize) -> Result<String, CreateError> {
    let v = value.trim_end();
    if !v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(bad(
            option,
            value,
            "only printable ASCII characters are allowed",
        ));
    }
    if v.len() > max {
        return Err(bad(option, value, format!("at most {max} characters")));
    }
    Ok(v.to_ascii_uppercase())
}

/// A level kind from its code or its unit.
pub(super) fn level_kind(option: &str, value: &str) -> Result<LevelKind, CreateError> {
    let v = value.trim();
    if let Ok(code) = v.parse::<u32>() {
        if let Some(k) = LevelKind::from_code(code) {
            return Ok(k);
        }
    }
    LevelKind::ALL
        .into_iter()
        .find(|k| !k.unit().is_empty() && k.unit() == v)
        .ok_or_else(|| bad(option, value, "not a level kind code or unit"))
}

/// A date: ISO 8601 (`2024-01-31T12:00Z`, `2024-01-31T12:00:00`, `2024-01-31`) or a CMC stamp.
pub(super) fn date(option: &str, value: &str) -> Result<DateStamp, CreateError> {
    let v = value.trim();
    if let Ok(stamp) = v.parse::<i32>() {
        return Ok(DateStamp(stamp));
    }
    let t = v.trim_end_matches('Z');
    let parsed = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .ok_or_else(|| bad(option, value, "not an ISO 8601 date or a CMC date stamp"))?;
    DateStamp::from_datetime(&parsed.and_utc())
        .map_err(|e| bad(option, value, format!("cannot be a CMC date stamp: {e}")))
}

impl CreateOptions {
    /// Parse `NAME=VALUE` pairs (names case-insensitive). Unknown names are refused: a typo
    /// must not silently write the wrong keys.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, CreateError> {
        let mut o = CreateOptions::default();
        let mut level = None;
        let mut kind = None;
        for (k, v) in pairs {
            let key = k.to_ascii_uppercase();
            match key.as_str() {
                "NOMVAR" => o.nomvar = Some(name(&key, v, 4)?),
                "TYPVAR" => o.typvar = Some(name(&key, v, 2)?),
                "ETIKET" => o.etiket = Some(name(&key, v, 12)?),
                "IP1" => o.ip1 = Some(unsigned(&key, v, IP_MAX)?),
                "IP2" => o.ip2 = Some(unsigned(&key, v, IP_MAX)?),
                "IP3" => o.ip3 = Some(unsigned(&key, v, IP_MAX)?),
                "LEVEL" => {
                    level = Some(
                        v.trim()
                            .parse::<f32>()
                            .ok()
                            .filter(|x| x.is_finite())
                            .ok_or_else(|| bad(&key, v, "not a finite number"))?,
                    );
                }
                "LEVEL_KIND" => kind = Some(level_kind(&key, v)?),
                "DATEO" => o.dateo = Some(date(&key, v)?),
                "DEET" => o.deet = Some(unsigned(&key, v, STEP_MAX)?),
                "NPAS" => o.npas = Some(unsigned(&key, v, STEP_MAX)?),
                "DATYP" => {
                    let d = unsigned(&key, v, 255)? as u8;
                    let base = d & !64;
                    if !matches!(base, 1 | 2 | 4 | 5 | 6 | 133 | 134) {
                        return Err(bad(
                            &key,
                            v,
                            "the GDAL writer takes 1, 2, 4, 5, 6, 133 or 134 (+64)",
                        ));
                    }
                    o.datyp = Some(base);
                }
                "NBITS" => {
                    let n = unsigned(&key, v, 64)? as u8;
                    if n == 0 || (n > 32 && n != 64) {
                        return Err(bad(&key, v, "must be 1..32, or 64 with DATYP=5"));
                    }
                    o.nbits = Some(n);
                }
                "CONTAINER" => {
                    o.container = Some(match v.trim().to_ascii_uppercase().as_str() {
                        "RSF" | "FST24" => Container::Rsf,
                        "XDF" | "FST98" => Container::Xdf,
                        _ => return Err(bad(&key, v, "must be XDF or RSF")),
                    });
                }
                "APPEND" => return Err(bad(
                    &key,
                    v,
                    "use APPEND_SUBDATASET=YES: without it GDAL deletes the target before the copy",
                )),
                "APPEND_SUBDATASET" => o.append = yes_no(&key, v)?,
                "FORCE" => o.force = yes_no(&key, v)?,
                "NUM_THREADS" => {
                    o.threads = if v.trim().eq_ignore_ascii_case("ALL_CPUS") {
                        None
                    } else {
                        match unsigned(&key, v, 64) {
                            Ok(n) if n >= 1 => Some(n as usize),
                            _ => return Err(bad(&key, v, "must be 1..64 or ALL_CPUS")),
                        }
                    };
                }
                _ => return Err(bad(&key, v, "unknown creation option")),
            }
        }
        match (level, kind) {
            (Some(_), _) if o.ip1.is_some() => {
                return Err(bad("LEVEL", "", "give IP1 or LEVEL, not both"));
            }
            (Some(value), kind) => {
                let kind = kind.unwrap_or(LevelKind::Pressure);
                o.ip1 = Some(
                    fst_core::ip::encode_ip(value, kind, fst_core::ip::IpStyle::New).map_err(
                        |e| {
                            bad(
                                "LEVEL",
                                &value.to_string(),
                                format!("cannot be encoded: {e}"),
                            )
                        },
                    )?,
                );
            }
            (None, Some(_)) => {
                return Err(bad("LEVEL_KIND", "", "needs LEVEL"));
            }
            (None, None) => {}
        }
        if o.nbits == Some(64) && o.datyp.is_some_and(|d| d != 5) {
            return Err(bad("NBITS", "64", "64 bits only with DATYP=5"));
        }
        Ok(o)
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // levels decode exactly
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks_ranges() {
        let o = CreateOptions::parse([
            ("nomvar", "tt"),
            ("ETIKET", "RUN1"),
            ("LEVEL", "850"),
            ("LEVEL_KIND", "mb"),
            ("DATEO", "2024-01-31T12:00Z"),
            ("DATYP", "5"),
            ("NBITS", "32"),
            ("CONTAINER", "xdf"),
        ])
        .unwrap();
        assert_eq!(o.nomvar.as_deref(), Some("TT"));
        assert_eq!(o.container, Some(Container::Xdf));
        let ip = fst_core::ip::decode_ip(o.ip1.unwrap()).unwrap();
        assert_eq!(ip.level().value, 850.0);
        assert_eq!(
            o.dateo.unwrap().to_iso8601().as_deref(),
            Some("2024-01-31T12:00:00Z")
        );
        for (k, v) in [
            ("NBITS", "99"),
            ("NBITS", "0"),
            ("NOMVAR", "TOOLONG"),
            ("ETIKET", "é"),
            ("IP1", "-1"),
            ("IP2", "268435456"),
            ("DATYP", "3"),
            ("CONTAINER", "zip"),
            ("LEVEL_KIND", "furlong"),
            ("DATEO", "yesterday"),
            ("COLOUR", "blue"),
            ("APPEND", "YES"),
            ("NUM_THREADS", "0"),
            ("NUM_THREADS", "65"),
            ("NUM_THREADS", "many"),
        ] {
            let e = CreateOptions::parse([(k, v)]).unwrap_err().to_string();
            assert!(e.contains(k), "{e}");
        }
        assert!(CreateOptions::parse([("NBITS", "64"), ("DATYP", "1")]).is_err());
        let threads = |v| CreateOptions::parse([("NUM_THREADS", v)]).unwrap().threads;
        assert_eq!(threads("3"), Some(3));
        assert_eq!(threads("all_cpus"), None);
    }
}
