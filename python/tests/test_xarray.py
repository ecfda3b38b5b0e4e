"""The xarray backend (engine="fst"): values equal the records, laziness, CF metadata,
projections checked through PROJ (pyproj), netCDF/Zarr export, rioxarray, pickling and dask
(threads and a two-process LocalCluster over a multi-file set)."""

from __future__ import annotations

import datetime as dt
import io
import pickle

import numpy as np
import pytest
import xarray as xr

import fstgis
from conftest import RSF, XDF, rsf_manifests, xdf_manifests

UTC = dt.timezone.utc
FILES = [p for p, _ in xdf_manifests()] + [p for p, _ in rsf_manifests()]


def records_of(ds, name):
    """The records of variable `name` with their positions: (record, indexer dict)."""
    var = ds[name]
    f = fstgis.open(ds.attrs["fst_path"])
    tdim, ldim = var.dims[0], var.dims[1]
    out, seen = [], set()
    for rec in f.search(nomvar=var.attrs["nomvar"], typvar=var.attrs["typvar"],
                        etiket=var.attrs["etiket"]):
        if (rec.grtyp, rec.ig1, rec.ig2, rec.ig3, rec.ig4) != (
                var.attrs["grtyp"], var.attrs["ig1"], var.attrs["ig2"], var.attrs["ig3"],
                var.attrs["ig4"]) or (rec.nj, rec.ni) != var.shape[-2:]:
            continue
        if rec.valid_time is None:
            continue  # no date (stamp 0) or year 0: NaT in the time coordinate
        t = np.datetime64(rec.valid_time.replace(tzinfo=None), "ns")
        ip1s = (ds[ldim] if ldim.startswith("ip1") else ds[f"{ldim}_ip1"]).values.tolist()
        cell = (t, rec.ip1)
        if cell in seen:
            continue  # a duplicate (time, level): the backend keeps the first, and warns
        seen.add(cell)
        out.append((rec, {tdim: list(ds[tdim].values).index(t), ldim: ip1s.index(rec.ip1)}))
    return out


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
@pytest.mark.filterwarnings("ignore:.*share a time and level")
def test_every_fixture_opens_and_values_equal_records(path):
    with xr.open_dataset(path, engine="fst") as ds:
        if not len(fstgis.open(path)):
            assert not ds.data_vars
            return
        assert ds.data_vars
        for name in ds.data_vars:
            var = ds[name]
            assert var.encoding["preferred_chunks"][var.dims[0]] == 1
            checked = 0
            for rec, where in records_of(ds, name):
                got = var.isel(where).values
                expected = rec.data
                if np.ma.isMaskedArray(expected):
                    expected = np.ma.filled(expected.astype(var.dtype), np.nan)
                assert np.array_equal(got, expected.T, equal_nan=True), (name, rec)
                checked += 1
            undated = all(r.valid_time is None for r in fstgis.open(path))
            assert checked > 0 or undated, name


def test_cf_metadata_rsf_basic():
    ds = xr.open_dataset(RSF / "rsf_basic.fst", engine="fst")
    tt = ds.TT
    assert tt.dims == ("time", "pres", "lat", "lon")
    assert tt.attrs["standard_name"] == "air_temperature" and tt.attrs["units"] == "degC"
    assert tt.attrs["grid_mapping"] == "crs"
    crs = ds["crs"].attrs
    assert crs["grid_mapping_name"] == "latitude_longitude" and crs["crs_wkt"].startswith("GEOGCRS")
    assert ds.pres.attrs == {"standard_name": "air_pressure", "long_name": "pressure level",
                             "units": "hPa", "positive": "down", "axis": "Z"}
    assert ds.pres.values.tolist() == [500.0]
    assert ds.time.attrs["standard_name"] == "time"
    rec = fstgis.open(RSF / "rsf_basic.fst").find(nomvar="TT")
    assert ds.time.values[0] == np.datetime64(rec.valid_time.replace(tzinfo=None), "ns")
    # Two origins in the file: reftime/leadtime along each time dimension.
    assert ds.reftime.attrs["standard_name"] == "forecast_reference_time"
    assert ds.leadtime.values[0] == np.timedelta64(3600, "s")
    assert ds.UU.dims[1] == "hybrid" and ds.hybrid.attrs["positive"] == "down"
    assert ds.MASK.dtype == np.uint32 and ds.height.attrs["standard_name"] == "altitude"


def test_projections_through_pyproj():
    pyproj = pytest.importorskip("pyproj")
    ds = xr.open_dataset(XDF / "grids.fst", engine="fst")
    families = set()
    for name in ds.data_vars:
        var = ds[name]
        gm = var.attrs.get("grid_mapping")
        if gm is None or f"lat{gm[3:]}" not in ds.coords or ds[f"lat{gm[3:]}"].ndim != 2:
            continue
        attrs = ds[gm].attrs
        xdim, ydim = var.dims[-1], var.dims[-2]
        if xdim.startswith("j") or xdim.startswith("i"):
            continue
        families.add(attrs["grid_mapping_name"])
        lat2, lon2 = ds[f"lat{gm[3:]}"].values, ds[f"lon{gm[3:]}"].values
        x, y = np.meshgrid(ds[xdim].values, ds[ydim].values)
        sphere = pyproj.CRS.from_proj4("+proj=longlat +R=6371000 +no_defs")
        for crs in (pyproj.CRS.from_cf(attrs), pyproj.CRS.from_wkt(attrs["crs_wkt"])):
            to_ll = pyproj.Transformer.from_crs(crs, sphere, always_xy=True)
            lon, lat = to_ll.transform(x, y)
            assert np.allclose(lat, lat2, atol=1e-6), (name, attrs["grid_mapping_name"])
            dlon = (lon - lon2 + 180) % 360 - 180
            assert np.abs(dlon * np.cos(np.radians(lat2))).max() < 1e-6, name
    assert {"rotated_latitude_longitude", "polar_stereographic"} <= families


def test_lazy_open_reads_only_the_directory(monkeypatch):
    from fstgis import xarray_backend

    reads = []
    original = xarray_backend.FstBackendArray._record_values

    def counting(self, f, index):
        reads.append(index)
        return original(self, f, index)

    monkeypatch.setattr(xarray_backend.FstBackendArray, "_record_values", counting)
    path = RSF / "xdf_basic.fst"
    f = fstgis.open(path)
    ds = xr.open_dataset(path, engine="fst")
    assert reads == []
    assert ds.GZ.load().shape == (1, 1, 36, 48)
    assert reads == [f.find(nomvar="GZ").key]
    ds.TT[0, 0, :5, 2:4].load()
    assert reads[-1] == f.find(nomvar="TT").key and len(reads) == 2
    assert np.array_equal(ds.TT[0, 0, :5, 2:4].values, f.find(nomvar="TT").data.T[:5, 2:4])
    # In-memory input works too (bytes and file objects).
    for source in (bytes(path.read_bytes()), io.BytesIO(path.read_bytes())):
        mem = xr.open_dataset(source, engine="fst")
        assert np.array_equal(mem.TT.values[0, 0], f.find(nomvar="TT").data.T)


def test_export_netcdf_zarr_and_rioxarray(tmp_path):
    ds = xr.open_dataset(XDF / "grids.fst", engine="fst")
    nc = tmp_path / "grids.nc"
    ds.to_netcdf(nc)
    back = xr.open_dataset(nc)
    for name in ds.data_vars:
        assert np.array_equal(back[name].values, ds[name].values, equal_nan=True), name
        assert back[name].attrs.get("grid_mapping") == ds[name].attrs.get("grid_mapping")
    ds.to_zarr(tmp_path / "grids.zarr")
    z = xr.open_zarr(tmp_path / "grids.zarr")
    assert np.array_equal(z.P0.values, ds.P0.values)
    rio = pytest.importorskip("rioxarray")
    assert rio is not None
    n = [v for v in ds.data_vars if ds[v].attrs.get("etiket") == "GRID_N"][0]
    crs = ds[n].rio.crs
    assert crs is not None and "Polar_Stereographic" in crs.to_wkt() or "stere" in crs.to_proj4()


def write_series(tmp_path, n_files=3):
    rng = np.random.default_rng(5)
    origin = dt.datetime(2024, 6, 15, 0, tzinfo=UTC)
    paths, values = [], []
    for i in range(n_files):
        p = tmp_path / f"run_{i:03d}.fst"
        with fstgis.open(p, "w") as f:
            for level in (1000, 850):
                v = rng.normal(10, 5, (16, 12)).astype(np.float32)
                f.write(v, nomvar="TT", dateo=origin, deet=3600, npas=6 * i, ip2=6 * i,
                        level=(level, "mb"), grtyp="L", ig1=100, ig2=100, ig3=13000, ig4=28000)
                values.append(((i, level), v))
        paths.append(p)
    return paths, dict(values)


def test_open_mfdataset_dask_and_pickle(tmp_path):
    paths, values = write_series(tmp_path)
    ds = xr.open_mfdataset(paths, engine="fst", combine="by_coords")
    assert ds.TT.dims == ("time", "pres", "lat", "lon") and ds.TT.shape == (3, 2, 12, 16)
    assert ds.TT.data.chunksize == (1, 1, 12, 16)
    assert ds.leadtime.values.astype("timedelta64[h]").astype(int).tolist() == [0, 6, 12]
    pres = ds.pres.values.tolist()
    for (i, level), v in values.items():
        assert np.array_equal(ds.TT.values[i, pres.index(level)], v.T)
    # Lazy arrays pickle by path.
    arr = xr.open_dataset(paths[0], engine="fst").TT.variable._data
    again = pickle.loads(pickle.dumps(arr))
    assert np.array_equal(np.asarray(again), np.asarray(arr))
    ds.close()


def test_distributed_two_processes(tmp_path):
    distributed = pytest.importorskip("distributed")
    paths, values = write_series(tmp_path, 4)
    expected = float(np.mean([v.astype(np.float64).mean() for v in values.values()]))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        ds = xr.open_mfdataset(paths, engine="fst", combine="by_coords")
        got = float(ds.TT.astype(np.float64).mean().compute())
        ds.close()
    assert abs(got - expected) < 1e-9


def test_forecast_axis(tmp_path):
    origin = dt.datetime(2024, 6, 15, 0, tzinfo=UTC)
    path = tmp_path / "runs.fst"
    with fstgis.open(path, "w") as f:
        for run in (0, 12):
            for lead in (0, 6, 12):
                v = np.full((4, 3), run * 100 + lead, np.float32)
                f.write(v, nomvar="PN", dateo=origin + dt.timedelta(hours=run), deet=3600,
                        npas=lead, ip2=lead, grtyp="L", ig1=100, ig2=100, ig3=13000, ig4=28000)
    ds = fstgis.to_xarray(path, forecast_axis=True)
    assert ds.PN.dims[:2] == ("reftime", "leadtime") and ds.PN.shape[:2] == (2, 3)
    assert ds.PN.values[1, 2, 0, 0, 0] == 1212
    assert ds.time.values[1, 2] == np.datetime64("2024-06-16T00:00", "ns")
    # Without the forecast axis, valid time 12 UTC (run 0 + 12 h, run 12 + 0 h) collides.
    with pytest.warns(UserWarning, match="share a time and level"):
        flat = fstgis.to_xarray(path)
    assert flat.PN.sizes["time"] == 5
