#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(clippy::indexing_slicing)]

mod alloc;
pub mod catalog;
pub mod codec;
pub mod container;
pub mod date;
pub mod error;
mod file;
pub mod ip;
pub mod limits;
pub mod names;
mod query;
pub mod record;
pub mod source;
pub mod vertical;
pub mod write;

pub use container::{detect as detect_container, Diagnostic};
pub use error::{DecodeError, OpenError, WriteError};
pub use file::{sample_size, Field, FstFile, OpenOptions};
pub use limits::Limits;
pub use query::Query;
pub use record::{Container, RecordIndex, RecordMeta};
pub use write::{FstWriter, RecordKeys, WriteOptions};
