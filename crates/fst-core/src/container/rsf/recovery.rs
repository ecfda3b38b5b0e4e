//! Unfinished segments (a writer at work or one that crashed): their records are found by
//! walking the record framing, and listed only when recovering.

use std::fmt::Write as _;

use super::framing::{
    le_words, Eor, Sor, EOR_LEN, EOR_MARK, FRAME_LEN, JSON_AT, RT_DATA, RT_DELETED, RT_EOS,
    SEARCH_WORDS, SOR_LEN, SOR_MARK, SOS_LEN,
};
use super::meta::{parse_meta, Fault, Parsed};
use super::Reader;
use crate::error::OpenError;

/// What the framing walk found at one position.
pub(super) enum Frame {
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
pub(super) struct Walk {
    pub(super) records: u64,
    pub(super) deleted: u64,
    /// Where and why the walk stopped before the end of the segment, if it did.
    pub(super) stopped: Option<(u64, String)>,
}

impl Reader<'_> {
    /// Report an unfinished segment starting at `off` whose records may run up to `end`, and
    /// list them when recovering.
    pub(super) fn unfinished(
        &mut self,
        off: u64,
        end: u64,
        what: &str,
        truncated: bool,
    ) -> Result<(), OpenError> {
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
        self.note_if_truncated(off, message, truncated);
        Ok(())
    }

    /// The record framed at `pos`, if a complete one ends by `end`.
    pub(super) fn frame_at(&self, pos: u64, end: u64) -> Result<Frame, OpenError> {
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
    pub(super) fn walk_frames(&mut self, start: u64, end: u64) -> Result<Walk, OpenError> {
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
}
