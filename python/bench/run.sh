#!/usr/bin/env bash
# Benchmarks of the Python package against rpnpy/fstd2nc (librmn 19.5), one run each, ratios
# printed (> 1: fstgis faster):
#   (a) index a 100 000-record file into a polars DataFrame (fstgis) against rpnpy's
#       fstinl + fstprm loop (target ≥ 100x, ≥ 5 000 records/ms);
#   (b) xr.open_dataset(engine="fst") then .load() on the 500-record file of
#       bench/gdal_bench_input.py, against fstd2nc.Buffer(...).to_xarray().load()
#       (targets: 20x the lazy open, 3x the load, peak memory of the load ≤ 1.2x decoded);
#   (c) fstgis.from_xarray against fstd2nc's Buffer.from_xarray(ds).to_fstd(out) on the same
#       in-memory dataset (the 100-step 800x600 float32 netCDF of bench/netcdf_to_fst.sh),
#       both datyp 133/32 (fstd2nc's choice for float32: lossless turbo-compressed IEEE).
# Inputs are written by librmn into bench/out/ on first use (bench/make_fixtures.py --big,
# bench/gdal_bench_input.py). The fstgis venv comes from python/tests/run.sh.
#   python/bench/run.sh [--repeat N]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
repeat=3
[[ "${1:-}" == "--repeat" ]] && repeat="$2"
out="$repo/bench/out"
mkdir -p "$out"
oracle="$(bench/oracle-env.sh)"
if ! "$oracle" -c 'import fstd2nc, yaml, xarray, dask' 2>/dev/null; then
  "$oracle" -m pip install --quiet --disable-pip-version-check fstd2nc pyyaml xarray dask "numpy<2"
fi
big="$out/big/big.fst"
if [[ ! -f "$big" ]]; then
  echo "writing $big with librmn (about 25 s)" >&2
  "$oracle" bench/make_fixtures.py "$out/big" --big --no-verify >/dev/null 2>&1
fi
fields="$out/gdal_bench.fst"
if [[ ! -f "$fields" ]]; then
  echo "writing $fields with librmn" >&2
  "$oracle" bench/gdal_bench_input.py "$fields" >&2
fi
netcdf="$out/netcdf_to_fst_100.nc"
if ! "$oracle" -c 'import netCDF4' 2>/dev/null; then
  "$oracle" -m pip install --quiet --disable-pip-version-check netCDF4 "numpy<2"
fi
[[ -f "$netcdf" ]] || "$oracle" bench/netcdf_to_fst_input.py "$netcdf" 100
# Release build of the extension for timing.
VIRTUAL_ENV="$repo/.venv-python" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}" \
  "$repo/.venv-python/bin/maturin" develop --release -q -m "$repo/python/Cargo.toml" >/dev/null 2>&1
ours="$repo/.venv-python/bin/python"
b="$here/bench_python.py"
results="$out/python_bench.jsonl"
{
  # The fstgis index takes ~15 ms: best of 20 runs, so that one run sharing the cores with
  # other jobs does not decide the figure (each rpnpy run takes seconds).
  "$ours" "$b" index ours "$big" 20
  "$oracle" "$b" index rpnpy "$big" "$repeat"
  # The load allocates ~1 GB of fresh arrays, whose page faults cost 4x more when the
  # kernel has no huge page at hand (0.24-1.14 s for the same load here, 0.78-1.80 s for
  # fstd2nc's): each side loads in a fresh process $repeat times, alternating, best kept.
  for _ in $(seq "$repeat"); do
    "$ours" "$b" xarray ours "$fields" "$repeat"
    "$oracle" "$b" xarray fstd2nc "$fields" "$repeat"
  done
  "$ours" "$b" write ours "$netcdf" "$repeat"
  "$oracle" "$b" write fstd2nc "$netcdf" "$repeat"
} > "$results"
"$ours" - "$results" <<'PY'
import json, sys
runs = {}
for x in map(json.loads, open(sys.argv[1])):
    runs.setdefault((x["task"], x["side"]), []).append(x)
r = {k: v[0] for k, v in runs.items()}
for side in ("ours", "fstd2nc"):
    xs = runs["xarray", side]
    best_run = dict(min(xs, key=lambda x: x["load_seconds"]))
    best_run["open_seconds"] = min(x["open_seconds"] for x in xs)
    best_run["open_first_seconds"] = min(x["open_first_seconds"] for x in xs)
    # Memory: the worst run's, not the best's.
    best_run["peak_rss_growth_bytes"] = max(x["peak_rss_growth_bytes"] for x in xs)
    best_run["load_runs"] = sorted(x["load_seconds"] for x in xs)
    r["xarray", side] = best_run
a, b = r["index", "ours"], r["index", "rpnpy"]
print(f"index {a['records']} records: fstgis {a['seconds']*1e3:.1f} ms "
      f"({a['records'] / (a['seconds'] * 1e3):.0f} records/ms), rpnpy {b['seconds']*1e3:.0f} ms, "
      f"ratio {b['seconds'] / a['seconds']:.0f}x")
a, b = r["xarray", "ours"], r["xarray", "fstd2nc"]
print(f"lazy open, best in one process: fstgis {a['open_seconds']*1e3:.2f} ms, fstd2nc "
      f"{b['open_seconds']*1e3:.1f} ms, ratio {b['open_seconds'] / a['open_seconds']:.1f}x; "
      f"first of a fresh process: fstgis {a['open_first_seconds']*1e3:.0f} ms (with xarray's "
      f"backend discovery), fstd2nc {b['open_first_seconds']*1e3:.0f} ms, ratio "
      f"{b['open_first_seconds'] / a['open_first_seconds']:.1f}x")
print(f"load {a['decoded_bytes'] / 2**20:.0f} MiB (best of {len(a['load_runs'])} fresh processes): "
      f"fstgis {a['load_seconds']:.2f} s, fstd2nc {b['load_seconds']:.2f} s, "
      f"ratio {b['load_seconds'] / a['load_seconds']:.1f}x; all runs: fstgis "
      f"{', '.join(f'{t:.2f}' for t in a['load_runs'])} s, fstd2nc "
      f"{', '.join(f'{t:.2f}' for t in b['load_runs'])} s")
print(f"peak memory growth of the load / decoded size: fstgis "
      f"{a['peak_rss_growth_bytes'] / a['decoded_bytes']:.2f}, fstd2nc "
      f"{b['peak_rss_growth_bytes'] / max(b['decoded_bytes'], 1):.2f}")
a, b = r["write", "ours"], r["write", "fstd2nc"]
print(f"write {a['decoded_bytes'] / 2**20:.0f} MiB from xarray (datyp 133/32): fstgis.from_xarray "
      f"{a['seconds']:.2f} s ({a['bytes']} bytes), fstd2nc to_fstd {b['seconds']:.2f} s "
      f"({b['bytes']} bytes), ratio {b['seconds'] / a['seconds']:.1f}x")
PY
