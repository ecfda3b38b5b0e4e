//! [`FstFile`]: an open standard file, whichever its container.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::codec::{self, SampleType, Samples, SamplesMut};
use crate::container::{self, Diagnostic, ReadOptions};
use crate::error::{DecodeError, OpenError, SourceName};
use crate::limits::{LimitError, Limits};
use crate::query::Query;
use crate::record::{Container, RecordIndex, RecordMeta};
use crate::source::{ByteSource, MemorySource};

/// How to open a file.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    limits: Limits,
    recover: bool,
}

impl OpenOptions {
    /// The defaults: [`Limits::DEFAULT`], no recovery.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Use these limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Also list the records of unfinished RSF segments (left by a writer that crashed or is
    /// still writing), found by walking the record framing. librmn never shows them. They are
    /// marked [`RecordMeta::recovered`].
    #[must_use]
    pub fn recover(mut self, recover: bool) -> Self {
        self.recover = recover;
        self
    }
}

/// A decoded record: its values, in Fortran order (i fastest), and which are missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The record the values come from.
    pub record: RecordIndex,
    /// Points along i.
    pub ni: u32,
    /// Points along j.
    pub nj: u32,
    /// Points along k.
    pub nk: u32,
    /// The values, exactly as stored (missing points hold the writer's plug value).
    pub samples: Samples,
    /// For records with missing values (datyp +64): `true` where a value is missing.
    pub missing: Option<Vec<bool>>,
}

/// An open RPN standard file.
///
/// `FstFile` is `Send + Sync`: one open file serves any number of threads at once. Its
/// directory is read once, at open; records are read on demand with positional reads, so no
/// read disturbs another (see [`crate::source`] for why files are not memory-mapped). There
/// is no global state and no limit on the number of open files.
pub struct FstFile {
    source: Arc<dyn ByteSource>,
    path: SourceName,
    container: Container,
    records: Vec<RecordMeta>,
    entry_count: u64,
    diagnostics: Vec<Diagnostic>,
    limits: Limits,
}

impl std::fmt::Debug for FstFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FstFile")
            .field("path", &self.path)
            .field("container", &self.container)
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl FstFile {
    /// Open a file with the default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(path, OpenOptions::default())
    }

    /// Open a file.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Self, OpenError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| OpenError::Open {
            path: SourceName(Some(path.to_path_buf())),
            source,
        })?;
        Self::from_source(Arc::new(file), Some(path.to_path_buf()), options)
    }

    /// Open a file held in memory.
    pub fn from_bytes(
        bytes: impl Into<Arc<[u8]>>,
        options: OpenOptions,
    ) -> Result<Self, OpenError> {
        Self::from_source(Arc::new(MemorySource::new(bytes)), None, options)
    }

    /// Open a file from any [`ByteSource`]; `name` is used in messages.
    pub fn from_source(
        source: Arc<dyn ByteSource>,
        name: Option<PathBuf>,
        options: OpenOptions,
    ) -> Result<Self, OpenError> {
        let path = SourceName(name);
        let read = ReadOptions {
            limits: options.limits,
            recover: options.recover,
        };
        let dir = container::read_directory(source.as_ref(), &path, &read)?;
        Ok(Self {
            source,
            path,
            container: dir.container,
            records: dir.records,
            entry_count: dir.entry_count,
            diagnostics: dir.diagnostics,
            limits: options.limits,
        })
    }

    /// The file's path, if it was opened from one.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.path.0.as_deref()
    }

    /// The container: XDF or RSF.
    #[must_use]
    pub fn container(&self) -> Container {
        self.container
    }

    /// The live records, in directory order.
    #[must_use]
    pub fn records(&self) -> &[RecordMeta] {
        &self.records
    }

    /// The record at `index`, if there is one.
    #[must_use]
    pub fn record(&self, index: RecordIndex) -> Option<&RecordMeta> {
        self.records.get(index.0 as usize)
    }

    /// Number of directory entries, deleted ones included.
    #[must_use]
    pub fn entry_count(&self) -> u64 {
        self.entry_count
    }

    /// Anything unusual found at open that did not prevent reading.
    #[must_use]
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The records that match `query`, in directory order (librmn's `fstinl`).
    pub fn find<'a>(&'a self, query: &'a Query) -> impl Iterator<Item = &'a RecordMeta> + 'a {
        self.records.iter().filter(move |r| query.matches(r))
    }

    /// The first record that matches `query` (librmn's `fstinf`).
    #[must_use]
    pub fn find_first<'a>(&'a self, query: &Query) -> Option<&'a RecordMeta> {
        self.records.iter().find(|r| query.matches(r))
    }

    fn check_owned(&self, rec: &RecordMeta) -> Result<(), DecodeError> {
        match self.records.get(rec.index.0 as usize) {
            Some(own) if own.record_offset == rec.record_offset && own.payload == rec.payload => {
                Ok(())
            }
            _ => Err(DecodeError::Usage {
                path: self.path.clone(),
                record: rec.index,
                reason: "the record does not belong to this file".into(),
            }),
        }
    }

    fn format_error(&self, rec: &RecordMeta, kind: codec::CodecError) -> DecodeError {
        DecodeError::Format {
            path: self.path.clone(),
            record: rec.index,
            offset: rec.payload.offset.0,
            kind,
        }
    }

    /// The element type and count `rec` decodes to, after checking them against the limits.
    pub fn sample_layout(&self, rec: &RecordMeta) -> Result<(SampleType, u64), DecodeError> {
        let params = rec.codec_params();
        let kind = codec::sample_type(&params).map_err(|e| self.format_error(rec, e))?;
        let count = codec::sample_count(&params).map_err(|e| self.format_error(rec, e))?;
        let limit = |limit| DecodeError::Limits {
            path: self.path.clone(),
            record: rec.index,
            limit,
        };
        if rec.point_count() > self.limits.max_values_per_record {
            return Err(limit(LimitError::Values {
                found: rec.point_count(),
                limit: self.limits.max_values_per_record,
            }));
        }
        let bytes = count.saturating_mul(sample_size(kind));
        if bytes > self.limits.max_decoded_bytes {
            return Err(limit(LimitError::DecodedBytes {
                found: bytes,
                limit: self.limits.max_decoded_bytes,
            }));
        }
        Ok((kind, count))
    }

    /// Read a record's payload as 32-bit words in host order.
    pub fn read_payload_words(&self, rec: &RecordMeta) -> Result<Vec<u32>, DecodeError> {
        self.check_owned(rec)?;
        let limit = |limit| DecodeError::Limits {
            path: self.path.clone(),
            record: rec.index,
            limit,
        };
        // A payload never needs to be larger than twice the decoded size plus headers; bound
        // the read by the decode limit so a corrupt length cannot ask for the whole disk.
        if rec.payload.len > self.limits.max_decoded_bytes.saturating_add(1 << 20) {
            return Err(limit(LimitError::DecodedBytes {
                found: rec.payload.len,
                limit: self.limits.max_decoded_bytes,
            }));
        }
        let words_len = usize::try_from(rec.payload.len / 4).map_err(|_too_large| {
            limit(LimitError::OutOfMemory {
                bytes: rec.payload.len,
            })
        })?;
        let mut words =
            crate::alloc::try_vec_filled(words_len, 0u32).map_err(|_reserve_failed| {
                limit(LimitError::OutOfMemory {
                    bytes: rec.payload.len,
                })
            })?;
        let io = |source| DecodeError::Io {
            path: self.path.clone(),
            record: rec.index,
            offset: rec.payload.offset.0,
            len: rec.payload.len,
            source,
        };
        if self.container == Container::Rsf {
            container::rsf_check_frame(self.source.as_ref(), rec).map_err(|e| match e {
                container::FrameError::Io(source) => io(source),
                container::FrameError::Format(kind) => DecodeError::Framing {
                    path: self.path.clone(),
                    record: rec.index,
                    offset: rec.record_offset.0,
                    kind,
                },
            })?;
        }
        self.source
            .read_exact_at(rec.payload.offset.0, bytemuck::cast_slice_mut(&mut words))
            .map_err(io)?;
        match self.container {
            Container::Xdf => words.iter_mut().for_each(|w| *w = u32::from_be(*w)),
            Container::Rsf => words.iter_mut().for_each(|w| *w = u32::from_le(*w)),
        }
        Ok(words)
    }

    /// Decode a record into a new buffer.
    pub fn decode(&self, rec: &RecordMeta) -> Result<Field, DecodeError> {
        self.sample_layout(rec)?;
        let words = self.read_payload_words(rec)?;
        let params = rec.codec_params();
        let samples = codec::decode(&words, &params).map_err(|e| self.format_error(rec, e))?;
        let missing = codec::missing_mask(&samples, &params);
        Ok(Field {
            record: rec.index,
            ni: rec.ni,
            nj: rec.nj,
            nk: rec.nk,
            samples,
            missing,
        })
    }

    /// Decode a record into the caller's buffer, which must have the record's element type and
    /// exactly [`FstFile::sample_layout`] elements. Returns the missing-value mask, if any.
    pub fn decode_into(&self, rec: &RecordMeta, out: SamplesMut<'_>) -> Result<(), DecodeError> {
        self.sample_layout(rec)?;
        let words = self.read_payload_words(rec)?;
        codec::decode_into(&words, &rec.codec_params(), out).map_err(|e| self.format_error(rec, e))
    }
}

/// Bytes per element of a sample type.
#[must_use]
pub fn sample_size(kind: SampleType) -> u64 {
    match kind {
        SampleType::U8 => 1,
        SampleType::F64 | SampleType::U64 | SampleType::I64 | SampleType::C128 => 8,
        _ => 4,
    }
}
