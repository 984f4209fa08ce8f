"""Cold tiles on full-size scenes: this server against TiTiler, interleaved in one run.

What users wait for is a tile nobody has asked for yet: every pan and every new parameter
value. This benchmark serves six full-size Sentinel-2-like COGs (``bench/scenes.py``: 10980 px,
4 bands, DEFLATE, internal overviews) from this server and from TiTiler (titiler.core +
titiler.mosaic on uvicorn, ``bench/make_titiler_venv.sh``), each in its own process, over the
same fixed shuffled list of tiles over z10-z14, with keep-alive clients. Workloads:

* ``band``    one band with a colormap
* ``rgb``     three bands with scales
* ``ndvi``    (nir - red) / (nir + red) with a colormap
* ``median6`` per-pixel median of one band over the six dates, with a colormap
  (TiTiler: a MosaicJSON of the six scenes with ``pixel_selection=median``)

For every repeat, workload and concurrency (1, then 8) each server is started fresh, warmed
with one tile outside the list (imports, first-use set-up), then fetches the whole list once:
cold p50 latency at concurrency 1, tiles/s at concurrency 8, and server CPU per tile. The
two servers alternate which goes first. After the cold pass at concurrency 1 this server is
also asked for the same tiles again (``warm``: its PNG cache) and with new scales and colormap
(``restyle``: its array cache). Ratios are ours / TiTiler, medians over the repeats.

Run: .venv/bin/python bench/tiles_bench.py [--repeats 5] [--size 10980] [--workloads band,rgb]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path

import mercantile
import rasterio
from rasterio.warp import transform_bounds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenes import BANDS, DATES, bench_dir, make_scenes  # noqa: E402
from servers import REPO, TilesServer, TiTiler, fetch_all  # noqa: E402

#: Tiles per zoom in the list (98 in all), drawn with a fixed seed from those wholly inside.
PER_ZOOM = {10: 2, 11: 8, 12: 18, 13: 30, 14: 40}
PRODUCT = "bench:s2"
REFLECTANCE = 10000  # stored values per unit of reflectance


def make_catalog(paths: list[Path], size: int) -> Path:
    """A catalog holding the scenes as product ``bench:s2`` (made once, beside the scenes)."""
    path = bench_dir() / f"catalog-{size}-{len(paths)}.sqlite"
    os.environ["TILES_CATALOG"] = str(path)
    sys.path.insert(0, str(REPO))
    from tiles.data import catalog

    if not path.exists():
        bands = [
            {"name": b, "data_range": (0, REFLECTANCE), "physical_range": (0, 1), "nodata": 0}
            for b in BANDS
        ]
        catalog.create_product(PRODUCT, bands)
        for p, date in zip(paths, DATES, strict=False):
            catalog.add_image(PRODUCT, str(p), image_id=p.stem, acquired=date.isoformat())
    return path


def tile_list(path: Path, seed: int = 18) -> list[mercantile.Tile]:
    """The fixed shuffled list: :data:`PER_ZOOM` tiles per zoom wholly inside the scene."""
    with rasterio.open(path) as src:
        w, s, e, n = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    rng = random.Random(seed)
    chosen = []
    for z, count in PER_ZOOM.items():
        inside = [
            t
            for t in mercantile.tiles(w, s, e, n, z)
            if (b := mercantile.bounds(t)).west >= w
            and b.east <= e
            and b.south >= s
            and b.north <= n
        ]
        chosen += rng.sample(inside, min(count, len(inside)))
    rng.shuffle(chosen)
    return chosen


def workloads(first: Path, mosaic: Path) -> dict[str, dict]:
    """Each workload: this server's layer and options, restyle options, TiTiler's URL query."""
    import tiles as wf

    img = wf.Image.from_id(f"{PRODUCT}:{first.stem}")
    nir, red = img.unpack_bands("nir red")
    dates = wf.ImageCollection.from_id(PRODUCT, "2020-01-01", "2021-01-01")
    hi = str(int(0.3 * REFLECTANCE))
    return {
        "band": {
            "obj": img.pick_bands("red"),
            "options": {"scales": [[0, 0.3]], "colormap": "viridis"},
            "restyle": {"scales": [[0, 0.25]], "colormap": "magma"},
            "titiler": ("cog", first, [("bidx", "1"), ("rescale", f"0,{hi}"),
                                       ("colormap_name", "viridis")]),
        },
        "rgb": {
            "obj": img.pick_bands("red green blue"),
            "options": {"scales": [[0, 0.3]] * 3},
            "restyle": {"scales": [[0, 0.25]] * 3},
            "titiler": ("cog", first, [("bidx", b) for b in "123"]
                        + [("rescale", f"0,{hi}")] * 3),
        },
        "ndvi": {
            "obj": (nir - red) / (nir + red),
            "options": {"scales": [[-0.2, 0.8]], "colormap": "RdYlGn"},
            "restyle": {"scales": [[-0.1, 0.6]], "colormap": "viridis"},
            "titiler": ("cog", first, [("expression", "(b4-b1)/(b4+b1)"),
                                       ("rescale", "-0.2,0.8"), ("colormap_name", "rdylgn")]),
        },
        "median6": {
            "obj": dates.pick_bands("red"),
            "options": {"scales": [[0, 0.3]], "colormap": "viridis", "reduction": "median"},
            "restyle": {"scales": [[0, 0.25]], "colormap": "magma", "reduction": "median"},
            "titiler": ("mosaic", mosaic, [("bidx", "1"), ("pixel_selection", "median"),
                                           ("rescale", f"0,{hi}"), ("colormap_name", "viridis")]),
        },
    }  # fmt: skip


def fill(template: str, tiles: list[mercantile.Tile]) -> list[str]:
    return [template.format(z=t.z, x=t.x, y=t.y) for t in tiles]


def run_tiles(spec: dict, catalog: Path, work: Path, tiles, warmup, concurrency, env) -> dict:
    """One cold pass of this server (plus warm and restyle passes at concurrency 1)."""
    with TilesServer(catalog, work, env) as server:
        layer = server.register(spec["obj"], "bench", **spec["options"])
        url = layer.url()
        fetch_all(fill(url, [warmup]), 1)
        cpu0 = server.cpu_seconds()
        result = fetch_all(fill(url, tiles), concurrency)
        result["cpu_ms"] = 1000 * (server.cpu_seconds() - cpu0) / len(tiles)
        if concurrency == 1:
            result["warm_p50_ms"] = fetch_all(fill(url, tiles), 1)["p50_ms"]
            restyled = layer.url(**spec["restyle"])
            result["restyle_p50_ms"] = fetch_all(fill(restyled, tiles), 1)["p50_ms"]
        result["pss_mb"] = server.pss_mb()
    return result


def run_titiler(spec: dict, venv: Path, work: Path, tiles, warmup, concurrency) -> dict:
    kind, path, query = spec["titiler"]
    with TiTiler(venv, work) as server:
        url = (server.cog_url if kind == "cog" else server.mosaic_url)(path, query)
        fetch_all(fill(url, [warmup]), 1)
        cpu0 = server.cpu_seconds()
        result = fetch_all(fill(url, tiles), concurrency)
        result["cpu_ms"] = 1000 * (server.cpu_seconds() - cpu0) / len(tiles)
        result["pss_mb"] = server.pss_mb()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10980, help="scene side in pixels")
    parser.add_argument("--count", type=int, default=6, help="scenes (dates)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workloads", default="band,rgb,ndvi,median6")
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for this server's process (repeatable)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args()

    venv = bench_dir() / "titiler-venv"
    if not (venv / "bin" / "uvicorn").exists():
        sys.exit(f"no TiTiler venv at {venv}: run bash bench/make_titiler_venv.sh first")
    paths = make_scenes(args.size, args.count)
    catalog = make_catalog(paths, args.size)
    mosaic = TiTiler.make_mosaic(venv, paths, bench_dir() / f"mosaic-{args.size}-{args.count}.json")
    tiles = tile_list(paths[0])
    centre = tiles[0]
    warmup = mercantile.parent(mercantile.parent(mercantile.parent(centre)))
    specs = {k: v for k, v in workloads(paths[0], mosaic).items() if k in args.workloads}
    env = dict(item.split("=", 1) for item in args.env)
    levels = [int(c) for c in args.concurrency.split(",")]
    work = Path(tempfile.mkdtemp(prefix="tiles-bench-"))
    print(f"{len(tiles)} tiles z{min(PER_ZOOM)}-z{max(PER_ZOOM)}, {len(paths)} scenes of "
          f"{args.size} px, {os.cpu_count()} cores, {args.repeats} repeats", flush=True)  # fmt: skip

    runs: list[dict] = []
    for repeat in range(args.repeats):
        for name, spec in specs.items():
            for concurrency in levels:
                order = ["tiles", "titiler"] if (repeat + concurrency) % 2 else ["titiler", "tiles"]
                for system in order:
                    if system == "tiles":
                        r = run_tiles(spec, catalog, work / "t", tiles, warmup, concurrency, env)
                    else:
                        r = run_titiler(spec, venv, work / "tt", tiles, warmup, concurrency)
                    r.update(repeat=repeat, workload=name, concurrency=concurrency, system=system)
                    runs.append(r)
                    print(f"  {repeat} {name:8} c{concurrency} {system:8} p50 {r['p50_ms']:7.1f} "
                          f"ms  {r['tiles_per_s']:6.1f} tiles/s  cpu {r['cpu_ms']:6.1f} ms/tile",
                          flush=True)  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    report(runs, specs, levels)


def report(runs: list[dict], specs: dict, levels: list[int]) -> None:
    """Medians over repeats, and ours / TiTiler ratios."""

    def med(workload, concurrency, system, key):
        values = [
            r[key]
            for r in runs
            if (r["workload"], r["concurrency"], r["system"]) == (workload, concurrency, system)
            and key in r
        ]
        return statistics.median(values) if values else float("nan")

    print("\nmedians over repeats; ratio = tiles / titiler")
    print(f"{'workload':9} {'conc':>4} {'p50 ms':>8} {'titiler':>8} {'ratio':>6} {'tiles/s':>8} "
          f"{'titiler':>8} {'ratio':>6} {'cpu/tile':>8} {'ratio':>6}")  # fmt: skip
    for name in specs:
        for c in levels:
            ours = {k: med(name, c, "tiles", k) for k in ("p50_ms", "tiles_per_s", "cpu_ms")}
            theirs = {k: med(name, c, "titiler", k) for k in ("p50_ms", "tiles_per_s", "cpu_ms")}
            print(f"{name:9} {c:4d} {ours['p50_ms']:8.1f} {theirs['p50_ms']:8.1f} "
                  f"{ours['p50_ms'] / theirs['p50_ms']:6.2f} {ours['tiles_per_s']:8.1f} "
                  f"{theirs['tiles_per_s']:8.1f} {ours['tiles_per_s'] / theirs['tiles_per_s']:6.2f} "
                  f"{ours['cpu_ms']:8.1f} {ours['cpu_ms'] / theirs['cpu_ms']:6.2f}")  # fmt: skip
    if 1 in levels:
        print(f"\n{'workload':9} {'warm p50 ms':>12} {'restyle p50 ms':>15} {'PSS MiB':>8} "
              f"{'titiler PSS':>12}")  # fmt: skip
        for name in specs:
            print(f"{name:9} {med(name, 1, 'tiles', 'warm_p50_ms'):12.1f} "
                  f"{med(name, 1, 'tiles', 'restyle_p50_ms'):15.1f} "
                  f"{med(name, 1, 'tiles', 'pss_mb'):8.0f} {med(name, 1, 'titiler', 'pss_mb'):12.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
