#!/usr/bin/env python3
"""
make_decode_inputs.py -- write, with the reference librmn (19.5, rpnpy bundle fstd2nc-deps),
one XDF standard file per benchmarked encoding, each holding a single 2000x1000 field:

    decode_r16.fst   datyp 1   nbits 16   ("R", compact_float)
    decode_f16.fst   datyp 6   nbits 16   ("F", float_packer)
    decode_t134.fst  datyp 134 nbits 16   (F + armn_compress, typical GEM output)
    decode_t133.fst  datyp 133 nbits 32   (IEEE + armn_compress32)
    decode_e32.fst   datyp 5   nbits 32   (IEEE)

The field is a smooth, realistic air temperature (the same formula as the fixture generator's
field('TT')). Next to the files, decode_inputs.json lists, per file, the stored datyp/nbits and
the sha256 of what librmn's c_fstluk returns (f32 little-endian bytes), so that the Rust
benchmark can check its output against librmn before timing it.

    .venv-oracle/bin/python bench/make_decode_inputs.py OUTDIR
"""
from __future__ import print_function

import ctypes as ct
import hashlib
import json
import os
import sys
import warnings

import numpy as np

warnings.simplefilter('ignore')
import fstd2nc_deps  # noqa: F401  (puts rpnpy on sys.path)
from rpnpy.librmn import all as rmn  # noqa: E402

rmn.fstopt(rmn.FSTOP_MSGLVL, rmn.FSTOPI_MSG_CATAST)
LIB = rmn.librmn
_ip = ct.POINTER(ct.c_int)
C_FSTLUK = ct.CFUNCTYPE(ct.c_int, ct.c_void_p, ct.c_int, _ip, _ip, _ip)(('c_fstluk', LIB))

NI, NJ = 2000, 1000
CASES = [
    ('r16', 1, 16),
    ('f16', 6, 16),
    ('t134', 134, 16),
    ('t133', 133, 32),
    ('e32', 5, 32),
]


def field_tt(ni, nj, seed=0):
    """Air temperature in deg C: the fixture generator's field('TT') for nk = 1."""
    rng = np.random.default_rng(seed + 1000 * sum(map(ord, 'TT')))
    x = (np.arange(ni, dtype=np.float64)[:, None] + 0.5) / ni
    y = (np.arange(nj, dtype=np.float64)[None, :] + 0.5) / nj
    noise = rng.standard_normal((ni, nj))
    a = 25. - 55. * (2 * y - 1) ** 2 + 4 * np.sin(6 * np.pi * x) + 0.3 * noise
    return np.asfortranarray(a, dtype=np.float32)


def write(path, data, datyp, nbits):
    if os.path.exists(path):
        os.remove(path)
    unit = rmn.fstopenall(path, rmn.FST_RW)
    try:
        meta = {
            'nomvar': 'TT', 'typvar': 'P', 'etiket': 'BENCH', 'ni': NI, 'nj': NJ, 'nk': 1,
            'dateo': 0, 'deet': 0, 'npas': 0, 'ip1': 0, 'ip2': 0, 'ip3': 0,
            'grtyp': 'L', 'ig1': 100, 'ig2': 100, 'ig3': 9000, 'ig4': 0,
            'datyp': datyp, 'nbits': nbits,
        }
        rmn.fstecr(unit, data, meta)
    finally:
        rmn.fstcloseall(unit)


def read_back(path):
    unit = rmn.fstopenall(path, rmn.FST_RO)
    try:
        keys = rmn.fstinl(unit)
        assert len(keys) == 1, keys
        prm = rmn.fstprm(keys[0])
        buf = np.zeros(NI * NJ * 2 + 1024, dtype=np.float32)
        ni, nj, nk = ct.c_int(), ct.c_int(), ct.c_int()
        ist = C_FSTLUK(buf.ctypes.data, int(keys[0]), ct.byref(ni), ct.byref(nj), ct.byref(nk))
        assert ist >= 0, ist
        out = buf[:NI * NJ].copy()
    finally:
        rmn.fstcloseall(unit)
    return prm, out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else 'bench/out'
    if not os.path.isdir(outdir):
        os.makedirs(outdir)
    data = field_tt(NI, NJ)
    manifest = {'ni': NI, 'nj': NJ, 'librmn': os.path.basename(rmn.RMN_LIBPATH), 'files': []}
    for name, datyp, nbits in CASES:
        path = os.path.join(outdir, 'decode_%s.fst' % name)
        write(path, data, datyp, nbits)
        prm, out = read_back(path)
        if (prm['datyp'], prm['nbits']) != (datyp, nbits):
            raise SystemExit('%s: librmn stored datyp %d nbits %d instead of %d/%d'
                             % (path, prm['datyp'], prm['nbits'], datyp, nbits))
        entry = {
            'file': os.path.basename(path), 'name': name, 'datyp': prm['datyp'], 'nbits': prm['nbits'],
            'size_bytes': os.path.getsize(path),
            'sha256': hashlib.sha256(out.astype('<f4').tobytes()).hexdigest(),
            'max_abs_err': float(np.max(np.abs(out.astype(np.float64) - data.ravel(order='F')))),
        }
        manifest['files'].append(entry)
        print('%-16s datyp %3d nbits %2d  %9d bytes  max |err| %.3g'
              % (entry['file'], datyp, nbits, entry['size_bytes'], entry['max_abs_err']))
    with open(os.path.join(outdir, 'decode_inputs.json'), 'w') as fh:
        json.dump(manifest, fh, indent=1)


if __name__ == '__main__':
    main()
