#!/usr/bin/env bash
# Decode speed of fst-core's codecs against librmn 19.5's c_fstluk on 2000x1000 fields of
# datyp 1/16, 6/16, 134/16, 133/32 and 5/32 (plus shapes.fst records 33 and 34).
#
#   bench/decode_vs_librmn.sh [--repeat N] [--rounds R] [--threads T]
#
# Steps: create the oracle venv if needed (bench/oracle-env.sh), write the inputs with the
# reference librmn (bench/make_decode_inputs.py -> bench/out/), then, R rounds of: for each
# file, time c_fstluk per record into one reused buffer (bench/bench_librmn.py --decode-only,
# best of N) and right after it our decoder the same way (crates/fst-core/examples/
# bench_decode.rs, which first checks its values against librmn's, best of N). Alternating
# per file and keeping the best of all rounds makes the comparison fair on a busy machine.
#
# librmn's c_fstluk reads the record from the file, byte-swaps and decodes: compare it with
# our "read+decode" column. The "decode" columns are the codec alone on words already in
# memory, single- and multi-threaded. Ratios > 1 mean fst-core is faster.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
repeat=10
rounds=3
threads=$(nproc)
while [[ $# -gt 0 ]]; do
    case "$1" in
        --repeat) repeat="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
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
files=("$out"/decode_r16.fst "$out"/decode_f16.fst "$out"/decode_t134.fst "$out"/decode_t133.fst
       "$out"/decode_e32.fst "$repo/crates/fst-core/tests/fixtures/xdf/shapes.fst")

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -q -p fst-core --example bench_decode
bin="$CARGO_TARGET_DIR/release/examples/bench_decode"

rm -f "$out"/librmn_*.json "$out"/fstcore_*.json
for round in $(seq 1 "$rounds"); do
    for f in "${files[@]}"; do
        b="$(basename "$f" .fst)"
        echo "== round $round: $b" >&2
        "$py" bench/bench_librmn.py "$f" --decode-only --repeat "$repeat" --json "$out/librmn_${b}_$round.json" >&2
        "$bin" --repeat "$repeat" --threads "$threads" --inputs "$out/decode_inputs.json" \
            --json "$out/fstcore_${b}_$round.json" "$f" >&2
    done
done

"$py" - "$out" "$rounds" "${files[@]}" <<'PY'
import json, os, sys
out, rounds, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = []
for path in paths:
    b = os.path.basename(path)[:-4]
    lib = [json.load(open(os.path.join(out, 'librmn_%s_%d.json' % (b, r))))['records'] for r in range(1, rounds + 1)]
    ours = [json.load(open(os.path.join(out, 'fstcore_%s_%d.json' % (b, r)))) for r in range(1, rounds + 1)]
    for k, l in enumerate(lib[0]):
        if l['ni'] * l['nj'] < 1000000:
            continue  # shapes.fst: only the 2000x1000 records
        best = lambda key, runs: min(run[k][key] for run in runs)
        rows.append((os.path.basename(path), l['datyp'], l['nbits'], best('best_s', lib),
                     best('read_decode_1t_s', ours), best('decode_1t_s', ours), best('decode_mt_s', ours),
                     ours[0][k]['threads']))
threads = rows[0][7] if rows else 0
print()
print('%-16s %-9s %10s | %10s %10s %10s | %7s %7s %7s' % (
    'file', 'datyp', 'librmn', 'read+dec', 'decode', 'decode', 'ratio', 'ratio', 'ratio'))
print('%-16s %-9s %10s | %10s %10s %10s | %7s %7s %7s' % (
    '', '/nbits', 'c_fstluk', '1 thread', '1 thread', '%d thr' % threads, 'r+d 1t', 'dec 1t', 'dec %dt' % threads))
for name, datyp, nbits, t, rd, d1, dn, _ in rows:
    print('%-16s %3d/%-5d %8.2fms | %8.2fms %8.2fms %8.2fms | %6.1fx %6.1fx %6.1fx' % (
        name, datyp, nbits, t * 1e3, rd * 1e3, d1 * 1e3, dn * 1e3, t / rd, t / d1, t / dn))
PY
