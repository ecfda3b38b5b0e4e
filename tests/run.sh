#!/usr/bin/env bash
# End-to-end tests with real clients (GDAL command line, QGIS headless, xarray/netCDF4) through
# the FST GDAL plugin: builds the plugin, places it as <dir>/3.6/gdal_FST.so, and runs pytest
# with the Debian Python (/usr/bin/python3: osgeo, qgis, scipy, xarray, netCDF4). Fields on
# rotated grids are written by the reference librmn (bench/oracle-env.sh, PyPI fstd2nc-deps).
#   FSTGIS_GDAL_PROFILE=debug|release   (default: debug, like `cargo test`)
#   FSTGIS_EXTRA_FIXTURES=DIR           also check the random grids of scripts/oracle-random.sh
#   extra arguments go to pytest (e.g. -k qgis)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
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
# Nothing the tests compute may leave .aux.xml files next to the fixtures.
export GDAL_PAM_ENABLED=NO
echo "== end-to-end tests (tests/, GDAL_DRIVER_PATH=$plugin_dir)"
gdalinfo --formats | grep -E '^\s*FST ' || { echo "gdal_FST.so did not load" >&2; exit 1; }
cd "$here"
/usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" .
