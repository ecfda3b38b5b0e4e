"""QGIS 3.22 headless (python3-qgis): an FST subdataset as a QgsRasterLayer through the GDAL
provider, its CRS and extent, a render to PNG, and the value under a known lon/lat."""
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest
from osgeo import gdal

from conftest import XDF, Manifest, field_datasets, need

pytestmark = pytest.mark.require_driver("FST")

HERE = pathlib.Path(__file__).resolve().parent


def have_qgis():
    r = subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True)
    return r.returncode == 0


@pytest.mark.skipif(not have_qgis() and os.environ.get("FSTGIS_REQUIRE_DRIVER") != "1", reason="python3-qgis missing")
def test_qgis_opens_renders_and_identifies(tmp_path):
    man = Manifest(XDF / "grids.fst")
    name, ds = next((n, d) for n, d in field_datasets(XDF / "grids.fst") if d.GetMetadataItem("FST_GRTYP") == "L")
    rec = next(r for r in man.records if r.index == int(ds.GetRasterBand(1).GetMetadataItem("FST_RECORD")))
    g = man.grids[rec.raw["grid"]]
    lat = man.blob_array(g["lat"]).reshape(rec.nj, rec.ni)
    lon = man.blob_array(g["lon"]).reshape(rec.nj, rec.ni)
    values = rec.values()[0]
    i, j = rec.ni // 3, rec.nj // 2
    plon = lon[j, i] - 360.0 if lon[j, i] > 180 else lon[j, i]
    png = tmp_path / "fst.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run(["/usr/bin/python3", str(HERE / "qgis_render_file.py"), name, str(png), repr(float(plon)), repr(float(lat[j, i]))],
                       capture_output=True, text=True, env=env, timeout=300)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    assert lines, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    out = json.loads(lines[-1])
    assert out["valid"], out
    assert out["crs_valid"], out
    assert "+proj=longlat" in out["crs_proj"] and "6371000" in out["crs_proj"], out
    gt = ds.GetGeoTransform()
    want = [gt[0], gt[3] + ds.RasterYSize * gt[5], gt[0] + ds.RasterXSize * gt[1], gt[3]]
    assert np.allclose(out["extent"], want, atol=1e-9), (out["extent"], want)
    assert out["band_count"] == ds.RasterCount
    assert out["saved"] and png.stat().st_size > 1000
    assert out["distinct_colours"] > 10, "the rendered PNG is blank"
    assert out["identify_valid"]
    assert out["value"] == pytest.approx(float(values[j, i]), rel=0, abs=0), (out["value"], values[j, i])


def grid_points(path, etiket, part=None):
    """(subdataset name, lon, lat) of the field of grids.fst with this etiket, lat/lon from
    the manifest (librmn's gdll), restricted to the rows of a U half."""
    man = Manifest(path)
    name, ds = next((n, d) for n, d in field_datasets(path)
                    if d.GetMetadataItem("FST_ETIKET") == etiket and (part is None or n.endswith(":" + part)))
    rec = next(r for r in man.records if r.index == int(ds.GetRasterBand(1).GetMetadataItem("FST_RECORD", "FST")))
    g = man.grids[rec.raw["grid"]]
    lat = man.blob_array(g["lat"]).reshape(g["nj"], g["ni"])
    lon = man.blob_array(g["lon"]).reshape(g["nj"], g["ni"])
    if part is not None:
        h = g["nj"] // 2
        lat, lon = (lat[h:], lon[h:]) if part == "YANG" else (lat[:h], lon[:h])
    return name, lon.ravel(), lat.ravel()


def render_coverage(uri, lon, lat, crs, tmp_path):
    pts = tmp_path / "points.json"
    pts.write_text(json.dumps({"lon": [float(x) for x in lon], "lat": [float(y) for y in lat]}))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run(["/usr/bin/python3", str(HERE / "qgis_render_coverage.py"), uri, str(pts), crs],
                       capture_output=True, text=True, env=env, timeout=300)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    assert lines, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    out = json.loads(lines[-1])
    assert out["valid"], out
    return out


# Fields QGIS draws in place on a map in another CRS, as the HOWTO says: polar stereographic,
# a regional L grid and global A and B grids (on 0..360 in the file; the driver rewraps them
# to -180..180 as GDAL's GRIB driver does, leaving out a B grid's 360°E column, the same
# meridian as its 0°; QGIS 3.22 drew their western half nowhere; on a Web Mercator map their
# rows beyond 85° have no place) here (test_rotated.py renders the rotated ones).
IN_PLACE = [("GRID_N", None, "EPSG:4326"), ("GRID_S", None, "EPSG:4326"),
            ("GRID_L", None, "EPSG:3857"), ("GRID_A00", None, "EPSG:4326"),
            ("GRID_A10", None, "EPSG:4326"), ("GRID_B00", None, "EPSG:4326"),
            ("GRID_B10", None, "EPSG:4326")]


@pytest.mark.parametrize("etiket,part,crs", IN_PLACE, ids=[f"{e}{'-' + p if p else ''}-{c}" for e, p, c in IN_PLACE])
def test_qgis_draws_a_field_where_librmn_puts_its_points(etiket, part, crs, tmp_path):
    need(have_qgis(), "python3-qgis missing")
    name, lon, lat = grid_points(XDF / "grids.fst", etiket, part)
    out = render_coverage(name, lon, lat, crs, tmp_path)
    assert out["covered"] > 0.98, out
    assert out["stray"] < 0.25, out


# The HOWTO's "Where QGIS draws a field": fields georeferenced by geolocation arrays (G, Y,
# stretched Z) need a warped VRT first, and so do polar fields that hold the pole on a Web
# Mercator map (EPSG:3857).
NEED_VRT = [("GRID_G00", ["-geoloc", "-t_srs", "EPSG:4326"], "EPSG:4326"),
            ("GRID_Y", ["-geoloc", "-t_srs", "EPSG:4326"], "EPSG:4326"),
            ("GRID_N", ["-t_srs", "EPSG:4326"], "EPSG:3857"),
            ("GRID_S", ["-t_srs", "EPSG:4326"], "EPSG:3857")]


@pytest.mark.parametrize("etiket,warp,crs", NEED_VRT, ids=[f"{e}-{c}" for e, _, c in NEED_VRT])
def test_qgis_needs_the_howtos_warped_vrt_for_global_geolocated_and_polar_fields(etiket, warp, crs, tmp_path):
    need(have_qgis(), "python3-qgis missing")
    name, lon, lat = grid_points(XDF / "grids.fst", etiket)
    # As added, QGIS 3.22 draws a geolocated field in pixel coordinates (0..ni °E, -nj..0 °N)
    # and a field holding a pole not at all in EPSG:3857 (a GeoTIFF of it neither): the HOWTO
    # says so.
    raw = render_coverage(name, lon, lat, crs, tmp_path)
    assert raw["covered"] < 0.6, raw
    vrt = tmp_path / "w.vrt"
    r = subprocess.run(["gdalwarp", "-q", "-of", "VRT", *warp, name, str(vrt)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for map_crs in ("EPSG:4326", "EPSG:3857"):
        out = render_coverage(str(vrt), lon, lat, map_crs, tmp_path)
        assert out["covered"] > 0.98, (map_crs, out)
        assert out["stray"] < 0.25, (map_crs, out)
