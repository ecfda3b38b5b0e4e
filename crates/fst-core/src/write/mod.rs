//! Writing FST files: [`FstWriter`] creates a file or appends to one, in either container,
//! record by record, with librmn's rewrite rules.
//!
//! ```
//! use fst_core::write::{FstWriter, Payload, RecordKeys, WriteOptions};
//! use fst_core::{Container, FstFile};
//!
//! let dir = std::env::temp_dir().join(format!("fst-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("new.fst");
//! let mut writer = FstWriter::create(&path, WriteOptions::new(Container::Rsf))?;
//! let keys = RecordKeys { nomvar: "TT".into(), ni: 2, nj: 1, ..RecordKeys::default() };
//! // A datyp-5 payload is the IEEE bits of the values.
//! let words = [1.5f32.to_bits(), (-2.0f32).to_bits()];
//! writer.write_encoded(&keys, &Payload::ieee32(&words))?;
//! writer.close()?;
//!
//! let file = FstFile::open(&path)?;
//! assert_eq!(file.records()[0].nomvar.trimmed(), "TT");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Guarantees
//! - **New files** are written under a temporary name in the same folder (`.NAME.tmp-PID-N`)
//!   and renamed over the final name by [`FstWriter::close`]: no reader ever sees a partial
//!   new file, and a failed or abandoned writer leaves the previous file (if any) in place.
//! - **Appends** never touch a record already in the file, and a writer killed at any instant
//!   leaves a file that our reader and librmn open with every earlier record intact and no
//!   partial record listed (see the order of writes in `xdf.rs` and `rsf.rs`). A write that
//!   fails (disk full, file size limit) cuts the file back to where it was and returns
//!   [`WriteError::RecordIo`]; the writer can go on.
//! - **One writer per file**: an advisory lock (`flock`) on the file, plus, for RSF, librmn's
//!   exclusive-writer flag in the file. Readers may read while a writer writes: XDF records
//!   appear one by one; RSF records appear when their segment closes ([`FstWriter::flush`],
//!   [`FstWriter::close`]).
//! - **Bounded memory**: a record is written as it comes; the writer keeps the keys of the
//!   file's records (for rewrites) and, for RSF, the directory of the open segment.
//!
//! Power loss is another matter: nothing is synced unless [`WriteOptions::sync_on_close`].

mod encoder;
pub mod grid_records;
mod rsf;
mod xdf;

pub use encoder::{EncodedRecord, RecordEncoder};
pub use grid_records::{
    positional_tags, yin_yang_values, PositionalAxes, PositionalRecords, ReferenceGrid, YinYang,
};

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::codec::{Encoded, SamplesRef};
use crate::container::{self, ReadOptions};
use crate::date::DateStamp;
use crate::error::{RecordLabel, SourceName, WriteError};
use crate::ip::{encode_ip, IpStyle, LevelKind};
use crate::limits::Limits;
use crate::names::Name;
use crate::record::{Container, Datyp, Keys};
use crate::source::ByteSource;

/// The keys of a record to write.
///
/// Names are stored in a 6-bit alphabet: printable ASCII only, lower case stored as upper
/// case (as librmn does); trailing blanks are ignored. Numbers must fit their fields:
/// deet, npas, ig1–ig4 < 2²⁴, ip1–ip3 < 2²⁸, nk < 2²⁰, ni and nj < 2²⁴ in XDF (< 2³¹ in RSF).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordKeys {
    /// Variable name, at most 4 characters.
    pub nomvar: String,
    /// Field type, at most 2 characters.
    pub typvar: String,
    /// Label, at most 12 characters.
    pub etiket: String,
    /// Origin date (CMC stamp); the file stores the valid date, `dateo + deet·npas`, computed
    /// like librmn's writers.
    pub dateo: DateStamp,
    /// The valid date to store as is, instead of computing it from `dateo` (for copies of
    /// records, whose origin date librmn's arithmetic cannot always give back).
    pub datev: Option<DateStamp>,
    /// Time step length in seconds.
    pub deet: u32,
    /// Time step number.
    pub npas: u32,
    /// Encoded level (see [`RecordKeys::with_level`]).
    pub ip1: u32,
    /// Encoded second descriptor (usually the forecast hour).
    pub ip2: u32,
    /// Encoded third descriptor.
    pub ip3: u32,
    /// Grid type, one ASCII character.
    pub grtyp: u8,
    /// First grid descriptor.
    pub ig1: u32,
    /// Second grid descriptor.
    pub ig2: u32,
    /// Third grid descriptor.
    pub ig3: u32,
    /// Fourth grid descriptor.
    pub ig4: u32,
    /// Points along i.
    pub ni: u32,
    /// Points along j.
    pub nj: u32,
    /// Points along k.
    pub nk: u32,
    /// RSF extended metadata (a JSON object). librmn's writer adds to it the `data`
    /// description and the `size`; so does this one. XDF cannot store it.
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Default for RecordKeys {
    /// Blank names, date 0, a 1×1×1 `X` grid: librmn's defaults.
    fn default() -> Self {
        Self {
            nomvar: String::new(),
            typvar: String::new(),
            etiket: String::new(),
            dateo: DateStamp(0),
            datev: None,
            deet: 0,
            npas: 0,
            ip1: 0,
            ip2: 0,
            ip3: 0,
            grtyp: b'X',
            ig1: 0,
            ig2: 0,
            ig3: 0,
            ig4: 0,
            ni: 1,
            nj: 1,
            nk: 1,
            metadata: None,
        }
    }
}

impl RecordKeys {
    /// Set ip1 from a level value and kind, new-style encoding (librmn `convip` mode 2).
    pub fn with_level(mut self, value: f32, kind: LevelKind) -> Result<Self, crate::ip::IpError> {
        self.ip1 = encode_ip(value, kind, IpStyle::New)?;
        Ok(self)
    }

    /// The valid date stored for these keys: [`RecordKeys::datev`] if set, else `dateo` plus
    /// `deet·npas` seconds, with librmn's date arithmetic.
    #[must_use]
    pub fn valid_date(&self) -> DateStamp {
        self.datev
            .unwrap_or_else(|| self.dateo.valid_from_origin(self.deet, self.npas))
    }

    /// The keys of a record read from a file, to write a copy of it (its valid date kept as
    /// is; no extended metadata).
    #[must_use]
    pub fn from_meta(m: &crate::record::RecordMeta) -> Self {
        Self {
            nomvar: m.nomvar.trimmed().to_string(),
            typvar: m.typvar.trimmed().to_string(),
            etiket: m.etiket.trimmed().to_string(),
            dateo: DateStamp(m.dateo()),
            datev: Some(DateStamp(m.datev)),
            deet: m.deet,
            npas: m.npas,
            ip1: m.ip1,
            ip2: m.ip2,
            ip3: m.ip3,
            grtyp: m.grtyp,
            ig1: m.ig1,
            ig2: m.ig2,
            ig3: m.ig3,
            ig4: m.ig4,
            ni: m.ni,
            nj: m.nj,
            nk: m.nk,
            metadata: None,
        }
    }
}

/// An encoded payload: the words a codec's encoder produced, and what it stored.
#[derive(Debug, Clone, Copy)]
pub struct Payload<'a> {
    /// Payload words, as [`crate::codec::decode`] takes them.
    pub words: &'a [u32],
    /// Stored data type, flags included.
    pub datyp: Datyp,
    /// Stored bits per element.
    pub nbits: u8,
    /// Element size in bits of the caller's array (8/16/32/64).
    pub dasiz: u8,
    /// Smallest and largest value, for RSF extended metadata (librmn's `bounds`).
    pub bounds: Option<(f64, f64)>,
}

impl<'a> From<&'a Encoded> for Payload<'a> {
    fn from(e: &'a Encoded) -> Self {
        Self {
            words: &e.words,
            datyp: e.datyp,
            nbits: e.nbits,
            dasiz: e.dasiz,
            bounds: None,
        }
    }
}

impl<'a> Payload<'a> {
    /// A datyp-5, 32-bit payload: the IEEE bits of f32 values, one word each.
    #[must_use]
    pub fn ieee32(words: &'a [u32]) -> Self {
        Self {
            words,
            datyp: Datyp(5),
            nbits: 32,
            dasiz: 32,
            bounds: None,
        }
    }
}

/// What to do when the file already holds a record with the same keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rewrite {
    /// Add the record regardless (librmn's default).
    #[default]
    Add,
    /// Write nothing if a record matches on every search key (fst24 `FST_SKIP`): nomvar,
    /// typvar, etiket, ip1–ip3, valid date, deet, npas, ni, nj, nk, grtyp, ig1–ig4.
    Skip,
    /// Replace the record that matches on every search key (fst24 `FST_YES`): the new record
    /// is appended, then the old one deleted.
    Replace,
    /// fst98 `fstecr` with rewrite: the first record with the same nomvar, typvar, etiket and
    /// ip1–ip3 (any date) is replaced; in XDF, in place when the new record has the same
    /// length (not crash-atomic, as in librmn), else by appending and deleting.
    Fst98,
}

/// How to open a file for writing.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    container: Container,
    rewrite: Rewrite,
    force: bool,
    sync: bool,
    limits: Limits,
}

impl WriteOptions {
    /// Defaults: the given container (for new files; appends keep the file's), [`Rewrite::Add`],
    /// no forcing, no sync, [`Limits::DEFAULT`].
    #[must_use]
    pub fn new(container: Container) -> Self {
        Self {
            container,
            rewrite: Rewrite::Add,
            force: false,
            sync: false,
            limits: Limits::DEFAULT,
        }
    }

    /// The rewrite rule for records whose keys match one in the file.
    #[must_use]
    pub fn rewrite(mut self, rewrite: Rewrite) -> Self {
        self.rewrite = rewrite;
        self
    }

    /// Append even when the file says a writer has it (the RSF writer flag, the XDF write
    /// flag) — after a writer was killed, like librmn's `fst24_force_close`. The advisory lock
    /// still refuses a live fstgis writer. An unfinished RSF segment (records no reader ever
    /// listed) is cut off.
    #[must_use]
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// `fsync` the file (and for new files the folder) at close, for durability across a power
    /// loss.
    #[must_use]
    pub fn sync_on_close(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// Limits on what is written (values per record, metadata size) and, when appending, on
    /// the file read.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// What a `write` call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The record was appended; `file_index` is its directory position (deleted entries
    /// counted, as librmn's `file_index`).
    Added {
        /// Directory position.
        file_index: u32,
    },
    /// The record replaced an earlier one, appended at `file_index`.
    Replaced {
        /// Directory position of the new record.
        file_index: u32,
    },
    /// The record was written over an earlier one of the same length (XDF, [`Rewrite::Fst98`]).
    RewrittenInPlace {
        /// Directory position (the old record's).
        file_index: u32,
    },
    /// A matching record exists and [`Rewrite::Skip`] was asked: nothing was written.
    Skipped,
}

/// A directory entry of the file being written.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The 16 search-key words (XDF entry words 2..17, RSF metadata words 3..18).
    words: [u32; 16],
    file_index: u32,
    /// Where the record starts, and its length, in bytes.
    record_offset: u64,
    record_len: u64,
    slot: Slot,
    live: bool,
}

/// Where an entry's directory slot is.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// At this byte offset in the file.
    Disk(u64),
    /// In the open RSF segment's directory, which is still in memory.
    Pending(usize),
}

/// A failed I/O step of a container writer.
#[derive(Debug)]
struct Failure {
    action: &'static str,
    source: io::Error,
    /// The file was cut back to its state before the call.
    rolled_back: bool,
}

/// A file-level step failed: the writer stops, and the error names the file and the step.
fn stopping<'a>(path: &'a Path, stopped: &'a mut bool) -> impl FnOnce(Failure) -> WriteError + 'a {
    move |f| {
        *stopped = true;
        WriteError::Io {
            path: path.to_path_buf(),
            action: f.action,
            source: f.source,
        }
    }
}

impl Failure {
    fn rolled_back(action: &'static str) -> impl FnOnce(io::Error) -> Failure {
        move |source| Failure {
            action,
            source,
            rolled_back: true,
        }
    }

    /// A failure once the file has changed: it is not cut back.
    fn after_change(action: &'static str) -> impl FnOnce(io::Error) -> Failure {
        move |source| Failure {
            action,
            source,
            rolled_back: false,
        }
    }

    fn internal(action: &'static str) -> Failure {
        Failure {
            action,
            source: io::Error::other("inconsistent writer state"),
            rolled_back: true,
        }
    }
}

enum Inner {
    Xdf(xdf::XdfWriter),
    Rsf(rsf::RsfWriter),
}

/// The search words compared by each rewrite rule: a mask per key word.
/// fst98: nomvar, typvar, etiket, ip1–ip3.
const FST98_MASK: [u32; 16] = [
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    !0,
    !0,
    0xFFFF_FF00,
    0xFFFF_FF00,
    0xFFFF_FFF0,
    0xFFFF_FFF0,
    0xFFFF_FFF0,
    0,
];
/// fst24: every search key (datyp, nbits and dasiz aside).
const FST24_MASK: [u32; 16] = [
    0xFFFF_FF00,
    !0,
    0xFFFF_FF00,
    0xFFFF_F000,
    !0,
    !0,
    !0,
    !0,
    !0,
    !0,
    !0,
    0xFFFF_FF00,
    !0,
    !0,
    !0,
    !0,
];

/// Counter for temporary names, so that two writers of one process never collide.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A file open for writing. See the [module documentation](self) for what it guarantees.
///
/// One thread writes at a time (`&mut self`). Dropping a writer without
/// [`close`](Self::close) closes it and ignores errors, except during a panic, when a new file
/// is abandoned.
pub struct FstWriter {
    /// The final path.
    path: PathBuf,
    /// For a new file: the temporary path it is written under until close.
    temp: Option<PathBuf>,
    file: File,
    /// For a new file replacing an existing one: that file, locked until the rename.
    _replaced: Option<File>,
    inner: Inner,
    options: WriteOptions,
    entries: Vec<Entry>,
    /// Entries of the records the file held when opened: `entries[..appended_from]`.
    appended_from: usize,
    /// Entries by (nomvar word, ip1 word), for rewrites.
    by_name: HashMap<(u32, u32), Vec<usize>>,
    calls: u64,
    stopped: bool,
    closed: bool,
}

impl std::fmt::Debug for FstWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FstWriter")
            .field("path", &self.path)
            .field("container", &self.container())
            .field("records", &self.entries.iter().filter(|e| e.live).count())
            .finish_non_exhaustive()
    }
}

fn io_error<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

// `File::try_lock` (flock on Unix, LockFileEx on Windows) is std since Rust 1.89; the
// workspace declares 1.85 but builds with 1.95 (toolchain.md). Writing needs 1.89.
#[allow(clippy::incompatible_msrv)]
fn lock(file: &File, path: &Path) -> Result<(), WriteError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(WriteError::Locked {
            path: path.to_path_buf(),
            reason: "another writer holds its lock".into(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(WriteError::Io {
            path: path.to_path_buf(),
            action: "lock the file",
            source,
        }),
    }
}

impl FstWriter {
    /// Create a new file at `path` in `options`' container. It is written under a temporary
    /// name in the same folder and replaces whatever `path` holds when [closed](Self::close).
    pub fn create(path: impl AsRef<Path>, options: WriteOptions) -> Result<Self, WriteError> {
        let path = path.as_ref().to_path_buf();
        let name = path
            .file_name()
            .ok_or_else(|| WriteError::Io {
                path: path.clone(),
                action: "create a file without a name",
                source: io::ErrorKind::InvalidInput.into(),
            })?
            .to_string_lossy()
            .into_owned();
        // An existing file stays locked until it is replaced, so that no fstgis writer
        // appends to it in the meantime.
        let replaced = match File::open(&path) {
            Ok(f) => {
                lock(&f, &path)?;
                Some(f)
            }
            Err(_absent) => None,
        };
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = path.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(io_error(&path, "create a temporary file in its folder"))?;
        lock(&file, &path)?;
        let inner = match options.container {
            Container::Xdf => xdf::XdfWriter::create(&file).map(Inner::Xdf),
            Container::Rsf => rsf::RsfWriter::create(&file).map(Inner::Rsf),
        };
        let inner = match inner {
            Ok(inner) => inner,
            Err(f) => {
                let _ = std::fs::remove_file(&temp);
                return Err(WriteError::Io {
                    path,
                    action: f.action,
                    source: f.source,
                });
            }
        };
        Ok(Self {
            path,
            temp: Some(temp),
            file,
            _replaced: replaced,
            inner,
            options,
            entries: Vec::new(),
            appended_from: 0,
            by_name: HashMap::new(),
            calls: 0,
            stopped: false,
            closed: false,
        })
    }

    /// Open an existing file to add records to it, in its own container. The file is read
    /// first with our reader (with `options`' limits): a file it cannot open is refused.
    pub fn append(path: impl AsRef<Path>, options: WriteOptions) -> Result<Self, WriteError> {
        let path = path.as_ref().to_path_buf();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_error(&path, "open the file for writing"))?;
        lock(&file, &path)?;
        let len = ByteSource::len(&file).map_err(io_error(&path, "read the file size"))?;
        let read = ReadOptions {
            limits: options.limits,
            recover: false,
        };
        let dir = container::read_directory(&file, &SourceName(Some(path.clone())), &read)
            .map_err(WriteError::Open)?;
        let unappendable = |reason| WriteError::Unappendable {
            path: path.clone(),
            reason,
        };
        let (inner, entries) = match dir.container {
            Container::Xdf => {
                let (w, e) =
                    xdf::XdfWriter::open(&file, len, options.force).map_err(unappendable)?;
                (Inner::Xdf(w), e)
            }
            Container::Rsf => {
                let (w, e) =
                    rsf::RsfWriter::open(&file, len, options.force).map_err(unappendable)?;
                (Inner::Rsf(w), e)
            }
        };
        let mut writer = Self {
            path,
            temp: None,
            file,
            _replaced: None,
            inner,
            options,
            entries: Vec::new(),
            appended_from: 0,
            by_name: HashMap::new(),
            calls: 0,
            stopped: false,
            closed: false,
        };
        for e in entries {
            writer.remember(e);
        }
        writer.appended_from = writer.entries.len();
        Ok(writer)
    }

    /// The container being written.
    #[must_use]
    pub fn container(&self) -> Container {
        match self.inner {
            Inner::Xdf(_) => Container::Xdf,
            Inner::Rsf(_) => Container::Rsf,
        }
    }

    /// The final path of the file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn remember(&mut self, e: Entry) {
        if self.options.rewrite != Rewrite::Add {
            self.by_name
                .entry(name_key(&e.words))
                .or_default()
                .push(self.entries.len());
        }
        self.entries.push(e);
    }

    /// The first live entry matching `words` under `mask`.
    fn find(&self, words: &[u32; 16], mask: &[u32; 16]) -> Option<usize> {
        self.by_name
            .get(&name_key(words))?
            .iter()
            .copied()
            .find(|&i| {
                self.entries.get(i).is_some_and(|e| {
                    e.live
                        && e.words
                            .iter()
                            .zip(words)
                            .zip(mask)
                            .all(|((a, b), m)| a & m == b & m)
                })
            })
    }

    fn label(&self, keys: &RecordKeys) -> RecordLabel {
        RecordLabel {
            sequence: self.calls,
            nomvar: keys.nomvar.clone(),
        }
    }

    /// Encode `values` (Fortran order, `ni·nj·nk` of them) as `datyp`/`nbits` asks, with
    /// librmn's substitutions ([`codec::encode`]), and write the record. `missing` marks
    /// missing points (for the +64 datyps; NaN marks them too).
    pub fn write(
        &mut self,
        keys: &RecordKeys,
        values: SamplesRef<'_>,
        missing: Option<&[bool]>,
        datyp: Datyp,
        nbits: u8,
    ) -> Result<Written, WriteError> {
        let record = self
            .encoder()
            .encode(self.calls, keys, values, missing, datyp, nbits)
            .inspect_err(|_| self.calls += 1)?;
        self.write_record(keys, &record)
    }

    /// Write a record a [`RecordEncoder`] of this writer (or of another writer of the same
    /// container) encoded.
    pub fn write_record(
        &mut self,
        keys: &RecordKeys,
        record: &EncodedRecord,
    ) -> Result<Written, WriteError> {
        if record.container != self.container() {
            self.calls += 1;
            return Err(WriteError::InvalidRecord {
                path: self.path.clone(),
                record: self.label(keys),
                field: "payload",
                reason: format!(
                    "encoded for {:?}, written to {:?}",
                    record.container,
                    self.container()
                ),
            });
        }
        let mut payload = Payload::from(&record.encoded);
        payload.bounds = record.bounds;
        self.write_payload(keys, &payload, record.order())
    }

    /// Write a record whose values are already encoded.
    pub fn write_encoded(
        &mut self,
        keys: &RecordKeys,
        payload: &Payload<'_>,
    ) -> Result<Written, WriteError> {
        self.write_payload(keys, payload, WordOrder::Native)
    }

    /// [`FstWriter::write_encoded`] of payload words held in `order`.
    #[allow(clippy::too_many_lines)] // one sequence of checks and steps, each commented
    fn write_payload(
        &mut self,
        keys: &RecordKeys,
        payload: &Payload<'_>,
        order: WordOrder,
    ) -> Result<Written, WriteError> {
        let label = self.label(keys);
        self.calls += 1;
        if self.stopped || self.closed {
            return Err(WriteError::Stopped {
                path: self.path.clone(),
            });
        }
        let invalid = |field, reason| WriteError::InvalidRecord {
            path: self.path.clone(),
            record: label.clone(),
            field,
            reason,
        };
        let container = self.container();
        let words = key_words(keys, payload, container, &self.options.limits)
            .map_err(|(field, reason)| invalid(field, reason))?;
        let json = match (&keys.metadata, container) {
            (None, _) => None,
            (Some(_), Container::Xdf) => {
                return Err(invalid(
                    "metadata",
                    "XDF files cannot store extended metadata; write RSF".into(),
                ))
            }
            (Some(m), Container::Rsf) => {
                let text = metadata_text(m, keys, payload);
                let limit = self.options.limits.max_metadata_bytes;
                if text.len() as u64 >= limit {
                    return Err(invalid(
                        "metadata",
                        format!("{} bytes of JSON exceed the limit of {limit}", text.len()),
                    ));
                }
                Some(text)
            }
        };
        if container == Container::Xdf {
            let units = xdf::record_units(payload.words.len());
            if units > xdf::MAX_RECORD_UNITS || payload.words.len() as u64 > xdf::MAX_PAYLOAD_WORDS
            {
                return Err(invalid(
                    "payload",
                    format!(
                        "{} words do not fit in an XDF record (at most {} words); write RSF",
                        payload.words.len(),
                        xdf::MAX_PAYLOAD_WORDS
                    ),
                ));
            }
        }
        let found = match self.options.rewrite {
            Rewrite::Add => None,
            Rewrite::Skip | Rewrite::Replace => self.find(&words, &FST24_MASK),
            Rewrite::Fst98 => self.find(&words, &FST98_MASK),
        };
        let record_failure = |f: Failure, path: &Path| WriteError::RecordIo {
            path: path.to_path_buf(),
            record: label.clone(),
            action: f.action,
            source: f.source,
        };
        if let (Some(i), Rewrite::Skip) = (found, self.options.rewrite) {
            let _ = i;
            return Ok(Written::Skipped);
        }
        // fst98 in place: same length, XDF only.
        if let (Some(i), Rewrite::Fst98, Inner::Xdf(w)) =
            (found, self.options.rewrite, &mut self.inner)
        {
            if let Some(old) = self.entries.get(i).copied() {
                if old.record_len == 8 * xdf::record_units(payload.words.len()) {
                    let new = w
                        .rewrite_in_place(&self.file, &old, &words, payload, order)
                        .map_err(|f| {
                            self.stopped = true;
                            record_failure(f, &self.path)
                        })?;
                    if let Some(e) = self.entries.get_mut(i) {
                        *e = new;
                    }
                    return Ok(Written::RewrittenInPlace {
                        file_index: new.file_index,
                    });
                }
            }
        }
        let appended = match &mut self.inner {
            Inner::Xdf(w) => w.append(&self.file, &words, payload, order),
            Inner::Rsf(w) => w.append(&self.file, &words, json.as_deref(), payload),
        };
        let new = appended.map_err(|f| {
            self.stopped |= !f.rolled_back;
            record_failure(f, &self.path)
        })?;
        self.remember(new);
        let Some(i) = found else {
            return Ok(Written::Added {
                file_index: new.file_index,
            });
        };
        let Some(old) = self.entries.get(i).copied() else {
            return Ok(Written::Added {
                file_index: new.file_index,
            });
        };
        let deleted = match &mut self.inner {
            Inner::Xdf(w) => w.delete(&self.file, &old),
            Inner::Rsf(w) => w.delete(&self.file, &old),
        };
        deleted.map_err(|f| {
            self.stopped = true;
            record_failure(f, &self.path)
        })?;
        if let Some(e) = self.entries.get_mut(i) {
            e.live = false;
        }
        Ok(Written::Replaced {
            file_index: new.file_index,
        })
    }

    /// Delete a record of the file (librmn's `fsteff`, `fst24_delete`): its
    /// directory entry and its record are marked deleted, as librmn marks them; the space is
    /// not reclaimed. `record` is the record as our reader listed it from this file: it is
    /// found by its `file_index` and must start at the same byte, so that a listing of another
    /// file (or an older listing of this one) cannot delete the wrong record.
    ///
    /// Returns `false` when no live record of the file matches (already deleted, or not in
    /// this file). XDF entries are marked at once; RSF entries of closed segments when the
    /// writer's segment closes ([`FstWriter::flush`], [`FstWriter::close`]).
    pub fn delete(&mut self, record: &crate::record::RecordMeta) -> Result<bool, WriteError> {
        let label = RecordLabel {
            sequence: self.calls,
            nomvar: record.nomvar.trimmed().to_string(),
        };
        self.calls += 1;
        if self.stopped || self.closed {
            return Err(WriteError::Stopped {
                path: self.path.clone(),
            });
        }
        // Entries are kept in directory order (an in-place rewrite keeps its position).
        let at = self
            .entries
            .partition_point(|e| e.file_index < record.file_index);
        let Some(old) = self.entries.get(at).copied() else {
            return Ok(false);
        };
        if old.file_index != record.file_index
            || !old.live
            || old.record_offset != record.record_offset.0
        {
            return Ok(false);
        }
        let deleted = match &mut self.inner {
            Inner::Xdf(w) => w.delete(&self.file, &old),
            Inner::Rsf(w) => w.delete(&self.file, &old),
        };
        deleted.map_err(|f| {
            self.stopped = true;
            WriteError::RecordIo {
                path: self.path.clone(),
                record: label,
                action: f.action,
                source: f.source,
            }
        })?;
        if let Some(e) = self.entries.get_mut(at) {
            e.live = false;
        }
        Ok(true)
    }

    /// Write the file-level metadata record librmn's `Meta_WriteFile` writes (RSF only): an
    /// ordinary record, nomvar `META`, typvar `X`, etiket `FILE_JSON`, a 360×180 one-bit
    /// bitmap on an `L` grid, whose extended metadata is `json` (the "file profile":
    /// institution, title, …). Readers find it by those names. The bitmap, a picture in
    /// librmn, is blank here.
    pub fn write_file_metadata(
        &mut self,
        json: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Written, WriteError> {
        const NI: u32 = 360;
        const NJ: u32 = 180;
        let keys = RecordKeys {
            nomvar: "META".into(),
            typvar: "X".into(),
            etiket: "FILE_JSON".into(),
            grtyp: b'L',
            ig1: 100,
            ig2: 100,
            ni: NI,
            nj: NJ,
            metadata: Some(json),
            ..RecordKeys::default()
        };
        let words = vec![0u32; (NI * NJ).div_ceil(64) as usize * 2];
        self.write_encoded(
            &keys,
            &Payload {
                words: &words,
                datyp: Datyp(0),
                nbits: 1,
                dasiz: 1,
                bounds: Some((0.0, 0.0)),
            },
        )
    }

    /// Make the records written so far visible to readers. XDF records are visible as soon
    /// as written; for RSF this closes the open segment (the next record opens another).
    pub fn flush(&mut self) -> Result<(), WriteError> {
        if self.stopped || self.closed {
            return Err(WriteError::Stopped {
                path: self.path.clone(),
            });
        }
        if let Inner::Rsf(w) = &mut self.inner {
            w.close_segment(&self.file)
                .map_err(stopping(&self.path, &mut self.stopped))?;
        }
        Ok(())
    }

    /// Finish the file: close the RSF segment and clear the writer flag; for a new file,
    /// rename it to its final name. Returns the final path.
    pub fn close(mut self) -> Result<PathBuf, WriteError> {
        self.finish()?;
        Ok(self.path.clone())
    }

    /// Stop without finishing. A new file is deleted (the previous file at its path, if any,
    /// stays). An existing file is left as a writer killed at this point would leave it:
    /// every record it held before is intact; for RSF, the records of this session are in an
    /// unfinished segment that readers do not list and the writer flag stays set (a later
    /// append needs [`WriteOptions::force`]).
    pub fn abandon(mut self) {
        self.closed = true;
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }

    /// Stop and take back what this writer added, so that readers list what they listed
    /// before it opened the file (the all-or-nothing end of a copy that failed part-way):
    /// - a new file is deleted, as by [`abandon`](Self::abandon);
    /// - in an existing XDF file, the records this writer added are marked deleted (as
    ///   librmn's `fstdel` marks them: the bytes stay, no reader lists them) and the file is
    ///   closed cleanly;
    /// - in an existing RSF file they are in the unfinished segment, which no reader lists; the
    ///   writer flag stays set, as after [`abandon`](Self::abandon) (the next append needs
    ///   [`WriteOptions::force`], which cuts that segment off).
    ///
    /// Records replaced under a rewrite rule other than [`Rewrite::Add`] are not restored.
    ///
    /// # Errors
    /// An XDF directory entry could not be marked (the records of this session not yet marked
    /// stay listed), or the close failed.
    pub fn discard(mut self) -> Result<(), WriteError> {
        let xdf = match &mut self.inner {
            Inner::Xdf(w) if self.temp.is_none() && !self.closed => w,
            // A new file, an RSF file, or nothing left to take back.
            _ => {
                self.abandon();
                return Ok(());
            }
        };
        let added = self.entries.get(self.appended_from..).unwrap_or_default();
        // Newest first: a failure leaves the file as a writer killed earlier would have.
        for e in added.iter().rev().filter(|e| e.live) {
            xdf.delete(&self.file, e)
                .map_err(stopping(&self.path, &mut self.stopped))?;
        }
        for e in self.entries.iter_mut().skip(self.appended_from) {
            e.live = false;
        }
        self.finish()
    }

    fn finish(&mut self) -> Result<(), WriteError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        if self.stopped {
            // A new file that failed is abandoned; an existing one keeps what was written.
            if let Some(temp) = self.temp.take() {
                let _ = std::fs::remove_file(temp);
            }
            return Err(WriteError::Stopped {
                path: self.path.clone(),
            });
        }
        let closed = match &mut self.inner {
            Inner::Xdf(w) => w.close(&self.file),
            Inner::Rsf(w) => w.close(&self.file),
        };
        closed.map_err(|f| WriteError::Io {
            path: self.path.clone(),
            action: f.action,
            source: f.source,
        })?;
        if self.options.sync {
            self.file
                .sync_all()
                .map_err(io_error(&self.path, "sync the file"))?;
        }
        if let Some(temp) = self.temp.take() {
            if let Err(source) = std::fs::rename(&temp, &self.path) {
                let _ = std::fs::remove_file(&temp);
                return Err(WriteError::Io {
                    path: self.path.clone(),
                    action: "rename the new file to its name",
                    source,
                });
            }
            if self.options.sync {
                if let Some(dir) = self.path.parent() {
                    let dir = if dir.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        dir
                    };
                    File::open(dir)
                        .and_then(|d| d.sync_all())
                        .map_err(io_error(&self.path, "sync its folder"))?;
                }
            }
        }
        Ok(())
    }
}

impl Drop for FstWriter {
    /// Close, ignoring errors — except while a panic unwinds: a new file is then abandoned (the
    /// file at its path, if any, stays), since the caller did not finish writing it.
    fn drop(&mut self) {
        if std::thread::panicking() && self.temp.is_some() {
            self.closed = true;
            if let Some(temp) = self.temp.take() {
                let _ = std::fs::remove_file(temp);
            }
            return;
        }
        let _ = self.finish();
    }
}

/// The index key of an entry: nomvar and ip1 words, which every rewrite rule compares.
fn name_key(words: &[u32; 16]) -> (u32, u32) {
    (words[11] & !0xFF, words[12] & !0xF)
}

fn check_name<const N: usize>(
    text: &str,
    field: &'static str,
) -> Result<Name<N>, (&'static str, String)> {
    let text = text.trim_end_matches(' ');
    if let Some(c) = text.chars().find(|c| !(' '..='~').contains(c)) {
        return Err((
            field,
            format!("{text:?} holds {c:?}; only printable ASCII characters can be stored"),
        ));
    }
    if text.len() > N {
        return Err((
            field,
            format!(
                "{text:?} has {} characters; the field holds {N}",
                text.len()
            ),
        ));
    }
    Ok(Name::new(text))
}

fn check_range(value: u32, max: u32, field: &'static str) -> Result<u32, (&'static str, String)> {
    if value > max {
        Err((
            field,
            format!("{value} exceeds the largest storable value, {max}"),
        ))
    } else {
        Ok(value)
    }
}

/// Validate the keys and encode the 16 search-key words.
fn key_words(
    k: &RecordKeys,
    p: &Payload<'_>,
    container: Container,
    limits: &Limits,
) -> Result<[u32; 16], (&'static str, String)> {
    const MAX24: u32 = 0xFF_FFFF;
    const MAX28: u32 = 0xFFF_FFFF;
    let max_ij = match container {
        Container::Xdf => MAX24,
        Container::Rsf => 0x7FFF_FFFF,
    };
    for (v, f) in [(k.ni, "ni"), (k.nj, "nj"), (k.nk, "nk")] {
        if v == 0 {
            return Err((f, "must be at least 1".into()));
        }
    }
    let points = u64::from(k.ni) * u64::from(k.nj) * u64::from(k.nk);
    if points > limits.max_values_per_record {
        return Err((
            "ni·nj·nk",
            format!(
                "{points} values exceed the limit of {}",
                limits.max_values_per_record
            ),
        ));
    }
    if !(1..=64).contains(&p.nbits) {
        return Err(("nbits", format!("{} is not in 1..=64", p.nbits)));
    }
    if !matches!(p.datyp.base(), 0..=8) {
        return Err(("datyp", format!("{} is not a known data type", p.datyp.0)));
    }
    if !(32..=126).contains(&k.grtyp) {
        return Err((
            "grtyp",
            format!("byte {} is not a printable ASCII character", k.grtyp),
        ));
    }
    let keys = Keys {
        nomvar: check_name(&k.nomvar, "nomvar")?,
        typvar: check_name(&k.typvar, "typvar")?,
        etiket: check_name(&k.etiket, "etiket")?,
        grtyp: k.grtyp,
        ni: check_range(k.ni, max_ij, "ni")?,
        nj: check_range(k.nj, max_ij, "nj")?,
        nk: check_range(k.nk, 0xF_FFFF, "nk")?,
        datyp: p.datyp.0,
        nbits: p.nbits,
        dasiz: p.dasiz,
        deet: check_range(k.deet, MAX24, "deet")?,
        npas: check_range(k.npas, MAX24, "npas")?,
        ip1: check_range(k.ip1, MAX28, "ip1")?,
        ip2: check_range(k.ip2, MAX28, "ip2")?,
        ip3: check_range(k.ip3, MAX28, "ip3")?,
        ig1: check_range(k.ig1, MAX24, "ig1")?,
        ig2: check_range(k.ig2, MAX24, "ig2")?,
        ig3: check_range(k.ig3, MAX24, "ig3")?,
        ig4: check_range(k.ig4, MAX24, "ig4")?,
        date_word: k.valid_date().date_word(),
    };
    Ok(keys.encode(container == Container::Rsf))
}

/// The smallest and largest value that is not missing (librmn's `bounds`), for real and
/// integer arrays.
fn bounds(values: &SamplesRef<'_>, missing: Option<&[bool]>) -> Option<(f64, f64)> {
    fn fold<T: Copy + Into<f64>>(v: &[T], missing: Option<&[bool]>) -> Option<(f64, f64)> {
        let mut out: Option<(f64, f64)> = None;
        for (i, &x) in v.iter().enumerate() {
            let x: f64 = x.into();
            if x.is_nan() || missing.is_some_and(|m| m.get(i).copied().unwrap_or(false)) {
                continue;
            }
            out = Some(out.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))));
        }
        out
    }
    match values {
        SamplesRef::F32(v) => fold(v, missing),
        SamplesRef::F64(v) => fold(v, missing),
        SamplesRef::I8(v) => fold(v, missing),
        SamplesRef::I16(v) => fold(v, missing),
        SamplesRef::I32(v) => fold(v, missing),
        SamplesRef::U8(v) => fold(v, missing),
        SamplesRef::U16(v) => fold(v, missing),
        SamplesRef::U32(v) => fold(v, missing),
        _ => None,
    }
}

/// librmn's data-type names, by base datyp, for the `data` block of extended metadata.
const TYPE_NAMES: [&str; 9] = [
    "FST_TYPE_BINARY",
    "FST_TYPE_OLD_QUANT",
    "FST_TYPE_UNSIGNED",
    "FST_TYPE_CHAR",
    "FST_TYPE_SIGNED",
    "FST_TYPE_REAL_IEEE",
    "FST_TYPE_REAL",
    "FST_TYPE_STRING",
    "FST_TYPE_COMPLEX",
];

/// The JSON text stored with a record: the caller's object, plus the `data` block and the
/// `size` that librmn's writer adds (it names the compression "lorenzo" whatever the datyp;
/// so do we, for readers that compare).
fn metadata_text(
    m: &serde_json::Map<String, serde_json::Value>,
    k: &RecordKeys,
    p: &Payload<'_>,
) -> String {
    use serde_json::{json, Value};
    let mut m = m.clone();
    let type_name = TYPE_NAMES
        .get(usize::from(p.datyp.base()))
        .copied()
        .unwrap_or("FST_TYPE_BINARY");
    let mut data = json!({
        "type": type_name,
        "compression": "lorenzo",
        "pack": p.nbits,
        "bits": p.dasiz,
    });
    if let (Some((min, max)), Value::Object(d)) = (p.bounds, &mut data) {
        d.insert("bounds".into(), json!({"min": min, "max": max}));
    }
    m.insert("data".into(), data);
    m.insert("size".into(), json!([k.ni, k.nj, k.nk]));
    Value::Object(m).to_string()
}

/// `pwrite` the whole buffer.
fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let (mut buf, mut offset) = (buf, offset);
        while !buf.is_empty() {
            match file.seek_write(buf, offset) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    buf = buf.get(n..).unwrap_or_default();
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Payload words converted per write (64 KiB): large enough to keep system calls few (a
/// dozen per 800 × 600 record), small enough that the piece stays in cache and that its buffer
/// comes from the allocator's free lists. With 1 MiB pieces the buffer was mapped afresh and
/// zero-filled for every record (page faults: a tenth of a 134/16 write).
const CHUNK_WORDS: usize = 16 * 1024;

/// How payload words are held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordOrder {
    /// As the codecs give them: native `u32` values.
    Native,
    /// Already in the container's byte order (the XDF words [`FstWriter::write`] asks the
    /// codec for): their bytes are the file's.
    Container,
}

/// Write a record from `offset`: `head`, then the payload `words` in the container's byte
/// order (`big_endian` or not; converted piece by piece into `scratch` unless the words
/// already hold it, by `order` or because it is the host's), then `tail`.
#[allow(clippy::too_many_arguments)]
fn write_record(
    file: &File,
    offset: u64,
    head: &[u8],
    (words, order): (&[u32], WordOrder),
    big_endian: bool,
    tail: &[u8],
    scratch: &mut Vec<u8>,
) -> io::Result<()> {
    write_at(file, head, offset)?;
    let mut at = offset + head.len() as u64;
    if order == WordOrder::Container || big_endian == cfg!(target_endian = "big") {
        // The words are already in the container's byte order: written as they are, in one
        // call, with no copy.
        let bytes: &[u8] = bytemuck::cast_slice(words);
        write_at(file, bytes, at)?;
        return write_at(file, tail, at + bytes.len() as u64);
    }
    for chunk in words.chunks(CHUNK_WORDS) {
        scratch.resize(4 * chunk.len(), 0);
        words_to_bytes(chunk, big_endian, scratch);
        write_at(file, scratch, at)?;
        at += scratch.len() as u64;
    }
    write_at(file, tail, at)
}

/// `words` in the container's byte order into `out` (4 bytes a word). Byte-array stores the
/// compiler vectorises; the baseline x86-64 target has no byte shuffle, so without the SSSE3
/// and AVX2 variants the swap for XDF took 7 % of a 1/16 write.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl",
    "x86_64+avx2",
    "x86_64+ssse3"
))]
fn words_to_bytes(words: &[u32], big_endian: bool, out: &mut [u8]) {
    if big_endian {
        for (dst, w) in out.chunks_exact_mut(4).zip(words) {
            dst.copy_from_slice(&w.to_be_bytes());
        }
    } else {
        for (dst, w) in out.chunks_exact_mut(4).zip(words) {
            dst.copy_from_slice(&w.to_le_bytes());
        }
    }
}

/// `pread` the whole buffer.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    ByteSource::read_exact_at(file, offset, buf)
}
