#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod alloc;
pub mod codec;
pub mod container;
pub mod date;
pub mod error;
pub mod ip;
pub mod limits;
pub mod names;
pub mod record;
pub mod source;
