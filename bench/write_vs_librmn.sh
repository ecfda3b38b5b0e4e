#!/usr/bin/env bash
# Writing speed, one thread: 500 records of 800x600 f32 values from memory, fst-core's
# FstWriter (examples/write_bench.rs, XDF and RSF) against librmn 19.5's fstecr (XDF) on the
# same arrays (10 smooth fields with noise, cycled), for datyp 134/16 and 1/16. Prints the
# times and the ratios.
#
#   bench/write_vs_librmn.sh [COUNT]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
count="${1:-500}"
ni=800; nj=600
py="$(bench/oracle-env.sh)"
out="${CARGO_TARGET_DIR:-$repo/target}/write-bench"
mkdir -p "$out"
"$py" - "$out/in.f32" "$ni" "$nj" <<'PY'
import sys, numpy as np
path, ni, nj = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(20261204)
x, y = np.meshgrid(np.linspace(0, 6, ni), np.linspace(0, 4, nj), indexing='ij')
fields = [(20 * np.sin(x + k) * np.cos(y * (1 + k / 10)) + 250 + rng.normal(0, 0.5, x.shape))
          for k in range(10)]
np.concatenate([f.astype('<f4').ravel(order='F') for f in fields]).tofile(path)
PY
cargo build -q --release -p fst-core --example write_bench
bin="${CARGO_TARGET_DIR:-$repo/target}/release/examples/write_bench"
secs() { sed -n 's/.*seconds=\([0-9.]*\).*/\1/p'; }
for spec in "134 16" "1 16"; do
  set -- $spec
  ours_xdf=$("$bin" "$out/in.f32" $ni $nj "$count" "$1" "$2" xdf "$out/ours.fst")
  ours_rsf=$("$bin" "$out/in.f32" $ni $nj "$count" "$1" "$2" rsf "$out/ours-rsf.fst")
  theirs=$("$py" bench/write_bench_librmn.py "$out/in.f32" $ni $nj "$count" "$1" "$2" "$out/librmn.fst")
  a=$(echo "$ours_xdf" | secs); r=$(echo "$ours_rsf" | secs); l=$(echo "$theirs" | secs)
  echo "datyp $1/$2, $count records ${ni}x${nj}: librmn 19.5 fstecr ${l}s | fst-core XDF ${a}s ($(echo "$l $a" | awk '{printf "%.2f", $1/$2}')x) | fst-core RSF ${r}s ($(echo "$l $r" | awk '{printf "%.2f", $1/$2}')x)"
  echo "   ours: $ours_xdf"
  echo "   librmn: $theirs"
done
