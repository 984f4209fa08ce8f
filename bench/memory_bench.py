"""Tile server memory over thousands of requests: resident memory must level off.

Serves ``--requests`` tiles (default 3000) of an NDVI layer with a threshold parameter over
real HTTP, cycling through many distinct tiles and parameter values so the array and PNG
caches fill and then evict. Resident memory (RSS) is sampled every 250 requests; the
baseline is the RSS after the first quarter of the run, measured in the same run, when the
caches are full. The report gives each later sample as a ratio of that baseline.

Run: .venv/bin/python bench/memory_bench.py [--requests 3000] [--cache-mb 64]
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mercantile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tiles as wf  # noqa: E402
from tiles.data import catalog  # noqa: E402
from tiles.server import RunningServer, tile_layer  # noqa: E402


def rss_mb() -> float:
    """Current resident set size of this process (server threads included), in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--cache-mb", type=int, default=64, help="array and PNG cache budget")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    s2 = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01")
    red, nir = s2.unpack_bands("red nir")
    ndvi = ((nir - red) / (nir + red)).max(axis="images")
    layer_obj = ndvi > wf.parameter("threshold", wf.Float)

    boxes = [r.bounds_lonlat for r in catalog.images("sample:s2")]
    w, s, e, n = (f(b[i] for b in boxes) for f, i in ((min, 0), (min, 1), (max, 2), (max, 3)))
    tiles = [t for z in (10, 11, 12, 13) for t in mercantile.tiles(w, s, e, n, z)]
    thresholds = [round(0.1 * k, 1) for k in range(1, 8)]
    workdir = Path(tempfile.mkdtemp(prefix="tiles-memory-"))
    server = RunningServer(
        "127.0.0.1",
        0,
        db_path=workdir / "layers.db",
        array_cache_bytes=args.cache_mb * 2**20,
        png_cache_bytes=args.cache_mb * 2**20 // 4,
    )
    try:
        layer = tile_layer(
            layer_obj, "ndvi>t", scales=[[0, 1]], threshold=0.3, server=server.base_url
        )
        pairs = itertools.islice(
            zip(itertools.cycle(tiles), itertools.cycle(thresholds)), args.requests
        )
        urls = [layer.url(threshold=th).format(z=t.z, x=t.x, y=t.y) for t, th in pairs]
        print(
            f"{len(tiles)} distinct tiles x {len(thresholds)} thresholds; {args.requests} requests"
        )

        def fetch(url: str) -> None:
            with urllib.request.urlopen(url, timeout=300) as resp:
                assert resp.status == 200 and resp.read(8) == b"\x89PNG\r\n\x1a\n"

        samples = []
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            for start in range(0, args.requests, 250):
                batch = urls[start : start + 250]
                list(pool.map(fetch, batch))
                samples.append((start + len(batch), rss_mb()))
        wall = time.perf_counter() - t0
    finally:
        server.stop()

    baseline = next(mb for done, mb in samples if done >= args.requests // 4)
    print(f"{'requests':>8} {'RSS MiB':>8} {'x baseline':>10}")
    for done, mb in samples:
        print(f"{done:8d} {mb:8.1f} {mb / baseline:10.3f}")
    print(f"{args.requests / wall:.1f} requests/s; last/baseline = {samples[-1][1] / baseline:.3f}")


if __name__ == "__main__":
    main()
