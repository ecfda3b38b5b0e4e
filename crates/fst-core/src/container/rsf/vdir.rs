//! Listing a closed segment's directory (VDIR): its variable-width entries become
//! `RecordMeta`s.

use super::framing::{
    le_words, pair, ENTRY_FIXED_LEN, EOR_LEN, JSON_AT, SEARCH_WORDS, SOR_LEN, SOS_LEN,
    VDIR_HEAD_LEN,
};
use super::meta::{json_text, parse_meta, Fault, Json, Parsed};
use super::Reader;
use crate::error::{FormatErrorKind, OpenError};
use crate::record::{Container, FileOffset, Keys, PayloadLocation, Placement, RecordIndex};

impl Reader<'_> {
    /// List the `n` entries of the directory `buf` (a whole VDIR record) found at byte `vdir`
    /// of the segment at `off`.
    pub(super) fn list_vdir(
        &mut self,
        off: u64,
        vdir: u64,
        buf: &[u8],
        n: u64,
    ) -> Result<(), OpenError> {
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
    pub(super) fn vdir_entry(
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
    pub(super) fn push(
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

    /// Fetch the JSON of records whose directory entries do not carry it (RSF version 0).
    pub(super) fn fetch_pending_json(&mut self) -> Result<(), OpenError> {
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
