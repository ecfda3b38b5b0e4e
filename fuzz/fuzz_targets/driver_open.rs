//! The GDAL driver's dataset model (its Rust side, without GDAL) on arbitrary bytes: open the
//! file as the plugin does, then every subdataset it lists (a bounded number), and read the
//! first block and a small window of the first bands. Errors are expected; a panic (which the
//! plugin's `catch_unwind` would turn into a failed open, but which is a bug all the same), a
//! hang or an unbounded allocation is not.
#![no_main]

use std::sync::Arc;

use fst_core::source::{ByteSource, MemorySource};
use fst_core::Limits;
use gdal_fst::model::{open, Dataset, ModelOptions};

/// Subdatasets opened per input, and bands read per dataset: enough to reach every kind of
/// dataset (field, LAT/LON arrays, U-grid parts) without making one input cost seconds.
const MAX_SUBDATASETS: usize = 8;
const MAX_BANDS_READ: usize = 2;

fn read_some(ds: &Dataset) {
    for (band, b) in ds.bands.iter().enumerate().take(MAX_BANDS_READ) {
        let mut block = vec![0u8; b.block.0 * b.block.1 * b.data_type.size()];
        let _ = ds.read_block(band, 0, 0, &mut block);
        let (w, h) = (ds.xsize.min(3), ds.ysize.min(2));
        let px = b.data_type.size();
        let mut window = vec![0u8; w * h * px];
        let _ = ds.read_window(band, (ds.xsize - w, 0, w, h), &mut window, px, w * px);
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let source: Arc<dyn ByteSource> = Arc::new(MemorySource::new(data.to_vec()));
    let opener = move |_: &str| -> Result<Arc<dyn ByteSource>, String> { Ok(source.clone()) };
    let opts = ModelOptions {
        cache_bytes: 16 << 20,
        // Smaller than the fixtures' TEST_LIMITS: a record of 2^16 points exercises every
        // path of the model, and one execution stays short (larger ones are refused by the
        // limit check, which is exercised too).
        limits: Limits {
            max_values_per_record: 1 << 16,
            max_decoded_bytes: 1 << 20,
            ..fst_testkit::TEST_LIMITS
        },
        max_bands: 256,
        // Global grids rewrapped to -180..180 read through the column roll.
        adjust_longitude_range: true,
    };
    let Ok(ds) = open("fuzz.fst", &opener, opts) else {
        return;
    };
    read_some(&ds);
    for (name, _) in ds.subdatasets.iter().take(MAX_SUBDATASETS) {
        if let Ok(sub) = open(name, &opener, opts) {
            read_some(&sub);
        }
    }
});
