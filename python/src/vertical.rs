//! The terms of a vertical coordinate (a `!!` record) for the xarray backend's CF
//! `formula_terms`: fst-core's `vertical` module reads the table and gives each level its
//! formula; this layer lays the terms out per level for Python.

use fst_core::ip::LevelKind;
use fst_core::vertical::{
    descriptor_nomvars, HyKeys, LevelFormula, VerticalDescriptor, VerticalError,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors;
use crate::file::Record;

/// The codes of the level kinds whose coordinate comes from a vertical descriptor (`!!`, or
/// `HY`/`PT` in older files): fst-core's rule, so that Python does not keep its own list.
#[pyfunction]
pub(crate) fn model_level_kinds() -> Vec<u8> {
    LevelKind::ALL
        .iter()
        .filter(|&&k| descriptor_nomvars(k).contains(&fst_core::vertical::NOMVAR))
        .map(|k| k.code())
        .collect()
}

/// The formula family of a coordinate and each level's terms in it, for the levels `ip1s` of
/// the `!!` record `record`: a dict with `vcode`, `family` (`"linear"`: p = a + b·ps;
/// `"log"`: p = exp(a + b·ln(ps/pref)); `"log_sleve"`: plus c·ln(`ps_ls`/pref); `"height"`:
/// z = a + b·zs + c·`zs_ls`; `"fixed_height"`: z = a), `pref` and `ptop` in Pa (or None), the
/// reference field names, and float64 lists `a`, `b`, `c` (the surface level written in its
/// family's terms). Levels the table does not have give None (the coordinate does not
/// match this record).
#[pyfunction]
pub(crate) fn vertical_terms<'py>(
    py: Python<'py>,
    record: &Record,
    ip1s: Vec<u32>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let field = py
        .detach(|| record.file.decode(&record.meta))
        .map_err(|e| errors::decode_error(&e))?;
    let descriptor = VerticalDescriptor::from_field(&field)
        .map_err(|e| errors::raise("UnsupportedError", e.to_string(), record.context()))?;
    terms(py, &descriptor, &ip1s)
}

/// The same for the levels `ip1s` of a file without a `!!` record (GEM 3 and older): the
/// coordinate vgrid builds from the level kind, the file's `HY` record `hy` and its `PT`
/// value `pt` (hPa), if any (fst-core's `VerticalDescriptor::from_legacy`). None where no
/// legacy coordinate has these levels (another kind).
#[pyfunction]
#[pyo3(signature = (ip1s, hy=None, pt=None))]
pub(crate) fn legacy_vertical_terms<'py>(
    py: Python<'py>,
    ip1s: Vec<u32>,
    hy: Option<PyRef<'py, Record>>,
    pt: Option<f32>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let keys = hy.as_ref().map(|r| HyKeys::of(&r.meta));
    match VerticalDescriptor::from_legacy(&ip1s, keys, pt) {
        Ok(descriptor) => terms(py, &descriptor, &ip1s),
        Err(VerticalError::UnknownLevel { .. }) => Ok(None),
        Err(e) => {
            let context = hy.as_ref().map(|r| r.context()).unwrap_or_default();
            Err(errors::raise("UnsupportedError", e.to_string(), context))
        }
    }
}

/// The dict of [`vertical_terms`] for `descriptor`'s levels `ip1s`.
fn terms<'py>(
    py: Python<'py>,
    descriptor: &VerticalDescriptor,
    ip1s: &[u32],
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let Ok(formulas) = ip1s
        .iter()
        .map(|&ip1| descriptor.formula(ip1))
        .collect::<Result<Vec<_>, _>>()
    else {
        return Ok(None);
    };
    let family = formulas
        .iter()
        .find_map(|f| family_of(f))
        .unwrap_or("linear");
    let pref = descriptor.pref;
    let mut terms = (Vec::new(), Vec::new(), Vec::new());
    for f in &formulas {
        let (a, b, c) = match *f {
            LevelFormula::Linear { a, b } | LevelFormula::LogLinear { a, b, .. } => (a, b, 0.0),
            LevelFormula::LogLinearSleve { a, b, c, .. } | LevelFormula::Height { a, b, c, .. } => {
                (a, b, c)
            }
            LevelFormula::FixedHeight { a } => (a, 0.0, 0.0),
            // The reference field itself: p = ps (z = zs) in the family's own terms.
            LevelFormula::Surface => match family {
                "log" | "log_sleve" => (pref.map_or(f64::NAN, f64::ln), 1.0, 0.0),
                _ => (0.0, 1.0, 0.0),
            },
        };
        terms.0.push(a);
        terms.1.push(b);
        terms.2.push(c);
    }
    let d = PyDict::new(py);
    d.set_item("vcode", descriptor.vcode.code())?;
    d.set_item("family", family)?;
    d.set_item("pref", pref)?;
    d.set_item("ptop", descriptor.ptop)?;
    d.set_item("reference", descriptor.reference.clone())?;
    d.set_item(
        "reference_large_scale",
        descriptor.reference_large_scale.clone(),
    )?;
    d.set_item("a", terms.0)?;
    d.set_item("b", terms.1)?;
    d.set_item("c", terms.2)?;
    Ok(Some(d))
}

fn family_of(f: &LevelFormula) -> Option<&'static str> {
    Some(match f {
        LevelFormula::Linear { .. } => "linear",
        LevelFormula::LogLinear { .. } => "log",
        LevelFormula::LogLinearSleve { .. } => "log_sleve",
        LevelFormula::Height { .. } => "height",
        LevelFormula::FixedHeight { .. } => "fixed_height",
        LevelFormula::Surface => return None,
    })
}
