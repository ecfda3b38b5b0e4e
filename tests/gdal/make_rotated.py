#!/usr/bin/env python3
"""Write rotated.fst and its manifest with the reference librmn (19.5, bench/oracle-env.sh):
rotated grids as GEM writes them, whose rotated longitudes straddle librmn's rotated 180°
or 0°/360°, plus a multi-level, multi-time field for the netCDF export test.

    $(bench/oracle-env.sh) tests/gdal/make_rotated.py OUTDIR

The manifest has the same format as the fixtures' (bench/make_fixtures.py writes it): every
record's decoded values, and each grid's latitudes and longitudes from librmn's gdll.
"""
import os
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import make_fixtures as mf  # noqa: E402  (loads librmn)
from make_fixtures import np, rmn  # noqa: E402

# The rotation of a GEM LAM over North America: rotated (0, 180) at 52N 100W.
NA = (52.0, 260.0, 52.0, 290.0)
# Over Europe, for a grid across rotated 0/360.
EU = (10.0, 190.0, 20.0, 230.0)

def lam():
    """Z on E, rotated longitudes 162.4..197.6: a GEM LAM centred on librmn's rotated 180."""
    return rmn.defGrid_ZEr(89, 71, -14.0, 162.4, 0.4, 0.4, *NA)


def tile():
    """A # tile (40x30 at i0=25, j0=20) of the same LAM; rpnpy takes its true SW corner."""
    g = lam()
    ll = rmn.gdll(rmn.ezgdef_fmem(g["ni"], g["nj"], g["grtyp"], g["grref"], g["ig1ref"], g["ig2ref"],
                                  g["ig3ref"], g["ig4ref"], g["ax"], g["ay"]))
    lat0, lon0 = float(ll["lat"][0, 0]), float(ll["lon"][0, 0])
    return rmn.defGrid_diezeE(89, 71, lat0, lon0, 0.4, 0.4, *NA, lni=40, lnj=30, i0=25, j0=20)


GRIDS = {
    "E": ("global rotated grid", lambda: rmn.defGrid_E(90, 45, *NA)),
    "ZLAM": ("Z on E, rotated longitudes 162.4..197.6 (across rotated 180)", lam),
    "Z360": ("Z on E, rotated longitudes 340..380 (across rotated 0/360)",
             lambda: rmn.defGrid_ZEr(81, 41, -10.0, 340.0, 0.5, 0.5, *EU)),
    "TILE": ("# tile across rotated 180 of the 89x71 LAM", tile),
    "U": ("Yin-Yang", lambda: rmn.defGrid_YY(31, overlap=1.5, xlat1=0.0, xlon1=180.0, xlat2=0.0, xlon2=270.0)),
}


def shape(g):
    if g["grtyp"] == "U":
        return g["ni"], 2 * g["nj"]
    if g["grtyp"] == "#":
        return g["lni"], g["lnj"]
    return g["ni"], g["nj"]


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    mf.missing_mode(True)
    w = mf.Writer("rotated", outdir, "Rotated grids across rotated 180 and 0/360 (E, Z on E, #, U), "
                  "and a 3-level x 2-time field (tests/gdal/make_rotated.py)")
    date = mf.iso_to_stamp("2025-01-15T00:00:00")
    w.open()
    for k, (etiket, (note, make)) in enumerate(GRIDS.items()):
        g = make()
        ni, nj = shape(g)
        d = mf.field("TT", ni, nj, seed=k + 1)
        w.put(d, note=note, nomvar="TT", ni=ni, nj=nj, datyp=5, nbits=32, etiket=etiket,
              ip1=mf.ip1_new(850.0, 2), ip2=0, ip3=k, dateo=date, **mf.grid_meta(g))
        w.grid(g)
    # Temperature on three pressure levels at two valid times (+0 h and +6 h), on the LAM.
    g = lam()
    ni, nj = shape(g)
    seed = 100
    for hours in (0, 6):
        for level in (1000.0, 850.0, 500.0):
            seed += 1
            d = mf.field("TT", ni, nj, seed=seed)
            w.put(d, note="TT %g hPa +%d h" % (level, hours), nomvar="TT", ni=ni, nj=nj, datyp=5,
                  nbits=32, etiket="HYPERCUBE", ip1=mf.ip1_new(level, 2), ip2=hours, ip3=0,
                  dateo=date, deet=3600, npas=hours, **mf.grid_meta(g))
    w.close()
    man = mf.build_manifest(w, keep_inputs=False)
    print("rotated: %d records" % man["nrecords"])


if __name__ == "__main__":
    main(sys.argv[1])
