"""mask and getmask against plain numpy.ma on real NAIP pixels."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.support import assert_ma_equal, naip_collection, naip_stack
from tiles.engine import (
    CollectionValue,
    ImageryError,
    ImageValue,
    binary_op,
    getmask,
    mask,
    pick_bands,
)


def _dark_red(x):
    """A 1-band bool mask (red < 120) that itself is masked where red is masked."""
    return binary_op("lt", pick_bands(x, "red"), 120)


def test_mask_adds_to_current_mask_and_ignores_masked_mask_pixels(img):
    m = _dark_red(img)
    result = mask(img, m)
    arr = img.ndarray
    dark = np.ma.filled(arr[0] < 120, False)  # masked pixels of the mask count as False
    expected = np.ma.MaskedArray(arr.data, mask=arr.mask | dark[np.newaxis])
    assert_ma_equal(result.ndarray, expected)
    np.testing.assert_array_equal(result.ndarray.data, arr.data)
    assert result.properties == img.properties and result.bandinfo == img.bandinfo
    assert result.ndarray.mask.sum() > arr.mask.sum()


def test_mask_replace(img):
    m = _dark_red(img)
    result = mask(img, m, replace=True)
    arr = img.ndarray
    replaced = (arr[0].data < 120) | arr[0].mask  # masked mask pixels become masked
    expected = np.ma.MaskedArray(arr.data, mask=np.broadcast_to(replaced, arr.shape))
    assert_ma_equal(result.ndarray, expected)


def test_mask_replace_can_unmask(img):
    none = ImageValue(np.ma.zeros((1, *img.ndarray.shape[1:]), dtype=bool), {}, {"m": {}})
    unmasked = mask(img, none, replace=True)
    assert not unmasked.ndarray.mask.any()


def test_image_mask_applies_to_every_image(ic, img, shared_data):
    m = _dark_red(img)
    result = mask(ic, m)
    stack = naip_stack(shared_data)
    dark = np.ma.filled(img.ndarray[0] < 120, False)
    expected = np.ma.MaskedArray(stack.data, mask=stack.mask | dark)
    assert_ma_equal(result.ndarray, expected)


def test_collection_mask_per_image(ic, shared_data):
    result = mask(ic, _dark_red(ic))
    stack = naip_stack(shared_data)
    dark = np.ma.filled(stack[:, :1] < 120, False)
    assert_ma_equal(result.ndarray, np.ma.MaskedArray(stack.data, mask=stack.mask | dark))
    short = naip_collection(shared_data, ["20090818"])
    with pytest.raises(ImageryError, match="length"):
        mask(ic, _dark_red(short))
    with pytest.raises(ImageryError, match="Image with an ImageCollection"):
        mask(ic.image(0), _dark_red(ic))


def test_multiband_mask_pairs_by_name(img):
    m = binary_op("gt", pick_bands(img, "nir blue green red"), 120)
    result = mask(img, m)
    arr = img.ndarray
    expected = np.ma.MaskedArray(arr.data, mask=arr.mask | np.ma.filled(arr > 120, False))
    assert_ma_equal(result.ndarray, expected)
    with pytest.raises(ImageryError, match="one band or the same bands"):
        mask(img, pick_bands(m, "red green"))


def test_mask_empties(img):
    assert mask(img, ImageValue.empty()) is img
    assert mask(ImageValue.empty(), _dark_red(img)).is_empty
    assert mask(CollectionValue.empty(), _dark_red(img)).is_empty


def test_getmask(img, ic, shared_data):
    m = getmask(img)
    assert m.band_names == ["mask"] and m.bandinfo == {"mask": {}}
    assert m.ndarray.dtype == bool and not m.ndarray.mask.any()
    np.testing.assert_array_equal(m.ndarray.data[0], img.ndarray.mask.any(axis=0))
    assert m.properties == img.properties
    cm = getmask(ic)
    assert isinstance(cm, CollectionValue) and cm.ndarray.shape[1] == 1
    np.testing.assert_array_equal(cm.ndarray.data[:, 0], naip_stack(shared_data).mask.any(axis=1))
    # round trip: masking a fresh copy of the data with its own mask restores it
    bare = ImageValue(img.ndarray.data, img.properties, img.bandinfo)
    assert_ma_equal(mask(bare, m).ndarray, img.ndarray)
    assert getmask(ImageValue.empty()).is_empty
