//! Fallible allocation helpers.
//!
//! Every buffer whose size comes from a file goes through here, so that an absurd size in a
//! corrupt header becomes an error instead of an abort. `Vec::with_capacity` is banned in this
//! crate by `clippy.toml` for that reason.

use std::collections::TryReserveError;

/// A vector of `len` copies of `value`, or an error if the memory cannot be reserved.
pub(crate) fn try_vec_filled<T: Clone>(len: usize, value: T) -> Result<Vec<T>, TryReserveError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)?;
    v.resize(len, value);
    Ok(v)
}

/// An empty vector with room for `cap` elements, or an error.
pub(crate) fn try_vec_with_capacity<T>(cap: usize) -> Result<Vec<T>, TryReserveError> {
    let mut v = Vec::new();
    v.try_reserve_exact(cap)?;
    Ok(v)
}
