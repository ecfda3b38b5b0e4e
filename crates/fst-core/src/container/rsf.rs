//! The RSF container ("FST24"): the segment chain, the directory records (VDIR) and the
//! start/end-of-record framing.
//!
//! The facts this reader relies on and checks are listed in `README-rsf.md` beside this file.
//! In short: a file is a chain of segments `SOS | records… | VDIR | EOS`; control words are
//! little-endian u32, 64-bit values are two of them, high word first; each closed segment's
//! VDIR lists its records with variable-width entries; a segment left open by a writer that is
//! still running or crashed has no directory, and its records are found only by walking the
//! record framing.

use std::fmt::Write as _;
use std::sync::Arc;

use super::{Diagnostic, Directory, ReadOptions};
use crate::alloc::try_vec_filled;
use crate::error::{FormatErrorKind, OpenError, SourceName};
use crate::limits::LimitError;
use crate::record::{
    Container, FileOffset, Keys, PayloadLocation, Placement, RecordIndex, RecordMeta,
};
use crate::source::ByteSource;

/// Length of a start-of-segment record.
pub(crate) const SOS_LEN: u64 = 72;
/// Length of the end-of-segment record of a compact segment.
pub(crate) const EOS_LEN: u64 = 68;
/// Length of the high part of an end-of-segment record (the part at the top of a segment).
const EOS_HI_LEN: u64 = 48;
/// Length of a start-of-record marker.
pub(crate) const SOR_LEN: u64 = 16;
/// Length of an end-of-record marker.
pub(crate) const EOR_LEN: u64 = 12;
/// SOR and EOR together: the smallest record.
const FRAME_LEN: u64 = SOR_LEN + EOR_LEN;
/// Fixed part of a directory entry: wa, rl, entry offset (3 × 2 words), ml, dul.
pub(crate) const ENTRY_FIXED_LEN: u64 = 32;
/// Fixed part of a VDIR record before its entries: SOR and the entry count.
pub(crate) const VDIR_HEAD_LEN: u64 = SOR_LEN + 4;
/// Search-metadata words of an FST record: meta0, two reserved words, 16 legacy key words.
pub(crate) const SEARCH_WORDS: u64 = 19;
/// Byte offset, inside the record metadata, of the extended (JSON) metadata.
const JSON_AT: u64 = 4 * SEARCH_WORDS;

pub(crate) const RT_DATA: u8 = 1;
pub(crate) const RT_SOS: u8 = 3;
pub(crate) const RT_EOS: u8 = 4;
pub(crate) const RT_VDIR: u8 = 6;
pub(crate) const RT_DELETED: u8 = 0x80;
pub(crate) const SOR_MARK: u8 = 0xFE;
pub(crate) const EOR_MARK: u8 = 0xFF;
pub(crate) const SOS_SIGN: u32 = 0xDEAD_BEEF;
pub(crate) const EOS_LO_SIGN: u32 = 0xBEBE_FADA;
pub(crate) const EOS_HI_SIGN: u32 = 0xCAFE_FADE;
/// `rlm` of SOS 0 while an exclusive writer has the file open.
pub(crate) const EXCLUSIVE_WRITER: u32 = 0xFFFF;

/// The little-endian u32 at byte `at` of `b`, if `b` holds it.
pub(crate) fn word_at(b: &[u8], at: u64) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

/// The first `N` little-endian u32 of `b`, if `b` holds them. Written so that the compiler
/// turns it into plain loads: this runs for every directory entry.
#[inline]
pub(crate) fn le_words<const N: usize>(b: &[u8]) -> Option<[u32; N]> {
    let b = b.get(..N.checked_mul(4)?)?;
    let mut out = [0u32; N];
    for (o, c) in out.iter_mut().zip(b.chunks_exact(4)) {
        if let &[x0, x1, x2, x3] = c {
            *o = u32::from_le_bytes([x0, x1, x2, x3]);
        }
    }
    Some(out)
}

/// A 64-bit value stored as two words, high word first.
fn pair(hi: u32, lo: u32) -> u64 {
    (u64::from(hi) << 32) | u64::from(lo)
}

/// The 64-bit value at byte `at` of `b`.
pub(crate) fn pair_at(b: &[u8], at: u64) -> Option<u64> {
    Some(pair(word_at(b, at)?, word_at(b, at.checked_add(4)?)?))
}

/// A start-of-record marker, decoded.
#[derive(Debug, Clone, Copy)]
struct Sor {
    rt: u8,
    rlm: u32,
    zr: u8,
    rl: u64,
    rlmd: u32,
}

impl Sor {
    fn parse(b: &[u8; 16]) -> Sor {
        let w = |i: u64| word_at(b, 4 * i).unwrap_or(0);
        let (w0, w3) = (w(0), w(3));
        Sor {
            rt: (w0 & 0xFF) as u8,
            rlm: (w0 >> 8) & 0xFFFF,
            zr: (w0 >> 24) as u8,
            rl: pair(w(1), w(2)),
            rlmd: w3 & 0xFFFF,
        }
    }
}

/// An end-of-record marker, decoded.
#[derive(Debug, Clone, Copy)]
struct Eor {
    rl: u64,
    rt: u8,
    rlm: u32,
    zr: u8,
}

impl Eor {
    fn parse(b: &[u8; 12]) -> Eor {
        let w = |i: u64| word_at(b, 4 * i).unwrap_or(0);
        let w2 = w(2);
        Eor {
            rl: pair(w(0), w(1)),
            rt: (w2 & 0xFF) as u8,
            rlm: (w2 >> 8) & 0xFFFF,
            zr: (w2 >> 24) as u8,
        }
    }
}

/// The first 16 (SOR) and last 12 (EOR) bytes of `b`, when `b` is at least a frame long.
fn frame_of(b: &[u8]) -> Option<([u8; 16], [u8; 12])> {
    let sor: [u8; 16] = b.get(..16)?.try_into().ok()?;
    let eor: [u8; 12] = b.get(b.len().checked_sub(12)?..)?.try_into().ok()?;
    Some((sor, eor))
}

/// A start-of-segment record, decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sos {
    sor: Sor,
    eor: Eor,
    magic: [u8; 4],
    app: [u8; 4],
    sign: u32,
    pub(crate) seg: u64,
    pub(crate) sseg: u64,
    pub(crate) vdir: u64,
    pub(crate) vdirs: u64,
}

impl Sos {
    pub(crate) fn parse(b: &[u8; 72]) -> Sos {
        let (sor, eor) = frame_of(b).unwrap_or(([0; 16], [0; 12]));
        let pair = |at: u64| pair_at(b, at).unwrap_or(0);
        Sos {
            sor: Sor::parse(&sor),
            eor: Eor::parse(&eor),
            magic: [b[16], b[17], b[18], b[19]],
            app: [b[20], b[21], b[22], b[23]],
            sign: word_at(b, 24).unwrap_or(0),
            seg: pair(28),
            sseg: pair(36),
            vdir: pair(44),
            vdirs: pair(52),
        }
    }

    /// Check the framing and signatures; `first` for the SOS at byte 0, which must carry the
    /// FST application code.
    pub(crate) fn check(&self, first: bool) -> Result<(), FormatErrorKind> {
        let bad = |field, found: u64, expected: &str| {
            Err(FormatErrorKind::BadField {
                field,
                found,
                expected: expected.into(),
            })
        };
        if self.sor.rt != RT_SOS || self.sor.zr != SOR_MARK {
            return bad(
                "segment start record type and marker",
                u64::from(self.sor.rt) | u64::from(self.sor.zr) << 8,
                "0xfe03",
            );
        }
        if self.sor.rl != SOS_LEN {
            return bad("segment start record length", self.sor.rl, "72");
        }
        if self.eor.rt != RT_SOS || self.eor.zr != EOR_MARK || self.eor.rl != SOS_LEN {
            return Err(FormatErrorKind::Framing {
                reason: format!(
                    "segment start ends with record type {} marker {:#04x} length {}, expected type 3 marker 0xff length 72",
                    self.eor.rt, self.eor.zr, self.eor.rl
                ),
            });
        }
        if &self.magic != b"RSF0" {
            return bad(
                "segment signature",
                u64::from(u32::from_be_bytes(self.magic)),
                "\"RSF0\"",
            );
        }
        // Later segments copy the first one's code, except the fillers of parallel writers.
        if &self.app != b"STDF" && (first || !self.is_filler()) {
            let expected = if first {
                "\"STDF\""
            } else {
                "\"STDF\" or \"<-->\""
            };
            return bad(
                "application code",
                u64::from(u32::from_be_bytes(self.app)),
                expected,
            );
        }
        if self.sign != SOS_SIGN {
            return bad(
                "segment start signature",
                u64::from(self.sign),
                "0xdeadbeef",
            );
        }
        Ok(())
    }

    /// A filler segment: what is left of a parallel writer's reserved range after it closed.
    /// The write-lock flag of the first segment (`rlm` of its start-of-record).
    pub(crate) fn lock_flag(&self) -> u32 {
        self.sor.rlm
    }

    pub(crate) fn is_filler(&self) -> bool {
        &self.app == b"<-->"
    }
}

/// Where a record's JSON text is.
enum Json {
    /// The record has none.
    None,
    /// In the metadata words at hand.
    Here(Option<Arc<str>>),
    /// Only inside the record (RSF version 0 directories hold the 19 search words only): `bytes`
    /// bytes at metadata byte 76.
    InRecord { bytes: u64 },
}

/// What a record's metadata words say.
enum Parsed {
    Live {
        keys: Keys,
        json: Json,
    },
    Deleted,
    /// A record type this reader does not list.
    Other(u8),
}

/// Why metadata words were refused (the caller adds the offset and entry number).
enum Fault {
    Reason(String),
    Limit(LimitError),
}

/// Decode the metadata of a record: its 19 search words, then `rest`, the metadata bytes at
/// hand after them (from the directory copy, `D` words, or the record's own `R` words); `r` is
/// the record's metadata length in words.
// Measured: inlining the per-entry path into the directory loop saves about 10 % of the
// instructions of an open.
#[allow(clippy::inline_always)]
#[inline(always)]
fn parse_meta(words: [u32; 19], rest: &[u8], r: u64, max_json: u64) -> Result<Parsed, Fault> {
    let [meta0, m1, m2, key_words @ ..] = words;
    match (meta0 & 0xFF) as u8 {
        RT_DATA => {}
        RT_DELETED => return Ok(Parsed::Deleted),
        other => return Ok(Parsed::Other(other)),
    }
    let version = (meta0 >> 16) & 0xFF;
    if version > 1 {
        return Err(Fault::Reason(format!(
            "RSF metadata version {version} is newer than the supported 1"
        )));
    }
    // Version 0 put the FST reserved word first and the data-map size second; version 1
    // swapped them.
    let (reserved, data_map) = if version == 0 { (m1, m2) } else { (m2, m1) };
    // A data map would sit between the metadata and the payload; librmn writes none yet.
    if data_map != 0 {
        return Err(Fault::Reason(format!(
            "a data map of {data_map} words is announced; none is supported"
        )));
    }
    let fst_version = reserved >> 24;
    if fst_version > 1 {
        return Err(Fault::Reason(format!(
            "FST metadata version {fst_version} is newer than the supported 1"
        )));
    }
    let nkeys = (reserved >> 16) & 0xFF;
    if u64::from(nkeys) != SEARCH_WORDS {
        return Err(Fault::Reason(format!("{nkeys} search keys, expected 19")));
    }
    let e = u64::from(reserved & 0xFFFF);
    if SEARCH_WORDS + e > r {
        return Err(Fault::Reason(format!(
            "{e} words of extended metadata do not fit in {r} metadata words"
        )));
    }
    let keys = Keys::decode(&key_words, true);
    let json = if e == 0 {
        Json::None
    } else {
        let bytes = 4 * e;
        if bytes > max_json {
            return Err(Fault::Limit(LimitError::MetadataBytes {
                found: bytes,
                limit: max_json,
            }));
        }
        match rest.get(..bytes as usize) {
            Some(stored) => Json::Here(json_text(stored)?),
            None => Json::InRecord { bytes },
        }
    };
    Ok(Parsed::Live { keys, json })
}

/// The JSON text of stored extended metadata: NUL-terminated UTF-8. An empty text counts as
/// none. The JSON syntax is left to [`RecordMeta::extended_metadata_json`]: checking it here
/// would cost more than the rest of opening, and a record with bad JSON is still readable.
fn json_text(stored: &[u8]) -> Result<Option<Arc<str>>, Fault> {
    // The text ends at its first NUL. Writers pad with NULs only, so look for the end of the
    // padding from the back (a few bytes) and check with `contains` (memchr) that no NUL
    // comes earlier; fall back to a forward search if one does.
    let padded_from = stored.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    if padded_from == stored.len() {
        return Err(Fault::Reason(
            "extended metadata is not NUL-terminated".into(),
        ));
    }
    let mut text = stored.get(..padded_from).unwrap_or_default();
    if text.contains(&0) {
        let nul = text.iter().position(|&b| b == 0).unwrap_or(text.len());
        text = text.get(..nul).unwrap_or_default();
    }
    let text = std::str::from_utf8(text).map_err(|e| {
        Fault::Reason(format!(
            "extended metadata is not UTF-8 (byte {})",
            e.valid_up_to()
        ))
    })?;
    Ok((!text.is_empty()).then(|| Arc::from(text)))
}

/// Check an RSF data record's start- and end-of-record markers against its directory entry.
/// The payload reader calls this before trusting the payload.
pub(crate) fn check_record_frame(
    sor: &[u8; 16],
    eor: &[u8; 12],
    meta: &RecordMeta,
) -> Result<(), FormatErrorKind> {
    let fail = |reason: String| Err(FormatErrorKind::Framing { reason });
    let s = Sor::parse(sor);
    let e = Eor::parse(eor);
    // The metadata length R is where the payload starts: record + SOR + 4·R.
    let r = meta
        .payload
        .offset
        .0
        .checked_sub(meta.record_offset.0)
        .and_then(|d| d.checked_sub(SOR_LEN))
        .map_or(0, |d| d / 4);
    if s.zr != SOR_MARK {
        return fail(format!(
            "start-of-record marker is {:#04x}, expected 0xfe",
            s.zr
        ));
    }
    if s.rt == RT_DELETED {
        return fail("the record is marked deleted".into());
    }
    if s.rt != RT_DATA {
        return fail(format!("record type is {}, expected 1 (data)", s.rt));
    }
    if s.rl != meta.record_len {
        return fail(format!(
            "start of record gives length {}, the directory {}",
            s.rl, meta.record_len
        ));
    }
    if u64::from(s.rlm) != r {
        return fail(format!(
            "start of record gives {} metadata words, the directory {r}",
            s.rlm
        ));
    }
    // D is R in RSF version 1 and the 19 search words in version 0.
    if u64::from(s.rlmd) != r && u64::from(s.rlmd) != SEARCH_WORDS {
        return fail(format!(
            "start of record gives {} directory metadata words, expected {r} or 19",
            s.rlmd
        ));
    }
    if e.zr != EOR_MARK {
        return fail(format!(
            "end-of-record marker is {:#04x}, expected 0xff",
            e.zr
        ));
    }
    if e.rt != s.rt || u64::from(e.rlm) != r {
        return fail(format!(
            "end of record gives type {} and {} metadata words, the start type {} and {r}",
            e.rt, e.rlm, s.rt
        ));
    }
    if e.rl != s.rl {
        return fail(format!(
            "end of record gives length {}, the start {}",
            e.rl, s.rl
        ));
    }
    Ok(())
}

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
    /// An unfinished segment at `off` whose records may run up to `end`.
    Unfinished { off: u64, end: u64, what: String },
}

/// What the framing walk found at one position.
enum Frame {
    /// Zeros or an end of segment: nothing more was written.
    End,
    /// Something that is not a complete, consistent record, and why.
    Stop(String),
    /// A complete deleted record of `rl` bytes.
    Deleted { rl: u64 },
    /// A complete data record of `rl` bytes with `r` metadata words.
    Data { rl: u64, r: u64 },
}

/// How a framing walk over an unfinished segment ended.
struct Walk {
    records: u64,
    deleted: u64,
    /// Where and why the walk stopped before the end of the segment, if it did.
    stopped: Option<(u64, String)>,
}

impl Reader<'_> {
    fn format(&self, offset: u64, kind: FormatErrorKind) -> OpenError {
        OpenError::Format {
            path: self.path.clone(),
            container: Container::Rsf,
            offset,
            kind,
        }
    }

    fn bad(&self, offset: u64, field: &'static str, found: u64, expected: String) -> OpenError {
        self.format(
            offset,
            FormatErrorKind::BadField {
                field,
                found,
                expected,
            },
        )
    }

    fn limit(&self, limit: LimitError) -> OpenError {
        OpenError::Limits {
            path: self.path.clone(),
            limit,
        }
    }

    fn note(&mut self, offset: u64, message: String) {
        self.diagnostics.push(Diagnostic { offset, message });
    }

    /// Fill `buf` from `offset`, which the caller has checked lies inside the file.
    fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), OpenError> {
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
    fn read_vec(&self, offset: u64, len: u64, what: &'static str) -> Result<Vec<u8>, OpenError> {
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

    fn read_sos(&self, off: u64) -> Result<Sos, OpenError> {
        let mut b = [0u8; 72];
        self.read(off, &mut b)?;
        let sos = Sos::parse(&b);
        sos.check(off == 0).map_err(|kind| self.format(off, kind))?;
        Ok(sos)
    }

    /// Count one more directory entry against the limit and return its `file_index`.
    #[inline]
    fn next_entry(&mut self, offset: u64) -> Result<u32, OpenError> {
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

    /// Walk the segment chain, then list the records of every directory and unfinished
    /// segment in file order. Every directory is located and its frame checked before any
    /// entry is decoded, so the record list is allocated once; each directory is then read
    /// whole, in one read.
    fn walk_segments(&mut self) -> Result<(), OpenError> {
        let steps = self.plan()?;
        let total = steps
            .iter()
            .map(|s| {
                if let Step::Directory { n, .. } = s {
                    *n
                } else {
                    0
                }
            })
            .sum::<u64>();
        let limit = self.options.limits.max_records;
        if total > limit {
            return Err(self.limit(LimitError::Records {
                found: total,
                limit,
            }));
        }
        let room = usize::try_from(total).unwrap_or(usize::MAX);
        if self.records.try_reserve_exact(room).is_err() {
            let bytes = total.saturating_mul(size_of::<RecordMeta>() as u64);
            return Err(self.limit(LimitError::OutOfMemory { bytes }));
        }
        // One buffer serves every directory, each read whole in one read.
        let mut buf = Vec::new();
        for step in steps {
            match step {
                Step::Directory { off, vdir, len, n } => {
                    let size = usize::try_from(len).unwrap_or(usize::MAX);
                    if buf.len() < size {
                        let Ok(bigger) = try_vec_filled(size, 0u8) else {
                            return Err(self.limit(LimitError::OutOfMemory { bytes: len }));
                        };
                        buf = bigger;
                    }
                    let vdir_bytes = buf.get_mut(..size).unwrap_or_default();
                    self.read(off + vdir, vdir_bytes)?;
                    self.list_vdir(off, vdir, vdir_bytes, n)?;
                }
                Step::Unfinished { off, end, what } => self.unfinished(off, end, &what)?,
            }
        }
        Ok(())
    }

    /// Follow the segment chain, checking every segment's start and end and every directory's
    /// frame; return what each segment contributes to the listing.
    fn plan(&mut self) -> Result<Vec<Step>, OpenError> {
        let mut steps = Vec::new();
        let mut off = 0u64;
        while off < self.file_len {
            let left = self.file_len - off;
            if left < SOS_LEN {
                self.note(off, format!(
                    "the file ends {left} bytes into what should be a segment start at byte {off} (truncated?)"
                ));
                break;
            }
            let sos = self.read_sos(off)?;
            if off == 0 {
                self.check_lock(&sos);
            }
            if sos.sseg == 0 {
                // An open compact segment: the writer is still writing or crashed. It runs to
                // the end of the file and librmn stops reading here.
                let what = format!(
                    "unfinished compact segment at byte {off} (a writer is still writing or crashed)"
                );
                steps.push(Step::Unfinished {
                    off,
                    end: self.file_len,
                    what,
                });
                break;
            }
            if sos.sseg < SOS_LEN {
                return Err(self.bad(off + 36, "segment size", sos.sseg, "at least 72".into()));
            }
            let end = off.saturating_add(sos.sseg);
            if sos.seg != 0 {
                self.check_closed(off, &sos)?;
                if end > self.file_len {
                    let what = format!(
                        "segment at byte {off} is cut short (it announces {} bytes, the file ends at byte {}): the file is truncated and the segment's directory is lost",
                        sos.sseg, self.file_len
                    );
                    steps.push(Step::Unfinished {
                        off,
                        end: self.file_len,
                        what,
                    });
                    break;
                }
                if sos.vdir == 0 {
                    let mut eos = [0u8; 68];
                    self.read(off + sos.seg, &mut eos)?;
                    self.check_eos(off, &sos, &eos)?;
                } else {
                    steps.push(self.check_vdir(off, &sos)?);
                }
            } else if end > self.file_len {
                let what = format!(
                    "sparse segment at byte {off} is cut short (it announces {} bytes, the file ends at byte {}): the file is truncated",
                    sos.sseg, self.file_len
                );
                steps.push(Step::Unfinished {
                    off,
                    end: self.file_len,
                    what,
                });
                break;
            } else {
                // A sparse segment: a filler, or a parallel writer's segment still open.
                if sos.vdir != 0 || sos.vdirs != 0 {
                    return Err(self.bad(
                        off + 44,
                        "sparse segment directory offset",
                        sos.vdir,
                        "0".into(),
                    ));
                }
                self.check_eos_hi(off, &sos)?;
                if !sos.is_filler() {
                    let what = format!(
                        "open sparse segment at byte {off} (a parallel writer is still writing or crashed)"
                    );
                    steps.push(Step::Unfinished {
                        off,
                        end: end - EOS_HI_LEN,
                        what,
                    });
                }
            }
            off = end;
        }
        Ok(steps)
    }

    /// Note a write lock left in SOS 0.
    fn check_lock(&mut self, sos: &Sos) {
        match sos.sor.rlm {
            0 => {}
            EXCLUSIVE_WRITER => self.note(0, "the write-lock flag is set in the first segment start: a writer has the file open, or crashed".into()),
            n => self.note(0, format!("the first segment start counts {n} parallel writers: they have the file open, or crashed")),
        }
    }

    /// Check the sizes of a closed compact segment: `sseg = seg + 68`, and the directory, if
    /// any, ends where the end-of-segment starts.
    fn check_closed(&self, off: u64, sos: &Sos) -> Result<(), OpenError> {
        if sos.seg.checked_add(EOS_LEN) != Some(sos.sseg) {
            return Err(self.bad(
                off + 28,
                "segment size without its end",
                sos.seg,
                format!("{} (segment size − 68)", sos.sseg.saturating_sub(EOS_LEN)),
            ));
        }
        match (sos.vdir, sos.vdirs) {
            (0, 0) => Ok(()),
            (0, _) | (_, 0) => Err(self.bad(
                off + 44,
                "directory offset and size",
                sos.vdir,
                format!("0 together with size {}", sos.vdirs),
            )),
            (vdir, vdirs) => {
                if vdir < SOS_LEN || vdir.checked_add(vdirs) != Some(sos.seg) {
                    return Err(self.bad(off + 44, "directory offset", vdir, format!("72..{} so that the directory of {vdirs} bytes ends at the segment's end", sos.seg)));
                }
                Ok(())
            }
        }
    }

    /// Check the end of a closed compact segment (68 bytes at `off + seg`): its markers and
    /// signatures, and that it repeats the sizes of the segment's start.
    fn check_eos(&self, off: u64, sos: &Sos, eos: &[u8]) -> Result<(), OpenError> {
        let at = off + sos.seg;
        let (sor, eor) = frame_of(eos).unwrap_or(([0; 16], [0; 12]));
        let (sor, eor) = (Sor::parse(&sor), Eor::parse(&eor));
        let framed = sor.rt == RT_EOS
            && sor.zr == SOR_MARK
            && sor.rl == EOS_LEN
            && eor.rt == RT_EOS
            && eor.zr == EOR_MARK
            && eor.rl == EOS_LEN;
        if eos.len() as u64 != EOS_LEN || !framed {
            return Err(self.format(at, FormatErrorKind::Framing {
                reason: format!(
                    "segment end has type {} marker {:#04x} length {} and closes with type {} marker {:#04x} length {}, expected type 4 and length 68",
                    sor.rt, sor.zr, sor.rl, eor.rt, eor.zr, eor.rl
                ),
            }));
        }
        let w = |i: u64| word_at(eos, i).unwrap_or(0);
        let p = |i: u64| pair_at(eos, i).unwrap_or(0);
        if w(16) != EOS_LO_SIGN || w(20) != EOS_HI_SIGN {
            return Err(self.bad(
                at + 16,
                "segment end signatures",
                u64::from(w(16)) << 32 | u64::from(w(20)),
                "0xbebefada then 0xcafefade".into(),
            ));
        }
        let copy = [p(24), p(32), p(40), p(48)];
        if copy != [sos.seg, sos.sseg, sos.vdir, sos.vdirs] {
            return Err(self.format(
                at + 24,
                FormatErrorKind::Framing {
                    reason: format!(
                        "segment end gives sizes {copy:?}, its start {:?} (seg, sseg, vdir, vdirs)",
                        [sos.seg, sos.sseg, sos.vdir, sos.vdirs]
                    ),
                },
            ));
        }
        Ok(())
    }

    /// Check a sparse segment's end: the high part at the top of its range, and for a filler
    /// also the low part after its start.
    fn check_eos_hi(&self, off: u64, sos: &Sos) -> Result<(), OpenError> {
        // Room for the start, the low and the high part of the end.
        if sos.sseg < SOS_LEN + EOS_LEN {
            return Err(self.bad(
                off + 36,
                "sparse segment size",
                sos.sseg,
                "at least 140".into(),
            ));
        }
        let at = off + sos.sseg - EOS_HI_LEN;
        let mut b = [0u8; 48];
        self.read(at, &mut b)?;
        let sign = word_at(&b, 0).unwrap_or(0);
        let copy = [4, 12, 20, 28].map(|i| pair_at(&b, i).unwrap_or(0));
        let sseg = copy[1];
        let eor: [u8; 12] = b
            .get(36..)
            .and_then(|t| t.try_into().ok())
            .unwrap_or([0; 12]);
        let eor = Eor::parse(&eor);
        if sign != EOS_HI_SIGN {
            return Err(self.bad(
                at,
                "segment end signature",
                u64::from(sign),
                "0xcafefade".into(),
            ));
        }
        if sseg != sos.sseg {
            return Err(self.bad(
                at + 12,
                "segment size at the segment's end",
                sseg,
                format!("{} as in its start", sos.sseg),
            ));
        }
        if copy != [sos.seg, sos.sseg, sos.vdir, sos.vdirs] {
            return Err(self.format(
                at + 4,
                FormatErrorKind::Framing {
                    reason: format!(
                        "segment end gives sizes {copy:?}, its start {:?} (seg, sseg, vdir, vdirs)",
                        [sos.seg, sos.sseg, sos.vdir, sos.vdirs]
                    ),
                },
            ));
        }
        let eos_rl = sos.sseg - SOS_LEN;
        if eor.rt != RT_EOS || eor.zr != EOR_MARK || eor.rl != eos_rl {
            return Err(self.format(at + 36, FormatErrorKind::Framing {
                reason: format!(
                    "segment end closes with type {} marker {:#04x} length {}, expected type 4 marker 0xff length {eos_rl}",
                    eor.rt, eor.zr, eor.rl
                ),
            }));
        }
        // A filler keeps the low part of its end right after its start (in an open segment,
        // the first record overwrote it).
        if sos.is_filler() {
            let mut lo = [0u8; 20];
            self.read(off + SOS_LEN, &mut lo)?;
            let sor: [u8; 16] = lo
                .get(..16)
                .and_then(|h| h.try_into().ok())
                .unwrap_or([0; 16]);
            let sor = Sor::parse(&sor);
            let sign = word_at(&lo, 16).unwrap_or(0);
            if sor.rt != RT_EOS || sor.zr != SOR_MARK || sor.rl != eos_rl || sign != EOS_LO_SIGN {
                return Err(self.format(off + SOS_LEN, FormatErrorKind::Framing {
                    reason: format!(
                        "filler segment end starts with type {} marker {:#04x} length {} signature {sign:#x}, expected type 4 marker 0xfe length {eos_rl} signature 0xbebefada",
                        sor.rt, sor.zr, sor.rl
                    ),
                }));
            }
        }
        Ok(())
    }

    /// Check the frame of the directory of the closed segment at `off` and the segment's end,
    /// which follows it; the entries are read later, by [`Reader::list_vdir`].
    fn check_vdir(&mut self, off: u64, sos: &Sos) -> Result<Step, OpenError> {
        let at = off + sos.vdir;
        let len = sos.vdirs;
        if len < VDIR_HEAD_LEN + EOR_LEN {
            return Err(self.bad(off + 52, "directory size", len, "at least 32".into()));
        }
        let mut head = [0u8; 20];
        self.read(at, &mut head)?;
        // The directory ends where the segment's end starts: read its EOR and the EOS at once.
        let mut tail = [0u8; 80];
        self.read(at + len - EOR_LEN, &mut tail)?;
        let (eor, eos) = tail.split_at(12);
        self.check_eos(off, sos, eos)?;
        let sor: [u8; 16] = head
            .get(..16)
            .and_then(|h| h.try_into().ok())
            .unwrap_or([0; 16]);
        let eor: [u8; 12] = eor.try_into().unwrap_or([0; 12]);
        let (sor, eor) = (Sor::parse(&sor), Eor::parse(&eor));
        if sor.rt != RT_VDIR || sor.zr != SOR_MARK || sor.rlm != 1 {
            return Err(self.format(at, FormatErrorKind::Framing {
                reason: format!(
                    "directory starts with type {} marker {:#04x} rlm {}, expected type 6 marker 0xfe rlm 1",
                    sor.rt, sor.zr, sor.rlm
                ),
            }));
        }
        if sor.rl != len || eor.rl != len || eor.rt != RT_VDIR || eor.zr != EOR_MARK || eor.rlm != 1
        {
            return Err(self.format(at, FormatErrorKind::Framing {
                reason: format!(
                    "directory of {len} bytes has lengths {} and {} and ends with type {} marker {:#04x}",
                    sor.rl, eor.rl, eor.rt, eor.zr
                ),
            }));
        }
        let n = u64::from(word_at(&head, SOR_LEN).unwrap_or(0));
        // Every entry holds at least its fixed words and the 19 search words.
        let room = (len - EOR_LEN - VDIR_HEAD_LEN) / (ENTRY_FIXED_LEN + 4 * SEARCH_WORDS);
        if n > room {
            let expected = format!("at most {room} in {len} bytes");
            return Err(self.bad(at + SOR_LEN, "directory entry count", n, expected));
        }
        self.planned = self.planned.saturating_add(n);
        let limit = self.options.limits.max_records;
        if self.planned > limit {
            return Err(self.limit(LimitError::Records {
                found: self.planned,
                limit,
            }));
        }
        Ok(Step::Directory {
            off,
            vdir: sos.vdir,
            len,
            n,
        })
    }

    /// List the `n` entries of the directory `buf` (a whole VDIR record) found at byte `vdir`
    /// of the segment at `off`.
    fn list_vdir(&mut self, off: u64, vdir: u64, buf: &[u8], n: u64) -> Result<(), OpenError> {
        let body_end = (buf.len() as u64).saturating_sub(EOR_LEN);
        let body = buf.get(..body_end as usize).unwrap_or_default();
        // The entries were counted against the limit when the directory was located; here
        // they only need to fit the 32-bit `file_index`.
        let first = self.entries;
        let Some(last) = first.checked_add(n).filter(|&e| e <= 1 << 32) else {
            let found = first.saturating_add(n);
            return Err(self.bad(
                off + vdir,
                "directory entry count",
                found,
                "at most 2^32 in all".into(),
            ));
        };
        self.entries = last;
        let mut pos = VDIR_HEAD_LEN;
        for file_index in first..last {
            pos = self.vdir_entry(off, vdir, body, pos, file_index as u32)?;
        }
        // One note per directory for entries of other record types, however many.
        if let Some((at, file_index, rt, count)) = self.skipped.take() {
            let message = format!(
                "{count} directory entries are not data records and were skipped (the first, entry {file_index}, has record type {rt})"
            );
            self.note(at, message);
        }
        if pos != body_end {
            return Err(self.format(off + vdir + pos, FormatErrorKind::Framing {
                reason: format!("the {n} directory entries end at byte {pos} of the directory, its end marker starts at {body_end}"),
            }));
        }
        Ok(())
    }

    /// Parse the directory entry number `file_index` at byte `pos` of `body` (the VDIR without
    /// its EOR) of the segment at `off`; return where the next entry starts.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn vdir_entry(
        &mut self,
        off: u64,
        vdir: u64,
        body: &[u8],
        pos: u64,
        file_index: u32,
    ) -> Result<u64, OpenError> {
        let entry_at = off + vdir + pos;
        let bad_entry = |reader: &Self, reason: String| {
            reader.format(entry_at, FormatErrorKind::BadEntry { file_index, reason })
        };
        // The fixed words and the 19 search words, which every entry has.
        let Some(words) = body.get(pos as usize..).and_then(le_words::<27>) else {
            return Err(bad_entry(
                self,
                "the entry runs past the end of the directory".into(),
            ));
        };
        let [wa_hi, wa_lo, rl_hi, rl_lo, eo_hi, eo_lo, ml, _dul, search @ ..] = words;
        let (wa, rl, entry_offset) = (pair(wa_hi, wa_lo), pair(rl_hi, rl_lo), pair(eo_hi, eo_lo));
        let d = if ml >> 16 == 0 {
            u64::from(ml)
        } else {
            u64::from(ml >> 16)
        };
        let r = u64::from(ml & 0xFFFF);
        if d < SEARCH_WORDS || r < d {
            return Err(bad_entry(self, format!("metadata lengths {d} (directory) and {r} (record) words, expected 19 ≤ directory ≤ record")));
        }
        let rest_at = pos + ENTRY_FIXED_LEN + JSON_AT;
        let next = pos + ENTRY_FIXED_LEN + 4 * d;
        let Some(rest) = body.get(rest_at as usize..next as usize) else {
            return Err(bad_entry(
                self,
                format!("{d} metadata words run past the end of the directory"),
            ));
        };
        let max_json = self.options.limits.max_metadata_bytes;
        let parsed = match parse_meta(search, rest, r, max_json) {
            Ok(p) => p,
            Err(Fault::Reason(reason)) => return Err(bad_entry(self, reason)),
            Err(Fault::Limit(limit)) => return Err(self.limit(limit)),
        };
        match parsed {
            // librmn rewrites a deleted entry with an absolute address: never follow it.
            Parsed::Deleted => {}
            Parsed::Other(rt) => {
                let skipped = self.skipped.get_or_insert((entry_at, file_index, rt, 0));
                skipped.3 += 1;
            }
            Parsed::Live { keys, json } => {
                // The record lies after the segment start and before the directory.
                let fits = wa >= SOS_LEN && wa.checked_add(rl).is_some_and(|e| e <= vdir);
                if !fits {
                    let start = off.saturating_add(wa);
                    let kind = FormatErrorKind::EntryOutOfBounds {
                        file_index,
                        start,
                        end: start.saturating_add(rl),
                        file_size: self.file_len,
                    };
                    return Err(self.format(entry_at, kind));
                }
                // Written 0 at segment close; librmn's own in-memory value is the entry's offset.
                if entry_offset != 0 && entry_offset != entry_at {
                    return Err(bad_entry(
                        self,
                        format!("entry offset {entry_offset}, expected 0 or {entry_at}"),
                    ));
                }
                let record = off + wa;
                self.push(record, rl, r, keys, json, file_index, false)
                    .map_err(|reason| bad_entry(self, reason))?;
            }
        }
        Ok(next)
    }

    /// Add a live record at byte `record` of length `rl` with `r` metadata words.
    #[allow(clippy::too_many_arguments, clippy::inline_always)]
    #[inline(always)]
    fn push(
        &mut self,
        record: u64,
        rl: u64,
        r: u64,
        keys: Keys,
        json: Json,
        file_index: u32,
        recovered: bool,
    ) -> Result<(), String> {
        let head = SOR_LEN + 4 * r;
        if rl % 4 != 0 || rl < head + EOR_LEN {
            return Err(format!(
                "record length {rl} is not a multiple of 4 of at least {} bytes",
                head + EOR_LEN
            ));
        }
        let index = u32::try_from(self.records.len())
            .ok()
            .ok_or("more than 2^32 records")?;
        let extended_metadata = match json {
            Json::None => None,
            Json::Here(text) => text,
            Json::InRecord { bytes } => {
                self.pending_json
                    .push((self.records.len(), record + SOR_LEN + JSON_AT, bytes));
                None
            }
        };
        // Room was reserved for every directory entry; recovered records may need more.
        if recovered && self.records.try_reserve(1).is_err() {
            return Err("out of memory".into());
        }
        self.records.push(keys.into_meta(Placement {
            index: RecordIndex(index),
            file_index,
            container: Container::Rsf,
            record_offset: record,
            record_len: rl,
            payload: PayloadLocation {
                offset: FileOffset(record + head),
                len: rl - head - EOR_LEN,
            },
            extended_metadata,
            recovered,
        }));
        Ok(())
    }

    /// Report an unfinished segment starting at `off` whose records may run up to `end`, and
    /// list them when recovering.
    fn unfinished(&mut self, off: u64, end: u64, what: &str) -> Result<(), OpenError> {
        let walk = self.walk_frames(off + SOS_LEN, end)?;
        let (n, verb) = match walk.records {
            1 => ("1 framed record".to_string(), "is"),
            n => (format!("{n} framed records"), "are"),
        };
        let mut message = format!("{what}: {n} {verb} in no directory");
        if walk.deleted > 0 {
            let _ = write!(message, " (and {} deleted)", walk.deleted);
        }
        if walk.records > 0 {
            message.push_str(if self.options.recover {
                "; they are listed as recovered"
            } else {
                "; open with recovery to list them"
            });
        }
        if let Some((at, why)) = walk.stopped {
            let _ = write!(message, "; the framing walk stopped at byte {at}: {why}");
        }
        self.note(off, message);
        Ok(())
    }

    /// The record framed at `pos`, if a complete one ends by `end`.
    fn frame_at(&self, pos: u64, end: u64) -> Result<Frame, OpenError> {
        if end - pos < FRAME_LEN {
            return Ok(Frame::Stop(format!(
                "{} bytes are left, too few for a record",
                end - pos
            )));
        }
        let mut sor = [0u8; 16];
        self.read(pos, &mut sor)?;
        let s = Sor::parse(&sor);
        if sor.iter().all(|&b| b == 0) || (s.rt == RT_EOS && s.zr == SOR_MARK) {
            return Ok(Frame::End);
        }
        if s.zr != SOR_MARK || (s.rt != RT_DATA && s.rt != RT_DELETED) {
            let why = format!(
                "no data record starts here (type {} marker {:#04x})",
                s.rt, s.zr
            );
            return Ok(Frame::Stop(why));
        }
        let r = u64::from(s.rlm);
        if r < SEARCH_WORDS || s.rl % 4 != 0 || s.rl < SOR_LEN + 4 * r + EOR_LEN {
            let why = format!(
                "record length {} with {r} metadata words is inconsistent",
                s.rl
            );
            return Ok(Frame::Stop(why));
        }
        // The directory metadata length is R (version 1) or the 19 search words (version 0).
        if u64::from(s.rlmd) != r && u64::from(s.rlmd) != SEARCH_WORDS {
            let why = format!("{} directory metadata words, expected {r} or 19", s.rlmd);
            return Ok(Frame::Stop(why));
        }
        if s.rl > end - pos {
            let why = format!(
                "the record of {} bytes runs past byte {end} (truncated)",
                s.rl
            );
            return Ok(Frame::Stop(why));
        }
        let mut eor = [0u8; 12];
        self.read(pos + s.rl - EOR_LEN, &mut eor)?;
        let e = Eor::parse(&eor);
        if e.zr != EOR_MARK || e.rl != s.rl || e.rt != s.rt || e.rlm != s.rlm {
            return Ok(Frame::Stop(
                "the record's end marker does not match its start".into(),
            ));
        }
        Ok(if s.rt == RT_DELETED {
            Frame::Deleted { rl: s.rl }
        } else {
            Frame::Data { rl: s.rl, r }
        })
    }

    /// Walk the SOR/EOR framing from `start` up to `end`, counting the data records (and
    /// adding them when recovering). Stops quietly at zeros (the unwritten part of a sparse
    /// segment), an end of segment or `end`; stops with a reason at anything else.
    fn walk_frames(&mut self, start: u64, end: u64) -> Result<Walk, OpenError> {
        let mut walk = Walk {
            records: 0,
            deleted: 0,
            stopped: None,
        };
        let mut pos = start;
        while pos < end {
            let (rl, r) = match self.frame_at(pos, end)? {
                Frame::End => break,
                Frame::Stop(why) => {
                    walk.stopped = Some((pos, why));
                    break;
                }
                Frame::Deleted { rl } => {
                    walk.deleted += 1;
                    pos += rl;
                    continue;
                }
                Frame::Data { rl, r } => (rl, r),
            };
            let meta = self.read_vec(pos + SOR_LEN, 4 * r, "record metadata")?;
            let search = le_words::<19>(&meta).unwrap_or([0; 19]);
            let rest = meta.get(JSON_AT as usize..).unwrap_or_default();
            let why = match parse_meta(search, rest, r, self.options.limits.max_metadata_bytes) {
                Ok(Parsed::Live { keys, json }) => {
                    walk.records += 1;
                    if self.options.recover {
                        let file_index = self.next_entry(pos)?;
                        self.push(pos, rl, r, keys, json, file_index, true).err()
                    } else {
                        None
                    }
                }
                Ok(Parsed::Deleted) => {
                    walk.deleted += 1;
                    None
                }
                Ok(Parsed::Other(rt)) => Some(format!("record metadata type {rt}, not data")),
                Err(Fault::Reason(why)) => Some(why),
                Err(Fault::Limit(limit)) => return Err(self.limit(limit)),
            };
            if let Some(why) = why {
                walk.stopped = Some((pos, why));
                break;
            }
            pos += rl;
        }
        Ok(walk)
    }

    /// Fetch the JSON of records whose directory entries do not carry it (RSF version 0).
    fn fetch_pending_json(&mut self) -> Result<(), OpenError> {
        for (i, at, bytes) in std::mem::take(&mut self.pending_json) {
            let stored = self.read_vec(at, bytes, "record extended metadata")?;
            let text = json_text(&stored).map_err(|fault| match fault {
                Fault::Reason(reason) => self.format(
                    at,
                    FormatErrorKind::BadEntry {
                        file_index: self.records.get(i).map_or(0, |r| r.file_index),
                        reason,
                    },
                ),
                Fault::Limit(limit) => self.limit(limit),
            })?;
            if let Some(rec) = self.records.get_mut(i) {
                rec.extended_metadata = text;
            }
        }
        Ok(())
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
#[path = "../../tests/support/rsf_writer.rs"]
mod rsf_writer;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;

    use super::rsf_writer::{write, Rec, Seg};

    const FIXTURES: [&str; 4] = [
        "rsf_basic",
        "rsf_multi_segment",
        "rsf_extended_meta",
        "rsf_parallel_sparse",
    ];

    fn fixture(stem: &str) -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rsf/");
        std::fs::read(format!("{dir}{stem}.fst")).unwrap()
    }

    fn manifest(stem: &str) -> serde_json::Value {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rsf/");
        serde_json::from_slice(&std::fs::read(format!("{dir}{stem}.manifest.json")).unwrap())
            .unwrap()
    }

    fn open(bytes: &[u8], recover: bool) -> Result<Directory, OpenError> {
        let src = MemorySource::new(bytes.to_vec());
        let options = ReadOptions {
            recover,
            ..ReadOptions::default()
        };
        super::super::read_directory(&src, &SourceName::default(), &options)
    }

    fn frame(bytes: &[u8], rec: &RecordMeta) -> Result<(), FormatErrorKind> {
        let at = rec.record_offset.0 as usize;
        let end = at + rec.record_len as usize;
        let sor: [u8; 16] = bytes[at..at + 16].try_into().unwrap();
        let eor: [u8; 12] = bytes[end - 12..end].try_into().unwrap();
        check_record_frame(&sor, &eor, rec)
    }

    #[test]
    fn fixtures_match_their_manifests() {
        for stem in FIXTURES {
            let bytes = fixture(stem);
            let m = manifest(stem);
            let dir = open(&bytes, false).unwrap();
            assert!(dir.diagnostics.is_empty(), "{stem}: {:?}", dir.diagnostics);
            let expected = m["records"].as_array().unwrap();
            assert_eq!(dir.records.len(), expected.len(), "{stem}");
            assert_eq!(dir.entry_count, expected.len() as u64, "{stem}");
            for (rec, e) in dir.records.iter().zip(expected) {
                let ctx = format!("{stem} record {}", e["index"]);
                let u = |k: &str| e[k].as_u64().unwrap_or_else(|| panic!("{ctx}: {k}"));
                assert_eq!(u64::from(rec.index.0), u("index"), "{ctx}");
                assert_eq!(u64::from(rec.file_index), u("file_index"), "{ctx}");
                assert_eq!(
                    rec.nomvar.padded(),
                    e["raw_nomvar"].as_str().unwrap(),
                    "{ctx}"
                );
                assert_eq!(
                    rec.typvar.padded(),
                    e["raw_typvar"].as_str().unwrap(),
                    "{ctx}"
                );
                assert_eq!(
                    rec.etiket.padded(),
                    e["raw_etiket"].as_str().unwrap(),
                    "{ctx}"
                );
                assert_eq!(
                    rec.grtyp_char().to_string(),
                    e["grtyp"].as_str().unwrap(),
                    "{ctx}"
                );
                for (k, v) in [
                    ("ni", rec.ni),
                    ("nj", rec.nj),
                    ("nk", rec.nk),
                    ("deet", rec.deet),
                    ("npas", rec.npas),
                    ("ip1", rec.ip1),
                    ("ip2", rec.ip2),
                    ("ip3", rec.ip3),
                    ("ig1", rec.ig1),
                    ("ig2", rec.ig2),
                    ("ig3", rec.ig3),
                    ("ig4", rec.ig4),
                    ("datyp", u32::from(rec.datyp.0)),
                    ("nbits", u32::from(rec.nbits)),
                    ("data_bits", u32::from(rec.dasiz)),
                ] {
                    assert_eq!(u64::from(v), u(k), "{ctx}: {k}");
                }
                assert_eq!(i64::from(rec.datev), e["datev"].as_i64().unwrap(), "{ctx}");
                assert_eq!(
                    i64::from(rec.dateo()),
                    e["dateo"].as_i64().unwrap(),
                    "{ctx}"
                );
                assert_eq!(rec.record_offset.0, u("file_offset"), "{ctx}");
                assert_eq!(rec.record_len, u("total_stored_bytes"), "{ctx}");
                let meta_bytes = rec.payload.offset.0 - rec.record_offset.0 - 16;
                assert_eq!(meta_bytes, u("num_meta_bytes"), "{ctx}");
                assert_eq!(rec.payload.len / 4, u("stored_data_size_32bit"), "{ctx}");
                let json = e.get("extended_metadata").and_then(|j| j.as_str());
                assert_eq!(rec.extended_metadata.as_deref(), json, "{ctx}");
                assert_eq!(json.is_some(), u("extended_meta_size_32bit") > 0, "{ctx}");
                assert!(!rec.recovered);
                frame(&bytes, rec).unwrap();
            }
        }
    }

    #[test]
    fn writer_reproduces_librmn_bytes() {
        // Copying the records of rsf_basic into the test writer gives back the file byte for
        // byte: the writer follows the layout librmn writes.
        let bytes = fixture("rsf_basic");
        let dir = open(&bytes, false).unwrap();
        let recs = dir
            .records
            .iter()
            .map(|r| Rec::copy_from(&bytes, r.record_offset.0 as usize))
            .collect();
        assert_eq!(write(&[Seg::Closed(recs)]).bytes, bytes);
    }

    fn basic_records() -> Vec<Rec> {
        let bytes = fixture("rsf_basic");
        let dir = open(&bytes, false).unwrap();
        dir.records
            .iter()
            .map(|r| Rec::copy_from(&bytes, r.record_offset.0 as usize))
            .collect()
    }

    #[test]
    fn deleted_entries_are_skipped_and_never_followed() {
        let mut recs = basic_records();
        recs[1].deleted = true;
        recs[4].deleted = true;
        let w = write(&[Seg::Closed(recs.clone()), Seg::Closed(recs)]);
        let dir = open(&w.bytes, false).unwrap();
        assert_eq!(dir.entry_count, 14);
        let names: Vec<_> = dir
            .records
            .iter()
            .map(|r| r.nomvar.trimmed().to_string())
            .collect();
        assert_eq!(
            names,
            [">>", "TT", "GZ", "HU", "MASK", ">>", "TT", "GZ", "HU", "MASK"]
        );
        let fi: Vec<_> = dir.records.iter().map(|r| r.file_index).collect();
        assert_eq!(fi, [0, 2, 3, 5, 6, 7, 9, 10, 12, 13]);
        let idx: Vec<_> = dir.records.iter().map(|r| r.index.0).collect();
        assert_eq!(idx, (0..10).collect::<Vec<_>>());
        for rec in &dir.records {
            frame(&w.bytes, rec).unwrap();
        }
        // A deleted entry's address is garbage: make it point past the end of the file; the
        // file still opens.
        let mut bytes = w.bytes.clone();
        let vdir = w.vdirs[0] as usize;
        let second_entry = vdir + 20 + 32 + 4 * 19;
        bytes[second_entry..second_entry + 8].copy_from_slice(&[0xFF; 8]);
        assert_eq!(open(&bytes, false).unwrap().records.len(), 10);
    }

    #[test]
    fn entries_of_other_types_are_skipped_with_one_note() {
        let mut recs = basic_records();
        for rec in &mut recs[2..5] {
            rec.meta[0] = (rec.meta[0] & !0xFF) | 2;
        }
        let dir = open(&write(&[Seg::Closed(recs)]).bytes, false).unwrap();
        assert_eq!(dir.records.len(), 4);
        assert_eq!(dir.entry_count, 7);
        assert_eq!(dir.diagnostics.len(), 1, "{:?}", dir.diagnostics);
        let note = &dir.diagnostics[0].message;
        assert!(
            note.starts_with("3 directory entries are not data records"),
            "{note}"
        );
        assert!(note.contains("entry 2, has record type 2"), "{note}");
    }

    #[test]
    fn deleted_record_frame_is_refused() {
        let bytes = fixture("rsf_basic");
        let dir = open(&bytes, false).unwrap();
        let rec = &dir.records[2];
        let mut copy = bytes.clone();
        copy[rec.record_offset.0 as usize] = 0x80;
        let err = frame(&copy, rec).unwrap_err();
        assert!(err.to_string().contains("deleted"), "{err}");
    }

    #[test]
    fn crashed_segment_is_reported_and_recovered() {
        let recs = basic_records();
        let w = write(&[
            Seg::Closed(recs[..3].to_vec()),
            Seg::Open(recs[3..].to_vec()),
        ]);
        let dir = open(&w.bytes, false).unwrap();
        assert_eq!(dir.records.len(), 3);
        assert_eq!(dir.diagnostics.len(), 1, "{:?}", dir.diagnostics);
        let d = &dir.diagnostics[0];
        assert_eq!(d.offset, w.segments[2]);
        assert!(
            d.message.contains("unfinished compact segment"),
            "{}",
            d.message
        );
        assert!(
            d.message.contains("4 framed records are in no directory"),
            "{}",
            d.message
        );

        let dir = open(&w.bytes, true).unwrap();
        assert_eq!(dir.records.len(), 7);
        assert_eq!(dir.entry_count, 7);
        let names: Vec<_> = dir
            .records
            .iter()
            .map(|r| r.nomvar.trimmed().to_string())
            .collect();
        assert_eq!(names, [">>", "^^", "TT", "GZ", "UU", "HU", "MASK"]);
        for (i, rec) in dir.records.iter().enumerate() {
            assert_eq!(rec.recovered, i >= 3);
            assert_eq!(rec.index.0 as usize, i);
            frame(&w.bytes, rec).unwrap();
        }
        assert_eq!(dir.records[3].record_offset.0, w.records[3]);

        // Cut inside the last record: the complete ones are still recovered.
        let cut = &w.bytes[..w.bytes.len() - 100];
        let dir = open(cut, true).unwrap();
        assert_eq!(dir.records.len(), 6);
        assert!(
            dir.diagnostics[0].message.contains("truncated"),
            "{:?}",
            dir.diagnostics
        );
    }

    #[test]
    fn truncated_last_segment_keeps_earlier_segments() {
        let bytes = fixture("rsf_multi_segment");
        let full = open(&bytes, false).unwrap();
        let last_seg = 14408;
        // Cut right before the last segment's directory: its records are framed but unlisted.
        let vdir_at = {
            let b: [u8; 72] = bytes[last_seg..last_seg + 72].try_into().unwrap();
            last_seg as u64 + Sos::parse(&b).vdir
        };
        let cut = &bytes[..vdir_at as usize];
        let dir = open(cut, false).unwrap();
        assert_eq!(dir.records.len(), 5);
        assert_eq!(dir.records[..], full.records[..5]);
        assert!(
            dir.diagnostics[0]
                .message
                .contains("2 framed records are in no directory"),
            "{:?}",
            dir.diagnostics
        );
        let dir = open(cut, true).unwrap();
        assert_eq!(dir.records.len(), 7);
        for (ours, theirs) in dir.records.iter().zip(&full.records) {
            assert_eq!(
                RecordMeta {
                    recovered: false,
                    ..ours.clone()
                },
                *theirs
            );
        }
        // The same cut after a crash: the segment start still has sizes 0.
        let mut crashed = cut.to_vec();
        crashed[last_seg + 28..last_seg + 60].fill(0);
        let dir = open(&crashed, true).unwrap();
        assert_eq!(dir.records.len(), 7);
        assert!(dir.diagnostics[0]
            .message
            .contains("unfinished compact segment"));
    }

    #[test]
    fn write_lock_is_reported() {
        let mut bytes = fixture("rsf_basic");
        bytes[1] = 0xFF;
        bytes[2] = 0xFF;
        let dir = open(&bytes, false).unwrap();
        assert!(
            dir.diagnostics[0].message.contains("write-lock"),
            "{:?}",
            dir.diagnostics
        );
        bytes[1] = 2;
        bytes[2] = 0;
        let dir = open(&bytes, false).unwrap();
        assert!(
            dir.diagnostics[0].message.contains("2 parallel writers"),
            "{:?}",
            dir.diagnostics
        );
    }

    #[test]
    fn open_sparse_segment_is_reported() {
        // Turn the filler segment of the parallel sample into an open writer's segment.
        let mut bytes = fixture("rsf_parallel_sparse");
        let filler = 11928;
        bytes[filler + 20..filler + 24].copy_from_slice(b"STDF");
        let dir = open(&bytes, false).unwrap();
        assert_eq!(dir.records.len(), 4);
        assert!(
            dir.diagnostics[0].message.contains("open sparse segment"),
            "{:?}",
            dir.diagnostics
        );
        assert!(
            dir.diagnostics[0].message.contains("0 framed records are"),
            "{:?}",
            dir.diagnostics
        );
    }

    #[test]
    fn version_0_directory_without_json() {
        // RSF v0: reserved words swapped, the directory holds only the 19 search words and
        // the JSON stays in the record.
        let mut recs = basic_records();
        let json = r#"{"answer":42}"#;
        let mut rec = Rec::new(
            recs[0].keys_mut().try_into().unwrap(),
            Some(json),
            recs[0].payload.clone(),
        );
        let v1 = open(&write(&[Seg::Closed(vec![rec.clone()])]).bytes, false).unwrap();
        assert_eq!(v1.records[0].extended_metadata.as_deref(), Some(json));
        rec.meta[0] = 0x0000_0101;
        rec.meta.swap(1, 2);
        rec.dir_words = Some(19);
        let bytes = write(&[Seg::Closed(vec![rec])]).bytes;
        let dir = open(&bytes, false).unwrap();
        assert_eq!(dir.records[0].extended_metadata.as_deref(), Some(json));
        assert_eq!(dir.records[0].nomvar, v1.records[0].nomvar);
        frame(&bytes, &dir.records[0]).unwrap();
    }

    #[test]
    fn bad_json_is_refused_or_noted() {
        let recs = basic_records();
        let keys: [u32; 16] = recs[2].meta[3..19].try_into().unwrap();
        // Not JSON: the record is kept; parsing it reports the error.
        let w = write(&[Seg::Closed(vec![Rec::new(
            keys,
            Some("{oops"),
            recs[2].payload.clone(),
        )])]);
        let dir = open(&w.bytes, false).unwrap();
        assert_eq!(dir.records[0].extended_metadata.as_deref(), Some("{oops"));
        assert!(dir.records[0].extended_metadata_json().unwrap().is_err());
        assert!(dir.diagnostics.is_empty());
        // The text ends at its first NUL, whatever follows it; only NULs is no text.
        for (stored, text) in [
            ("{}\0xyz", Some("{}")),
            ("\0\0\0", None),
            ("{}", Some("{}")),
        ] {
            let w = write(&[Seg::Closed(vec![Rec::new(
                keys,
                Some(stored),
                recs[2].payload.clone(),
            )])]);
            let dir = open(&w.bytes, false).unwrap();
            assert_eq!(
                dir.records[0].extended_metadata.as_deref(),
                text,
                "{stored:?}"
            );
        }
        // Not UTF-8 or not NUL-terminated: a format error.
        let mut rec = Rec::new(keys, Some("{\"a\":1}"), recs[2].payload.clone());
        rec.meta[19] = 0xFFFF_FFFF;
        assert!(open(&write(&[Seg::Closed(vec![rec.clone()])]).bytes, false).is_err());
        rec.meta[19..].fill(0x4141_4141);
        let err = open(&write(&[Seg::Closed(vec![rec])]).bytes, false).unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
        // Over the limit.
        let w = write(&[Seg::Closed(vec![Rec::new(
            keys,
            Some("{\"a\":1}"),
            recs[2].payload.clone(),
        )])]);
        let src = MemorySource::new(w.bytes);
        let mut options = ReadOptions::default();
        options.limits.max_metadata_bytes = 4;
        let err = super::super::read_directory(&src, &SourceName::default(), &options).unwrap_err();
        assert!(
            matches!(
                err,
                OpenError::Limits {
                    limit: LimitError::MetadataBytes { found: 8, limit: 4 },
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn record_limit_is_enforced() {
        let src = MemorySource::new(fixture("rsf_multi_segment"));
        let mut options = ReadOptions::default();
        options.limits.max_records = 6;
        let err = super::super::read_directory(&src, &SourceName::default(), &options).unwrap_err();
        assert!(
            matches!(
                err,
                OpenError::Limits {
                    limit: LimitError::Records { .. },
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn every_truncation_opens_or_fails_cleanly() {
        for stem in ["rsf_basic", "rsf_multi_segment", "rsf_extended_meta"] {
            let bytes = fixture(stem);
            let all = open(&bytes, false).unwrap().records;
            let full = all.len();
            for len in 0..bytes.len() {
                for recover in [false, true] {
                    if let Ok(dir) = open(&bytes[..len], recover) {
                        assert!(dir.records.len() <= full, "{stem} cut at {len}");
                        // What is listed is a prefix of the whole listing, framed correctly.
                        for (rec, whole) in dir.records.iter().zip(&all) {
                            assert!(rec.record_offset.0 + rec.record_len <= len as u64);
                            assert_eq!(
                                RecordMeta {
                                    recovered: false,
                                    ..rec.clone()
                                },
                                *whole
                            );
                            assert!(recover || !rec.recovered);
                            frame(&bytes[..len], rec).unwrap();
                        }
                        if len < bytes.len() && !dir.records.is_empty() && dir.records.len() < full
                        {
                            assert!(
                                !dir.diagnostics.is_empty() || [140, 8244, 14408].contains(&len),
                                "{stem} cut at {len}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Byte ranges of the structural parts of a fixture (segment starts and ends, the
    /// directory's frame, count and entry words but the search keys, every record's frame),
    /// and the bytes among them that no reader uses: the SOS/EOS/VDIR `rlmd`/`ubc`/`dul`
    /// word, the copies of `rlm` in segment markers, the entry's `dul` word, meta0's class and
    /// spare byte, the FST version byte and the record SOR's `ubc`/`dul` bytes.
    fn structure(bytes: &[u8]) -> (Vec<std::ops::Range<usize>>, Vec<usize>) {
        let mut out = Vec::new();
        let mut unused = Vec::new();
        let mut off = 0;
        while off < bytes.len() {
            let sos = Sos::parse(bytes[off..off + 72].try_into().unwrap());
            out.push(off..off + 72);
            unused.extend([off + 12, off + 13, off + 14, off + 15, off + 69, off + 70]);
            if off > 0 {
                unused.extend([off + 1, off + 2]);
            }
            if sos.sseg == 0 {
                break;
            }
            let end = off + sos.sseg as usize;
            if sos.seg == 0 {
                // A sparse segment: the low part of its end after the start, the high part at
                // the top.
                out.push(off + 72..off + 92);
                out.push(end - 48..end);
                unused.extend([off + 73, off + 74, off + 84, off + 85, off + 86, off + 87]);
                unused.extend([end - 3, end - 2]);
                off = end;
                continue;
            }
            let eos = off + sos.seg as usize;
            out.push(eos..eos + 68);
            unused.extend([
                eos + 1,
                eos + 2,
                eos + 12,
                eos + 13,
                eos + 14,
                eos + 15,
                eos + 65,
                eos + 66,
            ]);
            if sos.vdir != 0 {
                let vdir = off + sos.vdir as usize;
                let vend = vdir + sos.vdirs as usize;
                out.push(vdir..vdir + 20);
                out.push(vend - 12..vend);
                unused.extend(vdir + 12..vdir + 16);
                let mut pos = vdir + 20;
                let n = u32::from_le_bytes(bytes[vdir + 16..vdir + 20].try_into().unwrap());
                for _ in 0..n {
                    out.push(pos..pos + 44);
                    unused.extend([
                        pos + 28,
                        pos + 29,
                        pos + 30,
                        pos + 31,
                        pos + 33,
                        pos + 35,
                        pos + 43,
                    ]);
                    let ml = u32::from_le_bytes(bytes[pos + 24..pos + 28].try_into().unwrap());
                    pos += 32 + 4 * (ml >> 16) as usize;
                }
            }
            off = end;
        }
        let dir = open(bytes, false).unwrap();
        for rec in &dir.records {
            let at = rec.record_offset.0 as usize;
            let end = at + rec.record_len as usize;
            out.push(at..at + 16);
            out.push(end - 12..end);
            unused.extend([at + 14, at + 15]);
        }
        (out, unused)
    }

    /// `rsf_parallel_sparse.fst` with its 2 MiB filler segment shrunk to 300 bytes (sizes in
    /// its start and both parts of its end adjusted), so that every bit can be flipped quickly.
    fn small_sparse() -> Vec<u8> {
        let big = fixture("rsf_parallel_sparse");
        let filler = 11928;
        let sseg: u64 = 300;
        let mut b = big[..filler + 92].to_vec();
        let put = |b: &mut Vec<u8>, at: usize, v: u64| {
            b[at..at + 4].copy_from_slice(&((v >> 32) as u32).to_le_bytes());
            b[at + 4..at + 8].copy_from_slice(&(v as u32).to_le_bytes());
        };
        put(&mut b, filler + 36, sseg);
        put(&mut b, filler + 76, sseg - 72);
        b.resize(filler + sseg as usize - 48, 0);
        let mut hi = big[big.len() - 48..].to_vec();
        put(&mut hi, 12, sseg);
        put(&mut hi, 36, sseg - 72);
        b.extend_from_slice(&hi);
        b
    }

    #[test]
    fn small_sparse_is_valid() {
        let dir = open(&small_sparse(), false).unwrap();
        assert_eq!(dir.records.len(), 4);
        assert!(dir.diagnostics.is_empty(), "{:?}", dir.diagnostics);
    }

    #[test]
    fn bit_flips_in_control_structures_are_caught() {
        for stem in FIXTURES {
            let bytes = if stem == "rsf_parallel_sparse" {
                small_sparse()
            } else {
                fixture(stem)
            };
            let full = open(&bytes, false).unwrap();
            let (ranges, unused) = structure(&bytes);
            let mut flips = 0;
            for range in ranges {
                for byte in range {
                    for bit in 0..8 {
                        let mut copy = bytes.clone();
                        copy[byte] ^= 1 << bit;
                        flips += 1;
                        let caught = match open(&copy, true) {
                            Err(_) => true,
                            Ok(dir) => {
                                !dir.diagnostics.is_empty()
                                    || dir.records != full.records
                                    || dir.records.iter().any(|r| frame(&copy, r).is_err())
                            }
                        };
                        assert!(
                            caught || unused.contains(&byte),
                            "{stem}: flip of bit {bit} at byte {byte} unnoticed"
                        );
                    }
                }
            }
            assert!(flips > 4000, "{stem}: {flips}");
        }
    }
}
