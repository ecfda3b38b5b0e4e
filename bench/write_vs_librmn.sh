#!/usr/bin/env bash
# Writing speed, one thread: 500 records of 800x600 f32 values from memory, fst-core's
# FstWriter (examples/write_bench.rs, XDF and RSF) against librmn 19.5's fstecr (XDF) on the
# same arrays (10 smooth fields with noise, cycled), for datyp 134/16, 1/16 and 5/32 (a datyp
# whose encoder fst-core lacks is reported and skipped). Prints the wall and CPU times and
# the ratios (the CPU times hold on a machine shared with other work, the wall times do not),
# and the peak memory the writer adds against the issue's bound (1.5 x the largest record
# plus the directory).
#
#   bench/write_vs_librmn.sh [COUNT] [REPEAT]
#
# Each writer runs REPEAT times (default 3), best wall time kept; before each run the
# previous output is deleted and `sync` flushes the page cache's dirty pages, so that every
# run starts from the same state: otherwise a run pays for the writeback of the runs before
# it (on a VM disk, buffered writes went from 5.6 GB/s to 0.47 GB/s that way, and the
# ratios measured the order of the runs).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
count="${1:-500}"
repeat="${2:-3}"
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
secs() { sed -n 's/^seconds=\([0-9.]*\).*/\1/p'; }
# A key=value field of a result line.
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
cpu() { field cpu_seconds; }
# best OUTPUT CMD...: the result line of the fastest of $repeat runs of CMD (which writes
# OUTPUT), each after deleting OUTPUT and a sync.
best() {
  local output="$1" line fastest="" t
  shift
  for _ in $(seq "$repeat"); do
    rm -f "$output"
    sync
    line=$("$@") || return 1
    t=$(echo "$line" | secs)
    if [ -z "$fastest" ] || awk -v a="$t" -v b="$(echo "$fastest" | secs)" 'BEGIN{exit !(a < b)}'; then
      fastest="$line"
    fi
  done
  echo "$fastest"
}
echo "load average: $(cut -d" " -f1-3 /proc/loadavg) (2 cores shared; timings vary with it); best of $repeat runs each"
for spec in "134 16" "1 16" "5 32"; do
  set -- $spec
  if ! ours_xdf=$(best "$out/ours.fst" "$bin" "$out/in.f32" $ni $nj "$count" "$1" "$2" xdf "$out/ours.fst" 2>&1); then
    echo "datyp $1/$2: fst-core cannot write it yet: $ours_xdf"
    continue
  fi
  ours_rsf=$(best "$out/ours-rsf.fst" "$bin" "$out/in.f32" $ni $nj "$count" "$1" "$2" rsf "$out/ours-rsf.fst")
  theirs=$(best "$out/librmn.fst" "$py" bench/write_bench_librmn.py "$out/in.f32" $ni $nj "$count" "$1" "$2" "$out/librmn.fst")
  a=$(echo "$ours_xdf" | secs); r=$(echo "$ours_rsf" | secs); l=$(echo "$theirs" | secs)
  ac=$(echo "$ours_xdf" | cpu); rc=$(echo "$ours_rsf" | cpu); lc=$(echo "$theirs" | cpu)
  ratio() { echo "$1 $2" | awk '{printf "%.2f", $1/$2}'; }
  echo "datyp $1/$2, $count records ${ni}x${nj}: librmn 19.5 fstecr ${l}s (cpu ${lc}s) | fst-core XDF ${a}s ($(ratio "$l" "$a")x; cpu ${ac}s, $(ratio "$lc" "$ac")x) | fst-core RSF ${r}s ($(ratio "$l" "$r")x; cpu ${rc}s, $(ratio "$lc" "$rc")x)"
  for side in "XDF:$ours_xdf" "RSF:$ours_rsf"; do
    added=$(echo "${side#*:}" | field added_rss_mib); bound=$(echo "${side#*:}" | field bound_mib)
    echo "   memory, fst-core ${side%%:*}: peak RSS above the loaded input ${added} MiB; bound 1.5 x record + directory ${bound} MiB: $(echo "$added $bound" | awk '{print ($1 <= $2) ? "within" : "OVER"}')"
  done
  echo "   ours: $ours_xdf"
  echo "   librmn: $theirs"
  rm -f "$out/ours.fst" "$out/ours-rsf.fst" "$out/librmn.fst"
done
