"""The xarray backend (engine="fst"): values equal the records, laziness, CF metadata,
projections checked through PROJ (pyproj), netCDF/Zarr export, rioxarray, pickling and dask
(threads and a two-process LocalCluster over a multi-file set)."""

from __future__ import annotations

import datetime as dt
import io
import pickle
import warnings

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
    if not (ldim.startswith("ip1") or f"{ldim}_ip1" in ds.coords):
        ldim = None  # ip1 = 0 everywhere: no level dimension
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
        cell = (t, rec.ip1)
        if cell in seen:
            continue  # a duplicate (time, level): the backend keeps the first, and warns
        seen.add(cell)
        where = {tdim: list(ds[tdim].values).index(t)}
        if ldim is None:
            if rec.ip1 != 0:
                continue  # a level kind split off into a variable of its own
        else:
            ip1s = (ds[ldim] if ldim.startswith("ip1") else ds[f"{ldim}_ip1"]).values.tolist()
            if rec.ip1 not in ip1s:
                continue  # a level kind split off into a variable of its own
            where[ldim] = ip1s.index(rec.ip1)
        out.append((rec, where))
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
            if var.dtype.kind == "O":
                assert_text_equals_record(path, var)
                continue
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


def assert_text_equals_record(path, var):
    """A string variable against its character record: one string per row of ni bytes."""
    (rec,) = fstgis.open(path).search(nomvar=var.attrs["nomvar"], typvar=var.attrs["typvar"],
                                      etiket=var.attrs["etiket"])
    assert rec.datyp & 63 in (3, 7)
    chars = np.asarray(rec.data, np.uint8).reshape((rec.ni, rec.nj), order="F")
    rows = [chars[:, k].tobytes().rstrip(b" \0") for k in range(rec.nj)]
    got = [var.values.item()] if var.ndim == 0 else list(var.values)
    codec = var.encoding["fst_text_codec"]
    assert [g.encode(codec) for g in got] == rows, var.name


def test_character_records_are_string_variables_and_written_back_byte_for_byte(tmp_path):
    # They were skipped with a warning (fstd2nc decodes only META/INFO and fails on the
    # others, e.g. a 10 x 5 list of station names).
    src = XDF / "datyps.fst"
    ds = xr.open_dataset(src, engine="fst")
    stns = ds["STNS"]
    assert stns.dims == ("STNS_row",)
    assert list(stns.values) == ["CYUL", "CYYZ", "CYVR", "Montreal", "Toronto"]
    text = [n for n in ds.data_vars if ds[n].dtype.kind == "O"]
    assert len(text) == 6, text
    out = fstgis.from_xarray(ds, tmp_path / "text.fst")
    chars = {(r.nomvar, r.typvar, r.etiket): r for r in fstgis.open(src) if r.datyp & 63 in (3, 7)}
    back = {(r.nomvar, r.typvar, r.etiket): r for r in fstgis.open(out) if r.datyp & 63 in (3, 7)}
    assert back.keys() == chars.keys()
    for key, r in chars.items():
        b = back[key]
        # Latin-1 text (bytes 0x80 and 0xff) comes back as those bytes, not as UTF-8.
        assert bytes(b.data.ravel(order="F")) == bytes(r.data.ravel(order="F")), key
        assert (b.datyp & 63, b.ni, b.nj, b.dateo, b.ip1, b.grtyp) == \
            (r.datyp & 63, r.ni, r.nj, r.dateo, r.ip1, r.grtyp), key
    # A string variable made in xarray: datyp 7, rows as wide as the longest string in UTF-8.
    made = xr.Dataset({"NAME": (("n",), np.array(["a", "été", "bb"], dtype=object))})
    out = fstgis.from_xarray(made, tmp_path / "made.fst")
    (r,) = list(fstgis.open(out))
    assert (r.nomvar, r.datyp & 63, r.ni, r.nj, r.grtyp) == ("NAME", 7, 5, 3, "X")  # "été": 5 bytes
    assert list(xr.open_dataset(out, engine="fst")["NAME"].values) == ["a", "été", "bb"]


def write_text_series(path, texts, level=None):
    """Character records of one field along the lead time (and levels): ``texts[(hour,
    level)]`` is a list of rows."""
    origin = dt.datetime(2024, 6, 15, 0, tzinfo=UTC)
    with fstgis.open(path, "w") as f:
        for (hour, lev), rows in texts.items():
            raw = [r.encode("latin-1") for r in rows]
            # (Rows as wide in every record: a different ni is a different grid, a field apart.)
            chars = np.full((24, len(raw)), ord(" "), np.uint8, order="F")
            for k, r in enumerate(raw):
                chars[: len(r), k] = np.frombuffer(r, np.uint8)
            f.write(chars, datyp=7, nbits=8, nomvar="LOG", etiket="RUNLOG", dateo=origin,
                    deet=3600, npas=hour, ip2=hour, level=(lev, "mb"), grtyp="X")


@pytest.mark.parametrize("rows", [1, 3])
def test_a_character_field_of_several_records_is_a_string_variable_along_its_axes(tmp_path, rows):
    """Text along time and level (a run log per lead time, a station list per level): one
    string (or rows) per cell, an empty string where no record is; written back one record
    per cell with its dates and level. It was skipped with a warning."""
    texts = {(h, lev): [f"h{h:02d} {lev}hPa row{k}" + ("é" if h == 6 else "") for k in range(rows)]
             for h in (0, 6, 12) for lev in (1000, 850) if (h, lev) != (12, 850)}
    src = tmp_path / "log.fst"
    write_text_series(src, texts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "variable skipped"
        ds = xr.open_dataset(src, engine="fst")
    var = ds["LOG"]
    tdim, ldim = var.dims[:2]
    assert var.dims == (tdim, ldim) + (("LOG_row",) if rows > 1 else ())
    assert ds[tdim].size == 3 and ds[ldim].size == 2
    leads = (ds[tdim].values - ds["reftime"].values) // np.timedelta64(1, "h")
    levels = list(ds[ldim].values)
    for t, h in enumerate(leads):
        for li, lev in enumerate(levels):
            got = var.values[t, li]
            want = texts.get((int(h), int(lev)))
            if want is None:
                assert (got == "").all() if rows > 1 else got == ""
            else:
                assert (list(got) if rows > 1 else [got]) == want, (h, lev)
    assert var.encoding["fst_text_codec"] == "latin-1"
    out = fstgis.from_xarray(ds, tmp_path / "back.fst")
    keys = ("nomvar", "typvar", "etiket", "dateo", "deet", "npas", "ip1", "ip2", "ip3", "datyp",
            "ni", "nj", "grtyp")
    def records(path):
        # (deet means nothing at npas 0: the writer gives it 0 there, as for values.)
        return sorted((tuple(0 if k == "deet" and r.npas == 0 else getattr(r, k) for k in keys),
                       bytes(r.data.ravel(order="F"))) for r in fstgis.open(path))
    assert records(out) == records(src)
    # Strings along a dimension no key can say (stations × names): not written, said.
    odd = xr.Dataset({"NAMES": (("station", "n"), np.array([["a", "b"], ["c", "d"]], dtype=object))})
    with pytest.warns(UserWarning, match="NAMES: not written"):
        fstgis.from_xarray(odd, tmp_path / "odd.fst")
    assert not len(fstgis.open(tmp_path / "odd.fst"))


def test_a_level_dimension_without_coordinate_gives_records_apart(tmp_path):
    """A leading dimension with no coordinate (bands of a raster, say) wrote every record at
    ip1 0: records no search tells apart, read back as one. They are arbitrary levels 1..n."""
    values = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    ds = xr.Dataset({"BAND": (("band", "y", "x"), values)})
    out = fstgis.from_xarray(ds, tmp_path / "bands.fst")
    recs = list(fstgis.open(out))
    assert len({r.ip1 for r in recs}) == 3
    back = xr.open_dataset(out, engine="fst")["BAND"]
    np.testing.assert_array_equal(back.values.reshape(3, 4, 5), values)


def test_an_undecodable_character_record_does_not_stop_the_open():
    """Text is read at open (unlike values): a record that fails to decode is left out with
    a warning, not an exception for the whole dataset."""
    from fstgis import _text

    class Broken:
        ni, nj, datyp, nbits = 12, 1, 7, 8

        @property
        def data(self):
            raise fstgis.DecodeError("corrupt payload")

    with pytest.warns(UserWarning, match="TXT: character record not read"):
        assert _text.text_variable(Broken(), "TXT", {}) is None


def test_engine_guess(tmp_path):
    from fstgis.xarray_backend import FstBackendEntrypoint

    guess = FstBackendEntrypoint().guess_can_open
    assert guess(RSF / "rsf_basic.fst") and guess(XDF / "grids.fst") and guess(str(XDF / "empty.fst"))
    text = tmp_path / "x.nc"
    text.write_text("not fst")
    assert not guess(text) and not guess(tmp_path / "missing.fst")
    assert "fst" in xr.backends.list_engines()
    ds = xr.open_dataset(RSF / "rsf_basic.fst")  # no engine: found by guess_can_open
    assert "TT" in ds


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
    # Every record the backend reads, it takes from its File by index.
    reads = []
    original = fstgis.File.__getitem__

    def counting(self, index):
        reads.append(index)
        return original(self, index)

    monkeypatch.setattr(fstgis.File, "__getitem__", counting)
    path = RSF / "xdf_basic.fst"
    f = fstgis.open(path)
    ds = xr.open_dataset(path, engine="fst")
    assert reads == []
    records = {r.nomvar: r for r in f.records()}
    assert ds.GZ.load().shape == (1, 1, 36, 48)
    assert reads == [records["GZ"].key]
    ds.TT[0, 0, :5, 2:4].load()
    assert reads[-1] == records["TT"].key and len(reads) == 2
    assert np.array_equal(ds.TT[0, 0, :5, 2:4].values, records["TT"].data.T[:5, 2:4])
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
    pytest.importorskip("rioxarray")
    f = fstgis.open(XDF / "grids.fst")
    for etiket, proj in (("GRID_N", "+proj=stere"), ("GRID_E", "+proj=ob_tran"),
                         ("GRID_L", "+proj=longlat")):
        name = next(v for v in ds.data_vars if ds[v].attrs.get("etiket") == etiket)
        crs = ds[name].rio.crs
        assert crs is not None and crs.to_proj4().startswith(proj), (etiket, crs)
        x0, dx, y0, dy = f.find(etiket=etiket).grid.geotransform
        a, b, c, d, e, g = ds[name].rio.transform()[:6]
        assert np.allclose((a, b, c, d, e, g), (dx, 0, x0 - dx / 2, 0, dy, y0 - dy / 2))


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
    # So do the lazy 2-D latitudes of a rotated grid.
    z = xr.open_dataset(XDF / "grids.fst", engine="fst")
    lat = z[z.TT_GRID_Z.dims[-1].replace("rlon", "lat")].variable._data
    f = fstgis.open(XDF / "grids.fst")
    expected = f.find(etiket="GRID_Z", nomvar="TT").grid.lat_lon()[0].T
    assert np.array_equal(np.asarray(pickle.loads(pickle.dumps(lat))), expected)
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
    assert ds.PN.values[1, 2, 0, 0] == 1212
    assert ds.time.values[1, 2] == np.datetime64("2024-06-16T00:00", "ns")
    # Without the forecast axis, valid time 12 UTC (run 0 + 12 h, run 12 + 0 h) collides.
    with pytest.warns(UserWarning, match="share a time and level"):
        flat = fstgis.to_xarray(path)
    assert flat.PN.sizes["time"] == 5


def assert_same_dataset(a: xr.Dataset, b: xr.Dataset, *, atol_values=0.0, skip=()):
    assert sorted(a.data_vars) == sorted(b.data_vars)
    for name in a.data_vars:
        if name in skip:
            continue
        va, vb = a[name], b[name]
        assert va.dims == vb.dims and va.shape == vb.shape, name
        x, y = va.values, vb.values
        if x.dtype.kind == "O":  # strings of character records
            assert x.tolist() == y.tolist(), name
        elif atol_values:
            assert np.allclose(x, y, atol=atol_values, equal_nan=True), name
        else:
            assert np.array_equal(x, y, equal_nan=True), name
        for c in va.coords:
            ca, cb = a[c], b[c]
            assert ca.dims == cb.dims, (name, c)
            if ca.dtype.kind in "Mm":
                assert np.array_equal(ca.values.astype("i8"), cb.values.astype("i8")), (name, c)
            elif ca.dtype.kind == "f":
                # Axes of Z grids go through float32 positional records.
                assert np.allclose(ca.values, cb.values, atol=1e-5, rtol=1e-6,
                                   equal_nan=True), (name, c)
            else:
                assert np.array_equal(ca.values, cb.values), (name, c)
        for key in ("nomvar", "typvar", "etiket", "standard_name", "units", "grid_mapping"):
            assert va.attrs.get(key) == vb.attrs.get(key), (name, key)


ROUND_TRIP = [XDF / n for n in ("grids.fst", "levels_dates.fst", "datyps.fst", "edits.fst",
                                "names.fst", "append.fst")] + [RSF / "rsf_basic.fst"]


@pytest.mark.filterwarnings("ignore:.*share a time and level")
@pytest.mark.filterwarnings("ignore:.*different nk")
@pytest.mark.filterwarnings("ignore:.*not georeferenced")
@pytest.mark.parametrize("container", ["xdf", "rsf"])
@pytest.mark.parametrize("path", ROUND_TRIP, ids=[p.name for p in ROUND_TRIP])
def test_to_xarray_from_xarray_round_trip(tmp_path, path, container):
    ds = fstgis.to_xarray(path)
    out = tmp_path / "rt.fst"
    ds.fst.to_fst(out, container=container)
    back = fstgis.to_xarray(out)
    assert fstgis.open(out).container == container.upper()
    # Where the grid type changes on the way back, the values and the points must not:
    # a # tile (of a Z grid on E) is written as its own Z grid on E.
    # grids.fst's Z grid on E keeps its type: from_crs rebuilds the E rotation from two
    # lattice points of its rotated equator (its pole is off the 1/40° lattice), and its U
    # grid stays U (its ``^>`` record written back from the fst_yin_yang attribute).
    changed = ("TT_GRID_D",)
    # datyps.fst's E32_SPECIAL holds NaN and inf in a plain IEEE record: NaN is written as a
    # missing value, and fst-core's plug for it is then inf, so the inf reads back missing.
    assert_same_dataset(ds, back, skip=("TT_E32_SPECIAL",) + changed)
    if "TT_BIN64" in ds:
        # Raw records go back raw (their words are no numbers to re-encode).
        with fstgis.open(out) as f:
            assert {(f.find(etiket=e).datyp, f.find(etiket=e).nbits)
                    for e in ("BIN8", "BIN64")} == {(0, 8), (0, 64)}
        assert "units" not in back["TT_BIN64"].attrs
    if "TT_GRID_U" in ds:
        f = fstgis.open(out)
        rec = f.find(nomvar="TT", etiket="GRID_U")
        yy = f.find(nomvar="^>", ip1=rec.ig1, ip2=rec.ig2, ip3=rec.ig3)
        assert rec.grtyp == "U" and yy is not None and yy.grtyp == "F"
        assert np.array_equal(back.TT_GRID_U.attrs["fst_yin_yang"],
                              ds.TT_GRID_U.attrs["fst_yin_yang"])
    if "TT_GRID_Z" in ds:
        rec = fstgis.open(out).find(nomvar="TT", etiket="GRID_Z")
        assert rec.grtyp == "Z" and fstgis.open(out).find(nomvar=">>", ip1=rec.ig1,
                                                          ip2=rec.ig2).grtyp == "E"
    for name in changed:
        if name not in ds:
            continue
        a, b = ds[name], back[name]
        assert np.array_equal(a.values, b.values), name
        g = a.dims[-1].rsplit("_", 1)[1]
        lat_a, lon_a = a[f"lat_{g}"].values, a[f"lon_{g}"].values
        lat_b, lon_b = b[f"lat_{g}"].values, b[f"lon_{g}"].values
        if lat_b.ndim == 1:
            lat_b, lon_b = np.meshgrid(lat_b, lon_b, indexing="ij")
        assert np.allclose(lat_a, lat_b, atol=1e-5), name
        assert np.allclose((lon_a - lon_b + 180) % 360 - 180, 0, atol=1e-5), name


@pytest.mark.filterwarnings("ignore:.*share a time and level")
@pytest.mark.filterwarnings("ignore:.*different nk")
def test_a_models_time_step_and_ip3_come_back(tmp_path):
    """A model counts lead times in its steps (levels_dates.fst's PN: deet 300 s, npas 12 at
    +1 h up to 12000 at +1000 h; a synthetic 450 s field): from_xarray wrote them back in
    hours (deet 3600, npas 1), keys librmn's searches tell apart. The step each field was
    read with (encoding["fst_deet"]) is kept; a field whose records differ in step (the
    fixture's DATES) gets hours, as before. An ip3 all the records share (an accumulation
    period) comes back too (it was written 0)."""
    src = tmp_path / "steps_src.fst"
    origin = dt.datetime(2024, 6, 15, 0, tzinfo=UTC)
    with fstgis.open(src, "w") as f:
        for r in fstgis.open(XDF / "levels_dates.fst").search(nomvar="PN", etiket="LEVELS"):
            if r.npas == 0:
                continue  # (its records of encoded ip2 ranges: another test's)
            f.write(r.data, nomvar=r.nomvar, etiket=r.etiket, dateo=r.dateo, deet=r.deet,
                    npas=r.npas, ip1=r.ip1, ip2=r.ip2, grtyp=r.grtyp, ig1=r.ig1, ig2=r.ig2,
                    ig3=r.ig3, ig4=r.ig4, datyp=5, nbits=32)
        for npas in (0, 8, 16):
            f.write(np.ones((4, 3), np.float32), nomvar="QQ", dateo=origin, deet=450, npas=npas,
                    ip2=npas * 450 // 3600, ip3=6, grtyp="X", datyp=5, nbits=32)
    out = fstgis.to_xarray(src).fst.to_fst(tmp_path / "steps.fst")
    def steps(path):
        return sorted((r.nomvar, r.dateo, r.deet, r.npas, r.ip2, r.ip3) for r in fstgis.open(path))
    want = steps(src)
    assert {(n, d, s, i3) for n, _, d, s, _, i3 in want} >= {("PN", 300, 12000, 0), ("QQ", 450, 16, 6)}
    assert steps(out) == want


@pytest.mark.filterwarnings("ignore:.*share a time and level")
def test_a_yin_yang_subset_is_written_as_y(tmp_path):
    """A U grid cut to its Yin half is no Yin-Yang grid any more: from_xarray does not write
    the ``^>`` record of the whole grid for it but a Y grid with the same points."""
    ds = fstgis.to_xarray(XDF / "grids.fst")[["TT_GRID_U"]]
    var = ds.TT_GRID_U
    half = ds.isel({var.dims[-2]: slice(0, var.shape[-2] // 2)})
    out = tmp_path / "yin.fst"
    half.fst.to_fst(out)
    f = fstgis.open(out)
    rec = f.find(nomvar="TT")
    assert rec.grtyp == "Y" and f.find(nomvar="^>") is None
    back = fstgis.to_xarray(out).TT
    assert np.array_equal(back.values, half.TT_GRID_U.values)
    g = var.dims[-1].rsplit("_", 1)[1]
    lat = next(c for c in back.coords if c.startswith("lat"))
    assert np.allclose(back[lat].values, half[f"lat_{g}"].values, atol=1e-5)


def test_from_xarray_packed_and_synthetic(tmp_path):
    # A dataset made by hand (CF names, Pa levels, no FST attributes) on a 1-D lat/lon grid.
    lat = np.linspace(40, 50, 11)
    lon = np.linspace(-80, -60, 21)
    plev = np.array([85000.0, 50000.0])
    time = np.array(["2024-06-15T00", "2024-06-15T06"], "datetime64[ns]")
    rng = np.random.default_rng(1)
    temp = rng.normal(0, 10, (2, 2, 11, 21)).astype(np.float32)
    temp[0, 0, 3, 4] = np.nan
    ds = xr.Dataset(
        {"tt": (("time", "plev", "lat", "lon"), temp,
                {"standard_name": "air_temperature", "units": "degC"})},
        coords={"time": time, "plev": ("plev", plev, {"standard_name": "air_pressure",
                                                       "units": "Pa"}),
                "lat": ("lat", lat, {"standard_name": "latitude"}),
                "lon": ("lon", lon, {"standard_name": "longitude"}),
                "reftime": np.datetime64("2024-06-15T00", "ns")})
    out = tmp_path / "syn.fst"
    fstgis.from_xarray(ds, out, datyp=1, nbits=16)
    f = fstgis.open(out)
    recs = f.search(nomvar="TT")
    assert len(recs) == 4 and all(r.grtyp == "L" and r.datyp == 1 + 64 * (r.key == 0)
                                  for r in recs)
    assert {r.level for r in recs} == {(850.0, 2), (500.0, 2)}
    assert sorted({(r.deet * r.npas, r.ip2) for r in recs}) == [(0, 0), (21600, 6)]
    back = fstgis.to_xarray(out)
    got = back.TT.transpose("time", "pres", "lat", "lon").values
    order = [list(back.pres.values).index(p / 100) for p in plev]
    assert np.isnan(got[0, order[0], 3, 4])
    assert np.allclose(got[:, order], temp, atol=np.nanmax(np.abs(temp)) * 2 / 2**15,
                       equal_nan=True)
    assert np.allclose(back.lat.values, lat) and np.allclose(back.lon.values % 360, lon % 360)


def test_cf_xarray_understands_the_output(tmp_path):
    """cf_xarray reads the CF metadata back: axes, coordinates, standard names and grid
    mappings, on the dataset and on its netCDF export."""
    cf_xarray = pytest.importorskip("cf_xarray")
    assert cf_xarray is not None
    ds = xr.open_dataset(XDF / "grids.fst", engine="fst")
    ds.to_netcdf(tmp_path / "g.nc")
    for d in (ds, xr.open_dataset(tmp_path / "g.nc")):
        assert set(d.cf.grid_mapping_names) == {
            "latitude_longitude", "rotated_latitude_longitude", "polar_stereographic"}
        for name, var in d.data_vars.items():
            if var.attrs.get("grtyp") in ("X", "Y", "U"):
                continue
            axes = var.cf.axes
            assert {"X", "Y", "T"} <= set(axes), (name, axes)
            assert "time" in var.cf.coordinates or "time" in var.cf.standard_names, name
            if "grid_mapping" in var.attrs:
                assert var.cf.grid_mapping_name in (
                    "latitude_longitude", "rotated_latitude_longitude", "polar_stereographic")
        assert list(d.cf[["air_temperature"]].data_vars)  # TT variables by standard name
    rsf = xr.open_dataset(RSF / "rsf_basic.fst", engine="fst")
    assert set(rsf.cf.axes["Z"]) == {"pres", "pres1", "hybrid", "sigma", "height"}


def test_open_datatree_one_group_per_grid():
    tree = xr.open_datatree(XDF / "grids.fst", engine="fst")
    ds = xr.open_dataset(XDF / "grids.fst", engine="fst")
    groups = [g for g in tree.groups if g != "/"]
    grid_ids = {(v.attrs["grtyp"], v.shape[-1], v.shape[-2], v.attrs["ig1"], v.attrs["ig2"],
                 v.attrs["ig3"], v.attrs["ig4"]) for v in ds.data_vars.values()}
    assert len(groups) == len(grid_ids)
    assert "/L_60x40" in groups and "/N_51x55" in groups
    flat = {}
    for g in groups:
        node = tree[g].to_dataset()
        for name, var in node.data_vars.items():
            # Plain names inside a group: lat/lon, x/y, rlat/rlon or j/i, and crs.
            assert var.dims[-1] in ("lon", "x", "rlon", "i"), (g, name, var.dims)
            assert var.attrs.get("grid_mapping") in (None, "crs")
            flat[(var.attrs["etiket"], var.attrs["nomvar"], var.shape)] = var.values
    for var in ds.data_vars.values():
        key = (var.attrs["etiket"], var.attrs["nomvar"], var.shape)
        assert np.array_equal(flat[key], var.values, equal_nan=True), key


def test_no_files_written_beside_the_data(tmp_path):
    import shutil

    shutil.copy(XDF / "grids.fst", tmp_path / "grids.fst")
    before = sorted(p.name for p in tmp_path.iterdir())
    ds = xr.open_dataset(tmp_path / "grids.fst", engine="fst")
    ds.load()
    ds.close()
    mf = xr.open_mfdataset([tmp_path / "grids.fst"], engine="fst")
    mf.load()
    mf.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_sigma_levels_get_formula_terms(tmp_path):
    path = tmp_path / "sigma.fst"
    origin = dt.datetime(2024, 6, 15, tzinfo=UTC)
    grid = dict(grtyp="L", ig1=100, ig2=100, ig3=13000, ig4=28000, dateo=origin)
    p0 = np.full((8, 6), 1000.0, np.float32)
    with fstgis.open(path, "w") as f:
        f.write(p0, nomvar="P0", **grid)
        for sigma in (1.0, 0.5):
            f.write(np.full((8, 6), 250 * sigma, np.float32), nomvar="TT",
                    level=(sigma, "sg"), **grid)
    ds = xr.open_dataset(path, engine="fst")
    assert ds.sigma.attrs["formula_terms"] == "sigma: sigma ps: P0 ptop: ptop"
    assert float(ds.ptop) == 0.0 and ds.ptop.attrs["units"] == ds.P0.attrs["units"] == "hPa"
    # The pressure the formula gives: sigma · P0.
    pres = ds.ptop + ds.sigma * (ds.P0 - ds.ptop)
    assert sorted(np.unique(pres.values).tolist()) == [500.0, 1000.0]
    cf_xarray = pytest.importorskip("cf_xarray")
    assert cf_xarray is not None
    assert ds.cf.formula_terms["sigma"] == {"sigma": "sigma", "ps": "P0", "ptop": "ptop"}


def test_in_memory_datasets_pickle_with_their_bytes():
    data = (XDF / "grids.fst").read_bytes()
    ds = xr.open_dataset(data, engine="fst")
    name = next(v for v in ds.data_vars if ds[v].ndim >= 2)
    arr = ds[name].variable._data
    again = pickle.loads(pickle.dumps(arr))
    assert np.array_equal(np.asarray(again), ds[name].values)
    with open(XDF / "grids.fst", "rb") as fh:
        from_file = xr.open_dataset(fh, engine="fst")
    xr.testing.assert_identical(from_file[name].load(), ds[name].load())


def test_a_large_load_lands_in_mapped_memory_with_the_records_values(tmp_path):
    """A variable of 5.5 MB (over `_MAPPED_BYTES`) loads into an anonymous memory map: the
    values are the records', the array is writeable and pickles like any other."""
    import datetime
    import mmap
    import pickle

    import fstgis
    from fstgis import xarray_backend

    p = tmp_path / "big.fst"
    rng = np.random.default_rng(7)
    fields = [rng.standard_normal((300, 200)).astype(np.float32) for _ in range(24)]
    with fstgis.open(p, "w") as f:
        for hour, v in enumerate(fields):
            f.write(v, nomvar="TT", ip2=hour, deet=3600, npas=hour,
                    dateo=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    tt = xr.open_dataset(p, engine="fst")["TT"].load()
    assert tt.nbytes > xarray_backend._MAPPED_BYTES
    base = tt.values
    while isinstance(base, np.ndarray):
        base = base.base
    assert isinstance(base.obj if isinstance(base, memoryview) else base, mmap.mmap)
    for hour, v in enumerate(fields):
        np.testing.assert_array_equal(tt.values[hour], v.T)
    tt.values[0, 0, 0] = 1.0  # writeable
    back = pickle.loads(pickle.dumps(tt))
    np.testing.assert_array_equal(back.values, tt.values)


def _select_file(path):
    import datetime

    import fstgis

    t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    with fstgis.open(path, "w") as f:
        for hour in (0, 6, 12):
            for nomvar in ("TT", "UU", "P0"):
                f.write(np.full((4, 3), hour + len(nomvar), np.float32), nomvar=nomvar,
                        ip2=hour, deet=3600, npas=hour, dateo=t0,
                        level=(1000.0, "mb") if nomvar != "P0" else None)
        f.write(np.zeros((5, 2), np.float32), nomvar="GZ", grtyp="X")


def test_select_builds_the_dataset_from_the_matching_records(tmp_path):
    """``select=`` keeps the records matching search keys (librmn's rules; list values are
    alternatives, a list of dicts a union), like fstd2nc's vars/filter: other variables and
    times are not in the dataset."""
    import fstgis

    p = tmp_path / "sel.fst"
    _select_file(p)
    ds = xr.open_dataset(p, engine="fst", select={"nomvar": ["TT", "P0"]})
    assert set(ds.data_vars) == {"TT", "P0"}
    ds = xr.open_dataset(p, engine="fst", select={"nomvar": "TT", "ip2": [0, 12]})
    assert list(ds.data_vars) == ["TT"] and ds["TT"].sizes[ds["TT"].dims[0]] == 2
    np.testing.assert_array_equal(ds["TT"].values[:, 0, 0, 0], [2.0, 14.0])
    ds = fstgis.to_xarray(p, select=[{"nomvar": "UU", "ip2": 6}, {"nomvar": "GZ"}])
    assert set(ds.data_vars) == {"UU", "GZ"}
    tree = xr.open_datatree(p, engine="fst", select={"nomvar": "GZ"})
    assert [g for g in tree.children] == ["X_5x2"]
    assert len(xr.open_dataset(p, engine="fst", select={"nomvar": "NONE"}).data_vars) == 0
    with pytest.raises(fstgis.UsageError, match="unknown search keys"):
        xr.open_dataset(p, engine="fst", select={"name": "TT"})


def _era_like():
    """A dataset as netCDF files from other centres have it: no fstgis attributes, pressure
    levels in millibars, latitudes north to south."""
    import pandas as pd

    rng = np.random.default_rng(11)
    return xr.Dataset(
        {"t": (("time", "level", "latitude", "longitude"),
               rng.normal(260, 10, (2, 3, 19, 36)).astype(np.float32))},
        coords={"time": pd.date_range("2024-01-01", periods=2, freq="6h"),
                "level": ("level", np.array([1000, 850, 500], np.int32),
                          {"units": "millibars", "long_name": "pressure_level"}),
                "latitude": ("latitude", np.linspace(90, -90, 19),
                             {"units": "degrees_north", "standard_name": "latitude"}),
                "longitude": ("longitude", np.arange(0, 360, 10.0),
                              {"units": "degrees_east", "standard_name": "longitude"})})


@pytest.mark.parametrize("order", [("time", "level", "longitude", "latitude"),
                                   ("latitude", "longitude", "time", "level")])
def test_from_xarray_finds_the_horizontal_dimensions_in_any_order(tmp_path, order):
    """The grid's axes need not be the last two dimensions in (y, x) order: (lon, lat) was
    written on an X grid (georeference lost) and (lat, lon, time, level) was refused."""
    ds = _era_like()
    path = tmp_path / "t.fst"
    fstgis.from_xarray(ds.transpose(*order), path)
    with fstgis.open(path) as f:
        assert len(f) == 6
        assert {(r.grtyp, r.ni, r.nj) for r in f} == {("L", 36, 19)}
    back = xr.open_dataset(path, engine="fst")
    want = ds["t"].rename(latitude="lat", longitude="lon").sortby("lat")
    got = back["T"].transpose("time", back["T"].dims[1], "lat", "lon")
    np.testing.assert_array_equal(
        got.isel({got.dims[1]: np.argsort(np.argsort(ds.level.values))}).values, want.values)
    back.close()


@pytest.mark.parametrize("units, values, want", [
    ("millibars", [1000, 850, 500], [(1000, 2), (850, 2), (500, 2)]),
    ("hPa", [1000, 850, 500], [(1000, 2), (850, 2), (500, 2)]),
    ("Pa", [100000, 85000, 50000], [(1000, 2), (850, 2), (500, 2)]),
    ("m", [10, 100, 1000], [(10, 0), (100, 0), (1000, 0)]),
])
def test_from_xarray_levels_known_by_their_units(tmp_path, units, values, want):
    """A level coordinate with no standard_name and a dimension name fstgis does not know
    (ERA5's `level`) takes its kind from its units; it was written as arbitrary (kind 3)."""
    ds = _era_like().isel(time=0, drop=True)
    ds = ds.assign_coords(level=("level", np.array(values, np.int32), {"units": units}))
    path = tmp_path / "t.fst"
    fstgis.from_xarray(ds, path)
    with fstgis.open(path) as f:
        assert [r.level for r in f] == want


def test_records_that_are_no_array_of_values_are_named_in_a_warning(tmp_path, monkeypatch):
    """datyps.fst's character records (datyp 3 and 7) are string variables now (they
    vanished without a word, then were skipped with a warning); its raw words of 8 and 64 bits
    are variables of their elements. A character field of several records is a variable along
    its time axis; one too large to read at open is skipped, with a warning naming it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = xr.open_dataset(XDF / "datyps.fst", engine="fst")
    assert not [w for w in caught if "variable skipped" in str(w.message)]
    assert len(ds.data_vars) == 77 + 6
    path = tmp_path / "notes.fst"
    with fstgis.open(path, "w") as f:
        for hour in (0, 6):
            note = np.frombuffer(f"run +{hour} h".encode().ljust(12), np.uint8).reshape(12, 1)
            f.write(note, nomvar="NOTE", datyp=7, nbits=8, grtyp="X",
                    dateo=dt.datetime(2024, 6, 15, tzinfo=UTC), deet=3600, npas=hour)
    notes = xr.open_dataset(path, engine="fst")["NOTE"]
    assert [str(v) for v in notes.values.ravel()] == ["run +0 h", "run +6 h"]
    from fstgis import _text
    monkeypatch.setattr(_text, "MAX_TEXT_BYTES", 16)
    with pytest.warns(UserWarning, match="NOTE: .*variable skipped"):
        assert "NOTE" not in xr.open_dataset(path, engine="fst").data_vars
    assert ds["BYTE"].dtype == np.uint8 and ds["TT_BIN64"].dtype == np.uint64
    # The 8-bit record holds k % 251 at point k (i fastest); as (j, i): the transpose.
    ni, nj = ds["BYTE"].shape[-1], ds["BYTE"].shape[-2]
    want = (np.arange(ni * nj) % 251).astype(np.uint8).reshape(nj, ni)
    np.testing.assert_array_equal(ds["BYTE"].values.reshape(nj, ni), want)
    np.testing.assert_array_equal(ds["TT_BIN64"].values.view(np.float64),
                                  ds["TT_BIN32"].values.view(np.float32).astype(np.float64))
    ds.close()
