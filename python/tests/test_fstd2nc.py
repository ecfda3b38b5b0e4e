"""The same files through fstd2nc (rpnpy + librmn 19.5, the oracle venv) and through our
backend: the same variables, dimensions (in order), coordinate values and data.

Deliberate differences, not compared: dimension *names* (fstd2nc numbers them, ``time1``,
``pres2``; we name the first of each kind plainly and name levels by kind, ``hybrid`` where
fstd2nc says ``level``), coordinate dtypes (fstd2nc gives float32 axes; ours are float64,
compared after rounding to float32; horizontal axes within librmn's float32 error), the
axes of Z grids on polar stereographic references (see below), and RSF files, which
librmn 19.5 cannot read."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from conftest import RSF, XDF

FILES = [RSF / "xdf_basic.fst", XDF / "grids.fst", XDF / "append.fst"]

ORACLE = """
import numpy as np, fstd2nc
out = {}
for path in data["paths"]:
    ds = fstd2nc.Buffer(path).to_xarray()
    vars_ = {}
    for name, v in ds.data_vars.items():
        if v.ndim < 2 or v.dtype.kind not in "fiu":
            continue
        coords = []
        for d in v.dims:
            if d in ds.coords:
                c = ds[d].values
                coords.append(c.astype("int64").tolist() if c.dtype.kind == "M"
                              else np.asarray(c, "float64").tolist())
            else:
                coords.append(None)
        vars_[name] = {"dims": list(v.dims), "values": np.asarray(v.values, "float64").ravel()
                       .tolist(), "coords": coords}
    out[path] = vars_
print(json.dumps(out))
"""


@pytest.mark.filterwarnings("ignore")
def test_same_variables_coordinates_and_data_as_fstd2nc(oracle):
    theirs_all = oracle(ORACLE, {"paths": [str(p) for p in FILES]})
    compared, problems = 0, []
    for path in FILES:
        theirs = theirs_all[str(path)]
        ours = xr.open_dataset(path, engine="fst")
        assert theirs, path
        for name, t in theirs.items():
            if name not in ours.data_vars:
                problems.append((path.name, name, "missing", sorted(ours.data_vars)[:6]))
                continue
            v = ours[name]
            if len(v.dims) != len(t["dims"]):
                problems.append((path.name, name, v.dims, t["dims"]))
                continue
            for d, td, tc in zip(v.dims, t["dims"], t["coords"]):
                if tc is None or td.startswith(("xc", "yc")):
                    # fstd2nc's xc/yc are the raw >>/^^ values of a Z grid on N/S (grid
                    # lengths); ours are the CRS's coordinates in metres (checked against
                    # PROJ in test_xarray.py).
                    continue
                c = ours[d].values
                if c.dtype.kind == "M":
                    assert c.astype("int64").tolist() == tc, (name, d)
                elif d.startswith("rlon"):
                    # Rotated longitudes: grids publishes a rotated grid in a frame turned
                    # about the rotated pole so that it does not straddle the CRS's
                    # antimeridian (the CRS's o_lon_p turns with it; see grids' README);
                    # fstd2nc gives the raw >> values. The axes differ by a constant.
                    shift = np.asarray(tc) - c
                    assert np.allclose(shift, shift[0], atol=1e-4), (name, d)
                elif d.startswith(("lat", "lon", "rlat", "x", "y")):
                    # Horizontal axes: librmn computes them in float32 (a few ulp off the
                    # exact values, which grids computes in float64).
                    assert np.allclose(c, tc, rtol=1e-6, atol=1e-5), (name, d)
                else:
                    assert np.array_equal(c.astype(np.float32), np.float32(tc)), (name, d)
            got = v.values.astype(np.float64).ravel()
            assert np.array_equal(got, np.array(t["values"]), equal_nan=True), name
            compared += 1
    assert not problems
    assert compared >= 10
