//! Where the shared fixtures live: `$FSTGIS_SHARED/fixtures`, else the checkout's sibling
//! `shared/fixtures`, else `/work/shared/fixtures` (where the machine lays them out beside
//! every worktree).

use std::path::PathBuf;

/// The shared fixture directory `sub` (e.g. `"ioda"`, `"xdf"`, `"rsf"`).
#[must_use]
pub fn shared_fixtures(sub: &str) -> PathBuf {
    let shared = std::env::var_os("FSTGIS_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let dir = shared.join("fixtures").join(sub);
    if dir.is_dir() {
        dir
    } else {
        PathBuf::from("/work/shared/fixtures").join(sub)
    }
}

/// Every IODA fixture file (HDF5 `.nc`/`.nc4` and ODB-2 `.odb`, from the top folder,
/// `synthetic/` and `odb/`), sorted.
///
/// # Panics
/// When the folders cannot be listed or hold fewer files than the fixture set has: a test
/// that silently found nothing would pass for the wrong reason.
#[must_use]
#[allow(clippy::panic)]
pub fn ioda_fixture_files() -> Vec<PathBuf> {
    let root = shared_fixtures("ioda");
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("synthetic"), root.join("odb")] {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("IODA fixtures missing: {}: {e}", dir.display()));
        files.extend(
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .is_some_and(|e| e == "nc" || e == "nc4" || e == "odb")
                }),
        );
    }
    files.sort();
    assert!(
        files.len() >= 11,
        "IODA fixtures missing under {}",
        root.display()
    );
    files
}
