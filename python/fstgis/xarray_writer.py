"""xarray → FST: ``fstgis.from_xarray(ds, path)`` and ``ds.fst.to_fst(path)``.

The inverse of the backend's mapping (``fstgis.xarray_backend``):

* each data variable of 2 or more dimensions becomes records named by its ``nomvar``
  attribute (else the variable name, upper case, at most 4 characters: two names giving the
  same nomvar, typvar and etiket are refused), with its ``typvar``/``etiket`` attributes;
  strings become character records (``fstgis._text``): a scalar, or rows along another
  dimension, one record; along time, level and member dimensions, a record per cell;
  the others (numeric scalars and 1-D series) are named in a warning and not written;
* the level dimension gives ip1: its ``<dim>_ip1`` coordinate when the dataset came from
  fstgis, else the value encoded with the kind its ``standard_name`` names (``air_pressure``
  in hPa, or Pa converted to hPa, sigma, hybrid, altitude, height, theta, depth); no level
  dimension gives ip1 = 0, one without a coordinate arbitrary levels 1..n;
* the time: ``reftime`` (forecast_reference_time) as the origin date and the lead time as
  deet·npas (deet: the time step the records were read with, ``encoding["fst_deet"]``, when
  it divides the lead, else 3600 s when the lead is in whole hours, else 60 s or 1 s; ip2 =
  the lead in hours when whole); without a reference time the valid time is the origin date;
  ip3 is the one all the variable's records were read with (``encoding["fst_ip3"]``), else 0;
* the grid: the grid-mapping variable's CF parameters (``latitude_longitude``,
  ``rotated_latitude_longitude``, spherical ``polar_stereographic``: converted by their own
  formulas, no PROJ needed) or else its ``crs_wkt``, with the 1-D axes; or 1-D ``lat``/``lon``;
  or 2-D ``lat``/``lon``: these go through grids' ``from_crs`` (the simplest FST grid type that
  reproduces every point to 1e-6°: L/A/B/G or Z on L, Z on E, N/S or Z on N/S, else Y), and
  the ``>>``/``^^`` records of Z and Y grids are written once per grid; a U (Yin-Yang) grid
  read by the backend (its ``fst_yin_yang`` attribute) is written back as U with its ``^>``
  record while its shape and latitudes/longitudes are unchanged; a variable without
  horizontal coordinates is on an X grid;
* a ``<dim>_vgrid`` coordinate (the backend's copy of a ``!!`` or ``HY`` record) is written
  back as that record, so eta, hybrid and height-based levels keep their descriptor;
* ensemble members (a ``realization`` dimension): one set of records per member, with the
  member's etiket (the ``<dim>_etiket`` coordinate, else the etiket label and the number);
* values: one record per 2-D (or 3-D with a ``k`` dimension) slice; NaN is written as
  missing (datyp +64). ``datyp``/``nbits`` default to lossless IEEE (5, 32 or 64 bits) for
  floats, integers at their width (64-bit ones at 32 bits when they fit: librmn reads no
  wider integers) and, for raw records the backend read (``encoding["fst_datyp"]`` 0), the
  raw words as stored; they may be given for all variables or per variable
  (``datyp={"TT": 1}, nbits={"TT": 16}``).
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

import fstgis
from . import _fstgis
from ._cf import level_kind, level_kind_of_units
from ._text import is_text_variable, write_text


def _metres(axis) -> np.ndarray:
    """A projection axis in metres (CF allows any length unit; km is the usual other)."""
    v = np.asarray(axis, float)
    return v * 1000.0 if axis.attrs.get("units") in ("km", "kilometre", "kilometer") else v


def _per_var(option, name, default):
    if isinstance(option, dict):
        return option.get(name, default)
    return default if option is None else option


def _is_time(coord) -> bool:
    return np.issubdtype(coord.dtype, np.datetime64)


class _GridWriter:
    """The FST grid of each horizontal layout, its positional records written once."""

    def __init__(self, out):
        self.out = out
        self.done: dict = {}

    def grid_of(self, ds, var):
        ydim, xdim = var.dims[-2], var.dims[-1]
        gm = var.attrs.get("grid_mapping")
        key = (gm, ydim, xdim)
        if key in self.done:
            return self.done[key]
        ny, nx = var.sizes[ydim], var.sizes[xdim]
        grid = None
        # Not ds.coords.get: xarray answers a dimension without coordinate with 0..n-1.
        x = ds.coords[xdim] if xdim in ds.coords else None
        y = ds.coords[ydim] if ydim in ds.coords else None
        grid = self._yin_yang(ds, var, nx, ny)
        if grid is None:
            grid = self._same_as_read(var, x, y, nx, ny)
        if grid is None and x is not None and y is not None and x.ndim == 1 and y.ndim == 1:
            xs, ys = _metres(x), _metres(y)
            attrs = dict(ds[gm].attrs) if gm is not None and gm in ds.variables else {}
            if not attrs.get("grid_mapping_name") and (
                    x.attrs.get("standard_name", xdim) in ("longitude", "lon")):
                attrs = {"grid_mapping_name": "latitude_longitude"}
            # The CF parameters first, by their own formulas (no PROJ: the same grid in every
            # build); a mapping they do not cover goes through its WKT.
            if attrs.get("grid_mapping_name"):
                grid = _fstgis.grid_from_cf(attrs, xs.tolist(), ys.tolist())
            crs = attrs.get("crs_wkt") or attrs.get("spatial_ref")
            if grid is None and crs is not None:
                grid = _grid_from_axes(crs, xs, ys)
        if grid is None:
            lat = self._two_d(ds, var, "latitude")
            lon = self._two_d(ds, var, "longitude")
            if lat is not None and lon is not None:
                # (y, x) C order is (ni, nj) Fortran order: i fastest.
                grid = _fstgis.grid_from_lat_lon(nx, ny, np.ravel(lat).tolist(),
                                                 np.ravel(lon).tolist())
        if grid is None:
            grid = {"grtyp": "X", "ig": [0, 0, 0, 0], "flip_rows": False, "positional": None}
        if "yin_yang" in grid:
            ig = grid["ig"]
            self.out.write(grid["yin_yang"].reshape((-1, 1), order="F"), nomvar="^>",
                           typvar="X", ip1=ig[0], ip2=ig[1], ip3=ig[2], grtyp="F", ig1=1,
                           ig2=0, ig3=0, ig4=0, etiket=var.attrs.get("etiket", ""), datyp=5,
                           nbits=32)
        p = grid["positional"]
        if p is not None:
            common = dict(ip1=p["ip"][0], ip2=p["ip"][1], ip3=p["ip"][2], grtyp=p["grtyp"],
                          ig1=p["ig"][0], ig2=p["ig"][1], ig3=p["ig"][2], ig4=p["ig"][3],
                          etiket=var.attrs.get("etiket", ""), datyp=5, nbits=32)
            self.out.write(np.asarray(p["x"]).reshape(p["x_shape"], order="F"), nomvar=">>",
                           typvar="X", **common)
            self.out.write(np.asarray(p["y"]).reshape(p["y_shape"], order="F"), nomvar="^^",
                           typvar="X", **common)
        self.done[key] = grid
        return grid

    @classmethod
    def _yin_yang(cls, ds, var, nx, ny):
        """The U grid a variable was read on: its ``fst_yin_yang`` attribute (the ``^>``
        record's values, see the backend) while the variable's shape and 2-D latitude and
        longitude are still that grid's. Else None (a subset, a regridded field: then the
        points go through from_crs, which gives Y)."""
        a = var.attrs
        values = a.get("fst_yin_yang")
        if a.get("grtyp") != "U" or values is None:
            return None
        lat = cls._two_d(ds, var, "latitude")
        lon = cls._two_d(ds, var, "longitude")
        if lat is None or lon is None:
            return None
        try:
            ig = [int(a[k]) for k in ("ig1", "ig2", "ig3", "ig4")]
            v = np.asarray(values, np.float32).ravel()
            grid = fstgis.Grid.from_descriptor(
                "U", nx, ny, ig, positional=("F", [1, 0, 0, 0], v.astype(float).tolist(), []))
            want_lat, want_lon = grid.lat_lon()  # (ni, nj): the transposes of (y, x)
        except (KeyError, ValueError, TypeError, fstgis.FstError):
            return None
        if not (np.allclose(want_lat.T, lat, rtol=0, atol=1e-6)
                and np.allclose((want_lon.T - lon + 180) % 360 - 180, 0, rtol=0, atol=1e-6)):
            return None
        return {"grtyp": "U", "ig": ig, "flip_rows": False, "positional": None, "yin_yang": v}

    @staticmethod
    def _same_as_read(var, x, y, nx, ny):
        """The grid the variable was read on (its grtyp/ig1-4 attributes), when that grid
        needs no positional records and its axes are still the variable's: a round trip
        keeps the original grid (from_crs cannot always give it back: an E grid's rotation
        is encoded through two points, not the pole)."""
        a = var.attrs
        if a.get("grtyp") not in tuple("ABEGLNS") or x is None or y is None:
            return None
        if x.ndim != 1 or y.ndim != 1:
            return None
        try:
            ig = [int(a[k]) for k in ("ig1", "ig2", "ig3", "ig4")]
            grid = fstgis.Grid.from_descriptor(a["grtyp"], nx, ny, ig)
        except (KeyError, ValueError, fstgis.FstError):
            return None
        c = grid.coordinates()
        if "x" not in c or not (np.allclose(c["x"], x.values, rtol=0, atol=1e-9)
                                and np.allclose(c["y"], y.values, rtol=0, atol=1e-9)):
            return None
        return {"grtyp": a["grtyp"], "ig": ig, "flip_rows": False, "positional": None}

    @staticmethod
    def _two_d(ds, var, standard_name):
        for c in var.coords.values():
            if c.ndim == 2 and c.dims == var.dims[-2:] and (
                    c.attrs.get("standard_name") == standard_name
                    or c.name in (standard_name[:3], standard_name)):
                return np.asarray(c.values, float)
        return None


def _grid_from_axes(crs: str, x: np.ndarray, y: np.ndarray) -> dict:
    """The FST grid of 1-D axes in ``crs`` (WKT or PROJ), for grid mappings that
    ``grid_from_cf`` does not read. A build without PROJ (the wheel; see python/README.md)
    has no ``grid_from_axes``: the points go to latitude/longitude through pyproj and
    ``grid_from_lat_lon`` matches them (A, B, G, L or Z on L for geographic axes; Y, with the
    same points, for any other projection)."""
    if hasattr(_fstgis, "grid_from_axes"):
        return _fstgis.grid_from_axes(crs, x.tolist(), y.tolist())
    import pyproj

    lon, lat = np.meshgrid(x, y)  # (y, x): i fastest once raveled
    src = pyproj.CRS.from_user_input(crs)
    if not src.is_geographic:
        to_ll = pyproj.Transformer.from_crs(src, src.geodetic_crs, always_xy=True)
        lon, lat = to_ll.transform(lon, lat)
    return _fstgis.grid_from_lat_lon(len(x), len(y), np.ravel(lat).tolist(),
                                     np.ravel(lon).tolist())


def _level_ip1s(ds, var, dim) -> list[int]:
    if dim is None:
        return [0]
    if f"{dim}_ip1" in ds.coords:
        return [int(v) for v in ds[f"{dim}_ip1"].values]
    coord = ds.coords[dim] if dim in ds.coords else None
    if dim.startswith("ip1") and coord is not None:
        return [int(v) for v in coord.values]
    if coord is None:
        # No values to encode: ip1 0 for one level, else arbitrary levels 1..n, so that the
        # records stay apart (ip1 0 for all of them made records no search tells apart).
        n = var.sizes[dim]
        return [0] if n == 1 else [fstgis.encode_ip(float(k + 1), 3) for k in range(n)]
    values = np.asarray(coord.values, float)
    kind = level_kind(coord.attrs.get("standard_name"))
    by_units = level_kind_of_units(coord.attrs.get("units"))
    if kind is None and by_units is not None and by_units[0] != 3:
        # No standard_name: units that name a kind (ERA5's `level` in millibars) come before
        # the dimension's name (`level` is what the backend calls arbitrary levels).
        kind, factor = by_units
        values = values * factor
    else:
        if kind is None:
            kind = level_kind(None, dim)
        if kind is None:
            kind = 3  # arbitrary
        if kind == 2 and coord.attrs.get("units") == "Pa":
            values = values / 100.0
    return [fstgis.encode_ip(v, kind) for v in values]


def _time_keys(ds, var, time_dims):
    """For each index along the time dimensions: (dateo, deet, npas, ip2). The lead time is
    counted in the time step the records were read with (``encoding["fst_deet"]``, a
    model's 300 s say) when it divides it, else in hours, minutes or seconds."""
    step = int(var.encoding.get("fst_deet") or 0)

    def keys(valid, origin):
        if np.isnat(valid):
            return (0, 0, 0, 0)  # no date (stamp 0, or a date datetime64 cannot hold)
        if origin is None or np.isnat(origin):
            origin = valid
        lead = int((valid - origin) / np.timedelta64(1, "s"))
        if lead < 0:
            raise fstgis.UsageError(f"{var.name}: valid time before its reference time")
        if step > 0 and lead % step == 0:
            deet = step
        else:
            deet = 3600 if lead % 3600 == 0 else 60 if lead % 60 == 0 else 1
        npas = lead // deet if lead else 0
        ip2 = lead // 3600 if lead % 3600 == 0 else 0
        return (fstgis.datetime_to_cmc(origin) if not np.isnat(origin) else 0,
                deet if lead or step else 0, npas, ip2)

    if not time_dims:
        return {(): (0, 0, 0, 0)}
    out = {}
    if len(time_dims) == 2:  # (reftime, leadtime)
        r, l = (ds[d].values for d in time_dims)
        for a, origin in enumerate(r):
            for b, lead in enumerate(l):
                out[(a, b)] = keys(origin + lead, origin)
        return out
    tdim = time_dims[0]
    valid = ds[tdim].values
    ref = None
    for name in (f"reftime{tdim[4:]}", "reftime"):
        if name in ds.coords and ds[name].dims in ((), (tdim,)):
            ref = np.broadcast_to(ds[name].values, valid.shape)
            break
    for a, v in enumerate(valid):
        out[(a,)] = keys(v, None if ref is None else ref[a])
    return out


def from_xarray(ds: xr.Dataset, path, *, container: str = "xdf", datyp=None, nbits=None,
                rewrite: str = "add") -> str:
    """Write ``ds`` to the standard file ``path`` (see the module docs for the mapping).
    Returns the path."""
    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name=ds.name or "VAR")
    with fstgis.open(path, "w" if rewrite == "add" else "a", container=container,
                     rewrite=rewrite) as out:
        grids = _GridWriter(out)
        written = {}
        for name, var in ds.data_vars.items():
            if name in ("crs",) or var.attrs.get("grid_mapping_name"):
                continue
            if is_text_variable(var):
                _check_unique_name(written, name, var)
                _write_text_variable(out, ds, name, var)
                continue
            if var.ndim < 2 or var.dtype.kind not in "fiuc":
                why = (f"{var.ndim} dimension(s), a field needs 2 (y, x) or more"
                       if var.ndim < 2 else f"{var.dtype} values are no numbers")
                warnings.warn(f"{name}: not written ({why})", stacklevel=2)
                continue
            _check_unique_name(written, name, var)
            _write_variable(out, grids, ds, name, var, datyp, nbits)
        for coord in ds.coords.values():
            if coord.attrs.get("fst_nomvar") in ("!!", "HY") and coord.ndim == 2:
                _write_vgrid_table(out, coord)
    return str(path)


def _record_name(name, var) -> tuple[str, bool]:
    """The nomvar of a variable's records: its ``nomvar`` attribute as is, else its name, upper
    case, cut to 4 characters (the second item: derived)."""
    if "nomvar" in var.attrs:
        return str(var.attrs["nomvar"]), False
    return str(name)[:4].upper(), True


def _check_unique_name(written: dict, name, var) -> None:
    """Two variables whose names derive the same nomvar (``temp``, ``temperature``), with the
    same typvar and etiket, would write records no search can tell apart."""
    nomvar, derived = _record_name(name, var)
    key = (nomvar, str(var.attrs.get("typvar", "P")), str(var.attrs.get("etiket", "")))
    other = written.setdefault(key, (name, derived))
    if other[0] != name and (derived or other[1]):
        raise fstgis.UsageError(
            f"variables {other[0]!r} and {name!r} would both be written as nomvar {nomvar!r} "
            f"(typvar {key[1]!r}, etiket {key[2]!r}): give one a nomvar or etiket attribute")


def _write_vgrid_table(out, coord):
    """A `!!` (or `HY`) record the backend kept as ``<dim>_vgrid`` (its values and keys), as
    read."""
    keys = {k[4:]: v for k, v in coord.attrs.items() if k.startswith("fst_")}
    datyp, nbits = int(keys.pop("datyp")), int(keys.pop("nbits"))
    for k in list(keys):
        if isinstance(keys[k], (np.integer,)):
            keys[k] = int(keys[k])
    out.write(np.asfortranarray(coord.values), datyp=datyp, nbits=nbits, **keys)


def _member_dim(ds, lead):
    """The ensemble dimension among leading dimensions ``lead`` (a coordinate with
    ``standard_name=realization``), or None."""
    for d in lead:
        if d in ds.coords and ds[d].attrs.get("standard_name") == "realization":
            return d
    return None


def _member_etikets(ds, var, dim) -> list[str]:
    """Each member's etiket: the ``<dim>_etiket`` coordinate the backend gives, else the
    variable's etiket label followed by the member number (``GEPS_001``)."""
    if f"{dim}_etiket" in ds.coords:
        return [str(e) for e in ds[f"{dim}_etiket"].values]
    label = str(var.attrs.get("etiket", "ENS"))
    return [f"{label}_{int(n):03d}"[-12:] for n in ds[dim].values]


# What marks a dimension as the x or y axis of a grid: its coordinate's standard_name or
# axis attribute, else its name.
_X_AXES = ("longitude", "grid_longitude", "projection_x_coordinate")
_Y_AXES = ("latitude", "grid_latitude", "projection_y_coordinate")
_X_NAMES = ("lon", "longitude", "rlon", "x")
_Y_NAMES = ("lat", "latitude", "rlat", "y")


def _axis(ds, dim) -> str | None:
    """``"X"`` or ``"Y"`` when ``dim`` is a horizontal axis (its 1-D coordinate's
    ``standard_name`` or ``axis``, else its name), else None."""
    c = ds.coords[dim] if dim in ds.coords else None
    a = c.attrs if c is not None and c.ndim == 1 else {}
    if a.get("standard_name") in _X_AXES or a.get("axis") == "X":
        return "X"
    if a.get("standard_name") in _Y_AXES or a.get("axis") == "Y":
        return "Y"
    if a.get("standard_name") or a.get("axis"):
        return None
    return "X" if dim in _X_NAMES else "Y" if dim in _Y_NAMES else None


def _horizontal_last(ds, var):
    """``var`` with its horizontal dimensions last, as ``(y, x)``: a dataset ordered
    ``(time, lon, lat)`` or ``(lat, lon, time)`` is as much a grid as ``(time, lat, lon)``.
    The horizontal dimensions are those of the 2-D latitude/longitude coordinate, else the
    one x and the one y axis; anything else is left as it is."""
    horizontal = None
    for c in var.coords.values():
        if c.ndim == 2 and set(c.dims) <= set(var.dims) and (
                c.attrs.get("standard_name") in ("latitude", "longitude")
                or c.name in ("lat", "lon", "latitude", "longitude")):
            horizontal = tuple(c.dims)
            break
    if horizontal is None:
        xs = [d for d in var.dims if _axis(ds, d) == "X"]
        ys = [d for d in var.dims if _axis(ds, d) == "Y"]
        if len(xs) != 1 or len(ys) != 1:
            return var
        horizontal = (ys[0], xs[0])
    if tuple(var.dims[-2:]) == horizontal:
        return var
    return var.transpose(*[d for d in var.dims if d not in horizontal], *horizontal)


def _cells(ds, name, var, lead):
    """The records of ``var`` along its leading dimensions ``lead`` (no member dimension):
    the order of those dimensions for them (time, level, k) and, for each record, its index
    in that order and its dateo, deet, npas, ip1 and ip2."""
    time_dims = [d for d in lead if d in ds.coords and (_is_time(ds[d]) or (
        d.startswith("leadtime") and np.issubdtype(ds[d].dtype, np.timedelta64)))]
    kdims = [d for d in lead if d.startswith("k") and d not in ds.coords]
    rest = [d for d in lead if d not in time_dims and d not in kdims]
    if len(rest) > 1 or len(kdims) > 1:
        raise fstgis.UsageError(
            f"{name}: dimensions {rest + kdims} cannot be mapped to one level and k")
    level_dim = rest[0] if rest else None
    ip1s = _level_ip1s(ds, var, level_dim)
    cells = []
    for tidx, (dateo, deet, npas, ip2) in _time_keys(ds, var, time_dims).items():
        for li, ip1 in enumerate(ip1s):
            cells.append((tidx + ((li,) if level_dim else ()),
                          dict(dateo=dateo, deet=deet, npas=npas, ip1=ip1, ip2=ip2)))
    return time_dims + ([level_dim] if level_dim else []) + kdims, cells


def _by_member(ds, var, lead, write) -> bool:
    """Calls ``write(member)`` for each ensemble member of ``var`` (its etiket set) when one
    of its leading dimensions ``lead`` is a member dimension; whether there was one."""
    member_dim = _member_dim(ds, lead)
    if member_dim is None:
        return False
    for pos, etiket in enumerate(_member_etikets(ds, var, member_dim)):
        member = var.isel({member_dim: pos})
        member.attrs = dict(var.attrs, etiket=etiket)
        write(member)
    return True


def _write_variable(out, grids, ds, name, var, datyp, nbits):
    var = _horizontal_last(ds, var)
    if _by_member(ds, var, var.dims[:-2],
                  lambda m: _write_variable(out, grids, ds, name, m, datyp, nbits)):
        return
    horizontal = list(var.dims[-2:])
    order, cells = _cells(ds, name, var, var.dims[:-2])
    grid = grids.grid_of(ds, var)
    ig = grid["ig"]
    nomvar, _ = _record_name(name, var)
    keys = dict(nomvar=nomvar, typvar=str(var.attrs.get("typvar", "P")),
                etiket=str(var.attrs.get("etiket", "")), grtyp=grid["grtyp"], ig1=ig[0],
                ig2=ig[1], ig3=ig[2], ig4=ig[3], ip3=int(var.encoding.get("fst_ip3", 0)))
    var_datyp, var_nbits = _per_var(datyp, name, None), _per_var(nbits, name, None)
    if var_datyp is None and var.encoding.get("fst_datyp", -1) & 63 == 0:
        # Raw records (datyp 0) read back: their bits mean something only as they were
        # stored, so they are written back so.
        var_datyp = 0
        var_nbits = var.encoding.get("fst_nbits") if var_nbits is None else var_nbits
    values = var.transpose(*order, *horizontal)
    for index, cell_keys in cells:
        block = np.asarray(values[index].values)  # ([nk,] ny, nx)
        if grid["flip_rows"]:
            block = block[..., ::-1, :]
        # (.., ny, nx) → (nx, ny[, nk]) in Fortran order: transposes, no copy.
        data = block.T
        out.write(data, datyp=var_datyp, nbits=var_nbits, **cell_keys, **keys)


def _is_field_axis(ds, dim) -> bool:
    """Whether ``dim`` is a time, level or member axis along which a field has records: a
    time coordinate, a level coordinate (``<dim>_ip1``, or a level kind by standard name or
    dimension name) or a ``realization``."""
    if dim not in ds.coords:
        return False
    c = ds[dim]
    return (_is_time(c) or np.issubdtype(c.dtype, np.timedelta64) or f"{dim}_ip1" in ds.coords
            or level_kind(c.attrs.get("standard_name"), dim) is not None
            or c.attrs.get("standard_name") == "realization")


def _write_text_variable(out, ds, name, var):
    """A string variable as character records: one (a scalar, or rows along its one
    dimension), else one per cell of its time, level and member dimensions, rows along a
    last dimension that is none of these."""
    nomvar, _ = _record_name(name, var)
    rows = [d for d in var.dims[-1:] if not _is_field_axis(ds, d)]
    lead = [d for d in var.dims if d not in rows]
    if not lead:
        write_text(out, var, nomvar)
        return
    other = [d for d in lead if not _is_field_axis(ds, d)]
    if other:
        # (Records told apart by nothing: no key says where along such a dimension.)
        warnings.warn(f"{name}: not written (strings along {other}, which are no time, level "
                      "or member axis)", stacklevel=3)
        return
    if _by_member(ds, var, lead, lambda m: _write_text_variable(out, ds, name, m)):
        return
    order, cells = _cells(ds, name, var, lead)
    values = var.transpose(*order, *rows)
    for index, cell_keys in cells:
        write_text(out, values[index].variable, nomvar, cell_keys)


@xr.register_dataset_accessor("fst")
class FstAccessor:
    """``ds.fst.to_fst(path, ...)``: :func:`from_xarray`; ``ds.fst.levels(name)``: the
    pressure or height of a variable's points."""

    def __init__(self, ds):
        self._ds = ds

    def to_fst(self, path, **kwargs):
        return from_xarray(self._ds, path, **kwargs)

    def levels(self, name: str):
        """The pressure (Pa) or height (m) of every point of variable ``name`` (rpnpy's
        ``vgd_levels``): see :func:`fstgis._vertical.levels`."""
        from ._vertical import levels

        return levels(self._ds, name)
