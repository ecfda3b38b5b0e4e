"""Debian's python3-rasterio (built on the system GDAL) opens an FST subdataset through the
plugin. PyPI rasterio wheels bundle their own GDAL and cannot load gdal_FST.so."""
import json
import subprocess

import numpy as np
import pytest
from osgeo import gdal

from conftest import XDF, field_datasets

pytestmark = pytest.mark.require_driver("FST")

SCRIPT = r"""
import json, sys
import rasterio
with rasterio.open(sys.argv[1]) as ds:
    a = ds.read(1)
    print(json.dumps({"driver": ds.driver, "count": ds.count, "shape": list(a.shape), "sum": float(a.astype("float64").sum()),
                      "crs": ds.crs.to_wkt() if ds.crs else None, "transform": list(ds.transform)[:6],
                      "tags": ds.tags(1), "gdal": rasterio.__gdal_version__}))
"""


def test_debian_rasterio_reads_a_subdataset():
    name, ds = next((n, d) for n, d in field_datasets(XDF / "grids.fst") if d.GetMetadataItem("FST_GRTYP") == "L")
    r = subprocess.run(["/usr/bin/python3", "-c", SCRIPT, name], capture_output=True, text=True, timeout=120)
    if "No module named 'rasterio'" in r.stderr:
        pytest.fail("python3-rasterio is not installed")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["driver"] == "FST"
    assert out["gdal"].startswith("3.6")
    assert out["count"] == ds.RasterCount
    a = ds.GetRasterBand(1).ReadAsArray()
    assert out["shape"] == list(a.shape)
    assert out["sum"] == pytest.approx(float(a.astype(np.float64).sum()), rel=1e-12)
    assert out["crs"] and out["tags"]["FST_NOMVAR"] == ds.GetMetadataItem("FST_NOMVAR")


UNITS = r"""
import json, sys
import rasterio
with rasterio.open(sys.argv[1]) as ds:
    print(json.dumps({"units": list(ds.units), "tags": [ds.tags(b).get("units") for b in ds.indexes]}))
"""


def test_rasterio_units_are_the_bands_unit_type():
    """rasterio's `units` (GDAL's GetUnitType, also what gdalinfo prints as "Unit Type" and
    GTiff keeps) give the nomvar's CF units, the same as the `units` item: they were None."""
    name, ds = next((n, d) for n, d in field_datasets(XDF / "grids.fst")
                    if d.GetMetadataItem("FST_NOMVAR") == "TT" and d.GetMetadataItem("FST_GRTYP") == "Z")
    assert ds.GetRasterBand(1).GetUnitType() == "degC"
    r = subprocess.run(["/usr/bin/python3", "-c", UNITS, name], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["units"] == ["degC"] * ds.RasterCount, out
    assert out["tags"] == out["units"], out
    # The geolocation arrays are in degrees; a nomvar the CF table does not know has no unit.
    lat = gdal.Open(next(n for n, d in field_datasets(XDF / "grids.fst") if d.GetMetadataItem("FST_GRTYP") == "G") + ":LAT")
    assert lat.GetRasterBand(1).GetUnitType() == "degrees_north"
    unknown = [d for n, d in field_datasets(XDF / "names.fst") if d.GetMetadataItem("FST_NOMVAR") == "ABCD"]
    assert unknown and unknown[0].GetRasterBand(1).GetUnitType() == ""
