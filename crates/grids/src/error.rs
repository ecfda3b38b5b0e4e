//! Errors of the grids crate, grouped by who is at fault.

/// Result alias of this crate.
pub type Result<T, E = GridError> = std::result::Result<T, E>;

/// Everything that can go wrong when turning a grid descriptor into geography.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GridError {
    /// The descriptor is malformed: a parameter out of range, missing positional records,
    /// shapes that do not match.
    #[error("grid '{grtyp}': {detail}")]
    Invalid {
        /// The grid type concerned.
        grtyp: char,
        /// What is wrong, with the offending values.
        detail: String,
    },
    /// The grid is larger than the limits allow (fst-core's [`fst_core::Limits`], carried
    /// across by [`crate::Grid::with_limits`]), or the memory for its arrays could not be
    /// reserved. The shape usually comes from a corrupt or hostile directory entry.
    #[error("grid '{grtyp}' of {ni}x{nj} points: {detail}")]
    TooLarge {
        /// The grid type concerned.
        grtyp: char,
        /// Points along i.
        ni: usize,
        /// Points along j.
        nj: usize,
        /// What would be too large, with the figures and the limit's name.
        detail: String,
    },
    /// The grid type is valid in FST files but carries no georeference (X).
    #[error(
        "grid '{grtyp}' has no georeference: its points have no geographic meaning (librmn: \
         \"no geographic meaning\"); only pixel coordinates are available"
    )]
    NotGeoreferenced {
        /// The grid type concerned.
        grtyp: char,
    },
    /// The grid type exists but this crate does not implement it.
    #[error("grid type '{grtyp}' is not supported: {reason}")]
    Unsupported {
        /// The grid type concerned.
        grtyp: char,
        /// Why, and what would be needed.
        reason: &'static str,
    },
    /// The caller passed arguments that do not fit together (buffer lengths, subgrid numbers).
    #[error("usage: {0}")]
    Usage(String),
    /// A positional record could not be read or decoded.
    #[error("cannot read {record}")]
    Read {
        /// Which record.
        record: String,
        /// The reader's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// PROJ refused a CRS definition or could not export it.
    #[error("PROJ could not handle '{definition}': {detail}")]
    Proj {
        /// The PROJ definition concerned.
        definition: String,
        /// PROJ's own message.
        detail: String,
    },
}

impl GridError {
    pub(crate) fn too_large(grtyp: u8, ni: usize, nj: usize, detail: impl Into<String>) -> Self {
        GridError::TooLarge {
            grtyp: char::from(grtyp),
            ni,
            nj,
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid(grtyp: u8, detail: impl Into<String>) -> Self {
        GridError::Invalid {
            grtyp: char::from(grtyp),
            detail: detail.into(),
        }
    }
}
