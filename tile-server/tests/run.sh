#!/usr/bin/env bash
# Tile-server tests beyond `cargo test` and the client tests of tests/server (tests/run.sh
# server): a soak under mixed load while files change (30 s; FSTGIS_HEAVY=1: 10 min), and three
# replicas behind nginx (scaleout.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
echo "== tile-server: soak (30 s; FSTGIS_HEAVY=1: 10 min)"
# --workspace, not -p: the features `cargo test --workspace` built with, so nothing is
# compiled twice (scripts/build-tools.sh says why).
cargo test --workspace --test soak -- --ignored --nocapture
echo "== tile-server: three replicas behind nginx"
tile-server/tests/scaleout.sh
