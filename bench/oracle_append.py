"""Append one record to an existing XDF file with librmn 19.5 (fstecr), to check that librmn
takes over files fst-core wrote: header, pages and reserve as it expects.

    python bench/oracle_append.py FILE NOMVAR

The record: NOMVAR, 7 x 5 float32 values i + 10 j, datyp 5/32, ip1 = 1234.
"""
from __future__ import print_function

import sys
import warnings

warnings.simplefilter('ignore')
import numpy as np                       # noqa: E402
import fstd2nc_deps                      # noqa: E402,F401
from rpnpy.librmn import all as rmn      # noqa: E402


def main(argv):
    path, nomvar = argv[1], argv[2]
    rmn.fstopt(rmn.FSTOP_MSGLVL, rmn.FSTOPI_MSG_CATAST)
    u = rmn.fstopenall(path, rmn.FST_RW)
    data = np.asfortranarray(np.add.outer(np.arange(7.0), 10 * np.arange(5.0)).astype(np.float32))
    rmn.fstecr(u, data, {'nomvar': nomvar, 'typvar': 'P', 'etiket': 'LIBRMN', 'ip1': 1234,
                         'ni': 7, 'nj': 5, 'nk': 1, 'datyp': 5, 'nbits': 32, 'grtyp': 'X',
                         'dateo': 0, 'deet': 0, 'npas': 0})
    rmn.fstcloseall(u)


if __name__ == '__main__':
    main(sys.argv)
