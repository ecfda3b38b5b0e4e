#!/usr/bin/env bash
# First command of the README: install dependencies, build everything in release mode, and
# run the main job on the bundled sample.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --workspace
# The GDAL plugin: target/gdalplugins/3.6/gdal_FST.so (see gdal-driver/README.md).
plugin_dir="$(gdal-driver/install-plugin.sh --profile release)"
echo "GDAL plugin installed: export GDAL_DRIVER_PATH=$plugin_dir"
# The Python package (python/): built and installed into .venv-python with its test deps.
python/tests/run.sh --install-only
echo "Python package installed: .venv-python/bin/python -c 'import fstgis'"
sample=crates/fst-core/tests/fixtures/rsf/rsf_basic.fst
echo
echo "== fst info $sample"
target/release/fst info "$sample"
echo
echo "== fst ls $sample"
target/release/fst ls "$sample"

# Tile server on the bundled sample (tile-server/sample/sample.fst): WMS, XYZ and the viewer.
# Interactive only (CI does not run setup.sh): it serves until Ctrl-C. FSTGIS_NO_SERVE=1 skips it.
if [ "${FSTGIS_NO_SERVE:-0}" != 1 ]; then
  listen="${FST_TILES_LISTEN:-127.0.0.1:8080}"
  echo
  echo "== fst-tile-server on the bundled sample"
  echo "   viewer:  http://$listen/"
  echo "   WMS:     http://$listen/wms?SERVICE=WMS&REQUEST=GetCapabilities"
  echo "   XYZ:     http://$listen/tiles/TT/{z}/{x}/{y}.png   (Ctrl-C stops the server)"
  exec target/release/fst-tile-server --listen "$listen"
fi
