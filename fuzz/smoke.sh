#!/usr/bin/env bash
# Short fuzz run of every target on a scratch copy of the committed corpus (fuzz/corpus/), so
# that CI never dirties the tree. Usage: fuzz/smoke.sh [SECONDS_PER_TARGET] (default 30).
# Fails on the first crash, timeout or out-of-memory; the input is left in fuzz/artifacts/.
# Needs the nightly toolchain; installs cargo-fuzz if it is missing.
set -euo pipefail
seconds="${1:-30}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
# shellcheck source=targets.sh
. "$here/targets.sh"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
scratch="$(mktemp -d "${TMPDIR:-/tmp}/fstgis-fuzz-smoke.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
cargo +nightly fuzz build
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t" "$here/artifacts/$t"
  cp -r "$here/corpus/$t/." "$scratch/$t/" 2>/dev/null || true
  echo "== $t: ${seconds}s"
  # shellcheck disable=SC2086 # extra holds several flags
  ASAN_OPTIONS="${asan[$t]:-${ASAN_OPTIONS:-}}" cargo +nightly fuzz run "$t" "$scratch/$t" -- \
    -max_total_time="$seconds" -max_len="${max_len[$t]}" "${common[@]}" ${extra[$t]:-}
done
