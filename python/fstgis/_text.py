"""Character records (datyp 3 and 7: station lists, GenPhysX's ``META``, MLDPn's ``INFO``) as
string variables of a dataset, and back.

A character record of ni × nj holds nj rows of ni characters. Its variable holds one string
per row, trailing blanks and NULs removed: a scalar for one row, else a ``<name>_row``
dimension. The text is UTF-8 where the record's bytes are, else Latin-1 (one character per
byte, so that no byte is lost), and is written back in the same encoding. fstd2nc turns
only ``META`` and ``INFO`` records of one row into character arrays and fails on other
character records; here every character field becomes a variable: one record, a string or
its rows; several (text along a time or level axis), a string or rows per cell of the
field's time and level axes, a cell without a record holding an empty string.

The values are read when the dataset is opened (a character record is a few hundred bytes);
records above ``MAX_TEXT_BYTES`` are not read. ``from_xarray`` writes string variables back as
character records: the datyp, the keys and the row width they were read with (``encoding``),
else datyp 7 rows as wide as the longest string, on an X grid; along time and level
dimensions, one record per cell holding text, its dates and ip1 from the coordinates as for
values (an empty cell, or an all-blank record, is not written).
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

import fstgis

# Largest character record read into a dataset at open.
MAX_TEXT_BYTES = 1 << 20

TEXT_DATYPS = (3, 7)


def is_text(packings) -> bool:
    """Whether every (datyp, nbits) of a field is a character type."""
    return all(d & 63 in TEXT_DATYPS for d, _ in packings)


def _codec(rows: list[bytes]) -> str:
    """UTF-8 where every row is, else Latin-1 (each byte one character)."""
    try:
        for row in rows:
            row.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"


def _rows(record, name: str) -> list[bytes] | None:
    """A character record's rows of ni bytes, trailing blanks and NULs removed (None, with a
    warning, when the record cannot be read)."""
    ni, nj = record.ni, record.nj
    try:
        chars = np.asarray(record.data, np.uint8).reshape((ni, nj), order="F")
    except (fstgis.FstError, ValueError) as e:
        warnings.warn(f"{name}: character record not read ({e})")
        return None
    return [chars[:, k].tobytes().rstrip(b" \0") for k in range(nj)]


def _comment(record) -> str:
    return (f"characters of datyp {record.datyp & 63} records of {record.ni} x {record.nj}: one "
            "string per row, trailing blanks removed")


def text_variable(record, name: str, attrs: dict) -> xr.Variable | None:
    """The string variable of character record ``record`` (None when it is too large or
    cannot be decoded: the dataset opens without it, and a warning says why)."""
    ni, nj = record.ni, record.nj
    if ni * nj > MAX_TEXT_BYTES:
        return None
    raw = _rows(record, name)
    if raw is None:
        return None
    codec = _codec(raw)
    rows = [r.decode(codec) for r in raw]
    attrs = dict(attrs, comment=_comment(record))
    if nj == 1:
        var = xr.Variable((), np.array(rows[0], dtype=object), attrs)
    else:
        var = xr.Variable((f"{name}_row",), np.array(rows, dtype=object), attrs)
    var.encoding.update({"fst_datyp": record.datyp, "fst_nbits": record.nbits, "fst_ni": ni,
                         "fst_text_codec": codec, "fst_keys": fstgis._copied_keys(record)})
    return var


# Keys a field's records differ by along its time and level axes: `from_xarray` derives them
# from the coordinates, as for values.
_CELL_KEYS = ("dateo", "datev", "deet", "npas", "ip1", "ip2")


def text_field_variable(file, cube: np.ndarray, dims: tuple, name: str,
                        attrs: dict) -> xr.Variable | None:
    """The string variable of a character field of several records (text along a time or
    level axis): ``cube`` holds the record of each cell of ``dims`` (−1: none, an empty
    string). Each cell holds its record's string, or its rows along ``<name>_row`` when a
    record has several. None when the records hold more than ``MAX_TEXT_BYTES`` together or
    one cannot be read (a warning says why)."""
    numbers = sorted({int(i) for i in cube.ravel() if i >= 0})
    records = {i: file[i] for i in numbers}
    if sum(r.ni * r.nj for r in records.values()) > MAX_TEXT_BYTES:
        return None
    raw = {}
    for i, record in records.items():
        raw[i] = _rows(record, name)
        if raw[i] is None:
            return None
    codec = _codec([row for rows in raw.values() for row in rows])
    width = max(len(rows) for rows in raw.values())
    values = np.full(cube.shape + ((width,) if width > 1 else ()), "", dtype=object)
    for cell in zip(*np.nonzero(cube >= 0)):
        rows = [r.decode(codec) for r in raw[int(cube[cell])]]
        if width > 1:
            values[cell + (slice(0, len(rows)),)] = rows
        else:
            values[cell] = rows[0]
    first = records[numbers[0]]
    var = xr.Variable(tuple(dims) + ((f"{name}_row",) if width > 1 else ()), values,
                      dict(attrs, comment=_comment(first)))
    keys = {k: v for k, v in fstgis._copied_keys(first).items() if k not in _CELL_KEYS}
    var.encoding.update({"fst_datyp": first.datyp, "fst_nbits": first.nbits,
                         "fst_ni": max(r.ni for r in records.values()),
                         "fst_text_codec": codec, "fst_keys": keys})
    return var


def is_text_variable(var) -> bool:
    """Whether ``from_xarray`` writes ``var`` as character records: strings."""
    return var.dtype.kind in "OUS"


def write_text(out, var, nomvar: str, cell_keys: dict | None = None) -> None:
    """Write string variable ``var`` (a scalar, or rows along its one dimension) as one
    character record (see the module), ``cell_keys`` (dates, ip1) over those it was read
    with. A record whose every string is empty is not written when it is a cell of a field
    (``cell_keys``)."""
    values = np.asarray(var.values)
    strings = [values.item()] if var.ndim == 0 else list(values.ravel())
    if cell_keys is not None and not any(len(s) for s in strings):
        return
    enc = var.encoding
    codec = enc.get("fst_text_codec", "utf-8")

    def encode(text) -> bytes:
        if isinstance(text, bytes):
            return text
        try:
            return str(text).encode(codec)
        except UnicodeEncodeError:  # edited into what Latin-1 cannot hold
            return str(text).encode("utf-8")

    rows = [encode(s) for s in strings]
    ni = max([len(r) for r in rows] + [int(enc.get("fst_ni", 1)), 1])
    chars = np.full((ni, len(rows)), ord(" "), np.uint8, order="F")
    for k, row in enumerate(rows):
        chars[: len(row), k] = np.frombuffer(row, np.uint8)
    datyp = enc.get("fst_datyp")
    datyp = datyp if datyp is not None and datyp & 63 in TEXT_DATYPS else 7
    keys = {"grtyp": "X", **enc.get("fst_keys", {}), **(cell_keys or {})}
    keys.update(nomvar=nomvar, typvar=str(var.attrs.get("typvar", keys.get("typvar", "P"))),
                etiket=str(var.attrs.get("etiket", keys.get("etiket", ""))))
    out.write(chars, datyp=datyp & 63, nbits=8, **keys)
