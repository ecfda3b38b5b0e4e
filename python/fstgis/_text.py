"""Character records (datyp 3 and 7: station lists, GenPhysX's ``META``, MLDPn's ``INFO``) as
string variables of a dataset, and back.

A character record of ni × nj holds nj rows of ni characters. Its variable holds one string
per row, trailing blanks and NULs removed: a scalar for one row, else a ``<name>_row``
dimension. The text is UTF-8 where the record's bytes are, else Latin-1 (one character per
byte, so that no byte is lost), and is written back in the same encoding. fstd2nc turns
only ``META`` and ``INFO`` records of one row into character arrays and fails on other
character records; here every character record that is alone in its field becomes a
variable (a field of several records, e.g. text along a time axis, is still named in a
warning and left to ``fstgis.open``).

The values are read when the dataset is opened (a character record is a few hundred bytes);
records above ``MAX_TEXT_BYTES`` are not read. ``from_xarray`` writes string variables back as
character records: the datyp, the keys and the row width they were read with (``encoding``),
else datyp 7 rows as wide as the longest string, on an X grid.
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


def text_variable(record, name: str, attrs: dict) -> xr.Variable | None:
    """The string variable of character record ``record`` (None when it is too large or
    cannot be decoded: the dataset opens without it, and a warning says why)."""
    ni, nj = record.ni, record.nj
    if ni * nj > MAX_TEXT_BYTES:
        return None
    try:
        chars = np.asarray(record.data, np.uint8).reshape((ni, nj), order="F")
    except (fstgis.FstError, ValueError) as e:
        warnings.warn(f"{name}: character record not read ({e})")
        return None
    raw = [chars[:, k].tobytes().rstrip(b" \0") for k in range(nj)]
    codec = _codec(raw)
    rows = [r.decode(codec) for r in raw]
    attrs = dict(attrs)
    attrs["comment"] = (f"characters of a datyp {record.datyp & 63} record of {ni} x {nj}: one "
                        "string per row, trailing blanks removed")
    if nj == 1:
        var = xr.Variable((), np.array(rows[0], dtype=object), attrs)
    else:
        var = xr.Variable((f"{name}_row",), np.array(rows, dtype=object), attrs)
    var.encoding.update({"fst_datyp": record.datyp, "fst_nbits": record.nbits, "fst_ni": ni,
                         "fst_text_codec": codec, "fst_keys": fstgis._copied_keys(record)})
    return var


def is_text_variable(var) -> bool:
    """Whether ``from_xarray`` writes ``var`` as a character record: strings, as a scalar or
    along one dimension."""
    return var.dtype.kind in "OUS" and var.ndim <= 1


def write_text(out, var, nomvar: str) -> None:
    """Write string variable ``var`` as one character record (see the module)."""
    values = var.values
    strings = [values.item()] if var.ndim == 0 else list(values.ravel())
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
    keys = {"grtyp": "X", **enc.get("fst_keys", {})}
    keys.update(nomvar=nomvar, typvar=str(var.attrs.get("typvar", keys.get("typvar", "P"))),
                etiket=str(var.attrs.get("etiket", keys.get("etiket", ""))))
    out.write(chars, datyp=datyp & 63, nbits=8, **keys)
