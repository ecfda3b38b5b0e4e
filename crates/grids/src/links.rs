//! The other direction for the grid types whose igs are links (Z, Y, #, U): what a writer
//! (or GDAL's `CreateCopy`) puts in the data record's ig1..ig4 and in the positional records.
//!
//! Any tags that are unique in the file work: librmn only compares them. Ours follow rpnpy's
//! idea (ip1/ip2 = 32768 + the two 16-bit halves of a CRC-32 of the axes and the reference
//! parameters, ip3 = 0) but hash the values' float32 bits, so they are not bit-identical to
//! rpnpy's tags.

use crate::error::{GridError, Result};
use crate::params::{RotatedParams, IG_MAX};

/// Tags (ip1, ip2, ip3) for the positional records of a grid on reference `ref_grtyp` with
/// parameters `ref_ig`, whose `>>`/`^^` hold `x`/`y`. The data record's ig1..ig3 are the same
/// three numbers (see [`z_igs`], [`tile_igs`]).
#[must_use]
pub fn positional_tags(ref_grtyp: u8, ref_ig: [u32; 4], x: &[f64], y: &[f64]) -> [u32; 3] {
    let bytes = std::iter::once(ref_grtyp)
        .chain(ref_ig.iter().flat_map(|v| v.to_le_bytes()))
        .chain(x.iter().flat_map(|&v| (v as f32).to_bits().to_le_bytes()))
        .chain([0xFF])
        .chain(y.iter().flat_map(|&v| (v as f32).to_bits().to_le_bytes()));
    let mut hasher = crc32fast::Hasher::new();
    for b in bytes {
        hasher.update(&[b]);
    }
    let c = hasher.finalize();
    [32768 + (c & 0xFFFF), 32768 + (c >> 16), 0]
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

/// The values of the `^>` record (grid type F, ig1 = 1) of a Yin-Yang grid whose subgrids
/// share the rotated axes `ax` (longitudes) and `ay` (latitudes) and have rotations `yin` and
/// `yang` (docs/grids.md §7.1).
#[must_use]
pub fn yin_yang_record(
    ax: &[f64],
    ay: &[f64],
    yin: &RotatedParams,
    yang: &RotatedParams,
) -> Vec<f64> {
    let (ni, nj) = (ax.len(), ay.len());
    let mut v = vec![f64::from(b'F'), 1.0, 2.0, 1.0, 1.0];
    for r in [yin, yang] {
        v.extend([
            ni as f64,
            nj as f64,
            ax.first().copied().unwrap_or(0.0),
            ax.last().copied().unwrap_or(0.0),
            ay.first().copied().unwrap_or(0.0),
            ay.last().copied().unwrap_or(0.0),
            r.xlat1,
            r.xlon1,
            r.xlat2,
            r.xlon2,
        ]);
        v.extend_from_slice(ax);
        v.extend_from_slice(ay);
    }
    v
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
