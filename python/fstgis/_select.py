"""``select=``: the records a dataset is built from, chosen by search keys at open time (what
fstd2nc's ``vars``/``filter`` and rpnpy's ``fstinl`` selections do), so that a dataset of a
few variables from a large file holds only them."""

from __future__ import annotations

import itertools

import numpy as np

import fstgis

from ._fields import records_subset



def selected_records(f, select) -> np.ndarray:
    """The sorted indices of the records matching ``select``: a dict of search keys (see
    ``File.search``), or a list of such dicts (their union). A *list* value gives
    alternatives (``nomvar=["TT", "UU"]``); other values, tuples included
    (``level=(850, "mb")``), are one criterion."""
    choices = [select] if isinstance(select, dict) else list(select)
    found: set = set()
    for criteria in choices:
        if not isinstance(criteria, dict):
            raise fstgis.UsageError(
                f"select: a dict of search keys or a list of them, not {type(criteria).__name__}")
        unknown = set(criteria) - set(fstgis._SEARCH_KEYS)
        if unknown:
            raise fstgis.UsageError(f"select: unknown search keys {sorted(unknown)}; "
                                    f"known: {', '.join(fstgis._SEARCH_KEYS)}")
        keys = list(criteria)
        alternatives = [v if isinstance(v, list) else [v] for v in criteria.values()]
        for values in itertools.product(*alternatives):
            found.update(r.key for r in f.search(**dict(zip(keys, values))))
    return np.fromiter(sorted(found), np.int64, len(found))


def select_fields(fields: list, wanted: np.ndarray) -> list:
    """``fields`` (the catalog's, one dict of per-record columns each) restricted to the
    records ``wanted``; fields left without a record are dropped."""
    out = []
    for fd in fields:
        keep = np.isin(fd["record"], wanted)
        if keep.all():
            out.append(fd)
        elif keep.any():
            out.append(records_subset(fd, keep))
    return out
