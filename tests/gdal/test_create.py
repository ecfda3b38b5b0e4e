"""gdal_translate -of FST (CreateCopy): round trips FST -> GTiff -> FST and GTiff / netCDF /
GRIB2 -> FST -> GTiff keep keys, values and georeferencing; librmn 19.5 and QGIS read what we
wrote; bad options and unwritable targets fail cleanly and leave no file."""
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest
from osgeo import gdal, osr

from conftest import REPO, XDF, field_datasets, need

pytestmark = pytest.mark.require_driver("FST")

HERE = pathlib.Path(__file__).resolve().parent
KEYS = ("FST_NOMVAR", "FST_TYPVAR", "FST_ETIKET", "FST_IP1", "FST_IP2", "FST_IP3", "FST_DATEO_STAMP",
        "FST_DATEV_STAMP", "FST_DEET", "FST_NPAS", "FST_NBITS")


def to_fst(src, dst, *options):
    out = gdal.Translate(str(dst), src if isinstance(src, gdal.Dataset) else str(src), format="FST",
                         creationOptions=list(options))
    assert out is not None
    out = None
    return gdal.Open(str(dst))


def bands_of(path):
    """Every band of every field of an FST file, in record order."""
    bands = []
    for _, ds in field_datasets(path):
        for b in range(1, ds.RasterCount + 1):
            bands.append((ds, ds.GetRasterBand(b)))
    bands.sort(key=lambda x: int(x[1].GetMetadataItem("FST_RECORD", "FST")))
    return bands


def centres(ds, step=5):
    """(lon, lat) of a sample of pixel centres, in the dataset's own geographic CRS."""
    nx, ny = ds.RasterXSize, ds.RasterYSize
    ii, jj = np.meshgrid(np.arange(0, nx, step), np.arange(0, ny, step))
    gt = ds.GetGeoTransform(can_return_null=True)
    if gt is None:
        geo = ds.GetMetadata("GEOLOCATION")
        lon = gdal.Open(geo["X_DATASET"]).ReadAsArray()[jj, ii]
        lat = gdal.Open(geo["Y_DATASET"]).ReadAsArray()[jj, ii]
        return lon.ravel(), lat.ravel()
    x = gt[0] + (ii + 0.5) * gt[1] + (jj + 0.5) * gt[2]
    y = gt[3] + (ii + 0.5) * gt[4] + (jj + 0.5) * gt[5]
    srs = ds.GetSpatialRef()
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    # True latitude/longitude on the CRS's own ellipsoid (a rotated pole's CloneGeogCS would
    # give rotated coordinates).
    g = osr.SpatialReference()
    g.SetFromUserInput(f"+proj=longlat +a={srs.GetSemiMajor()!r} +b={srs.GetSemiMinor()!r} +no_defs")
    g.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    pts = np.array(osr.CoordinateTransformation(srs, g).TransformPoints(np.c_[x.ravel(), y.ravel()].tolist()))
    return pts[:, 0], pts[:, 1]


def quantum(a, nbits=16):
    """One step of datyp 1's packing: a power of two at least span / (2^nbits - 1)."""
    span = float(np.nanmax(a) - np.nanmin(a))
    return 2.0 ** np.ceil(np.log2(span / (2 ** nbits - 1))) * 1.0001


def assert_same_place(a, b, tol=1e-6):
    lon_a, lat_a = centres(a)
    lon_b, lat_b = centres(b)
    dlon = (lon_a - lon_b + 180.0) % 360.0 - 180.0
    assert np.max(np.abs(lat_a - lat_b)) <= tol, np.max(np.abs(lat_a - lat_b))
    assert np.max(np.abs(dlon * np.cos(np.radians(lat_a)))) <= tol, np.max(np.abs(dlon))


def geotiff(path, srs, gt, nbands=2, shape=(30, 40), nodata=None, dtype=gdal.GDT_Float32, seed=1):
    rng = np.random.default_rng(seed)
    # GeoTIFF cannot store every CRS (ob_tran rotated poles go to a .aux.xml, and the tests run
    # with PAM off): such sources are built in memory and returned.
    drv = "GTiff" if path is not None else "MEM"
    ds = gdal.GetDriverByName(drv).Create(str(path or ""), shape[1], shape[0], nbands, dtype)
    ds.SetGeoTransform(gt)
    s = osr.SpatialReference()
    s.SetFromUserInput(srs)
    ds.SetSpatialRef(s)
    arrays = []
    for b in range(1, nbands + 1):
        a = (rng.random(shape) * 100 * b - 20).astype(np.float32)
        if nodata is not None:
            a[0, :3] = nodata
            ds.GetRasterBand(b).SetNoDataValue(nodata)
        ds.GetRasterBand(b).WriteArray(a)
        arrays.append(a)
    if path is None:
        return ds, arrays
    ds = None
    return arrays


def test_creation_options_are_advertised():
    drv = gdal.GetDriverByName("FST")
    assert drv.GetMetadataItem(gdal.DCAP_CREATECOPY) == "YES"
    xml = drv.GetMetadataItem(gdal.DMD_CREATIONOPTIONLIST)
    for name in ("NOMVAR", "TYPVAR", "ETIKET", "IP1", "IP2", "IP3", "LEVEL", "LEVEL_KIND", "DATEO", "DEET", "NPAS",
                 "DATYP", "NBITS", "CONTAINER", "APPEND_SUBDATASET", "NUM_THREADS"):
        assert f'name="{name}"' in xml, name
    out = subprocess.run(["gdalinfo", "--format", "FST"], capture_output=True, text=True).stdout
    assert "CreateCopy()" in out and "CreationOptionList" in out


@pytest.mark.parametrize("container", ["XDF", "RSF"])
def test_fst_to_gtiff_to_fst_keeps_keys_values_and_place(tmp_path, container):
    src = XDF / "grids.fst"
    checked = 0
    for name, ds in field_datasets(src):
        if ds.GetMetadataItem("FST_GRTYP") not in ("L", "N", "S", "Z", "E", "A", "B", "G"):
            continue
        if ds.GetGeoTransform(can_return_null=True) is None:
            continue
        tif = tmp_path / f"f{checked}.tif"
        gdal.Translate(str(tif), ds, format="GTiff")
        if gdal.Open(str(tif)).GetSpatialRef() is None:
            continue  # GeoTIFF cannot store this CRS (E's rotated pole as GDAL writes it)
        out = tmp_path / f"f{checked}.fst"
        back = to_fst(tif, out, f"CONTAINER={container}")
        got = bands_of(out)
        assert len(got) == ds.RasterCount
        for b, (gds, gb) in enumerate(got, start=1):
            sb = ds.GetRasterBand(b)
            for k in KEYS:
                assert gb.GetMetadataItem(k) == sb.GetMetadataItem(k), (name, b, k)
            assert (int(gb.GetMetadataItem("FST_DATYP", "FST")) & ~64) == (int(sb.GetMetadataItem("FST_DATYP", "FST")) & ~64) or \
                int(sb.GetMetadataItem("FST_DATYP", "FST")) & 128, (name, b)
            a, g = sb.ReadAsArray().astype(np.float64), gb.ReadAsArray().astype(np.float64)
            nbits = int(sb.GetMetadataItem("FST_NBITS", "FST"))
            if int(sb.GetMetadataItem("FST_DATYP", "FST")) & 63 == 5:
                np.testing.assert_array_equal(g, a)
            else:
                span = float(np.nanmax(a) - np.nanmin(a))
                np.testing.assert_allclose(g, a, rtol=0, atol=span / 2 ** nbits * 1.01 + 1e-12)
            assert_same_place(ds, gds)
        checked += 1
        back = None
    assert checked >= 2


def test_gtiff_epsg4326_exact_with_datyp5_and_nodata(tmp_path):
    tif = tmp_path / "a.tif"
    arrays = geotiff(tif, "EPSG:4326", [-100.0, 0.5, 0.0, 60.0, 0.0, -0.5], nodata=-999.0)
    out = tmp_path / "a.fst"
    to_fst(tif, out, "DATYP=5", "NOMVAR=TT", "ETIKET=GDALTEST", "LEVEL=850", "LEVEL_KIND=2",
           "DATEO=2024-01-31T12:00Z", "DEET=3600", "NPAS=6", "IP2=6", "CONTAINER=XDF")
    got = bands_of(out)
    assert len(got) == 2
    for (ds, b), want in zip(got, arrays):
        assert b.GetMetadataItem("FST_NOMVAR", "FST") == "TT" and b.GetMetadataItem("FST_ETIKET", "FST") == "GDALTEST"
        assert float(b.GetMetadataItem("FST_LEVEL", "FST")) == 850.0 and b.GetMetadataItem("FST_LEVEL_KIND", "FST") == "2"
        assert b.GetMetadataItem("FST_DATEO", "FST").startswith("2024-01-31T12:00")
        assert b.GetMetadataItem("FST_DATEV", "FST").startswith("2024-01-31T18:00")
        assert int(b.GetMetadataItem("FST_DATYP", "FST")) == 5 + 64
        a = b.ReadAsArray()
        nd = b.GetNoDataValue()
        assert nd is not None
        np.testing.assert_array_equal(a == nd, want == -999.0)
        np.testing.assert_array_equal(a[want != -999.0], want[want != -999.0])
        assert ds.GetMetadataItem("FST_GRTYP") == "L"
        assert_same_place(gdal.Open(str(tif)), ds)
    # ... and back to GTiff.
    tif2 = tmp_path / "b.tif"
    gdal.Translate(str(tif2), got[0][0], format="GTiff")
    t = gdal.Open(str(tif2))
    np.testing.assert_array_equal(t.GetRasterBand(1).ReadAsArray()[arrays[0] != -999.0], arrays[0][arrays[0] != -999.0])
    assert_same_place(gdal.Open(str(tif)), t)


@pytest.mark.parametrize("gdal_type,options,datyp", [
    (gdal.GDT_Float64, ["DATYP=5"], 5),
    (gdal.GDT_Int64, [], 5),
    (gdal.GDT_UInt64, [], 5),
], ids=["float64-datyp5", "int64-default", "uint64-default"])
def test_64_bit_bands_keep_every_bit(tmp_path, gdal_type, options, datyp):
    """A Float64 band asked for IEEE without NBITS, and 64-bit integer bands by default, are
    written as 64-bit IEEE: before, they became float32 and 16-bit turbo packing."""
    rng = np.random.default_rng(7)
    if gdal_type == gdal.GDT_Float64:
        values = rng.normal(280.0, 20.0, (30, 40))
    else:
        # Beyond what float32 or 16-bit packing hold, within float64's exact integers.
        values = rng.integers(0, 2**52, (30, 40)).astype(np.int64) * (1 if gdal_type == gdal.GDT_UInt64 else -1)
    tif = tmp_path / "a.tif"
    src = gdal.GetDriverByName("GTiff").Create(str(tif), 40, 30, 1, gdal_type)
    src.SetGeoTransform([-100.0, 0.5, 0.0, 60.0, 0.0, -0.5])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    src.SetSpatialRef(srs)
    src.GetRasterBand(1).WriteArray(values)
    src = None
    out = tmp_path / "a.fst"
    to_fst(tif, out, "NOMVAR=XX", "CONTAINER=XDF", *options)
    (_, b), = bands_of(out)
    assert int(b.GetMetadataItem("FST_DATYP", "FST")) == datyp
    assert int(b.GetMetadataItem("FST_NBITS", "FST")) == 64
    np.testing.assert_array_equal(b.ReadAsArray().astype(np.float64), values.astype(np.float64))


ROTATED = "+proj=ob_tran +o_proj=longlat +o_lon_p=0 +o_lat_p=31.75 +lon_0=-92.5 +R=6371229 +no_defs"
POLAR = "+proj=stere +lat_0=90 +lat_ts=60 +lon_0=-111 +x_0=0 +y_0=0 +R=6371229 +units=m +no_defs"


@pytest.mark.parametrize("srs,gt,tol", [
    (ROTATED, [-10.0, 0.125, 0.0, 5.0, 0.0, -0.125], 1e-6),
    (POLAR, [-2000000.0, 50000.0, 0.0, 1000000.0, 0.0, -50000.0], 1e-5),
], ids=["rotated-pole", "polar-stereographic"])
def test_projected_gtiff_round_trip(tmp_path, srs, gt, tol):
    mem, arrays = geotiff(None, srs, gt, nbands=1)
    out = tmp_path / "p.fst"
    to_fst(mem, out, "DATYP=5", "CONTAINER=XDF")
    (fds, b), = bands_of(out)
    np.testing.assert_array_equal(b.ReadAsArray(), arrays[0])
    assert_same_place(mem, fds, tol)
    back = tmp_path / "back.tif"
    gdal.Translate(str(back), fds, format="GTiff")
    t = gdal.Open(str(back))
    np.testing.assert_array_equal(t.ReadAsArray(), arrays[0])
    if t.GetSpatialRef() is not None:
        assert_same_place(mem, t, tol)


def test_packed_default_is_within_quantisation(tmp_path):
    tif = tmp_path / "q.tif"
    arrays = geotiff(tif, "EPSG:4326", [0.0, 1.0, 0.0, 30.0, 0.0, -1.0], nbands=1)
    out = tmp_path / "q.fst"
    to_fst(tif, out)
    (ds, b), = bands_of(out)
    assert int(b.GetMetadataItem("FST_NBITS", "FST")) == 16
    assert ds.GetMetadataItem("FST_CONTAINER") == "RSF"
    np.testing.assert_allclose(b.ReadAsArray(), arrays[0], rtol=0, atol=quantum(arrays[0]))


def test_netcdf_cf_to_fst_to_gtiff(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("netCDF4")
    rng = np.random.default_rng(3)
    lat = np.arange(40.0, 50.0, 0.5) + 0.25
    lon = np.arange(-80.0, -60.0, 0.5) + 0.25
    times = np.array(["2024-03-01T00", "2024-03-01T06"], dtype="datetime64[ns]")
    levels = np.array([850.0, 500.0])
    data = rng.random((2, 2, lat.size, lon.size)).astype(np.float32) * 30
    crs = {"grid_mapping_name": "latitude_longitude", "semi_major_axis": 6371229.0, "inverse_flattening": 0.0}
    dsx = xr.Dataset({"temp": (("time", "level", "lat", "lon"), data, {"units": "K", "grid_mapping": "crs"}),
                      "crs": ((), np.int32(0), crs)},
                     coords={"time": times, "level": ("level", levels, {"units": "hPa", "positive": "down"}),
                             "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
                             "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})})
    nc = tmp_path / "t.nc"
    dsx.to_netcdf(nc, encoding={"time": {"units": "hours since 2024-03-01 00:00:00"}})
    src = gdal.Open(f'NETCDF:"{nc}":temp')
    assert src.RasterCount == 4
    out = tmp_path / "t.fst"
    to_fst(src, out, "DATYP=5", "CONTAINER=XDF")
    got = bands_of(out)
    assert len(got) == 4
    by_key = {}
    for k in range(1, 5):
        smd = src.GetRasterBand(k).GetMetadata()
        by_key[(int(float(smd["NETCDF_DIM_time"])), float(smd["NETCDF_DIM_level"]))] = k
    seen = set()
    for ds, b in got:
        assert b.GetMetadataItem("FST_NOMVAR", "FST") == "TEMP" and b.GetMetadataItem("FST_LEVEL_KIND", "FST") == "2"
        dateo = b.GetMetadataItem("FST_DATEO", "FST")
        assert dateo.startswith("2024-03-01T")
        key = (int(dateo[11:13]), float(b.GetMetadataItem("FST_LEVEL", "FST")))
        seen.add(key)
        want = src.GetRasterBand(by_key[key]).ReadAsArray()
        np.testing.assert_array_equal(b.ReadAsArray(), want)
        assert_same_place(src, ds)
    assert seen == {(0, 850.0), (0, 500.0), (6, 850.0), (6, 500.0)}
    tif = tmp_path / "t.tif"
    gdal.Translate(str(tif), got[0][0], format="GTiff")
    field = got[0][0]
    np.testing.assert_array_equal(gdal.Open(str(tif)).ReadAsArray(), field.ReadAsArray())


def netcdf_time_lat_lon(nc, lat_order, dtype, case):
    """A CF netCDF of one (time, lat, lon) variable `tt` on a latitude_longitude grid mapping,
    with NaN in bands 1 and 3 (band 3's on its first line, which the slab path checks against
    RasterIO) stored as `case` says:
      nan-fill     xarray's default: NaN is the _FillValue;
      raw-nan      a _FillValue of -9999 and NaN stored as such (GDAL gives NaN as nodata);
      no-fill      no _FillValue, NaN stored (GDAL's nodata is netCDF's default fill);
      valid-range  valid_range [250, 270] (GDAL makes values outside nodata);
      packed       scale_factor / add_offset on a float variable."""
    xr = pytest.importorskip("xarray")
    netCDF4 = pytest.importorskip("netCDF4")
    rng = np.random.default_rng(5)
    lat = np.arange(40.0, 50.0, 0.5) + 0.25
    if lat_order == "descending":
        lat = lat[::-1]
    lon = np.arange(-80.0, -60.0, 0.5) + 0.25
    times = np.array(["2024-03-01T00", "2024-03-01T06", "2024-03-01T12"], dtype="datetime64[ns]")
    data = (rng.random((times.size, lat.size, lon.size)) * 30 + 250).astype(np.float32).astype(dtype)
    data[0, 3, 4] = np.nan
    data[2, 0, 7] = np.nan
    attrs = {"units": "K", "grid_mapping": "crs"}
    encoding = {"dtype": np.dtype(dtype)}
    if case == "valid-range":
        attrs["valid_range"] = np.array([250.0, 270.0], dtype=dtype)
    elif case == "packed":
        encoding.update(scale_factor=0.5, add_offset=1.0)
    elif case == "raw-nan":
        encoding["_FillValue"] = -9999.0
    elif case == "no-fill":
        encoding["_FillValue"] = None
    crs = {"grid_mapping_name": "latitude_longitude", "semi_major_axis": 6371229.0, "inverse_flattening": 0.0}
    dsx = xr.Dataset({"tt": (("time", "lat", "lon"), data, attrs), "crs": ((), np.int32(0), crs)},
                     coords={"time": times,
                             "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
                             "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})})
    dsx.to_netcdf(nc, encoding={"time": {"units": "hours since 2024-03-01 00:00:00"}, "tt": encoding})
    if case == "raw-nan":
        # xarray writes NaN as the _FillValue: put real NaN back.
        with netCDF4.Dataset(nc, "a") as f:
            f["tt"].set_auto_maskandscale(False)
            f["tt"][0, 3, 4] = np.nan
            f["tt"][2, 0, 7] = np.nan
    return times.size


def fst_debug_copy(src, out, *options, **config):
    """to_fst with CPL_DEBUG=FST, and the config options given; the FST debug messages."""
    messages = []
    config = {"CPL_DEBUG": "FST", **config}
    for k, v in config.items():
        gdal.SetConfigOption(k, v)
    gdal.PushErrorHandler(lambda _cls, _no, msg: messages.append(msg))
    try:
        to_fst(src, out, *options)
    finally:
        gdal.PopErrorHandler()
        for k in config:
            gdal.SetConfigOption(k, None)
    return [m for m in messages if "netCDF source" in m]


@pytest.mark.parametrize("lat_order,dtype,case,path", [
    ("descending", np.float32, "nan-fill", "upright"),
    ("ascending", np.float32, "nan-fill", "flipped"),
    ("ascending", np.float64, "nan-fill", "flipped"),
    ("descending", np.float32, "raw-nan", "upright"),
    ("ascending", np.float64, "no-fill", "flipped"),
    ("descending", np.float32, "valid-range", None),
    ("descending", np.float32, "packed", None),
    ("descending", np.float32, "srcwin", None),
])
@pytest.mark.parametrize("datyp", ["5", "1"])
def test_netcdf_bands_read_as_slabs_equal_rasterio(tmp_path, lat_order, dtype, case, path, datyp):
    """CreateCopy reads a (time, y, x) netCDF variable one slab per band instead of GDAL's line
    by line, when band 1 shows that the slabs are the bands (either way up). The file written is
    the one the line-by-line path (FST_NETCDF_SLABS=NO) writes, byte for byte, on every path;
    a valid range or packing (which the classic driver applies or exposes) and sources that are
    not the netCDF dataset itself (-srcwin: a VRT) keep the line-by-line reads."""
    nc = tmp_path / "t.nc"
    nbands = netcdf_time_lat_lon(nc, lat_order, dtype, "nan-fill" if case == "srcwin" else case)
    src = gdal.Open(f'NETCDF:"{nc}":tt')
    assert src.RasterCount == nbands
    if case in ("raw-nan", "no-fill"):
        # What the slab path must reproduce: the file holds NaN, RasterIO gives the nodata.
        netCDF4 = pytest.importorskip("netCDF4")
        with netCDF4.Dataset(nc) as f:
            f["tt"].set_auto_maskandscale(False)
            assert np.isnan(f["tt"][0, 3, 4]) and np.isnan(f["tt"][2, 0, 7])
        nd = src.GetRasterBand(1).GetNoDataValue()
        assert not np.isnan(nd)
        first = src.GetRasterBand(1).ReadAsArray()
        assert not np.isnan(first).any() and (first == np.array(nd, dtype=dtype)).sum() == 1
    if case == "srcwin":
        src = gdal.Translate("", src, format="VRT", srcWin=[2, 0, 30, 15])
    options = (f"DATYP={datyp}", "NBITS=16" if datyp == "1" else "NBITS=32", "CONTAINER=XDF")
    out, classic = tmp_path / "t.fst", tmp_path / "classic.fst"
    slabs = fst_debug_copy(src, out, *options)
    if path is None:
        assert slabs == []
    else:
        assert any(f"one slab each ({path})" in m for m in slabs), slabs
        assert not any("line by line" in m for m in slabs), slabs
    assert fst_debug_copy(src, classic, *options, FST_NETCDF_SLABS="NO") == []
    assert out.read_bytes() == classic.read_bytes()
    # ... and what that is: RasterIO's values, its nodata (and NaN) as missing values.
    got = bands_of(out)
    assert len(got) == src.RasterCount
    nmissing = 0
    for k, (ds, b) in enumerate(got, start=1):
        want = src.GetRasterBand(k).ReadAsArray().astype(np.float64)
        nd = src.GetRasterBand(k).GetNoDataValue()
        missing = np.isnan(want) | (want == nd)
        nmissing += missing.sum()
        assert int(b.GetMetadataItem("FST_DATYP", "FST")) == int(datyp) + (64 if missing.any() else 0)
        a = b.ReadAsArray()
        np.testing.assert_array_equal(a == b.GetNoDataValue(), missing)
        if datyp == "5":
            np.testing.assert_array_equal(a[~missing], want[~missing].astype(np.float32))
        else:
            span = want[~missing].max() - want[~missing].min()
            np.testing.assert_allclose(a[~missing], want[~missing], rtol=0, atol=span / 2**15)
        assert_same_place(src, ds)
    assert nmissing >= 2


def test_grib2_to_fst_to_gtiff(tmp_path):
    tif = tmp_path / "g.tif"
    geotiff(tif, "EPSG:4326", [-100.0, 0.25, 0.0, 55.0, 0.0, -0.25], nbands=1)
    grb = tmp_path / "g.grb2"
    gdal.Translate(str(grb), str(tif), format="GRIB",
                   creationOptions=["DISCIPLINE=0", "IDS=REF_TIME=2024-01-01T00:00:00Z", "PDS_PDTN=0",
                                    # TMP at 850 hPa, +6 h.
                                    "PDS_TEMPLATE_ASSEMBLED_VALUES=0 0 2 0 96 0 0 1 6 100 0 85000 255 -1 -1"])
    src = gdal.Open(str(grb))
    out = tmp_path / "g.fst"
    to_fst(src, out, "DATYP=5", "CONTAINER=XDF")
    (ds, b), = bands_of(out)
    sb = src.GetRasterBand(1)
    # GDAL's GRIB bands are Float64: DATYP=5 without NBITS keeps all 64 bits.
    assert int(b.GetMetadataItem("FST_NBITS", "FST")) == 64
    np.testing.assert_array_equal(b.ReadAsArray(), sb.ReadAsArray())
    assert_same_place(src, ds)
    md = sb.GetMetadata()
    assert "GRIB_REF_TIME" in md and "GRIB_VALID_TIME" in md
    assert b.GetMetadataItem("FST_DATEO", "FST").startswith("2024-01-01T00:00")
    assert b.GetMetadataItem("FST_DATEV", "FST").startswith("2024-01-01T06:00"), md
    assert b.GetMetadataItem("FST_IP2", "FST") == "6"
    assert md.get("GRIB_ELEMENT") == "TMP" and b.GetMetadataItem("FST_NOMVAR", "FST") == "TMP"
    assert float(b.GetMetadataItem("FST_LEVEL", "FST")) == 850.0 and b.GetMetadataItem("FST_LEVEL_KIND", "FST") == "2"
    tif2 = tmp_path / "g2.tif"
    gdal.Translate(str(tif2), ds, format="GTiff")
    np.testing.assert_array_equal(gdal.Open(str(tif2)).ReadAsArray(), sb.ReadAsArray())


@pytest.mark.parametrize("datyp", ["133", "134", "1"])
def test_the_file_is_the_same_whatever_the_number_of_threads(tmp_path, datyp):
    # 24 bands with nodata in some: several bands in flight on every encoder, written in order.
    tif = tmp_path / "many.tif"
    geotiff(tif, "EPSG:4326", [0.0, 0.5, 0.0, 60.0, 0.0, -0.5], nbands=24, shape=(45, 70), nodata=-999.0)
    outs = []
    for threads in ("1", "2", "3", "ALL_CPUS"):
        out = tmp_path / f"t{threads}.fst"
        to_fst(tif, out, f"NUM_THREADS={threads}", f"DATYP={datyp}", "NBITS=16")
        outs.append(out.read_bytes())
    assert all(o == outs[0] for o in outs[1:])
    assert gdal.Open(str(tmp_path / "t1.fst")).RasterCount == 24


@pytest.mark.parametrize("option,needle", [
    ("NBITS=99", "NBITS"), ("NOMVAR=TOOLONG", "NOMVAR"), ("DATYP=3", "DATYP"), ("CONTAINER=ZIP", "CONTAINER"),
    ("COLOUR=BLUE", "COLOUR"), ("NUM_THREADS=0", "NUM_THREADS"),
])
def test_bad_creation_option_fails_and_leaves_nothing(tmp_path, option, needle):
    tif = tmp_path / "a.tif"
    geotiff(tif, "EPSG:4326", [0.0, 1.0, 0.0, 30.0, 0.0, -1.0], nbands=1)
    out = tmp_path / "bad.fst"
    with pytest.raises(RuntimeError, match=needle):
        gdal.Translate(str(out), str(tif), format="FST", creationOptions=[option])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif"]


def test_unwritable_target_fails_with_a_clear_error(tmp_path):
    tif = tmp_path / "a.tif"
    geotiff(tif, "EPSG:4326", [0.0, 1.0, 0.0, 30.0, 0.0, -1.0], nbands=1)
    targets = [tmp_path / "missing-dir" / "x.fst"]
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    if os.geteuid() != 0:  # root writes anywhere
        targets.append(ro / "x.fst")
    try:
        for t in targets:
            with pytest.raises(RuntimeError, match="x.fst"):
                gdal.Translate(str(t), str(tif), format="FST")
            assert not t.exists()
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def assert_librmn_records(recs, out, dump, datyp, nbits):
    """librmn's view of the data records (a readback manifest) against our reader's bands: keys,
    grid and the values of every point that is not missing (3 per band in these tests)."""
    for r, (ds, b) in zip(recs, bands_of(out)):
        md = b.GetMetadata()
        assert (r["nomvar"], r["typvar"], r["etiket"]) == (md["FST_NOMVAR"], md["FST_TYPVAR"], md["FST_ETIKET"])
        for k in ("ip1", "ip2", "ip3", "deet", "npas"):
            assert str(r[k]) == md[f"FST_{k.upper()}"], k
        assert r["datev"] == int(md["FST_DATEV_STAMP"]) and r["dateo"] == int(md["FST_DATEO_STAMP"])
        assert r[datyp] == int(md["FST_DATYP"]) and r[nbits] == int(md["FST_NBITS"])
        assert r["grtyp"] == ds.GetMetadataItem("FST_GRTYP")
        assert [r[f"ig{n}"] for n in range(1, 5)] == [int(ds.GetMetadataItem(f"FST_IG{n}")) for n in range(1, 5)]
        theirs = np.fromfile(dump / r["data_file"], dtype=r["dtype"]).reshape(r["nj"], r["ni"])
        ours = b.ReadAsArray()
        if ds.GetMetadataItem("FST_ROWS_REVERSED") == "YES":
            ours = ours[::-1]
        keep = ours != b.GetNoDataValue()
        assert keep.sum() == ours.size - 3
        np.testing.assert_array_equal(theirs[keep], ours[keep])


def oracle_python():
    for p in (os.environ.get("FSTGIS_ORACLE_PY"), REPO / ".venv-oracle" / "bin" / "python"):
        if p and pathlib.Path(p).exists():
            return str(p)
    return None


def test_librmn_reads_what_gdal_translate_wrote(tmp_path):
    need(oracle_python() is not None, "oracle venv missing (bench/oracle-env.sh)")
    mem, _ = geotiff(None, ROTATED, [-10.0, 0.125, 0.0, 5.0, 0.0, -0.125], nbands=2, nodata=-999.0)
    out = tmp_path / "a.fst"
    to_fst(mem, out, "CONTAINER=XDF", "NOMVAR=UU", "ETIKET=ORACLE", "LEVEL=500", "DATEO=2024-05-01T00:00Z",
           "DEET=900", "NPAS=8", "DATYP=1", "NBITS=16")
    dump = tmp_path / "dump"
    r = subprocess.run([oracle_python(), str(REPO / "bench" / "oracle_readback.py"), str(out), str(dump)],
                       capture_output=True, text=True, timeout=300)
    man = json.loads((dump / "manifest.json").read_text())
    assert man["ok"], (man["error"], r.stderr[-2000:])
    recs = man["records"]
    assert [r["nomvar"] for r in recs] == [">>", "^^", "UU", "UU"]
    assert_librmn_records(recs[2:], out, dump, "datyp", "nbits")
    # Positional records in float32 (datyp 5/32), what librmn's interpolators read.
    for r in recs[:2]:
        assert r["datyp"] == 5 and r["nbits"] == 32 and r["etiket"] == "ORACLE"


def test_qgis_opens_a_file_gdal_translate_wrote(tmp_path):
    if subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True).returncode != 0:
        if os.environ.get("FSTGIS_REQUIRE_DRIVER") == "1":
            pytest.fail("python3-qgis missing")
        pytest.skip("python3-qgis missing")
    tif = tmp_path / "a.tif"
    arrays = geotiff(tif, "EPSG:4326", [-100.0, 0.5, 0.0, 60.0, 0.0, -0.5], nbands=1)
    out = tmp_path / "a.fst"
    to_fst(tif, out, "DATYP=5")
    png = tmp_path / "a.png"
    i, j = 7, 11
    lon, lat = -100.0 + (i + 0.5) * 0.5, 60.0 - (j + 0.5) * 0.5
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run(["/usr/bin/python3", str(HERE / "qgis_render_file.py"), str(out), str(png), repr(lon), repr(lat)],
                       capture_output=True, text=True, env=env, timeout=300)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    assert lines, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    res = json.loads(lines[-1])
    assert res["valid"] and res["crs_valid"], res
    assert res["distinct_colours"] > 10
    assert res["value"] == pytest.approx(float(arrays[0][j, i]), abs=0), res


def test_geolocation_arrays_become_a_y_grid(tmp_path):
    """A Y field (GEOLOCATION arrays, no geotransform) -> FST: grids' from_lat_lon gives the
    grid back; the written file's arrays match the source's within float32 rounding."""
    name, src = next((n, d) for n, d in field_datasets(XDF / "grids.fst") if d.GetMetadataItem("FST_GRTYP") == "Y")
    assert src.GetGeoTransform(can_return_null=True) is None and src.GetMetadata("GEOLOCATION")
    out = tmp_path / "y.fst"
    to_fst(src, out, "CONTAINER=XDF")
    (ds, b), = bands_of(out)
    assert ds.GetMetadataItem("FST_GRTYP") in ("Y", "L", "Z")
    np.testing.assert_allclose(b.ReadAsArray(), src.GetRasterBand(1).ReadAsArray(),
                               atol=quantum(src.GetRasterBand(1).ReadAsArray()))
    lon_a, lat_a = centres(src, step=1)
    lon_b, lat_b = centres(ds, step=1) if ds.GetGeoTransform(can_return_null=True) is None else centres(ds, step=1)
    assert np.max(np.abs(lat_a - lat_b)) < 1e-5
    assert np.max(np.abs((lon_a - lon_b + 180) % 360 - 180)) < 1e-5


# tests/run.sh sets it from scripts/rmn-read.sh (the prebuilt binary, or one rebuilt for
# this CPU when that one cannot run here).
RMN_READ = pathlib.Path(os.environ.get("FSTGIS_RMN_READ", "/nonexistent/rmn-read"))


@pytest.mark.skipif(not RMN_READ.exists(),
                    reason="no rmn-read (newest librmn) runs here: see scripts/rmn-read.sh")
def test_newest_librmn_reads_the_rsf_gdal_translate_wrote(tmp_path):
    mem, _ = geotiff(None, ROTATED, [-10.0, 0.125, 0.0, 5.0, 0.0, -0.125], nbands=2, nodata=-999.0)
    out = tmp_path / "a.fst"
    to_fst(mem, out, "NOMVAR=VV", "ETIKET=RSFTEST", "LEVEL=250", "DATEO=2024-05-01T00:00Z", "DEET=600", "NPAS=3")
    dump = tmp_path / "dump"
    r = subprocess.run([str(RMN_READ), str(out), str(dump)], capture_output=True, text=True, timeout=120)
    man = json.loads((dump / "manifest.json").read_text())
    assert r.returncode == 0 and man["container"] == "RSF", (r.returncode, r.stderr[-2000:])
    recs = man["records"]
    assert [x["nomvar"] for x in recs] == [">>", "^^", "VV", "VV"]
    assert all(x["etiket"] == "RSFTEST" for x in recs)
    assert_librmn_records(recs[2:], out, dump, "data_type", "pack_bits")


def test_append_adds_records_and_a_failed_copy_leaves_no_half_file(tmp_path):
    tif = tmp_path / "a.tif"
    arrays = geotiff(tif, "EPSG:4326", [0.0, 1.0, 0.0, 30.0, 0.0, -1.0], nbands=1)
    out = tmp_path / "a.fst"
    to_fst(tif, out, "NOMVAR=AA", "DATYP=5")
    to_fst(tif, out, "NOMVAR=BB", "DATYP=5", "APPEND_SUBDATASET=YES")
    got = bands_of(out)
    assert sorted(b.GetMetadataItem("FST_NOMVAR", "FST") for _, b in got) == ["AA", "BB"]
    got = None
    # Band 2 carries a nomvar that cannot be written: the copy fails after band 1 was written.
    mem, _ = geotiff(None, "EPSG:4326", [0.0, 1.0, 0.0, 30.0, 0.0, -1.0], nbands=2)
    mem.GetRasterBand(2).SetMetadataItem("FST_NOMVAR", "TOOLONG")
    # Appending (RSF): the records of the failed session are in a segment readers never list.
    with pytest.raises(RuntimeError, match=r"a\.fst, band 2: .*FST_NOMVAR"):
        gdal.Translate(str(out), mem, format="FST", creationOptions=["APPEND_SUBDATASET=YES"])
    got = bands_of(out)  # keep the datasets alive while their bands are used
    assert sorted(b.GetMetadataItem("FST_NOMVAR", "FST") for _, b in got) == ["AA", "BB"]
    np.testing.assert_array_equal(got[0][1].ReadAsArray(), arrays[0])
    got = None
    # The failed session left the RSF writer flag set: the next append says so, FORCE=YES takes
    # the file over.
    with pytest.raises(RuntimeError, match="writer flag"):
        gdal.Translate(str(out), str(tif), format="FST", creationOptions=["NOMVAR=CC", "APPEND_SUBDATASET=YES"])
    to_fst(tif, out, "NOMVAR=CC", "DATYP=5", "APPEND_SUBDATASET=YES", "FORCE=YES")
    got = bands_of(out)
    assert sorted(b.GetMetadataItem("FST_NOMVAR", "FST") for _, b in got) == ["AA", "BB", "CC"]
    got = None
    # A new file (GDAL deletes the old target before any CreateCopy): nothing is left, not even
    # the writer's temporary file.
    with pytest.raises(RuntimeError, match=r"a\.fst, band 2: .*FST_NOMVAR"):
        gdal.Translate(str(out), mem, format="FST")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif"]


def gdal_translate_limited(max_file_bytes, *args):
    """`gdal_translate` in a child process that may write files of at most `max_file_bytes`
    (`ulimit -f`; SIGXFSZ ignored, so a write past it fails with EFBIG as on a full disk)."""
    import resource
    import signal

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(["gdal_translate", "-q", "-of", "FST", *map(str, args)], capture_output=True,
                          text=True, timeout=120, preexec_fn=limit)


@pytest.mark.parametrize("container", ["XDF", "RSF"])
def test_a_full_disk_fails_cleanly_and_keeps_the_existing_file(tmp_path, container):
    # 40 bands of 100 x 80 float32 at DATYP=5: 32 KB a record, 1.3 MB in all, through the
    # threaded pipeline (the write error comes from its writer thread).
    tif = tmp_path / "many.tif"
    geotiff(tif, "EPSG:4326", [0.0, 0.5, 0.0, 60.0, 0.0, -0.5], nbands=40, shape=(80, 100))
    base = tmp_path / "base.fst"
    to_fst(tif, base, "NOMVAR=AA", "DATYP=5", f"CONTAINER={container}", "NUM_THREADS=1")
    want = {b.GetMetadataItem("FST_IP3", "FST"): b.ReadAsArray() for _, b in bands_of(base)}
    limit = base.stat().st_size + 300_000
    # Appending: fails part-way, names the file; the records already there are intact and
    # nothing of the failed copy is listed.
    r = gdal_translate_limited(limit, "-co", "NOMVAR=BB", "-co", "DATYP=5", "-co", "APPEND_SUBDATASET=YES",
                               "-co", "FORCE=YES", tif, base)
    assert r.returncode != 0, r.stderr
    assert "base.fst" in r.stderr, r.stderr
    got = bands_of(base)
    assert sorted({b.GetMetadataItem("FST_NOMVAR", "FST") for _, b in got}) == ["AA"]
    assert len(got) == 40
    for _, b in got:
        np.testing.assert_array_equal(b.ReadAsArray(), want[b.GetMetadataItem("FST_IP3", "FST")])
    got = None
    # A new file: nothing is left in the folder, not even the writer's temporary file.
    r = gdal_translate_limited(300_000, "-co", "DATYP=5", "-co", f"CONTAINER={container}", tif, tmp_path / "new.fst")
    assert r.returncode != 0 and "new.fst" in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.fst", "many.tif"]


def test_inexact_float32_grid_is_reported_as_a_warning(tmp_path):
    """An off-lattice rotated pole becomes Y with float32 lat/lon: written, with a warning that
    gives the error from_crs measured; the written grid is within it."""
    srs = "+proj=ob_tran +o_proj=longlat +o_lon_p=0 +o_lat_p=31.758312 +lon_0=-92.402969 +R=6371229 +no_defs"
    mem, _ = geotiff(None, srs, [-10.123456, 0.1234567, 0.0, 5.3456, 0.0, -0.1234567], nbands=1, shape=(40, 50))
    messages = []

    def handler(cls, _no, msg):
        messages.append((cls, msg))

    gdal.PushErrorHandler(handler)
    try:
        to_fst(mem, tmp_path / "w.fst")
    finally:
        gdal.PopErrorHandler()
    warn = [m for c, m in messages if c == gdal.CE_Warning and "pixel centres within" in m]
    assert len(warn) == 1 and "w.fst" in warn[0], messages
    err = float(warn[0].split("within ")[1].split()[0])
    assert 1e-6 < err < 1e-4
    (ds, _b), = bands_of(tmp_path / "w.fst")
    assert_same_place(mem, ds, err * 1.01)


def test_create_via_gdalwarp_and_the_api(tmp_path):
    """Create (DCAP_CREATE): bands are held until close, georeferencing, band metadata and nodata
    may be set in any order; gdalwarp -of FST works; bad options fail at Create."""
    tif = tmp_path / "a.tif"
    arrays = geotiff(tif, "EPSG:4326", [-100.0, 0.5, 0.0, 60.0, 0.0, -0.5], nbands=1)
    warped = tmp_path / "w.fst"
    gdal.Warp(str(warped), str(tif), format="FST", creationOptions=["DATYP=5", "NOMVAR=WW"])
    (ds, b), = bands_of(warped)
    assert b.GetMetadataItem("FST_NOMVAR", "FST") == "WW" and ds.GetMetadataItem("FST_GRTYP") == "L"
    np.testing.assert_array_equal(b.ReadAsArray(), arrays[0])
    ds = b = None

    out = tmp_path / "c.fst"
    c = gdal.GetDriverByName("FST").Create(str(out), 40, 30, 2, gdal.GDT_Float32, ["DATYP=5", "CONTAINER=XDF"])
    for k in (1, 2):
        band = c.GetRasterBand(k)
        band.SetMetadataItem("FST_NOMVAR", f"C{k}")
        band.SetNoDataValue(-1.0)
        a = arrays[0].copy()
        a[5, 5] = -1.0
        band.WriteArray(a)
    c.SetGeoTransform([-100.0, 0.5, 0.0, 60.0, 0.0, -0.5])
    s = osr.SpatialReference()
    s.ImportFromEPSG(4326)
    c.SetSpatialRef(s)
    assert not out.exists()
    c = None
    got = bands_of(out)
    assert sorted(b.GetMetadataItem("FST_NOMVAR", "FST") for _, b in got) == ["C1", "C2"]
    for ds, b in got:
        v = b.ReadAsArray()
        assert v[5, 5] == b.GetNoDataValue() and int(b.GetMetadataItem("FST_DATYP", "FST")) == 5 + 64
        keep = np.ones(v.shape, bool)
        keep[5, 5] = False
        np.testing.assert_array_equal(v[keep], arrays[0][keep])
        assert_same_place(gdal.Open(str(tif)), ds)
    got = None
    with pytest.raises(RuntimeError, match="NBITS"):
        gdal.GetDriverByName("FST").Create(str(tmp_path / "bad.fst"), 4, 4, 1, gdal.GDT_Float32, ["NBITS=99"])
    assert not (tmp_path / "bad.fst").exists()


def test_vertical_descriptors_survive_gdal_translate(tmp_path):
    """A field on model levels carries its file's `!!` table as dataset metadata (FST_VGRID),
    and the FST writer writes it back, so that gdal_translate FST -> FST (directly or through
    GeoTIFF, which keeps dataset metadata) keeps the levels' vertical coordinate. Appending a
    second variable does not write the descriptor twice; librmn reads the copy."""
    need(oracle_python() is not None, "oracle venv missing (bench/oracle-env.sh)")
    src = XDF / "levels_dates.fst"
    model = [(n, ds) for n, ds in field_datasets(src) if ds.GetMetadataItem("FST_VGRID")]
    assert model, "levels_dates.fst has hybrid TT and a 5005 `!!`"
    name, ds = model[0]
    table = ds.GetMetadataItem("FST_VGRID")
    assert table.startswith("0,0,") and ":" in table
    # A surface field carries none.
    assert all(d.GetMetadataItem("FST_VGRID") is None for n, d in field_datasets(src)
               if d.GetRasterBand(1).GetMetadataItem("FST_LEVEL_KIND") in ("2", "3"))
    for via_tiff in (False, True):
        out = tmp_path / f"copy{via_tiff}.fst"
        source = ds
        if via_tiff:
            source = gdal.Translate(str(tmp_path / "mid.tif"), ds, format="GTiff")
        to_fst(source, out, "CONTAINER=XDF")
        source = None
        copies = [d for _, d in field_datasets(out)]
        assert copies[0].GetMetadataItem("FST_VGRID") == table, via_tiff
    # Appending the same variable again: still one `!!`.
    to_fst(ds, out, "APPEND_SUBDATASET=YES", "ETIKET=AGAIN")
    dump = tmp_path / "dump"
    r = subprocess.run([oracle_python(), str(REPO / "bench" / "oracle_readback.py"), str(out), str(dump)],
                       capture_output=True, text=True, timeout=300)
    man = json.loads((dump / "manifest.json").read_text())
    assert man["ok"], (man["error"], r.stderr[-2000:])
    assert [x["nomvar"] for x in man["records"]].count("!!") == 1


def test_raw_records_copy_fst_to_fst_bit_for_bit(tmp_path):
    """Datyp 0 records (raw words of 8, 32 and 64 bits in datyps.fst) stay raw through
    gdal_translate FST -> FST, bit for bit: the 64-bit one travelled as float64 and lost its
    low bits above 2^53, and FST_DATYP=0 was ignored (the copy became datyp 2 or 5)."""
    src = XDF / "datyps.fst"
    raw = [(n, ds) for n, ds in field_datasets(src)
           if int(ds.GetRasterBand(1).GetMetadataItem("FST_DATYP", "FST")) == 0]
    widths = sorted({int(ds.GetRasterBand(1).GetMetadataItem("FST_NBITS", "FST")) for _, ds in raw})
    assert widths == [8, 32, 64], widths
    for k, (name, ds) in enumerate(raw):
        out = to_fst(ds, tmp_path / f"raw{k}.fst")
        sb, gb = ds.GetRasterBand(1), out.GetRasterBand(1)
        assert gb.DataType == sb.DataType, name
        for key in ("FST_DATYP", "FST_NBITS"):
            assert gb.GetMetadataItem(key, "FST") == sb.GetMetadataItem(key, "FST"), (name, key)
        a, g = sb.ReadAsArray(), gb.ReadAsArray()
        assert a.dtype == g.dtype and np.array_equal(a, g), name
        if sb.DataType == gdal.GDT_UInt64:
            assert int(a.max()) > 2 ** 53, "the fixture's 64-bit words need their low bits"


def test_64_bit_integer_bands_cross_as_integers(tmp_path):
    """UInt64/Int64 bands: raw when they say so (FST_DATYP=0, FST_NBITS=64), exact above
    2^53; without, 32-bit integers when every value fits, else 64-bit IEEE (datyp 5/64), what
    librmn reads of 64-bit values."""
    big = np.array([[2 ** 63 + 12345, 2 ** 53 + 1], [7, 2 ** 64 - 1]], np.uint64)
    mem = gdal.GetDriverByName("MEM").Create("", 2, 2, 1, gdal.GDT_UInt64)
    mem.SetGeoTransform([0, 1, 0, 2, 0, -1])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    mem.SetSpatialRef(srs)
    b = mem.GetRasterBand(1)
    b.WriteArray(big)
    b.SetMetadata({"FST_DATYP": "0", "FST_NBITS": "64", "FST_NOMVAR": "BITS"})
    out = to_fst(mem, tmp_path / "raw64.fst")
    ob = out.GetRasterBand(1)
    assert ob.DataType == gdal.GDT_UInt64 and int(ob.GetMetadataItem("FST_DATYP", "FST")) == 0
    assert np.array_equal(ob.ReadAsArray(), big)
    # Int64 without FST keys: IEEE 64-bit, exact where float64 is.
    signed = np.array([[-(2 ** 40) - 3, 5], [2 ** 52, -1]], np.int64)
    mem = gdal.GetDriverByName("MEM").Create("", 2, 2, 1, gdal.GDT_Int64)
    mem.SetGeoTransform([0, 1, 0, 2, 0, -1])
    mem.SetSpatialRef(srs)
    mem.GetRasterBand(1).WriteArray(signed)
    out = to_fst(mem, tmp_path / "int64.fst")
    ob = out.GetRasterBand(1)
    assert (int(ob.GetMetadataItem("FST_DATYP", "FST")), int(ob.GetMetadataItem("FST_NBITS", "FST"))) == (5, 64)
    assert np.array_equal(ob.ReadAsArray().astype(np.int64), signed)
    # Values that fit 32 bits (netCDF int64 counts, category codes): 32-bit integer records,
    # which librmn reads as integers, not float64. Nodata (UInt64's usual 2^64 - 1) is missing.
    for gdt, values, nodata, want in [
        (gdal.GDT_Int64, np.array([[-(2 ** 31), 5], [2 ** 31 - 1, -1]], np.int64), None, (4, 32)),
        (gdal.GDT_UInt64, np.array([[0, 5], [2 ** 32 - 1, 2 ** 64 - 1]], np.uint64), 2 ** 64 - 1, (2 | 64, 32)),
        (gdal.GDT_UInt64, np.array([[0, 5], [2 ** 32, 7]], np.uint64), None, (5, 64)),
    ]:
        mem = gdal.GetDriverByName("MEM").Create("", 2, 2, 1, gdt)
        mem.SetGeoTransform([0, 1, 0, 2, 0, -1])
        mem.SetSpatialRef(srs)
        mb = mem.GetRasterBand(1)
        mb.WriteArray(values)
        if nodata is not None:
            mb.SetNoDataValue(nodata)
        out = to_fst(mem, tmp_path / "fits32.fst")  # (kept: a band outliving its dataset crashes)
        ob = out.GetRasterBand(1)
        got = (int(ob.GetMetadataItem("FST_DATYP", "FST")), int(ob.GetMetadataItem("FST_NBITS", "FST")))
        assert got == want, (gdt, values)
        back = ob.ReadAsArray()
        keep = values != nodata if nodata is not None else np.ones(values.shape, bool)
        assert np.array_equal(back[keep].astype(np.int64), values[keep].astype(np.int64)), (gdt, back)
        if nodata is not None:
            assert back[~keep] == ob.GetNoDataValue()


@pytest.mark.parametrize("etiket", ["GRID_A00", "GRID_A01", "GRID_B00", "GRID_B10", "GRID_B01"])
def test_a_rewrapped_global_grid_is_copied_back_on_its_own_grid(tmp_path, etiket):
    """The reader lays a global A or B grid on -180..180 (FST_COLUMNS_ROLLED; a B grid's
    360°E column, a repeat of its 0°, left out: FST_REPEATED_COLUMN_DROPPED); an FST -> FST
    copy, or one through GeoTIFF (which keeps the dataset items), writes the A or B grid again
    with its own column order (a B grid's 0° column repeated at 360°E), not an L grid
    starting at -180, and in the row order of its records (ig2: 0 south first, 1 north
    first)."""
    grtyp = etiket[5]
    name, src = next((n, d) for n, d in field_datasets(XDF / "grids.fst") if d.GetMetadataItem("FST_ETIKET") == etiket)
    assert int(src.GetMetadataItem("FST_COLUMNS_ROLLED")) > 0
    dropped = src.GetMetadataItem("FST_REPEATED_COLUMN_DROPPED") == "YES"
    assert dropped == (grtyp == "B")
    want = src.GetRasterBand(1).ReadAsArray()
    tif = tmp_path / "a.tif"
    gdal.Translate(str(tif), src, format="GTiff")
    for k, via in enumerate([src, gdal.Open(str(tif))]):
        path = tmp_path / f"a{k}.fst"
        out = to_fst(via, path)
        assert out.GetMetadataItem("FST_GRTYP") == grtyp, k
        for ig in ("FST_IG1", "FST_IG2", "FST_IG3", "FST_IG4"):
            assert out.GetMetadataItem(ig) == src.GetMetadataItem(ig), (k, ig)
        assert out.GetMetadataItem("FST_ROWS_REVERSED") == src.GetMetadataItem("FST_ROWS_REVERSED")
        assert out.GetGeoTransform() == pytest.approx(src.GetGeoTransform())
        assert out.RasterXSize == src.RasterXSize
        got = out.GetRasterBand(1).ReadAsArray()
        span = float(want.max() - want.min())
        np.testing.assert_allclose(got, want, atol=span / 2 ** 16 * 1.01, rtol=0, err_msg=str(k))
        # The record as stored: a B grid's last column is its first again.
        gdal.SetConfigOption("FST_ADJUST_LONGITUDE_RANGE", "NO")
        try:
            plain = gdal.Open(str(path))
        finally:
            gdal.SetConfigOption("FST_ADJUST_LONGITUDE_RANGE", None)
        assert plain.RasterXSize == src.RasterXSize + dropped
        if dropped:
            stored = plain.GetRasterBand(1).ReadAsArray()
            np.testing.assert_array_equal(stored[:, -1], stored[:, 0])
    # A window of it is no longer the whole grid: written where it is, not turned.
    part = gdal.Translate("", src, format="MEM", srcWin=[0, 0, 20, 10])
    out = to_fst(part, tmp_path / "part.fst")
    np.testing.assert_allclose(out.GetRasterBand(1).ReadAsArray(), want[:10, :20],
                               atol=float(want[:10, :20].max() - want[:10, :20].min()) / 2 ** 16 * 1.01 + 1e-6)


@pytest.mark.parametrize("etiket", ["GRID_G00", "GRID_G01", "GRID_G10"])
def test_a_gaussian_grid_is_copied_back_with_its_keys_and_row_order(tmp_path, etiket):
    """A G field (geolocation arrays: Gaussian latitudes) -> FST: from_lat_lon finds the G grid
    again, with the source's ig1..ig4 (ig2 = the records' row order) and its values."""
    name, src = next((n, d) for n, d in field_datasets(XDF / "grids.fst") if d.GetMetadataItem("FST_ETIKET") == etiket)
    out = tmp_path / "g.fst"
    to_fst(src, out, "DATYP=5", "NBITS=32")
    (ds, b), = bands_of(out)
    for key in ("FST_GRTYP", "FST_IG1", "FST_IG2", "FST_IG3", "FST_IG4", "FST_ROWS_REVERSED"):
        assert ds.GetMetadataItem(key) == src.GetMetadataItem(key), key
    np.testing.assert_array_equal(b.ReadAsArray(), src.GetRasterBand(1).ReadAsArray())
