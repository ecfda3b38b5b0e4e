"""gdalinfo on files whose directory lies (issue 14): a record claiming nk = 1,048,575 took
gdalinfo 43 s and 6.4 GB, and an L grid reaching past the pole was published with an
upper-left latitude of 23029.75. Both now fail fast, or lose their georeferencing, with a
message that says why.

The files are rsf_basic.fst with the HU record's directory keys rewritten (in the record and
in the segment directory, which carry the same 16 words)."""
import struct
import subprocess
import time

import pytest
from osgeo import gdal

from conftest import RSF

pytestmark = pytest.mark.require_driver("FST")


def hu_patched(tmp_path, name, grtyp, ni, nj, nk, igs):
    b = bytearray((RSF / "rsf_basic.fst").read_bytes())
    u32 = lambda o: struct.unpack_from("<I", b, o)[0]
    hu = ((ord("H") - 32) << 6) | (ord("U") - 32)
    hits = [o for o in range(0, len(b) - 64, 4)
            if u32(o + 4) == (48 << 8 | ord("Z")) and u32(o + 44) >> 20 == hu]
    assert len(hits) == 2, hits  # the record's metadata and its directory entry
    ig1, ig2, ig3, ig4 = igs
    for o in hits:
        def put(k, v):
            struct.pack_into("<I", b, o + 4 * k, v & 0xFFFFFFFF)
        put(1, ni << 8 | ord(grtyp))
        put(2, nj << 8 | (u32(o + 8) & 0xFF))
        put(3, nk << 12 | (u32(o + 12) & 0xFFF))
        put(5, ig4 << 8 | (ig2 >> 16 & 0xFF))
        put(6, ig1 << 8 | (ig2 >> 8 & 0xFF))
        put(7, ig3 << 8 | (ig2 & 0xFF))
    p = tmp_path / name
    p.write_bytes(bytes(b))
    return str(p)


def hu_subdataset(path):
    ds = gdal.Open(path)
    names = [v for k, v in ds.GetMetadata("SUBDATASETS").items() if k.endswith("_NAME")]
    return next(n for n in names if ":HU:" in n)


def gdalinfo(name):
    t = time.monotonic()
    r = subprocess.run(["gdalinfo", name], capture_output=True, text=True, timeout=120)
    return r, time.monotonic() - t


@pytest.mark.parametrize("patch, expected", [
    # nk = 1,048,575 one-point levels over a ~7 KB payload
    (("L", 1, 1, 1048575, (100, 100, 9000, 0)), ["claims 1048575 level(s) of 1x1 points", "payload"]),
    # a 46000 x 46000 grid over the same payload
    (("A", 46000, 46000, 1, (0, 0, 0, 0)), ["46000x46000"]),
], ids=["nk", "huge-grid"])
def test_lying_headers_fail_fast_with_a_clear_error(tmp_path, patch, expected):
    path = hu_patched(tmp_path, "bad.fst", *patch)
    r, took = gdalinfo(hu_subdataset(path))
    assert r.returncode != 0, r.stdout
    assert took < 10, took
    for text in expected:
        assert text in r.stderr, r.stderr


def test_threads_opening_corrupt_files_fail_cleanly(tmp_path):
    import concurrent.futures
    names = [hu_subdataset(hu_patched(tmp_path, "t%d.fst" % t, "L", 1 + t, 1, 1048575 - t,
                                      (100, 100, 9000, 0))) for t in range(8)]

    def open_all(name):
        for _ in range(5):
            try:
                assert gdal.Open(name) is None
            except RuntimeError:  # when another test turned exceptions on
                pass
        return True

    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        assert all(ex.map(open_all, names))
    assert time.monotonic() - t < 30


def test_an_l_grid_past_the_pole_is_not_georeferenced(tmp_path):
    # 48 x 36 at 1 degree from 60N: rows up to 95N.
    path = hu_patched(tmp_path, "pole.fst", "L", 48, 36, 1, (100, 100, 15000, 0))
    ds = gdal.Open(hu_subdataset(path))
    assert ds is not None
    assert ds.GetGeoTransform(can_return_null=True) is None
    assert "reach latitude 95" in ds.GetMetadataItem("FST_GEOREFERENCING_ERROR")
