//! [`Pipeline`]: a copy whose bands are encoded on several threads while the shim reads the
//! next band from the source (GDAL's `RasterIO`: netCDF/HDF5 decompression, TIFF decoding)
//! and a writer thread writes the records in band order. The file is byte for byte the one
//! [`Creator`] alone writes (a test compares them for every packing and thread count).
//!
//! ```text
//! shim thread ── plan (keys, in band order) ──▶ encoders (NUM_THREADS) ──▶ writer thread
//!      ▲                                                                     │
//!      └──────────── the band's buffer back once its record is written ◀─────┘
//! ```
//!
//! Memory stays bounded: at most `encoders + 1` bands are in flight (handed over and not yet
//! written), each holding a copy of its values and, once encoded, its record; the caller
//! waits for the oldest to be written before it hands over another. The buffers go back and
//! forth between the threads instead of being allocated per band (fresh pages of a band-sized
//! allocation cost the kernel's zeroing every time).
//!
//! Errors: a band's keys are checked at once (the caller's own call fails); an error of its
//! encoding or writing reaches the caller at a later call (another band, `finish` or
//! `abandon`), and the message names the band. After an error nothing more is written.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use fst_core::write::{EncodedRecord, FstWriter};

use super::options::MAX_DEFAULT_THREADS;
use super::{
    write_record, BandBuffers, BandEncoder, BandInput, BandPlan, BandValues, CreateError, Creator,
};

/// A band's values owned: the buffer that goes back and forth between the threads.
#[derive(Debug)]
pub(super) enum Values {
    F64(Vec<f64>),
    F32(Vec<f32>),
    U64(Vec<u64>),
    I64(Vec<i64>),
}

impl Values {
    /// `from`'s rows of `ni` values each turned by `k` columns: value c of a row is value
    /// (c + ni − k) mod ni of the same row of `from`; with `repeat_first`, each row then ends
    /// with its first value again (ni + 1 values).
    pub(super) fn unrolled(from: BandValues<'_>, ni: usize, k: usize, repeat_first: bool) -> Self {
        fn turn<T: Copy>(v: &[T], ni: usize, k: usize, repeat_first: bool) -> Vec<T> {
            v.chunks(ni)
                .flat_map(|row| {
                    let (west, east) = row.split_at(row.len().saturating_sub(k));
                    let first = east.first().or(west.first()).filter(|_| repeat_first);
                    east.iter().chain(west).chain(first).copied()
                })
                .collect()
        }
        match from {
            BandValues::F64(v) => Values::F64(turn(v, ni, k, repeat_first)),
            BandValues::F32(v) => Values::F32(turn(v, ni, k, repeat_first)),
            BandValues::U64(v) => Values::U64(turn(v, ni, k, repeat_first)),
            BandValues::I64(v) => Values::I64(turn(v, ni, k, repeat_first)),
        }
    }

    pub(super) fn as_band_values(&self) -> BandValues<'_> {
        match self {
            Values::F64(v) => BandValues::F64(v),
            Values::F32(v) => BandValues::F32(v),
            Values::U64(v) => BandValues::U64(v),
            Values::I64(v) => BandValues::I64(v),
        }
    }

    /// `from` copied into this buffer when it holds the same type (its memory reused), else
    /// into a new one. None when memory is short.
    fn refill(self, from: BandValues<'_>) -> Option<Self> {
        fn copy<T: Copy>(mut v: Vec<T>, from: &[T]) -> Option<Vec<T>> {
            v.clear();
            v.try_reserve_exact(from.len()).ok()?;
            v.extend_from_slice(from);
            Some(v)
        }
        Some(match (self, from) {
            (Values::F64(v), BandValues::F64(f)) => Values::F64(copy(v, f)?),
            (Values::F32(v), BandValues::F32(f)) => Values::F32(copy(v, f)?),
            (Values::U64(v), BandValues::U64(f)) => Values::U64(copy(v, f)?),
            (Values::I64(v), BandValues::I64(f)) => Values::I64(copy(v, f)?),
            (_, BandValues::F64(f)) => Values::F64(copy(Vec::new(), f)?),
            (_, BandValues::F32(f)) => Values::F32(copy(Vec::new(), f)?),
            (_, BandValues::U64(f)) => Values::U64(copy(Vec::new(), f)?),
            (_, BandValues::I64(f)) => Values::I64(copy(Vec::new(), f)?),
        })
    }
}

/// A band handed to an encoder, owning what [`BandInput`] borrows.
struct Job {
    plan: BandPlan,
    values: Values,
}

/// An encoder's result for the writer thread, which writes them in the order of their plans'
/// sequence numbers: those of the bands handed over follow each other with no gap (a band is
/// planned only once its values are copied, and a band whose plan fails takes no number).
struct Encoded {
    plan: BandPlan,
    record: Result<EncodedRecord, CreateError>,
    values: Values,
}

/// What the writer thread sends back for each band: its buffer for reuse, or the error.
type Done = Result<Values, CreateError>;

/// A copy in progress whose bands are encoded and written on threads of their own.
///
/// Used by one thread at a time (the shim's). The [`Creator`] stays on that thread and plans
/// each band; its file writer belongs to the writer thread until [`Pipeline::finish`] or
/// [`Pipeline::abandon`] takes it back.
pub struct Pipeline {
    /// None once `finish` or `abandon` has taken it.
    creator: Option<Creator>,
    jobs: Option<SyncSender<Job>>,
    done: Receiver<Done>,
    encoders: Vec<JoinHandle<()>>,
    writer: Option<JoinHandle<FstWriter>>,
    /// Buffers the writer thread has finished with.
    spare: Vec<Values>,
    /// Bands handed over and not yet reported back, and the most allowed.
    in_flight: usize,
    max_in_flight: usize,
    /// Where the error messages of the pipeline itself point.
    path: std::path::PathBuf,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("path", &self.path)
            .field("encoders", &self.encoders.len())
            .finish_non_exhaustive()
    }
}

/// Encoding threads for `NUM_THREADS` (None: every CPU, at most [`MAX_DEFAULT_THREADS`]).
fn encoder_count(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(MAX_DEFAULT_THREADS)
    })
}

impl Pipeline {
    /// Start the threads for `creator` (from [`Creator::begin`]).
    pub fn start(mut creator: Creator) -> Result<Self, CreateError> {
        let path = creator.path.clone();
        let start_err = |e: std::io::Error| CreateError::Source {
            path: path.clone(),
            reason: format!("cannot start the encoding threads: {e}"),
        };
        let encoder = creator.band_encoder()?;
        let Some(writer) = creator.writer.take() else {
            return Err(CreateError::Source {
                path,
                reason: "the writer is closed".into(),
            });
        };
        let n = encoder_count(creator.options.threads);
        let first = creator.next_sequence;
        // Capacity 0: a rendezvous, so that no band waits in the channel (the caller's
        // in-flight count is the bound).
        let (jobs, inbox) = mpsc::sync_channel::<Job>(0);
        let inbox = Arc::new(Mutex::new(inbox));
        let (to_writer, writer_inbox) = mpsc::channel::<Encoded>();
        let (report, done) = mpsc::channel::<Done>();
        let mut encoders = Vec::new();
        for k in 0..n {
            let (inbox, to_writer, encoder) = (inbox.clone(), to_writer.clone(), encoder.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("fst-encode-{k}"))
                .spawn(move || encode_bands(&encoder, &inbox, &to_writer));
            match spawned {
                Ok(h) => encoders.push(h),
                Err(e) if encoders.is_empty() => return Err(start_err(e)),
                // Fewer encoders than asked: the copy is the same, only slower.
                Err(_) => break,
            }
        }
        drop(to_writer);
        let spawned = std::thread::Builder::new()
            .name("fst-write".into())
            .spawn(move || write_in_order(writer, first, &writer_inbox, &report));
        let writer = match spawned {
            Ok(h) => h,
            Err(e) => {
                // The encoders stop once the job channel is gone. The file writer went with
                // the closure that did not run: dropped, it abandons the file.
                drop(jobs);
                for h in encoders {
                    let _ = h.join();
                }
                return Err(start_err(e));
            }
        };
        let max_in_flight = encoders.len() + 1;
        Ok(Pipeline {
            creator: Some(creator),
            jobs: Some(jobs),
            done,
            encoders,
            writer: Some(writer),
            spare: Vec::new(),
            in_flight: 0,
            max_in_flight,
            path,
        })
    }

    /// Hand one band over (its values are copied): returns once an encoder has taken it.
    /// Errors: this band's keys or size (no memory), or an earlier band's error.
    pub fn write_band(&mut self, band: BandInput<'_>) -> Result<(), CreateError> {
        self.collect()?;
        while self.in_flight >= self.max_in_flight {
            match self.done.recv() {
                Ok(done) => self.take(done)?,
                Err(_) => return Err(self.stopped()),
            }
        }
        let spare = self.spare.pop().unwrap_or(Values::F64(Vec::new()));
        let values = spare.refill(band.values).ok_or_else(|| CreateError::Band {
            path: self.path.clone(),
            band: band.number,
            reason: format!("out of memory for a copy of {} values", band.values.len()),
        })?;
        // Planned last: from here on the band is handed over, so its sequence number is used.
        let plan = match self.creator.as_mut() {
            Some(c) => c.plan_band(&band)?,
            None => return Err(self.stopped()),
        };
        let job = Job { plan, values };
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if !sent {
            // No encoder is left: they panicked (an encoding error would have reached the
            // writer thread and stopped it instead).
            return Err(self.stopped());
        }
        self.in_flight += 1;
        Ok(())
    }

    /// Wait for the last band, then close the file (see [`Creator::finish`]). An error of
    /// any band abandons the file and is returned.
    pub fn finish(mut self) -> Result<std::path::PathBuf, CreateError> {
        let joined = self.join();
        let Some(creator) = self.creator.take() else {
            return Err(self.panicked());
        };
        match joined.and_then(|()| self.collect()) {
            Ok(()) => creator.finish(),
            Err(e) => {
                creator.abandon();
                Err(e)
            }
        }
    }

    /// Give up: wait for the threads, then [`Creator::abandon`].
    pub fn abandon(mut self) {
        let _ = self.join();
        if let Some(c) = self.creator.take() {
            c.abandon();
        }
    }

    /// One report of the writer thread: a buffer back, or its error.
    fn take(&mut self, done: Done) -> Result<(), CreateError> {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.spare.push(done?);
        Ok(())
    }

    /// Take back the buffers the writer thread has finished with; its error if it failed.
    fn collect(&mut self) -> Result<(), CreateError> {
        loop {
            match self.done.try_recv() {
                Ok(done) => self.take(done)?,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return Ok(()),
            }
        }
    }

    /// The error of threads that stopped taking bands.
    fn stopped(&mut self) -> CreateError {
        // The writer thread sends its error before it stops; gone without one, a thread
        // panicked.
        while let Ok(done) = self.done.recv() {
            if let Err(e) = done {
                return e;
            }
        }
        self.panicked()
    }

    fn panicked(&self) -> CreateError {
        CreateError::Source {
            path: self.path.clone(),
            reason: "an encoding thread panicked".into(),
        }
    }

    /// Tell the encoders there are no more bands, wait for every record to be written, and
    /// give the file writer back to the creator.
    fn join(&mut self) -> Result<(), CreateError> {
        self.jobs = None;
        for h in self.encoders.drain(..) {
            let _ = h.join();
        }
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(writer)) => {
                if let Some(c) = self.creator.as_mut() {
                    c.writer = Some(writer);
                }
                Ok(())
            }
            Some(Err(_)) => Err(self.panicked()),
            None => Ok(()),
        }
    }
}

impl Drop for Pipeline {
    /// A pipeline dropped without `finish` or `abandon` abandons the file.
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = self.join();
            if let Some(c) = self.creator.take() {
                c.abandon();
            }
        }
    }
}

/// An encoder thread: encode each band handed over until the job channel is gone. A panic
/// while encoding becomes that band's error, so that the writer thread never waits for a
/// band that will not come.
fn encode_bands(encoder: &BandEncoder, inbox: &Mutex<Receiver<Job>>, to_writer: &Sender<Encoded>) {
    let mut buffers = BandBuffers::default();
    loop {
        // The lock is held while waiting for a job only: encoding happens outside it.
        let job = match inbox.lock() {
            Ok(inbox) => inbox.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let record = std::panic::catch_unwind(AssertUnwindSafe(|| {
            encoder.encode(&job.plan, job.values.as_band_values(), &mut buffers)
        }))
        .unwrap_or_else(|_| {
            buffers = BandBuffers::default();
            Err(CreateError::Band {
                path: encoder.path.clone(),
                band: job.plan.number,
                reason: "the encoding thread panicked".into(),
            })
        });
        let sent = to_writer.send(Encoded {
            plan: job.plan,
            record,
            values: job.values,
        });
        if sent.is_err() {
            // The writer thread stopped on an error: nothing more will be written.
            return;
        }
    }
}

/// The writer thread: write the encoded bands in band order (their plans' sequence numbers,
/// from `first`) until every encoder is gone or a band fails; give the file writer back.
fn write_in_order(
    mut writer: FstWriter,
    first: u64,
    inbox: &Receiver<Encoded>,
    report: &Sender<Done>,
) -> FstWriter {
    let mut waiting: BTreeMap<u64, Encoded> = BTreeMap::new();
    let mut next = first;
    for encoded in inbox {
        waiting.insert(encoded.plan.sequence, encoded);
        while let Some(band) = waiting.remove(&next) {
            next += 1;
            let result = band
                .record
                .and_then(|record| write_record(&mut writer, &band.plan, &record));
            let failed = result.is_err();
            // The receiver lives as long as the pipeline, which joins this thread first.
            let _ = report.send(result.map(|()| band.values));
            if failed {
                return writer;
            }
        }
    }
    writer
}

#[cfg(test)]
mod tests;
