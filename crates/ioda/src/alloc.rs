//! Fallible allocation: a size that passed the limits may still be more than the machine has.

/// A vector of `count` default values, or `Err` if the allocator refuses.
pub(crate) fn zeroed<T: Default + Clone>(count: usize) -> Result<Vec<T>, ()> {
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(count).map_err(|_| ())?;
    buffer.resize(count, T::default());
    Ok(buffer)
}
