"""The decoding floor of the benchmark: CPU that any server must spend on its tiles.

A cold tile of ``tiles_bench.py`` reads compressed 512 x 512 blocks of the scenes (DEFLATE with
a horizontal predictor, four bands pixel-interleaved, so a block decodes all four bands
whichever band is asked for). Whatever a server does around it, it decodes every block its
tile window touches at the overview level it reads. This script counts those blocks for the
benchmark's tile list, with this server's own read plan (:func:`tiles.data.reading.
plan_band_read`) and tile grid, measures the CPU time of decoding one block of each level
(a fresh dataset, one GDAL thread, no block cache), and prints the floor per workload: the
blocks' decoding CPU per tile. Given ``--titiler-json`` (a ``tiles_bench.py --json`` file) it
also prints TiTiler's measured CPU per tile over the floor: the most a server that decodes
every block once can gain on TiTiler in tiles per CPU-second.

Run: .venv/bin/python bench/decode_floor.py [--titiler-json run.json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import rasterio
from rasterio.warp import transform_bounds
from rasterio.windows import Window

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenes import make_scenes  # noqa: E402
from tiles_bench import tile_list  # noqa: E402

#: Files each workload reads per tile (every file of one scene holds all four bands).
FILES_PER_TILE = {"band": 1, "rgb": 1, "ndvi": 1, "median6": 6}


def blocks_touched(src, level_factor: int, bounds: tuple[float, float, float, float]) -> int:
    """Blocks of ``src`` at overview ``level_factor`` that the window over ``bounds`` touches."""
    left, bottom, right, top = transform_bounds("EPSG:3857", src.crs, *bounds)
    size = abs(src.transform.a) * level_factor
    block = src.block_shapes[0][0]
    c0, c1 = (left - src.transform.c) / size, (right - src.transform.c) / size
    r0, r1 = (src.transform.f - top) / size, (src.transform.f - bottom) / size
    cols = math.floor(c1 / block) - math.floor(c0 / block) + 1
    rows = math.floor(r1 / block) - math.floor(r0 / block) + 1
    return cols * rows


def block_decode_cpu_ms(path: Path, overview_level: int | None, samples: int = 15) -> float:
    """Median CPU ms to decode one whole block at ``overview_level`` (None: full resolution)."""
    kwargs = {} if overview_level is None else {"overview_level": overview_level}
    times = []
    with rasterio.Env(GDAL_NUM_THREADS="1", GDAL_CACHEMAX=0):
        for i in range(samples):
            with rasterio.open(path, **kwargs) as src:
                block = src.block_shapes[0][0]
                across = max(1, src.width // block - 1)
                col, row = (
                    (i % across) * block,
                    ((i // across) % max(1, src.height // block)) * block,
                )
                t0 = time.process_time()
                src.read(1, window=Window(col, row, block, block))
                times.append(time.process_time() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--titiler-json", type=Path, help="a tiles_bench.py --json file")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tiles.data.reading import plan_band_read
    from tiles.geocontext import XYZTile

    path = make_scenes(args.size)[0]
    tiles = tile_list(path)
    with rasterio.open(path) as src:
        factors = [1, *src.overviews(1)]
        cost = {}
        per_tile = []
        for t in tiles:
            ctx = XYZTile(t.x, t.y, t.z)
            plan = plan_band_read(str(path), 1, ctx)
            level = plan.overview_level
            if level not in cost:
                cost[level] = block_decode_cpu_ms(path, level)
            factor = factors[0 if level is None else level + 1]
            per_tile.append(blocks_touched(src, factor, ctx.bounds) * cost[level])
    floor = statistics.mean(per_tile)
    levels = ", ".join(
        f"{'full' if k is None else k}: {v:.1f}"
        for k, v in sorted(cost.items(), key=lambda kv: -1 if kv[0] is None else kv[0])
    )
    print(f"{len(tiles)} tiles; CPU ms to decode one block by overview level: {levels}")
    print(f"decoding floor, one file: {floor:.1f} ms CPU per tile on average")

    titiler = {}
    if args.titiler_json:
        for run in json.loads(args.titiler_json.read_text()):
            if run["system"] == "titiler" and run["concurrency"] == 1:
                titiler.setdefault(run["workload"], []).append(run["cpu_ms"])
    print(f"\n{'workload':9} {'floor ms':>9} {'TiTiler ms':>11} {'TiTiler / floor':>16}")
    for name, files in FILES_PER_TILE.items():
        theirs = statistics.median(titiler[name]) if name in titiler else float("nan")
        print(f"{name:9} {floor * files:9.1f} {theirs:11.1f} {theirs / (floor * files):16.2f}")


if __name__ == "__main__":
    main()
