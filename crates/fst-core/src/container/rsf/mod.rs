//! The RSF container ("FST24"): the segment chain, the directory records (VDIR) and the
//! start/end-of-record framing.
//!
//! The facts this reader relies on and checks are listed in `README.md` beside this file.
//! In short: a file is a chain of segments `SOS | records… | VDIR | EOS`; control words are
//! little-endian u32, 64-bit values are two of them, high word first; each closed segment's
//! VDIR lists its records with variable-width entries; a segment left open by a writer that is
//! still running or crashed has no directory, and its records are found only by walking the
//! record framing.
//!
//! The walk is split along those seams: `framing` (control words, SOR/EOR, SOS), `meta` (an
//! entry's search keys and JSON), `segments` (the chain and each segment's end), `vdir` (a
//! closed segment's directory) and `recovery` (unfinished segments, walked record by record).

mod framing;
mod meta;
mod recovery;
mod segments;
mod vdir;

use super::{Diagnostic, Directory, ReadOptions};
use crate::alloc::try_vec_filled;
use crate::error::{FormatErrorKind, OpenError, SourceName};
use crate::limits::LimitError;
use crate::record::{Container, RecordMeta};
use crate::source::ByteSource;

pub(crate) use framing::*;

/// The RSF directory walk over one file.
struct Reader<'a> {
    src: &'a dyn ByteSource,
    file_len: u64,
    path: &'a SourceName,
    options: &'a ReadOptions,
    records: Vec<RecordMeta>,
    /// Directory entries seen so far, deleted ones included (the next `file_index`).
    entries: u64,
    diagnostics: Vec<Diagnostic>,
    /// Directory entries announced by the directories read so far.
    planned: u64,
    /// Entries of the current directory that are not data records: where the first is, its
    /// `file_index` and record type, and how many there are.
    skipped: Option<(u64, u32, u8, u64)>,
    /// Records whose JSON lives only in the record (version 0): (record position, offset, bytes).
    pending_json: Vec<(usize, u64, u64)>,
}

/// One segment's contribution to the listing, found while following the segment chain.
enum Step {
    /// A closed segment's directory: `n` entries in `buf`, read at byte `vdir` of the segment
    /// at `off`.
    Directory {
        off: u64,
        vdir: u64,
        len: u64,
        n: u64,
    },
    /// An unfinished segment at `off` whose records may run up to `end`; `truncated` when
    /// the file ends before the segment does.
    Unfinished {
        off: u64,
        end: u64,
        what: String,
        truncated: bool,
    },
}

impl Reader<'_> {
    pub(super) fn format(&self, offset: u64, kind: FormatErrorKind) -> OpenError {
        OpenError::Format {
            path: self.path.clone(),
            container: Container::Rsf,
            offset,
            kind,
        }
    }

    pub(super) fn bad(
        &self,
        offset: u64,
        field: &'static str,
        found: u64,
        expected: String,
    ) -> OpenError {
        self.format(
            offset,
            FormatErrorKind::BadField {
                field,
                found,
                expected,
            },
        )
    }

    pub(super) fn limit(&self, limit: LimitError) -> OpenError {
        OpenError::Limits {
            path: self.path.clone(),
            limit,
        }
    }

    pub(super) fn note(&mut self, offset: u64, message: String) {
        self.note_if_truncated(offset, message, false);
    }

    /// A note; `truncated` when it says that the file ends before what it announces at
    /// `offset` (see [`Diagnostic::truncated`]).
    pub(super) fn note_if_truncated(&mut self, offset: u64, message: String, truncated: bool) {
        self.diagnostics.push(Diagnostic {
            offset,
            message,
            truncated,
        });
    }

    /// Fill `buf` from `offset`, which the caller has checked lies inside the file.
    pub(super) fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), OpenError> {
        self.src
            .read_exact_at(offset, buf)
            .map_err(|source| OpenError::Io {
                path: self.path.clone(),
                offset,
                source,
            })
    }

    /// Read `len` bytes at `offset` into a new buffer; `what` names the structure in errors
    /// (the caller has not checked that they lie inside the file).
    pub(super) fn read_vec(
        &self,
        offset: u64,
        len: u64,
        what: &'static str,
    ) -> Result<Vec<u8>, OpenError> {
        let end = offset.saturating_add(len);
        if end > self.file_len {
            let kind = FormatErrorKind::Truncated {
                what,
                needed: end,
                available: self.file_len,
            };
            return Err(self.format(offset, kind));
        }
        let oom = self.limit(LimitError::OutOfMemory { bytes: len });
        let n = usize::try_from(len).ok().ok_or(oom)?;
        let Ok(mut buf) = try_vec_filled(n, 0u8) else {
            return Err(self.limit(LimitError::OutOfMemory { bytes: len }));
        };
        self.read(offset, &mut buf)?;
        Ok(buf)
    }

    pub(super) fn read_sos(&self, off: u64) -> Result<Sos, OpenError> {
        let mut b = [0u8; 72];
        self.read(off, &mut b)?;
        let sos = Sos::parse(&b);
        sos.check(off == 0).map_err(|kind| self.format(off, kind))?;
        Ok(sos)
    }

    /// Count one more directory entry against the limit and return its `file_index`.
    #[inline]
    pub(super) fn next_entry(&mut self, offset: u64) -> Result<u32, OpenError> {
        let index = self.entries;
        let limit = self.options.limits.max_records;
        if index >= limit {
            return Err(self.limit(LimitError::Records {
                found: index + 1,
                limit,
            }));
        }
        self.entries += 1;
        u32::try_from(index).ok().ok_or_else(|| {
            self.bad(
                offset,
                "directory entry count",
                index,
                "at most 2^32".into(),
            )
        })
    }
}

/// Read the directories of an RSF file: one [`RecordMeta`] per live record of every closed
/// segment, in segment then entry order, plus the records of unfinished segments when
/// `options.recover` is set.
pub(crate) fn read_directory(
    src: &dyn ByteSource,
    file_len: u64,
    path: &SourceName,
    options: &ReadOptions,
) -> Result<Directory, OpenError> {
    let mut reader = Reader {
        src,
        file_len,
        path,
        options,
        records: Vec::new(),
        entries: 0,
        planned: 0,
        skipped: None,
        diagnostics: Vec::new(),
        pending_json: Vec::new(),
    };
    if file_len < SOS_LEN {
        let kind = FormatErrorKind::Truncated {
            what: "first segment start",
            needed: SOS_LEN,
            available: file_len,
        };
        return Err(reader.format(0, kind));
    }
    reader.walk_segments()?;
    reader.fetch_pending_json()?;
    Ok(Directory {
        container: Container::Rsf,
        records: reader.records,
        entry_count: reader.entries,
        diagnostics: reader.diagnostics,
    })
}

/// The test-kit writer, shared with the integration tests.
#[cfg(test)]
#[path = "../../../tests/support/rsf_writer.rs"]
mod rsf_writer;

#[cfg(test)]
mod tests;
