//! [`Pipeline`]: a [`Creator`] on a thread of its own, so that the shim reads band `k + 1`
//! from the source (GDAL's `RasterIO`: netCDF/HDF5 decompression, TIFF decoding) while
//! band `k` is packed, encoded and written. The records come out as `Creator` alone writes
//! them, in the same order.
//!
//! Memory stays bounded: the hand-over is a rendezvous (a band is handed over only when the
//! worker is ready for it), so at most two copies of a band's values are held besides the
//! shim's own buffer: the one being encoded and the one waiting to be handed over. Their
//! buffers go back and forth between the threads instead of being allocated per band (fresh
//! pages of a band-sized allocation cost the kernel's zeroing every time).
//!
//! An error of band `k` reaches the caller at its next call (band `k + 1`, `finish` or
//! `abandon`); the message names band `k`. A failed worker writes nothing more.

use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::thread::JoinHandle;

use super::{BandInput, BandValues, CreateError, Creator};

/// A band's values owned: the buffer that goes back and forth between the threads.
#[derive(Debug)]
enum Values {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

impl Values {
    fn as_band_values(&self) -> BandValues<'_> {
        match self {
            Values::F64(v) => BandValues::F64(v),
            Values::F32(v) => BandValues::F32(v),
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
            (_, BandValues::F64(f)) => Values::F64(copy(Vec::new(), f)?),
            (_, BandValues::F32(f)) => Values::F32(copy(Vec::new(), f)?),
        })
    }
}

/// A band handed to the worker, owning what [`BandInput`] borrows.
struct Job {
    number: usize,
    gdal_type: i32,
    metadata: Vec<(String, String)>,
    nodata: Option<f64>,
    values: Values,
}

/// What the worker sends back for each band: its buffer for reuse, or the error.
type Done = Result<Values, CreateError>;

/// A copy in progress whose bands are encoded and written on a worker thread.
///
/// Used by one thread at a time (the shim's); the worker owns the [`Creator`] until
/// [`Pipeline::finish`] or [`Pipeline::abandon`] takes it back.
pub struct Pipeline {
    jobs: Option<SyncSender<Job>>,
    done: Receiver<Done>,
    worker: Option<JoinHandle<Creator>>,
    /// Buffers the worker has finished with.
    spare: Vec<Values>,
    /// Where the error messages of the pipeline itself point.
    path: std::path::PathBuf,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Start the worker with `creator` (from [`Creator::begin`]).
    pub fn start(creator: Creator) -> Result<Self, CreateError> {
        let path = creator.path.clone();
        // Capacity 0: a rendezvous, so that no band waits in the channel (see the module
        // documentation for the memory this bounds).
        let (jobs, inbox) = mpsc::sync_channel::<Job>(0);
        let (report, done) = mpsc::channel::<Done>();
        let worker = std::thread::Builder::new()
            .name("fst-create".into())
            .spawn(move || work(creator, &inbox, &report))
            .map_err(|e| CreateError::Source {
                path: path.clone(),
                reason: format!("cannot start the encoding thread: {e}"),
            })?;
        Ok(Pipeline {
            jobs: Some(jobs),
            done,
            worker: Some(worker),
            spare: Vec::new(),
            path,
        })
    }

    /// Hand one band over (its values are copied): returns once the worker has taken it,
    /// which is when the previous band is written. Errors: this band's size (no memory), or
    /// an earlier band's error.
    pub fn write_band(&mut self, band: BandInput<'_>) -> Result<(), CreateError> {
        self.collect()?;
        let spare = self.spare.pop().unwrap_or(Values::F64(Vec::new()));
        let values = spare.refill(band.values).ok_or_else(|| CreateError::Band {
            path: self.path.clone(),
            band: band.number,
            reason: format!("out of memory for a copy of {} values", band.values.len()),
        })?;
        let job = Job {
            number: band.number,
            gdal_type: band.gdal_type,
            metadata: band.metadata.to_vec(),
            nodata: band.nodata,
            values,
        };
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(job));
        match sent {
            Some(Ok(())) => Ok(()),
            // The worker stopped: it failed on an earlier band and said why.
            _ => Err(self.stopped()),
        }
    }

    /// Wait for the last band, then close the file (see [`Creator::finish`]). An error of
    /// any band abandons the file and is returned.
    pub fn finish(mut self) -> Result<std::path::PathBuf, CreateError> {
        let creator = self.join()?;
        match self.collect() {
            Ok(()) => creator.finish(),
            Err(e) => {
                creator.abandon();
                Err(e)
            }
        }
    }

    /// Give up: wait for the worker, then [`Creator::abandon`].
    pub fn abandon(mut self) {
        if let Ok(creator) = self.join() {
            creator.abandon();
        }
    }

    /// Take back the buffers the worker has finished with; its error if it failed.
    fn collect(&mut self) -> Result<(), CreateError> {
        loop {
            match self.done.try_recv() {
                Ok(Ok(values)) => self.spare.push(values),
                Ok(Err(e)) => return Err(e),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return Ok(()),
            }
        }
    }

    /// The error of a worker that stopped taking bands.
    fn stopped(&mut self) -> CreateError {
        // It sends its error before it stops; a worker gone without one panicked.
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
            reason: "the encoding thread panicked".into(),
        }
    }

    /// Tell the worker there are no more bands and take the [`Creator`] back.
    fn join(&mut self) -> Result<Creator, CreateError> {
        self.jobs = None;
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(creator)) => Ok(creator),
            _ => Err(self.panicked()),
        }
    }
}

impl Drop for Pipeline {
    /// A pipeline dropped without `finish` or `abandon` abandons the file.
    fn drop(&mut self) {
        if self.worker.is_some() {
            if let Ok(creator) = self.join() {
                creator.abandon();
            }
        }
    }
}

/// The worker: write each band handed over, until the sender is gone or a band fails.
fn work(mut creator: Creator, inbox: &Receiver<Job>, report: &mpsc::Sender<Done>) -> Creator {
    for job in inbox {
        let result = creator.write_band(BandInput {
            number: job.number,
            gdal_type: job.gdal_type,
            metadata: &job.metadata,
            nodata: job.nodata,
            values: job.values.as_band_values(),
        });
        let failed = result.is_err();
        // The receiver lives as long as the pipeline, which joins this thread before it goes.
        let _ = report.send(result.map(|()| job.values));
        if failed {
            break;
        }
    }
    creator
}

#[cfg(test)]
mod tests;
