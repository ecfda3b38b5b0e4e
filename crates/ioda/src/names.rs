//! The one naming scheme of the view: IODA v3 names, with the v1/v2 aliases resolving to them.
//!
//! The alias pairs come from the ioda convention (`ObsSpace.yaml`, `upgradev2v3.cpp`):
//! dimension renames, and every variable whose v3 name differs from an older one.

/// Old dimension names and the v3 name each became.
const DIMENSION_ALIASES: &[(&str, &str)] = &[
    ("nlocs", "Location"),
    ("nchans", "Channel"),
    ("nlevs", "Level"),
    ("Levels", "Level"),
    ("nlays", "Layer"),
    ("Layers", "Layer"),
];

/// Old variable names (v1/v2 `snake_case`, converter spellings) and their v3 name.
const VARIABLE_ALIASES: &[(&str, &str)] = &[
    ("brightness_temperature", "brightnessTemperature"),
    ("bending_angle", "bendingAngle"),
    ("refractivity", "atmosphericRefractivity"),
    ("air_temperature", "airTemperature"),
    ("virtual_temperature", "virtualTemperature"),
    ("specific_humidity", "specificHumidity"),
    ("eastward_wind", "windEastward"),
    ("northward_wind", "windNorthward"),
    ("air_pressure", "pressure"),
    ("clw", "liquidWaterContent"),
    ("Total_Aerosol_Optical_Depth_550", "aerosolOpticalDepth"),
    ("integrated_layer_ozone_in_air", "ozoneTotal"),
    ("ascending_flag", "satelliteAscendingFlag"),
    ("impact_parameter", "impactParameterRO"),
    ("sensor_azimuth_angle", "sensorAzimuthAngle"),
    ("sensor_zenith_angle", "sensorZenithAngle"),
    ("sensor_view_angle", "sensorViewAngle"),
    ("scan_position", "sensorScanPosition"),
    ("scan_line", "scanLineNumber"),
    ("sensor_channel", "sensorChannelNumber"),
    ("chans", "sensorChannelNumber"),
    ("channels", "sensorChannelNumber"),
    (
        "sensor_band_central_radiation_frequency",
        "sensorCentralFrequency",
    ),
    ("frequency", "sensorCentralFrequency"),
    (
        "sensor_band_central_radiation_wavenumber",
        "sensorCentralWavenumber",
    ),
    ("wavenumber", "sensorCentralWavenumber"),
    ("channel_wavelength", "sensorCentralWavelength"),
    ("polarization", "sensorPolarizationDirection"),
    ("solar_zenith_angle", "solarZenithAngle"),
    ("sol_zenith_angle", "solarZenithAngle"),
    ("solar_azimuth_angle", "solarAzimuthAngle"),
    ("sol_azimuth_angle", "solarAzimuthAngle"),
    ("station_id", "stationIdentification"),
    ("Station_ID", "stationIdentification"),
    ("statid", "stationIdentification"),
    ("station_elevation", "stationElevation"),
    (
        "satelliteDerivedWindComputationMethod",
        "windComputationMethod",
    ),
    ("land_sea", "landOrSeaQualifier"),
    ("rec_id", "record_number"),
];

/// Groups a reader should know, in their canonical spelling. Files differ in case
/// (UFO writes `hofx`, the convention `HofX`), so group names match case-insensitively.
const KNOWN_GROUPS: &[&str] = &[
    "MetaData",
    "ObsValue",
    "DerivedObsValue",
    "EffectiveObsValue",
    "ObsError",
    "EffectiveError",
    "PreQC",
    "QualityMarker",
    "EffectiveQC",
    "ObsType",
    "ObsBias",
    "HofX",
    "GsiHofX",
    "GsiHofXBc",
    "GsiHofXClr",
    "GsiEffectiveQC",
    "GsiFinalObsError",
    "GsiAdjustObsError",
    "GsiInputObsError",
    "GsiUseFlag",
    "GsiBc",
    "GsiQCWeight",
    "PreUseFlag",
    "VarMetaData",
    "RecMetaData",
];

/// The v3 name of a dimension.
#[must_use]
pub fn canonical_dimension(name: &str) -> &str {
    lookup(DIMENSION_ALIASES, name).unwrap_or(name)
}

/// The v3 name of a variable (unchanged when it has no alias).
#[must_use]
pub fn canonical_variable(name: &str) -> &str {
    lookup(VARIABLE_ALIASES, name).unwrap_or(name)
}

/// The canonical spelling of a group name; unknown groups keep theirs.
#[must_use]
pub fn canonical_group(name: &str) -> &str {
    KNOWN_GROUPS
        .iter()
        .find(|known| known.eq_ignore_ascii_case(name))
        .copied()
        .unwrap_or(name)
}

fn lookup<'a>(table: &'a [(&str, &str)], name: &str) -> Option<&'a str> {
    table
        .iter()
        .find(|(old, _)| *old == name)
        .map(|(_, new)| *new)
}

/// A variable's place in the view: its group (`""` for the root's dimension scales) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VariableName {
    /// Canonical group, e.g. `MetaData`.
    pub group: String,
    /// Canonical (v3) variable name, e.g. `stationIdentification`.
    pub name: String,
}

impl VariableName {
    /// Builds the canonical name from a group and a name as spelled in any generation.
    /// At the root, where the dimension scales are, v2's `nlocs`/`nchans` become
    /// `Location`/`Channel` like the dimensions they scale.
    #[must_use]
    pub fn canonical(group: &str, name: &str) -> Self {
        let name = canonical_variable(name);
        Self {
            group: canonical_group(group).to_owned(),
            name: if group.is_empty() {
                canonical_dimension(name)
            } else {
                name
            }
            .to_owned(),
        }
    }

    /// Splits a query like [`VariableName::parse`] but keeps the spelling as given.
    #[must_use]
    pub fn parse_as_stored(query: &str) -> Self {
        let query = query.trim_start_matches('/');
        let (group, name) = if let Some((name, group)) = query.rsplit_once('@') {
            (group, name)
        } else {
            query.rsplit_once('/').unwrap_or(("", query))
        };
        Self {
            group: group.to_owned(),
            name: name.to_owned(),
        }
    }

    /// Parses a user's query: `Group/name`, v1's `name@Group`, or a bare `name`
    /// (then `group` is empty and the caller searches every group).
    #[must_use]
    pub fn parse(query: &str) -> Self {
        let query = query.trim_start_matches('/');
        if let Some((name, group)) = query.rsplit_once('@') {
            Self::canonical(group, name)
        } else if let Some((group, name)) = query.rsplit_once('/') {
            Self::canonical(group, name)
        } else {
            Self::canonical("", query)
        }
    }
}

impl std::fmt::Display for VariableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.group, self.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generation_resolves_to_the_v3_name() {
        let v3 = VariableName::parse("MetaData/stationIdentification");
        assert_eq!(VariableName::parse("MetaData/station_id"), v3);
        assert_eq!(VariableName::parse("station_id@MetaData"), v3);
        assert_eq!(VariableName::parse("metadata/Station_ID"), v3);
        assert_eq!(v3.to_string(), "MetaData/stationIdentification");
        assert_eq!(VariableName::parse("hofx/airTemperature").group, "HofX");
        assert_eq!(
            VariableName::parse("Odd/air_temperature").name,
            "airTemperature"
        );
        assert_eq!(canonical_dimension("nlocs"), "Location");
        // v2's root dimension scales, and a bare query, take the v3 dimension names.
        assert_eq!(
            VariableName::parse("nlocs"),
            VariableName::parse("Location")
        );
        assert_eq!(VariableName::canonical("", "nchans").name, "Channel");
        assert_eq!(VariableName::canonical("MetaData", "nlocs").name, "nlocs");
        assert_eq!(canonical_dimension("Channel"), "Channel");
    }

    #[test]
    fn aliases_are_unique_and_never_chain() {
        for (old, new) in VARIABLE_ALIASES {
            assert_eq!(
                VARIABLE_ALIASES.iter().filter(|(o, _)| o == old).count(),
                1,
                "{old}"
            );
            assert!(
                lookup(VARIABLE_ALIASES, new).is_none(),
                "{new} is itself an alias"
            );
        }
    }
}
