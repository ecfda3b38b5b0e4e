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
sample=crates/fst-core/tests/fixtures/rsf/rsf_basic.fst
echo
echo "== fst info $sample"
target/release/fst info "$sample"
echo
echo "== fst ls $sample"
target/release/fst ls "$sample"
