"""Run by test_qgis.py in its own process: open a raster through QGIS's GDAL provider, render
it to a PNG and identify the value under a lon/lat. Prints one JSON object.

usage: QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_render_file.py URI PNG LON LAT
GDAL_DRIVER_PATH must be set before QGIS initialises (it is inherited from the environment).
"""
import json
import sys

from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform,
                       QgsMapRendererParallelJob, QgsMapSettings, QgsPointXY, QgsProject,
                       QgsRaster, QgsRasterLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def main():
    uri, png, lon, lat = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    out = {}
    try:
        layer = QgsRasterLayer(uri, "fst", "gdal")
        out["valid"] = layer.isValid()
        out["error"] = layer.error().summary() if not layer.isValid() else ""
        if layer.isValid():
            crs = layer.crs()
            out["crs_valid"] = crs.isValid()
            out["crs_proj"] = crs.toProj()
            out["crs_geographic"] = crs.isGeographic()
            e = layer.extent()
            out["extent"] = [e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum()]
            out["band_count"] = layer.bandCount()
            settings = QgsMapSettings()
            settings.setLayers([layer])
            settings.setDestinationCrs(crs)
            settings.setExtent(e)
            settings.setOutputSize(QSize(480, 320))
            settings.setBackgroundColor(QColor(255, 255, 255))
            job = QgsMapRendererParallelJob(settings)
            job.start()
            job.waitForFinished()
            img = job.renderedImage()
            out["saved"] = img.save(png, "PNG")
            colours = set()
            for x in range(0, img.width(), 3):
                for y in range(0, img.height(), 3):
                    colours.add(img.pixel(x, y))
            out["distinct_colours"] = len(colours)
            # The value under a geographic point, through the provider.
            wgs = QgsCoordinateReferenceSystem("EPSG:4326")
            pt = QgsPointXY(lon, lat)
            if not crs.isGeographic():
                pt = QgsCoordinateTransform(wgs, crs, QgsProject.instance()).transform(pt)
            res = layer.dataProvider().identify(pt, QgsRaster.IdentifyFormatValue)
            out["identify_valid"] = res.isValid()
            out["value"] = res.results().get(1)
    finally:
        print(json.dumps(out))
        sys.stdout.flush()
        app.exitQgis()


main()
