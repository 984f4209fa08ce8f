"""Full-size benchmark scenes: six 10980 px, 4-band, DEFLATE COGs with overviews.

Made from the real Sentinel-2 L2A bands of tile 29RKH in ``../shared/data`` (red, green, blue,
nir at 100 m), upsampled 10x to the 10 m grid of a Sentinel-2 tile, with per-date brightness,
sensor-like noise, a no-data swath edge on two dates and clouds on two others, so the files
have the size, block layout, overviews and compressibility of real scenes and a per-pixel
median over the dates means something. They are written once to a cache folder outside the
repository (``$TILES_BENCH_DIR``, default ``~/.cache/tiles-bench/scenes``) and reused.

Run ``python bench/scenes.py [--size 10980] [--count 6]`` to make them ahead of a benchmark.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import time
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.windows import Window

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "optical"
SOURCE = SOURCE / "sentinel2_l2a_29RKH_20200219"
BANDS = {"red": "B04", "green": "B03", "blue": "B02", "nir": "B08"}
DATES = [dt.date(2020, 2, 19) + dt.timedelta(days=5 * k) for k in range(12)]
#: Dates (by index) whose western part is outside the orbit's swath, and with clouds.
SWATH_EDGE = (1, 4)
CLOUDY = (2, 5)
ROWS_PER_STEP = 1098


def bench_dir() -> Path:
    """The benchmark's cache folder (``$TILES_BENCH_DIR`` or ``~/.cache/tiles-bench``)."""
    explicit = os.environ.get("TILES_BENCH_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "tiles-bench"


def scene_paths(size: int, count: int) -> list[Path]:
    """Where the ``count`` scenes of ``size`` px live (made by :func:`make_scenes`)."""
    folder = bench_dir() / f"scenes-{size}"
    return [folder / f"S2_29RKH_{DATES[i]:%Y%m%d}.tif" for i in range(count)]


def make_scenes(size: int = 10980, count: int = 6) -> list[Path]:
    """Make (or reuse) ``count`` scenes of ``size`` x ``size`` px; return their paths."""
    paths = scene_paths(size, count)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    base = None
    for index, path in enumerate(paths):
        if path.exists():
            continue
        if base is None:
            base = _upsampled_bands(size)
        t0 = time.perf_counter()
        _write_scene(path, index, base, size)
        print(f"made {path} ({path.stat().st_size / 2**20:.0f} MiB, "
              f"{time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
    return paths


def _upsampled_bands(size: int) -> tuple[np.ndarray, dict]:
    """The four real bands resampled to ``size`` px (bilinear), and the grid's profile."""
    bands = []
    for name in BANDS.values():
        with rasterio.open(SOURCE / f"{name}.tif") as src:
            bands.append(
                src.read(1, out_shape=(size, size), resampling=Resampling.bilinear).astype(
                    np.float32
                )
            )
            t = src.transform
            res = t.a * src.width / size
            profile = {"crs": src.crs, "transform": Affine(res, 0, t.c, 0, -res, t.f)}
    return np.stack(bands), profile


def _write_scene(path: Path, index: int, base: tuple[np.ndarray, dict], size: int) -> None:
    bands, grid = base
    rng = np.random.default_rng(index)
    gain = 1.0 + 0.04 * (index - 2.5) / 2.5
    tmp = path.with_suffix(".tmp.tif")
    profile = dict(
        driver="GTiff", width=size, height=size, count=4, dtype="uint16", nodata=0,
        tiled=True, blockxsize=512, blockysize=512, **grid,
    )  # fmt: skip
    clouds = _cloud_field(rng, size) if index in CLOUDY else None
    with rasterio.open(tmp, "w", **profile) as dst:
        for row in range(0, size, ROWS_PER_STEP):
            rows = min(ROWS_PER_STEP, size - row)
            block = bands[:, row : row + rows] * gain
            block += rng.normal(0, 30, block.shape).astype(np.float32)
            if clouds is not None:
                block += clouds[np.newaxis, row : row + rows] * 6000
            values = np.clip(block, 1, 65535).astype(np.uint16)
            if index in SWATH_EDGE:
                # A swath edge running north-north-east: no data west of it.
                cols = np.arange(size)[np.newaxis, :]
                edge = size * 0.3 + 0.25 * np.arange(row, row + rows)[:, np.newaxis]
                values[:, cols < edge] = 0
            values[bands[:, row : row + rows] == 0] = 0
            dst.write(values, window=Window(0, row, size, rows))
    rasterio.shutil.copy(
        tmp, path, driver="COG", compress="DEFLATE", predictor=2, blocksize=512,
        overview_resampling="AVERAGE", num_threads="ALL_CPUS",
    )  # fmt: skip
    tmp.unlink()


def _cloud_field(rng: np.random.Generator, size: int) -> np.ndarray:
    """Soft cloud opacity (0..1) over a fifth of the scene, smooth at the 1 km scale."""
    coarse = rng.normal(size=(size // 1098 * 8 + 1,) * 2)
    field = np.kron(coarse, np.ones((138, 138), np.float32))[:size, :size]
    field = np.clip((field - 0.85) * 2, 0, 1)
    return field.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--count", type=int, default=6)
    args = parser.parse_args()
    paths = make_scenes(args.size, args.count)
    total = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} scenes, {total / 2**30:.2f} GiB in {paths[0].parent}")
    print(f"free: {shutil.disk_usage(paths[0].parent).free / 2**30:.0f} GiB")


if __name__ == "__main__":
    main()
