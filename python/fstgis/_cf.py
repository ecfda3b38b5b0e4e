"""CF metadata tables: what a nomvar means and what a level kind is.

The variable table covers the common GEM/RPN output variables. Units are the native units of
the records (fstgis never converts values: TT stays in degrees Celsius, GZ in decametres,
UU/VV in knots), written as UDUNITS strings. ``standard_name`` is given only where the CF
standard name table has an exact match; grid-relative winds are ``x_wind``/``y_wind``
(RPN winds follow the grid's axes), not eastward/northward.
"""

from __future__ import annotations

# nomvar -> (standard_name or None, long_name, units)
NOMVARS: dict[str, tuple[str | None, str, str]] = {
    "TT": ("air_temperature", "air temperature", "degC"),
    "TD": ("dew_point_temperature", "dew point temperature", "degC"),
    "ES": (None, "dew point depression", "K"),
    "HU": ("specific_humidity", "specific humidity", "kg kg-1"),
    "HR": ("relative_humidity", "relative humidity", "1"),
    "GZ": ("geopotential_height", "geopotential height", "dam"),
    "UU": ("x_wind", "wind along the grid's x axis", "knot"),
    "VV": ("y_wind", "wind along the grid's y axis", "knot"),
    "UV": ("wind_speed", "wind speed", "knot"),
    "WD": ("wind_from_direction", "wind direction", "degree"),
    "WW": ("lagrangian_tendency_of_air_pressure", "vertical motion (omega)", "Pa s-1"),
    "QQ": ("atmosphere_absolute_vorticity", "absolute vorticity", "s-1"),
    "P0": ("surface_air_pressure", "surface pressure", "hPa"),
    "PN": ("air_pressure_at_mean_sea_level", "sea level pressure", "hPa"),
    "PR": ("lwe_thickness_of_precipitation_amount", "accumulated precipitation", "m"),
    "MG": ("land_area_fraction", "land-sea mask", "1"),
    "ME": ("surface_altitude", "topography", "m"),
    "MX": ("surface_geopotential", "topography (geopotential)", "m2 s-2"),
    "TM": ("sea_surface_temperature", "sea surface temperature", "K"),
    "LG": ("sea_ice_area_fraction", "sea ice fraction", "1"),
    "SD": ("surface_snow_thickness", "snow depth", "cm"),
    "NT": ("cloud_area_fraction", "total cloud cover", "1"),
    "TJ": ("air_temperature", "screen-level temperature", "K"),
}

# Level kind (librmn number) -> CF vertical coordinate: (dimension name, attributes).
VERTICAL: dict[int, tuple[str, dict]] = {
    0: ("height", {"standard_name": "altitude", "long_name": "height above mean sea level",
                   "units": "m", "positive": "up", "axis": "Z"}),
    1: ("sigma", {"standard_name": "atmosphere_sigma_coordinate", "long_name": "sigma level",
                  "units": "1", "positive": "down", "axis": "Z"}),
    2: ("pres", {"standard_name": "air_pressure", "long_name": "pressure level", "units": "hPa",
                 "positive": "down", "axis": "Z"}),
    3: ("level", {"long_name": "arbitrary level", "units": "1", "axis": "Z"}),
    4: ("height_agl", {"standard_name": "height", "long_name": "height above ground",
                       "units": "m", "positive": "up", "axis": "Z"}),
    5: ("hybrid", {"standard_name": "atmosphere_hybrid_sigma_pressure_coordinate",
                   "long_name": "hybrid level", "units": "1", "positive": "down", "axis": "Z"}),
    6: ("theta", {"standard_name": "air_potential_temperature", "long_name": "theta level",
                  "units": "K", "positive": "up", "axis": "Z"}),
    7: ("depth", {"standard_name": "depth", "long_name": "depth below sea surface",
                  "units": "m", "positive": "down", "axis": "Z"}),
    10: ("hours", {"long_name": "time level (ip1 in hours)", "units": "h"}),
    15: ("code", {"long_name": "integer code", "units": "1"}),
    17: ("index", {"long_name": "conversion matrix index", "units": "1"}),
    21: ("pressure_metres", {"long_name": "pressure-metres level", "units": "m",
                             "positive": "up", "axis": "Z"}),
}

MIXED_LEVELS = ("ip1", {"long_name": "encoded level (ip1), mixed kinds"})


def variable_attrs(nomvar: str) -> dict:
    entry = NOMVARS.get(nomvar.upper())
    if entry is None:
        return {}
    standard_name, long_name, units = entry
    attrs = {"long_name": long_name, "units": units}
    if standard_name:
        attrs["standard_name"] = standard_name
    return attrs
