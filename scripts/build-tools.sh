#!/usr/bin/env bash
# Build what the end-to-end tests run (fst, fst-tile-server, gdal_FST's library, the examples)
# for a profile: build-tools.sh [debug|release].
# Debug builds select the whole workspace with its examples: cargo then resolves dependency
# features as `cargo test --workspace --all-targets` does and reuses what that built. A
# selection with -p resolves them differently and compiles the workspace a second time
# (CI's disk filled so).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-debug}" in
  debug) cargo build --workspace --lib --bins --examples ;;
  release) cargo build --release --workspace ;;
  *) echo "usage: $0 [debug|release]" >&2; exit 2 ;;
esac
