//! Geographic bounding boxes computed from a grid's edges, in O(ni + nj): what a catalog or a
//! map layer needs, without the ni·nj latitude/longitude arrays (a corrupt directory entry can
//! announce a grid whose arrays would take tens of gigabytes).

/// A geographic bounding box in degrees.
///
/// `west <= east`; `west` lies in [-180, 180) and `east` may exceed 180 when the box crosses
/// the antimeridian (`east - west < 360`). A box that goes round the globe is `[-180, 180]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoBox {
    /// Western longitude.
    pub west: f64,
    /// Southern latitude.
    pub south: f64,
    /// Eastern longitude.
    pub east: f64,
    /// Northern latitude.
    pub north: f64,
}

/// Boxes at least this wide in longitude are widened to the whole circle: a global grid that
/// leaves out less than a degree (its last column, say) still overlays every longitude.
const FULL_CIRCLE_FROM: f64 = 359.0;

/// Edges longer than this many points are sampled at this many evenly spaced points (ends
/// included). Real grids stay far below it; a hostile shape then costs milliseconds.
const MAX_EDGE_SAMPLES: usize = 1 << 16;

impl GeoBox {
    /// The whole globe.
    pub const WORLD: GeoBox = GeoBox {
        west: -180.0,
        south: -90.0,
        east: 180.0,
        north: 90.0,
    };

    /// `[west, south, east, north]`.
    #[must_use]
    pub fn to_array(self) -> [f64; 4] {
        [self.west, self.south, self.east, self.north]
    }

    /// The box from a longitude range (any origin, `west <= east`) and a latitude range.
    fn from_ranges(west: f64, east: f64, south: f64, north: f64) -> GeoBox {
        let (south, north) = (south.max(-90.0), north.min(90.0));
        let width = east - west;
        if width >= FULL_CIRCLE_FROM || width.is_nan() {
            return GeoBox {
                west: -180.0,
                south,
                east: 180.0,
                north,
            };
        }
        let shift = 360.0 * ((west + 180.0) / 360.0).floor();
        GeoBox {
            west: west - shift,
            south,
            east: east - shift,
            north,
        }
    }

    /// The smallest box holding both (on the circle of longitudes).
    #[must_use]
    pub fn union(self, other: GeoBox) -> GeoBox {
        let (s, n) = (self.south.min(other.south), self.north.max(other.north));
        [-360.0, 0.0, 360.0]
            .iter()
            .map(|k| (self.west.min(other.west + k), self.east.max(other.east + k)))
            .min_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))
            .map_or(GeoBox::WORLD, |(w, e)| GeoBox::from_ranges(w, e, s, n))
    }
}

impl From<GeoBox> for [f64; 4] {
    fn from(b: GeoBox) -> Self {
        b.to_array()
    }
}

/// Fractional indices along an edge of `n` points, half a cell beyond the outermost points
/// at both ends: `-0.5, 0, 1, …, n-1, n-0.5` (sampled when `n` is huge).
fn edge_positions(n: usize) -> impl DoubleEndedIterator<Item = f64> + Clone {
    let last = n as f64 - 0.5;
    let inner = n.min(MAX_EDGE_SAMPLES);
    let step = if inner > 1 {
        (n - 1) as f64 / (inner - 1) as f64
    } else {
        0.0
    };
    std::iter::once(-0.5)
        .chain((0..inner).map(move |k| (k as f64 * step).round()))
        .chain(std::iter::once(last))
}

/// Extremes of a path of points, longitudes unwrapped along the path.
#[derive(Debug, Default)]
struct Walk {
    lat: Option<(f64, f64)>,
    lon: Option<(f64, f64)>,
    prev_lon: Option<f64>,
}

impl Walk {
    fn push(&mut self, (lat, lon): (f64, f64)) {
        if !(lat.is_finite() && lon.is_finite()) {
            return;
        }
        // Each step is taken the short way round, so a path crossing the antimeridian (or
        // 0°) keeps increasing or decreasing instead of jumping by 360.
        let lon = self
            .prev_lon
            .map_or(lon, |p| p + (lon - p + 180.0).rem_euclid(360.0) - 180.0);
        self.prev_lon = Some(lon);
        let grow =
            |r: Option<(f64, f64)>, v: f64| Some(r.map_or((v, v), |(a, b)| (a.min(v), b.max(v))));
        self.lat = grow(self.lat, lat);
        self.lon = grow(self.lon, lon);
    }
}

/// The box of a grid from the points on its edges, half a cell outside the outermost rows and
/// columns. `point(i, j)` gives (lat, lon) at fractional indices; `poles` says whether the
/// north and south poles are inside the grid (then every longitude is, and that latitude).
///
/// On a grid that does not fold over itself, latitude and longitude have no extreme inside
/// the grid except at a pole, so the edges and the poles bound the whole grid.
pub(crate) fn from_edges(
    ni: usize,
    nj: usize,
    point: impl Fn(f64, f64) -> (f64, f64),
    (north_pole, south_pole): (bool, bool),
) -> GeoBox {
    let (xs, ys) = (edge_positions(ni), edge_positions(nj));
    let (i_last, j_last) = (ni as f64 - 0.5, nj as f64 - 0.5);
    let mut walk = Walk::default();
    xs.clone().for_each(|i| walk.push(point(i, -0.5)));
    ys.clone().for_each(|j| walk.push(point(i_last, j)));
    xs.rev().for_each(|i| walk.push(point(i, j_last)));
    ys.rev().for_each(|j| walk.push(point(-0.5, j)));
    let (Some((s, n)), Some((w, e))) = (walk.lat, walk.lon) else {
        return GeoBox::WORLD;
    };
    let s = if south_pole { -90.0 } else { s };
    let n = if north_pole { 90.0 } else { n };
    if north_pole || south_pole {
        return GeoBox::from_ranges(-180.0, 180.0, s, n);
    }
    GeoBox::from_ranges(w, e, s, n)
}

/// The box of a set of points given in no particular order (the arrays of a Y grid), padded by
/// half the mean spacing: the narrower of the [-180, 180) and [0, 360) longitude ranges, and
/// the whole circle for a set that reaches both poles' neighbourhoods around most longitudes.
pub(crate) fn from_points(lat: &[f64], lon: &[f64], ni: usize, nj: usize) -> GeoBox {
    let (mut s, mut n) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut w1, mut e1, mut w2, mut e2) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for (&la, &lo) in lat.iter().zip(lon) {
        if !la.is_finite() || !lo.is_finite() {
            continue;
        }
        s = s.min(la);
        n = n.max(la);
        let a = lo.rem_euclid(360.0);
        let b = if a >= 180.0 { a - 360.0 } else { a };
        w1 = w1.min(a);
        e1 = e1.max(a);
        w2 = w2.min(b);
        e2 = e2.max(b);
    }
    if s > n {
        return GeoBox::WORLD;
    }
    let pad = 0.5 * ((n - s) / nj.max(1) as f64);
    let (w, e) = if e2 - w2 <= e1 - w1 {
        (w2, e2)
    } else {
        (w1, e1)
    };
    let padx = 0.5 * ((e - w) / ni.max(1) as f64);
    if s - pad <= -89.0 && n + pad >= 89.0 && e - w > 300.0 {
        return GeoBox::from_ranges(-180.0, 180.0, s - pad, n + pad);
    }
    GeoBox::from_ranges(w - padx, e + padx, s - pad, n + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_positions_pad_and_sample() {
        let v: Vec<f64> = edge_positions(3).collect();
        assert_eq!(v, [-0.5, 0.0, 1.0, 2.0, 2.5]);
        let big: Vec<f64> = edge_positions(46_000_000).collect();
        assert_eq!(big.len(), MAX_EDGE_SAMPLES + 2);
        assert_eq!(big[1], 0.0);
        assert_eq!(big[big.len() - 2], 45_999_999.0);
        assert_eq!(big[big.len() - 1], 45_999_999.5);
    }

    #[test]
    fn union_takes_the_short_way_round() {
        let a = GeoBox {
            west: 170.0,
            south: 0.0,
            east: 175.0,
            north: 10.0,
        };
        let b = GeoBox {
            west: -175.0,
            south: -5.0,
            east: -170.0,
            north: 5.0,
        };
        let u = a.union(b);
        assert_eq!(u.to_array(), [170.0, -5.0, 190.0, 10.0]);
        assert_eq!(b.union(a).to_array(), [170.0, -5.0, 190.0, 10.0]);
        let world = a.union(GeoBox::WORLD);
        assert_eq!((world.west, world.east), (-180.0, 180.0));
    }

    #[test]
    fn walk_unwraps_across_the_antimeridian() {
        // A strip from 170°E to 170°W, as a path.
        let b = from_edges(
            21,
            3,
            |i, j| (j, (170.0 + i).rem_euclid(360.0)),
            (false, false),
        );
        assert_eq!(b.to_array(), [169.5, -0.5, 190.5, 2.5]);
    }
}
