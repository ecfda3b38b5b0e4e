"""Every record of every fixture file, XDF and RSF, through fstgis: keys, decoded levels and
dates, and values equal to what librmn decoded, bit for bit."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pytest

import fstgis
from conftest import RSF, rsf_manifests, xdf_manifests

DTYPES = {"f32": "<f4", "f64": "<f8", "u32": "<u4", "i32": "<i4", "u8": "u1",
          "c64": "<c8", "c128": "<c16"}

XDF_CASES = xdf_manifests()
RSF_CASES = rsf_manifests()


def iso(value: dt.datetime | None):
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def same_bits(ours: np.ndarray, expected: np.ndarray) -> bool:
    """Bit-for-bit equality (NaNs and signed zeros included)."""
    ours = np.ascontiguousarray(ours.ravel(order="F"))
    expected = np.ascontiguousarray(expected.ravel(order="F"))
    return ours.dtype == expected.dtype and ours.tobytes() == expected.tobytes()


@pytest.mark.parametrize("path,manifest", XDF_CASES, ids=[p.name for p, _ in XDF_CASES])
def test_xdf_keys_levels_dates(path, manifest):
    with fstgis.open(path) as f:
        assert f.container == "XDF"
        records = manifest["records"]
        assert len(f) == len(records)
        for rec, e in zip(f, records):
            what = f"{path.name}[{e['index']}]"
            assert rec.key == e["index"], what
            for name in ("nomvar", "typvar", "etiket"):
                assert getattr(rec, name) == e[name].rstrip(" "), f"{what}: {name}"
                assert rec[name] == e[name].rstrip(" "), f"{what}: {name}"
            assert rec.grtyp == e["grtyp"], what
            for name in ("ni", "nj", "nk", "deet", "npas", "ip1", "ip2", "ip3", "ig1", "ig2",
                         "ig3", "ig4", "datyp", "nbits", "dateo"):
                assert getattr(rec, name) == e[name], f"{what}: {name}"
            assert rec.datev == e["xtra1"], f"{what}: datev"
            assert rec.offset == (e["swa"] - 1) * 8, f"{what}: swa"
            assert rec.nbytes == e["lng"] * 4, f"{what}: lng"
            assert rec.shape == ((e["ni"], e["nj"], e["nk"]) if e["nk"] > 1 else (e["ni"], e["nj"]))
            # ip1 as convip decodes it (kind -1: not a valid ip, e.g. a grid record's tag).
            d = e["ip1_decoded"]
            if d["kind"] == -1:
                assert rec.level is None, what
            else:
                lv = rec.level
                assert np.float32(lv.value).tobytes() == np.float32(d["value"]).tobytes(), what
                assert (lv.kind, lv.unit) == (d["kind"], d["kind_str"] or ""), what
                assert lv == (d["value"], d["kind"])
            # Dates as ISO text; Python's datetime holds years 1..9999.
            for attr, key in (("valid_time", "datev_iso"), ("origin_time", "dateo_iso")):
                value = getattr(rec, attr)
                assert value is None or value.tzinfo is dt.timezone.utc, what
                if e.get(key) is not None and not e[key].startswith("0000"):
                    assert iso(value) == e[key], f"{what}: {attr}"
            assert rec.forecast_hour == e["deet"] * e["npas"] / 3600


@pytest.mark.parametrize("path,manifest", XDF_CASES, ids=[p.name for p, _ in XDF_CASES])
def test_xdf_values_bit_for_bit(path, manifest):
    blob_path = path.with_name(manifest["blob"])
    blob = blob_path.read_bytes() if blob_path.exists() else None
    checked = 0
    with fstgis.open(path) as f:
        for rec, e in zip(f, manifest["records"]):
            d = e.get("data")
            if not d:
                continue
            what = f"{path.name}[{e['index']}]"
            ours = rec.read("raw")
            # +64 records: "raw" gives the codec's plug values, which librmn returns with its
            # missing-value mode off (with it on, the flags: see the next test).
            d = e.get("data_missing_mode_off", d)
            if rec.datyp & 63 == 3 and d["dtype"] == "u32":
                # Characters: librmn hands back ceil(n/4) words of packed bytes; we give one
                # uint8 per character, shaped like the record (deliberate: usable as text).
                # The bytes must be the same.
                expected = np.frombuffer(blob, "u1", rec.ni * rec.nj * rec.nk, d["offset"])
                assert ours.dtype == np.uint8 and ours.shape == rec.shape, what
                assert same_bits(ours, expected), what
                checked += 1
                continue
            if rec.datyp & 63 == 0 and rec.nbits in (8, 16, 64):
                # Datyp 0 of 8, 16 or 64 bits: librmn hands back the raw words; we give the
                # elements they hold (rpnpy's own shape for 64 bits), whose bytes in memory
                # order are the words' (16 bits widened to uint32).
                assert ours.shape == rec.shape, what
                expected = np.frombuffer(blob, DTYPES[d["dtype"]], d["count"], d["offset"])
                elements = ours.ravel(order="F")
                if rec.nbits == 16:
                    elements = elements.astype("<u2")
                assert elements.tobytes() == expected.tobytes()[:elements.nbytes], what
                checked += 1
                continue
            expected_shape = rec.shape if len(d["shape"]) == 3 else tuple(d["shape"])
            assert ours.shape == expected_shape, what
            assert ours.flags["F_CONTIGUOUS"], what
            raw = np.ascontiguousarray(ours.ravel(order="F")).tobytes()
            if blob is None:
                # shapes.bin (40 MB) is not shipped: its sha256 is just as exact.
                assert hashlib.sha256(raw).hexdigest() == d["sha256"], what
            else:
                expected = np.frombuffer(blob, DTYPES[d["dtype"]], d["count"], d["offset"])
                assert same_bits(ours, expected), what
            checked += 1
    assert checked == sum(1 for e in manifest["records"] if e.get("data"))


def test_missing_values_nan_and_masked():
    path, manifest = next((p, m) for p, m in XDF_CASES if p.name == "datyps.fst")
    blob = path.with_name(manifest["blob"]).read_bytes()
    seen_float = seen_int = 0
    with fstgis.open(path) as f:
        for rec, e in zip(f, manifest["records"]):
            if not rec.datyp & 64 or not e.get("data"):
                continue
            d = e["data"]  # librmn's missing-value mode on: missing points hold the flags
            plug = np.frombuffer(blob, DTYPES[d["dtype"]], d["count"], d["offset"])
            data = rec.data
            masked = rec.read("mask")
            assert np.ma.isMaskedArray(masked)
            mask = np.ma.getmaskarray(masked).ravel(order="F")
            assert mask.any(), f"{rec}: the fixture has missing points"
            if "n_missing" in e:
                assert mask.sum() == e["n_missing"], rec
            if data.dtype.kind == "f":
                seen_float += 1
                assert not np.ma.isMaskedArray(data)
                flat = data.ravel(order="F")
                assert np.array_equal(np.isnan(flat), mask)
                assert np.array_equal(flat[~mask], plug[~mask])
            else:
                seen_int += 1
                assert np.ma.isMaskedArray(data)
                assert np.array_equal(np.ma.getmaskarray(data).ravel(order="F"), mask)
            assert np.array_equal(np.ma.getdata(masked).ravel(order="F")[~mask], plug[~mask])
    assert seen_float > 0 and seen_int > 0


@pytest.mark.parametrize("path,manifest", RSF_CASES, ids=[p.name for p, _ in RSF_CASES])
def test_rsf_fixture_keys_and_values(path, manifest):
    with fstgis.open(path) as f:
        assert f.container == manifest["container"]
        assert len(f) == manifest["num_records"]
        for rec, e in zip(f, manifest["records"]):
            what = f"{path.name}[{e['index']}]"
            for name in ("nomvar", "typvar", "etiket", "grtyp"):
                assert getattr(rec, name) == e[name], f"{what}: {name}"
            for name in ("ni", "nj", "nk", "datev", "dateo", "deet", "npas", "ip1", "ip2", "ip3",
                         "ig1", "ig2", "ig3", "ig4", "datyp", "nbits"):
                assert getattr(rec, name) == e[name], f"{what}: {name}"
            if f.container == "RSF":
                assert rec.offset == e["file_offset"], what
            expected = np.load(RSF / e["data_file"])
            ours = rec.read("raw")
            if e["datyp"] == 0:
                # META: librmn hands back the packed bytes; ours are the same words.
                assert ours.tobytes()[: expected.nbytes] == expected.tobytes(), what
                continue
            assert ours.shape == expected.shape, what
            assert same_bits(ours, expected.astype(ours.dtype) if expected.dtype != ours.dtype
                             and expected.dtype.kind == ours.dtype.kind else expected), what


@pytest.mark.parametrize("path,manifest", XDF_CASES[:4] + RSF_CASES[:2],
                         ids=[p.name for p, _ in XDF_CASES[:4] + RSF_CASES[:2]])
def test_read_into_equals_read(path, manifest):
    """read_into decodes straight into a caller's array (the xarray backend's path)."""
    used = 0
    with fstgis.open(path) as f:
        for rec in f:
            expected = rec.read("raw")
            if expected.ndim < 2:
                continue
            # A C-ordered ([nk,] nj, ni) block has the record's memory layout.
            out = np.full(expected.T.shape, 7, expected.dtype)
            if rec.read_into(out):
                used += 1
                assert out.tobytes() == np.ascontiguousarray(expected.T).tobytes(), rec
            else:
                # Missing values (the mask needs read()), raw words, 64-bit integers.
                assert (out == 7).all()
                assert rec.datyp & 64 or rec.datyp & 63 == 0 or expected.dtype.kind in "iuc"
            # Wrong element type or size: refused, untouched.
            wrong = np.zeros(expected.size + 1, expected.dtype)
            assert not rec.read_into(wrong) and not wrong.any()
    assert used > 0 or not len(fstgis.open(path))
