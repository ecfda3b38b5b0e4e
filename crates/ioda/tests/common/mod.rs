//! Test helpers: the shared IODA fixtures (see `fst_testkit::fixtures`).

use std::path::PathBuf;

/// The IODA fixture directory.
#[allow(dead_code)] // not every test binary that includes this module needs it
pub(crate) fn fixtures() -> PathBuf {
    fst_testkit::fixtures::shared_fixtures("ioda")
}

/// Every fixture file (HDF5 and ODB-2), sorted.
pub(crate) fn all_fixture_files() -> Vec<PathBuf> {
    fst_testkit::fixtures::ioda_fixture_files()
}
