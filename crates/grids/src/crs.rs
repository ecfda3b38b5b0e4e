//! CRS definitions (PROJ strings and WKT) and affine transforms.

#[cfg(feature = "proj")]
use crate::error::Result;
use crate::grid::Projection;
use crate::params::EARTH_RADIUS_M;
use crate::rotation::norm180;

/// A coordinate reference system: the PROJ definition and its WKT2:2019 form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crs {
    /// PROJ definition (`+proj=… +type=crs`).
    pub proj: String,
    /// WKT2:2019, as PROJ exports the definition.
    pub wkt: String,
}

impl Crs {
    /// Build from a PROJ definition, asking PROJ for the WKT (which also validates it).
    ///
    /// ```
    /// let crs = grids::Crs::from_proj("+proj=longlat +R=6371000 +no_defs +type=crs".into())?;
    /// assert!(crs.wkt.starts_with("GEOGCRS["));
    /// assert!(grids::Crs::from_proj("+proj=nonsense".into()).is_err());
    /// # Ok::<(), grids::GridError>(())
    /// ```
    #[cfg(feature = "proj")]
    pub fn from_proj(proj: String) -> Result<Self> {
        let wkt = crate::proj_ffi::wkt_of(&proj)?;
        Ok(Crs { proj, wkt })
    }
}

/// Whether a CRS's authority axis order puts northing (or latitude) first, as for EPSG:4326,
/// EPSG:4258 or EPSG:3035. WMS 1.3.0 and WCS read coordinates in that order. `definition` is
/// anything PROJ accepts (`EPSG:4269`, a WKT, a PROJ string).
///
/// ```
/// assert!(grids::crs::northing_first("EPSG:4326")?);
/// assert!(grids::crs::northing_first("EPSG:3035")?);
/// assert!(!grids::crs::northing_first("EPSG:3857")?);
/// assert!(!grids::crs::northing_first("OGC:CRS84")?);
/// assert!(grids::crs::northing_first("EPSG:99999999").is_err());
/// # Ok::<(), grids::GridError>(())
/// ```
#[cfg(feature = "proj")]
pub fn northing_first(definition: &str) -> Result<bool> {
    let dirs = crate::proj_ffi::axis_directions(definition)?;
    Ok(matches!(
        dirs.first().map(String::as_str),
        Some("north" | "south")
    ))
}

/// Whether a CRS can be the CRS of a flat 2-D map: geographic 2-D or projected, with two
/// horizontal axes. Geocentric (EPSG:4978), vertical (EPSG:5714), compound (EPSG:7415) and
/// 3-D CRSs cannot; `Err` when PROJ does not know the definition. Nothing is logged.
///
/// ```
/// assert!(grids::crs::is_map_crs("EPSG:4326")?);
/// assert!(grids::crs::is_map_crs("EPSG:3995")?);
/// assert!(!grids::crs::is_map_crs("EPSG:4978")?);
/// assert!(!grids::crs::is_map_crs("EPSG:5714")?);
/// assert!(!grids::crs::is_map_crs("EPSG:7415")?);
/// assert!(!grids::crs::is_map_crs("EPSG:4979")?);
/// assert!(grids::crs::is_map_crs("EPSG:99999999").is_err());
/// # Ok::<(), grids::GridError>(())
/// ```
#[cfg(feature = "proj")]
pub fn is_map_crs(definition: &str) -> Result<bool> {
    if !crate::proj_ffi::is_geographic_2d_or_projected(definition)? {
        return Ok(false);
    }
    let dirs = crate::proj_ffi::axis_directions(definition)?;
    Ok(dirs.len() == 2
        && dirs
            .iter()
            .all(|d| matches!(d.as_str(), "east" | "west" | "north" | "south")))
}

/// A coordinate conversion from one CRS to another, in GIS axis order (x = easting or
/// longitude, y = northing or latitude, whatever the authority's order), as PROJ picks it.
///
/// Each value has its own PROJ context, destroyed with it on every path (creation failures
/// included), so creating and dropping many leaves nothing behind but PROJ's own bounded
/// caches. A value moves between threads but is used by one at a time (`Send`, not `Sync`).
///
/// ```
/// let t = grids::crs::CrsTransform::new("EPSG:3857", "EPSG:4326")?;
/// let (mut x, mut y) = (vec![0.0, 20_037_508.342789244], vec![0.0, 0.0]);
/// t.convert(&mut x, &mut y);
/// assert!((x[1] - 180.0).abs() < 1e-9 && y[0].abs() < 1e-9);
/// assert!(grids::crs::CrsTransform::new("EPSG:99999999", "EPSG:4326").is_err());
/// # Ok::<(), grids::GridError>(())
/// ```
#[cfg(feature = "proj")]
pub struct CrsTransform(crate::proj_ffi::Operation);

#[cfg(feature = "proj")]
impl CrsTransform {
    /// The conversion from `from` to `to` (anything PROJ accepts: `EPSG:3978`, WKT, a PROJ
    /// string). Nothing is logged; a failure is an error.
    pub fn new(from: &str, to: &str) -> Result<Self> {
        crate::proj_ffi::Operation::between(from, to).map(CrsTransform)
    }

    /// Convert the points in place (pairs of `x[k]`, `y[k]`, up to the shorter slice); a point
    /// PROJ cannot convert becomes NaN in both.
    pub fn convert(&self, x: &mut [f64], y: &mut [f64]) {
        self.0.convert(x, y);
        for (a, b) in x.iter_mut().zip(y.iter_mut()) {
            if !(a.is_finite() && b.is_finite()) {
                (*a, *b) = (f64::NAN, f64::NAN);
            }
        }
    }
}

#[cfg(feature = "proj")]
impl std::fmt::Debug for CrsTransform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CrsTransform")
    }
}

/// Affine map from 0-based point indices to CRS coordinates: point (i, j) is at
/// `(x0 + i·dx, y0 + j·dy)`. j grows with the record's rows (j = 0 is the first row stored,
/// which is the south row except for A/G grids with ig2 = 1), so `dy` is usually positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoTransform {
    /// CRS x of point (0, 0).
    pub x0: f64,
    /// x step per i.
    pub dx: f64,
    /// CRS y of point (0, 0).
    pub y0: f64,
    /// y step per j.
    pub dy: f64,
}

impl GeoTransform {
    /// CRS coordinates of (fractional) point (i, j).
    #[must_use]
    pub fn apply(&self, i: f64, j: f64) -> (f64, f64) {
        (self.x0 + i * self.dx, self.y0 + j * self.dy)
    }

    /// The GDAL geotransform for a raster whose line 0 is the record's first row: GDAL counts
    /// from the corner of the first pixel, hence the half-cell shift. (A driver that flips the
    /// rows to put north up uses `y0 + (nj − ½)·dy` and `−dy` instead.)
    ///
    /// ```
    /// let gt = grids::GeoTransform { x0: 250.0, dx: 0.75, y0: 30.0, dy: 0.5 };
    /// assert_eq!(gt.to_gdal(), [249.625, 0.75, 0.0, 29.75, 0.0, 0.5]);
    /// assert_eq!(gt.apply(2.0, 1.0), (251.5, 30.5));
    /// ```
    #[must_use]
    pub fn to_gdal(&self) -> [f64; 6] {
        [
            self.x0 - self.dx / 2.0,
            self.dx,
            0.0,
            self.y0 - self.dy / 2.0,
            0.0,
            self.dy,
        ]
    }
}

/// Shortest round-trip formatting, so that PROJ sees exactly our f64 values.
fn num(x: f64) -> String {
    // -0 prints as "-0", which PROJ accepts, but "0" reads better.
    if x == 0.0 {
        "0".to_owned()
    } else {
        format!("{x}")
    }
}

pub(crate) fn proj_string(p: &Projection) -> String {
    let r = num(EARTH_RADIUS_M);
    match p {
        Projection::LongLat => format!("+proj=longlat +R={r} +no_defs +type=crs"),
        Projection::Polar { north: true, dgrw } => format!(
            "+proj=stere +lat_0=90 +lat_ts=60 +lon_0={} +x_0=0 +y_0=0 +R={r} +units=m +no_defs \
             +type=crs",
            num(norm180(270.0 - dgrw))
        ),
        Projection::Polar { north: false, dgrw } => format!(
            "+proj=stere +lat_0=-90 +lat_ts=-60 +lon_0={} +x_0=0 +y_0=0 +R={r} +units=m +no_defs \
             +type=crs",
            num(norm180(dgrw - 90.0))
        ),
        Projection::Rotated(rot) => {
            let o = rot.ob_tran();
            format!(
                "+proj=ob_tran +o_proj=longlat +o_lat_p={} +o_lon_p={} +lon_0={} +R={r} +no_defs \
                 +type=crs",
                num(o.o_lat_p),
                num(o.o_lon_p),
                num(o.lon_0)
            )
        }
    }
}
