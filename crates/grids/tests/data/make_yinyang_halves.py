"""Which half of a Yin-Yang (U) grid librmn takes for a point, where the halves overlap:
librmn 19.5 (rpnpy, the oracle venv) on the U record of the fixture grids.fst.

    ORACLE=$(bench/oracle-env.sh)
    $ORACLE crates/grids/tests/data/make_yinyang_halves.py crates/grids/tests/data/yinyang_halves.bin

Points: 1 500 random points on the sphere inside both halves (the overlap) and 500 anywhere,
seeded. For each, little-endian f64: lat, lon; `gdxyfll` on the U grid (1-based x, and y
counting Yang's rows after Yin's: the half `gdllsval` reads); and `ezsint`'s half (0 Yin,
1 Yang): a field of 0 on Yin and 1 on Yang interpolated, nearest, onto the points as a Y
grid (the half librmn's regridding takes). 6 f64 per point.
"""

import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")
import fstd2nc_deps  # noqa: E402,F401
from rpnpy.librmn import all as rmn  # noqa: E402

rmn.fstopt(rmn.FSTOP_MSGLVL, rmn.FSTOPI_MSG_CATAST)
f = rmn.fstopenall("crates/fst-core/tests/fixtures/xdf/grids.fst", rmn.FST_RO)
rec = rmn.fstprm(rmn.fstinf(f, nomvar="TT", etiket="GRID_U")["key"])
g = rmn.readGrid(f, rec)
yin, yang = rmn.ezget_subgridids(g["id"])
sub_ni, sub_nj = rmn.ezgprm(yin)["ni"], rmn.ezgprm(yin)["nj"]

rng = np.random.default_rng(20261207)


def sphere(n):
    z = rng.uniform(-1, 1, n)
    return (np.degrees(np.arcsin(z)).astype(np.float32),
            rng.uniform(0, 360, n).astype(np.float32))


def inside(gid, lat, lon):
    xy = rmn.gdxyfll(gid, lat, lon)
    return (xy["x"] >= 1) & (xy["x"] <= sub_ni) & (xy["y"] >= 1) & (xy["y"] <= sub_nj)


lat, lon = sphere(200_000)
both = inside(yin, lat, lon) & inside(yang, lat, lon)
lat = np.concatenate([lat[both][:1500], sphere(500)[0]])
lon = np.concatenate([lon[both][:1500], rng.uniform(0, 360, 500).astype(np.float32)])
xy = rmn.gdxyfll(g["id"], lat, lon)

half = np.zeros((g["ni"], g["nj"]), np.float32, order="F")
half[:, sub_nj:] = 1.0
rmn.ezsetopt(rmn.EZ_OPT_INTERP_DEGREE, rmn.EZ_INTERP_NEAREST)
pts = rmn.ezgdef_fmem(len(lat), 1, "Y", "L", 0, 0, 0, 0,
                      lon.reshape(-1, 1, order="F"), lat.reshape(-1, 1, order="F"))
taken = rmn.ezsint(pts, g["id"], half).ravel(order="F")

out = np.stack([lat.astype(np.float64), lon.astype(np.float64),
                xy["x"].astype(np.float64), xy["y"].astype(np.float64),
                taken.astype(np.float64), np.zeros_like(lat)], axis=1)
out[:, 5] = 0.0  # reserved
out.astype("<f8").tofile(sys.argv[1])
print(f"{len(lat)} points, {int(both.sum())} of 200000 in the overlap; "
      f"gdxyfll Yang {int((xy['y'] > sub_nj).sum())}, ezsint Yang {int((taken > 0.5).sum())}")
