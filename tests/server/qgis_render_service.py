"""Run with Debian's /usr/bin/python3 (python3-qgis): add a WMS or XYZ layer from the server
and render it to a PNG.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_render_service.py wms|xyz BASE_URL OUT.png
"""
import sys
from urllib.parse import quote

from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsMapRendererParallelJob,
                       QgsMapSettings, QgsRasterLayer, QgsRectangle)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

kind, base, out = sys.argv[1], sys.argv[2], sys.argv[3]
app = QgsApplication([], False)
app.setPrefixPath("/usr", True)
app.initQgis()
if kind == "wms":
    uri = ("crs=EPSG:3857&format=image/png&layers=TT&styles=temperature&"
           "url=" + quote(base + "/wms", safe=""))
    layer = QgsRasterLayer(uri, "tt", "wms")
else:
    tmpl = base + "/tiles/TT/{z}/{x}/{y}.png?style=temperature"
    layer = QgsRasterLayer("type=xyz&zmin=0&zmax=8&url=" + quote(tmpl, safe=""), "tt", "wms")
if not layer.isValid():
    print("invalid layer:", layer.error().message())
    sys.exit(2)
ms = QgsMapSettings()
ms.setLayers([layer])
ms.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
ms.setExtent(QgsRectangle(-13000000, 5000000, -9000000, 8000000))
ms.setOutputSize(QSize(400, 300))
ms.setBackgroundColor(QColor(255, 255, 255, 0))
job = QgsMapRendererParallelJob(ms)
job.start()
job.waitForFinished()
job.renderedImage().save(out, "PNG")
app.exitQgis()
print("ok")
