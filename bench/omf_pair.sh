#!/usr/bin/env bash
# Observation minus model at scale: the generator pair of tile-server/tests/obs_omf.rs with a
# million observations. librmn writes the model (bench/make_model_fst.py), the generator
# writes the observations with HofX = that model interpolated in numpy
# (bench/make_ioda_obs.py --model); the release server then computes its O−F layer. Prints
# the time of the first O−F request (read, index, interpolate a million observations), of a
# warm one, and the server's count, bias, std and RMS beside numpy's ObsValue − HofX.
#
#   bench/omf_pair.sh [--locations N]
#
# Writes bench/out/omf/results.json.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
locations=1000000
while [[ $# -gt 0 ]]; do
    case "$1" in
        --locations) locations="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
out="$repo/bench/out/omf"
mkdir -p "$out/data" "$out/gen"
oracle="$(bench/oracle-env.sh)"
py="$(tests/ioda/setup-venv.sh)/bin/python"
if [[ ! -f "$out/data/obs.nc4" || "$(cat "$out/locations" 2>/dev/null)" != "$locations" ]]; then
    echo "== model (librmn) and $locations observations with HofX from it"
    "$oracle" bench/make_model_fst.py "$out/gen"
    "$py" bench/make_ioda_obs.py "$out/gen/obs" --locations "$locations" --bbox=-135,20,-55,60 \
        --seed 3 --model "$out/gen/model_tt.npz" --oracle-python "$oracle"
    mv "$out/gen/obs/sfc_sonde_obs.nc4" "$out/data/obs.nc4"
    mv "$out/gen/model_tt.fst" "$out/data/model.fst"
    rm -f "$out/gen/obs"/sfc_sonde_pool_*.nc4
    echo "$locations" > "$out/locations"
fi
port=18191
. bench/start_server.sh
start_server "$out" "$port"

url="http://127.0.0.1:$port/collections/obs.airTemperature.OmF/stats"
first="$(curl -sf -o "$out/stats.json" -w '%{time_total}' "$url")"
warm="$(curl -sf -o /dev/null -w '%{time_total}' "$url")"
"$py" - "$out" "$first" "$warm" <<'PY'
import json, sys
import netCDF4
import numpy as np
out, first, warm = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
server = json.load(open(f"{out}/stats.json"))
with netCDF4.Dataset(f"{out}/data/obs.nc4") as d:
    v = d["ObsValue/airTemperature"][:].astype(np.float64).filled(np.nan)
    h = d["HofX/airTemperature"][:].astype(np.float64).filled(np.nan)
    qc = d["PreQC/airTemperature"][:].filled(-1)
keep = (qc == 0) & np.isfinite(v)
dep = (v - h)[keep & np.isfinite(h)]
numpy = {"count": int(dep.size), "bias": float(dep.mean()), "std": float(dep.std()),
         "rms": float(np.sqrt((dep ** 2).mean()))}
result = {"locations": int(v.size), "first_request_s": first, "warm_request_s": warm,
          "server": {k: server[k] for k in ("count", "bias", "std", "rms", "outside_model")},
          "numpy": numpy, "dropped": server["model"]["dropped"],
          "max_abs_stat_difference": max(abs(server[k] - numpy[k]) for k in ("bias", "std", "rms"))}
json.dump(result, open(f"{out}/results.json", "w"), indent=1)
print(json.dumps(result, indent=1))
PY
