#!/usr/bin/env bash
# Decode speed of fst-core's codecs against librmn 19.5's c_fstluk on 2000x1000 fields of
# datyp 1/16, 6/16, 134/16, 133/32 and 5/32 (plus shapes.fst records 33 and 34).
#
#   bench/decode_vs_librmn.sh [--repeat N] [--threads T]
#
# Steps: create the oracle venv if needed (bench/oracle-env.sh), write the inputs with the
# reference librmn (bench/make_decode_inputs.py -> bench/out/), time c_fstluk per record into
# one reused buffer (bench/bench_librmn.py --decode-only), time our decoder the same way
# (crates/fst-core/examples/bench_decode.rs, which first checks its values against librmn's),
# and print one table. librmn's c_fstluk reads the record from the file, byte-swaps and
# decodes; compare it with our "read+decode" column (the "decode" columns are the codec on
# words already in memory). Ratios > 1 mean fst-core is faster.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
repeat=10
threads=$(nproc)
while [[ $# -gt 0 ]]; do
    case "$1" in
        --repeat) repeat="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
out="$repo/bench/out"
mkdir -p "$out"
py="$(bench/oracle-env.sh)"

if [[ ! -f "$out/decode_inputs.json" ]]; then
    "$py" bench/make_decode_inputs.py "$out"
fi
files=("$out"/decode_r16.fst "$out"/decode_f16.fst "$out"/decode_t134.fst "$out"/decode_t133.fst "$out"/decode_e32.fst)
shapes="$repo/crates/fst-core/tests/fixtures/xdf/shapes.fst"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -q -p fst-core --example bench_decode
bin="$CARGO_TARGET_DIR/release/examples/bench_decode"

echo "== librmn c_fstluk (best of $repeat)" >&2
for f in "${files[@]}" "$shapes"; do
    "$py" bench/bench_librmn.py "$f" --decode-only --repeat "$repeat" --json "$out/librmn_$(basename "$f" .fst).json" >&2
done
echo "== fst-core (best of $repeat, $threads threads for the parallel column)" >&2
"$bin" --repeat "$repeat" --threads "$threads" --inputs "$out/decode_inputs.json" --json "$out/fstcore_decode.json" \
    "${files[@]}" "$shapes" >&2

"$py" - "$out" "${files[@]}" "$shapes" <<'PY'
import json, os, sys
out = sys.argv[1]
ours = json.load(open(os.path.join(out, 'fstcore_decode.json')))
print()
print('%-16s %-9s %10s | %10s %10s %10s | %7s %7s %7s' % (
    'file', 'datyp', 'librmn', 'read+dec', 'decode', 'decode', 'ratio', 'ratio', 'ratio'))
print('%-16s %-9s %10s | %10s %10s %10s | %7s %7s %7s' % (
    '', '/nbits', 'c_fstluk', '1 thread', '1 thread', '%d thr' % ours[0]['threads'], 'r+d 1t', 'dec 1t', 'dec Nt'))
for path in sys.argv[2:]:
    name = os.path.basename(path)
    lib = json.load(open(os.path.join(out, 'librmn_%s.json' % name[:-4])))['records']
    mine = [r for r in ours if r['file'] == name]
    for l, m in zip(lib, mine):
        if l['ni'] * l['nj'] < 1000000:
            continue  # shapes.fst: only the 2000x1000 records
        t = l['best_s']
        print('%-16s %3d/%-5d %8.2fms | %8.2fms %8.2fms %8.2fms | %6.1fx %6.1fx %6.1fx' % (
            name, l['datyp'], l['nbits'], t * 1e3, m['read_decode_1t_s'] * 1e3, m['decode_1t_s'] * 1e3,
            m['decode_mt_s'] * 1e3, t / m['read_decode_1t_s'], t / m['decode_1t_s'], t / m['decode_mt_s']))
PY
