//! Build a grid from an arbitrary descriptor (what a corrupt or hostile directory entry and its
//! positional records can say) and run every operation a consumer calls at open: an error or a
//! bounded grid, never a panic, a hang or an allocation beyond the limits.
#![no_main]

use fst_core::Limits;
use grids::{Grid, GridDescriptor, GridOptions, Positional};

/// Small decoded-byte limit, so that the arrays of any accepted grid fit the fuzzer's RSS cap
/// and one execution stays short: at 64 MiB, grids of millions of points made the target run
/// at 160 executions per second; the math per point does not depend on the grid's size, and
/// the limit check itself is exercised by every larger descriptor.
const LIMITS: Limits = Limits {
    max_decoded_bytes: 1 << 20,
    ..Limits::DEFAULT
};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Layout: grtyp, positional grtyp, flags, pad, then ni, nj, ig1..ig4 as little-endian u32,
    // then positional values as f32 (first half `>>` or `^>`, second half `^^`).
    let word = |k: usize| {
        data.get(4 + 4 * k..8 + 4 * k)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(&grtyp), Some(&ref_grtyp), Some(&flags)) = (data.first(), data.get(1), data.get(2))
    else {
        return;
    };
    let values: Vec<f64> = data
        .get(28..)
        .unwrap_or_default()
        .chunks_exact(4)
        .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect();
    let (x, y) = values.split_at(values.len() / 2);
    let ig = [word(2), word(3), word(4), word(5)];
    let d = GridDescriptor {
        grtyp,
        ni: word(0),
        nj: word(1),
        ig,
        positional: (flags & 1 == 1).then(|| Positional {
            grtyp: ref_grtyp,
            ig,
            x: x.into(),
            y: y.into(),
        }),
    };
    let opts = GridOptions {
        librmn_compat: flags & 2 == 2,
    };
    let Ok(g) = Grid::with_limits(&d, opts, &LIMITS) else {
        return;
    };
    let _ = g.bbox();
    let _ = g.geotransform();
    let _ = g.coordinates();
    let _ = g.index_of(45.0, 10.0);
    let _ = g.try_lat_lon();
});
