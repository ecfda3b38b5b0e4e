//! A small LRU of built grids, keyed by descriptor.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;

use crate::descriptor::{GridDescriptor, GridKey, GridOptions};
use crate::error::Result;
use crate::grid::Grid;

/// A thread-safe LRU cache of [`Grid`]s. A model run uses one or two grids, so a few entries
/// are plenty; rebuilding per tile would waste most of a tile's time budget.
///
/// The key holds the grid type, shape, ig1..ig4, options and a hash of the positional
/// records' values (see [`GridKey`]).
#[derive(Debug)]
pub struct GridCache {
    inner: Mutex<LruCache<GridKey, Arc<Grid>>>,
}

impl GridCache {
    /// A cache holding at most `capacity` grids (at least one).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        GridCache {
            inner: Mutex::new(LruCache::new(cap)),
        }
    }

    /// The grid of `d`, built on a miss. The lock is not held while building, so two threads
    /// may build the same grid once each; the second insert wins, harmlessly.
    pub fn get(&self, d: &GridDescriptor, options: GridOptions) -> Result<Arc<Grid>> {
        let key = GridKey::new(d, options);
        if let Some(g) = self.lock().get(&key) {
            return Ok(Arc::clone(g));
        }
        let g = Arc::new(Grid::new(d, options)?);
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
