//! Writing the RSF container ("FST24"): the empty segment 0, then one compact segment per
//! write session, `SOS | records… | VDIR | EOS`, the way librmn lays files out
//! (`fst-format.md` §3.8, `rsf-layout.md`). The layout constants are the reader's
//! (`container::rsf`).
//!
//! # Order of writes (crash safety)
//!
//! A session's records go into a segment that is *open* (its start says size 0) until the
//! session ends: librmn and our reader list no record of an open segment, so a writer killed at
//! any instant leaves every earlier segment as it was and no half-written record visible.
//! Closing a segment writes its directory and end marker after the records, then the sizes in
//! its start record, the size last: that one aligned 4-byte word is the commit. Records to
//! delete (replaced by a rewrite) are marked only after the commit, so a crash in between
//! leaves the old and the new record, never neither. [`super::FstWriter::flush`] closes the
//! segment early, so that readers see the records written so far.
//!
//! What a killed writer leaves is what librmn's own leave: the flag below set, and a last
//! segment whose start says size 0. librmn lists the records before it; only its
//! `fst24_is_valid` objects ("segment not closed properly"). A segment that always looks
//! closed (a growing size and no directory until the end) would pass that check too, but
//! needs states our reader refuses; not done.
//!
//! While a writer has the file, the first segment's `rlm` holds librmn's exclusive-writer flag
//! (0xFFFF); librmn refuses to write a file so marked, and our reader reports it.

use std::fs::File;

use super::{read_at, write_at, write_record, Entry, Failure, Payload, Slot, WordOrder};
use crate::container::rsf::{
    pair_at, word_at, Sos, EOR_LEN, EOR_MARK, EOS_HI_SIGN, EOS_LEN, EOS_LO_SIGN, EXCLUSIVE_WRITER,
    RT_DATA, RT_DELETED, RT_EOS, RT_SOS, RT_VDIR, SEARCH_WORDS, SOR_LEN, SOR_MARK, SOS_LEN,
    SOS_SIGN,
};

/// meta0 of a live FST record: type 1, class 1, RSF version 1.
const META0_DATA: u32 = 0x0001_0101;
/// The FST reserved word without the extended-metadata size: FST version 1, 19 search keys.
const FST_RESERVED: u32 = 0x0113_0000;
/// Search-metadata words, as a u32.
const SEARCH: u32 = SEARCH_WORDS as u32;

fn put(buf: &mut Vec<u8>, w: u32) {
    buf.extend_from_slice(&w.to_le_bytes());
}

fn put64(buf: &mut Vec<u8>, v: u64) {
    put(buf, (v >> 32) as u32);
    put(buf, v as u32);
}

fn sor(buf: &mut Vec<u8>, rt: u8, rlm: u32, rl: u64, rlmd: u32, dul: u32) {
    put(buf, u32::from(rt) | rlm << 8 | u32::from(SOR_MARK) << 24);
    put64(buf, rl);
    put(buf, rlmd | dul << 24);
}

fn eor(buf: &mut Vec<u8>, rt: u8, rlm: u32, rl: u64) {
    put64(buf, rl);
    put(buf, u32::from(rt) | rlm << 8 | u32::from(EOR_MARK) << 24);
}

/// A start-of-segment record.
fn sos(buf: &mut Vec<u8>, rlm: u32, sizes: [u64; 4]) {
    sor(buf, RT_SOS, rlm, SOS_LEN, SEARCH, 0);
    buf.extend_from_slice(b"RSF0STDF");
    put(buf, SOS_SIGN);
    for v in sizes {
        put64(buf, v);
    }
    eor(buf, RT_SOS, 0, SOS_LEN);
}

/// A compact end-of-segment record.
fn eos(buf: &mut Vec<u8>, rlm: u32, sizes: [u64; 4]) {
    sor(buf, RT_EOS, rlm, EOS_LEN, rlm, 0);
    put(buf, EOS_LO_SIGN);
    put(buf, EOS_HI_SIGN);
    for v in sizes {
        put64(buf, v);
    }
    eor(buf, RT_EOS, rlm, EOS_LEN);
}

/// The JSON text as stored: NUL-terminated, zero-padded to whole words.
pub(super) fn json_words(text: &str) -> Vec<u32> {
    let bytes = text.as_bytes();
    let n = (bytes.len() + 1).div_ceil(4);
    let mut words = vec![0u32; n];
    for (w, chunk) in words.iter_mut().zip(bytes.chunks(4)) {
        let mut b = [0u8; 4];
        for (d, s) in b.iter_mut().zip(chunk) {
            *d = *s;
        }
        *w = u32::from_le_bytes(b);
    }
    words
}

/// A directory entry of the open segment, kept until the segment closes.
struct DirEntry {
    /// Record offset from the segment start.
    wa: u64,
    rl: u64,
    /// The record's metadata words (all of them go to the directory, as librmn ≥ 2024-11).
    meta: Vec<u32>,
}

/// The RSF side of an [`super::FstWriter`].
pub(super) struct RsfWriter {
    /// End of the file: where the next segment, record or directory goes.
    end: u64,
    /// Start of the open segment, if one is open.
    segment: Option<u64>,
    /// The open segment's directory.
    dir: Vec<DirEntry>,
    /// Entries of closed segments to mark deleted once the open segment is committed.
    pending_deletes: Vec<u64>,
    /// `file_index` of the next entry.
    next_file_index: u32,
    buf: Vec<u8>,
}

impl RsfWriter {
    /// Write segment 0 of a new file, with the exclusive-writer flag set.
    pub(super) fn create(file: &File) -> Result<RsfWriter, Failure> {
        let mut buf = Vec::new();
        sos(
            &mut buf,
            EXCLUSIVE_WRITER,
            [SOS_LEN, SOS_LEN + EOS_LEN, 0, 0],
        );
        eos(&mut buf, 0, [SOS_LEN, SOS_LEN + EOS_LEN, 0, 0]);
        write_at(file, &buf, 0).map_err(Failure::rolled_back("write the first segment"))?;
        Ok(RsfWriter {
            end: SOS_LEN + EOS_LEN,
            segment: None,
            dir: Vec::new(),
            pending_deletes: Vec::new(),
            next_file_index: 0,
            buf,
        })
    }

    /// Take over an existing file (which our reader opened first): check and set the
    /// exclusive-writer flag, list the live entries of every closed segment. With `force`, a
    /// set flag is taken over and an unfinished last segment (a writer was killed: its
    /// records were never listed by any reader) is cut off.
    pub(super) fn open(
        file: &File,
        file_len: u64,
        force: bool,
    ) -> Result<(RsfWriter, Vec<Entry>), String> {
        let read_sos = |off: u64| -> Result<Sos, String> {
            let mut b = [0u8; SOS_LEN as usize];
            read_at(file, &mut b, off).map_err(|e| format!("cannot read at byte {off}: {e}"))?;
            Ok(Sos::parse(&b))
        };
        let first = read_sos(0)?;
        let flag = first.lock_flag();
        if flag != 0 && !force {
            let who = if flag == EXCLUSIVE_WRITER {
                "an exclusive writer".to_string()
            } else {
                format!("{flag} parallel writers")
            };
            return Err(format!(
                "its writer flag says {who} has it open (or was killed); force the append to take it over"
            ));
        }
        let mut entries = Vec::new();
        let mut next_file_index = 0u32;
        let mut off = 0u64;
        let mut end = file_len;
        while off < file_len {
            if file_len - off < SOS_LEN {
                end = off;
                break;
            }
            let s = read_sos(off)?;
            s.check(off == 0)
                .map_err(|e| format!("segment at byte {off}: {e}"))?;
            if s.sseg == 0 || s.sseg > file_len - off {
                end = off;
                break;
            }
            if s.seg == 0 && !s.is_filler() {
                return Err(format!(
                    "the segment at byte {off} belongs to a parallel writer that has not closed it"
                ));
            }
            if s.vdir != 0 && s.vdirs != 0 {
                let len = usize::try_from(s.vdirs).map_err(|_too_big| "directory too large")?;
                let mut v = vec![0u8; len];
                read_at(file, &mut v, off + s.vdir).map_err(|e| {
                    format!("cannot read the directory at byte {}: {e}", off + s.vdir)
                })?;
                let n = word_at(&v, SOR_LEN).unwrap_or(0);
                let mut at = SOR_LEN + 4;
                for _ in 0..n {
                    let wa = pair_at(&v, at).unwrap_or(0);
                    let rl = pair_at(&v, at + 8).unwrap_or(0);
                    let ml = word_at(&v, at + 24).unwrap_or(0);
                    let d = if ml >> 16 == 0 { ml } else { ml >> 16 };
                    let meta0 = word_at(&v, at + 32).unwrap_or(0);
                    if meta0 & 0xFF == u32::from(RT_DATA) {
                        let mut words = [0u32; 16];
                        for (i, w) in words.iter_mut().enumerate() {
                            *w = word_at(&v, at + 32 + 4 * (3 + i as u64)).unwrap_or(0);
                        }
                        entries.push(Entry {
                            words,
                            file_index: next_file_index,
                            record_offset: off + wa,
                            record_len: rl,
                            slot: Slot::Disk(off + s.vdir + at),
                            live: true,
                        });
                    }
                    next_file_index = next_file_index.saturating_add(1);
                    at += 32 + 4 * u64::from(d);
                }
            }
            off += s.sseg;
        }
        if end < file_len {
            if !force {
                return Err(format!(
                    "it ends with an unfinished segment at byte {end} (a writer was killed, or is still writing); force the append to cut it off"
                ));
            }
            file.set_len(end)
                .map_err(|e| format!("cannot cut the unfinished segment at byte {end}: {e}"))?;
        }
        set_flag(file, EXCLUSIVE_WRITER).map_err(|e| format!("cannot set the writer flag: {e}"))?;
        Ok((
            RsfWriter {
                end,
                segment: None,
                dir: Vec::new(),
                pending_deletes: Vec::new(),
                next_file_index,
                buf: Vec::new(),
            },
            entries,
        ))
    }

    /// Append a record to the open segment (opening one first if needed).
    pub(super) fn append(
        &mut self,
        file: &File,
        keys: &[u32; 16],
        json: Option<&str>,
        payload: &Payload<'_>,
    ) -> Result<Entry, Failure> {
        let start = self.end;
        self.buf.clear();
        let base = if let Some(base) = self.segment {
            base
        } else {
            // Open a segment: sizes 0 until it is closed.
            sos(&mut self.buf, SEARCH, [0; 4]);
            start
        };
        let at = start + self.buf.len() as u64;
        let json = json.map(json_words).unwrap_or_default();
        let e = u32::try_from(json.len()).unwrap_or(u32::MAX);
        let r = SEARCH + e;
        let mut meta = vec![META0_DATA, 0, FST_RESERVED | e];
        meta.extend_from_slice(keys);
        meta.extend_from_slice(&json);
        // Payloads are padded to whole 64-bit units, as librmn sizes them.
        let words = payload.words;
        let padded = words.len() + words.len() % 2;
        let rl = SOR_LEN + 4 * u64::from(r) + 4 * padded as u64 + EOR_LEN;
        sor(&mut self.buf, RT_DATA, r, rl, r, 4);
        for &w in &meta {
            put(&mut self.buf, w);
        }
        let mut tail = Vec::new();
        if padded > words.len() {
            put(&mut tail, 0);
        }
        eor(&mut tail, RT_DATA, r, rl);
        let mut scratch = Vec::new();
        if let Err(source) = write_record(
            file,
            start,
            &self.buf,
            (words, WordOrder::Native),
            false,
            &tail,
            &mut scratch,
        ) {
            let cut = file.set_len(start);
            return Err(Failure {
                action: "write the record",
                source,
                rolled_back: cut.is_ok(),
            });
        }
        self.segment = Some(base);
        self.end = at + rl;
        let index = self.dir.len();
        self.dir.push(DirEntry {
            wa: at - base,
            rl,
            meta,
        });
        let file_index = self.next_file_index;
        self.next_file_index = self.next_file_index.saturating_add(1);
        Ok(Entry {
            words: *keys,
            file_index,
            record_offset: at,
            record_len: rl,
            slot: Slot::Pending(index),
            live: true,
        })
    }

    /// Delete a record: one of the open segment at once (no reader sees it yet); one of a
    /// closed segment after the open segment is committed.
    pub(super) fn delete(&mut self, file: &File, old: &Entry) -> Result<(), Failure> {
        match old.slot {
            Slot::Pending(i) => {
                if let Some(d) = self.dir.get_mut(i) {
                    if let Some(m0) = d.meta.first_mut() {
                        *m0 = (*m0 & !0xFF) | u32::from(RT_DELETED);
                    }
                }
                mark_record_deleted(file, old.record_offset, old.record_len)
                    .map_err(Failure::after_change("mark the record deleted"))
            }
            Slot::Disk(entry_at) => {
                self.pending_deletes.push(entry_at);
                self.pending_deletes.push(old.record_offset);
                self.pending_deletes.push(old.record_len);
                Ok(())
            }
        }
    }

    /// Close the open segment (directory, end marker, then the commit of its sizes), then
    /// apply the deletions waiting for it.
    pub(super) fn close_segment(&mut self, file: &File) -> Result<(), Failure> {
        let fail = Failure::after_change;
        if let Some(base) = self.segment {
            let vdir = self.end - base;
            let vdirs = SOR_LEN
                + 4
                + self
                    .dir
                    .iter()
                    .map(|d| 32 + 4 * d.meta.len() as u64)
                    .sum::<u64>()
                + EOR_LEN;
            self.buf.clear();
            sor(&mut self.buf, RT_VDIR, 1, vdirs, 0, 0);
            put(
                &mut self.buf,
                u32::try_from(self.dir.len()).unwrap_or(u32::MAX),
            );
            for d in &self.dir {
                let m = u32::try_from(d.meta.len()).unwrap_or(u32::MAX);
                put64(&mut self.buf, d.wa);
                put64(&mut self.buf, d.rl);
                put64(&mut self.buf, 0);
                put(&mut self.buf, m << 16 | m);
                put(&mut self.buf, 0);
                for &w in &d.meta {
                    put(&mut self.buf, w);
                }
            }
            eor(&mut self.buf, RT_VDIR, 1, vdirs);
            let seg = vdir + vdirs;
            let sseg = seg + EOS_LEN;
            eos(&mut self.buf, SEARCH, [seg, sseg, vdir, vdirs]);
            if let Err(source) = write_at(file, &self.buf, self.end) {
                let cut = file.set_len(self.end);
                return Err(Failure {
                    action: "write the segment directory",
                    source,
                    rolled_back: cut.is_ok(),
                });
            }
            // The commit, in three writes: the directory's place (ignored while the size is
            // 0), the start record's flag word and the size excluding the end marker, and last
            // the low word of the size, which makes the segment closed.
            let mut b = Vec::new();
            put64(&mut b, vdir);
            put64(&mut b, vdirs);
            write_at(file, &b, base + 44).map_err(fail("write the segment start"))?;
            b.clear();
            put(&mut b, u32::from(RT_SOS) | u32::from(SOR_MARK) << 24);
            write_at(file, &b, base).map_err(fail("write the segment start"))?;
            b.clear();
            put64(&mut b, seg);
            put(&mut b, (sseg >> 32) as u32);
            write_at(file, &b, base + 28).map_err(fail("write the segment start"))?;
            write_at(file, &(sseg as u32).to_le_bytes(), base + 40)
                .map_err(fail("commit the segment"))?;
            self.end = base + sseg;
            self.segment = None;
            self.dir.clear();
        }
        for chunk in std::mem::take(&mut self.pending_deletes).chunks_exact(3) {
            if let [entry_at, record_offset, record_len] = *chunk {
                set_type_byte(file, entry_at + 32, RT_DELETED)
                    .map_err(fail("mark a directory entry deleted"))?;
                mark_record_deleted(file, record_offset, record_len)
                    .map_err(fail("mark the record deleted"))?;
            }
        }
        Ok(())
    }

    /// End the session: close the open segment, clear the writer flag.
    pub(super) fn close(&mut self, file: &File) -> Result<(), Failure> {
        self.close_segment(file)?;
        set_flag(file, 0).map_err(Failure::after_change("clear the writer flag"))
    }
}

/// Set the first byte (the record type) of the word at `at`.
fn set_type_byte(file: &File, at: u64, rt: u8) -> std::io::Result<()> {
    write_at(file, &[rt], at)
}

/// Mark a data record deleted as librmn does: its start, its meta0 and its end say 0x80.
fn mark_record_deleted(file: &File, record_offset: u64, record_len: u64) -> std::io::Result<()> {
    set_type_byte(file, record_offset, RT_DELETED)?;
    set_type_byte(file, record_offset + SOR_LEN, RT_DELETED)?;
    set_type_byte(file, record_offset + record_len - 4, RT_DELETED)
}

/// Write the writer flag (`rlm` of segment 0's start record).
fn set_flag(file: &File, flag: u32) -> std::io::Result<()> {
    let word = u32::from(RT_SOS) | flag << 8 | u32::from(SOR_MARK) << 24;
    write_at(file, &word.to_le_bytes(), 0)
}
