//! What an FST field means in CF terms, in one place for every face of fstgis: the xarray
//! backend and writer (`python/`), the GDAL driver's netCDF-facing metadata and its writer's
//! reading of netCDF levels (`gdal-driver/`), and the tile server's layer titles and units
//! (`tile-server/`). Before this crate each kept its own table, and they had drifted apart
//! (one said `ES` was in °C, another in K).
//!
//! - [`variable`]: a nomvar's CF `standard_name` (only where the CF standard-name table has
//!   an exact match), `long_name` and UDUNITS `units`, for the common GEM/RPN outputs. Units
//!   are the records' own: fstgis never converts values (`TT` stays in °C, `GZ` in
//!   decametres, `UU`/`VV` in knots). [`display_units`] and [`title`] are the forms people
//!   read on a map.
//! - [`vertical`]: the CF vertical coordinate of a level kind (dimension name,
//!   `standard_name`, `long_name`, `units`, `positive`, `axis`); [`kind_of_standard_name`]
//!   and [`kind_of_units`] go back from a CF coordinate to a kind, for writers.
//!
//! Pure data and pure functions: no I/O, no allocation but [`title`]'s string.

#![forbid(unsafe_code)]

mod variables;
mod vertical;

pub use variables::{display_units, title, variable, variables, Variable};
pub use vertical::{
    kind_of_dimension, kind_of_standard_name, kind_of_units, vertical, Vertical, MIXED_LEVELS,
};
