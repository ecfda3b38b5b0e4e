//! The located observations in tile order, for the Web Mercator images (XYZ tiles, WMS in
//! EPSG:3857): what does not depend on the request, computed once per index as parallel
//! arrays (Web Mercator x and y, time, the location's index in the file) sorted along the
//! Z-order curve of a 2¹⁶ × 2¹⁶ grid over the Web Mercator square. That curve is the
//! quadtree of XYZ tiles, so a tile and its margin are a few contiguous runs of the arrays,
//! found by binary search, and the whole-world tile is one run of every location. A request
//! then scans plain slices (no trigonometry, no `Option`, no tree walk, no allocation per
//! location) with the request's filters reduced to a mask over one byte of flags per
//! location ([`Flags`]).
//!
//! Bytes per located observation: 32 shared by a variable's layers (key 4, x 8, y 8,
//! index 4, time 8) and 1 of flags per layer (the variable's quantities share one; each O−F
//! layer has its own).

use std::f64::consts::PI;

use crate::render::{to_web_mercator, WEB_MERCATOR_R};

/// Half the side of the Web Mercator square, metres.
const HALF_WORLD: f64 = PI * WEB_MERCATOR_R;

/// Cells per side of the grid whose Z-order sorts the locations (2¹⁶: keys fit a u32).
const CELLS: f64 = 65_536.0;

/// Flag bits of a location ([`Flags`]).
pub(super) mod flag {
    /// The location has a time.
    pub(crate) const HAS_TIME: u8 = 1;
    /// The default QC filter keeps it: a finite value and a QC flag of 0 (or no QC flags).
    pub(crate) const QC_OK: u8 = 2;
    /// The first of the bits "this quantity is finite here", one per quantity (see
    /// `quantity_bit`).
    pub(crate) const FINITE: u8 = 4;
}

/// One byte per location of a [`TileOrder`], in its order: [`flag`] bits.
pub(super) type Flags = Vec<u8>;

/// The bit of [`flag`] saying "`quantity` is finite here".
pub(super) fn quantity_bit(quantity: super::Quantity) -> u8 {
    use super::Quantity;
    let k = match quantity {
        Quantity::ObsValue => 0,
        Quantity::ObsError => 1,
        Quantity::HofX => 2,
        Quantity::OmB => 3,
        Quantity::OmF => 4,
    };
    flag::FINITE << k
}

/// The cell (column or row) of a Web Mercator coordinate on the sorting grid: monotone in
/// `v` (every step is), so the cells of a box's bounds bound the cells of its points.
fn cell(v: f64) -> u32 {
    let c = ((v + HALF_WORLD) * (CELLS / (2.0 * HALF_WORLD))).floor();
    // Clamped (the poles' y is a hair beyond the square); NaN never reaches here.
    c.clamp(0.0, CELLS - 1.0) as u32
}

/// Spreads the 16 low bits of `v` to the even bits.
fn spread(v: u32) -> u32 {
    let mut v = v & 0xffff;
    v = (v | (v << 8)) & 0x00ff_00ff;
    v = (v | (v << 4)) & 0x0f0f_0f0f;
    v = (v | (v << 2)) & 0x3333_3333;
    (v | (v << 1)) & 0x5555_5555
}

/// Z-order key of cell (`cx`, `cy`): column bits even, row bits odd.
fn key(cx: u32, cy: u32) -> u32 {
    spread(cx) | (spread(cy) << 1)
}

/// The Z-order key of Web Mercator (`x`, `y`): what [`TileOrder`] stores for a location.
pub(super) fn key_of(x: f64, y: f64) -> u32 {
    key(cell(x), cell(y))
}

/// Gathers the even bits of `v` into its 16 low bits (the inverse of [`spread`]).
fn gather(v: u32) -> u32 {
    let mut v = v & 0x5555_5555;
    v = (v | (v >> 1)) & 0x3333_3333;
    v = (v | (v >> 2)) & 0x0f0f_0f0f;
    v = (v | (v >> 4)) & 0x00ff_00ff;
    (v | (v >> 8)) & 0xffff
}

/// The cell (column, row) of a Z-order key, rows counted from the south: at zoom z ≤ 8 the
/// global pixel column of the location is `column >> (8 − z)` (256-pixel tiles), the cells
/// being the pixels of zoom 8.
pub(super) fn cells_of(key: u32) -> (u32, u32) {
    (gather(key), gather(key >> 1))
}

/// Located observations in Z-order (see the module). Immutable once built; `Sync`.
pub(super) struct TileOrder {
    /// Z-order key of each location, ascending.
    pub(super) key: Vec<u32>,
    /// Web Mercator x, metres.
    pub(super) x: Vec<f64>,
    /// Web Mercator y, metres (latitudes clamped to ±85.051 128 78°).
    pub(super) y: Vec<f64>,
    /// Index of the location in the layer's arrays (the file's order).
    pub(super) index: Vec<u32>,
    /// Seconds since 1970; 0 where missing ([`flag::HAS_TIME`] tells).
    pub(super) time: Vec<i64>,
}

impl TileOrder {
    /// The locations with finite coordinates, sorted by key, then x and y, then index.
    pub(super) fn new(lon: &[f64], lat: &[f64], time: &[Option<i64>]) -> Self {
        let mut sorted: Vec<(u32, u32, f64, f64)> = lon
            .iter()
            .zip(lat)
            .enumerate()
            .filter(|(_, (x, y))| x.is_finite() && y.is_finite())
            .map(|(i, (lon, lat))| {
                let (x, y) = to_web_mercator(*lon, *lat);
                (key_of(x, y), i as u32, x, y)
            })
            .collect();
        // By cell, then location (a station's reports side by side), then index.
        sorted.sort_unstable_by(|p, q| {
            (p.0.cmp(&q.0))
                .then(p.2.total_cmp(&q.2))
                .then(p.3.total_cmp(&q.3))
                .then(p.1.cmp(&q.1))
        });
        Self {
            key: sorted.iter().map(|p| p.0).collect(),
            x: sorted.iter().map(|p| p.2).collect(),
            y: sorted.iter().map(|p| p.3).collect(),
            time: sorted
                .iter()
                .map(|p| time.get(p.1 as usize).copied().flatten().unwrap_or(0))
                .collect(),
            index: sorted.into_iter().map(|p| p.1).collect(),
        }
    }

    /// The flags of each location in this order: `finite(quantity, i)` says whether the
    /// quantity is finite at location `i`, `qc_ok(i)` whether the default QC filter keeps
    /// it.
    pub(super) fn flags(
        &self,
        has_time: impl Fn(usize) -> bool,
        qc_ok: impl Fn(usize) -> bool,
        finite: impl Fn(super::Quantity, usize) -> bool,
    ) -> Flags {
        use super::Quantity;
        const ALL: [Quantity; 5] = [
            Quantity::ObsValue,
            Quantity::ObsError,
            Quantity::HofX,
            Quantity::OmB,
            Quantity::OmF,
        ];
        self.index
            .iter()
            .map(|i| {
                let i = *i as usize;
                let mut f = 0;
                if has_time(i) {
                    f |= flag::HAS_TIME;
                }
                if qc_ok(i) {
                    f |= flag::QC_OK;
                }
                for q in ALL {
                    if finite(q, i) {
                        f |= quantity_bit(q);
                    }
                }
                f
            })
            .collect()
    }

    /// Number of located observations.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.key.len()
    }

    /// The runs `[start, end)` of this order holding every location whose Web Mercator
    /// (x, y) may lie in `b` (`[x0, y0, x1, y1]`, and some around it), ascending and
    /// disjoint, each with whether every location of the run lies strictly inside `inner`
    /// (a box inside `b`, on which the caller's tests all pass: such runs skip them).
    pub(super) fn runs(&self, b: [f64; 4], inner: [f64; 4]) -> Vec<Run> {
        let (cx0, cy0, cx1, cy1) = if b.iter().all(|v| v.is_finite()) {
            if b[0] > b[2] || b[1] > b[3] {
                return Vec::new();
            }
            (cell(b[0]), cell(b[1]), cell(b[2]), cell(b[3]))
        } else {
            // Not a box of numbers: every location (the caller's exact tests decide).
            (0, 0, CELLS as u32 - 1, CELLS as u32 - 1)
        };
        // The cells strictly inside `inner`: x in a cell above cell(x0) is above x0 (cell()
        // is monotone), and so on.
        let inner_cells = (inner.iter().all(|v| v.is_finite())
            && cell(inner[0]) + 1 < cell(inner[2])
            && cell(inner[1]) + 1 < cell(inner[3]))
        .then(|| {
            [
                cell(inner[0]) + 1,
                cell(inner[1]) + 1,
                cell(inner[2]) - 1,
                cell(inner[3]) - 1,
            ]
        });
        // Quadtree nodes wholly inside the box (and wholly inside or outside `inner`) are
        // exact runs; nodes across an edge are taken whole once their side is a 512th of the
        // box's perimeter (an 128th of a square's side): some hundreds of runs (a sliver of
        // the world too), and borders of extra (or not interior) locations that thin.
        let perimeter = 2 * (u64::from(cx1 - cx0) + u64::from(cy1 - cy0) + 2);
        let finest = (perimeter / 512).max(1).ilog2();
        let mut keys: Vec<(u32, u32, bool)> = Vec::new();
        let cover = Cover {
            c: [cx0, cy0, cx1, cy1],
            inner: inner_cells,
            finest,
        };
        cover.node(0, 0, 16, &mut keys);
        let mut runs: Vec<Run> = Vec::new();
        for (lo, hi, interior) in keys {
            let (a, z) = (
                self.key.partition_point(|k| *k < lo),
                self.key.partition_point(|k| *k <= hi),
            );
            match runs.last_mut() {
                // Key ranges apart with no location between them: one run.
                Some(prev) if prev.end == a && prev.interior == interior => prev.end = z,
                _ if a < z => runs.push(Run {
                    start: a,
                    end: z,
                    interior,
                }),
                _ => {}
            }
        }
        runs
    }
}

/// Locations `start..end` of a [`TileOrder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Run {
    pub(super) start: usize,
    pub(super) end: usize,
    /// Every location of the run is inside the `inner` box of [`TileOrder::runs`].
    pub(super) interior: bool,
}

/// The quadtree walk of [`TileOrder::runs`]: the cell box (inclusive), the interior cells,
/// and the finest side (2^`finest` cells) a node across an edge is split down to.
struct Cover {
    c: [u32; 4],
    inner: Option<[u32; 4]>,
    finest: u32,
}

impl Cover {
    /// Appends to `out` the key ranges (inclusive) of node (`nx`, `ny`) of side 2^`level`
    /// cells covering its part of the box, with whether they are interior, merging ranges
    /// that touch.
    fn node(&self, nx: u32, ny: u32, level: u32, out: &mut Vec<(u32, u32, bool)>) {
        let last = (1u32 << level) - 1;
        let meets =
            |c: &[u32; 4]| !(nx > c[2] || ny > c[3] || nx + last < c[0] || ny + last < c[1]);
        let within =
            |c: &[u32; 4]| nx >= c[0] && ny >= c[1] && nx + last <= c[2] && ny + last <= c[3];
        if !meets(&self.c) {
            return;
        }
        let interior = self.inner.as_ref().is_some_and(within);
        let settled = interior || !self.inner.as_ref().is_some_and(meets);
        if (within(&self.c) && settled) || level <= self.finest {
            let lo = key(nx, ny);
            // A node's keys are contiguous: 4^level of them (u64: the root has 2³²).
            let hi = (u64::from(lo) + (1u64 << (2 * level)) - 1) as u32;
            match out.last_mut() {
                Some(prev) if u64::from(prev.1) + 1 == u64::from(lo) && prev.2 == interior => {
                    prev.1 = hi;
                }
                _ => out.push((lo, hi, interior)),
            }
            return;
        }
        let half = 1u32 << (level - 1);
        // Z order: x is the low bit.
        for (dx, dy) in [(0, 0), (half, 0), (0, half), (half, half)] {
            self.node(nx + dx, ny + dy, level - 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_interleave_columns_and_rows() {
        assert_eq!(key(0, 0), 0);
        assert_eq!(key(1, 0), 1);
        assert_eq!(key(0, 1), 2);
        assert_eq!(key(3, 3), 15);
        assert_eq!(key(0xffff, 0xffff), u32::MAX);
        for (cx, cy) in [
            (0, 0),
            (1, 0),
            (0, 1),
            (0xffff, 0),
            (0x1234, 0xfedc),
            (0xffff, 0xffff),
        ] {
            assert_eq!(cells_of(key(cx, cy)), (cx, cy));
        }
        assert_eq!(cell(-HALF_WORLD), 0);
        assert_eq!(cell(HALF_WORLD), 65_535);
        assert_eq!(cell(1.0), 32_768);
    }

    #[test]
    fn runs_hold_every_location_of_a_box_and_the_world_is_one_run() {
        // A lattice of locations; for boxes of several sizes, the runs must hold each
        // location inside the box (and be sorted and disjoint).
        let mut lon = Vec::new();
        let mut lat = Vec::new();
        for i in 0..181 {
            for j in 0..80 {
                lon.push(-180.0 + 2.0 * f64::from(i) + 0.37);
                lat.push(-86.0 + 2.15 * f64::from(j));
            }
        }
        let order = TileOrder::new(&lon, &lat, &vec![None; lon.len()]);
        assert_eq!(order.len(), lon.len());
        let none = [f64::NAN; 4];
        let world = [
            -2.0 * HALF_WORLD,
            -2.0 * HALF_WORLD,
            2.0 * HALF_WORLD,
            2.0 * HALF_WORLD,
        ];
        let whole = Run {
            start: 0,
            end: lon.len(),
            interior: false,
        };
        assert_eq!(order.runs(world, none), vec![whole]);
        // Everything inside: all of it, interior but for the edge cells (a location there
        // may be beyond the bound).
        let runs = order.runs(world, world);
        assert_eq!(runs.first().map(|r| r.start), Some(0));
        assert_eq!(runs.last().map(|r| r.end), Some(lon.len()));
        assert!(runs.windows(2).all(|w| w[0].end == w[1].start));
        let interior: usize = runs
            .iter()
            .filter(|r| r.interior)
            .map(|r| r.end - r.start)
            .sum();
        assert!(interior * 10 > lon.len() * 9, "{interior}");
        for b in [
            [-1.0e6, -2.0e6, 3.0e6, 1.0e5],
            [1.0e7, 1.0e7, 1.1e7, 1.1e7],
            [-HALF_WORLD, 0.0, -HALF_WORLD + 1.0e6, HALF_WORLD],
            [-3.0e5, -3.0e5, 3.0e5, 3.0e5],
        ] {
            // The inner box: the middle of the box.
            let (mx, my) = ((b[2] - b[0]) / 4.0, (b[3] - b[1]) / 4.0);
            let inner = [b[0] + mx, b[1] + my, b[2] - mx, b[3] - my];
            let runs = order.runs(b, inner);
            assert!(runs.windows(2).all(|w| w[0].end <= w[1].start), "{runs:?}");
            let covered: Vec<usize> = runs.iter().flat_map(|r| r.start..r.end).collect();
            // Interior runs hold only locations strictly inside the inner box, and not few
            // of them (this lattice is coarse: a column near the inner box's edge is in the
            // border nodes).
            let strictly_inner = |k: &usize| {
                let (x, y) = (order.x[*k], order.y[*k]);
                x > inner[0] && x < inner[2] && y > inner[1] && y < inner[3]
            };
            let interior: Vec<usize> = runs
                .iter()
                .filter(|r| r.interior)
                .flat_map(|r| r.start..r.end)
                .collect();
            assert!(interior.iter().all(strictly_inner));
            let all_inner = (0..order.len()).filter(strictly_inner).count();
            assert!(
                interior.len() * 4 >= all_inner,
                "{b:?}: {} of {all_inner}",
                interior.len()
            );
            let inside: Vec<usize> = (0..order.len())
                .filter(|k| {
                    let (x, y) = (order.x[*k], order.y[*k]);
                    x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3]
                })
                .collect();
            assert!(!inside.is_empty());
            assert!(inside.iter().all(|k| covered.binary_search(k).is_ok()));
            // Not the whole world either: the runs are about the box.
            assert!(covered.len() < order.len() / 2, "{} runs", runs.len());
        }
        assert!(order.runs([1.0, 0.0, 0.0, 1.0], none).is_empty());
    }
}
