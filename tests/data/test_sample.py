"""The built-in sample catalog: reproducible files, registered products, plausible pixels."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio

from tiles.data import catalog
from tiles.data.catalog import Catalog
from tiles.data.reading import CatalogSource
from tiles.data.sample import DATES, ensure_sample_catalog, sample_data_dir
from tiles.geocontext import AOI

SANTA_FE = (-105.938, 35.687)


@pytest.fixture(scope="module")
def default() -> Catalog:
    return catalog.default_catalog()


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_builds_the_same_bytes_twice(default: Catalog, tmp_path: Path) -> None:
    other = Catalog(tmp_path / "again.sqlite")
    ensure_sample_catalog(other)
    first, second = sample_data_dir(default), sample_data_dir(other)
    assert first != second
    d1, d2 = _digests(first), _digests(second)
    assert len(d1) == 4 * 2 * len(DATES) + 2 + 1  # s2 bands, dem, landcover, manifest
    assert d1 == d2


def test_a_build_clears_what_an_interrupted_build_left(default: Catalog, tmp_path: Path) -> None:
    other = Catalog(tmp_path / "again.sqlite")
    folder = sample_data_dir(other)
    stale = folder.parent / f".{folder.name}.k1ll3d"  # as tempfile.mkdtemp names them
    (stale / "s2").mkdir(parents=True)
    (stale / "s2" / "half-written.tif").write_bytes(b"II*\x00")
    ensure_sample_catalog(other)
    assert not stale.exists()
    assert _digests(folder) == _digests(sample_data_dir(default))
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == [
        f".{folder.name}.lock"
    ]


def test_products_and_images_registered(default: Catalog) -> None:
    ids = [p.id for p in default.products()]
    assert {"sample:s2", "sample:dem", "sample:landcover"} <= set(ids)
    s2 = default.product("sample:s2")
    assert s2.band_names == ["blue", "green", "red", "nir"]
    red = s2.bandinfo()["red"]
    assert (
        red["data_range"] == (0, 10000) and red["physical_range"] == (0, 1) and red["nodata"] == 0
    )
    recs = default.images("sample:s2")
    assert len(recs) == 2 * len(DATES)
    assert {r.crs for r in recs} == {"EPSG:32612", "EPSG:32613"}
    assert default.image("sample:s2:20230115_z13").crs == "EPSG:32613"
    assert len({r.acquired.date() for r in recs}) == len(DATES)
    assert recs[0].acquired.year == recs[-1].acquired.year == 2023
    for r in recs:
        w, s, e, n = r.bounds_lonlat
        assert max(abs(w - SANTA_FE[0]), abs(e - SANTA_FE[0])) < 1.5
        assert max(abs(s - SANTA_FE[1]), abs(n - SANTA_FE[1])) < 1.5
        assert 512 <= r.shape[0] <= 1024 and abs(r.geotrans[1] - 60) < 1e-9
        assert 0.0 <= r.properties["cloud_fraction"] <= 1.0
    # Both zones cover the city on every date.
    here = (SANTA_FE[0] - 0.001, SANTA_FE[1] - 0.001, SANTA_FE[0] + 0.001, SANTA_FE[1] + 0.001)
    assert len(default.search("sample:s2", bbox_lonlat=here)) == 2 * len(DATES)
    dem = default.images("sample:dem")[0]
    assert default.product("sample:dem").bands[0].physical_range is not None
    with rasterio.open(dem.files["elevation"][0]) as src:
        elev = src.read(1, masked=True)
    assert 1500 < elev.min() < elev.max() < 4500


def test_files_are_tiled_compressed_with_overviews(default: Catalog) -> None:
    rec = default.image("sample:s2:20230614_z12")
    with rasterio.open(rec.files["nir"][0]) as src:
        assert src.profile["tiled"] and src.block_shapes[0] == (256, 256)
        assert src.compression.name.lower() == "deflate"
        assert src.overviews(1) == [2, 4]
        assert src.dtypes[0] == "uint16" and src.nodata == 0
        assert src.tags()["TIFFTAG_DATETIME"] == f"{rec.acquired:%Y:%m:%d %H:%M:%S}"


def test_second_call_is_cheap_and_changes_nothing(default: Catalog) -> None:
    folder = sample_data_dir(default)
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*.tif")}
    ensure_sample_catalog(default)
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*.tif")} == before


def _aoi() -> AOI:
    return AOI(
        bounds=(SANTA_FE[0] - 0.25, SANTA_FE[1] - 0.15, SANTA_FE[0] + 0.25, SANTA_FE[1] + 0.15),
        bounds_crs="EPSG:4326",
        crs="EPSG:3857",
        resolution=120.0,
    )


def test_ndvi_is_plausible(default: Catalog) -> None:
    aoi = _aoi()
    lc_recs = default.images("sample:landcover")
    lc = CatalogSource(lc_recs, default.product("sample:landcover"), aoi).read([0], ["class"])[0, 0]
    recs = default.search("sample:s2", "2023-06-14", "2023-06-15")
    assert [r.properties["cloud_fraction"] for r in recs] == [0.0, 0.0]
    px = CatalogSource(recs, default.product("sample:s2"), aoi).read(
        range(2), ["red", "nir", "blue"]
    )
    for i in range(2):
        red, nir = px[i, 0], px[i, 1]
        ndvi = (nir - red) / (nir + red)
        trees = ndvi[((lc == 5) | (lc == 6)) & ~ndvi.mask]  # woodland and forest
        bare = ndvi[(lc == 3) & ~ndvi.mask]
        assert trees.size > 1000 and bare.size > 1000
        assert trees.mean() > 0.35 and 0.0 < bare.mean() < 0.25
        assert trees.mean() - bare.mean() > 0.15
        assert 0.0 < float(red.min()) and float(px[i].max()) < 1.0
    # The two zones agree where they overlap (same landscape, different grids).
    both = ~px[0, 1].mask & ~px[1, 1].mask
    assert both.sum() > 10000
    diff = np.abs(px[0, 1].data - px[1, 1].data)[both]
    assert np.median(diff) < 0.02


def test_clouds_are_masked(default: Catalog) -> None:
    aoi = _aoi()
    recs = default.search("sample:s2", "2023-01-01", "2024-01-01")
    px = CatalogSource(recs, default.product("sample:s2"), aoi).read(range(len(recs)), ["red"])
    for zone in ("z12", "z13"):
        idx = [i for i, r in enumerate(recs) if r.id.endswith(zone)]
        fractions = [recs[i].properties["cloud_fraction"] for i in idx]
        clear = [i for i, f in zip(idx, fractions, strict=True) if f == 0]
        cloudy = [i for i, f in zip(idx, fractions, strict=True) if f > 0.2]
        assert len(clear) >= 3 and len(cloudy) >= 2
        # Clear dates are masked only outside the scene, all alike.
        outside = px.mask[clear[0], 0]
        for i in clear:
            assert np.array_equal(px.mask[i, 0], outside)
        # Cloudy dates mask more, inside the scene, as their stored nodata says.
        for i in cloudy:
            extra = px.mask[i, 0] & ~outside
            assert extra.mean() > 0.02, recs[i].id
            with rasterio.open(recs[i].files["red"][0]) as f:
                stored = f.read(1)
            assert math.isclose(
                float((stored == 0).mean()), recs[i].properties["cloud_fraction"], abs_tol=1e-4
            )
