"""pick_bands, rename_bands, nbands, concat_bands, with/without_bandinfo."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.support import BANDS, assert_ma_equal, naip_collection, naip_stack
from tiles.engine import (
    CollectionValue,
    ImageryError,
    ImageValue,
    concat_bands,
    nbands,
    pick_bands,
    rename_bands,
    with_bandinfo,
    without_bandinfo,
)
from tiles.errors import NotFoundError


def test_pick_bands_order_and_duplicates(img):
    picked = pick_bands(img, "nir red red red")
    assert picked.band_names == ["nir", "red", "red_1", "red_2"]
    assert_ma_equal(picked.ndarray, img.ndarray[[3, 0, 0, 0]])
    assert picked.bandinfo["red_2"] == img.bandinfo["red"]
    assert picked.properties == img.properties
    assert pick_bands(img, ["blue", "green"]).band_names == ["blue", "green"]


def test_pick_bands_on_collection(ic, shared_data):
    picked = pick_bands(ic, "green")
    assert_ma_equal(picked.ndarray, naip_stack(shared_data)[:, 1:2])
    assert picked.properties == ic.properties


def test_pick_bands_missing(img, ic):
    with pytest.raises(NotFoundError, match="'swir1'"):
        pick_bands(img, "red swir1")
    kept = pick_bands(img, ["red", "swir1"], allow_missing=True)
    assert kept.band_names == ["red"]
    assert pick_bands(img, "swir1 swir2", allow_missing=True).is_empty
    none_left = pick_bands(ic, "swir1", allow_missing=True)
    assert isinstance(none_left, CollectionValue) and none_left.is_empty
    assert pick_bands(ImageValue.empty(), "red").is_empty


def test_rename_bands(img):
    positional = rename_bands(img, ["r", "g", "b", "n"])
    assert positional.band_names == ["r", "g", "b", "n"]
    assert positional.bandinfo["n"] == img.bandinfo["nir"]
    assert_ma_equal(positional.ndarray, img.ndarray)
    mapped = rename_bands(img, mapping={"nir": "infrared"})
    assert mapped.band_names == ["red", "green", "blue", "infrared"]
    with pytest.raises(ImageryError, match="not both"):
        rename_bands(img, ["a", "b", "c", "d"], {"red": "x"})
    with pytest.raises(ImageryError, match="duplicate"):
        rename_bands(img, mapping={"red": "green"})
    with pytest.raises(ImageryError, match="2 names for 4 bands"):
        rename_bands(img, ["a", "b"])
    with pytest.raises(NotFoundError, match="'swir'"):
        rename_bands(img, mapping={"swir": "x"})
    assert rename_bands(ImageValue.empty(), ["a"]).is_empty


def test_nbands(img, ic):
    assert nbands(img) == 4 and nbands(pick_bands(ic, "red nir")) == 2
    assert nbands(ImageValue.empty()) == 0 and nbands(CollectionValue.empty()) == 0


def test_concat_bands_images(img, ic):
    red, green = pick_bands(img, "red"), pick_bands(img, "green")
    rg = concat_bands(red, green)
    assert rg.band_names == ["red", "green"]
    assert_ma_equal(rg.ndarray, img.ndarray[:2])
    assert rg.properties == img.properties
    twice = concat_bands(concat_bands(red, red), red)
    assert twice.band_names == ["red", "red_1", "red_2"]
    other_date = pick_bands(ic.image(2), "red")
    mixed = concat_bands(red, other_date)
    assert mixed.band_names == ["red", "red_1"]
    assert "date" not in mixed.properties and mixed.properties["product"] == "usda:naip"


def test_concat_bands_broadcasts_image_to_collection(img, ic, shared_data):
    stack = naip_stack(shared_data)
    result = concat_bands(pick_bands(ic, "red green"), pick_bands(img, "nir"))
    assert isinstance(result, CollectionValue) and len(result) == len(ic)
    expected = np.ma.concatenate([stack[:, :2], np.ma.stack([img.ndarray[3:4]] * len(ic))], axis=1)
    assert_ma_equal(result.ndarray, expected)
    assert result.properties[0] == ic.properties[0]
    assert "date" not in result.properties[1]
    pairwise = concat_bands(pick_bands(ic, "red"), pick_bands(ic, "red"))
    assert pairwise.band_names == ["red", "red_1"]
    assert pairwise.properties == ic.properties


def test_concat_bands_errors_and_empties(img, ic, shared_data):
    short = naip_collection(shared_data, ["20090818"])
    with pytest.raises(ImageryError, match="same length"):
        concat_bands(ic, short)
    assert concat_bands(img, ImageValue.empty()).is_empty
    empty = concat_bands(ImageValue.empty(), ic)
    assert isinstance(empty, CollectionValue) and empty.is_empty


def test_bandinfo_editing(img, ic):
    edited = with_bandinfo(img, "red", data_range=[0, 1], note="scaled")
    assert edited.bandinfo["red"] == {
        "id": "usda:naip:red",
        "name": "red",
        "data_range": [0, 1],
        "note": "scaled",
    }
    assert img.bandinfo["red"]["data_range"] == [0, 255]  # the input is not modified
    trimmed = without_bandinfo(edited, "red", "note", "not-there")
    assert "note" not in trimmed.bandinfo["red"] and "id" in trimmed.bandinfo["red"]
    assert without_bandinfo(ic, "nir", "id").bandinfo["nir"] == {
        "name": "nir",
        "data_range": [0, 255],
    }
    with pytest.raises(NotFoundError, match="'swir'"):
        with_bandinfo(img, "swir", a=1)
    assert with_bandinfo(ImageValue.empty(), "red", a=1).is_empty
    assert edited.band_names == BANDS
