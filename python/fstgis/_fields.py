"""Which records make which variable: the catalog's fields (one per nomvar, typvar,
etiket and grid, with per-record columns) are split where model levels share a field with
other level kinds, merged where they are members of one ensemble, and named."""

from __future__ import annotations

import re
import warnings
from collections import OrderedDict

import numpy as np

from . import _fstgis
from ._cf import MIXED_LEVELS, VERTICAL

# ip1 kinds of model levels, whose coordinate comes from a vertical descriptor (`!!`, HY):
# sigma, hybrid, height-based hybrid (fst-core's rule).
MODEL_LEVEL_KINDS = tuple(_fstgis.model_level_kinds())


def distinct(values: np.ndarray) -> list:
    """The distinct values of a per-record column, sorted, as Python values. A set for short
    columns: a field has tens to thousands of records, where np.unique's fixed cost is
    most of the work (it is repeated for every column of every field at each open)."""
    if len(values) <= 4096:
        return sorted(set(values.tolist()))
    return np.unique(values).tolist()


def split_model_levels(fields: list) -> list:
    """A field whose records are on model levels (sigma, hybrid, height-based hybrid) and on
    levels of other kinds is split by kind: the model levels keep the field (and its name);
    each other kind becomes a field of its own, named with its level dimension
    (``TT_height_agl``). GEM writes its near-surface diagnostics that way (TT at 1.5 m, UU at
    10 m above ground beside the model levels): one variable over mixed kinds would lose the
    model levels' vertical coordinate and formula. Fields that mix other kinds keep their
    ``ip1`` dimension."""
    out = []
    for fd in fields:
        kinds = fd["level_kind"]
        present = distinct(kinds)
        model = [k for k in present if k in MODEL_LEVEL_KINDS]
        if len(present) < 2 or len(model) != 1:
            out.append(fd)
            continue
        for kind in [model[0]] + [k for k in present if k != model[0]]:
            part = records_subset(fd, kinds == kind)
            if kind != model[0]:
                # Levels of no known kind are on an `ip1` axis (see build_dataset).
                part["name_suffix"] = VERTICAL.get(kind, MIXED_LEVELS)[0]
            out.append(part)
    return out


def records_subset(fd: dict, keep: np.ndarray) -> dict:
    """Field ``fd`` with the records where ``keep`` (a boolean per record) is true: its
    per-record columns filtered, its other entries as they are."""
    n = len(keep)
    return {k: v[keep] if isinstance(v, np.ndarray) and v.shape[:1] == (n,) else v
            for k, v in fd.items()}


def variable_names(fields, grid_index) -> list[str]:
    """nomvar; where several fields share one, the keys that tell them apart are appended,
    as fstd2nc does: typvar and etiket where they differ, then the shape (``ES_30x30``) or
    the grid number (``TT_g1``) where only the grid does."""
    by_nomvar: dict[str, list[int]] = {}
    for i, fd in enumerate(fields):
        by_nomvar.setdefault(fd["nomvar"], []).append(i)
    names = [""] * len(fields)
    taken: set = set()

    def shape(i):
        _, ni, nj = fields[i]["grid_id"].split(":")[:3]
        return f"{ni}x{nj}"

    for nomvar, members in by_nomvar.items():
        parts = {i: [nomvar or "unnamed"] for i in members}
        for i in members:
            if "name_suffix" in fields[i]:
                parts[i].append(fields[i]["name_suffix"])
        if len(members) > 1:
            for key in ("typvar", "etiket"):
                if len({fields[i][key] for i in members}) > 1:
                    for i in members:
                        parts[i].append(fields[i][key] or "_")
            groups: dict = {}
            for i in members:
                groups.setdefault(tuple(parts[i]), []).append(i)
            for same in groups.values():
                if len(same) > 1:
                    by_shape = len({shape(i) for i in same}) == len(same)
                    for i in same:
                        parts[i].append(shape(i) if by_shape
                                        else f"g{grid_index[fields[i]['grid_id']]}")
        for i in members:
            names[i] = unique_name("_".join(parts[i]), taken)
    return names


def unique_name(base: str, taken: set) -> str:
    """``base``, or ``base_1``, ``base_2``... the first not in ``taken`` (which it joins)."""
    name, n = base, 1
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


# An etiket naming an ensemble member: a label and a member number at its end
# (``GEPS_001``, ``ENS-12``, ``E3``).
_MEMBER_ETIKET = re.compile(r"^(.*?)[_-]?(\d+)$")


def merge_members(fields: list, required: bool = False) -> list:
    """Fields that differ only by an etiket naming an ensemble member (same label, distinct
    member numbers, same nomvar, typvar, grid and nk) become one field whose records carry
    their member's position (``member``) and the members' numbers and etikets (``members``):
    the variable gets a ``realization`` dimension, as fstd2nc's ``--ensembles`` gives an
    ensemble axis. ``required``: warn when no field could be merged."""
    groups: "OrderedDict[tuple, list]" = OrderedDict()
    for i, fd in enumerate(fields):
        groups.setdefault((fd["nomvar"], fd["typvar"], fd["grid_id"], fd.get("name_suffix")),
                          []).append(i)
    merged: dict[int, dict] = {}
    absorbed: set = set()
    for members in groups.values():
        if len(members) < 2:
            continue
        parsed = [_MEMBER_ETIKET.match(fields[i]["etiket"]) for i in members]
        if not all(parsed) or len({m.group(1) for m in parsed}) != 1:
            continue
        numbers = [int(m.group(2)) for m in parsed]
        if len(set(numbers)) != len(numbers):
            continue
        if len({tuple(distinct(fields[i]["nk"])) for i in members}) != 1:
            continue
        order = sorted(range(len(members)), key=lambda k: numbers[k])
        first = fields[members[0]]
        fd = {k: v for k, v in first.items() if not isinstance(v, np.ndarray)}
        for key, value in first.items():
            if isinstance(value, np.ndarray):
                fd[key] = np.concatenate([fields[members[k]][key] for k in order])
        fd["member"] = np.concatenate([np.full(len(fields[members[k]]["record"]), pos)
                                       for pos, k in enumerate(order)])
        fd["etiket"] = parsed[0].group(1)
        # Keys the catalog gives per field (time step, ip3): the members' own when they share
        # it, else none (an ensemble may number its members in ip3).
        for key, differ in (("deet", 0), ("ip3", -1)):
            shared = {fields[i].get(key, differ) for i in members}
            fd[key] = shared.pop() if len(shared) == 1 else differ
        fd["members"] = {"number": [numbers[k] for k in order],
                         "etiket": [fields[members[k]]["etiket"] for k in order]}
        merged[members[0]] = fd
        absorbed.update(members[1:])
    if required and not merged:
        warnings.warn("ensembles=True: no fields differ only by a member etiket")
    return [merged.get(i, fd) for i, fd in enumerate(fields) if i not in absorbed]
