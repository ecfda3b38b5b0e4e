#!/usr/bin/env bash
# netCDF -> FST: `gdal_translate -of FST` (our plugin, release build) against fstd2nc's
# `Buffer.from_xarray(xr.open_dataset(nc)).to_fstd(out)` on the same netCDF (100 time steps
# of 800x600 float32, bench/netcdf_to_fst_input.py). Both write 16-bit packed records
# (fstd2nc's default; ours: DATYP=1 NBITS=16 to match, and our default 134/16 for the record).
# fstd2nc (and librmn 19.5 under it) comes from the oracle venv (bench/oracle-env.sh).
# Best of N runs each; wall and CPU times and the ratios are printed.
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
best() { # best of $repeat runs of "$@": "wall cpu" in seconds (cpu: user + system of the
    # run with the best wall time; on a machine shared with other work it is the steadier one)
    local b="" c="" cpu
    cpu="$(mktemp)"
    for _ in $(seq "$repeat"); do
        local t0 t1 d
        t0=$(now); "$@" > "$cpu" 2>/dev/null; t1=$(now)
        d=$(echo "$t1 - $t0" | bc)
        if [[ -z "$b" ]] || (( $(echo "$d < $b" | bc) )); then
            b=$d; c=$(tail -1 "$cpu")
        fi
    done
    rm -f "$cpu"
    echo "$b $c"
}
# CPU time of a command (children included), on the last line of its stderr.
cputime() { /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
ours() { rm -f "$out/ours_$1.fst"; cputime gdal_translate -q -of FST -co "DATYP=$2" -co NBITS=16 -co CONTAINER=XDF "NETCDF:\"$input\":tt" "$out/ours_$1.fst"; }
theirs() {
    rm -f "$out/fstd2nc.fst"
    cputime "$py" -c '
import sys, warnings; warnings.simplefilter("ignore")
import xarray as xr, fstd2nc
fstd2nc.Buffer.from_xarray(xr.open_dataset(sys.argv[1])).to_fstd(sys.argv[2])' "$input" "$out/fstd2nc.fst"
}
ours 1 1 > /dev/null || { echo "gdal_translate -of FST failed" >&2; exit 1; }
nb=$(gdalinfo "$out/ours_1.fst" | grep -c '^Band ' || true)
[[ "$nb" -eq "$steps" ]] || { echo "gdal_translate -of FST wrote $nb bands, not $steps" >&2; exit 1; }
theirs > /dev/null || { echo "fstd2nc failed" >&2; exit 1; }
read -r t_ours c_ours <<<"$(best ours 1 1)"
read -r t_turbo c_turbo <<<"$(best ours 134 134)"
read -r t_theirs c_theirs <<<"$(best theirs)"
mb=$(python3 -c "import os; print(round(os.path.getsize('$input')/1e6))")
echo "input: $input ($steps x 800x600 float32, $mb MB)"
echo "load average: $(cut -d" " -f1-3 /proc/loadavg) (2 cores shared; wall times vary with it)"
printf 'gdal_translate -of FST (1/16, XDF):   %.3f s, cpu %.2f s  (%s bytes)\n' "$t_ours" "$c_ours" "$(stat -c %s "$out/ours_1.fst")"
printf 'gdal_translate -of FST (134/16, XDF): %.3f s, cpu %.2f s  (%s bytes)\n' "$t_turbo" "$c_turbo" "$(stat -c %s "$out/ours_134.fst")"
printf 'fstd2nc from_xarray().to_fstd():      %.3f s, cpu %.2f s  (%s bytes)\n' "$t_theirs" "$c_theirs" "$(stat -c %s "$out/fstd2nc.fst")"
python3 -c "import sys; a = [float(x) for x in sys.argv[1:]]; print('ratio fstd2nc / ours, wall (1/16): %.1fx; (134/16): %.1fx; cpu (1/16): %.1fx; (134/16): %.1fx' % (a[0]/a[1], a[0]/a[2], a[3]/a[4], a[3]/a[5]))" "$t_theirs" "$t_ours" "$t_turbo" "$c_theirs" "$c_ours" "$c_turbo"
