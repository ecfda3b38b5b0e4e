"""Chromium headless drives the viewer at /: the map shows the field with coastlines, and a
click reports librmn's value at the clicked grid node."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import GRIDS, ROOT, SAMPLE, serving
from cdp import CHROMIUM, Browser

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")


@needs_chromium
def test_viewer_shows_the_field(server, tmp_path):
    shot = tmp_path / "viewer.png"
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
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


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def wait_for_map(b):
    """Wait for the layer list, the base layer and every visible field tile."""
    b.wait_for("window.fstViewer && fstViewer.selected() && document.body.dataset.basemap === 'ready'")
    b.wait_for("document.querySelectorAll('.fst-tiles img').length > 0 && "
               "Array.from(document.querySelectorAll('.fst-tiles img')).every(i => i.complete)")
    # Leaflet fades tiles in (0.2 s) after they load.
    b.wait_for("Array.from(document.querySelectorAll('.fst-tiles img'))"
               ".every(i => i.classList.contains('leaflet-tile-loaded') && getComputedStyle(i).opacity === '1')")
    b.eval("new Promise(r => setTimeout(() => r(true), 300))")


def map_pixels(png):
    """The map part (right of the 300-pixel panel) of a screenshot, as integers."""
    return np.asarray(Image.open(png).convert("RGB")).astype(int)[:, 310:, :]


@needs_chromium
def test_viewer_draws_coastlines_over_the_field_offline(server, browser, tmp_path):
    b = browser
    b.open(server + "/?layer=TT")
    wait_for_map(b)
    with_coasts = tmp_path / "coasts.png"
    b.screenshot(with_coasts)
    keep = os.environ.get("FST_TILES_KEEP_COASTS")
    if keep:
        shutil.copy(with_coasts, keep)
    b.eval("fstViewer.map.removeLayer(fstViewer.basemap), true")
    b.wait_for("!fstViewer.map.hasLayer(fstViewer.basemap)")
    without = tmp_path / "no-coasts.png"
    b.screenshot(without)
    a, n = map_pixels(with_coasts), map_pixels(without)
    # The field: saturated colours over a good part of the map, with or without coastlines.
    sat = a.max(axis=2) - a.min(axis=2)
    assert (sat > 60).mean() > 0.10, f"only {(sat > 60).mean():.1%} of the map is coloured"
    # The coastlines: dark lines (#111) where the map without them has none, both over the
    # field and over the empty background around it.
    dark_a, dark_n = a.max(axis=2) < 70, n.max(axis=2) < 70
    lines = dark_a & ~dark_n
    assert lines.sum() > 3000, f"{lines.sum()} coastline pixels"
    # Over the field: a coastline pixel whose neighbourhood 3 pixels away is field colour.
    near_field = np.zeros_like(lines)
    for dy, dx in ((3, 0), (-3, 0), (0, 3), (0, -3)):
        near_field |= np.roll(sat > 60, (dy, dx), axis=(0, 1))
    assert (lines & near_field).sum() > 500, f"{(lines & near_field).sum()} coastline pixels over the field"


def click_and_read_popup(b, x, y):
    """Click at page pixel (x, y) and read the popup: value, latitude, longitude. Leaflet can
    drop a click that comes within moments of the end of its fitBounds animation, so a
    click without a popup is repeated (at most three times)."""
    popup = ("(() => { const v = document.querySelector('.leaflet-popup-content .fi-value'); "
             "const w = document.querySelector('.leaflet-popup-content .fi-where'); "
             "return v && w && [v.dataset.value, +w.dataset.lat, +w.dataset.lon]; })()")
    for attempt in range(3):
        b.click(x, y)
        try:
            return b.wait_for(popup, timeout=5)
        except TimeoutError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def librmn_record(nomvar, etiket):
    """The record of grids.fst that librmn wrote for the field the viewer shows first (the
    level nearest the surface), its values and its grid's coordinates (from the fixture's
    manifest and value blob, both written by librmn)."""
    manifest = json.loads(GRIDS.with_suffix(".json").read_text())
    blob = GRIDS.with_suffix(".bin").read_bytes()

    def arr(m):
        return np.frombuffer(blob[m["offset"]:m["offset"] + m["nbytes"]], dtype="<f4")

    recs = [r for r in manifest["records"] if r["nomvar"].strip() == nomvar and r["etiket"].strip() == etiket]
    rec = max(recs, key=lambda r: r["ip1_decoded"]["value"])  # pressure levels: the highest
    g = manifest["grids"][rec["grid"]]
    shape = (rec["nj"], rec["ni"])  # Fortran order: i fastest
    return rec, arr(rec["data"]).reshape(shape), arr(g["lat"]).reshape(shape), arr(g["lon"]).reshape(shape)


@needs_chromium
@pytest.mark.parametrize("nomvar,etiket,layer", [("TT", "GRID_Z", "TT.P.GRID_Z"), ("P0", "GRID_L", "P0")])
def test_click_reports_librmn_value_at_the_clicked_node(grids_server, browser, nomvar, etiket, layer):
    rec, values, lat, lon = librmn_record(nomvar, etiket)
    nj, ni = values.shape
    b = browser
    b.open(f"{grids_server}/?layer={layer}")
    wait_for_map(b)
    level = b.eval("fstViewer.selected().level")
    assert float(level) == rec["ip1_decoded"]["value"], "the first map is the level nearest the surface"
    # Nodes in the neighbourhood of every corner and at the centre, clicked on the first,
    # whole-grid view (where a click's latitude was wrong by degrees when the query mixed
    # the Mercator map with a CRS:84 box).
    nodes = [(1, 1), (ni - 2, 1), (1, nj - 2), (ni - 2, nj - 2), (ni // 2, nj // 2), (ni // 3, 2 * nj // 3)]
    for i, j in nodes:
        la, lo = float(lat[j, i]), float(lon[j, i])
        lo = (lo + 180) % 360 - 180
        # Page position of the node on the map (the map's own projection), and the size of a
        # grid cell there in pixels: the click must land nearer this node than any other.
        x, y, cell = b.eval(f"""(() => {{
            const m = fstViewer.map, r = m.getContainer().getBoundingClientRect();
            const near = (a, b) => {{ let d = b - a; while (d > 180) d -= 360; while (d < -180) d += 360; return a + d; }};
            const c = m.getCenter().lng, p = m.latLngToContainerPoint([{la}, near(c, {lo})]);
            const q = m.latLngToContainerPoint([{float(lat[j, i + 1])}, near(c, {float(lon[j, i + 1])})]);
            const s = m.latLngToContainerPoint([{float(lat[j + 1, i])}, near(c, {float(lon[j + 1, i])})]);
            return [r.left + p.x, r.top + p.y, Math.min(p.distanceTo(q), p.distanceTo(s))];
        }})()""")
        assert cell > 4, f"grid cells of {cell:.1f} px are too small to click one"
        b.eval("document.querySelectorAll('.leaflet-popup').forEach(p => p.remove()), fstViewer.map.closePopup(), true")
        value, plat, plon = click_and_read_popup(b, round(x), round(y))
        want = values[j, i]
        assert value != "", f"node ({i},{j}) at {la:.3f},{lo:.3f}: no data"
        assert np.float32(float(value)) == want, f"node ({i},{j}) at {la:.3f},{lo:.3f}: popup {value}, librmn {want}"
        # The popup names the clicked place: within a cell of the node.
        assert abs(plat - la) < 0.5 * abs(float(lat[j + 1, i]) - la) + 0.05, (plat, la)
        dlon = (plon - lo + 180) % 360 - 180
        assert abs(dlon) < abs((float(lon[j, i + 1]) - float(lon[j, i]) + 180) % 360 - 180) + 0.05, (plon, lo)


@pytest.fixture(scope="session")
def obs_server(tmp_path_factory):
    """A server on the bundled sample and an IODA file of 2,000 observations (ObsValue,
    ObsError, HofX, PreQC; tile-server/tests/data/obs_sfc_sonde.nc4)."""
    data = tmp_path_factory.mktemp("obs-data")
    shutil.copy(SAMPLE, data / "model.fst")
    shutil.copy(ROOT / "tile-server" / "tests" / "data" / "obs_sfc_sonde.nc4", data / "obs.nc4")
    with serving(data, tmp_path_factory.mktemp("obs") / "server.log") as base:
        yield base


@needs_chromium
def test_viewer_lists_observations_above_fields_and_a_click_shows_one(obs_server, browser):
    # An observation far from every other (so that the nearest to the click is it), from the
    # GeoJSON route.
    with urllib.request.urlopen(obs_server + "/collections/obs.airTemperature/items?limit=10000") as r:
        feats = json.load(r)["features"]
    pts = np.array([f["geometry"]["coordinates"] for f in feats])
    d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
    # A surface station reports several times at one place: other places only count.
    d[d < 1e-9] = np.inf
    k = int(np.argmax(d.min(axis=1)))
    lon, lat = pts[k]
    assert d[k].min() > 0.5, "the file needs an isolated observation"
    b = browser
    b.open(f"{obs_server}/?layer=TT&obs=obs.airTemperature")
    wait_for_map(b)
    # The observation picker is above the field picker, and lists the file's layers.
    above = b.eval("document.getElementById('obsLayer').compareDocumentPosition(document.getElementById('layer')) "
                   "& Node.DOCUMENT_POSITION_FOLLOWING")
    assert above, "the observation layers are listed above the field layers"
    names = b.eval("Array.from(document.querySelectorAll('#obsLayer option')).map(o => o.value)")
    assert {"obs.airTemperature", "obs.airTemperature.OmB", "obs.airTemperature.HofX"} <= set(names)
    b.eval(f"fstViewer.map.setView([{lat}, {lon}], 6, {{animate: false}}), true")
    b.wait_for("document.querySelectorAll('.obs-tiles img').length > 0 && "
               "Array.from(document.querySelectorAll('.obs-tiles img')).every(i => i.complete)")
    x, y = b.eval(f"""(() => {{
        const m = fstViewer.map, r = m.getContainer().getBoundingClientRect();
        const p = m.latLngToContainerPoint([{lat}, {lon}]);
        return [r.left + p.x, r.top + p.y];
    }})()""")
    rows = "(() => { const r = document.querySelectorAll('.leaflet-popup-content .fi-obs'); return r.length && Array.from(r).map(e => +e.dataset.index); })()"
    for attempt in range(3):
        b.click(round(x), round(y))
        try:
            got = b.wait_for(rows, timeout=5)
            break
        except TimeoutError:
            if attempt == 2:
                raise
    # The nearest observations are the reports of that station.
    station = {f["id"]: f["properties"]["station"] for f in feats}
    assert station[got[0]] == feats[k]["properties"]["station"], (got, feats[k])
    text = b.eval("document.querySelector('.leaflet-popup-content').textContent")
    assert feats[k]["properties"]["station"] in text


@needs_chromium
def test_the_viewer_says_how_many_observations_its_qc_filter_hides(obs_server, browser):
    def count(qc):
        q = f"?qc={qc}" if qc else ""
        with urllib.request.urlopen(f"{obs_server}/collections/obs.airTemperature/stats{q}") as r:
            return json.load(r)["count"]

    passed, upto1, everything = count(""), count("1"), count("all")
    assert passed < everything == upto1, "the file's flags are 0 and 1 (3 % flagged)"
    b = browser
    b.open(f"{obs_server}/?layer=TT&obs=obs.airTemperature")
    wait_for_map(b)
    note = "document.getElementById('obsQcNote').textContent"
    text = b.wait_for(f"{note}.length > 0 && {note}")
    assert f"{passed} of the {everything} observations" in text, text
    # Every observation: nothing hidden, no note.
    b.eval("(() => { const e = document.getElementById('obsQc'); e.value = 'all'; "
           "e.dispatchEvent(new Event('input')); return true; })()")
    b.wait_for(f"{note} === ''")
    assert "qc=all" in b.eval("document.querySelector('.obs-tiles img').src")
    # A largest flag from the address: offered, chosen, and it hides nothing here.
    b.open(f"{obs_server}/?layer=TT&obs=obs.airTemperature&qc=1")
    wait_for_map(b)
    b.wait_for("document.querySelectorAll('.obs-tiles img').length > 0")
    assert b.eval("document.getElementById('obsQc').value") == "1"
    assert "qc=1" in b.eval("document.querySelector('.obs-tiles img').src")
    time.sleep(0.5)  # the two stats requests
    assert b.eval(note) == ""


def set_control(b, control, value, event):
    b.eval(f"(() => {{ const e = document.getElementById('{control}'); e.value = {json.dumps(value)}; "
           f"e.dispatchEvent(new Event('{event}')); return true; }})()")
    return b.eval("(() => { const s = fstViewer.selected(); return [s.run, s.time, s.level]; })()")


@needs_chromium
def test_changing_run_keeps_the_valid_time_and_level(server, browser):
    # The sample's runs: 2026-11-20 12 UTC (TT at 1000, 850 and 500 hPa, 12, 18 and 00 UTC)
    # and 2026-11-21 00 UTC (850 hPa, 00 and 06 UTC). The sliders hold indices, which were
    # kept across a change of run: 00 UTC of the first run became 06 UTC of the second, and
    # back in the first run the map showed 18 UTC at 1000 hPa instead of 00 UTC at 500 hPa.
    b = browser
    b.open(server + "/?layer=TT")
    wait_for_map(b)
    first, second = "2026-11-20T12:00:00Z", "2026-11-21T00:00:00Z"
    set_control(b, "run", first, "change")
    times = b.eval("fstViewer.selected().layer.runs.filter(r => r.reference_time === '%s')[0].times" % first)
    set_control(b, "time", str(times.index("2026-11-21T00:00:00Z")), "input")
    assert set_control(b, "level", "2", "input") == [first, "2026-11-21T00:00:00Z", "500"]
    # The same valid time in the other run; 500 hPa is not there: its only level.
    assert set_control(b, "run", second, "change") == [second, "2026-11-21T00:00:00Z", "850"]
    assert b.eval("document.getElementById('timeText').textContent") == "2026-11-21T00:00:00Z"
    # Back: the time and the level shown stay.
    assert set_control(b, "run", first, "change") == [first, "2026-11-21T00:00:00Z", "850"]
    # 06 UTC is only in the second run: going back takes the nearest time.
    set_control(b, "run", second, "change")
    set_control(b, "time", "1", "input")
    assert set_control(b, "run", first, "change") == [first, "2026-11-21T00:00:00Z", "850"]


@needs_chromium
def test_a_colour_range_the_server_refuses_is_explained(server, browser):
    b = browser
    b.open(server + "/?layer=TT")
    wait_for_map(b)
    assert b.eval("document.getElementById('message').textContent") == ""
    set_control(b, "range", "20,-20", "change")
    msg = b.wait_for("document.getElementById('message').textContent")
    assert "COLORSCALERANGE" in msg, msg
    # A valid range clears the message.
    set_control(b, "range", "-20,20", "change")
    b.wait_for("document.getElementById('legendImg').complete && document.getElementById('legendImg').naturalWidth > 0")
    assert b.eval("document.getElementById('message').textContent") == ""


@pytest.fixture(scope="session")
def markup_server(tmp_path_factory):
    """A server on the sample plus a TT field whose etiket is markup (`<B>X</B>`: FST's
    6-bit alphabet holds < > / and capitals), so that TT's layer titles carry it."""
    from conftest import FST

    data = tmp_path_factory.mktemp("markup-data")
    shutil.copy(SAMPLE, data / "model.fst")
    subprocess.run([str(FST), "cp", str(SAMPLE), str(data / "markup.fst"), "--nomvar", "TT",
                    "--set-etiket", "<B>X</B>"], check=True, capture_output=True)
    with serving(data, tmp_path_factory.mktemp("markup") / "server.log") as base:
        yield base


@needs_chromium
def test_titles_from_the_data_are_text_not_markup(markup_server, browser):
    # Layer titles (typvar, etiket), style names and runs went into innerHTML unescaped: a
    # file's etiket became markup in the page.
    b = browser
    b.open(markup_server + "/")
    b.wait_for("document.getElementById('layer').options.length > 1")
    texts = b.eval("Array.from(document.getElementById('layer').options).map(o => o.textContent)")
    assert any("<B>X</B>" in t for t in texts), texts
    assert b.eval("document.querySelectorAll('#layer b, #style b, #run b').length") == 0


@needs_chromium
def test_a_refused_feature_info_is_said_in_the_popup(server, browser):
    # The click's GetFeatureInfo had no error path: an exception report (a layer gone at a
    # reload, a refused dimension) was a rejected promise and no popup at all.
    b = browser
    b.open(server + "/?layer=TT")
    wait_for_map(b)
    b.eval("""(() => { const real = window.fetch;
        window.fetch = (url, o) => String(url).includes('GetFeatureInfo')
          ? Promise.resolve(new Response('<ServiceExceptionReport><ServiceException code="LayerNotDefined">'
              + 'layer TT is gone</ServiceException></ServiceExceptionReport>', {status: 400}))
          : real(url, o);
        return true; })()""")
    size = b.eval("[window.innerWidth, window.innerHeight]")
    for attempt in range(3):
        b.click(size[0] // 2, size[1] // 2)
        try:
            text = b.wait_for("(() => { const e = document.querySelector('.leaflet-popup-content .fi-error'); "
                              "return e && e.textContent; })()", timeout=5)
            break
        except TimeoutError:
            if attempt == 2:
                raise
    assert text == "layer TT is gone", text


@needs_chromium
def test_changing_layer_keeps_the_run_valid_time_and_level(server, browser):
    # A change of layer went back to the new layer's defaults (its latest time): going from
    # TT at 850 hPa, 18 UTC to UU showed UU at another time.
    b = browser
    b.open(server + "/?layer=TT")
    wait_for_map(b)
    first = "2026-11-20T12:00:00Z"
    set_control(b, "run", first, "change")
    times = b.eval("fstViewer.selected().layer.runs.filter(r => r.reference_time === '%s')[0].times" % first)
    set_control(b, "time", str(times.index("2026-11-20T18:00:00Z")), "input")
    assert set_control(b, "level", "1", "input") == [first, "2026-11-20T18:00:00Z", "850"]
    assert set_control(b, "layer", "UU", "change") == [first, "2026-11-20T18:00:00Z", "850"]
    assert b.eval("document.getElementById('timeText').textContent") == "2026-11-20T18:00:00Z"
