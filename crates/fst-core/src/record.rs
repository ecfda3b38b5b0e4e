//! Record metadata: one [`RecordMeta`] per live record, the same shape for both containers.

use std::sync::Arc;

use crate::names::{Etiket, Name, Nomvar, Typvar};

/// Which container a file (and so each of its records) uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Container {
    /// XDF, the "FST98" random-access container (magic `XDF0STDR`).
    Xdf,
    /// RSF, the "FST24" segmented container (magic `RSF0STDF`).
    Rsf,
}

impl Container {
    /// The short name used in listings: `XDF` or `RSF`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Container::Xdf => "XDF",
            Container::Rsf => "RSF",
        }
    }
}

impl std::fmt::Display for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Position of a live record in directory order (0-based). Deleted entries take no position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct RecordIndex(pub u32);

impl std::fmt::Display for RecordIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A byte offset from the start of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct FileOffset(pub u64);

impl std::fmt::Display for FileOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a record's payload (the packed values, after keys and metadata) lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadLocation {
    /// Byte offset of the first payload byte.
    pub offset: FileOffset,
    /// Payload length in bytes (a multiple of 4).
    pub len: u64,
}

/// The data type byte of a record: base type plus the +64 (missing values) and +128 (turbo
/// compression) flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Datyp(pub u8);

impl Datyp {
    /// The base type, without flags (0..=63).
    #[must_use]
    pub fn base(self) -> u8 {
        self.0 & 0x3F
    }
    /// True when the record carries missing values (+64).
    #[must_use]
    pub fn has_missing(self) -> bool {
        self.0 & 0x40 != 0
    }
    /// True when the payload is turbo-compressed (+128).
    #[must_use]
    pub fn is_turbo(self) -> bool {
        self.0 & 0x80 != 0
    }
}

/// The metadata of one record, decoded from its directory entry.
///
/// Values are those of the directory, which is authoritative: `fst_edit_dir` edits only the
/// directory, not the copy of the keys at the start of the record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordMeta {
    /// Position among the live records, in directory order.
    pub index: RecordIndex,
    /// Position among all directory entries, deleted ones included (librmn's `file_index`:
    /// page × 256 + slot in XDF, the running entry number in RSF).
    pub file_index: u32,
    /// The container the record comes from.
    pub container: Container,
    /// Variable name.
    pub nomvar: Nomvar,
    /// Field type.
    pub typvar: Typvar,
    /// Label.
    pub etiket: Etiket,
    /// Grid type, one raw byte (`b'Z'`, `b'L'`, …).
    pub grtyp: u8,
    /// Points along i (fastest varying).
    pub ni: u32,
    /// Points along j.
    pub nj: u32,
    /// Points along k (slowest varying).
    pub nk: u32,
    /// Data type byte, with flags.
    pub datyp: Datyp,
    /// Stored bits per element.
    pub nbits: u8,
    /// Element size in bits of the writer's array (8/16/32/64), or 0 when unknown.
    pub dasiz: u8,
    /// Length of a time step in seconds.
    pub deet: u32,
    /// Time step number.
    pub npas: u32,
    /// Encoded vertical level.
    pub ip1: u32,
    /// Encoded second descriptor (usually the forecast hour).
    pub ip2: u32,
    /// Encoded third descriptor.
    pub ip3: u32,
    /// First grid descriptor.
    pub ig1: u32,
    /// Second grid descriptor.
    pub ig2: u32,
    /// Third grid descriptor.
    pub ig3: u32,
    /// Fourth grid descriptor.
    pub ig4: u32,
    /// The valid date as a CMC date-time stamp (the octal packing of the directory undone).
    pub datev: i32,
    /// The raw 32-bit date word of the directory (octal-packed valid date).
    pub date_word: u32,
    /// Where the whole record starts (XDF: its key copy; RSF: its start-of-record marker).
    pub record_offset: FileOffset,
    /// The whole record's size on disk, keys and metadata included.
    pub record_len: u64,
    /// The payload.
    pub payload: PayloadLocation,
    /// RSF extended metadata: the JSON text stored with the record, if any.
    pub extended_metadata: Option<Arc<str>>,
    /// True for a record found by walking the record framing of an unfinished RSF segment
    /// (see [`crate::OpenOptions::recover`]); such records are in no directory.
    pub recovered: bool,
}

impl RecordMeta {
    /// What the codecs need to know of this record.
    #[must_use]
    pub fn codec_params(&self) -> crate::codec::CodecParams {
        crate::codec::CodecParams {
            datyp: self.datyp,
            nbits: self.nbits,
            ni: self.ni,
            nj: self.nj,
            nk: self.nk,
        }
    }

    /// `ni·nj·nk`, saturating at `u64::MAX`: RSF dimensions are 32-bit each, so a corrupt
    /// entry can announce more than 2^64 points, and every caller compares the count with a
    /// limit (found by the `driver_open` fuzz target, `fuzz/regressions/driver_open/`).
    #[must_use]
    pub fn point_count(&self) -> u64 {
        u64::from(self.ni)
            .saturating_mul(u64::from(self.nj))
            .saturating_mul(u64::from(self.nk))
    }

    /// The grid type as a character.
    #[must_use]
    pub fn grtyp_char(&self) -> char {
        char::from(self.grtyp)
    }

    /// The extended metadata parsed as JSON, if the record has any.
    pub fn extended_metadata_json(&self) -> Option<Result<serde_json::Value, serde_json::Error>> {
        self.extended_metadata.as_deref().map(serde_json::from_str)
    }

    /// The origin date stamp `dateo = datev − deet·npas`, computed with librmn's date
    /// arithmetic (see [`crate::date`]).
    #[must_use]
    pub fn dateo(&self) -> i32 {
        crate::date::dateo_from_datev(self.datev, u64::from(self.deet) * u64::from(self.npas))
    }
}

/// Undo the directory's octal packing of a date stamp: `u = 10·(raw >> 3) + (raw & 7)`,
/// in 32-bit unsigned arithmetic, reinterpreted as a signed stamp.
#[must_use]
pub fn stamp_from_date_word(raw: u32) -> i32 {
    (raw >> 3).wrapping_mul(10).wrapping_add(raw & 7) as i32
}

/// Pack a date stamp the way the directory stores it (inverse of [`stamp_from_date_word`]).
#[must_use]
pub fn date_word_from_stamp(stamp: i32) -> u32 {
    let u = stamp as u32;
    ((u / 10) << 3) | (u % 10)
}

/// The 16 search-key words shared by XDF directory entries (words 2..17) and RSF record
/// metadata (words 3..18), decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keys {
    pub(crate) nomvar: Nomvar,
    pub(crate) typvar: Typvar,
    pub(crate) etiket: Etiket,
    pub(crate) grtyp: u8,
    pub(crate) ni: u32,
    pub(crate) nj: u32,
    pub(crate) nk: u32,
    pub(crate) datyp: u8,
    pub(crate) nbits: u8,
    pub(crate) dasiz: u8,
    pub(crate) deet: u32,
    pub(crate) npas: u32,
    pub(crate) ip1: u32,
    pub(crate) ip2: u32,
    pub(crate) ip3: u32,
    pub(crate) ig1: u32,
    pub(crate) ig2: u32,
    pub(crate) ig3: u32,
    pub(crate) ig4: u32,
    pub(crate) date_word: u32,
}

/// Where a record lies in its file, and what only the container knows about it.
pub(crate) struct Placement {
    pub(crate) index: RecordIndex,
    pub(crate) file_index: u32,
    pub(crate) container: Container,
    pub(crate) record_offset: u64,
    pub(crate) record_len: u64,
    pub(crate) payload: PayloadLocation,
    pub(crate) extended_metadata: Option<Arc<str>>,
    pub(crate) recovered: bool,
}

impl Keys {
    /// The record these keys describe, placed in its file.
    pub(crate) fn into_meta(self, at: Placement) -> RecordMeta {
        RecordMeta {
            index: at.index,
            file_index: at.file_index,
            container: at.container,
            nomvar: self.nomvar,
            typvar: self.typvar,
            etiket: self.etiket,
            grtyp: self.grtyp,
            ni: self.ni,
            nj: self.nj,
            nk: self.nk,
            datyp: Datyp(self.datyp),
            nbits: self.nbits,
            dasiz: self.dasiz,
            deet: self.deet,
            npas: self.npas,
            ip1: self.ip1,
            ip2: self.ip2,
            ip3: self.ip3,
            ig1: self.ig1,
            ig2: self.ig2,
            ig3: self.ig3,
            ig4: self.ig4,
            datev: stamp_from_date_word(self.date_word),
            date_word: self.date_word,
            record_offset: FileOffset(at.record_offset),
            record_len: at.record_len,
            payload: at.payload,
            extended_metadata: at.extended_metadata,
            recovered: at.recovered,
        }
    }

    /// Encode the 16 key words: the inverse of [`Keys::decode`]. With `extended_dims` the high
    /// bits of ni (8) and nj (8) go to the spare bits RSF uses; XDF keeps them 0, as librmn does.
    /// Fields wider than their bits are cut; writers validate them first.
    pub(crate) fn encode(&self, extended_dims: bool) -> [u32; 16] {
        let code = |c: u8| u32::from(c.wrapping_sub(32) & 0x3F);
        let et = self.etiket.as_bytes().map(code);
        let ty = self.typvar.as_bytes().map(code);
        let nm = self.nomvar.as_bytes().map(code);
        let pack5 = |c: &[u32]| c.iter().take(5).fold(0u32, |acc, &x| acc << 6 | x) << 2;
        let (ni_high, nj_high) = if extended_dims {
            (self.ni >> 24 & 0xFF, self.nj >> 24 & 0xFF)
        } else {
            (0, 0)
        };
        [
            (self.deet & 0xFF_FFFF) << 8 | u32::from(self.nbits),
            (self.ni & 0xFF_FFFF) << 8 | u32::from(self.grtyp),
            (self.nj & 0xFF_FFFF) << 8 | u32::from(self.datyp),
            (self.nk & 0xF_FFFF) << 12,
            (self.npas & 0x3FF_FFFF) << 6,
            (self.ig4 & 0xFF_FFFF) << 8 | (self.ig2 >> 16 & 0xFF),
            (self.ig1 & 0xFF_FFFF) << 8 | (self.ig2 >> 8 & 0xFF),
            (self.ig3 & 0xFF_FFFF) << 8 | (self.ig2 & 0xFF),
            pack5(et.get(..5).unwrap_or_default()),
            pack5(et.get(5..10).unwrap_or_default()),
            et.get(10..12)
                .unwrap_or_default()
                .iter()
                .fold(0u32, |acc, &x| acc << 6 | x)
                << 20
                | ty.iter().fold(0u32, |acc, &x| acc << 6 | x) << 8
                | ni_high,
            nm.iter().fold(0u32, |acc, &x| acc << 6 | x) << 8 | u32::from(self.dasiz),
            (self.ip1 & 0xFFF_FFFF) << 4,
            (self.ip2 & 0xFFF_FFFF) << 4 | (nj_high & 0xF),
            (self.ip3 & 0xFFF_FFFF) << 4 | (nj_high >> 4 & 0xF),
            self.date_word,
        ]
    }

    /// Decode the 16 key words. `extended_dims` takes the high bits of ni and nj that RSF
    /// stores in spare bits; XDF readers ignore them, as librmn does.
    #[inline]
    pub(crate) fn decode(w: &[u32; 16], extended_dims: bool) -> Keys {
        let [deet_nbits, ni_grtyp, nj_datyp, nk_ubc, npas, ig4_ig2a, ig1_ig2b, ig3_ig2c, et1, et2, et3_typ, nom_dasiz, ip1, ip2, ip3, date_word] =
            *w;
        let mut ni = ni_grtyp >> 8;
        let mut nj = nj_datyp >> 8;
        if extended_dims {
            ni |= (et3_typ & 0xFF) << 24;
            nj |= (ip2 & 0xF) << 24 | (ip3 & 0xF) << 28;
        }
        // etiket: 5 codes in et1 bits 31..2, 5 in et2, 2 in et3 bits 31..20; typvar: 2 codes
        // in et3 bits 19..8; nomvar: 4 codes in bits 31..8. Decoded straight from the words:
        // this runs once per record at open, so it is on the metadata-listing hot path.
        let (a, b, c) = (et1, et2, et3_typ);
        Keys {
            nomvar: Name::from_code_positions([
                (nom_dasiz, 26),
                (nom_dasiz, 20),
                (nom_dasiz, 14),
                (nom_dasiz, 8),
            ]),
            typvar: Name::from_code_positions([(c, 14), (c, 8)]),
            etiket: Name::from_code_positions([
                (a, 26),
                (a, 20),
                (a, 14),
                (a, 8),
                (a, 2),
                (b, 26),
                (b, 20),
                (b, 14),
                (b, 8),
                (b, 2),
                (c, 26),
                (c, 20),
            ]),
            grtyp: (ni_grtyp & 0xFF) as u8,
            ni,
            nj,
            nk: nk_ubc >> 12,
            datyp: (nj_datyp & 0xFF) as u8,
            nbits: (deet_nbits & 0xFF) as u8,
            dasiz: (nom_dasiz & 0xFF) as u8,
            deet: deet_nbits >> 8,
            npas: npas >> 6,
            ip1: ip1 >> 4,
            ip2: ip2 >> 4,
            ip3: ip3 >> 4,
            ig1: ig1_ig2b >> 8,
            ig2: (ig4_ig2a & 0xFF) << 16 | (ig1_ig2b & 0xFF) << 8 | (ig3_ig2c & 0xFF),
            ig3: ig3_ig2c >> 8,
            ig4: ig4_ig2a >> 8,
            date_word,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_encode_is_the_inverse_of_decode() {
        // The first entry of librmn's xdf_basic.fst ('>>', dasiz 32) and of append.fst (19.5).
        for words in [
            [
                0x20,
                0x304c,
                0x105,
                0x1000,
                0x0,
                0x65_9000,
                0x1900,
                0x2e_e032,
                0x9f2a_6400,
                0x0,
                0xe_0000,
                0x79e0_0020,
                0x4d20,
                0x1_62e0,
                0x0,
                0x1681_0540,
            ],
            [
                0xe_1010,
                0x44c,
                0x401,
                0x1000,
                0x0,
                0x6d_6000,
                0x6400,
                0x34_bc64,
                0xce5c_f3a4,
                0xbee4_4000,
                0xc_0000,
                0xd340_0000,
                0x27cf_8500,
                0x0,
                0x0,
                0x1699_2580,
            ],
        ] {
            assert_eq!(Keys::decode(&words, false).encode(false), words);
        }
        // RSF's extended dimensions go to the spare bits and come back.
        let mut keys = Keys::decode(&[0; 16], true);
        keys.ni = 0x7FFF_FFFF;
        keys.nj = 0x1234_5678;
        let back = Keys::decode(&keys.encode(true), true);
        assert_eq!((back.ni, back.nj), (0x7FFF_FFFF, 0x1234_5678));
        assert_eq!(Keys::decode(&keys.encode(false), true).ni, 0xFF_FFFF);
    }

    #[test]
    fn date_word_round_trip() {
        // From the fixtures: datev 473940800 is stored as 379152640.
        assert_eq!(stamp_from_date_word(379_152_640), 473_940_800);
        assert_eq!(date_word_from_stamp(473_940_800), 379_152_640);
        // Extended stamps are negative and still round-trip through unsigned arithmetic.
        let s = -1_270_466_836;
        assert_eq!(stamp_from_date_word(date_word_from_stamp(s)), s);
    }
}
