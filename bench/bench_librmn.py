#!/usr/bin/env python3
"""
bench_librmn.py -- time librmn 19.5 (fstd2nc-deps / rpnpy) on an FST file.

    python3 bench_librmn.py FILE [--repeat N] [--grid-file F ...] [--json OUT]

Measures, with time.perf_counter:
  (0) open + close (fnom + fstouv reads the whole XDF directory)
  (a) metadata listing: fstinl (all keys) + fstprm for every record
        - through rpnpy (what Python users see)
        - through ctypes direct calls with pre-allocated arguments
          (closer to librmn's own cost)
  (b) decoding every record: fstluk
        - rpnpy.fstluk (allocates a new numpy array per record)
        - c_fstluk direct into one re-used buffer
  (c) gdll for grids: ezqkdef + gdll for the largest geo-referenced record
      of FILE and of every --grid-file (first call and repeated calls;
      ezscint caches grid definitions, so repeated ezqkdef is cheap).
Each measurement is repeated --repeat times; best and median are printed.

--decode-only skips everything but (b') c_fstluk into one reused buffer (used by
bench/decode_vs_librmn.sh); with --json the per-record best times are written as well.
(fstgis copy of the oracle's script, extended with --decode-only.)
"""
from __future__ import print_function

import argparse
import ctypes as ct
import json
import os
import statistics
import sys
import time
import warnings

import numpy as np

warnings.simplefilter('ignore')
import fstd2nc_deps  # noqa: F401
from rpnpy.librmn import all as rmn  # noqa: E402

rmn.fstopt(rmn.FSTOP_MSGLVL, rmn.FSTOPI_MSG_CATAST)
LIB = rmn.librmn
_ip = ct.POINTER(ct.c_int)
C_FSTPRM = ct.CFUNCTYPE(ct.c_int, ct.c_int, *([_ip] * 11 + [ct.c_char_p] * 4 + [_ip] * 11))(('c_fstprm', LIB))
C_FSTLUK = ct.CFUNCTYPE(ct.c_int, ct.c_void_p, ct.c_int, _ip, _ip, _ip)(('c_fstluk', LIB))
C_FSTINL = ct.CFUNCTYPE(ct.c_int, ct.c_int, _ip, _ip, _ip, ct.c_int, ct.c_char_p, ct.c_int, ct.c_int, ct.c_int,
                        ct.c_char_p, ct.c_char_p, ct.c_void_p, _ip, ct.c_int)(('c_fstinl', LIB))
C_FSTNBRV = LIB.c_fstnbrv


def timeit(fn, repeat):
    ts = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), statistics.median(ts), out


def fmt(name, best, med, n, unit='records'):
    rate = n / best if best > 0 else float('inf')
    print('  %-44s best %9.4f s  median %9.4f s  %12.0f %s/s' % (name, best, med, rate, unit))
    return {'name': name, 'best_s': best, 'median_s': med, 'n': n, 'rate_per_s': rate, 'unit': unit}


def bench_file(path, repeat):
    res = {'file': path, 'size_bytes': os.path.getsize(path), 'results': []}
    print('%s  (%.1f MB)' % (path, os.path.getsize(path) / 1e6))

    # (0) open/close
    def oc():
        u = rmn.fstopenall(path, rmn.FST_RO)
        n = rmn.fstnbrv(u)
        rmn.fstcloseall(u)
        return n
    b, m, n = timeit(oc, repeat)
    res['nrecords'] = n
    print('  records: %d' % n)
    res['results'].append(fmt('(0) open+close (fnom+fstouv+fstfrm)', b, m, n))

    u = rmn.fstopenall(path, rmn.FST_RO)
    try:
        # (a) metadata via rpnpy
        def meta_rpnpy():
            keys = rmn.fstinl(u)
            return [rmn.fstprm(k) for k in keys]
        b, m, prms = timeit(meta_rpnpy, repeat)
        res['results'].append(fmt('(a) fstinl + fstprm (rpnpy)', b, m, len(prms)))

        # (a') metadata via direct ctypes
        nmax = C_FSTNBRV(u)
        keys_buf = np.zeros(max(1, nmax), dtype=np.intc)
        ints = [ct.c_int() for _ in range(22)]
        refs = [ct.byref(x) for x in ints]
        strs = [ct.create_string_buffer(b' ' * l, l + 1) for l in (2, 4, 12, 1)]

        def meta_direct():
            ni, nj, nk, nf = ct.c_int(), ct.c_int(), ct.c_int(), ct.c_int()
            C_FSTINL(u, ct.byref(ni), ct.byref(nj), ct.byref(nk), -1, b' ' * 12, -1, -1, -1, b' ' * 2, b' ' * 4,
                     keys_buf.ctypes.data, ct.byref(nf), nmax)
            cnt = 0
            for k in keys_buf[:nf.value].tolist():
                C_FSTPRM(k, *(refs[:11] + strs + refs[11:]))
                cnt += 1
            return cnt
        b, m, cnt = timeit(meta_direct, repeat)
        res['results'].append(fmt('(a) c_fstinl + c_fstprm (ctypes direct)', b, m, cnt))

        # (b) decode via rpnpy
        keys = rmn.fstinl(u)
        nbytes_total = [0]

        def luk_rpnpy():
            tot = 0
            for k in keys:
                tot += rmn.fstluk(k)['d'].nbytes
            nbytes_total[0] = tot
            return len(keys)
        b, m, cnt = timeit(luk_rpnpy, repeat)
        res['results'].append(fmt('(b) fstluk every record (rpnpy)', b, m, cnt))
        res['decoded_bytes_rpnpy'] = nbytes_total[0]

        # (b') decode via direct c_fstluk into one buffer
        maxn = max([p['ni'] * p['nj'] * p['nk'] for p in prms] or [1])
        buf = np.zeros(maxn * 4 + 1024, dtype=np.float64)
        bp = buf.ctypes.data
        ni, nj, nk = ct.c_int(), ct.c_int(), ct.c_int()
        rni, rnj, rnk = ct.byref(ni), ct.byref(nj), ct.byref(nk)

        def luk_direct():
            for k in keys:
                C_FSTLUK(bp, k, rni, rnj, rnk)
            return len(keys)
        b, m, cnt = timeit(luk_direct, repeat)
        res['results'].append(fmt('(b) c_fstluk every record (ctypes direct)', b, m, cnt))
        values = sum(p['ni'] * p['nj'] * p['nk'] for p in prms)
        res['results'].append(fmt('(b) c_fstluk decoded values (ctypes direct)', b, m, values, 'values'))
    finally:
        rmn.fstcloseall(u)
    return res


def bench_decode_only(path, repeat):
    """c_fstluk of every record into one reused buffer, timed per record (best of `repeat`)."""
    u = rmn.fstopenall(path, rmn.FST_RO)
    out = {'file': path, 'records': []}
    try:
        keys = rmn.fstinl(u)
        prms = [rmn.fstprm(k) for k in keys]
        maxn = max([p['ni'] * p['nj'] * p['nk'] for p in prms] or [1])
        buf = np.zeros(maxn * 4 + 1024, dtype=np.float64)
        bp = buf.ctypes.data
        ni, nj, nk = ct.c_int(), ct.c_int(), ct.c_int()
        rni, rnj, rnk = ct.byref(ni), ct.byref(nj), ct.byref(nk)
        for k, p in zip(keys, prms):
            b, m, _ = timeit(lambda: C_FSTLUK(bp, k, rni, rnj, rnk), repeat)
            n = p['ni'] * p['nj'] * p['nk']
            print('  c_fstluk %-4s datyp %3d nbits %2d %dx%dx%d: best %.6f s  median %.6f s  %.1f M values/s'
                  % (p['nomvar'].strip(), p['datyp'], p['nbits'], p['ni'], p['nj'], p['nk'], b, m, n / b / 1e6))
            out['records'].append({'nomvar': p['nomvar'].strip(), 'datyp': p['datyp'], 'nbits': p['nbits'],
                                   'ni': p['ni'], 'nj': p['nj'], 'nk': p['nk'], 'best_s': b, 'median_s': m})
    finally:
        rmn.fstcloseall(u)
    return out


def largest_geo_record(path):
    u = rmn.fstopenall(path, rmn.FST_RO)
    best = None
    try:
        for k in rmn.fstinl(u):
            p = rmn.fstprm(k)
            if p['grtyp'].strip() in ('A', 'B', 'E', 'G', 'L', 'N', 'S', 'Z', 'Y', 'U', '#') and \
                    p['nomvar'].strip() not in ('>>', '^^', '^>'):
                if best is None or p['ni'] * p['nj'] > best['ni'] * best['nj']:
                    best = p
    finally:
        rmn.fstcloseall(u)
    return best


def bench_gdll(path, repeat):
    p = largest_geo_record(path)
    if p is None:
        print('  (c) %s: no geo-referenced record' % path)
        return None
    u = rmn.fstopenall(path, rmn.FST_RO)
    out = {'file': path, 'nomvar': p['nomvar'], 'grtyp': p['grtyp'], 'ni': p['ni'], 'nj': p['nj'], 'results': []}
    try:
        args = (p['ni'], p['nj'], p['grtyp'], p['ig1'], p['ig2'], p['ig3'], p['ig4'], u)
        t0 = time.perf_counter()
        gid = rmn.ezqkdef(*args)
        t1 = time.perf_counter()
        ll = gdll_any(gid)
        t2 = time.perf_counter()
        npts = ll[0].size
        print('  (c) %s %s %dx%d (%s)' % (os.path.basename(path), p['grtyp'], p['ni'], p['nj'], p['nomvar'].strip()))
        print('      first ezqkdef %.6f s, first gdll %.6f s' % (t1 - t0, t2 - t1))
        out['first_ezqkdef_s'] = t1 - t0
        out['first_gdll_s'] = t2 - t1
        b, m, _ = timeit(lambda: gdll_any(gid), repeat)
        out['results'].append(fmt('    gdll again (lat/lon cached by ezscint)', b, m, npts, 'points'))

        if p['grtyp'].strip() == 'U':
            # releasing/re-defining ezscint super-grids crashes librmn 19.5
            # (segfault after a few rounds): only first-call numbers for U
            return out

        def fresh():
            g = rmn.ezqkdef(*args)
            r = gdll_any(g)
            release(g)
            return r
        release(gid)
        b, m, _ = timeit(fresh, repeat)
        out['results'].append(fmt('    ezqkdef + gdll + gdrls (uncached)', b, m, npts, 'points'))
    finally:
        rmn.fstcloseall(u)
    return out


def release(gid):
    try:
        g = rmn.ezgprm(gid)
        if g['grtyp'].strip() == 'U':
            for s in rmn.ezget_subgridids(gid):
                rmn.gdrls(s)
        rmn.gdrls(gid)
    except Exception:
        pass


SYNTH = [
    ('L 2000x1000 (defGrid_L)', lambda: rmn.defGrid_L(2000, 1000, -89.91, 0., 0.18, 0.18)),
    ('G 2000x1000 (defGrid_G global)', lambda: rmn.defGrid_G(2000, 1000, glb=True, north=True, inverted=False)),
    ('N 2000x1000 (defGrid_PS)', lambda: rmn.defGrid_PS(2000, 1000, north=True, pi=1000., pj=500., d60=10000., dgrw=350.)),
    ('E 2000x1000 (defGrid_E rotated)', lambda: rmn.defGrid_E(2000, 1000, 45., -100., 45., -90.)),
    ('Z->E 2000x1000 (defGrid_ZE)', lambda: rmn.defGrid_ZE(2000, 1000, -10., 200., 0.025, 0.025, 45., -100., 45., -90.)),
    ('U Yin-Yang 2x(1192x398) (defGrid_YY)', lambda: rmn.defGrid_YY(398, overlap=2.0)),
]


def bench_synthetic(repeat):
    out = []
    print('(c) gdll on in-memory grids (defGrid_* -> ezgdef_fmem/ezqkdef; gdrls after each round)')
    for name, mk in SYNTH:
        if name.startswith('U'):
            # ezscint super-grids do not survive gdrls + re-definition in 19.5:
            # time only the first definition + gdll (lat/lon not yet cached)
            t0 = time.perf_counter()
            g = mk()
            lat, lon = gdll_any(g['id'])
            first = time.perf_counter() - t0
            r = fmt('  ' + name + ' define+gdll (1st call)', first, first, lat.size, 'points')
            r['first_s'] = first
            out.append(r)
            continue

        def one():
            g = mk()
            gid = g['id']
            r = gdll_any(gid)
            release(gid)
            return r[0].size
        t0 = time.perf_counter()
        npts = one()
        first = time.perf_counter() - t0
        b, m, _ = timeit(one, repeat)
        r = fmt('  ' + name + ' define+gdll', b, m, npts, 'points')
        r['first_s'] = first
        out.append(r)
    return out


def gdll_any(gid):
    g = rmn.ezgprm(gid)
    if g['grtyp'].strip() == 'U':
        ll = [rmn.gdll(s) for s in rmn.ezget_subgridids(gid)]
        return (np.concatenate([x['lat'] for x in ll], axis=1), np.concatenate([x['lon'] for x in ll], axis=1))
    ll = rmn.gdll(gid)
    return ll['lat'], ll['lon']


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('file')
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--grid-file', action='append', default=[])
    ap.add_argument('--json', default=None, help='write results as json')
    ap.add_argument('--no-synthetic', action='store_true', help='skip the in-memory 2000x1000 grid gdll timings')
    ap.add_argument('--decode-only', action='store_true', help="only time c_fstluk per record (one reused buffer)")
    a = ap.parse_args()
    print('librmn: %s  numpy %s  python %s' % (os.path.basename(rmn.RMN_LIBPATH), np.__version__, sys.version.split()[0]))
    if a.decode_only:
        res = bench_decode_only(a.file, a.repeat)
        if a.json:
            with open(a.json, 'w') as fh:
                json.dump(res, fh, indent=1)
        return
    res = bench_file(a.file, a.repeat)
    res['gdll'] = []
    for f in [a.file] + a.grid_file:
        r = bench_gdll(f, a.repeat)
        if r:
            res['gdll'].append(r)
    if not a.no_synthetic:
        res['gdll_synthetic'] = bench_synthetic(a.repeat)
    if a.json:
        with open(a.json, 'w') as fh:
            json.dump(res, fh, indent=1)


if __name__ == '__main__':
    main()
