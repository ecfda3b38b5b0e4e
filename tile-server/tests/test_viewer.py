"""Chromium headless opens the viewer at / and screenshots it: the map shows the field."""
import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")
def test_viewer_shows_the_field(server, tmp_path):
    shot = tmp_path / "viewer.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                        "--hide-scrollbars", "--window-size=1200,800", "--virtual-time-budget=10000",
                        f"--screenshot={shot}", server + "/?layer=TT"],
                       check=True, timeout=120, capture_output=True)
    im = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    keep = os.environ.get("FST_TILES_KEEP")
    if keep:
        shutil.copy(shot, keep)
    # The map is right of the 300-pixel panel. The temperature ramp's colours are saturated:
    # count pixels far from the grey background (#dfe6ea), white and black.
    m = im[:, 310:, :]
    sat = m.max(axis=2) - m.min(axis=2)
    coloured = (sat > 60).mean()
    assert coloured > 0.10, f"only {coloured:.1%} of the map is coloured"
    # The legend image is drawn in the panel (its frame and ramp).
    panel = im[:, :300, :]
    assert ((panel.max(axis=2) - panel.min(axis=2)) > 60).sum() > 500
