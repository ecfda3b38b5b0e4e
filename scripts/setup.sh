#!/usr/bin/env bash
# First command of the README: install dependencies, build everything in release mode, and
# run the main job on the bundled sample.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --workspace
sample=crates/fst-core/tests/fixtures/rsf/rsf_basic.fst
echo
echo "== fst info $sample"
target/release/fst info "$sample"
echo
echo "== fst ls $sample"
target/release/fst ls "$sample"
