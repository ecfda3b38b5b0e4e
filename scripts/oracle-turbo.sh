#!/usr/bin/env bash
# Differential test of the turbo encoders (datyp 129, 130, 133, 134) against the reference
# library: librmn 19.5 (bench/oracle-env.sh) writes turbo records from random arrays
# (bench/oracle_turbo.py), and fst-core's encoders must reproduce every payload word for word
# (except the one byte librmn leaves uninitialised) and give up on turbo exactly where librmn
# did.
#
#   scripts/oracle-turbo.sh [SEED [COUNT]]      # defaults: 20261204, 400
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
seed="${1:-20261204}"
count="${2:-400}"
py="$(bench/oracle-env.sh)"
out="${CARGO_TARGET_DIR:-$repo/target}/oracle-turbo"
rm -rf "$out"
mkdir -p "$out"
echo "== turbo encoder oracle: $count random records from librmn, seed $seed"
"$py" bench/oracle_turbo.py "$out" --seed "$seed" --count "$count" > "$out/make.log" 2>&1 \
  || { tail -n 40 "$out/make.log" >&2; echo "oracle generator failed (seed $seed)" >&2; exit 1; }
grep -E '^turbo' "$out/make.log" || true
FSTGIS_EXTRA_FIXTURES="$out" cargo test -q -p fst-core --lib encode::tests
