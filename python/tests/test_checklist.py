"""Points of issue 12 that no other test file holds on its own: the record data handed over
without a copy, librmn's `@@` mask records kept as variables (also without their field), and CF grid mappings written back to their FST grid types without PROJ (the
wheel's build), identical to the PROJ path where the build has it."""

from __future__ import annotations

import gc
import os
import sys
import warnings

import numpy as np
import pyproj
import pytest
import xarray as xr

import fstgis
from fstgis import _fstgis
from conftest import RSF, XDF


def test_data_is_the_decoders_buffer_in_fortran_order():
    with fstgis.open(RSF / "rsf_basic.fst") as f:
        tt = f.find(nomvar="TT")
        data = tt.data
        assert data.shape == (tt.ni, tt.nj) and data.flags["F_CONTIGUOUS"]
        # numpy does not own the memory: it is the Rust vector the decoder filled.
        assert not data.flags["OWNDATA"] and data.base is not None
        assert np.array_equal(data, tt.read())


def test_mask_records_are_not_dropped(tmp_path):
    path = tmp_path / "masks.fst"
    values = np.arange(20 * 10, dtype=np.float32).reshape(20, 10, order="F")
    mask = (values % 3 != 0).astype(np.uint32)
    geo = dict(grtyp="L", ig1=100, ig2=100, ig3=5000, ig4=1000)
    with fstgis.open(path, "w") as f:
        f.write(values, nomvar="TT", typvar="P@", level=(500, "mb"), **geo)
        # librmn's mask of TT: typvar "@@", integer 0/1, nbits 1.
        f.write(mask, nomvar="TT", typvar="@@", level=(500, "mb"), datyp=2, nbits=1, **geo)
        # A mask whose field is not in the file (fstd2nc drops such records).
        f.write(1 - mask, nomvar="MK", typvar="@@", level=(500, "mb"), datyp=2, nbits=1, **geo)
    ds = fstgis.to_xarray(path)
    got = {(ds[v].attrs["nomvar"], ds[v].attrs["typvar"]): v for v in ds.data_vars}
    assert set(got) == {("TT", "P@"), ("TT", "@@"), ("MK", "@@")}, list(ds.data_vars)
    # Each is a variable of its own, with its values.
    for key, want in ((("TT", "P@"), values), (("TT", "@@"), mask), (("MK", "@@"), 1 - mask)):
        v = ds[got[key]]
        assert v.shape[-2:] == (10, 20), key
        assert np.array_equal(np.asarray(v.values).reshape(10, 20), want.T), key


def _cf_dataset(mapping: dict, x, y, xname, yname, units):
    rng = np.random.default_rng(3)
    v = rng.normal(size=(len(y), len(x))).astype(np.float32)
    return xr.Dataset(
        {"tt": ((yname, xname), v, {"grid_mapping": "crs", "units": "K"})},
        coords={xname: (xname, x, {"units": units}), yname: (yname, y, {"units": units}),
                "crs": ((), np.int32(0), mapping)})


CF_CASES = {
    # GEM-like LAM: pole on the 1/40° lattice of the E encoding.
    "rotated": ({"grid_mapping_name": "rotated_latitude_longitude",
                 "grid_north_pole_latitude": 37.5, "grid_north_pole_longitude": -153.0,
                 "north_pole_grid_longitude": 0.0, "earth_radius": 6371000.0},
                np.arange(-10, 10, 0.25), np.arange(-5, 5, 0.25), "rlon", "rlat", "degrees",
                ("Z", "E")),
    # FST's own north polar stereographic (lat_ts 60, sphere of 6371 km): an N grid.
    "polar_north": ({"grid_mapping_name": "polar_stereographic",
                     "latitude_of_projection_origin": 90.0,
                     "straight_vertical_longitude_from_pole": -100.0,
                     "standard_parallel": 60.0, "false_easting": 0.0, "false_northing": 0.0,
                     "earth_radius": 6371000.0},
                    np.arange(-25, 26) * 50e3, np.arange(20, -21, -1) * 50e3, "x", "y", "m",
                    ("N", None)),
    "polar_south_km": ({"grid_mapping_name": "polar_stereographic",
                        "latitude_of_projection_origin": -90.0,
                        "straight_vertical_longitude_from_pole": 30.0,
                        "standard_parallel": -60.0, "earth_radius": 6371000.0},
                       np.arange(-20, 21) * 100.0, np.arange(-15, 16) * 100.0, "x", "y", "km",
                       ("S", None)),
    # No crs_wkt, only the CF name: L.
    "latlon": ({"grid_mapping_name": "latitude_longitude"},
               np.arange(-80, -60.0, 0.5), np.arange(40, 50.0, 0.5), "lon", "lat",
               "degrees_east", ("L", None)),
}


@pytest.mark.parametrize("case", sorted(CF_CASES))
def test_cf_grid_mappings_become_fst_grids(tmp_path, case):
    mapping, x, y, xname, yname, units, (grtyp, ref) = CF_CASES[case]
    ds = _cf_dataset(mapping, x, y, xname, yname, units)
    out = tmp_path / "cf.fst"
    fstgis.from_xarray(ds, out)
    f = fstgis.open(out)
    rec = f.find(nomvar="TT")
    assert rec.grtyp == grtyp, case
    if ref is not None:
        assert f.find(nomvar=">>").grtyp == ref
    # The points written are the dataset's points (within float32 positional records).
    back = fstgis.to_xarray(out)
    var = back[next(v for v in back.data_vars if back[v].attrs.get("nomvar") == "TT")]
    assert np.allclose(np.sort(var.values.ravel()), np.sort(ds.tt.values.ravel()))
    lat, lon = rec.grid.lat_lon()
    crs = pyproj.CRS.from_cf(mapping)
    scale = 1000.0 if units == "km" else 1.0
    xx, yy = np.meshgrid(x * scale, y * scale)  # (y, x)
    # To latitude/longitude on the same sphere (a rotated CRS is its own geodetic CRS).
    geo = pyproj.CRS.from_proj4(f"+proj=longlat +R={mapping.get('earth_radius', 6371000.0)}")
    lon_src, lat_src = pyproj.Transformer.from_crs(crs, geo, always_xy=True).transform(xx, yy)
    if rec.grtyp in "LNS" and y[0] > y[-1]:
        lat_src, lon_src = lat_src[::-1], lon_src[::-1]  # written south first
    assert _distance(lat.T, lon.T, lat_src, lon_src).max() <= 1e-5


def _distance(lat1, lon1, lat2, lon2):
    """Great-circle distance in degrees (chord of unit vectors; longitude-free at the poles)."""
    def unit(la, lo):
        la, lo = np.radians(la), np.radians(lo)
        return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])

    return np.degrees(2 * np.arcsin(np.linalg.norm(unit(lat1, lon1) - unit(lat2, lon2),
                                                   axis=0) / 2))


@pytest.mark.skipif(not hasattr(_fstgis, "grid_from_axes"), reason="built without PROJ")
@pytest.mark.parametrize("case", sorted(CF_CASES))
def test_cf_path_equals_proj_path(case):
    mapping, x, y, _, _, units, _ = CF_CASES[case]
    scale = 1000.0 if units == "km" else 1.0
    xs, ys = (x * scale).tolist(), (y * scale).tolist()
    a = _fstgis.grid_from_cf(mapping, xs, ys)
    b = _fstgis.grid_from_axes(pyproj.CRS.from_cf(mapping).to_wkt(), xs, ys)
    assert a["grtyp"] == b["grtyp"] and list(a["ig"]) == list(b["ig"]), (a["notes"], b["notes"])
    assert a["flip_rows"] == b["flip_rows"]
    if a["positional"] is not None:
        pa, pb = a["positional"], b["positional"]
        assert pa["grtyp"] == pb["grtyp"] and list(pa["ig"]) == list(pb["ig"])
        assert np.array_equal(pa["x"], pb["x"]) and np.array_equal(pa["y"], pb["y"])


def test_unsupported_mappings_fall_back(tmp_path):
    # Not read by the CF formulas: None, and from_xarray goes through the WKT (pyproj or
    # PROJ) instead; an ellipsoidal polar stereographic is not FST's.
    lcc = {"grid_mapping_name": "lambert_conformal_conic", "standard_parallel": 50.0}
    assert _fstgis.grid_from_cf(lcc, [0.0, 1.0], [0.0, 1.0]) is None
    ell = {"grid_mapping_name": "polar_stereographic", "latitude_of_projection_origin": 90.0,
           "straight_vertical_longitude_from_pole": -45.0, "standard_parallel": 70.0,
           "semi_major_axis": 6378137.0, "inverse_flattening": 298.257223563}
    assert _fstgis.grid_from_cf(ell, [0.0, 1.0], [0.0, 1.0]) is None
    x, y = np.arange(-5, 5) * 25e3, np.arange(5, -5, -1) * 25e3
    ds = _cf_dataset(dict(ell, crs_wkt=pyproj.CRS.from_cf(ell).to_wkt()), x, y, "x", "y", "m")
    out = tmp_path / "ell.fst"
    fstgis.from_xarray(ds, out)
    assert fstgis.open(out).find(nomvar="TT").grtyp == "Y"


def test_opens_and_writes_without_pyproj(tmp_path, monkeypatch):
    # `pip install fstgis` alone has no pyproj: the grid mappings keep their CF parameters
    # and their crs_wkt (built in Rust), and from_xarray reads them back without it.
    monkeypatch.setitem(sys.modules, "pyproj", None)  # `import pyproj` raises ImportError
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = fstgis.to_xarray(XDF / "grids.fst")
    assert not [w for w in caught if "pyproj" in str(w.message)]
    mappings = [ds[v] for v in ds.variables if "grid_mapping_name" in ds[v].attrs]
    assert {m.attrs["grid_mapping_name"] for m in mappings} == {
        "latitude_longitude", "rotated_latitude_longitude", "polar_stereographic"}
    wkts = {m.attrs["grid_mapping_name"]: m.attrs["crs_wkt"] for m in mappings}
    assert wkts["latitude_longitude"].startswith("GEOGCRS[")
    assert "PROJ ob_tran o_proj=longlat" in wkts["rotated_latitude_longitude"]
    assert "Polar Stereographic (variant B)" in wkts["polar_stereographic"]
    out = tmp_path / "nopyproj.fst"
    ds.fst.to_fst(out)
    written = {r.grtyp for r in fstgis.open(out)}
    assert {"E", "N", "S", "L"} <= written, written


def test_an_all_nan_slice_round_trips(tmp_path):
    # A masked-out time step: every value NaN. It is written (a +64 record, all missing)
    # and reads back all NaN, next to a slice with a few NaNs that keeps its values.
    lat, lon = np.arange(40.0, 50.0), np.arange(250.0, 262.0)
    v = np.random.default_rng(5).normal(280, 5, size=(2, lat.size, lon.size)).astype(np.float32)
    v[0] = np.nan
    v[1, 3, 4] = np.nan
    times = np.array(["2026-01-01T00", "2026-01-01T06"], dtype="datetime64[ns]")
    ds = xr.Dataset({"TT": (("time", "lat", "lon"), v, {"units": "K"})},
                    coords={"time": times, "lat": lat, "lon": lon})
    out = tmp_path / "allnan.fst"
    fstgis.from_xarray(ds, out)
    recs = [r for r in fstgis.open(out) if r.nomvar == "TT"]
    assert len(recs) == 2 and all(r.datyp & 64 for r in recs)
    back = xr.open_dataset(out, engine="fst")["TT"].load()
    assert back.shape == v.shape
    assert np.isnan(back.values[0]).all()
    second = back.values[1]
    assert np.isnan(second[3, 4]) and np.isnan(second).sum() == 1
    np.testing.assert_allclose(second[~np.isnan(second)], v[1][~np.isnan(v[1])], atol=0.01)


def _open_handles(paths) -> list[str]:
    """Descriptors and memory maps of this process that point at `paths`."""
    names = {os.path.realpath(p) for p in paths}
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target in names:
            held.append(f"fd {fd}: {target}")
    with open("/proc/self/maps") as maps:
        held += [line.strip() for line in maps if line.split()[-1] in names]
    return held


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_open_mfdataset_closes_cleanly(tmp_path):
    from test_xarray import write_series

    paths, _ = write_series(tmp_path, 3)
    ds = xr.open_mfdataset(paths, engine="fst", combine="by_coords")
    ds.load()
    assert _open_handles(paths)  # the check sees open files
    ds.close()
    gc.collect()
    assert _open_handles(paths) == []
    with fstgis.to_xarray(paths) as again:
        again.load()
    gc.collect()
    assert _open_handles(paths) == []
