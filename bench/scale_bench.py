"""Scale-out, measured in one run: tiles/s of ``serve --workers 1`` against ``--workers 2``
under 8 clients, and a large computation in one process against a 2-worker LocalCluster.

Tiles: a compute-bound layer (per-pixel median of one band over the sample collection) and
a fixed shuffled list of distinct z14 tiles over the sample scenes, so every request
computes; each mode gets a fresh server and registry and the same list, 8 threads with
keep-alive-free requests, and the modes alternate over ``--repeats``.

Large computation: a ``--side`` x ``--side`` GeoContext (default 6000), a 6-image median of
two bands and an NDVI mean over pixels, once without ``TILES_DASK_SCHEDULER`` and once with
``local:2``; prints wall time, the client's peak traced memory (tracemalloc) and whether the
results are equal.

    python bench/scale_bench.py --repeats 2 --side 6000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import mercantile
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.scale.processes import ServeProcess  # noqa: E402
from tests.server.support import http, register, tile_url  # noqa: E402

CLIENTS = 8


def _tiles(count: int) -> list[mercantile.Tile]:
    from tiles.data import catalog

    boxes = [r.bounds_lonlat for r in catalog.search("sample:s2")]
    w, s = min(b[0] for b in boxes), min(b[1] for b in boxes)
    e, n = max(b[2] for b in boxes), max(b[3] for b in boxes)
    tiles = list(mercantile.tiles(w + 0.05, s + 0.05, e - 0.05, n - 0.05, 14))
    random.Random(7).shuffle(tiles)
    return tiles[:count]


def tiles_per_second(workers: int, tiles: list[mercantile.Tile], graft: dict) -> float:
    folder = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    env = {"TILES_REGISTRY": str(folder / "registry.sqlite")}
    with ServeProcess(env, ("--workers", str(workers)), log=folder / "server.log") as server:
        layer = register(server.url, graft, scales=[[0, 0.3]], colormap="viridis")
        http("GET", tile_url(layer, mercantile.Tile(0, 0, 1)))  # warm: imports, catalog
        queue = list(tiles)
        lock = threading.Lock()
        failures = []

        def client() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    tile = queue.pop()
                status = http("GET", tile_url(layer, tile), timeout=600)[0]
                if status != 200:
                    failures.append(status)

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    if failures:
        print(f"  {len(failures)} failed requests: {sorted(set(failures))}")
    return len(tiles) / elapsed


def bench_tiles(repeats: int, count: int) -> None:
    import tiles as wf

    graft = wf.ImageCollection.from_id("sample:s2").pick_bands("red").median(axis="images").graft
    tiles = _tiles(count)
    rates: dict[int, list[float]] = {1: [], 2: []}
    for r in range(repeats):
        for workers in (1, 2) if r % 2 == 0 else (2, 1):
            rate = tiles_per_second(workers, tiles, graft)
            rates[workers].append(rate)
            print(f"  repeat {r + 1}: --workers {workers}: {rate:.2f} tiles/s", flush=True)
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    print(
        f"tiles/s, {len(tiles)} distinct z14 median tiles, {CLIENTS} clients (median of {repeats}):"
    )
    print(f"  --workers 1: {one:.2f}   --workers 2: {two:.2f}   ratio 2/1: {two / one:.2f}x")


def _context(side: int):
    from rasterio.warp import transform

    from tiles import scenes

    (x,), (y,) = transform("EPSG:4326", "EPSG:32613", [-105.95], [35.72])
    h = 17_000
    return scenes.AOI(
        bounds=(x - h, y - h, x + h, y + h), bounds_crs="EPSG:32613", shape=(side, side),
        crs="EPSG:32613",
    )  # fmt: skip


def bench_compute(side: int) -> None:
    import tiles as wf
    from tiles.compute import distributed

    ctx = _context(side)
    ic = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01").head(6)
    red, nir = ic.unpack_bands("red nir")
    work = {
        "median of 6 images (red, nir)": ic.pick_bands("red nir").median(axis="images"),
        "NDVI mean over pixels": ((nir - red) / (nir + red))
        .mean(axis="images")
        .mean(axis="pixels"),
    }
    print(
        f"large compute, {side} x {side} pixels, blocks of {os.environ.get('TILES_CHUNK_SIDE', 1024)}:"
    )
    for name, proxy in work.items():
        results = {}
        for mode in ("one process", "LocalCluster(2)"):
            if mode == "one process":
                os.environ.pop("TILES_DASK_SCHEDULER", None)
            else:
                os.environ["TILES_DASK_SCHEDULER"] = "local:2"
                distributed.client()  # started before timing
            tracemalloc.start()
            start = time.perf_counter()
            result = proxy.compute(ctx, cache=False, progress_bar=False)
            elapsed = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            results[mode] = result
            print(
                f"  {name}, {mode}: {elapsed:.1f} s, client peak {peak / 2**20:.0f} MiB", flush=True
            )
        a, b = results.values()
        if isinstance(a, dict):
            same = a == b
        else:
            same = np.array_equal(
                np.ma.getdata(a.ndarray), np.ma.getdata(b.ndarray)
            ) and np.array_equal(np.ma.getmaskarray(a.ndarray), np.ma.getmaskarray(b.ndarray))
        print(f"  {name}: results equal: {same}")
    distributed.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tiles", type=int, default=96, help="distinct tiles per run")
    parser.add_argument("--side", type=int, default=6000)
    parser.add_argument("--skip", choices=["tiles", "compute"], default=None)
    args = parser.parse_args()
    if args.skip != "tiles":
        bench_tiles(args.repeats, args.tiles)
    if args.skip != "compute":
        bench_compute(args.side)


if __name__ == "__main__":
    main()
