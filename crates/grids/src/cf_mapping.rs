//! The CF-1.11 grid-mapping attributes of a grid's CRS: what a netCDF writer (the xarray
//! backend) puts on its grid-mapping variable. The inverse, from these attributes back to an
//! FST grid, is [`crate::from_crs::CfGridMapping`].

use crate::crs::proj_string;
use crate::grid::Projection;
use crate::params::EARTH_RADIUS_M;
use crate::rotation::norm180;
use crate::wkt::wkt2019;

/// An attribute value: text or a number.
#[derive(Debug, Clone, PartialEq)]
pub enum CfValue {
    /// A text attribute (`grid_mapping_name`, `crs_wkt`…).
    Text(String),
    /// A numeric attribute, degrees or metres.
    Number(f64),
}

/// The attributes of the grid-mapping variable of `p`, in the order a writer lists them:
/// `grid_mapping_name` and the mapping's parameters (those of PROJ's own CF export of the
/// equivalent PROJ string: `lon_0` is the rotated pole's longitude + 180°, and the polar
/// stereographic is the variant B of FST's 60° standard parallel), the sphere's radius, then
/// `crs_wkt` (WKT2:2019), `spatial_ref` (the same text, GDAL's and rioxarray's name) and
/// `proj4_params`.
pub(crate) fn attributes(p: &Projection) -> Vec<(&'static str, CfValue)> {
    let text = |name: &'static str, v: &str| (name, CfValue::Text(v.to_owned()));
    let num = |name: &'static str, v: f64| (name, CfValue::Number(v));
    let mut a = match p {
        Projection::LongLat => vec![text("grid_mapping_name", "latitude_longitude")],
        Projection::Rotated(rot) => {
            let o = rot.ob_tran();
            vec![
                text("grid_mapping_name", "rotated_latitude_longitude"),
                // + 0.0: −0 as 0, as PROJ's text prints it.
                num("grid_north_pole_latitude", o.o_lat_p + 0.0),
                // The pole's longitude is lon_0 − 180°, in [−180°, 180°).
                num(
                    "grid_north_pole_longitude",
                    (o.lon_0 - 180.0 + 180.0).rem_euclid(360.0) - 180.0,
                ),
                num("north_pole_grid_longitude", o.o_lon_p + 0.0),
            ]
        }
        Projection::Polar { north, dgrw } => {
            let (lat_0, lat_ts, lon_0) = if *north {
                (90.0, 60.0, norm180(270.0 - dgrw))
            } else {
                (-90.0, -60.0, norm180(dgrw - 90.0))
            };
            vec![
                text("grid_mapping_name", "polar_stereographic"),
                // PROJ's text prints −0 as 0: so do the attributes.
                num("straight_vertical_longitude_from_pole", lon_0 + 0.0),
                num("latitude_of_projection_origin", lat_0),
                num("standard_parallel", lat_ts),
                num("false_easting", 0.0),
                num("false_northing", 0.0),
            ]
        }
    };
    a.push(num("earth_radius", EARTH_RADIUS_M));
    let wkt = wkt2019(p);
    a.push(text("crs_wkt", &wkt));
    a.push(text("spatial_ref", &wkt));
    a.push(text("proj4_params", &proj_string(p)));
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rotation::Rotation;

    fn number(a: &[(&str, CfValue)], name: &str) -> f64 {
        match a.iter().find(|(n, _)| *n == name).map(|(_, v)| v) {
            Some(CfValue::Number(v)) => *v,
            other => panic!("{name}: {other:?}"),
        }
    }

    fn text<'a>(a: &'a [(&str, CfValue)], name: &str) -> &'a str {
        match a.iter().find(|(n, _)| *n == name).map(|(_, v)| v) {
            Some(CfValue::Text(v)) => v,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn each_family_names_its_mapping_and_carries_its_crs() {
        let ll = attributes(&Projection::LongLat);
        assert_eq!(text(&ll, "grid_mapping_name"), "latitude_longitude");
        assert_eq!(number(&ll, "earth_radius"), EARTH_RADIUS_M);
        assert!(text(&ll, "crs_wkt").starts_with("GEOGCRS["));
        assert_eq!(text(&ll, "crs_wkt"), text(&ll, "spatial_ref"));
        assert!(text(&ll, "proj4_params").starts_with("+proj=longlat"));

        // North polar stereographic with the x axis 10° east of Greenwich (dgrw = 10): the
        // meridian along −y from the pole is 270° − 10° = 260° = −100°.
        let ps = attributes(&Projection::Polar {
            north: true,
            dgrw: 10.0,
        });
        assert_eq!(text(&ps, "grid_mapping_name"), "polar_stereographic");
        assert_eq!(number(&ps, "straight_vertical_longitude_from_pole"), -100.0);
        assert_eq!(number(&ps, "latitude_of_projection_origin"), 90.0);
        assert_eq!(number(&ps, "standard_parallel"), 60.0);
        let south = attributes(&Projection::Polar {
            north: false,
            dgrw: 90.0,
        });
        assert_eq!(number(&south, "latitude_of_projection_origin"), -90.0);
        assert_eq!(number(&south, "standard_parallel"), -60.0);
        assert_eq!(
            number(&south, "straight_vertical_longitude_from_pole").to_bits(),
            0.0f64.to_bits()
        );
    }

    #[test]
    fn a_rotated_pole_is_the_ob_tran_pole_as_cf_states_it() {
        // An E grid's rotation through two points; CF's pole is PROJ's o_lat_p and
        // lon_0 − 180°, and its north_pole_grid_longitude is o_lon_p.
        let rot = Rotation::new(&crate::params::RotatedParams {
            xlat1: 40.0,
            xlon1: 260.0,
            xlat2: 35.0,
            xlon2: 330.0,
        })
        .unwrap();
        let o = rot.ob_tran();
        let a = attributes(&Projection::Rotated(rot));
        assert_eq!(text(&a, "grid_mapping_name"), "rotated_latitude_longitude");
        assert_eq!(number(&a, "grid_north_pole_latitude"), o.o_lat_p);
        assert_eq!(number(&a, "north_pole_grid_longitude"), o.o_lon_p);
        let lon = number(&a, "grid_north_pole_longitude");
        assert!((-180.0..180.0).contains(&lon));
        assert!(
            (norm180(lon + 180.0) - o.lon_0).abs() < 1e-9,
            "{lon} {}",
            o.lon_0
        );
    }
}
