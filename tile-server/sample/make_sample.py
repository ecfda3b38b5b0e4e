#!/usr/bin/env python3
"""
make_sample.py -- write the tile server's bundled sample with the reference librmn (rpnpy from
the oracle venv, see bench/oracle-env.sh):

    .venv-oracle/bin/python tile-server/sample/make_sample.py tile-server/sample/sample.fst
    .venv-oracle/bin/python tile-server/sample/make_sample.py --bench OUT.fst   # 2000x1000 TT only

The sample is one small Z grid referencing a rotated E grid (a regional LAM over North America,
like GEM's RDPS), datyp 134 nbits 16 (GEM's usual output), with two model runs:
  run 2026-11-20T12Z: TT at 1000/850/500 hPa, UU+VV (knots, grid-relative) at 850 hPa,
                     PN (hPa), PR (m, accumulated), HU (kg/kg), GZ 500 hPa (dam); hours 0, 6, 12
  run 2026-11-21T00Z: TT 850 hPa, hours 0 and 6
The values are smooth analytic fields, not model output.
"""
from __future__ import print_function

import os
import sys
import warnings

import numpy as np

warnings.simplefilter('ignore')
import fstd2nc_deps  # noqa: F401
from rpnpy.librmn import all as rmn  # noqa: E402

rmn.fstopt(rmn.FSTOP_MSGLVL, rmn.FSTOPI_MSG_CATAST)


def ip1(value, kind):
    return rmn.convertIp(rmn.CONVIP_ENCODE, value, kind)


def main():
    bench = '--bench' in sys.argv
    out = [a for a in sys.argv[1:] if not a.startswith('--')][0]
    if os.path.exists(out):
        os.remove(out)
    if bench:
        ni, nj, d = 2000, 1000, 0.036
    else:
        ni, nj, d = 160, 100, 0.5
    # South-west corner (geographic): the grid is centred near 54N 100W and its western
    # edge crosses the antimeridian (175.7E), which the renderer must handle.
    lat0, lon0 = 15.0, 220.0
    g = rmn.defGrid_ZE(ni, nj, lat0, lon0, d, d, 52., -100., 52., -90.)
    ll = rmn.gdll(g['id'])
    lat, lon = ll['lat'].astype(np.float64), ll['lon'].astype(np.float64)
    lonr = np.radians(lon)
    latr = np.radians(lat)
    unit = rmn.fstopenall(out, rmn.FST_RW)
    try:
        rmn.writeGrid(unit, g)

        def put(nomvar, data, run, hour, lev, etiket='SAMPLE', typvar='P'):
            deet = 300
            npas = int(hour * 3600 // deet)
            meta = {
                'nomvar': nomvar, 'typvar': typvar, 'etiket': etiket, 'ni': ni, 'nj': nj, 'nk': 1,
                'dateo': run, 'deet': deet, 'npas': npas, 'ip1': lev, 'ip2': int(hour), 'ip3': 0,
                'grtyp': 'Z', 'ig1': g['tag1'], 'ig2': g['tag2'], 'ig3': g['tag3'], 'ig4': 0,
                'datyp': 134, 'nbits': 16,
            }
            rmn.fstecr(unit, np.asfortranarray(data, dtype=np.float32), meta, rewrite=False)

        def tt(hour, p):
            base = 30.0 - 0.75 * np.abs(lat) - (1000.0 - p) * 0.06
            return base + 6.0 * np.sin(3 * lonr + hour / 6.0) * np.cos(2 * latr)

        runs = [rmn.newdate(rmn.NEWDATE_PRINT2STAMP, 20261120, 12000000)]
        if not bench:
            runs.append(rmn.newdate(rmn.NEWDATE_PRINT2STAMP, 20261121, 0))
        if bench:
            put('TT', tt(0, 850), runs[0], 0, ip1(850, rmn.LEVEL_KIND_PMB), etiket='BENCH')
            return
        run = runs[0]
        for hour in (0, 6, 12):
            for p in (1000, 850, 500):
                put('TT', tt(hour, p), run, hour, ip1(p, rmn.LEVEL_KIND_PMB))
            phase = hour / 6.0
            # A cyclone: geostrophic-like rotation around a low that moves east.
            clat, clon = 50.0, -100.0 + 5 * phase
            dx = (((lon - clon + 180) % 360) - 180) * np.cos(np.radians(50.0))
            dy = lat - clat
            r2 = (dx ** 2 + dy ** 2) / 150.0
            pn = 1013.0 - 25.0 * np.exp(-r2) + 5 * np.sin(2 * lonr)
            put('PN', pn, run, hour, ip1(0, rmn.LEVEL_KIND_MGL))
            # Winds true-north-relative in knots, then turned to grid-relative (librmn convention).
            ue = -dy * 3.0 * np.exp(-r2) + 10.0
            vn = dx * 3.0 * np.exp(-r2)
            n = ni * nj
            uu = np.zeros((ni, nj), dtype=np.float32, order='F')
            vv = np.zeros((ni, nj), dtype=np.float32, order='F')
            F = lambda a: np.asfortranarray(a, dtype=np.float32)  # noqa: E731
            # librmn's gduvfwd takes speed and meteorological direction (where the wind
            # comes from, degrees clockwise from true north) and returns grid-relative UU/VV.
            spd = np.hypot(ue, vn)
            wd = np.degrees(np.arctan2(-ue, -vn)) % 360.0
            rmn.c_gduvfwd(g['id'], uu, vv, F(spd), F(wd), F(lat), F(lon), n)
            lev = ip1(850, rmn.LEVEL_KIND_PMB)
            put('UU', uu, run, hour, lev)
            put('VV', vv, run, hour, lev)
            pr = np.maximum(0.0, 0.004 * (np.exp(-r2 * 0.5) - 0.3)) * (hour / 6.0)
            put('PR', pr, run, hour, ip1(0, rmn.LEVEL_KIND_MGL))
            hu = 0.012 * np.exp(-np.abs(lat - 25) / 20.0)
            put('HU', hu, run, hour, ip1(1.0, rmn.LEVEL_KIND_SIG))
            gz = 560.0 - 0.8 * np.abs(lat - 20) + 8 * np.sin(3 * lonr + phase)
            put('GZ', gz, run, hour, ip1(500, rmn.LEVEL_KIND_PMB))
        for hour in (0, 6):
            put('TT', tt(hour + 12, 850) + 1.0, runs[1], hour, ip1(850, rmn.LEVEL_KIND_PMB))
    finally:
        rmn.fstcloseall(unit)


if __name__ == '__main__':
    main()
