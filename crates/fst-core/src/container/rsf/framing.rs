//! RSF framing: control-word helpers, the start/end-of-record markers and the start-of-segment
//! record, and the check of a data record's frame against its directory entry.

use crate::error::FormatErrorKind;
use crate::record::RecordMeta;

/// Length of a start-of-segment record.
pub(crate) const SOS_LEN: u64 = 72;
/// Length of the end-of-segment record of a compact segment.
pub(crate) const EOS_LEN: u64 = 68;
/// Length of the high part of an end-of-segment record (the part at the top of a segment).
pub(super) const EOS_HI_LEN: u64 = 48;
/// Length of a start-of-record marker.
pub(crate) const SOR_LEN: u64 = 16;
/// Length of an end-of-record marker.
pub(crate) const EOR_LEN: u64 = 12;
/// SOR and EOR together: the smallest record.
pub(super) const FRAME_LEN: u64 = SOR_LEN + EOR_LEN;
/// Fixed part of a directory entry: wa, rl, entry offset (3 × 2 words), ml, dul.
pub(super) const ENTRY_FIXED_LEN: u64 = 32;
/// Fixed part of a VDIR record before its entries: SOR and the entry count.
pub(super) const VDIR_HEAD_LEN: u64 = SOR_LEN + 4;
/// Search-metadata words of an FST record: meta0, two reserved words, 16 legacy key words.
pub(crate) const SEARCH_WORDS: u64 = 19;
/// Byte offset, inside the record metadata, of the extended (JSON) metadata.
pub(super) const JSON_AT: u64 = 4 * SEARCH_WORDS;

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
pub(super) fn le_words<const N: usize>(b: &[u8]) -> Option<[u32; N]> {
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
pub(super) fn pair(hi: u32, lo: u32) -> u64 {
    (u64::from(hi) << 32) | u64::from(lo)
}

/// The 64-bit value at byte `at` of `b`.
pub(crate) fn pair_at(b: &[u8], at: u64) -> Option<u64> {
    Some(pair(word_at(b, at)?, word_at(b, at.checked_add(4)?)?))
}

/// A start-of-record marker, decoded.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sor {
    pub(super) rt: u8,
    pub(super) rlm: u32,
    pub(super) zr: u8,
    pub(super) rl: u64,
    pub(super) rlmd: u32,
}

impl Sor {
    pub(super) fn parse(b: &[u8; 16]) -> Sor {
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
pub(super) struct Eor {
    pub(super) rl: u64,
    pub(super) rt: u8,
    pub(super) rlm: u32,
    pub(super) zr: u8,
}

impl Eor {
    pub(super) fn parse(b: &[u8; 12]) -> Eor {
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
pub(super) fn frame_of(b: &[u8]) -> Option<([u8; 16], [u8; 12])> {
    let sor: [u8; 16] = b.get(..16)?.try_into().ok()?;
    let eor: [u8; 12] = b.get(b.len().checked_sub(12)?..)?.try_into().ok()?;
    Some((sor, eor))
}

/// A start-of-segment record, decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sos {
    pub(super) sor: Sor,
    pub(super) eor: Eor,
    pub(super) magic: [u8; 4],
    pub(super) app: [u8; 4],
    pub(super) sign: u32,
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
