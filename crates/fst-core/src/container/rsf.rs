//! The RSF container ("FST24"). Being written: until then RSF files are refused clearly.

use super::{Directory, ReadOptions};
use crate::error::{FormatErrorKind, OpenError, SourceName};
use crate::record::RecordMeta;
use crate::source::ByteSource;

pub(crate) fn read_directory(
    _src: &dyn ByteSource,
    _file_len: u64,
    path: &SourceName,
    _options: &ReadOptions,
) -> Result<Directory, OpenError> {
    Err(OpenError::Unsupported { path: path.clone(), what: "RSF container".into() })
}

pub(crate) fn check_record_frame(_sor: &[u8; 16], _eor: &[u8; 12], _meta: &RecordMeta) -> Result<(), FormatErrorKind> {
    Err(FormatErrorKind::Framing { reason: "RSF container not supported".into() })
}
