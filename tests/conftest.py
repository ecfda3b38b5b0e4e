"""Shared set-up for the end-to-end tests that drive real clients (GDAL command line, QGIS,
netCDF readers) through the FST GDAL plugin.

tests/run.sh builds the plugin and exports GDAL_DRIVER_PATH and FSTGIS_REQUIRE_DRIVER=1
(a missing driver or oracle is then an error, not a skip). The manifest reader and the
subdataset helpers are gdal-driver/tests/conftest.py's, loaded under another module name.
"""
import importlib.util
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
REQUIRED = os.environ.get("FSTGIS_REQUIRE_DRIVER") == "1"


def _load_driver_conftest():
    spec = importlib.util.spec_from_file_location("fstgis_driver_conftest", REPO / "gdal-driver" / "tests" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_driver = _load_driver_conftest()
gdal = _driver.gdal
Manifest = _driver.Manifest
XDF = _driver.XDF
field_datasets = _driver.field_datasets
record_order_rows = _driver.record_order_rows


def pytest_configure(config):
    _driver.pytest_configure(config)


def pytest_runtest_setup(item):
    _driver.pytest_runtest_setup(item)


def need(ok, why):
    """Skip (or fail under tests/run.sh) when a client or the oracle is missing."""
    if not ok:
        if REQUIRED:
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="session")
def rotated_fst(tmp_path_factory):
    """rotated.fst written by the reference librmn (tests/gdal/make_rotated.py), with manifest.
    FSTGIS_ROTATED_FIXTURE=DIR reuses a directory that already holds them."""
    given = os.environ.get("FSTGIS_ROTATED_FIXTURE")
    if given:
        path = pathlib.Path(given) / "rotated.fst"
        need(path.exists(), f"{path} missing")
        return path
    out = tmp_path_factory.mktemp("rotated")
    env_sh = REPO / "bench" / "oracle-env.sh"
    r = subprocess.run([str(env_sh)], capture_output=True, text=True)
    need(r.returncode == 0, f"the librmn oracle is not available: {r.stderr[-500:]}")
    py = r.stdout.strip().splitlines()[-1]
    r = subprocess.run([py, str(REPO / "tests" / "gdal" / "make_rotated.py"), str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    return out / "rotated.fst"


class GridCase:
    """One field on a rotated grid: its GDAL name and librmn's view of it (lat, lon, values in
    record order, for the rows this subdataset shows)."""

    def __init__(self, name, ds, man, rec, rows):
        g = man.grids[rec.raw["grid"]]
        ni, nj = g["ni"], g["nj"]
        self.name = name
        self.grtyp = g["grtyp"]
        lat = man.blob_array(g["lat"]).reshape(nj, ni)
        lon = man.blob_array(g["lon"]).reshape(nj, ni)
        vals = rec.values()[0].astype(np.float64)
        self.lat, self.lon, self.values = lat[rows], lon[rows], vals[rows]
        self.ni, self.nj = ni, self.lat.shape[0]

    def __repr__(self):
        return self.name


def rotated_cases(path):
    """Every field of `path` on a rotated grid (E, Z or # on E, the two halves of U)."""
    man = Manifest(path)
    by_index = {r.index: r for r in man.records}
    out = []
    for name, ds in field_datasets(path):
        grtyp = ds.GetMetadataItem("FST_GRTYP")
        if not (grtyp in ("E", "U") or (grtyp in ("Z", "#") and ds.GetMetadataItem("FST_GRREF") == "E")):
            continue
        rec = by_index[int(ds.GetRasterBand(1).GetMetadataItem("FST_RECORD"))]
        if rec.raw.get("grid") not in man.grids or rec.values() is None:
            continue
        rows = slice(None)
        if grtyp == "U":
            h = rec.nj // 2
            rows = slice(h, None) if name.endswith(":YANG") else slice(0, h)
        out.append(GridCase(name, ds, man, rec, rows))
    return out


def rotated_case(path, etiket, part=None):
    """The rotated field of `path` with this etiket (and U half: "YIN" or "YANG")."""
    for c in rotated_cases(path):
        if f":{etiket}:" in c.name and (part is None or c.name.endswith(":" + part)):
            return c
    raise AssertionError(f"no rotated field {etiket} {part or ''} in {path}")


def have_exe(name):
    return shutil.which(name) is not None
