#!/usr/bin/env bash
# Short fuzz run of every target, seeded from the fixtures. Usage: fuzz/smoke.sh [SECONDS]
# Needs the nightly toolchain; installs cargo-fuzz if it is missing.
set -euo pipefail
seconds="${1:-30}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
corpus="$here/corpus/open_decode"
mkdir -p "$corpus"
# Seed with every fixture under 2 MB (larger ones slow each iteration down for little gain).
find "$here/../crates/fst-core/tests/fixtures" -name '*.fst' -size -2M -exec cp -n {} "$corpus/" \;
cargo +nightly fuzz run open_decode "$corpus" -- \
  -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -max_len=400000 -print_final_stats=1
