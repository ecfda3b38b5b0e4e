"""Read an FST file with librmn 19.5 (rpnpy, PyPI fstd2nc-deps) in a fresh process and dump
what librmn sees: the file's record counts and, for every record in directory order, its keys
(fstprm) and its values as c_fstluk fills a zeroed buffer. The writer's tests compare this with
fst-core's reader.

    python bench/oracle_readback.py FILE OUTDIR

Writes OUTDIR/manifest.json ({"ok", "error", "fstnbr", "fstnbrv", "records": [...]}) and
OUTDIR/recNNNNN.bin (the raw little-endian values, `dtype` and `shape` in the manifest, Fortran
order). Exits 0 when librmn opened and read everything, 1 when it reported an error (the
manifest then says which).

Missing values (+64 datyps) are read with librmn's missing-value mode off: the stored plug
values come back, like fst-core's samples.
"""
from __future__ import print_function

import json
import os
import sys
import warnings

warnings.simplefilter('ignore')

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf                # noqa: E402  (librmn set-up and c_fstluk reader)
from make_fixtures import rmn              # noqa: E402

PRM_KEYS = ('nomvar', 'typvar', 'etiket', 'grtyp', 'ni', 'nj', 'nk', 'dateo', 'datev', 'deet',
            'npas', 'ip1', 'ip2', 'ip3', 'ig1', 'ig2', 'ig3', 'ig4', 'datyp', 'nbits', 'swa',
            'lng', 'xtra1')


def main(argv):
    path, outdir = argv[1], argv[2]
    if not os.path.isdir(outdir):
        os.makedirs(outdir)
    man = {'file': path, 'ok': False, 'error': None, 'records': []}
    mf.missing_mode(False)
    try:
        u = rmn.fstopenall(path, rmn.FST_RO)
    except Exception as e:               # librmn refused the file
        man['error'] = 'open: %s' % e
        json.dump(man, open(os.path.join(outdir, 'manifest.json'), 'w'), indent=1)
        return 1
    try:
        man['fstnbr'] = int(rmn.fstnbr(u))
        man['fstnbrv'] = int(rmn.fstnbrv(u))
        for idx, key in enumerate(rmn.fstinl(u)):
            prm = rmn.fstprm(key)
            rec = dict((k, mf.pyval(prm[k])) for k in PRM_KEYS)
            for k in ('nomvar', 'typvar', 'etiket', 'grtyp'):
                rec[k] = rec[k].rstrip()
            values, shape = mf.luk(key, prm)
            name = 'rec%05d.bin' % idx
            values.tofile(os.path.join(outdir, name))
            rec.update({'data_file': name, 'dtype': values.dtype.str, 'shape': shape})
            man['records'].append(rec)
        man['ok'] = True
    except Exception as e:
        man['error'] = 'read: %s' % e
    finally:
        rmn.fstcloseall(u)
    json.dump(man, open(os.path.join(outdir, 'manifest.json'), 'w'), indent=1)
    return 0 if man['ok'] else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
