#![doc = include_str!("../README.md")]
// Unsafe code lives only in `proj_ffi` (WKT export and axis queries through proj-sys).
#![deny(unsafe_code)]
// Exact float comparisons here are deliberate: marker values of the `^>` record, exact zero
// radii, and exact hits of grid points.
#![allow(clippy::float_cmp)]

mod axis;
mod bounds;
mod cache;
mod cf_mapping;
mod cloud;
pub mod crs;
mod descriptor;
mod error;
pub mod from_crs;
pub mod fst;
mod gauss;
mod grid;
mod kernels;
pub mod links;
pub mod params;
#[cfg(feature = "proj")]
mod proj_ffi;
mod rotation;
mod simd;
mod wkt;
mod yinyang;

pub use bounds::GeoBox;
pub use cache::GridCache;
pub use cf_mapping::CfValue;
pub use crs::{Crs, GeoTransform};
pub use descriptor::{GridDescriptor, GridKey, GridOptions, Positional};
pub use error::{GridError, Result};
pub use from_crs::{FromCrsError, FromCrsOptions, FstGrid, PositionalPrecision};
pub use gauss::gaussian_latitudes;
pub use grid::{Coordinates, Grid, LatLon, MAX_POINTS};
pub use params::GridParams;
pub use rotation::{ObTran, Rotation};
