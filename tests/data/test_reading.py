"""CatalogSource reads against independent rasterio warps of the same real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.features
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform_geom

from tests.support import NAIP, NAIP_BANDS, S2
from tiles.data.catalog import Catalog
from tiles.data.reading import (
    RESAMPLERS,
    CatalogSource,
    clear_read_cache,
    plan_band_read,
    read_cache_info,
)
from tiles.errors import DataError, NotFoundError, ParameterError
from tiles.geocontext import AOI

S2_BANDS = [
    {"name": n, "data_range": (0, 10000), "physical_range": (0, 1), "nodata": 0}
    for n in ("red", "nir", "coastal")
]


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Catalog:
    c = Catalog(tmp_path_factory.mktemp("reading") / "cat.sqlite")
    c.create_product("naip", NAIP_BANDS)
    for f in sorted((shared_data / NAIP).glob("*.tif")):
        c.add_image("naip", f)
    c.create_product("s2", S2_BANDS)
    d = shared_data / S2
    c.add_image("s2", {"red": d / "B04.tif", "nir": d / "B08.tif", "coastal": d / "B01.tif"})
    return c


def independent(
    path: str,
    bidx: int,
    geoctx: AOI,
    resampling: Resampling = Resampling.nearest,
    overview_level: int | None = None,
) -> np.ndarray:
    """Warp a band with rasterio alone; NaN where there is no data."""
    kwargs = {} if overview_level is None else {"overview_level": overview_level}
    out = np.full(geoctx.arr_shape, np.nan, dtype=np.float64)
    with rasterio.open(path, **kwargs) as src:
        reproject(
            rasterio.band(src, bidx),
            out,
            dst_transform=geoctx.transform,
            dst_crs=geoctx.crs,
            dst_nodata=np.nan,
            resampling=resampling,
        )
    return out


# The NAIP quarter-quad's western part and some ground west of it, in Web Mercator at
# about 4 m on the ground (finer than the 5 m source, so no overview is used).
NAIP_AOI = AOI(
    bounds=(-99.20, 47.00, -99.15, 47.03), bounds_crs="EPSG:4326", crs="EPSG:3857", resolution=6.0
)


@pytest.mark.parametrize("resampler", ["near", "bilinear", "cubic", "average"])
def test_naip_matches_independent_warp(cat: Catalog, resampler: str) -> None:
    recs = cat.images("naip")
    src = CatalogSource(recs, cat.product("naip"), NAIP_AOI, resampler=resampler)
    got = src.read([4, 1], ["nir", "red"])
    assert got.shape == (2, 2, *NAIP_AOI.arr_shape) and got.dtype == np.float64
    assert got.mask.shape == got.shape
    for i, rec_index in enumerate([4, 1]):
        for j, (band, bidx) in enumerate([("nir", 4), ("red", 1)]):
            path, file_bidx = recs[rec_index].files[band]
            assert file_bidx == bidx
            assert plan_band_read(path, bidx, NAIP_AOI).overview_level is None
            ref = independent(path, bidx, NAIP_AOI, RESAMPLERS[resampler])
            np.testing.assert_array_equal(got.mask[i, j], np.isnan(ref))
            # No physical range: rescaled to [0, 1] from data_range (0, 255).
            np.testing.assert_allclose(
                got.data[i, j][~got.mask[i, j]], ref[~np.isnan(ref)] / 255.0, rtol=0, atol=1e-5
            )
    # Some of the grid lies west of the image: masked there, data elsewhere.
    assert 0.1 < got.mask[0, 0].mean() < 0.9
    assert np.all(got.data[got.mask] == 0)


def test_per_band_files_with_physical_range_and_cutline(cat: Catalog) -> None:
    rec = cat.images("s2")[0]
    w, s, e, n = rec.bounds_lonlat
    cx, cy = (w + e) / 2, (s + n) / 2
    triangle = {
        "type": "Polygon",
        "coordinates": [
            [[cx - 0.3, cy - 0.2], [cx + 0.3, cy - 0.2], [cx, cy + 0.25], [cx - 0.3, cy - 0.2]]
        ],
    }
    aoi = AOI(geometry=triangle, crs="EPSG:4326", resolution=0.002)
    got = CatalogSource([rec], cat.product("s2"), aoi, resampler="bilinear").read(
        [0], ["coastal", "red"]
    )
    outside = rasterio.features.geometry_mask(
        [transform_geom("EPSG:4326", "EPSG:4326", triangle)],
        out_shape=aoi.arr_shape,
        transform=aoi.transform,
        all_touched=False,
    )
    assert outside.any() and not outside.all()
    for j, band in enumerate(["coastal", "red"]):
        path, bidx = rec.files[band]
        plan = plan_band_read(path, bidx, aoi, rec.footprint)
        ref = independent(path, bidx, aoi, Resampling.bilinear, plan.overview_level)
        expected_mask = np.isnan(ref) | outside
        np.testing.assert_array_equal(got.mask[0, j], expected_mask)
        np.testing.assert_allclose(
            got.data[0, j][~expected_mask], ref[~expected_mask] / 10000.0, atol=1e-6
        )
    # coastal is the 600 m file, red the 100 m one: the 0.002 degree grid reads an overview
    # of red only.
    assert plan_band_read(*rec.files["coastal"], aoi, rec.footprint).overview_level is None


def test_coarse_grid_reads_an_overview(cat: Catalog) -> None:
    rec = cat.images("s2")[0]
    path, bidx = rec.files["red"]
    with rasterio.open(path) as src:
        assert src.overviews(1) == [2, 4]
        crs, bounds = src.crs, src.bounds
    # The whole tile at 450 m in its own CRS: overview x4 (400 m) is the coarsest not coarser.
    aoi = AOI(
        bounds=tuple(bounds), bounds_crs=crs.to_string(), crs=crs.to_string(), resolution=450.0
    )
    plan = plan_band_read(path, bidx, aoi, rec.footprint)
    assert (plan.overview_level, plan.overview_factor) == (1, 4)
    with rasterio.open(path, overview_level=plan.overview_level) as ovr:
        assert ovr.res == pytest.approx((400.0, 400.0), rel=1e-2)

    got = CatalogSource([rec], cat.product("s2"), aoi, resampler="near").read([0], ["red"])[0, 0]
    from_overview = independent(path, bidx, aoi, Resampling.nearest, overview_level=1) / 10000
    full_res_near = independent(path, bidx, aoi, Resampling.nearest) / 10000
    full_res_avg = independent(path, bidx, aoi, Resampling.average) / 10000
    valid = ~got.mask
    # Exactly the overview's pixels ...
    np.testing.assert_allclose(got.data[valid], from_overview[valid], atol=1e-6)
    assert not np.allclose(got.data[valid], full_res_near[valid])
    # ... which summarise the full resolution: close to averaging it.
    err_ovr = np.abs(got.data[valid] - full_res_avg[valid]).mean()
    assert err_ovr < 0.05 * full_res_avg[valid].mean()


def test_cache_reads_once_and_results_are_independent(cat: Catalog) -> None:
    clear_read_cache()
    recs = cat.images("naip")
    src = CatalogSource(recs, cat.product("naip"), NAIP_AOI)
    first = src.read([0, 1, 2], ["red", "nir"])
    info = read_cache_info()
    assert info["misses"] == 6 and info["hits"] == 0 and info["items"] == 6
    first.data[:] = -1  # must not leak into the cache
    again = CatalogSource(recs, cat.product("naip"), NAIP_AOI).read([2, 1], ["nir"])
    assert read_cache_info()["hits"] == 2 and read_cache_info()["misses"] == 6
    ref = independent(recs[2].files["nir"][0], 4, NAIP_AOI)
    np.testing.assert_allclose(again.data[0, 0][~again.mask[0, 0]], ref[~np.isnan(ref)] / 255)
    # A different resampler is a different entry.
    CatalogSource(recs, cat.product("naip"), NAIP_AOI, resampler="bilinear").read([0], ["red"])
    assert read_cache_info()["misses"] == 7


def test_images_outside_the_grid_are_skipped_unopened(
    cat: Catalog, tmp_path: Path, shared_data: Path
) -> None:
    c = Catalog(tmp_path / "c.sqlite")
    c.create_product("naip", NAIP_BANDS)
    copy = tmp_path / "m_4709963_se_14_1_20090818.tif"
    shutil.copy(shared_data / NAIP / copy.name, copy)
    rec = c.add_image("naip", copy)
    copy.unlink()  # any attempt to open it would now fail
    far = AOI(
        bounds=(-98.0, 47.0, -97.99, 47.01),
        bounds_crs="EPSG:4326",
        crs="EPSG:3857",
        resolution=20.0,
    )
    got = CatalogSource([rec], c.product("naip"), far).read([0], ["red", "nir"])
    assert got.mask.all()
    with pytest.raises(DataError, match=copy.name):
        CatalogSource([rec], c.product("naip"), NAIP_AOI).read([0], ["red"])


def test_unknown_band_and_resampler(cat: Catalog) -> None:
    src = CatalogSource(cat.images("naip"), cat.product("naip"), NAIP_AOI)
    with pytest.raises(NotFoundError, match="'swir'.*'naip'"):
        src.read([0], ["red", "swir"])
    with pytest.raises(ParameterError, match="resampler"):
        CatalogSource(cat.images("naip"), cat.product("naip"), NAIP_AOI, resampler="nearest")
    assert src.read([], ["red"]).shape == (0, 1, *NAIP_AOI.arr_shape)


def test_physical_range_rescaling(tmp_path: Path, shared_data: Path) -> None:
    c = Catalog(tmp_path / "c.sqlite")
    c.create_product(
        "scaled", [{"name": "v", "data_range": (0, 10000), "physical_range": (-1, 1), "nodata": 0}]
    )
    rec = c.add_image("scaled", {"v": shared_data / S2 / "B08.tif"})
    aoi = AOI(bounds=rec.bounds_lonlat, crs="EPSG:32629", resolution=300.0)
    got = CatalogSource([rec], c.product("scaled"), aoi).read([0], ["v"])[0, 0]
    plan = plan_band_read(*rec.files["v"], aoi, rec.footprint)
    ref = independent(*rec.files["v"], aoi, overview_level=plan.overview_level)
    valid = ~np.isnan(ref)
    np.testing.assert_array_equal(got.mask, ~valid)
    np.testing.assert_allclose(got.data[valid], ref[valid] / 10000 * 2 - 1, atol=1e-9)


def test_every_resampler_runs(cat: Catalog) -> None:
    small = AOI(
        bounds=(-99.17, 47.01, -99.16, 47.02),
        bounds_crs="EPSG:4326",
        crs="EPSG:4326",
        resolution=0.0002,
    )
    recs = cat.images("naip")
    for name, resampling in RESAMPLERS.items():
        got = CatalogSource(recs, cat.product("naip"), small, resampler=name).read([0], ["green"])
        path, bidx = recs[0].files["green"]
        level = plan_band_read(path, bidx, small, recs[0].footprint).overview_level
        ref = independent(path, bidx, small, resampling, overview_level=level)
        np.testing.assert_array_equal(got.mask[0, 0], np.isnan(ref))
        np.testing.assert_allclose(
            got.data[0, 0][~got.mask[0, 0]], ref[~np.isnan(ref)] / 255, atol=1e-5
        )


def test_reused_datasets_on_many_threads_read_what_fresh_warps_read(cat: Catalog) -> None:
    # Each read thread keeps its datasets open across reads. Grids at several resolutions
    # (full resolution and both overviews) and places, read over and over from a pool of
    # threads in shuffled order with the read cache emptied, must give exactly what a
    # freshly opened file warped by rasterio alone gives.
    from concurrent.futures import ThreadPoolExecutor

    rec = cat.images("s2")[0]
    path, bidx = rec.files["red"]
    with rasterio.open(path) as src:
        crs, (w, s, e, n) = src.crs.to_string(), src.bounds
    grids = []
    for resolution in (100.0, 150.0, 260.0, 450.0):
        for k in range(3):
            x0 = w + (e - w) * 0.2 * k
            y0 = s + (n - s) * 0.25 * k
            bounds = (x0, y0, x0 + 64 * resolution, y0 + 64 * resolution)
            grids.append(AOI(bounds=bounds, bounds_crs=crs, crs=crs, resolution=resolution))
    levels = {plan_band_read(path, bidx, g, rec.footprint).overview_level for g in grids}
    assert levels == {None, 0, 1}
    expected = []
    for g in grids:
        level = plan_band_read(path, bidx, g, rec.footprint).overview_level
        expected.append(independent(path, bidx, g, overview_level=level) / 10000)

    def read(i: int) -> np.ma.MaskedArray:
        return CatalogSource([rec], cat.product("s2"), grids[i]).read([0], ["red"])[0, 0]

    order = list(range(len(grids))) * 4
    np.random.default_rng(3).shuffle(order)
    for _ in range(2):
        clear_read_cache()
        with ThreadPoolExecutor(4) as pool:
            for i, got in zip(order, pool.map(read, order), strict=True):
                want = expected[i]
                np.testing.assert_array_equal(got.mask, np.isnan(want))
                np.testing.assert_allclose(got.data[~got.mask], want[~np.isnan(want)], rtol=1e-6)


def test_a_rewritten_file_is_read_anew(tmp_path: Path, shared_data: Path) -> None:
    c = Catalog(tmp_path / "c.sqlite")
    c.create_product("naip", NAIP_BANDS)
    copy = tmp_path / "scene_20090818.tif"
    first, second = sorted((shared_data / NAIP).glob("*.tif"))[:2]
    shutil.copy(first, copy)
    rec = c.add_image("naip", copy)
    before = CatalogSource([rec], c.product("naip"), NAIP_AOI).read([0], ["red"])
    shutil.copy(second, copy)  # same grid size, other date: new bytes under the same path
    after = CatalogSource([rec], c.product("naip"), NAIP_AOI).read([0], ["red"])
    ref = independent(str(copy), 1, NAIP_AOI)
    np.testing.assert_allclose(after.data[0, 0][~after.mask[0, 0]], ref[~np.isnan(ref)] / 255)
    assert not np.array_equal(before.data, after.data)
