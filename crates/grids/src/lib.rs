//! Grid descriptors (being written).
