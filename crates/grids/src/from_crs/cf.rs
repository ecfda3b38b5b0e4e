//! The CF grid mappings the inverse mapping reads without PROJ: `latitude_longitude`,
//! `rotated_latitude_longitude` and spherical `polar_stereographic`, converted with their own
//! closed formulas. These are the mappings our xarray backend writes (and what most netCDF
//! files of FST origin carry), so a build that links no PROJ (the Python wheel) still gives
//! them back their FST grid types instead of Y.
//!
//! The formulas are those of the CF conventions (appendix F) and of PROJ's `ob_tran` and
//! spherical `stere`; the tests compare them with PROJ point by point, and the grids built
//! through them with those built through [`super::from_axes`].

use super::{Family, FromCrsError, ToLatLon};
use crate::rotation::norm180;

/// A CF-1.11 grid mapping (the attributes of a netCDF grid-mapping variable) that
/// [`super::from_cf_axes`] converts without PROJ.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum CfGridMapping {
    /// `latitude_longitude`: x is longitude, y latitude, in degrees (any ellipsoid: FST
    /// grids carry no datum).
    LatitudeLongitude,
    /// `rotated_latitude_longitude`: x is the rotated longitude, y the rotated latitude.
    RotatedLatitudeLongitude {
        /// True latitude of the rotated north pole, degrees.
        grid_north_pole_latitude: f64,
        /// True longitude of the rotated north pole, degrees.
        grid_north_pole_longitude: f64,
        /// Rotated longitude of the true north pole, degrees (CF's default 0).
        north_pole_grid_longitude: f64,
    },
    /// `polar_stereographic` on a sphere, x and y in metres.
    PolarStereographic {
        /// True for `latitude_of_projection_origin` = 90, false for −90.
        north: bool,
        /// `straight_vertical_longitude_from_pole`: the meridian along −y (north) or +y
        /// (south) from the pole, degrees.
        straight_vertical_longitude_from_pole: f64,
        /// Scale at the pole: `scale_factor_at_projection_origin`, or (1 + sin|φc|)/2 for
        /// a `standard_parallel` φc.
        scale_factor: f64,
        /// `false_easting`, metres.
        false_easting: f64,
        /// `false_northing`, metres.
        false_northing: f64,
        /// The sphere's radius, metres.
        earth_radius: f64,
    },
}

fn unsupported(detail: impl Into<String>) -> FromCrsError {
    FromCrsError::CfMapping(detail.into())
}

impl CfGridMapping {
    /// The mapping described by CF attributes: `get(name)` is the numeric value of attribute
    /// `name`, or None when absent. An error says why the mapping cannot be read without
    /// PROJ (another `grid_mapping_name`, an ellipsoidal polar stereographic, a polar aspect
    /// that is not at a pole, missing parameters).
    ///
    /// ```
    /// use grids::from_crs::CfGridMapping;
    /// let attrs = [("grid_north_pole_latitude", 31.758), ("grid_north_pole_longitude", -92.402)];
    /// let m = CfGridMapping::from_attributes("rotated_latitude_longitude", |k| {
    ///     attrs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
    /// })?;
    /// assert_eq!(
    ///     m,
    ///     CfGridMapping::RotatedLatitudeLongitude {
    ///         grid_north_pole_latitude: 31.758,
    ///         grid_north_pole_longitude: -92.402,
    ///         north_pole_grid_longitude: 0.0,
    ///     }
    /// );
    /// # Ok::<(), grids::from_crs::FromCrsError>(())
    /// ```
    pub fn from_attributes(
        grid_mapping_name: &str,
        get: impl Fn(&str) -> Option<f64>,
    ) -> Result<Self, FromCrsError> {
        let need = |k: &str| {
            get(k)
                .filter(|v| v.is_finite())
                .ok_or_else(|| unsupported(format!("{grid_mapping_name}: no finite '{k}'")))
        };
        let opt = |k: &str, default: f64| get(k).filter(|v| v.is_finite()).unwrap_or(default);
        match grid_mapping_name {
            "latitude_longitude" => Ok(CfGridMapping::LatitudeLongitude),
            "rotated_latitude_longitude" => {
                let plat = need("grid_north_pole_latitude")?;
                if !(-90.0..=90.0).contains(&plat) {
                    return Err(unsupported(format!(
                        "grid_north_pole_latitude {plat} is not a latitude"
                    )));
                }
                Ok(CfGridMapping::RotatedLatitudeLongitude {
                    grid_north_pole_latitude: plat,
                    grid_north_pole_longitude: need("grid_north_pole_longitude")?,
                    north_pole_grid_longitude: opt("north_pole_grid_longitude", 0.0),
                })
            }
            "polar_stereographic" => {
                let lat0 = need("latitude_of_projection_origin")?;
                let north = match lat0 {
                    90.0 => true,
                    -90.0 => false,
                    _ => {
                        return Err(unsupported(format!(
                            "polar_stereographic: latitude_of_projection_origin {lat0} is not \
                             a pole"
                        )))
                    }
                };
                let lon0 = get("straight_vertical_longitude_from_pole")
                    .or_else(|| get("longitude_of_projection_origin"))
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        unsupported("polar_stereographic: no straight_vertical_longitude_from_pole")
                    })?;
                let scale_factor = match (
                    get("standard_parallel").filter(|v| v.is_finite()),
                    get("scale_factor_at_projection_origin").filter(|v| v.is_finite()),
                ) {
                    (Some(phi), _) => f64::midpoint(1.0, phi.to_radians().sin().abs()),
                    (None, Some(k)) => k,
                    (None, None) => {
                        return Err(unsupported(
                            "polar_stereographic: neither standard_parallel nor \
                             scale_factor_at_projection_origin",
                        ))
                    }
                };
                if scale_factor.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                    return Err(unsupported(format!(
                        "polar_stereographic: scale factor {scale_factor} is not positive"
                    )));
                }
                Ok(CfGridMapping::PolarStereographic {
                    north,
                    straight_vertical_longitude_from_pole: lon0,
                    scale_factor,
                    false_easting: opt("false_easting", 0.0),
                    false_northing: opt("false_northing", 0.0),
                    earth_radius: sphere_radius(&get)?,
                })
            }
            other => Err(unsupported(format!(
                "grid_mapping_name '{other}' is not read without PROJ"
            ))),
        }
    }

    pub(super) fn family(&self) -> Family {
        match self {
            CfGridMapping::LatitudeLongitude => Family::LongLat,
            CfGridMapping::RotatedLatitudeLongitude { .. } => Family::Rotated,
            CfGridMapping::PolarStereographic { north, .. } => Family::Polar { north: *north },
        }
    }
}

/// The radius of a spherical figure: `earth_radius`, or equal semi-axes (or an inverse
/// flattening of 0). An ellipsoid is refused: FST's polar stereographic is spherical, and the
/// ellipsoidal formulas are PROJ's business.
fn sphere_radius(get: &impl Fn(&str) -> Option<f64>) -> Result<f64, FromCrsError> {
    let pos = |k: &str| get(k).filter(|v| v.is_finite() && *v > 0.0);
    if let Some(r) = pos("earth_radius") {
        return Ok(r);
    }
    match (
        pos("semi_major_axis"),
        pos("semi_minor_axis"),
        get("inverse_flattening"),
    ) {
        (Some(a), Some(b), _) if (a - b).abs() <= 1e-9 * a => Ok(a),
        (Some(a), None, Some(0.0)) => Ok(a),
        (Some(_), _, _) => Err(unsupported(
            "polar_stereographic on an ellipsoid (FST's is on a sphere)",
        )),
        _ => Err(unsupported(
            "polar_stereographic: no earth_radius (nor semi-axes) to fix its scale",
        )),
    }
}

impl ToLatLon for CfGridMapping {
    fn convert(&self, x: &mut [f64], y: &mut [f64], forward: bool) {
        for (a, b) in x.iter_mut().zip(y.iter_mut()) {
            (*a, *b) = self.convert_point(*a, *b, forward);
        }
    }
}

impl CfGridMapping {
    /// CRS coordinates (x, y) → (longitude in [−180, 180], latitude) in degrees when
    /// `forward`, else back; infinities where there is no answer (outside the CRS's domain,
    /// the opposite pole of a polar stereographic).
    fn convert_point(&self, a: f64, b: f64, forward: bool) -> (f64, f64) {
        match *self {
            CfGridMapping::LatitudeLongitude => (a, b),
            CfGridMapping::RotatedLatitudeLongitude {
                grid_north_pole_latitude: plat,
                grid_north_pole_longitude: plon,
                north_pole_grid_longitude: lon0,
            } => {
                // The rotation taking the rotated pole to +z with the true pole at rotated
                // longitude 0 (CF appendix F), applied after turning the pole's meridian to
                // 0. It is its own inverse (a symmetric orthogonal matrix).
                let (sp, cp) = plat.to_radians().sin_cos();
                let turn = |v: [f64; 3]| [-sp * v[0] + cp * v[2], -v[1], cp * v[0] + sp * v[2]];
                if forward {
                    if !(-90.0..=90.0).contains(&b) || !a.is_finite() {
                        return (f64::INFINITY, f64::INFINITY);
                    }
                    let (lat, lon) = lat_lon(turn(unit_xyz(b, a - lon0)));
                    (norm180(lon + plon), lat)
                } else {
                    let (rlat, rlon) = lat_lon(turn(unit_xyz(b, a - plon)));
                    (norm180(rlon + lon0), rlat)
                }
            }
            CfGridMapping::PolarStereographic {
                north,
                straight_vertical_longitude_from_pole: lon0,
                scale_factor: k0,
                false_easting: x0,
                false_northing: y0,
                earth_radius: r,
            } => {
                // ρ = 2·R·k0·tan(45° − s·φ/2) from the pole (s = ±1 by hemisphere); the
                // straight vertical meridian runs along −y from the north pole, +y from the
                // south pole.
                let s = if north { 1.0 } else { -1.0 };
                if forward {
                    let (dx, dy) = (a - x0, b - y0);
                    let c = 2.0 * (dx.hypot(dy) / (2.0 * r * k0)).atan();
                    (
                        norm180(lon0 + dx.atan2(-s * dy).to_degrees()),
                        s * (90.0 - c.to_degrees()),
                    )
                } else {
                    if s * b <= -90.0 {
                        return (f64::INFINITY, f64::INFINITY);
                    }
                    let rho = 2.0 * r * k0 * (45.0 - s * b / 2.0).to_radians().tan();
                    let (sl, cl) = (a - lon0).to_radians().sin_cos();
                    (x0 + rho * sl, y0 - s * rho * cl)
                }
            }
        }
    }

    #[cfg(test)]
    fn lon_lat_of(self, x: f64, y: f64) -> (f64, f64) {
        self.convert_point(x, y, true)
    }

    #[cfg(test)]
    fn xy_of(self, lon: f64, lat: f64) -> (f64, f64) {
        self.convert_point(lon, lat, false)
    }
}

fn unit_xyz(lat: f64, lon: f64) -> [f64; 3] {
    let (sp, cp) = lat.to_radians().sin_cos();
    let (sl, cl) = lon.to_radians().sin_cos();
    [cp * cl, cp * sl, sp]
}

/// (lat, lon) of a vector, lon in (−180, 180]; atan2 keeps precision near the poles.
fn lat_lon(v: [f64; 3]) -> (f64, f64) {
    (
        v[2].atan2(v[0].hypot(v[1])).to_degrees(),
        v[1].atan2(v[0]).to_degrees(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rotated(plat: f64, plon: f64, lon0: f64) -> CfGridMapping {
        CfGridMapping::RotatedLatitudeLongitude {
            grid_north_pole_latitude: plat,
            grid_north_pole_longitude: plon,
            north_pole_grid_longitude: lon0,
        }
    }

    #[test]
    fn rotated_pole_lands_where_cf_says() {
        // The rotated frame's origin is 90° from the pole on the pole's meridian, opposite
        // side; the true north pole is at rotated (lon0, plat).
        let m = rotated(40.0, -170.0, 0.0);
        let (lon, lat) = m.lon_lat_of(0.0, 0.0);
        assert!(
            (lon - 10.0).abs() < 1e-12 && (lat - 50.0).abs() < 1e-12,
            "{lon} {lat}"
        );
        let (rlon, rlat) = m.xy_of(123.0, 90.0);
        assert!(
            rlon.abs() < 1e-9 && (rlat - 40.0).abs() < 1e-12,
            "{rlon} {rlat}"
        );
        let m = rotated(40.0, -170.0, 25.0);
        let (rlon, _) = m.xy_of(0.0, 90.0);
        assert!((rlon - 25.0).abs() < 1e-9, "{rlon}");
        // The pole itself.
        let (_, lat) = m.lon_lat_of(3.0, 90.0);
        assert!((lat - 40.0).abs() < 1e-12);
    }

    #[test]
    fn rotated_round_trip() {
        let m = rotated(31.758, -92.402, 10.0);
        for (lon, lat) in [(0.0, 0.0), (-120.5, 45.25), (179.0, -60.0), (33.0, 89.0)] {
            let (x, y) = m.xy_of(lon, lat);
            let (lo, la) = m.lon_lat_of(x, y);
            assert!(norm180(lo - lon).abs() < 1e-9 && (la - lat).abs() < 1e-9);
        }
    }

    #[test]
    fn polar_north_and_south() {
        let r = 6_371_000.0;
        for north in [true, false] {
            let m = CfGridMapping::PolarStereographic {
                north,
                straight_vertical_longitude_from_pole: -100.0,
                scale_factor: f64::midpoint(1.0, 60f64.to_radians().sin()),
                false_easting: 1000.0,
                false_northing: -2000.0,
                earth_radius: r,
            };
            let s = if north { 1.0 } else { -1.0 };
            // The straight vertical meridian runs along −y from the north pole, +y from the
            // south pole.
            let (x, y) = m.xy_of(-100.0, 50.0 * s);
            assert!(
                (x - 1000.0).abs() < 1e-6 && s * (y + 2000.0) < 0.0,
                "{x} {y}"
            );
            // 60° lies at (1 + sin 60°)·R·tan 15° from the pole.
            let (x, y) = m.xy_of(-10.0, 60.0 * s);
            let d = (x - 1000.0).hypot(y + 2000.0);
            let want = (1.0 + 60f64.to_radians().sin()) * r * 15f64.to_radians().tan();
            assert!((d - want).abs() < 1e-6, "{d} {want}");
            let (lo, la) = m.lon_lat_of(x, y);
            assert!((lo + 10.0).abs() < 1e-9 && (la - 60.0 * s).abs() < 1e-9);
            assert!(m.xy_of(0.0, -90.0 * s).0.is_infinite());
        }
    }

    #[test]
    fn attributes_are_checked() {
        let get = |pairs: &'static [(&'static str, f64)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
        };
        let e = CfGridMapping::from_attributes(
            "polar_stereographic",
            get(&[
                ("latitude_of_projection_origin", 90.0),
                ("straight_vertical_longitude_from_pole", 0.0),
                ("standard_parallel", 60.0),
                ("semi_major_axis", 6_378_137.0),
                ("inverse_flattening", 298.257_223_563),
            ]),
        );
        assert!(matches!(e, Err(FromCrsError::CfMapping(ref s)) if s.contains("ellipsoid")));
        let e = CfGridMapping::from_attributes(
            "polar_stereographic",
            get(&[
                ("latitude_of_projection_origin", 60.0),
                ("straight_vertical_longitude_from_pole", 0.0),
            ]),
        );
        assert!(matches!(e, Err(FromCrsError::CfMapping(ref s)) if s.contains("not a pole")));
        let e = CfGridMapping::from_attributes("lambert_conformal_conic", get(&[]));
        assert!(matches!(e, Err(FromCrsError::CfMapping(_))));
        let m = CfGridMapping::from_attributes(
            "polar_stereographic",
            get(&[
                ("latitude_of_projection_origin", -90.0),
                ("straight_vertical_longitude_from_pole", 10.0),
                ("scale_factor_at_projection_origin", 0.9),
                ("semi_major_axis", 6_371_229.0),
                ("semi_minor_axis", 6_371_229.0),
            ]),
        )
        .unwrap();
        assert_eq!(
            m,
            CfGridMapping::PolarStereographic {
                north: false,
                straight_vertical_longitude_from_pole: 10.0,
                scale_factor: 0.9,
                false_easting: 0.0,
                false_northing: 0.0,
                earth_radius: 6_371_229.0,
            }
        );
    }
}
