#!/usr/bin/env python3
"""tiles_lists.py BBOX_JSON OUTDIR -- the benchmark's tile list (z 2-8 over the grid, EPSG:3857),
written once per server as request paths (one per line) so that every server renders the
same tiles in the same order.

BBOX_JSON is the layer's [west, south, east, north] (east may exceed 180 when the grid crosses
the antimeridian). Up to 60 tiles per zoom, picked with a fixed seed.
"""
import json
import math
import random
import sys

R = 6378137.0
EXT = math.pi * R


def tile_range(z, west, south, east, north):
    n = 2 ** z
    def tx(lon):
        return int(math.floor((lon + 180.0) / 360.0 * n))
    def ty(lat):
        lat = max(min(lat, 85.0511), -85.0511)
        r = math.radians(lat)
        return int(math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n))
    xs = []
    for lo0, lo1 in ([(west, min(east, 180.0))] + ([(-180.0, east - 360.0)] if east > 180.0 else [])):
        lo0 = (lo0 + 180.0) % 360.0 - 180.0 if lo0 > 180.0 else lo0
        xs.extend(range(max(tx(lo0), 0), min(tx(lo1), n - 1) + 1))
    ys = range(max(ty(north), 0), min(ty(south), n - 1) + 1)
    return [(x, y) for x in sorted(set(xs)) for y in ys]


def bbox3857(z, x, y):
    size = 2 * EXT / 2 ** z
    minx = -EXT + x * size
    maxy = EXT - y * size
    return minx, maxy - size, minx + size, maxy


def main():
    west, south, east, north = json.loads(sys.argv[1])
    out = sys.argv[2]
    rnd = random.Random(42)
    tiles = []
    for z in range(2, 9):
        t = tile_range(z, west, south, east, north)
        rnd.shuffle(t)
        tiles.extend((z, x, y) for x, y in t[:60])
    with open(f"{out}/tiles_fst.txt", "w") as f:
        for z, x, y in tiles:
            f.write(f"/tiles/TT/{z}/{x}/{y}.png?style=temperature\n")
    with open(f"{out}/tiles_mapserver.txt", "w") as f:
        for z, x, y in tiles:
            b = ",".join("%.6f" % v for v in bbox3857(z, x, y))
            f.write("/mapserv?map=BENCH&SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TT&STYLES=&CRS=EPSG:3857"
                    f"&BBOX={b}&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE\n")
    with open(f"{out}/tiles_mapserver-4326.txt", "w") as f:
        for z, x, y in tiles:
            b = ",".join("%.6f" % v for v in bbox3857(z, x, y))
            f.write("/mapserv?map=BENCH4326&SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TT&STYLES=&CRS=EPSG:3857"
                    f"&BBOX={b}&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE\n")
    # titiler gets the field pre-warped to EPSG:4326: with the native rotated-pole GeoTIFF it
    # computes the bounds of this antimeridian-crossing grid wrongly and answers most tiles
    # with 404 "outside bounds".
    with open(f"{out}/tiles_titiler.txt", "w") as f:
        for z, x, y in tiles:
            f.write(f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url={out}/bench4326.tif&rescale=-40,40"
                    "&colormap_name=rdylbu_r&resampling=bilinear\n")
    # The tile holding the grid's centre at z 5, for the first-tile (cold) measurement.
    lon = (west + east) / 2.0
    lon = lon - 360.0 if lon > 180.0 else lon
    lat = math.radians((south + north) / 2.0)
    n = 2 ** 5
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * n)
    with open(f"{out}/first_tile.txt", "w") as f:
        f.write(f"/tiles/TT/5/{x}/{y}.png?style=temperature\n")
    print(len(tiles))


if __name__ == "__main__":
    main()
