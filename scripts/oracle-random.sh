#!/usr/bin/env bash
# Differential test against the reference library on records nobody chose by hand: librmn 19.5
# (PyPI fstd2nc-deps, bench/oracle-env.sh) writes records drawn at random — shapes, datyps,
# nbits, values, missing points — and records on grids of every type with random parameters
# (bench/make_fixtures.py --random), with a manifest of what it decodes and of its gdll
# latitudes/longitudes. fst-core and the GDAL driver must give the same values bit for bit;
# grids and the GDAL driver's CRS + geotransform the same coordinates within librmn's float32
# precision. The encoders must write librmn's payload words for random arrays
# (bench/oracle_encode.py), turbo records (129, 130, 133, 134, +64) included, and give turbo
# up where librmn does.
#
#   scripts/oracle-random.sh [SEED [COUNT]]
#
# Defaults: a fixed seed (20261122) and 300 records, so that a test run is reproducible;
# FSTGIS_HEAVY=1 draws a fresh seed and 3000 records. The seed is printed: a failure is
# reproduced with `scripts/oracle-random.sh SEED COUNT`.
# The GDAL part needs the plugin built (tests/run.sh gdal does it); it is skipped
# when GDAL_DRIVER_PATH is not set.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
if [ "${FSTGIS_HEAVY:-0}" = 1 ]; then
  seed="${1:-$(( $(date +%s) % 1000000007 ))}"
  count="${2:-3000}"
else
  seed="${1:-20261122}"
  count="${2:-300}"
fi
py="$(bench/oracle-env.sh)"
out="${CARGO_TARGET_DIR:-$repo/target}/oracle-random"
rm -rf "$out"
mkdir -p "$out"
echo "== oracle differential test: $count random records from librmn, seed $seed"
# librmn prints its own diagnostics on stdout (e.g. "OLD UNPACK CODE"); keep the summary.
"$py" bench/make_fixtures.py "$out" --random "$seed" --random-count "$count" > "$out/make.log" 2>&1 \
  || { tail -n 40 "$out/make.log" >&2; echo "oracle generator failed (seed $seed)" >&2; exit 1; }
grep -E '^(random|verify)' "$out/make.log" || true

# --workspace, not -p: the features `cargo test --workspace` built with, so nothing is
# compiled twice (scripts/build-tools.sh says why).
FSTGIS_EXTRA_FIXTURES="$out" cargo test -q --workspace --test codec_fixtures \
  extra_fixture_records_match_librmn_bit_for_bit
FSTGIS_EXTRA_FIXTURES="$out" cargo test -q --workspace --test librmn_fixtures \
  extra_fixture_grids_match_librmn

# The encoders: librmn writes random arrays (kept), fst-core re-encodes them, same words.
"$py" bench/oracle_encode.py "$out/encode" "$seed" "$count" > "$out/encode.log" 2>&1 \
  || { tail -n 40 "$out/encode.log" >&2; echo "encoder oracle generator failed (seed $seed)" >&2; exit 1; }
FSTGIS_ENCODE_ORACLE="$out/encode" cargo test -q --workspace --test codec_encode_fixtures \
  random_payloads_match_librmn

if [ -n "${GDAL_DRIVER_PATH:-}" ]; then
  # The values through the driver, and the rotated grids through gdallocationinfo -wgs84:
  # librmn's value at nodes over each grid.
  (cd tests/gdal && FSTGIS_EXTRA_FIXTURES="$out" FSTGIS_REQUIRE_DRIVER=1 GDAL_PAM_ENABLED=NO \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider -k "oracle-random or random_rotated" \
    test_fst.py test_rotated.py)
else
  echo "(GDAL part skipped: GDAL_DRIVER_PATH not set)"
fi
