//! The IODA variable ↔ FST nomvar table and its unit conversions (the tile server's README
//! has the same table with notes).

/// Knots to metres per second (1 kt = 1852 m / 3600 s).
const KNOT: f64 = 1852.0 / 3600.0;

/// One row of the IODA variable ↔ FST nomvar table.
#[derive(Debug, Clone, Copy)]
pub struct Mapping {
    /// Canonical (v3) IODA variable name, without the group.
    pub variable: &'static str,
    /// The FST nomvar of the same quantity.
    pub nomvar: &'static str,
    /// The field's unit in FST (the CMC variable dictionary).
    pub field_units: &'static str,
    /// The observation `units` accepted, each with (scale, offset):
    /// observation unit = field value × scale + offset.
    pub conversions: &'static [(&'static str, f64, f64)],
    /// Wind components: FST's are along the grid's axes. On grids whose axes point east and
    /// north (A, B, G, L and Z/Y grids on an L reference) the component's own layer serves;
    /// on others the UU+VV pair layer (`UV`), both components interpolated and turned east
    /// and north at the observation.
    pub grid_relative: bool,
}

/// IODA variable → FST nomvar, and the unit conversion. The tile server's README has the
/// same table with notes.
pub const TABLE: &[Mapping] = &[
    Mapping {
        variable: "airTemperature",
        nomvar: "TT",
        field_units: "°C",
        conversions: &[("K", 1.0, 273.15)],
        grid_relative: false,
    },
    Mapping {
        variable: "dewpointTemperature",
        nomvar: "TD",
        field_units: "°C",
        conversions: &[("K", 1.0, 273.15)],
        grid_relative: false,
    },
    Mapping {
        variable: "specificHumidity",
        nomvar: "HU",
        field_units: "kg/kg",
        conversions: &[("kg kg-1", 1.0, 0.0), ("kg/kg", 1.0, 0.0), ("1", 1.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "relativeHumidity",
        nomvar: "HR",
        field_units: "1",
        conversions: &[("1", 1.0, 0.0), ("%", 100.0, 0.0), ("percent", 100.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "surfacePressure",
        nomvar: "P0",
        field_units: "hPa",
        conversions: &[("Pa", 100.0, 0.0), ("hPa", 1.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "stationPressure",
        nomvar: "P0",
        field_units: "hPa",
        conversions: &[("Pa", 100.0, 0.0), ("hPa", 1.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "pressureReducedToMeanSeaLevel",
        nomvar: "PN",
        field_units: "hPa",
        conversions: &[("Pa", 100.0, 0.0), ("hPa", 1.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "geopotentialHeight",
        nomvar: "GZ",
        field_units: "dam",
        conversions: &[("m", 10.0, 0.0)],
        grid_relative: false,
    },
    Mapping {
        variable: "windEastward",
        nomvar: "UU",
        field_units: "kt",
        conversions: &[("m s-1", KNOT, 0.0), ("m/s", KNOT, 0.0)],
        grid_relative: true,
    },
    Mapping {
        variable: "windNorthward",
        nomvar: "VV",
        field_units: "kt",
        conversions: &[("m s-1", KNOT, 0.0), ("m/s", KNOT, 0.0)],
        grid_relative: true,
    },
    Mapping {
        variable: "seaSurfaceTemperature",
        nomvar: "TM",
        field_units: "K",
        conversions: &[("K", 1.0, 0.0)],
        grid_relative: false,
    },
];

/// The row of `variable` (canonical name, with or without its group).
#[must_use]
pub fn mapping(variable: &str) -> Option<&'static Mapping> {
    let name = variable.rsplit('/').next().unwrap_or(variable);
    TABLE.iter().find(|m| m.variable == name)
}

/// (scale, offset) from the field's unit to `obs_units`, if the table converts to it.
pub(crate) fn conversion(m: &Mapping, obs_units: Option<&str>) -> Option<(f64, f64)> {
    let units = obs_units?.trim();
    m.conversions
        .iter()
        .find(|(u, _, _)| *u == units)
        .map(|(_, s, o)| (*s, *o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_units_are_those_of_the_shared_nomvar_table() {
        // The units the O−F conversion assumes are the ones the layers advertise.
        for m in TABLE {
            let v = fst_cf::variable(m.nomvar).unwrap_or_else(|| panic!("{}", m.nomvar));
            assert_eq!(
                fst_cf::display_units(v.units),
                m.field_units,
                "{}",
                m.nomvar
            );
        }
    }

    #[test]
    fn table_converts_field_units_to_observation_units() {
        let t = mapping("ObsValue/airTemperature").unwrap();
        assert_eq!(t.nomvar, "TT");
        assert_eq!(conversion(t, Some("K")), Some((1.0, 273.15)));
        assert_eq!(conversion(t, Some("degC")), None);
        let p = mapping("stationPressure").unwrap();
        assert_eq!(conversion(p, Some("Pa")), Some((100.0, 0.0)));
        let u = mapping("windEastward").unwrap();
        let (s, _) = conversion(u, Some("m s-1")).unwrap();
        assert!((s * 3600.0 - 1852.0).abs() < 1e-9);
        assert!(mapping("brightnessTemperature").is_none());
    }
}
