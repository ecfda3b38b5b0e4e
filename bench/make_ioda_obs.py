"""Write a realistic IODA v3 observation file, and the same observations as an io-pool set of
four files, for benchmarks and server tests.

    python bench/make_ioda_obs.py OUT_DIR [--locations N] [--bbox W,S,E,N]
                                  [--centre 2024-06-16T00:00:00Z] [--window-hours 6] [--seed 1]

Writes OUT_DIR/sfc_sonde_obs.nc4 (one file) and OUT_DIR/sfc_sonde_pool_0000.nc4 .. _0003.nc4
(the io-pool writer's split: consecutive blocks of locations, same variables), with netCDF4
(the library the ioda writer sits on), in the layout ioda 2.x writes:

- `Location` dimension with its coordinate variable, chunked along Location (10,000) and
  deflated (level 4, shuffle), as ioda's HDF5 backend does;
- MetaData/latitude, longitude (float, degrees, -180..180), dateTime (int64 "seconds since
  1970-01-01T00:00:00Z"), stationIdentification (variable-length strings), pressure (Pa),
  height (m), prepbufrReportType (int: 181 surface, 120 radiosonde);
- ObsValue, ObsError, HofX (float, K, _FillValue -3.3687953e38 as ioda writes) and PreQC
  (int, _FillValue -2147483643) of airTemperature; about 1 % of ObsValue missing.

About 36 % of the locations are surface reports (stations reporting hourly over the window),
the rest radiosonde ascents (800 levels from the surface up, drifting with height). Values
follow a smooth analytic temperature field T(lat, lon, p, t); HofX is that field at the
observation without the observation's noise.

With `--model DIR/model_tt.npz` (written with DIR/model_tt.fst by bench/make_model_fst.py,
librmn the writer), HofX is instead that FST field interpolated at each observation the way
the tile server's O−F layers specify (tile-server/README.md, "Observation minus model"), in
numpy, independently of the Rust code:

- horizontally bilinear in the grid's index space, the fractional indices from librmn's own
  inverse (`gdxyfll`, run by `--oracle-python`); observations outside the grid's points are
  missing in HofX;
- surface reports (prepbufrReportType 181) take the 1.5 m level; the others are linear in
  ln(pressure) between the two pressure levels around their MetaData/pressure (missing above
  the top or below the bottom level);
- linear in time between the two valid times around dateTime (missing outside);
- °C to K (+273.15); for `windEastward` and `windNorthward` (written only with `--model`),
  the grid-relative UU, VV interpolated so, turned east and north by librmn's `gdwdfuv`,
  knots to m/s (× 1852/3600).

ObsValue is then HofX plus the observation's noise (the analytic value plus noise where
HofX is missing), so O−F equals ObsValue − HofX wherever HofX has a value.

With `--station-pressure`, the surface reports also carry `stationPressure` (ObsValue,
ObsError, PreQC; Pa): the ICAO standard atmosphere's pressure at the station's height from
a sea-level pressure that varies smoothly with position, plus noise; and
MetaData/stationElevation (m, the report's height; missing for radiosonde levels and for
about 5 % of the surface reports). Its draws come from a generator of their own, so the
other variables are those of the same seed without the option.
"""

import argparse
import datetime as dt
import pathlib
import subprocess
import sys
import tempfile

import netCDF4
import numpy as np

FLOAT_FILL = np.float32(-3.3687953e38)
INT_FILL = np.int32(-2147483643)
CHUNK = 10_000
SONDE_LEVELS = 800


def analytic_temperature(lat, lon, pressure, hours):
    """A smooth field in K: warm tropics, colder aloft, a wave in longitude, a diurnal term."""
    lat_r = np.deg2rad(lat)
    surface = 300.0 - 45.0 * np.sin(lat_r) ** 2 + 3.0 * np.cos(np.deg2rad(2 * lon)) * np.cos(lat_r)
    # Colder with height up to a 200 hPa tropopause, isothermal above.
    lapse = 60.0 * np.log10(101325.0 / np.clip(pressure, 20000.0, None))
    return surface - lapse + 1.5 * np.sin(2 * np.pi * hours / 24.0)


def observations(n, bbox, centre, window_hours, rng):
    west, south, east, north = bbox
    n_sfc = int(n * 0.36)
    n_sonde = n - n_sfc
    half = window_hours / 2.0

    # Surface stations: hourly reports over the window.
    reports = max(1, int(window_hours))
    stations = max(1, n_sfc // reports)
    st_lat = rng.uniform(south, north, stations)
    st_lon = rng.uniform(west, east, stations)
    idx = np.arange(n_sfc) % stations
    sfc_hours = -half + (np.arange(n_sfc) // stations) % reports + rng.uniform(0, 0.1, n_sfc)
    sfc = {
        "lat": st_lat[idx], "lon": st_lon[idx], "hours": sfc_hours,
        "pressure": rng.uniform(85000.0, 103000.0, n_sfc),
        "height": rng.uniform(0.0, 1500.0, n_sfc),
        "type": np.full(n_sfc, 181, np.int32),
        "station": np.array([f"S{i:05d}" for i in idx], dtype=object),
    }

    # Radiosondes: ascents of SONDE_LEVELS levels, launched within the window, drifting east.
    ascents = max(1, n_sonde // SONDE_LEVELS)
    launch_lat = rng.uniform(south, north, ascents)
    launch_lon = rng.uniform(west, east, ascents)
    launch_h = rng.uniform(-half, half - 2.0, ascents) if window_hours > 2 else np.zeros(ascents)
    a = np.arange(n_sonde) // SONDE_LEVELS % ascents
    level = np.arange(n_sonde) % SONDE_LEVELS
    frac = level / SONDE_LEVELS
    sonde = {
        "lat": np.clip(launch_lat[a] + 0.3 * frac, -90, 90),
        "lon": launch_lon[a] + 1.5 * frac,
        "hours": launch_h[a] + 1.8 * frac,
        "pressure": 100000.0 * np.exp(-4.6 * frac),
        "height": 30000.0 * frac,
        "type": np.full(n_sonde, 120, np.int32),
        "station": np.array([f"{70000 + i:05d}" for i in a], dtype=object),
    }
    obs = {k: np.concatenate([sfc[k], sonde[k]]) for k in sfc}
    obs["lon"] = (obs["lon"] + 180.0) % 360.0 - 180.0
    obs["hofx"] = analytic_temperature(obs["lat"], obs["lon"], obs["pressure"], obs["hours"])
    error = np.where(obs["type"] == 181, 1.0, 0.8)
    obs["value"] = obs["hofx"] + rng.normal(0.0, 1.0, n) * error
    obs["error"] = error
    missing = rng.random(n) < 0.01
    obs["value"][missing] = np.nan
    obs["qc"] = np.where(missing, INT_FILL, np.where(rng.random(n) < 0.03, 1, 0)).astype(np.int32)
    epoch = int(centre.timestamp())
    obs["dateTime"] = epoch + np.round(obs["hours"] * 3600.0).astype(np.int64)
    return obs


def model_hofx(obs, model_npz, oracle_python):
    """HofX from the FST fields of `model_npz`, interpolated as the module's docstring says:
    {"airTemperature": K, "windEastward": m/s, "windNorthward": m/s}, NaN where the model
    does not cover the observation."""
    m = np.load(model_npz)
    # What the IODA file will hold: float32 coordinates and pressures.
    lat = obs["lat"].astype(np.float32).astype(np.float64)
    lon = obs["lon"].astype(np.float32).astype(np.float64)
    pressure = obs["pressure"].astype(np.float32).astype(np.float64)
    with tempfile.TemporaryDirectory() as tmp:
        points, xy = pathlib.Path(tmp) / "points.npz", pathlib.Path(tmp) / "xy.npz"
        np.savez(points, lat=lat, lon=lon)
        here = pathlib.Path(__file__).resolve().parent
        subprocess.run([oracle_python, str(here / "make_model_fst.py"), "--locate",
                        str(model_npz), str(points), str(xy)], check=True)
        located = dict(np.load(xy))
    x, y = located["x"], located["y"]
    ni, nj = m["surface"].shape[1:]
    inside = (x >= 0) & (x <= ni - 1) & (y >= 0) & (y <= nj - 1)
    i0 = np.clip(np.floor(np.nan_to_num(x)), 0, ni - 2).astype(int)
    j0 = np.clip(np.floor(np.nan_to_num(y)), 0, nj - 2).astype(int)
    a, b = x - i0, y - j0

    def bilinear(field):  # field: (ni, nj); values at every observation
        top = field[i0, j0] + a * (field[i0 + 1, j0] - field[i0, j0])
        bottom = field[i0, j0 + 1] + a * (field[i0 + 1, j0 + 1] - field[i0, j0 + 1])
        return top + b * (bottom - top)

    times = m["times"].astype(np.int64)
    t = obs["dateTime"]
    in_time = (t >= times[0]) & (t <= times[-1])
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    wt = (t - times[k]) / (times[k + 1] - times[k])

    levels = m["levels_hpa"].astype(np.float64)  # descending pressure
    p = pressure / 100.0
    sfc = obs["type"] == 181
    in_levels = sfc | ((p <= levels[0]) & (p >= levels[-1]))
    # Index of the level at or below the observation (higher pressure), in ln p.
    lev = np.clip(np.searchsorted(-levels, -p, side="right") - 1, 0, len(levels) - 2)
    wl = (np.log(p) - np.log(levels[lev])) / (np.log(levels[lev + 1]) - np.log(levels[lev]))
    cols = np.arange(len(t))
    covered = inside & in_time & in_levels

    def interpolate(upper, surface):
        upper, surface = upper.astype(np.float64), surface.astype(np.float64)

        def at_time(n):
            sample = np.array([bilinear(upper[n][q]) for q in range(len(levels))])
            values = (1 - wl) * sample[lev, cols] + wl * sample[lev + 1, cols]
            return np.where(sfc, bilinear(surface[n]), values)

        by_time = np.array([at_time(n) for n in range(len(times))])
        values = (1 - wt) * by_time[k, cols] + wt * by_time[k + 1, cols]
        return np.where(covered, values, np.nan)

    u = interpolate(m["uu_upper"], m["uu_surface"])
    v = interpolate(m["vv_upper"], m["vv_surface"])
    knot = 1852.0 / 3600.0
    return {
        "airTemperature": interpolate(m["upper"], m["surface"]) + 273.15,
        "windEastward": (located["east_u"] * u + located["east_v"] * v) * knot,
        "windNorthward": (located["north_u"] * u + located["north_v"] * v) * knot,
    }


def station_pressure(obs, seed):
    """stationPressure (Pa) and stationElevation (m) of the surface reports, NaN elsewhere."""
    rng = np.random.default_rng(seed + 2000)
    n = len(obs["type"])
    surface = obs["type"] == 181
    sea_level = 101325.0 + 800.0 * np.sin(np.deg2rad(3 * obs["lon"])) * np.cos(np.deg2rad(obs["lat"]))
    exponent = 9.80665 / (287.053 * 0.0065)
    at_station = sea_level * ((288.15 - 0.0065 * obs["height"]) / 288.15) ** exponent
    value = np.where(surface, at_station + rng.normal(0.0, 50.0, n), np.nan)
    elevation = np.where(surface & (rng.random(n) >= 0.05), obs["height"], np.nan)
    return value, elevation


def write(path, obs, start, stop):
    n = stop - start
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("Location", n)
        loc = ds.createVariable("Location", "i4", ("Location",))
        loc[:] = np.arange(n, dtype=np.int32)
        ds._ioda_layout = "ObsGroup"
        ds._ioda_layout_version = np.int32(3)
        kw = dict(zlib=True, complevel=4, shuffle=True, chunksizes=(min(CHUNK, n),))

        def var(group, name, dtype, values, fill=None, units=None):
            g = ds.groups.get(group) or ds.createGroup(group)
            v = g.createVariable(name, dtype, ("Location",),
                                 fill_value=fill, **kw)
            if units:
                v.units = units
            v[:] = values
            return v

        s = slice(start, stop)
        var("MetaData", "latitude", "f4", obs["lat"][s].astype(np.float32), FLOAT_FILL, "degrees_north")
        var("MetaData", "longitude", "f4", obs["lon"][s].astype(np.float32), FLOAT_FILL, "degrees_east")
        var("MetaData", "dateTime", "i8", obs["dateTime"][s], np.int64(-9223372036854775801),
            "seconds since 1970-01-01T00:00:00Z")
        g = ds.groups["MetaData"]
        st = g.createVariable("stationIdentification", str, ("Location",), chunksizes=(min(CHUNK, n),))
        st[:] = obs["station"][s]
        var("MetaData", "pressure", "f4", obs["pressure"][s].astype(np.float32), FLOAT_FILL, "Pa")
        var("MetaData", "height", "f4", obs["height"][s].astype(np.float32), FLOAT_FILL, "m")
        var("MetaData", "prepbufrReportType", "i4", obs["type"][s], INT_FILL)
        value = obs["value"][s].astype(np.float32)
        value[np.isnan(value)] = FLOAT_FILL
        var("ObsValue", "airTemperature", "f4", value, FLOAT_FILL, "K")
        var("ObsError", "airTemperature", "f4", obs["error"][s].astype(np.float32), FLOAT_FILL, "K")
        hofx = obs["hofx"][s].astype(np.float32)
        hofx[np.isnan(hofx)] = FLOAT_FILL
        var("HofX", "airTemperature", "f4", hofx, FLOAT_FILL, "K")
        var("PreQC", "airTemperature", "i4", obs["qc"][s], INT_FILL)
        if "stationPressure" in obs:
            elevation = obs["stationElevation"][s].astype(np.float32)
            elevation[np.isnan(elevation)] = FLOAT_FILL
            var("MetaData", "stationElevation", "f4", elevation, FLOAT_FILL, "m")
            value = obs["stationPressure"][s].astype(np.float32)
            missing = np.isnan(value)
            value[missing] = FLOAT_FILL
            var("ObsValue", "stationPressure", "f4", value, FLOAT_FILL, "Pa")
            var("ObsError", "stationPressure", "f4", np.full(n, 100.0, np.float32), FLOAT_FILL, "Pa")
            var("PreQC", "stationPressure", "i4", np.where(missing, INT_FILL, 0).astype(np.int32), INT_FILL)
        for name in ("windEastward", "windNorthward"):
            if name not in obs:
                continue
            var("ObsValue", name, "f4", obs[name]["value"][s].astype(np.float32), FLOAT_FILL, "m s-1")
            var("ObsError", name, "f4", np.full(n, 1.5, np.float32), FLOAT_FILL, "m s-1")
            wind_hofx = obs[name]["hofx"][s].astype(np.float32)
            wind_hofx[np.isnan(wind_hofx)] = FLOAT_FILL
            var("HofX", name, "f4", wind_hofx, FLOAT_FILL, "m s-1")
            var("PreQC", name, "i4", np.zeros(n, np.int32), INT_FILL)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir", type=pathlib.Path)
    p.add_argument("--locations", type=int, default=1_000_000)
    p.add_argument("--bbox", default="-180,-90,180,90", help="W,S,E,N in degrees")
    p.add_argument("--centre", default="2024-06-16T00:00:00Z", help="window centre, ISO-8601 UTC")
    p.add_argument("--window-hours", type=float, default=6.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--model", type=pathlib.Path,
                   help="model_tt.npz of bench/make_model_fst.py: HofX from that FST field")
    p.add_argument("--oracle-python", default=None,
                   help="python of the oracle venv (bench/oracle-env.sh), for --model")
    p.add_argument("--station-pressure", action="store_true",
                   help="surface reports also carry stationPressure and stationElevation")
    args = p.parse_args()
    bbox = [float(x) for x in args.bbox.split(",")]
    centre = dt.datetime.fromisoformat(args.centre.replace("Z", "+00:00"))
    rng = np.random.default_rng(args.seed)
    obs = observations(args.locations, bbox, centre, args.window_hours, rng)
    if args.model is not None:
        if args.oracle_python is None:
            p.error("--model needs --oracle-python (bench/oracle-env.sh prints it)")
        model = model_hofx(obs, args.model, args.oracle_python)
        hofx = model["airTemperature"]
        noise = obs["value"] - obs["hofx"]  # the observation's noise (NaN where missing)
        obs["value"] = np.where(np.isnan(hofx), obs["value"], hofx + noise)
        obs["hofx"] = hofx
        # Winds: a generator of their own, so the temperatures stay those of the same seed.
        wind_rng = np.random.default_rng(args.seed + 1000)
        for name in ("windEastward", "windNorthward"):
            noise = wind_rng.normal(0.0, 1.5, args.locations)
            fallback = 5.0 + noise  # outside the model: a plausible wind without HofX
            obs[name] = {"hofx": model[name],
                         "value": np.where(np.isnan(model[name]), fallback, model[name] + noise)}
        print(f"{np.count_nonzero(~np.isnan(hofx))} of {len(hofx)} observations inside the model",
              file=sys.stderr)
    if args.station_pressure:
        obs["stationPressure"], obs["stationElevation"] = station_pressure(obs, args.seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write(args.out_dir / "sfc_sonde_obs.nc4", obs, 0, args.locations)
    bounds = np.linspace(0, args.locations, 5).astype(int)
    for k in range(4):
        write(args.out_dir / f"sfc_sonde_pool_{k:04d}.nc4", obs, bounds[k], bounds[k + 1])
    print(f"{args.locations} observations -> {args.out_dir}/sfc_sonde_obs.nc4 and sfc_sonde_pool_000[0-3].nc4")


if __name__ == "__main__":
    main()
