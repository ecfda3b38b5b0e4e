"""Latitudes and longitudes of every Z, Y and U data record of an FST file, as librmn 19.5
computes them (ezqkdef + gdll; U grids through their two subgrids), for the tests of the
positional records fst-core writes (crates/grids/tests/written_positional.rs).

    python bench/positional_oracle.py FILE OUTDIR

OUTDIR/manifest.json: {"ok", "error", "records": [{"nomvar", "ip1", "grtyp", "ni", "nj",
"lat", "lon"}]}; "lat"/"lon" name float64 files of ni x nj values, i fastest (U: nj covers
Yin then Yang).
"""
from __future__ import print_function

import json
import os
import sys
import warnings

warnings.simplefilter('ignore')

import numpy as np                        # noqa: E402
import fstd2nc_deps                       # noqa: E402,F401  (puts rpnpy on sys.path)
from rpnpy.librmn import all as rmn       # noqa: E402


def gdll_any(gid):
    if rmn.ezgprm(gid)['grtyp'].strip() == 'U':
        ll = [rmn.gdll(s) for s in rmn.ezget_subgridids(gid)]
        return (np.concatenate([x['lat'] for x in ll], axis=1),
                np.concatenate([x['lon'] for x in ll], axis=1))
    ll = rmn.gdll(gid)
    return ll['lat'], ll['lon']


def main(path, outdir):
    if not os.path.isdir(outdir):
        os.makedirs(outdir)
    man = {'ok': False, 'error': None, 'records': []}
    u = rmn.fstopenall(path, rmn.FST_RO)
    try:
        for n, key in enumerate(rmn.fstinl(u)):
            p = rmn.fstprm(key)
            if p['grtyp'].strip() not in ('Z', 'Y', 'U'):
                continue
            gid = rmn.ezqkdef(p['ni'], p['nj'], p['grtyp'], p['ig1'], p['ig2'], p['ig3'],
                              p['ig4'], u)
            lat, lon = gdll_any(gid)
            rec = {'nomvar': p['nomvar'].strip(), 'ip1': int(p['ip1']),
                   'grtyp': p['grtyp'].strip(), 'ni': int(p['ni']), 'nj': int(p['nj'])}
            for name, v in (('lat', lat), ('lon', lon)):
                f = 'rec%04d.%s.bin' % (n, name)
                np.asarray(v, dtype=np.float64).flatten(order='F').tofile(os.path.join(outdir, f))
                rec[name] = f
            man['records'].append(rec)
        man['ok'] = True
    except Exception as e:
        man['error'] = str(e)
    finally:
        rmn.fstcloseall(u)
    json.dump(man, open(os.path.join(outdir, 'manifest.json'), 'w'), indent=1)
    return 0 if man['ok'] else 1


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
