//! Encoding: values to payload words, the inverse of [`decode`](super::decode).
//!
//! [`encode`] takes the caller's values and a requested datyp/nbits, applies the substitutions
//! librmn 19.5's `fstecr` makes (fst-format §10, `datyp_nbits_map.json`), refuses the requests
//! librmn would turn into a corrupt record or a crash, and packs the values exactly as librmn
//! does. The result's `datyp`/`nbits` are what goes in the directory; decoding its `words`
//! with them gives the values back (exactly for datyp 0, 2, 3, 4, 5/32, 5/64, 7, 8; within the
//! quantisation for 1, 5 below 32 bits and 6).
//!
//! Missing values (+64, fst-format §4.12): with +64 requested, the elements flagged in the
//! mask, and NaN elements of a float array, are replaced by librmn's plug value before packing;
//! when no element is missing the flag is dropped, as librmn does.
//!
//! Turbo (+128): the first stage is the base type's (datyp 1's 16-bit-slot tokens for 129, the
//! integers for 130, `float_packer`'s tokens for 134, the floats for 133); the `turbo16` and
//! `turbo32` encoders compress it and frame the payload as librmn does (exactly L words, the
//! XDF form), or give up where librmn does, and then the base type is written. A turbo record
//! decodes to exactly what the base type's record of the same request decodes to.

use super::turbo16::encode::Framing;
use super::{
    chars, float_packer, ieee, int, missing, packed, turbo16, turbo32, CodecError, CodecParams,
};
use crate::limits::{LimitError, Limits};
use crate::record::Datyp;

/// Borrowed values to encode, in Fortran order (i fastest). The mirror of
/// [`Samples`](super::Samples), plus the 8- and 16-bit integer arrays librmn's writers accept.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum SamplesRef<'a> {
    /// 32-bit floats.
    F32(&'a [f32]),
    /// 64-bit floats.
    F64(&'a [f64]),
    /// Signed bytes.
    I8(&'a [i8]),
    /// Signed 16-bit integers.
    I16(&'a [i16]),
    /// Signed 32-bit integers.
    I32(&'a [i32]),
    /// Signed 64-bit integers.
    I64(&'a [i64]),
    /// Unsigned bytes; also the characters of datyp 3 and 7.
    U8(&'a [u8]),
    /// Unsigned 16-bit integers.
    U16(&'a [u16]),
    /// Unsigned 32-bit integers.
    U32(&'a [u32]),
    /// Unsigned 64-bit integers.
    U64(&'a [u64]),
    /// Complex of two 32-bit floats, interleaved (re, im): `2·n` floats.
    C64(&'a [f32]),
    /// Complex of two 64-bit floats, interleaved: `2·n` floats.
    C128(&'a [f64]),
    /// Raw 32-bit words for datyp 0: `ceil(n·nbits/32)` of them.
    Raw32(&'a [u32]),
}

impl SamplesRef<'_> {
    /// Number of scalars in the slice.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            SamplesRef::F32(v) | SamplesRef::C64(v) => v.len(),
            SamplesRef::F64(v) | SamplesRef::C128(v) => v.len(),
            SamplesRef::I8(v) => v.len(),
            SamplesRef::I16(v) => v.len(),
            SamplesRef::I32(v) => v.len(),
            SamplesRef::I64(v) => v.len(),
            SamplesRef::U8(v) => v.len(),
            SamplesRef::U16(v) => v.len(),
            SamplesRef::U32(v) | SamplesRef::Raw32(v) => v.len(),
            SamplesRef::U64(v) => v.len(),
        }
    }

    /// True when the slice is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bits per element of the caller's array (the directory's `dasiz`).
    #[must_use]
    pub fn element_bits(&self) -> u8 {
        match self {
            SamplesRef::I8(_) | SamplesRef::U8(_) => 8,
            SamplesRef::I16(_) | SamplesRef::U16(_) => 16,
            SamplesRef::F32(_)
            | SamplesRef::I32(_)
            | SamplesRef::U32(_)
            | SamplesRef::C64(_)
            | SamplesRef::Raw32(_) => 32,
            SamplesRef::F64(_) | SamplesRef::I64(_) | SamplesRef::U64(_) | SamplesRef::C128(_) => {
                64
            }
        }
    }

    /// A short name of the element type, for messages.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            SamplesRef::F32(_) => "f32",
            SamplesRef::F64(_) => "f64",
            SamplesRef::I8(_) => "i8",
            SamplesRef::I16(_) => "i16",
            SamplesRef::I32(_) => "i32",
            SamplesRef::I64(_) => "i64",
            SamplesRef::U8(_) => "u8",
            SamplesRef::U16(_) => "u16",
            SamplesRef::U32(_) => "u32",
            SamplesRef::U64(_) => "u64",
            SamplesRef::C64(_) => "complex f32",
            SamplesRef::C128(_) => "complex f64",
            SamplesRef::Raw32(_) => "raw 32-bit words",
        }
    }
}

/// What to write: the requested encoding and the record's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeRequest {
    /// Requested data type, flags (+64 missing values, +128 turbo) included.
    pub datyp: Datyp,
    /// Requested bits per element.
    pub nbits: u8,
    /// Points along i.
    pub ni: u32,
    /// Points along j.
    pub nj: u32,
    /// Points along k.
    pub nk: u32,
}

/// An encoded payload and the parameters to store with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The payload as 32-bit word values (what [`decode`](super::decode) takes; the
    /// container chooses the byte order on disk).
    pub words: Vec<u32>,
    /// The data type as stored, after librmn's substitutions (R32 → E32, F17..24 → R, turbo
    /// dropped, +64 dropped when nothing is missing, …).
    pub datyp: Datyp,
    /// Bits per element as stored.
    pub nbits: u8,
    /// Element size of the caller's array in bits: 8, 16, 32 or 64.
    pub dasiz: u8,
}

impl Encoded {
    /// The decoding parameters of this payload for a record of shape `ni × nj × nk`.
    #[must_use]
    pub fn params(&self, ni: u32, nj: u32, nk: u32) -> CodecParams {
        CodecParams {
            datyp: self.datyp,
            nbits: self.nbits,
            ni,
            nj,
            nk,
        }
    }
}

/// Why values cannot be encoded as requested.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A dimension is zero.
    #[error("invalid record shape {ni}x{nj}x{nk}")]
    InvalidShape {
        /// Points along i.
        ni: u32,
        /// Points along j.
        nj: u32,
        /// Points along k.
        nk: u32,
    },
    /// The number of values does not match the shape.
    #[error("{found} {what} given, the record {ni}x{nj}x{nk} needs {expected}")]
    LengthMismatch {
        /// What was counted ("values", "mask elements", "words").
        what: &'static str,
        /// Expected count.
        expected: u64,
        /// Count given.
        found: u64,
        /// Points along i.
        ni: u32,
        /// Points along j.
        nj: u32,
        /// Points along k.
        nk: u32,
    },
    /// No such data type, or librmn cannot write it (it crashes or writes garbage).
    #[error("datyp {datyp} with nbits {nbits} cannot be written: {reason}")]
    Unsupported {
        /// Requested data type.
        datyp: u8,
        /// Requested bits per element.
        nbits: u8,
        /// Why.
        reason: &'static str,
    },
    /// The array's element type does not fit the data type.
    #[error("datyp {datyp} cannot be written from {sample} values{hint}")]
    WrongSampleType {
        /// Requested data type.
        datyp: u8,
        /// The array's element type.
        sample: &'static str,
        /// What to do instead (starts with "; " when present).
        hint: &'static str,
    },
    /// A float the data type cannot hold (NaN or infinity).
    #[error("element {index} is {value}, which datyp {datyp} cannot hold{hint}")]
    NotFinite {
        /// Index of the first offending element.
        index: u64,
        /// Its value.
        value: f64,
        /// Data type being written.
        datyp: u8,
        /// What to do instead (starts with "; " when present).
        hint: &'static str,
    },
    /// The quantisation range overflows (max − min is not a finite binary32/binary64).
    #[error("the range of the values ({min} .. {max}) is too wide for datyp {datyp}")]
    RangeTooWide {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
        /// Data type being written.
        datyp: u8,
    },
    /// An integer that does not fit in `nbits` bits of the data type.
    #[error("element {index} = {value} does not fit datyp {datyp} with nbits {nbits} ({range})")]
    IntegerOutOfRange {
        /// Index of the first offending element.
        index: u64,
        /// Its value.
        value: i128,
        /// Data type being written.
        datyp: u8,
        /// Bits per element.
        nbits: u8,
        /// The representable range, for the message.
        range: String,
    },
    /// Missing values were given for a data type that cannot carry them, or without +64.
    #[error("missing values given for datyp {datyp}: {reason}")]
    MissingNotAllowed {
        /// Requested data type.
        datyp: u8,
        /// Why.
        reason: &'static str,
    },
    /// The record exceeds the configured limits.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// The payload's memory could not be reserved.
    #[error("cannot reserve {bytes} bytes for the payload")]
    OutOfMemory {
        /// Bytes asked for.
        bytes: u64,
    },
    /// The turbo stage refused arguments the dispatcher let through (a bug in fst-core).
    #[error("turbo stage of datyp {datyp} with nbits {nbits} failed: {source}")]
    Turbo {
        /// Requested data type.
        datyp: u8,
        /// Bits per element.
        nbits: u8,
        /// What the turbo encoder reported.
        source: CodecError,
    },
}

fn unsupported(req: &EncodeRequest, reason: &'static str) -> EncodeError {
    EncodeError::Unsupported {
        datyp: req.datyp.0,
        nbits: req.nbits,
        reason,
    }
}

/// The encoding chosen for a request, after librmn's substitutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    /// Stored base type (0..=8).
    base: u8,
    /// Turbo requested and still possible.
    turbo: bool,
    /// Stored nbits.
    nbits: u8,
}

/// librmn 19.5's `fstecr` substitutions (fst-format §10; `fixtures/xdf/datyp_nbits_map.json`),
/// with the requests it crashes on or writes garbage for refused.
fn plan(req: &EncodeRequest, values: &SamplesRef<'_>) -> Result<Plan, EncodeError> {
    let mut base = req.datyp.base();
    let mut turbo = req.datyp.is_turbo();
    let mut nbits = req.nbits;
    if nbits == 0 {
        return Err(unsupported(req, "nbits must be at least 1"));
    }
    if nbits > 64 {
        return Err(unsupported(req, "nbits must be at most 64"));
    }
    // Turbo only ever applies to 16-bit tokens, except 133 (IEEE) up to 32 bits.
    if turbo && base != 5 && nbits > 16 {
        turbo = false;
    }
    match base {
        0 => turbo = false,
        1 => {
            if nbits == 31 || nbits == 32 {
                (base, nbits, turbo) = (5, 32, false);
            } else if nbits > 32 {
                return Err(unsupported(
                    req,
                    "librmn packs R above 32 bits into records it cannot read back; use datyp 5 with nbits 64",
                ));
            }
        }
        2 | 4 => {
            if base == 4 {
                turbo = false;
            }
            // librmn narrows the stored width to the caller's 8/16-bit elements.
            match values {
                SamplesRef::I8(_) | SamplesRef::U8(_) if base == 2 => nbits = nbits.min(8),
                SamplesRef::I16(_) | SamplesRef::U16(_) if base == 2 => nbits = nbits.min(16),
                _ => {}
            }
            let wide = matches!(values, SamplesRef::I64(_) | SamplesRef::U64(_));
            if nbits > 32 && !(nbits == 64 && wide && !turbo) {
                return Err(unsupported(
                    req,
                    "integers take 1..=32 bits (64 only from 64-bit arrays, read back by RSF readers)",
                ));
            }
        }
        3 | 7 => {
            turbo = false;
            if nbits < 8 {
                return Err(unsupported(
                    req,
                    "characters need nbits >= 8 (librmn crashes or truncates below)",
                ));
            }
            if base == 3 {
                nbits = 8;
            }
        }
        5 => {
            if turbo && nbits == 64 {
                turbo = false;
            }
            if nbits > 32 && nbits != 64 {
                return Err(unsupported(
                    req,
                    "IEEE takes 1..=32 or 64 bits (librmn stops on others)",
                ));
            }
            if turbo && nbits <= 9 {
                // librmn's 133 writes values it cannot read back at 8 bits and below; at 9 it
                // keeps no mantissa bit, which plain E9 stores as well, readable everywhere.
                turbo = false;
            }
        }
        6 => {
            if nbits == 64 {
                return Err(unsupported(
                    req,
                    "librmn writes garbage for F64; use datyp 5 with nbits 64",
                ));
            }
            if nbits > 24 {
                (base, nbits, turbo) = (5, 32, false);
            } else if nbits > 16 {
                (base, turbo) = (1, false);
            }
        }
        8 => {
            turbo = false;
            if nbits != 32 && nbits != 64 {
                return Err(unsupported(req, "complex IEEE takes nbits 32 or 64"));
            }
        }
        _ => return Err(unsupported(req, "no such data type")),
    }
    if turbo && req.nk > 1 {
        // librmn 19.5 writes turbo records with nk > 1 that no reader decodes.
        turbo = false;
    }
    if turbo && base == 1 && nbits < 16 {
        // librmn writes 129 below 16 bits (quantised to nbits, in 16-bit slots) but reads it
        // back wrongly (fst-format §4.9): plain R is readable by every reader.
        turbo = false;
    }
    Ok(Plan { base, turbo, nbits })
}

/// `ni·nj·nk`, checked against the limits.
fn element_count(req: &EncodeRequest, limits: &Limits) -> Result<u64, EncodeError> {
    if req.ni == 0 || req.nj == 0 || req.nk == 0 {
        return Err(EncodeError::InvalidShape {
            ni: req.ni,
            nj: req.nj,
            nk: req.nk,
        });
    }
    // Saturating: a product past u64 cannot match any slice, and fails the limits or the
    // length check.
    let n = (u64::from(req.ni) * u64::from(req.nj)).saturating_mul(u64::from(req.nk));
    let scalars = if req.datyp.base() == 8 {
        n.saturating_mul(2)
    } else {
        n
    };
    if scalars > limits.max_values_per_record {
        return Err(LimitError::Values {
            found: scalars,
            limit: limits.max_values_per_record,
        }
        .into());
    }
    Ok(n)
}

fn check_len(
    req: &EncodeRequest,
    what: &'static str,
    expected: u64,
    found: usize,
) -> Result<(), EncodeError> {
    if expected != found as u64 {
        return Err(EncodeError::LengthMismatch {
            what,
            expected,
            found: found as u64,
            ni: req.ni,
            nj: req.nj,
            nk: req.nk,
        });
    }
    Ok(())
}

/// An empty vector with room for `len` elements, or [`EncodeError::OutOfMemory`].
pub(crate) fn vec_for<T>(len: u64) -> Result<Vec<T>, EncodeError> {
    let oom = EncodeError::OutOfMemory {
        bytes: len.saturating_mul(size_of::<T>() as u64),
    };
    let Ok(cap) = usize::try_from(len) else {
        return Err(oom);
    };
    crate::alloc::try_vec_with_capacity(cap).map_err(|_reserve| oom)
}

/// An empty vector with room for `words` payload words.
pub(crate) fn words_vec(words: u64) -> Result<Vec<u32>, EncodeError> {
    vec_for(words)
}

fn wrong_type(datyp: u8, values: &SamplesRef<'_>, hint: &'static str) -> EncodeError {
    EncodeError::WrongSampleType {
        datyp,
        sample: values.type_name(),
        hint,
    }
}

/// Encode `values` as `req` asks, the way librmn 19.5's `fstecr` does.
///
/// `missing`, when given, flags missing elements (`true`), one per element; NaN elements of a
/// float array are missing too when the request carries +64. Missing values need +64 and a
/// base type 1, 2, 4, 5 or 6.
///
/// Element types: `F32` for datyp 1, 5 (nbits ≤ 32) and 6; `F64` (or `F32`, widened) for
/// datyp 5 with nbits 64; integers for 2 and 4 (64-bit arrays also with nbits 64); bytes
/// (`U8`/`I8`, or for 3 the `ceil(n/4)` host words as `U32`/`Raw32`) for 3 and 7;
/// `C64`/`C128` for 8; for datyp 0 `Raw32` words (`ceil(n·nbits/32)`), or any array whose
/// element size is nbits, copied as a little-endian host's memory.
pub fn encode(
    values: SamplesRef<'_>,
    missing: Option<&[bool]>,
    req: &EncodeRequest,
    limits: &Limits,
) -> Result<Encoded, EncodeError> {
    encode_in(values, missing, req, limits, false)
}

/// [`encode`], the payload words' bytes in big-endian order in memory (each word's value
/// byte-swapped on a little-endian host): what an XDF file stores, so that its writer needs
/// no swap. Datyp 1 at 16 bits, the usual packing, forms them so directly; the others are
/// swapped where they are made.
pub(crate) fn encode_big_endian_words(
    values: SamplesRef<'_>,
    missing: Option<&[bool]>,
    req: &EncodeRequest,
    limits: &Limits,
) -> Result<Encoded, EncodeError> {
    encode_in(values, missing, req, limits, true)
}

fn encode_in(
    values: SamplesRef<'_>,
    missing: Option<&[bool]>,
    req: &EncodeRequest,
    limits: &Limits,
    big_endian_words: bool,
) -> Result<Encoded, EncodeError> {
    let n = element_count(req, limits)?;
    let plan = plan(req, &values)?;
    let expected = match (plan.base, &values) {
        (0, SamplesRef::Raw32(_)) => (u128::from(n) * u128::from(plan.nbits)).div_ceil(32) as u64,
        (3, SamplesRef::Raw32(_) | SamplesRef::U32(_)) => n.div_ceil(4),
        (8, _) => n.saturating_mul(2),
        _ => n,
    };
    check_len(req, "values", expected, values.len())?;
    if let Some(m) = missing {
        check_len(req, "mask elements", n, m.len())?;
    }
    let flagged = missing.is_some_and(|m| m.iter().any(|&x| x));
    let plugged = if req.datyp.has_missing() {
        if !matches!(plan.base, 1 | 2 | 4 | 5 | 6) {
            return Err(EncodeError::MissingNotAllowed {
                datyp: req.datyp.0,
                reason: "only datyp 1, 2, 4, 5 and 6 can carry missing values",
            });
        }
        missing::plug(values, missing, plan.base, plan.nbits)?
    } else if flagged {
        return Err(EncodeError::MissingNotAllowed {
            datyp: req.datyp.0,
            reason: "the request lacks the +64 flag",
        });
    } else {
        None
    };
    let samples = match &plugged {
        Some(p) => p.as_ref(),
        None => values,
    };
    let (words, turbo) = match samples {
        SamplesRef::F32(v) if big_endian_words && plan.base == 1 && !plan.turbo => (
            packed::encode_big_endian(v, u32::from(plan.nbits), req.datyp.0)?,
            false,
        ),
        _ => {
            let (mut words, turbo) = encode_plain(samples, req, plan)?;
            if big_endian_words && cfg!(target_endian = "little") {
                super::bits::swap_bytes_in_place(&mut words);
            }
            (words, turbo)
        }
    };
    let mut datyp = plan.base;
    if turbo {
        datyp |= 128;
    }
    if plugged.is_some() {
        datyp |= 64;
    }
    // IEEE 64 from float32 values stores doubles: the element size is the stored one. With
    // dasiz 32 the newest librmn (which returns elements of dasiz bits) reads the doubles
    // as garbage floats; librmn 19.5 ignores dasiz.
    let dasiz = if plan.base == 5 && plan.nbits == 64 {
        64
    } else {
        values.element_bits()
    };
    Ok(Encoded {
        words,
        datyp: Datyp(datyp),
        nbits: plan.nbits,
        dasiz,
    })
}

/// Pack values that hold no missing element. Returns the words and whether the turbo stage
/// was applied.
fn encode_plain(
    values: SamplesRef<'_>,
    req: &EncodeRequest,
    plan: Plan,
) -> Result<(Vec<u32>, bool), EncodeError> {
    let datyp = req.datyp.0;
    let nbits = u32::from(plan.nbits);
    let words = match (plan.base, values) {
        (0 | 3, SamplesRef::Raw32(w)) | (3, SamplesRef::U32(w)) => copy_words(w)?,
        (0, _) if u32::from(values.element_bits()) == nbits => host_words(values)?,
        (0, _) => {
            return Err(wrong_type(
                datyp,
                &values,
                "; datyp 0 takes raw words, or an array whose element size is nbits",
            ))
        }
        (1, SamplesRef::F32(v)) => {
            // The quantiser refuses values that are not finite.
            if plan.turbo {
                let (header, tokens) = packed::encode_tokens16(v, nbits, datyp)?;
                if let Some(words) = turbo_tokens(Framing::Packed(&header), &tokens, req, nbits)? {
                    return Ok((words, true));
                }
            }
            packed::encode(v, nbits, datyp)?
        }
        (2 | 4, _) => {
            let words = int::encode(values, plan.base, nbits, datyp)?;
            if plan.turbo {
                let tokens = int::tokens16(values)?;
                if let Some(words) = turbo_tokens(Framing::Unsigned, &tokens, req, nbits)? {
                    return Ok((words, true));
                }
            }
            words
        }
        (3, SamplesRef::U8(v)) => chars::encode_r4a(v)?,
        (3, SamplesRef::I8(v)) => chars::encode_r4a(bytemuck::cast_slice(v))?,
        (7, SamplesRef::U8(v)) => chars::encode_string(v)?,
        (7, SamplesRef::I8(v)) => chars::encode_string(bytemuck::cast_slice(v))?,
        (5, SamplesRef::F64(v)) if nbits == 64 => ieee::encode_f64(v.iter().copied())?,
        (5, SamplesRef::F32(v)) if nbits == 64 => {
            ieee::encode_f64(v.iter().map(|&x| f64::from(x)))?
        }
        (5, SamplesRef::F32(v)) => {
            if plan.turbo {
                let (ni, nj) = (req.ni as usize, req.nj as usize);
                if let Some(words) = turbo32::encode::encode_payload(v, ni, nj, nbits)
                    .map_err(|e| turbo_error(req, nbits, e))?
                {
                    return Ok((words, true));
                }
            }
            ieee::encode_f32(v, nbits)?
        }
        (6, SamplesRef::F32(v)) => {
            // The quantiser refuses values that are not finite.
            if plan.turbo {
                let (header, tokens) = float_packer::encode_tokens(v, nbits, datyp)?;
                if let Some(words) =
                    turbo_tokens(Framing::FloatPacker(&header), &tokens, req, nbits)?
                {
                    return Ok((words, true));
                }
            }
            float_packer::encode(v, nbits, datyp)?
        }
        (8, SamplesRef::C64(v)) if nbits == 32 => ieee::encode_f32(v, 32)?,
        (8, SamplesRef::C128(v)) if nbits == 64 => ieee::encode_f64(v.iter().copied())?,
        (8, SamplesRef::C64(v)) if nbits == 64 => {
            ieee::encode_f64(v.iter().map(|&x| f64::from(x)))?
        }
        (base, _) => {
            return Err(wrong_type(
                datyp,
                &values,
                match base {
                    1 | 6 => "; convert to f32 first",
                    3 | 7 => "; characters are bytes (u8 or i8)",
                    5 => "; IEEE up to 32 bits takes f32, nbits 64 takes f64 or f32",
                    8 => "; complex takes C64 (nbits 32 or 64) or C128 (nbits 64)",
                    _ => "",
                },
            ))
        }
    };
    Ok((words, false))
}

fn copy_words(w: &[u32]) -> Result<Vec<u32>, EncodeError> {
    let mut words = words_vec(w.len() as u64)?;
    words.extend_from_slice(w);
    Ok(words)
}

/// The caller's array as the 32-bit words of a little-endian host's memory (what librmn copies
/// for datyp 0), the last word zero padded.
fn host_words(values: SamplesRef<'_>) -> Result<Vec<u32>, EncodeError> {
    fn words<const N: usize, T: Copy>(
        v: &[T],
        le: impl Fn(T) -> [u8; N],
    ) -> Result<Vec<u32>, EncodeError> {
        let mut out = words_vec((v.len() as u64 * N as u64).div_ceil(4))?;
        let mut bytes = v.iter().flat_map(|&x| le(x));
        loop {
            let mut w = [0u8; 4];
            let mut got = 0;
            for (d, b) in w.iter_mut().zip(&mut bytes) {
                *d = b;
                got += 1;
            }
            if got == 0 {
                break;
            }
            out.push(u32::from_le_bytes(w));
        }
        Ok(out)
    }
    match values {
        SamplesRef::F32(v) | SamplesRef::C64(v) => words(v, f32::to_le_bytes),
        SamplesRef::F64(v) | SamplesRef::C128(v) => words(v, f64::to_le_bytes),
        SamplesRef::I8(v) => words(v, i8::to_le_bytes),
        SamplesRef::I16(v) => words(v, i16::to_le_bytes),
        SamplesRef::I32(v) => words(v, i32::to_le_bytes),
        SamplesRef::I64(v) => words(v, i64::to_le_bytes),
        SamplesRef::U8(v) => words(v, u8::to_le_bytes),
        SamplesRef::U16(v) => words(v, u16::to_le_bytes),
        SamplesRef::U32(v) | SamplesRef::Raw32(v) => words(v, u32::to_le_bytes),
        SamplesRef::U64(v) => words(v, u64::to_le_bytes),
    }
}

/// The turbo stage of datyp 129, 130 and 134 (`turbo16`'s encoder, which frames the payload
/// as librmn does), or `None` where librmn writes the base datyp instead.
fn turbo_tokens(
    framing: Framing<'_>,
    tokens: &[u16],
    req: &EncodeRequest,
    nbits: u32,
) -> Result<Option<Vec<u32>>, EncodeError> {
    turbo16::encode::encode_payload(framing, tokens, req.ni as usize, req.nj as usize, nbits)
        .map_err(|e| turbo_error(req, nbits, e))
}

/// What the turbo encoders report, for the caller: they only fail for want of memory, since
/// [`plan`] hands them the widths and shapes they take.
fn turbo_error(req: &EncodeRequest, nbits: u32, err: CodecError) -> EncodeError {
    match err {
        CodecError::OutOfMemory { bytes } => EncodeError::OutOfMemory { bytes },
        other => EncodeError::Turbo {
            datyp: req.datyp.0,
            nbits: nbits as u8,
            source: other,
        },
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are the point
mod tests {
    use super::*;

    /// The first stage of librmn's turbo records (129, 134 and their +64 variants): the
    /// header words and, through the decoder's token-to-value step, the tokens, from the
    /// inputs kept in the fixture blob.
    #[test]
    fn turbo_first_stage_matches_librmn_fixtures() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdf");
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("datyps.json")).unwrap()).unwrap();
        let blob = std::fs::read(dir.join("datyps.bin")).unwrap();
        let file = crate::FstFile::open(dir.join("datyps.fst")).unwrap();
        let mut checked = 0;
        for (rec, e) in file.records().iter().zip(m["records"].as_array().unwrap()) {
            if !rec.datyp.is_turbo() || !matches!(rec.datyp.base(), 1 | 6) {
                continue;
            }
            let d = &e["input"];
            let off = d["offset"].as_u64().unwrap() as usize;
            let len = d["nbytes"].as_u64().unwrap() as usize;
            let mut v: Vec<f32> = blob[off..off + len]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            let decoded = file.decode(rec).unwrap();
            if let Some(mask) = &decoded.missing {
                let plugged =
                    missing::plug(SamplesRef::F32(&v), Some(mask), rec.datyp.base(), rec.nbits)
                        .unwrap();
                let Some(missing::Plugged::F32(p)) = plugged else {
                    panic!()
                };
                v = p;
            }
            let crate::codec::Samples::F32(values) = decoded.samples else {
                panic!()
            };
            let payload = file.read_payload_words(rec).unwrap();
            let nbits = u32::from(rec.nbits);
            let (header, tokens): (Vec<u32>, Vec<u16>) = if rec.datyp.base() == 1 {
                let (h, t) = packed::encode_tokens16(&v, nbits, rec.datyp.0).unwrap();
                (h.to_vec(), t)
            } else {
                let (h, t) = float_packer::encode_tokens(&v, nbits, rec.datyp.0).unwrap();
                (h.to_vec(), t)
            };
            assert_eq!(header, payload[1..=header.len()], "{:?}", rec.etiket);
            let mut ours: Vec<f32> = tokens
                .iter()
                .map(|&t| f32::from_bits(u32::from(t)))
                .collect();
            if rec.datyp.base() == 1 {
                packed::tokens_to_values(packed::PackedHeader::parse(&header).unwrap(), &mut ours);
            } else {
                let h = float_packer::FloatHeader::parse(&header, v.len() as u64).unwrap();
                float_packer::tokens_to_values(h, &mut ours);
            }
            assert!(
                ours.iter()
                    .zip(&values)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{:?}",
                rec.etiket
            );
            checked += 1;
        }
        assert!(checked >= 8, "{checked}");
    }
}
