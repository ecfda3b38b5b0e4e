"""Write the netCDF input of bench/netcdf_to_fst.sh: one CF variable `tt` of NT time steps x
600 x 800 (float32, random smooth-ish values) on a regular lat/lon grid with a
latitude_longitude grid mapping, so that GDAL and fstd2nc both see the georeferencing.

    python bench/netcdf_to_fst_input.py OUT.nc [NT]
"""
import sys

import numpy as np
import xarray as xr


def main(path, nt=100):
    ny, nx = 600, 800
    rng = np.random.default_rng(11)
    lat = 30.0 + 0.05 * np.arange(ny) + 0.025
    lon = -120.0 + 0.05 * np.arange(nx) + 0.025
    yy, xx = np.meshgrid(np.linspace(0, 6, ny), np.linspace(0, 8, nx), indexing="ij")
    base = (np.sin(yy) * np.cos(xx) * 20 + 270).astype(np.float32)
    data = np.empty((nt, ny, nx), np.float32)
    for t in range(nt):
        data[t] = base + rng.normal(0, 0.5, (ny, nx)).astype(np.float32) + t * 0.1
    times = np.datetime64("2024-01-01T00") + np.arange(nt) * np.timedelta64(1, "h")
    crs = {"grid_mapping_name": "latitude_longitude", "semi_major_axis": 6371229.0,
           "inverse_flattening": 0.0}
    ds = xr.Dataset(
        {"tt": (("time", "lat", "lon"), data, {"units": "K", "grid_mapping": "crs"}),
         "crs": ((), np.int32(0), crs)},
        coords={"time": times,
                "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
                "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})})
    ds.to_netcdf(path, encoding={"time": {"units": "hours since 2024-01-01 00:00:00"}})


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100)
