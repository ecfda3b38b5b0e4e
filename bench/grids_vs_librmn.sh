#!/usr/bin/env bash
# Lat/lon generation (2,000,000 points) for the L, G, N, E, Z->E and U grids, ours beside
# librmn 19.5's gdll (bench_librmn.py's bench_synthetic, same grid definitions), with ratios;
# plus our bulk inverse (index_of_many) for a 256x256 tile of points.
#
#   bench/grids_vs_librmn.sh [REPEAT]
#   PIN_CPU=0 bench/grids_vs_librmn.sh     # both sides pinned to CPU 0: single-threaded ours
#
# Needs the oracle venv (bench/oracle-env.sh) and the librmn benchmark script, by default
# /work/shared/oracle/bench_librmn.py (override with BENCH_LIBRMN=...).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repeat="${1:-7}"
bench_librmn="${BENCH_LIBRMN:-/work/shared/oracle/bench_librmn.py}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
py="$("$repo/bench/oracle-env.sh")"
[[ -x "$py" ]] || py="$repo/.venv-oracle/bin/python"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cargo build --release -q -p grids --example bench_vs_librmn
pin=()
if [[ -n "${PIN_CPU:-}" ]]; then pin=(taskset -c "$PIN_CPU"); fi
"${pin[@]}" "$CARGO_TARGET_DIR/release/examples/bench_vs_librmn" "$repeat" > "$tmp/ours.jsonl"
"${pin[@]}" "$py" "$bench_librmn" "$repo/crates/fst-core/tests/fixtures/xdf/grids.fst" --repeat "$repeat" \
    --json "$tmp/librmn.json" > "$tmp/librmn.txt" 2>&1

"$py" - "$tmp/ours.jsonl" "$tmp/librmn.json" <<'PY'
import json, sys
ours = {r['grid']: r for r in map(json.loads, open(sys.argv[1]))}
lib = json.load(open(sys.argv[2]))['gdll_synthetic']
names = {'L': 'L 2000', 'G': 'G 2000', 'N': 'N 2000', 'E': 'E 2000', 'Z->E': 'Z->E 2000', 'U': 'U Yin'}
print('%-6s %9s %11s %11s %11s %8s %8s %14s' % ('grid', 'points', 'librmn ms', 'ours ms', 'ours-into',
                                              'ratio', 'r-into', 'inv 64k ms'))
for g, prefix in names.items():
    l = next(r for r in lib if r['name'].strip().startswith(prefix))
    o = ours[g]
    lm = l['best_s'] * 1e3
    of, oi = o['lat_lon_fresh_s'] * 1e3, o['lat_lon_into_s'] * 1e3
    print('%-6s %9d %11.2f %11.2f %11.2f %8.2f %8.2f %14.3f' % (g, o['points'], lm, of, oi, of / lm, oi / lm,
                                                              o['index_of_many_65536_s'] * 1e3))
print('\nratio = ours (Grid::new + lat_lon into fresh arrays) / librmn (define + gdll);'
      ' r-into = ours into re-used buffers / librmn. Target: <= 0.33.')
print('U: librmn is timed on its first call only (ezscint super-grids crash when redefined).')
PY
