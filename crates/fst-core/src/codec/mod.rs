//! Payload codecs, one module per datyp family.
//!
//! Every codec is a pure function from the payload's 32-bit words (already put in host order
//! by the container: XDF stores big-endian words, RSF little-endian) and the record's shape,
//! datyp and nbits, to values in a caller's buffer. Codecs never do I/O, so they can be
//! tested byte-in/values-out, fuzzed and benchmarked alone.

use crate::record::Datyp;

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
}

// --- Interim API surface, replaced by the codec implementation. ---

/// A caller's output buffer, typed like [`Samples`].
#[derive(Debug)]
#[non_exhaustive]
pub enum SamplesMut<'a> {
    /// See [`SampleType::F32`].
    F32(&'a mut [f32]),
}

/// The element type `p` decodes to.
pub fn sample_type(p: &CodecParams) -> Result<SampleType, CodecError> {
    Err(CodecError::Unsupported { datyp: p.datyp.0, nbits: p.nbits })
}

/// Elements in the output buffer of `p`.
pub fn sample_count(p: &CodecParams) -> Result<u64, CodecError> {
    Err(CodecError::Unsupported { datyp: p.datyp.0, nbits: p.nbits })
}

/// Decode into a new buffer.
pub fn decode(_words: &[u32], p: &CodecParams) -> Result<Samples, CodecError> {
    Err(CodecError::Unsupported { datyp: p.datyp.0, nbits: p.nbits })
}

/// Decode into the caller's buffer.
pub fn decode_into(_words: &[u32], p: &CodecParams, _out: SamplesMut<'_>) -> Result<(), CodecError> {
    Err(CodecError::Unsupported { datyp: p.datyp.0, nbits: p.nbits })
}

/// Missing-value mask.
#[must_use]
pub fn missing_mask(_samples: &Samples, _p: &CodecParams) -> Option<Vec<bool>> {
    None
}
