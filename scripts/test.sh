#!/usr/bin/env bash
# Second command of the README: every test. `.ci/run` calls this.
#   FSTGIS_FUZZ_SECONDS=N   length of the fuzz smoke run (default 30; 0 skips it)
#   FSTGIS_HEAVY=1          also run the long suites (the fuzz campaign, property tests
#                           with fresh random seeds and 20x the cases, 3000 random records
#                           from librmn with a fresh seed)
#   PROPTEST_RNG_SEED=N     seed of the property tests (default: a fixed one, so that a run is
#                           reproducible and CI is not red by the luck of the draw; new seeds
#                           are explored with FSTGIS_HEAVY=1 and their failures kept in
#                           *.proptest-regressions files)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
mkdir -p target

if [ "${FSTGIS_HEAVY:-0}" = 1 ]; then
  export PROPTEST_CASES="${PROPTEST_CASES:-5000}"
else
  export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261122}"
fi
echo "== benchmark scripts: what they build and run exists"
scripts/check-bench-targets.sh
echo "== cargo test (workspace: unit, integration, doc tests; benches built and run once)"
cargo test --workspace --all-targets --no-fail-fast
cargo test --workspace --doc

echo "== end-to-end: GDAL, rasterio, QGIS, netCDF readers, OWSLib and Chromium (tests/)"
tests/run.sh
python/tests/run.sh  # the Python package fstgis (venv .venv-python, maturin, pytest)

# Records drawn at random and written by the reference librmn: fst-core and the GDAL driver
# must decode them bit for bit (a fixed seed unless FSTGIS_HEAVY=1).
GDAL_DRIVER_PATH="$(gdal-driver/install-plugin.sh --profile debug)" scripts/oracle-random.sh
# What fst-core writes, read back by librmn 19.5 and the newest librmn (rmn-read).
scripts/oracle-write.sh

fuzz_seconds="${FSTGIS_FUZZ_SECONDS:-30}"
if cargo +nightly --version >/dev/null 2>&1; then
  if [ "${FSTGIS_HEAVY:-0}" = 1 ]; then
    # The campaign: 10 million executions of every target (hours); new coverage is merged
    # into fuzz/corpus/ for review.
    echo "== fuzz campaign (10 000 000 executions per target)"
    if ! fuzz/campaign.sh 10000000 > target/fuzz-campaign.log 2>&1; then
      tail -n 60 target/fuzz-campaign.log >&2
      echo "fuzz campaign failed: see fuzz/artifacts/" >&2
      exit 1
    fi
    cat fuzz/campaign-last.txt
  elif [ "$fuzz_seconds" -gt 0 ]; then
    echo "== fuzz smoke (${fuzz_seconds}s per target, 6 targets)"
    if ! fuzz/smoke.sh "$fuzz_seconds" > target/fuzz-smoke.log 2>&1; then
      tail -n 60 target/fuzz-smoke.log >&2
      echo "fuzz smoke failed: see fuzz/artifacts/" >&2
      exit 1
    fi
    grep -E '^(== |Done|stat::number_of_executed_units)' target/fuzz-smoke.log || true
  fi
else
  echo "== fuzz skipped: no nightly toolchain here (the committed corpora were replayed by cargo test above)"
fi
echo "== tile-server: soak and scale-out"
tile-server/tests/run.sh
echo "all tests passed"
