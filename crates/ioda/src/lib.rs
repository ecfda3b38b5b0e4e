#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod alloc;
mod dataset;
mod error;
mod hdf5;
mod limits;
pub mod names;
mod odb;
mod pool;
pub mod time;
mod values;

pub use dataset::{normalise_longitude, Dimension, Layout, ObsDataset, VariableData, VariableInfo};
pub use error::{Error, Result};
pub use limits::Limits;
pub use names::VariableName;
pub use pool::io_pool_members;
pub use values::{
    find_attribute, missing_mask, AttrValue, Attribute, Values, FLOAT_MISSING_THRESHOLD,
    INT32_MISSING, INT64_MISSING, STRING_MISSING,
};
