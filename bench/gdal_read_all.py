"""
gdal_read_all.py -- companions of bench/gdal_translate_vs_fstd2nc.sh, each printing
"<seconds> <values>" for one way of handling bench/out/gdal_bench.fst (timed after the imports):

    /usr/bin/python3 bench/gdal_read_all.py ours FILE
        every field of FILE into memory through GDAL and the FST driver (ReadAsArray per
        subdataset); needs GDAL_DRIVER_PATH.
    .venv-oracle/bin/python bench/gdal_read_all.py fstd2nc FILE
        the same values through fstd2nc (Buffer -> xarray -> numpy), what users do today.
    /usr/bin/python3 bench/gdal_read_all.py gtiff-floor OUT_DIR
        GDAL alone writing the same GeoTIFFs (5 fields of 100 float32 bands of 800x600,
        band-interleaved) from in-memory rasters: the part of a conversion no FST reader can
        remove.
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


def gtiff_floor(out_dir):
    import numpy as np
    from osgeo import gdal
    gdal.UseExceptions()
    ni, nj, bands, fields = 800, 600, 100, 5
    rng = np.random.default_rng(1)
    sources = []
    for _ in range(fields):
        src = gdal.GetDriverByName('MEM').Create('', ni, nj, bands, gdal.GDT_Float32)
        for b in range(bands):
            src.GetRasterBand(b + 1).WriteArray(rng.random((nj, ni), dtype=np.float32))
        src.SetMetadataItem('INTERLEAVE', 'BAND', 'IMAGE_STRUCTURE')
        sources.append(src)
    outs = [os.path.join(out_dir, 'gdal_floor_%d.tif' % k) for k in range(fields)]
    for o in outs:
        if os.path.exists(o):
            os.remove(o)
    t = time.perf_counter()
    for src, o in zip(sources, outs):
        gdal.GetDriverByName('GTiff').CreateCopy(o, src, options=['INTERLEAVE=BAND'])
    elapsed = time.perf_counter() - t
    for o in outs:
        os.remove(o)
    return elapsed, fields * bands * ni * nj


def main():
    mode, arg = sys.argv[1], sys.argv[2]
    f = {'ours': ours, 'fstd2nc': fstd2nc_read, 'gtiff-floor': gtiff_floor}[mode]
    seconds, values = f(arg)
    print('%.3f %d' % (seconds, values))


if __name__ == '__main__':
    main()
