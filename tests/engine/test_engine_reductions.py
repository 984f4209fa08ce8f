"""Reductions over every axis, mosaic and sort-by composites, against plain numpy.ma."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.support import (
    BANDS,
    CountingSource,
    assert_ma_equal,
    lazy_naip,
    naip_stack,
)
from tests.support import NAIP
from tiles.engine import (
    REDUCTIONS,
    CollectionValue,
    ImageryError,
    ImageValue,
    mosaic,
    pick_bands,
    reduce,
    sortby_composite,
    with_properties,
)
from tiles.engine.reductions import reduce_array


def np_reduce(op, arr, axis):
    """Independent numpy.ma reference: reduce over a tuple of axes by flattening them."""
    arr = np.ma.asarray(arr, dtype=float)
    kept = [i for i in range(arr.ndim) if i not in axis]
    moved = np.ma.MaskedArray(
        np.transpose(arr.data, kept + list(axis)), np.transpose(arr.mask, kept + list(axis))
    )
    flat = moved.reshape(moved.shape[: len(kept)] + (-1,))
    if op == "count":
        return np.ma.asarray(flat.count(axis=-1), dtype=float)
    return getattr(np.ma, op)(flat, axis=-1)


def as_float(v):
    return None if v is np.ma.masked else float(v)


@pytest.mark.parametrize("op", REDUCTIONS)
def test_image_reductions(img, op):
    arr = img.ndarray
    assert reduce(img, op) == pytest.approx(as_float(np_reduce(op, arr, (0, 1, 2))))
    per_band = reduce(img, op, "pixels")
    expected = np_reduce(op, arr, (1, 2))
    assert per_band == pytest.approx({b: float(expected[i]) for i, b in enumerate(BANDS)})
    across = reduce(img, op, "bands")
    assert across.band_names == [op] and across.bandinfo == {op: {}}
    assert across.properties == img.properties
    assert_ma_equal(across.ndarray, np_reduce(op, arr, (0,))[np.newaxis])


@pytest.mark.parametrize("op", REDUCTIONS)
def test_collection_reductions(ic, shared_data, op):
    stack = naip_stack(shared_data)
    assert reduce(ic, op) == pytest.approx(float(np_reduce(op, stack, (0, 1, 2, 3))))

    composite = reduce(ic, op, "images")
    assert isinstance(composite, ImageValue) and composite.band_names == BANDS
    assert_ma_equal(composite.ndarray, np_reduce(op, stack, (0,)))
    assert composite.properties == {
        "product": "usda:naip",
        "crs": "EPSG:26914",
        "quarter_quad": "m_4709963_se_14",
    }
    assert composite.bandinfo == ic.bandinfo

    per_image = reduce(ic, op, "bands")
    assert isinstance(per_image, CollectionValue) and per_image.band_names == [op]
    assert per_image.properties == ic.properties
    assert_ma_equal(per_image.ndarray, np_reduce(op, stack, (1,))[:, np.newaxis])

    pixels = reduce(ic, op, "pixels")
    expected = np_reduce(op, stack, (2, 3))
    assert len(pixels) == len(ic)
    for i, row in enumerate(pixels):
        assert row == pytest.approx({b: float(expected[i, j]) for j, b in enumerate(BANDS)})

    band_totals = reduce(ic, op, ("images", "pixels"))
    expected = np_reduce(op, stack, (0, 2, 3))
    assert band_totals == pytest.approx({b: float(expected[j]) for j, b in enumerate(BANDS)})
    assert reduce(ic, op, ("pixels", "images")) == band_totals

    scene = reduce(ic, op, ("bands", "pixels"))
    assert scene == pytest.approx([float(v) for v in np_reduce(op, stack, (1, 2, 3))])

    flat = reduce(ic, op, ("images", "bands"))
    assert flat.band_names == [op]
    assert_ma_equal(flat.ndarray, np_reduce(op, stack, (0, 1))[np.newaxis])


def test_all_masked_gives_none_or_masked_pixels():
    data = np.ma.MaskedArray(np.ones((2, 2, 2)), mask=[[[1, 1], [1, 1]], [[1, 0], [1, 1]]])
    img = ImageValue(data, {}, {"a": {}, "b": {}})
    assert reduce(img, "mean", "pixels") == {"a": None, "b": 1.0}
    assert reduce(img, "count", "pixels") == {"a": 0.0, "b": 1.0}
    across = reduce(img, "max", "bands")
    assert across.ndarray.mask.tolist() == [[[True, False], [True, True]]]
    counts = reduce(img, "count", "bands")
    assert counts.ndarray.tolist() == [[[0.0, 1.0], [0.0, 0.0]]]
    assert not counts.ndarray.mask.any()
    hidden = ImageValue(np.ma.MaskedArray(np.ones((1, 2, 2)), mask=True), {}, {"a": {}})
    assert reduce(hidden, "median") is None and reduce(hidden, "count") == 0.0
    assert reduce(hidden, "sum") is None


def test_empties_give_the_empty_of_the_axis_type():
    img, ic = ImageValue.empty(), CollectionValue.empty()
    assert reduce(img, "mean") is None
    assert reduce(img, "mean", "pixels") == {}
    assert reduce(img, "mean", "bands").is_empty
    assert reduce(ic, "sum") is None
    assert isinstance(reduce(ic, "min", "images"), ImageValue)
    bands = reduce(ic, "min", "bands")
    assert isinstance(bands, CollectionValue) and bands.is_empty
    assert reduce(ic, "std", "pixels") == []
    assert reduce(ic, "std", ("images", "pixels")) == {}
    assert reduce(ic, "std", ("bands", "pixels")) == []
    assert reduce(ic, "count", ("images", "bands")).is_empty
    assert mosaic(ic).is_empty


def test_invalid_reductions(img, ic):
    with pytest.raises(ImageryError, match="invalid axis"):
        reduce(img, "mean", "images")
    with pytest.raises(ImageryError, match="invalid axis"):
        reduce(ic, "mean", ("images", "bands", "pixels"))
    with pytest.raises(ImageryError, match="unknown reduction"):
        reduce(img, "mode")
    with pytest.raises(ImageryError, match="mosaic"):
        reduce(ic, "mosaic", "bands")


def test_group_property_survives_composite(ic):
    grouped = with_properties(ic, group=2015)
    assert reduce(grouped, "median", "images").properties["group"] == 2015


def test_mosaic_last_on_top(ic, shared_data):
    stack = naip_stack(shared_data)
    result = mosaic(ic)
    # independent reference: paint images in order, each unmasked pixel overwriting
    expected = np.ma.masked_all(stack.shape[1:])
    for layer in stack:
        expected[~layer.mask] = layer[~layer.mask]
    assert_ma_equal(result.ndarray, expected)
    assert result.ndarray.mask.sum() < stack[-1].mask.sum()  # holes filled from earlier dates
    first = np.ma.masked_all(stack.shape[1:])
    for layer in stack[::-1]:
        first[~layer.mask] = layer[~layer.mask]
    assert_ma_equal(mosaic(ic, reverse=True).ndarray, first)
    assert_ma_equal(reduce(ic, "mosaic", "images").ndarray, expected)
    assert "date" not in result.properties and result.bandinfo == ic.bandinfo


def test_sortby_composite(ic, shared_data):
    stack = naip_stack(shared_data)
    nir = stack[:, 3]
    for operation, fill, pick in (("argmax", -np.inf, np.argmax), ("argmin", np.inf, np.argmin)):
        result = sortby_composite(ic, "nir", operation)
        index = pick(np.ma.filled(nir, fill), axis=0)
        rows, cols = np.indices(index.shape)
        expected = stack[index, :, rows, cols].transpose(2, 0, 1)
        expected[:, nir.mask.all(axis=0)] = np.ma.masked
        assert_ma_equal(result.ndarray, expected)
        assert result.band_names == BANDS
    by_band = sortby_composite(pick_bands(ic, "red green"), pick_bands(ic, "nir"))
    assert_ma_equal(by_band.ndarray, sortby_composite(ic, "nir").ndarray[:2])
    with pytest.raises(ImageryError, match="argmax"):
        sortby_composite(ic, "nir", "max")
    assert sortby_composite(CollectionValue.empty(), "nir").is_empty


def test_lazy_mosaic_reads_only_until_filled(shared_data):
    ic, source = lazy_naip(shared_data)
    stack = naip_stack(shared_data)
    expected = np.ma.masked_all(stack.shape[1:])
    for layer in stack:
        expected[~layer.mask] = layer[~layer.mask]
    assert_ma_equal(mosaic(ic).ndarray, expected)
    assert [r[0] for r in source.reads] == [[4], [3], [2], [1], [0]][: len(source.reads)]
    # a fully unmasked top image is the only one read
    clear = CountingSource(np.ma.MaskedArray(stack.data, mask=False), BANDS)
    filled = CollectionValue.lazy(
        clear,
        [0, 1, 2],
        [{}, {}, {}],
        ic.bandinfo,
    )
    result = mosaic(filled, reverse=True)
    assert_ma_equal(result.ndarray, np.ma.MaskedArray(stack.data[0], mask=False))
    assert clear.reads == [([0], BANDS)]


def _exactly_equal(actual, expected) -> None:
    """Same mask, and bit-identical data at every unmasked pixel."""
    np.testing.assert_array_equal(np.ma.getmaskarray(actual), np.ma.getmaskarray(expected))
    valid = ~np.ma.getmaskarray(expected)
    np.testing.assert_array_equal(np.ma.getdata(actual)[valid], np.ma.getdata(expected)[valid])


def test_median_over_images_is_numpy_ma_median_bit_for_bit(shared_data):
    # Ten real NAIP dates, rescaled, with each date's own clouds: odd and even counts of
    # unmasked values per pixel, pixels masked in every date, and infinite values.
    dates = [p.stem.rsplit("_", 1)[1] for p in sorted((shared_data / NAIP).glob("*.tif"))]
    assert len(dates) == 10
    stack = naip_stack(shared_data, dates).astype(np.float64) / 255.0
    rng = np.random.default_rng(7)
    stack[rng.random(stack.shape) < 0.35] = np.ma.masked
    stack[:, :, :4, :4] = np.ma.masked
    stack[2, 0, 10, 10:14] = np.inf
    stack[3, 1, 11, 10:14] = -np.inf
    for n in (1, 2, 5, 6, 10):
        expected = np.ma.median(stack[:n], axis=0)
        _exactly_equal(reduce_array("median", stack[:n], [0]), expected)
    ic = CollectionValue(stack, [{} for _ in range(len(stack))], {b: {} for b in BANDS})
    _exactly_equal(reduce(ic, "median", "images").ndarray, np.ma.median(stack, axis=0))
    _exactly_equal(
        reduce(ic, "median", ("images", "bands")).ndarray[0],
        np.ma.median(stack.transpose(2, 3, 0, 1).reshape(*stack.shape[2:], -1), axis=-1),
    )


def test_median_with_unmasked_nan_follows_numpy(shared_data):
    stack = naip_stack(shared_data).astype(np.float64)
    stack[1, 0, 5, 5] = np.nan
    result = reduce_array("median", stack, [0])
    assert np.isnan(result[0, 5, 5])
    _exactly_equal(result, np.ma.median(stack, axis=0))
