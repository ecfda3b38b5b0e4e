"""CF metadata tables: what a nomvar means and what a level kind is.

Both come from the Rust crate ``fst-cf`` (``crates/fst-cf``), the one table the GDAL driver's
netCDF metadata and the tile server's layer titles also read, so the three cannot disagree.

The variable table covers the common GEM/RPN output variables. Units are the native units of
the records (fstgis never converts values: TT stays in degrees Celsius, GZ in decametres,
UU/VV in knots), written as UDUNITS strings. ``standard_name`` is given only where the CF
standard name table has an exact match; grid-relative winds are ``x_wind``/``y_wind``
(RPN winds follow the grid's axes), not eastward/northward.
"""

from __future__ import annotations

from . import _fstgis

# nomvar -> (standard_name or None, long_name, units)
NOMVARS: dict[str, tuple[str | None, str, str]] = dict(_fstgis.cf_variables())

# Level kind (librmn number) -> CF vertical coordinate: (dimension name, attributes); and
# the coordinate of fields mixing kinds (the encoded ip1).
VERTICAL: dict[int, tuple[str, dict]]
MIXED_LEVELS: tuple[str, dict]
VERTICAL, MIXED_LEVELS = _fstgis.cf_vertical()


def variable_attrs(nomvar: str) -> dict:
    """``long_name``, ``units`` and (where CF has one) ``standard_name`` of a nomvar; {} for
    a nomvar the table does not know."""
    entry = NOMVARS.get(nomvar.strip().upper())
    if entry is None:
        return {}
    standard_name, long_name, units = entry
    attrs = {"long_name": long_name, "units": units}
    if standard_name:
        attrs["standard_name"] = standard_name
    return attrs


def level_kind(standard_name: str | None = None, dim: str | None = None) -> int | None:
    """The level kind of a vertical coordinate from its CF ``standard_name``, else from its
    dimension's name as the backend names them (``pres``, ``height_agl``, ``pres1``...)."""
    return _fstgis.cf_level_kind(standard_name, dim)


def level_kind_of_units(units: str | None) -> tuple[int, float] | None:
    """``(kind, factor)`` of a level coordinate known only by its ``units`` (``hPa``,
    ``millibars``, ``Pa`` with factor 0.01, ``m``, ``K``; dimensionless: arbitrary), or None."""
    return None if units is None else _fstgis.cf_level_kind_of_units(str(units))
