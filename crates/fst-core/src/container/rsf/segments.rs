//! Following the segment chain: start and end of segment, the write lock, and the plan of
//! directories and unfinished segments to list.

use super::framing::{
    frame_of, pair_at, word_at, Eor, Sor, Sos, ENTRY_FIXED_LEN, EOR_LEN, EOR_MARK, EOS_HI_LEN,
    EOS_HI_SIGN, EOS_LEN, EOS_LO_SIGN, EXCLUSIVE_WRITER, RT_EOS, RT_VDIR, SEARCH_WORDS, SOR_LEN,
    SOR_MARK, SOS_LEN, VDIR_HEAD_LEN,
};
use super::{Reader, Step};
use crate::alloc::try_vec_filled;
use crate::error::{FormatErrorKind, OpenError};
use crate::limits::LimitError;
use crate::record::RecordMeta;

impl Reader<'_> {
    /// Walk the segment chain, then list the records of every directory and unfinished
    /// segment in file order. Every directory is located and its frame checked before any
    /// entry is decoded, so the record list is allocated once; each directory is then read
    /// whole, in one read.
    pub(super) fn walk_segments(&mut self) -> Result<(), OpenError> {
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
                Step::Unfinished {
                    off,
                    end,
                    what,
                    truncated,
                } => self.unfinished(off, end, &what, truncated)?,
            }
        }
        Ok(())
    }

    /// Follow the segment chain, checking every segment's start and end and every directory's
    /// frame; return what each segment contributes to the listing.
    pub(super) fn plan(&mut self) -> Result<Vec<Step>, OpenError> {
        let mut steps = Vec::new();
        let mut off = 0u64;
        while off < self.file_len {
            let left = self.file_len - off;
            if left < SOS_LEN {
                self.note_if_truncated(off, format!(
                    "the file ends {left} bytes into what should be a segment start at byte {off} (truncated?)"
                ), true);
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
                    truncated: false,
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
                        truncated: true,
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
                    truncated: true,
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
                        truncated: false,
                    });
                }
            }
            off = end;
        }
        Ok(steps)
    }

    /// Note a write lock left in SOS 0.
    pub(super) fn check_lock(&mut self, sos: &Sos) {
        match sos.sor.rlm {
            0 => {}
            EXCLUSIVE_WRITER => self.note(0, "the write-lock flag is set in the first segment start: a writer has the file open, or crashed".into()),
            n => self.note(0, format!("the first segment start counts {n} parallel writers: they have the file open, or crashed")),
        }
    }

    /// Check the sizes of a closed compact segment: `sseg = seg + 68`, and the directory, if
    /// any, ends where the end-of-segment starts.
    pub(super) fn check_closed(&self, off: u64, sos: &Sos) -> Result<(), OpenError> {
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
    pub(super) fn check_eos(&self, off: u64, sos: &Sos, eos: &[u8]) -> Result<(), OpenError> {
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
    pub(super) fn check_eos_hi(&self, off: u64, sos: &Sos) -> Result<(), OpenError> {
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
    pub(super) fn check_vdir(&mut self, off: u64, sos: &Sos) -> Result<Step, OpenError> {
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
}
