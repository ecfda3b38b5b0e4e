"""OWSLib as a real OGC client: capabilities 1.1.1 and 1.3.0, GetMap, GetFeatureInfo, with the
values checked against fst-core's own decoding (the `fst dump` CLI)."""
import io
import json
import math

import numpy as np
import pytest
from owslib.wms import WebMapService
from PIL import Image

from conftest import fst_records, fst_values


@pytest.mark.parametrize("version", ["1.1.1", "1.3.0"])
def test_capabilities(server, version):
    wms = WebMapService(server + "/wms", version=version)
    assert wms.identification.type in ("WMS", "OGC:WMS")
    names = set(wms.contents)
    assert {"TT", "PN", "PR", "UV", "GZ", "HU"} <= names
    tt = wms["TT"]
    assert tt.title == "Air temperature (TT)"
    assert "temperature" in tt.styles and "legend" in tt.styles["temperature"]
    assert tt.queryable
    w, s, e, n = tt.boundingBoxWGS84
    assert -180 <= w < e <= 180 and 10 < s < n <= 90
    assert tt.timepositions and any("2026-11-20T12:00:00Z" in t for t in tt.timepositions)
    if version == "1.3.0":
        dims = {k.lower(): v for k, v in (tt.dimensions or {}).items()}
        assert {"time", "elevation", "reference_time"} <= set(dims)
        assert "1000" in ",".join(dims["elevation"]["values"])
        assert dims["elevation"]["units"] == "hPa"
    ops = [op.name for op in wms.operations]
    assert "GetMap" in ops and "GetFeatureInfo" in ops
    assert "image/png" in wms.getOperationByName("GetMap").formatOptions


@pytest.mark.parametrize("version,crs,bbox", [
    ("1.3.0", "EPSG:3857", (-13000000, 5000000, -9000000, 8000000)),
    ("1.1.1", "EPSG:4326", (-120, 40, -80, 60)),
    ("1.3.0", "CRS:84", (-120, 40, -80, 60)),
])
def test_getmap(server, version, crs, bbox):
    wms = WebMapService(server + "/wms", version=version)
    img = wms.getmap(layers=["TT"], styles=["temperature"], srs=crs, bbox=bbox, size=(200, 150),
                     format="image/png", transparent=True, time="2026-11-20T18:00:00Z",
                     elevation="850", DIM_REFERENCE_TIME="2026-11-20T12:00:00Z")
    im = Image.open(io.BytesIO(img.read())).convert("RGBA")
    assert im.size == (200, 150)
    alpha = np.asarray(im)[:, :, 3]
    assert (alpha > 0).mean() > 0.9


def test_getfeatureinfo_matches_fst_core(server):
    wms = WebMapService(server + "/wms", version="1.3.0")
    bbox = (-130, 30, -70, 70)
    r = wms.getfeatureinfo(layers=["TT"], srs="CRS:84", bbox=bbox, size=(60, 40), format="image/png",
                           query_layers=["TT"], info_format="application/json", xy=(30, 20),
                           time="2026-11-20T18:00:00Z", elevation="500",
                           DIM_REFERENCE_TIME="2026-11-20T12:00:00Z")
    j = json.loads(r.read())
    assert j["units"] == "°C" and j["level"] == "500" and j["time"] == "2026-11-20T18:00:00Z"
    assert math.isclose(j["lon"], -99.5) and math.isclose(j["lat"], 49.5)
    rec = [r for r in fst_records() if r["nomvar"] == "TT" and r["datev"] == "2026-11-20T18:00:00Z"
           and r["dateo"] == "2026-11-20T12:00:00Z" and r["level"] and "500" in json.dumps(r["level"])]
    assert len(rec) == 1, rec
    vals = fst_values(rec[0]["index"])
    i, jj = int(math.floor(j["i"] + 0.5)), int(math.floor(j["j"] + 0.5))
    assert np.float32(j["value"]) == vals[jj, i]
    # text/plain and text/xml carry the same value.
    for fmt, needle in (("text/plain", "value = "), ("text/xml", "<value>")):
        r = wms.getfeatureinfo(layers=["TT"], srs="CRS:84", bbox=bbox, size=(60, 40), format="image/png",
                               query_layers=["TT"], info_format=fmt, xy=(30, 20), time="2026-11-20T18:00:00Z",
                               elevation="500", DIM_REFERENCE_TIME="2026-11-20T12:00:00Z")
        text = r.read().decode()
        assert needle + repr(float(np.float32(j["value"])))[:6] in text, text


def test_service_exception(server):
    import urllib.error
    import urllib.request
    url = server + "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=NOPE&STYLES=&CRS=EPSG:3857&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1&FORMAT=image/png"
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url)
    body = e.value.read().decode()
    assert 'code="LayerNotDefined"' in body


def test_hostile_requests_keep_the_server_up(server):
    import urllib.error
    import urllib.request
    for q in ("/wms?REQUEST=GetMap&WIDTH=999999999&HEIGHT=99999999", "/tiles/..%2f..%2fetc/1/0/0.png",
              "/wms?" + "A=" * 5000, "/tiles/TT/99/0/0.png", "/wms?REQUEST=GetFeatureInfo&I=-1"):
        try:
            urllib.request.urlopen(server + q)
            status = 200
        except urllib.error.HTTPError as e:
            status = e.code
        assert 400 <= status < 500, (q, status)
    with urllib.request.urlopen(server + "/healthz") as r:
        assert json.load(r)["status"] == "ok"
