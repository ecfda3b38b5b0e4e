"""Errors are Python exceptions carrying path, record and offset; corrupt input of any kind
gives an exception, never a crash."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import fstgis
from conftest import RSF, XDF


def read_everything(f):
    """Decode every record and its grid; return how many decoded."""
    ok = 0
    for rec in f:
        try:
            rec.read("nan")
            ok += 1
        except fstgis.FstError:
            pass
        try:
            rec.grid
        except fstgis.FstError:
            pass
    return ok


def test_missing_file_and_not_fst(tmp_path):
    with pytest.raises(fstgis.FstIOError) as err:
        fstgis.open(tmp_path / "nope.fst")
    assert isinstance(err.value, OSError) and err.value.path == str(tmp_path / "nope.fst")
    # Caught as Python's own open would be caught; the message says it could not be opened
    # (it said "cannot read at byte 0").
    assert isinstance(err.value, FileNotFoundError) and "cannot open" in str(err.value)
    with pytest.raises(FileNotFoundError):
        fstgis.open_many(str(tmp_path / "none-*.fst"))
    text = tmp_path / "text.fst"
    text.write_text("hello, this is not a standard file\n" * 10)
    with pytest.raises(fstgis.NotFstFileError) as err:
        fstgis.open(text)
    assert err.value.path == str(text)
    with pytest.raises(fstgis.NotFstFileError):
        fstgis.open(b"")
    with pytest.raises(fstgis.UsageError):
        fstgis.open(XDF / "datyps.fst", mode="x")


@pytest.mark.parametrize("name", ["xdf/datyps.fst", "xdf/grids.fst", "rsf/rsf_basic.fst",
                                  "rsf/rsf_multi_segment.fst", "rsf/rsf_extended_meta.fst"])
@pytest.mark.filterwarnings("ignore::fstgis.FstWarning")  # damaged on purpose
def test_truncation_sweep(name):
    data = ((XDF.parent) / name).read_bytes()
    outcomes = {"open_error": 0, "opened": 0}
    for cut in sorted(set(np.linspace(0, len(data) - 1, 80).astype(int)) | {1, 8, 64, 1024}):
        try:
            f = fstgis.open(data[:cut])
        except fstgis.FstError as e:
            outcomes["open_error"] += 1
            assert str(e)
            continue
        outcomes["opened"] += 1
        read_everything(f)
    assert outcomes["open_error"] > 0


@pytest.mark.parametrize("name", ["xdf/datyps.fst", "rsf/rsf_basic.fst", "xdf/grids.fst"])
@pytest.mark.filterwarnings("ignore::fstgis.FstWarning")  # damaged on purpose
def test_random_corruption(name):
    rng = np.random.default_rng(99)
    original = np.frombuffer(((XDF.parent) / name).read_bytes(), np.uint8)
    opened = refused = 0
    for _ in range(150):
        data = original.copy()
        spots = rng.integers(0, len(data), int(rng.integers(1, 40)))
        data[spots] = rng.integers(0, 256, len(spots), dtype=np.uint8)
        try:
            f = fstgis.open(data.tobytes())
        except fstgis.FstError:
            refused += 1
            continue
        opened += 1
        refused += len(f) - read_everything(f)
    # Anything but an FstError (or a crash) fails above; both outcomes must have occurred.
    assert opened > 0 and refused > 0


def test_decode_error_carries_context():
    # A payload overwritten with garbage: the codec refuses it, naming record and offset.
    path = XDF / "datyps.fst"
    data = bytearray(path.read_bytes())
    with fstgis.open(path) as f:
        turbo = [r for r in f if r.datyp & 128 and r.nbytes > 400]
        assert turbo
        rec = turbo[0]
        start = rec.offset + 80
        data[start:start + rec.nbytes - 80] = b"\xff" * (rec.nbytes - 80)
    f = fstgis.open(bytes(data))
    with pytest.raises(fstgis.CorruptFileError) as err:
        f[rec.key].read()
    assert err.value.record == rec.key and err.value.offset is not None
    assert err.value.path is None  # in-memory input
    again = pickle.loads(pickle.dumps(err.value))
    assert type(again) is type(err.value) and again.record == rec.key


def test_limits_and_closed_files():
    with fstgis.open(XDF / "datyps.fst", max_values_per_record=100) as f:
        with pytest.raises(fstgis.LimitExceededError) as err:
            f[0].read()
        assert err.value.record == 0
    f = fstgis.open(RSF / "rsf_basic.fst")
    rec = f[2]
    f.close()
    assert f.closed
    with pytest.raises(fstgis.ClosedFileError):
        len(f)
    with pytest.raises(ValueError):
        f.search(nomvar="TT")
    # A record keeps its file readable after close (it holds its own reference).
    assert rec.data.shape == (rec.ni, rec.nj)
    with pytest.raises(IndexError):
        fstgis.open(RSF / "rsf_basic.fst")[7]


def test_grid_errors():
    with fstgis.open(XDF / "grids.fst") as f:
        x = [r for r in f if r.grtyp == "X"]
        if x:
            with pytest.raises(fstgis.GridError):
                x[0].grid


def test_a_truncated_rsf_file_warns(tmp_path):
    """An RSF file cut short by one byte lost its segment's directory: it opened as an empty
    file, with nothing to tell it from one. It now warns (FstWarning, with the byte offset)
    and lists the finding in File.diagnostics; recover=True still lists the records."""
    data = (RSF / "rsf_basic.fst").read_bytes()
    path = tmp_path / "cut.fst"
    path.write_bytes(data[:-1])
    with pytest.warns(fstgis.FstWarning, match=r"byte 140: .*truncated") as caught:
        f = fstgis.open(path)
    assert str(path) in str(caught[0].message)
    assert len(f) == 0
    [(offset, message)] = f.diagnostics
    assert offset == 140 and "open with recovery" in message
    with pytest.warns(fstgis.FstWarning):
        assert len(fstgis.open(data[:-1], recover=True)) == 7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fstgis.open(data).diagnostics == []


def test_out_of_range_keys_are_fst_errors(tmp_path):
    """Negative or too wide integer keys raised the bare OverflowError of the conversion."""
    path = tmp_path / "k.fst"
    with fstgis.open(path, "w") as w:
        assert w.mode == "w"
        for key, value in (("ip2", -5), ("ip1", 2**33), ("deet", -1), ("ig1", -1),
                           ("npas", 2**40)):
            with pytest.raises(fstgis.InvalidRecordError, match=key) as caught:
                w.write(np.zeros((2, 2), np.float32), **{key: value})
            assert caught.value.path == str(path)
        w.write(np.zeros((2, 2), np.float32), nomvar="OK")
    with fstgis.open(path, "a") as a:
        assert a.mode == "a"
    with pytest.raises(fstgis.UsageError):
        fstgis.forecast_hour(-300, 12)
    assert fstgis.forecast_hour(300, 12) == 1.0
