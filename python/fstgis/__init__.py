"""fstgis: RPN standard files (FST: XDF "FST98" and RSF "FST24") for numpy, pandas, polars
and xarray, read and written by fstgis's Rust crates, with no librmn.

Quick start::

    import fstgis
    with fstgis.open("2024061512_006") as f:
        tt = f.find(nomvar="TT", level=(850, "mb"))
        print(tt.valid_time, tt.level, tt.data.shape)   # (ni, nj), Fortran order, like rpnpy
        df = f.to_pandas()                              # one row per record

    import xarray as xr
    ds = xr.open_dataset("2024061512_006", engine="fst")   # lazy, CF metadata
"""

from __future__ import annotations

import datetime as _dt
import glob as _glob
import os
import warnings as _warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Iterator

import numpy as np

from . import _fstgis
from ._errors import (
    ClosedFileError,
    CorruptFileError,
    DecodeError,
    FstError,
    FstFileNotFoundError,
    FstIOError,
    FstPermissionError,
    FstWarning,
    GridError,
    InvalidIpError,
    InvalidRecordError,
    LimitExceededError,
    NotFstFileError,
    RecordNotFoundError,
    UnsupportedError,
    UsageError,
    WriteError,
)
from ._fstgis import Grid, Level, Record

__version__ = _fstgis.__version__

__all__ = [
    "open",
    "open_many",
    "File",
    "FileSet",
    "Record",
    "Level",
    "Grid",
    "datetime_to_cmc",
    "cmc_to_datetime",
    "decode_ip",
    "decode_ip_triple",
    "encode_ip",
    "forecast_hour",
    "incdatr",
    "to_xarray",
    "from_xarray",
    "FstError",
    "FstIOError",
    "FstFileNotFoundError",
    "FstPermissionError",
    "NotFstFileError",
    "CorruptFileError",
    "DecodeError",
    "UnsupportedError",
    "LimitExceededError",
    "RecordNotFoundError",
    "UsageError",
    "ClosedFileError",
    "InvalidIpError",
    "GridError",
    "WriteError",
    "InvalidRecordError",
    "FstWarning",
]

_UTC = _dt.timezone.utc

# Level kinds by librmn number and by unit text ("mb", "sg", ...), plus common spellings.
_KIND_BY_UNIT = {unit: code for code, unit in _fstgis.level_kinds() if unit}

# The keys File.search and File.find take.
_SEARCH_KEYS = ("nomvar", "typvar", "etiket", "ip1", "ip2", "ip3", "datev", "grtyp", "level")
_KIND_BY_UNIT.update({"hpa": 2, "hPa": 2, "sigma": 1, "hybrid": 5, "h": 10, "hours": 10})


def _kind_code(kind) -> int:
    if isinstance(kind, str):
        try:
            return _KIND_BY_UNIT[kind] if kind in _KIND_BY_UNIT else _KIND_BY_UNIT[kind.lower()]
        except KeyError:
            raise UsageError(f"unknown level kind {kind!r}; use a librmn kind number or unit") from None
    return int(kind)


# ---------------------------------------------------------------------------------------
# Helpers with librmn's results
# ---------------------------------------------------------------------------------------


def _as_utc(value) -> _dt.datetime:
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[s]").item()
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, _dt.datetime):
        raise UsageError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        return value
    return value.astimezone(_UTC).replace(tzinfo=None)


def datetime_to_cmc(value) -> int:
    """The CMC date-time stamp librmn's ``newdate`` gives for ``value`` (a ``datetime``,
    ``date`` or ``numpy.datetime64``; naive values are taken as UTC). Seconds are truncated
    to the stamp's resolution (5 s, or whole hours for old and extended stamps)."""
    v = _as_utc(value)
    return _fstgis.datetime_to_cmc(v.year, v.month, v.day, v.hour, v.minute, v.second)


def cmc_to_datetime(stamp: int) -> _dt.datetime | None:
    """The UTC datetime a CMC stamp denotes (timezone-aware); None for 0 (no date) and -1
    (the search wildcard). Raises ``UsageError`` for a stamp that denotes no date."""
    stamp = int(stamp)
    if stamp in (0, -1):
        return None
    fields = _fstgis.cmc_to_datetime(stamp)
    if fields is None:
        raise UsageError(f"{stamp} is not a valid CMC date-time stamp")
    if fields[0] < 1:
        raise UsageError(f"{stamp} denotes year {fields[0]}, which Python's datetime cannot hold")
    return _dt.datetime(*fields, tzinfo=_UTC)


def decode_ip(ip: int, compat: str = "current") -> Level:
    """librmn ``convip`` (decode): ``Level(value, kind, unit)``. ``compat="19.5"`` gives
    librmn 19.5's answers where versions differ (kind 7)."""
    return _fstgis.decode_ip(int(ip), compat)


def decode_ip_triple(ip1: int, ip2: int, ip3: int, compat: str = "current"):
    """librmn ``DecodeIp``: ``((v1, v2, kind) level, (v1, v2, kind) time, (v1, v2, kind) ip3)``;
    a range has v1 != v2 and then ip3's kind is -1."""
    return _fstgis.decode_ip_triple(int(ip1), int(ip2), int(ip3), compat)


def encode_ip(value: float, kind, style: str = "new") -> int:
    """librmn ``convip`` (encode): ``kind`` is a librmn kind number or unit (``"mb"``,
    ``"sg"``, ``"m"``, ``"H"``, ...); ``style`` is ``"new"`` (mode 2) or ``"old"`` (mode 3)."""
    return _fstgis.encode_ip(float(value), _kind_code(kind), style)


def forecast_hour(deet: int, npas: int) -> float:
    """``deet * npas`` in hours."""
    deet, npas = int(deet), int(npas)
    if not (0 <= deet < 2**32 and 0 <= npas < 2**32):
        raise UsageError(f"deet={deet}, npas={npas}: both are unsigned 32-bit integers")
    return _fstgis.forecast_hour(deet, npas)


def incdatr(stamp: int, hours: float) -> int:
    """librmn ``incdatr``: a stamp plus ``hours``, in librmn's choice of stamp style."""
    return _fstgis.incdatr(int(stamp), float(hours))


# ---------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------


def _stamp(value) -> int:
    if value is None:
        return -1
    if isinstance(value, (int, np.integer)):
        return int(value)
    return datetime_to_cmc(value)


def _ip(value) -> int:
    return -1 if value is None else int(value)


def _level(value):
    if value is None:
        return None
    if isinstance(value, Level):
        return (value.value, value.kind)
    try:
        v, k = tuple(value)[:2]
    except (TypeError, ValueError):
        raise UsageError(f"level must be (value, kind), got {value!r}") from None
    return (float(v), _kind_code(k))


class _Text:
    """A dictionary-encoded text column: uint32 ``codes`` into the list ``values``."""

    __slots__ = ("codes", "values")

    def __init__(self, codes, values):
        self.codes = np.asarray(codes, np.uint32)
        self.values = list(values)

    def to_numpy(self) -> np.ndarray:
        return np.asarray(self.values + [None], dtype=object)[self.codes]

    def to_polars(self):
        import polars as pl

        # uint32 codes as a Series are polars' own index type: the gather converts nothing.
        return pl.Series(self.values, dtype=pl.String).gather(pl.Series(self.codes))


def _frame_columns(cols: dict) -> dict:
    """Rust columns → numpy arrays and text columns; times from int64 microseconds (NaT
    where there is no date)."""
    out = {}
    for name, col in cols.items():
        if isinstance(col, tuple):
            col = _Text(*col)
        elif name in ("origin_time", "valid_time"):
            col = np.asarray(col).view("datetime64[us]")
        out[name] = col
    return out


def _to_pandas(cols: dict):
    import pandas as pd

    df = pd.DataFrame({k: (v.to_numpy() if isinstance(v, _Text) else v) for k, v in cols.items()})
    for name in ("origin_time", "valid_time"):
        df[name] = df[name].dt.tz_localize("UTC")
    return df


def _to_polars(columns):
    """``columns()``'s table as a polars DataFrame."""
    # polars is imported before the first table is built: imported after it, every later
    # call page-faulted its columns' memory afresh (perf stat over 21 calls on 100 000
    # records: 171 000 faults against 26 000, 20 ms a call against 12 ms), presumably
    # glibc's adaptive mmap threshold settling differently.
    import polars as pl

    cols = columns()

    df = pl.DataFrame([(v.to_polars().alias(k) if isinstance(v, _Text) else pl.Series(k, v))
                       for k, v in cols.items()])
    return df.with_columns(
        pl.col("origin_time").dt.replace_time_zone("UTC"),
        pl.col("valid_time").dt.replace_time_zone("UTC"),
    )


def _concat_columns(parts: list[dict]) -> dict:
    if not parts:
        return {}
    out = {}
    for name in parts[0]:
        values = [p[name] for p in parts]
        if isinstance(values[0], _Text):
            codes, texts = [], []
            for v in values:
                codes.append(v.codes + np.uint32(len(texts)))
                texts.extend(v.values)
            out[name] = _Text(np.concatenate(codes), texts)
        else:
            out[name] = np.concatenate(values)
    return out


class File:
    """An open standard file. Use :func:`fstgis.open`.

    Reading: ``len(f)``, iteration over :class:`Record`, ``f[i]``, :meth:`search`,
    :meth:`find`, :meth:`to_pandas` / :meth:`to_polars`. One ``File`` serves many threads.
    Writing (mode ``"w"`` or ``"a"``): :meth:`write`, then :meth:`close` (or a ``with``
    block), which puts the file in place.
    """

    def __init__(self, raw=None, writer=None, name=None, mode=None):
        self._raw = raw
        self._writer = writer
        self._name = name
        self._mode = mode or ("r" if raw is not None else "w")
        self._grids: dict[str, Grid] = {}

    # -- common ---------------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        # Like a Python file: an exception in the block still closes the file, and a writer
        # keeps the records written before it.
        self.close()
        return False

    def close(self) -> None:
        """Close the file (a writer finishes its file here)."""
        if self._raw is not None:
            self._raw.close()
        if self._writer is not None:
            self._writer.close()

    @property
    def closed(self) -> bool:
        return (self._raw.closed if self._raw is not None else self._writer.closed)

    @property
    def path(self) -> str | None:
        return self._name

    @property
    def mode(self) -> str:
        return self._mode

    def __repr__(self):
        state = "closed" if self.closed else f"{self.mode}"
        if self._raw is not None and not self.closed:
            return f"<fstgis.File {self._name or '<memory>'} {self._raw.container} {len(self)} records>"
        return f"<fstgis.File {self._name or '<memory>'} ({state})>"

    def _reader(self):
        if self._raw is None:
            raise UsageError("this file is open for writing; reopen it to read")
        return self._raw

    # -- reading --------------------------------------------------------------------------
    @property
    def diagnostics(self) -> list[tuple[int, str]]:
        """What was unusual at open without stopping it, as ``(byte offset, message)``
        pairs (each was also issued as an :class:`FstWarning`): an RSF segment cut short
        (a truncated file: its records are in no directory; ``recover=True`` lists them), a
        directory checksum mismatch, a file a writer left open."""
        return list(self._reader().diagnostics)

    @property
    def container(self) -> str:
        """``"XDF"`` or ``"RSF"``."""
        return self._reader().container

    def __len__(self) -> int:
        return len(self._reader())

    def __iter__(self) -> Iterator[Record]:
        return iter(self._reader().records())

    def __getitem__(self, index):
        raw = self._reader()
        if isinstance(index, slice):
            return [raw.record(i) for i in range(*index.indices(len(raw)))]
        return raw.record(int(index))

    def records(self) -> list[Record]:
        """Every live record, in directory order."""
        return self._reader().records()

    def search(self, nomvar=None, typvar=None, etiket=None, ip1=None, ip2=None, ip3=None,
               datev=None, grtyp=None, level=None) -> list[Record]:
        """Records matching every given criterion (librmn ``fstinl`` rules): None, blank
        strings and -1 match anything; names are case-insensitive; ``datev`` is a stamp or
        a datetime; ``level`` is ``(value, kind)`` with kind a number or unit (``"mb"``)."""
        return self._reader().search(nomvar, typvar, etiket, _ip(ip1), _ip(ip2), _ip(ip3),
                                     _stamp(datev), grtyp, _level(level))

    def find(self, **criteria) -> Record | None:
        """The first record matching ``criteria`` (see :meth:`search`), or None."""
        unknown = set(criteria) - set(_SEARCH_KEYS)
        if unknown:
            raise UsageError(f"unknown search keys: {sorted(unknown)}")
        found = self._reader().search(
            criteria.get("nomvar"), criteria.get("typvar"), criteria.get("etiket"),
            _ip(criteria.get("ip1")), _ip(criteria.get("ip2")), _ip(criteria.get("ip3")),
            _stamp(criteria.get("datev")), criteria.get("grtyp"), _level(criteria.get("level")),
            True,
        )
        return found[0] if found else None

    def read(self, missing: str = "nan", **criteria) -> np.ndarray:
        """The values of the first record matching ``criteria``; ``RecordNotFoundError``
        when none does."""
        rec = self.find(**criteria)
        if rec is None:
            raise RecordNotFoundError(f"no record matches {criteria}", path=self._name)
        return rec.read(missing)

    def grid(self, record: Record | int) -> Grid:
        """The grid of a record (cached per grid)."""
        rec = self[record] if isinstance(record, (int, np.integer)) else record
        g = self._grids.get(rec.grid_id)
        if g is None:
            g = self._grids[rec.grid_id] = rec.grid
        return g

    def columns(self) -> dict:
        """The record table as numpy columns (see :meth:`to_pandas`)."""
        return {k: (v.to_numpy() if isinstance(v, _Text) else v)
                for k, v in self._columns().items()}

    def _columns(self) -> dict:
        return _frame_columns(self._reader().columns())

    def to_pandas(self):
        """One row per record: the raw keys (nomvar, typvar, etiket, ni, nj, nk, dateo,
        datev, deet, npas, ip1-3, grtyp, ig1-4, datyp, nbits) and the decoded columns
        (level, level_kind, level_unit, ip2/ip3 value and kind, origin_time, valid_time (UTC),
        forecast_hour, grid_id, file, offset, nbytes, key)."""
        return _to_pandas(self._columns())

    def to_polars(self):
        """:meth:`to_pandas` as a polars DataFrame."""
        return _to_polars(self._columns)

    def __arrow_c_stream__(self, requested_schema=None):
        """The record table through the Arrow C stream interface (via polars)."""
        return self.to_polars().__arrow_c_stream__(requested_schema)

    # -- writing --------------------------------------------------------------------------
    def write(self, data, record: Record | None = None, *, datyp: int | None = None,
              nbits: int | None = None, level=None, **keys) -> int | None:
        """Write one record. ``data``: a numpy array shaped (ni, nj[, nk]) (any order; a
        masked array or NaN marks missing values) or a :class:`Record` (copied with its keys).
        Keys come from ``record`` (when given) overridden by ``keys``: nomvar, typvar,
        etiket, dateo (stamp or datetime), datev, deet, npas, ip1-3, grtyp, ig1-4, metadata
        (RSF, a dict). ``level=(value, kind)`` sets ip1. Default datyp: 5 (IEEE) for floats,
        4 for signed and 2 for unsigned integers, at the array's width (64-bit integers at 32
        bits, which librmn reads, when their values fit; beyond, an explicit datyp)."""
        if self._writer is None:
            raise UsageError("this file is open for reading; open it with mode 'w' or 'a'")
        if isinstance(data, Record):
            record = record or data
            if data.datyp & 63 == 0 and datyp in (None, data.datyp):
                return self._write_raw(data, record, nbits, keys)
            # Without missing values, the stored values as they are (a NaN keeps its bits);
            # with them, the mask (the plug value is the writer's to choose).
            # A NaN stored in a plain IEEE record is a value, not a missing one.
            nan_is_value = not data.datyp & 64 and (datyp is None or datyp & 63 == 5)
            data = data.read("mask" if data.datyp & 64 else "raw")
        else:
            nan_is_value = False
        base = {}
        if record is not None:
            base = _copied_keys(record)
            if datyp is None:
                datyp, nbits = record.datyp, record.nbits if nbits is None else nbits
        base.update(keys)
        mask = None
        if np.ma.isMaskedArray(data):
            m = np.ma.getmaskarray(data)
            data = np.ma.getdata(data)
            if m.any():
                mask = m
        arr = np.asarray(data)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim not in (2, 3):
            raise UsageError(f"data must have 2 or 3 dimensions (ni, nj[, nk]), got {arr.shape}")
        ni, nj = arr.shape[0], arr.shape[1]
        nk = arr.shape[2] if arr.ndim == 3 else 1
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if arr.dtype == np.bool_:
            arr = arr.astype(np.uint8)
        flat = np.ascontiguousarray(arr.ravel(order="F"))
        is_complex = arr.dtype.kind == "c"
        if datyp is None:
            kind = arr.dtype.kind
            datyp = 5 if kind == "f" else 8 if kind == "c" else 4 if kind == "i" else 2
            if kind in "iu" and arr.dtype.itemsize == 8 and nbits is None:
                # librmn packs integers of at most 32 bits (its compact_integer refuses 64,
                # in 19.5 and in the newest): numpy's default int64 is written at 32 bits
                # when its values fit, and otherwise needs the caller's choice.
                nbits = 32
                info = np.iinfo(np.int32 if kind == "i" else np.uint32)
                if flat.size and (flat.min() < info.min or flat.max() > info.max):
                    raise UsageError(
                        f"{arr.dtype} values beyond 32 bits: librmn cannot read 64-bit integer "
                        "records; pass datyp=5, nbits=64 (IEEE float64, exact up to 2**53), or "
                        f"datyp={datyp}, nbits=64 for a file only fstgis reads")
        if nbits is None:
            # float16 is widened to float32 below: 32 bits keep every value (datyp 5 at 16
            # bits is float32 cut to 16 bits, not IEEE half precision, and loses 3 bits).
            nbits = 32 if arr.dtype == np.float16 else \
                arr.dtype.itemsize * 8 // (2 if is_complex else 1)
        if arr.dtype == np.float16:
            flat = flat.astype(np.float32)
        elif arr.dtype.kind in "iu" and datyp & 63 in (1, 5, 6):
            # Integers asked for a float encoding: as floats of the encoding's width.
            flat = flat.astype(np.float64 if nbits == 64 else np.float32)
        if is_complex:
            flat = flat.view(np.float32 if arr.dtype == np.complex64 else np.float64)
        elif arr.dtype.kind == "f" and not (nan_is_value and (datyp & 63) == 5) \
                and np.isnan(flat).any():
            mask = np.isnan(flat) if mask is None else (mask.ravel(order="F") | np.isnan(flat))
        flat_mask = None
        if mask is not None:
            flat_mask = np.ascontiguousarray(np.asarray(mask).ravel(order="F"), dtype=np.bool_)
            datyp = int(datyp) | 64
        if level is not None:
            value, kind = _level(level)
            base["ip1"] = _fstgis.encode_ip(value, kind, "new")
        dateo, datev = _record_dates(base, keys, self._name)
        metadata = base.pop("metadata", None)
        if metadata is not None and not isinstance(metadata, str):
            import json

            metadata = json.dumps(metadata)
        _check_unsigned_keys(base, self._name)
        return self._writer.write(
            flat, ni=ni, nj=nj, nk=nk, dateo=dateo, datev=datev, datyp=int(datyp),
            nbits=int(nbits),
            mask=flat_mask, metadata=metadata, complex=is_complex, **base,
        )


    def _write_raw(self, record: Record, keys_from: Record, nbits, keys: dict) -> int | None:
        """Copy a datyp 0 record (raw words, which only their producer can interpret) word
        for word, with the keys of `keys_from` overridden by `keys`."""
        base = _copied_keys(keys_from)
        base.update(keys)
        if nbits is not None and nbits != record.nbits:
            raise UsageError(f"{record!r}: raw words (datyp 0) cannot be repacked to {nbits} "
                             "bits")
        _check_unsigned_keys(base, self._name)
        dateo, datev = _record_dates(base, keys, self._name)
        words = _raw_words(record.read("raw"), record.nbits)
        return self._writer.write(
            words, ni=record.ni, nj=record.nj, nk=record.nk, dateo=dateo,
            datev=datev, datyp=0, nbits=record.nbits,
            raw=True, **base)


def _record_dates(base: dict, keys: dict, path) -> tuple[int, int | None]:
    """The (dateo, datev) stamps to write, taken out of ``base`` (the copied record's keys
    updated with the caller's ``keys``). As in librmn's ``fstecr``, the valid time follows
    from the origin, deet and npas: a copied record's datev is not kept when the caller
    changes its origin or its steps. A datev the caller gives sets the valid time (the
    origin then follows) unless the caller also gives the origin, which must agree."""
    base.pop("datev", None)
    given_origin = keys.get("origin_time", keys.get("dateo"))
    dateo = base.pop("dateo", 0)
    dateo = _stamp(base.pop("origin_time", dateo))
    if "datev" not in keys:
        # Without a datev from the caller: the origin (copied or given) decides.
        return dateo, None
    datev = _stamp(keys["datev"])
    if given_origin is None:
        return 0, datev
    hours = int(base.get("deet", 0)) * int(base.get("npas", 0)) / 3600
    if _fstgis.incdatr(dateo, hours) != datev:
        raise InvalidRecordError(
            f"dateo {dateo} + deet x npas ({hours:g} h) is not datev {datev}: give one of "
            "them, or both in agreement", path=path)
    return dateo, None


def _check_unsigned_keys(keys: dict, path) -> None:
    """The integer keys are unsigned (the Rust writer then checks each one's stored width):
    a negative one is an InvalidRecordError, not the OverflowError of the conversion."""
    for key in ("deet", "npas", "ip1", "ip2", "ip3", "ig1", "ig2", "ig3", "ig4"):
        if key in keys and not 0 <= int(keys[key]) < 2**32:
            raise InvalidRecordError(f"{key}={keys[key]}: record keys are unsigned integers",
                                     path=path)


def _raw_words(elements, nbits: int) -> np.ndarray:
    """The stored words of a datyp 0 record from what ``Record.read`` gives: the elements of
    an 8, 16 or 64-bit record (16 bits widened to uint32) laid out as a little-endian host's
    memory, as librmn stores the caller's buffer; other records' words as they are."""
    flat = np.asarray(elements).ravel(order="F")
    if nbits == 16:
        flat = flat.astype("<u2")
    elif nbits not in (8, 64):
        return np.ascontiguousarray(flat, np.uint32)
    data = np.ascontiguousarray(flat, flat.dtype.newbyteorder("<")).tobytes()
    data += bytes(-len(data) % 4)
    return np.frombuffer(data, "<u4").astype(np.uint32)


def _copied_keys(record: Record) -> dict:
    """The keys a copy of `record` takes from it (not its position, size or encoding)."""
    d = record.to_dict()
    return {k: d[k] for k in ("nomvar", "typvar", "etiket", "deet", "npas", "ip1", "ip2", "ip3",
                              "grtyp", "ig1", "ig2", "ig3", "ig4", "dateo", "datev")}


def _read_source(source) -> bytes | None:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, memoryview):
        return source.tobytes()
    if hasattr(source, "read") and not isinstance(source, (str, os.PathLike)):
        data = source.read()
        if not isinstance(data, (bytes, bytearray)):
            raise UsageError("a file object given to fstgis.open must be opened in binary mode")
        return bytes(data)
    if not isinstance(source, (str, os.PathLike)):
        # Any other buffer: a numpy uint8 array (np.fromfile, a download), array.array.
        try:
            return memoryview(source).tobytes()
        except TypeError:
            pass
    return None


def open(source, mode: str = "r", *, container: str = "xdf", rewrite: str = "add",
         recover: bool = False, max_values_per_record: int | None = None,
         max_decoded_bytes: int | None = None) -> File:
    """Open a standard file.

    ``source``: a path, ``bytes``/``bytearray``/``memoryview`` or any other buffer (a numpy
    uint8 array), or a binary file object (read whole) for mode ``"r"``; a path for ``"w"`` (a new file, ``container`` "xdf" or
    "rsf") and ``"a"`` (append; ``rewrite``: "add", "skip", "replace" or "fst98").
    XDF or RSF is detected by magic. ``recover=True`` also lists records of unfinished RSF
    segments. The limits bound what a corrupt file can make the reader allocate."""
    if mode == "r":
        data = _read_source(source)
        if data is not None:
            raw = _fstgis.File.open_bytes(data, recover, max_values_per_record, max_decoded_bytes)
            name = getattr(source, "name", None) if hasattr(source, "read") else None
        else:
            name = os.fspath(source)
            raw = _fstgis.File.open_path(name, recover, max_values_per_record, max_decoded_bytes)
        # A truncated RSF file opens with the records of its complete segments only (none,
        # when its one segment is cut short): say so rather than look like a smaller file.
        for offset, message in raw.diagnostics:
            _warnings.warn(f"{name or '<memory>'}: byte {offset}: {message}", FstWarning,
                           stacklevel=2)
        return File(raw=raw, name=name)
    if mode in ("w", "a"):
        path = os.fspath(source)
        writer = _fstgis.Writer.open(path, container, mode == "a", rewrite)
        return File(writer=writer, name=path, mode=mode)
    raise UsageError(f"mode={mode!r}: expected 'r', 'w' or 'a'")


# ---------------------------------------------------------------------------------------
# Many files
# ---------------------------------------------------------------------------------------


def _expand(paths) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = []
    for p in paths:
        p = os.fspath(p)
        if _glob.has_magic(p):
            matched = sorted(_glob.glob(p))
            if not matched:
                raise FstFileNotFoundError(f"no file matches {p!r}", path=p)
            out.extend(matched)
        else:
            out.append(p)
    return out


class FileSet:
    """Several files opened together (:func:`open_many`): their records in file order."""

    def __init__(self, files: list[File]):
        self.files = files

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        for f in self.files:
            f.close()

    def __len__(self):
        return sum(len(f) for f in self.files)

    def __iter__(self) -> Iterator[Record]:
        for f in self.files:
            yield from f

    def search(self, **criteria) -> list[Record]:
        return [r for f in self.files for r in f.search(**criteria)]

    def find(self, **criteria) -> Record | None:
        for f in self.files:
            r = f.find(**criteria)
            if r is not None:
                return r
        return None

    def _columns(self) -> dict:
        return _concat_columns([f._columns() for f in self.files])

    def columns(self) -> dict:
        return {k: (v.to_numpy() if isinstance(v, _Text) else v)
                for k, v in self._columns().items()}

    def to_pandas(self):
        return _to_pandas(self._columns())

    def to_polars(self):
        return _to_polars(self._columns)


def open_many(paths, *, threads: int | None = None, **options) -> FileSet:
    """Open many files (paths, a glob pattern, or a list mixing both), reading their
    directories in parallel (the GIL is released while a directory is read)."""
    names = _expand(paths)
    workers = threads or min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        files = list(pool.map(lambda p: open(p, **options), names))
    return FileSet(files)


def from_xarray(ds, path, **kwargs) -> str:
    """Write an xarray Dataset (or DataArray) to a standard file: CF names to nomvar, the
    vertical coordinate to ip1, times to dateo/deet/npas/ip2, the grid mapping to grtyp and
    ig1-4 plus positional records (see ``fstgis.xarray_writer``). Also ``ds.fst.to_fst``."""
    from .xarray_writer import from_xarray as _impl

    return _impl(ds, path, **kwargs)


def to_xarray(paths, **kwargs):
    """``xarray.open_dataset(path, engine="fst")`` for one path, ``open_mfdataset`` (combined
    by coordinates) for several; see ``fstgis.xarray_backend``."""
    from .xarray_backend import to_xarray as _impl

    return _impl(paths, **kwargs)

