//! The model's unit tests: open, list, read on the fixtures.

use std::sync::Arc;

use fst_core::source::ByteSource;

use super::*;

fn fixture(rel: &str) -> String {
    format!(
        "{}/../crates/fst-core/tests/fixtures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn local(p: &str) -> Result<Arc<dyn ByteSource>, String> {
    let f = std::fs::File::open(p).map_err(|e| format!("{p}: {e}"))?;
    Ok(Arc::new(f))
}

#[test]
fn listing_then_fields() {
    let ds = open(
        &fixture("rsf/rsf_basic.fst"),
        &local,
        ModelOptions::default(),
    )
    .unwrap();
    assert!(ds.bands.is_empty());
    assert!(ds.subdatasets.len() >= 4, "{:?}", ds.subdatasets);
    for (name, _) in &ds.subdatasets {
        let f = open(name, &local, ModelOptions::default()).unwrap();
        assert!(!f.bands.is_empty());
        let b = &f.bands[0];
        let mut buf = vec![0u8; b.block.0 * b.block.1 * b.data_type.size()];
        f.read_block(0, 0, 0, &mut buf).unwrap();
    }
}

/// Every band of `ds`, read whole in the order `order`, as bytes.
fn read_bands(ds: &Dataset, order: impl Iterator<Item = usize>) -> Vec<(usize, Vec<u8>)> {
    order
        .map(|band| {
            let px = ds.bands[band].data_type.size();
            let mut buf = vec![0u8; ds.xsize * ds.ysize * px];
            ds.read_window(
                band,
                (0, 0, ds.xsize, ds.ysize),
                &mut buf,
                px,
                ds.xsize * px,
            )
            .unwrap();
            (band, buf)
        })
        .collect()
}

#[test]
fn band_walks_recycle_consumed_records_only() {
    let name = format!(
        "FST:\"{}\":TT:P:LEVELS:L-8x6-100-100-13000-28000",
        fixture("xdf/levels_dates.fst")
    );
    let record_bytes: u64 = 8 * 6 * 4;
    let ds = open(&name, &local, ModelOptions::default()).unwrap();
    let n = ds.bands.len();
    assert!(n > 10, "{n} bands");
    // In order, each band read top to bottom: consumed records go back to the pool.
    let mut forward = read_bands(&ds, 0..n);
    assert!(
        ds.cache.bytes() <= 2 * record_bytes,
        "{} bytes cached",
        ds.cache.bytes()
    );
    // The values do not depend on the order (nor on the recycled buffers).
    let fresh = open(&name, &local, ModelOptions::default()).unwrap();
    let mut backward = read_bands(&fresh, (0..n).rev());
    backward.sort_by_key(|b| b.0);
    forward.sort_by_key(|b| b.0);
    assert_eq!(forward, backward);
    // Strip by strip across the bands (a pixel-interleaved copy): nothing is dropped, so
    // the next strip does not decode again.
    let strips = open(&name, &local, ModelOptions::default()).unwrap();
    let row_bytes = strips.xsize * 4;
    let mut row = vec![0u8; row_bytes];
    for band in 0..n {
        strips
            .read_window(band, (0, 0, strips.xsize, 1), &mut row, 4, row_bytes)
            .unwrap();
    }
    assert_eq!(strips.cache.bytes(), n as u64 * record_bytes);
}

#[test]
fn garbage_fails_cleanly() {
    let dir = std::env::temp_dir().join("gdal-fst-model-test");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.fst");
    let mut bytes = std::fs::read(fixture("xdf/grids.fst")).unwrap();
    bytes.truncate(5000);
    std::fs::write(&p, &bytes).unwrap();
    assert!(open(p.to_str().unwrap(), &local, ModelOptions::default()).is_err());
}

#[test]
fn forecast_leads_read_exactly() {
    use super::metadata::forecast_text;
    assert_eq!(forecast_text(0), "0 h");
    assert_eq!(forecast_text(12 * 3600), "12 h");
    assert_eq!(forecast_text(2100), "35 min");
    assert_eq!(forecast_text(6300), "1 h 45 min");
    assert_eq!(forecast_text(3610), "1 h 10 s");
}

#[test]
#[allow(clippy::float_cmp)] // exact arithmetic on these spacings
fn global_longitude_grids_are_rewrapped_from_180_east() {
    use super::dataset::{rewrap_columns, Rewrap};
    let rewrap = |roll, columns| Some(Rewrap { roll, columns });
    // A global grid of 4° columns centred 2°, 6°, …: the columns from 182° move to the front.
    let mut gt = [0.0, 4.0, 0.0, 90.0, 0.0, -4.0];
    assert_eq!(rewrap_columns(&mut gt, 90), rewrap(45, 90));
    assert_eq!(gt[0], -180.0);
    // Centres on 0°, 1°, … : the column at 180° exactly goes east, to −180°.
    let mut gt = [-0.5, 1.0, 0.0, 90.0, 0.0, -1.0];
    assert_eq!(rewrap_columns(&mut gt, 360), rewrap(180, 360));
    assert_eq!(gt[0], -180.5);
    // A B grid: 0° repeated at 360°. Its last column leaves the band, the rest is rewrapped.
    let mut gt = [-0.5, 1.0, 0.0, 90.5, 0.0, -1.0];
    assert_eq!(rewrap_columns(&mut gt, 361), rewrap(180, 360));
    assert_eq!(gt[0], -180.5);
    let mut gt = [-1.25, 2.5, 0.0, 91.25, 0.0, -2.5];
    assert_eq!(rewrap_columns(&mut gt, 145), rewrap(72, 144));
    assert_eq!(gt[0], -181.25);
    // Not global (a regional grid, one or two columns short or over), or not starting in
    // [0, 180): left alone.
    for (gt0, dx, n) in [
        (0.0, 1.0, 100),
        (-0.5, 1.0, 359),
        (-0.5, 1.0, 362),
        (-180.0, 1.0, 360),
        (-180.5, 1.0, 361),
        (190.0, 1.0, 360),
    ] {
        let mut gt = [gt0, dx, 0.0, 90.0, 0.0, -dx];
        assert_eq!(rewrap_columns(&mut gt, n), None, "{gt0} {dx} {n}");
        assert_eq!(gt[0], gt0);
    }
}
