"""Engine values: construction, full masks, empties and lazy reading from a pixel source."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.support import BANDS, assert_ma_equal, lazy_naip, naip_stack
from tiles.engine import (
    CollectionValue,
    ImageryError,
    ImageValue,
    binary_op,
    concat,
    concat_bands,
    from_images,
    getitem,
    head,
    partition,
    pick_bands,
    reduce,
    rename_bands,
    select_images,
    tail,
    with_properties,
)


def test_values_always_have_a_full_boolean_mask():
    img = ImageValue(np.arange(8.0).reshape(2, 2, 2), {"id": "x"}, {"a": {}, "b": {}})
    assert isinstance(img.ndarray, np.ma.MaskedArray)
    assert img.ndarray.mask.shape == (2, 2, 2) and not img.ndarray.mask.any()
    ic = CollectionValue(np.ma.MaskedArray(np.zeros((3, 1, 2, 2))), None, {"a": {}})
    assert ic.ndarray.mask.shape == (3, 1, 2, 2)
    assert len(ic) == 3 and ic.properties == [{}, {}, {}]
    assert ic.image(-1).properties == {}


def test_band_count_and_length_mismatches_are_errors():
    with pytest.raises(ImageryError, match="2 bands"):
        ImageValue(np.zeros((2, 2, 2)), {}, {"a": {}})
    with pytest.raises(ImageryError, match="properties"):
        CollectionValue(np.zeros((2, 1, 2, 2)), [{}], {"a": {}})


def test_empties():
    empty = ImageValue.empty()
    assert empty.is_empty and empty.ndarray is None and empty.bandinfo == {} and len(empty) == 0
    ic = CollectionValue.empty()
    assert ic.is_empty and ic.ndarray is None and len(ic) == 0
    assert CollectionValue(np.zeros((0, 1, 2, 2)), [], {"a": {}}).is_empty


def test_lazy_collection_reads_once_and_only_what_it_needs(shared_data):
    ic, source = lazy_naip(shared_data)
    assert len(ic) == 5 and ic.is_lazy and source.reads == []
    # metadata-only work does not read
    picked = pick_bands(ic, "nir red red")
    sub = select_images(picked, [4, 1])
    renamed = rename_bands(sub, ["n", "r", "r2"])
    dated = with_properties(renamed, tag="x")
    assert [len(head(ic, 2)), len(tail(ic, 2)), len(partition(ic, 3)[1])] == [2, 2, 2]
    assert source.reads == []
    stack = naip_stack(shared_data)
    expected = stack[[4, 1]][:, [3, 0, 0]]
    assert_ma_equal(dated.ndarray, expected)
    assert source.reads == [([4, 1], ["nir", "red"])]  # duplicates asked for once
    assert dated.band_names == ["n", "r", "r2"] and dated.properties[0]["tag"] == "x"
    assert dated.ndarray is not None
    assert len(source.reads) == 1  # cached


def test_lazy_image_from_collection(shared_data):
    ic, source = lazy_naip(shared_data)
    img = getitem(ic, 2)
    assert img.is_lazy and source.reads == []
    red = pick_bands(img, "red")
    assert_ma_equal(red.ndarray, naip_stack(shared_data)[2, :1])
    assert source.reads == [([2], ["red"])]


def test_lazy_structure_stays_lazy(shared_data):
    ic, source = lazy_naip(shared_data)
    joined = concat(getitem(ic, 0), select_images(ic, [3]), ic.image(1))
    built = from_images([ic.image(4), ImageValue.empty(), ic.image(0)])
    both = concat_bands(pick_bands(ic, "red"), pick_bands(ic, "nir"))
    assert joined.is_lazy and built.is_lazy and both.is_lazy and source.reads == []
    stack = naip_stack(shared_data)
    assert_ma_equal(joined.ndarray, stack[[0, 3, 1]])
    assert_ma_equal(built.ndarray, stack[[4, 0]])
    assert_ma_equal(both.ndarray, stack[:, [0, 3]])
    assert both.band_names == ["red", "nir"]


def test_numeric_work_forces_the_read(shared_data):
    ic, source = lazy_naip(shared_data)
    total = reduce(binary_op("add", pick_bands(head(ic, 2), "green"), 1), "sum")
    stack = naip_stack(shared_data)
    assert total == pytest.approx(float((stack[:2, 1] + 1).sum()))
    assert source.reads == [([0, 1], ["green"])]


def test_lazy_reads_validate_the_source_shape():
    class Bad:
        def read(self, indices, bands):
            return np.ma.zeros((1, 1, 2, 2))

    ic = CollectionValue.lazy(Bad(), [0, 1], [{}, {}], {"a": {}})
    with pytest.raises(ImageryError, match="pixel source returned"):
        _ = ic.ndarray


def test_band_names_follow_bandinfo_order(shared_data):
    ic, _ = lazy_naip(shared_data)
    assert ic.band_names == BANDS
    assert list(ic.image(0).bandinfo) == BANDS


def test_two_bands_of_one_image_are_read_together(shared_data):
    ic, source = lazy_naip(shared_data)
    image = ic.image(2)
    nir, red = pick_bands(image, "nir"), pick_bands(image, "red")
    ndvi = binary_op("div", binary_op("sub", nir, red), binary_op("add", nir, red))
    assert source.reads == [([2], ["nir", "red"])]  # one read for both bands, none after
    stack = naip_stack(shared_data)
    n, r = stack[2, BANDS.index("nir")], stack[2, BANDS.index("red")]
    expected = np.ma.masked_invalid((n - r) / (n + r))
    assert_ma_equal(
        ndvi.ndarray[0], np.ma.masked_array(expected.data, expected.mask | (n + r == 0))
    )
