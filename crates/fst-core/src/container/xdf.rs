//! The XDF container ("FST98", magic `XDF0STDR`): a 208-byte header, then directory pages of
//! 256 entries linked by address, interleaved with data records. Every structure is a
//! sequence of big-endian 32-bit words; addresses count 64-bit units from 1.
//!
//! See `fst-format.md` §2. What this reader enforces, beyond the field checks:
//! - exactly `nbd` pages are read, each at most once (a repeated address is a cycle);
//! - every live entry's record lies inside the file, after the header;
//! - a page checksum mismatch, a non-zero write flag or a file longer than the header says
//!   are reported as diagnostics, as librmn only logs them.

use std::collections::HashSet;

use super::{Diagnostic, Directory, ReadOptions};
use crate::alloc::try_vec_with_capacity;
use crate::error::{FormatErrorKind, OpenError, SourceName};
use crate::limits::LimitError;
use crate::record::{
    Container, FileOffset, Keys, PayloadLocation, Placement, RecordIndex, RecordMeta,
};
use crate::source::ByteSource;

/// Header length in bytes (26 64-bit units).
const HEADER_BYTES: u64 = 208;
/// Header length in 64-bit units.
pub(crate) const HEADER_UNITS: u32 = 26;
/// Entries per directory page.
pub(crate) const ENTRIES_PER_PAGE: usize = 256;
/// 32-bit words per directory entry (9 64-bit units).
pub(crate) const ENTRY_WORDS: usize = 18;
/// Words before the first entry of a page.
pub(crate) const PAGE_HEADER_WORDS: usize = 8;
/// Page length in 64-bit units: 4 + 256 × 9.
pub(crate) const PAGE_UNITS: u32 = 2308;
/// Page length in bytes.
pub(crate) const PAGE_BYTES: usize = PAGE_UNITS as usize * 8;
/// Bytes before a record's payload: the 18-word key copy and 2 aux words.
pub(crate) const RECORD_PREFIX_BYTES: u64 = 80;

pub(crate) fn be_word(bytes: &[u8], word: usize) -> u32 {
    let start = word.saturating_mul(4);
    bytes
        .get(start..start.saturating_add(4))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes)
}

/// Byte offset of a 64-bit-unit address (origin 1).
pub(crate) fn unit_offset(addr: u32) -> u64 {
    u64::from(addr.saturating_sub(1)) * 8
}

/// The header fields the directory walk needs.
struct Header {
    page_count: u32,
    /// Live plus deleted records, as the header counts them (a capacity hint only).
    announced_records: u64,
}

/// One directory walk over one source.
struct Walk<'a> {
    src: &'a dyn ByteSource,
    file_len: u64,
    path: &'a SourceName,
    diagnostics: Vec<Diagnostic>,
}

impl Walk<'_> {
    fn format(&self, offset: u64, kind: FormatErrorKind) -> OpenError {
        OpenError::Format {
            path: self.path.clone(),
            container: Container::Xdf,
            offset,
            kind,
        }
    }

    fn bad_field(
        &self,
        offset: u64,
        field: &'static str,
        found: u32,
        expected: impl Into<String>,
    ) -> OpenError {
        self.format(
            offset,
            FormatErrorKind::BadField {
                field,
                found: u64::from(found),
                expected: expected.into(),
            },
        )
    }

    fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), OpenError> {
        self.src
            .read_exact_at(offset, buf)
            .map_err(|source| OpenError::Io {
                path: self.path.clone(),
                offset,
                source,
            })
    }

    fn note(&mut self, offset: u64, message: String) {
        // (A truncated XDF file is an error, not a note: see `read_header`.)
        self.diagnostics.push(Diagnostic {
            offset,
            message,
            truncated: false,
        });
    }

    /// Read and check the 208-byte file header (fst-format §2.2).
    fn header(&mut self, options: &ReadOptions) -> Result<Header, OpenError> {
        if self.file_len < HEADER_BYTES {
            return Err(self.format(
                0,
                FormatErrorKind::Truncated {
                    what: "XDF header",
                    needed: HEADER_BYTES,
                    available: self.file_len,
                },
            ));
        }
        let mut bytes = [0u8; HEADER_BYTES as usize];
        self.read(0, &mut bytes)?;
        let w = |i: usize| be_word(&bytes, i);
        if w(0) & 0x00FF_FFFF != HEADER_UNITS {
            return Err(self.bad_field(0, "header length", w(0) & 0x00FF_FFFF, "26 units"));
        }
        if w(10) != 0x0010_0009 {
            return Err(self.bad_field(40, "primary key layout (nprm/lprm)", w(10), "0x00100009"));
        }
        if w(11) != 0x0002_0001 {
            return Err(self.bad_field(
                44,
                "auxiliary key layout (naux/laux)",
                w(11),
                "0x00020001",
            ));
        }
        let recorded = u64::from(w(4)) * 8;
        if recorded > self.file_len {
            return Err(self.format(
                16,
                FormatErrorKind::Truncated {
                    what: "file size recorded in the header",
                    needed: recorded,
                    available: self.file_len,
                },
            ));
        }
        if recorded < self.file_len {
            let len = self.file_len;
            self.note(16, format!("the header records {recorded} bytes but the file has {len}; trailing bytes ignored"));
        }
        if w(14) != 0 {
            self.note(
                56,
                format!(
                    "write flag is {} on disk: the file was checkpointed by a writer that has not closed it (still writing, or crashed); records written since are not in the directory",
                    w(14)
                ),
            );
        }
        let page_count = w(7);
        let max_entries = u64::from(page_count) * ENTRIES_PER_PAGE as u64;
        if max_entries > options.limits.max_records {
            return Err(OpenError::Limits {
                path: self.path.clone(),
                limit: LimitError::Records {
                    found: max_entries,
                    limit: options.limits.max_records,
                },
            });
        }
        // Each page occupies its own 18 464 bytes, so a count the file cannot hold is corrupt;
        // this also bounds every allocation below by the file size.
        if u64::from(page_count) * PAGE_BYTES as u64 > self.file_len {
            return Err(self.bad_field(
                28,
                "directory page count",
                page_count,
                "pages that fit in the file",
            ));
        }
        let announced_records = (u64::from(w(13)) + u64::from(w(12))).min(max_entries);
        Ok(Header {
            page_count,
            announced_records,
        })
    }

    /// Read the page at `addr` into `bytes`/`words`, check its header, and return its
    /// entry count and the next page's address.
    fn page(
        &mut self,
        page_no: u32,
        addr: u32,
        bytes: &mut [u8],
        words: &mut [u32],
    ) -> Result<(usize, u32), OpenError> {
        let offset = unit_offset(addr);
        let end = offset + PAGE_BYTES as u64;
        if addr <= HEADER_UNITS || end > self.file_len {
            return Err(self.format(
                offset,
                FormatErrorKind::Truncated {
                    what: "directory page",
                    needed: end,
                    available: self.file_len,
                },
            ));
        }
        self.read(offset, bytes)?;
        let nent = be_word(bytes, 5);
        // Only the page header and the used slots need swapping; a full page is 4616 words.
        let used_words = PAGE_HEADER_WORDS + (nent as usize).min(ENTRIES_PER_PAGE) * ENTRY_WORDS;
        for (w, b) in words.iter_mut().zip(bytes.chunks_exact(4)).take(used_words) {
            *w = <[u8; 4]>::try_from(b).map_or(0, u32::from_be_bytes);
        }
        let pw = |i: usize| words.get(i).copied().unwrap_or(0);
        if pw(0) >> 24 != 0 || pw(0) & 0x00FF_FFFF != PAGE_UNITS {
            return Err(self.bad_field(
                offset,
                "directory page type/length word",
                pw(0),
                format!("0x{PAGE_UNITS:08x}"),
            ));
        }
        if pw(1) != addr {
            return Err(self.bad_field(
                offset + 4,
                "directory page address",
                pw(1),
                addr.to_string(),
            ));
        }
        if nent as usize > ENTRIES_PER_PAGE {
            return Err(self.bad_field(
                offset + 20,
                "directory page entry count",
                nent,
                "at most 256",
            ));
        }
        // XOR does not depend on byte order, so the checksum runs on the raw bytes, 8 at a time.
        let folded = bytes
            .get(16..)
            .unwrap_or_default()
            .chunks_exact(8)
            .fold(0u64, |acc, b| {
                acc ^ <[u8; 8]>::try_from(b).map_or(0, u64::from_ne_bytes)
            });
        let checksum = u32::from_be_bytes(((folded >> 32) as u32 ^ folded as u32).to_ne_bytes());
        if checksum != 0 {
            self.note(
                offset,
                format!("directory page {page_no} checksum mismatch (xor 0x{checksum:08x}); entries read anyway, as librmn does"),
            );
        }
        Ok((nent as usize, pw(4)))
    }

    /// The record an entry describes, or `None` for a deleted entry.
    fn entry(
        &self,
        entry: &[u32],
        entry_offset: u64,
        file_index: u32,
        index: RecordIndex,
    ) -> Result<Option<RecordMeta>, OpenError> {
        let word = |i: usize| entry.get(i).copied().unwrap_or(0);
        let idtyp = word(0) >> 24;
        if idtyp == 0 || idtyp & 0x7E == 0x7E {
            return Ok(None);
        }
        let rec_addr = word(1);
        let start = unit_offset(rec_addr);
        let len = u64::from(word(0) & 0x00FF_FFFF) * 8;
        let end = start + len;
        if rec_addr <= HEADER_UNITS || len < RECORD_PREFIX_BYTES || end > self.file_len {
            return Err(self.format(
                entry_offset,
                FormatErrorKind::EntryOutOfBounds {
                    file_index,
                    start,
                    end,
                    file_size: self.file_len,
                },
            ));
        }
        let key_words: [u32; 16] = entry
            .get(2..18)
            .and_then(|k| k.try_into().ok())
            .unwrap_or([0; 16]);
        let keys = Keys::decode(&key_words, false);
        Ok(Some(keys.into_meta(Placement {
            index,
            file_index,
            container: Container::Xdf,
            record_offset: start,
            record_len: len,
            payload: PayloadLocation {
                offset: FileOffset(start + RECORD_PREFIX_BYTES),
                len: len - RECORD_PREFIX_BYTES,
            },
            extended_metadata: None,
            recovered: false,
        })))
    }
}

pub(crate) fn read_directory(
    src: &dyn ByteSource,
    file_len: u64,
    path: &SourceName,
    options: &ReadOptions,
) -> Result<Directory, OpenError> {
    let mut walk = Walk {
        src,
        file_len,
        path,
        diagnostics: Vec::new(),
    };
    let header = walk.header(options)?;
    let mut records: Vec<RecordMeta> = try_vec_with_capacity(
        usize::try_from(header.announced_records).unwrap_or(0),
    )
    .map_err(|_reserve_failed| OpenError::Limits {
        path: path.clone(),
        limit: LimitError::OutOfMemory {
            bytes: header.announced_records,
        },
    })?;
    let mut bytes = vec![0u8; PAGE_BYTES];
    let mut words = vec![0u32; PAGE_BYTES / 4];
    let mut seen = HashSet::new();
    let mut addr = HEADER_UNITS + 1;
    let mut entry_count: u64 = 0;
    for page_no in 0..header.page_count {
        let offset = unit_offset(addr);
        if !seen.insert(addr) {
            return Err(walk.format(
                offset,
                FormatErrorKind::PageCycle {
                    address: u64::from(addr),
                },
            ));
        }
        let (nent, next) = walk.page(page_no, addr, &mut bytes, &mut words)?;
        for slot in 0..nent {
            let base = PAGE_HEADER_WORDS + slot * ENTRY_WORDS;
            let entry = words.get(base..base + ENTRY_WORDS).unwrap_or_default();
            let file_index = page_no
                .saturating_mul(ENTRIES_PER_PAGE as u32)
                .saturating_add(slot as u32);
            entry_count += 1;
            let index = RecordIndex(u32::try_from(records.len()).unwrap_or(u32::MAX));
            if let Some(rec) = walk.entry(entry, offset + base as u64 * 4, file_index, index)? {
                records.push(rec);
            }
        }
        if page_no + 1 < header.page_count {
            if next == 0 {
                return Err(walk.bad_field(
                    offset + 16,
                    "next directory page address",
                    0,
                    format!(
                        "a page address ({} of {} pages read)",
                        page_no + 1,
                        header.page_count
                    ),
                ));
            }
            addr = next;
        } else if next != 0 {
            walk.note(
                offset + 16,
                format!("the last of {} directory pages links to another page at address {next}; ignored, as librmn does", header.page_count),
            );
        }
    }
    Ok(Directory {
        container: Container::Xdf,
        records,
        entry_count,
        diagnostics: walk.diagnostics,
    })
}
