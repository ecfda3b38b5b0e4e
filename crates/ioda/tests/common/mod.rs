//! Test helpers: where the shared fixtures live (the checkout's sibling `shared/`, or `FSTGIS_SHARED`).

use std::path::PathBuf;

/// The IODA fixture directory.
pub(crate) fn fixtures() -> PathBuf {
    let shared = std::env::var_os("FSTGIS_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let dir = shared.join("fixtures/ioda");
    if !dir.is_dir() {
        // /work/shared is where the machine lays them out beside every worktree.
        return PathBuf::from("/work/shared/fixtures/ioda");
    }
    dir
}

/// Every fixture file (HDF5 and ODB-2), sorted.
pub(crate) fn all_fixture_files() -> Vec<PathBuf> {
    let root = fixtures();
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("synthetic"), root.join("odb")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path
                .extension()
                .is_some_and(|e| e == "nc" || e == "nc4" || e == "odb")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 11,
        "fixtures missing under {}",
        root.display()
    );
    files
}
