//! The two containers: detection by magic, directory walk, record framing.

pub(crate) mod xdf;
pub(crate) mod rsf;
