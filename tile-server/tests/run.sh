#!/usr/bin/env bash
# Tile-server tests beyond `cargo test`: OWSLib (PyPI, in tile-server/.venv), QGIS headless
# (Debian python3-qgis) and Chromium headless (Debian chromium), against a real server process.
#   FST_TILES_KEEP=/path/shot.png  keep the viewer screenshot
#   FSTGIS_SKIP_CARGO_TEST=1       skip `cargo test -p tile-server` (scripts/test.sh already ran it)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
if [ "${FSTGIS_SKIP_CARGO_TEST:-0}" != 1 ]; then
  echo "== tile-server: cargo test"
  cargo test -p tile-server
fi
echo "== tile-server: build the server and the fst CLI"
cargo build -p tile-server -p fst-cli
venv="$(tile-server/tests/setup-venv.sh)"
export FST_TILE_SERVER="$target/debug/fst-tile-server" FST_CLI="$target/debug/fst"
echo "== tile-server: OWSLib, QGIS and Chromium tests"
"$venv/bin/pytest" -q -p no:cacheprovider tile-server/tests "$@"
echo "== tile-server: soak (30 s; FSTGIS_HEAVY=1: 10 min)"
cargo test -p tile-server --test soak -- --ignored --nocapture
echo "== tile-server: three replicas behind nginx"
tile-server/tests/scaleout.sh
