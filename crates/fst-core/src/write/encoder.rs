//! Encoding a record apart from writing it: a [`RecordEncoder`] holds what encoding needs of a
//! writer (its container, limits and path) and nothing of its file, so that records can be
//! encoded on other threads while the writer writes earlier ones ([`FstWriter::write_record`]
//! takes them in whatever order the caller chooses).
//!
//! [`FstWriter::write`] is exactly [`RecordEncoder::encode`] then [`FstWriter::write_record`].

use std::path::PathBuf;

use super::{FstWriter, RecordKeys, WordOrder};
use crate::codec::{self, EncodeRequest, Encoded, SamplesRef};
use crate::error::{RecordLabel, WriteError};
use crate::limits::Limits;
use crate::record::{Container, Datyp};

/// What a writer's records are encoded with: its container (the byte order of the words),
/// its limits, and its path (for error messages). Cheap to clone, `Send` and `Sync`.
#[derive(Debug, Clone)]
pub struct RecordEncoder {
    pub(super) container: Container,
    pub(super) limits: Limits,
    pub(super) path: PathBuf,
}

/// A record's values encoded for one writer's container: what [`FstWriter::write_record`]
/// writes.
#[derive(Debug, Clone)]
pub struct EncodedRecord {
    pub(super) encoded: Encoded,
    pub(super) bounds: Option<(f64, f64)>,
    /// The container whose byte order the words are in (see [`EncodedRecord::order`]).
    pub(super) container: Container,
}

impl EncodedRecord {
    /// The data type as stored, after librmn's substitutions.
    #[must_use]
    pub fn datyp(&self) -> Datyp {
        self.encoded.datyp
    }

    /// Bits per element as stored.
    #[must_use]
    pub fn nbits(&self) -> u8 {
        self.encoded.nbits
    }

    /// Payload size in 32-bit words.
    #[must_use]
    pub fn payload_words(&self) -> usize {
        self.encoded.words.len()
    }

    /// How the words are held: XDF records are encoded straight into big-endian words (the
    /// file's bytes), RSF ones as native values.
    pub(super) fn order(&self) -> WordOrder {
        match self.container {
            Container::Xdf => WordOrder::Container,
            Container::Rsf => WordOrder::Native,
        }
    }
}

impl RecordEncoder {
    /// Encode `values` (Fortran order, `keys.ni·nj·nk` of them) as `datyp`/`nbits` asks, with
    /// librmn's substitutions ([`codec::encode`]). `missing` marks missing points (for the +64
    /// datyps; NaN marks them too). `sequence` is the record's place among the writer's
    /// calls, for the error message (see [`RecordLabel`]).
    ///
    /// # Errors
    /// [`WriteError::Encode`] when the codec refuses the values or the request.
    pub fn encode(
        &self,
        sequence: u64,
        keys: &RecordKeys,
        values: SamplesRef<'_>,
        missing: Option<&[bool]>,
        datyp: Datyp,
        nbits: u8,
    ) -> Result<EncodedRecord, WriteError> {
        let req = EncodeRequest {
            datyp,
            nbits,
            ni: keys.ni,
            nj: keys.nj,
            nk: keys.nk,
        };
        let bounds = keys
            .metadata
            .as_ref()
            .and_then(|_| super::bounds(&values, missing));
        // XDF stores big-endian words: asked of the encoder so (datyp 1 at 16 bits forms
        // them directly from its byte stream, the others are swapped in its own buffer), the
        // record goes to the file in one call with no copy (converting it piece by piece
        // through a scratch buffer made a 1/16 XDF write 40 % slower than the same RSF write).
        let encode = match self.container {
            Container::Xdf => codec::encode_big_endian_words,
            Container::Rsf => codec::encode,
        };
        let encoded =
            encode(values, missing, &req, &self.limits).map_err(|source| WriteError::Encode {
                path: self.path.clone(),
                record: RecordLabel {
                    sequence,
                    nomvar: keys.nomvar.clone(),
                },
                source,
            })?;
        Ok(EncodedRecord {
            encoded,
            bounds,
            container: self.container,
        })
    }
}

impl FstWriter {
    /// The encoder of this writer's records, to encode them on other threads.
    #[must_use]
    pub fn encoder(&self) -> RecordEncoder {
        RecordEncoder {
            container: self.container(),
            limits: self.options.limits,
            path: self.path.clone(),
        }
    }

    /// Number of records this writer has been asked to write so far (every call, skipped and
    /// failed ones included): the `sequence` of the next record's error messages.
    #[must_use]
    pub fn write_calls(&self) -> u64 {
        self.calls
    }
}
