//! What a record says about its grid, with the positional records already resolved.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A grid descriptor: the data record's grid type, shape and ig1..ig4, plus for Z, #, Y, O and
/// U the values of the positional records that the igs link to.
///
/// This type does no I/O; see [`crate::fst`] for building it from an open file.
#[derive(Debug, Clone, PartialEq)]
pub struct GridDescriptor {
    /// Grid type of the data record (`b'L'`, `b'Z'`, …).
    pub grtyp: u8,
    /// Points along i (fastest varying). For U grids, the width of each subgrid.
    pub ni: u32,
    /// Points along j. For U grids, twice the subgrid height (Yin rows, then Yang rows).
    pub nj: u32,
    /// ig1..ig4 of the data record.
    pub ig: [u32; 4],
    /// The positional records, for the grid types that need them.
    pub positional: Option<Positional>,
}

/// The positional records of a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Positional {
    /// Grid type of the positional records: the reference grid (E, L, N, S; L or O for Y;
    /// F for the `^>` record of a U grid).
    pub grtyp: u8,
    /// ig1..ig4 of the positional records: the reference grid's own encoded parameters.
    pub ig: [u32; 4],
    /// Values of `>>` (Z and #: ni, or the full grid's ni for #; Y: ni·nj longitudes), or of
    /// `^>` for a U grid.
    pub x: Arc<[f64]>,
    /// Values of `^^` (Z and #: nj; Y: ni·nj latitudes); empty for U.
    pub y: Arc<[f64]>,
}

impl Positional {
    /// A 64-bit identity of the values, for cache keys: two descriptors whose positional records
    /// hold the same values share one cached grid.
    #[must_use]
    pub fn content_hash(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.grtyp.hash(&mut h);
        self.ig.hash(&mut h);
        self.x.len().hash(&mut h);
        for v in self.x.iter().chain(self.y.iter()) {
            v.to_bits().hash(&mut h);
        }
        self.y.len().hash(&mut h);
        h.finish()
    }
}

impl GridDescriptor {
    /// A descriptor for a grid type without positional records (A, B, G, L, N, S, E).
    #[must_use]
    pub fn simple(grtyp: u8, ni: u32, nj: u32, ig: [u32; 4]) -> Self {
        GridDescriptor {
            grtyp,
            ni,
            nj,
            ig,
            positional: None,
        }
    }

    /// A descriptor with positional records.
    #[must_use]
    pub fn with_positional(grtyp: u8, ni: u32, nj: u32, ig: [u32; 4], pos: Positional) -> Self {
        GridDescriptor {
            grtyp,
            ni,
            nj,
            ig,
            positional: Some(pos),
        }
    }

    /// True when this grid type needs positional records.
    #[must_use]
    pub fn needs_positional(grtyp: u8) -> bool {
        matches!(grtyp, b'Z' | b'#' | b'Y' | b'O' | b'U')
    }
}

/// Options that change the computed coordinates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GridOptions {
    /// Reproduce librmn's documented quirks instead of the geometrically faithful values:
    /// * U grids: each subgrid's rotation is quantised to 1/40° (a round trip through the E
    ///   encoding), as librmn does when it reads a `^>` record;
    /// * Z on L: 360 is added to negative `>>` values **before** scaling by dlon (librmn does
    ///   this when it reads the grid from a file; it shifts grids whose dlon ≠ 1).
    pub librmn_compat: bool,
}

/// The key of the grid cache: everything the geometry depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GridKey {
    /// Grid type.
    pub grtyp: u8,
    /// Shape.
    pub ni: u32,
    /// Shape.
    pub nj: u32,
    /// ig1..ig4 of the data record.
    pub ig: [u32; 4],
    /// Identity of the positional records (grid type, igs and values), if any.
    pub positional: Option<u64>,
    /// The options.
    pub options: GridOptions,
}

impl GridKey {
    /// The key of a descriptor with options.
    #[must_use]
    pub fn new(d: &GridDescriptor, options: GridOptions) -> Self {
        GridKey {
            grtyp: d.grtyp,
            ni: d.ni,
            nj: d.nj,
            ig: d.ig,
            positional: d.positional.as_ref().map(Positional::content_hash),
            options,
        }
    }
}
