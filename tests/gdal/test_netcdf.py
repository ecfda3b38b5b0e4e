"""`gdal_translate -of netCDF` of an FST field with several levels and valid times, read back
the way a user does, with xarray (issue 10): one variable named after the nomvar, with time and
level coordinates holding the field's valid times and levels, librmn's values in every slice,
and on the variable only the FST keys true for all of it (not the last band's ip1 or date).
"""
import subprocess

import numpy as np
import pytest

from conftest import Manifest, field_datasets, have_exe, need

pytestmark = pytest.mark.require_driver("FST")


def hypercube(path):
    for name, ds in field_datasets(path):
        if ds.GetMetadataItem("FST_ETIKET") == "HYPERCUBE":
            return name, ds
    raise AssertionError("no HYPERCUBE field")


def test_netcdf_export_reads_back_in_xarray(rotated_fst, tmp_path):
    need(have_exe("gdal_translate"), "gdal_translate missing")
    try:
        import xarray as xr
    except ImportError:
        need(False, "python3-xarray missing")
    name, src = hypercube(rotated_fst)
    assert src.RasterCount == 6
    out = tmp_path / "tt.nc"
    r = subprocess.run(["gdal_translate", "-q", "-of", "netCDF", name, str(out)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]

    man = Manifest(rotated_fst)
    recs = [r for r in man.records if r.etiket == "HYPERCUBE"]
    assert len(recs) == 6
    with xr.open_dataset(out) as ds:
        assert "TT" in ds.data_vars, list(ds.data_vars)
        tt = ds["TT"]
        # Besides TT, only its grid mapping (a rotated pole here).
        mapping = tt.attrs.get("grid_mapping") or tt.encoding.get("grid_mapping")
        assert set(ds.data_vars) - {mapping} == {"TT"}, (list(ds.data_vars), mapping)
        assert ds[mapping].attrs["grid_mapping_name"] == "rotated_latitude_longitude", ds[mapping].attrs
        assert tt.dims[:2] == ("time", "level"), tt.dims
        # Valid times: dateo + 0 h and + 6 h; levels in band order.
        want_times = sorted({np.datetime64(r.raw["datev_iso"].rstrip("Z"), "ns") for r in recs})
        assert list(ds["time"].values) == want_times, ds["time"].values
        levels = [r.raw["ip1_decoded"]["value"] for r in recs[:3]]
        assert np.allclose(sorted(ds["level"].values), sorted(levels)), (ds["level"].values, levels)
        # The level coordinate and the variable carry fst-cf's CF meaning (the same table as
        # the xarray backend's).
        lv = ds["level"].attrs
        assert (lv.get("units"), lv.get("standard_name"), lv.get("positive"), lv.get("axis")) == (
            "hPa", "air_pressure", "down", "Z"), lv
        # Field-wide FST keys on the variable, none of one band's own.
        assert tt.attrs["FST_NOMVAR"] == "TT" and tt.attrs["FST_ETIKET"] == "HYPERCUBE", tt.attrs
        for key in ("FST_IP1", "FST_IP2", "FST_RECORD", "FST_DATEV", "FST_LEVEL", "FST_NPAS"):
            assert key not in tt.attrs, (key, tt.attrs)
        assert tt.attrs["long_name"].startswith("TT"), tt.attrs
        assert (tt.attrs.get("standard_name"), tt.attrs.get("units")) == (
            "air_temperature", "degC"), tt.attrs
        # Values: librmn's, slice by slice; the rows run the way the y coordinate says.
        ydim = tt.dims[2]
        y = ds[ydim].values if ydim in ds.coords else np.arange(tt.shape[2])
        for rec in recs:
            t = np.datetime64(rec.raw["datev_iso"].rstrip("Z"), "ns")
            lvl = rec.raw["ip1_decoded"]["value"]
            got = tt.sel(time=t).sel(level=lvl, method="nearest").values
            want = rec.values()[0]
            if y[0] > y[-1]:
                want = want[::-1]
            assert np.array_equal(got.astype(np.float32), want.astype(np.float32)), (rec.index, lvl, t)


def test_hypercube_keys_survive_fst_to_gtiff_to_fst(rotated_fst, tmp_path):
    """The keys the default metadata domain leaves out for netCDF's sake (ip1, ip2, npas,
    which differ from band to band) make the round trip FST → GeoTIFF → FST: GeoTIFF keeps
    the default domain only, and the writer rebuilds them from the band's NETCDF_DIM_* values
    with the field's dateo, deet and level kind (issue 11)."""
    need(have_exe("gdal_translate"), "gdal_translate missing")
    name, src = hypercube(rotated_fst)
    tif = tmp_path / "tt.tif"
    back = tmp_path / "tt.fst"
    for args in (["gdal_translate", "-q", name, str(tif)],
                 ["gdal_translate", "-q", "-of", "FST", "-co", "DATYP=5", "-co", "NBITS=32", str(tif), str(back)]):
        r = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, (args, r.stderr[-2000:])
    man = Manifest(rotated_fst)
    want = sorted((r.nomvar, r.etiket, r.raw["ip1"], r.raw["ip2"], r.raw["ip3"], r.raw["dateo"], r.raw["deet"],
                   r.raw["npas"]) for r in man.records if r.etiket == "HYPERCUBE")
    assert len({w[4] for w in want}) > 1 or len({w[7] for w in want}) > 1, "the fixture's bands do not differ"
    got = []
    for _, ds in field_datasets(back):
        for b in range(1, ds.RasterCount + 1):
            md = ds.GetRasterBand(b).GetMetadata("FST")
            got.append((md["FST_NOMVAR"], md["FST_ETIKET"], int(md["FST_IP1"]), int(md["FST_IP2"]),
                        int(md["FST_IP3"]), int(md["FST_DATEO_STAMP"]), int(md["FST_DEET"]), int(md["FST_NPAS"])))
    assert sorted(got) == want
