//! RSF files with one hostile directory entry (a header claiming a huge grid, an absurd nk,
//! impossible grid parameters) over a tiny payload, for the consumers' robustness tests
//! (issue 14): the CLI, the GDAL driver, the tile server.
//!
//! Include it next to the writer it builds on, from any crate's tests:
//!
//! ```ignore
//! #[path = "../../fst-core/tests/support/rsf_writer.rs"]
//! mod rsf_writer;
//! #[path = "../../fst-core/tests/support/hostile.rs"]
//! mod hostile;
//! ```

#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)] // test kit

use std::path::Path;

use crate::rsf_writer::{write, Rec, Seg};

/// The records of `rsf_basic.fst` (the fixture librmn wrote) in the fixture directory
/// `fixtures` (fst-core's `tests/fixtures`), copied as they are.
pub(crate) fn basic_records(fixtures: &Path) -> Vec<Rec> {
    let bytes = std::fs::read(fixtures.join("rsf/rsf_basic.fst")).unwrap();
    let file = fst_core::FstFile::from_bytes(bytes.clone(), fst_core::OpenOptions::new()).unwrap();
    file.records()
        .iter()
        .map(|r| Rec::copy_from(&bytes, r.record_offset.0 as usize))
        .collect()
}

/// The 16 directory key words, in the order `Keys::decode` reads them.
pub(crate) struct Keys<'a>(pub(crate) &'a mut [u32]);

impl Keys<'_> {
    /// Grid type and shape (ni, nj below 2²⁴: no RSF high bits).
    pub(crate) fn shape(&mut self, grtyp: u8, ni: u32, nj: u32) -> &mut Self {
        self.0[1] = ni << 8 | u32::from(grtyp);
        self.0[2] = nj << 8 | (self.0[2] & 0xFF);
        self
    }

    /// nk (20 bits).
    pub(crate) fn nk(&mut self, nk: u32) -> &mut Self {
        self.0[3] = nk << 12 | (self.0[3] & 0xFFF);
        self
    }

    /// ig1..ig4 (ig2 split over three words, as the format stores it).
    pub(crate) fn igs(&mut self, [ig1, ig2, ig3, ig4]: [u32; 4]) -> &mut Self {
        self.0[5] = ig4 << 8 | (ig2 >> 16 & 0xFF);
        self.0[6] = ig1 << 8 | (ig2 >> 8 & 0xFF);
        self.0[7] = ig3 << 8 | (ig2 & 0xFF);
        self
    }
}

/// `rsf_basic.fst` with record `index` changed by `patch`, as file bytes.
pub(crate) fn basic_with(
    fixtures: &Path,
    index: usize,
    patch: impl FnOnce(&mut Keys<'_>),
) -> Vec<u8> {
    let mut recs = basic_records(fixtures);
    patch(&mut Keys(recs[index].keys_mut()));
    write(&[Seg::Closed(recs)]).bytes
}

/// `rsf_basic.fst` with only record `index`, changed by `patch`: a file of one field.
pub(crate) fn single_with(
    fixtures: &Path,
    index: usize,
    patch: impl FnOnce(&mut Keys<'_>),
) -> Vec<u8> {
    let mut rec = basic_records(fixtures).swap_remove(index);
    patch(&mut Keys(rec.keys_mut()));
    write(&[Seg::Closed(vec![rec])]).bytes
}
