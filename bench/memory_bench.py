"""Server memory over thousands of distinct tiles: it must level off.

This server and TiTiler (``bench/servers.py``) serve the full-size benchmark scenes
(``bench/scenes.py``). Both get the same shuffled requests for distinct tiles over z10-z14 and
the three single-image workloads of ``tiles_bench.py``, in alternating batches: first
``--fill`` requests, enough for this server's caches to fill, then ``--requests`` more. Each
server's memory (the PSS of its whole process group, forked workers included, and for this
server the tiles its processes share in ``/dev/shm``, see ``servers.TilesServer.pss_mb``) is
sampled after every batch. Reported: each server's memory after
the fill and at the end, the growth between them (the caches are full by then, so it should
be near zero), and this server's cache bytes from ``/health`` beside their budgets. TiTiler
keeps no caches: its memory is the baseline of what a tile server without them needs,
measured in the same run.

Run: .venv/bin/python bench/memory_bench.py [--fill 2000] [--requests 5000] [--env NAME=VALUE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import urllib.request
from pathlib import Path

import mercantile
import rasterio
from rasterio.warp import transform_bounds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenes import bench_dir, make_scenes  # noqa: E402
from servers import TilesServer, TiTiler, fetch_all  # noqa: E402
from tiles_bench import PER_ZOOM, fill, make_catalog, workloads  # noqa: E402

BATCH = 500


def all_tiles(path: Path) -> list[mercantile.Tile]:
    """Every tile of the benchmark's zooms wholly inside the scene."""
    with rasterio.open(path) as src:
        w, s, e, n = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    return [
        t
        for t in mercantile.tiles(w, s, e, n, list(PER_ZOOM))
        if (b := mercantile.bounds(t)).west >= w and b.east <= e and b.south >= s and b.north <= n
    ]


def cache_bytes(server: TilesServer) -> dict:
    with urllib.request.urlopen(f"{server.base_url}/health", timeout=30) as resp:
        health = json.loads(resp.read())
    return {k: v for k, v in health.items() if k.endswith("cache") and v and "max_bytes" in v}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--fill", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()

    venv = bench_dir() / "titiler-venv"
    paths = make_scenes(args.size, 6)
    catalog = make_catalog(paths, args.size)
    mosaic = TiTiler.make_mosaic(venv, paths, bench_dir() / f"mosaic-{args.size}-6.json")
    specs = {k: v for k, v in workloads(paths[0], mosaic).items() if k != "median6"}
    jobs = [(name, t) for t in all_tiles(paths[0]) for name in specs]
    random.Random(18).shuffle(jobs)
    total = args.fill + args.requests
    if len(jobs) < total:
        sys.exit(f"only {len(jobs)} distinct tiles; lower --fill/--requests")
    jobs = jobs[:total]
    env = dict(item.split("=", 1) for item in args.env)
    work = Path(tempfile.mkdtemp(prefix="tiles-memory-"))
    with TilesServer(catalog, work / "t", env) as ours, TiTiler(venv, work / "tt") as theirs:
        templates = {"tiles": {}, "titiler": {}}
        for name, spec in specs.items():
            templates["tiles"][name] = ours.register(spec["obj"], name, **spec["options"]).url()
            kind, path, query = spec["titiler"]
            build = theirs.cog_url if kind == "cog" else theirs.mosaic_url
            templates["titiler"][name] = build(path, query)
        samples: dict[str, list[tuple[int, float]]] = {"tiles": [], "titiler": []}
        print(f"{len(jobs)} distinct tile requests in batches of {BATCH}, "
              f"concurrency {args.concurrency}", flush=True)  # fmt: skip
        for start in range(0, total, BATCH):
            batch = jobs[start : start + BATCH]
            for system, server in (("tiles", ours), ("titiler", theirs)):
                urls = [fill(templates[system][name], [t])[0] for name, t in batch]
                fetch_all(urls, args.concurrency)
                samples[system].append((start + len(batch), server.pss_mb()))
            print(f"  {start + len(batch):6d}  tiles {samples['tiles'][-1][1]:7.0f} MiB  "
                  f"titiler {samples['titiler'][-1][1]:7.0f} MiB", flush=True)  # fmt: skip
        caches = cache_bytes(ours)

    print(f"\n{'server':8} {'PSS after fill':>15} {'PSS at end':>11} {'growth MiB':>11}")
    for system, points in samples.items():
        filled = next(mb for done, mb in points if done >= args.fill)
        print(f"{system:8} {filled:15.0f} {points[-1][1]:11.0f} {points[-1][1] - filled:11.0f}")
    print("\nthis server's caches (MiB held / budget):")
    for name, stats in caches.items():
        print(f"  {name:12} {stats['bytes'] / 2**20:7.1f} / {stats['max_bytes'] / 2**20:7.1f}")


if __name__ == "__main__":
    main()
