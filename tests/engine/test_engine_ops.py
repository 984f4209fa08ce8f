"""Element-wise operations: broadcasting table, band names, metadata, masks, empties, errors."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.support import BANDS, assert_ma_equal, naip_collection, naip_stack
from tiles.engine import (
    CollectionValue,
    ImageryError,
    ImageryTypeError,
    ImageValue,
    binary_op,
    pick_bands,
    unary_op,
)
from tiles.engine.ops import BINARY_OPS, UNARY_OPS


def band(x, name):
    return x.ndarray[..., BANDS.index(name) : BANDS.index(name) + 1, :, :]


def test_image_plus_scalar_both_sides(img):
    expected = img.ndarray + 1
    for result in (binary_op("add", img, 1), binary_op("add", 1, img)):
        assert_ma_equal(result.ndarray, expected)
        assert result.band_names == BANDS
        assert result.properties == img.properties
        assert result.bandinfo == img.bandinfo
    assert_ma_equal(binary_op("sub", 1, img).ndarray, 1 - img.ndarray)


def test_image_plus_image_equals_times_two(img):
    assert_ma_equal(binary_op("add", img, img).ndarray, binary_op("mul", img, 2).ndarray)


def test_one_band_broadcasts_to_all_bands_and_keeps_n_band_names(img):
    red = pick_bands(img, "red")
    result = binary_op("add", img, red)
    assert_ma_equal(result.ndarray, img.ndarray + band(img, "red"))
    assert result.band_names == BANDS
    assert result.bandinfo == img.bandinfo
    flipped = binary_op("add", red, img)
    assert flipped.band_names == BANDS
    assert_ma_equal(flipped.ndarray, result.ndarray)


def test_bands_pair_by_name_not_position(img):
    rg = pick_bands(img, "red green")
    gr = pick_bands(img, "green red")
    same = binary_op("add", rg, rg)
    swapped = binary_op("add", rg, gr)
    assert swapped.band_names == ["red", "green"]
    assert_ma_equal(swapped.ndarray, same.ndarray)
    assert_ma_equal(same.ndarray, 2 * img.ndarray[:2])


def test_different_band_sets_are_an_error(img):
    with pytest.raises(ImageryError, match="red.*green"):
        binary_op("mul", pick_bands(img, "red green"), pick_bands(img, "red green blue"))


def test_one_band_times_three_bands(img):
    result = binary_op("mul", pick_bands(img, "green"), pick_bands(img, "red green blue"))
    assert result.band_names == ["red", "green", "blue"]
    assert_ma_equal(result.ndarray, img.ndarray[:3] * band(img, "green"))


def test_one_band_operands_with_different_names_are_renamed(img):
    nir, red = pick_bands(img, "nir"), pick_bands(img, "red")
    ndvi = binary_op("div", binary_op("sub", nir, red), binary_op("add", nir, red))
    assert ndvi.band_names == ["nir_sub_red_div_nir_add_red"]
    n, r = band(img, "nir"), band(img, "red")
    assert_ma_equal(ndvi.ndarray, (n - r) / (n + r))
    # bandinfo of a renamed band: fields equal in both sources survive, others are dropped
    assert ndvi.bandinfo == {"nir_sub_red_div_nir_add_red": {"data_range": [0, 255]}}
    assert binary_op("arctan2", red, 1).band_names == ["red"]
    assert binary_op("add", red, red).band_names == ["red"]


def test_collection_broadcasting(img, ic, shared_data):
    stack = naip_stack(shared_data)
    assert_ma_equal(binary_op("add", ic, 1).ndarray, stack + 1)
    assert_ma_equal(binary_op("add", ic, ic).ndarray, stack + stack)
    red_ic = pick_bands(ic, "red")
    assert_ma_equal(binary_op("add", ic, red_ic).ndarray, stack + stack[:, :1])
    result = binary_op("add", ic, img)
    assert isinstance(result, CollectionValue)
    assert_ma_equal(result.ndarray, stack + img.ndarray[np.newaxis])
    red = pick_bands(img, "red")
    assert_ma_equal(binary_op("sub", red, ic).ndarray, img.ndarray[np.newaxis, :1] - stack)


def test_collections_of_different_length_are_an_error(ic, shared_data):
    short = naip_collection(shared_data, ["20090818", "20100629"])
    with pytest.raises(ImageryError, match="same length"):
        binary_op("add", ic, short)


def test_metadata_merging(img, ic):
    other = ic.image(1)
    merged = binary_op("add", img, other)
    # id, date and geotrans differ between the dates; product, crs and quarter_quad agree
    # id, date and geotrans (the yearly grids shift by metres) differ; the rest agree
    assert img.properties["geotrans"] != other.properties["geotrans"]
    assert merged.properties == {
        "product": "usda:naip",
        "crs": "EPSG:26914",
        "quarter_quad": "m_4709963_se_14",
    }
    pairwise = binary_op("mul", ic, ic)
    assert pairwise.properties == ic.properties
    with_img = binary_op("mul", ic, img)
    assert with_img.properties[0] == ic.properties[0]
    assert "date" not in with_img.properties[1]
    assert with_img.properties[1]["product"] == "usda:naip"


def test_masks_union_and_invalid_results(img):
    red, nir = pick_bands(img, "red"), pick_bands(img, "nir")
    # shift the masks so the union differs from either input
    shifted = ImageValue(np.ma.MaskedArray(nir.ndarray.data, np.roll(nir.ndarray.mask, 3, axis=2)),
                         {}, {"nir": {}})  # fmt: skip
    result = binary_op("sub", red, shifted)
    expected = red.ndarray - shifted.ndarray
    assert_ma_equal(result.ndarray, expected)
    assert result.ndarray.mask.sum() > red.ndarray.mask.sum()
    zero = binary_op("sub", red, red)
    ratio = binary_op("div", red, zero)
    assert ratio.ndarray.mask.all()
    assert np.isfinite(ratio.ndarray.data).all()
    for op in ("floordiv", "mod"):
        assert binary_op(op, red, 0).ndarray.mask.all()
    ints = ImageValue(np.ma.MaskedArray(np.array([[[4, 5, 6]]]), mask=False), {}, {"i": {}})
    div = binary_op("floordiv", ints, ImageValue(np.ma.array([[[2, 0, 4]]]), {}, {"j": {}}))
    assert div.ndarray.mask.tolist() == [[[False, True, False]]]
    assert div.ndarray[0, 0, 0] == 2


def test_every_binary_op_matches_numpy(img):
    a = binary_op("mul", pick_bands(img, "red"), 1 / 64)
    b = binary_op("mul", pick_bands(img, "green"), 1 / 64)
    ia = ImageValue(np.ma.MaskedArray(np.arange(12).reshape(1, 3, 4), mask=False), {}, {"a": {}})
    ib = ImageValue(np.ma.MaskedArray(np.arange(12)[::-1].reshape(1, 3, 4) % 4, mask=False), {},
                    {"b": {}})  # fmt: skip
    expected = {
        "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
        "floordiv": np.floor_divide, "mod": np.mod, "pow": np.power, "lt": np.less,
        "le": np.less_equal, "eq": np.equal, "ne": np.not_equal, "gt": np.greater,
        "ge": np.greater_equal, "arctan2": np.arctan2,
    }  # fmt: skip
    for op, func in expected.items():
        result = binary_op(op, a, b)
        with np.errstate(all="ignore"):
            raw = func(a.ndarray.data, b.ndarray.data)
        invalid = ~np.isfinite(np.asarray(raw, dtype=float))
        if op in ("div", "floordiv", "mod"):
            invalid |= b.ndarray.data == 0
        exp = np.ma.MaskedArray(raw, mask=a.ndarray.mask | b.ndarray.mask | invalid)
        assert_ma_equal(result.ndarray, exp)
        assert result.band_names == [f"red_{op}_green"]
        if op in ("lt", "le", "eq", "ne", "gt", "ge"):
            assert result.ndarray.dtype == bool
    for op, func in {"and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
                     "lshift": np.left_shift, "rshift": np.right_shift}.items():  # fmt: skip
        assert_ma_equal(binary_op(op, ia, ib).ndarray, func(ia.ndarray, ib.ndarray))
    assert set(BINARY_OPS) == set(expected) | {"and", "or", "xor", "lshift", "rshift"}


def test_logical_ops_on_float_and_bool_give_bool(img):
    bright = binary_op("gt", pick_bands(img, "red"), 100)
    green = binary_op("gt", pick_bands(img, "green"), 100)
    both = binary_op("and", bright, green)
    assert both.ndarray.dtype == bool
    r, g = band(img, "red") > 100, band(img, "green") > 100
    assert_ma_equal(both.ndarray, r & g)
    assert_ma_equal(binary_op("or", bright, green).ndarray, r | g)
    assert_ma_equal(binary_op("xor", bright, green).ndarray, r ^ g)
    assert binary_op("and", img, 1).ndarray.dtype == bool
    with pytest.raises(ImageryTypeError, match="lshift"):
        binary_op("lshift", img, 1)


def test_unary_ops_match_numpy_and_mask_invalid(img):
    x = binary_op("sub", binary_op("div", img, 128.0), 1.0)  # values around [-1, 1]
    for op in UNARY_OPS:
        if op == "invert":
            continue
        func = {"neg": np.negative, "pos": np.positive}.get(op, getattr(np, op, None))
        result = unary_op(op, x)
        with np.errstate(all="ignore"):
            raw = func(x.ndarray.data)
        exp = np.ma.MaskedArray(raw, mask=x.ndarray.mask | ~np.isfinite(raw))
        assert_ma_equal(result.ndarray, exp)
        assert result.band_names == BANDS
        assert result.properties == img.properties
    assert unary_op("log", x).ndarray.mask.sum() > x.ndarray.mask.sum()  # negatives masked
    mask_img = binary_op("gt", img, 100)
    assert_ma_equal(unary_op("invert", mask_img).ndarray, ~(img.ndarray > 100))
    with pytest.raises(ImageryTypeError, match="invert"):
        unary_op("invert", img)


def test_empties_propagate(img, ic):
    empty_img, empty_ic = ImageValue.empty(), CollectionValue.empty()
    assert binary_op("add", empty_img, 1).is_empty
    assert binary_op("add", img, empty_img).is_empty
    result = binary_op("add", img, empty_ic)
    assert isinstance(result, CollectionValue) and result.is_empty
    assert isinstance(binary_op("add", empty_img, ic), CollectionValue)
    assert unary_op("log", empty_img).is_empty
    assert unary_op("sqrt", empty_ic).is_empty


def test_bad_operands_and_ops(img):
    with pytest.raises(ImageryTypeError, match="str"):
        binary_op("add", img, "red")
    with pytest.raises(ImageryError, match="unknown binary operation"):
        binary_op("plus", img, 1)
    with pytest.raises(ImageryError, match="unknown unary operation"):
        unary_op("cbrt", img)
    small = ImageValue(np.ma.zeros((1, 2, 2)), {}, {"red": {}})
    with pytest.raises(ImageryError, match="pixel shapes"):
        binary_op("add", img, small)


def test_scalars_only():
    assert binary_op("add", 2, 3) == 5
    assert unary_op("sqrt", 4.0) == 2.0


def test_numpy_dtype_refusals_name_the_operation(img):
    flags = binary_op("gt", img, 100)
    with pytest.raises(ImageryTypeError, match="sub is not supported for bool and bool"):
        binary_op("sub", flags, flags)
    with pytest.raises(ImageryTypeError, match="negate"):
        unary_op("neg", flags)
