//! PROJ transformations of the EPSG codes clients ask for, shared by every thread and bounded
//! in number for the whole process.
//!
//! A transformation holds its own PROJ context (about 440 KB with PROJ's database connection
//! and caches), so the number kept idle is what bounds the memory: [`MAX_IDLE`] in all, least
//! recently used first out, whatever the number of threads (per-thread caches of 64 codes
//! each grew to 28 MB a thread). A render checks one out for its whole image and gives it back
//! when done; two renders in the same CRS at once use two.
//!
//! What each code is (a 2-D map CRS or not, its axis order) is remembered apart, for
//! [`MAX_CODES`] codes: a client sending unknown or unusable codes costs one PROJ lookup per
//! code, not one per request.

use std::num::NonZeroUsize;
use std::ops::Deref;
use std::sync::{Mutex, OnceLock, PoisonError};

use grids::crs::CrsTransform;
use lru::LruCache;

/// Transformations kept idle, in all.
pub(crate) const MAX_IDLE: usize = 32;
/// Codes whose kind and axis order are remembered.
pub(crate) const MAX_CODES: usize = 1024;

/// Which way a transformation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Direction {
    /// From `EPSG:code` to longitude/latitude (EPSG:4326 in GIS order).
    ToGeographic,
    /// From longitude/latitude to `EPSG:code`.
    FromGeographic,
}

/// What PROJ said about a code: its axis order (northing first?) or why it cannot be a map's
/// CRS.
type Kind = Result<bool, &'static str>;

struct Pool {
    /// Idle transformations, by code and direction; each entry holds at least one.
    idle: LruCache<(u32, Direction), Vec<CrsTransform>>,
    /// Number of transformations in `idle`.
    idle_count: usize,
    kinds: LruCache<u32, Kind>,
}

fn pool() -> &'static Mutex<Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(|| {
        Mutex::new(Pool {
            idle: LruCache::unbounded(),
            idle_count: 0,
            kinds: LruCache::new(NonZeroUsize::new(MAX_CODES).unwrap_or(NonZeroUsize::MIN)),
        })
    })
}

fn lock() -> std::sync::MutexGuard<'static, Pool> {
    pool().lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether `EPSG:code` can be a map's CRS (geographic 2-D or projected), and if so whether
/// its first axis points north or south (WMS 1.3.0 axis order). Asked of PROJ once per code
/// while remembered; whether PROJ has a transformation for it is [`checkout`]'s to find.
pub(crate) fn kind(code: u32) -> Kind {
    if let Some(k) = lock().kinds.get(&code).copied() {
        return k;
    }
    // PROJ is asked without the lock held: a lookup takes about a millisecond.
    let def = format!("EPSG:{code}");
    let k = match grids::crs::is_map_crs(&def) {
        Ok(true) => Ok(grids::crs::northing_first(&def).unwrap_or(false)),
        Ok(false) => Err("not a 2-D map CRS (geographic 2-D or projected)"),
        Err(_) => Err("unknown to PROJ"),
    };
    lock().kinds.put(code, k);
    k
}

/// A transformation checked out of the pool; it goes back when dropped.
pub(crate) struct Checkout {
    key: (u32, Direction),
    transform: Option<CrsTransform>,
}

impl Deref for Checkout {
    type Target = CrsTransform;

    fn deref(&self) -> &CrsTransform {
        // Some from creation until drop, which takes it.
        self.transform
            .as_ref()
            .unwrap_or_else(|| unreachable!("a checkout holds its transformation until dropped"))
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let Some(t) = self.transform.take() else {
            return;
        };
        let mut p = lock();
        match p.idle.get_mut(&self.key) {
            Some(v) => v.push(t),
            None => {
                p.idle.put(self.key, vec![t]);
            }
        }
        p.idle_count += 1;
        // Over the bound: the least recently used code's transformations go first, only as
        // many as needed (PROJ objects are destroyed here, after the last use).
        while p.idle_count > MAX_IDLE {
            let Some((key, mut v)) = p.idle.pop_lru() else {
                break;
            };
            let excess = p.idle_count - MAX_IDLE;
            if v.len() > excess {
                v.truncate(v.len() - excess);
                p.idle_count -= excess;
                p.idle.put(key, v);
            } else {
                p.idle_count -= v.len();
            }
        }
    }
}

/// A transformation for `EPSG:code` in `direction`: an idle one from the pool, else a new one
/// (made without the lock held). Only codes [`kind`] accepts get one.
pub(crate) fn checkout(code: u32, direction: Direction) -> Result<Checkout, &'static str> {
    kind(code)?;
    let key = (code, direction);
    let idle = {
        let mut p = lock();
        let t = p.idle.get_mut(&key).and_then(Vec::pop);
        if t.is_some() {
            p.idle_count -= 1;
        }
        if p.idle.peek(&key).is_some_and(Vec::is_empty) {
            p.idle.pop(&key);
        }
        t
    };
    let transform = if let Some(t) = idle {
        t
    } else {
        let def = format!("EPSG:{code}");
        let (from, to) = match direction {
            Direction::ToGeographic => (def.as_str(), "EPSG:4326"),
            Direction::FromGeographic => ("EPSG:4326", def.as_str()),
        };
        CrsTransform::new(from, to)
            .map_err(|_create_error| "PROJ cannot transform it to geographic coordinates")?
    };
    Ok(Checkout {
        key,
        transform: Some(transform),
    })
}

/// Transformations idle in the pool (the `fst_proj_transforms_idle` metric).
pub(crate) fn idle_count() -> usize {
    lock().idle_count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transformations_are_reused_and_bounded_in_number() {
        // Codes of map CRSs (projected NAD83 / UTM zones).
        let codes: Vec<u32> = (26_903..26_923).chain(32_601..32_640).collect();
        {
            let a = checkout(3978, Direction::ToGeographic).unwrap();
            let b = checkout(3978, Direction::ToGeographic).unwrap();
            let (mut x, mut y) = (vec![0.0, 0.0], vec![0.0, 0.0]);
            a.convert(&mut x[..1], &mut y[..1]);
            b.convert(&mut x[1..], &mut y[1..]);
            assert!((x[0] + 95.0).abs() < 1e-9 && (y[0] - 49.0).abs() < 1e-9);
            assert_eq!((x[0], y[0]), (x[1], y[1]));
        }
        assert!(idle_count() >= 1);
        for &c in &codes {
            let t = checkout(c, Direction::FromGeographic).unwrap();
            let (mut x, mut y) = (vec![-75.0], vec![45.0]);
            t.convert(&mut x, &mut y);
            assert!(x[0].is_finite() && y[0].is_finite(), "EPSG:{c}");
            assert!(idle_count() <= MAX_IDLE);
        }
        // Other tests use the pool at the same time: only the bound is certain.
        assert!(idle_count() <= MAX_IDLE);
        assert!(kind(4978).is_err() && kind(99_999_999).is_err());
        assert!(checkout(4978, Direction::ToGeographic).is_err());
        assert_eq!(kind(4326), Ok(true));
        assert_eq!(kind(3857), Ok(false));
    }
}
