//! Titles and native units of the common nomvars (the CMC variable dictionary, abridged).

/// (title, native unit) of a nomvar, if known.
#[must_use]
pub fn describe(nomvar: &str) -> Option<(&'static str, &'static str)> {
    Some(match nomvar {
        "TT" => ("Air temperature", "°C"),
        "TD" => ("Dew point temperature", "°C"),
        "ES" => ("Dew point depression", "°C"),
        "TM" => ("Sea surface temperature", "K"),
        "UU" => ("Wind, x component (grid-relative)", "kt"),
        "VV" => ("Wind, y component (grid-relative)", "kt"),
        "UV" => ("Wind speed", "kt"),
        "WW" => ("Vertical motion", "Pa/s"),
        "WT" => ("Vertical velocity", "m/s"),
        "GZ" => ("Geopotential height", "dam"),
        "HU" => ("Specific humidity", "kg/kg"),
        "HR" => ("Relative humidity", "1"),
        "P0" => ("Surface pressure", "hPa"),
        "PN" => ("Sea-level pressure", "hPa"),
        "PR" => ("Accumulated precipitation", "m"),
        "PC" => ("Accumulated convective precipitation", "m"),
        "RT" => ("Precipitation rate", "m/s"),
        "SN" => ("Accumulated snowfall", "m"),
        "NT" => ("Total cloud cover", "1"),
        "SD" => ("Snow depth", "cm"),
        "MX" => ("Topography", "m"),
        "ME" => ("Topography (filtered)", "m"),
        "MG" => ("Land-sea mask", "1"),
        "LG" => ("Sea ice fraction", "1"),
        "QQ" => ("Absolute vorticity", "1/s"),
        "TH" => ("Potential temperature", "K"),
        "VIS" => ("Visibility", "m"),
        "WGE" => ("Wind gusts", "kt"),
        _ => return None,
    })
}
