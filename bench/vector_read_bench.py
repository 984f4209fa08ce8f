"""Vector product reads: this tree against another checkout of the project, in one run.

Registers the real Shapefile and GeoPackage of ``../shared/data`` in a fresh catalog and times
``read_features`` over a fixed list of GeoContexts (Europe for the countries, the labelled
Sentinel-2 tile for the GeoPackage), each tree in its own process, alternating, and prints
medians and the ratio. Use it to compare the reader before and after a change::

    git worktree add /tmp/before <rev>
    python bench/vector_read_bench.py --baseline /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

WORKER = r"""
import json, sys, time
import numpy as np
from tiles.data.vector_products import create_vector_product, read_features
from tiles.geocontext import AOI

data, repeats = sys.argv[1], int(sys.argv[2])
create_vector_product("b:countries", f"{data}/vector/naturalearth_lowres/naturalearth_lowres.shp")
create_vector_product("b:labels", f"{data}/optical/sentinel2_l1c_33UUU_20170216/s2l1c_ref.gpkg")
rng = np.random.default_rng(0)
jobs = []
for _ in range(40):
    w, s = rng.uniform(-10, 25), rng.uniform(36, 60)
    jobs.append(("b:countries", AOI(bounds=(w, s, w + 4, s + 3), crs="EPSG:4326", resolution=0.05)))
for _ in range(40):
    w, s = rng.uniform(12.55, 12.61), rng.uniform(52.45, 52.49)
    jobs.append(("b:labels", AOI(bounds=(w, s, w + 0.01, s + 0.01), crs="EPSG:32633", resolution=10)))
out = {}
for product in ("b:countries", "b:labels"):
    times, count = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        for pid, ctx in jobs:
            if pid == product:
                count += len(read_features(pid, ctx))
        times.append(time.perf_counter() - t0)
    out[product] = {"seconds": min(times), "features": count}
print(json.dumps(out))
"""


def run(tree: Path, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYTHONPATH=str(tree), TILES_CATALOG=f"{tmp}/catalog.sqlite")
        done = subprocess.run(
            [sys.executable, "-c", WORKER, str(DATA), str(repeats)],
            env=env, cwd=tmp, capture_output=True, text=True, check=True,
        )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict]] = {"baseline": [], "this": []}
    for _ in range(args.rounds):
        results["baseline"].append(run(args.baseline, args.repeats))
        results["this"].append(run(ROOT, args.repeats))
    for product in ("b:countries", "b:labels"):
        base = statistics.median(r[product]["seconds"] for r in results["baseline"])
        this = statistics.median(r[product]["seconds"] for r in results["this"])
        features = (
            results["baseline"][0][product]["features"],
            results["this"][0][product]["features"],
        )
        print(f"{product}: baseline {base * 1000:.1f} ms, this {this * 1000:.1f} ms, "
              f"ratio {this / base:.2f} (features read {features[0]} / {features[1]})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
