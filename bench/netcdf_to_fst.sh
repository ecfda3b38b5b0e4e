#!/usr/bin/env bash
# netCDF -> FST: `gdal_translate -of FST` (our plugin, release build) against fstd2nc's
# `Buffer.from_xarray(xr.open_dataset(nc)).to_fstd(out)` on the same netCDF (100 time steps
# of 800x600 float32, bench/netcdf_to_fst_input.py). Both write 16-bit packed records
# (fstd2nc's default; ours: DATYP=1 NBITS=16 to match, and our default 134/16 for the record).
# fstd2nc (and librmn 19.5 under it) comes from the oracle venv (bench/oracle-env.sh).
# Best of N runs each; times and the ratio are printed.
#
#   bench/netcdf_to_fst.sh [--repeat N] [--steps NT]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
repeat=3
steps=100
while [[ $# -gt 0 ]]; do
    case "$1" in
        --repeat) repeat="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
out="$repo/bench/out"
mkdir -p "$out"
py="$(bench/oracle-env.sh)"
if ! "$py" -c 'import fstd2nc, yaml, xarray, dask, netCDF4' 2>/dev/null; then
    "$py" -m pip install --quiet --disable-pip-version-check fstd2nc pyyaml xarray dask netCDF4 "numpy<2" >&2
fi
input="$out/netcdf_to_fst_${steps}.nc"
[[ -f "$input" ]] || "$py" bench/netcdf_to_fst_input.py "$input" "$steps"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -q -p gdal-fst
export GDAL_DRIVER_PATH="$(gdal-driver/install-plugin.sh --profile release)"
export GDAL_PAM_ENABLED=NO
cat "$input" > /dev/null   # warm page cache for both tools

now() { date +%s.%N; }
best() { # best of $repeat runs of "$@", in seconds
    local b=""
    for _ in $(seq "$repeat"); do
        local t0 t1
        t0=$(now); "$@" > /dev/null 2>&1; t1=$(now)
        b=$(python3 -c "import sys; a=float(sys.argv[1]); d=float(sys.argv[2]); print(d if a=='' or d<a else a)" "${b:-inf}" "$(echo "$t1 - $t0" | bc)")
    done
    echo "$b"
}
ours() { rm -f "$out/ours_$1.fst"; gdal_translate -q -of FST -co "DATYP=$2" -co NBITS=16 -co CONTAINER=XDF "NETCDF:\"$input\":tt" "$out/ours_$1.fst"; }
theirs() {
    rm -f "$out/fstd2nc.fst"
    "$py" -c '
import sys, warnings; warnings.simplefilter("ignore")
import xarray as xr, fstd2nc
fstd2nc.Buffer.from_xarray(xr.open_dataset(sys.argv[1])).to_fstd(sys.argv[2])' "$input" "$out/fstd2nc.fst"
}
ours 1 1 || { echo "gdal_translate -of FST failed" >&2; exit 1; }
nb=$(gdalinfo "$out/ours_1.fst" | grep -c '^Band ' || true)
[[ "$nb" -eq "$steps" ]] || { echo "gdal_translate -of FST wrote $nb bands, not $steps" >&2; exit 1; }
theirs || { echo "fstd2nc failed" >&2; exit 1; }
t_ours=$(best ours 1 1)
t_turbo=$(best ours 134 134)
t_theirs=$(best theirs)
mb=$(python3 -c "import os; print(round(os.path.getsize('$input')/1e6))")
echo "input: $input ($steps x 800x600 float32, $mb MB)"
printf 'gdal_translate -of FST (1/16, XDF):   %.3f s  (%s bytes)\n' "$t_ours" "$(stat -c %s "$out/ours_1.fst")"
printf 'gdal_translate -of FST (134/16, XDF): %.3f s  (%s bytes)\n' "$t_turbo" "$(stat -c %s "$out/ours_134.fst")"
printf 'fstd2nc from_xarray().to_fstd():      %.3f s  (%s bytes)\n' "$t_theirs" "$(stat -c %s "$out/fstd2nc.fst")"
python3 -c "import sys; print('ratio fstd2nc / ours (1/16): %.1fx; (134/16): %.1fx' % (float(sys.argv[1])/float(sys.argv[2]), float(sys.argv[1])/float(sys.argv[3])))" "$t_theirs" "$t_ours" "$t_turbo"
