#!/usr/bin/env bash
# (a) Open a 100 000-record file and list every record's metadata: fst-core against librmn
# 19.5 (fstouv + c_fstinl + c_fstprm through ctypes, and through rpnpy), same file, one run.
#
#   bench/metadata_vs_librmn.sh [--repeat N]
#
# The input is written by the reference librmn itself (bench/make_fixtures.py --big, the
# oracle generator) into bench/out/big/ on first use (about 25 s). Ratios > 1: fst-core faster.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
repeat=5
[[ "${1:-}" == "--repeat" ]] && repeat="$2"
out="$repo/bench/out"
mkdir -p "$out"
py="$(bench/oracle-env.sh)"
big="$out/big/big.fst"
if [[ ! -f "$big" ]]; then
    echo "writing $big with librmn (about 25 s)" >&2
    "$py" bench/make_fixtures.py "$out/big" --big --no-verify >/dev/null 2>&1
fi
rsf_big="$out/big_rsf.fst"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -q -p fst-core --example bench_open
bin="$CARGO_TARGET_DIR/release/examples/bench_open"

echo "== librmn (best of $repeat)" >&2
"$py" bench/bench_librmn.py "$big" --repeat "$repeat" --no-synthetic --json "$out/librmn_big.json" >&2
echo "== fst-core (best of $repeat)" >&2
files=("$big")
[[ -f "$rsf_big" ]] && files+=("$rsf_big")
"$bin" --repeat "$repeat" --json "$out/fstcore_big.json" "${files[@]}" >&2

"$py" - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
lib = {r['name']: r for r in json.load(open(os.path.join(out, 'librmn_big.json')))['results']}
ours = json.load(open(os.path.join(out, 'fstcore_big.json')))
x = ours[0]
n = x['records']
def row(name, ours_s, lib_key):
    l = lib[lib_key]['best_s']
    print('%-46s %10.2f ms %10.2f ms %9.0f rec/ms %8.1fx' % (name, ours_s * 1e3, l * 1e3, n / (ours_s * 1e3), l / ours_s))
print()
print('%-46s %13s %13s %16s %9s' % ('XDF, %d records' % n, 'fst-core', 'librmn', 'fst-core rate', 'ratio'))
row('open (vs fstouv+fstfrm)', x['open_s'], '(0) open+close (fnom+fstouv+fstfrm)')
row('open+list (vs c_fstinl+c_fstprm, ctypes)', x['open_list_s'], '(a) c_fstinl + c_fstprm (ctypes direct)')
row('open+list (vs fstinl+fstprm, rpnpy)', x['open_list_s'], '(a) fstinl + fstprm (rpnpy)')
for y in ours[1:]:
    print('%-46s %10.2f ms %13s %9.0f rec/ms' % ('RSF %s open+list, %d records' % (os.path.basename(y['file']), y['records']),
          y['open_list_s'] * 1e3, '-', y['records'] / (y['open_list_s'] * 1e3)))
PY
