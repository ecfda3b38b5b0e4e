//! Issue 14, defect 1: a header-only record claiming a 46000 x 46000 grid made the catalog
//! compute the layer's bounding box from full latitude/longitude arrays (2 x 17 GB: an abort at
//! start-up, or of a running server when the file was dropped into a watched folder). The box
//! now comes from the grid's edges.
#![allow(clippy::unwrap_used, clippy::panic)]
// The box of a global grid is exactly the globe.
#![allow(clippy::float_cmp)]

#[path = "../../crates/fst-core/tests/support/rsf_writer.rs"]
mod rsf_writer;

#[path = "../../crates/fst-core/tests/support/hostile.rs"]
mod hostile;

use std::path::Path;

use grids::GridCache;
use tile_server::source::{build_snapshot, CatalogLimits};

#[test]
fn a_huge_grid_header_costs_the_catalog_its_edges_only() {
    let dir = std::env::temp_dir().join(format!("fst-tiles-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/fst-core/tests/fixtures");
    let file = dir.join("huge.fst");
    // Record 5 (HU) claims a global A grid of 46000 x 46000 points over its ~7 KB payload.
    std::fs::write(
        &file,
        hostile::basic_with(&fixtures, 5, |k| {
            k.shape(b'A', 46_000, 46_000).igs([0; 4]);
        }),
    )
    .unwrap();
    let before = peak_rss_kib();
    // No grid-size limit here: the box itself must be bounded, whatever the catalog admits
    // (the server's own `max_grid_points` is tested in catalog_bounded.rs).
    let no_limit = CatalogLimits {
        max_grid_points: u64::MAX,
    };
    let snap = build_snapshot(&[file], None, &GridCache::default(), 1, no_limit);
    if let (Some(a), Some(b)) = (before, peak_rss_kib()) {
        assert!(b - a < 256 * 1024, "peak RSS grew by {} KiB", b - a);
    }
    let hu = snap
        .layers
        .values()
        .find(|l| l.nomvar == "HU")
        .unwrap_or_else(|| panic!("no HU layer: {:?}", snap.skipped));
    assert_eq!(hu.bbox, [-180.0, -90.0, 180.0, 90.0]);
    // The other layers of the file are served as before.
    assert!(snap.layers.values().any(|l| l.nomvar == "TT"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The process's peak resident set (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<i64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
