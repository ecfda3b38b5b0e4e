"""Opening from paths, bytes, memoryviews and file objects; iteration, indexing; threads
sharing one File; record tables (pandas, polars) and open_many."""

from __future__ import annotations

import io
import threading

import numpy as np
import pandas as pd
import polars as pl
import pytest

import fstgis
from conftest import RSF, XDF, xdf_manifests


def snapshot(f):
    return [(r.to_dict(), r.read("raw").tobytes()) for r in f]


@pytest.mark.parametrize("path", [XDF / "grids.fst", RSF / "rsf_basic.fst"])
def test_sources_agree(path):
    expected = snapshot(fstgis.open(path))
    data = path.read_bytes()
    for source in (data, bytearray(data), memoryview(data), io.BytesIO(data)):
        got = snapshot(fstgis.open(source))
        # offsets and keys equal; the in-memory file has no path
        assert got == expected
    with open(path, "rb") as fh:
        f = fstgis.open(fh)
        assert f.path == str(path) and snapshot(f) == expected
    with pytest.raises(fstgis.UsageError):
        fstgis.open(io.StringIO("text"))


def test_iteration_indexing_and_records():
    with fstgis.open(XDF / "levels_dates.fst") as f:
        recs = list(f)
        assert len(recs) == len(f) == len(f.records())
        assert f[0] == recs[0] and f[-1] == recs[-1] and f[1:4] == recs[1:4]
        assert len({recs[0], f[0]}) == 1
        assert "levels_dates" in repr(f) and "Record 0" in repr(recs[0])
        tt = recs[0]
        data = tt.data
        assert data.flags["F_CONTIGUOUS"] and data.shape == (tt.ni, tt.nj)


def test_threads_share_one_file():
    path = XDF / "datyps.fst"
    f = fstgis.open(path)
    serial = [r.read("raw").tobytes() for r in f]
    results = {}
    errors = []

    def worker(n):
        try:
            for _ in range(3):
                out = [f[i].read("raw").tobytes() for i in reversed(range(len(f)))]
                results[n] = out[::-1]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 8 and all(r == serial for r in results.values())


@pytest.mark.parametrize("path,manifest", xdf_manifests()[:4])
def test_pandas_and_polars_tables(path, manifest):
    f = fstgis.open(path)
    df = f.to_pandas()
    pdf = f.to_polars()
    assert isinstance(df, pd.DataFrame) and isinstance(pdf, pl.DataFrame)
    assert len(df) == len(pdf) == len(manifest["records"])
    for col in ("nomvar", "ni", "ip1", "ip2", "datev", "dateo", "ig4", "datyp", "nbits"):
        ours = df[col].tolist()
        if col == "datev":
            theirs = [e["xtra1"] for e in manifest["records"]]
        elif col in ("nomvar",):
            theirs = [e[col].strip() for e in manifest["records"]]
        else:
            theirs = [e[col] for e in manifest["records"]]
        assert ours == theirs, col
        assert pdf[col].to_list() == ours, col
    assert str(df["valid_time"].dt.tz) == "UTC"
    assert pdf.schema["valid_time"] == pl.Datetime("us", "UTC")
    for (_, row), rec in zip(df.iterrows(), f):
        if rec.valid_time is not None:
            assert row["valid_time"].to_pydatetime() == rec.valid_time
        lv = rec.level
        if lv is None:
            assert row["level_kind"] == -1 and np.isnan(row["level"])
        else:
            assert (row["level"], row["level_kind"], row["level_unit"]) == tuple(lv)
        assert row["forecast_hour"] == rec.forecast_hour
        assert row["offset"] == rec.offset and row["nbytes"] == rec.nbytes
        assert row["file"] == str(path) and row["grid_id"] == rec.grid_id
    # The Arrow C stream interface (what pyarrow, duckdb, polars take).
    assert hasattr(f, "__arrow_c_stream__")
    assert pl.DataFrame(f).shape == pdf.shape


def test_open_many_glob():
    paths = sorted(XDF.glob("*.fst"))
    total = sum(len(fstgis.open(p)) for p in paths)
    with fstgis.open_many(str(XDF / "*.fst")) as fs:
        assert len(fs) == total
        df = fs.to_pandas()
        assert len(df) == total
        assert sorted(set(df["file"])) == sorted(str(p) for p in paths if len(fstgis.open(p)))
        assert len(fs.search(nomvar="TT")) == (df["nomvar"] == "TT").sum()
        assert len(fs.to_polars()) == total
    mixed = fstgis.open_many([XDF / "grids.fst", str(RSF / "rsf_*.fst")])
    assert len(mixed.files) == 1 + len(list(RSF.glob("rsf_*.fst")))
    with pytest.raises(fstgis.FstIOError):
        fstgis.open_many(str(XDF / "*.nothing"))


def test_open_any_buffer():
    """Bytes held in a numpy array (np.fromfile, a download) open like bytes: an ndarray
    raised TypeError ("expected str, bytes or os.PathLike object")."""
    path = RSF / "rsf_basic.fst"
    with fstgis.open(np.fromfile(path, np.uint8)) as f:
        assert len(f) == 7 and f.path is None
        np.testing.assert_array_equal(f.find(nomvar="TT").data,
                                      fstgis.open(path).find(nomvar="TT").data)


def test_raw_records_read_as_the_elements_written():
    """Datyp 0 stores the caller's buffer verbatim: 8-bit and 64-bit records read as (ni, nj)
    arrays of those elements (rpnpy gives the 64-bit one as this same uint64 array; for 8
    bits it hands back the packed words in a (ni, nj) uint32 buffer, three quarters of it
    unfilled). Before, both came back as a flat array of words."""
    with fstgis.open(XDF / "datyps.fst") as f:
        b8, b32, b64 = (f.find(etiket=e) for e in ("BIN8", "BIN32", "BIN64"))
        byte = b8.data
        assert byte.dtype == np.uint8 and byte.shape == b8.shape
        np.testing.assert_array_equal(byte.ravel(order="F"), np.arange(byte.size) % 251)
        words, wide = b32.data, b64.data
        assert wide.dtype == np.uint64 and wide.shape == b64.shape == words.shape
        np.testing.assert_array_equal(wide.view(np.float64), words.view(np.float32))
