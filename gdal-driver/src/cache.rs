//! A small cache of decoded records, bounded by bytes, owned by one dataset handle.
//!
//! There is no global cache: each GDAL dataset handle owns one, so handles never contend.
//! A record is decoded on the first block read that touches it; the following blocks of the
//! same band (GDAL reads a band strip by strip) are then copies.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use fst_core::RecordIndex;

/// Least-recently-used decoded records, at most `capacity` bytes (but always the last one).
#[derive(Debug)]
pub struct DecodeCache<T> {
    capacity: u64,
    inner: Mutex<VecDeque<(RecordIndex, Arc<T>, u64)>>,
}

impl<T> DecodeCache<T> {
    /// An empty cache of `capacity` bytes.
    #[must_use]
    pub fn new(capacity: u64) -> Self {
        Self {
            capacity,
            inner: Mutex::new(VecDeque::new()),
        }
    }

    /// The cached value of `key`, or the one `make` returns (then cached with its size).
    /// `make` runs without the lock held.
    pub fn get_or_try<E>(
        &self,
        key: RecordIndex,
        make: impl FnOnce() -> Result<(T, u64), E>,
    ) -> Result<Arc<T>, E> {
        self.get_or_try_evict(key, make, |_| {})
    }

    /// [`DecodeCache::get_or_try`], handing every evicted value to `evicted` (after the lock
    /// is released), so that its memory can be reused.
    pub fn get_or_try_evict<E>(
        &self,
        key: RecordIndex,
        make: impl FnOnce() -> Result<(T, u64), E>,
        mut evicted: impl FnMut(Arc<T>),
    ) -> Result<Arc<T>, E> {
        {
            let mut q = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(pos) = q.iter().position(|e| e.0 == key) {
                if let Some(e) = q.remove(pos) {
                    let v = Arc::clone(&e.1);
                    q.push_front(e);
                    return Ok(v);
                }
            }
        }
        let (value, bytes) = make()?;
        let value = Arc::new(value);
        let mut q = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        q.retain(|e| e.0 != key);
        q.push_front((key, Arc::clone(&value), bytes));
        let mut total: u64 = q.iter().map(|e| e.2).sum();
        let mut out = Vec::new();
        while total > self.capacity && q.len() > 1 {
            if let Some(e) = q.pop_back() {
                total -= e.2;
                out.push(e.1);
            }
        }
        drop(q);
        out.into_iter().for_each(&mut evicted);
        Ok(value)
    }

    /// Take `key` out of the cache.
    pub fn remove(&self, key: RecordIndex) -> Option<Arc<T>> {
        let mut q = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let pos = q.iter().position(|e| e.0 == key)?;
        q.remove(pos).map(|e| e.1)
    }

    /// Whether `key` is cached (without touching its recency).
    #[must_use]
    pub fn contains(&self, key: RecordIndex) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|e| e.0 == key)
    }

    /// Bytes held.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|e| e.2)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_bytes_and_keeps_the_last() {
        let c: DecodeCache<u32> = DecodeCache::new(100);
        for k in 0..10 {
            let v = c.get_or_try::<()>(RecordIndex(k), || Ok((k, 40))).unwrap();
            assert_eq!(*v, k);
        }
        assert_eq!(c.bytes(), 80);
        assert!(c.remove(RecordIndex(3)).is_none());
        assert_eq!(c.remove(RecordIndex(8)).as_deref(), Some(&8));
        assert!(!c.contains(RecordIndex(8)));
        assert_eq!(c.bytes(), 40);
        c.get_or_try::<()>(RecordIndex(8), || Ok((8, 40))).unwrap();
        // A hit does not call make.
        let v = c.get_or_try::<()>(RecordIndex(9), || Err(())).unwrap();
        assert_eq!(*v, 9);
        let big = c
            .get_or_try::<()>(RecordIndex(99), || Ok((1, 1000)))
            .unwrap();
        assert_eq!(*big, 1);
        assert_eq!(c.bytes(), 1000);
    }
}
