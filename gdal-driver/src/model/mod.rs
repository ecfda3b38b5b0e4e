//! The dataset model, in safe Rust: what a GDAL dataset opened on an FST file (or on one of
//! its subdatasets) contains, and how a block of a band is filled.
//!
//! * fields come from `fst_core::catalog::Catalog` (never re-derived here);
//! * georeferencing comes from `grids` (CRS WKT, affine transform, lat/lon arrays);
//! * records are decoded on first touch into a per-dataset [`DecodeCache`].
//!
//! Rows are flipped so that line 0 is the northern edge whenever the record's first row is
//! the southern one (the usual FST order), as GRIB does; the geotransform and the
//! geolocation arrays follow the same flip.

mod dataset;
mod error;
mod metadata;
mod read;
#[cfg(test)]
mod tests;

pub use dataset::{open, Band, DataType, Dataset, ModelOptions, SourceOpener};
pub use error::ModelError;
