#!/usr/bin/env bash
# End-to-end tests that drive real clients, the way users drive them:
#   gdal/    the FST GDAL plugin through the GDAL command line, the Python bindings, rasterio,
#            QGIS headless and netCDF readers (Debian /usr/bin/python3: osgeo, qgis, rasterio,
#            scipy, xarray, netCDF4), compared with what the reference librmn decodes;
#   server/  a real fst-tile-server process through OWSLib, QGIS headless (WMS and XYZ) and
#            Chromium headless (the viewer), from the venv <repo>/.venv-server-tests;
#   ioda/    crates/ioda's view of every IODA fixture against h5py, netCDF4 and pyodc, cell
#            for cell, and `fst ioda dump --format parquet` read back with pyarrow, from the
#            venv <repo>/.venv-ioda-tests.
#
#   tests/run.sh                         # every suite (scripts/test.sh calls this)
#   tests/run.sh gdal [pytest args]      # one suite, e.g. tests/run.sh gdal -k rotated
#   tests/run.sh server [pytest args]    # e.g. tests/run.sh server test_viewer.py
#   tests/run.sh ioda [pytest args]      # e.g. tests/run.sh ioda -k odb
#   FSTGIS_GDAL_PROFILE=debug|release    plugin build profile (default: debug, like `cargo test`)
#   FSTGIS_SERVER_PROFILE=debug|release  server build profile (default: debug)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
suite="${1:-all}"
[ $# -gt 0 ] && shift
case "$suite" in gdal|server|ioda|all) ;; *) echo "usage: tests/run.sh [gdal|server|ioda|all] [pytest args]" >&2; exit 2 ;; esac
target="${CARGO_TARGET_DIR:-$root/target}"

run_gdal() {
  . "$here/gdal/plugin-env.sh"
  # The newest librmn's reader for test_create.py's RSF check (rebuilt for this CPU if the
  # prebuilt one cannot run here); without one that test is skipped and says why.
  if FSTGIS_RMN_READ="$("$root/scripts/rmn-read.sh")"; then
    export FSTGIS_RMN_READ
  else
    unset FSTGIS_RMN_READ
  fi
  # librmn 19.5 (rpnpy) reads what gdal_translate wrote: a missing venv is an error here (a
  # clean checkout had none yet when these tests ran, and CI skipped them).
  FSTGIS_ORACLE_PY="$("$root/bench/oracle-env.sh")"
  export FSTGIS_ORACLE_PY
  echo "== tests/gdal: GDAL, rasterio, QGIS and netCDF readers (GDAL_DRIVER_PATH=$GDAL_DRIVER_PATH)"
  (cd "$here/gdal" && /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@")
}

run_server() {
  local profile="${FSTGIS_SERVER_PROFILE:-debug}"
  echo "== tests/server: build the tile server and the fst CLI ($profile)"
  "$root/scripts/build-tools.sh" "$profile"
  local venv
  venv="$("$here/server/setup-venv.sh")"
  export FST_TILE_SERVER="$target/$profile/fst-tile-server" FST_CLI="$target/$profile/fst"
  export PYTHONDONTWRITEBYTECODE=1
  echo "== tests/server: OWSLib, QGIS and Chromium against a running server"
  (cd "$here/server" && "$venv/bin/pytest" -q -p no:cacheprovider "$@")
}

run_ioda() {
  echo "== tests/ioda: build the ioda_json example and the fst CLI (debug)"
  "$root/scripts/build-tools.sh" debug
  local venv
  venv="$("$here/ioda/setup-venv.sh")"
  # The oracles are installed above: a missing one is an error, not a skip.
  export FSTGIS_IODA_JSON="$target/debug/examples/ioda_json" FSTGIS_FST_CLI="$target/debug/fst"
  export FSTGIS_REQUIRE_IODA_ORACLES=1
  export PYTHONDONTWRITEBYTECODE=1
  echo "== tests/ioda: crates/ioda and fst ioda dump against h5py, netCDF4, pyodc and pyarrow"
  (cd "$here/ioda" && "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" .)
}

case "$suite" in
  gdal) run_gdal "$@" ;;
  server) run_server "$@" ;;
  ioda) run_ioda "$@" ;;
  all) run_gdal "$@"; run_server "$@"; run_ioda "$@" ;;
esac
