"""`fst ioda dump --format parquet` against h5py, cell for cell, nulls for fill values included.

Every per-location variable of every HDF5 fixture is dumped to one Parquet file (and the
observation times as `MetaData/dateTime`), read back with pyarrow, and compared with what
h5py reads from the file: each column's values (bit for bit for floats, in the file's own
type), its nulls against the fill-value rule written independently in
test_ioda_compare.py, and the times against the file's own time form converted here.

Run: tests/run.sh ioda (the venv has pyarrow; FSTGIS_FST_CLI names the `fst` binary, else
the test builds it).
"""

import datetime as dt
import json
import subprocess

import numpy as np
import pytest

from test_ioda_compare import HDF5_FILES, ROOT, built, decode, expected_mask, h5_variables, need_module

# The fixtures, and a generated file with many fill values (bench/make_ioda_obs.py
# --station-pressure: missing values, QC flags, elevations and station pressures of the
# radiosonde levels), so that nulls are checked where there are thousands of them.
WITH_FILLS = ROOT / "tile-server" / "tests" / "data" / "obs_station_pressure.nc4"
FILES = HDF5_FILES + [WITH_FILLS]


@pytest.fixture(scope="session")
def fst():
    exe = built("FSTGIS_FST_CLI", ["-p", "fst-cli", "--bin", "fst"], "fst")

    def run(*args):
        return subprocess.run([str(exe), *map(str, args)], check=True, capture_output=True, text=True).stdout

    return run


def epoch_seconds(text):
    """Seconds since 1970 of an ISO-8601 UTC instant (`2018-04-15T00:00:00Z`)."""
    t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp())


def expected_times(path, theirs):
    """(seconds, missing) of every location from whichever time form the file has."""
    import h5py

    for name in ("MetaData/dateTime", "dateTime@MetaData"):
        if name in theirs:
            values, attrs = theirs[name]
            units = decode(np.asarray(attrs["units"]).ravel()[0])
            assert units.startswith("seconds since "), units
            base = epoch_seconds(units[len("seconds since "):])
            mask = expected_mask(values, attrs)
            return [int(v) + base for v in values.ravel()], mask
    for name in ("MetaData/datetime", "datetime@MetaData"):
        if name in theirs:
            values, attrs = theirs[name]
            mask = expected_mask(values, attrs)
            return [None if m else epoch_seconds(decode(v)) for v, m in zip(values.ravel(), mask)], mask
    for name in ("MetaData/time", "time@MetaData"):
        if name in theirs:
            values, attrs = theirs[name]
            with h5py.File(path, "r") as f:
                ref = str(int(np.asarray(f.attrs["date_time"]).ravel()[0]))
            start = dt.datetime(int(ref[:4]), int(ref[4:6]), int(ref[6:8]), int(ref[8:10]), tzinfo=dt.timezone.utc)
            mask = expected_mask(values, attrs)
            # Hours after date_time, rounded to the second (the documented rule).
            return [int(start.timestamp()) + int(np.round(float(v) * 3600.0)) for v in values.ravel()], mask
    pytest.fail(f"{path.name}: no time variable")


def channel_numbers(theirs, count):
    """The numbers of a file's channels as IODA names them: the `Channel` dimension scale,
    else `MetaData/sensorChannelNumber`, else 1..count."""
    for name in ("Channel", "MetaData/sensorChannelNumber", "sensorChannelNumber@MetaData"):
        if name in theirs:
            values = np.asarray(theirs[name][0]).ravel()
            if values.size == count and np.all(np.isfinite(values)) and np.all(values >= 0):
                return [int(x) for x in values]
    return list(range(1, count + 1))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_parquet_dump_cell_for_cell(path, fst, tmp_path):
    need_module("h5py")
    pq = need_module("pyarrow.parquet")
    pa = need_module("pyarrow")
    info = json.loads(fst("ioda", "info", "--json", path))
    per_location = [v for v in info["variables"] if v["dims"][:1] == ["Location"]]
    assert per_location, path
    names = [v["name"] for v in per_location]
    if "MetaData/dateTime" not in names:
        names.append("MetaData/dateTime")
    out = tmp_path / "dump.parquet"
    fst("ioda", "dump", path, "--vars", ",".join(names), "--format", "parquet", "-o", out)
    table = pq.read_table(out)
    theirs = h5_variables(path)
    rows = info["locations"]
    assert table.num_rows == rows

    by_name = {v["name"]: v for v in per_location}
    checked = set()
    null_cells = 0
    for field in table.schema:
        column = table.column(field.name)
        nulls = np.array(column.is_null().to_pylist(), dtype=bool)
        null_cells += int(nulls.sum())
        if pa.types.is_timestamp(field.type):
            assert field.type.tz == "UTC" and field.type.unit == "us", field.type
            seconds, mask = expected_times(path, theirs)
            assert nulls.tolist() == mask.tolist(), field.name
            got = column.cast(pa.int64()).to_pylist()
            for i, (g, s, m) in enumerate(zip(got, seconds, mask)):
                assert m or g == s * 1_000_000, (field.name, i, g, s)
            checked.add("time")
            continue
        # `name`, or for a Location × Channel variable `name[chN]` (N the channel number),
        # or `name[i]` along another second dimension.
        base, _, rest = field.name.partition("[")
        v = by_name[base]
        values, attrs = theirs[v["stored_as"]]
        width = int(np.prod(values.shape[1:])) if values.ndim > 1 else 1
        if values.dtype.kind in "SUO" and values.ndim == 1:
            width = 1
        label = rest.rstrip("]")
        if label.startswith("ch"):
            channel = channel_numbers(theirs, width).index(int(label[2:]))
        else:
            channel = int(label) if label else 0
        flat = values.reshape(rows, -1)[:, channel] if width > 1 else values.ravel()
        mask = expected_mask(values, attrs).reshape(rows, -1)[:, channel] if width > 1 else expected_mask(values, attrs)
        assert nulls.tolist() == mask.tolist(), field.name
        got = column.to_pylist()
        if flat.dtype.kind in "SUO":
            assert pa.types.is_string(field.type) or pa.types.is_large_string(field.type), field.type
            for i, (g, w, m) in enumerate(zip(got, flat, mask)):
                assert m or g == decode(w), (field.name, i, g, w)
        elif flat.dtype.kind == "f":
            # No widening: the column has the file's float type, and values are bit-identical.
            assert column.type.bit_width == flat.dtype.itemsize * 8, (field.name, column.type, flat.dtype)
            g = column.to_numpy(zero_copy_only=False)
            keep = ~mask
            assert np.array_equal(g[keep].astype(flat.dtype).view(f"u{flat.dtype.itemsize}"),
                                  flat[keep].view(f"u{flat.dtype.itemsize}")), field.name
        else:
            # Integers keep their width and signedness.
            assert column.type.bit_width == flat.dtype.itemsize * 8, (field.name, column.type, flat.dtype)
            assert pa.types.is_signed_integer(column.type) == (flat.dtype.kind == "i"), (field.name, column.type)
            for i, (g, w, m) in enumerate(zip(got, flat, mask)):
                assert m or g == int(w), (field.name, i, g, w)
        checked.add(field.name)
    # Every per-location variable gave its column(s), and the times theirs.
    for v in per_location:
        assert any(c == v["name"] or c.startswith(v["name"] + "[") for c in checked) or (
            v["name"] == "MetaData/dateTime"), v["name"]
    assert "time" in checked
    if path == WITH_FILLS:
        assert null_cells > 1000, null_cells
