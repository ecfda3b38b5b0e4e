"""Writing through fstgis.open(path, "w"/"a"): keys and values back as written, in both
containers; copies of librmn's records; missing values; errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import fstgis
from conftest import RSF, XDF

UTC = dt.timezone.utc


@pytest.mark.parametrize("container", ["xdf", "rsf"])
def test_round_trip_keys_and_values(tmp_path, container):
    path = tmp_path / f"out.{container}"
    rng = np.random.default_rng(3)
    tt = rng.normal(260, 15, (12, 8)).astype(np.float32)
    gz = rng.normal(5000, 300, (12, 8, 3))
    mask = np.zeros((12, 8), bool)
    mask[2:4, 5] = True
    hu = np.ma.masked_array(rng.uniform(0, 1, (12, 8)).astype(np.float32), mask)
    origin = dt.datetime(2024, 6, 15, 12, tzinfo=UTC)
    with fstgis.open(path, "w", container=container) as f:
        f.write(tt, nomvar="TT", typvar="P", etiket="PYTEST", dateo=origin, deet=300, npas=36,
                level=(850, "mb"), ip2=3, grtyp="L", ig1=100, ig2=100, ig3=13000, ig4=28000)
        f.write(gz, nomvar="GZ", datyp=5, nbits=64, ip1=fstgis.encode_ip(500, "mb"))
        f.write(hu, nomvar="HU", datyp=1, nbits=16)
        f.write(np.arange(96, dtype=np.int32).reshape(12, 8), nomvar="IDX")
    assert path.exists()
    with fstgis.open(path) as f:
        assert f.container == container.upper() and len(f) == 4
        t = f.find(nomvar="TT")
        assert (t.typvar, t.etiket, t.deet, t.npas, t.ip2, t.grtyp, t.ig3) == (
            "P", "PYTEST", 300, 36, 3, "L", 13000)
        assert t.level == (850, 2) and t.origin_time == origin
        assert t.valid_time == origin + dt.timedelta(hours=3) and t.forecast_hour == 3.0
        assert t.data.dtype == np.float32 and np.array_equal(t.data, tt)
        g = f.find(nomvar="GZ")
        assert g.shape == (12, 8, 3) and g.data.dtype == np.float64
        assert np.array_equal(g.data, gz)
        h = f.find(nomvar="HU")
        assert h.datyp & 64
        back = h.read("mask")
        assert np.array_equal(np.ma.getmaskarray(back), mask)
        assert np.abs(back - hu).max() < 1 / 2**15 * 2
        assert np.isnan(h.data[mask]).all()
        i = f.find(nomvar="IDX")
        assert np.array_equal(i.data, np.arange(96).reshape(12, 8))


@pytest.mark.parametrize("source", [XDF / "grids.fst", RSF / "rsf_basic.fst",
                                    XDF / "datyps.fst", RSF / "rsf_extended_meta.fst"])
def test_copy_librmn_records(tmp_path, source):
    # datyps.fst: every datyp librmn writes, raw words (datyp 0 at 8, 32 and 64 bits) and
    # characters (3, 7) included; rsf_extended_meta.fst: a datyp 0 record with JSON.
    out = tmp_path / "copy.fst"
    with fstgis.open(source) as f, fstgis.open(out, "w") as w:
        for rec in f:
            w.write(rec)
    with fstgis.open(source) as f, fstgis.open(out) as g:
        assert len(g) == len(f)
        for a, b in zip(f, g):
            da, db = a.to_dict(), b.to_dict()
            for k in ("offset", "nbytes", "file_index", "key"):
                da.pop(k), db.pop(k)
            if a.datyp & 63 in (1, 6) or a.datyp & 128:
                # Packed datyps are re-quantised from the decoded values: within a step.
                for k in ("datyp", "nbits", "dasiz"):
                    da.pop(k), db.pop(k)
                x, y = a.read("mask"), b.read("mask")
                span = float(np.ptp(np.ma.compressed(x))) or 1.0
                assert np.abs(np.ma.getdata(x) - np.ma.getdata(y)).max() <= span / 2 ** (a.nbits - 1)
            else:
                da.pop("dasiz"), db.pop("dasiz")
                assert a.read("raw").tobytes() == b.read("raw").tobytes(), a
            assert da == db
        # The copies' grids are the same grids.
        for a, b in zip(f, g):
            if a.grtyp in "LZ" and a.nomvar not in (">>", "^^"):
                try:
                    ga = a.grid
                except fstgis.GridError:  # the fixture's Z grid has no >> / ^^ records
                    continue
                gb = b.grid
                assert [x.tolist() for x in ga.lat_lon()] == [x.tolist() for x in gb.lat_lon()]


def test_append_and_write_errors(tmp_path):
    path = tmp_path / "a.fst"
    with fstgis.open(path, "w") as f:
        f.write(np.zeros((4, 3), np.float32), nomvar="A")
    with fstgis.open(path, "a") as f:
        f.write(np.ones((4, 3), np.float32), nomvar="B")
    assert [r.nomvar for r in fstgis.open(path)] == ["A", "B"]
    with fstgis.open(tmp_path / "bad.fst", "w") as f:
        with pytest.raises(fstgis.InvalidRecordError) as err:
            f.write(np.zeros((4, 3), np.float32), nomvar="TOOLONG")
        assert isinstance(err.value, ValueError) and "nomvar" in str(err.value)
        with pytest.raises(fstgis.UsageError):
            f.write(np.zeros((2, 2, 2, 2)), nomvar="X4")
        with pytest.raises(fstgis.UsageError):
            len(f)
    with pytest.raises(fstgis.UsageError):
        fstgis.open(path).write(np.zeros((2, 2)))
    # A Z record without its >> and ^^: the grid cannot be built, and the error says why.
    z = tmp_path / "z.fst"
    with fstgis.open(z, "w") as f:
        f.write(np.zeros((4, 3), np.float32), nomvar="TT", grtyp="Z", ig1=77, ig2=88)
    with pytest.raises(fstgis.GridError, match=">>"):
        fstgis.open(z)[0].grid


def test_raw_records_are_copied_word_for_word_and_not_repacked(tmp_path):
    meta = fstgis.open(RSF / "rsf_extended_meta.fst").find(nomvar="META")
    assert meta.datyp & 63 == 0
    with fstgis.open(tmp_path / "m.fst", "w", container="rsf") as f:
        f.write(meta, etiket="COPY")
        with pytest.raises(fstgis.UsageError, match="repacked"):
            f.write(meta, nbits=16)
    copy = fstgis.open(tmp_path / "m.fst").find(nomvar="META")
    assert copy.etiket == "COPY" and copy.datyp == meta.datyp and copy.nbits == meta.nbits
    assert copy.read("raw").tobytes() == meta.read("raw").tobytes()


def test_float16_is_written_without_loss(tmp_path):
    """float16 values are widened to float32; the default nbits must keep them all (datyp 5
    at 16 bits is a float32 cut to 16 bits, which loses 3 bits of a half's mantissa)."""
    values = (1 + np.arange(1024) / 1024).astype(np.float16).reshape(32, 32)
    path = tmp_path / "half.fst"
    with fstgis.open(path, "w") as f:
        f.write(values, nomvar="F16")
    with fstgis.open(path) as f:
        rec = f.find(nomvar="F16")
        assert (rec.datyp, rec.nbits) == (5, 32)
        np.testing.assert_array_equal(rec.data, values.astype(np.float32))


def test_int64_arrays_are_written_so_that_librmn_reads_them(tmp_path, oracle):
    """numpy's default int64 (and uint64) was written at 64 bits, which librmn cannot unpack
    (compact_integer: at most 32 bits, in 19.5 and in the newest): values that fit are now
    written at 32 bits; wider ones need an explicit datyp."""
    path = tmp_path / "ints.fst"
    signed = np.arange(-6, 6, dtype=np.int64).reshape(3, 4) * 1000
    unsigned = np.arange(12, dtype=np.uint64).reshape(4, 3) * 100000
    with fstgis.open(path, "w") as w:
        w.write(signed, nomvar="SI")
        w.write(unsigned, nomvar="UI")
        with pytest.raises(fstgis.UsageError, match="beyond 32 bits"):
            w.write(signed * 2**40, nomvar="BIG")
        w.write(signed * 2**40, nomvar="BIG", datyp=5, nbits=64)
    with fstgis.open(path) as f:
        assert [(r.nomvar, r.datyp, r.nbits) for r in f] == [("SI", 4, 32), ("UI", 2, 32),
                                                           ("BIG", 5, 64)]
    got = oracle(
        "f = rmn.fstopenall(data['path'], rmn.FST_RO)\n"
        "out = {}\n"
        "for k in rmn.fstinl(f):\n"
        "    r = rmn.fstluk(k)\n"
        "    out[r['nomvar'].strip()] = r['d'].ravel(order='F').tolist()\n"
        "print(json.dumps(out))\n",
        {"path": str(path)},
    )
    assert got["SI"] == signed.ravel(order="F").tolist()
    assert got["UI"] == unsigned.ravel(order="F").tolist()
    assert got["BIG"] == (signed * 2**40).astype(np.float64).ravel(order="F").tolist()


def test_copied_dates_follow_the_new_origin_and_steps(tmp_path):
    """Copying a record with a new origin kept the old one (the copied datev won and the
    origin was recomputed from it), and with new steps moved the origin instead of the valid
    time; a datev that contradicts the dateo given with it was taken silently."""
    utc = dt.timezone.utc
    t0 = dt.datetime(2024, 1, 1, tzinfo=utc)
    src, out = tmp_path / "src.fst", tmp_path / "out.fst"
    with fstgis.open(src, "w") as w:
        w.write(np.zeros((2, 2), np.float32), nomvar="A", dateo=t0, deet=3600, npas=6)
    with fstgis.open(src) as f, fstgis.open(out, "w") as w:
        rec = f[0]
        w.write(rec, nomvar="STEP", npas=12)
        w.write(rec, nomvar="ORIG", dateo=dt.datetime(2024, 2, 1, tzinfo=utc))
        w.write(rec, nomvar="VALD", datev=dt.datetime(2024, 2, 1, tzinfo=utc))
        with pytest.raises(fstgis.InvalidRecordError, match="datev"):
            w.write(rec, nomvar="BAD", dateo=t0, datev=dt.datetime(2024, 3, 1, tzinfo=utc))
        w.write(rec, nomvar="BOTH", dateo=t0, datev=t0 + dt.timedelta(hours=6))
    h = dt.timedelta(hours=1)
    with fstgis.open(out) as f:
        got = {r.nomvar: (r.origin_time, r.valid_time) for r in f}
    assert got == {
        "STEP": (t0, t0 + 12 * h),
        "ORIG": (dt.datetime(2024, 2, 1, tzinfo=utc), dt.datetime(2024, 2, 1, 6, tzinfo=utc)),
        "VALD": (dt.datetime(2024, 1, 31, 18, tzinfo=utc), dt.datetime(2024, 2, 1, tzinfo=utc)),
        "BOTH": (t0, t0 + 6 * h),
    }


def test_from_xarray_names(tmp_path):
    """Two variable names giving one nomvar wrote records no search could tell apart, and
    variables of fewer than 2 dimensions vanished without a word."""
    import xarray as xr

    lat = xr.Variable("lat", np.linspace(40, 50, 6), {"units": "degrees_north"})
    lon = xr.Variable("lon", np.linspace(-80, -70, 8), {"units": "degrees_east"})
    field = xr.Variable(("lat", "lon"), np.zeros((6, 8), np.float32))
    coords = {"lat": lat, "lon": lon}
    clash = xr.Dataset({"temp": field, "temperature": field}, coords=coords)
    with pytest.raises(fstgis.UsageError, match="'temp' and 'temperature'"):
        fstgis.from_xarray(clash, tmp_path / "clash.fst")
    clash["temperature"].attrs["etiket"] = "OTHER"
    fstgis.from_xarray(clash, tmp_path / "ok.fst")
    with fstgis.open(tmp_path / "ok.fst") as f:
        assert sorted((r.nomvar, r.etiket) for r in f if r.nomvar == "TEMP") == [
            ("TEMP", ""), ("TEMP", "OTHER")]
    # An explicit nomvar is used as given: one too long is refused, not cut.
    named = xr.Dataset({"x": field}, coords=coords)
    named["x"].attrs["nomvar"] = "TOOLONG"
    with pytest.raises(fstgis.InvalidRecordError, match="TOOLONG"):
        fstgis.from_xarray(named, tmp_path / "named.fst")
    series = xr.Dataset({"TT": field, "station": xr.Variable("lat", np.arange(6.0))},
                        coords=coords)
    with pytest.warns(UserWarning, match="station: not written"):
        fstgis.from_xarray(series, tmp_path / "series.fst")
