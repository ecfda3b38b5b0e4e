//! Resource limits applied to untrusted files.
//!
//! Every count and size read from a file is checked against these limits *before* anything is
//! allocated. The defaults accept every file the reference library can write, with room to
//! spare, while keeping a corrupt header from asking for terabytes.

/// Limits enforced while opening a file and decoding its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest number of directory entries (live and deleted) accepted in one file.
    ///
    /// Default: 16 777 216. librmn's XDF tables stop at 1024 pages × 256 = 262 144 entries;
    /// RSF has no such table, so the limit is set well above what any model run writes.
    pub max_records: u64,
    /// Largest number of values (`ni·nj·nk`, ×2 for complex) in one record.
    ///
    /// Default: 2³¹ − 1, the largest element count librmn's 32-bit counters handle.
    pub max_values_per_record: u64,
    /// Largest decoded size of one record in bytes.
    ///
    /// Default: 8 GiB, enough for 2³⁰ double-precision values.
    pub max_decoded_bytes: u64,
    /// Largest extended-metadata (JSON) text accepted on one RSF record, in bytes.
    ///
    /// Default: 16 MiB.
    pub max_metadata_bytes: u64,
}

impl Limits {
    /// The default limits (see each field).
    pub const DEFAULT: Limits = Limits {
        max_records: 1 << 24,
        max_values_per_record: (1 << 31) - 1,
        max_decoded_bytes: 8 << 30,
        max_metadata_bytes: 16 << 20,
    };

    /// No limit at all beyond what the format itself can express. Use only on trusted files.
    pub const UNLIMITED: Limits = Limits {
        max_records: u64::MAX,
        max_values_per_record: u64::MAX,
        max_decoded_bytes: u64::MAX,
        max_metadata_bytes: u64::MAX,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which limit a file exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// Too many directory entries.
    #[error("{found} directory entries exceed the limit of {limit}")]
    Records {
        /// Entries found or announced.
        found: u64,
        /// The configured limit.
        limit: u64,
    },
    /// Too many values in one record.
    #[error("{found} values in one record exceed the limit of {limit}")]
    Values {
        /// Values announced by the record.
        found: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The decoded record would be too large.
    #[error("{found} decoded bytes exceed the limit of {limit}")]
    DecodedBytes {
        /// Bytes the decoded record would need.
        found: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The extended metadata is too large.
    #[error("{found} bytes of extended metadata exceed the limit of {limit}")]
    MetadataBytes {
        /// Bytes of JSON text.
        found: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The memory could not be reserved.
    #[error("cannot reserve memory for {bytes} bytes")]
    OutOfMemory {
        /// Bytes asked for.
        bytes: u64,
    },
}
