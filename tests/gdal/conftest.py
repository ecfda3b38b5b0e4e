"""Shared set-up for the GDAL-side end-to-end tests: the FST plugin through the GDAL command
line, the Python bindings, rasterio, QGIS headless and netCDF readers, compared with the
manifests of what librmn decodes.

tests/run.sh builds the plugin, places it in <dir>/3.6/gdal_FST.so and exports
GDAL_DRIVER_PATH and FSTGIS_REQUIRE_DRIVER=1 before pytest starts: a missing driver, client
or oracle is then an error, not a skip.
"""
import json
import os
import pathlib
import subprocess
import shutil

import numpy as np
import pytest
from osgeo import gdal

gdal.UseExceptions()
gdal.AllRegister()

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "crates" / "fst-core" / "tests" / "fixtures"
XDF = FIXTURES / "xdf"
RSF = FIXTURES / "rsf"


def pytest_configure(config):
    config.addinivalue_line("markers", "require_driver(name): skip unless the GDAL driver is registered")


def pytest_runtest_setup(item):
    for mark in item.iter_markers(name="require_driver"):
        name = mark.args[0]
        if gdal.GetDriverByName(name) is None:
            if os.environ.get("FSTGIS_REQUIRE_DRIVER") == "1":
                pytest.fail(f"GDAL driver {name} is not registered (GDAL_DRIVER_PATH={os.environ.get('GDAL_DRIVER_PATH')})")
            pytest.skip(f"GDAL driver {name} not available")


class Record:
    """One manifest record, normalised over the XDF (librmn 19.5) and RSF manifests."""

    def __init__(self, raw, loader):
        self.raw = raw
        self._loader = loader
        for k in ("index", "ni", "nj", "nk", "ip1", "ip2", "ip3", "deet", "npas", "datyp", "nbits",
                  "ig1", "ig2", "ig3", "ig4", "datev"):
            setattr(self, k, raw[k])
        self.nomvar = raw["nomvar"].rstrip(" ")
        self.typvar = raw["typvar"].rstrip(" ")
        self.etiket = raw["etiket"].rstrip(" ")
        self.grtyp = raw["grtyp"]

    @property
    def grid_key(self):
        return f"{self.grtyp}-{self.ni}x{self.nj}-{self.ig1}-{self.ig2}-{self.ig3}-{self.ig4}"

    def values(self):
        """librmn's decoded values (missing-value package active), shape (nk, nj, ni)."""
        return self._loader(self.raw)


class Manifest:
    def __init__(self, fst):
        self.fst = pathlib.Path(fst)
        if self.fst.parent.name == "rsf":
            self.json = json.loads(self.fst.with_suffix(".manifest.json").read_text())
            loader = self._rsf_values
            self.blob = None
        else:
            self.json = json.loads(self.fst.with_suffix(".json").read_text())
            blob = self.fst.with_suffix(".bin")
            self.blob = blob.read_bytes() if blob.exists() else b""
            loader = self._xdf_values
        self.records = [Record(r, loader) for r in self.json.get("records", [])]
        self.grids = self.json.get("grids") or {}

    def _xdf_values(self, r):
        d = r["data"]
        raw = self.blob[d["offset"]:d["offset"] + d["nbytes"]]
        dt = {"f32": "<f4", "f64": "<f8", "u32": "<u4", "i32": "<i4", "u8": "u1", "c64": "<c8", "c128": "<c16"}[d["dtype"]]
        a = np.frombuffer(raw, dtype=dt)
        n = r["ni"] * r["nj"] * r["nk"]
        if a.size != n:
            return None  # datyp 0 (raw words) and 3 (packed characters): not per-point values
        return a.reshape(r["nk"], r["nj"], r["ni"])

    def _rsf_values(self, r):
        f = self.fst.parent / r["data_file"]
        a = np.load(f)
        n = r["ni"] * r["nj"] * r["nk"]
        if a.size != n:
            return None
        return np.asarray(a).reshape(-1, order="F").reshape(r["nk"], r["nj"], r["ni"])

    def blob_array(self, ref):
        raw = self.blob[ref["offset"]:ref["offset"] + ref["nbytes"]]
        return np.frombuffer(raw, dtype="<f4" if ref["dtype"] == "f32" else "<f8").astype(np.float64)


def fixture_files():
    files = sorted(XDF.glob("*.fst")) + sorted(RSF.glob("*.fst"))
    assert len(files) >= 13
    # Extra manifest directories (scripts/oracle-random.sh: records drawn at random and written
    # by the reference librmn), checked like the fixed set.
    extra = os.environ.get("FSTGIS_EXTRA_FIXTURES")
    if extra:
        files += sorted(p for p in pathlib.Path(extra).glob("*.fst") if p.with_suffix(".json").exists())
    return files


def field_datasets(path):
    """(name, dataset) for every field of a file: its subdatasets, or the file itself."""
    ds = gdal.Open(str(path))
    sds = ds.GetMetadata("SUBDATASETS")
    names = [sds[k] for k in sorted(sds, key=lambda k: int(k.split("_")[1])) if k.endswith("_NAME")]
    if not names:
        return [(str(path), ds)]
    return [(n, gdal.Open(n)) for n in names]


def band_array(band):
    return band.ReadAsArray()


def record_order_rows(ds, arr):
    """Band array (line 0 = north) back in record order: rows as stored (row 0 first), and
    the columns of a global longitude grid the driver rewrapped to -180..180 rolled back
    (band column c is record column (c + FST_COLUMNS_ROLLED) % ni)."""
    arr = arr[::-1] if ds.GetMetadataItem("FST_ROWS_REVERSED") == "YES" else arr
    roll = int(ds.GetMetadataItem("FST_COLUMNS_ROLLED") or 0)
    return np.roll(arr, roll, axis=-1) if roll else arr


def band_columns(ds, record_rows):
    """A record's rows (record order, ni columns) cut to the columns its band shows: all but
    the last when the driver dropped a repeated 360°E column (FST_REPEATED_COLUMN_DROPPED)."""
    dropped = ds.GetMetadataItem("FST_REPEATED_COLUMN_DROPPED") == "YES"
    return record_rows[..., :-1] if dropped else record_rows

REQUIRED = os.environ.get("FSTGIS_REQUIRE_DRIVER") == "1"


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
        rec = by_index[int(ds.GetRasterBand(1).GetMetadataItem("FST_RECORD", "FST"))]
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
