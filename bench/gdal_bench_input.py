#!/usr/bin/env python3
"""
gdal_bench_input.py -- write, with the reference librmn (rpnpy bundle fstd2nc-deps), a
realistic model output file for bench/gdal_translate_vs_fstd2nc.sh:

    5 variables (TT, HU, GZ, UU, VV) x 50 pressure levels x 2 forecast hours = 500 records
    of 800x600 on a Z grid (rotated E reference, uniform >> and ^^ axes, like a GEM LAM),
    datyp 134/16 (TT, UU, VV: turbo, as GEM writes) and 1/16 (HU, GZ).

    .venv-oracle/bin/python bench/gdal_bench_input.py OUT.fst
"""
from __future__ import print_function

import os
import sys
import warnings

import numpy as np

warnings.simplefilter('ignore')
import fstd2nc_deps  # noqa: F401  (puts rpnpy on sys.path)
from rpnpy.librmn import all as rmn  # noqa: E402

rmn.fstopt(rmn.FSTOP_MSGLVL, rmn.FSTOPI_MSG_CATAST)

NI, NJ = 800, 600
LEVELS = [1000 - 19 * k for k in range(50)]  # 1000 .. 69 hPa
HOURS = [0, 6]
VARS = [('TT', 134), ('UU', 134), ('VV', 134), ('HU', 1), ('GZ', 1)]


def field(name, ni, nj, k, h):
    x = (np.arange(ni, dtype=np.float64)[:, None] + 0.5) / ni
    y = (np.arange(nj, dtype=np.float64)[None, :] + 0.5) / nj
    rng = np.random.default_rng(sum(map(ord, name)) * 1000 + k * 10 + h)
    base = {'TT': 20. - 60. * k / 50, 'UU': 10., 'VV': -5., 'HU': 0.01, 'GZ': 100. + 30. * k}[name]
    amp = {'TT': 25., 'UU': 20., 'VV': 20., 'HU': 0.008, 'GZ': 50.}[name]
    a = base + amp * np.sin(2 * np.pi * (x + h / 48.)) * np.cos(np.pi * (y - 0.5)) + 0.02 * amp * rng.standard_normal((ni, nj))
    return np.asfortranarray(a, dtype=np.float32)


def main():
    path = sys.argv[1]
    if os.path.exists(path):
        os.remove(path)
    unit = rmn.fstopenall(path, rmn.FST_RW)
    try:
        # Z grid on a rotated E reference: 0.1 deg spacing in the rotated frame.
        ig_e = rmn.cxgaig('E', 35., 230., 0., 180.)
        ax = np.asfortranarray((200. + 0.1 * np.arange(NI)).reshape(NI, 1), dtype=np.float32)
        ay = np.asfortranarray((-30. + 0.1 * np.arange(NJ)).reshape(1, NJ), dtype=np.float32)
        ip1, ip2, ip3 = 4321, 8765, 0
        base = {'typvar': 'X', 'etiket': 'BENCH', 'nk': 1, 'dateo': rmn.newdate(rmn.NEWDATE_PRINT2STAMP, 20261120, 12000000),
                'deet': 0, 'npas': 0, 'ip1': ip1, 'ip2': ip2, 'ip3': ip3, 'grtyp': 'E',
                'ig1': ig_e[0], 'ig2': ig_e[1], 'ig3': ig_e[2], 'ig4': ig_e[3], 'datyp': 5, 'nbits': 32}
        rmn.fstecr(unit, ax, dict(base, nomvar='>>', ni=NI, nj=1))
        rmn.fstecr(unit, ay, dict(base, nomvar='^^', ni=1, nj=NJ))
        dateo = base['dateo']
        n = 0
        for h in HOURS:
            for k, lev in enumerate(LEVELS):
                for name, datyp in VARS:
                    meta = {'nomvar': name, 'typvar': 'P', 'etiket': 'BENCH', 'ni': NI, 'nj': NJ, 'nk': 1,
                            'dateo': dateo, 'deet': 300, 'npas': h * 12,
                            'ip1': rmn.convertIp(rmn.CONVIP_ENCODE, float(lev), rmn.KIND_PRESSURE), 'ip2': h, 'ip3': 0,
                            'grtyp': 'Z', 'ig1': ip1, 'ig2': ip2, 'ig3': ip3, 'ig4': 0, 'datyp': datyp, 'nbits': 16}
                    rmn.fstecr(unit, field(name, NI, NJ, k, h), meta)
                    n += 1
    finally:
        rmn.fstcloseall(unit)
    print('wrote %s: %d data records of %dx%d, %.1f MB' % (path, n, NI, NJ, os.path.getsize(path) / 1e6))


main()
