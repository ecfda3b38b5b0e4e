"""Ensemble members (records that differ only by an etiket naming a member) as a
``realization`` dimension, and back to one set of records per member."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import fstgis


def _write_ensemble(path, etikets, levels=(500.0, 850.0), hours=(0, 6)):
    rng = np.random.default_rng(7)
    truth = {}
    with fstgis.open(path, "w") as f:
        for etiket in etikets:
            for h in hours:
                for lv in levels:
                    a = rng.normal(250, 5, (5, 4)).astype(np.float32)
                    truth[(etiket, h, lv)] = a
                    f.write(a, nomvar="TT", etiket=etiket, level=(lv, 2), dateo=
                            fstgis.datetime_to_cmc(np.datetime64("2026-12-01T00:00").item()),
                            deet=3600, npas=h, ip2=h, grtyp="L", ig1=100, ig2=100, ig3=9000,
                            ig4=0)
            f.write(np.full((5, 4), 1000.0, np.float32), nomvar="P0", etiket="ANAL",
                    grtyp="L", ig1=100, ig2=100, ig3=9000, ig4=0)
    return truth


def test_members_become_a_realization_dimension(tmp_path):
    p = tmp_path / "ens.fst"
    etikets = ["GEPS_003", "GEPS_001", "GEPS_002"]
    truth = _write_ensemble(p, etikets)
    ds = xr.open_dataset(p, engine="fst")
    tt = ds["TT"]
    assert tt.dims[0] == "realization"
    assert list(ds["realization"].values) == [1, 2, 3]
    assert ds["realization"].attrs["standard_name"] == "realization"
    assert list(ds["realization_etiket"].values) == ["GEPS_001", "GEPS_002", "GEPS_003"]
    assert tt.attrs["etiket"] == "GEPS"
    # Every cell is the record of its member, time and level.
    for m, etiket in enumerate(ds["realization_etiket"].values):
        for t, lead in enumerate(ds["leadtime"].values):
            h = int(lead / np.timedelta64(1, "h"))
            for k, lv in enumerate(ds[tt.dims[2]].values):
                got = tt.isel(realization=m, time=t).isel({tt.dims[2]: k}).values
                np.testing.assert_array_equal(got, truth[(etiket, h, float(lv))].T)
    # Lazy: one record per chunk, the member dimension included.
    assert tt.encoding["preferred_chunks"]["realization"] == 1
    # Opting out gives one variable per etiket.
    plain = xr.open_dataset(p, engine="fst", ensembles=False)
    assert sorted(v for v in plain.data_vars if v.startswith("TT")) == [
        "TT_GEPS_001", "TT_GEPS_002", "TT_GEPS_003"]


@pytest.mark.parametrize("etikets", [["GEPS_001", "GEPS_001X"], ["RUNA", "RUNB"],
                                     ["A_001", "B_002"]])
def test_etikets_that_are_not_members_stay_apart(tmp_path, etikets):
    p = tmp_path / "notens.fst"
    _write_ensemble(p, etikets, levels=(500.0,), hours=(0,))
    ds = xr.open_dataset(p, engine="fst")
    assert "realization" not in ds.dims
    assert len([v for v in ds.data_vars if v.startswith("TT")]) == 2


def test_members_round_trip_through_from_xarray(tmp_path):
    p, q = tmp_path / "ens.fst", tmp_path / "back.fst"
    _write_ensemble(p, ["E_01", "E_02"])
    ds = xr.open_dataset(p, engine="fst")
    fstgis.from_xarray(ds, q)
    back = xr.open_dataset(q, engine="fst")
    xr.testing.assert_equal(back["TT"].load(), ds["TT"].load())
    with fstgis.open(q) as f:
        assert sorted({r.etiket for r in f.search(nomvar="TT")}) == ["E_01", "E_02"]


def test_members_on_model_levels_with_a_diagnostic_level(tmp_path):
    """Each member's TT on hybrid levels and at 1.5 m above ground: both split variables get
    the realization dimension (the split keeps the parts of one member apart)."""
    p = tmp_path / "ens_diag.fst"
    with fstgis.open(p, "w") as f:
        for etiket in ("GEPS_001", "GEPS_002"):
            for level in ((0.5, 5), (1.0, 5), (1.5, 4)):
                f.write(np.full((5, 4), level[0], np.float32), nomvar="TT", etiket=etiket,
                        level=level, grtyp="L", ig1=100, ig2=100, ig3=9000, ig4=0)
    ds = xr.open_dataset(p, engine="fst")
    assert ds["TT"].dims[:1] == ("realization",) and "hybrid" in ds["TT"].dims
    assert ds["TT_height_agl"].dims[:1] == ("realization",)
    assert list(ds["realization"].values) == [1, 2]

