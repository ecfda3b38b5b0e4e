"""librmn 19.5's side of bench/write_vs_librmn.sh: fstecr COUNT records of NI x NJ f32 values,
cycling through the arrays of a raw input file, into a new XDF file; prints the wall time of
open + writes + close, and the
CPU time (user + system) it took.

    python bench/write_bench_librmn.py IN.f32 NI NJ COUNT DATYP NBITS OUT.fst
"""
from __future__ import print_function

import os
import sys
import time
import warnings

warnings.simplefilter('ignore')
import numpy as np                       # noqa: E402
import fstd2nc_deps                      # noqa: E402,F401
from rpnpy.librmn import all as rmn      # noqa: E402


def main(argv):
    path, ni, nj, count, datyp, nbits, out = argv[1:8]
    ni, nj, count, datyp, nbits = int(ni), int(nj), int(count), int(datyp), int(nbits)
    raw = np.fromfile(path, dtype='<f4')
    arrays = [np.asfortranarray(a.reshape((ni, nj), order='F'))
              for a in raw[:raw.size // (ni * nj) * ni * nj].reshape(-1, ni * nj)]
    if os.path.exists(out):
        os.remove(out)
    rmn.fstopt(rmn.FSTOP_MSGLVL, rmn.FSTOPI_MSG_CATAST)
    t0, c0 = time.time(), time.process_time()
    u = rmn.fstopenall(out, rmn.FST_RW)
    for r in range(count):
        meta = {'nomvar': 'TT', 'typvar': 'P', 'etiket': 'BENCH', 'ip1': r, 'ip2': r % 48,
                'grtyp': 'X', 'ni': ni, 'nj': nj, 'nk': 1, 'datyp': datyp, 'nbits': nbits,
                'dateo': 0, 'deet': 0, 'npas': 0}
        rmn.fstecr(u, arrays[r % len(arrays)], meta)
    rmn.fstcloseall(u)
    secs, cpu = time.time() - t0, time.process_time() - c0
    print('seconds=%.3f cpu_seconds=%.3f bytes=%d' % (secs, cpu, os.path.getsize(out)))


if __name__ == '__main__':
    main(sys.argv)
