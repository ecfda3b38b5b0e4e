#!/usr/bin/env bash
# Open an IODA v3 file of a million observations and read what a map layer needs (latitude,
# longitude, dateTime and ObsValue/airTemperature, with their missing masks, longitudes in
# [-180, 180), times as UTC instants): crates/ioda (examples/ioda_bench.rs, release) against
# h5py + numpy (bench/ioda_h5py.py) on the same files, the single file and the io-pool set of
# four. Prints the best of N runs of each and the ratio (> 1: ours is faster). Both sides
# print checksums of what they read, which must agree.
#
#   bench/ioda_vs_h5py.sh [--repeat N] [--locations N]
#
# Inputs: bench/out/ioda/sfc_sonde_obs.nc4 and sfc_sonde_pool_000[0-3].nc4, written once by
# bench/make_ioda_obs.py (netCDF4, in the venv of tests/ioda: tests/ioda/setup-venv.sh).
# Each side runs once untimed first, so both start from a warm page cache.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
repeat=5
locations=1000000
while [[ $# -gt 0 ]]; do
    case "$1" in
        --repeat) repeat="$2"; shift 2 ;;
        --locations) locations="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
out="$repo/bench/out/ioda"
venv="$(tests/ioda/setup-venv.sh)"
py="$venv/bin/python"
single="$out/sfc_sonde_obs.nc4"
if [[ ! -f "$single" || ! -f "$out/sfc_sonde_pool_0003.nc4" || ! -f "$out/locations" ]] \
    || [[ "$(cat "$out/locations")" != "$locations" ]]; then
    echo "== writing $locations observations (bench/make_ioda_obs.py)"
    "$py" bench/make_ioda_obs.py "$out" --locations "$locations"
    echo "$locations" > "$out/locations"
fi
target="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -q -p ioda --example ioda_bench
ours="$target/release/examples/ioda_bench"
variable="ObsValue/airTemperature"

run_case() {
    local label="$1"; shift
    local first="$1"
    "$ours" "$first" "$variable" 1 > /dev/null
    "$py" bench/ioda_h5py.py "$variable" 1 "$@" > /dev/null
    local mine theirs
    mine="$("$ours" "$first" "$variable" "$repeat")"
    theirs="$("$py" bench/ioda_h5py.py "$variable" "$repeat" "$@")"
    if [[ "$(grep checksum <<<"$mine")" != "$(grep checksum <<<"$theirs")" ]]; then
        echo "checksums differ on $label:" >&2
        diff <(grep checksum <<<"$mine") <(grep checksum <<<"$theirs") >&2 || true
        exit 1
    fi
    local t_ours t_h5py
    t_ours="$(awk '/best_seconds/ {print $2}' <<<"$mine")"
    t_h5py="$(awk '/best_seconds/ {print $2}' <<<"$theirs")"
    awk -v l="$label" -v a="$t_ours" -v b="$t_h5py" \
        'BEGIN { printf "%-28s ours %8.1f ms   h5py+numpy %8.1f ms   ratio %.2fx\n", l, a*1000, b*1000, b/a }'
    sed -n 's/^phases /    ours, by step: /p' <<<"$mine"
}

echo "== open + read latitude, longitude, dateTime, $variable ($locations locations, best of $repeat)"
run_case "single file" "$single"
run_case "io-pool set of 4" "$out/sfc_sonde_pool_0000.nc4" "$out"/sfc_sonde_pool_000[1-3].nc4
