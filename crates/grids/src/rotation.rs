//! The rotation between true and rotated latitude-longitude shared by E, Z-on-E and the
//! Yin-Yang subgrids (`docs/grids.md` §5.3, §5.5).

use crate::error::{GridError, Result};
use crate::params::{wrap360, RotatedParams};

/// A rotation of the sphere, stored as the rotated frame's axes in true Cartesian coordinates.
///
/// `ex` is rotated (0°, 0°), `ez` the rotated north pole and `ey = ez × ex`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rotation {
    /// Rotated (lat 0, lon 0) in true Cartesian coordinates.
    pub ex: [f64; 3],
    /// Rotated (lat 0, lon 90).
    pub ey: [f64; 3],
    /// The rotated north pole.
    pub ez: [f64; 3],
}

/// PROJ `ob_tran` parameters of a rotation, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObTran {
    /// Latitude of the rotated pole.
    pub o_lat_p: f64,
    /// Rotated longitude of the true north pole.
    pub o_lon_p: f64,
    /// Central meridian: longitude of the rotated pole + 180.
    pub lon_0: f64,
}

pub(crate) fn unit(lat: f64, lon: f64) -> [f64; 3] {
    let (sp, cp) = lat.to_radians().sin_cos();
    let (sl, cl) = lon.to_radians().sin_cos();
    [cp * cl, cp * sl, sp]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// (lat, lon) in degrees of a Cartesian vector, lon in [0, 360). atan2 on both angles keeps
/// full precision next to the poles, where asin of a number close to ±1 would not.
pub(crate) fn latlon_of(v: [f64; 3]) -> (f64, f64) {
    let lat = v[2].atan2(v[0].hypot(v[1])).to_degrees();
    let lon = wrap360(v[1].atan2(v[0]).to_degrees());
    (lat, lon)
}

impl Rotation {
    /// The rotation defined by two true points on the rotated equator.
    pub fn new(p: &RotatedParams) -> Result<Self> {
        let p1 = unit(p.xlat1, p.xlon1);
        let p2 = unit(p.xlat2, p.xlon2);
        let n = cross(p1, p2);
        let len = dot(n, n).sqrt();
        if len.is_nan() || len <= 1e-9 {
            return Err(GridError::invalid(
                b'E',
                format!(
                    "the two points ({}, {}) and ({}, {}) coincide or are antipodal, so they do \
                     not define a rotated equator",
                    p.xlat1, p.xlon1, p.xlat2, p.xlon2
                ),
            ));
        }
        let ez = n.map(|c| c / len);
        let ex = p1.map(|c| -c);
        let ey = cross(ez, ex);
        Ok(Rotation { ex, ey, ez })
    }

    /// True (lat, lon) of rotated (rlat, rlon), degrees; lon in [0, 360).
    #[must_use]
    pub fn to_true(&self, rlat: f64, rlon: f64) -> (f64, f64) {
        let v = unit(rlat, rlon);
        let t = [0, 1, 2].map(|k| v[0] * self.ex[k] + v[1] * self.ey[k] + v[2] * self.ez[k]);
        latlon_of(t)
    }

    /// Rotated (rlat, rlon) of true (lat, lon), degrees; rlon in [0, 360).
    #[must_use]
    pub fn to_rotated(&self, lat: f64, lon: f64) -> (f64, f64) {
        let v = unit(lat, lon);
        latlon_of([dot(v, self.ex), dot(v, self.ey), dot(v, self.ez)])
    }

    /// The PROJ `ob_tran` (`o_proj=longlat`) parameters reproducing this rotation.
    #[must_use]
    pub fn ob_tran(&self) -> ObTran {
        let ez = self.ez;
        let o_lat_p = ez[2].atan2(ez[0].hypot(ez[1])).to_degrees();
        if ez[0].hypot(ez[1]) > 1e-12 {
            let lam_p = ez[1].atan2(ez[0]).to_degrees();
            let o_lon_p = self.ey[2].atan2(self.ex[2]).to_degrees();
            ObTran {
                o_lat_p,
                o_lon_p,
                lon_0: norm180(lam_p + 180.0),
            }
        } else {
            // The rotated pole is a geographic pole: the closed form for o_lon_p is undefined.
            // Pick lon_0 = 180 and choose o_lon_p so that rotated (0, 0), which is `ex`, falls
            // where the rotation puts it (docs/grids.md §5.5, degenerate case, stated there
            // for point 1 = rotated (0, 180), its antipode).
            let lon_0 = 180.0_f64;
            let (plat, plon) = latlon_of(self.ex);
            let (sp, cp) = o_lat_p.to_radians().sin_cos();
            let (sf, cf) = plat.to_radians().sin_cos();
            let dl = (plon - lon_0).to_radians();
            let r = (cf * dl.sin())
                .atan2(sp * cf * dl.cos() + cp * sf)
                .to_degrees();
            ObTran {
                o_lat_p,
                o_lon_p: norm180(-r),
                lon_0,
            }
        }
    }

    /// The same rotation with rotated longitudes counted from `shift` degrees: a point at
    /// rotated longitude `x` here is at `x - shift` in the result (latitudes and the rotated
    /// pole are unchanged). Multiples of 90° are exact, so a shift of 180° or 360° moves
    /// every computed latitude and longitude by rounding only.
    #[must_use]
    pub fn shifted(&self, shift: f64) -> Rotation {
        let (s, c) = sin_cos_deg(shift);
        let ex = [0, 1, 2].map(|k| c * self.ex[k] + s * self.ey[k]);
        let ey = [0, 1, 2].map(|k| c * self.ey[k] - s * self.ex[k]);
        Rotation {
            ex,
            ey,
            ez: self.ez,
        }
    }

    /// The matrix taking rotated Cartesian vectors to true ones, row-major.
    #[must_use]
    pub(crate) fn to_true_matrix(self) -> [[f64; 3]; 3] {
        [0, 1, 2].map(|k| [self.ex[k], self.ey[k], self.ez[k]])
    }

    /// The matrix taking true Cartesian vectors to rotated ones, row-major.
    #[must_use]
    pub(crate) fn to_rotated_matrix(self) -> [[f64; 3]; 3] {
        [self.ex, self.ey, self.ez]
    }
}

/// sin and cos of an angle in degrees, exact at multiples of 90°.
fn sin_cos_deg(a: f64) -> (f64, f64) {
    let q = a / 90.0;
    if q.fract() == 0.0 && q.abs() < 1e15 {
        // rem_euclid keeps the quadrant for negative multiples too.
        match (q as i64).rem_euclid(4) {
            0 => (0.0, 1.0),
            1 => (1.0, 0.0),
            2 => (0.0, -1.0),
            _ => (-1.0, 0.0),
        }
    } else {
        a.to_radians().sin_cos()
    }
}

/// Bring an angle into (-180, 180].
pub(crate) fn norm180(x: f64) -> f64 {
    let w = wrap360(x);
    if w > 180.0 {
        w - 360.0
    } else {
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_and_point_one() {
        let r = Rotation::new(&RotatedParams {
            xlat1: 0.0,
            xlon1: 180.0,
            xlat2: 0.0,
            xlon2: 270.0,
        })
        .unwrap();
        let (lat, lon) = r.to_true(12.5, 33.0);
        assert!((lat - 12.5).abs() < 1e-12 && (lon - 33.0).abs() < 1e-12);
        let p = RotatedParams {
            xlat1: 45.0,
            xlon1: 260.0,
            xlat2: 45.0,
            xlon2: 270.0,
        };
        let r = Rotation::new(&p).unwrap();
        let (lat, lon) = r.to_true(0.0, 180.0);
        assert!((lat - 45.0).abs() < 1e-12 && (lon - 260.0).abs() < 1e-12);
        let (rlat, rlon) = r.to_rotated(45.0, 270.0);
        assert!(rlat.abs() < 1e-12 && rlon > 180.0);
    }

    #[test]
    fn ob_tran_examples() {
        let r = Rotation::new(&RotatedParams {
            xlat1: 40.0,
            xlon1: 260.0,
            xlat2: 35.0,
            xlon2: 330.0,
        })
        .unwrap();
        let o = r.ob_tran();
        assert!((o.o_lat_p - 46.548_942).abs() < 1e-6, "{o:?}");
        assert!((o.o_lon_p - -159.170_821).abs() < 1e-6, "{o:?}");
        assert!((wrap360(o.lon_0) - 287.657_206).abs() < 1e-6, "{o:?}");
    }

    #[test]
    fn shifted_moves_longitudes_only() {
        let r = Rotation::new(&RotatedParams {
            xlat1: 40.0,
            xlon1: 260.0,
            xlat2: 35.0,
            xlon2: 330.0,
        })
        .unwrap();
        for shift in [180.0, -180.0, 360.0, 90.0, 37.5] {
            let s = r.shifted(shift);
            for (rlat, rlon) in [(0.0, 180.0), (12.5, 200.0), (-60.0, 10.0), (89.0, 300.0)] {
                let (a, b) = (r.to_true(rlat, rlon), s.to_true(rlat, rlon - shift));
                assert!((a.0 - b.0).abs() < 1e-12, "{shift}: {a:?} {b:?}");
                assert!(norm180(a.1 - b.1).abs() < 1e-12, "{shift}: {a:?} {b:?}");
            }
            let (o, p) = (r.ob_tran(), s.ob_tran());
            assert!((o.o_lat_p - p.o_lat_p).abs() < 1e-12 && (o.lon_0 - p.lon_0).abs() < 1e-12);
            assert!(
                norm180(o.o_lon_p - shift - p.o_lon_p).abs() < 1e-9,
                "{o:?} {p:?}"
            );
        }
        // 180° is exact: the axes only change sign.
        let s = r.shifted(180.0);
        assert_eq!(s.ex, r.ex.map(|c| -c));
        assert_eq!(s.ey, r.ey.map(|c| -c));
    }

    #[test]
    fn shifted_degenerate_pole() {
        // Identity rotation (rotated pole = geographic pole): o_lon_p follows the shift too.
        let r = Rotation::new(&RotatedParams {
            xlat1: 0.0,
            xlon1: 180.0,
            xlat2: 0.0,
            xlon2: 270.0,
        })
        .unwrap();
        let o = r.ob_tran();
        assert_eq!((o.o_lat_p, o.o_lon_p, o.lon_0), (90.0, 180.0, 180.0));
        let p = r.shifted(180.0).ob_tran();
        assert!(p.o_lon_p.abs() < 1e-12, "{p:?}");
    }

    #[test]
    fn sin_cos_of_right_angles_is_exact() {
        assert_eq!(sin_cos_deg(180.0), (0.0, -1.0));
        assert_eq!(sin_cos_deg(-90.0), (-1.0, 0.0));
        assert_eq!(sin_cos_deg(720.0), (0.0, 1.0));
        let (s, c) = sin_cos_deg(30.0);
        assert!((s - 0.5).abs() < 1e-15 && (c - 0.75_f64.sqrt()).abs() < 1e-15);
    }
}
