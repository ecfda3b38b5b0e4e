//! Writing the XDF container ("FST98"): the 208-byte header, directory pages of 256 entries,
//! and records that start with a copy of their directory entry. The layout constants are the
//! reader's (`container::xdf`); `fst-format.md` §2.9 says how librmn writes.
//!
//! # Order of writes (crash safety)
//!
//! librmn keeps the directory in memory and writes it at close, so a crash loses every record
//! of the session. This writer updates the file after every record, in an order that leaves a
//! readable file at every instant, for our reader and for librmn. The newest librmn also
//! refuses a file whose size differs from the size its header records, so the file grows in
//! reserved steps: the space past the last record is counted in the header and records are
//! written into it, the file size never changing while a record is written.
//!
//! 1. when the reserved space is short: the file is extended (zeros), then the header's size
//!    updated — two system calls, the only moment the sizes disagree;
//! 2. the record (and, when the last page is full, a new empty page) into the reserved space:
//!    no directory points there yet;
//! 3. the previous page's link to the new page (readers ignore a link past the page count);
//! 4. the header's counters (pages, records, largest record): a kill before the next step
//!    leaves a record count one too high, never one too low (rpnpy lists at most `fstnbr`
//!    records);
//! 5. the directory entry in its slot, then the page's entry count and checksum: the record
//!    becomes visible in one 8-byte write.
//!
//! At close the unused reserve is given back: the header's size first, then the file is cut.
//! A SIGKILL between two steps leaves at worst an unreachable record or page in the reserve,
//! a checksum mismatch that readers only log, or counters one short. Records written earlier
//! are never touched. An in-place rewrite ([`super::Rewrite::Fst98`] with an equal length)
//! overwrites a record and is not atomic; every other path is.

use std::fs::File;

use super::{read_at, write_at, write_record, Entry, Failure, Payload, Slot, WordOrder};
use crate::container::xdf::{
    be_word, unit_offset, ENTRIES_PER_PAGE, ENTRY_WORDS, HEADER_UNITS, PAGE_BYTES,
    PAGE_HEADER_WORDS, PAGE_UNITS, RECORD_PREFIX_BYTES,
};

/// Header words (u32 index) the writer updates.
const FSIZ: usize = 4;
const NRWR: usize = 5;
const NXTN: usize = 6;
const NBD: usize = 7;
const PLST: usize = 8;
const NBIG: usize = 9;
const NEFF: usize = 12;
const NREC: usize = 13;
const RWFLG: usize = 14;
/// Header words holding every field that changes: the first 16; the key descriptors after
/// them never change.
const MUTABLE_HEADER_WORDS: usize = 16;
/// idtyp of a live FST record.
const IDTYP_DATA: u32 = 1;
/// idtyp of a deleted record in a closed file.
const IDTYP_DELETED: u32 = 0xFF;
/// Largest record length the 24-bit `lng` field holds, in 64-bit units.
pub(super) const MAX_RECORD_UNITS: u64 = 0xFF_FFFF;
/// librmn refuses records whose payload exceeds this many 32-bit words.
pub(super) const MAX_PAYLOAD_WORDS: u64 = 33_554_400;

/// Record length in 64-bit units for a payload of `words` 32-bit words.
pub(super) fn record_units(words: usize) -> u64 {
    RECORD_PREFIX_BYTES / 8 + (words as u64).div_ceil(2)
}

fn put_be(buf: &mut Vec<u8>, words: &[u32]) {
    for w in words {
        buf.extend_from_slice(&w.to_be_bytes());
    }
}

/// The XDF side of an [`super::FstWriter`].
pub(super) struct XdfWriter {
    /// The 16 header words that change.
    header: [u32; MUTABLE_HEADER_WORDS],
    /// Address (64-bit units, origin 1) of every directory page, in chain order.
    pages: Vec<u32>,
    /// Used slots of the last page.
    last_nent: u32,
    /// Checksum word of the last page as on disk.
    last_checksum: u32,
    /// End of the last record or page, in bytes; the header's size (= the file's) may be
    /// larger: the reserve.
    used_end: u64,
    /// Reused for record bytes.
    buf: Vec<u8>,
}

/// Smallest and largest step by which the reserve grows.
const MIN_GROWTH: u64 = 1 << 20;
const MAX_GROWTH: u64 = 64 << 20;

impl XdfWriter {
    /// Write the header and the first, empty, directory page of a new file (librmn's layout:
    /// 26 + 2308 units).
    pub(super) fn create(file: &File) -> Result<XdfWriter, Failure> {
        let first_page = HEADER_UNITS + 1;
        let mut header = [0u32; MUTABLE_HEADER_WORDS];
        header[0] = HEADER_UNITS;
        header[2] = u32::from_be_bytes(*b"XDF0");
        header[3] = u32::from_be_bytes(*b"STDR");
        header[FSIZ] = HEADER_UNITS + PAGE_UNITS;
        header[NBD] = 1;
        header[PLST] = first_page;
        header[10] = 0x0010_0009;
        header[11] = 0x0002_0001;
        let mut bytes = Vec::new();
        put_be(&mut bytes, &header);
        // Key descriptors: 16 primary keys SF01..SF16 (32 bits each, consecutive), then the
        // two auxiliary keys AXI1, AXI2.
        for i in 0..18u32 {
            let (name, position) = if i < 16 {
                (format!("SF{:02}", i + 1), i)
            } else {
                (format!("AXI{}", i - 15), i - 16)
            };
            let name: [u8; 4] = name.as_bytes().try_into().unwrap_or(*b"SF00");
            let last_bit = 31 + 32 * position;
            put_be(
                &mut bytes,
                &[u32::from_be_bytes(name), last_bit << 19 | 31 << 14],
            );
        }
        bytes.extend_from_slice(&empty_page(first_page));
        write_at(file, &bytes, 0).map_err(Failure::rolled_back("write the file header"))?;
        Ok(XdfWriter {
            header,
            pages: vec![first_page],
            last_nent: 0,
            last_checksum: 0,
            used_end: u64::from(HEADER_UNITS + PAGE_UNITS) * 8,
            buf: Vec::new(),
        })
    }

    /// Take over an existing file: read its header and directory pages and list its live
    /// entries. The caller has opened it with our reader first, so its structure is sound.
    pub(super) fn open(
        file: &File,
        file_len: u64,
        force: bool,
    ) -> Result<(XdfWriter, Vec<Entry>), String> {
        let read = |offset: u64, buf: &mut [u8]| {
            read_at(file, buf, offset).map_err(|e| format!("cannot read at byte {offset}: {e}"))
        };
        let mut head = [0u8; 64];
        read(0, &mut head)?;
        let mut header = [0u32; MUTABLE_HEADER_WORDS];
        for (i, w) in header.iter_mut().enumerate() {
            *w = be_word(&head, i);
        }
        if header[RWFLG] != 0 && !force {
            return Err(format!(
                "its write flag is {}: a writer has it open or crashed (librmn refuses it too); force the append to take it over",
                header[RWFLG]
            ));
        }
        if header[NBD] == 0 {
            return Err("it has no directory page".into());
        }
        let mut pages = Vec::new();
        let mut entries = Vec::new();
        let mut page = vec![0u8; PAGE_BYTES];
        let mut addr = HEADER_UNITS + 1;
        let (mut last_nent, mut last_checksum, mut last_next) = (0, 0, 0);
        let mut used_end = 0u64;
        let mut deleted = 0u32;
        for page_no in 0..header[NBD] {
            let offset = unit_offset(addr);
            read(offset, &mut page)?;
            pages.push(addr);
            last_nent = be_word(&page, 5).min(ENTRIES_PER_PAGE as u32);
            last_checksum = be_word(&page, 6);
            last_next = be_word(&page, 4);
            used_end = used_end.max(offset + PAGE_BYTES as u64);
            for slot in 0..last_nent as usize {
                let base = PAGE_HEADER_WORDS + slot * ENTRY_WORDS;
                let word0 = be_word(&page, base);
                let idtyp = word0 >> 24;
                if idtyp != 0 {
                    // Deleted records keep their space.
                    let end =
                        unit_offset(be_word(&page, base + 1)) + u64::from(word0 & 0xFF_FFFF) * 8;
                    used_end = used_end.max(end);
                }
                if idtyp == 0 || idtyp & 0x7E == 0x7E {
                    deleted += u32::from(idtyp != 0);
                    continue;
                }
                let mut words = [0u32; 16];
                for (i, w) in words.iter_mut().enumerate() {
                    *w = be_word(&page, base + 2 + i);
                }
                entries.push(Entry {
                    words,
                    file_index: page_no * ENTRIES_PER_PAGE as u32 + slot as u32,
                    record_offset: unit_offset(be_word(&page, base + 1)),
                    record_len: u64::from(word0 & 0xFF_FFFF) * 8,
                    slot: Slot::Disk(offset + 4 * base as u64),
                    live: true,
                });
            }
            addr = last_next;
        }
        // Counts as the directory has them (a killed writer may have left the header's one
        // off); the next header write stores them.
        header[NREC] = u32::try_from(entries.len()).unwrap_or(u32::MAX);
        header[NEFF] = deleted;
        let mut writer = XdfWriter {
            header,
            pages,
            last_nent,
            last_checksum,
            used_end,
            buf: Vec::new(),
        };
        // A link past the last page is what a writer killed while adding a page leaves:
        // unlink it, the space beyond the recorded size is reused.
        if last_next != 0 {
            writer.last_checksum ^= last_next;
            let at = writer.last_page_offset() + 16;
            let mut words = Vec::new();
            put_be(&mut words, &[0, last_nent, writer.last_checksum]);
            write_at(file, &words, at)
                .map_err(|e| format!("cannot unlink a page left by a killed writer: {e}"))?;
        }
        let recorded = u64::from(writer.header[FSIZ]) * 8;
        if file_len > recorded {
            // Bytes past the recorded size belong to no record (a writer was killed while it
            // extended the file).
            file.set_len(recorded)
                .map_err(|e| format!("cannot cut unreachable bytes past the recorded size: {e}"))?;
        }
        // The space after the last record, up to the recorded size (a reserve a killed writer
        // left, or librmn's), is reused.
        writer.used_end = writer.used_end.min(recorded);
        Ok((writer, entries))
    }

    fn last_page_offset(&self) -> u64 {
        unit_offset(self.pages.last().copied().unwrap_or(HEADER_UNITS + 1))
    }

    fn write_header(&self, file: &File) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        put_be(&mut bytes, &self.header);
        write_at(file, &bytes, 0)
    }

    /// Make the reserve hold `need` more bytes: extend the file, then the header's size.
    /// Returns the size before, when it had to grow.
    fn reserve(&mut self, file: &File, need: u64) -> Result<Option<u64>, Failure> {
        let reserved = u64::from(self.header[FSIZ]) * 8;
        let want = self.used_end + need;
        if want <= reserved {
            return Ok(None);
        }
        let growth = (reserved / 8).clamp(MIN_GROWTH, MAX_GROWTH);
        let roomy = (want + growth).next_multiple_of(8);
        // The 32-bit size field counts 64-bit units: at most 32 GiB.
        let limit = u64::from(u32::MAX) * 8;
        if want > limit {
            return Err(Failure {
                action: "grow the file past the 32 GiB an XDF header can record",
                source: std::io::ErrorKind::FileTooLarge.into(),
                rolled_back: true,
            });
        }
        let new_len = if file.set_len(roomy.min(limit)).is_ok() {
            roomy.min(limit)
        } else {
            // Not that much room (disk, quota or file size limit): exactly what is needed.
            if let Err(source) = file.set_len(want) {
                let cut = file.set_len(reserved);
                return Err(Failure {
                    action: "extend the file for the record",
                    source,
                    rolled_back: cut.is_ok(),
                });
            }
            want
        };
        self.header[FSIZ] = u32::try_from(new_len / 8).unwrap_or(u32::MAX);
        if let Err(source) = self.write_header(file) {
            self.header[FSIZ] = u32::try_from(reserved / 8).unwrap_or(u32::MAX);
            let cut = file.set_len(reserved);
            return Err(Failure {
                action: "update the file header",
                source,
                rolled_back: cut.is_ok(),
            });
        }
        Ok(Some(reserved))
    }

    /// Give a reserve grown for a record that then failed back.
    fn unreserve(&mut self, file: &File, before: Option<u64>) -> bool {
        let Some(reserved) = before else {
            return true;
        };
        self.header[FSIZ] = u32::try_from(reserved / 8).unwrap_or(u32::MAX);
        self.write_header(file).is_ok() && file.set_len(reserved).is_ok()
    }

    /// Append a record with key words `keys` (16 words) and `payload`; returns its entry.
    pub(super) fn append(
        &mut self,
        file: &File,
        keys: &[u32; 16],
        payload: &Payload<'_>,
        order: WordOrder,
    ) -> Result<Entry, Failure> {
        let units = record_units(payload.words.len());
        let units32 = u32::try_from(units).unwrap_or(u32::MAX);
        let need_page = self.last_nent as usize >= ENTRIES_PER_PAGE;
        let start = self.used_end;
        let need = units * 8 + if need_page { PAGE_BYTES as u64 } else { 0 };
        // 1. Room.
        let grown = self.reserve(file, need)?;
        let start_addr = u32::try_from(start / 8 + 1).unwrap_or(u32::MAX);
        let (page_addr, record_addr) = if need_page {
            (start_addr, start_addr + PAGE_UNITS)
        } else {
            (0, start_addr)
        };
        // 2. Page and record into the reserve.
        self.buf.clear();
        if need_page {
            self.buf.extend_from_slice(&empty_page(page_addr));
        }
        let entry = entry_words(IDTYP_DATA, units32, record_addr, keys);
        if let Err(source) = self.put_record(file, start, &entry, payload, order) {
            let rolled_back = self.unreserve(file, grown);
            return Err(Failure {
                action: "write the record",
                source,
                rolled_back,
            });
        }
        self.used_end = start + need;
        let fail = Failure::after_change;
        // 3. Link the new page.
        if need_page {
            let prev = self.last_page_offset();
            self.last_checksum ^= page_addr;
            let mut link = Vec::new();
            put_be(&mut link, &[page_addr, self.last_nent, self.last_checksum]);
            write_at(file, &link, prev + 16).map_err(fail("link a new directory page"))?;
            self.pages.push(page_addr);
            self.last_nent = 0;
            self.last_checksum = 0;
        }
        // 4. Counters, before the record is visible: a writer killed between
        //    the two leaves a record count one too high, never one too low (rpnpy lists at most
        //    `fstnbr` records).
        self.header[NBD] = u32::try_from(self.pages.len()).unwrap_or(u32::MAX);
        self.header[PLST] = self.pages.last().copied().unwrap_or(HEADER_UNITS + 1);
        self.header[NXTN] += 1;
        self.header[NREC] += 1;
        self.header[NBIG] = self.header[NBIG].max(units32);
        self.write_header(file)
            .map_err(fail("update the file header"))?;
        // 5. Entry, then entry count and checksum: the record becomes visible.
        let page_offset = self.last_page_offset();
        let slot = self.last_nent;
        let entry_at = page_offset + 4 * (PAGE_HEADER_WORDS + slot as usize * ENTRY_WORDS) as u64;
        let mut bytes = Vec::new();
        put_be(&mut bytes, &entry);
        write_at(file, &bytes, entry_at).map_err(fail("write the directory entry"))?;
        let nent = slot + 1;
        self.last_checksum ^= entry.iter().fold(slot ^ nent, |a, w| a ^ w);
        bytes.clear();
        put_be(&mut bytes, &[nent, self.last_checksum]);
        write_at(file, &bytes, page_offset + 20).map_err(fail("update the directory page"))?;
        self.last_nent = nent;
        Ok(Entry {
            words: *keys,
            file_index: (self.pages.len() as u32 - 1) * ENTRIES_PER_PAGE as u32 + slot,
            record_offset: unit_offset(record_addr),
            record_len: units * 8,
            slot: Slot::Disk(entry_at),
            live: true,
        })
    }

    /// Give the unused reserve back: the header's size first (a reader then sees only trailing
    /// bytes), then the file is cut.
    pub(super) fn close(&mut self, file: &File) -> Result<(), Failure> {
        let fail = Failure::after_change;
        if u64::from(self.header[FSIZ]) * 8 > self.used_end {
            self.header[FSIZ] = u32::try_from(self.used_end / 8).unwrap_or(u32::MAX);
            self.write_header(file)
                .map_err(fail("update the file header"))?;
            file.set_len(self.used_end)
                .map_err(fail("give back the unused reserve"))?;
        }
        Ok(())
    }

    /// Write the record (entry copy, two aux words, payload padded to 64 bits) from `at`,
    /// after whatever `self.buf` holds (a new page).
    fn put_record(
        &mut self,
        file: &File,
        at: u64,
        entry: &[u32; ENTRY_WORDS],
        payload: &Payload<'_>,
        order: WordOrder,
    ) -> std::io::Result<()> {
        put_be(&mut self.buf, entry);
        put_be(&mut self.buf, &[0, 0]);
        let pad: &[u8] = if payload.words.len() % 2 == 1 {
            &[0; 4]
        } else {
            &[]
        };
        let mut scratch = Vec::new();
        write_record(
            file,
            at,
            &self.buf,
            (payload.words, order),
            true,
            pad,
            &mut scratch,
        )
    }

    /// librmn's fst98 rewrite of a record of the same length: the new record over the old one,
    /// the same directory slot. Not atomic: a writer killed during it leaves a mix.
    pub(super) fn rewrite_in_place(
        &mut self,
        file: &File,
        old: &Entry,
        keys: &[u32; 16],
        payload: &Payload<'_>,
        order: WordOrder,
    ) -> Result<Entry, Failure> {
        let Slot::Disk(entry_at) = old.slot else {
            return Err(Failure::internal("rewrite a record with no directory slot"));
        };
        let fail = Failure::after_change;
        let units = record_units(payload.words.len());
        let addr = u32::try_from(old.record_offset / 8 + 1).unwrap_or(0);
        let entry = entry_words(
            IDTYP_DATA,
            u32::try_from(units).unwrap_or(u32::MAX),
            addr,
            keys,
        );
        self.buf.clear();
        self.put_record(file, old.record_offset, &entry, payload, order)
            .map_err(fail("overwrite the record"))?;
        let mut old_entry = [0u8; 72];
        read_at(file, &mut old_entry, entry_at).map_err(fail("read the directory entry"))?;
        let delta = entry
            .iter()
            .enumerate()
            .fold(0, |a, (i, w)| a ^ be_word(&old_entry, i) ^ w);
        let mut bytes = Vec::new();
        put_be(&mut bytes, &entry);
        write_at(file, &bytes, entry_at).map_err(fail("write the directory entry"))?;
        self.patch_checksum(file, entry_at, delta)
            .map_err(fail("update the directory page"))?;
        // librmn counts an in-place rewrite in both nrwr and neff.
        self.header[NRWR] += 1;
        self.header[NEFF] += 1;
        self.write_header(file)
            .map_err(fail("update the file header"))?;
        Ok(Entry {
            words: *keys,
            ..*old
        })
    }

    /// XOR `delta` into the checksum of the page holding the entry at `entry_at`.
    fn patch_checksum(&mut self, file: &File, entry_at: u64, delta: u32) -> std::io::Result<()> {
        let page_offset = self
            .pages
            .iter()
            .map(|&a| unit_offset(a))
            .filter(|&p| p < entry_at)
            .max()
            .unwrap_or(0);
        let checksum = if page_offset == self.last_page_offset() {
            self.last_checksum ^= delta;
            self.last_checksum
        } else {
            let mut word = [0u8; 4];
            read_at(file, &mut word, page_offset + 24)?;
            u32::from_be_bytes(word) ^ delta
        };
        write_at(file, &checksum.to_be_bytes(), page_offset + 24)
    }

    /// Mark a record deleted the way librmn leaves it at close: idtyp 255 in its directory
    /// entry (first, which hides it) and in the copy at the start of the record.
    pub(super) fn delete(&mut self, file: &File, old: &Entry) -> Result<(), Failure> {
        let Slot::Disk(entry_at) = old.slot else {
            return Err(Failure::internal("delete a record with no directory slot"));
        };
        let fail = Failure::after_change;
        let mut word = [0u8; 4];
        read_at(file, &mut word, entry_at).map_err(fail("read the directory entry"))?;
        let old_word = u32::from_be_bytes(word);
        let new_word = IDTYP_DELETED << 24 | (old_word & 0xFF_FFFF);
        write_at(file, &new_word.to_be_bytes(), entry_at)
            .map_err(fail("mark the directory entry deleted"))?;
        self.patch_checksum(file, entry_at, old_word ^ new_word)
            .map_err(fail("update the directory page"))?;
        write_at(file, &new_word.to_be_bytes(), old.record_offset)
            .map_err(fail("mark the record deleted"))?;
        self.header[NEFF] += 1;
        self.header[NREC] = self.header[NREC].saturating_sub(1);
        self.write_header(file)
            .map_err(fail("update the file header"))?;
        Ok(())
    }
}

/// The 18 words of a directory entry (and of the copy that starts its record).
fn entry_words(idtyp: u32, units: u32, addr: u32, keys: &[u32; 16]) -> [u32; ENTRY_WORDS] {
    let mut entry = [0u32; ENTRY_WORDS];
    entry[0] = idtyp << 24 | (units & 0xFF_FFFF);
    entry[1] = addr;
    entry[2..].copy_from_slice(keys);
    entry
}

/// An empty directory page at `addr`: its checksum (XOR of words 4.. without itself) is 0.
fn empty_page(addr: u32) -> Vec<u8> {
    let mut page = Vec::new();
    put_be(&mut page, &[PAGE_UNITS, addr]);
    page.resize(PAGE_BYTES, 0);
    page
}
