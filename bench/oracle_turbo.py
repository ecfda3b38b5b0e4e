#!/usr/bin/env python3
"""
oracle_turbo.py -- records of the turbo datyps (129, 130, 133, 134 and their +64 variants)
written by librmn 19.5 from random arrays, for the differential test of fst-core's turbo
encoders (crates/fst-core/src/codec/turbo{16,32}/encode).

    bench/oracle_turbo.py OUTDIR [--seed S] [--count N]

writes OUTDIR/turbo.fst and its manifest turbo.json (make_fixtures.py's format, the
requested datyp/nbits under "requested"). Every nbits librmn accepts is drawn (133: 16..32,
which make_fixtures.py --random does not cover), shapes are mostly at least 16 x 16 (where
the PARALLELOGRAM predictors run) with odd sizes, some small (MINIMUM) and some 1-wide
(no compression), and values smooth, noisy, constant, spiky, wide-ranging or stepped.

Then the encoders must give librmn's payloads word for word, and give up where librmn did:

    FSTGIS_EXTRA_FIXTURES=OUTDIR cargo test -p fst-core --lib encode::tests

scripts/oracle-turbo.sh does both steps.
"""
from __future__ import print_function

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (sets librmn up: rpnpy, message level)

KINDS = [
    (134, list(range(1, 17))), (129, list(range(1, 17))), (130, list(range(1, 17))),
    (133, list(range(16, 33))),
    (198, list(range(1, 17))), (193, [8, 12, 16]), (194, [8, 16]), (197, [16, 24, 32]),
]


def shape(rng):
    r = rng.random()
    if r < 0.05:
        return 1, int(rng.integers(2, 300))
    if r < 0.1:
        return int(rng.integers(2, 300)), 1
    if r < 0.25:
        return int(rng.integers(2, 16)), int(rng.integers(2, 40))
    if r < 0.9:
        return int(rng.integers(16, 200)), int(rng.integers(16, 150))
    return int(rng.integers(300, 1100)), int(rng.integers(200, 600))


def make_turbo(outdir, seed, count):
    w = mf.Writer('turbo', outdir,
                  'Turbo records drawn at random (seed %d) for the turbo encoders\' differential '
                  'test: every nbits of 129, 130, 133, 134 and +64 variants.' % seed)
    rng = np.random.default_rng(seed)
    date = mf.iso_to_stamp('2025-03-01T06:00:00')
    w.open()
    fl = mf.get_missing_flags()
    refused = 0
    for i in range(count):
        datyp, nbits_choices = KINDS[int(rng.integers(len(KINDS)))]
        nbits = int(rng.choice(nbits_choices))
        ni, nj = shape(rng)
        var = str(rng.choice(['TT', 'UU', 'GZ', 'HU', 'MX', 'P0']))
        d = mf.random_values(rng, ni, nj, datyp, nbits, var)
        if datyp & 64:
            mask = rng.random((ni, nj)) < rng.choice([0.0, 0.01, 0.2, 0.9])
            # librmn 19.5 ends the process on a field whose every point is missing.
            mask.flat[int(rng.integers(ni * nj))] = False
            flag = fl['uint32'] if datyp & 0x3F == 2 else fl['float32']
            d = np.array(d, copy=True)
            d[mask] = flag
            d = mf.F(d)
        g = (mf.L_grid(ni, nj, -10., 260., 0.1, 0.1) if ni > 1 and nj > 1
             else {'grtyp': 'X', 'ig1': 0, 'ig2': 0, 'ig3': 0, 'ig4': 0})
        try:
            mf.put_draw(w, i, d, 'T', 'TURBO', 'turbo #%d: datyp %d nbits %d %dx%d'
                        % (i, datyp, nbits, ni, nj), date, ni=ni, nj=nj, datyp=datyp,
                        nbits=nbits, keep_input=False, **mf.grid_meta(g))
        except mf.rmn.FSTDError:
            refused += 1
    return mf.close_draws(w, 'turbo', refused, count)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('outdir')
    ap.add_argument('--seed', type=int, default=20261204)
    ap.add_argument('--count', type=int, default=400, help='at most 46656 (distinct names)')
    a = ap.parse_args()
    outdir = os.path.abspath(a.outdir)
    os.makedirs(outdir, exist_ok=True)
    mf.missing_mode(True)
    w = make_turbo(outdir, a.seed, a.count)
    man = mf.build_manifest(w, keep_inputs=False, columnar=False)
    print('turbo: %d records, fst %d B (seed %d)' % (man['nrecords'], man['file_size'], a.seed))
    return 0


if __name__ == '__main__':
    sys.exit(main())
