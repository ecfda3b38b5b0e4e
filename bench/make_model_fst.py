"""The model half of the observation-minus-model generator pair: an FST file written by
librmn (the oracle, through rpnpy) with air temperature `TT` (°C, and at the 1.5 m screen
level) and the grid-relative wind components `UU`, `VV` (knots, and at 10 m) on a rotated
limited-area grid, on pressure levels, at several valid times; and, on request, librmn's
own inverse (`gdxyfll`) of that grid and its rotation of grid-relative winds to eastward
and northward (`gdwdfuv`) at given points.

    ORACLE=$(bench/oracle-env.sh)
    $ORACLE bench/make_model_fst.py OUT_DIR [--centre 2024-06-16T00:00:00Z]
    $ORACLE bench/make_model_fst.py --locate OUT_DIR/model_tt.npz POINTS.npz XY.npz

The first form writes OUT_DIR/model_tt.fst and OUT_DIR/model_tt.npz: the grid's
parameters, the levels (hPa; the screen levels apart), the valid times (seconds since 1970)
and every record's values as librmn's `fstluk` reads them back (float32, `[time][level]`,
each `(ni, nj)`; `upper`/`surface` for TT, `uu_upper`, `uu_surface`, ... for the winds), so
that `make_ioda_obs.py --model` interpolates exactly what the file holds. The second form
reads `lat`, `lon` (degrees) from POINTS.npz and writes to XY.npz `x`, `y`, librmn's
fractional 0-based grid indices (`gdxyfll` minus one), and `east_u`, `north_u`, `east_v`,
`north_v`: the eastward and northward components librmn's `gdwdfuv` gives a grid-relative
wind of (1, 0) and of (0, 1) at each point (the rotation is linear in the components).

The grid: a `Z` grid on an `E` (rotated lat-lon) reference centred on (40 N, 95 W), 70×30
points 1.2° apart in the rotated frame. Runs in the oracle venv (numpy < 2, rpnpy 2.1,
librmn 19.5); see bench/oracle-env.sh.
"""

import argparse
import datetime as dt
import pathlib
import warnings

import numpy as np

warnings.simplefilter("ignore")  # rpnpy/numpy deprecation noise

import fstd2nc_deps  # noqa: E402,F401  (puts rpnpy on sys.path)
from rpnpy.librmn import all as rmn  # noqa: E402

GRID = dict(ni=70, nj=30, rlat0=-18.0, rlon0=138.0, dlat=1.2, dlon=1.2,
            xlat1=40.0, xlon1=-95.0, xlat2=40.0, xlon2=-85.0)
LEVELS_HPA = [1000.0, 925.0, 850.0, 700.0, 500.0, 400.0, 300.0, 250.0, 200.0, 150.0, 100.0]
SCREEN_M = 1.5
ANEMOMETER_M = 10.0
# Forecast hours of the records from a run 6 h before the window centre: valid at centre
# - 3 h, centre, centre + 2 h (uneven on purpose; observations after + 2 h fall outside).
HOURS = [3, 6, 8]
RUN_BEFORE_CENTRE_H = 6


def grid():
    return rmn.defGrid_ZEr(GRID["ni"], GRID["nj"], GRID["rlat0"], GRID["rlon0"],
                           GRID["dlat"], GRID["dlon"], GRID["xlat1"], GRID["xlon1"],
                           GRID["xlat2"], GRID["xlon2"])


def temperature_c(lat, lon, p_hpa, hours):
    """°C: the generator's analytic air temperature (make_ioda_obs.analytic_temperature),
    plus a short wave so that bilinear and nearest-point sampling differ."""
    lat_r = np.deg2rad(lat)
    surface = 300.0 - 45.0 * np.sin(lat_r) ** 2 + 3.0 * np.cos(np.deg2rad(2 * lon)) * np.cos(lat_r)
    lapse = 60.0 * np.log10(1013.25 / np.clip(p_hpa, 200.0, None))
    wave = 2.0 * np.sin(np.deg2rad(7.0 * lon)) * np.cos(np.deg2rad(5.0 * lat))
    return surface - lapse + wave + 1.5 * np.sin(2 * np.pi * hours / 24.0) - 273.15


def wind_kt(lat, lon, p_hpa, hours, component):
    """Grid-relative wind components, knots: a jet strengthening with height, waves."""
    up = np.log(1013.25 / np.clip(p_hpa, 100.0, None))
    if component == "UU":
        return 10.0 + 25.0 * up + 8.0 * np.sin(np.deg2rad(3.0 * lon)) * np.cos(np.deg2rad(2.0 * lat)) \
            + 2.0 * hours
    return 3.0 + 6.0 * np.cos(np.deg2rad(4.0 * lon + 20.0 * up)) - 0.5 * hours


def write(out_dir, centre):
    rmn.fstopt(rmn.FSTOP_MSGLVL, rmn.FSTOPI_MSG_CATAST)
    g = grid()
    ll = rmn.gdll(g["id"])
    lat, lon = ll["lat"].astype(np.float64), ll["lon"].astype(np.float64)
    run = centre - dt.timedelta(hours=RUN_BEFORE_CENTRE_H)
    dateo = rmn.newdate(rmn.NEWDATE_PRINT2STAMP, int(run.strftime("%Y%m%d")),
                        int(run.strftime("%H%M%S00")))
    path = out_dir / "model_tt.fst"
    if path.exists():
        path.unlink()
    unit = rmn.fstopenall(str(path), rmn.FST_RW)
    rmn.writeGrid(unit, g)
    levels = [(p, rmn.convertIp(rmn.CONVIP_ENCODE, p, rmn.KIND_PRESSURE)) for p in LEVELS_HPA]
    screen = rmn.convertIp(rmn.CONVIP_ENCODE, SCREEN_M, rmn.KIND_ABOVE_GND)
    anemometer = rmn.convertIp(rmn.CONVIP_ENCODE, ANEMOMETER_M, rmn.KIND_ABOVE_GND)

    def record(nomvar, values, ip1, h):
        meta = dict(nomvar=nomvar, typvar="P", etiket="OMFTEST", ni=g["ni"], nj=g["nj"],
                    nk=1, dateo=dateo, deet=3600, npas=h, ip1=ip1, ip2=h, ip3=0,
                    grtyp="Z", ig1=g["tag1"], ig2=g["tag2"], ig3=g["tag3"], ig4=0,
                    datyp=5, nbits=32)
        rmn.fstecr(unit, np.asfortranarray(values, dtype=np.float32), meta)

    for h in HOURS:
        hours = h - RUN_BEFORE_CENTRE_H
        for p, ip1 in levels:
            record("TT", temperature_c(lat, lon, p, hours), ip1, h)
            for c in ("UU", "VV"):
                record(c, wind_kt(lat, lon, p, hours, c), ip1, h)
        # The screen level: a 1.5 m temperature a little warmer than 1000 hPa's; 10 m winds
        # weaker than 1000 hPa's.
        record("TT", temperature_c(lat, lon, 1000.0, hours) + 1.0, screen, h)
        for c in ("UU", "VV"):
            record(c, 0.7 * wind_kt(lat, lon, 1000.0, hours, c), anemometer, h)
    rmn.fstcloseall(unit)

    # What the file holds, read back by librmn.
    unit = rmn.fstopenall(str(path), rmn.FST_RO)
    times, upper, surface = [], [], []
    winds = {f"{c}_{part}": [] for c in ("uu", "vv") for part in ("upper", "surface")}

    def read(nomvar, ip1, h):
        key = rmn.fstinf(unit, nomvar=nomvar, ip1=ip1, ip2=h)
        return np.array(rmn.fstluk(key)["d"], dtype=np.float32)

    for h in HOURS:
        upper.append([read("TT", ip1, h) for _, ip1 in levels])
        for c in ("UU", "VV"):
            winds[f"{c.lower()}_upper"].append([read(c, ip1, h) for _, ip1 in levels])
            winds[f"{c.lower()}_surface"].append(read(c, anemometer, h))
        key = rmn.fstinf(unit, nomvar="TT", ip1=screen, ip2=h)
        rec = rmn.fstluk(key)
        surface.append(np.array(rec["d"], dtype=np.float32))
        stamp = rmn.newdate(rmn.NEWDATE_STAMP2PRINT, rec["datev"])
        valid = dt.datetime.strptime(f"{stamp[0]:08d}{stamp[1] // 100:06d}", "%Y%m%d%H%M%S")
        times.append(int(valid.replace(tzinfo=dt.timezone.utc).timestamp()))
    rmn.fstcloseall(unit)
    np.savez(out_dir / "model_tt.npz", levels_hpa=np.array(LEVELS_HPA), times=np.array(times),
             upper=np.array(upper), surface=np.array(surface),
             **{k: np.array(v) for k, v in winds.items()},
             grid=np.array([GRID[k] for k in ("ni", "nj", "rlat0", "rlon0", "dlat", "dlon",
                                               "xlat1", "xlon1", "xlat2", "xlon2")]))
    print(f"{path}: TT, UU, VV on {len(LEVELS_HPA)} pressure levels and at {SCREEN_M} m "
          f"(TT), {ANEMOMETER_M} m (UU, VV), valid at "
          + ", ".join(dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat() for t in times))


def locate(points, out):
    rmn.fstopt(rmn.FSTOP_MSGLVL, rmn.FSTOPI_MSG_CATAST)
    g = grid()
    p = np.load(points)
    lat, lon = p["lat"].astype(np.float32), p["lon"].astype(np.float32)
    xy = rmn.gdxyfll(g["id"], lat, lon)
    ones, zeros = np.ones(lat.size, np.float32), np.zeros(lat.size, np.float32)

    def east_north(u, v):
        # Speed and meteorological direction (where the wind blows from, clockwise from north).
        spd, wd = np.zeros(lat.size, np.float32), np.zeros(lat.size, np.float32)
        status = rmn.c_gdwdfuv(g["id"], spd, wd, u.copy(), v.copy(), lat.copy(), lon.copy(),
                               lat.size)
        if status < 0:
            raise RuntimeError(f"gdwdfuv: {status}")
        wd = np.deg2rad(wd.astype(np.float64))
        spd = spd.astype(np.float64)
        return -spd * np.sin(wd), -spd * np.cos(wd)

    east_u, north_u = east_north(ones, zeros)
    east_v, north_v = east_north(zeros, ones)
    np.savez(out, x=np.asarray(xy["x"], np.float64) - 1.0, y=np.asarray(xy["y"], np.float64) - 1.0,
             east_u=east_u, north_u=north_u, east_v=east_v, north_v=north_v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=pathlib.Path, nargs="?")
    ap.add_argument("--centre", default="2024-06-16T00:00:00Z")
    ap.add_argument("--locate", nargs=3, metavar=("MODEL_NPZ", "POINTS_NPZ", "XY_NPZ"))
    args = ap.parse_args()
    if args.locate:
        locate(args.locate[1], args.locate[2])
        return
    if args.out_dir is None:
        ap.error("OUT_DIR is required")
    centre = dt.datetime.fromisoformat(args.centre.replace("Z", "+00:00"))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write(args.out_dir, centre)


if __name__ == "__main__":
    main()
