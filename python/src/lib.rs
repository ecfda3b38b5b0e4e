//! `fstgis._fstgis`: the compiled half of the `fstgis` Python package.
//!
//! This layer converts types and releases the GIL; what records mean (levels, dates, grids)
//! is fst-core's and grids' business. The pure-Python half (`python/fstgis/`) normalises
//! arguments, builds data frames and holds the xarray backend.
//!
//! Errors are raised as the exception classes of `fstgis._errors` (a hierarchy with
//! multiple inheritance, e.g. `FstIOError(FstError, OSError)`, which Rust-defined exception
//! types cannot express), carrying the path, record and byte offset of the fault.

// PyO3's methods take `&self` and owned extracted arguments whatever their size; the
// bindings follow PyO3's idioms instead of these pedantic lints.
#![allow(
    clippy::needless_pass_by_value,
    clippy::unused_self,
    clippy::trivially_copy_pass_by_ref
)]
// Levels and ip values are compared exactly on purpose: they are librmn's float32 results,
// and equal levels are bit-identical.
#![allow(clippy::float_cmp)]

mod cf;
mod errors;
mod file;
mod grid;
mod helpers;
mod table;
mod vertical;
mod write;

use pyo3::prelude::*;

/// The compiled module.
#[pymodule]
fn _fstgis(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<file::File>()?;
    m.add_class::<file::Record>()?;
    m.add_class::<file::Level>()?;
    m.add_class::<grid::Grid>()?;
    m.add_class::<write::Writer>()?;
    #[cfg(feature = "proj")]
    m.add_function(wrap_pyfunction!(grid::grid_from_axes, m)?)?;
    m.add_function(wrap_pyfunction!(grid::grid_from_lat_lon, m)?)?;
    m.add_function(wrap_pyfunction!(grid::grid_from_cf, m)?)?;
    m.add_function(wrap_pyfunction!(helpers::datetime_to_cmc, m)?)?;
    m.add_function(wrap_pyfunction!(helpers::cmc_to_datetime, m)?)?;
    m.add_function(wrap_pyfunction!(helpers::decode_ip, m)?)?;
    m.add_function(wrap_pyfunction!(helpers::decode_ip_triple, m)?)?;
    m.add_function(wrap_pyfunction!(helpers::encode_ip, m)?)?;
    m.add_function(wrap_pyfunction!(helpers::forecast_hour, m)?)?;
    m.add_function(wrap_pyfunction!(helpers::incdatr, m)?)?;
    m.add_function(wrap_pyfunction!(helpers::level_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(vertical::vertical_terms, m)?)?;
    m.add_function(wrap_pyfunction!(vertical::legacy_vertical_terms, m)?)?;
    m.add_function(wrap_pyfunction!(vertical::model_level_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(cf::cf_variables, m)?)?;
    m.add_function(wrap_pyfunction!(cf::cf_vertical, m)?)?;
    m.add_function(wrap_pyfunction!(cf::cf_level_kind, m)?)?;
    m.add_function(wrap_pyfunction!(cf::cf_level_kind_of_units, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
