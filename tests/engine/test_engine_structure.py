"""Collection structure: from_images, concat, selections, properties, groups and windows."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.support import (
    NAIP_DATES,
    assert_ma_equal,
    naip_image,
    naip_stack,
)
from tiles.engine import (
    CollectionValue,
    ImageIndexError,
    ImageryError,
    ImageValue,
    concat,
    from_images,
    getitem,
    group_indices,
    head,
    partition,
    pick_bands,
    select_images,
    tail,
    window_indices,
    with_bandinfo,
    with_properties,
    without_properties,
)


def test_from_images_aligns_bands_and_drops_empties(shared_data):
    a = naip_image(shared_data, NAIP_DATES[0])
    b = pick_bands(naip_image(shared_data, NAIP_DATES[1]), "nir blue green red")
    b = with_bandinfo(b, "red", data_range=[0, 1])
    built = from_images([a, ImageValue.empty(), b])
    assert len(built) == 2 and built.band_names == ["red", "green", "blue", "nir"]
    assert_ma_equal(built.ndarray, naip_stack(shared_data, NAIP_DATES[:2]))
    assert built.properties == [a.properties, b.properties]
    assert built.bandinfo["red"] == {"id": "usda:naip:red", "name": "red"}  # intersected
    assert from_images([ImageValue.empty()]).is_empty
    assert from_images([]).is_empty
    with pytest.raises(ImageryError, match="identical band names"):
        from_images([a, pick_bands(b, "red")])


def test_concat(ic, shared_data):
    img = naip_image(shared_data, NAIP_DATES[2])
    joined = concat(ic, img, CollectionValue.empty(), head(ic, 2))
    assert len(joined) == len(ic) + 3
    stack = naip_stack(shared_data)
    assert_ma_equal(joined.ndarray, np.ma.concatenate([stack, stack[2:3], stack[:2]]))
    assert joined.properties == ic.properties + [img.properties] + ic.properties[:2]
    assert concat(ImageValue.empty(), CollectionValue.empty()).is_empty
    with pytest.raises(ImageryError, match="identical band names"):
        concat(ic, pick_bands(img, "red"))


def test_selections(ic, shared_data):
    stack = naip_stack(shared_data)
    assert_ma_equal(select_images(ic, [3, -1, 0]).ndarray, stack[[3, 4, 0]])
    assert select_images(ic, []).is_empty
    with pytest.raises(ImageIndexError, match="out of range"):
        select_images(ic, [5])
    assert [len(head(ic, n)) for n in (0, 2, 99)] == [0, 2, 5]
    assert [len(tail(ic, n)) for n in (0, 2, 99)] == [0, 2, 5]
    assert_ma_equal(tail(ic, 2).ndarray, stack[3:])
    assert tail(ic, 2).properties == ic.properties[3:]
    first, rest = partition(ic, 2)
    assert (len(first), len(rest)) == (2, 3)
    assert_ma_equal(rest.ndarray, stack[2:])
    assert [len(p) for p in partition(ic, 99)] == [5, 0]
    assert all(p.is_empty for p in partition(CollectionValue.empty(), 3))
    assert head(CollectionValue.empty(), 3).is_empty


def test_getitem(ic, shared_data):
    stack = naip_stack(shared_data)
    second = getitem(ic, 1)
    assert isinstance(second, ImageValue)
    assert_ma_equal(second.ndarray, stack[1])
    assert second.properties == ic.properties[1] and second.bandinfo == ic.bandinfo
    assert_ma_equal(getitem(ic, -1).ndarray, stack[-1])
    assert_ma_equal(getitem(ic, slice(None, None, 2)).ndarray, stack[::2])
    with pytest.raises(ImageIndexError):
        getitem(ic, 7)
    assert getitem(CollectionValue.empty(), 0).is_empty


def test_properties_editing(ic, shared_data):
    img = naip_image(shared_data)
    tagged = with_properties(img, cloud_fraction=0.1, product="other")
    assert tagged.properties["cloud_fraction"] == 0.1 and tagged.properties["product"] == "other"
    assert img.properties["product"] == "usda:naip"
    assert_ma_equal(tagged.ndarray, img.ndarray)
    all_tagged = with_properties(ic, group="a")
    assert all(p["group"] == "a" for p in all_tagged.properties)
    trimmed = without_properties(all_tagged, "group", "id", "missing")
    assert all("group" not in p and "id" not in p for p in trimmed.properties)
    assert "date" in trimmed.properties[0]
    assert with_properties(ImageValue.empty(), a=1).is_empty
    assert without_properties(CollectionValue.empty(), "a").is_empty


def test_group_indices(ic):
    years = [p["date"].year // 4 * 4 for p in ic.properties]  # 2008, 2008, 2012, 2012, 2012
    groups = group_indices(years)
    assert groups == {2008: [0, 1], 2012: [2, 3, 4]}
    assert list(group_indices([3, 1, 3, 2])) == [1, 2, 3]
    assert group_indices([[1, 2], [1, 2]]) == {(1, 2): [0, 1]}
    assert group_indices([]) == {}
    assert list(group_indices(["b", 1, "b"])) == ["b", 1]  # incomparable keys: first-seen order


def test_window_indices():
    assert window_indices(5, back=1, fwd=1) == [([0], 1, [2]), ([1], 2, [3]), ([2], 3, [4])]
    assert window_indices(3) == [([], 0, []), ([], 1, []), ([], 2, [])]
    assert window_indices(4, back=2) == [([0, 1], 2, []), ([1, 2], 3, [])]
    assert window_indices(0, back=3) == []
    with pytest.raises(ImageryError, match="longer than the ImageCollection"):
        window_indices(3, back=2, fwd=1)
    with pytest.raises(ImageryError, match=">= 0"):
        window_indices(3, back=-1)
