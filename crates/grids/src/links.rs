//! The other direction for the grid types whose igs are links (Z, Y, #, U): what a writer
//! (or GDAL's `CreateCopy`) puts in the data record's ig1..ig4 and in the positional records.
//!
//! Any tags that are unique in the file work: librmn only compares them. Ours follow rpnpy's
//! idea (ip1/ip2 = 32768 + the two 16-bit halves of a CRC-32 of the axes and the reference
//! parameters, ip3 = 0) but hash the values' float32 bits, so they are not bit-identical to
//! rpnpy's tags.

use crate::error::{GridError, Result};
use crate::params::IG_MAX;

/// Tags (ip1, ip2, ip3) for the positional records of a grid on reference `ref_grtyp` with
/// parameters `ref_ig`, whose `>>`/`^^` hold `x`/`y` (stored as float32, so hashed as
/// float32: fst-core's [`fst_core::write::positional_tags`]). The data record's ig1..ig3 are
/// the same three numbers (see [`z_igs`], [`tile_igs`]).
#[must_use]
pub fn positional_tags(ref_grtyp: u8, ref_ig: [u32; 4], x: &[f64], y: &[f64]) -> [u32; 3] {
    let narrow = |v: &[f64]| v.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    let reference = fst_core::write::ReferenceGrid {
        grtyp: ref_grtyp,
        ig: ref_ig,
    };
    fst_core::write::positional_tags(&reference, &narrow(x), &narrow(y))
}

/// ig1..ig4 of a Z, Y or U data record linked by `tags` (ig4 = 0, as rpnpy writes it).
#[must_use]
pub fn z_igs(tags: [u32; 3]) -> [u32; 4] {
    [tags[0], tags[1], tags[2], 0]
}

/// ig1..ig4 of a `#` tile whose first point is the full grid's (i0, j0), 1-based; the tile's
/// own ip3 is, by convention, its tile number.
pub fn tile_igs(tags: [u32; 3], i0: u32, j0: u32) -> Result<[u32; 4]> {
    if i0 == 0 || j0 == 0 || i0 > IG_MAX || j0 > IG_MAX {
        return Err(GridError::invalid(
            b'#',
            format!("tile origin ({i0}, {j0}) must be 1-based and fit 24 bits"),
        ));
    }
    Ok([tags[0], tags[1], i0, j0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        let t = positional_tags(b'E', [1, 2, 3, 4], &[1.0, 2.0], &[3.0]);
        assert!(t[0] >= 32768 && t[1] >= 32768 && t[2] == 0);
        assert_ne!(t, positional_tags(b'E', [1, 2, 3, 4], &[1.0, 2.5], &[3.0]));
        assert_eq!(tile_igs(t, 11, 21).unwrap(), [t[0], t[1], 11, 21]);
        assert!(tile_igs(t, 0, 1).is_err());
    }
}
