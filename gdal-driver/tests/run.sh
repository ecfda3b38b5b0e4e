#!/usr/bin/env bash
# Build the FST plugin, place it as <dir>/3.6/gdal_FST.so, and run the GDAL, QGIS and
# rasterio tests with the Debian Python (/usr/bin/python3, which has osgeo, qgis, rasterio).
#   FSTGIS_GDAL_PROFILE=debug|release   (default: debug, like `cargo test`)
#   extra arguments go to pytest (e.g. -k vsimem)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
profile="${FSTGIS_GDAL_PROFILE:-debug}"
cd "$root"
if [ "$profile" = release ]; then
  cargo build -p gdal-fst --release
else
  cargo build -p gdal-fst
fi
plugin_dir="$(gdal-driver/install-plugin.sh --profile "$profile")"
export GDAL_DRIVER_PATH="$plugin_dir"
export FSTGIS_REQUIRE_DRIVER=1
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1
# Statistics computed by the tests (gdalinfo -stats, QGIS) must not leave .aux.xml files
# next to the fixtures.
export GDAL_PAM_ENABLED=NO
echo "== gdal-driver tests (GDAL_DRIVER_PATH=$plugin_dir)"
gdalinfo --formats | grep -E '^\s*FST ' || { echo "gdal_FST.so did not load" >&2; exit 1; }
cd "$here"
/usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" .
