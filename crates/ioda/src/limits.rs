//! Bounds on everything whose size comes from a file.

/// Limits checked before any allocation whose size a file controls.
///
/// The defaults fit a server holding a few million observations: a variable of
/// a million locations × 600 channels of `f32` is 2.4 GB, so one variable may
/// take up to 4 GiB, and nothing else a file declares may take more than that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest decoded variable (elements × element size), in bytes. Default 4 GiB.
    pub max_variable_bytes: u64,
    /// Largest decoded HDF5 chunk, in bytes. Default 256 MiB (writers use 1–4 MiB).
    pub max_chunk_bytes: u64,
    /// Most members of an io-pool set. Default 4096 (the writer uses a few dozen at most).
    pub max_set_members: usize,
    /// Largest ODB-2 file read into memory, in bytes. Default 4 GiB.
    pub max_odb_file_bytes: u64,
    /// Most columns in one ODB-2 frame. Default 4096 (real files have at most a few hundred).
    pub max_odb_columns: usize,
    /// Most rows over all frames of an ODB-2 file. Default 200 million.
    pub max_odb_rows: u64,
    /// Largest ODB-2 table decoded in memory (rows × columns × bytes per cell: 16 for
    /// numbers, 24 plus the longest string for text), in bytes, checked before each frame
    /// is decoded. Default 4 GiB. A row that repeats the previous one takes two bytes in
    /// the file and a whole row of cells in memory, so the file size does not bound this.
    pub max_odb_decoded_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_variable_bytes: 4 << 30,
            max_chunk_bytes: 256 << 20,
            max_set_members: 4096,
            max_odb_file_bytes: 4 << 30,
            max_odb_columns: 4096,
            max_odb_rows: 200_000_000,
            max_odb_decoded_bytes: 4 << 30,
        }
    }
}
