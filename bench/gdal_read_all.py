"""
gdal_read_all.py -- companions of bench/gdal_translate_vs_fstd2nc.sh, each printing
"<seconds> <values>" for one way of handling bench/out/gdal_bench.fst (timed after the imports):

    /usr/bin/python3 bench/gdal_read_all.py ours FILE
        every field of FILE into memory through GDAL and the FST driver (ReadAsArray per
        subdataset); needs GDAL_DRIVER_PATH.
    .venv-oracle/bin/python bench/gdal_read_all.py fstd2nc FILE
        the same values through fstd2nc (Buffer -> xarray -> numpy), what users do today.
    /usr/bin/python3 bench/gdal_read_all.py gtiff-floor OUT_DIR [WRITERS]
        GDAL alone writing the same GeoTIFFs (5 fields of 100 float32 bands of 800x600,
        band-interleaved) from in-memory rasters, in WRITERS processes at once (default 1):
        the part of a conversion no FST reader can remove.
"""
from __future__ import print_function

import os
import sys
import time
import warnings


def ours(path):
    from osgeo import gdal
    gdal.UseExceptions()
    t = time.perf_counter()
    top = gdal.Open(path)
    names = [n for n, _ in top.GetSubDatasets()] or [path]
    total = 0
    for name in names:
        total += gdal.Open(name).ReadAsArray().size
    return time.perf_counter() - t, total


def fstd2nc_read(path):
    warnings.simplefilter('ignore')
    import fstd2nc
    import numpy as np
    t = time.perf_counter()
    ds = fstd2nc.Buffer(path).to_xarray()
    total = 0
    for name, v in ds.data_vars.items():
        if v.ndim >= 2:  # the coordinate records come as small 1-D variables
            total += np.asarray(v.values).size
    return time.perf_counter() - t, total


def _floor_worker(out_dir, fields, first, barrier, queue):
    import numpy as np
    from osgeo import gdal
    gdal.UseExceptions()
    ni, nj, bands = 800, 600, 100
    rng = np.random.default_rng(first)
    sources = []
    for _ in range(fields):
        src = gdal.GetDriverByName('MEM').Create('', ni, nj, bands, gdal.GDT_Float32)
        for b in range(bands):
            src.GetRasterBand(b + 1).WriteArray(rng.random((nj, ni), dtype=np.float32))
        src.SetMetadataItem('INTERLEAVE', 'BAND', 'IMAGE_STRUCTURE')
        sources.append(src)
    outs = [os.path.join(out_dir, 'gdal_floor_%d.tif' % (first + k)) for k in range(fields)]
    for o in outs:
        if os.path.exists(o):
            os.remove(o)
    barrier.wait()
    for src, o in zip(sources, outs):
        gdal.GetDriverByName('GTiff').CreateCopy(o, src, options=['INTERLEAVE=BAND'])
    queue.put(time.perf_counter())
    for o in outs:
        os.remove(o)


def gtiff_floor(out_dir, writers=1):
    """Five fields written by `writers` processes at once (fields split between them); the
    time runs from the moment all have their rasters in memory to the last one done."""
    import multiprocessing as mp
    fields = 5
    split = [fields // writers + (1 if k < fields % writers else 0) for k in range(writers)]
    barrier = mp.Barrier(writers + 1)
    queue = mp.Queue()
    procs, first = [], 0
    for n in split:
        procs.append(mp.Process(target=_floor_worker, args=(out_dir, n, first, barrier, queue)))
        first += n
    for p in procs:
        p.start()
    barrier.wait()
    t = time.perf_counter()
    done = max(queue.get() for _ in procs)
    for p in procs:
        p.join()
    return done - t, fields * 100 * 800 * 600


def main():
    mode, arg = sys.argv[1], sys.argv[2]
    if mode == 'gtiff-floor':
        seconds, values = gtiff_floor(arg, int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    else:
        seconds, values = {'ours': ours, 'fstd2nc': fstd2nc_read}[mode](arg)
    print('%.3f %d' % (seconds, values))


if __name__ == '__main__':
    main()
