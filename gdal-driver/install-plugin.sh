#!/usr/bin/env bash
# Place the built plugin where GDAL looks for it: <plugin dir>/<major.minor>/gdal_FST.so.
#   install-plugin.sh [--profile debug|release] [--dest DIR] [--system]
# Default DEST is <cargo target dir>/gdalplugins. --system installs into GDAL's own plugin
# directory (needs root). Prints the plugin directory (the value for GDAL_DRIVER_PATH).
# Run `cargo build -p gdal-fst [--release]` first (scripts/setup.sh and tests/run.sh do).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
profile=release
dest=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --dest) dest="$2"; shift 2 ;;
    --system)
      dest="$(pkg-config --variable=libdir gdal 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)/gdalplugins"
      shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
target="${CARGO_TARGET_DIR:-$root/target}"
lib="$target/$profile/libgdal_fst.so"
if [ ! -f "$lib" ]; then
  echo "$lib not found: run cargo build -p gdal-fst $([ "$profile" = release ] && echo --release)" >&2
  exit 1
fi
[ -n "$dest" ] || dest="$target/gdalplugins"
ver="$(pkg-config --modversion gdal 2>/dev/null || gdal-config --version)"
minor="$(echo "$ver" | cut -d. -f1,2)"
mkdir -p "$dest/$minor"
# Copy to a temporary name first: a process that has the old plugin loaded keeps its mapping.
cp -f "$lib" "$dest/$minor/.gdal_FST.so.tmp"
mv -f "$dest/$minor/.gdal_FST.so.tmp" "$dest/$minor/gdal_FST.so"
echo "$dest"
