"""Our IODA reader against h5py (HDF5) and pyodc (ODB-2), cell for cell, fill values included.

Run: tests/run.sh ioda (the venv <repo>/.venv-ioda-tests with h5py, netCDF4 and pyodc, and
FSTGIS_REQUIRE_IODA_ORACLES=1: a missing oracle is an error). A bare `pytest tests/ioda`
skips what its Python lacks, with the reason. pyodc runs in this Python, or in the one named
by IODA_PYODC_PYTHON. Our values come from the `ioda_json` example of crates/ioda: the binary
named by FSTGIS_IODA_JSON, or built by the test.
"""

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("FSTGIS_SHARED", ROOT.parent.parent / "shared")) / "fixtures" / "ioda"
if not FIXTURES.is_dir():
    FIXTURES = Path("/work/shared/fixtures/ioda")
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
HDF5_FILES = sorted(list(FIXTURES.glob("*.nc*")) + list(FIXTURES.glob("synthetic/*.nc4")))
ODB_FILES = sorted(FIXTURES.glob("odb/*.odb"))

# The documented missing rule (crates/ioda/src/values.rs), written again here independently.
FLOAT_THRESHOLD = 1.0e30
INT32_SENTINELS = {-2147483643, 2147483647}
INT64_SENTINELS = {-9223372036854775801, 9223372036854775807, -9223372036854775806}
NETCDF_DEFAULT_FILL = {"int16": -32767, "int32": -2147483647, "uint16": 65535, "uint32": 4294967295}

REQUIRED = os.environ.get("FSTGIS_REQUIRE_IODA_ORACLES") == "1"


def need_module(name):
    """The oracle module, or a skip (an error under tests/run.sh)."""
    if importlib.util.find_spec(name) is None:
        why = f"{name} missing: tests/run.sh ioda installs it (tests/ioda/requirements.txt)"
        if REQUIRED:
            pytest.fail(why)
        pytest.skip(why)
    return importlib.import_module(name)


def test_there_are_fixtures_of_each_kind():
    # An empty glob would turn every comparison below into zero tests.
    assert HDF5_FILES and ODB_FILES, FIXTURES


def built(env_name, cargo_args, relative):
    """The binary named by environment variable `env_name`, else built by
    `cargo build <cargo_args>` at TARGET/debug/<relative>."""
    exe = os.environ.get(env_name)
    if exe is None:
        subprocess.run(
            ["cargo", "build", "-q", "-j", "1", *cargo_args],
            cwd=ROOT, check=True, env={**os.environ, "CARGO_TARGET_DIR": str(TARGET)},
        )
        exe = TARGET / "debug" / relative
    return exe


@pytest.fixture(scope="session")
def ours():
    exe = built("FSTGIS_IODA_JSON", ["-p", "ioda", "--example", "ioda_json"], "examples/ioda_json")

    def read(path):
        out = subprocess.run([str(exe), str(path)], check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    return read


def expected_mask(values, attrs):
    fills = [attrs[k] for k in ("_FillValue", "missing_value") if k in attrs]
    kind = values.dtype.kind
    if kind in "SUO":
        strings = [decode(v) for v in values.ravel()]
        text_fills = {decode(np.asarray(f).ravel()[0]) for f in fills}
        return np.array([s == "*** MISSING ***" or s in text_fills for s in strings], dtype=bool)
    # Big-endian storage (`>i8`) compares unequal to np.int64: judge in native order.
    values = values.astype(values.dtype.newbyteorder("="))
    mask = np.zeros(values.size, dtype=bool)
    flat = values.ravel()
    for f in fills:
        # Compared in the storage type.
        mask |= flat == np.asarray(f).astype(values.dtype).ravel()[0]
    if kind == "f":
        mask |= np.isnan(flat) | (np.abs(flat.astype(np.float64)) > FLOAT_THRESHOLD)
    elif values.dtype == np.int32:
        mask |= np.isin(flat, list(INT32_SENTINELS))
    elif values.dtype == np.int64:
        mask |= np.isin(flat, list(INT64_SENTINELS))
    if "_FillValue" not in attrs and values.dtype.name in NETCDF_DEFAULT_FILL:
        mask |= flat == NETCDF_DEFAULT_FILL[values.dtype.name]
    return mask


def decode(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace").rstrip("\0 ")
    return str(v).rstrip("\0 ")


def h5_variables(path):
    import h5py

    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if not isinstance(obj, h5py.Dataset):
                return
            if obj.attrs.get("CLASS") == b"DIMENSION_SCALE" and name not in f:
                return
            # netCDF's dimension-only scales (no data) are not variables.
            if obj.attrs.get("NAME", b"").startswith(b"This is a netCDF dimension but not a netCDF variable"):
                return
            values = obj[()]
            attrs = {k: v for k, v in obj.attrs.items() if k not in ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_Netcdf4Dimid", "_Netcdf4Coordinates")}
            if values.dtype.kind == "S" and values.ndim >= 2 and values.dtype.itemsize == 1:
                # v1 char arrays: the last axis is the string.
                values = np.array([b"".join(row).decode("utf-8", "replace").rstrip("\0 ") for row in values.reshape(-1, values.shape[-1])], dtype=object)
            out[name] = (np.asarray(values), attrs)
        f.visititems(visit)
    return out


@pytest.mark.parametrize("path", HDF5_FILES, ids=lambda p: p.name)
def test_hdf5_cell_for_cell(path, ours):
    need_module("h5py")
    mine = ours(path)
    theirs = h5_variables(path)
    by_storage = {v["stored_as"]: v for v in mine["variables"].values()}
    assert set(by_storage) == set(theirs), (set(by_storage) ^ set(theirs))
    for name, (values, attrs) in theirs.items():
        got = by_storage[name]
        want_mask = expected_mask(values, attrs)
        assert got["missing"] == want_mask.tolist(), name
        flat = values.ravel()
        if flat.dtype.kind in "SUO":
            assert got["values"] == [decode(v) for v in flat], name
        elif flat.dtype.kind == "f":
            for g, w, m in zip(got["values"], flat, want_mask):
                # JSON null stands for NaN/inf; finite values are exact (f32 widened to f64).
                assert (g is None and not np.isfinite(w)) or g == float(w), (name, g, w, m)
        else:
            assert got["values"] == [int(x) for x in flat], name


@pytest.mark.parametrize("path", HDF5_FILES, ids=lambda p: p.name)
def test_netcdf4_mask_is_within_ours(path, ours):
    """netCDF4-python's own masking (fill values, default fills) never masks what we keep."""
    netCDF4 = need_module("netCDF4")
    mine = ours(path)
    by_storage = {v["stored_as"]: v for v in mine["variables"].values()}
    with netCDF4.Dataset(path) as ds:
        def walk(group, prefix):
            for name, var in group.variables.items():
                key = f"{prefix}{name}"
                data = var[...]
                mask = np.ma.getmaskarray(data).ravel() if var.dtype != str else np.zeros(data.size, bool)
                ours_mask = np.array(by_storage[key]["missing"], dtype=bool)
                if var.ndim >= 2 and var.dtype == "S1":
                    continue  # char arrays: netCDF4 masks per character
                assert not (mask & ~ours_mask).any(), key
            for sub_name, sub in group.groups.items():
                walk(sub, f"{prefix}{sub_name}/")
        walk(ds, "")


FLT_MAX = float(np.finfo(np.float32).max)


def pyodc_python():
    """A Python that has pyodc: IODA_PYODC_PYTHON, else this one; a skip (an error under
    tests/run.sh) when neither has it."""
    candidate = os.environ.get("IODA_PYODC_PYTHON")
    if candidate is not None:
        if not Path(candidate).exists():
            pytest.fail(f"IODA_PYODC_PYTHON={candidate} does not exist")
        return candidate
    need_module("pyodc")
    return sys.executable


ODB_DUMP = r"""
import json, math, sys, pyodc
df = pyodc.read_odb(sys.argv[1], single=True)
out = {}
for name in df.columns:
    col = df[name]
    out[name] = [None if (v is None or (isinstance(v, float) and math.isnan(v))) else (v if isinstance(v, str) else float(v)) for v in col.tolist()]
print(json.dumps(out))
"""


@pytest.mark.parametrize("path", ODB_FILES, ids=lambda p: p.name)
def test_odb_cell_for_cell_against_pyodc(path, ours):
    python = pyodc_python()
    theirs = json.loads(subprocess.run([python, "-c", ODB_DUMP, str(path)], check=True, capture_output=True, text=True).stdout)
    mine = ours(path)
    columns = {}
    for view_name, v in mine["variables"].items():
        if view_name.startswith("MetaData/") or "." in view_name.split("/")[-1]:
            continue
        columns[v["stored_as"]] = v
    assert set(columns) == set(theirs), set(columns) ^ set(theirs)
    for name, want in theirs.items():
        got = columns[name]
        for i, (g, m, w) in enumerate(zip(got["values"], got["missing"], want)):
            if got["type"] == "string":
                assert g == (w or ""), (name, i)
            elif w is None or w == -FLT_MAX:
                # odc (C++) writes and reads -FLT_MAX as short_real2's missing marker; pyodc's
                # pure-Python codec expects +FLT_MAX and returns -FLT_MAX as a value (ioda.md §4).
                assert m, (name, i, g)
            else:
                assert not m and float(g) == w, (name, i, g, w)
