//! The vertical descriptors of a field on model levels, carried as dataset metadata so that a
//! copy written by this driver writes them back (`gdal_translate` FST → FST, directly or
//! through a format that keeps dataset metadata, as `GTiff` does): without its `!!` record (or
//! GEM 3's `HY`), a file keeps its levels but loses their pressures.
//!
//! - `FST_VGRID`: each `!!` record of the file as `ip1,ip2,ni,nj:v1,v2,…` (its float64 table,
//!   each value in its shortest exact decimal form), records separated by `;`. Only tables
//!   fst-core decodes as a vgrid descriptor are carried, and the writer writes them back
//!   through that descriptor, bit for bit the same table and keys (vgrid's).
//! - `FST_HY`: the file's `HY` record as `ip1,ig1,ig2,dateo,etiket` (its constants live in
//!   ip1/ig1/ig2; vgrid finds it by the data's dateo and etiket).

use fst_core::catalog::Field as CatField;
use fst_core::codec::Samples;
use fst_core::vertical::{descriptor_nomvars, HyKeys, VerticalDescriptor, HY_NOMVAR, NOMVAR};
use fst_core::FstFile;

/// Dataset metadata key of the `!!` tables.
pub const VGRID_KEY: &str = "FST_VGRID";
/// Dataset metadata key of the `HY` record's keys.
pub const HY_KEY: &str = "FST_HY";

/// Most levels of each kind a carried descriptor may have: models use fewer than 300, and a
/// table is text in the metadata (about 20 bytes a value), so fst-core's `MAX_LEVELS` (100 000) would
/// let a corrupt record put megabytes there.
const MAX_CARRIED_LEVELS: usize = 2_000;

/// Most values a carried table may hold: three level sets of four values, plus the header.
const MAX_TABLE_VALUES: usize = 4 * (3 * MAX_CARRIED_LEVELS + 3);

/// Most `!!` records carried (and decoded at open): a file has one per vertical coordinate,
/// a few at most; a corrupt one with thousands must not make every open decode them all.
const MAX_CARRIED_TABLES: usize = 16;

/// Why `FST_VGRID`/`FST_HY` metadata cannot be written back.
#[derive(Debug, thiserror::Error)]
pub enum VerticalMetadataError {
    /// The item does not have the layout this module writes.
    #[error("{key} metadata: {reason}")]
    Malformed {
        /// `FST_VGRID` or `FST_HY`.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A table that is not a vgrid descriptor.
    #[error("{VGRID_KEY} metadata: {0}")]
    Descriptor(#[from] fst_core::vertical::VerticalError),
}

/// The descriptors to write back: `!!` records (ip1, ip2, descriptor) and the `HY` keys.
#[derive(Debug, Default)]
pub struct Carried {
    /// The `!!` records.
    pub vgrid: Vec<(u32, u32, VerticalDescriptor)>,
    /// The `HY` record: its constants, date stamp and etiket.
    pub hy: Option<(HyKeys, i32, String)>,
}

/// The metadata items of field `f` of `file`: none unless some of its records are on model
/// levels (sigma, hybrid, height-based hybrid) and the file has `!!` (or, for sigma and
/// hybrid levels, `HY`) records.
#[must_use]
pub fn items(file: &FstFile, f: &CatField) -> Vec<(String, String)> {
    // The descriptor records the field's levels need (none for levels of other kinds).
    let needed = |name: &str| {
        f.slices
            .iter()
            .filter_map(|s| s.level)
            .any(|l| descriptor_nomvars(l.kind).contains(&name))
    };
    if !needed(NOMVAR) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let tables: Vec<String> = file
        .records()
        .iter()
        .filter(|r| r.nomvar.trimmed() == NOMVAR)
        .filter(|r| (r.ni as usize).saturating_mul(r.nj as usize) <= MAX_TABLE_VALUES)
        .take(MAX_CARRIED_TABLES)
        .filter_map(|r| {
            let field = file.decode(r).ok()?;
            VerticalDescriptor::from_field(&field).ok()?;
            let Samples::F64(values) = &field.samples else {
                return None;
            };
            let values: Vec<String> = values.iter().map(f64::to_string).collect();
            Some(format!(
                "{},{},{},{}:{}",
                r.ip1,
                r.ip2,
                field.ni,
                field.nj,
                values.join(",")
            ))
        })
        .collect();
    if !tables.is_empty() {
        out.push((VGRID_KEY.to_owned(), tables.join(";")));
    }
    let hy_levels = needed(HY_NOMVAR);
    if let Some(hy) = file
        .records()
        .iter()
        .find(|r| hy_levels && r.nomvar.trimmed() == HY_NOMVAR)
    {
        out.push((
            HY_KEY.to_owned(),
            format!(
                "{},{},{},{},{}",
                hy.ip1,
                hy.ig1,
                hy.ig2,
                hy.dateo(),
                hy.etiket.trimmed()
            ),
        ));
    }
    out
}

/// The descriptors `FST_VGRID`/`FST_HY` in dataset `metadata` carry (none when absent).
pub fn parse(metadata: &[(String, String)]) -> Result<Carried, VerticalMetadataError> {
    let mut carried = Carried::default();
    let find = |key: &str| metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    if let Some(text) = find(VGRID_KEY) {
        let tables: Vec<&str> = text.split(';').filter(|t| !t.trim().is_empty()).collect();
        if tables.len() > MAX_CARRIED_TABLES {
            return Err(VerticalMetadataError::Malformed {
                key: VGRID_KEY,
                reason: format!(
                    "{} tables, more than the {MAX_CARRIED_TABLES} a file carries",
                    tables.len()
                ),
            });
        }
        for table in tables {
            carried.vgrid.push(parse_table(table)?);
        }
    }
    if let Some(text) = find(HY_KEY) {
        let bad = |why: &str| VerticalMetadataError::Malformed {
            key: HY_KEY,
            reason: format!("expected ip1,ig1,ig2,dateo,etiket, found {text:?} ({why})"),
        };
        let parts: Vec<&str> = text.splitn(5, ',').collect();
        let [ip1, ig1, ig2, dateo, etiket] = parts[..] else {
            return Err(bad("five items"));
        };
        let number = |x: &str| x.trim().parse::<u32>().map_err(|e| bad(&e.to_string()));
        let keys = HyKeys {
            ip1: number(ip1)?,
            ig1: number(ig1)?,
            ig2: number(ig2)?,
        };
        let dateo = dateo
            .trim()
            .parse::<i32>()
            .map_err(|e| bad(&e.to_string()))?;
        if etiket.len() > 12 {
            return Err(bad("an etiket has at most 12 characters"));
        }
        carried.hy = Some((keys, dateo, etiket.trim().to_owned()));
    }
    Ok(carried)
}

/// One `ip1,ip2,ni,nj:v1,…` table.
fn parse_table(table: &str) -> Result<(u32, u32, VerticalDescriptor), VerticalMetadataError> {
    let bad = |reason: String| VerticalMetadataError::Malformed {
        key: VGRID_KEY,
        reason,
    };
    let (head, values) = table
        .split_once(':')
        .ok_or_else(|| bad("a table is ip1,ip2,ni,nj:values".into()))?;
    let head: Vec<u32> = head
        .split(',')
        .map(|x| x.trim().parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("{head:?}: {e}")))?;
    let [ip1, ip2, ni, nj] = head[..] else {
        return Err(bad(format!("{head:?}: expected ip1,ip2,ni,nj")));
    };
    let count = (ni as usize).saturating_mul(nj as usize);
    if count > MAX_TABLE_VALUES {
        return Err(bad(format!(
            "a {ni}x{nj} table is larger than a descriptor"
        )));
    }
    let values: Vec<f64> = values
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("a table value: {e}")))?;
    if values.len() != count {
        return Err(bad(format!(
            "{} values for a {ni}x{nj} table",
            values.len()
        )));
    }
    Ok((
        ip1,
        ip2,
        VerticalDescriptor::from_table(ni, nj, 1, &values)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fst_core::vertical::{Vcode, VerticalLevel};

    #[test]
    fn tables_round_trip_through_their_text() {
        let mut d = VerticalDescriptor::new(Vcode::HYBRID);
        (d.ptop, d.pref, d.rcoef[0]) = (Some(1000.0), Some(80000.0), Some(1.6));
        d.momentum = vec![VerticalLevel {
            ip1: 95_000_000,
            a: 1_234.567_890_123_4,
            b: 0.1,
            c: 0.0,
        }];
        let t = d.to_table().unwrap();
        let text: Vec<String> = t.values.iter().map(f64::to_string).collect();
        let md = vec![
            (
                VGRID_KEY.to_owned(),
                format!("7,8,{},{}:{}", t.ni, t.nj, text.join(",")),
            ),
            (HY_KEY.to_owned(), "1,800,1600,0,GEM3".to_owned()),
        ];
        let c = parse(&md).unwrap();
        assert_eq!(c.vgrid.len(), 1);
        let (ip1, ip2, back) = &c.vgrid[0];
        assert_eq!((*ip1, *ip2), (7, 8));
        assert_eq!(back.to_table().unwrap(), t);
        assert_eq!(
            c.hy,
            Some((
                HyKeys {
                    ip1: 1,
                    ig1: 800,
                    ig2: 1600
                },
                0,
                "GEM3".to_owned()
            ))
        );
    }

    #[test]
    fn malformed_items_are_refused_with_their_key() {
        for (key, value) in [
            (VGRID_KEY, "1,2,3:0"),
            (VGRID_KEY, "1,2,3,1:0,0"),
            (VGRID_KEY, "0,0,1000000,1000000:0"),
            (VGRID_KEY, "0,0,3,1:0,0,x"),
            (VGRID_KEY, "0,0,3,1:5,1,1"),
            (HY_KEY, "1,2,3,0"),
            (HY_KEY, "a,b,c,0,E"),
            (HY_KEY, "1,2,3,0,THIRTEEN_CHAR"),
        ] {
            let e = parse(&[(key.to_owned(), value.to_owned())]).unwrap_err();
            assert!(e.to_string().starts_with(key), "{value}: {e}");
        }
        let many = "0,0,3,1:0,0,0;".repeat(MAX_CARRIED_TABLES + 1);
        let e = parse(&[(VGRID_KEY.to_owned(), many)]).unwrap_err();
        assert!(e.to_string().contains("tables, more than"), "{e}");
    }
}
