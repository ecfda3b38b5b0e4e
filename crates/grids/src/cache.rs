//! A small LRU of built grids, keyed by descriptor.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use fst_core::Limits;
use lru::LruCache;

use crate::descriptor::{GridDescriptor, GridKey, GridOptions};
use crate::error::Result;
use crate::grid::Grid;

/// A thread-safe LRU cache of [`Grid`]s. A model run uses one or two grids, so a few entries
/// are plenty; rebuilding per tile would waste most of a tile's time budget.
///
/// ```
/// use grids::{GridCache, GridDescriptor, GridOptions};
/// let cache = GridCache::new(4);
/// let d = GridDescriptor::simple(b'G', 64, 32, [0, 0, 0, 0]);
/// let a = cache.get(&d, GridOptions::default())?;
/// let b = cache.get(&d, GridOptions::default())?;
/// assert!(std::sync::Arc::ptr_eq(&a, &b));
/// # Ok::<(), grids::GridError>(())
/// ```
///
/// The key holds the grid type, shape, ig1..ig4, options and a hash of the positional
/// records' values (see [`GridKey`]).
#[derive(Debug)]
pub struct GridCache {
    inner: Mutex<LruCache<GridKey, Arc<Grid>>>,
    limits: Limits,
}

impl GridCache {
    /// A cache holding at most `capacity` grids (at least one), built under fst-core's
    /// default limits.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self::with_limits(capacity, Limits::DEFAULT)
    }

    /// A cache whose grids are built with [`Grid::with_limits`] under `limits` (those the
    /// files were opened with).
    #[must_use]
    pub fn with_limits(capacity: usize, limits: Limits) -> Self {
        let cap = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        GridCache {
            inner: Mutex::new(LruCache::new(cap)),
            limits,
        }
    }

    /// The grid of `d`, built on a miss. The lock is not held while building, so two threads
    /// may build the same grid once each; the second insert wins, harmlessly.
    pub fn get(&self, d: &GridDescriptor, options: GridOptions) -> Result<Arc<Grid>> {
        self.get_keyed(GridKey::new(d, options), d, options)
    }

    /// Like [`GridCache::get`] with a key the caller already has: [`GridKey::new`] hashes the
    /// positional records' values, which costs milliseconds for a large Y grid, so a caller
    /// that looks the same grid up per request should compute the key once (or build it from
    /// its own identity of the positional records, such as file + record index + file version).
    pub fn get_keyed(
        &self,
        key: GridKey,
        d: &GridDescriptor,
        options: GridOptions,
    ) -> Result<Arc<Grid>> {
        if let Some(g) = self.lock().get(&key) {
            return Ok(Arc::clone(g));
        }
        let g = Arc::new(Grid::with_limits(d, options, &self.limits)?);
        self.lock().put(key, Arc::clone(&g));
        Ok(g)
    }

    /// Number of cached grids.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<GridKey, Arc<Grid>>> {
        // A panic while holding the lock cannot leave the LRU inconsistent for our use.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for GridCache {
    fn default() -> Self {
        GridCache::new(8)
    }
}
