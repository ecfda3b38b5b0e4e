//! A small RSF ("FST24") writer for tests and benchmarks.
//!
//! It lays files out the way librmn does (see `docs/rsf-layout.md`): the empty segment 0,
//! then one segment per write session — `SOS | records | VDIR | EOS` when closed, `SOS |
//! records` (sizes 0) when the writer "crashed". Deleted records are written as librmn leaves
//! them, including its bug: the directory entry of a deleted record holds an absolute
//! address. It writes what tests need, not every option of librmn (no sparse segments).
//!
//! Shared by the unit tests of `container/rsf.rs` (through `#[path]`) and the integration
//! tests, so it uses nothing but `std`.

#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)] // test kit

/// One data record: its metadata words (`R` of them) and its payload words.
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    /// Record metadata: meta0, RSF reserved, FST reserved, 16 legacy keys, JSON words.
    pub(crate) meta: Vec<u32>,
    /// Payload words.
    pub(crate) payload: Vec<u32>,
    /// Write the record as deleted.
    pub(crate) deleted: bool,
    /// Directory metadata words `D`, when not all of `meta` (RSF version 0 kept only the 19
    /// search words in the directory).
    pub(crate) dir_words: Option<usize>,
}

impl Rec {
    /// A version-1 record from its 16 legacy key words, optional JSON text and payload.
    pub(crate) fn new(keys: [u32; 16], json: Option<&str>, payload: Vec<u32>) -> Rec {
        let json_words = json.map(json_words).unwrap_or_default();
        let mut meta = vec![0x0001_0101, 0, 0x0113_0000 | json_words.len() as u32];
        meta.extend_from_slice(&keys);
        meta.extend_from_slice(&json_words);
        Rec {
            meta,
            payload,
            deleted: false,
            dir_words: None,
        }
    }

    /// Copy the data record whose start-of-record marker is at `offset` in `file`.
    pub(crate) fn copy_from(file: &[u8], offset: usize) -> Rec {
        let w = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().unwrap());
        let r = ((w(offset) >> 8) & 0xFFFF) as usize;
        let rl = ((u64::from(w(offset + 4)) << 32) | u64::from(w(offset + 8))) as usize;
        let meta = (0..r).map(|i| w(offset + 16 + 4 * i)).collect();
        let payload_words = (rl - 28 - 4 * r) / 4;
        let payload = (0..payload_words)
            .map(|i| w(offset + 16 + 4 * r + 4 * i))
            .collect();
        Rec {
            meta,
            payload,
            deleted: false,
            dir_words: None,
        }
    }

    /// The 16 legacy key words.
    pub(crate) fn keys_mut(&mut self) -> &mut [u32] {
        &mut self.meta[3..19]
    }

    fn d(&self) -> usize {
        self.dir_words.unwrap_or(self.meta.len())
    }

    fn rl(&self) -> u64 {
        16 + 4 * (self.meta.len() + self.payload.len()) as u64 + 12
    }
}

/// JSON text as NUL-terminated, zero-padded words.
pub(crate) fn json_words(text: &str) -> Vec<u32> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(0);
    while bytes.len() % 4 != 0 {
        bytes.push(0);
    }
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// One write session.
#[derive(Debug, Clone)]
pub(crate) enum Seg {
    /// A closed compact segment with its directory.
    Closed(Vec<Rec>),
    /// A segment whose writer crashed: its start has sizes 0 and there is no directory.
    Open(Vec<Rec>),
}

/// Where the writer put things.
#[derive(Debug, Clone, Default)]
pub(crate) struct Written {
    /// The file.
    pub(crate) bytes: Vec<u8>,
    /// Start of every segment, segment 0 included.
    pub(crate) segments: Vec<u64>,
    /// Start of every data record (live and deleted), in writing order.
    pub(crate) records: Vec<u64>,
    /// Start of every directory record.
    pub(crate) vdirs: Vec<u64>,
}

fn put(out: &mut Vec<u8>, w: u32) {
    out.extend_from_slice(&w.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, v: u64) {
    put(out, (v >> 32) as u32);
    put(out, v as u32);
}

fn sor(out: &mut Vec<u8>, rt: u8, rlm: u32, rl: u64, rlmd: u32, dul: u32) {
    put(out, u32::from(rt) | rlm << 8 | 0xFE << 24);
    put64(out, rl);
    put(out, rlmd | dul << 24);
}

fn eor(out: &mut Vec<u8>, rt: u8, rlm: u32, rl: u64) {
    put64(out, rl);
    put(out, u32::from(rt) | rlm << 8 | 0xFF << 24);
}

fn sos(out: &mut Vec<u8>, seg: u64, sseg: u64, vdir: u64, vdirs: u64) {
    sor(out, 3, 0, 72, 19, 0);
    out.extend_from_slice(b"RSF0STDF");
    put(out, 0xDEAD_BEEF);
    for v in [seg, sseg, vdir, vdirs] {
        put64(out, v);
    }
    eor(out, 3, 0, 72);
}

fn eos(out: &mut Vec<u8>, rlm: u32, seg: u64, sseg: u64, vdir: u64, vdirs: u64) {
    sor(out, 4, rlm, 68, rlm, 0);
    put(out, 0xBEBE_FADA);
    put(out, 0xCAFE_FADE);
    for v in [seg, sseg, vdir, vdirs] {
        put64(out, v);
    }
    eor(out, 4, rlm, 68);
}

/// Write a file: segment 0, then `segments` in order.
pub(crate) fn write(segments: &[Seg]) -> Written {
    let mut w = Written::default();
    let out = &mut w.bytes;
    w.segments.push(0);
    sos(out, 72, 140, 0, 0);
    eos(out, 0, 72, 140, 0, 0);
    for seg in segments {
        let base = out.len() as u64;
        w.segments.push(base);
        let (recs, closed) = match seg {
            Seg::Closed(r) => (r, true),
            Seg::Open(r) => (r, false),
        };
        sos(out, 0, 0, 0, 0);
        let mut placed = Vec::new();
        for rec in recs {
            let at = out.len() as u64;
            w.records.push(at);
            placed.push(at - base);
            let rt = if rec.deleted { 0x80 } else { 1 };
            let r = rec.meta.len() as u32;
            sor(out, rt, r, rec.rl(), rec.d() as u32, 4);
            let mut meta = rec.meta.clone();
            if rec.deleted {
                meta[0] = (meta[0] & !0xFF) | 0x80;
            }
            meta.iter().chain(&rec.payload).for_each(|&x| put(out, x));
            eor(out, rt, r, rec.rl());
        }
        if !closed {
            continue;
        }
        let vdir = out.len() as u64 - base;
        w.vdirs.push(out.len() as u64);
        let vdirs = 16 + 4 + recs.iter().map(|r| 32 + 4 * r.d() as u64).sum::<u64>() + 12;
        sor(out, 6, 1, vdirs, 0, 0);
        put(out, recs.len() as u32);
        for (rec, wa) in recs.iter().zip(&placed) {
            let entry_at = out.len() as u64;
            let mut meta = rec.meta.clone();
            if rec.deleted {
                meta[0] = (meta[0] & !0xFF) | 0x80;
                // librmn's delete rewrites the entry from memory: absolute address, own offset.
                put64(out, base + wa);
                put64(out, rec.rl());
                put64(out, entry_at);
            } else {
                put64(out, *wa);
                put64(out, rec.rl());
                put64(out, 0);
            }
            let (r, d) = (rec.meta.len() as u32, rec.d() as u32);
            put(out, d << 16 | r);
            put(out, 0);
            meta[..rec.d()].iter().for_each(|&x| put(out, x));
        }
        eor(out, 6, 1, vdirs);
        let seg_len = out.len() as u64 - base;
        eos(out, 19, seg_len, seg_len + 68, vdir, vdirs);
        let start = base as usize;
        let mut head = Vec::new();
        sos(&mut head, seg_len, seg_len + 68, vdir, vdirs);
        out[start..start + 72].copy_from_slice(&head);
    }
    w
}
