"""The vertical coordinates' formulas, for the xarray backend: the terms CF's
``formula_terms`` names (or ``fst_formula_terms`` where CF has no standard name), from the
file's ``!!`` records, from GEM 3's ``HY``/``PT`` records in files older than ``!!``, or, for
sigma levels nothing describes, GEM's pure sigma (ptop = 0). The per-level terms come from
fst-core (``vertical`` module) through ``_fstgis.vertical_terms`` and
``_fstgis.legacy_vertical_terms``; this module lays them out as coordinate variables."""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

import fstgis
from fstgis import _fstgis
from fstgis._cf import VERTICAL
from fstgis._fields import MODEL_LEVEL_KINDS


def vertical_terms(f, data_vars: dict, coords: dict) -> None:
    """Add the formula terms of every level dimension of ``data_vars`` to ``coords`` (and
    their attributes to the dimension coordinates): described levels first, then the plain
    sigma terms for sigma levels nothing describes."""
    _hybrid_formula_terms(f, data_vars, coords)
    _sigma_formula_terms(data_vars, coords)


def _sigma_formula_terms(data_vars: dict, coords: dict) -> None:
    """CF ``formula_terms`` of sigma levels that no ``!!`` or ``HY`` record describes (kind 1:
    p = sigma·P0, GEM's pure sigma, so ptop = 0): set when a surface pressure ``P0`` on the
    same times and grid is in the file. Described levels (eta, hybrid, height-based): see
    `_hybrid_formula_terms`, which runs first."""
    surface = {(v.dims[0], v.dims[-2:]): name for name, v in data_vars.items()
               if v.attrs.get("nomvar") == "P0" and v.ndim == 3}
    for var in data_vars.values():
        if var.ndim < 4:
            continue
        level = var.dims[1]
        coord = coords.get(level)
        if (coord is None or coord.attrs.get("standard_name") != "atmosphere_sigma_coordinate"
                or "vcode" in coord.attrs):
            continue
        ps = surface.get((var.dims[0], var.dims[-2:]))
        if ps is None:
            continue
        if "ptop" not in coords:
            coords["ptop"] = xr.Variable((), 0.0, {"long_name": "pressure at the model top",
                                                   "units": "hPa"})
        coord.attrs["formula_terms"] = f"sigma: {level} ps: {ps} ptop: ptop"


# The keys of a `!!` (or `HY`) record kept with its table (see `_hybrid_formula_terms`).
_VGRID_KEYS = ("nomvar", "typvar", "etiket", "dateo", "deet", "npas", "ip1", "ip2", "ip3",
               "grtyp", "ig1", "ig2", "ig3", "ig4", "datyp", "nbits")

# Level dimensions whose values are coordinates of a vertical grid descriptor (`!!`): sigma
# (kind 1: 1001, eta 1002, normalised hybrid 1003), hybrid (kind 5: 5001-5005, 5100) and
# GEM's height-based 21001/21002 (kind 21); in older files, `HY` and `PT` (kinds 1 and 5).
_DESCRIBED_DIMS = {VERTICAL[k][0] for k in MODEL_LEVEL_KINDS}


def _hybrid_formula_terms(f, data_vars: dict, coords: dict) -> None:
    """Sigma (kind 1), hybrid (kind 5) and height-based (kind 21) levels get their
    coefficients from the file's ``!!`` record (fst-core's ``vertical`` module reads the
    table, as vgrid does). Where no ``!!`` has them, sigma and hybrid levels get the
    coordinate vgrid builds for files older than ``!!`` from GEM 3's ``HY`` record (ptop,
    pref and rcoef in its keys) and the ``PT`` field (fst-core's
    ``VerticalDescriptor::from_legacy``): sigma levels with ``PT`` are eta (1002), with ``HY``
    alone normalised hybrid (1003; fstd2nc reads them as eta, vgrid does not), hybrid levels
    with ``HY`` are 5001. The coefficients become coordinate variables ``<dim>_a``,
    ``<dim>_b`` (and ``<dim>_c`` for SLEVE coordinates), with ``formula_terms`` where the
    reference field is in the dataset on the same grid:

    * vcode 1001 and 1002 (p = ptop + sigma·(ps − ptop)): CF ``atmosphere_sigma_coordinate``
      with ``<dim>_ptop`` (hPa, 0 for 1001);
    * 1003 (normalised hybrid, kind 1 levels): as 5001;

    * vcode 5001 (p = a + b·ps): CF ``atmosphere_hybrid_sigma_pressure_coordinate`` with
      ``ap`` (hPa, as ``P0``) and ``b``;
    * 5002-5005 (ln p = a + b·ln(ps/pref)): no standard name (CF has none for GEM's
      log-hydrostatic coordinate; fstd2nc's ``atmosphere_hybrid_sigma_log_pressure_coordinate``
      is not in the table), terms in ``fst_formula_terms``: ``a`` (ln Pa), ``b``, ``ps`` and
      ``p0`` (pref, Pa); ``ps`` is P0
      in hPa, so p = exp(a + b·ln(100·ps/p0)), stated in the ``formula`` attribute;
      5100 (SLEVE) adds ``c`` and ``ps_ls`` (P0LS);
    * 21001 (z = a + (b + c)·zs): CF ``atmosphere_hybrid_height_coordinate`` with ``a``,
      ``b`` and ``orog`` (ME); 21002 (SLEVE) adds ``c`` and ``orog_ls`` (MELS).
    """
    candidates = legacy = None
    for ln, coord in list(coords.items()):
        ip1_coord = coords.get(f"{ln}_ip1")
        if coord.ndim != 1 or ip1_coord is None or coord.dims != (ln,):
            continue
        if ln.rstrip("0123456789") not in _DESCRIBED_DIMS:
            continue
        if candidates is None:
            candidates = f.search(nomvar="!!")
            if len(candidates) > _MAX_DESCRIPTORS:
                warnings.warn(f"{len(candidates)} `!!` records: the first {_MAX_DESCRIPTORS} "
                              "are read")
                candidates = candidates[:_MAX_DESCRIPTORS]
        ip1s = [int(v) for v in ip1_coord.values]
        terms = None
        for rec in candidates:
            try:
                terms = _fstgis.vertical_terms(rec, ip1s)
            except fstgis.FstError as e:
                warnings.warn(f"`!!` record {rec.key}: {e}")
                continue
            if terms is not None:
                break
        if terms is None and ln.rstrip("0123456789") != VERTICAL[21][0]:
            if legacy is None:
                legacy = _legacy_records(f)
            hy, pt = legacy
            rec = hy
            if hy is not None or pt is not None:
                try:
                    terms = _fstgis.legacy_vertical_terms(ip1s, hy, pt)
                except fstgis.FstError as e:
                    warnings.warn(f"levels of {ln}: {e}")
        if terms is None:
            continue
        _apply_terms(ln, coord, terms, data_vars, coords)
        if rec is None:
            continue
        # The table itself (a few hundred values; an `HY` record's own value), so that
        # from_xarray writes the record back and the coordinate survives a round trip.
        keys = rec.to_dict()
        what = "vgrid's `!!` table" if rec.nomvar == "!!" else "GEM 3's `HY` record"
        table_attrs = {"long_name": f"vertical grid descriptor of {ln} ({what})"}
        table_attrs.update({f"fst_{k}": keys[k] for k in _VGRID_KEYS})
        coords[f"{ln}_vgrid"] = xr.Variable((f"{ln}_vgrid_i", f"{ln}_vgrid_j"),
                                            np.asarray(rec.read()), table_attrs)


# `!!` records read at open: a file has one per vertical coordinate, a few at most; a corrupt
# one with thousands must not make opening decode them all for every level dimension.
_MAX_DESCRIPTORS = 64

# PT records read at open: vgrid checks every one, but a model run has one per time step,
# and opening must stay a directory read (plus a few small records).
_PT_SAMPLES = 4


def _legacy_records(f):
    """(the file's first ``HY`` record or None, its ``PT`` value in hPa or None): what vgrid
    reads the levels of a file without ``!!`` from. PT is a field of one repeated value; PT
    records that disagree give a warning and no value, as vgrid refuses them. Up to
    ``_PT_SAMPLES`` of them, spread over the file, are read."""
    hy = f.find(nomvar="HY")
    pts = f.search(nomvar="PT")
    if len(pts) > _PT_SAMPLES:
        pts = [pts[round(i * (len(pts) - 1) / (_PT_SAMPLES - 1))] for i in range(_PT_SAMPLES)]
    tops = set()
    for r in pts:
        try:
            tops.add(float(np.asarray(r.read()).flat[0]))
        except (fstgis.FstError, IndexError) as e:
            # A PT that cannot be read leaves the coordinate undescribed, not the file unread.
            warnings.warn(f"PT record {r.key}: {e or 'no values'}")
            return hy, None
    if len(tops) > 1:
        warnings.warn(f"PT records disagree ({sorted(tops)} hPa): the eta top is not known")
    return hy, (tops.pop() if len(tops) == 1 else None)


def _reference_var(data_vars: dict, nomvar, level_dim: str, pressure: bool):
    """The name of the dataset variable holding reference field `nomvar` for variables on
    `level_dim`: on the same grid and, for a surface pressure, along no dimension the
    variables do not have (their time, and their ensemble members where it has them: one
    analysis P0 serves every member); a surface height only needs the grid."""
    if not nomvar:
        return None
    users = [v for v in data_vars.values() if level_dim in v.dims]
    for name, v in data_vars.items():
        if v.attrs.get("nomvar") != nomvar or v.ndim < 3 or level_dim in v.dims:
            continue
        if all(u.dims[-2:] == v.dims[-2:] and (not pressure or set(v.dims) <= set(u.dims))
               for u in users):
            return name
    return None


def _apply_terms(ln: str, coord, terms: dict, data_vars: dict, coords: dict) -> None:
    a, b, c = (np.asarray(terms[k], np.float64) for k in ("a", "b", "c"))
    family, vcode = terms["family"], terms["vcode"]
    attrs = coord.attrs
    attrs["vcode"] = vcode
    pressure = family in ("linear", "log", "log_sleve")
    ps = _reference_var(data_vars, terms["reference"], ln, pressure)
    ps_ls = _reference_var(data_vars, terms["reference_large_scale"], ln, pressure)
    coef = {"long_name": f"coefficient of the vertical coordinate {vcode}"}
    if family == "linear" and vcode in (1001, 1002):
        # Sigma and eta: the level values are the sigma of CF's formula, with the table's top.
        attrs["standard_name"] = "atmosphere_sigma_coordinate"
        coords[f"{ln}_ptop"] = xr.Variable((), (terms["ptop"] or 0.0) / 100.0, {
            "long_name": "pressure at the model top", "units": "hPa"})
        attrs["formula"] = "p(n,k,j,i) = ptop + sigma(k)*(ps(n,j,i) - ptop)"
        if ps:
            attrs["formula_terms"] = f"sigma: {ln} ps: {ps} ptop: {ln}_ptop"
    elif family == "linear":
        attrs["standard_name"] = "atmosphere_hybrid_sigma_pressure_coordinate"
        coords[f"{ln}_ap"] = xr.Variable((ln,), a / 100.0, dict(coef, units="hPa"))
        coords[f"{ln}_b"] = xr.Variable((ln,), b, dict(coef, units="1"))
        attrs["formula"] = "p(n,k,j,i) = ap(k) + b(k)*ps(n,j,i)"
        if ps:
            attrs["formula_terms"] = f"ap: {ln}_ap b: {ln}_b ps: {ps}"
    elif family in ("log", "log_sleve"):
        # CF has no standard name for GEM's log-hydrostatic coordinate (fstd2nc's
        # `atmosphere_hybrid_sigma_log_pressure_coordinate` is not in the standard name table,
        # and cfchecker rejects it), and `formula_terms` is only valid with a standard name
        # that defines the formula: the terms are in `fst_formula_terms`, same syntax.
        attrs.pop("standard_name", None)
        attrs["long_name"] = f"hybrid sigma log-pressure coordinate (vcode {vcode})"
        coords[f"{ln}_a"] = xr.Variable((ln,), a, dict(coef, units="1",
                                                       comment="natural log of a pressure in Pa"))
        coords[f"{ln}_b"] = xr.Variable((ln,), b, dict(coef, units="1"))
        coords[f"{ln}_p0"] = xr.Variable((), terms["pref"] or np.nan,
                                         {"long_name": "reference pressure", "units": "Pa"})
        if family == "log":
            attrs["formula"] = "p(n,k,j,i) = exp(a(k) + b(k)*ln(100*ps(n,j,i)/p0)) [Pa; ps in hPa]"
            if ps:
                attrs["fst_formula_terms"] = f"a: {ln}_a b: {ln}_b ps: {ps} p0: {ln}_p0"
        else:
            coords[f"{ln}_c"] = xr.Variable((ln,), c, dict(coef, units="1"))
            attrs["formula"] = ("p(n,k,j,i) = exp(a(k) + b(k)*ln(100*ps(n,j,i)/p0)"
                                " + c(k)*ln(100*ps_ls(n,j,i)/p0)) [Pa; ps, ps_ls in hPa]")
            if ps and ps_ls:
                attrs["fst_formula_terms"] = (f"a: {ln}_a b: {ln}_b c: {ln}_c ps: {ps} "
                                          f"ps_ls: {ps_ls} p0: {ln}_p0")
    elif family == "height":
        sleve = terms["reference_large_scale"] is not None and ps_ls is not None
        coords[f"{ln}_a"] = xr.Variable((ln,), a, dict(coef, units="m"))
        if sleve:
            # CF's atmosphere_sleve_coordinate splits the orography differently (large- and
            # small-scale parts); GEM's terms are stated as they are.
            coords[f"{ln}_b"] = xr.Variable((ln,), b, dict(coef, units="1"))
            coords[f"{ln}_c"] = xr.Variable((ln,), c, dict(coef, units="1"))
            attrs["formula"] = "z(n,k,j,i) = a(k) + b(k)*orog(n,j,i) + c(k)*orog_ls(n,j,i)"
            if ps:
                attrs["formula_terms"] = (f"a: {ln}_a b: {ln}_b c: {ln}_c orog: {ps} "
                                          f"orog_ls: {ps_ls}")
        else:
            # Without a large-scale field vgrid uses zs for both terms.
            attrs["standard_name"] = "atmosphere_hybrid_height_coordinate"
            coords[f"{ln}_b"] = xr.Variable((ln,), b + c, dict(coef, units="1"))
            attrs["formula"] = "z(n,k,j,i) = a(k) + b(k)*orog(n,j,i)"
            if ps:
                attrs["formula_terms"] = f"a: {ln}_a b: {ln}_b orog: {ps}"


def levels(ds: xr.Dataset, name: str) -> xr.DataArray:
    """The pressure (Pa) or height (m) of every point of variable ``name``, from its level
    coordinate's formula and terms (rpnpy's ``vgd_levels``): lazy where the reference field
    is (dask), with the variable's dimensions minus what the formula does not vary along.
    Pressure levels give their pressure; levels without a formula raise ``UsageError``."""
    var = ds[name]
    level = next((d for d in var.dims if d in ds.coords and (
        "vcode" in ds[d].attrs or ds[d].attrs.get("standard_name") in _FORMULAS)), None)
    if level is None:
        raise fstgis.UsageError(f"{name}: no level coordinate with a formula (sigma, eta, "
                                "hybrid, height-based or pressure levels)")
    coord = ds[level]
    attrs = coord.attrs
    if attrs.get("standard_name") == "air_pressure":
        out = coord * 100.0
        return _named(out, name, "air_pressure", "Pa")
    text = attrs.get("formula_terms") or attrs.get("fst_formula_terms")
    if not text:
        raise fstgis.UsageError(
            f"{name}: the {level} coordinate has no formula terms (its reference field, "
            "P0 or ME, is not in the dataset on the same grid and times)")
    names = dict(zip(*[iter(text.split())] * 2))
    missing = sorted(v for v in names.values() if v not in ds.variables)
    if missing:
        raise fstgis.UsageError(f"{name}: the formula of {level} needs {', '.join(missing)}, "
                                "which the dataset no longer has")
    terms = {k.rstrip(":"): ds[v] for k, v in names.items()}
    f64 = {k: v.astype("float64") for k, v in terms.items()}
    standard_name = attrs.get("standard_name")
    if standard_name == "atmosphere_sigma_coordinate":
        out = 100.0 * (f64["ptop"] + f64["sigma"] * (f64["ps"] - f64["ptop"]))
    elif standard_name == "atmosphere_hybrid_sigma_pressure_coordinate":
        out = 100.0 * (f64["ap"] + f64["b"] * f64["ps"])
    elif standard_name == "atmosphere_hybrid_height_coordinate":
        out = f64["a"] + f64["b"] * f64["orog"]
    elif "orog" in f64:  # GEM's SLEVE heights
        out = f64["a"] + f64["b"] * f64["orog"] + f64["c"] * f64["orog_ls"]
    else:  # GEM's log-pressure hybrids, ps in hPa, p0 in Pa
        ln_p = f64["a"] + f64["b"] * np.log(100.0 * f64["ps"] / f64["p0"])
        if "c" in f64:
            ln_p = ln_p + f64["c"] * np.log(100.0 * f64["ps_ls"] / f64["p0"])
        out = np.exp(ln_p)
    height = "orog" in f64
    return _named(out.transpose(*[d for d in var.dims if d in out.dims]), name,
                  "altitude" if height else "air_pressure", "m" if height else "Pa")


# Standard names whose coordinate `levels` computes.
_FORMULAS = ("air_pressure", "atmosphere_sigma_coordinate",
             "atmosphere_hybrid_sigma_pressure_coordinate", "atmosphere_hybrid_height_coordinate")


def _named(out: xr.DataArray, name: str, standard_name: str, units: str) -> xr.DataArray:
    out = out.drop_vars([c for c in out.coords if c not in out.dims])
    out.name = f"{name}_{'height' if units == 'm' else 'pressure'}"
    out.attrs = {"standard_name": standard_name, "units": units,
                 "long_name": f"{standard_name.replace('_', ' ')} of the points of {name}"}
    return out
