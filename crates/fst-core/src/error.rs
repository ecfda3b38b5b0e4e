//! Errors, grouped by phase (opening a file, decoding a record) and by who is at fault
//! (a malformed file, an unsupported feature, a limit, the caller, the operating system).

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::codec::CodecError;
use crate::limits::LimitError;
use crate::record::{Container, RecordIndex};

/// A path that may be absent (in-memory sources), for messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceName(pub Option<PathBuf>);

impl fmt::Display for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(p) => write!(f, "{}", p.display()),
            None => f.write_str("<memory>"),
        }
    }
}

/// Why a file could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The operating system could not open the file (missing, a directory, no permission).
    #[error("{path}: cannot open")]
    Open {
        /// The file.
        path: SourceName,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The operating system failed to read the file.
    #[error("{path}: cannot read at byte {offset}")]
    Io {
        /// The file.
        path: SourceName,
        /// Where the failed read started.
        offset: u64,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file is not an FST file at all (no XDF or RSF standard-file magic).
    #[error("{path}: not an RPN standard file ({reason})")]
    NotFst {
        /// The file.
        path: SourceName,
        /// What was found instead.
        reason: String,
    },
    /// The file claims to be FST but its structure is malformed.
    #[error("{path}: malformed {container} file at byte {offset}: {kind}")]
    Format {
        /// The file.
        path: SourceName,
        /// The container being read.
        container: Container,
        /// Byte offset of the faulty structure.
        offset: u64,
        /// What is wrong.
        kind: FormatErrorKind,
    },
    /// A valid file that uses a feature this reader does not implement.
    #[error("{path}: unsupported: {what}")]
    Unsupported {
        /// The file.
        path: SourceName,
        /// The feature.
        what: String,
    },
    /// The file exceeds a configured limit.
    #[error("{path}: {limit}")]
    Limits {
        /// The file.
        path: SourceName,
        /// The limit exceeded.
        limit: LimitError,
    },
}

/// What is wrong in a malformed file structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatErrorKind {
    /// The file ends before a structure it announces.
    #[error("truncated: {what} needs {needed} bytes, the file has {available}")]
    Truncated {
        /// The structure.
        what: &'static str,
        /// Bytes needed from the start of the file.
        needed: u64,
        /// The file's size.
        available: u64,
    },
    /// A header or page field has an impossible value.
    #[error("{field} is {found}, expected {expected}")]
    BadField {
        /// The field.
        field: &'static str,
        /// What the file holds.
        found: u64,
        /// What a valid file holds.
        expected: String,
    },
    /// The directory page chain loops back on itself.
    #[error("directory page chain loops back to address {address}")]
    PageCycle {
        /// The repeated page address (64-bit units, origin 1).
        address: u64,
    },
    /// A directory entry points outside the file or overlaps the header.
    #[error("directory entry {file_index} points to bytes {start}..{end} outside the data area (file size {file_size})")]
    EntryOutOfBounds {
        /// The entry's position among all entries.
        file_index: u32,
        /// First byte of the record.
        start: u64,
        /// One past its last byte.
        end: u64,
        /// The file's size.
        file_size: u64,
    },
    /// A directory entry is inconsistent.
    #[error("directory entry {file_index}: {reason}")]
    BadEntry {
        /// The entry's position among all entries.
        file_index: u32,
        /// What is wrong.
        reason: String,
    },
    /// RSF record framing (start/end-of-record markers) is inconsistent.
    #[error("record framing: {reason}")]
    Framing {
        /// What is wrong.
        reason: String,
    },
}

/// Why a record could not be read or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The operating system failed to read the record (for example, the file was truncated
    /// after it was opened).
    #[error("{path}: record {record}: cannot read {len} bytes at byte {offset}")]
    Io {
        /// The file.
        path: SourceName,
        /// The record.
        record: RecordIndex,
        /// Where the read started.
        offset: u64,
        /// Bytes asked for.
        len: u64,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The record's bytes are malformed.
    #[error("{path}: record {record} at byte {offset}: {kind}")]
    Format {
        /// The file.
        path: SourceName,
        /// The record.
        record: RecordIndex,
        /// Byte offset of the record's payload.
        offset: u64,
        /// What the codec or framing check found.
        kind: CodecError,
    },
    /// The record's framing on disk disagrees with its directory entry (RSF).
    #[error("{path}: record {record} at byte {offset}: {kind}")]
    Framing {
        /// The file.
        path: SourceName,
        /// The record.
        record: RecordIndex,
        /// Byte offset of the record.
        offset: u64,
        /// What is wrong.
        kind: FormatErrorKind,
    },
    /// The record exceeds a configured limit.
    #[error("{path}: record {record}: {limit}")]
    Limits {
        /// The file.
        path: SourceName,
        /// The record.
        record: RecordIndex,
        /// The limit exceeded.
        limit: LimitError,
    },
    /// The caller asked for something this record cannot give (wrong buffer type or length,
    /// a record of another file).
    #[error("{path}: record {record}: {reason}")]
    Usage {
        /// The file.
        path: SourceName,
        /// The record.
        record: RecordIndex,
        /// What is wrong with the request.
        reason: String,
    },
}

impl DecodeError {
    /// The record the error concerns.
    #[must_use]
    pub fn record(&self) -> RecordIndex {
        match self {
            DecodeError::Io { record, .. }
            | DecodeError::Format { record, .. }
            | DecodeError::Framing { record, .. }
            | DecodeError::Limits { record, .. }
            | DecodeError::Usage { record, .. } => *record,
        }
    }
}

/// A record being written, for messages: its position among the writer's calls (from 0) and
/// its variable name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLabel {
    /// Number of `write` calls on this writer before this one.
    pub sequence: u64,
    /// The record's variable name, as given.
    pub nomvar: String,
}

impl fmt::Display for RecordLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record #{} ({:?})", self.sequence, self.nomvar)
    }
}

/// Why a file could not be written. Every variant names the file; those about one record
/// also name the record. After an error the file on disk is as it was before the failed call
/// (for a new file: nothing at its final path).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The operating system refused an operation on the file itself (create, open, lock,
    /// rename, a write of the directory or header).
    #[error("{path}: cannot {action}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The operating system refused to store a record (disk full, file size limit, …). The
    /// file was cut back to its length before the record.
    #[error("{path}: {record}: cannot {action}")]
    RecordIo {
        /// The file.
        path: PathBuf,
        /// The record.
        record: RecordLabel,
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A key or size of the record cannot be stored (name too long or not ASCII, value out of
    /// the field's range, shape over the limits, values that do not match the shape).
    #[error("{path}: {record}: {field}: {reason}")]
    InvalidRecord {
        /// The file.
        path: PathBuf,
        /// The record.
        record: RecordLabel,
        /// The key or property at fault.
        field: &'static str,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// Another writer holds the file: an fstgis writer (advisory lock), or, for RSF, a writer
    /// whose flag is set in the file (librmn, or a writer that crashed; see
    /// [`crate::write::WriteOptions::force`]).
    #[error("{path}: {reason}")]
    Locked {
        /// The file.
        path: PathBuf,
        /// Who holds it, as far as known.
        reason: String,
    },
    /// The existing file cannot be appended to: it does not open, or its state does not allow
    /// a safe append.
    #[error("{path}: cannot append: {reason}")]
    Unappendable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The existing file is not a readable FST file.
    #[error("cannot append")]
    Open(#[source] OpenError),
    /// The values cannot be encoded as requested (NaN where the datyp cannot hold it, nbits
    /// out of range, values that do not match the shape, …).
    #[error("{path}: {record}: cannot encode the values")]
    Encode {
        /// The file.
        path: PathBuf,
        /// The record.
        record: RecordLabel,
        /// What the encoder found.
        #[source]
        source: crate::codec::EncodeError,
    },
    /// A vertical grid descriptor cannot be written as vgrid's `!!` record.
    #[error("{path}: {record}: not a valid vertical grid descriptor")]
    Vertical {
        /// The file.
        path: PathBuf,
        /// The record.
        record: RecordLabel,
        /// What is wrong with the descriptor.
        #[source]
        source: crate::vertical::VerticalError,
    },
    /// An earlier error left this writer unable to continue; the file holds what was
    /// written before that error.
    #[error("{path}: the writer stopped after an earlier error")]
    Stopped {
        /// The file.
        path: PathBuf,
    },
}
