"""Sigma, eta, hybrid and height-based levels: the coefficients and ``formula_terms`` our
backend takes from a ``!!`` record written by ECCC's vgrid (libvgrid through rpnpy, the oracle
venv), or, in files older than ``!!``, from the levels with GEM 3's ``HY`` record and the
``PT`` field, and the pressures (or heights) they give against vgrid's own ``vgd_levels`` on
the same reference fields (for the older files, with the descriptor vgrid's ``vgd_read``
rebuilds from those records)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

# vgrid writes the descriptor, a reference field (P0 in hPa, or ME in m) on a small L grid
# and TT on each momentum model level; it returns its levels at every point, in Pa (or m).
# The legacy cases write HY (and PT) with librmn instead, and vgrid reads them back.
ORACLE = """
import numpy as np
import rpnpy.vgd.all as vgd
HYB = [0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95]
HGT = [30000.0, 20000.0, 10000.0, 5000.0, 1000.0, 300.0, 50.0]
SIG = [0.1, 0.3, 0.5, 0.8, 0.95, 1.0]
make = {
    "1001": lambda: vgd.vgd_new_sigm(SIG),
    "1002": lambda: vgd.vgd_new_eta(SIG, 1000.0),
    "5001": lambda: vgd.vgd_new_hyb([0.1, 0.5, 0.8, 1.0], 1.6, 1000.0, 80000.0, 0, 0),
    "5002": lambda: vgd.vgd_new_hybs(HYB, 1.6, 10.0, 1000.0, 80000.0, 0, 0),
    "5005": lambda: vgd.vgd_new_hybmd(HYB, 1.6, 10.0, 100000.0, 10.0, 1.5, 0, 0),
    "21001": lambda: vgd.vgd_new_hybh(HGT, 1.6, 10.0, 10.0, 1.5, 0, 0),
}
# Files older than `!!`: level kind, levels, HY's top (its ip1, hPa), pref (ig1, hPa) and
# ig2 (rcoef x 1000), PT (hPa) or None; more cases may come in data["legacy"]. HY1003 starts
# at sigma 0, the top: the vgrid of this oracle (6.4.2) takes any first level as the top,
# later versions only 0.
LEGACY = {
    "HY5001": (5, SIG, 10.0, 800, 1600, None),
    "HY1003": (1, [0.0] + SIG[1:], 10.0, 800, 1600, None),
    "PT1002": (1, SIG, 10.0, 800, 1000, 10.0),
}
LEGACY.update(data.get("legacy", {}))
out = {}
ni, nj = 6, 4
ig = rmn.cxgaig("L", -10.0, 0.0, 1.0, 1.0)
base = dict(ni=ni, nj=nj, nk=1, grtyp="L", ig1=ig[0], ig2=ig[1], ig3=ig[2], ig4=ig[3],
            dateo=0, deet=0, npas=0, ip2=0, ip3=0, typvar="P", etiket="VGRID", datyp=5,
            nbits=32)
for case, path in data["files"].items():
    height = case.startswith("21")
    ref = np.empty((ni, nj), order="F", dtype=np.float32)
    for i in range(ni):
        for j in range(nj):
            ref[i, j] = (120.0 * i + 301.5 * j) if height else (1013.25 - 30.5 * i - 41.0 * j)
    u = rmn.fstopenall(path, rmn.FST_RW)
    if case in LEGACY:
        kind, levels, top, pref, ig2, pt = LEGACY[case]
        # vgrid matches HY to the records by dateo and etiket.
        rmn.fstecr(u, np.zeros((1, 1), np.float32, order="F"), dict(
            base, ni=1, nj=1, grtyp="X", ig1=pref, ig2=ig2, ig3=0, ig4=0, typvar="X",
            nomvar="HY", ip1=rmn.convertIp(rmn.CONVIP_ENCODE, top, rmn.KIND_PRESSURE)))
        if pt is not None:
            rmn.fstecr(u, np.full((ni, nj), pt, np.float32, order="F"),
                       dict(base, nomvar="PT", ip1=0))
        # GEM 3 wrote sigma levels old-style (vgrid's 1003 looks them up so).
        style = rmn.CONVIP_ENCODE_OLD if kind == 1 else rmn.CONVIP_ENCODE
        ip1s = [rmn.convertIp(style, lv, kind) for lv in levels]
    else:
        v = make[case]()
        vgd.vgd_write(v, u)
        # The model levels (not the diagnostic ones vgrid lists after them, in m above
        # ground).
        ip1s = [int(x) for x in vgd.vgd_get(v, "VIPM")
                if rmn.convertIp(rmn.CONVIP_DECODE, int(x))[1] in (1, 5, 21)]
    rmn.fstecr(u, ref, dict(base, nomvar="ME" if height else "P0", ip1=0))
    for k, ip1 in enumerate(ip1s):
        rmn.fstecr(u, np.full((ni, nj), 250.0 + k, np.float32, order="F"),
                   dict(base, nomvar="TT", ip1=ip1))
    rmn.fstcloseall(u)
    if case in LEGACY:
        u = rmn.fstopenall(path, rmn.FST_RO)
        v = vgd.vgd_read(u)
        rmn.fstcloseall(u)
    rfld = np.asarray(ref, np.float64) * (1.0 if height else 100.0)
    lv = vgd.vgd_levels2(v, rfld=rfld, ip1list=ip1s, double_precision=True)
    out[case] = {"ip1": ip1s, "levels": np.asarray(lv).tolist(),
                 "ref": np.asarray(ref, np.float64).tolist(),
                 "vcode": 1000 * vgd.vgd_get(v, "KIND") + vgd.vgd_get(v, "VERS")}
print(json.dumps(out))
"""

CASES = ["1001", "1002", "5001", "5002", "5005", "21001", "HY5001", "HY1003", "PT1002"]


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
    assert coord.attrs["vcode"] == t["vcode"] == int(case.lstrip("HYPT"))
    # GEM's log-pressure coordinates (5002, 5005) have no CF standard name, so their terms
    # are in fst_formula_terms (formula_terms needs a standard name defining the formula).
    terms_attr = "fst_formula_terms" if case in ("5002", "5005") else "formula_terms"
    terms = dict(zip(*[iter(coord.attrs[terms_attr].split())] * 2))
    assert sorted(ds[f"{level}_ip1"].values.tolist()) == sorted(t["ip1"])
    if case in ("1001", "1002", "PT1002"):
        assert coord.attrs["standard_name"] == "atmosphere_sigma_coordinate"
        assert float(ds[terms["ptop:"]]) == (0.0 if case == "1001" else 10.0)
    elif case in ("5001", "HY5001", "HY1003"):
        assert coord.attrs["standard_name"] == "atmosphere_hybrid_sigma_pressure_coordinate"
    elif case in ("5002", "5005"):
        assert "standard_name" not in coord.attrs and "formula_terms" not in coord.attrs
    else:
        assert coord.attrs["standard_name"] == "atmosphere_hybrid_height_coordinate"
    _assert_vgrid_levels(ds, t)


def _assert_vgrid_levels(ds, t):
    """Our coordinate's pressures (or heights), by its own formula and terms, are vgrid's
    levels `t` at every point of the reference field."""
    level = ds["TT"].dims[1]
    attrs = ds[level].attrs
    terms_attr = "formula_terms" if "formula_terms" in attrs else "fst_formula_terms"
    terms = dict(zip(*[iter(attrs[terms_attr].split())] * 2))
    # vgrid's levels, (ni, nj, k) in Fortran order, reordered to our (level, y, x).
    by_ip1 = {ip: k for k, ip in enumerate(t["ip1"])}
    want = np.asarray(t["levels"], np.float64)
    want = np.stack([want[:, :, by_ip1[int(ip)]].T for ip in ds[f"{level}_ip1"].values])
    # (y, x), widened: float32 minus a Python float stays float32 in numpy 2.
    ref = ds[terms["ps:" if "ps:" in terms else "orog:"]].values[0].astype(np.float64)
    assert np.allclose(ref, np.asarray(t["ref"]).T)
    standard_name = attrs.get("standard_name")
    if standard_name == "atmosphere_sigma_coordinate":
        sigma, ptop = ds[terms["sigma:"]].values, float(ds[terms["ptop:"]])
        ours = 100.0 * (ptop + sigma[:, None, None] * (ref - ptop))
    elif standard_name == "atmosphere_hybrid_sigma_pressure_coordinate":
        ap, b = ds[terms["ap:"]].values, ds[terms["b:"]].values
        ours = 100.0 * (ap[:, None, None] + b[:, None, None] * ref)
    elif standard_name is None:
        a, b, p0 = (ds[terms[k]].values for k in ("a:", "b:", "p0:"))
        ours = np.exp(a[:, None, None] + b[:, None, None] * np.log(100.0 * ref / p0))
    else:
        a, b = ds[terms["a:"]].values, ds[terms["b:"]].values
        ours = a[:, None, None] + b[:, None, None] * ref
    # vgrid computes in double precision from the same float32 reference values.
    np.testing.assert_allclose(ours, want, rtol=1e-12, atol=1e-9)
    # ds.fst.levels gives the same, with the variable's dimensions.
    got = ds.fst.levels("TT")
    assert got.dims == ds["TT"].dims
    assert got.attrs["units"] == ("m" if "orog:" in terms else "Pa")
    np.testing.assert_allclose(got.isel({got.dims[0]: 0}).values, want, rtol=1e-12, atol=1e-9)


def test_random_legacy_coordinates_give_vgrid_levels(oracle, tmp_path):
    """Files without `!!` drawn at random (top, pref, rcoef, levels; HY alone on hybrid and
    sigma levels, PT with a consistent HY on sigma levels), read back by vgrid: our terms give
    its levels. A fixed seed unless FSTGIS_HEAVY=1."""
    import os

    heavy = os.environ.get("FSTGIS_HEAVY") == "1"
    seed = int.from_bytes(os.urandom(4), "little") if heavy else 20261207
    rng = np.random.default_rng(seed)
    legacy, files = {}, {}
    for n in range(60 if heavy else 12):
        kind, with_pt = [(5, False), (1, False), (1, True)][n % 3]
        top = round(float(rng.uniform(1.0, 50.0)), 1)
        pref = int(rng.integers(500, 1001))
        ig2 = 1000 if with_pt else int(rng.integers(1000, 3001))
        count = int(rng.integers(2, 20))
        if kind == 5:
            inner = rng.uniform(1.01 * top / pref, 0.999, count)
        else:
            # Old-style sigma ip1 keep 4 decimals; 1003 starts at 0 (see LEGACY).
            inner = np.concatenate([[0.0] if not with_pt else [], rng.uniform(0.01, 0.99, count)])
        levels = sorted(set(np.round(inner, 4).tolist()) | {1.0})
        case = f"R{n}"
        legacy[case] = (kind, levels, top, pref, ig2, top if with_pt else None)
        files[case] = str(tmp_path / f"{case}.fst")
    theirs = oracle(ORACLE, {"files": files, "legacy": legacy})
    for case, path in files.items():
        kind, _, _, _, _, pt = legacy[case]
        ds = xr.open_dataset(path, engine="fst")
        vcode = ds[ds["TT"].dims[1]].attrs["vcode"]
        assert vcode == theirs[case]["vcode"] == (5001 if kind == 5 else 1002 if pt else 1003), \
            (seed, case)
        try:
            _assert_vgrid_levels(ds, theirs[case])
        except AssertionError as e:
            raise AssertionError(f"seed {seed}, {case} {legacy[case]}: {e}") from None


def test_no_descriptor_leaves_hybrid_levels_plain(tmp_path):
    import fstgis

    p = tmp_path / "plain.fst"
    with fstgis.open(p, "w") as f:
        for lv in (0.5, 0.9):
            f.write(np.zeros((3, 2), np.float32), nomvar="TT", level=(lv, 5))
    ds = xr.open_dataset(p, engine="fst")
    coord = ds[ds["TT"].dims[1]]
    assert "formula_terms" not in coord.attrs and "vcode" not in coord.attrs


@pytest.mark.parametrize("case", ["HY5001", "HY1003", "PT1002", "1002"])
def test_descriptors_survive_a_round_trip(vgrid_files, tmp_path, case):
    """from_xarray writes the `!!`/`HY` record back (PT is a variable of its own): the file
    it writes opens with the same coordinate and terms."""
    import fstgis

    files, _ = vgrid_files
    ds = xr.open_dataset(files[case], engine="fst")
    out = fstgis.from_xarray(ds, tmp_path / "back.fst")
    back = xr.open_dataset(out, engine="fst")
    level = ds["TT"].dims[1]
    for key in ("vcode", "standard_name", "formula_terms"):
        assert back[level].attrs[key] == ds[level].attrs[key]
    for name in ds.coords:
        if name.startswith(f"{level}_"):
            np.testing.assert_array_equal(back[name].values, ds[name].values)


@pytest.mark.parametrize("case", CASES)
def test_the_coordinates_pass_cfchecker(vgrid_files, tmp_path, case):
    """The netCDF of each coordinate (its terms, ptop, formula_terms) passes the CF checker,
    as the fixtures do in test_cf_check."""
    cf_check = pytest.importorskip("test_cf_check")
    files, _ = vgrid_files
    nc = tmp_path / "out.nc"
    xr.open_dataset(files[case], engine="fst").to_netcdf(nc)
    errors, _ = cf_check._check(nc, tmp_path)
    assert not errors, "\n".join(errors)


def _legacy_file(path, hy_keys=None, pts=()):
    """Sigma TT levels and P0 written by fstgis, with an HY record of keys `hy_keys` and PT
    records of values `pts` (one per ip2)."""
    import fstgis

    with fstgis.open(path, "w") as f:
        f.write(np.full((3, 2), 1000.0, np.float32), nomvar="P0")
        for lv in (0.5, 1.0):
            f.write(np.zeros((3, 2), np.float32), nomvar="TT", level=(lv, 1))
        if hy_keys is not None:
            f.write(np.zeros((1, 1), np.float32), nomvar="HY", typvar="X", grtyp="X", **hy_keys)
        for ip2, pt in enumerate(pts):
            f.write(np.full((3, 2), pt, np.float32), nomvar="PT", ip2=ip2)


def test_records_that_describe_nothing_leave_the_levels_plain(tmp_path):
    """PT records that disagree, or an HY whose reference pressure is under its top, give a
    warning; the dataset opens with the plain sigma terms (ptop 0), as if they were absent."""
    import fstgis

    top = fstgis.encode_ip(10.0, 2)
    for name, hy, pts in [("pt.fst", None, (10.0, 12.0)),
                          ("hy.fst", dict(ip1=top, ig1=5, ig2=1600), ())]:
        p = tmp_path / name
        _legacy_file(p, hy, pts)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = xr.open_dataset(p, engine="fst")
        messages = [str(w.message) for w in caught]
        assert any("PT records disagree" in m or "HY/PT" in m for m in messages), messages
        coord = ds[ds["TT"].dims[1]]
        assert "vcode" not in coord.attrs, name
        assert coord.attrs["formula_terms"].endswith("ptop: ptop") and float(ds["ptop"]) == 0.0


def test_pt_makes_sigma_levels_eta(tmp_path):
    p = tmp_path / "eta.fst"
    _legacy_file(p, None, (10.0, 10.0))
    ds = xr.open_dataset(p, engine="fst")
    level = ds["TT"].dims[1]
    assert ds[level].attrs["vcode"] == 1002
    assert float(ds[f"{level}_ptop"]) == 10.0


FSTD2NC = """
import fstd2nc
out = {}
for case, path in data["files"].items():
    ds = fstd2nc.Buffer(path).to_xarray()
    level = "level"  # fstd2nc's name for model levels
    out[case] = {"attrs": {k: str(v) for k, v in ds[level].attrs.items()},
                 "ap": ds["ap"].values.tolist() if "ap" in ds.coords else None,
                 "b": ds["b"].values.tolist() if "b" in ds.coords else None}
print(json.dumps(out))
"""


def test_legacy_files_against_fstd2nc(vgrid_files, oracle):
    """fstd2nc on the same files: hybrid levels with HY get its ap and b (float32) too. Where
    we differ on purpose: sigma levels with HY alone are vgrid's 1003 for us and eta for
    fstd2nc (which then names a PT field the file does not have)."""
    files, _ = vgrid_files
    theirs = oracle(FSTD2NC, {"files": {c: files[c] for c in ("HY5001", "HY1003")}})
    ds = xr.open_dataset(files["HY5001"], engine="fst")
    level = ds["TT"].dims[1]
    t = theirs["HY5001"]
    # fstd2nc computes in float32: within its rounding (1e-4 hPa where A nears 0).
    np.testing.assert_allclose(ds[f"{level}_ap"].values, t["ap"], rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(ds[f"{level}_b"].values, t["b"], rtol=1e-6, atol=1e-7)
    assert ds[level].attrs["standard_name"] == t["attrs"]["standard_name"]
    t = theirs["HY1003"]
    ds = xr.open_dataset(files["HY1003"], engine="fst")
    level = ds["TT"].dims[1]
    assert ds[level].attrs["vcode"] == 1003
    assert ds[level].attrs["standard_name"] == "atmosphere_hybrid_sigma_pressure_coordinate"
    assert t["attrs"]["standard_name"] == "atmosphere_sigma_coordinate"
    assert t["attrs"]["formula_terms"].endswith("ptop: PT")


def test_pt_is_sampled_first_to_last(tmp_path):
    """PT is read on a few records spread over the file (one per time step in a model run),
    first and last included: a top that changes at the end is still seen."""
    p = tmp_path / "many.fst"
    _legacy_file(p, None, [10.0] * 19 + [11.0])
    with pytest.warns(UserWarning, match="PT records disagree"):
        ds = xr.open_dataset(p, engine="fst")
    assert "vcode" not in ds[ds["TT"].dims[1]].attrs


def test_near_surface_diagnostics_get_their_own_variable(vgrid_files, tmp_path):
    """GEM writes TT at 1.5 m above ground beside its model levels: the model levels keep
    the variable and its vertical coordinate, the diagnostic level becomes ``TT_height_agl``
    (one variable over both kinds would be an ``ip1`` axis without formula), and both come
    back from from_xarray as the same records."""
    import shutil

    import fstgis

    files, _ = vgrid_files
    p = tmp_path / "diag.fst"
    shutil.copy(files["5005"], p)
    keys = fstgis.open(p).find(nomvar="TT").to_dict()
    with fstgis.open(p, "a") as f:
        f.write(np.full((keys["ni"], keys["nj"]), 280.0, np.float32), nomvar="TT",
                **{k: keys[k] for k in ("typvar", "etiket", "grtyp", "ig1", "ig2", "ig3",
                                        "ig4")}, level=(1.5, 4))
    ds = xr.open_dataset(p, engine="fst")
    assert ds["TT"].dims[1] == "hybrid" and ds["hybrid"].attrs["vcode"] == 5005
    assert ds["TT_height_agl"].dims[1] == "height_agl"
    assert ds["height_agl"].values.tolist() == [1.5]
    assert ds["TT_height_agl"].attrs["nomvar"] == "TT"
    np.testing.assert_array_equal(ds["TT_height_agl"].values, 280.0)
    out = fstgis.from_xarray(ds, tmp_path / "back.fst")
    ours = sorted((r.nomvar, r.ip1) for r in fstgis.open(out).search(nomvar="TT"))
    assert ours == sorted((r.nomvar, r.ip1) for r in fstgis.open(p).search(nomvar="TT"))


def test_levels_of_plain_coordinates_and_refusals(tmp_path):
    """ds.fst.levels on pressure levels (their pressure), plain sigma levels (ptop 0), lazily
    with dask; a variable without a level formula is refused clearly."""
    import fstgis

    p = tmp_path / "plain.fst"
    _legacy_file(p)
    with fstgis.open(p, "a") as f:
        for hpa in (500.0, 850.0):
            f.write(np.zeros((3, 2), np.float32), nomvar="GZ", level=(hpa, "mb"))
    ds = xr.open_dataset(p, engine="fst", chunks={})
    sigma = ds.fst.levels("TT")
    assert sigma.chunks is not None  # lazy: P0 is a dask array
    np.testing.assert_allclose(sigma.values[0, :, 0, 0], [50_000.0, 100_000.0])
    np.testing.assert_array_equal(ds.fst.levels("GZ").values, [50_000.0, 85_000.0])
    with pytest.raises(fstgis.UsageError, match="no level coordinate with a formula"):
        ds.fst.levels("P0")
    with pytest.raises(fstgis.UsageError, match="needs P0"):
        ds.drop_vars("P0").fst.levels("TT")


@pytest.mark.parametrize("p0_per_member", [True, False])
def test_ensemble_members_get_their_formula(vgrid_files, tmp_path, p0_per_member):
    """The 5001 file's TT as two ensemble members: the hybrid levels get formula_terms whether
    P0 is given per member or once (an analysis under its own etiket, serving every member),
    and ds.fst.levels broadcasts it over the members."""
    import fstgis

    files, theirs = vgrid_files
    src = fstgis.open(files["5001"])
    p = tmp_path / "ens.fst"
    copy = ("typvar", "grtyp", "ig1", "ig2", "ig3", "ig4", "ip1", "ip2", "ip3", "dateo",
            "deet", "npas", "datyp", "nbits")
    with fstgis.open(p, "w") as f:
        for rec in src:
            keys = rec.to_dict()
            kw = {k: keys[k] for k in copy}
            if rec.nomvar == "!!":
                f.write(np.asfortranarray(rec.read()), nomvar="!!", etiket=keys["etiket"], **kw)
                continue
            for m, etiket in enumerate(("GEPS_001", "GEPS_002")):
                if rec.nomvar == "P0" and not p0_per_member:
                    if m == 0:
                        f.write(rec.read(), nomvar="P0", etiket="ANAL", **kw)
                    continue
                f.write(rec.read(), nomvar=rec.nomvar, etiket=etiket, **kw)
    ds = xr.open_dataset(p, engine="fst")
    level = ds["TT"].dims[2]
    assert ds["TT"].dims[0] == "realization" and ds[level].attrs["vcode"] == 5001
    assert "ps: P0" in ds[level].attrs["formula_terms"]
    got = ds.fst.levels("TT")
    # The variable's dimensions, but members only where P0 has them.
    assert got.dims == tuple(d for d in ds["TT"].dims if p0_per_member or d != "realization")
    want = np.asarray(theirs["5001"]["levels"])  # (ni, nj, k), vgrid's
    by_ip1 = {ip: k for k, ip in enumerate(theirs["5001"]["ip1"])}
    want = np.stack([want[:, :, by_ip1[int(ip)]].T for ip in ds[f"{level}_ip1"].values])
    for m in range(2 if p0_per_member else 1):
        member = got.isel(realization=m) if p0_per_member else got
        np.testing.assert_allclose(member.isel(time=0).values, want, rtol=1e-12)
