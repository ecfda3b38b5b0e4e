#!/usr/bin/env python3
"""Records written by librmn 19.5 from random arrays, with the arrays kept: the oracle of
fst-core's encoders (crates/fst-core/tests/codec_encode_fixtures.rs re-encodes every input
array and compares the payload words with librmn's).

    bench/oracle_encode.py OUTDIR [SEED [COUNT]]

Writes OUTDIR/encode_oracle.fst, .json (the manifest, as make_fixtures.py writes it) and .bin
(the input arrays). Run it with the oracle's Python (bench/oracle-env.sh), then
FSTGIS_ENCODE_ORACLE=OUTDIR cargo test -p fst-core --test codec_encode_fixtures.
Draws cover datyp 1, 2, 4, 5, 6 and their +64 variants at every nbits librmn writes, the
substitutions (R31/R32 -> E32, F17..24 -> R, F25.. -> E32), and the turbo datyps 129, 130,
133, 134 and their +64 variants at every nbits (about a third of the draws: the first stage,
the armn_compress streams, the framing and librmn's decisions to give turbo up); values come
from make_fixtures.random_values (smooth, noisy, constant, spiky, wide, stepped), a quarter of
the float fields salted with zeros of both signs, subnormals and tiny values. Turbo draws take
shapes mostly at least 16 x 16 (where the PARALLELOGRAM predictors run), some smaller
(MINIMUM) and some 1-wide (no compression).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

# (requested datyp, nbits librmn accepts for it)
KINDS = [
    (1, list(range(1, 33))), (5, list(range(1, 33)) + [64]), (6, list(range(1, 33))),
    (2, list(range(1, 33))), (4, list(range(2, 33))),
    (65, list(range(2, 33))), (69, list(range(8, 33)) + [64]), (70, list(range(2, 17))),
    (66, list(range(2, 33))), (68, list(range(2, 33))),
]
# The turbo requests, drawn as often as all the others together.
TURBO_KINDS = [
    (134, list(range(1, 17))), (129, [16]), (129, list(range(1, 16))), (130, list(range(1, 17))),
    (133, list(range(16, 33))),
    (198, list(range(1, 17))), (193, [8, 12, 16, 16]), (194, [8, 16]), (197, [16, 24, 32]),
]


def turbo_shape(rng):
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


SPECIALS = np.array([0.0, -0.0, 1e-40, -1e-40, 1.4e-45, -3e-39, 1.2e-38, -1e-30, 1e-30, 3.0, -7.5],
                    dtype=np.float32)


def main(argv):
    outdir = os.path.abspath(argv[0])
    seed = int(argv[1]) if len(argv) > 1 else 20261204
    count = int(argv[2]) if len(argv) > 2 else 400
    os.makedirs(outdir, exist_ok=True)
    mf.missing_mode(True)
    fl = mf.get_missing_flags()
    rng = np.random.default_rng(seed)
    w = mf.Writer('encode_oracle', outdir,
                  'Random arrays written by librmn (seed %d) with the arrays kept, '
                  'for the encoder oracle test.' % seed)
    w.open()
    refused = 0
    for i in range(count):
        if rng.random() < 0.35:
            datyp, choices = TURBO_KINDS[int(rng.integers(len(TURBO_KINDS)))]
            ni, nj = turbo_shape(rng)
        else:
            datyp, choices = KINDS[int(rng.integers(len(KINDS)))]
            ni, nj = mf.random_shape(rng)
        nbits = int(rng.choice(choices))
        if ni * nj > 200000:
            ni, nj = ni // 4 + 2, nj // 4 + 2
        var = str(rng.choice(['TT', 'UU', 'GZ', 'HU', 'MX', 'P0']))
        d = mf.random_values(rng, ni, nj, datyp, nbits, var)
        if (datyp & 0x3F) in (1, 5, 6) and nbits != 64 and rng.random() < 0.25:
            # Zeros of both signs, subnormals and tiny values: where the packers' integer
            # arithmetic has its corner cases (datyp 1 exits above 1e38: none of those).
            d = np.array(d, copy=True)
            pick = rng.random((ni, nj)) < rng.choice([0.05, 0.5, 1.0])
            d[pick] = rng.choice(SPECIALS, size=int(pick.sum()))
            d = mf.F(d.astype(np.float32))
        if datyp & 64:
            mask = rng.random((ni, nj)) < rng.choice([0.0, 0.01, 0.2, 0.9])
            # librmn 19.5 exits when every point is missing.
            mask.flat[int(rng.integers(ni * nj))] = False
            base = datyp & 0x3F
            flag = {2: fl['uint32'], 4: fl['int32']}.get(base, fl['float64'] if nbits == 64 else fl['float32'])
            d = np.array(d, copy=True)
            d[mask] = flag
            d = mf.F(d)
        try:
            mf.put_draw(w, i, d, 'E', 'ENCODE', 'encode #%d: datyp %d nbits %d %dx%d' % (i, datyp, nbits, ni, nj),
                        0, ni=ni, nj=nj, datyp=datyp, nbits=nbits, keep_input=True)
        except mf.rmn.FSTDError:
            refused += 1
    w.close()
    man = mf.build_manifest(w, keep_inputs=True)
    print('encode_oracle: %d records (%d refused by librmn), seed %d' % (man['nrecords'], refused, seed))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
