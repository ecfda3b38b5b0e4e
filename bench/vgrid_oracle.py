"""Vertical grid descriptors ("!!" records) through ECCC's vgrid (libvgrid 6.4.2, shipped with
rpnpy in PyPI fstd2nc-deps; bench/oracle-env.sh), for fst-core's vertical module tests
(crates/fst-core/tests/vertical_oracle.rs).

    python bench/vgrid_oracle.py write FILE OUT.json   # vgrid builds descriptors, writes FILE
    python bench/vgrid_oracle.py read  FILE OUT.json   # vgrid reads every "!!" record of FILE

OUT.json: {"ok", "error", "descriptors": [{"case", "ip1", "ip2", "keys" (fstprm of the
record), "get" (every vgd_get key the descriptor has), "levels"}]}. Every float is given as
the 64 bits of its double (exact through JSON); "levels" holds, for each of the momentum,
thermodynamic and vertical-velocity ip1 lists, vgd_levels in double precision at the
reference values "ps" (Pa, or m for heights) and "ps_ls" (the large-scale reference).
"""
from __future__ import print_function

import json
import os
import struct
import sys
import warnings

warnings.simplefilter('ignore')

import numpy as np                        # noqa: E402
import fstd2nc_deps                       # noqa: E402,F401  (puts rpnpy on sys.path)
import rpnpy.vgd.all as vgd               # noqa: E402
from rpnpy.librmn import all as rmn       # noqa: E402

# Surface values (Pa for pressure coordinates, m for heights) and large-scale ones.
PS = [101325.0, 85000.0, 60012.5]
PS_LS = [100900.0, 87000.0, 61000.0]
ZS = [0.0, 512.25, 3100.0]
ZS_LS = [10.0, 480.0, 2900.0]

FLOAT_KEYS = ('CA_M', 'CB_M', 'CC_M', 'CA_T', 'CB_T', 'CC_T', 'CA_W', 'CB_W', 'CC_W',
              'PTOP', 'PREF', 'RC_1', 'RC_2', 'RC_3', 'RC_4', 'DHM', 'DHT', 'DHW', 'VTBL')
INT_KEYS = ('KIND', 'VERS', 'VIPM', 'VIPT', 'VIPW', 'DIPM', 'DIPT', 'DIPW', 'NL_M', 'NL_T',
            'IP_1', 'IP_2')
STR_KEYS = ('RFLD', 'RFLS')
PRM_KEYS = ('nomvar', 'typvar', 'etiket', 'grtyp', 'ni', 'nj', 'nk', 'dateo', 'deet', 'npas',
            'ip1', 'ip2', 'ip3', 'ig1', 'ig2', 'ig3', 'ig4', 'datyp', 'nbits')

HYB = [0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95]
HGT = [30000.0, 20000.0, 10000.0, 5000.0, 1000.0, 300.0, 50.0]

# (case, constructor) in the order written; each gets ip1 = its position + 1, ip2 = 7.
CASES = [
    ('sigm 1001', lambda ip1, ip2: vgd.vgd_new_sigm([0.2, 0.5, 0.8, 1.0], ip1, ip2)),
    ('eta 1002', lambda ip1, ip2: vgd.vgd_new_eta([0.1, 0.5, 0.8, 1.0], 1000.0, ip1, ip2)),
    ('pres 2001', lambda ip1, ip2: vgd.vgd_new_pres([100.0, 500.0, 850.0, 1000.0], ip1, ip2)),
    ('hgts 4001', lambda ip1, ip2: vgd.vgd_new(4, 1, [10.0, 50.0, 100.0, 1500.5], ip1=ip1,
                                               ip2=ip2)),
    ('hyb 5001', lambda ip1, ip2: vgd.vgd_new_hyb([0.1, 0.5, 0.8, 1.0], 1.6, 1000.0, 80000.0,
                                                  ip1, ip2)),
    ('hybs 5002', lambda ip1, ip2: vgd.vgd_new_hybs(HYB, 1.6, 10.0, 1000.0, 80000.0, ip1, ip2)),
    ('hybt 5003', lambda ip1, ip2: vgd.vgd_new_hybt(HYB, 1.6, 10.0, 1000.0, 80000.0, ip1, ip2)),
    ('hybm 5004', lambda ip1, ip2: vgd.vgd_new_hybm(HYB, 1.6, 10.0, 1000.0, 80000.0, ip1, ip2)),
    ('hybmd 5005', lambda ip1, ip2: vgd.vgd_new_hybmd(HYB, 1.6, 10.0, 100000.0, 10.0, 1.5,
                                                      ip1, ip2)),
    ('hybps 5100', lambda ip1, ip2: vgd.vgd_new_hybps(HYB, 1.6, 10.0, 2.0, 5.0, 100000.0, 10.0,
                                                      1.5, ip1, ip2)),
    ('hybh 21001', lambda ip1, ip2: vgd.vgd_new_hybh(HGT, 1.6, 10.0, 10.0, 1.5, ip1, ip2)),
    ('hybhs 21001 SLEVE', lambda ip1, ip2: vgd.vgd_new_hybhs(HGT, 1.6, 10.0, 2.0, 5.0, 10.0,
                                                             1.5, ip1, ip2)),
    ('hybhl 21002', lambda ip1, ip2: vgd.vgd_new_hybhl(HGT, 1.6, 10.0, 10.0, 1.5, 10.0,
                                                       ip1, ip2)),
    ('hybhls 21002 SLEVE', lambda ip1, ip2: vgd.vgd_new_hybhls(HGT, 1.6, 10.0, 2.0, 5.0, 10.0,
                                                               1.5, 10.0, ip1, ip2)),
]


def bits(x):
    return struct.unpack('<Q', struct.pack('<d', float(x)))[0]


def pyval(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, bytes):
        return v.decode('ascii', 'replace')
    return v


def dump(v, case):
    """What vgrid says of descriptor v."""
    out = {'case': case, 'get': {}, 'levels': {}}
    for k in INT_KEYS + FLOAT_KEYS + STR_KEYS:
        try:
            val = vgd.vgd_get(v, k, quiet=True)
        except Exception:                 # the descriptor has no such key
            continue
        if k in STR_KEYS:
            out['get'][k] = str(val).rstrip()
        elif k == 'VTBL':
            t = np.asarray(val)
            out['get'][k] = {'shape': list(t.shape),
                             'bits': [bits(x) for x in t.flatten(order='F')]}
        elif k in FLOAT_KEYS:
            if np.ndim(val) == 0:
                out['get'][k] = bits(val)
            else:
                out['get'][k] = [bits(x) for x in np.asarray(val).flatten()]
        else:
            out['get'][k] = (int(val) if np.ndim(val) == 0
                             else [int(x) for x in np.asarray(val).flatten()])
    kind = out['get'].get('KIND')
    ref, ref_ls = (ZS, ZS_LS) if kind == 21 else (PS, PS_LS)
    out['levels']['ps'] = [bits(x) for x in ref]
    out['levels']['ps_ls'] = [bits(x) for x in ref_ls]
    for key in ('VIPM', 'VIPT', 'VIPW'):
        ip1s = out['get'].get(key)
        if not ip1s:
            continue
        try:
            lv = vgd.vgd_levels2(v, rfld=np.array(ref, dtype=np.float64),
                                 rfls=np.array(ref_ls, dtype=np.float64),
                                 ip1list=list(ip1s), double_precision=True)
        except Exception as e:            # vgrid computes no levels for this coordinate
            out['levels'][key] = {'error': str(e)}
            continue
        lv = np.asarray(lv).reshape(len(ref), len(ip1s))
        out['levels'][key] = [[bits(x) for x in row] for row in lv]
    return out


def write(path, out):
    if os.path.exists(path):
        os.remove(path)
    man = {'ok': False, 'error': None, 'descriptors': []}
    u = rmn.fstopenall(path, rmn.FST_RW)
    try:
        for i, (case, make) in enumerate(CASES):
            v = make(i + 1, 7)
            vgd.vgd_write(v, u)
            d = dump(v, case)
            d['ip1'], d['ip2'] = i + 1, 7
            man['descriptors'].append(d)
            vgd.vgd_free(v)
        man['ok'] = True
    finally:
        rmn.fstcloseall(u)
    json.dump(man, open(out, 'w'))
    return 0


def read(path, out):
    man = {'ok': False, 'error': None, 'descriptors': []}
    u = rmn.fstopenall(path, rmn.FST_RO)
    try:
        for key in rmn.fstinl(u, nomvar='!!'):
            prm = rmn.fstprm(key)
            keys = dict((k, pyval(prm[k])) for k in PRM_KEYS)
            for k in ('nomvar', 'typvar', 'etiket', 'grtyp'):
                keys[k] = keys[k].rstrip()
            try:
                v = vgd.vgd_read(u, ip1=keys['ip1'], ip2=keys['ip2'])
            except Exception as e:
                man['error'] = 'vgd_read ip1=%d ip2=%d: %s' % (keys['ip1'], keys['ip2'], e)
                break
            d = dump(v, 'read')
            d['ip1'], d['ip2'], d['keys'] = keys['ip1'], keys['ip2'], keys
            man['descriptors'].append(d)
            vgd.vgd_free(v)
        else:
            man['ok'] = True
    finally:
        rmn.fstcloseall(u)
    json.dump(man, open(out, 'w'))
    return 0 if man['ok'] else 1


if __name__ == '__main__':
    if len(sys.argv) != 4 or sys.argv[1] not in ('write', 'read'):
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit({'write': write, 'read': read}[sys.argv[1]](sys.argv[2], sys.argv[3]))
