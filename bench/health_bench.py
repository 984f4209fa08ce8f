"""``/health`` latency and tiles/s with the GIL switch interval at Python's default against
the server's (``TILES_SWITCH_INTERVAL_MS``), measured in one run.

For each setting, in alternating order over ``--repeats``: a fresh ``python -m tiles serve
--workers 1`` on the sample catalog, ``--clients`` threads (8) fetching the same shuffled list
of ``--tiles`` distinct tiles (a year's NDVI median and one band of one scene, in turns, so
that every request computes), while ``--hostile`` threads (2) keep asking for a tile whose
graft loops in Python (hanging up after 2 s, which stops it, as in ``soak.py``) and a poller
in a process of its own asks ``/health`` every 0.25 s. Printed per setting: tiles/s and ``/health`` p50, p99 and max (medians over the
repeats), and their ratios against Python's default measured in the same run.

Run: .venv/bin/python bench/health_bench.py [--repeats 3] [--tiles 400] [--interval-ms 1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import mercantile

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from soak import (  # noqa: E402
    SoakServer,
    endless_image,
    hang_up_after,
    poll_health,
    prepare_catalog,
    request,
)

import tiles as wf  # noqa: E402

#: Python's own switch interval, in milliseconds.
PYTHON_DEFAULT_MS = 5.0


def layers(base: str) -> list[str]:
    """URL templates of a year's NDVI median, one band of one scene and an endless graft."""
    from tiles.server import register_layer

    s2 = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01")
    red, nir = s2.unpack_bands("red nir")
    ndvi = ((nir - red) / (nir + red)).median(axis="images")
    band = wf.Image.from_id("sample:s2:20230115_z13").pick_bands("red")
    return [
        register_layer(ndvi, "ndvi", server=base, scales=[[-0.2, 0.8]]).url_template,
        register_layer(band, "red", server=base, scales=[[0, 0.3]]).url_template,
        register_layer(endless_image(), "endless", server=base).url_template,
    ]


def distinct_tiles(count: int) -> list[mercantile.Tile]:
    """``count`` shuffled distinct z12-z14 tiles over the sample scenes."""
    from tiles.data import catalog

    boxes = [r.bounds_lonlat for r in catalog.search("sample:s2")]
    w, s = min(b[0] for b in boxes), min(b[1] for b in boxes)
    e, n = max(b[2] for b in boxes), max(b[3] for b in boxes)
    tiles = list(mercantile.tiles(w + 0.02, s + 0.02, e - 0.02, n - 0.02, [12, 13, 14]))
    random.Random(7).shuffle(tiles)
    if len(tiles) < count:
        sys.exit(f"only {len(tiles)} distinct tiles over the sample scenes; lower --tiles")
    return tiles[:count]


def one_run(catalog: Path, interval_ms: float, tiles: list, clients: int, hostile: int) -> dict:
    """tiles/s and /health latencies of one fresh server with the given switch interval."""
    workdir = Path(tempfile.mkdtemp(prefix="tiles-health-bench-"))
    env = {"TILES_SWITCH_INTERVAL_MS": str(interval_ms)}
    mp = multiprocessing.get_context("spawn")
    stop = mp.Event()
    results, sender = mp.Pipe(duplex=False)
    try:
        with SoakServer(catalog, workdir, env) as server:
            templates = layers(server.base_url)
            todo = [templates[i % 2].format(z=t.z, x=t.x, y=t.y) for i, t in enumerate(tiles)]
            lock = threading.Lock()
            failures: list[int] = []

            def client() -> None:
                while True:
                    with lock:
                        if not todo:
                            return
                        url = todo.pop()
                    status = request("GET", url)[0]
                    if status != 200:
                        with lock:
                            failures.append(status)

            done = threading.Event()
            endless = templates[2].format(z=tiles[0].z, x=tiles[0].x, y=tiles[0].y)

            def python_load() -> None:
                while not done.is_set():
                    hang_up_after(endless, 2.0)

            poller = mp.Process(target=poll_health, args=(server.base_url, stop, sender))
            poller.start()
            time.sleep(2)  # the poller's own start-up
            loaders = [threading.Thread(target=python_load) for _ in range(hostile)]
            threads = [threading.Thread(target=client) for _ in range(clients)]
            started = time.perf_counter()
            for thread in loaders + threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            done.set()
            stop.set()
            for thread in loaders:
                thread.join()
            health_ms, health_failures = results.recv()
            poller.join()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ms = sorted(health_ms)
    return {
        "tiles_per_s": (len(tiles) - len(failures)) / elapsed,
        "failures": len(failures) + health_failures,
        "p50": statistics.median(ms),
        "p99": ms[min(len(ms) - 1, int(0.99 * len(ms)))],
        "max": ms[-1],
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiles", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--hostile", type=int, default=2)
    parser.add_argument("--interval-ms", type=float, default=1.0)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tiles-health-bench-catalog-"))
    try:
        catalog = workdir / "catalog.sqlite"
        prepare_catalog(catalog)
        tiles = distinct_tiles(args.tiles)
        settings = [PYTHON_DEFAULT_MS, args.interval_ms]
        runs: dict[float, list[dict]] = {s: [] for s in settings}
        for repeat in range(args.repeats):
            for interval in settings if repeat % 2 == 0 else settings[::-1]:
                run = one_run(catalog, interval, tiles, args.clients, args.hostile)
                runs[interval].append(run)
                print(
                    f"  repeat {repeat + 1}, switch interval {interval:g} ms: "
                    f"{run['tiles_per_s']:.2f} tiles/s, /health p50 {run['p50']:.0f} ms, "
                    f"p99 {run['p99']:.0f} ms, max {run['max']:.0f} ms, "
                    f"failures {run['failures']}, load {run['load']:.1f}",
                    flush=True,
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def med(interval: float, key: str) -> float:
        return statistics.median(r[key] for r in runs[interval])

    base = PYTHON_DEFAULT_MS
    print(
        f"\n{args.tiles} distinct tiles, {args.clients} clients, {args.hostile} hostile, "
        f"median of {args.repeats}:"
    )
    print(f"{'switch interval':>16} {'tiles/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for interval in settings:
        print(
            f"{interval:>13g} ms {med(interval, 'tiles_per_s'):8.2f} {med(interval, 'p50'):7.0f} "
            f"{med(interval, 'p99'):7.0f} {med(interval, 'max'):7.0f}"
        )
    other = args.interval_ms
    print(
        f"ratios {other:g} ms / {base:g} ms: tiles/s "
        f"{med(other, 'tiles_per_s') / med(base, 'tiles_per_s'):.2f}x, /health p50 "
        f"{med(other, 'p50') / med(base, 'p50'):.2f}x, p99 {med(other, 'p99') / med(base, 'p99'):.2f}x"
    )


if __name__ == "__main__":
    main()
