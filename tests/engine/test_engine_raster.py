"""where, clip_values, scale_values, colormap, replace_empty_with and conv2d on NAIP pixels."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from tests.engine.support import BANDS, assert_ma_equal, naip_stack
from tiles.engine import (
    CollectionValue,
    ImageryError,
    ImageValue,
    binary_op,
    pick_bands,
)
from tiles.engine.raster import (
    clip_values,
    colormap,
    conv2d,
    replace_empty_with,
    scale_values,
    where,
)
from tiles.errors import NotFoundError


def test_where_one_band(img):
    red, blue = pick_bands(img, "red"), pick_bands(img, "blue")
    cond = binary_op("gt", red, 120)
    result = where(cond, red, blue)
    assert result.band_names == ["red_or_blue_where_red"]
    r, b = img.ndarray[0:1], img.ndarray[2:3]
    c = r > 120
    expected = np.ma.MaskedArray(
        np.where(c.data, r.data, b.data), mask=c.mask | np.where(c.data, r.mask, b.mask)
    )
    assert_ma_equal(result.ndarray, expected)
    assert result.properties == img.properties
    same = where(binary_op("gt", blue, 100), blue, 0)
    assert same.band_names == ["blue_where_blue"]
    assert_ma_equal(same.ndarray, np.ma.where(b > 100, b, 0))


def test_where_broadcasts(img, ic, shared_data):
    cond = binary_op("gt", pick_bands(img, "nir"), 180)
    result = where(cond, img, 0.0)
    assert result.band_names == BANDS
    n = img.ndarray[3:4]
    c = n > 180
    expected = np.ma.MaskedArray(
        np.where(c.data, img.ndarray.data, 0.0), mask=c.mask | (c.data & img.ndarray.mask)
    )
    assert_ma_equal(result.ndarray, expected)
    stack = naip_stack(shared_data)
    per_image = where(cond, ic, img)  # Image condition and fallback applied to every image
    assert isinstance(per_image, CollectionValue) and len(per_image) == len(ic)
    chosen = np.where(c.data, stack.data, img.ndarray.data)
    chosen_mask = c.mask | np.where(c.data, stack.mask, img.ndarray.mask)
    assert_ma_equal(per_image.ndarray, np.ma.MaskedArray(chosen, mask=chosen_mask))
    flags = where(cond, 1, 0)
    assert flags.band_names == ["nir"]  # scalar x and y: the condition's names
    assert_ma_equal(flags.ndarray, np.ma.where(c, 1, 0))


def test_where_empties_and_scalar_condition(img):
    assert where(ImageValue.empty(), img, 0).is_empty
    assert where(binary_op("gt", img, 1), CollectionValue.empty(), 0).is_empty
    assert where(True, img, 0) is img


def test_clip_values(img, ic, shared_data):
    arr = img.ndarray
    assert_ma_equal(clip_values(img, 100, 150).ndarray, np.ma.clip(arr, 100, 150))
    assert_ma_equal(clip_values(img, min=130).ndarray, np.ma.clip(arr, 130, None))
    lows, highs = [100, 110, 120, 130], [140, 150, 160, 200]
    per_band = clip_values(img, lows, highs)
    expected = np.ma.stack([np.ma.clip(arr[i], lows[i], highs[i]) for i in range(4)])
    assert_ma_equal(per_band.ndarray, expected)
    stack = naip_stack(shared_data)
    assert_ma_equal(clip_values(ic, max=highs).ndarray, np.ma.stack(
        [np.ma.stack([np.ma.clip(s[i], None, highs[i]) for i in range(4)]) for s in stack]
    ))  # fmt: skip
    with pytest.raises(ImageryError, match="both are None"):
        clip_values(img)
    with pytest.raises(ImageryError, match="2 values but the imagery has 4 bands"):
        clip_values(img, [1, 2])
    assert clip_values(ImageValue.empty(), 0, 1).is_empty
    assert per_band.bandinfo == img.bandinfo and per_band.properties == img.properties


def test_scale_values_default_domain(img, ic, shared_data):
    result = scale_values(img, 0, 1)
    arr = img.ndarray
    lo = arr.min(axis=(1, 2))[:, None, None]
    hi = arr.max(axis=(1, 2))[:, None, None]
    assert_ma_equal(result.ndarray, (arr - lo) / (hi - lo))
    assert result.ndarray.min() == 0 and result.ndarray.max() == 1
    per_image = scale_values(ic, -1, 1)
    stack = naip_stack(shared_data)
    lo = stack.min(axis=(2, 3))[..., None, None]
    hi = stack.max(axis=(2, 3))[..., None, None]
    assert_ma_equal(per_image.ndarray, (stack - lo) / (hi - lo) * 2 - 1)


def test_scale_values_explicit_domain_clips_and_constant_band(img):
    result = scale_values(img, 0, 10, domain_min=100, domain_max=200)
    assert_ma_equal(result.ndarray, np.ma.clip((img.ndarray - 100) / 100 * 10, 0, 10))
    flat = ImageValue(np.ma.MaskedArray(np.full((1, 2, 2), 7.0), mask=[[[0, 0], [0, 1]]]), {},
                      {"c": {}})  # fmt: skip
    scaled = scale_values(flat, 2, 5)
    assert scaled.ndarray.tolist() == [[[2.0, 2.0], [2.0, None]]]
    assert scale_values(ImageValue.empty(), 0, 1).is_empty


def test_colormap(img, ic, shared_data):
    red = pick_bands(img, "red")
    result = colormap(red, "magma", vmin=100, vmax=180)
    assert result.band_names == ["red", "green", "blue"]
    cmap = matplotlib.colormaps["magma"]
    t = np.clip((img.ndarray.data[0] - 100) / 80, 0, 1)
    expected_rgb = np.moveaxis(cmap(t)[..., :3], -1, 0)
    expected = np.ma.MaskedArray(
        expected_rgb, mask=np.broadcast_to(img.ndarray.mask[0], (3, 40, 48))
    )
    assert_ma_equal(result.ndarray, expected)
    assert result.properties == img.properties
    auto = colormap(red)
    r = img.ndarray[0]
    t = np.clip((r.data - r.min()) / (r.max() - r.min()), 0, 1)
    viridis = np.moveaxis(matplotlib.colormaps["viridis"](t)[..., :3], -1, 0)
    np.testing.assert_allclose(auto.ndarray.data[:, ~r.mask], viridis[:, ~r.mask])
    per_image = colormap(pick_bands(ic, "nir"))
    stack = naip_stack(shared_data)
    last = stack[-1, 3]
    t = (last.data - last.min()) / (last.max() - last.min())
    np.testing.assert_allclose(
        per_image.ndarray.data[-1][:, ~last.mask],
        np.moveaxis(matplotlib.colormaps["viridis"](np.clip(t, 0, 1))[..., :3], -1, 0)[
            :, ~last.mask
        ],
    )


def test_colormap_constant_and_errors(img):
    constant = ImageValue(np.ma.MaskedArray(np.full((1, 3, 3), 0.5)), {}, {"c": {}})
    out = colormap(constant)
    assert out.ndarray.shape == (3, 3, 3) and np.isfinite(out.ndarray.data).all()
    low = matplotlib.colormaps["viridis"](0.0)[:3]
    np.testing.assert_allclose(out.ndarray.data[:, 0, 0], low)
    with pytest.raises(ImageryError, match="single-band"):
        colormap(img)
    with pytest.raises(ImageryError, match="both vmin and vmax"):
        colormap(pick_bands(img, "red"), vmin=0)
    with pytest.raises(NotFoundError, match="no_such_map"):
        colormap(pick_bands(img, "red"), "no_such_map")
    assert colormap(ImageValue.empty()).is_empty


def test_replace_empty_with(img):
    assert replace_empty_with(img, 0, bandinfo={"a": {}}, shape=(2, 2)) is img
    info = {"red": {}, "green": {}, "blue": {}}
    filled = replace_empty_with(CollectionValue.empty(), 9999, bandinfo=info, shape=(8, 6))
    assert filled.ndarray.shape == (1, 3, 8, 6) and filled.ndarray.dtype == np.int64
    assert filled.ndarray.mask.all() and filled.band_names == ["red", "green", "blue"]
    assert filled.properties == [{}]
    image_fill = replace_empty_with(ImageValue.empty(), 9999, bandinfo=info, shape=(8, 6))
    assert image_fill.ndarray.dtype == np.float64 and (image_fill.ndarray.data == 9999).all()
    clear = replace_empty_with(ImageValue.empty(), 0.5, mask=False, bandinfo=info, shape=(2, 2))
    assert clear.ndarray.dtype == np.float64 and not clear.ndarray.mask.any()
    assert (clear.ndarray == 0.5).all()
    from_img = replace_empty_with(ImageValue.empty(), img)
    assert from_img.ndarray.mask.all()
    np.testing.assert_array_equal(from_img.ndarray.data, img.ndarray.data)
    kept = replace_empty_with(ImageValue.empty(), img, mask=False)
    assert_ma_equal(kept.ndarray, img.ndarray)
    as_collection = replace_empty_with(CollectionValue.empty(), img, mask=False)
    assert isinstance(as_collection, CollectionValue) and len(as_collection) == 1
    with pytest.raises(ImageryError, match="needs bandinfo"):
        replace_empty_with(ImageValue.empty(), 1, shape=(2, 2))
    with pytest.raises(ImageryError, match="shape"):
        replace_empty_with(ImageValue.empty(), 1, bandinfo=info)


def naive_convolve(band: np.ma.MaskedArray, kernel: np.ndarray) -> np.ndarray:
    """Textbook convolution with masked/outside pixels as 0, one output pixel at a time."""
    values = np.ma.filled(band.astype(float), 0.0)
    kh, kw = kernel.shape
    cy, cx = kh // 2, kw // 2
    rows, cols = values.shape
    out = np.zeros_like(values)
    for i in range(rows):
        for j in range(cols):
            total = 0.0
            for u in range(kh):
                for v in range(kw):
                    y, x = i + cy - u, j + cx - v
                    if 0 <= y < rows and 0 <= x < cols:
                        total += kernel[u, v] * values[y, x]
            out[i, j] = total
    return out


@pytest.mark.parametrize(
    "dims,data",
    [
        ((3, 3), [1, 2, 1, 2, 4, 2, 1, 2, 1]),
        ((3, 3), [-1, 0, 1, -2, 0, 2, -1, 0, 1]),  # asymmetric: checks the flip
        ((2, 3), [0, 1, 0, 1, 2, 3]),  # even rows: checks the anchor
    ],
)
def test_conv2d_matches_naive_convolution(img, dims, data):
    red = pick_bands(img, "red")
    kernel = np.asarray(data, dtype=float).reshape(dims)
    result = conv2d(red, dims, data)
    band = red.ndarray[0]
    expected = np.ma.MaskedArray(naive_convolve(band, kernel), mask=band.mask)
    assert_ma_equal(result.ndarray[0], expected)
    assert result.band_names == ["red"] and result.properties == img.properties


def test_conv2d_collection_and_errors(ic, shared_data):
    stack = naip_stack(shared_data)
    result = conv2d(ic, (1, 3), [1, 1, 1])
    kernel = np.ones((1, 3))
    assert_ma_equal(result.ndarray[2, 1], np.ma.MaskedArray(naive_convolve(stack[2, 1], kernel),
                                                            mask=stack[2, 1].mask))  # fmt: skip
    assert result.ndarray.shape == stack.shape
    with pytest.raises(ImageryError, match="needs 9 values"):
        conv2d(ic, (3, 3), [1, 2])
    assert conv2d(ImageValue.empty(), (1, 1), [1]).is_empty
