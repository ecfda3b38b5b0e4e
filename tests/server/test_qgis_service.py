"""QGIS headless (Debian python3-qgis) adds the WMS layer and the XYZ layer and renders them:
the images are not blank and the colours at known points are the server's colours there."""
import io
import os
import subprocess
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

HERE = Path(__file__).resolve().parent
HAVE_QGIS = subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True).returncode == 0


def server_image(server):
    url = (server + "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TT&STYLES=temperature&CRS=EPSG:3857"
           "&BBOX=-13000000,5000000,-9000000,8000000&WIDTH=400&HEIGHT=300&FORMAT=image/png")
    with urllib.request.urlopen(url) as r:
        return np.asarray(Image.open(io.BytesIO(r.read())).convert("RGBA")).astype(int)


@pytest.mark.skipif(not HAVE_QGIS, reason="python3-qgis is not installed")
@pytest.mark.parametrize("kind", ["wms", "xyz"])
def test_qgis_renders(server, tmp_path, kind):
    out = tmp_path / f"qgis_{kind}.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    p = subprocess.run(["/usr/bin/python3", str(HERE / "qgis_render_service.py"), kind, server, str(out)],
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and out.exists(), p.stdout + p.stderr
    q = np.asarray(Image.open(out).convert("RGBA")).astype(int)
    assert q.shape[:2] == (300, 400)
    assert (q[:, :, 3] > 0).mean() > 0.5, "blank image"
    ref = server_image(server)
    # Known points (inside the grid): QGIS shows the server's colour there.
    for (r, c) in [(150, 200), (100, 100), (200, 300), (50, 350)]:
        d = np.abs(q[r, c, :3] - ref[r, c, :3]).max()
        tol = 6 if kind == "wms" else 40  # XYZ tiles are resampled by QGIS to the view
        assert d <= tol, (kind, r, c, q[r, c], ref[r, c])
