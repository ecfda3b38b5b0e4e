#!/usr/bin/env bash
# The fuzzing campaign (scripts/test.sh runs it with FSTGIS_HEAVY=1): every target for RUNS
# executions (default 10 000 000), one target at a time, starting from the committed corpus.
# New coverage is merged back into fuzz/corpus/<target>/ (review and commit it); the first
# crash, timeout or out-of-memory stops the campaign with its input in fuzz/artifacts/.
# Usage: fuzz/campaign.sh [RUNS] [TARGET...]
# FSTGIS_FUZZ_MAX_SECONDS=N caps each target's run at N seconds (then fewer than RUNS
# executions are made, and the table says how many).
# Prints one line per target: executions, executions per second, corpus files, result; the
# table is also written to fuzz/campaign-last.txt (not committed).
set -euo pipefail
runs="${1:-10000000}"
shift || true
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
# shellcheck source=targets.sh
. "$here/targets.sh"
[ "$#" -gt 0 ] && targets=("$@")
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cargo +nightly fuzz build
work="$(mktemp -d "${TMPDIR:-/tmp}/fstgis-fuzz-campaign.XXXXXX")"
trap 'rm -rf "$work"' EXIT
summary="$here/campaign-last.txt"
printf '%-18s %12s %9s %8s %s\n' target executions exec/s corpus result | tee "$summary"
status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "$here/artifacts/$t" "$here/corpus/$t"
  log="$work/$t.log"
  start=$(date +%s)
  result=ok
  # shellcheck disable=SC2086 # extra holds several flags
  if ! ASAN_OPTIONS="${asan[$t]:-${ASAN_OPTIONS:-}}" cargo +nightly fuzz run "$t" "$work/$t" "$here/corpus/$t" -- \
    -runs="$runs" ${FSTGIS_FUZZ_MAX_SECONDS:+-max_total_time=$FSTGIS_FUZZ_MAX_SECONDS} -max_len="${max_len[$t]}" "${common[@]}" ${extra[$t]:-} >"$log" 2>&1; then
    result="FAILED (see $log and fuzz/artifacts/$t)"
    status=1
    trap - EXIT
  fi
  elapsed=$(( $(date +%s) - start ))
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
  execs="${execs:-0}"
  # Fold what the run found and the committed corpus lacks into it (new coverage only).
  if [ "$result" = ok ]; then
    ASAN_OPTIONS="${asan[$t]:-${ASAN_OPTIONS:-}}" cargo +nightly fuzz run "$t" -- -merge=1 "$here/corpus/$t" "$work/$t" \
      -max_len="${max_len[$t]}" "${common[@]}" >"$work/$t.merge.log" 2>&1 || true
  fi
  files=$(find "$here/corpus/$t" -type f | wc -l)
  printf '%-18s %12s %9s %8s %s\n' "$t" "$execs" "$(( execs / (elapsed > 0 ? elapsed : 1) ))" \
    "$files" "$result" | tee -a "$summary"
  [ "$status" = 0 ] || break
done
exit "$status"
