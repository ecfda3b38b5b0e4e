//! The CF tables of `fst-cf` as Python dicts, for `fstgis._cf` and the xarray writer: the
//! backend, the GDAL driver and the tile server then read one table.

use fst_core::ip::LevelKind;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The attributes of a vertical coordinate, as the backend puts them on it.
fn vertical_attrs<'py>(py: Python<'py>, v: &fst_cf::Vertical) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    if let Some(s) = v.standard_name {
        d.set_item("standard_name", s)?;
    }
    d.set_item("long_name", v.long_name)?;
    d.set_item("units", v.units)?;
    if let Some(p) = v.positive {
        d.set_item("positive", p)?;
    }
    if let Some(a) = v.axis {
        d.set_item("axis", a)?;
    }
    Ok(d)
}

/// `{nomvar: (standard_name or None, long_name, units)}` of every nomvar the table knows.
#[pyfunction]
pub(crate) fn cf_variables(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    for v in fst_cf::variables() {
        d.set_item(v.nomvar, (v.standard_name, v.long_name, v.units))?;
    }
    Ok(d)
}

/// A vertical coordinate as Python sees it: (dimension, attributes).
type Coordinate<'py> = (&'static str, Bound<'py, PyDict>);

/// `({kind: (dimension, attributes)}, (dimension, attributes) of mixed kinds)`.
#[pyfunction]
pub(crate) fn cf_vertical(py: Python<'_>) -> PyResult<(Bound<'_, PyDict>, Coordinate<'_>)> {
    let d = PyDict::new(py);
    for k in LevelKind::ALL {
        if let Some(v) = fst_cf::vertical(k) {
            d.set_item(k.code(), (v.dim, vertical_attrs(py, v)?))?;
        }
    }
    let mixed = &fst_cf::MIXED_LEVELS;
    Ok((d, (mixed.dim, vertical_attrs(py, mixed)?)))
}

/// The level kind of a vertical coordinate from its CF `standard_name`, else from its
/// dimension's name (`pres`, `height_agl`, `pres1`…); None if neither tells.
#[pyfunction]
#[pyo3(signature = (standard_name=None, dim=None))]
pub(crate) fn cf_level_kind(standard_name: Option<&str>, dim: Option<&str>) -> Option<u8> {
    standard_name
        .and_then(fst_cf::kind_of_standard_name)
        .or_else(|| dim.and_then(fst_cf::kind_of_dimension))
        .map(LevelKind::code)
}

/// The level kind of a vertical coordinate known only by its `units` (`hPa`, `millibars`,
/// `Pa`, `m`, `K`...), and the factor that turns its values into that kind's unit; None for
/// units that name no level kind.
#[pyfunction]
pub(crate) fn cf_level_kind_of_units(units: &str) -> Option<(u8, f64)> {
    fst_cf::kind_of_units(units).map(|(kind, factor)| (kind.code(), factor))
}
