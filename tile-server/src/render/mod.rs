//! The rendering pipeline, free of HTTP: pixel positions in the request CRS → geographic
//! positions → fractional grid indices (grids' bulk `index_of_many`) → sampled values →
//! colour lookup → PNG. Outside the grid and missing values are transparent.

pub mod canvas;
pub mod color;
pub mod contours;
pub mod font;
pub mod glyphs;
pub mod legend;
pub(crate) mod proj_pool;
pub mod range;

use grids::Grid;

use crate::styles::Sampling;
use color::ColorMap;

/// Radius of the EPSG:3857 sphere.
pub const WEB_MERCATOR_R: f64 = 6_378_137.0;

/// The CRS of an output image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputCrs {
    /// EPSG:3857 (and its aliases 900913, 102100): fast path.
    WebMercator,
    /// Longitude/latitude in degrees (CRS:84, EPSG:4326 once axes are normalised): fast path.
    LonLat,
    /// Any other EPSG code, through PROJ (normalised to easting, northing).
    Epsg(u32),
}

/// Errors of the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// PROJ does not know the CRS.
    #[error("EPSG:{code} cannot be a map's CRS: {message}")]
    Crs {
        /// Code.
        code: u32,
        /// PROJ's message.
        message: String,
    },
    /// The grid refused the points (sizes).
    #[error("grid: {0}")]
    Grid(String),
    /// PNG encoding failed.
    #[error("png: {0}")]
    Png(String),
}

fn crs_error(code: u32) -> impl FnOnce(&'static str) -> RenderError {
    move |why| RenderError::Crs {
        code,
        message: why.to_string(),
    }
}

/// Check that `EPSG:code` can be a map's CRS (geographic 2-D or projected: geocentric,
/// vertical, compound and 3-D CRSs are refused without asking PROJ for an operation), and
/// tell whether its first axis points north or south (PROJ's database decides), as WMS 1.3.0
/// axis order needs. The transformation itself is made at render ([`epsg_transform`]); a
/// CRS PROJ has none for fails there, with the same error.
pub fn epsg_northing_first(code: u32) -> Result<bool, RenderError> {
    proj_pool::kind(code).map_err(crs_error(code))
}

/// A PROJ transformation of `EPSG:code` (to or from geographic coordinates) out of the
/// process-wide pool, for one image.
pub(crate) fn epsg_transform(
    code: u32,
    direction: proj_pool::Direction,
) -> Result<proj_pool::Checkout, RenderError> {
    proj_pool::checkout(code, direction).map_err(crs_error(code))
}

/// Geographic (lon, lat) of the centres of a `w`×`h` image covering `bbox` = [minx, miny,
/// maxx, maxy] in `crs` (x east, y north; row 0 at the top). Points PROJ cannot transform
/// are NaN.
pub fn pixel_lon_lat(
    crs: OutputCrs,
    bbox: [f64; 4],
    w: usize,
    h: usize,
) -> Result<(Vec<f64>, Vec<f64>), RenderError> {
    let n = w * h;
    let (mut lon, mut lat) = (vec![0.0; n], vec![0.0; n]);
    let dx = (bbox[2] - bbox[0]) / w as f64;
    let dy = (bbox[3] - bbox[1]) / h as f64;
    let xs: Vec<f64> = (0..w).map(|c| bbox[0] + (c as f64 + 0.5) * dx).collect();
    let ys: Vec<f64> = (0..h).map(|r| bbox[3] - (r as f64 + 0.5) * dy).collect();
    // Each row's x and y: longitude and latitude themselves, or (Web Mercator, which is
    // separable) longitude from the column only and latitude from the row only; other CRSs
    // go through PROJ afterwards.
    let (row_x, row_y): (Vec<f64>, fn(f64) -> f64) = match crs {
        OutputCrs::WebMercator => (
            xs.iter().map(|&x| web_mercator_lon(x)).collect(),
            web_mercator_lat,
        ),
        OutputCrs::LonLat | OutputCrs::Epsg(_) => (xs, |y| y),
    };
    for (r, &y) in ys.iter().enumerate() {
        lon[r * w..(r + 1) * w].copy_from_slice(&row_x);
        lat[r * w..(r + 1) * w].fill(row_y(y));
    }
    if let OutputCrs::Epsg(code) = crs {
        epsg_transform(code, proj_pool::Direction::ToGeographic)?.convert(&mut lon, &mut lat);
    }
    Ok((lon, lat))
}

/// A decoded field: values in Fortran order (i fastest), NaN where missing.
#[derive(Debug, Clone)]
pub struct FieldValues {
    /// Points along i.
    pub ni: usize,
    /// Points along j.
    pub nj: usize,
    /// Values.
    pub values: Vec<f32>,
}

impl FieldValues {
    /// Bytes held (for the cache's weight).
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.values.len() * 4 + 64
    }

    /// Nearest value at fractional indices (NaN outside).
    #[inline]
    #[must_use]
    pub fn nearest(&self, i: f64, j: f64) -> f32 {
        // Written without `floor` (a libm call on baseline x86-64): past the NaN and lower-bound
        // checks, i + ½ ≥ 0, where truncation is the floor.
        if !(i >= -0.5 && j >= -0.5) {
            return f32::NAN;
        }
        let (ii, jj) = ((i + 0.5) as i64 as usize, (j + 0.5) as i64 as usize);
        if ii >= self.ni || jj >= self.nj {
            return f32::NAN;
        }
        self.values
            .get(ii + jj * self.ni)
            .copied()
            .unwrap_or(f32::NAN)
    }

    /// Bilinear value at fractional indices; nearest where a neighbour is missing or at the
    /// outer half cell.
    #[inline(always)]
    #[allow(clippy::inline_always)] // per-pixel hot loop: 0.49 → 0.41 ms per tile when inlined
    #[must_use]
    pub fn bilinear(&self, i: f64, j: f64) -> f32 {
        // NaN and the outer half cell (negative indices) go to `nearest`.
        if !(i >= 0.0 && j >= 0.0) {
            return self.nearest(i, j);
        }
        // Through i64: f64 ↔ i64 is one instruction on x86-64, f64 ↔ usize a sequence.
        let (i0, j0) = (i as i64, j as i64);
        let (a, b) = ((i - i0 as f64) as f32, (j - j0 as f64) as f32);
        let (i0, j0) = (i0 as usize, j0 as usize);
        if i0 + 1 >= self.ni || j0 + 1 >= self.nj {
            return self.nearest(i, j);
        }
        let k = i0 + j0 * self.ni;
        let (Some(r0), Some(r1)) = (
            self.values.get(k..k + 2),
            self.values.get(k + self.ni..k + self.ni + 2),
        ) else {
            return f32::NAN;
        };
        let top = r0[0] + a * (r0[1] - r0[0]);
        let bottom = r1[0] + a * (r1[1] - r1[0]);
        let r = top + b * (bottom - top);
        if r.is_nan() {
            self.nearest(i, j)
        } else {
            r
        }
    }

    /// Sample with a method.
    #[inline]
    #[must_use]
    pub fn sample(&self, s: Sampling, i: f64, j: f64) -> f32 {
        match s {
            Sampling::Nearest => self.nearest(i, j),
            Sampling::Bilinear => self.bilinear(i, j),
        }
    }
}

/// Fractional grid indices of every pixel of an image (NaN outside the grid).
pub struct PixelIndex {
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
    /// Fractional i per pixel.
    pub i: Vec<f64>,
    /// Fractional j per pixel.
    pub j: Vec<f64>,
    /// Longitude per pixel.
    pub lon: Vec<f64>,
    /// Latitude per pixel.
    pub lat: Vec<f64>,
}

/// Side of the blocks whose grid indices are interpolated from their corners.
const BLOCK: usize = 16;
/// Largest error (grid cells) of the interpolated index at a block's centre before the block
/// is computed exactly.
const BLOCK_TOLERANCE: f64 = 0.02;

/// Locate every pixel of an image in the grid.
///
/// Exact inverse at the corners and centre of every 16×16-pixel block; inside a block the
/// fractional indices are interpolated bilinearly from the corners when the centre agrees
/// within 0.02 cells (GDAL's approximate transformer does the same with 0.125 pixels).
/// Blocks with a corner outside the grid, or that fail the centre check (grid edges, seams of
/// global grids, Yin-Yang switches, poles), are computed exactly pixel by pixel.
pub fn locate(
    grid: &Grid,
    crs: OutputCrs,
    bbox: [f64; 4],
    w: usize,
    h: usize,
) -> Result<PixelIndex, RenderError> {
    let (lon, lat) = pixel_lon_lat(crs, bbox, w, h)?;
    let n = w * h;
    let mut px = PixelIndex {
        w,
        h,
        i: vec![f64::NAN; n],
        j: vec![f64::NAN; n],
        lon,
        lat,
    };
    if w % BLOCK != 0 || h % BLOCK != 0 || n < 4 * BLOCK * BLOCK {
        grid.index_of_many(&px.lon, &px.lat, &mut px.i, &mut px.j)
            .map_err(|e| RenderError::Grid(e.to_string()))?;
    } else {
        locate_by_blocks(grid, crs, bbox, &mut px)?;
    }
    for k in 0..n {
        if px.lat[k].is_nan() || px.lat[k].abs() > 90.0 {
            px.i[k] = f64::NAN;
            px.j[k] = f64::NAN;
        }
    }
    Ok(px)
}

/// The block path of [`locate`], for images whose sides are multiples of [`BLOCK`].
fn locate_by_blocks(
    grid: &Grid,
    crs: OutputCrs,
    bbox: [f64; 4],
    px: &mut PixelIndex,
) -> Result<(), RenderError> {
    let lattice = BlockLattice::new(grid, crs, bbox, px.w, px.h)?;
    let mut exact = ExactBlock::default();
    for by in 0..lattice.bh {
        for bx in 0..lattice.bw {
            if lattice.is_linear(bx, by) {
                lattice.interpolate(bx, by, px);
            } else {
                exact.locate(grid, bx, by, px)?;
            }
        }
    }
    // Interpolated indices obey the same "inside" rule as the exact inverse.
    let (ni, nj) = grid.shape();
    let (mi_, mj_) = (ni as f64 - 0.5, nj as f64 - 0.5);
    for (i, j) in px.i.iter_mut().zip(px.j.iter_mut()) {
        if !(*i >= -0.5 && *i < mi_ && *j >= -0.5 && *j < mj_) {
            *i = f64::NAN;
            *j = f64::NAN;
        }
    }
    Ok(())
}

/// Exact grid indices at the corners and centres of the [`BLOCK`]-pixel blocks of an image.
struct BlockLattice {
    /// Blocks per row.
    bw: usize,
    /// Blocks per column.
    bh: usize,
    /// Fractional i at the (bw + 1)×(bh + 1) block corners.
    corner_i: Vec<f64>,
    /// Fractional j at the block corners.
    corner_j: Vec<f64>,
    /// Latitude of the block corners.
    corner_lat: Vec<f64>,
    /// Fractional i at the bw×bh block centres.
    centre_i: Vec<f64>,
    /// Fractional j at the block centres.
    centre_j: Vec<f64>,
}

impl BlockLattice {
    fn new(
        grid: &Grid,
        crs: OutputCrs,
        bbox: [f64; 4],
        w: usize,
        h: usize,
    ) -> Result<Self, RenderError> {
        let err = |e: grids::GridError| RenderError::Grid(e.to_string());
        let (bw, bh) = (w / BLOCK, h / BLOCK);
        let dx = (bbox[2] - bbox[0]) / w as f64;
        let dy = (bbox[3] - bbox[1]) / h as f64;
        let b = BLOCK as f64;
        // Lattice of block corners: pixel centres (k·BLOCK) for k in 0..=bw (the last one just
        // past the image).
        let x0 = bbox[0] + 0.5 * dx - 0.5 * b * dx;
        let y3 = bbox[3] - 0.5 * dy + 0.5 * b * dy;
        let corners_box = [
            x0,
            y3 - (bh + 1) as f64 * b * dy,
            x0 + (bw + 1) as f64 * b * dx,
            y3,
        ];
        let (clon, corner_lat) = pixel_lon_lat(crs, corners_box, bw + 1, bh + 1)?;
        let nc = clon.len();
        let (mut corner_i, mut corner_j) = (vec![0.0; nc], vec![0.0; nc]);
        grid.index_of_many(&clon, &corner_lat, &mut corner_i, &mut corner_j)
            .map_err(err)?;
        // Block centres: pixel centres (k·BLOCK + BLOCK/2).
        let m0 = bbox[0] + 0.5 * dx;
        let m3 = bbox[3] - 0.5 * dy;
        let centres_box = [m0, m3 - bh as f64 * b * dy, m0 + bw as f64 * b * dx, m3];
        let (mlon, mlat) = pixel_lon_lat(crs, centres_box, bw, bh)?;
        let (mut centre_i, mut centre_j) = (vec![0.0; bw * bh], vec![0.0; bw * bh]);
        grid.index_of_many(&mlon, &mlat, &mut centre_i, &mut centre_j)
            .map_err(err)?;
        Ok(Self {
            bw,
            bh,
            corner_i,
            corner_j,
            corner_lat,
            centre_i,
            centre_j,
        })
    }

    /// Lattice positions of the top-left, top-right, bottom-left and bottom-right corners of
    /// block (bx, by).
    fn corners(&self, bx: usize, by: usize) -> [usize; 4] {
        let k = |x: usize, y: usize| y * (self.bw + 1) + x;
        [k(bx, by), k(bx + 1, by), k(bx, by + 1), k(bx + 1, by + 1)]
    }

    /// Whether block (bx, by) may be interpolated: all of it is located, and the mean of its
    /// corners' indices is within [`BLOCK_TOLERANCE`] of its centre's.
    fn is_linear(&self, bx: usize, by: usize) -> bool {
        let q = self.corners(bx, by);
        let (ci, cj) = (&self.corner_i, &self.corner_j);
        let m = by * self.bw + bx;
        let ok = q
            .iter()
            .all(|&c| !ci[c].is_nan() && self.corner_lat[c].abs() <= 90.0)
            && !self.centre_i[m].is_nan();
        ok && {
            let ei = 0.25 * (ci[q[0]] + ci[q[1]] + ci[q[2]] + ci[q[3]]) - self.centre_i[m];
            let ej = 0.25 * (cj[q[0]] + cj[q[1]] + cj[q[2]] + cj[q[3]]) - self.centre_j[m];
            ei.abs() <= BLOCK_TOLERANCE && ej.abs() <= BLOCK_TOLERANCE
        }
    }

    /// Fill block (bx, by) of `px` bilinearly from its corners.
    fn interpolate(&self, bx: usize, by: usize, px: &mut PixelIndex) {
        let q = self.corners(bx, by);
        let (ci, cj) = (&self.corner_i, &self.corner_j);
        let b = BLOCK as f64;
        for r in 0..BLOCK {
            let t = r as f64 / b;
            let (li0, lj0) = (
                ci[q[0]] + t * (ci[q[2]] - ci[q[0]]),
                cj[q[0]] + t * (cj[q[2]] - cj[q[0]]),
            );
            let (li1, lj1) = (
                ci[q[1]] + t * (ci[q[3]] - ci[q[1]]),
                cj[q[1]] + t * (cj[q[3]] - cj[q[1]]),
            );
            let row = (by * BLOCK + r) * px.w + bx * BLOCK;
            for c in 0..BLOCK {
                let u = c as f64 / b;
                px.i[row + c] = li0 + u * (li1 - li0);
                px.j[row + c] = lj0 + u * (lj1 - lj0);
            }
        }
    }
}

/// Buffers, reused from block to block, for the blocks of [`locate`] computed exactly.
#[derive(Default)]
struct ExactBlock {
    lon: Vec<f64>,
    lat: Vec<f64>,
    i: Vec<f64>,
    j: Vec<f64>,
}

impl ExactBlock {
    /// Fill block (bx, by) of `px` with the exact inverse of each of its pixels.
    fn locate(
        &mut self,
        grid: &Grid,
        bx: usize,
        by: usize,
        px: &mut PixelIndex,
    ) -> Result<(), RenderError> {
        self.lon.clear();
        self.lat.clear();
        for r in 0..BLOCK {
            let row = (by * BLOCK + r) * px.w + bx * BLOCK;
            self.lon.extend_from_slice(&px.lon[row..row + BLOCK]);
            self.lat.extend_from_slice(&px.lat[row..row + BLOCK]);
        }
        self.i.resize(self.lon.len(), 0.0);
        self.j.resize(self.lon.len(), 0.0);
        grid.index_of_many(&self.lon, &self.lat, &mut self.i, &mut self.j)
            .map_err(|e| RenderError::Grid(e.to_string()))?;
        for r in 0..BLOCK {
            let row = (by * BLOCK + r) * px.w + bx * BLOCK;
            px.i[row..row + BLOCK].copy_from_slice(&self.i[r * BLOCK..(r + 1) * BLOCK]);
            px.j[row..row + BLOCK].copy_from_slice(&self.j[r * BLOCK..(r + 1) * BLOCK]);
        }
        Ok(())
    }
}

/// Sample a field at every pixel.
#[must_use]
pub fn sample_field(px: &PixelIndex, field: &FieldValues, sampling: Sampling) -> Vec<f32> {
    // One loop per method, so that each inlines its sampler.
    let ij = px.i.iter().zip(&px.j);
    match sampling {
        Sampling::Nearest => ij.map(|(&i, &j)| field.nearest(i, j)).collect(),
        Sampling::Bilinear => ij.map(|(&i, &j)| field.bilinear(i, j)).collect(),
    }
}

/// The linear-ramp fast path of a colour map: `Some(k)` (lookup-table entries per displayed
/// unit) when the map is a plain linear ramp, which is coloured with one multiply-add per pixel
/// (same bands as [`ColorMap::color`]).
fn linear_ramp(cm: &ColorMap) -> Option<f64> {
    let n = cm.lut.len();
    (!cm.log && cm.intervals.is_empty() && cm.opacity == 255 && cm.max > cm.min && n > 0)
        .then(|| n as f64 / (cm.max - cm.min))
}

/// Colour of a value on a linear ramp (`k` from [`linear_ramp`]).
#[inline]
fn ramp_colour(cm: &ColorMap, k: f64, v: f32) -> color::Rgba {
    if v.is_nan() {
        return cm.nodata;
    }
    let d = f64::from(v) * cm.scale + cm.offset;
    if d < cm.min {
        cm.below
    } else if d > cm.max {
        cm.above
    } else {
        cm.lut[(((d - cm.min) * k) as i64 as usize).min(cm.lut.len() - 1)]
    }
}

/// Colour sampled values into an RGBA buffer. Pixels outside the grid are transparent;
/// missing values take the map's nodata colour.
#[must_use]
pub fn colorize(px: &PixelIndex, values: &[f32], cm: &ColorMap) -> Vec<u8> {
    let mut out = vec![0u8; px.w * px.h * 4];
    if let Some(k) = linear_ramp(cm) {
        for ((o, &v), i) in out.chunks_exact_mut(4).zip(values).zip(&px.i) {
            if !i.is_nan() {
                o.copy_from_slice(&ramp_colour(cm, k, v));
            }
        }
        return out;
    }
    for ((o, &v), i) in out.chunks_exact_mut(4).zip(values).zip(&px.i) {
        if !i.is_nan() {
            o.copy_from_slice(&cm.color(v));
        }
    }
    out
}

/// Draw `top` over `base` (both straight-alpha RGBA of one size): the Porter-Duff "over"
/// operator, which WMS uses to stack `LAYERS=a,b`.
pub fn composite_over(base: &mut [u8], top: &[u8]) {
    for (d, s) in base.chunks_exact_mut(4).zip(top.chunks_exact(4)) {
        let sa = u32::from(s[3]);
        if sa == 0 {
            continue;
        }
        let da = u32::from(d[3]);
        if sa == 255 || da == 0 {
            d.copy_from_slice(s);
            continue;
        }
        // In units of 255²: out_a = sa + da·(1 − sa).
        let db = da * (255 - sa);
        let oa = sa * 255 + db;
        for c in 0..3 {
            let v = (u32::from(s[c]) * sa * 255 + u32::from(d[c]) * db + oa / 2) / oa;
            d[c] = v.min(255) as u8;
        }
        d[3] = ((oa + 127) / 255).min(255) as u8;
    }
}

/// Encode an RGBA buffer as PNG (fast compression: tiles are small and cached).
pub fn encode_png(rgba: &[u8], w: usize, h: usize) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w as u32, h as u32);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        enc.set_filter(png::FilterType::Sub);
        let mut wr = enc
            .write_header()
            .map_err(|e| RenderError::Png(e.to_string()))?;
        wr.write_image_data(rgba)
            .map_err(|e| RenderError::Png(e.to_string()))?;
    }
    Ok(out)
}

/// EPSG:3857 bounds of an XYZ tile.
#[must_use]
pub fn tile_bbox(z: u8, x: u32, y: u32) -> [f64; 4] {
    let extent = std::f64::consts::PI * WEB_MERCATOR_R;
    let n = f64::from(1u32 << z);
    let size = 2.0 * extent / n;
    let minx = -extent + f64::from(x) * size;
    let maxy = extent - f64::from(y) * size;
    [minx, maxy - size, minx + size, maxy]
}

/// Longitude of an EPSG:3857 x.
#[must_use]
pub fn web_mercator_lon(x: f64) -> f64 {
    (x / WEB_MERCATOR_R).to_degrees()
}

/// Latitude of an EPSG:3857 y.
#[must_use]
pub fn web_mercator_lat(y: f64) -> f64 {
    (2.0 * (y / WEB_MERCATOR_R).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees()
}

/// Project lon/lat to EPSG:3857.
#[must_use]
pub fn to_web_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78);
    (
        WEB_MERCATOR_R * lon.to_radians(),
        WEB_MERCATOR_R
            * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                .tan()
                .ln(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_over_follows_porter_duff() {
        let mut base = vec![10, 20, 30, 255, 0, 0, 0, 0, 200, 0, 0, 128, 1, 2, 3, 4];
        let top = vec![0, 0, 0, 0, 5, 6, 7, 100, 0, 0, 200, 128, 9, 9, 9, 255];
        composite_over(&mut base, &top);
        assert_eq!(&base[0..4], &[10, 20, 30, 255]); // transparent top: base unchanged
        assert_eq!(&base[4..8], &[5, 6, 7, 100]); // transparent base: top
        assert_eq!(&base[12..16], &[9, 9, 9, 255]); // opaque top wins
                                                    // Half over half: alpha 1 − ½·½ = ¾; colour weights ½ and ¼, normalised.
        assert_eq!(base[11], 192);
        assert!(
            (i32::from(base[8]) - 67).abs() <= 1 && (i32::from(base[10]) - 133).abs() <= 1,
            "{:?}",
            &base[8..12]
        );
    }

    #[test]
    fn tile_zero_covers_the_world() {
        let b = tile_bbox(0, 0, 0);
        assert!((b[0] + 20_037_508.342_789_244).abs() < 1e-6);
        assert!((b[3] - 20_037_508.342_789_244).abs() < 1e-6);
        let (lon, lat) = pixel_lon_lat(OutputCrs::WebMercator, b, 2, 2).unwrap();
        assert!((lon[0] + 90.0).abs() < 1e-9 && (lon[1] - 90.0).abs() < 1e-9);
        assert!(lat[0] > 60.0 && lat[2] < -60.0);
    }

    #[test]
    #[allow(clippy::float_cmp)] // the fallback returns a stored value, not an interpolated one
    fn bilinear_interpolates_and_falls_back() {
        let g = FieldValues {
            ni: 2,
            nj: 2,
            values: vec![0.0, 1.0, 2.0, 3.0],
        };
        assert!((g.bilinear(0.5, 0.0) - 0.5).abs() < 1e-6);
        assert!((g.bilinear(0.5, 0.5) - 1.5).abs() < 1e-6);
        let f = FieldValues {
            ni: 2,
            nj: 2,
            values: vec![0.0, 1.0, 2.0, f32::NAN],
        };
        assert_eq!(f.nearest(0.2, 0.2), 0.0);
        assert_eq!(f.bilinear(0.2, 0.2), 0.0);
        assert!(f.nearest(-0.6, 0.0).is_nan());
        assert!(f.nearest(f64::NAN, 0.0).is_nan());
    }

    #[test]
    fn interpolated_indices_match_the_exact_inverse() {
        // A rotated E grid (the sample's kind): blocks versus the exact bulk inverse.
        let d = grids::GridDescriptor::simple(b'E', 180, 90, [1420, 520, 56000, 43200]);
        let g = Grid::new(&d, grids::GridOptions::default()).unwrap();
        for (crs, bbox) in [
            (OutputCrs::WebMercator, tile_bbox(3, 1, 2)),
            (OutputCrs::WebMercator, tile_bbox(1, 0, 0)),
            (OutputCrs::LonLat, [-180.0, -90.0, 180.0, 90.0]),
        ] {
            let px = locate(&g, crs, bbox, 256, 256).unwrap();
            let (mut i, mut j) = (vec![0.0; px.lon.len()], vec![0.0; px.lon.len()]);
            g.index_of_many(&px.lon, &px.lat, &mut i, &mut j).unwrap();
            let mut worst = 0.0f64;
            for k in 0..i.len() {
                if i[k].is_nan() || px.i[k].is_nan() {
                    continue;
                }
                worst = worst
                    .max((i[k] - px.i[k]).abs())
                    .max((j[k] - px.j[k]).abs());
            }
            assert!(worst < 0.1, "{crs:?} {bbox:?}: {worst}");
        }
    }

    #[test]
    fn proj_path_matches_the_fast_path() {
        let b = [-1_000_000.0, 4_000_000.0, 1_000_000.0, 6_000_000.0];
        let (a, b1) = pixel_lon_lat(OutputCrs::WebMercator, b, 4, 4).unwrap();
        let (c, d) = pixel_lon_lat(OutputCrs::Epsg(3857), b, 4, 4).unwrap();
        for k in 0..16 {
            assert!((a[k] - c[k]).abs() < 1e-7 && (b1[k] - d[k]).abs() < 1e-7);
        }
        assert!(epsg_northing_first(999_999).is_err());
    }
}
