//! The driver's errors, grouped by who is at fault. They cross into GDAL in one place:
//! `ffi::report_error` turns each kind into a `CPLError` class and code.

use fst_core::{DecodeError, OpenError};
use grids::GridError;

/// Everything that can go wrong opening a dataset or reading its pixels.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The bytes behind a path could not be reached (the host's opener said why).
    #[error("{path}: {detail}")]
    Source {
        /// The path.
        path: String,
        /// The opener's message.
        detail: String,
    },
    /// fst-core refused the file (its message names the path).
    #[error(transparent)]
    Open(#[from] OpenError),
    /// fst-core could not decode a record (its message names the path and record).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A subdataset name that does not parse.
    #[error("{0}")]
    Name(String),
    /// What was asked for is not in the file: data records, a field, a record.
    #[error("{path}: {what}")]
    NotFound {
        /// The file.
        path: String,
        /// What is missing.
        what: String,
    },
    /// The dataset cannot be opened that way (a part that does not apply to the grid).
    #[error("{path}: {reason}")]
    Unsupported {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A size announced by the file exceeds the limits: the message names the file, the
    /// record, the figures and the limit.
    #[error("{0}")]
    TooLarge(String),
    /// Memory for an array whose size passed the limits could not be reserved.
    #[error("{0}")]
    OutOfMemory(String),
    /// The grid gives no coordinates.
    #[error("{path}: no coordinates")]
    Grid {
        /// The file.
        path: String,
        /// What grids said.
        #[source]
        source: GridError,
    },
    /// A record's data disagrees with its directory entry.
    #[error("{0}")]
    Corrupt(String),
    /// The caller's arguments do not fit the dataset (band, block, buffer size, window).
    #[error("{0}")]
    Usage(String),
}

impl ModelError {
    /// The message followed by its causes, on one line (what GDAL shows).
    #[must_use]
    pub fn full_message(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            text = format!("{text}: {c}");
            cause = c.source();
        }
        text
    }
}
