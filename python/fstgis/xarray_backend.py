"""xarray backend for RPN standard files: ``xr.open_dataset(path, engine="fst")``.

What a dataset holds
--------------------
* One data variable per **field** of fst-core's catalog (records sharing nomvar, typvar,
  etiket and grid; grid descriptor records such as ``>>``/``^^`` are not variables). The name
  is the nomvar; when several fields share a nomvar, the keys that tell them apart are
  appended as fstd2nc does (``TT_GRID_A00`` by etiket, ``ES_30x30`` by shape, ``TT_g1`` by
  grid number).
* Dimensions ``(time, <level>, [k,] y, x)``: the valid time and the level are
  dimensions even of size 1, so that files combine with ``open_mfdataset``; fields whose
  ip1 is 0 on every record have no level dimension (as in fstd2nc). Variables with
  different sets of times or levels get their own dimension (``time1``, ``pres1``, ...).
* ``time``: valid time (``standard_name=time``). With one origin time in the file, a scalar
  ``reftime`` (``forecast_reference_time``) and a ``leadtime`` (``forecast_period``) along
  each time dimension; with several, ``reftime`` is along the time dimension.
  ``forecast_axis=True`` gives ``(reftime, leadtime)`` dimensions instead, with the valid
  ``time`` as a 2-D coordinate.
* The level dimension is named and described by the ip1 kind (``pres`` in hPa, positive
  down; ``sigma``, ``hybrid``, ``height``, ``height_agl``, ``theta``, ``depth``, ...: see
  ``fstgis._cf.VERTICAL``). A field with model levels (sigma, hybrid, height-based) and
  levels of other kinds is split by kind (``TT`` on its model levels, ``TT_height_agl`` at
  GEM's 1.5 m diagnostic level: see ``fstgis._fields``); other fields mixing kinds get an
  ``ip1`` dimension with ``ip1_level`` and ``ip1_kind`` coordinates. Every level dimension
  has a ``<dim>_ip1`` coordinate (the encoded levels). Sigma/eta (kind 1), hybrid (kind 5) and height-based (kind 21) levels
  described by a ``!!`` record (or GEM 3's ``HY``/``PT`` records) get their coefficients
  (``<dim>_ptop``, ``<dim>_a``/``_ap``, ``_b``, ``_c``), ``vcode`` and, where the reference
  field (``P0``, ``ME``) is in the dataset, ``formula_terms`` (see
  ``fstgis._vertical``); sigma levels no record describes get ``sigma: ps: ptop:`` with
  ``P0`` and ptop = 0.
* Horizontal: a grid-mapping variable ``crs`` (``latitude_longitude``,
  ``rotated_latitude_longitude`` or ``polar_stereographic``, with ``crs_wkt`` and
  ``spatial_ref``) and 1-D projection axes (``lon``/``lat``, ``rlon``/``rlat`` or ``x``/``y``
  in metres) where the grid is regular or rectilinear in its CRS (A, B, G, L, E, N, S, Z, #),
  plus 2-D ``lat``/``lon`` where the axes are not geographic. Y grids have ``(j, i)``
  dimensions and 2-D ``lat``/``lon`` only; U (Yin-Yang) grids too, without a grid mapping
  (two CRSs), their ``^>`` record's values kept as the variable's ``fst_yin_yang`` attribute
  (``from_xarray`` writes the grid back as U from it); X grids have no coordinates. Several
  grids in one file: in a dataset, the second grid's names get the suffix ``_1`` (``lat_1``,
  ``crs_1``), and so on;
  ``xr.open_datatree(path, engine="fst")`` gives one group per grid instead (``/L_60x40``,
  ``/Z_48x36``), each with plain names.
* Ensembles: fields that differ only by an etiket naming a member (a common label and a
  member number at its end: ``GEPS_001``, ``GEPS_002``) are one variable with a leading
  ``realization`` dimension (``standard_name=realization``) and a ``realization_etiket``
  coordinate; ``ensembles=False`` keeps one variable per etiket (named ``TT_GEPS_001``...).
* Character records (datyp 3 and 7: station lists, GenPhysX's ``META``) are string
  variables, one string per row (``<name>_row`` when there are several), along the time and
  level axes of their field when it has several records, read at open (see
  ``fstgis._text``); fstd2nc decodes only ``META`` and ``INFO``.
* Values are lazy: each record is one chunk (``preferred_chunks``), read when indexed, with
  missing values (datyp +64) as NaN (integer fields with missing values become float64).
  Opening reads the directory and the grids' positional records only. Arrays pickle by
  path, so dask's distributed scheduler works across processes.
"""

from __future__ import annotations

import mmap
import os
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import xarray as xr
from xarray.backends import BackendArray, BackendEntrypoint
from xarray.backends.file_manager import CachingFileManager
from xarray.core import indexing

import fstgis
from . import xarray_writer  # noqa: F401  (registers the ds.fst accessor)
from ._assemble import assemble
from ._axes import DimensionNames, leading_axes, time_variable, times
from ._cf import variable_attrs
from ._fields import distinct, merge_members, split_model_levels, unique_name, variable_names
from ._select import select_fields, selected_records
from ._text import is_text, text_field_variable, text_variable
from ._vertical import vertical_terms

# Threads decoding the records of one indexing call (dask chunks are one record each and
# need none of these).
_THREADS = min(8, os.cpu_count() or 1)


def _open_for_manager(path, mode="r"):
    # CachingFileManager passes `mode` after unpickling in another process.
    return fstgis.open(path, "r")


def _open_bytes_for_manager(data, mode="r"):
    return fstgis.open(data, "r")


def _close_file(f):
    f.close()


# -- element types ------------------------------------------------------------------------


def _dtype(datyp: int, nbits: int):
    """The numpy dtype a record decodes to, from its datyp and nbits (None: not an array of
    values, e.g. characters or raw words of an odd width)."""
    base = datyp & 63
    if datyp & 128:
        base = {1: 1, 2: 2, 5: 5, 6: 6}.get(base, base)
    if base in (1, 6):
        dt = np.float32
    elif base == 5:
        dt = np.float64 if nbits == 64 else np.float32
    elif base == 2:
        dt = np.uint64 if nbits == 64 else np.uint32
    elif base == 4:
        dt = np.int64 if nbits == 64 else np.int32
    elif base == 8:
        dt = np.complex128 if nbits == 64 else np.complex64
    elif base == 0 and nbits in (8, 16, 32, 64):
        # Raw words read as the elements they hold (fst-core's Samples::raw_as_elements).
        dt = {8: np.uint8, 64: np.uint64}.get(nbits, np.uint32)
    else:
        return None
    if datyp & 64 and np.dtype(dt).kind in "iu":
        return np.dtype(np.float64)
    return np.dtype(dt)


# -- lazy arrays --------------------------------------------------------------------------


# Arrays at least this large are anonymous memory maps rather than numpy allocations (see
# `_output_array`).
_MAPPED_BYTES = 4 << 20


def _output_array(shape: tuple, dtype) -> np.ndarray:
    """An uninitialised array for decoded records. Large ones are backed by a private
    anonymous memory map in 4 KiB pages rather than numpy memory, which asks the kernel for
    transparent huge pages (madvise). Under a hypervisor that takes free memory back (virtio
    free page reporting, which reports free blocks of huge-page size and up), a huge page
    usually comes from memory the host has reclaimed and every one of its 4 KiB frames faults
    in the host too, while 4 KiB pages come from the smaller free blocks the guest kept. On
    the 2-core benchmark VM, faulting the 916 MiB of the benchmark file's load cost 0.4 s of
    CPU in 4 KiB pages every time, and 0.11 s or 0.9-1.4 s in huge pages, depending on
    whether the memory had been freed in the last seconds: the load took 0.33-0.36 s run
    after run here against 0.2-0.9 s in huge pages. Where the system enables huge pages for
    all memory (``enabled=always``), the map gets them too. (A shared anonymous map, Python's
    ``mmap`` default, is shmem, whose faults cost more.)"""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < _MAPPED_BYTES:
        return np.empty(shape, dtype)
    try:
        # Private: a shared anonymous map is shmem, whose faults cost more.
        buffer = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE)
    except OSError as e:
        raise MemoryError(f"cannot map {nbytes} bytes for the decoded records: {e}") from e
    return np.frombuffer(buffer, dtype).reshape(shape)


class FstBackendArray(BackendArray):
    """The records of one variable: an array of record indices (leading dimensions, -1 where
    the hypercube has a hole) and the horizontal shape. Indexing reads only the records it
    needs, each decoded with the GIL released."""

    def __init__(self, manager, records: np.ndarray, horizontal: tuple, dtype):
        self.manager = manager
        self.records = records
        self.horizontal = horizontal  # ([nk,] nj, ni)
        self.shape = records.shape + horizontal
        self.dtype = np.dtype(dtype)

    def __getitem__(self, key):
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._getitem)

    def _record_values(self, f, index: int) -> np.ndarray:
        if index < 0:
            return np.full(self.horizontal, np.nan, self.dtype)
        data = f[int(index)].read("mask")
        if np.ma.isMaskedArray(data):
            data = np.ma.filled(data.astype(self.dtype), np.nan)
        # (ni, nj[, nk]) in Fortran order is (nj, ni) / (nk, nj, ni) in C order: a view.
        data = data.T
        if data.dtype != self.dtype:
            data = data.astype(self.dtype)
        return data

    def _getitem(self, key: tuple):
        lead_n = self.records.ndim
        lead, rest = key[:lead_n], key[lead_n:]
        selected = self.records[lead]
        f = self.manager.acquire()
        if np.ndim(selected) == 0:
            return self._record_values(f, int(selected))[rest]
        selected = np.asarray(selected)
        whole = all(isinstance(k, slice) and range(*k.indices(n)) == range(n)
                    for k, n in zip(rest, self.horizontal))
        rest_shape = tuple(len(range(*k.indices(n))) for k, n in zip(rest, self.horizontal)
                           if isinstance(k, slice))
        out = _output_array(selected.shape + rest_shape, self.dtype)

        def fill(idx):
            index = int(selected[idx])
            # Whole records decode straight into the output (a C-ordered ([nk,] nj, ni)
            # block is the record's Fortran order); the others go through read().
            if whole and index >= 0 and f[index].read_into(out[idx]):
                return
            out[idx] = self._record_values(f, index)[rest]

        cells = list(np.ndindex(selected.shape))
        if len(cells) > 1 and _THREADS > 1:
            # Decoding releases the GIL: records decode in parallel.
            with ThreadPoolExecutor(max_workers=min(_THREADS, len(cells))) as pool:
                list(pool.map(fill, cells))
        else:
            for idx in cells:
                fill(idx)
        return out


# -- names --------------------------------------------------------------------------------


# -- grids --------------------------------------------------------------------------------


def _grid_mapping(grid) -> dict:
    """The grid-mapping variable's attributes: grids' CF mapping of the grid's CRS (built in
    Rust, no PROJ or pyproj needed: ``grid_mapping_name`` and its parameters, ``earth_radius``,
    ``crs_wkt``, ``spatial_ref`` and ``proj4_params``)."""
    return dict(grid.cf_grid_mapping())


class _GridCoords:
    """The horizontal dimensions and coordinates of one grid."""

    def __init__(self, grid, suffix: str, manager=None, key: int = -1):
        self.dims: tuple = (f"j{suffix}", f"i{suffix}")
        self.coords: dict = {}
        self.mapping_name: str | None = None
        self.mapping: xr.Variable | None = None
        if grid is None:  # X grids: no georeference
            return
        coords = grid.coordinates()
        kind = coords["kind"]
        if kind in ("affine", "rectilinear"):
            mapping = _grid_mapping(grid)
            family = mapping["grid_mapping_name"]
            x, y = np.asarray(coords["x"]), np.asarray(coords["y"])
            if family == "latitude_longitude":
                xn, yn = f"lon{suffix}", f"lat{suffix}"
                xa = {"standard_name": "longitude", "long_name": "longitude",
                      "units": "degrees_east", "axis": "X"}
                ya = {"standard_name": "latitude", "long_name": "latitude",
                      "units": "degrees_north", "axis": "Y"}
            elif family == "rotated_latitude_longitude":
                xn, yn = f"rlon{suffix}", f"rlat{suffix}"
                xa = {"standard_name": "grid_longitude", "long_name": "rotated longitude",
                      "units": "degrees", "axis": "X"}
                ya = {"standard_name": "grid_latitude", "long_name": "rotated latitude",
                      "units": "degrees", "axis": "Y"}
            else:
                xn, yn = f"x{suffix}", f"y{suffix}"
                xa = {"standard_name": "projection_x_coordinate", "long_name": "x",
                      "units": "m", "axis": "X"}
                ya = {"standard_name": "projection_y_coordinate", "long_name": "y",
                      "units": "m", "axis": "Y"}
            self.dims = (yn, xn)
            self.coords[xn] = xr.Variable((xn,), x, xa)
            self.coords[yn] = xr.Variable((yn,), y, ya)
            self.mapping_name = f"crs{suffix}"
            self.mapping = xr.Variable((), np.int32(0), mapping)
            if family == "latitude_longitude":
                return
        elif kind == "geolocation":
            self.mapping_name = f"crs{suffix}"
            self.mapping = xr.Variable((), np.int32(0), _grid_mapping(grid))
        # 2-D latitude/longitude: computed when first read (the grid keeps them), so that
        # opening stays a directory read.
        shape = grid.shape[::-1]
        self.coords[f"lat{suffix}"] = xr.Variable(
            self.dims, indexing.LazilyIndexedArray(_LatLonArray(manager, key, 0, shape)),
            {"standard_name": "latitude", "long_name": "latitude", "units": "degrees_north"})
        self.coords[f"lon{suffix}"] = xr.Variable(
            self.dims, indexing.LazilyIndexedArray(_LatLonArray(manager, key, 1, shape)),
            {"standard_name": "longitude", "long_name": "longitude", "units": "degrees_east"})


class _LatLonArray(BackendArray):
    """Latitude (0) or longitude (1) of a grid, (nj, ni), from the grid of record `key`;
    pickles by path like the data."""

    def __init__(self, manager, key: int, which: int, shape: tuple):
        self.manager, self.key, self.which = manager, key, which
        self.shape = shape
        self.dtype = np.dtype(np.float64)

    def __getitem__(self, key):
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._getitem)

    def _getitem(self, key):
        f = self.manager.acquire()
        return f.grid(f[self.key]).lat_lon()[self.which].T[key]


# -- the dataset --------------------------------------------------------------------------


def _fields(f, select) -> list:
    """The catalog's fields, restricted to ``select`` (see ``fstgis._select``) if given."""
    fields = f._reader().fields()
    if select is not None:
        fields = select_fields(fields, selected_records(f, select))
    return fields


def build_dataset(f, manager, *, forecast_axis=False, drop_variables=None,
                  grid_ids=None, ensembles=None, select=None, fields=None) -> xr.Dataset:
    if fields is None:
        fields = _fields(f, select)
    if grid_ids is not None:
        fields = [fd for fd in fields if fd["grid_id"] in grid_ids]
    fields = split_model_levels(fields)
    if ensembles is not False:
        fields = merge_members(fields, required=ensembles is True)
    drop = set([drop_variables] if isinstance(drop_variables, str) else drop_variables or ())

    grid_index: "OrderedDict[str, int]" = OrderedDict()
    for fd in fields:
        grid_index.setdefault(fd["grid_id"], len(grid_index))
    grids: dict[str, _GridCoords] = {}
    yin_yang_cache: dict = {}

    dims_reg = DimensionNames()
    axes_memo: dict = {}
    coords: dict = {}
    data_vars: dict = {}
    all_dateo = np.unique(np.concatenate([fd["dateo"] for fd in fields])) if fields else []
    single_origin = len(all_dateo) == 1
    if single_origin and not forecast_axis:
        ref = times(all_dateo)[0]
        coords["reftime"] = time_variable((), ref, {
            "standard_name": "forecast_reference_time", "long_name": "origin (analysis) time"})

    for fd, name in zip(fields, variable_names(fields, grid_index)):
        if name in drop:
            continue
        recs = fd["record"]
        # (Not `f[i]`: indexing the File is what reading a record goes through.)
        first = f._reader().record(int(recs[0]))
        # (datyp, nbits) of the records: a few distinct pairs, whatever their number.
        packings = {(c >> 8, c & 255)
                    for c in distinct((fd["datyp"] << 8) | (fd["nbits"] & 255))}
        dtypes = {_dtype(d, n) for d, n in packings}
        if None in dtypes:
            if is_text(packings):
                attrs = {"nomvar": fd["nomvar"], "typvar": fd["typvar"],
                         "etiket": fd["etiket"], "long_name": fd["nomvar"]}
                if len(recs) == 1:
                    text = text_variable(f[int(recs[0])], name, attrs)
                else:
                    axes, grid_of_records = leading_axes(
                        fd, name, dims_reg, coords, axes_memo, forecast_axis=forecast_axis,
                        single_origin=single_origin)
                    text = text_field_variable(f, grid_of_records, axes.dims, name, attrs)
                    if text is not None and fd.get("deet", 0) > 0:
                        text.encoding["fst_deet"] = int(fd["deet"])
                if text is not None:
                    data_vars[name] = text
                    continue
            # Characters (too many, or unreadable) or raw words of an odd width: not an array
            # of values. Said, not silently dropped: the records are there for fstgis.open.
            warnings.warn(f"{name}: records of datyp {first.datyp} with nbits {first.nbits} "
                          "(characters or raw words) are not an array of values; variable "
                          "skipped (fstgis.open reads them)")
            continue
        dtype = np.result_type(*dtypes)
        nks = set(distinct(fd["nk"]))
        if len(nks) != 1:
            warnings.warn(f"{name}: records with different nk; variable skipped")
            continue
        nk = nks.pop()

        # Horizontal.
        gid = fd["grid_id"]
        if gid not in grids:
            g = grid_index[gid]
            suffix = "" if g == 0 else f"_{g}"
            try:
                grid = f.grid(first)
            except fstgis.GridError as e:
                if first.grtyp != "X":
                    warnings.warn(f"{name}: grid not georeferenced ({e})")
                grid = None
            gc = grids[gid] = _GridCoords(grid, suffix, manager, first.key)
            coords.update(gc.coords)
            if gc.mapping is not None:
                coords[gc.mapping_name] = gc.mapping
        gc = grids[gid]

        # Member, time and level: which record fills which cell.
        axes, grid_of_records = leading_axes(fd, name, dims_reg, coords, axes_memo,
                                             forecast_axis=forecast_axis,
                                             single_origin=single_origin)
        if (grid_of_records < 0).any() and np.dtype(dtype).kind in "iu":
            dtype = np.dtype(np.float64)

        horizontal = ((nk,) if nk > 1 else ()) + (first.nj, first.ni)
        kdims = (f"k{nk}",) if nk > 1 else ()
        dims = axes.dims + kdims + gc.dims
        array = FstBackendArray(manager, grid_of_records, horizontal, dtype)
        attrs = {"nomvar": fd["nomvar"], "typvar": fd["typvar"], "etiket": fd["etiket"],
                 "grtyp": first.grtyp, "ig1": first.ig1, "ig2": first.ig2, "ig3": first.ig3,
                 "ig4": first.ig4}
        if first.grtyp == "U":
            yin_yang = _yin_yang_values(f, first, yin_yang_cache)
            if yin_yang is not None:
                attrs["fst_yin_yang"] = yin_yang
        raw = all(d & 63 == 0 for d, _ in packings)
        if raw:
            # The bits as stored: no unit or standard name applies to them.
            attrs["comment"] = "datyp 0: raw data as its writer stored it, not decoded"
        else:
            attrs.update(variable_attrs(fd["nomvar"]))
        if "long_name" not in attrs:
            attrs["long_name"] = fd["nomvar"]
        if gc.mapping_name is not None:
            attrs["grid_mapping"] = gc.mapping_name
        # (fastpath: the lazy array is already what xarray would wrap it in.)
        var = xr.Variable(dims, indexing.LazilyIndexedArray(array), attrs, fastpath=True)
        var.encoding["preferred_chunks"] = {d: (1 if i < len(dims) - 2 - len(kdims) else n)
                                            for i, (d, n) in enumerate(zip(dims, array.shape))}
        if len(packings) == 1:
            # How the records are stored (from_xarray writes raw records back so).
            var.encoding["fst_datyp"], var.encoding["fst_nbits"] = packings.pop()
        if fd.get("deet", 0) > 0:
            # The model's time step: from_xarray writes lead times in it (deet, npas).
            var.encoding["fst_deet"] = int(fd["deet"])
        if fd.get("ip3", 0) > 0:
            var.encoding["fst_ip3"] = int(fd["ip3"])  # shared by the records: written back
        data_vars[name] = var

    vertical_terms(f, data_vars, coords)
    attrs = {"Conventions": "CF-1.11",
             "source": f"RPN standard file ({f.container}) read by fstgis {fstgis.__version__}"}
    if f.path:
        attrs["fst_path"] = f.path
    return assemble(data_vars, coords, attrs)


def _yin_yang_values(f, rec, cache: dict):
    """The values of the ``^>`` record of a U (Yin-Yang) record's grid, float32, or None.
    Kept as the variable's ``fst_yin_yang`` attribute: a Yin-Yang grid has no CF grid mapping
    (two CRSs), and from_xarray writes the record back from it, so that the grid comes back
    U and not Y."""
    key = (rec.ig1, rec.ig2, rec.ig3)
    if key not in cache:
        pos = f.find(nomvar="^>", ip1=rec.ig1, ip2=rec.ig2, ip3=rec.ig3)
        cache[key] = None if pos is None else np.asarray(pos.data, np.float32).ravel(order="F")
    return cache[key]


def _prepare_source(filename_or_obj):
    """(File, manager): a path is opened through a CachingFileManager (pickles by path);
    bytes, memoryviews and file objects are read into memory."""
    if isinstance(filename_or_obj, (str, os.PathLike)):
        path = os.fspath(filename_or_obj)
        manager = CachingFileManager(_open_for_manager, path)
        return manager.acquire(), manager
    # In-memory input: the manager holds the bytes, so that arrays pickle with them (dask's
    # distributed workers get the file's content, not a path they may not see).
    data = fstgis._read_source(filename_or_obj)
    if data is None:
        raise fstgis.UsageError(
            f"cannot open {type(filename_or_obj).__name__} as a standard file: give a path, "
            "bytes, a memoryview or a binary file object")
    manager = CachingFileManager(_open_bytes_for_manager, data)
    return manager.acquire(), manager


def open_fst_dataset(filename_or_obj, *, forecast_axis=False, drop_variables=None,
                     ensembles=None, select=None):
    f, manager = _prepare_source(filename_or_obj)
    try:
        ds = build_dataset(f, manager, forecast_axis=forecast_axis, drop_variables=drop_variables,
                           ensembles=ensembles, select=select)
    except Exception:
        manager.close()
        raise
    ds.set_close(manager.close)
    return ds


def _group_names(fields) -> "OrderedDict[str, str]":
    """grid_id -> group name (``L_60x40``; ``_1``, ``_2`` for more grids of that shape)."""
    names: "OrderedDict[str, str]" = OrderedDict()
    taken: set = set()
    for fd in fields:
        gid = fd["grid_id"]
        if gid in names:
            continue
        grtyp, ni, nj = gid.split(":")[:3]
        names[gid] = unique_name(f"{'D' if grtyp == '#' else grtyp}_{ni}x{nj}", taken)
    return names


def open_fst_groups(filename_or_obj, *, forecast_axis=False, drop_variables=None,
                    ensembles=None, select=None) -> dict:
    """One dataset per grid (``{"/": attributes only, "/L_60x40": ..., ...}``): each group
    has the plain coordinate names (``lat``, ``lon``, ``crs``)."""
    f, manager = _prepare_source(filename_or_obj)
    groups = {}
    try:
        fields = _fields(f, select)
        for gid, name in _group_names(fields).items():
            ds = build_dataset(f, manager, forecast_axis=forecast_axis,
                               drop_variables=drop_variables, grid_ids={gid},
                               ensembles=ensembles, fields=fields)
            groups[f"/{name}"] = ds
    except Exception:
        manager.close()
        raise
    root = xr.Dataset(attrs={"Conventions": "CF-1.11",
                             "source": f"RPN standard file ({f.container}) read by fstgis "
                                       f"{fstgis.__version__}"})
    root.set_close(manager.close)
    return {"/": root, **groups}


class FstBackendEntrypoint(BackendEntrypoint):
    """``engine="fst"``: RPN standard files (XDF and RSF) through fstgis."""

    description = "RPN standard files (FST: XDF and RSF) through fstgis, with CF metadata"
    url = "https://github.com/fstgis/fstgis"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "forecast_axis",
                               "ensembles", "select")

    def open_dataset(self, filename_or_obj, *, drop_variables=None, forecast_axis=False,
                     ensembles=None, select=None):
        """``ensembles``: None (default) merges fields that differ only by a member etiket
        into a ``realization`` dimension; False keeps one variable per etiket; True also
        warns when nothing could be merged. ``select``: only the records matching these
        search keys (a dict, or a list of dicts; a list value gives alternatives:
        ``select={"nomvar": ["TT", "P0"], "ip2": 12}``; see ``fstgis._select``)."""
        return open_fst_dataset(filename_or_obj, forecast_axis=forecast_axis,
                                drop_variables=drop_variables, ensembles=ensembles,
                                select=select)

    def open_groups_as_dict(self, filename_or_obj, *, drop_variables=None,
                            forecast_axis=False, ensembles=None, select=None, **kwargs):
        return open_fst_groups(filename_or_obj, forecast_axis=forecast_axis,
                               drop_variables=drop_variables, ensembles=ensembles,
                               select=select)

    def open_datatree(self, filename_or_obj, *, drop_variables=None, forecast_axis=False,
                      ensembles=None, select=None, **kwargs):
        """One group per grid (see ``open_fst_groups``)."""
        return xr.DataTree.from_dict(self.open_groups_as_dict(
            filename_or_obj, drop_variables=drop_variables, forecast_axis=forecast_axis,
            ensembles=ensembles, select=select))

    def guess_can_open(self, filename_or_obj):
        if isinstance(filename_or_obj, (str, os.PathLike)):
            try:
                with open(os.fspath(filename_or_obj), "rb") as fh:
                    head = fh.read(64)
            except OSError:
                return False
            # The magics sit at byte 8 (XDF) and byte 16 (RSF).
            return b"XDF0STDR" in head or b"RSF0STDF" in head
        return False


def to_xarray(paths, *, forecast_axis=False, **kwargs):
    """One path (or bytes): ``xr.open_dataset(..., engine="fst")``; several paths or a glob:
    ``xr.open_mfdataset(..., engine="fst")`` combined by coordinates."""
    # The backend class rather than its name: xarray then skips finding its engines, which
    # imports every installed backend (rioxarray alone, with rasterio and dask.array, costs
    # ~200 ms on the first open of a process).
    engine = FstBackendEntrypoint
    if isinstance(paths, (str, os.PathLike)) and not any(c in os.fspath(paths) for c in "*?["):
        return xr.open_dataset(paths, engine=engine, forecast_axis=forecast_axis, **kwargs)
    if isinstance(paths, (bytes, bytearray, memoryview)) or hasattr(paths, "read"):
        return xr.open_dataset(paths, engine=engine, forecast_axis=forecast_axis, **kwargs)
    kwargs.setdefault("combine", "by_coords")
    return xr.open_mfdataset(fstgis._expand(paths), engine=engine,
                             forecast_axis=forecast_axis, **kwargs)
