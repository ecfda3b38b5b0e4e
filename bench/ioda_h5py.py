"""The h5py + numpy side of bench/ioda_vs_h5py.sh: open an IODA v3 file or io-pool set and
read latitude, longitude, dateTime and one variable, with the work our reader does too:
members concatenated along Location, fill values and ioda's missing sentinels masked,
longitudes normalised to [-180, 180), times as seconds since 1970 (the file's epoch).

    python bench/ioda_h5py.py VARIABLE REPEAT FILE [FILE...]
"""

import sys
import time

import h5py
import numpy as np

INT64_MISSING = np.int64(-9223372036854775801)


def masked(dataset):
    values = dataset[()]
    mask = np.zeros(values.shape, dtype=bool)
    fill = dataset.attrs.get("_FillValue")
    if fill is not None:
        mask |= values == np.asarray(fill).astype(values.dtype)
    if values.dtype.kind == "f":
        mask |= ~np.isfinite(values) | (np.abs(values) > 1e30)
    elif values.dtype == np.int64:
        mask |= values == INT64_MISSING
    return values, mask


def read(paths, variable):
    parts = {name: [] for name in ("latitude", "longitude", "dateTime", variable)}
    for path in paths:
        with h5py.File(path, "r") as f:
            for name in ("latitude", "longitude", "dateTime"):
                parts[name].append(masked(f["MetaData/" + name]))
            parts[variable].append(masked(f[variable]))
    out = {}
    for name, pieces in parts.items():
        values = np.concatenate([p[0] for p in pieces])
        mask = np.concatenate([p[1] for p in pieces])
        if name == "longitude":
            values = (values.astype(np.float64) + 180.0) % 360.0 - 180.0
        out[name] = (values, mask)
    return out


def exponent_like_rust(x):
    """`{:.6e}` as Rust prints it (7.622725e4, not 7.622725e+04)."""
    mantissa, exponent = f"{x:.6e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def main():
    variable, repeat, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    best = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        out = read(paths, variable)
        best = min(best, time.perf_counter() - start)
    print(f"best_seconds {best:.6f}")
    for name, (values, mask) in out.items():
        kept = values[~mask].astype(np.float64)
        print(f"checksum {name} {kept.size} {exponent_like_rust(kept.sum())}")


if __name__ == "__main__":
    main()
