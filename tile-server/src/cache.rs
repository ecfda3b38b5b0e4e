//! Byte-bounded LRU caches: decoded fields and encoded images. Keys carry the file's
//! identity and version (see [`crate::source::Slice::data_key`]), so a rewritten file never
//! serves stale pixels.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use lru::LruCache;

/// Something with a size.
pub trait Weigh {
    /// Bytes held.
    fn weight(&self) -> usize;
}

impl<T: Weigh + ?Sized> Weigh for std::sync::Arc<T> {
    fn weight(&self) -> usize {
        (**self).weight()
    }
}

impl Weigh for crate::render::FieldValues {
    fn weight(&self) -> usize {
        self.bytes()
    }
}

impl Weigh for (crate::render::FieldValues, crate::render::FieldValues) {
    fn weight(&self) -> usize {
        self.0.bytes() + self.1.bytes()
    }
}

impl Weigh for String {
    fn weight(&self) -> usize {
        self.len() + 64
    }
}

impl Weigh for Vec<u8> {
    fn weight(&self) -> usize {
        self.len() + 64
    }
}

struct Inner<K: Hash + Eq, V> {
    lru: LruCache<K, V>,
    bytes: usize,
}

/// An LRU bounded by the total weight of its values.
pub struct ByteLru<K: Hash + Eq, V> {
    inner: Mutex<Inner<K, V>>,
    capacity: usize,
    /// Hits.
    pub hits: AtomicU64,
    /// Misses.
    pub misses: AtomicU64,
}

impl<K: Hash + Eq, V: Clone + Weigh> ByteLru<K, V> {
    /// A cache of `capacity` bytes.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                lru: LruCache::unbounded(),
                bytes: 0,
            }),
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Look up (and mark recently used).
    pub fn get(&self, k: &K) -> Option<V> {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let v = g.lru.get(k).cloned();
        if v.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        } else {
            self.misses.fetch_add(1, Ordering::Relaxed);
        }
        v
    }

    /// Whether `k` is cached (neither counted as a hit or miss nor marked as used).
    pub fn contains(&self, k: &K) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .lru
            .contains(k)
    }

    /// Insert, evicting the least recently used entries beyond the capacity. Values larger
    /// than the whole cache are not kept.
    pub fn put(&self, k: K, v: V) {
        let w = v.weight();
        if w > self.capacity {
            return;
        }
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(old) = g.lru.put(k, v) {
            g.bytes = g.bytes.saturating_sub(old.weight());
        }
        g.bytes += w;
        while g.bytes > self.capacity {
            match g.lru.pop_lru() {
                Some((_, old)) => g.bytes = g.bytes.saturating_sub(old.weight()),
                None => break,
            }
        }
    }

    /// (entries, bytes).
    pub fn usage(&self) -> (usize, usize) {
        let g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (g.lru.len(), g.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_bytes() {
        let c: ByteLru<u32, Vec<u8>> = ByteLru::new(1000);
        c.put(1, vec![0; 400]);
        c.put(2, vec![0; 400]);
        assert!(c.get(&1).is_some());
        c.put(3, vec![0; 400]); // evicts 2, the least recently used
        assert!(c.get(&2).is_none());
        assert!(c.get(&1).is_some() && c.get(&3).is_some());
        assert!(c.usage().1 <= 1000);
        c.put(4, vec![0; 5000]);
        assert!(c.get(&4).is_none());
    }
}
