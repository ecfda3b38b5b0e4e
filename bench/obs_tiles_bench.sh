#!/usr/bin/env bash
# Observation tiles: render 256×256 XYZ tiles of a million IODA observations (the file
# bench/make_ioda_obs.py writes: surface stations and radiosondes over the globe) with the
# tile cache off, so that every request draws its points (the runs of the tile-ordered
# locations that meet the tile, QC filter, one circle per occupied pixel, PNG). Prints p50/p99 warm (each tile drawn
# once first: the index is built by the first request) at concurrency 1, for three tile
# sets, and a field tile of the bundled sample beside them for scale.
#
#   bench/obs_tiles_bench.sh [--locations N] [--seconds S]
#   PYTHON=/path/to/venv/bin/python bench/obs_tiles_bench.sh   # a Python with netCDF4
#
# Writes bench/out/obs/results.json. The issue's target: p50 ≤ 10 ms for a tile of a
# million observations.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
locations=1000000
secs=10
while [[ $# -gt 0 ]]; do
    case "$1" in
        --locations) locations="$2"; shift 2 ;;
        --seconds) secs="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
out="$repo/bench/out/obs"
mkdir -p "$out/data" "$out/gen"
py="${PYTHON:-}"
if [[ -z "$py" ]]; then
    py="$(tests/ioda/setup-venv.sh)/bin/python"
fi
if [[ ! -f "$out/data/obs.nc4" || "$(cat "$out/locations" 2>/dev/null)" != "$locations" ]]; then
    echo "== writing $locations observations (bench/make_ioda_obs.py)"
    "$py" bench/make_ioda_obs.py "$out/gen" --locations "$locations"
    mv "$out/gen/sfc_sonde_obs.nc4" "$out/data/obs.nc4"
    rm -f "$out/gen"/sfc_sonde_pool_*.nc4
    echo "$locations" > "$out/locations"
fi
cp -f tile-server/sample/sample.fst "$out/data/model.fst"
port=18190
. bench/start_server.sh
start_server "$out" "$port" "[cache]
tiles_mb = 0"

# Tile sets: the whole world (z0: all million points in one tile), z2 (16 tiles), and z5
# tiles over North America (a few thousand points each).
layer="obs.airTemperature"
echo "/tiles/$layer/0/0/0.png" > "$out/tiles_z0.txt"
: > "$out/tiles_z2.txt"
for x in 0 1 2 3; do for y in 0 1 2 3; do echo "/tiles/$layer/2/$x/$y.png" >> "$out/tiles_z2.txt"; done; done
: > "$out/tiles_z5.txt"
for x in 5 6 7 8 9; do for y in 10 11 12 13; do echo "/tiles/$layer/5/$x/$y.png" >> "$out/tiles_z5.txt"; done; done
: > "$out/tiles_field.txt"
for x in 0 1 2 3; do for y in 1 2 3; do echo "/tiles/TT/3/$x/$y.png" >> "$out/tiles_field.txt"; done; done

t0=$(date +%s.%N)
curl -sf -o /dev/null "http://127.0.0.1:$port/tiles/$layer/0/0/0.png"
t1=$(date +%s.%N)
echo "   first tile (reads and indexes $locations observations): $(python3 -c "print(round(($t1-$t0)*1000))") ms"

echo "{" > "$out/results.json"
sep=""
for set in z0 z2 z5 field; do
    while read -r path; do
        code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")"
        [[ "$code" == 200 ]] || { echo "warm-up: $path answered $code" >&2; exit 1; }
    done < "$out/tiles_$set.txt"
    res="$(TILES_LIST="$out/tiles_$set.txt" wrk -t1 -c1 -d"${secs}s" -s bench/tiles_wrk.lua "http://127.0.0.1:$port" | tail -n 1)"
    echo "  $sep\"$set\": $res" >> "$out/results.json"
    sep=","
done
echo "}" >> "$out/results.json"
python3 - "$out/results.json" "$locations" <<'EOF2'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"\n{int(sys.argv[2]):,} observations, 256x256 tiles, tile cache off, concurrency 1, warm\n")
print("| tiles | p50 ms | p99 ms | tiles/s |")
print("|---|---|---|---|")
names = {"z0": "z0 (the whole world: every observation)", "z2": "z2 (16 tiles)",
         "z5": "z5 over North America (20 tiles)", "field": "field TT z3 (bundled sample), for scale"}
for k, v in r.items():
    print(f"| {names[k]} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | {v['rps']:.0f} |")
print(f"\nratio field/obs throughput (z2): {r['field']['rps'] / r['z2']['rps']:.2f}")
EOF2
