//! The nomvar table: CF names and units of the common GEM/RPN output variables.

/// What a nomvar holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The nomvar, upper case.
    pub nomvar: &'static str,
    /// CF standard name, only where the standard-name table has an exact match. RPN winds
    /// follow the grid's axes: `x_wind`/`y_wind`, not eastward/northward.
    pub standard_name: Option<&'static str>,
    /// CF `long_name`, lower case.
    pub long_name: &'static str,
    /// The records' unit, as a UDUNITS string (`degC`, `knot`, `kg kg-1`).
    pub units: &'static str,
}

const fn v(
    nomvar: &'static str,
    standard_name: Option<&'static str>,
    long_name: &'static str,
    units: &'static str,
) -> Variable {
    Variable {
        nomvar,
        standard_name,
        long_name,
        units,
    }
}

/// Sorted by nomvar (checked by a test), for the binary search of [`variable`].
const TABLE: &[Variable] = &[
    v("ES", None, "dew point depression", "K"),
    v(
        "GZ",
        Some("geopotential_height"),
        "geopotential height",
        "dam",
    ),
    v("HR", Some("relative_humidity"), "relative humidity", "1"),
    v(
        "HU",
        Some("specific_humidity"),
        "specific humidity",
        "kg kg-1",
    ),
    v("LG", Some("sea_ice_area_fraction"), "sea ice fraction", "1"),
    v("ME", Some("surface_altitude"), "topography", "m"),
    v("MG", Some("land_area_fraction"), "land-sea mask", "1"),
    v(
        "MX",
        Some("surface_geopotential"),
        "topography (geopotential)",
        "m2 s-2",
    ),
    v("NT", Some("cloud_area_fraction"), "total cloud cover", "1"),
    v(
        "P0",
        Some("surface_air_pressure"),
        "surface pressure",
        "hPa",
    ),
    v(
        "PC",
        Some("lwe_thickness_of_convective_precipitation_amount"),
        "accumulated convective precipitation",
        "m",
    ),
    v(
        "PN",
        Some("air_pressure_at_mean_sea_level"),
        "sea level pressure",
        "hPa",
    ),
    v(
        "PR",
        Some("lwe_thickness_of_precipitation_amount"),
        "accumulated precipitation",
        "m",
    ),
    v(
        "QQ",
        Some("atmosphere_absolute_vorticity"),
        "absolute vorticity",
        "s-1",
    ),
    v(
        "RT",
        Some("lwe_precipitation_rate"),
        "precipitation rate",
        "m s-1",
    ),
    v("SD", Some("surface_snow_thickness"), "snow depth", "cm"),
    v(
        "SN",
        Some("lwe_thickness_of_snowfall_amount"),
        "accumulated snowfall",
        "m",
    ),
    v(
        "TD",
        Some("dew_point_temperature"),
        "dew point temperature",
        "degC",
    ),
    v(
        "TH",
        Some("air_potential_temperature"),
        "potential temperature",
        "K",
    ),
    v(
        "TJ",
        Some("air_temperature"),
        "screen-level temperature",
        "K",
    ),
    v(
        "TM",
        Some("sea_surface_temperature"),
        "sea surface temperature",
        "K",
    ),
    v("TT", Some("air_temperature"), "air temperature", "degC"),
    v("UU", Some("x_wind"), "wind along the grid's x axis", "knot"),
    v("UV", Some("wind_speed"), "wind speed", "knot"),
    v("VIS", Some("visibility_in_air"), "visibility", "m"),
    v("VV", Some("y_wind"), "wind along the grid's y axis", "knot"),
    v(
        "WD",
        Some("wind_from_direction"),
        "wind direction",
        "degree",
    ),
    v("WGE", Some("wind_speed_of_gust"), "wind gusts", "knot"),
    v(
        "WT",
        Some("upward_air_velocity"),
        "vertical velocity",
        "m s-1",
    ),
    v(
        "WW",
        Some("lagrangian_tendency_of_air_pressure"),
        "vertical motion (omega)",
        "Pa s-1",
    ),
];

/// The meaning of `nomvar` (case and surrounding blanks ignored: records pad nomvars to four
/// characters), if the table has it.
#[must_use]
pub fn variable(nomvar: &str) -> Option<&'static Variable> {
    let name = nomvar.trim();
    if name.len() > 4 {
        return None;
    }
    let mut upper = [0u8; 4];
    for (d, s) in upper.iter_mut().zip(name.bytes()) {
        *d = s.to_ascii_uppercase();
    }
    let key = upper.get(..name.len())?;
    TABLE
        .binary_search_by(|e| e.nomvar.as_bytes().cmp(key))
        .ok()
        .and_then(|k| TABLE.get(k))
}

/// Every entry of the table, by nomvar.
pub fn variables() -> impl Iterator<Item = &'static Variable> {
    TABLE.iter()
}

/// A UDUNITS string as it is printed beside a value on a map: `°C`, `kt`, `kg/kg`, `Pa/s`;
/// units without a shorter form come back unchanged.
#[must_use]
pub fn display_units(units: &str) -> &str {
    match units {
        "degC" => "°C",
        "knot" => "kt",
        "degree" => "°",
        "kg kg-1" => "kg/kg",
        "Pa s-1" => "Pa/s",
        "m s-1" => "m/s",
        "s-1" => "1/s",
        "m2 s-2" => "m²/s²",
        other => other,
    }
}

/// A `long_name` as a title: its first letter upper case (`Air temperature`).
#[must_use]
pub fn title(long_name: &str) -> String {
    let mut chars = long_name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_its_names_are_nomvars() {
        assert!(TABLE.windows(2).all(|w| w[0].nomvar < w[1].nomvar));
        for e in TABLE {
            assert!((1..=4).contains(&e.nomvar.len()), "{}", e.nomvar);
            assert_eq!(e.nomvar, e.nomvar.trim().to_ascii_uppercase());
            assert!(
                !e.long_name.is_empty() && !e.units.is_empty(),
                "{}",
                e.nomvar
            );
            if let Some(s) = e.standard_name {
                assert!(
                    s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{s}"
                );
            }
        }
    }

    #[test]
    fn lookups_ignore_case_and_padding() {
        let tt = variable("TT").unwrap();
        assert_eq!(tt.standard_name, Some("air_temperature"));
        assert_eq!(tt.units, "degC");
        assert_eq!(variable("tt  ").unwrap(), tt);
        assert_eq!(variable(" VIS").unwrap().units, "m");
        assert_eq!(variable("ZZZZ"), None);
        assert_eq!(variable("TTTTT"), None);
        assert_eq!(variable(""), None);
        assert_eq!(variable("é"), None);
        // Every entry is found by its own name.
        for e in variables() {
            assert_eq!(variable(e.nomvar), Some(e));
        }
    }

    #[test]
    fn display_forms() {
        assert_eq!(display_units("degC"), "°C");
        assert_eq!(display_units("knot"), "kt");
        assert_eq!(display_units("hPa"), "hPa");
        assert_eq!(title("air temperature"), "Air temperature");
        assert_eq!(title(""), "");
    }
}
