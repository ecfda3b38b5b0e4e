//! Vertical coordinates: a level kind's CF coordinate, and back.

use fst_core::ip::LevelKind;

/// The CF vertical coordinate of a level kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vertical {
    /// The dimension (and coordinate variable) name: `pres`, `sigma`, `height_agl`…
    pub dim: &'static str,
    /// CF standard name, where one fits the kind.
    pub standard_name: Option<&'static str>,
    /// CF `long_name`.
    pub long_name: &'static str,
    /// UDUNITS string of the decoded values (`hPa` for pressure: librmn's `mb`).
    pub units: &'static str,
    /// `up` or `down` (CF 4.3): the direction in which values grow, for the vertical kinds.
    pub positive: Option<&'static str>,
    /// `Z` for the kinds that are heights in the atmosphere or ocean; none for labels (time
    /// levels, codes, matrix indices).
    pub axis: Option<&'static str>,
}

const fn z(
    dim: &'static str,
    standard_name: Option<&'static str>,
    long_name: &'static str,
    units: &'static str,
    positive: Option<&'static str>,
) -> Vertical {
    Vertical {
        dim,
        standard_name,
        long_name,
        units,
        positive,
        axis: Some("Z"),
    }
}

const fn label(dim: &'static str, long_name: &'static str, units: &'static str) -> Vertical {
    Vertical {
        dim,
        standard_name: None,
        long_name,
        units,
        positive: None,
        axis: None,
    }
}

/// The coordinate of fields whose records mix level kinds: the encoded ip1 itself.
pub const MIXED_LEVELS: Vertical = label("ip1", "encoded level (ip1), mixed kinds", "1");

const UP: Option<&str> = Some("up");
const DOWN: Option<&str> = Some("down");
const HEIGHT: Vertical = z(
    "height",
    Some("altitude"),
    "height above mean sea level",
    "m",
    UP,
);
const SIGMA: Vertical = z(
    "sigma",
    Some("atmosphere_sigma_coordinate"),
    "sigma level",
    "1",
    DOWN,
);
const PRESSURE: Vertical = z("pres", Some("air_pressure"), "pressure level", "hPa", DOWN);
const ARBITRARY: Vertical = z("level", None, "arbitrary level", "1", None);
const HEIGHT_AGL: Vertical = z("height_agl", Some("height"), "height above ground", "m", UP);
const HYBRID: Vertical = z(
    "hybrid",
    Some("atmosphere_hybrid_sigma_pressure_coordinate"),
    "hybrid level",
    "1",
    DOWN,
);
const THETA: Vertical = z(
    "theta",
    Some("air_potential_temperature"),
    "theta level",
    "K",
    UP,
);
const DEPTH: Vertical = z("depth", Some("depth"), "depth below sea surface", "m", DOWN);
const HOURS: Vertical = label("hours", "time level (ip1 in hours)", "h");
const CODE: Vertical = label("code", "integer code", "1");
const INDEX: Vertical = label("index", "conversion matrix index", "1");
const PRESSURE_METRES: Vertical = z("pressure_metres", None, "pressure-metres level", "m", UP);

/// The CF vertical coordinate of `kind` (None for a kind fst-core may learn later).
#[must_use]
pub const fn vertical(kind: LevelKind) -> Option<&'static Vertical> {
    Some(match kind {
        LevelKind::Height => &HEIGHT,
        LevelKind::Sigma => &SIGMA,
        LevelKind::Pressure => &PRESSURE,
        LevelKind::Arbitrary => &ARBITRARY,
        LevelKind::HeightAboveGround => &HEIGHT_AGL,
        LevelKind::Hybrid => &HYBRID,
        LevelKind::Theta => &THETA,
        LevelKind::Depth => &DEPTH,
        LevelKind::Hours => &HOURS,
        LevelKind::Integer => &CODE,
        LevelKind::MatrixIndex => &INDEX,
        LevelKind::PressureMetres => &PRESSURE_METRES,
        _ => return None,
    })
}

/// The level kind of a CF vertical coordinate's `standard_name`: the inverse of
/// [`vertical`], plus the CF names of the same quantities that [`vertical`] does not write
/// (`height_above_mean_sea_level`, `atmosphere_hybrid_height_coordinate`).
#[must_use]
pub fn kind_of_standard_name(standard_name: &str) -> Option<LevelKind> {
    Some(match standard_name.trim() {
        "height_above_mean_sea_level" => LevelKind::Height,
        "atmosphere_hybrid_height_coordinate" => LevelKind::Hybrid,
        name => LevelKind::ALL
            .into_iter()
            .find(|&k| vertical(k).is_some_and(|v| v.standard_name == Some(name)))?,
    })
}

/// The level kind of a dimension named as [`vertical`] names them (`pres`, `height_agl`,
/// `theta`…), a numeric suffix (`pres1`, another set of the same kind) ignored.
#[must_use]
pub fn kind_of_dimension(dim: &str) -> Option<LevelKind> {
    let base = dim.trim_end_matches(|c: char| c.is_ascii_digit());
    LevelKind::ALL
        .into_iter()
        .find(|&k| vertical(k).is_some_and(|v| v.dim == base))
}

/// The level kind, and the factor that turns values into that kind's unit, of a level
/// coordinate known only by its `units` (netCDF levels without a `standard_name`): pressure
/// in hPa or Pa, heights in metres, potential temperature in K; dimensionless levels are
/// arbitrary (kind 3), since sigma and hybrid cannot be told apart by units alone.
#[must_use]
pub fn kind_of_units(units: &str) -> Option<(LevelKind, f64)> {
    Some(match units.trim() {
        "hPa" | "mb" | "mbar" | "millibar" | "millibars" => (LevelKind::Pressure, 1.0),
        "Pa" => (LevelKind::Pressure, 0.01),
        "m" | "meters" | "metres" | "meter" | "metre" => (LevelKind::Height, 1.0),
        "K" => (LevelKind::Theta, 1.0),
        "sigma" | "1" | "" => (LevelKind::Arbitrary, 1.0),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_coordinate_with_its_own_dimension() {
        for k in LevelKind::ALL {
            let v = vertical(k).unwrap();
            assert_eq!(kind_of_dimension(v.dim), Some(k), "{k:?}");
            assert_eq!(kind_of_dimension(&format!("{}2", v.dim)), Some(k));
            if let Some(name) = v.standard_name {
                assert_eq!(kind_of_standard_name(name), Some(k), "{name}");
            }
            // CF: positive only on vertical axes, and every vertical kind of librmn has Z.
            assert!(v.positive.is_none() || v.axis == Some("Z"), "{k:?}");
            assert_eq!(v.axis.is_some(), k.is_level(), "{k:?}");
        }
        assert_eq!(kind_of_dimension(MIXED_LEVELS.dim), None);
        assert_eq!(kind_of_dimension("time"), None);
    }

    #[test]
    fn cf_names_and_units_back_to_kinds() {
        assert_eq!(
            kind_of_standard_name("air_pressure"),
            Some(LevelKind::Pressure)
        );
        assert_eq!(
            kind_of_standard_name("height"),
            Some(LevelKind::HeightAboveGround)
        );
        assert_eq!(
            kind_of_standard_name("height_above_mean_sea_level"),
            Some(LevelKind::Height)
        );
        assert_eq!(
            kind_of_standard_name("atmosphere_hybrid_height_coordinate"),
            Some(LevelKind::Hybrid)
        );
        assert_eq!(kind_of_standard_name("air_temperature"), None);
        assert_eq!(kind_of_units("Pa"), Some((LevelKind::Pressure, 0.01)));
        assert_eq!(kind_of_units(" mb "), Some((LevelKind::Pressure, 1.0)));
        assert_eq!(kind_of_units("furlong"), None);
    }
}
