//! GDAL raster driver for RPN standard files (FST), built as the plugin `gdal_FST.so`.
//!
//! * [`model`]: the dataset model in safe Rust (subdatasets, bands, metadata,
//!   georeferencing, block reads), on `fst-core`'s catalog and `grids`.
//! * [`names`]: subdataset names.
//! * [`write`]: writing FST files from GDAL datasets (`CreateCopy`), apart from the
//!   reading model.
//! * `ffi`: the only unsafe code: `extern "C"` functions for the C++ shim (`shim/`), each
//!   wrapped in `catch_unwind`, errors reported through `CPLError`; `ffi_create`: the same
//!   for the writer.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod cache;
pub mod ffi;
pub mod ffi_create;
pub mod model;
pub mod names;
pub mod vertical_metadata;
pub mod write;

pub use ffi::is_fst_header;
