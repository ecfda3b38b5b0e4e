#!/usr/bin/env bash
# Build the FST plugin, place it as <dir>/3.6/gdal_FST.so, and run the GDAL, QGIS and
# rasterio tests with the Debian Python (/usr/bin/python3, which has osgeo, qgis, rasterio).
#   FSTGIS_GDAL_PROFILE=debug|release   (default: debug, like `cargo test`)
#   extra arguments go to pytest (e.g. -k vsimem)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$here/plugin-env.sh"
echo "== gdal-driver tests (GDAL_DRIVER_PATH=$GDAL_DRIVER_PATH)"
cd "$here"
/usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" .
