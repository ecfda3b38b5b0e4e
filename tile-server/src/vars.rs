//! Titles and native units of the common nomvars: `fst-cf`'s table (the one the xarray
//! backend and the GDAL driver use), in the forms a map shows.

/// (title, native unit as printed beside a value) of a nomvar, if known:
/// `("Air temperature", "°C")` for `TT`.
#[must_use]
pub fn describe(nomvar: &str) -> Option<(String, &'static str)> {
    fst_cf::variable(nomvar).map(|v| (fst_cf::title(v.long_name), fst_cf::display_units(v.units)))
}
