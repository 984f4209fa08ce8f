"""Measure PNG encode time and size per zlib level on real rendered tiles.

Used to choose ``tiles.engine.render.PNG_COMPRESS_LEVEL`` and ``PNG_FILTER``. Tiles are real
Sentinel-2 and DEM data warped into web-mercator tiles with rasterio, rendered with
tiles.engine.render, then encoded at every level. Times are reported as ratios against level
6 (zlib's default) measured in the same run, so the numbers compare across machines. Then
the tiles encoded by :func:`tiles.engine.render.encode_png` (libpng, one row filter) against
Pillow at the same level (its adaptive per-row filters).

Run: .venv/bin/python bench/png_compression.py
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from pathlib import Path

import mercantile
import numpy as np
import rasterio
from PIL import Image
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rasterio.warp import reproject, transform_bounds

# Runnable from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tiles.engine import render  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
S2 = DATA / "optical" / "sentinel2_l2a_29RKH_20200219"
DEM = DATA / "elevation" / "co_elevation_roi.tif"


def warp_to_tile(path: Path, tile: mercantile.Tile) -> np.ma.MaskedArray:
    """Read one band of ``path`` into the 256x256 EPSG:3857 grid of ``tile``."""
    b = mercantile.xy_bounds(tile)
    dst = np.zeros((256, 256), dtype=np.float64)
    with rasterio.open(path) as src:
        reproject(
            rasterio.band(src, 1),
            dst,
            dst_transform=from_bounds(b.left, b.bottom, b.right, b.top, 256, 256),
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
    return np.ma.masked_invalid(dst)


def tiles_over(path: Path, zoom: int, count: int) -> list[mercantile.Tile]:
    """A few tiles of ``zoom`` around the centre of ``path``'s footprint."""
    with rasterio.open(path) as src:
        w, s, e, n = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    centre = mercantile.tile((w + e) / 2, (s + n) / 2, zoom)
    return [mercantile.Tile(centre.x + i, centre.y, zoom) for i in range(count)]


def sample_arrays() -> dict[str, list[tuple]]:
    """Tiles of three kinds as render arguments: RGB with scales, NDVI and DEM colormaps."""
    out: dict[str, list[tuple]] = {"rgb": [], "ndvi": [], "dem": []}
    for tile in tiles_over(S2 / "B04.tif", 10, 3):
        red, green, blue, nir = (
            warp_to_tile(S2 / f"{b}.tif", tile) for b in ("B04", "B03", "B02", "B08")
        )
        out["rgb"].append((np.ma.stack([red, green, blue]), [[0, 4000]] * 3, None))
        ndvi = (nir - red) / (nir + red)
        out["ndvi"].append((ndvi[np.newaxis], [[-0.2, 0.6]], "RdYlGn"))
    for tile in tiles_over(DEM, 11, 3):
        out["dem"].append((warp_to_tile(DEM, tile)[np.newaxis], None, "terrain"))
    return out


def sample_tiles() -> dict[str, list[np.ndarray]]:
    """:func:`sample_arrays` rendered to RGBA."""
    return {k: [render.render(*args) for args in v] for k, v in sample_arrays().items()}


def compare_render_png(repeat: int) -> None:
    """Time of ``render_png`` (opaque tiles encoded straight from their bands, a palette PNG
    for a colormap) against ``encode_png(render(...))`` (RGB/RGBA), both at the chosen level."""
    print(f"\n{'kind':6} {'render_png ms':>14} {'render+encode ms':>17} {'ratio':>6}")
    for kind, tiles in sample_arrays().items():
        direct, general = [], []
        for args in tiles:
            for _ in range(repeat):
                t0 = time.perf_counter()
                render.render_png(*args)
                t1 = time.perf_counter()
                render.encode_png(render.render(*args))
                direct.append(t1 - t0)
                general.append(time.perf_counter() - t1)
        d, g = statistics.median(direct), statistics.median(general)
        print(f"{kind:6} {1000 * d:14.2f} {1000 * g:17.2f} {d / g:6.2f}")


def time_encode(rgba: np.ndarray, level: int, repeat: int) -> tuple[float, int]:
    """Median seconds and byte size of encoding ``rgba`` at ``level``."""
    times = []
    size = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        size = len(render.encode_png(rgba, compress_level=level))
        times.append(time.perf_counter() - t0)
    return statistics.median(times), size


def compare_pillow(tiles: dict[str, list[np.ndarray]], repeat: int) -> None:
    """``encode_png`` against Pillow's PNG writer on the same pixels, at the same level."""

    def pillow(rgba: np.ndarray) -> bytes:
        opaque = bool((rgba[..., 3] == 255).all())
        buf = io.BytesIO()
        Image.fromarray(rgba[..., :3].copy() if opaque else rgba).save(
            buf, format="PNG", compress_level=render.PNG_COMPRESS_LEVEL
        )
        return buf.getvalue()

    print(f"\n{'kind':6} {'ours ms':>8} {'Pillow ms':>10} {'time':>6} {'size':>6}")
    for kind, rgbas in tiles.items():
        ours, theirs, ours_size, theirs_size = [], [], 0, 0
        for rgba in rgbas:
            for _ in range(repeat):
                t0 = time.perf_counter()
                a = render.encode_png(rgba)
                t1 = time.perf_counter()
                b = pillow(rgba)
                ours.append(t1 - t0)
                theirs.append(time.perf_counter() - t1)
            ours_size, theirs_size = ours_size + len(a), theirs_size + len(b)
        o, t = statistics.median(ours), statistics.median(theirs)
        print(
            f"{kind:6} {1000 * o:8.2f} {1000 * t:10.2f} {o / t:6.2f} {ours_size / theirs_size:6.2f}"
        )


def main(repeat: int = 15) -> None:
    if not DATA.is_dir():
        sys.exit(f"real data not found at {DATA}")
    tiles = sample_tiles()
    print(f"{'kind':6} {'level':>5} {'ms':>7} {'time/L6':>8} {'KiB':>7} {'size/L6':>8}")
    for kind, rgbas in tiles.items():
        results = {}
        for level in range(10):
            runs = [time_encode(rgba, level, repeat) for rgba in rgbas]
            results[level] = (sum(t for t, _ in runs), sum(s for _, s in runs))
        base_t, base_s = results[6]
        for level, (t, s) in results.items():
            print(
                f"{kind:6} {level:5d} {1000 * t / len(rgbas):7.2f} {t / base_t:8.2f} "
                f"{s / len(rgbas) / 1024:7.1f} {s / base_s:8.2f}"
            )
    compare_render_png(repeat)
    compare_pillow(tiles, repeat)


if __name__ == "__main__":
    main()
