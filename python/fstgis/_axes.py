"""Where each record of a variable goes: the variable's leading dimensions (ensemble member,
valid time or origin and lead, level), their coordinates, and the hypercube of record
indices the lazy array reads from.

Everything per record is numpy over the catalog's columns: a field of 100 000 records (a
GEM run's TT) costs no Python loop per record, only per distinct time and level."""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

import fstgis
from ._cf import MIXED_LEVELS, VERTICAL
from ._fields import distinct


class DimensionNames:
    """Dimension names by content: the same values share a name, other values get a
    numbered name (``time``, ``time1``, ...)."""

    def __init__(self):
        self.by_key: dict = {}
        self.taken: set = set()

    def name(self, base: str, key) -> tuple[str, bool]:
        """(name, True if the name is new and its coordinates are still to be made)."""
        full = (base, key)
        if full in self.by_key:
            return self.by_key[full], False
        name, n = base, 0
        while name in self.taken:
            n += 1
            name = f"{base}{n}"
        self.by_key[full] = name
        self.taken.add(name)
        return name, True


class LeadingAxes:
    """The leading dimensions of one variable: their names, their sizes and, for each of
    them, the position of every record of the field along it."""

    def __init__(self):
        self.dims: tuple = ()
        self.shape: tuple = ()
        self.positions: list[np.ndarray] = []

    def add(self, dim: str, size: int, positions: np.ndarray, leading: bool = False):
        """Dimension ``dim`` after the others (before them if ``leading``)."""
        positions = np.asarray(positions, np.intp)
        if leading:
            self.dims, self.shape = (dim,) + self.dims, (size,) + self.shape
            self.positions.insert(0, positions)
        else:
            self.dims, self.shape = self.dims + (dim,), self.shape + (size,)
            self.positions.append(positions)

    def extend(self, other: "LeadingAxes"):
        """``other``'s dimensions after these."""
        self.dims += other.dims
        self.shape += other.shape
        self.positions += other.positions

    def record_cube(self, records: np.ndarray) -> tuple[np.ndarray, int]:
        """(the record index of each cell, -1 where no record fills it; the number of
        records left out because an earlier record of the field fills their cell)."""
        cube = np.full(self.shape, -1, np.int64)
        flat = np.ravel_multi_index(self.positions, self.shape)
        filled = np.count_nonzero(np.bincount(flat, minlength=cube.size))
        if filled == len(flat):
            # One record per cell (the usual case): no sort needed.
            cube.reshape(-1)[flat] = records
            return cube, 0
        # The first record of each cell wins, as a reader going through the file would see.
        cells, first = np.unique(flat, return_index=True)
        cube.reshape(-1)[cells] = records[first]
        return cube, len(flat) - len(cells)


def times(stamps) -> np.ndarray:
    """CMC date-time stamps as datetime64[ns] (NaT where a stamp does not decode)."""
    out = np.empty(len(stamps), "datetime64[ns]")
    for i, s in enumerate(stamps):
        try:
            t = fstgis.cmc_to_datetime(int(s))
        except fstgis.FstError:
            t = None
        out[i] = np.datetime64("NaT") if t is None else np.datetime64(t.replace(tzinfo=None), "ns")
    return out


def time_variable(dims: tuple, values, attrs: dict) -> xr.Variable:
    """A coordinate of datetime64[ns] or timedelta64[ns] values. xarray's checks of such
    data go through pandas (~20 us a variable, three or four in a dataset's open) and give
    back the same array: skipped (``fastpath``) where the array is already so. (Older xarray
    takes the fast path for arrays of one or more dimensions only.)"""
    values = np.asarray(values)
    if values.dtype in (_NS_TIME, _NS_DELTA):
        return xr.Variable(dims, values, attrs, fastpath=True)
    return xr.Variable(dims, values, attrs)


_NS_TIME, _NS_DELTA = np.dtype("datetime64[ns]"), np.dtype("timedelta64[ns]")


def _first_seen(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct values in order of first appearance, the position of each element's
    value among them)."""
    distinct, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    appearance = np.argsort(first, kind="stable")
    return distinct[appearance], _rank_of(appearance)[inverse.reshape(-1)]


def _rank_of(order: np.ndarray) -> np.ndarray:
    """rank[i]: where item i goes when the items are put in ``order``."""
    rank = np.empty(len(order), np.intp)
    rank[order] = np.arange(len(order))
    return rank


def add_member_axis(axes: LeadingAxes, fd: dict, names: DimensionNames, coords: dict):
    """A leading ``realization`` dimension for a field merged from ensemble members (added
    last, so that its coordinates follow the time and level ones)."""
    members = fd.get("members")
    if members is None:
        return
    mn, new = names.name("realization", tuple(members["number"]))
    if new:
        coords[mn] = xr.Variable((mn,), np.array(members["number"], np.int64), {
            "standard_name": "realization", "long_name": "ensemble member", "axis": "E"})
        coords[f"{mn}_etiket"] = xr.Variable(
            (mn,), np.array(members["etiket"], object),
            {"long_name": "etiket of the member's records"})
    axes.add(mn, len(members["number"]), fd["member"], leading=True)


def add_forecast_axes(axes: LeadingAxes, fd: dict, names: DimensionNames, coords: dict):
    """``(reftime, leadtime)`` dimensions, the valid ``time`` a 2-D coordinate."""
    dateo, lead_seconds = fd["dateo"], fd["forecast_seconds"]
    origins, leads = np.unique(dateo), np.unique(lead_seconds)
    rn, rnew = names.name("reftime", tuple(origins.tolist()))
    ln, lnew = names.name("leadtime", tuple(leads.tolist()))
    if rnew:
        coords[rn] = time_variable((rn,), times(origins), {
            "standard_name": "forecast_reference_time", "axis": "T"})
    if lnew:
        coords[ln] = time_variable((ln,), leads.astype("timedelta64[s]").astype(
            "timedelta64[ns]"), {"standard_name": "forecast_period"})
    tn = f"time_{rn}_{ln}" if (rn, ln) != ("reftime", "leadtime") else "time"
    if tn not in coords:
        valid = coords[rn].values[:, None] + coords[ln].values[None, :]
        coords[tn] = time_variable((rn, ln), valid, {"standard_name": "time"})
    axes.add(rn, len(origins), np.searchsorted(origins, dateo))
    axes.add(ln, len(leads), np.searchsorted(leads, lead_seconds))


def add_valid_time_axis(axes: LeadingAxes, fd: dict, names: DimensionNames, coords: dict,
                        single_origin: bool):
    """A ``time`` dimension of the valid times, in time order, with the lead (one origin in
    the dataset) or the origin and lead (one origin per valid time) along it."""
    datev = fd["datev"]
    seen, position_seen = _first_seen(datev)
    values = times(seen)
    order = np.argsort(values, kind="stable")
    valid = seen[order].tolist()
    tn, new = names.name("time", tuple(valid))
    if new:
        tv = values[order]
        coords[tn] = time_variable((tn,), tv, {"standard_name": "time", "axis": "T",
                                             "long_name": "valid time"})
        if single_origin:
            coords[f"leadtime{tn[4:]}"] = time_variable(
                (tn,), tv - coords["reftime"].values, {"standard_name": "forecast_period"})
        else:
            pairs = np.unique(np.stack([datev, fd["dateo"]], axis=1), axis=0)
            if len(pairs) == len(valid):
                # One origin per valid time: origin and lead along the time dimension.
                origin_of = dict(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist()))
                ref = times([origin_of[v] for v in valid])
                coords[f"reftime{tn[4:]}"] = time_variable(
                    (tn,), ref, {"standard_name": "forecast_reference_time"})
                coords[f"leadtime{tn[4:]}"] = time_variable(
                    (tn,), tv - ref, {"standard_name": "forecast_period"})
    axes.add(tn, len(valid), _rank_of(order)[position_seen])


def add_level_axis(axes: LeadingAxes, fd: dict, names: DimensionNames, coords: dict):
    """The level dimension: named and described by the ip1 kind, levels in increasing value;
    an ``ip1`` dimension where kinds mix; none where every ip1 is 0 (a 2-D field, as
    fstd2nc shows it)."""
    ip1 = fd["ip1"]
    ip1_sorted, first, inverse = np.unique(ip1, return_index=True, return_inverse=True)
    if ip1_sorted.tolist() == [0]:
        return
    kinds = distinct(fd["level_kind"])
    levels = fd["level"][first].astype(np.float64)
    if len(kinds) == 1 and kinds[0] != -1:
        kind = kinds[0]
        base, attrs = VERTICAL.get(kind, MIXED_LEVELS)
        order = np.lexsort((ip1_sorted, levels))
        ip1s = ip1_sorted[order].tolist()
        ln, new = names.name(base, (kind, tuple(ip1s)))
        if new:
            values = levels[order]
            # CF wants a coordinate variable's values strictly monotonic: when two ip1
            # decode to one level (old and new style), the levels become an auxiliary
            # coordinate `<dim>_level` and the dimension has no coordinate variable.
            unique = len(set(values.tolist())) == len(values)
            coords[ln if unique else f"{ln}_level"] = xr.Variable((ln,), values, dict(attrs))
            # The encoded levels: two ip1 may decode to the same value (old and new
            # style), and writers need them back.
            coords[f"{ln}_ip1"] = xr.Variable((ln,), np.array(ip1s, np.int64),
                                              {"long_name": "encoded level (ip1)"})
        position = _rank_of(order)[inverse.reshape(-1)]
    else:
        base, attrs = MIXED_LEVELS
        # Sorted: a coordinate variable's values must be strictly monotonic (CF 5).
        ip1s = ip1_sorted.tolist()
        ln, new = names.name(base, ("mixed", tuple(ip1s)))
        if new:
            coords[ln] = xr.Variable((ln,), np.array(ip1s, np.int64), dict(attrs))
            coords[f"{ln}_level"] = xr.Variable((ln,), levels, {"long_name": "level"})
            coords[f"{ln}_kind"] = xr.Variable(
                (ln,), fd["level_kind"][first].astype(np.int64),
                {"long_name": "librmn level kind (-1: ip1 does not decode)"})
        position = inverse.reshape(-1)
    axes.add(ln, len(ip1s), position)


def leading_axes(fd: dict, name: str, names: DimensionNames, coords: dict, memo: dict, *,
                 forecast_axis: bool, single_origin: bool) -> tuple[LeadingAxes, np.ndarray]:
    """The leading axes of variable ``name`` (member, time, level) and its record cube;
    new dimensions' coordinates go into ``coords``. ``memo`` (one per dataset) keeps the
    time and level axes by the record columns they come from: the variables of a run share
    them, and each is worked out once."""
    axes = LeadingAxes()
    if forecast_axis:
        key = ("forecast", fd["dateo"].tobytes(), fd["forecast_seconds"].tobytes())
        _memoized(axes, memo, key, lambda part: add_forecast_axes(part, fd, names, coords))
    else:
        key = ("valid", fd["datev"].tobytes(), fd["dateo"].tobytes())
        _memoized(axes, memo, key, lambda part: add_valid_time_axis(
            part, fd, names, coords, single_origin))
    key = ("level", fd["ip1"].tobytes(), fd["level_kind"].tobytes(), fd["level"].tobytes())
    _memoized(axes, memo, key, lambda part: add_level_axis(part, fd, names, coords))
    add_member_axis(axes, fd, names, coords)
    cube, duplicates = axes.record_cube(fd["record"])
    if duplicates:
        warnings.warn(f"{name}: {duplicates} records share a time and level with another "
                      "(differing ip2/ip3 or origin); the first is used "
                      "(forecast_axis=True separates origins)")
    return axes, cube


def _memoized(axes: LeadingAxes, memo: dict, key, add):
    """Appends to ``axes`` the dimensions ``add`` gives for ``key``, computed on first use."""
    part = memo.get(key)
    if part is None:
        part = memo[key] = LeadingAxes()
        add(part)
    axes.extend(part)
