"""Render rasters with QGIS headless (python3-qgis, QT_QPA_PLATFORM=offscreen), one process for
many renders. Run by test_rotated.py; prints one JSON line per job.

usage: /usr/bin/python3 qgis_render_jobs.py JOBS.json
JOBS.json: [{"uri": ..., "crs": "EPSG:3857", "extent": [xmin, ymin, xmax, ymax],
             "size": [w, h], "png": ...}, ...]
The background is transparent, so the PNG's alpha channel is the rendered footprint.
GDAL_DRIVER_PATH must be set before QGIS initialises (it is inherited from the environment).
"""
import json
import sys

from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsMapRendererParallelJob,
                       QgsMapSettings, QgsRasterLayer, QgsRectangle)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def render(job):
    out = {"png": job["png"]}
    layer = QgsRasterLayer(job["uri"], "fst", "gdal")
    out["valid"] = layer.isValid()
    if not layer.isValid():
        out["error"] = layer.error().summary()
        return out
    out["layer_crs"] = layer.crs().toProj()
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(job["crs"]))
    settings.setExtent(QgsRectangle(*job["extent"]))
    settings.setOutputSize(QSize(*job["size"]))
    settings.setBackgroundColor(QColor(0, 0, 0, 0))
    r = QgsMapRendererParallelJob(settings)
    r.start()
    r.waitForFinished()
    img = r.renderedImage()
    out["saved"] = img.save(job["png"], "PNG")
    # The extent QGIS really drew (it widens one axis to keep square pixels).
    e = settings.visibleExtent()
    out["visible_extent"] = [e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum()]
    return out


def main():
    jobs = json.load(open(sys.argv[1]))
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    try:
        for job in jobs:
            print(json.dumps(render(job)))
            sys.stdout.flush()
    finally:
        app.exitQgis()


main()
