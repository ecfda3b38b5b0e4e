//! Where file bytes come from.
//!
//! # Why positional reads and no memory map
//!
//! fst-core reads files with positional I/O (`pread`) and never memory-maps them. A mapped file
//! that another process truncates turns the next access into `SIGBUS`, which kills the whole
//! process (QGIS, a tile server). With `pread`, the same truncation becomes an
//! `UnexpectedEof` error on the record being read. The cost is one copy of each payload, which
//! is small next to decoding it; the directory is read page by page in large blocks, so
//! opening a file stays in the milliseconds.
//!
//! Positional reads also make one open file usable from many threads at once with no lock: no
//! read shares a file cursor.

use std::io;
use std::sync::Arc;

/// A random-access source of bytes that many threads may read at once.
///
/// Implemented for files (positional reads) and for in-memory buffers. Other crates
/// implement it over their own I/O (the GDAL driver reads through GDAL's VSI layer).
pub trait ByteSource: Send + Sync {
    /// The current length of the source in bytes.
    fn len(&self) -> io::Result<u64>;

    /// True when the source holds no bytes.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Fill `buf` with the bytes at `offset`, or fail with `UnexpectedEof` if the source is
    /// shorter.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

impl ByteSource for std::fs::File {
    fn len(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    #[cfg(unix)]
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }

    #[cfg(windows)]
    fn read_exact_at(&self, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
        use std::os::windows::fs::FileExt;
        while !buf.is_empty() {
            match self.seek_read(buf, offset) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// An in-memory file.
#[derive(Debug, Clone)]
pub struct MemorySource(Arc<[u8]>);

impl MemorySource {
    /// Wrap bytes already in memory.
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Self {
        Self(bytes.into())
    }

    /// The bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl ByteSource for MemorySource {
    fn len(&self) -> io::Result<u64> {
        Ok(self.0.len() as u64)
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start =
            usize::try_from(offset).map_err(|e| io::Error::new(io::ErrorKind::UnexpectedEof, e))?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.0.get(start..end))
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}
