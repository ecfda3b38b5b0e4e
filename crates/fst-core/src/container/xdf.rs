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
use crate::record::{stamp_from_date_word, Container, FileOffset, Keys, PayloadLocation, RecordIndex, RecordMeta};
use crate::source::ByteSource;

/// Header length in bytes (26 64-bit units).
const HEADER_BYTES: u64 = 208;
/// Header length in 64-bit units.
const HEADER_UNITS: u32 = 26;
/// Entries per directory page.
const ENTRIES_PER_PAGE: usize = 256;
/// 32-bit words per directory entry (9 64-bit units).
const ENTRY_WORDS: usize = 18;
/// Words before the first entry of a page.
const PAGE_HEADER_WORDS: usize = 8;
/// Page length in 64-bit units: 4 + 256 × 9.
const PAGE_UNITS: u32 = 2308;
/// Page length in bytes.
const PAGE_BYTES: usize = PAGE_UNITS as usize * 8;
/// Bytes before a record's payload: the 18-word key copy and 2 aux words.
pub(crate) const RECORD_PREFIX_BYTES: u64 = 80;

fn be_word(bytes: &[u8], word: usize) -> u32 {
    let start = word.saturating_mul(4);
    bytes
        .get(start..start.saturating_add(4))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes)
}

/// Byte offset of a 64-bit-unit address (origin 1).
fn unit_offset(addr: u32) -> u64 {
    u64::from(addr.saturating_sub(1)) * 8
}

pub(crate) fn read_directory(
    src: &dyn ByteSource,
    file_len: u64,
    path: &SourceName,
    options: &ReadOptions,
) -> Result<Directory, OpenError> {
    let format = |offset: u64, kind: FormatErrorKind| OpenError::Format {
        path: path.clone(),
        container: Container::Xdf,
        offset,
        kind,
    };
    let io = |offset: u64| {
        move |source: std::io::Error| OpenError::Io { path: path.clone(), offset, source }
    };
    if file_len < HEADER_BYTES {
        return Err(format(0, FormatErrorKind::Truncated { what: "XDF header", needed: HEADER_BYTES, available: file_len }));
    }
    let mut header = [0u8; HEADER_BYTES as usize];
    src.read_exact_at(0, &mut header).map_err(io(0))?;
    let w = |i: usize| be_word(&header, i);
    let bad = |field: &'static str, found: u32, expected: &str, word: u64| {
        format(word * 4, FormatErrorKind::BadField { field, found: u64::from(found), expected: expected.into() })
    };
    if w(0) & 0x00FF_FFFF != HEADER_UNITS {
        return Err(bad("header length", w(0) & 0x00FF_FFFF, "26 units", 0));
    }
    if w(10) != 0x0010_0009 {
        return Err(bad("primary key layout (nprm/lprm)", w(10), "0x00100009", 10));
    }
    if w(11) != 0x0002_0001 {
        return Err(bad("auxiliary key layout (naux/laux)", w(11), "0x00020001", 11));
    }
    let mut diagnostics = Vec::new();
    let fsiz_bytes = u64::from(w(4)) * 8;
    if fsiz_bytes > file_len {
        return Err(format(16, FormatErrorKind::Truncated { what: "file size recorded in the header", needed: fsiz_bytes, available: file_len }));
    }
    if fsiz_bytes < file_len {
        diagnostics.push(Diagnostic {
            offset: 16,
            message: format!("the header records {fsiz_bytes} bytes but the file has {file_len}; trailing bytes ignored"),
        });
    }
    if w(14) != 0 {
        diagnostics.push(Diagnostic {
            offset: 56,
            message: format!(
                "write flag is {} on disk: the file was checkpointed by a writer that has not closed it (still writing, or crashed); records written since are not in the directory",
                w(14)
            ),
        });
    }
    let page_count = w(7);
    let max_entries = u64::from(page_count) * ENTRIES_PER_PAGE as u64;
    if max_entries > options.limits.max_records {
        return Err(OpenError::Limits {
            path: path.clone(),
            limit: LimitError::Records { found: max_entries, limit: options.limits.max_records },
        });
    }
    // Each page occupies its own 18 464 bytes, so a count the file cannot hold is corrupt; this
    // also bounds the allocation below by the file size.
    if u64::from(page_count) * PAGE_BYTES as u64 > file_len {
        return Err(bad("directory page count", page_count, "pages that fit in the file", 7));
    }
    let announced = u64::from(w(13)).saturating_add(u64::from(w(12)));
    let mut records: Vec<RecordMeta> = try_vec_with_capacity(usize::try_from(announced.min(max_entries)).unwrap_or(0))
        .map_err(|_| OpenError::Limits { path: path.clone(), limit: LimitError::OutOfMemory { bytes: announced } })?;

    let mut page = vec![0u8; PAGE_BYTES];
    let mut page_words = vec![0u32; PAGE_BYTES / 4];
    let mut seen = HashSet::new();
    let mut addr = HEADER_UNITS + 1;
    let mut entry_count: u64 = 0;
    for page_no in 0..page_count {
        let offset = unit_offset(addr);
        if addr <= HEADER_UNITS || offset + PAGE_BYTES as u64 > file_len {
            return Err(format(offset, FormatErrorKind::Truncated { what: "directory page", needed: offset + PAGE_BYTES as u64, available: file_len }));
        }
        if !seen.insert(addr) {
            return Err(format(offset, FormatErrorKind::PageCycle { address: u64::from(addr) }));
        }
        src.read_exact_at(offset, &mut page).map_err(io(offset))?;
        // Only the page header and the used slots need swapping; a full page is 4616 words.
        let used_words = PAGE_HEADER_WORDS + (be_word(&page, 5) as usize).min(ENTRIES_PER_PAGE) * ENTRY_WORDS;
        for (w, b) in page_words.iter_mut().zip(page.chunks_exact(4)).take(used_words) {
            *w = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        }
        let pw = |i: usize| page_words.get(i).copied().unwrap_or(0);
        let page_bad = |field: &'static str, found: u32, expected: String| {
            format(offset, FormatErrorKind::BadField { field, found: u64::from(found), expected })
        };
        if pw(0) >> 24 != 0 || pw(0) & 0x00FF_FFFF != PAGE_UNITS {
            return Err(page_bad("directory page type/length word", pw(0), format!("0x{PAGE_UNITS:08x}")));
        }
        if pw(1) != addr {
            return Err(page_bad("directory page address", pw(1), addr.to_string()));
        }
        let nent = pw(5);
        if nent as usize > ENTRIES_PER_PAGE {
            return Err(page_bad("directory page entry count", nent, "at most 256".into()));
        }
        // XOR does not depend on byte order, so the checksum runs on the raw bytes, 8 at a time.
        let checksum = page.get(16..).unwrap_or_default().chunks_exact(8).fold(0u64, |acc, b| {
            acc ^ u64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        });
        let checksum = u32::from_be_bytes(((checksum >> 32) as u32 ^ checksum as u32).to_ne_bytes());
        if checksum != 0 {
            diagnostics.push(Diagnostic {
                offset,
                message: format!("directory page {page_no} checksum mismatch (xor 0x{checksum:08x}); entries read anyway, as librmn does"),
            });
        }
        for slot in 0..nent as usize {
            let base = PAGE_HEADER_WORDS + slot * ENTRY_WORDS;
            let file_index = page_no.saturating_mul(ENTRIES_PER_PAGE as u32).saturating_add(slot as u32);
            entry_count += 1;
            let w0 = pw(base);
            let idtyp = w0 >> 24;
            if idtyp == 0 || idtyp & 0x7E == 0x7E {
                continue;
            }
            let lng_units = w0 & 0x00FF_FFFF;
            let rec_addr = pw(base + 1);
            let start = unit_offset(rec_addr);
            let len = u64::from(lng_units) * 8;
            let end = start + len;
            if rec_addr <= HEADER_UNITS || len < RECORD_PREFIX_BYTES || end > file_len {
                return Err(format(
                    offset + (base as u64) * 4,
                    FormatErrorKind::EntryOutOfBounds { file_index, start, end, file_size: file_len },
                ));
            }
            let key_words: [u32; 16] = page_words
                .get(base + 2..base + 18)
                .and_then(|k| k.try_into().ok())
                .unwrap_or([0; 16]);
            let keys = Keys::decode(&key_words, false);
            let index = RecordIndex(u32::try_from(records.len()).unwrap_or(u32::MAX));
            records.push(RecordMeta {
                index,
                file_index,
                container: Container::Xdf,
                nomvar: keys.nomvar,
                typvar: keys.typvar,
                etiket: keys.etiket,
                grtyp: keys.grtyp,
                ni: keys.ni,
                nj: keys.nj,
                nk: keys.nk,
                datyp: crate::record::Datyp(keys.datyp),
                nbits: keys.nbits,
                dasiz: keys.dasiz,
                deet: keys.deet,
                npas: keys.npas,
                ip1: keys.ip1,
                ip2: keys.ip2,
                ip3: keys.ip3,
                ig1: keys.ig1,
                ig2: keys.ig2,
                ig3: keys.ig3,
                ig4: keys.ig4,
                datev: stamp_from_date_word(keys.date_word),
                date_word: keys.date_word,
                record_offset: FileOffset(start),
                record_len: len,
                payload: PayloadLocation { offset: FileOffset(start + RECORD_PREFIX_BYTES), len: len - RECORD_PREFIX_BYTES },
                extended_metadata: None,
                recovered: false,
            });
        }
        let next = pw(4);
        if page_no + 1 < page_count {
            if next == 0 {
                return Err(format(
                    offset + 16,
                    FormatErrorKind::BadField {
                        field: "next directory page address",
                        found: 0,
                        expected: format!("a page address ({} of {page_count} pages read)", page_no + 1),
                    },
                ));
            }
            addr = next;
        } else if next != 0 {
            diagnostics.push(Diagnostic {
                offset: offset + 16,
                message: format!("the last of {page_count} directory pages links to another page at address {next}; ignored, as librmn does"),
            });
        }
    }
    Ok(Directory { container: Container::Xdf, records, entry_count, diagnostics })
}
