"""Tile server throughput and latency, each beside baselines measured in the same run.

Workloads on the built-in sample catalog (``sample:s2``, 60 m Sentinel-2-like scenes). The
single-image ones read one scene copied into one 4-band COG (red, green, blue, nir), which
this server and TiTiler both serve, so both read the very same file:

* ``band+cmap``   one band with a colormap
* ``rgb``         three bands with scales
* ``ndvi+cmap``   normalized difference with a colormap
* ``rgb-3files``  three bands with scales, from the scene's three single-band files
* ``median6``     per-pixel median of a collection of 6 scenes

The benchmark uses its own catalog in a temporary folder (the sample is built there).

For each: p50/p95 latency and tiles/s at concurrency 1 and 8, over real HTTP to a tile
server started in this process, with cold caches (fresh server, read cache cleared) and
warm caches (the same URLs again). Baselines, same tiles, same run:

* ``floor``    in-process rasterio warp of the files into the tile grid + numpy scaling +
               Pillow PNG encode: no HTTP, no graph, no caches, the least work possible;
* ``titiler``  TiTiler (titiler.core + uvicorn) serving the same data, when a venv with it
               exists at ``$TITILER_VENV`` (default /tmp/titiler-venv); TiTiler has no
               collection median without titiler.mosaic, so median6 has no TiTiler number.

Ratios (``x floor``) compare across machines; absolute numbers do not.

Run: .venv/bin/python bench/tiles_bench.py [--tiles 24] [--zoom 13]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib
import mercantile
import numpy as np
import rasterio
from PIL import Image as PILImage
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rasterio.warp import reproject

# Runnable from a checkout without installing the package; a catalog of its own.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
WORKDIR = Path(tempfile.mkdtemp(prefix="tiles-bench-"))
os.environ["TILES_CATALOG"] = str(WORKDIR / "catalog.sqlite")

import tiles as wf  # noqa: E402
from tiles.data import catalog, reading  # noqa: E402
from tiles.server import RunningServer  # noqa: E402

IMAGE = "sample:s2:20230115_z13"
STACK_BANDS = ("red", "green", "blue", "nir")
STACK_IMAGE = "bench:stack:stack"
SCALE = 1e-4  # sample:s2 stores reflectance x 10000


def make_stack(workdir: Path) -> Path:
    """One 4-band COG of the benchmark scene, registered as product ``bench:stack``."""
    files = catalog.image(IMAGE).files
    stack = workdir / "stack.tif"
    arrays = []
    for band in STACK_BANDS:
        with rasterio.open(files[band][0]) as src:
            arrays.append(src.read(1))
            profile = src.profile
    profile.update(count=len(STACK_BANDS), driver="COG", compress="deflate")
    for key in ("blockxsize", "blockysize", "tiled", "interleave"):
        profile.pop(key, None)
    with rasterio.open(stack, "w", **profile) as dst:
        dst.write(np.stack(arrays))
    bands = [{"name": b, "data_range": (0, 10000), "physical_range": (0, 1), "nodata": 0}
             for b in STACK_BANDS]  # fmt: skip
    catalog.create_product("bench:stack", bands)
    catalog.add_image("bench:stack", str(stack), image_id="stack",
                      acquired=catalog.image(IMAGE).acquired)  # fmt: skip
    return stack


# ------------------------------------------------------------------------ workloads


def workloads() -> dict[str, dict]:
    """Layer definitions (proxy objects and options) and the floor's equivalent."""
    img = wf.Image.from_id(STACK_IMAGE)
    nir, red = img.unpack_bands("nir red")
    six = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01", limit=6)
    return {
        "band+cmap": {"obj": img.pick_bands("red"), "scales": [[0, 0.3]], "colormap": "viridis"},
        "rgb": {"obj": img.pick_bands("red green blue"), "scales": [[0, 0.3]] * 3},
        "ndvi+cmap": {
            "obj": (nir - red) / (nir + red),
            "scales": [[-0.2, 0.8]],
            "colormap": "RdYlGn",
        },
        "rgb-3files": {
            "obj": wf.Image.from_id(IMAGE).pick_bands("red green blue"),
            "scales": [[0, 0.3]] * 3,
        },
        "median6": {
            "obj": six.pick_bands("red"),
            "scales": [[0, 0.3]],
            "colormap": "viridis",
            "reduction": "median",
        },
    }


def bench_tiles(count: int, zoom: int) -> list[mercantile.Tile]:
    """Up to ``count`` tiles lying wholly inside the benchmark image, nearest its centre first."""
    w, s, e, n = catalog.image(IMAGE).bounds_lonlat
    inside = [
        t
        for t in mercantile.tiles(w, s, e, n, zoom)
        if (b := mercantile.bounds(t)).west >= w and b.east <= e and b.south >= s and b.north <= n
    ]
    cx, cy = (w + e) / 2, (s + n) / 2
    inside.sort(key=lambda t: (mercantile.ul(t).lng - cx) ** 2 + (mercantile.ul(t).lat - cy) ** 2)
    if not inside:
        raise SystemExit(f"no tile at zoom {zoom} lies inside {IMAGE}; use a higher --zoom")
    return inside[:count]


# ------------------------------------------------------------------------ measuring


def measure(fetch: Callable[[mercantile.Tile], bytes], tiles: list, concurrency: int) -> dict:
    """Latency percentiles and throughput of fetching every tile once."""
    latencies: list[float] = []

    def one(tile: mercantile.Tile) -> None:
        t0 = time.perf_counter()
        body = fetch(tile)
        latencies.append(time.perf_counter() - t0)
        assert body[:8] == b"\x89PNG\r\n\x1a\n", body[:200]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, tiles))
    wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "tiles_per_s": len(tiles) / wall,
    }


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=300) as resp:
        return resp.read()


# ------------------------------------------------------------------------ the floor


def warp(path: str, tile: mercantile.Tile, bidx=1, nodata: float = 0) -> np.ma.MaskedArray:
    """Band(s) ``bidx`` (an int or a list, warped in one pass) of ``path`` on ``tile``'s grid."""
    b = mercantile.xy_bounds(tile)
    shape = (256, 256) if isinstance(bidx, int) else (len(bidx), 256, 256)
    out = np.full(shape, np.nan, dtype=np.float32)
    with rasterio.open(path) as src:
        reproject(
            rasterio.band(src, bidx),
            out,
            src_nodata=nodata,
            dst_transform=from_bounds(b.left, b.bottom, b.right, b.top, 256, 256),
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
    return np.ma.masked_invalid(out.astype(np.float64) * SCALE)


def to_png(bands: list[np.ma.MaskedArray], scales, colormap: str | None) -> bytes:
    stretched = [
        np.clip((np.ma.filled(b, lo) - lo) / (hi - lo) * 255, 0, 255).astype(np.uint8)
        for b, (lo, hi) in zip(bands, scales, strict=True)
    ]
    if colormap:
        rgba = matplotlib.colormaps[colormap](stretched[0], bytes=True)
    else:
        rgba = np.dstack([*stretched, np.full((256, 256), 255, np.uint8)])
    hidden = np.zeros((256, 256), bool)
    for b in bands:
        hidden |= np.ma.getmaskarray(b)
    rgba[hidden] = 0
    buf = io.BytesIO()
    PILImage.fromarray(rgba).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def floor_fetcher(name: str, spec: dict, stack: Path) -> Callable[[mercantile.Tile], bytes]:
    files = catalog.image(IMAGE).files
    scales, cmap = spec["scales"], spec.get("colormap")
    red, green, blue, nir = (STACK_BANDS.index(b) + 1 for b in ("red", "green", "blue", "nir"))
    if name == "band+cmap":
        return lambda t: to_png([warp(stack, t, red)], scales, cmap)
    if name == "rgb":
        return lambda t: to_png(list(warp(stack, t, [red, green, blue])), scales, None)
    if name == "rgb-3files":
        return lambda t: to_png(
            [warp(files[b][0], t) for b in ("red", "green", "blue")], scales, None
        )
    if name == "ndvi+cmap":

        def ndvi(t):
            n, r = warp(stack, t, [nir, red])
            return to_png([(n - r) / (n + r)], scales, cmap)

        return ndvi
    records = catalog.search("sample:s2", "2023-01-01", "2024-01-01")[:6]

    def median(t):
        stack = np.ma.stack([warp(r.files["red"][0], t) for r in records])
        return to_png([np.ma.median(stack, axis=0)], scales, cmap)

    return median


# ------------------------------------------------------------------------ TiTiler

TITILER_APP = """
from fastapi import FastAPI
from titiler.core.factory import TilerFactory
app = FastAPI()
app.include_router(TilerFactory().router, prefix="/cog")
"""


class TiTiler:
    """TiTiler on a free port, from its own venv, serving 3-band copies of the scene."""

    def __init__(self, venv: Path, workdir: Path, stack: Path) -> None:
        (workdir / "titiler_app.py").write_text(TITILER_APP)
        self.stack = stack
        with socket_port() as port:
            self.port = port
        self.proc = subprocess.Popen(
            [str(venv / "bin" / "uvicorn"), "titiler_app:app", "--port", str(self.port)],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                http_get(f"http://127.0.0.1:{self.port}/docs")
                break
            except OSError:
                time.sleep(0.05)

    def fetcher(self, name: str, spec: dict) -> Callable[[mercantile.Tile], bytes] | None:
        base = f"http://127.0.0.1:{self.port}/cog/tiles/WebMercatorQuad"
        lo, hi = (v / SCALE for v in spec["scales"][0])
        query: list[tuple[str, str]] = [("url", str(self.stack)), ("format", "png")]
        if name == "band+cmap":
            query += [("bidx", "1"), ("rescale", f"{lo},{hi}")]
            query += [("colormap_name", spec["colormap"].lower())]
        elif name == "rgb":
            query += [("bidx", b) for b in "123"] + [("rescale", f"{lo},{hi}")] * 3
        elif name == "ndvi+cmap":
            lo, hi = spec["scales"][0]
            query += [("expression", "(b4-b1)/(b4+b1)"), ("rescale", f"{lo},{hi}")]
            query += [("colormap_name", "rdylgn")]
        else:
            return None
        q = urllib.parse.urlencode(query)
        return lambda t: http_get(f"{base}/{t.z}/{t.x}/{t.y}?{q}")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class socket_port:
    """A free TCP port on 127.0.0.1 (closed again before use)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


# ------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=24)
    parser.add_argument("--zoom", type=int, default=13)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    tiles = bench_tiles(args.tiles, args.zoom)
    workdir = WORKDIR
    stack = make_stack(workdir)
    specs = workloads()
    venv = Path(os.environ.get("TITILER_VENV", "/tmp/titiler-venv"))
    titiler = TiTiler(venv, workdir, stack) if (venv / "bin" / "uvicorn").exists() else None
    rows = []
    try:
        for name, spec in specs.items():
            for concurrency in (1, 8):
                floor = measure(floor_fetcher(name, spec, stack), tiles, concurrency)
                rows.append((name, concurrency, "floor", floor, floor))
                # Cold: a fresh server, with the process's read cache emptied.
                reading.clear_read_cache()
                server = RunningServer("127.0.0.1", 0, db_path=workdir / f"{name}{concurrency}.db")
                try:
                    layer = _register(server.base_url, name, spec)
                    url = layer.url()

                    def fetch(t, url=url):
                        return http_get(url.format(z=t.z, x=t.x, y=t.y))

                    cold = measure(fetch, tiles, concurrency)
                    warm = measure(fetch, tiles, concurrency)
                finally:
                    server.stop()
                rows.append((name, concurrency, "tiles cold", cold, floor))
                rows.append((name, concurrency, "tiles warm", warm, floor))
                if titiler is not None:
                    fetch_t = titiler.fetcher(name, spec)
                    if fetch_t is not None:
                        rows.append(
                            (
                                name,
                                concurrency,
                                "titiler",
                                measure(fetch_t, tiles, concurrency),
                                floor,
                            )
                        )
    finally:
        if titiler is not None:
            titiler.close()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{len(tiles)} tiles at z{args.zoom}, {os.cpu_count()} cores")
    header = f"{'workload':10} {'conc':>4} {'system':11} {'p50 ms':>8} {'p95 ms':>8} {'tiles/s':>8} {'x floor':>8}"
    print(header)
    for name, conc, system, r, floor in rows:
        ratio = r["tiles_per_s"] / floor["tiles_per_s"]
        print(
            f"{name:10} {conc:4d} {system:11} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} "
            f"{r['tiles_per_s']:8.1f} {ratio:8.2f}"
        )
    if args.json:
        args.json.write_text(
            json.dumps([dict(workload=n, concurrency=c, system=s, **r) for n, c, s, r, _ in rows])
        )


def _register(base_url: str, name: str, spec: dict):
    """Register a workload through the public Python API."""
    from tiles.server import tile_layer

    return tile_layer(
        spec["obj"],
        name,
        scales=spec["scales"],
        colormap=spec.get("colormap"),
        reduction=spec.get("reduction", "mosaic"),
        server=base_url,
    )


if __name__ == "__main__":
    main()
