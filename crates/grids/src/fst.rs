//! The bridge from an open FST file to a [`GridDescriptor`]: find and decode the positional
//! records a data record's grid links to. This is the only module that touches fst-core.

use std::sync::Arc;

use fst_core::codec::Samples;
use fst_core::record::RecordMeta;
use fst_core::FstFile;

use crate::descriptor::{GridDescriptor, Positional};
use crate::error::{GridError, Result};

fn is(rec: &RecordMeta, name: &str) -> bool {
    rec.nomvar.trimmed() == name
}

/// The descriptor of `rec`'s grid, with its positional records resolved the way librmn does:
///
/// * Z, Y, O: `>>` and `^^` whose ip1/ip2/ip3 equal the record's ig1/ig2/ig3; among those,
///   the first `>>` whose ni equals the record's ni and the first `^^` whose nj equals its nj.
/// * `#`: the full grid's `>>` and `^^`, matched on ip1/ip2 only (ip3 is a wildcard).
/// * U: the `^>` record matched on ip1/ip2/ip3.
pub fn descriptor_from_record(file: &FstFile, rec: &RecordMeta) -> Result<GridDescriptor> {
    let g = rec.grtyp;
    let ig = [rec.ig1, rec.ig2, rec.ig3, rec.ig4];
    if !GridDescriptor::needs_positional(g) {
        return Ok(GridDescriptor::simple(g, rec.ni, rec.nj, ig));
    }
    let tags =
        |r: &RecordMeta| r.ip1 == rec.ig1 && r.ip2 == rec.ig2 && (g == b'#' || r.ip3 == rec.ig3);
    let missing = |name: &str| {
        GridError::invalid(
            g,
            format!(
                "no `{name}` record with ip1/ip2/ip3 = {}/{}/{} in the file (record {})",
                rec.ig1,
                rec.ig2,
                if g == b'#' {
                    "*".to_owned()
                } else {
                    rec.ig3.to_string()
                },
                rec.index
            ),
        )
    };
    let recs = file.records();
    if g == b'U' {
        let p = recs
            .iter()
            .find(|r| is(r, "^>") && tags(r))
            .ok_or_else(|| missing("^>"))?;
        let x = values(file, p)?;
        return Ok(GridDescriptor::with_positional(
            g,
            rec.ni,
            rec.nj,
            ig,
            Positional {
                grtyp: p.grtyp,
                ig: [p.ig1, p.ig2, p.ig3, p.ig4],
                x,
                y: Arc::from(Vec::new()),
            },
        ));
    }
    let (px, py) = if g == b'#' {
        (
            recs.iter().find(|r| is(r, ">>") && tags(r)),
            recs.iter().find(|r| is(r, "^^") && tags(r)),
        )
    } else {
        (
            recs.iter()
                .find(|r| is(r, ">>") && tags(r) && r.ni == rec.ni),
            recs.iter()
                .find(|r| is(r, "^^") && tags(r) && r.nj == rec.nj),
        )
    };
    let px = px.ok_or_else(|| missing(">>"))?;
    let py = py.ok_or_else(|| missing("^^"))?;
    let (igx, igy) = (
        [px.ig1, px.ig2, px.ig3, px.ig4],
        [py.ig1, py.ig2, py.ig3, py.ig4],
    );
    if px.grtyp != py.grtyp || igx != igy {
        return Err(GridError::invalid(
            g,
            format!(
                "`>>` (record {}) is on grid '{}' {igx:?} but `^^` (record {}) on '{}' {igy:?}",
                px.index,
                char::from(px.grtyp),
                py.index,
                char::from(py.grtyp)
            ),
        ));
    }
    Ok(GridDescriptor::with_positional(
        g,
        rec.ni,
        rec.nj,
        ig,
        Positional {
            grtyp: px.grtyp,
            ig: igx,
            x: values(file, px)?,
            y: values(file, py)?,
        },
    ))
}

/// The values of a positional record as f64.
fn values(file: &FstFile, rec: &RecordMeta) -> Result<Arc<[f64]>> {
    let field = file.decode(rec).map_err(|e| GridError::Read {
        record: format!("`{}` record {}", rec.nomvar.trimmed(), rec.index),
        source: Box::new(e),
    })?;
    match field.samples {
        Samples::F32(v) => Ok(v.iter().map(|&x| f64::from(x)).collect()),
        Samples::F64(v) => Ok(v.into()),
        other => Err(GridError::invalid(
            rec.grtyp,
            format!(
                "positional record `{}` ({}) holds {:?} values, expected floats",
                rec.nomvar.trimmed(),
                rec.index,
                other.sample_type()
            ),
        )),
    }
}
