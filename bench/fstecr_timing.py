#!/usr/bin/env python3
"""Time librmn 19.5's fstecr writing 800x600 float records (the reference for the `encode`
group of crates/fst-core/benches/codecs.rs): per-record time of fstecr for 1/16, 6/16,
129/16, 134/16, 133/32 and 5/32 into a fresh XDF file, best of 3 runs of COUNT records.

    "$(bench/oracle-env.sh)" bench/fstecr_timing.py [COUNT]      # default 100

The field is smooth with noise in its low bits (as the criterion bench's fallback field).
fstecr's time includes the file write (to a temporary directory), which the codec bench does
not: the comparison is an upper bound on librmn's encoding time.
"""
import os
import sys
import tempfile
import time
import warnings

import numpy as np

warnings.simplefilter('ignore')
import fstd2nc_deps  # noqa: E402,F401  (puts rpnpy on sys.path)
from rpnpy.librmn import all as rmn  # noqa: E402


def field(ni, nj):
    i = np.arange(ni, dtype=np.float32)[:, None]
    j = np.arange(nj, dtype=np.float32)[None, :]
    noise = np.random.default_rng(1).integers(0, 64, size=(ni, nj)).astype(np.float32) * 1e-3
    return np.asfortranarray(250.0 + 30.0 * np.sin(i / 97.0) * np.cos(j / 61.0) + noise,
                             dtype=np.float32)


def main(argv):
    count = int(argv[0]) if argv else 100
    rmn.fstopt(rmn.FSTOP_MSGLVL, rmn.FSTOPI_MSG_CATAST)
    ni, nj = 800, 600
    d = field(ni, nj)
    with tempfile.TemporaryDirectory() as tmp:
        for datyp, nbits in [(1, 16), (6, 16), (129, 16), (134, 16), (133, 32), (5, 32)]:
            best = None
            for run in range(3):
                path = os.path.join(tmp, 'w%d_%d_%d.fst' % (datyp, nbits, run))
                fid = rmn.fstopenall(path, rmn.FST_RW)
                meta = rmn.FST_RDE_META_DEFAULT.copy()
                meta.update(nomvar='TT', ni=ni, nj=nj, nk=1, datyp=datyp, nbits=nbits,
                            grtyp='X', typvar='P')
                t0 = time.perf_counter()
                for k in range(count):
                    meta['ip2'] = k
                    rmn.fstecr(fid, d, meta, rewrite=False)
                t = (time.perf_counter() - t0) / count
                rmn.fstcloseall(fid)
                best = t if best is None else min(best, t)
            print('fstecr %3d/%2d %dx%d: %.3f ms per record (best of 3 x %d)'
                  % (datyp, nbits, ni, nj, best * 1e3, count))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
