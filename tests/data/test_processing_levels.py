"""processing_level: a product's bands name the band holding them at each level.

Pixels are compared with the catalogued files read by rasterio (tests/spec/expected.py).
"""

from __future__ import annotations

import numpy as np
import pytest

import tiles as wf
from tests.data.levels_product import (
    PRODUCT,
    SOURCES,
    SURFACE_OFFSET,
    TOA_ONLY,
    WITH_SURFACE,
    create_levels_product,
)
from tests.spec.expected import read_image, same_array
from tiles import scenes
from tiles.data import catalog
from tiles.errors import ParameterError

CTX = scenes.AOI(
    bounds=(412980.0, 3949170.0, 416820.0, 3953010.0),
    bounds_crs="EPSG:32613",
    crs="EPSG:32613",
    resolution=60.0,
)


@pytest.fixture(scope="module", autouse=True)
def levels_product(tmp_path_factory) -> None:
    create_levels_product(tmp_path_factory.mktemp("levels"))


def test_levels_select_the_bands_that_hold_them() -> None:
    surface = wf.Image.from_id(WITH_SURFACE, processing_level="surface").compute(CTX)
    assert list(surface.bandinfo) == ["red", "nir"]
    assert surface.bandinfo["red"]["id"] == f"{PRODUCT}:red_sr"
    same_array(surface.ndarray, read_image(WITH_SURFACE, CTX, ["red_sr", "nir_sr"]))
    toa = wf.Image.from_id(WITH_SURFACE, processing_level="toa").compute(CTX)
    same_array(toa.ndarray, read_image(SOURCES[WITH_SURFACE], CTX, ["red", "nir"]))
    # surface is the stored value less the offset, where there is data
    both = ~surface.ndarray.mask & ~toa.ndarray.mask
    difference = (toa.ndarray.data - surface.ndarray.data)[both]
    assert np.allclose(difference[toa.ndarray.data[both] > 0.0301], SURFACE_OFFSET / 10000)
    # no level: the bands that are not another's variant, from their own files
    plain = wf.Image.from_id(WITH_SURFACE).compute(CTX)
    assert list(plain.bandinfo) == ["red", "nir"]
    same_array(plain.ndarray, toa.ndarray)


def test_an_image_without_the_level_is_empty() -> None:
    assert wf.Image.from_id(TOA_ONLY, processing_level="surface").compute(CTX).ndarray is None
    toa = wf.Image.from_id(TOA_ONLY, processing_level="toa").compute(CTX)
    same_array(toa.ndarray, read_image(SOURCES[TOA_ONLY], CTX, ["red", "nir"]))


def test_collections_keep_the_images_that_have_the_level() -> None:
    surface = wf.ImageCollection.from_id(PRODUCT, processing_level="surface").compute(CTX)
    assert [p["id"] for p in surface.properties] == [WITH_SURFACE]
    toa = wf.ImageCollection.from_id(PRODUCT, processing_level="toa").compute(CTX)
    assert sorted(p["id"] for p in toa.properties) == sorted(SOURCES)
    only_toa = wf.ImageCollection.from_id(
        PRODUCT, "2023-01-01", "2023-02-01", processing_level="surface"
    )
    assert len(only_toa.compute(CTX)) == 0


def test_unknown_levels_are_errors_naming_the_levels() -> None:
    with pytest.raises(
        ParameterError, match="no processing level 'radiance'; its levels are surface, toa"
    ):
        wf.Image.from_id(WITH_SURFACE, processing_level="radiance").compute(CTX)
    with pytest.raises(
        ParameterError, match="'sample:dem' has no processing level 'surface'; it defines no"
    ):
        wf.ImageCollection.from_id("sample:dem", processing_level="surface").compute(CTX)


def test_definitions_are_checked_and_kept() -> None:
    stored = catalog.product(PRODUCT)
    assert stored.processing_levels == ["surface", "toa"]
    assert stored.band("red").processing_levels == {"toa": "red", "surface": "red_sr"}
    assert stored.variant_names == {"red_sr", "nir_sr"}
    with pytest.raises(ParameterError, match="names band 'red_x' for processing level 'surface'"):
        catalog.create_product(
            "levels:bad",
            [{"name": "red", "data_range": (0, 1), "processing_levels": {"surface": "red_x"}}],
        )
    with pytest.raises(ParameterError, match="cannot have processing levels of its own"):
        catalog.create_product(
            "levels:bad",
            [
                {"name": "a", "data_range": (0, 1), "processing_levels": {"x": "b"}},
                {"name": "b", "data_range": (0, 1), "processing_levels": {"y": "b"}},
            ],
        )
    with pytest.raises(ParameterError, match="must map level names to band names"):
        catalog.create_product(
            "levels:bad", [{"name": "a", "data_range": (0, 1), "processing_levels": ["x"]}]
        )


def test_base_bands_still_need_their_files(tmp_path) -> None:
    red = catalog.image(SOURCES[WITH_SURFACE]).files["red"][0]
    with pytest.raises(ParameterError, match=r"no file given for band\(s\) \['nir'\]"):
        catalog.add_image(PRODUCT, {"red": red}, image_id="incomplete", acquired="2023-06-14")
