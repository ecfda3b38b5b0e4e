"""Hybrid and height-based levels: the coefficients and ``formula_terms`` our backend takes
from a ``!!`` record written by ECCC's vgrid (libvgrid through rpnpy, the oracle venv), and the
pressures (or heights) they give against vgrid's own ``vgd_levels`` on the same reference
fields."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

# vgrid writes the descriptor, a reference field (P0 in hPa, or ME in m) on a small L grid
# and TT on each momentum model level; it returns its levels at every point, in Pa (or m).
ORACLE = """
import numpy as np
import rpnpy.vgd.all as vgd
HYB = [0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95]
HGT = [30000.0, 20000.0, 10000.0, 5000.0, 1000.0, 300.0, 50.0]
make = {
    "5001": lambda: vgd.vgd_new_hyb([0.1, 0.5, 0.8, 1.0], 1.6, 1000.0, 80000.0, 0, 0),
    "5002": lambda: vgd.vgd_new_hybs(HYB, 1.6, 10.0, 1000.0, 80000.0, 0, 0),
    "5005": lambda: vgd.vgd_new_hybmd(HYB, 1.6, 10.0, 100000.0, 10.0, 1.5, 0, 0),
    "21001": lambda: vgd.vgd_new_hybh(HGT, 1.6, 10.0, 10.0, 1.5, 0, 0),
}
out = {}
ni, nj = 6, 4
for case, path in data["files"].items():
    v = make[case]()
    height = case.startswith("21")
    ref = np.empty((ni, nj), order="F", dtype=np.float32)
    for i in range(ni):
        for j in range(nj):
            ref[i, j] = (120.0 * i + 301.5 * j) if height else (1013.25 - 30.5 * i - 41.0 * j)
    u = rmn.fstopenall(path, rmn.FST_RW)
    vgd.vgd_write(v, u)
    ig = rmn.cxgaig("L", -10.0, 0.0, 1.0, 1.0)
    base = dict(ni=ni, nj=nj, nk=1, grtyp="L", ig1=ig[0], ig2=ig[1], ig3=ig[2], ig4=ig[3], dateo=0, deet=0, npas=0,
                ip2=0, ip3=0, typvar="P", etiket="VGRID", datyp=5, nbits=32)
    rmn.fstecr(u, ref, dict(base, nomvar="ME" if height else "P0", ip1=0))
    # The model levels (not the diagnostic ones vgrid lists after them, in m above ground).
    ip1s = [int(x) for x in vgd.vgd_get(v, "VIPM")
            if rmn.convertIp(rmn.CONVIP_DECODE, int(x))[1] in (5, 21)]
    for k, ip1 in enumerate(ip1s):
        rmn.fstecr(u, np.full((ni, nj), 250.0 + k, np.float32, order="F"),
                   dict(base, nomvar="TT", ip1=ip1))
    rmn.fstcloseall(u)
    rfld = np.asarray(ref, np.float64) * (1.0 if height else 100.0)
    lv = vgd.vgd_levels2(v, rfld=rfld, ip1list=ip1s, double_precision=True)
    out[case] = {"ip1": ip1s, "levels": np.asarray(lv).tolist(),
                 "ref": np.asarray(ref, np.float64).tolist()}
print(json.dumps(out))
"""

CASES = ["5001", "5002", "5005", "21001"]


@pytest.fixture(scope="module")
def vgrid_files(oracle, tmp_path_factory):
    d = tmp_path_factory.mktemp("vgrid")
    files = {c: str(d / f"vgrid_{c}.fst") for c in CASES}
    return files, oracle(ORACLE, {"files": files})


@pytest.mark.parametrize("case", CASES)
def test_formula_terms_give_vgrid_levels(vgrid_files, case):
    files, theirs = vgrid_files
    t = theirs[case]
    ds = xr.open_dataset(files[case], engine="fst")
    tt = ds["TT"]
    level = tt.dims[1]
    coord = ds[level]
    assert coord.attrs["vcode"] == int(case)
    # GEM's log-pressure coordinates (5002, 5005) have no CF standard name, so their terms
    # are in fst_formula_terms (formula_terms needs a standard name defining the formula).
    terms_attr = "fst_formula_terms" if case in ("5002", "5005") else "formula_terms"
    terms = dict(zip(*[iter(coord.attrs[terms_attr].split())] * 2))
    assert sorted(ds[f"{level}_ip1"].values.tolist()) == sorted(t["ip1"])
    # vgrid's levels, (ni, nj, k) in Fortran order, reordered to our (level, y, x).
    by_ip1 = {ip: k for k, ip in enumerate(t["ip1"])}
    want = np.asarray(t["levels"], np.float64)
    want = np.stack([want[:, :, by_ip1[int(ip)]].T for ip in ds[f"{level}_ip1"].values])
    ref = ds[terms["ps:" if "ps:" in terms else "orog:"]].values[0]  # (y, x)
    assert np.allclose(ref, np.asarray(t["ref"]).T)
    if case == "5001":
        assert coord.attrs["standard_name"] == "atmosphere_hybrid_sigma_pressure_coordinate"
        ap, b = ds[terms["ap:"]].values, ds[terms["b:"]].values
        ours = 100.0 * (ap[:, None, None] + b[:, None, None] * ref)
    elif case in ("5002", "5005"):
        assert "standard_name" not in coord.attrs and "formula_terms" not in coord.attrs
        a, b, p0 = (ds[terms[k]].values for k in ("a:", "b:", "p0:"))
        ours = np.exp(a[:, None, None] + b[:, None, None] * np.log(100.0 * ref / p0))
    else:
        assert coord.attrs["standard_name"] == "atmosphere_hybrid_height_coordinate"
        a, b = ds[terms["a:"]].values, ds[terms["b:"]].values
        ours = a[:, None, None] + b[:, None, None] * ref
    # vgrid computes in double precision from the same float32 reference values.
    np.testing.assert_allclose(ours, want, rtol=1e-12, atol=1e-9)


def test_no_descriptor_leaves_hybrid_levels_plain(tmp_path):
    import fstgis

    p = tmp_path / "plain.fst"
    with fstgis.open(p, "w") as f:
        for lv in (0.5, 0.9):
            f.write(np.zeros((3, 2), np.float32), nomvar="TT", level=(lv, 5))
    ds = xr.open_dataset(p, engine="fst")
    coord = ds[ds["TT"].dims[1]]
    assert "formula_terms" not in coord.attrs and "vcode" not in coord.attrs
