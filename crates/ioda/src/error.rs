//! Errors, grouped by who is at fault: the file (`Format`, `Hdf5`), the feature set
//! (`Unsupported`), the limits (`Limit`), or the caller (`NoSuchVariable`, `Usage`).

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Formats the optional variable part of a message: `" variable MetaData/latitude"` or nothing.
fn at(variable: Option<&String>) -> String {
    variable.map_or_else(String::new, |name| format!(" variable {name}"))
}

/// Everything that can go wrong while opening or reading an observation file.
///
/// Every variant names the file, and the variable when one was being read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused a read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The HDF5/netCDF-4 layer found the file malformed (truncated, corrupted, or not HDF5).
    #[error("{}{}: unreadable HDF5/netCDF-4 data", path.display(), at(variable.as_ref()))]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// The variable being read, if any.
        variable: Option<String>,
        /// What the HDF5 reader reported.
        #[source]
        source: netcdf_reader::Error,
    },
    /// The file is readable but breaks the IODA or ODB-2 layout rules.
    #[error("{}{}: {detail}", path.display(), at(variable.as_ref()))]
    Format {
        /// The file.
        path: PathBuf,
        /// The variable concerned, if any.
        variable: Option<String>,
        /// What is wrong, with the expected and found values.
        detail: String,
    },
    /// The file is valid but uses something this reader does not implement.
    #[error("{}{}: unsupported {what}", path.display(), at(variable.as_ref()))]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The variable concerned, if any.
        variable: Option<String>,
        /// The feature.
        what: String,
    },
    /// Reading would exceed one of the [`Limits`](crate::Limits).
    #[error("{}{}: {what} is {found}, above the limit of {limit}", path.display(), at(variable.as_ref()))]
    Limit {
        /// The file.
        path: PathBuf,
        /// The variable concerned, if any.
        variable: Option<String>,
        /// The quantity limited (bytes of a variable, members of a set, ...).
        what: &'static str,
        /// The size the file asks for.
        found: u64,
        /// The limit in force.
        limit: u64,
    },
    /// The system refused memory for a variable that passed the limits.
    #[error("{}{}: cannot allocate {bytes} bytes", path.display(), at(variable.as_ref()))]
    Alloc {
        /// The file.
        path: PathBuf,
        /// The variable being read, if any.
        variable: Option<String>,
        /// The size asked for.
        bytes: u64,
        /// The allocator's refusal.
        #[source]
        source: std::collections::TryReserveError,
    },
    /// The caller asked for a variable the dataset does not have.
    #[error("{}: no variable {variable}", path.display())]
    NoSuchVariable {
        /// The file (first member of a set).
        path: PathBuf,
        /// The name asked for.
        variable: String,
    },
    /// The caller passed something unusable (an empty set, say).
    #[error("{0}")]
    Usage(String),
}
