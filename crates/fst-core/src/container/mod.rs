//! The two containers: detection by magic, directory walk, record framing.
//!
//! Each container turns a [`ByteSource`] into a [`Directory`]: one [`RecordMeta`] per live
//! record, in directory order, plus notes about anything unusual that did not prevent reading
//! (an unfinished RSF segment, a directory checksum mismatch, a file left open by a writer).

pub(crate) mod rsf;
pub(crate) mod xdf;

use crate::error::{OpenError, SourceName};
use crate::limits::Limits;
use crate::record::{Container, RecordMeta};
use crate::source::ByteSource;

/// Something unusual found while reading a directory that did not stop the file from opening.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Byte offset of the structure concerned.
    pub offset: u64,
    /// A sentence describing what was found.
    pub message: String,
    /// The file ends before a structure it announces: bytes were lost (a copy cut short, a
    /// full disk), and records past `offset` may be missing from the listing. Other
    /// diagnostics describe files as their writers left them (a writer still at work, a
    /// flag, trailing bytes), which tools report without failing.
    pub truncated: bool,
}

/// The result of reading a container's directory.
#[derive(Debug, Clone)]
pub(crate) struct Directory {
    pub(crate) container: Container,
    /// Live records in directory order; `index` is their position here.
    pub(crate) records: Vec<RecordMeta>,
    /// Number of directory entries including deleted ones.
    pub(crate) entry_count: u64,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// How to read a directory.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadOptions {
    pub(crate) limits: Limits,
    /// Also list records that are in no directory (RSF unfinished segments), found by walking
    /// the record framing.
    pub(crate) recover: bool,
}

/// The container a file uses, from its first 24 bytes (XDF: `XDF0STDR` at byte 8; RSF:
/// `RSF0STDF` at byte 16), or `None` for anything else. Cheap enough for format sniffing.
#[must_use]
pub fn detect(head: &[u8]) -> Option<Container> {
    if head.get(8..16) == Some(b"XDF0STDR".as_slice()) {
        Some(Container::Xdf)
    } else if head.get(16..24) == Some(b"RSF0STDF".as_slice()) {
        Some(Container::Rsf)
    } else {
        None
    }
}

/// Read the directory of whichever container `src` holds.
pub(crate) fn read_directory(
    src: &dyn ByteSource,
    path: &SourceName,
    options: &ReadOptions,
) -> Result<Directory, OpenError> {
    let file_len = src.len().map_err(|source| OpenError::Io {
        path: path.clone(),
        offset: 0,
        source,
    })?;
    let mut head = [0u8; 24];
    let n = usize::try_from(file_len.min(24)).unwrap_or(24);
    let head = head.get_mut(..n).unwrap_or(&mut []);
    src.read_exact_at(0, head).map_err(|source| OpenError::Io {
        path: path.clone(),
        offset: 0,
        source,
    })?;
    match detect(head) {
        Some(Container::Xdf) => xdf::read_directory(src, file_len, path, options),
        Some(Container::Rsf) => rsf::read_directory(src, file_len, path, options),
        None => Err(OpenError::NotFst {
            path: path.clone(),
            reason: describe_magic(head),
        }),
    }
}

fn describe_magic(head: &[u8]) -> String {
    if head.len() < 24 {
        return format!("only {} bytes", head.len());
    }
    match (head.get(8..12), head.get(12..16), head.get(16..20)) {
        (Some(b"XDF0"), Some(b"STDS"), _) => {
            "sequential XDF standard file (STDS), not supported".into()
        }
        (Some(b"XDF0"), Some(b"BRP0"), _) => "a BURP observation file".into(),
        (Some(b"XDF0"), Some(sig), _) => {
            format!("XDF file of application {:?}", String::from_utf8_lossy(sig))
        }
        (_, _, Some(b"RSF0")) => format!(
            "RSF file of application {:?}",
            String::from_utf8_lossy(head.get(20..24).unwrap_or_default())
        ),
        _ => "no XDF0STDR or RSF0STDF magic".into(),
    }
}

/// Why an RSF record's framing check failed.
#[derive(Debug)]
pub(crate) enum FrameError {
    Io(std::io::Error),
    Format(crate::error::FormatErrorKind),
}

/// Read an RSF record's start- and end-of-record markers and check them against its
/// directory entry, before its payload is trusted.
pub(crate) fn rsf_check_frame(src: &dyn ByteSource, rec: &RecordMeta) -> Result<(), FrameError> {
    let mut sor = [0u8; 16];
    let mut eor = [0u8; 12];
    src.read_exact_at(rec.record_offset.0, &mut sor)
        .map_err(FrameError::Io)?;
    let eor_at = (rec.record_offset.0 + rec.record_len)
        .checked_sub(12)
        .ok_or_else(|| {
            FrameError::Format(crate::error::FormatErrorKind::Framing {
                reason: format!(
                    "record length {} is shorter than its markers",
                    rec.record_len
                ),
            })
        })?;
    src.read_exact_at(eor_at, &mut eor)
        .map_err(FrameError::Io)?;
    rsf::check_record_frame(&sor, &eor, rec).map_err(FrameError::Format)
}
