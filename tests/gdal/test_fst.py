"""FST driver through the Debian GDAL 3.6 Python bindings, checked against the librmn
fixture manifests (crates/fst-core/tests/fixtures)."""
import collections
import concurrent.futures
import math
import os
import pathlib
import random
import subprocess

import numpy as np
import pytest
from osgeo import gdal, osr

from conftest import RSF, XDF, Manifest, band_columns, field_datasets, fixture_files, record_order_rows

pytestmark = pytest.mark.require_driver("FST")

DESCRIPTORS = {">>", "^^", "^>", "!!", "##", "HY", "PROJ", "MTRX", "#>>#", "#^^#", "####"}


def expected_fields(man):
    fields = collections.OrderedDict()
    for r in man.records:
        if r.nomvar in DESCRIPTORS:
            continue
        if int(r.datyp) & 63 == 0 and r.raw["nbits"] not in (8, 16, 32, 64):
            continue  # a raw blob (RSF's FILE_JSON, 1 bit a "point") is no raster
        fields.setdefault((r.nomvar, r.typvar, r.etiket, r.grid_key), []).append(r)
    return fields


def enc(s):
    return "".join("%%%02X" % ord(c) if c in '%:" ' else c for c in s)


def key_of(ds):
    return (ds.GetMetadataItem("FST_NOMVAR"), ds.GetMetadataItem("FST_TYPVAR"),
            ds.GetMetadataItem("FST_ETIKET"), ds.GetMetadataItem("FST_GRID"))


# --------------------------------------------------------------------------- driver


def test_driver_metadata():
    drv = gdal.GetDriverByName("FST")
    md = drv.GetMetadata()
    assert md.get("DCAP_RASTER") == "YES"
    assert md.get("DMD_SUBDATASETS") == "YES"
    assert md.get("DCAP_VIRTUALIO") == "YES"
    # The writer (test_create.py).
    assert md.get("DCAP_CREATECOPY") == "YES" and md.get("DCAP_CREATE") == "YES"


def test_non_fst_files_are_left_to_other_drivers(tmp_path):
    tif = str(tmp_path / "x.tif")
    ds = gdal.GetDriverByName("GTiff").Create(tif, 4, 4, 1)
    ds = None
    assert gdal.IdentifyDriver(tif).ShortName == "GTiff"
    txt = tmp_path / "x.fst"  # an FST extension is not enough
    txt.write_bytes(b"hello, not a standard file\n" * 10)
    d = gdal.IdentifyDriver(str(txt))
    assert d is None or d.ShortName != "FST"
    with pytest.raises(RuntimeError):
        gdal.OpenEx(str(txt), gdal.OF_RASTER, allowed_drivers=["FST"])


def test_empty_file_fails_cleanly():
    with pytest.raises(RuntimeError, match="no data records"):
        gdal.Open(str(XDF / "empty.fst"))


def test_update_mode_is_refused():
    with pytest.raises(RuntimeError):
        gdal.Open(str(RSF / "rsf_basic.fst"), gdal.GA_Update)


# --------------------------------------------------------------------------- fields and bands


def check_band_metadata(band, rec, k):
    md = band.GetMetadata("FST")
    # The default domain holds the same keys, less those that differ between the bands of a
    # netCDF time x level hypercube (see README, "netCDF export").
    default = band.GetMetadata()
    assert all(md[k] == v for k, v in default.items() if k.startswith("FST_")), (default, md)
    assert default["NETCDF_VARNAME"]
    assert md["FST_NOMVAR"] == rec.nomvar
    assert md["FST_TYPVAR"] == rec.typvar
    assert md["FST_ETIKET"] == rec.etiket
    for key in ("ip1", "ip2", "ip3", "deet", "npas", "datyp", "nbits"):
        assert int(md["FST_" + key.upper()]) == getattr(rec, key), key
    assert int(md["FST_DATEV_STAMP"]) == rec.datev
    assert int(md["FST_FORECAST_SECONDS"]) == rec.deet * rec.npas
    assert int(md["FST_K"]) == k + 1
    raw = rec.raw
    if raw.get("datev_iso"):
        assert md["FST_DATEV"] == raw["datev_iso"]
        assert int(md["FST_DATEV_EPOCH"]) == int(np.datetime64(raw["datev_iso"].rstrip("Z")).astype("datetime64[s]").astype(int))
    if raw.get("ip1_decoded") and raw["ip1_decoded"].get("kind") is not None and "FST_LEVEL" in md:
        assert int(md["FST_LEVEL_KIND"]) == raw["ip1_decoded"]["kind"]
        assert math.isclose(float(md["FST_LEVEL"]), raw["ip1_decoded"]["value"], rel_tol=1e-6, abs_tol=1e-6)
    if raw.get("extended_metadata"):
        assert md["FST_METADATA_JSON"] == raw["extended_metadata"]
    desc = band.GetDescription()
    assert desc.startswith(rec.nomvar + " "), desc
    assert "(+" in desc and desc.endswith((" h)", " min)", " s)")) or " k=" in desc, desc


def check_values(ds, band, rec, k, row_offset=0):
    want = rec.values()
    if want is None:
        return False
    want = band_columns(ds, want[k][row_offset:row_offset + ds.RasterYSize])
    got = record_order_rows(ds, band.ReadAsArray())
    assert got.shape == want.shape
    if np.iscomplexobj(want) or want.dtype.kind == "f":
        assert np.array_equal(got.astype(want.dtype), want, equal_nan=True), f"record {rec.index}"
        assert got.dtype.itemsize == want.dtype.itemsize
    else:
        assert np.array_equal(got.astype(np.int64), want.astype(np.int64)), f"record {rec.index}"
    if int(rec.datyp) & 64 and rec.raw.get("n_missing", 0) > 0:
        nd = band.GetNoDataValue()
        assert nd is not None
        assert np.count_nonzero(got == np.array(nd, dtype=got.dtype)) == rec.raw["n_missing"]
    return True


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_field_matches_the_manifest(path):
    man = Manifest(path)
    fields = expected_fields(man)
    if not fields:
        pytest.skip("no data records")
    by_index = {r.index: r for r in man.records}
    opened = field_datasets(path)
    u_fields = [k for k in fields if k[3].startswith("U-")]
    assert len(opened) == len(fields) + len(u_fields), [n for n, _ in opened]
    seen = set()
    compared = 0
    for name, ds in opened:
        key = key_of(ds)
        assert key in fields, (name, key)
        if len(opened) > 1:
            n, t, e, g = key
            assert name.startswith('FST:"%s":%s:%s:%s:%s' % (path, enc(n), enc(t), enc(e), g)), name
        recs = fields[key]
        assert ds.RasterCount == sum(r.nk for r in recs)
        dropped = ds.GetMetadataItem("FST_REPEATED_COLUMN_DROPPED") == "YES"
        assert ds.RasterXSize == recs[0].ni - dropped
        assert not dropped or key[3].startswith("B-"), key
        row_offset = 0
        if key[3].startswith("U-"):
            assert ds.RasterYSize == recs[0].nj // 2
            row_offset = ds.RasterYSize if name.endswith(":YANG") else 0
        else:
            assert ds.RasterYSize == recs[0].nj
        seen.add((key, row_offset))
        prev = None
        for b in range(1, ds.RasterCount + 1):
            band = ds.GetRasterBand(b)
            md = band.GetMetadata("FST")
            rec = by_index[int(md["FST_RECORD"])]
            k = int(md["FST_K"]) - 1
            check_band_metadata(band, rec, k)
            compared += check_values(ds, band, rec, k, row_offset)
            # Bands are ordered by valid time, then level.
            # (the catalog puts stamps that are no date after every valid date)
            t = (0, int(md["FST_DATEV_EPOCH"])) if "FST_DATEV_EPOCH" in md else (1, int(md["FST_DATEV_STAMP"]))
            if prev is not None:
                assert t >= prev, (name, b)
            prev = t
    assert len(seen) == len(opened)
    assert compared > 0 or all(r.values() is None for rs in fields.values() for r in rs)


def test_band_description_is_human_readable():
    ds = field_datasets(RSF / "rsf_basic.fst")[0][1]
    assert ds.GetRasterBand(1).GetDescription() == "TT 500 mb 2024-03-15T13:00Z (+1 h)"


def test_band_description_gives_a_fractional_lead_in_minutes():
    # deet x npas of 2100 s read "(+0.5833333333333334 h)".
    ds = gdal.Open('FST:"%s":TT:P:DATES:L-8x6-100-100-13000-28000' % (XDF / "levels_dates.fst"))
    descs = [ds.GetRasterBand(b).GetDescription() for b in range(1, ds.RasterCount + 1)]
    assert "TT 500 mb 1949-12-25T13:00Z (+35 min)" in descs, descs
    assert "TT 500 mb 2000-02-29T07:45Z (+1 h 45 min)" in descs, descs
    assert not any("." in d.rsplit("(+", 1)[1] for d in descs), descs


@pytest.mark.parametrize("etiket,dtype,gdt", [("BIN8", "u1", gdal.GDT_Byte), ("BIN32", "<u4", gdal.GDT_UInt32),
                                               ("BIN64", "<u8", gdal.GDT_UInt64)])
def test_transparent_records_read_as_elements_of_their_nbits(etiket, dtype, gdt):
    # Datyp 0: fstluk gives back the writer's buffer verbatim, as ceil(n*nbits/32) words. The
    # 8-bit record read as words failed (a quarter of its points), the 64-bit one showed its
    # first half as UInt32 points.
    man = Manifest(XDF / "datyps.fst")
    rec = next(r for r in man.records if r.etiket == etiket and r.datyp == 0)
    d = rec.raw["data"]
    words = np.frombuffer(man.blob[d["offset"]:d["offset"] + d["nbytes"]], dtype="<u4")
    want = np.frombuffer(words.tobytes(), dtype=dtype)[: rec.ni * rec.nj].reshape(rec.nj, rec.ni)
    ds = gdal.Open('FST:"%s":%s:P:%s:%s' % (XDF / "datyps.fst", rec.nomvar, etiket, rec.grid_key))
    band = ds.GetRasterBand(1)
    assert band.DataType == gdt
    assert np.array_equal(record_order_rows(ds, band.ReadAsArray()), want)
    if etiket == "BIN64":  # the writer's buffer was float64 temperatures
        tt = want.view("<f8")
        assert -40 < tt.min() and tt.max() < 40


def test_single_field_file_opens_directly(tmp_path):
    # A file whose records form one field has no SUBDATASETS and its bands directly.
    ds = gdal.Open(str(XDF / "edits.fst"))
    if ds.GetMetadata("SUBDATASETS"):
        for name, sub in field_datasets(XDF / "edits.fst"):
            assert sub.RasterCount >= 1
    one = [p for p in fixture_files() if len(expected_fields(Manifest(p))) == 1]
    for p in one:
        ds = gdal.Open(str(p))
        assert not ds.GetMetadata("SUBDATASETS") and ds.RasterCount >= 1


def test_missing_values_have_nodata():
    man = Manifest(XDF / "datyps.fst")
    with_missing = [r for r in man.records if r.datyp & 64 and r.raw.get("n_missing", 0) > 0]
    assert with_missing
    found = 0
    for name, ds in field_datasets(XDF / "datyps.fst"):
        for b in range(1, ds.RasterCount + 1):
            band = ds.GetRasterBand(b)
            rec = int(band.GetMetadataItem("FST_RECORD", "FST"))
            if rec in {r.index for r in with_missing}:
                assert band.GetNoDataValue() is not None
                found += 1
    assert found == len(with_missing)


# --------------------------------------------------------------------------- georeferencing


def err_deg(lat_a, lon_a, lat_b, lon_b):
    dl = np.abs((lon_a - lon_b) % 360.0)
    dl = np.minimum(dl, 360.0 - dl)
    c = np.maximum(np.abs(np.cos(np.radians(lat_a))), np.abs(np.cos(np.radians(lat_b))))
    return np.maximum(np.abs(lat_a - lat_b), dl * c)


def fixed_set_tolerance(want_lat):
    return np.where(np.abs(want_lat) > 89.0, 3e-3, 1e-4)


def random_set_tolerance(want_lat):
    """Grids drawn at random put points anywhere, far from the projection centre too: the
    same allowance for librmn's float32 arithmetic as crates/grids/tests/librmn_fixtures.rs."""
    polar = 4 * 3.4e-6 / np.maximum(np.abs(np.cos(np.radians(want_lat))), 1e-9)
    return np.maximum(fixed_set_tolerance(want_lat), 2.5e-4 + polar)


def check_tolerance(lat, lon, want_lat, want_lon, what, tolerance=fixed_set_tolerance):
    e = err_deg(lat, lon, want_lat, want_lon)
    bad = e > tolerance(want_lat)
    assert not bad.any(), f"{what}: {np.count_nonzero(bad)} points off, worst {e.max():.2e} deg"


def grid_fields(path):
    man = Manifest(path)
    grids_of = {}
    for r in man.records:
        if "grid" in r.raw and r.raw["grid"] in man.grids:
            grids_of[r.grid_key] = man.grids[r.raw["grid"]]
    return man, grids_of


def test_crs_and_pixel_centres_match_librmn():
    checked = check_crs_and_pixel_centres(XDF / "grids.fst", fixed_set_tolerance)
    for t in "ABGLNSEZY#U":
        assert checked[t] > 0, f"grid type {t} not checked: {dict(checked)}"


def extra_grid_files():
    extra = os.environ.get("FSTGIS_EXTRA_FIXTURES")
    if not extra:
        return []
    return sorted(p for p in pathlib.Path(extra).glob("*grids*.fst") if p.with_suffix(".json").exists())


# Without FSTGIS_EXTRA_FIXTURES the parameter set is empty and pytest skips the test.
@pytest.mark.parametrize("path", extra_grid_files(),
                         ids=lambda p: f"{p.parent.name}/{p.name}" if isinstance(p, pathlib.Path) else str(p))
def test_extra_fixture_crs_and_pixel_centres_match_librmn(path):
    """Grids drawn at random by scripts/oracle-random.sh (FSTGIS_EXTRA_FIXTURES)."""
    checked = check_crs_and_pixel_centres(path, random_set_tolerance)
    assert sum(checked.values()) > 0


def check_crs_and_pixel_centres(path, tolerance):
    """Every field of `path` on a grid the manifest describes: its CRS is valid and round-trips
    through PROJ, and its pixel centres (geotransform + CRS, or GEOLOCATION arrays) are
    librmn's latitudes and longitudes within `tolerance`. Returns the grid types checked."""
    man, grids_of = grid_fields(path)
    checked = collections.Counter()
    for name, ds in field_datasets(path):
        gkey = ds.GetMetadataItem("FST_GRID")
        g = grids_of.get(gkey)
        if g is None:
            continue
        ni, nj = g["ni"], g["nj"]
        want_lat = band_columns(ds, man.blob_array(g["lat"]).reshape(nj, ni))
        want_lon = band_columns(ds, man.blob_array(g["lon"]).reshape(nj, ni))
        grtyp = gkey[0]
        if grtyp == "X":
            continue
        srs = ds.GetSpatialRef()
        assert srs is not None, name
        assert srs.Validate() == 0, name
        # Round trip through PROJ: WKT -> PROJ string -> CRS, the same CRS.
        again = osr.SpatialReference()
        again.ImportFromProj4(srs.ExportToProj4())
        assert again.IsSame(srs, ["IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", "CRITERION=EQUIVALENT"]) or again.IsSame(srs), name
        gt = ds.GetGeoTransform(can_return_null=True)
        if gt is not None:
            w, h = ds.RasterXSize, ds.RasterYSize
            ii, jj = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
            x = gt[0] + ii * gt[1] + jj * gt[2]
            y = gt[3] + ii * gt[4] + jj * gt[5]
            geo = osr.SpatialReference()
            geo.ImportFromProj4("+proj=longlat +R=6371000 +no_defs")
            geo.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            ct = osr.CoordinateTransformation(srs, geo)
            pts = np.array(ct.TransformPoints(np.column_stack([x.ravel(), y.ravel()]).tolist()))
            lon = pts[:, 0].reshape(h, w)
            lat = pts[:, 1].reshape(h, w)
            lat, lon = record_order_rows(ds, lat), record_order_rows(ds, lon)
            if grtyp == "U":
                off = h if name.endswith(":YANG") else 0
                want = (want_lat[off:off + h], want_lon[off:off + h])
            else:
                want = (want_lat, want_lon)
            check_tolerance(lat, lon, want[0], want[1], name, tolerance)
        else:
            geo = ds.GetMetadata("GEOLOCATION")
            assert geo, f"{name}: neither a geotransform nor GEOLOCATION"
            lon = record_order_rows(ds, gdal.Open(geo["X_DATASET"]).ReadAsArray())
            lat = record_order_rows(ds, gdal.Open(geo["Y_DATASET"]).ReadAsArray())
            check_tolerance(lat, lon, want_lat, want_lon, name, tolerance)
        checked[grtyp] += 1
    return checked


def test_u_grid_is_two_regular_subdatasets():
    ds = gdal.Open(str(XDF / "grids.fst"))
    names = [v for k, v in ds.GetMetadata("SUBDATASETS").items() if k.endswith("_NAME") and ":U-" in v]
    assert sorted(n.rsplit(":", 1)[1] for n in names) == ["YANG", "YIN"]
    for n in names:
        sub = gdal.Open(n)
        assert sub.GetGeoTransform(can_return_null=True) is not None
        assert "ob_tran" in sub.GetSpatialRef().ExportToProj4() or "Pole rotation" in sub.GetProjection() or sub.GetSpatialRef().IsDerivedGeographic()


def test_hash_tile_sits_in_its_parent_grid():
    man, grids_of = grid_fields(XDF / "grids.fst")
    parent = tile = None
    for name, ds in field_datasets(XDF / "grids.fst"):
        g = ds.GetMetadataItem("FST_GRID")
        if g.startswith("#-"):
            tile = ds
        elif g.startswith("Z-") and ds.GetMetadataItem("FST_GRREF") == "E" and ds.GetGeoTransform(can_return_null=True):
            if parent is None or ds.RasterXSize == 60:
                parent = ds
    assert tile is not None
    tgt = tile.GetGeoTransform()
    assert tgt is not None
    assert tile.GetSpatialRef().IsSame(parent.GetSpatialRef()) if parent is not None else True


# --------------------------------------------------------------------------- conversions


def l_grid_field():
    for name, ds in field_datasets(XDF / "grids.fst"):
        if ds.GetMetadataItem("FST_GRTYP") == "L":
            return name, ds
    raise AssertionError("no L field")


def multiband_field():
    best = None
    for name, ds in field_datasets(XDF / "levels_dates.fst"):
        if ds.GetRasterBand(1).DataType == gdal.GDT_Float32 and (best is None or ds.RasterCount > best[1].RasterCount):
            best = (name, ds)
    return best


@pytest.mark.parametrize("fmt,ext,opts", [
    ("GTiff", "tif", []),
    ("netCDF", "nc", []),
    ("GRIB", "grb2", ["DATA_ENCODING=IEEE_FLOATING_POINT"]),
    ("Zarr", "zarr", []),
])
def test_translate_round_trip(tmp_path, fmt, ext, opts):
    if gdal.GetDriverByName(fmt) is None:
        pytest.skip(f"{fmt} driver missing")
    for name, src in [l_grid_field(), multiband_field(), field_datasets(RSF / "rsf_basic.fst")[0]]:
        out = str(tmp_path / f"out.{ext}")
        keep = None
        if fmt == "GRIB" and src.GetGeoTransform(can_return_null=True) is None:
            continue  # GRIB needs a geotransform; curvilinear fields go to netCDF/Zarr
        gdal.Translate(out, src, format=fmt, creationOptions=opts)
        dst = gdal.Open(out)
        if dst.RasterCount == 0 and src.RasterCount > 1:
            # GDAL's Zarr and netCDF writers store one array per band, unless told about extra
            # dimensions.
            sds = dst.GetMetadata("SUBDATASETS")
            names = {v.rsplit(":", 1)[1].lstrip("/"): v for k, v in sds.items() if k.endswith("_NAME")}
            # netCDF names them after NETCDF_VARNAME (the nomvar): TT1, TT2, …
            var = src.GetRasterBand(1).GetMetadataItem("NETCDF_VARNAME")
            keep = [gdal.Open(names.get(f"{var}{b}") or names[f"Band{b}"]) for b in range(1, src.RasterCount + 1)]
            bands = [d.GetRasterBand(1) for d in keep]
        else:
            assert dst.RasterCount == src.RasterCount, (fmt, name)
            bands = [dst.GetRasterBand(b) for b in range(1, src.RasterCount + 1)]
        if fmt == "GTiff" and src.RasterCount > 1:
            # Bands are separate records: advertised band-sequential, GTiff writes them so.
            assert src.GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE") == "BAND"
            assert dst.GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE") == "BAND"
        for b, band in enumerate(bands, start=1):
            a = src.GetRasterBand(b).ReadAsArray()
            c = band.ReadAsArray()
            assert np.array_equal(a, c.astype(a.dtype), equal_nan=True), (fmt, name, b)
        gt_src = src.GetGeoTransform(can_return_null=True)
        if gt_src is not None and fmt != "Zarr":
            gt_dst = list((keep[0] if keep else dst).GetGeoTransform())
            # netCDF and GRIB write longitudes in -180..180.
            gt_dst[0] += 360.0 * round((gt_src[0] - gt_dst[0]) / 360.0)
            assert np.allclose(gt_dst, gt_src, rtol=1e-7, atol=1e-6), (fmt, name, gt_dst, gt_src)
        dst = bands = keep = None
        gdal.RmdirRecursive(out) if fmt == "Zarr" else gdal.Unlink(out)


def test_warp_z_on_e_to_epsg4326(tmp_path):
    man, grids_of = grid_fields(XDF / "grids.fst")
    name = src = None
    for n, ds in field_datasets(XDF / "grids.fst"):
        if ds.GetMetadataItem("FST_GRTYP") == "Z" and ds.GetMetadataItem("FST_GRREF") == "E" and ds.GetGeoTransform(can_return_null=True):
            name, src = n, ds
            break
    assert src is not None, "no Z-on-E field with a geotransform"
    g = grids_of[src.GetMetadataItem("FST_GRID")]
    ni, nj = g["ni"], g["nj"]
    lat = man.blob_array(g["lat"]).reshape(nj, ni)
    lon = man.blob_array(g["lon"]).reshape(nj, ni)
    lon = np.where(lon > 180, lon - 360, lon)
    out = str(tmp_path / "warp.tif")
    gdal.Warp(out, src, dstSRS="EPSG:4326", xRes=0.02, yRes=0.02, resampleAlg="near", multithread=True,
              warpOptions=["NUM_THREADS=2"])
    w = gdal.Open(out)
    gt = w.GetGeoTransform()
    wa = w.GetRasterBand(1).ReadAsArray()
    values = record_order_rows(src, src.GetRasterBand(1).ReadAsArray())
    rng = random.Random(7)
    checked = 0
    for _ in range(40):
        i, j = rng.randrange(3, ni - 3), rng.randrange(3, nj - 3)
        px = int((lon[j, i] - gt[0]) / gt[1])
        py = int((lat[j, i] - gt[3]) / gt[5])
        if 0 <= px < w.RasterXSize and 0 <= py < w.RasterYSize:
            assert wa[py, px] == values[j, i], (i, j)
            checked += 1
    assert checked >= 30


@pytest.mark.parametrize("grtyp", ["Y", "G"])
def test_warp_geolocation_grids(tmp_path, grtyp):
    """Y and G grids carry GEOLOCATION arrays: gdalwarp -geoloc puts their values in place."""
    man, grids_of = grid_fields(XDF / "grids.fst")
    src = next((d for n, d in field_datasets(XDF / "grids.fst") if d.GetMetadataItem("FST_GRTYP") == grtyp
                and d.GetMetadata("GEOLOCATION")), None)
    if src is None:
        pytest.skip(f"no {grtyp} field with geolocation arrays")
    g = grids_of[src.GetMetadataItem("FST_GRID")]
    ni, nj = g["ni"], g["nj"]
    lat = man.blob_array(g["lat"]).reshape(nj, ni)
    lon = man.blob_array(g["lon"]).reshape(nj, ni)
    geo = src.GetMetadata("GEOLOCATION")
    glon = gdal.Open(geo["X_DATASET"]).ReadAsArray()
    lon = np.where(lon > 180, lon - 360, lon) if glon.min() < 0 else lon
    out = str(tmp_path / "geoloc.tif")
    res = {"Y": 0.05, "G": 0.5}[grtyp]  # a fraction of the grid spacing
    gdal.Warp(out, src, geoloc=True, dstSRS=geo["SRS"], xRes=res, yRes=res, resampleAlg="near")
    w = gdal.Open(out)
    gt = w.GetGeoTransform()
    wa = w.GetRasterBand(1).ReadAsArray()
    values = record_order_rows(src, src.GetRasterBand(1).ReadAsArray())
    hits = total = 0
    for j in range(2, nj - 2, 2):
        for i in range(2, ni - 2, 2):
            px = int((lon[j, i] - gt[0]) / gt[1])
            py = int((lat[j, i] - gt[3]) / gt[5])
            if 0 <= px < w.RasterXSize and 0 <= py < w.RasterYSize:
                total += 1
                hits += wa[py, px] == values[j, i]
    assert total > 20 and hits >= 0.9 * total, (hits, total)


# --------------------------------------------------------------------------- threads, VSI


def test_many_handles_read_concurrently():
    names = [n for n, _ in field_datasets(XDF / "levels_dates.fst")][:6] + [n for n, _ in field_datasets(XDF / "shapes.fst")][-3:]

    def read_all(name):
        ds = gdal.Open(name)
        return [ds.GetRasterBand(b).Checksum() for b in range(1, ds.RasterCount + 1)]

    expected = {n: read_all(n) for n in names}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        jobs = [(n, ex.submit(read_all, n)) for n in names * 4]
        for n, f in jobs:
            assert f.result() == expected[n], n


def test_any_band_order_reads_the_same_values():
    """Walking the bands in order decodes the next band's record ahead, on its own thread:
    every access pattern (in order, reversed, shuffled, and bands read in strips) must give
    the same arrays."""
    names = [n for n, ds in field_datasets(XDF / "levels_dates.fst") if ds.RasterCount >= 3][:4]
    assert names
    rng = random.Random(7)
    for name in names:
        ds = gdal.Open(name)
        n = ds.RasterCount
        ref = {b: ds.GetRasterBand(b).ReadAsArray() for b in range(1, n + 1)}
        orders = [list(range(n, 0, -1)), rng.sample(range(1, n + 1), n), list(range(1, n + 1))]
        for order in orders:
            ds2 = gdal.Open(name)
            for b in order:
                assert np.array_equal(ds2.GetRasterBand(b).ReadAsArray(), ref[b], equal_nan=True), (name, b)
        # Strips of each band, bands in order: the record decoded ahead serves the next band.
        ds3 = gdal.Open(name)
        h = ds3.RasterYSize
        for b in range(1, n + 1):
            band = ds3.GetRasterBand(b)
            top = band.ReadAsArray(0, 0, ds3.RasterXSize, h // 2)
            bottom = band.ReadAsArray(0, h // 2, ds3.RasterXSize, h - h // 2)
            assert np.array_equal(np.vstack([top, bottom]), ref[b], equal_nan=True), (name, b)


def test_gdalwarp_multi_cli(tmp_path):
    name, _ = l_grid_field()
    out = str(tmp_path / "m.tif")
    subprocess.run(["gdalwarp", "-q", "-multi", "-wo", "NUM_THREADS=4", "-t_srs", "EPSG:4326", name, out], check=True)
    assert gdal.Open(out).GetRasterBand(1).Checksum() != 0


def test_vsimem_open_and_subdatasets():
    path = RSF / "rsf_basic.fst"
    mem = "/vsimem/fst/rsf_basic.fst"
    gdal.FileFromMemBuffer(mem, path.read_bytes())
    try:
        local = field_datasets(path)
        virtual = field_datasets(mem)
        assert len(local) == len(virtual)
        for (ln, lds), (vn, vds) in zip(local, virtual):
            assert vn.startswith('FST:"/vsimem/')
            for b in range(1, lds.RasterCount + 1):
                assert np.array_equal(lds.GetRasterBand(b).ReadAsArray(), vds.GetRasterBand(b).ReadAsArray(), equal_nan=True)
    finally:
        gdal.Unlink(mem)


def test_gdalinfo_cli():
    out = subprocess.run(["gdalinfo", str(XDF / "grids.fst")], check=True, capture_output=True, text=True).stdout
    assert "Driver: FST/" in out and "SUBDATASET_1_NAME=FST:" in out


# --------------------------------------------------------------------------- malformed input


def cut_points(n):
    cuts = list(range(0, min(n, 4096), 61 * 4)) + [n * k // 24 for k in range(24)] + [n - 1, n - 8, n - 12]
    return sorted({c for c in cuts if 0 <= c < n})


def open_everything(mem):
    """Open a file and every subdataset, read every band; errors are fine, crashes are not."""
    try:
        ds = gdal.Open(mem)
    except RuntimeError:
        return "refused"
    names = [v for k, v in (ds.GetMetadata("SUBDATASETS") or {}).items() if k.endswith("_NAME")][:8]
    targets = [ds] if not names else []
    for n in names:
        try:
            targets.append(gdal.Open(n))
        except RuntimeError:
            pass
    for t in targets:
        for b in range(1, min(t.RasterCount, 4) + 1):
            try:
                t.GetRasterBand(b).Checksum()
            except RuntimeError:
                pass
    return "opened"


def malformed_inputs():
    rng = random.Random(0x5EED)
    for path in fixture_files():
        data = path.read_bytes()
        for cut in cut_points(len(data)):
            yield f"{path.name}@cut{cut}", data[:cut]
        head = min(len(data), 40 << 10)
        for k in range(25):
            m = bytearray(data)
            at = rng.randrange(head) if rng.randrange(4) else len(data) - 1 - rng.randrange(min(len(data), 8 << 10))
            m[at] ^= 1 << rng.randrange(8)
            if rng.randrange(2):
                m[rng.randrange(head)] = rng.randrange(256)
            yield f"{path.name}@flip{k}", bytes(m)
    # Absurd dimensions in the first XDF directory entry, entries pointing outside the file.
    edits = bytearray((XDF / "edits.fst").read_bytes())
    w = 208 // 4 + 8
    def set_word(b, word, v):
        b[word * 4:word * 4 + 4] = v.to_bytes(4, "big")
    absurd = bytearray(edits)
    set_word(absurd, w + 3, 0xFFFFFF00 | absurd[(w + 3) * 4 + 3])
    set_word(absurd, w + 4, 0xFFFFFF00 | absurd[(w + 4) * 4 + 3])
    set_word(absurd, w + 5, 0xFFFFF000)
    yield "absurd-dimensions", bytes(absurd)
    outside = bytearray(edits)
    set_word(outside, w + 1, 0x7FFFFFFF)
    yield "entry-outside", bytes(outside)
    yield "empty", b""
    yield "zeros", bytes(4096)


def test_malformed_files_fail_without_crashing():
    outcomes = collections.Counter()
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        for i, (what, data) in enumerate(malformed_inputs()):
            mem = f"/vsimem/bad/{i}.fst"
            gdal.FileFromMemBuffer(mem, data)
            try:
                outcomes[open_everything(mem)] += 1
            finally:
                gdal.Unlink(mem)
    finally:
        gdal.PopErrorHandler()
    assert outcomes["refused"] > 50, outcomes


def test_truncated_file_reports_a_cplerror():
    data = (XDF / "datyps.fst").read_bytes()
    mem = "/vsimem/cut/datyps.fst"
    gdal.FileFromMemBuffer(mem, data[: len(data) // 2])
    try:
        errors = 0
        try:
            ds = gdal.Open(mem)
            for n in [v for k, v in ds.GetMetadata("SUBDATASETS").items() if k.endswith("_NAME")]:
                sub = gdal.Open(n)
                try:
                    sub.GetRasterBand(1).ReadAsArray()
                except RuntimeError as e:
                    assert "FST" in str(e) or "byte" in str(e)
                    errors += 1
        except RuntimeError:
            errors += 1
        assert errors > 0
    finally:
        gdal.Unlink(mem)


def test_an_rsf_file_cut_short_opens_with_a_warning_naming_the_loss(tmp_path):
    # RSF files cut short open with the records that can be read; GDAL showed fewer bands
    # without a word. Now a CPLError warning (QGIS's message log, gdalinfo's stderr).
    data = (RSF / "rsf_multi_segment.fst").read_bytes()
    cut = tmp_path / "cut.fst"
    cut.write_bytes(data[:-200])
    r = subprocess.run(["gdalinfo", str(cut)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Warning" in r.stderr and "truncated" in r.stderr and "cut.fst" in r.stderr, r.stderr
    # An intact file: no warning.
    r = subprocess.run(["gdalinfo", str(RSF / "rsf_multi_segment.fst")], capture_output=True, text=True)
    assert r.returncode == 0 and "Warning" not in r.stderr, r.stderr


def test_panic_free_in_subprocess_gdalinfo_of_every_fixture():
    # The CLI host must survive every fixture and exit normally.
    for p in fixture_files():
        r = subprocess.run(["gdalinfo", "-stats", "--config", "GDAL_PAM_ENABLED", "NO", str(p)], capture_output=True, text=True)
        assert r.returncode in (0, 1), (p, r.stderr)
        assert "panicked" not in r.stderr, (p, r.stderr)


def test_netcdf_output_keeps_time_and_level_dimensions(tmp_path):
    """NETCDF_DIM_* items make gdal_translate write one (time, level, y, x) variable."""
    cubes = [(n, d) for n, d in field_datasets(XDF / "levels_dates.fst") if d.GetMetadataItem("NETCDF_DIM_EXTRA")]
    assert cubes
    assert all(d.GetMetadataItem("NETCDF_DIM_EXTRA") == "{time,level}" for _, d in cubes)
    name, src = max(cubes, key=lambda c: c[1].RasterCount)
    assert src.RasterCount > 2
    out = str(tmp_path / "cube.nc")
    gdal.Translate(out, src, format="netCDF")
    info = gdal.MultiDimInfo(out)
    dims = {k: v["dimensions"] for k, v in info["arrays"].items()}
    cubes = [d for d in dims.values() if len(d) == 4]
    assert cubes == [["/time", "/level", "/lat", "/lon"]], dims
    back = gdal.Open(out)
    assert back.RasterCount == src.RasterCount
    for b in range(1, src.RasterCount + 1):
        s, d = src.GetRasterBand(b), back.GetRasterBand(b)
        assert d.GetMetadataItem("NETCDF_DIM_level") == s.GetMetadataItem("NETCDF_DIM_level")
        assert np.array_equal(s.ReadAsArray(), d.ReadAsArray())


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_listed_subdataset_reads(path):
    # rsf_extended_meta.fst's FILE_JSON record (raw words, 1 bit a "point") was listed as a
    # subdataset whose every read failed ("decodes to 2025 values for 64800 points"): a blob
    # is no raster.
    if not expected_fields(Manifest(path)):
        pytest.skip("no data records")
    ds = gdal.Open(str(path))
    subdatasets = [name for key, name in ds.GetMetadata("SUBDATASETS").items()
                   if key.endswith("_NAME")] or [str(path)]
    for name in subdatasets:
        sub = gdal.Open(name)
        assert sub is not None, name
        for b in range(1, sub.RasterCount + 1):
            assert sub.GetRasterBand(b).ReadAsArray() is not None, f"{name} band {b}"


@pytest.mark.parametrize("etiket", ["GRID_A00", "GRID_B00"])
def test_global_grids_on_0_360_are_rewrapped_to_minus_180_180(tmp_path, etiket):
    """A global longitude grid (A, B, L starting at 0°) is laid on -180..180 as GDAL's GRIB
    driver does since 3.4 (its columns from 180°E first), so that it overlays other layers;
    a B grid's last column (360°E, the meridian of its first) is left out
    (FST_REPEATED_COLUMN_DROPPED). FST_ADJUST_LONGITUDE_RANGE=NO keeps 0..360 and every
    column. Whole and windowed reads, across the seam too, give the record's values in that
    order."""
    name, ds = next((n, d) for n, d in field_datasets(XDF / "grids.fst") if d.GetMetadataItem("FST_ETIKET") == etiket)
    dropped = etiket.startswith("GRID_B")
    assert (ds.GetMetadataItem("FST_REPEATED_COLUMN_DROPPED") == "YES") == dropped
    gt = ds.GetGeoTransform()
    k = int(ds.GetMetadataItem("FST_COLUMNS_ROLLED"))
    ni = ds.RasterXSize
    assert 0 < k < ni
    # The first column is the first at or east of 180°E, less 360°.
    assert -180.0 <= gt[0] + gt[1] / 2.0 < -180.0 + gt[1]
    assert ni * gt[1] == pytest.approx(360.0)
    band = ds.GetRasterBand(1)
    rolled = band.ReadAsArray()
    gdal.SetConfigOption("FST_ADJUST_LONGITUDE_RANGE", "NO")
    try:
        plain_ds = gdal.Open(name)
    finally:
        gdal.SetConfigOption("FST_ADJUST_LONGITUDE_RANGE", None)
    plain = plain_ds.GetRasterBand(1).ReadAsArray()
    assert plain_ds.GetGeoTransform()[0] == pytest.approx(-gt[1] / 2.0)
    assert plain_ds.GetMetadataItem("FST_COLUMNS_ROLLED") is None
    assert plain_ds.GetMetadataItem("FST_REPEATED_COLUMN_DROPPED") is None
    assert plain_ds.RasterXSize == ni + dropped
    np.testing.assert_array_equal(rolled, np.roll(plain[:, :ni], -k, axis=1))
    # Windows: inside the first run, across the seam (record column ni-1 then 0), the end.
    for xoff, w in [(0, 5), (ni - k - 3, 7), (ni - k, 4), (ni - 6, 6), (0, ni)]:
        win = band.ReadAsArray(xoff, 2, w, 3)
        np.testing.assert_array_equal(win, rolled[2:5, xoff:xoff + w], err_msg=f"window {xoff}+{w}")
    # A place west of Greenwich answers (it did not: -100°E was outside 0..360).
    j, i = 10, 20
    lon = gt[0] + (i + 0.5) * gt[1]
    lat = gt[3] + (j + 0.5) * gt[5]
    assert lon < 0
    r = subprocess.run(["gdallocationinfo", "-valonly", "-wgs84", name, repr(lon), repr(lat)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert float(r.stdout.split()[0]) == pytest.approx(float(rolled[j, i]), rel=1e-6)
