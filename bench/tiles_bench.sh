#!/usr/bin/env bash
# Tile benchmark: fst-tile-server vs MapServer 8 (FastCGI behind lighttpd) vs titiler, on the
# same 2000x1000 Z-on-E field (datyp 134/16; GeoTIFF for the peers), the same tile list
# (z 2-8 over the grid, EPSG:3857, 256x256 PNG), at concurrency 1 and 8, with wrk.
#
#   bench/tiles_bench.sh            # writes bench/out/tiles/results.json and prints a table
#   TILES_SECONDS=10 TILES_SKIP_TITILER=1 ...
#
# Needs: the oracle venv (bench/oracle-env.sh) to write the FST input with librmn, gdal-bin,
# cgi-mapserver + lighttpd, wrk (scripts/apt-packages.txt), and network once for titiler's venv.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/bench/out/tiles"
mkdir -p "$out/data"
secs="${TILES_SECONDS:-10}"
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"

echo "== inputs"
if [ ! -s "$out/data/bench.fst" ]; then
  [ -x .venv-oracle/bin/python ] || bench/oracle-env.sh
  .venv-oracle/bin/python tile-server/sample/make_sample.py --bench "$out/data/bench.fst"
fi
cargo build --release -p tile-server --bins --examples
bin="$target/release/fst-tile-server"
if [ ! -s "$out/bench.tif" ]; then
  "$target/release/examples/export_geotiff" "$out/data/bench.fst" TT "$out/bench" > "$out/bench.proj"
  gdal_translate -q -of COG -co COMPRESS=NONE "$out/bench.vrt" "$out/bench.tif"
fi
if [ ! -s "$out/bench4326.tif" ]; then
  # The same field warped to EPSG:4326 (bilinear): how it is usually published for peers.
  gdalwarp -q -overwrite -t_srs EPSG:4326 -te -180 14 -45 80 -tr 0.036 0.036 -r bilinear -dstnodata nan \
    -of COG -co COMPRESS=NONE "$out/bench.vrt" "$out/bench4326.tif"
fi
proj="$(cat "$out/bench.proj")"

pids=()
# Stop what this script started, children first (lighttpd's FastCGI mapserv processes).
cleanup() {
  for p in "${pids[@]}"; do
    for c in $(pgrep -P "$p" 2>/dev/null); do kill "$c" 2>/dev/null || true; done
    kill "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
wait_http() { for _ in $(seq 1 150); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not up: $1" >&2; return 1; }

# Our server, twice: with its tile cache, and with the tile cache off (every request renders
# from the decoded-field cache, like the peers that have no tile cache).
cat > "$out/fst-nocache.toml" <<EOF2
data = ["data"]
styles = "$root/styles"
[cache]
tiles_mb = 0
[watch]
enabled = false
EOF2
"$bin" --data "$out/data" --listen 127.0.0.1:18090 > "$out/fst.log" 2>&1 & pids+=($!)
"$bin" --config "$out/fst-nocache.toml" --listen 127.0.0.1:18093 > "$out/fst-nocache.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:18090/healthz"
wait_http "http://127.0.0.1:18093/healthz"
bbox="$(curl -s http://127.0.0.1:18090/api/layers | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["layers"][0]["bbox"]))')"
n="$(python3 bench/tiles_lists.py "$bbox" "$out")"
echo "   $n tiles, bbox $bbox"

# MapServer FastCGI behind lighttpd.
sed -e "s|@TIF@|$out/bench.tif|" -e "s|@PROJ@|$proj|" bench/tiles_mapserver.map.in > "$out/bench.map"
sed -e "s|@TIF@|$out/bench4326.tif|" -e "s|@PROJ@|init=epsg:4326|" bench/tiles_mapserver.map.in > "$out/bench4326.map"
printf 'CONFIG\n  ENV\n    MS_MAP_PATTERN "."\n  END\n  MAPS\n    BENCH "%s"\n    BENCH4326 "%s"\n  END\nEND\n' \
  "$out/bench.map" "$out/bench4326.map" > "$out/mapserver.conf"
sed -e "s|@OUT@|$out|g" -e "s|@PORT@|18091|" -e "s|@PROCS@|${TILES_MS_PROCS:-4}|" bench/tiles_mapserver_lighttpd.conf.in > "$out/lighttpd.conf"
lighttpd -D -f "$out/lighttpd.conf" > "$out/lighttpd.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:18091/mapserv?map=BENCH&SERVICE=WMS&REQUEST=GetCapabilities"

servers="fst fst-nocache mapserver mapserver-4326"
if [ "${TILES_SKIP_TITILER:-0}" != 1 ]; then
  if [ ! -x "$out/venv-titiler/bin/uvicorn" ]; then
    python3 -m venv "$out/venv-titiler"
    "$out/venv-titiler/bin/pip" install -q titiler.application uvicorn
  fi
  "$out/venv-titiler/bin/uvicorn" titiler.application.main:app --host 127.0.0.1 --port 18092 --workers 2 --log-level warning > "$out/titiler.log" 2>&1 & pids+=($!)
  wait_http "http://127.0.0.1:18092/healthz" || wait_http "http://127.0.0.1:18092/api"
  servers="$servers titiler"
fi

port() { case "$1" in fst) echo 18090;; fst-nocache) echo 18093;; mapserver|mapserver-4326) echo 18091;; titiler) echo 18092;; esac; }
list() { case "$1" in fst|fst-nocache) echo "$out/tiles_fst.txt";; *) echo "$out/tiles_$1.txt";; esac; }

# The first tile of a never-opened file: a fresh server process, first request.
first_ms=()
for k in 1 2 3; do
  "$bin" --data "$out/data" --listen 127.0.0.1:18094 > /dev/null 2>&1 & p=$!
  wait_http "http://127.0.0.1:18094/healthz"
  t="$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:18094$(cat "$out/first_tile.txt")")"
  first_ms+=("$(python3 -c "print(round($t*1000, 2))")")
  kill "$p"; wait "$p" 2>/dev/null || true
done
echo "   first tile of a never-opened file: ${first_ms[*]} ms"

echo "{" > "$out/results.json"
echo "  \"tiles\": $n, \"seconds\": $secs, \"first_tile_ms\": [$(IFS=,; echo "${first_ms[*]}")]," >> "$out/results.json"
sep=""
for s in $servers; do
  url="http://127.0.0.1:$(port "$s")"
  # Warm-up: every tile once (fills caches, checks status codes).
  bad=0
  while read -r path; do
    code="$(curl -s -o /dev/null -w '%{http_code}' "$url$path")"
    [ "$code" = 200 ] || bad=$((bad + 1))
  done < "$(list "$s")"
  [ "$bad" = 0 ] || echo "   warning: $s answered $bad non-200 during warm-up" >&2
  for c in 1 8; do
    t=1; [ "$c" -gt 1 ] && t=2
    res="$(TILES_LIST="$(list "$s")" wrk -t"$t" -c"$c" -d"${secs}s" -s bench/tiles_wrk.lua "$url" | tail -n 1)"
    echo "   $s c=$c $res"
    echo "  $sep\"$s/c$c\": $res" >> "$out/results.json"
    sep=","
  done
done
echo "}" >> "$out/results.json"
python3 - "$out/results.json" <<'EOF2'
import json, sys
r = json.load(open(sys.argv[1]))
print()
print("| server | concurrency | p50 ms | p99 ms | tiles/s | vs MapServer | vs titiler |")
print("|---|---|---|---|---|---|---|")
for key, v in r.items():
    if "/" not in key:
        continue
    s, c = key.split("/")
    # Against the faster of the two MapServer set-ups (native rotated GeoTIFF, or pre-warped).
    ms = max([r[k]["rps"] for k in (f"mapserver/{c}", f"mapserver-4326/{c}") if k in r] or [0]) or None
    ti = r.get(f"titiler/{c}", {}).get("rps")
    print(f"| {s} | {c[1:]} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | {v['rps']:.0f} | "
          f"{v['rps'] / ms if ms else float('nan'):.2f}x | {v['rps'] / ti if ti else float('nan'):.2f}x |")
print(f"\nfirst tile of a never-opened file (fresh process): {r['first_tile_ms']} ms")
EOF2
