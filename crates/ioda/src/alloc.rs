//! Fallible allocation: a size that passed the limits may still be more than the machine has.

use std::collections::TryReserveError;

/// A vector of `count` default values, or the allocator's refusal.
pub(crate) fn zeroed<T: Default + Clone>(count: usize) -> Result<Vec<T>, TryReserveError> {
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(count)?;
    buffer.resize(count, T::default());
    Ok(buffer)
}
