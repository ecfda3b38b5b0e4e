//! CMC date-time stamps (placeholder: being written in the date/ip work).

/// The origin date stamp for a valid date stamp and an offset in seconds.
#[must_use]
pub fn dateo_from_datev(datev: i32, _seconds: u64) -> i32 {
    datev
}
