"""search/find with librmn's wildcard rules, against the manifests and against librmn's own
fstinl (rpnpy) on drawn queries."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import fstgis
from conftest import XDF, xdf_manifests

UTC = dt.timezone.utc


def indices(records):
    return [r.key for r in records]


def test_wildcards_and_case():
    with fstgis.open(XDF / "datyps.fst") as f:
        everything = indices(f)
        assert indices(f.search()) == everything
        assert indices(f.search(nomvar=" ", typvar="", etiket="   ", ip1=-1, ip2=-1, ip3=-1,
                                datev=-1)) == everything
        tt = indices(f.search(nomvar="TT"))
        assert tt and indices(f.search(nomvar="tt")) == tt
        assert all(r.nomvar == "TT" for r in f.search(nomvar="TT"))
        assert f.find(nomvar="NOPE") is None
        with pytest.raises(fstgis.RecordNotFoundError) as err:
            f.read(nomvar="NOPE")
        assert isinstance(err.value, KeyError) and err.value.path == str(XDF / "datyps.fst")
        with pytest.raises(fstgis.UsageError):
            f.find(nomvr="TT")


def test_level_and_datetime_criteria():
    with fstgis.open(XDF / "levels_dates.fst") as f:
        pressure = [r for r in f if r.level is not None and r.level.kind == 2]
        assert pressure
        target = pressure[0].level
        by_level = f.search(level=(target.value, "mb"))
        assert indices(by_level) == [r.key for r in f if r.level == target]
        assert indices(f.search(level=target)) == indices(by_level)
        rec = f[5]
        when = rec.valid_time
        by_time = f.search(datev=when)
        assert rec.key in indices(by_time)
        assert indices(by_time) == indices(f.search(datev=rec.datev))
        assert indices(f.search(datev=when.astimezone(dt.timezone(dt.timedelta(hours=3))))) == \
            indices(by_time)


def test_search_matches_fstinl(oracle):
    rng = np.random.default_rng(7)
    cases = []
    for path, m in xdf_manifests():
        if not m["records"]:
            continue
        handles = {e["handle"]: e["index"] for e in m["records"]}
        queries = []
        for e in rng.choice(m["records"], min(25, len(m["records"])), replace=False):
            keys = {"nomvar": e["nomvar"].strip(), "typvar": e["typvar"].strip(),
                    "etiket": e["etiket"].strip(), "ip1": e["ip1"], "ip2": e["ip2"],
                    "ip3": e["ip3"], "datev": e["xtra1"]}
            chosen = rng.choice(list(keys), int(rng.integers(1, 4)), replace=False)
            queries.append({k: keys[k] for k in chosen})
        cases.append({"path": str(path), "handles": handles, "queries": queries})
    code = """
out = []
for case in data["cases"]:
    unit = rmn.fstopenall(case["path"], rmn.FST_RO)
    res = []
    for q in case["queries"]:
        res.append(rmn.fstinl(unit, **q))
    rmn.fstcloseall(unit)
    out.append(res)
print(json.dumps(out))
"""
    got = oracle(code, {"cases": [{"path": c["path"], "queries": c["queries"]} for c in cases]})
    checked = 0
    for case, results in zip(cases, got):
        with fstgis.open(case["path"]) as f:
            for q, handles in zip(case["queries"], results):
                expected = sorted(case["handles"][h] for h in handles)
                assert sorted(indices(f.search(**q))) == expected, (case["path"], q)
                checked += 1
    assert checked > 100
