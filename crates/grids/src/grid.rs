//! [`Grid`]: a descriptor turned into geometry.

use std::sync::{Arc, OnceLock};

use fst_core::Limits;

use crate::axis::Axis;
use crate::bounds::{self, GeoBox};
use crate::cloud::Cloud;
#[cfg(feature = "proj")]
use crate::crs::Crs;
use crate::crs::{self, GeoTransform};
use crate::descriptor::{GridDescriptor, GridOptions, Positional};
use crate::error::{GridError, Result};
use crate::gauss::gaussian_latitudes;
use crate::kernels::{self, PolarK, ToIndexK};
use crate::params::{
    wrap360, GlobalParams, Hemisphere, LatLonParams, PolarParams, RotatedParams, EARTH_RADIUS_M,
};
use crate::rotation::Rotation;
use crate::yinyang::YinYang;

/// `1 + sin 60°`: the polar stereographic plane is true at 60°. librmn truncates this to
/// 1.866025, which moves points by at most 2e-5°; we keep the exact value so that PROJ's
/// `+lat_ts=60` reproduces our coordinates to 1e-9°.
pub(crate) const ONE_PLUS_SIN60: f64 = 1.866_025_403_784_438_6;

/// Upper bound on ni·nj whatever the limits, to fail cleanly instead of allocating absurd
/// arrays; [`Grid::with_limits`] applies `Limits::max_values_per_record` below it.
pub const MAX_POINTS: usize = 1 << 31;

/// Most Gaussian latitudes computed for a G grid (the global count, twice the rows of a
/// hemispheric grid). Each root costs O(n), so the work is quadratic: 32768 latitudes (a
/// T21844 spectral grid, far beyond any model) are a few 10⁹ operations, while a corrupt nj of
/// millions would take hours.
const MAX_GAUSSIAN_LATITUDES: usize = 1 << 15;

/// The projection in which a rectilinear grid is regular or rectilinear.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Projection {
    /// Longitude/latitude on the sphere, degrees.
    LongLat,
    /// Polar stereographic, metres (north or south).
    Polar { north: bool, dgrw: f64 },
    /// Rotated longitude/latitude, degrees.
    Rotated(Rotation),
}

/// A grid that is rectilinear in its projection: x varies with i only, y with j only.
#[derive(Debug, Clone)]
pub(crate) struct Rect {
    pub(crate) proj: Projection,
    pub(crate) x: Axis,
    pub(crate) y: Axis,
}

impl Rect {
    pub(crate) fn ni(&self) -> usize {
        self.x.len()
    }
    pub(crate) fn nj(&self) -> usize {
        self.y.len()
    }

    fn polar_k(north: bool, dgrw: f64) -> PolarK {
        PolarK {
            north,
            rho: ONE_PLUS_SIN60 * EARTH_RADIUS_M,
            dgrw,
        }
    }

    /// True when x is an angle (a longitude), so that inverse lookups wrap.
    fn x_center(&self) -> Option<f64> {
        match self.proj {
            Projection::Polar { .. } => None,
            _ => Some(f64::midpoint(self.x.first(), self.x.last())),
        }
    }

    /// Fill `lat`/`lon` (ni·nj each, i fastest).
    /// Fill `lat`/`lon` (ni·nj each, i fastest), splitting the rows over a few threads for
    /// large grids (the per-row work is independent).
    fn lat_lon_into(&self, lat: &mut [f64], lon: &mut [f64]) {
        let ni = self.ni();
        let nj = lat.len() / ni.max(1);
        let threads = worker_threads(ni * nj);
        if threads <= 1 {
            self.lat_lon_rows(0, lat, lon);
            return;
        }
        let rows_per = nj.div_ceil(threads);
        std::thread::scope(|sc| {
            for (t, (la, lo)) in lat
                .chunks_mut(rows_per * ni)
                .zip(lon.chunks_mut(rows_per * ni))
                .enumerate()
            {
                sc.spawn(move || self.lat_lon_rows(t * rows_per, la, lo));
            }
        });
    }

    /// Fill whole rows starting at row `j0`.
    fn lat_lon_rows(&self, j0: usize, lat: &mut [f64], lon: &mut [f64]) {
        let ni = self.ni();
        if ni == 0 {
            return;
        }
        let xs = self.x.values();
        let rows = lat
            .chunks_exact_mut(ni)
            .zip(lon.chunks_exact_mut(ni))
            .enumerate();
        match self.proj {
            Projection::LongLat => {
                let row: Vec<f64> = xs.iter().map(|&x| wrap360(x)).collect();
                for (j, (la, lo)) in rows {
                    la.fill(self.y.value(j0 + j));
                    lo.copy_from_slice(&row);
                }
            }
            Projection::Polar { north, dgrw } => {
                let k = Self::polar_k(north, dgrw);
                for (j, (la, lo)) in rows {
                    kernels::polar_to_geo(k, &xs, self.y.value(j0 + j), la, lo);
                }
            }
            Projection::Rotated(rot) => {
                let m = rot.to_true_matrix();
                let (s, c): (Vec<f64>, Vec<f64>) =
                    xs.iter().map(|x| x.to_radians().sin_cos()).unzip();
                for (j, (la, lo)) in rows {
                    let (sp, cp) = self.y.value(j0 + j).to_radians().sin_cos();
                    kernels::rotated_to_geo(&m, &c, &s, cp, sp, la, lo);
                }
            }
        }
    }

    /// Geographic (lat, lon) of fractional point (i, j).
    fn point(&self, i: f64, j: f64) -> (f64, f64) {
        self.point_xy(self.x.value_at(i), self.y.value_at(j))
    }

    /// Geographic (lat, lon) of CRS coordinates (x, y).
    fn point_xy(&self, x: f64, y: f64) -> (f64, f64) {
        match self.proj {
            Projection::LongLat => (y, wrap360(x)),
            Projection::Polar { north, dgrw } => {
                let k = Self::polar_k(north, dgrw);
                crate::params::polar_latlon(north, k.rho, dgrw, x, y)
            }
            Projection::Rotated(rot) => rot.to_true(y, x),
        }
    }

    /// Geographic point → CRS coordinates.
    fn to_crs(&self, lat: f64, lon: f64) -> (f64, f64) {
        match self.proj {
            Projection::LongLat => (lon, lat),
            Projection::Polar { north, dgrw } => {
                let (mut x, mut y) = ([0.0], [0.0]);
                kernels::geo_to_polar_scalar(
                    Self::polar_k(north, dgrw),
                    &[lon],
                    &[lat],
                    &mut x,
                    &mut y,
                );
                (x[0], y[0])
            }
            Projection::Rotated(rot) => {
                let (mut x, mut y) = ([0.0], [0.0]);
                kernels::geo_to_rotated_scalar(
                    &rot.to_rotated_matrix(),
                    &[lon],
                    &[lat],
                    &mut x,
                    &mut y,
                );
                (x[0], y[0])
            }
        }
    }

    fn locate_x(&self, x: f64) -> f64 {
        let x = match self.x_center() {
            Some(c) => kernels::wrap_about(x, c),
            None => x,
        };
        in_range(self.x.locate(x), self.ni())
    }

    pub(crate) fn index_of(&self, lat: f64, lon: f64) -> Option<(f64, f64)> {
        let (x, y) = self.to_crs(lat, lon);
        let i = self.locate_x(x);
        let j = in_range(self.y.locate(y), self.nj());
        (!i.is_nan() && !j.is_nan()).then_some((i, j))
    }

    pub(crate) fn index_of_many(&self, lon: &[f64], lat: &[f64], oi: &mut [f64], oj: &mut [f64]) {
        // Stage 1: CRS coordinates into the output buffers.
        match self.proj {
            Projection::LongLat => {
                oi.copy_from_slice(lon);
                oj.copy_from_slice(lat);
            }
            Projection::Polar { north, dgrw } => {
                kernels::geo_to_polar(Self::polar_k(north, dgrw), lon, lat, oi, oj);
            }
            Projection::Rotated(rot) => {
                kernels::geo_to_rotated(&rot.to_rotated_matrix(), lon, lat, oi, oj);
            }
        }
        // Stage 2: CRS coordinates → fractional indices.
        let xc = self.x_center();
        match self.x {
            Axis::Uniform { start, step, n } => {
                kernels::to_index(
                    ToIndexK {
                        start,
                        step,
                        n: n as f64,
                        wrap_center: xc,
                    },
                    oi,
                );
            }
            Axis::Explicit(_) => oi.iter_mut().for_each(|v| *v = self.locate_x(*v)),
        }
        match self.y {
            Axis::Uniform { start, step, n } => {
                kernels::to_index(
                    ToIndexK {
                        start,
                        step,
                        n: n as f64,
                        wrap_center: None,
                    },
                    oj,
                );
            }
            Axis::Explicit(_) => {
                let n = self.nj();
                for v in oj.iter_mut() {
                    *v = in_range(self.y.locate(*v), n);
                }
            }
        }
        // A point is outside when either index is.
        for (a, b) in oi.iter_mut().zip(oj.iter_mut()) {
            if a.is_nan() || b.is_nan() {
                *a = f64::NAN;
                *b = f64::NAN;
            }
        }
    }

    fn proj_string(&self) -> String {
        crs::proj_string(&self.proj)
    }

    /// Bounds from the edges, half a cell outside the outermost points. A pole is a point of
    /// the plane for polar and rotated grids (inside when `index_of` finds it); on longitude
    /// grids it is a row, which the edges already reach.
    fn bbox(&self) -> GeoBox {
        let angular_y = !matches!(self.proj, Projection::Polar { .. });
        let pole_inside = |lat: f64| {
            !matches!(self.proj, Projection::LongLat) && self.index_of(lat, 0.0).is_some()
        };
        bounds::from_edges(
            self.ni(),
            self.nj(),
            |i, j| {
                let y = self.y.value_at(j);
                // Half a cell beyond a row at ±90° is still the pole.
                let y = if angular_y { y.clamp(-90.0, 90.0) } else { y };
                self.point_xy(self.x.value_at(i), y)
            },
            (pole_inside(90.0), pole_inside(-90.0)),
        )
    }

    fn geotransform(&self) -> Option<GeoTransform> {
        match (&self.x, &self.y) {
            (
                Axis::Uniform {
                    start: x0,
                    step: dx,
                    ..
                },
                Axis::Uniform {
                    start: y0,
                    step: dy,
                    ..
                },
            ) => Some(GeoTransform {
                x0: *x0,
                dx: *dx,
                y0: *y0,
                dy: *dy,
            }),
            _ => None,
        }
    }

    fn coordinates(&self) -> Coordinates {
        match self.geotransform() {
            Some(gt) => Coordinates::Affine(gt),
            None => Coordinates::Rectilinear {
                x: self.x.values(),
                y: self.y.values(),
            },
        }
    }
}

/// Grids below this many points are computed on the calling thread: spawning costs more than
/// it saves.
const PARALLEL_MIN_POINTS: usize = 1 << 18;

/// Threads to use for `n` points: the available parallelism, at most 8, or 1 for small grids.
fn worker_threads(n: usize) -> usize {
    if n < PARALLEL_MIN_POINTS {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |p| p.get().min(8))
}

/// Keep a fractional index when it lies within half a cell of the grid, else NaN.
fn in_range(i: f64, n: usize) -> f64 {
    if i >= -0.5 && i < n as f64 - 0.5 {
        i
    } else {
        f64::NAN
    }
}

/// How a grid's points are placed in its CRS.
#[derive(Debug, Clone, PartialEq)]
pub enum Coordinates {
    /// Regular: point (i, j) (0-based) is at `x0 + i·dx`, `y0 + j·dy`.
    Affine(GeoTransform),
    /// Rectilinear: point (i, j) is at `(x[i], y[j])` (G latitudes, stretched Z axes).
    Rectilinear {
        /// One CRS x per column.
        x: Vec<f64>,
        /// One CRS y per row.
        y: Vec<f64>,
    },
    /// Only per-point latitude/longitude arrays describe the grid (Y, O): see
    /// [`Grid::lat_lon`].
    Geolocation,
    /// One entry per subgrid (U), in record order.
    Subgrids(Vec<Coordinates>),
}

#[derive(Debug)]
enum Kind {
    Rect(Rect),
    Cloud(Cloud),
    /// Yin (rows 0..nj/2) and Yang.
    YinYang(Box<YinYang>),
}

/// Latitude and longitude of every point, degrees, i fastest (flat offset `i + j·ni`).
/// Longitudes are in [0, 360), like librmn's.
#[derive(Debug, Clone, PartialEq)]
pub struct LatLon {
    /// Points along i.
    pub ni: usize,
    /// Points along j (for U, both subgrids).
    pub nj: usize,
    /// Latitudes.
    pub lat: Vec<f64>,
    /// Longitudes.
    pub lon: Vec<f64>,
}

/// A grid's geometry: CRS, affine transform, per-point latitude/longitude and the inverse.
///
/// `Grid` is `Send + Sync`; the latitude/longitude arrays and the Y-grid search tree are
/// computed on first use and kept (a `OnceLock`), so share one `Grid` through an `Arc` or the
/// [`crate::GridCache`].
#[derive(Debug)]
pub struct Grid {
    grtyp: u8,
    ni: usize,
    nj: usize,
    ref_grtyp: Option<u8>,
    kind: Kind,
    lat_lon: OnceLock<Arc<LatLon>>,
    limits: Limits,
}

fn usage_len(what: &str, got: usize, want: usize) -> GridError {
    GridError::Usage(format!("{what} has {got} elements, expected {want}"))
}

impl Grid {
    /// Build the geometry of a descriptor.
    ///
    /// ```
    /// use grids::{Grid, GridDescriptor, GridError, GridOptions};
    /// // grids.fst's S grid: pi = pj = 21, d60 = 200 km, dgrw = 10° (old-style igs).
    /// let s = Grid::new(&GridDescriptor::simple(b'S', 41, 41, [210, 210, 1000, 2000]), GridOptions::default())?;
    /// let ll = s.lat_lon();
    /// assert_eq!((ll.lat[20 + 20 * 41], ll.lon[20 + 20 * 41]), (-90.0, 0.0)); // the pole
    /// assert!(s.proj_string()?.starts_with("+proj=stere +lat_0=-90 +lat_ts=-60 +lon_0=-80 "));
    /// let x = Grid::new(&GridDescriptor::simple(b'X', 12, 8, [0; 4]), GridOptions::default());
    /// assert!(matches!(x, Err(GridError::NotGeoreferenced { .. })));
    /// # Ok::<(), GridError>(())
    /// ```
    pub fn new(d: &GridDescriptor, opts: GridOptions) -> Result<Self> {
        Self::with_limits(d, opts, &Limits::DEFAULT)
    }

    /// [`Grid::new`] under the limits a file was opened with: the shape must hold at most
    /// `limits.max_values_per_record` points, and no array the grid computes may exceed
    /// `limits.max_decoded_bytes` ([`Grid::try_lat_lon`] checks its 16 bytes per point).
    /// Descriptors come from untrusted files; a shape fst-core accepts then never makes a
    /// grid allocate without bound. [`Grid::bbox`], [`Grid::geotransform`] and the inverse
    /// need no per-point arrays at all.
    ///
    /// ```
    /// use fst_core::Limits;
    /// use grids::{Grid, GridDescriptor, GridError, GridOptions};
    /// // A directory entry claiming a 46000 x 46000 A grid (the record itself can be tiny).
    /// let d = GridDescriptor::simple(b'A', 46_000, 46_000, [0; 4]);
    /// let g = Grid::with_limits(&d, GridOptions::default(), &Limits::DEFAULT)?;
    /// assert!(matches!(g.try_lat_lon(), Err(GridError::TooLarge { .. }))); // 34 GB refused
    /// assert_eq!(g.bbox().to_array(), [-180.0, -90.0, 180.0, 90.0]); // from its edges
    /// // An L grid whose rows run past the pole describes no place on the Earth.
    /// let past_pole = GridDescriptor::simple(b'L', 10, 200, [100, 100, 0, 0]);
    /// assert!(Grid::new(&past_pole, GridOptions::default()).is_err());
    /// # Ok::<(), GridError>(())
    /// ```
    pub fn with_limits(d: &GridDescriptor, opts: GridOptions, limits: &Limits) -> Result<Self> {
        let g = d.grtyp;
        let (ni, nj) = (d.ni as usize, d.nj as usize);
        if ni == 0 || nj == 0 {
            return Err(GridError::invalid(g, format!("empty shape {ni}x{nj}")));
        }
        check_size(g, ni, nj, limits)?;
        let mut ref_grtyp = None;
        let kind = match g {
            b'A' | b'B' | b'G' => Kind::Rect(global_rect(g, ni, nj, d.ig)?),
            b'L' => {
                let p = LatLonParams::decode(d.ig);
                if p.dlat == 0.0 || p.dlon == 0.0 {
                    return Err(GridError::invalid(g, format!("zero spacing in {p:?}")));
                }
                p.check_rows(nj)?;
                Kind::Rect(Rect {
                    proj: Projection::LongLat,
                    x: Axis::uniform(p.lon0, p.dlon, ni),
                    y: Axis::uniform(p.lat0, p.dlat, nj),
                })
            }
            b'N' | b'S' => {
                let p = PolarParams::decode_checked(g == b'N', d.ig)?;
                Kind::Rect(Rect {
                    proj: Projection::Polar {
                        north: p.north,
                        dgrw: p.dgrw,
                    },
                    x: Axis::uniform((1.0 - p.pi) * p.d60, p.d60, ni),
                    y: Axis::uniform((1.0 - p.pj) * p.d60, p.d60, nj),
                })
            }
            b'E' => {
                if ni < 2 {
                    return Err(GridError::invalid(g, "an E grid needs ni >= 2"));
                }
                let p = RotatedParams::decode(d.ig);
                p.check(g)?;
                let rot = Rotation::new(&p)?;
                let (proj, x) = rotated_frame(rot, Axis::uniform(0.0, 360.0 / (ni - 1) as f64, ni));
                Kind::Rect(Rect {
                    proj,
                    x,
                    y: Axis::uniform(-90.0 + 90.0 / nj as f64, 180.0 / nj as f64, nj),
                })
            }
            b'Z' | b'#' => {
                let pos = need_positional(d)?;
                ref_grtyp = Some(pos.grtyp);
                z_grid(d, pos, opts)?
            }
            b'Y' | b'O' => {
                let pos = need_positional(d)?;
                ref_grtyp = Some(pos.grtyp);
                if !matches!(pos.grtyp, b'L' | b'O') {
                    return Err(GridError::invalid(
                        g,
                        format!(
                            "positional records of grid type '{}': a Y grid's `>>`/`^^` must be \
                             L or O (librmn rejects Y on N, S and E)",
                            char::from(pos.grtyp)
                        ),
                    ));
                }
                Kind::Cloud(cloud(g, ni, nj, pos)?)
            }
            b'U' => {
                let pos = need_positional(d)?;
                ref_grtyp = Some(pos.grtyp);
                Kind::YinYang(Box::new(YinYang::new(ni, nj, pos, opts)?))
            }
            b'X' => return Err(GridError::NotGeoreferenced { grtyp: 'X' }),
            b'M' => {
                return Err(GridError::Unsupported {
                    grtyp: 'M',
                    reason: "triangular meshes (`^^`, `>>` and the `##` connectivity) are not \
                             implemented; librmn does not define them either",
                })
            }
            _ => {
                return Err(GridError::Unsupported {
                    grtyp: char::from(g),
                    reason: "not one of A B G L N S E Z # Y O U",
                })
            }
        };
        Ok(Grid {
            grtyp: g,
            ni,
            nj,
            ref_grtyp,
            kind,
            lat_lon: OnceLock::new(),
            limits: *limits,
        })
    }

    /// Grid type.
    #[must_use]
    pub fn grtyp(&self) -> char {
        char::from(self.grtyp)
    }

    /// Grid type of the reference (positional records) for Z, #, Y, O and U grids.
    #[must_use]
    pub fn ref_grtyp(&self) -> Option<char> {
        self.ref_grtyp.map(char::from)
    }

    /// Shape (ni, nj) of the data record.
    #[must_use]
    pub fn shape(&self) -> (usize, usize) {
        (self.ni, self.nj)
    }

    /// Whether the columns go round the globe: the i axis is a longitude (true or rotated)
    /// whose `ni` columns cover 360° without repeating the first, so that column 0 follows
    /// column `ni − 1` (global A and G grids, a global L or Z grid). A point between the last
    /// column and 360° past the first then lies between those two columns: its index from
    /// [`Grid::index_of`] is in `[-0.5, 0)` or `(ni − 1, ni − 0.5)`, and interpolation takes
    /// column `ni − 1` and column 0. False for B grids (the last column repeats the first),
    /// regional and polar grids, Y and U grids.
    ///
    /// ```
    /// use grids::{Grid, GridDescriptor, GridOptions};
    /// let a = Grid::new(&GridDescriptor::simple(b'A', 90, 45, [0, 0, 0, 0]), GridOptions::default())?;
    /// let b = Grid::new(&GridDescriptor::simple(b'B', 91, 46, [0, 0, 0, 0]), GridOptions::default())?;
    /// assert!(a.wraps_columns());
    /// assert!(!b.wraps_columns());
    /// # Ok::<(), grids::GridError>(())
    /// ```
    #[must_use]
    pub fn wraps_columns(&self) -> bool {
        let Kind::Rect(r) = &self.kind else {
            return false;
        };
        let n = r.ni();
        if matches!(r.proj, Projection::Polar { .. }) || n < 2 {
            return false;
        }
        let span = r.x.last() - r.x.first();
        let step = span / (n - 1) as f64;
        // The gap from the last column round to the first is one more column spacing (to a
        // hundredth of it: ig-encoded spacings are whole hundredths of a degree).
        step > 0.0 && ((360.0 - span) - step).abs() <= 0.01 * step
    }

    /// Number of subgrids: 2 for U, 1 otherwise.
    #[must_use]
    pub fn subgrid_count(&self) -> usize {
        match self.kind {
            Kind::YinYang(_) => 2,
            _ => 1,
        }
    }

    /// The PROJ definition of the grid's CRS, without calling PROJ. U grids have one CRS per
    /// subgrid ([`Grid::subgrid_proj_string`]).
    pub fn proj_string(&self) -> Result<String> {
        match &self.kind {
            Kind::Rect(r) => Ok(r.proj_string()),
            Kind::Cloud(_) => Ok(crs::proj_string(&Projection::LongLat)),
            Kind::YinYang(_) => Err(GridError::Usage(
                "a U grid has one CRS per subgrid: use subgrid_proj_string/subgrid_crs".into(),
            )),
        }
    }

    /// PROJ definition of subgrid `k` (0 = Yin, 1 = Yang for U; 0 for every other grid).
    pub fn subgrid_proj_string(&self, k: usize) -> Result<String> {
        match (&self.kind, k) {
            (Kind::YinYang(s), 0 | 1) => Ok(s[k].proj_string()),
            (_, 0) => self.proj_string(),
            _ => Err(GridError::Usage(format!("no subgrid {k}"))),
        }
    }

    /// The CRS: PROJ definition plus WKT (WKT2:2019, produced by PROJ).
    #[cfg(feature = "proj")]
    pub fn crs(&self) -> Result<Crs> {
        Crs::from_proj(self.proj_string()?)
    }

    /// WKT2:2019 of subgrid `k`'s CRS (0 = Yin, 1 = Yang for U; 0 for every other grid),
    /// single-line, without PROJ: the same text PROJ exports for
    /// [`Grid::subgrid_proj_string`] with line breaks removed (a test checks it).
    pub fn subgrid_wkt(&self, k: usize) -> Result<String> {
        match (&self.kind, k) {
            (Kind::Rect(r), 0) => Ok(crate::wkt::wkt2019(&r.proj)),
            (Kind::Cloud(_), 0) => Ok(crate::wkt::wkt2019(&Projection::LongLat)),
            (Kind::YinYang(s), 0 | 1) => Ok(crate::wkt::wkt2019(&s[k].proj)),
            _ => Err(GridError::Usage(format!("no subgrid {k}"))),
        }
    }

    /// The CF-1.11 grid-mapping attributes of subgrid `k`'s CRS (0 = Yin, 1 = Yang for U; 0
    /// for every other grid): `grid_mapping_name` (`latitude_longitude`,
    /// `rotated_latitude_longitude` or `polar_stereographic`) and its parameters,
    /// `earth_radius`, `crs_wkt` (as [`Grid::subgrid_wkt`]), `spatial_ref` and
    /// `proj4_params`. Built without PROJ.
    pub fn subgrid_cf_mapping(&self, k: usize) -> Result<Vec<(&'static str, crate::CfValue)>> {
        match (&self.kind, k) {
            (Kind::Rect(r), 0) => Ok(crate::cf_mapping::attributes(&r.proj)),
            (Kind::Cloud(_), 0) => Ok(crate::cf_mapping::attributes(&Projection::LongLat)),
            (Kind::YinYang(s), 0 | 1) => Ok(crate::cf_mapping::attributes(&s[k].proj)),
            _ => Err(GridError::Usage(format!("no subgrid {k}"))),
        }
    }

    /// The CRS of subgrid `k`.
    #[cfg(feature = "proj")]
    pub fn subgrid_crs(&self, k: usize) -> Result<Crs> {
        Crs::from_proj(self.subgrid_proj_string(k)?)
    }

    /// The affine transform from 0-based point indices to CRS coordinates, when the grid is
    /// regular in its CRS (A, B, L, N, S, E, and Z or # with evenly spaced axes). `None` for
    /// G, stretched Z, Y, O and U (see [`Grid::subgrid_geotransform`]).
    #[must_use]
    pub fn geotransform(&self) -> Option<GeoTransform> {
        match &self.kind {
            Kind::Rect(r) => r.geotransform(),
            _ => None,
        }
    }

    /// The affine transform of subgrid `k` (U: 0 = Yin rows, 1 = Yang rows, each indexed
    /// from its own first row).
    #[must_use]
    pub fn subgrid_geotransform(&self, k: usize) -> Option<GeoTransform> {
        match (&self.kind, k) {
            (Kind::YinYang(s), 0 | 1) => s[k].geotransform(),
            (_, 0) => self.geotransform(),
            _ => None,
        }
    }

    /// How the points sit in the CRS: affine, rectilinear axes, geolocation arrays only, or
    /// per subgrid.
    #[must_use]
    pub fn coordinates(&self) -> Coordinates {
        match &self.kind {
            Kind::Rect(r) => r.coordinates(),
            Kind::Cloud(_) => Coordinates::Geolocation,
            Kind::YinYang(s) => Coordinates::Subgrids(s.iter().map(Rect::coordinates).collect()),
        }
    }

    /// Latitude and longitude of every point, computed on first use and then kept.
    ///
    /// # Panics
    ///
    /// When [`Grid::try_lat_lon`] fails: the arrays exceed the grid's limits or the memory
    /// cannot be reserved. Use `try_lat_lon` on grids that come from files.
    #[must_use]
    pub fn lat_lon(&self) -> Arc<LatLon> {
        match self.try_lat_lon() {
            Ok(ll) => ll,
            #[allow(clippy::panic)] // documented; fallible callers use try_lat_lon
            Err(e) => panic!("{e}"),
        }
    }

    /// Latitude and longitude of every point, computed on first use and then kept; an error
    /// instead of an allocation when the 16 bytes per point exceed the limits the grid was
    /// built with (`Limits::max_decoded_bytes`) or cannot be reserved.
    pub fn try_lat_lon(&self) -> Result<Arc<LatLon>> {
        if let Some(ll) = self.lat_lon.get() {
            return Ok(Arc::clone(ll));
        }
        let n = self.ni * self.nj;
        let bytes = (n as u64).saturating_mul(16);
        let too_large = |detail: String| GridError::too_large(self.grtyp, self.ni, self.nj, detail);
        if bytes > self.limits.max_decoded_bytes {
            return Err(too_large(format!(
                "its latitude/longitude arrays need {bytes} bytes, more than the limit of {} \
                 (fst_core::Limits::max_decoded_bytes)",
                self.limits.max_decoded_bytes
            )));
        }
        let zeroed = || -> Result<Vec<f64>> {
            let mut v = Vec::new();
            v.try_reserve_exact(n).map_err(|_reserve_failed| {
                too_large(format!(
                    "cannot reserve {bytes} bytes for its latitude/longitude arrays"
                ))
            })?;
            v.resize(n, 0.0);
            Ok(v)
        };
        let (mut lat, mut lon) = (zeroed()?, zeroed()?);
        self.fill_lat_lon(&mut lat, &mut lon);
        Ok(Arc::clone(self.lat_lon.get_or_init(|| {
            Arc::new(LatLon {
                ni: self.ni,
                nj: self.nj,
                lat,
                lon,
            })
        })))
    }

    /// The geographic bounding box of the grid's cells (points plus half a cell), from its
    /// edges in O(ni + nj): no per-point array is computed, whatever the shape. Grids that
    /// contain a pole span every longitude; U grids give the union of both subgrids; Y and O
    /// grids scan their (already decoded) point arrays.
    ///
    /// ```
    /// use grids::{Grid, GridDescriptor, GridOptions};
    /// // L grid: 30°N, 250°E, 0.5° x 0.75°, 60 x 40 points.
    /// let g = Grid::new(&GridDescriptor::simple(b'L', 60, 40, [50, 75, 12000, 25000]), GridOptions::default())?;
    /// assert_eq!(g.bbox().to_array(), [-110.375, 29.75, -65.375, 49.75]);
    /// # Ok::<(), grids::GridError>(())
    /// ```
    #[must_use]
    pub fn bbox(&self) -> GeoBox {
        match &self.kind {
            Kind::Rect(r) => r.bbox(),
            Kind::YinYang(s) => s[0].bbox().union(s[1].bbox()),
            Kind::Cloud(c) => bounds::from_points(&c.lat, &c.lon, self.ni, self.nj),
        }
    }

    /// Compute latitude and longitude into caller buffers of ni·nj elements (no caching).
    pub fn lat_lon_into(&self, lat: &mut [f64], lon: &mut [f64]) -> Result<()> {
        let n = self.ni * self.nj;
        if lat.len() != n {
            return Err(usage_len("lat", lat.len(), n));
        }
        if lon.len() != n {
            return Err(usage_len("lon", lon.len(), n));
        }
        self.fill_lat_lon(lat, lon);
        Ok(())
    }

    fn fill_lat_lon(&self, lat: &mut [f64], lon: &mut [f64]) {
        match &self.kind {
            Kind::Rect(r) => r.lat_lon_into(lat, lon),
            Kind::Cloud(c) => {
                lat.copy_from_slice(&c.lat);
                lon.copy_from_slice(&c.lon);
            }
            Kind::YinYang(s) => {
                let half = self.ni * (self.nj / 2);
                let (la0, la1) = lat.split_at_mut(half);
                let (lo0, lo1) = lon.split_at_mut(half);
                s[0].lat_lon_into(la0, lo0);
                s[1].lat_lon_into(la1, lo1);
            }
        }
    }

    /// Fractional 0-based (i, j) of a geographic point (degrees, any longitude range), or
    /// `None` when the point is outside the grid. "Inside" means within half a cell of the
    /// outermost points: `-0.5 <= i < ni - 0.5`, likewise for j. The nearest point is
    /// `(floor(i + 0.5), floor(j + 0.5))`.
    ///
    /// U grids answer in record rows (Yang rows follow Yin's) from the half librmn's point
    /// values (`gdxyfll`) read where the halves overlap (see `yinyang`).
    #[must_use]
    pub fn index_of(&self, lat: f64, lon: f64) -> Option<(f64, f64)> {
        match &self.kind {
            Kind::Rect(r) => r.index_of(lat, lon),
            Kind::Cloud(c) => c.index_of(lat, lon),
            Kind::YinYang(s) => s.index_of(lat, lon),
        }
    }

    /// Latitude and longitude (degrees, lon in [0, 360)) of a fractional 0-based point,
    /// interpolated linearly in the CRS (exactly the grid points at integer indices). Y and O
    /// grids answer at integer indices only; `None` for indices outside the grid.
    #[must_use]
    pub fn point(&self, i: f64, j: f64) -> Option<(f64, f64)> {
        let inside = |v: f64, n: usize| v >= -0.5 && v <= n as f64 - 0.5;
        if !inside(i, self.ni) || !inside(j, self.nj) {
            return None;
        }
        match &self.kind {
            Kind::Rect(r) => Some(r.point(i, j)),
            Kind::YinYang(s) => {
                let h = s[0].nj() as f64;
                Some(if j < h - 0.5 {
                    s[0].point(i, j)
                } else {
                    s[1].point(i, j - h)
                })
            }
            Kind::Cloud(c) => {
                if i.fract() != 0.0 || j.fract() != 0.0 || i < 0.0 || j < 0.0 {
                    return None;
                }
                let k = i as usize + j as usize * self.ni;
                Some((*c.lat.get(k)?, *c.lon.get(k)?))
            }
        }
    }

    /// Fractional (i, j) of a point within subgrid `k` only (U: rows counted from the
    /// subgrid's first row).
    #[must_use]
    pub fn index_in_subgrid(&self, k: usize, lat: f64, lon: f64) -> Option<(f64, f64)> {
        match (&self.kind, k) {
            (Kind::YinYang(s), 0 | 1) => s[k].index_of(lat, lon),
            (_, 0) => self.index_of(lat, lon),
            _ => None,
        }
    }

    /// Bulk inverse: fractional indices of many points, NaN (in both outputs) for points
    /// outside. Regular and rectilinear grids use SIMD kernels; this is the tile renderer's
    /// hot path.
    ///
    /// ```
    /// use grids::{Grid, GridDescriptor, GridOptions};
    /// // A global A grid, 4°: points at lon 0, 4, …; lat −88, −84, …
    /// let g = Grid::new(&GridDescriptor::simple(b'A', 90, 45, [0, 0, 0, 0]), GridOptions::default())?;
    /// let (lon, lat) = ([358.0, -2.0, 6.0], [-88.0, 0.0, 95.0]);
    /// let (mut i, mut j) = ([0.0; 3], [0.0; 3]);
    /// g.index_of_many(&lon, &lat, &mut i, &mut j)?;
    /// assert_eq!((i[0], j[0]), (-0.5, 0.0)); // half a cell west of column 0, across 0°
    /// assert_eq!((i[1], j[1]), (-0.5, 22.0));
    /// assert!(i[2].is_nan() && j[2].is_nan()); // not a latitude: outside
    /// # Ok::<(), grids::GridError>(())
    /// ```
    pub fn index_of_many(
        &self,
        lon: &[f64],
        lat: &[f64],
        out_i: &mut [f64],
        out_j: &mut [f64],
    ) -> Result<()> {
        let n = lon.len();
        for (what, len) in [
            ("lat", lat.len()),
            ("out_i", out_i.len()),
            ("out_j", out_j.len()),
        ] {
            if len != n {
                return Err(usage_len(what, len, n));
            }
        }
        match &self.kind {
            Kind::Rect(r) => r.index_of_many(lon, lat, out_i, out_j),
            Kind::YinYang(s) => s.index_of_many(lon, lat, out_i, out_j),
            Kind::Cloud(_) => {
                for k in 0..n {
                    let (i, j) = self
                        .index_of(lat[k], lon[k])
                        .unwrap_or((f64::NAN, f64::NAN));
                    out_i[k] = i;
                    out_j[k] = j;
                }
            }
        }
        Ok(())
    }
}

/// Z and #: axes from `>>`/`^^` on the reference grid (a # tile takes its slice of them).
fn z_grid(d: &GridDescriptor, pos: &Positional, opts: GridOptions) -> Result<Kind> {
    let g = d.grtyp;
    let (ni, nj) = (d.ni as usize, d.nj as usize);
    if pos.x.len() == ni * nj && pos.y.len() == ni * nj && nj > 1 && g == b'Z' {
        // librmn: `>>` and `^^` of the same 2-D shape make the grid a Y grid.
        Ok(Kind::Cloud(cloud(g, ni, nj, pos)?))
    } else {
        let (proj, x, y) = reference_axes(g, pos, opts)?;
        let (x, y) = if g == b'Z' {
            if x.len() != ni || y.len() != nj {
                return Err(GridError::invalid(
                    g,
                    format!(
                        "positional records hold {}x{} values for a {ni}x{nj} grid",
                        x.len(),
                        y.len()
                    ),
                ));
            }
            (x, y)
        } else {
            let (i0, j0) = (d.ig[2] as usize, d.ig[3] as usize);
            let tile = |a: &Axis, o: usize, n: usize| o.checked_sub(1).and_then(|o| a.slice(o, n));
            match (tile(&x, i0, ni), tile(&y, j0, nj)) {
                (Some(x), Some(y)) => (x, y),
                _ => {
                    return Err(GridError::invalid(
                        g,
                        format!(
                            "tile {ni}x{nj} at (ig3, ig4) = ({i0}, {j0}) does not fit \
                             the {}x{} full grid",
                            x.len(),
                            y.len()
                        ),
                    ))
                }
            }
        };
        Ok(Kind::Rect(Rect { proj, x, y }))
    }
}

/// The shape against the limits: at most `max_values_per_record` points, and axes (one value
/// per row and per column, the largest thing [`Grid::with_limits`] builds) within
/// `max_decoded_bytes`.
fn check_size(g: u8, ni: usize, nj: usize, limits: &Limits) -> Result<()> {
    let too_large = |detail: String| GridError::too_large(g, ni, nj, detail);
    let points = (ni as u64).saturating_mul(nj as u64);
    let max_points = limits.max_values_per_record.min(MAX_POINTS as u64);
    if points > max_points {
        return Err(too_large(format!(
            "{points} points exceed the limit of {max_points} \
                 (fst_core::Limits::max_values_per_record)"
        )));
    }
    let axis_bytes = (ni as u64 + nj as u64).saturating_mul(8);
    if axis_bytes > limits.max_decoded_bytes {
        return Err(too_large(format!(
            "{axis_bytes} bytes of axes exceed the limit of {} \
                 (fst_core::Limits::max_decoded_bytes)",
            limits.max_decoded_bytes
        )));
    }
    Ok(())
}

fn need_positional(d: &GridDescriptor) -> Result<&Positional> {
    d.positional.as_ref().ok_or_else(|| {
        GridError::invalid(
            d.grtyp,
            format!(
                "needs the positional records linked by ip1/ip2/ip3 = ig1/ig2/ig3 = {}/{}/{}, \
                 and none were given",
                d.ig[0], d.ig[1], d.ig[2]
            ),
        )
    })
}

fn global_rect(g: u8, ni: usize, nj: usize, ig: [u32; 4]) -> Result<Rect> {
    let p = GlobalParams::decode(g, ig)?;
    let (x, y) = match g {
        b'A' => {
            let d = match p.domain {
                Hemisphere::Global => 180.0,
                _ => 90.0,
            } / nj as f64;
            let start = match p.domain {
                Hemisphere::North => 0.0,
                _ => -90.0,
            } + d / 2.0;
            (
                Axis::uniform(0.0, 360.0 / ni as f64, ni),
                Axis::uniform(start, d, nj),
            )
        }
        b'B' => {
            if ni < 2 || nj < 2 {
                return Err(GridError::invalid(g, "a B grid needs ni >= 2 and nj >= 2"));
            }
            let d = match p.domain {
                Hemisphere::Global => 180.0,
                _ => 90.0,
            } / (nj - 1) as f64;
            let start = match p.domain {
                Hemisphere::North => 0.0,
                _ => -90.0,
            };
            (
                Axis::uniform(0.0, 360.0 / (ni - 1) as f64, ni),
                Axis::uniform(start, d, nj),
            )
        }
        _ => {
            let count = match p.domain {
                Hemisphere::Global => nj,
                _ => nj.saturating_mul(2),
            };
            if count > MAX_GAUSSIAN_LATITUDES {
                return Err(GridError::too_large(
                    g,
                    ni,
                    nj,
                    format!(
                        "{count} Gaussian latitudes exceed the {MAX_GAUSSIAN_LATITUDES} this \
                         crate computes (n² work)"
                    ),
                ));
            }
            let lats = match p.domain {
                Hemisphere::Global => gaussian_latitudes(nj),
                Hemisphere::North => gaussian_latitudes(2 * nj).split_off(nj),
                Hemisphere::South => {
                    let mut l = gaussian_latitudes(2 * nj);
                    l.truncate(nj);
                    l
                }
            };
            let mut lats = lats;
            if p.north_to_south {
                lats.reverse();
            }
            let y = if nj == 1 {
                Axis::uniform(lats.first().copied().unwrap_or(0.0), 1.0, 1)
            } else {
                Axis::Explicit(lats.into())
            };
            return Ok(Rect {
                proj: Projection::LongLat,
                x: Axis::uniform(0.0, 360.0 / ni as f64, ni),
                y,
            });
        }
    };
    let y = match y {
        Axis::Uniform { start, step, n } if p.north_to_south => {
            Axis::uniform(start + (n - 1) as f64 * step, -step, n)
        }
        y => y,
    };
    Ok(Rect {
        proj: Projection::LongLat,
        x,
        y,
    })
}

/// The frame in which a rotated grid is published: librmn's rotated longitudes `x` less a
/// shift, so that the grid lies inside [-180, 180] and does not straddle the antimeridian of
/// its own CRS. PROJ's `ob_tran` answers rotated longitudes in [-180, 180]; a grid published
/// at, say, 162..198 (a LAM centred on librmn's rotated 180°) would lose every point east of
/// 180 in any inverse transform (QGIS, `gdallocationinfo`, `GeoTIFF` exports). The shift is the
/// multiple of 180° nearest the grid's centre when that fits, else the centre itself (grids
/// wider than 180° that are not centred on a multiple of 180°). The rotation is turned about
/// its pole by the same angle, so lat/lon, `index_of` and the CRS all agree.
pub(crate) fn rotated_frame(rot: Rotation, x: Axis) -> (Projection, Axis) {
    let (lo, hi) = {
        let (a, b) = (x.first(), x.last());
        (a.min(b), a.max(b))
    };
    let centre = f64::midpoint(lo, hi);
    let nearest = 180.0 * (centre / 180.0).round();
    let shift = if lo - nearest >= -180.0 && hi - nearest <= 180.0 {
        nearest
    } else {
        centre
    };
    if shift == 0.0 {
        return (Projection::Rotated(rot), x);
    }
    (
        Projection::Rotated(rot.shifted(shift)),
        x.affine(-shift, 1.0),
    )
}

/// Unwrap a longitude axis that is not monotonic (e.g. it crosses 0° as 359, 0, 1 or went
/// through librmn's wrap-before-scale quirk): add multiples of 360 wherever it drops, so it
/// increases. Monotonic axes, increasing or decreasing, are left alone.
fn unwrap_lon(v: &mut [f64]) {
    let inc = v.windows(2).all(|w| w[1] > w[0]);
    let dec = v.windows(2).all(|w| w[1] < w[0]);
    if inc || dec {
        return;
    }
    for k in 1..v.len() {
        let prev = v[k - 1];
        if v[k] <= prev {
            v[k] += 360.0 * (((prev - v[k]) / 360.0).floor() + 1.0);
        }
    }
}

pub(crate) fn axis_from(g: u8, what: &str, v: &[f64]) -> Result<Axis> {
    Axis::from_values(v).ok_or_else(|| {
        GridError::invalid(
            g,
            format!("the {what} axis is not strictly monotonic and finite"),
        )
    })
}

/// The projection and the full axes (CRS units) given by `>>`/`^^` on reference E, L, N or S.
fn reference_axes(g: u8, pos: &Positional, opts: GridOptions) -> Result<(Projection, Axis, Axis)> {
    let ax = &pos.x[..];
    let ay = &pos.y[..];
    match pos.grtyp {
        b'E' => {
            let p = RotatedParams::decode(pos.ig);
            p.check(g)?;
            let rot = Rotation::new(&p)?;
            let mut x = ax.to_vec();
            unwrap_lon(&mut x);
            // The shift is chosen on the full axes, so a # tile shares its parent's CRS.
            let (proj, x) = rotated_frame(rot, axis_from(g, ">>", &x)?);
            Ok((proj, x, axis_from(g, "^^", ay)?))
        }
        b'L' => {
            let p = LatLonParams::decode(pos.ig);
            let mut x: Vec<f64> = if opts.librmn_compat {
                ax.iter()
                    .map(|&a| p.lon0 + p.dlon * if a < 0.0 { a + 360.0 } else { a })
                    .collect()
            } else {
                ax.iter().map(|&a| p.lon0 + p.dlon * a).collect()
            };
            unwrap_lon(&mut x);
            let y: Vec<f64> = ay.iter().map(|&a| p.lat0 + p.dlat * a).collect();
            // `^^` is float32: allow its rounding at the poles, nothing beyond.
            if let Some(bad) = y.iter().find(|v| v.abs() > 90.0 + 1e-4) {
                return Err(GridError::invalid(
                    g,
                    format!(
                        "`^^` on the L reference (lat0 {}, dlat {}) gives latitude {bad}: \
                         latitudes lie in [-90, 90]",
                        p.lat0, p.dlat
                    ),
                ));
            }
            Ok((
                Projection::LongLat,
                axis_from(g, ">>", &x)?,
                axis_from(g, "^^", &y)?,
            ))
        }
        b'N' | b'S' => {
            let p = PolarParams::decode(pos.grtyp == b'N', pos.ig);
            let x = axis_from(g, ">>", ax)?.affine(-p.pi * p.d60, p.d60);
            let y = axis_from(g, "^^", ay)?.affine(-p.pj * p.d60, p.d60);
            Ok((
                Projection::Polar {
                    north: p.north,
                    dgrw: p.dgrw,
                },
                x,
                y,
            ))
        }
        r => Err(GridError::Unsupported {
            grtyp: char::from(g),
            reason: if r == b'A' || r == b'B' || r == b'G' {
                "Z grids on A, B or G references are not implemented (librmn coverage is doubtful)"
            } else {
                "the positional records' grid type must be E, L, N or S"
            },
        }),
    }
}

fn cloud(g: u8, ni: usize, nj: usize, pos: &Positional) -> Result<Cloud> {
    let n = ni * nj;
    if pos.x.len() != n || pos.y.len() != n {
        return Err(GridError::invalid(
            g,
            format!(
                "`>>` has {} and `^^` {} values; a {ni}x{nj} point cloud needs {n} each",
                pos.x.len(),
                pos.y.len()
            ),
        ));
    }
    if let Some(bad) = pos.y.iter().find(|v| !(-90.0..=90.0).contains(*v)) {
        return Err(GridError::invalid(
            g,
            format!("latitude {bad} outside [-90, 90] in `^^`"),
        ));
    }
    if pos.x.iter().any(|v| !v.is_finite()) {
        return Err(GridError::invalid(g, "non-finite longitude in `>>`"));
    }
    let lon: Vec<f64> = pos.x.iter().map(|&v| wrap360(v)).collect();
    Ok(Cloud::new(ni, nj, pos.y.to_vec(), lon))
}
