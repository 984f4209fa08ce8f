"""Where a cold tile's time goes: the benchmark's tiles computed and encoded in-process.

Runs this checkout's tile pipeline (evaluate, read, reduce, render, encode; no HTTP) over
the fixed tile list of ``tiles_bench.py`` for one workload, with every cache cold, under
cProfile, and prints the CPU time per tile and the share of the profile's time in each
part; then the CPU time of a restyle (the computed arrays rendered and encoded with the
workload's new scales and colormap). Read threads are not profiled by cProfile: for ``median6`` the six reads run on them,
so their share shows as waiting in ``_run_all``, and CPU time counts all threads.

Run: .venv/bin/python bench/profile_tiles.py band [--size 10980] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenes import make_scenes  # noqa: E402
from tiles_bench import make_catalog, tile_list, workloads  # noqa: E402

#: Parts of a tile's work, by the functions whose cumulative time measures it.
PARTS = {
    "reads (inline, or waiting for read threads)": ("_run_all",),
    "  warp in this thread (reproject)": ("reproject",),
    "  read plans (overview choice)": ("plan_band_read",),
    "per-pixel median over images": ("median", "masked_median"),
    "render: scale + colormap": ("render", "_scaled", "_compose"),
    "PNG encode (Pillow save)": ("save",),
    "graph evaluation (catalog, builtins)": ("evaluate_value",),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["band", "rgb", "ndvi", "median6"])
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    paths = make_scenes(args.size, 6)
    make_catalog(paths, args.size)
    from tiles.data import reading
    from tiles.engine import render
    from tiles.geocontext import XYZTile
    from tiles.server import pipeline

    tiles = tile_list(paths[0])
    spec = workloads(paths[0], paths[0])[args.workload]
    graft, options = spec["obj"].graft, spec["options"]
    reduction = options.get("reduction", "mosaic")

    computed = []

    def tile(t) -> bytes:
        data = pipeline.compute_tile(graft, {}, XYZTile(t.x, t.y, t.z), reduction)
        computed.append(data)
        return render.render_png(data.array, options["scales"], options.get("colormap"))

    # First use (imports, the catalog, colormaps) on a tile outside the list.
    first = tiles[0]
    tile(XYZTile(first.x // 8, first.y // 8, first.z - 3))
    reading.clear_read_cache()
    profile = cProfile.Profile()
    wall, cpu = time.perf_counter(), time.process_time()
    profile.enable()
    for t in tiles:
        tile(t)
    profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{args.workload}: {1000 * cpu / len(tiles):.1f} ms CPU per tile (all threads), "
          f"{1000 * wall / len(tiles):.1f} ms wall")  # fmt: skip

    stats = pstats.Stats(profile)
    total = sum(v[3] for k, v in stats.stats.items() if k[2] == "tile")
    print(f"\n{'part':45} {'of a tile':>10}")
    for part, pattern in PARTS.items():
        cum = sum(v[3] for k, v in stats.stats.items() if k[2] in pattern)
        print(f"{part:45} {100 * cum / total:10.1f}%")
    # A restyle: the computed arrays again, with the new look (render and encode only).
    look = spec["restyle"]
    times = []
    for data in computed[1:]:
        t0 = time.process_time()
        render.render_png(data.array, look["scales"], look.get("colormap"))
        times.append(time.process_time() - t0)
    print(f"\nrestyle (render + encode a cached array): {1000 * statistics.median(times):.2f} ms "
          "CPU, median over the tiles")  # fmt: skip
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
