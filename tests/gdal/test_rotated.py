"""Rotated grids (E, Z and # on E, the Yin and Yang halves of U) seen whole by real clients
(issue 10): `gdallocationinfo -wgs84` answers librmn's value at grid nodes spread over the
grid, the four corners' neighbourhoods included, straight from the driver and from a GeoTIFF
that `gdal_translate` exported; QGIS renders the field into EPSG:3857 and EPSG:4326 over the
grid's whole footprint (from librmn's latitudes and longitudes) and nowhere else.

Fields: rotated.fst, written by librmn for these tests (tests/gdal/make_rotated.py: grids
across rotated 180° and 0°/360°, as GEM writes them), the fixtures' grids.fst, and the random
grids of scripts/oracle-random.sh when FSTGIS_EXTRA_FIXTURES is set.
"""
import json
import math
import os
import pathlib
import subprocess

import numpy as np
import pytest

from conftest import XDF, field_datasets, gdal, have_exe, need, rotated_case, rotated_cases

pytestmark = pytest.mark.require_driver("FST")

HERE = pathlib.Path(__file__).resolve().parent

CASES = [
    ("rotated", "E", None), ("rotated", "ZLAM", None), ("rotated", "Z360", None),
    ("rotated", "TILE", None), ("rotated", "U", "YIN"), ("rotated", "U", "YANG"),
    ("grids", "GRID_E", None), ("grids", "GRID_Z", None), ("grids", "GRID_D", None),
    ("grids", "GRID_U", "YIN"), ("grids", "GRID_U", "YANG"),
]
IDS = [f"{s}:{e}" + (f":{p}" if p else "") for s, e, p in CASES]


@pytest.fixture
def case(request, rotated_fst):
    source, etiket, part = request.param
    path = rotated_fst if source == "rotated" else XDF / "grids.fst"
    return rotated_case(path, etiket, part)


def node_points(c):
    """(i, j) of grid nodes: each corner and its inward neighbours, and a 6 x 6 lattice."""
    pts = set()
    for i0, di in ((0, 1), (c.ni - 1, -1)):
        for j0, dj in ((0, 1), (c.nj - 1, -1)):
            for a in (0, 1):
                for b in (0, 1):
                    pts.add((min(max(i0 + a * di, 0), c.ni - 1), min(max(j0 + b * dj, 0), c.nj - 1)))
    for i in np.linspace(0, c.ni - 1, 6).round().astype(int):
        for j in np.linspace(0, c.nj - 1, 6).round().astype(int):
            pts.add((int(i), int(j)))
    return sorted(pts)


def lon180(lon):
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


def accepted_values(c, i, j):
    """librmn's value at node (i, j) and at any node at the same place (an E grid's first and
    last columns are one meridian). librmn's coordinates are float32 and off by up to 2.5e-4°
    far from the projection centre (1.4e-5°/cos(lat) more in longitude): two nodes of one
    meridian came 1.0e-4° apart at 75°N (heavy oracle seed 796657529)."""
    lat0, lon0 = c.lat[j, i], c.lon[j, i]
    lon_tol = 2.5e-4 + 1.4e-5 / max(np.cos(np.radians(lat0)), 1e-6)
    same = (np.abs(c.lat - lat0) < 2.5e-4) & ((np.abs(lon180(c.lon - lon0)) < lon_tol) | (abs(lat0) > 89.999))
    return c.values[same]


def locate(name, points, env=None):
    """gdallocationinfo -valonly -wgs84 for many lon/lat at once (read from stdin)."""
    stdin = "".join(f"{lon!r} {lat!r}\n" for lon, lat in points)
    r = subprocess.run(["gdallocationinfo", "-valonly", "-b", "1", "-wgs84", name], input=stdin, capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.split("\n")
    return [lines[k].strip() if k < len(lines) else "" for k in range(len(points))]


def beyond_rotated_pole(c):
    """Record rows whose rotated latitude is past ±90°: librmn accepts a Z axis that runs over
    the rotated pole, but no CRS inverse (PROJ answers latitudes in [-90, 90]) reaches them."""
    ds = gdal.Open(c.name)
    gt = ds.GetGeoTransform(can_return_null=True)
    if gt is None:
        return set()
    flip = ds.GetMetadataItem("FST_ROWS_REVERSED") == "YES"
    rows = set()
    for j in range(c.nj):
        line = c.nj - 1 - j if flip else j
        if abs(gt[3] + (line + 0.5) * gt[5]) > 90.0:
            rows.add(j)
    return rows


def check_location_info(c, name, env=None):
    skip = beyond_rotated_pole(c)
    pts = [(i, j) for i, j in node_points(c) if j not in skip]
    lonlat = [(float(lon180(c.lon[j, i])), float(c.lat[j, i])) for i, j in pts]
    got = locate(name, lonlat, env)
    bad = []
    for (i, j), (lon, lat), g in zip(pts, lonlat, got):
        want = accepted_values(c, i, j)
        if not g or not np.any(np.isclose(float(g), want, rtol=1e-6, atol=1e-6)):
            bad.append(f"node ({i}, {j}) at lon {lon:.4f} lat {lat:.4f}: GDAL {g or 'off the file'}, librmn {want}")
    assert not bad, f"{c.name}: {len(bad)} of {len(pts)} nodes wrong:\n" + "\n".join(bad)


@pytest.mark.parametrize("case", CASES, ids=IDS, indirect=True)
def test_gdallocationinfo_answers_librmn_value_over_the_whole_grid(case):
    need(have_exe("gdallocationinfo"), "gdallocationinfo missing")
    check_location_info(case, case.name)


@pytest.mark.parametrize("case", CASES, ids=IDS, indirect=True)
def test_geotiff_export_keeps_the_whole_grid(case, tmp_path):
    need(have_exe("gdal_translate"), "gdal_translate missing")
    tif = tmp_path / "out.tif"
    # GeoTIFF keys cannot hold an ob_tran CRS: GDAL keeps it in the .aux.xml beside the file,
    # so PAM must be on for the export and its readers (here, in tmp_path only).
    env = dict(os.environ, GDAL_PAM_ENABLED="YES")
    r = subprocess.run(["gdal_translate", "-q", "-of", "GTiff", case.name, str(tif)], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    info = json.loads(subprocess.run(["gdalinfo", "-json", str(tif)], capture_output=True, text=True, env=env).stdout)
    assert "ob_tran" in info["coordinateSystem"]["wkt"] or "Pole rotation" in info["coordinateSystem"]["wkt"], info
    # The GeoTIFF holds the rows north up like the driver, so the same nodes answer the same.
    check_location_info(case, str(tif), env)


def extra_cases():
    extra = os.environ.get("FSTGIS_EXTRA_FIXTURES")
    if not extra:
        return []
    return sorted(p for p in pathlib.Path(extra).glob("random_grids.fst") if p.with_suffix(".json").exists())


@pytest.mark.parametrize("path", extra_cases(), ids=str)
def test_random_rotated_grids_answer_librmn_value(path):
    """Rotated grids drawn at random by scripts/oracle-random.sh (FSTGIS_EXTRA_FIXTURES).
    Those without a geotransform (Z axes not evenly spaced: geolocation arrays) are left out:
    GDAL 3.6's gdallocationinfo cannot query them ("Cannot get geotransform", the HOWTO says
    so); test_fst.py checks their geolocation arrays against librmn."""
    cases = [c for c in rotated_cases(path) if gdal.Open(c.name).GetGeoTransform(can_return_null=True) is not None]
    for c in cases:
        check_location_info(c, c.name)


# --------------------------------------------------------------------------- QGIS

MERC_R = 6378137.0
MERC_MAX_LAT = 85.0511287798


def have_qgis():
    r = subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True)
    return r.returncode == 0


def view_extent(c, crs):
    """The grid's footprint's bounding box (10 % margin), or the world when it wraps."""
    lon = lon180(c.lon)
    world = np.ptp(lon) > 300
    if world:
        # QGIS leaves a few pixels blank along a world map's own edges (±180°, the poles)
        # whatever the layer: keep those out of the view.
        x0, x1, y0, y1 = -175.0, 175.0, -85.0, 85.0
    else:
        x0, x1 = lon.min(), lon.max()
        y0, y1 = c.lat.min(), c.lat.max()
        mx, my = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
        x0, x1 = max(x0 - mx, -180.0), min(x1 + mx, 180.0)
        y0, y1 = max(y0 - my, -90.0), min(y1 + my, 90.0)
    if crs == "EPSG:4326":
        return [float(x0), float(y0), float(x1), float(y1)]
    y0, y1 = max(y0, -80.0), min(y1, 80.0)
    merc_y = lambda lat: MERC_R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))  # noqa: E731
    return [MERC_R * math.radians(x0), merc_y(y0), MERC_R * math.radians(x1), merc_y(y1)]


def unit(lat, lon):
    la, lo = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def footprint_zones(c, lon, lat):
    """For each pixel (lon, lat): inside the grid for sure (closer to its nearest node than
    0.45 of the local spacing, so inside that node's cell) and outside for sure (farther from
    every node than the local spacing)."""
    from scipy.spatial import cKDTree

    nodes = unit(c.lat, c.lon)

    def gap(a, b):
        return 2 * np.arcsin(np.clip(np.linalg.norm(a - b, axis=-1) / 2, 0, 1))

    di = gap(nodes[:, 1:], nodes[:, :-1])
    dj = gap(nodes[1:, :], nodes[:-1, :])
    # Per node, the smallest and largest gap to its neighbours along i and j.
    lo_i = np.minimum(np.pad(di, ((0, 0), (0, 1)), constant_values=np.inf), np.pad(di, ((0, 0), (1, 0)), constant_values=np.inf))
    lo_j = np.minimum(np.pad(dj, ((0, 1), (0, 0)), constant_values=np.inf), np.pad(dj, ((1, 0), (0, 0)), constant_values=np.inf))
    small = np.minimum(lo_i, lo_j)
    hi_i = np.maximum(np.pad(di, ((0, 0), (0, 1)), constant_values=0), np.pad(di, ((0, 0), (1, 0)), constant_values=0))
    hi_j = np.maximum(np.pad(dj, ((0, 1), (0, 0)), constant_values=0), np.pad(dj, ((1, 0), (0, 0)), constant_values=0))
    big = np.maximum(hi_i, hi_j)
    tree = cKDTree(nodes.reshape(-1, 3))
    pix = unit(lat, lon).reshape(-1, 3)
    d, k = tree.query(pix)
    d = 2 * np.arcsin(np.clip(d / 2, 0, 1))
    inside = d <= 0.45 * small.ravel()[k]
    outside = d > big.ravel()[k]
    return inside.reshape(lat.shape), outside.reshape(lat.shape)


def pixel_lon_lat(crs, extent, w, h):
    x0, y0, x1, y1 = extent
    x = x0 + (np.arange(w) + 0.5) * (x1 - x0) / w
    y = y1 - (np.arange(h) + 0.5) * (y1 - y0) / h
    xx, yy = np.meshgrid(x, y)
    if crs == "EPSG:4326":
        return xx, yy
    return np.degrees(xx / MERC_R), np.degrees(2 * np.arctan(np.exp(yy / MERC_R)) - np.pi / 2)


def render_with_qgis(jobs, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    spec = tmp_path / "jobs.json"
    spec.write_text(json.dumps(jobs))
    r = subprocess.run(["/usr/bin/python3", str(HERE / "qgis_render_jobs.py"), str(spec)], capture_output=True,
                       text=True, env=env, timeout=600)
    outs = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(outs) == len(jobs), (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return outs


@pytest.mark.parametrize("case", CASES, ids=IDS, indirect=True)
def test_qgis_renders_the_whole_footprint(case, tmp_path):
    need(have_qgis(), "python3-qgis missing")
    jobs = []
    for crs in ("EPSG:3857", "EPSG:4326"):
        world = np.ptp(lon180(case.lon)) > 300
        size = [512, 512] if crs == "EPSG:3857" and world else [720, 360] if world else [600, 450]
        jobs.append({"uri": case.name, "crs": crs, "extent": view_extent(case, crs), "size": size,
                     "png": str(tmp_path / f"{crs.replace(':', '_')}.png")})
    problems = []
    for job, out in zip(jobs, render_with_qgis(jobs, tmp_path)):
        assert out["valid"] and out["saved"], out
        rgba = gdal.Open(job["png"]).ReadAsArray()
        assert rgba.shape[0] == 4, rgba.shape
        drawn = rgba[3] > 0
        h, w = drawn.shape
        lon, lat = pixel_lon_lat(job["crs"], out["visible_extent"], w, h)
        inside, outside = footprint_zones(case, lon, lat)
        assert inside.sum() > 100, (job, inside.sum())
        covered = drawn[inside].mean()
        spill = (drawn & outside).sum() / max(drawn.sum(), 1)
        if covered < 0.98 or spill > 0.02:
            problems.append(f"{job['crs']}: {covered:.1%} of the grid's footprint drawn, "
                            f"{spill:.1%} of the drawing outside it ({job['png']})")
    assert not problems, f"{case.name}:\n" + "\n".join(problems)


def test_geotiff_export_of_a_rotated_field_loses_its_crs_with_pam_off(tmp_path):
    """The HOWTO's warning under GDAL_PAM_ENABLED: the ob_tran CRS of a rotated field lives in
    the GeoTIFF's .aux.xml only, so with PAM off the GeoTIFF has no CRS (no error from GDAL)."""
    need(have_exe("gdal_translate"), "gdal_translate missing")
    name = next(n for n, d in field_datasets(XDF / "grids.fst")
                if d.GetMetadataItem("FST_GRTYP") == "Z" and d.GetMetadataItem("FST_GRREF") == "E")
    for pam, want in (("NO", False), ("YES", True)):
        tif = tmp_path / f"pam_{pam}.tif"
        env = dict(os.environ, GDAL_PAM_ENABLED=pam)
        r = subprocess.run(["gdal_translate", "-q", name, str(tif)], capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0 and not r.stderr.strip(), r.stderr
        info = json.loads(subprocess.run(["gdalinfo", "-json", str(tif)], capture_output=True, text=True, env=env).stdout)
        assert bool(info.get("coordinateSystem", {}).get("wkt")) == want, (pam, info.get("coordinateSystem"))
