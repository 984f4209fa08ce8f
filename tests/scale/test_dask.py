"""Large computations on a real 2-worker ``distributed.LocalCluster``: a 6-image median and
an NDVI mean (and std, count, sum, min, max) over pixels equal the single-process results
exactly, the client's peak memory stays under the stated bound, and without
TILES_DASK_SCHEDULER no cluster is involved.

The issue's 6000 x 6000 size runs in ``bench/dask_bench.py``; here the GeoContext is
1536 x 1536 in 512-pixel blocks (9 blocks), which exercises the same code in CI time.
"""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest

import tiles as wf
from tests.scale.conftest import BLOCK
from tiles import scenes
from tiles.compute import distributed, pixel_reductions

pytest.importorskip("distributed")

SIDE = 1536
#: A square 34 km box (UTM 13N) inside the sample scenes near Santa Fe.
CENTER = (-105.95, 35.72)
HALF_SIDE_METRES = 17_000


def _without_dask(fn):
    address = os.environ.pop("TILES_DASK_SCHEDULER")
    try:
        return fn()
    finally:
        os.environ["TILES_DASK_SCHEDULER"] = address


def _context():
    from rasterio.warp import transform

    (x,), (y,) = transform("EPSG:4326", "EPSG:32613", [CENTER[0]], [CENTER[1]])
    h = HALF_SIDE_METRES
    bounds = (x - h, y - h, x + h, y + h)
    ctx = scenes.AOI(bounds=bounds, bounds_crs="EPSG:32613", shape=(SIDE, SIDE), crs="EPSG:32613")
    assert tuple(ctx.arr_shape) == (SIDE, SIDE)
    return ctx


def _six_images():
    ic = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01").head(6)
    assert ic.length().compute(_context(), progress_bar=False) == 6
    return ic


def test_a_six_image_median_equals_the_single_process_result_in_bounded_memory(cluster):
    assert len(cluster.nthreads()) == 2
    ctx = _context()
    median = _six_images().pick_bands("red nir").median(axis="images")
    alone = _without_dask(lambda: median.compute(ctx, cache=False, progress_bar=False))
    done = []
    tracemalloc.start()
    try:
        value = distributed.evaluate_imagery(
            median.graft, ctx, {}, halo=0, progress=lambda i, n: done.append((i, n))
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    on_cluster = median.compute(ctx, cache=False, progress_bar=False)
    for result in (value.ndarray, on_cluster.ndarray):
        np.testing.assert_array_equal(np.ma.getdata(result), np.ma.getdata(alone.ndarray))
        np.testing.assert_array_equal(np.ma.getmaskarray(result), np.ma.getmaskarray(alone.ndarray))
    assert done[-1] == (9, 9) and [i for i, _ in done] == list(range(1, 10))
    # The stated bound: the result (float64 values and a one-byte mask per value) plus the
    # blocks in flight (two per worker thread), each as big as a block of the result, and
    # 16 MB for everything else. Six full-size images would be 6 x 2 bands x 1536^2 x 8 B
    # = 226 MB; the client never holds them.
    bands = alone.ndarray.shape[0]
    result_bytes = bands * SIDE * SIDE * 9
    block_bytes = bands * BLOCK * BLOCK * 9
    bound = result_bytes + distributed.in_flight(cluster) * block_bytes + 16 * 2**20
    assert peak < bound, (peak, bound)


def test_ndvi_reductions_over_pixels_equal_the_single_process_results_exactly(cluster):
    ctx = _context()
    red, nir = _six_images().unpack_bands("red nir")
    ndvi = ((nir - red) / (nir + red)).mean(axis="images")
    for op in ("mean", "std", "count", "sum", "min", "max"):
        reduced = getattr(ndvi, op)(axis="pixels")
        alone = _without_dask(lambda r=reduced: r.compute(ctx, cache=False, progress_bar=False))
        tracemalloc.start()
        try:
            on_cluster = reduced.compute(ctx, cache=False, progress_bar=False)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert on_cluster == alone, op  # bit for bit
        (value,) = on_cluster.values()
        assert value is not None and np.isfinite(value)
        # Only numbers come back: far less than the image's pixels (half of them is still
        # twice what Dask's client allocates for its own messages while receiving results).
        assert peak < SIDE * SIDE * 8 / 2, (op, peak)
    # Independent check of the mean: numpy over the same pixels, to rounding.
    pixels = _without_dask(lambda: ndvi.compute(ctx, cache=False, progress_bar=False)).ndarray
    mean = ndvi.mean(axis="pixels").compute(ctx, cache=False, progress_bar=False)
    assert list(mean.values())[0] == pytest.approx(float(pixels.mean()), rel=1e-12)


def test_a_median_over_pixels_is_computed_in_one_process(cluster):
    ctx = _context()
    red = _six_images().pick_bands("red").max(axis="images")
    assert pixel_reductions.pixel_reduction(red.median(axis="pixels").graft) is None
    got = red.median(axis="pixels").compute(ctx, cache=False, progress_bar=False)
    alone = _without_dask(
        lambda: red.median(axis="pixels").compute(ctx, cache=False, progress_bar=False)
    )
    assert got == alone


def test_without_the_variable_no_cluster_is_used(monkeypatch):
    monkeypatch.delenv("TILES_DASK_SCHEDULER", raising=False)
    monkeypatch.setenv("TILES_CHUNK_SIDE", str(BLOCK))
    assert not distributed.enabled()
    before = dict(distributed._clients)
    red = _six_images().pick_bands("red").median(axis="images")
    result = red.compute(_context(), cache=False, progress_bar=False)
    assert result.ndarray.shape == (1, SIDE, SIDE)
    assert distributed._clients == before
