"""Run by test_qgis_file.py in its own process: draw a raster through QGIS's GDAL provider on a
map in another CRS (as a QGIS project in EPSG:4326 or 3857 does) and say where its opaque
pixels fall with respect to the grid's own points. Prints one JSON object.

usage: QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_render_coverage.py URI POINTS.json CRS
POINTS.json holds {"lon": [...], "lat": [...]}, the grid points (librmn's gdll); CRS is the
map's (EPSG:4326 or EPSG:3857). The map covers the world (3857: latitudes within ±80°).
"""
import json
import sys

import numpy as np
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform,
                       QgsMapRendererSequentialJob, QgsMapSettings, QgsPointXY, QgsProject,
                       QgsRasterLayer, QgsRectangle)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QImage
from scipy.ndimage import binary_dilation

W, H = 720, 360


def main():
    uri, points, crs_name = sys.argv[1], sys.argv[2], sys.argv[3]
    pts = json.loads(open(points).read())
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    out = {}
    try:
        layer = QgsRasterLayer(uri, "fst", "gdal")
        out["valid"] = layer.isValid()
        crs = QgsCoordinateReferenceSystem(crs_name)
        wgs = QgsCoordinateReferenceSystem("EPSG:4326")
        to_map = QgsCoordinateTransform(wgs, crs, QgsProject.instance())
        top = 90.0 if crs_name == "EPSG:4326" else 80.0
        a = to_map.transform(QgsPointXY(-180.0, -top))
        b = to_map.transform(QgsPointXY(180.0, top))
        extent = QgsRectangle(a.x(), a.y(), b.x(), b.y())
        s = QgsMapSettings()
        s.setLayers([layer])
        s.setDestinationCrs(crs)
        s.setExtent(extent)
        s.setOutputSize(QSize(W, H))
        s.setBackgroundColor(QColor(0, 0, 0, 0))
        # QGIS widens the extent to the image's aspect ratio: map pixels through what it shows.
        extent = s.visibleExtent()
        job = QgsMapRendererSequentialJob(s)
        job.start()
        job.waitForFinished()
        img = job.renderedImage().convertToFormat(QImage.Format_ARGB32)
        buf = img.constBits()
        buf.setsize(img.byteCount())
        argb = np.frombuffer(buf, np.uint32).reshape(H, img.bytesPerLine() // 4)[:, :W]
        opaque = (argb >> 24) > 0
        # Grid points in map pixels (points outside the map, past ±80° in 3857, are left out).
        px, py = [], []
        for lon, lat in zip(pts["lon"], pts["lat"]):
            if abs(lat) > top:
                continue
            p = to_map.transform(QgsPointXY(((lon + 180.0) % 360.0) - 180.0, lat))
            px.append((p.x() - extent.xMinimum()) / extent.width() * W)
            py.append((extent.yMaximum() - p.y()) / extent.height() * H)
        px = np.clip(np.array(px).astype(int), 0, W - 1)
        py = np.clip(np.array(py).astype(int), 0, H - 1)
        near = np.zeros((H, W), bool)
        near[py, px] = True
        near = binary_dilation(near, iterations=8)
        out["points"] = int(px.size)
        # Share of the grid points drawn, and share of the drawn pixels far from every point.
        out["covered"] = float(opaque[py, px].mean()) if px.size else 0.0
        out["opaque"] = int(opaque.sum())
        out["stray"] = float((opaque & ~near).sum() / max(int(opaque.sum()), 1))
    finally:
        print(json.dumps(out))
        sys.stdout.flush()
        app.exitQgis()


main()
