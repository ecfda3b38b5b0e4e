//! Payload codecs, one module per datyp family.
//!
//! Every codec is a pure function from the payload's 32-bit words (already put in host order
//! by the container: XDF stores big-endian words, RSF little-endian) and the record's shape,
//! datyp and nbits, to values in a caller's buffer. Codecs never do I/O, so they can be
//! tested byte-in/values-out, fuzzed and benchmarked alone.
//!
//! Entry points: [`sample_type`] and [`sample_count`] describe the output of a record;
//! [`decode`] allocates it, [`decode_into`] fills a caller's buffer, and
//! [`decode_into_parallel`] does the same with several threads where the encoding allows
//! independent chunks. Values come out exactly as librmn's `fstluk` returns them with its
//! missing-value mode off (the plug values); [`missing_mask`] and [`MissingFlags`] give the
//! mask and librmn's "missing value mode active" substitution. [`encode`] goes the other way:
//! values to payload words as librmn 19.5's `fstecr` packs them (see the `encode` module).
//!
//! Deliberate differences from librmn (fst-format §4.9):
//! * datyp 129 with nbits < 16 is decoded from full 16-bit slots, which gives the values the
//!   writer stored; librmn reads nbits-wide tokens there and returns wrong values.
//! * datyp 130 tokens ≥ 32768 are returned unsigned; newer librmn sign-extends them.
//! * Turbo records (+128) with nk > 1 are refused with [`CodecError::UnsupportedCompression`]:
//!   librmn 19.5 writes corrupt data for them (only the first plane is compressed, and not
//!   recoverably), and newer writers never produce them. Decoding the first plane and leaving
//!   the others undefined would hand out invented values.
//! * The legacy SAMPLE turbo predictor (pre-2006) is refused the same way.
//! * Encodings whose values librmn itself cannot round-trip are refused with
//!   [`CodecError::Unsupported`] rather than decoded into garbage: datyp 1 with nbits > 32,
//!   datyp 2/4 with nbits 33..=63, datyp 5/8 with nbits 33..=63.
//! * Characters (datyp 3 and 7) come out as `ni·nj·nk` bytes; librmn's datyp-3 output is whole
//!   32-bit words, so the padding bytes of the last word are not part of ours.
//!
//! Untrusted payloads: every read is bounds-checked (hot loops check a whole region once,
//! then run without per-element checks), every turbo guard of fst-format §8 is applied
//! (payload length word, predictor, tile step 1..=7, widths, run-length progress), and the
//! payload is checked to be long enough for the announced field *before* the output is
//! allocated, so a small corrupt payload cannot make the decoder allocate much more than the
//! best compression ratio of the format allows.

use crate::record::Datyp;

mod bits;
mod chars;
mod encode;
mod float_packer;
mod ieee;
mod int;
mod missing;
mod packed;
mod turbo16;
mod turbo32;

/// Checks shared by the property tests of the vectorised token-to-value loops.
#[cfg(test)]
pub(crate) mod kernel_checks {
    use proptest::prelude::*;

    /// `decoded` (elements `first..` of a record whose tokens are `tokens`) and the in-place
    /// conversion `in_place` of the token slots hold, element for element, what the scalar
    /// formula `value` gives.
    pub(crate) fn matches_scalar(
        tokens: &[u16],
        first: usize,
        decoded: &[f32],
        value: impl Fn(u32) -> f32,
        in_place: impl Fn(&mut [f32]),
    ) -> Result<(), TestCaseError> {
        for (k, (&o, &t)) in decoded.iter().zip(&tokens[first..]).enumerate() {
            prop_assert_eq!(
                o.to_bits(),
                value(u32::from(t)).to_bits(),
                "element {}",
                first + k
            );
        }
        let mut slots: Vec<f32> = tokens
            .iter()
            .map(|&t| f32::from_bits(u32::from(t)))
            .collect();
        in_place(&mut slots);
        for (&o, &t) in slots.iter().zip(tokens) {
            prop_assert_eq!(o.to_bits(), value(u32::from(t)).to_bits());
        }
        Ok(())
    }
}

pub(crate) use encode::encode_big_endian_words;
pub use encode::{encode, EncodeError, EncodeRequest, Encoded, SamplesRef};
pub use missing::{missing_mask, MissingFlags};

/// What a codec needs to know about a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecParams {
    /// Data type byte, flags included.
    pub datyp: Datyp,
    /// Stored bits per element.
    pub nbits: u8,
    /// Points along i.
    pub ni: u32,
    /// Points along j.
    pub nj: u32,
    /// Points along k.
    pub nk: u32,
}

/// The element type a record decodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum SampleType {
    /// 32-bit float: datyp 1, 6, 5 with nbits ≤ 32, and their turbo variants.
    F32,
    /// 64-bit float: datyp 5 with nbits 64.
    F64,
    /// Unsigned 32-bit integer: datyp 2, 130.
    U32,
    /// Signed 32-bit integer: datyp 4.
    I32,
    /// Unsigned 64-bit integer: datyp 2 with nbits 64 (RSF only).
    U64,
    /// Signed 64-bit integer: datyp 4 with nbits 64 (RSF only).
    I64,
    /// Characters: datyp 3 and 7.
    U8,
    /// Complex of two 32-bit floats, interleaved (re, im): datyp 8 with nbits 32.
    C64,
    /// Complex of two 64-bit floats, interleaved: datyp 8 with nbits 64.
    C128,
    /// The raw 32-bit words of datyp 0 (transparent), `ceil(n·nbits/32)` of them.
    Raw32,
}

/// Decoded values of one record, in Fortran order (i fastest).
///
/// Complex values are interleaved pairs, so `C64` holds `2·n` floats.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Samples {
    /// See [`SampleType::F32`].
    F32(Vec<f32>),
    /// See [`SampleType::F64`].
    F64(Vec<f64>),
    /// See [`SampleType::U32`].
    U32(Vec<u32>),
    /// See [`SampleType::I32`].
    I32(Vec<i32>),
    /// See [`SampleType::U64`].
    U64(Vec<u64>),
    /// See [`SampleType::I64`].
    I64(Vec<i64>),
    /// See [`SampleType::U8`].
    U8(Vec<u8>),
    /// See [`SampleType::C64`].
    C64(Vec<f32>),
    /// See [`SampleType::C128`].
    C128(Vec<f64>),
    /// See [`SampleType::Raw32`].
    Raw32(Vec<u32>),
}

/// What is wrong with a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The payload is shorter than the encoding needs.
    #[error("payload truncated: {needed} words needed, {available} present")]
    Truncated {
        /// Words needed.
        needed: u64,
        /// Words present.
        available: u64,
    },
    /// A header field inside the payload is invalid.
    #[error("invalid {field} in payload header: {found}")]
    BadHeader {
        /// The field.
        field: &'static str,
        /// Its value.
        found: u64,
    },
    /// The datyp/nbits combination is not a valid encoding.
    #[error("datyp {datyp} with nbits {nbits} is not a valid encoding")]
    Unsupported {
        /// Data type byte.
        datyp: u8,
        /// Stored bits per element.
        nbits: u8,
    },
    /// The compressed stream is inconsistent.
    #[error("corrupt compressed stream: {reason}")]
    Corrupt {
        /// What is wrong.
        reason: &'static str,
    },
    /// The output buffer does not fit the record.
    #[error("output buffer holds {found} {sample:?} elements, the record needs {needed}")]
    BufferMismatch {
        /// Element type the record decodes to.
        sample: SampleType,
        /// Elements needed.
        needed: u64,
        /// Elements offered.
        found: u64,
    },
    /// A valid encoding this decoder does not implement.
    #[error("unsupported compression: {what}")]
    UnsupportedCompression {
        /// The feature.
        what: &'static str,
    },
    /// The record's dimensions are impossible (zero) for a payload.
    #[error("invalid record shape {ni}x{nj}x{nk}")]
    InvalidShape {
        /// Points along i.
        ni: u32,
        /// Points along j.
        nj: u32,
        /// Points along k.
        nk: u32,
    },
    /// The decoded record would not fit in this machine's address space.
    #[error("record too large: {count} elements")]
    TooLarge {
        /// Elements of the decoded record.
        count: u64,
    },
    /// Memory for the decoded values (or a scratch plane) could not be reserved.
    #[error("cannot reserve {bytes} bytes for decoding")]
    OutOfMemory {
        /// Bytes asked for.
        bytes: u64,
    },
}

/// A caller's output buffer, typed like [`Samples`].
#[derive(Debug)]
#[non_exhaustive]
pub enum SamplesMut<'a> {
    /// See [`SampleType::F32`].
    F32(&'a mut [f32]),
    /// See [`SampleType::F64`].
    F64(&'a mut [f64]),
    /// See [`SampleType::U32`].
    U32(&'a mut [u32]),
    /// See [`SampleType::I32`].
    I32(&'a mut [i32]),
    /// See [`SampleType::U64`].
    U64(&'a mut [u64]),
    /// See [`SampleType::I64`].
    I64(&'a mut [i64]),
    /// See [`SampleType::U8`].
    U8(&'a mut [u8]),
    /// See [`SampleType::C64`]: interleaved (re, im), `2·n` floats.
    C64(&'a mut [f32]),
    /// See [`SampleType::C128`]: interleaved (re, im), `2·n` floats.
    C128(&'a mut [f64]),
    /// See [`SampleType::Raw32`].
    Raw32(&'a mut [u32]),
}

impl Samples {
    /// The element type.
    #[must_use]
    pub fn sample_type(&self) -> SampleType {
        match self {
            Samples::F32(_) => SampleType::F32,
            Samples::F64(_) => SampleType::F64,
            Samples::U32(_) => SampleType::U32,
            Samples::I32(_) => SampleType::I32,
            Samples::U64(_) => SampleType::U64,
            Samples::I64(_) => SampleType::I64,
            Samples::U8(_) => SampleType::U8,
            Samples::C64(_) => SampleType::C64,
            Samples::C128(_) => SampleType::C128,
            Samples::Raw32(_) => SampleType::Raw32,
        }
    }

    /// Datyp 0's raw words as the `n` elements of `nbits` bits they hold: the inverse of
    /// [`encode`](crate::codec::encode) given an array whose element size is nbits, which
    /// stores the caller's buffer verbatim (`ceil(n·nbits/32)` words), as librmn's `fstecr`
    /// does. Point k is bytes `k·nbits/8 ..` of the words in memory order, little-endian as
    /// on the hosts librmn runs on: `U8` for nbits 8, `U32` for 16 (widened), `U64` for 64.
    /// Other samples and other widths (32: one word a point) come back unchanged, as do
    /// words too few for `n` elements.
    #[must_use]
    pub fn raw_as_elements(self, nbits: u32, n: usize) -> Samples {
        let Samples::Raw32(words) = self else {
            return self;
        };
        let bytes_needed = n.saturating_mul(nbits as usize / 8);
        if !matches!(nbits, 8 | 16 | 64) || words.len().saturating_mul(4) < bytes_needed {
            return Samples::Raw32(words);
        }
        let bytes = || words.iter().flat_map(|w| w.to_le_bytes());
        match nbits {
            8 => Samples::U8(bytes().take(n).collect()),
            16 => {
                let b: Vec<u8> = bytes().take(2 * n).collect();
                Samples::U32(
                    b.chunks_exact(2)
                        .map(|c| match *c {
                            [lo, hi] => u32::from(u16::from_le_bytes([lo, hi])),
                            _ => 0,
                        })
                        .collect(),
                )
            }
            _ => Samples::U64(
                words
                    .chunks_exact(2)
                    .take(n)
                    .map(|p| match *p {
                        [lo, hi] => u64::from(lo) | (u64::from(hi) << 32),
                        _ => 0,
                    })
                    .collect(),
            ),
        }
    }

    /// Number of elements (scalars: a complex value counts twice).
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Samples::F32(v) | Samples::C64(v) => v.len(),
            Samples::F64(v) | Samples::C128(v) => v.len(),
            Samples::U32(v) | Samples::Raw32(v) => v.len(),
            Samples::I32(v) => v.len(),
            Samples::U64(v) => v.len(),
            Samples::I64(v) => v.len(),
            Samples::U8(v) => v.len(),
        }
    }

    /// True when there are no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A mutable view, to pass to [`decode_into`].
    pub fn as_mut(&mut self) -> SamplesMut<'_> {
        match self {
            Samples::F32(v) => SamplesMut::F32(v),
            Samples::F64(v) => SamplesMut::F64(v),
            Samples::U32(v) => SamplesMut::U32(v),
            Samples::I32(v) => SamplesMut::I32(v),
            Samples::U64(v) => SamplesMut::U64(v),
            Samples::I64(v) => SamplesMut::I64(v),
            Samples::U8(v) => SamplesMut::U8(v),
            Samples::C64(v) => SamplesMut::C64(v),
            Samples::C128(v) => SamplesMut::C128(v),
            Samples::Raw32(v) => SamplesMut::Raw32(v),
        }
    }
}

impl SamplesMut<'_> {
    fn sample_type(&self) -> SampleType {
        match self {
            SamplesMut::F32(_) => SampleType::F32,
            SamplesMut::F64(_) => SampleType::F64,
            SamplesMut::U32(_) => SampleType::U32,
            SamplesMut::I32(_) => SampleType::I32,
            SamplesMut::U64(_) => SampleType::U64,
            SamplesMut::I64(_) => SampleType::I64,
            SamplesMut::U8(_) => SampleType::U8,
            SamplesMut::C64(_) => SampleType::C64,
            SamplesMut::C128(_) => SampleType::C128,
            SamplesMut::Raw32(_) => SampleType::Raw32,
        }
    }

    fn len(&self) -> usize {
        match self {
            SamplesMut::F32(v) | SamplesMut::C64(v) => v.len(),
            SamplesMut::F64(v) | SamplesMut::C128(v) => v.len(),
            SamplesMut::U32(v) | SamplesMut::Raw32(v) => v.len(),
            SamplesMut::I32(v) => v.len(),
            SamplesMut::U64(v) => v.len(),
            SamplesMut::I64(v) => v.len(),
            SamplesMut::U8(v) => v.len(),
        }
    }
}

/// How a record's payload is encoded, decided once from its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// datyp 0: the words themselves.
    Raw,
    /// datyp 1.
    Packed,
    /// datyp 2, nbits 1..=32.
    Unsigned(u32),
    /// datyp 2, nbits 64 (RSF).
    Unsigned64,
    /// datyp 4, nbits 1..=32.
    Signed(u32),
    /// datyp 4, nbits 64 (RSF).
    Signed64,
    /// datyp 3.
    R4a,
    /// datyp 7.
    Str,
    /// datyp 5 nbits 32, and datyp 8 nbits 32 (on `2n` scalars).
    Ieee32,
    /// datyp 5 nbits 1..=31.
    IeeeTruncated(u32),
    /// datyp 5 nbits 64, and datyp 8 nbits 64 (on `2n` scalars).
    Ieee64,
    /// datyp 6.
    FloatPacker,
    /// datyp 129.
    Turbo129,
    /// datyp 130.
    Turbo130,
    /// datyp 133.
    Turbo133,
    /// datyp 134.
    Turbo134,
}

/// Everything the decoders need to know about the output.
#[derive(Debug, Clone, Copy)]
struct Layout {
    kind: Kind,
    sample: SampleType,
    /// Elements of the output buffer.
    count: usize,
    /// `ni·nj·nk`.
    n: usize,
    ni: usize,
    nj: usize,
}

fn unsupported(p: &CodecParams) -> CodecError {
    CodecError::Unsupported {
        datyp: p.datyp.0,
        nbits: p.nbits,
    }
}

fn layout(p: &CodecParams) -> Result<Layout, CodecError> {
    use SampleType as S;
    if p.ni == 0 || p.nj == 0 || p.nk == 0 {
        return Err(CodecError::InvalidShape {
            ni: p.ni,
            nj: p.nj,
            nk: p.nk,
        });
    }
    let n64 = u64::from(p.ni) * u64::from(p.nj);
    let n64 = n64
        .checked_mul(u64::from(p.nk))
        .ok_or(CodecError::TooLarge { count: u64::MAX })?;
    let nbits = u32::from(p.nbits);
    let turbo = p.datyp.is_turbo();
    let base = p.datyp.base();
    let (kind, sample) = match (base, turbo, nbits) {
        (0, false, 1..=64) => (Kind::Raw, S::Raw32),
        (1, false, 1..=32) => (Kind::Packed, S::F32),
        (1, true, 1..=16) => (Kind::Turbo129, S::F32),
        (2, false, 1..=32) => (Kind::Unsigned(nbits), S::U32),
        (2, false, 64) => (Kind::Unsigned64, S::U64),
        (2, true, 1..=16) => (Kind::Turbo130, S::U32),
        (3, false, _) => (Kind::R4a, S::U8),
        (4, false, 1..=32) => (Kind::Signed(nbits), S::I32),
        (4, false, 64) => (Kind::Signed64, S::I64),
        (5, false, 32) => (Kind::Ieee32, S::F32),
        (5, false, 1..=31) => (Kind::IeeeTruncated(nbits), S::F32),
        (5, false, 64) => (Kind::Ieee64, S::F64),
        (5, true, 1..=32) => (Kind::Turbo133, S::F32),
        (6, false, 1..=16) => (Kind::FloatPacker, S::F32),
        (6, true, 1..=16) => (Kind::Turbo134, S::F32),
        (7, false, _) => (Kind::Str, S::U8),
        (8, false, 32) => (Kind::Ieee32, S::C64),
        (8, false, 64) => (Kind::Ieee64, S::C128),
        _ => return Err(unsupported(p)),
    };
    if turbo && p.nk > 1 {
        return Err(CodecError::UnsupportedCompression {
            what: "turbo compression with nk > 1 \
                   (librmn 19.5 wrote corrupt data; newer writers never produce it)",
        });
    }
    let count64 = match sample {
        S::Raw32 => {
            u64::try_from((u128::from(n64) * u128::from(nbits)).div_ceil(32)).unwrap_or(u64::MAX)
        }
        S::C64 | S::C128 => n64.saturating_mul(2),
        _ => n64,
    };
    let (Ok(count), Ok(n)) = (usize::try_from(count64), usize::try_from(n64)) else {
        return Err(CodecError::TooLarge { count: count64 });
    };
    Ok(Layout {
        kind,
        sample,
        count,
        n,
        ni: p.ni as usize,
        nj: p.nj as usize,
    })
}

/// The element type record `p` decodes to.
pub fn sample_type(p: &CodecParams) -> Result<SampleType, CodecError> {
    layout(p).map(|l| l.sample)
}

/// Elements of the output buffer of record `p`: `n = ni·nj·nk` values, except for datyp 0
/// (`ceil(n·nbits/32)` raw words) and complex records (`2n` interleaved scalars).
pub fn sample_count(p: &CodecParams) -> Result<u64, CodecError> {
    layout(p).map(|l| l.count as u64)
}

fn need(words: &[u32], needed: u64) -> Result<(), CodecError> {
    if (words.len() as u64) < needed {
        return Err(CodecError::Truncated {
            needed,
            available: words.len() as u64,
        });
    }
    Ok(())
}

/// The words `0..L` of a turbo payload, `L` being word 0 (fst-format §4.9).
fn turbo_payload(words: &[u32]) -> Result<&[u32], CodecError> {
    let &l = words.first().ok_or(CodecError::Truncated {
        needed: 2,
        available: 0,
    })?;
    if l < 2 {
        return Err(CodecError::BadHeader {
            field: "turbo payload length",
            found: u64::from(l),
        });
    }
    words.get(..l as usize).ok_or(CodecError::Truncated {
        needed: u64::from(l),
        available: words.len() as u64,
    })
}

/// Words `from..` of `words`, or a truncation error.
fn tail(words: &[u32], from: usize) -> Result<&[u32], CodecError> {
    words.get(from..).ok_or(CodecError::Truncated {
        needed: from as u64 + 1,
        available: words.len() as u64,
    })
}

/// Check, before any output is allocated, that the payload is long enough for what the
/// record announces, so that the allocation is bounded by the payload size (for the turbo
/// codecs, by the best compression ratio the format allows).
fn precheck(words: &[u32], l: &Layout) -> Result<(), CodecError> {
    let n = l.n as u64;
    match l.kind {
        Kind::Raw | Kind::Ieee32 => need(words, l.count as u64),
        Kind::Packed => packed::header(words, n).map(|_| ()),
        Kind::Unsigned(b) | Kind::Signed(b) | Kind::IeeeTruncated(b) => {
            need(words, bits::words_for_bits(n.saturating_mul(u64::from(b))))
        }
        Kind::Unsigned64 | Kind::Signed64 => need(words, n.saturating_mul(2)),
        Kind::R4a | Kind::Str => need(words, chars::payload_words(n)),
        Kind::Ieee64 => need(words, (l.count as u64).saturating_mul(2)),
        Kind::FloatPacker => {
            float_packer::FloatHeader::parse(words, n)?;
            need(words, float_packer::payload_words(n))
        }
        Kind::Turbo129 | Kind::Turbo130 | Kind::Turbo134 => {
            let body = turbo_payload(words)?;
            let at = match l.kind {
                Kind::Turbo129 => 5,
                Kind::Turbo134 => 4,
                _ => 1,
            };
            turbo16::check_header(tail(body, at)?, l.ni, l.nj).map(|_| ())
        }
        Kind::Turbo133 => {
            let body = turbo_payload(words)?;
            // Every 3x3 tile of the mantissa plane costs at least one bit.
            let along = |n: usize| n.saturating_sub(1).div_ceil(3) as u64;
            let tiles = along(l.ni).saturating_mul(along(l.nj));
            need(body, 3 + tiles.div_ceil(32))
        }
    }
}

/// Below this many elements a record is never split between threads.
const PARALLEL_MIN: usize = 1 << 16;

/// A vector of `len` copies of `value`, or [`CodecError::OutOfMemory`].
fn alloc_filled<T: Clone>(len: usize, value: T) -> Result<Vec<T>, CodecError> {
    match crate::alloc::try_vec_filled(len, value) {
        Ok(v) => Ok(v),
        Err(_) => Err(CodecError::OutOfMemory {
            bytes: (len as u64).saturating_mul(size_of::<T>() as u64),
        }),
    }
}

/// Decode record `p` from its payload words into a new buffer.
///
/// The values are those librmn's `fstluk` returns with its missing-value mode off; see
/// [`missing_mask`] for records flagged +64.
pub fn decode(words: &[u32], p: &CodecParams) -> Result<Samples, CodecError> {
    let l = layout(p)?;
    precheck(words, &l)?;
    let c = l.count;
    let mut samples = match l.sample {
        SampleType::F32 => Samples::F32(alloc_filled(c, 0.0)?),
        SampleType::F64 => Samples::F64(alloc_filled(c, 0.0)?),
        SampleType::U32 => Samples::U32(alloc_filled(c, 0)?),
        SampleType::I32 => Samples::I32(alloc_filled(c, 0)?),
        SampleType::U64 => Samples::U64(alloc_filled(c, 0)?),
        SampleType::I64 => Samples::I64(alloc_filled(c, 0)?),
        SampleType::U8 => Samples::U8(alloc_filled(c, 0)?),
        SampleType::C64 => Samples::C64(alloc_filled(c, 0.0)?),
        SampleType::C128 => Samples::C128(alloc_filled(c, 0.0)?),
        SampleType::Raw32 => Samples::Raw32(alloc_filled(c, 0)?),
    };
    decode_layout(words, &l, samples.as_mut(), 1)?;
    Ok(samples)
}

/// Decode record `p` into the caller's buffer, which must have the record's element type
/// ([`sample_type`]) and exactly [`sample_count`] elements.
pub fn decode_into(words: &[u32], p: &CodecParams, out: SamplesMut<'_>) -> Result<(), CodecError> {
    decode_into_parallel(words, p, out, 1)
}

/// Like [`decode_into`], using up to `threads` threads (scoped, joined before returning).
///
/// Encodings with independent elements (datyp 0, 1, 2, 3, 4, 5, 6, 7, 8) are split into
/// contiguous element ranges, one per thread. The 16-bit turbo codecs (129, 130, 134)
/// decompress their bit stream on one thread, then 129 and 134 convert tokens to values in
/// parallel; 133 decodes its two planes with several threads.
/// Small records (under 64 Ki elements) are decoded on the calling thread, and each thread
/// gets at least 16 Ki elements.
pub fn decode_into_parallel(
    words: &[u32],
    p: &CodecParams,
    out: SamplesMut<'_>,
    threads: usize,
) -> Result<(), CodecError> {
    let l = layout(p)?;
    if out.sample_type() != l.sample || out.len() != l.count {
        return Err(CodecError::BufferMismatch {
            sample: l.sample,
            needed: l.count as u64,
            found: out.len() as u64,
        });
    }
    precheck(words, &l)?;
    // At least PARALLEL_MIN / 4 elements per thread: more threads than that only add
    // spawning costs (and a caller asking for thousands gets a sensible number).
    let threads = if l.count < PARALLEL_MIN {
        1
    } else {
        threads.clamp(1, l.count / (PARALLEL_MIN / 4))
    };
    decode_layout(words, &l, out, threads)
}

fn mismatch(l: &Layout, out: &SamplesMut<'_>) -> CodecError {
    CodecError::BufferMismatch {
        sample: l.sample,
        needed: l.count as u64,
        found: out.len() as u64,
    }
}

/// Run `f(first, chunk)` over `threads` contiguous chunks of `out` (on the calling thread
/// when `threads == 1`), returning the first error.
pub(crate) fn par_chunks<T, F>(out: &mut [T], threads: usize, f: F) -> Result<(), CodecError>
where
    T: Send,
    F: Fn(usize, &mut [T]) -> Result<(), CodecError> + Sync,
{
    if threads <= 1 || out.len() < 2 {
        return f(0, out);
    }
    // Multiples of 64 elements keep every chunk start on a word boundary for every width.
    let chunk = out.len().div_ceil(threads).div_ceil(64) * 64;
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = out
            .chunks_mut(chunk)
            .enumerate()
            .map(|(k, part)| s.spawn(move || f(k * chunk, part)))
            .collect();
        let mut result = Ok(());
        for h in handles {
            let r = h.join().unwrap_or(Err(CodecError::Corrupt {
                reason: "a decoding thread panicked",
            }));
            if result.is_ok() {
                result = r;
            }
        }
        result
    })
}

fn decode_layout(
    words: &[u32],
    l: &Layout,
    out: SamplesMut<'_>,
    threads: usize,
) -> Result<(), CodecError> {
    let n = l.n;
    match (l.kind, out) {
        (Kind::Raw, SamplesMut::Raw32(o)) => {
            par_chunks(o, threads, |first, c| int::copy_words(words, first, c))
        }
        (Kind::Packed, SamplesMut::F32(o)) => {
            let h = packed::header(words, n as u64)?;
            par_chunks(o, threads, |first, c| {
                packed::decode_range(words, h, first as u64, c)
            })
        }
        (Kind::Unsigned(b), SamplesMut::U32(o)) => par_chunks(o, threads, |first, c| {
            int::decode_u32_range(words, b, first as u64, c)
        }),
        (Kind::Signed(b), SamplesMut::I32(o)) => par_chunks(o, threads, |first, c| {
            int::decode_i32_range(words, b, first as u64, c)
        }),
        (Kind::Unsigned64, SamplesMut::U64(o)) => par_chunks(o, threads, |first, c| {
            int::decode_u64_range(words, first, c)
        }),
        (Kind::Signed64, SamplesMut::I64(o)) => par_chunks(o, threads, |first, c| {
            int::decode_i64_range(words, first, c)
        }),
        (Kind::R4a, SamplesMut::U8(o)) => {
            par_chunks(o, threads, |first, c| chars::decode_r4a(words, first, c))
        }
        (Kind::Str, SamplesMut::U8(o)) => {
            par_chunks(o, threads, |first, c| chars::decode_string(words, first, c))
        }
        (Kind::Ieee32, SamplesMut::F32(o) | SamplesMut::C64(o)) => {
            par_chunks(o, threads, |first, c| {
                ieee::decode_f32_range(words, first, c)
            })
        }
        (Kind::IeeeTruncated(b), SamplesMut::F32(o)) => par_chunks(o, threads, |first, c| {
            ieee::decode_truncated_range(words, b, first as u64, c)
        }),
        (Kind::Ieee64, SamplesMut::F64(o) | SamplesMut::C128(o)) => {
            par_chunks(o, threads, |first, c| {
                ieee::decode_f64_range(words, first, c)
            })
        }
        (Kind::FloatPacker, SamplesMut::F32(o)) => {
            let h = float_packer::FloatHeader::parse(words, n as u64)?;
            par_chunks(o, threads, |first, c| {
                float_packer::decode_range(words, h, first, c)
            })
        }
        // The 16-bit token streams are decompressed on one thread whatever `threads` says:
        // since the tile parser reads a 3 × 3 tile row in one look-ahead, splitting the stream
        // (a pass to locate the bands, then column differences and a final accumulation)
        // costs more than it saves (2000×1000 datyp 134: 4.5 ms alone, 5.2–5.5 ms on two
        // threads). 133's two 32-bit planes still gain from it.
        (Kind::Turbo130, SamplesMut::U32(o)) => {
            let body = turbo_payload(words)?;
            turbo16::decompress(tail(body, 1)?, l.ni, l.nj, o, 1)
        }
        (Kind::Turbo129, SamplesMut::F32(o)) => {
            let body = turbo_payload(words)?;
            let h = packed::PackedHeader::parse(tail(body, 1)?)?;
            turbo16::decompress(tail(body, 5)?, l.ni, l.nj, bytemuck::cast_slice_mut(o), 1)?;
            par_chunks(o, threads, |_, c| {
                packed::tokens_to_values(h, c);
                Ok(())
            })
        }
        (Kind::Turbo134, SamplesMut::F32(o)) => {
            let body = turbo_payload(words)?;
            let h = float_packer::FloatHeader::parse(tail(body, 1)?, n as u64)?;
            turbo16::decompress(tail(body, 4)?, l.ni, l.nj, bytemuck::cast_slice_mut(o), 1)?;
            par_chunks(o, threads, |_, c| {
                float_packer::tokens_to_values(h, c);
                Ok(())
            })
        }
        (Kind::Turbo133, SamplesMut::F32(o)) => {
            let body = turbo_payload(words)?;
            turbo32::decode(
                tail(body, 1)?,
                l.ni,
                l.nj,
                bytemuck::cast_slice_mut(o),
                threads,
            )
        }
        (_, out) => Err(mismatch(l, &out)),
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are the point
mod tests {
    use super::*;

    #[test]
    fn raw_words_as_the_elements_they_hold() {
        let words = vec![0x0302_0100, 0x0706_0504, 0x0b0a_0908];
        assert_eq!(
            Samples::Raw32(words.clone()).raw_as_elements(8, 10),
            Samples::U8((0..10).collect())
        );
        assert_eq!(
            Samples::Raw32(words.clone()).raw_as_elements(16, 5),
            Samples::U32(vec![0x0100, 0x0302, 0x0504, 0x0706, 0x0908])
        );
        assert_eq!(
            Samples::Raw32(words.clone()).raw_as_elements(64, 1),
            Samples::U64(vec![0x0706_0504_0302_0100])
        );
        // One word a point, too few words, not raw: unchanged.
        for (nbits, n) in [(32, 3), (8, 13), (64, 2), (12, 4)] {
            assert_eq!(
                Samples::Raw32(words.clone()).raw_as_elements(nbits, n),
                Samples::Raw32(words.clone())
            );
        }
        assert_eq!(
            Samples::U32(words.clone()).raw_as_elements(8, 10),
            Samples::U32(words)
        );
    }

    #[test]
    fn ieee64_from_float32_records_its_element_size_as_64() {
        // The newest librmn returns elements of dasiz bits: a 5/64 record marked dasiz 32
        // read back as garbage floats (found by rmn-read on `fst cp --datyp 5 --nbits 64`).
        let values = [1.5f32, -2.25, 3.0, 4.75];
        let req = EncodeRequest {
            datyp: Datyp(5),
            nbits: 64,
            ni: 2,
            nj: 2,
            nk: 1,
        };
        let e = encode(
            SamplesRef::F32(&values),
            None,
            &req,
            &crate::Limits::DEFAULT,
        )
        .unwrap();
        assert_eq!((e.datyp.0, e.nbits, e.dasiz), (5, 64, 64));
        let f32_req = EncodeRequest { nbits: 32, ..req };
        let e = encode(
            SamplesRef::F32(&values),
            None,
            &f32_req,
            &crate::Limits::DEFAULT,
        )
        .unwrap();
        assert_eq!(e.dasiz, 32);
    }

    #[test]
    fn big_endian_words_are_the_native_words_swapped() {
        // What XDF writers ask for: the same payload, each word's bytes in big-endian
        // order in memory, whether the encoder forms them so (1/16) or swaps at the end.
        let (ni, nj) = (37u32, 23u32);
        let n = (ni * nj) as usize;
        let values: Vec<f32> = (0..n)
            .map(|k| (k as f32 * 0.37).sin() * 120.0 + 15.0 + (k % 7) as f32 * 0.01)
            .collect();
        let mut with_nan = values.clone();
        with_nan[5] = f32::NAN;
        let limits = crate::Limits::DEFAULT;
        for (datyp, nbits, v) in [
            (1u8, 16u8, &values),
            (1 + 64, 16, &with_nan),
            (1, 12, &values),
            (1, 16, &values[..1].to_vec()),
            (134, 16, &values),
            (5, 32, &values),
            (133, 32, &values),
            (6, 24, &values),
        ] {
            let req = EncodeRequest {
                datyp: Datyp(datyp),
                nbits,
                ni: if v.len() == 1 { 1 } else { ni },
                nj: if v.len() == 1 { 1 } else { nj },
                nk: 1,
            };
            let native = encode(SamplesRef::F32(v), None, &req, &limits).unwrap();
            let be = encode_big_endian_words(SamplesRef::F32(v), None, &req, &limits).unwrap();
            let swapped: Vec<u32> = native.words.iter().map(|w| w.to_be()).collect();
            assert_eq!(be.words, swapped, "datyp {datyp}/{nbits}");
            assert_eq!(
                (be.datyp, be.nbits, be.dasiz),
                (native.datyp, native.nbits, native.dasiz)
            );
        }
    }

    /// MSB-first bit writer for hand-made payloads.
    #[derive(Default)]
    struct Bits {
        words: Vec<u32>,
        len: u64,
    }

    impl Bits {
        fn put(&mut self, v: u32, n: u32) -> &mut Self {
            for k in (0..n).rev() {
                if self.len % 32 == 0 {
                    self.words.push(0);
                }
                if (v >> k) & 1 == 1 {
                    *self.words.last_mut().unwrap() |= 1 << (31 - self.len % 32);
                }
                self.len += 1;
            }
            self
        }
    }

    fn params(datyp: u8, nbits: u8, ni: u32, nj: u32, nk: u32) -> CodecParams {
        CodecParams {
            datyp: Datyp(datyp),
            nbits,
            ni,
            nj,
            nk,
        }
    }

    /// A 16-bit turbo stream (MINIMUM predictor, one tile of raw 16-bit values) holding
    /// `tokens` for an `ni × nj` grid with `ni·nj <= 49`.
    fn raw_minimum_stream(tokens: &[u32], ni: u32, nj: u32, nbits: u32) -> Vec<u32> {
        assert!(ni <= 7 && nj <= 7 && tokens.len() == (ni * nj) as usize);
        let header = 3 | (7 << 7) | (nbits << 10) | (1 << 15);
        let mut b = Bits::default();
        b.put(15, 4);
        for &t in tokens {
            b.put(t, 16);
        }
        let mut s = vec![header];
        s.extend(&b.words);
        s
    }

    fn with_length_word(mut body: Vec<u32>) -> Vec<u32> {
        body.insert(0, 0);
        if body.len() % 2 == 1 {
            body.push(0);
        }
        body[0] = body.len() as u32;
        body
    }

    /// datyp 129 with nbits < 16: the writer stores every quantized value in a 16-bit slot.
    /// We decode the slots (the values the writer meant); librmn 19.5 and later read
    /// nbits-wide tokens out of the 16-bit stream and return wrong values (fst-format §4.9,
    /// errors of ~60 on a field of amplitude 30 in its test).
    #[test]
    fn turbo_129_with_8_bits_uses_16_bit_slots() {
        let (ni, nj) = (3, 2);
        let tokens = [0u32, 1, 2, 200, 255, 17];
        // compact_float "style 2" header: scale 2^-3, min -4.0 (binary32 0xC0800000:
        // biased exponent 129 -> Mexp 978, sign 1, fraction 0), nbits 8.
        let h = [
            0xFFF << 20 | 6,
            ((4096 - 3) << 16) | (978 << 4) | 1,
            0x8000_0000,
            8 << 8,
        ];
        let mut body = h.to_vec();
        body.extend(raw_minimum_stream(&tokens, ni, nj, 8));
        let words = with_length_word(body);
        let Samples::F32(v) = decode(&words, &params(129, 8, ni, nj, 1)).unwrap() else {
            panic!()
        };
        let expect: Vec<f32> = tokens
            .iter()
            .map(|&t| {
                if t == 0 {
                    -4.0
                } else {
                    ((f64::from(t) * 0.125) * 1.000_000_000_000_1 - 4.0) as f32
                }
            })
            .collect();
        assert_eq!(v, expect);
        assert_eq!(v[3], 21.0); // 200/8 - 4: an nbits-wide reading of the slots would not give it
    }

    /// datyp 130 with nbits 16: tokens >= 32768 are unsigned (newer librmn sign-extends them).
    #[test]
    fn turbo_130_values_are_unsigned() {
        let tokens = [0u32, 32767, 32768, 59989, 65535, 1];
        let words = with_length_word(raw_minimum_stream(&tokens, 3, 2, 16));
        assert_eq!(
            decode(&words, &params(130, 16, 3, 2, 1)).unwrap(),
            Samples::U32(tokens.to_vec())
        );
    }

    #[test]
    fn turbo_with_nk_above_1_is_refused_clearly() {
        for datyp in [129, 130, 133, 134] {
            let e = sample_type(&params(datyp, 16, 10, 10, 2)).unwrap_err();
            assert!(
                matches!(e, CodecError::UnsupportedCompression { .. }),
                "{datyp}: {e}"
            );
            assert!(e.to_string().contains("nk > 1"));
        }
    }

    #[test]
    fn sample_predictor_is_refused_clearly() {
        let words = with_length_word(vec![1 | (3 << 7) | (8 << 10), 0, 0, 0]);
        let e = decode(&words, &params(130, 8, 4, 4, 1)).unwrap_err();
        assert!(
            matches!(e, CodecError::UnsupportedCompression { .. }),
            "{e}"
        );
        assert!(e.to_string().contains("SAMPLE"));
    }

    #[test]
    fn sample_types_and_counts() {
        let cases: [(u8, u8, SampleType, u64); 16] = [
            (0, 8, SampleType::Raw32, 15),
            (0, 64, SampleType::Raw32, 120),
            (1, 16, SampleType::F32, 60),
            (2, 12, SampleType::U32, 60),
            (2, 64, SampleType::U64, 60),
            (3, 8, SampleType::U8, 60),
            (4, 32, SampleType::I32, 60),
            (4, 64, SampleType::I64, 60),
            (5, 24, SampleType::F32, 60),
            (5, 64, SampleType::F64, 60),
            (6, 12, SampleType::F32, 60),
            (7, 16, SampleType::U8, 60),
            (8, 32, SampleType::C64, 120),
            (8, 64, SampleType::C128, 120),
            (133, 32, SampleType::F32, 60),
            (64 + 130, 16, SampleType::U32, 60),
        ];
        for (datyp, nbits, t, count) in cases {
            let p = params(datyp, nbits, 5, 4, 3);
            let p = if datyp & 128 != 0 {
                params(datyp, nbits, 5, 12, 1)
            } else {
                p
            };
            assert_eq!(sample_type(&p).unwrap(), t, "{datyp}/{nbits}");
            assert_eq!(sample_count(&p).unwrap(), count, "{datyp}/{nbits}");
        }
        for (datyp, nbits) in [
            (1, 33),
            (5, 40),
            (8, 16),
            (6, 17),
            (128, 8),
            (132, 16),
            (9, 8),
            (4, 40),
            (135, 8),
        ] {
            assert!(matches!(
                sample_type(&params(datyp, nbits, 5, 4, 1)),
                Err(CodecError::Unsupported { .. })
            ));
        }
        assert!(matches!(
            sample_count(&params(1, 16, 0, 4, 1)),
            Err(CodecError::InvalidShape { .. })
        ));
    }

    #[test]
    fn buffer_mismatch() {
        let words = [0u32; 8];
        let p = params(2, 32, 4, 2, 1);
        let mut small = [0u32; 7];
        assert!(matches!(
            decode_into(&words, &p, SamplesMut::U32(&mut small)),
            Err(CodecError::BufferMismatch {
                needed: 8,
                found: 7,
                ..
            })
        ));
        let mut wrong = [0i32; 8];
        assert!(matches!(
            decode_into(&words, &p, SamplesMut::I32(&mut wrong)),
            Err(CodecError::BufferMismatch { .. })
        ));
        let mut ok = [1u32; 8];
        decode_into(&words, &p, SamplesMut::U32(&mut ok)).unwrap();
        assert_eq!(ok, [0; 8]);
    }

    /// Every splittable encoding gives the same bits whatever the thread count, with element
    /// counts that put chunk boundaries in the middle of words.
    #[test]
    fn parallel_equals_serial() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let words: Vec<u32> = (0..900_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u32
            })
            .collect();
        let mut packed = words.clone();
        packed[0] = 0x7FF0_0000;
        packed[3] = (packed[3] & !0xFF00) | (13 << 8);
        let mut float_packer = words.clone();
        float_packer[0] = 0xEFF0_7F05;
        float_packer[2] = 70_001 * 3;
        for (datyp, nbits, w) in [
            (0u8, 24u8, &words),
            (1, 13, &packed),
            (2, 7, &words),
            (2, 32, &words),
            (2, 64, &words),
            (3, 8, &words),
            (4, 19, &words),
            (4, 64, &words),
            (5, 23, &words),
            (5, 32, &words),
            (5, 64, &words),
            (6, 16, &float_packer),
            (7, 8, &words),
            (8, 32, &words),
            (8, 64, &words),
        ] {
            let p = params(datyp, nbits, 70_001, 3, 1);
            let one = decode(w, &p).unwrap();
            for threads in [2, 3, 7] {
                let mut many = one.clone();
                match &mut many {
                    Samples::F32(v) | Samples::C64(v) => v.fill(0.5),
                    Samples::U32(v) | Samples::Raw32(v) => v.fill(7),
                    Samples::U8(v) => v.fill(7),
                    _ => {}
                }
                decode_into_parallel(w, &p, many.as_mut(), threads).unwrap();
                // Compare bits (NaN != NaN).
                let bits = |s: &Samples| -> Vec<u64> {
                    match s {
                        Samples::F32(v) | Samples::C64(v) => {
                            v.iter().map(|x| u64::from(x.to_bits())).collect()
                        }
                        Samples::F64(v) | Samples::C128(v) => {
                            v.iter().map(|x| x.to_bits()).collect()
                        }
                        Samples::U32(v) | Samples::Raw32(v) => {
                            v.iter().map(|&x| u64::from(x)).collect()
                        }
                        Samples::I32(v) => v.iter().map(|&x| x as u64).collect(),
                        Samples::U64(v) => v.clone(),
                        Samples::I64(v) => v.iter().map(|&x| x as u64).collect(),
                        Samples::U8(v) => v.iter().map(|&x| u64::from(x)).collect(),
                    }
                };
                assert!(
                    bits(&one) == bits(&many),
                    "datyp {datyp}/{nbits}, {threads} threads"
                );
            }
        }
    }

    #[test]
    fn truncated_payloads_are_errors_not_allocations() {
        // A huge datyp-1 record announced over a 4-word payload fails before allocating.
        let words = [0x7FF0_0000, 4096 << 16, 0, 16 << 8];
        let e = decode(&words, &params(1, 16, 1 << 20, 1 << 10, 1)).unwrap_err();
        assert!(matches!(e, CodecError::Truncated { .. }), "{e}");
        // A turbo record whose codec stream is too short for its grid.
        let words = with_length_word(vec![3 | (5 << 7) | (16 << 10), 0]);
        let e = decode(&words, &params(130, 16, 10_000, 10_000, 1)).unwrap_err();
        assert!(matches!(e, CodecError::Truncated { .. }), "{e}");
        // L beyond the payload.
        let e = decode(&[100, 0], &params(130, 16, 2, 2, 1)).unwrap_err();
        assert!(
            matches!(
                e,
                CodecError::Truncated {
                    needed: 100,
                    available: 2
                }
            ),
            "{e}"
        );
        let e = decode(&[1, 0], &params(130, 16, 2, 2, 1)).unwrap_err();
        assert!(matches!(e, CodecError::BadHeader { .. }), "{e}");
    }
}
