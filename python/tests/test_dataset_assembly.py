"""How the backend puts records into cells and assembles the Dataset (``fstgis._axes``,
``fstgis._assemble``): the order of the records in the file does not matter, the first of
two records for one cell wins, origins and leads land where they belong, and the direct
assembly gives what ``xr.Dataset(...)`` gives."""

from __future__ import annotations

import datetime as dt
import random
import warnings

import numpy as np
import pytest
import xarray as xr

import fstgis
from fstgis import _assemble, xarray_backend
from conftest import rsf_manifests, xdf_manifests

UTC = dt.timezone.utc
FILES = [p for p, _ in xdf_manifests()] + [p for p, _ in rsf_manifests()]
ORIGIN = dt.datetime(2024, 6, 15, 0, tzinfo=UTC)
GRID = dict(grtyp="L", ig1=100, ig2=100, ig3=13000, ig4=28000)
LEVELS = [1000.0, 850.0, 500.0, 250.0]


def value(run, lead, level, var):
    """What the record of (run, lead, level, variable) holds: every key recoverable."""
    return run * 1e6 + lead * 1e4 + level + var * 0.25


def write_shuffled(path, *, runs=(0,), duplicate=False, seed=1):
    """TT and HU on four pressure levels at leads 0, 3, 6, 9 h of each run, written in a
    random order; with ``duplicate``, TT at (run 0, lead 3, 500 hPa) a second time, later
    in the file, with other values."""
    cells = [(run, lead, level, var) for run in runs for lead in (0, 3, 6, 9)
             for level in LEVELS for var in (0, 1)]
    random.Random(seed).shuffle(cells)
    if duplicate:
        cells.append((0, 3, 500.0, 0))
    with fstgis.open(path, "w") as f:
        for k, (run, lead, level, var) in enumerate(cells):
            v = value(run, lead, level, var) + (0.5 if duplicate and k == len(cells) - 1 else 0)
            f.write(np.full((4, 3), v, np.float64), nomvar=("TT", "HU")[var],
                    dateo=ORIGIN + dt.timedelta(hours=run), deet=1800, npas=2 * lead,
                    ip2=lead, ip1=fstgis.encode_ip(level, 2), datyp=5, nbits=64, **GRID)


def test_cells_do_not_depend_on_the_file_order(tmp_path):
    for seed in (1, 2):
        path = tmp_path / f"shuffled{seed}.fst"
        write_shuffled(path, seed=seed)
        ds = fstgis.to_xarray(path)
        assert ds.TT.dims[:2] == ("time", "pres") and ds.TT.shape[:2] == (4, 4)
        assert ds.pres.values.tolist() == sorted(LEVELS)
        leads = (ds.time.values - ds.reftime.values) // np.timedelta64(1, "h")
        assert leads.tolist() == [0, 3, 6, 9]
        for var, name in enumerate(("TT", "HU")):
            got = ds[name].values[:, :, 0, 0]
            want = [[value(0, lead, level, var) for level in ds.pres.values]
                    for lead in leads]
            np.testing.assert_array_equal(got, want)
        # Both variables share one time and one level dimension.
        assert set(ds.dims) == {"time", "pres", "lat", "lon"}


def test_the_first_of_two_records_for_a_cell_wins(tmp_path):
    path = tmp_path / "dup.fst"
    write_shuffled(path, duplicate=True)
    with pytest.warns(UserWarning, match="TT: 1 records share a time and level"):
        ds = fstgis.to_xarray(path)
    cell = ds.TT.sel(pres=500.0).isel(time=1).values
    assert (cell == value(0, 3, 500.0, 0)).all()  # not the later record's + 0.5


def test_several_runs_on_a_forecast_axis_and_on_valid_times(tmp_path):
    path = tmp_path / "runs.fst"
    write_shuffled(path, runs=(0, 6))
    ds = fstgis.to_xarray(path, forecast_axis=True)
    assert ds.TT.dims[:3] == ("reftime", "leadtime", "pres")
    got = ds.TT.values[:, :, :, 0, 0]
    want = [[[value(run, lead, level, 0) for level in ds.pres.values] for lead in (0, 3, 6, 9)]
            for run in (0, 6)]
    np.testing.assert_array_equal(got, want)
    # On valid times, run 6 + 0 h and run 0 + 6 h meet: the first in the file wins.
    with pytest.warns(UserWarning, match="share a time and level"):
        flat = fstgis.to_xarray(path)
    assert flat.sizes["time"] == 6  # 0, 3, 6, 9, 12, 15 h after the first origin
    # Valid times reached from two origins: no single origin per time to put beside them.
    assert "reftime" not in flat.coords and "leadtime" not in flat.coords


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
@pytest.mark.parametrize("forecast_axis", [False, True])
def test_direct_assembly_equals_xarrays_constructor(path, forecast_axis, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = xr.open_dataset(path, engine="fst", forecast_axis=forecast_axis)
        monkeypatch.setattr(xarray_backend, "assemble",
                            lambda v, c, a: xr.Dataset(v, coords=c, attrs=a))
        public = xr.open_dataset(path, engine="fst", forecast_axis=forecast_axis)
    xr.testing.assert_identical(direct, public)
    assert list(direct.variables) == list(public.variables)
    assert list(direct.dims) == list(public.dims)
    assert list(direct.xindexes) == list(public.xindexes)
    for name, index in direct.xindexes.items():
        other = public.xindexes[name]
        assert type(index) is type(other) and index.equals(other), name
        assert index.index.dtype == other.index.dtype and index.index.name == other.index.name
        assert index.coord_dtype == other.coord_dtype, name
    for name, var in direct.variables.items():
        assert type(var) is type(public.variables[name]), name
        assert var.encoding == public.variables[name].encoding, name


def test_assembly_leaves_what_it_cannot_vouch_for_to_xarray():
    a = xr.Variable(("x",), np.arange(3.0))
    b = xr.Variable(("x",), np.arange(4.0))
    # Two sizes for one dimension: xarray's own error, not a broken Dataset.
    with pytest.raises(ValueError, match="conflicting sizes"):
        _assemble.assemble({"a": a}, {"b": b}, {})
    # A name both a variable and a coordinate: xarray's constructor decides.
    with pytest.raises(ValueError):
        _assemble.assemble({"a": a}, {"a": a}, {})
    ds = _assemble.assemble({"a": a}, {"x": xr.Variable(("x",), [10, 20, 30])}, {"k": 1})
    xr.testing.assert_identical(
        ds, xr.Dataset({"a": a}, coords={"x": [10, 20, 30]}, attrs={"k": 1}))
