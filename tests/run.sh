#!/usr/bin/env bash
# End-to-end tests with real clients (GDAL command line, QGIS headless, xarray/netCDF4) through
# the FST GDAL plugin: builds the plugin (gdal-driver/tests/plugin-env.sh) and runs pytest with
# the Debian Python (/usr/bin/python3: osgeo, qgis, scipy, xarray, netCDF4). Fields on rotated
# grids are written by the reference librmn (bench/oracle-env.sh, PyPI fstd2nc-deps).
#   FSTGIS_GDAL_PROFILE=debug|release   (default: debug, like `cargo test`)
#   FSTGIS_EXTRA_FIXTURES=DIR           also check the random grids of scripts/oracle-random.sh
#   extra arguments go to pytest (e.g. -k qgis)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$root/gdal-driver/tests/plugin-env.sh"
echo "== end-to-end tests (tests/, GDAL_DRIVER_PATH=$GDAL_DRIVER_PATH)"
cd "$here"
/usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" .
