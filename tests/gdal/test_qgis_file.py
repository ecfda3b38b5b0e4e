"""QGIS 3.22 headless (python3-qgis): an FST subdataset as a QgsRasterLayer through the GDAL
provider, its CRS and extent, a render to PNG, and the value under a known lon/lat."""
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest
from osgeo import gdal

from conftest import XDF, Manifest, field_datasets

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
