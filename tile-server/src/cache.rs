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

impl Weigh for u32 {
    fn weight(&self) -> usize {
        4
    }
}

/// Bytes an entry costs besides its key and value: the LRU's node (two links, the key and value
/// handles) and its hash-table slot.
const ENTRY_OVERHEAD: usize = 96;

/// What an entry counts against the capacity: its key, its value and the LRU's own
/// bookkeeping. Keys count too: they are built from requests (layer, CRS, bounding box, time,
/// style…), and a client asking for many distinct tiny images (an empty tile is ~100 bytes)
/// with long parameters would otherwise fill the cache with keys far bigger than the values
/// it weighs (the tile_params fuzzer grew by ~0.4 MB per 1000 executions this way).
fn entry_weight<K: Weigh, V: Weigh>(k: &K, v: &V) -> usize {
    k.weight() + v.weight() + ENTRY_OVERHEAD
}

struct Inner<K: Hash + Eq, V> {
    lru: LruCache<K, V>,
    bytes: usize,
}

/// An LRU bounded by the total weight of its entries (keys, values and bookkeeping).
pub struct ByteLru<K: Hash + Eq, V> {
    inner: Mutex<Inner<K, V>>,
    capacity: usize,
    /// Hits.
    pub hits: AtomicU64,
    /// Misses.
    pub misses: AtomicU64,
}

impl<K: Hash + Eq + Weigh, V: Clone + Weigh> ByteLru<K, V> {
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

    /// Insert, evicting the least recently used entries beyond the capacity. Entries larger
    /// than the whole cache are not kept.
    pub fn put(&self, k: K, v: V) {
        let w = entry_weight(&k, &v);
        if w > self.capacity {
            return;
        }
        let key_weight = k.weight();
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(old) = g.lru.put(k, v) {
            // The same key: its weight and the overhead were counted with the old value.
            g.bytes = g
                .bytes
                .saturating_sub(key_weight + old.weight() + ENTRY_OVERHEAD);
        }
        g.bytes += w;
        while g.bytes > self.capacity {
            match g.lru.pop_lru() {
                Some((old_k, old)) => {
                    g.bytes = g.bytes.saturating_sub(entry_weight(&old_k, &old));
                }
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
        // Each entry of 300 bytes counts 4 + 300 + 64 + 96 = 464: two fit in 1000, not three.
        let c: ByteLru<u32, Vec<u8>> = ByteLru::new(1000);
        let entry = entry_weight(&1u32, &vec![0u8; 300]);
        c.put(1, vec![0; 300]);
        c.put(2, vec![0; 300]);
        assert!(c.get(&1).is_some());
        c.put(3, vec![0; 300]); // evicts 2, the least recently used
        assert!(c.get(&2).is_none());
        assert!(c.get(&1).is_some() && c.get(&3).is_some());
        assert_eq!(c.usage(), (2, 2 * entry));
        c.put(4, vec![0; 5000]);
        assert!(c.get(&4).is_none());
        // Replacing a value counts its key and bookkeeping once.
        c.put(1, vec![0; 100]);
        c.put(1, vec![0; 300]);
        assert_eq!(c.usage(), (2, 2 * entry));
    }

    /// Keys count: distinct tiny values under long keys (what a client varying a request's
    /// parameters makes) stay within the capacity.
    #[test]
    fn long_keys_count_against_the_capacity() {
        let c: ByteLru<String, Vec<u8>> = ByteLru::new(100_000);
        for k in 0..10_000 {
            c.put(format!("{k:04000}"), vec![0; 10]);
        }
        let (entries, bytes) = c.usage();
        let held: usize = 4000 * entries;
        assert!(
            bytes <= 100_000 && held <= 100_000,
            "{entries} entries, {bytes} bytes"
        );
        assert!(entries >= 20, "{entries} entries");
    }
}
