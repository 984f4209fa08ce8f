"""Reductions (min, max, mean, median, sum, std, count), mosaic and sort-by composites.

``reduce(x, op, axis)`` follows numpy.ma semantics: masked pixels are ignored, ``count`` counts
unmasked pixels, ``std`` is the population standard deviation (``ddof=0``). Every result is
float64 (the API's ``Float``), including ``count`` and reductions of bool imagery. ``sum``,
``mean`` and ``std`` over pixels are exact sums rounded once (:mod:`tiles.engine.exact_sums`),
so they do not depend on how the pixels were split into windows or blocks.

Result types by axis:

============================  ==================================  ==========================
axis                          Image                               ImageCollection
============================  ==================================  ==========================
``None``                      float                               float
``"pixels"``                  ``{band: float}``                   ``[{band: float}, ...]``
``"bands"``                   1-band Image named after ``op``     collection, 1 band ``op``
``"images"``                  -                                   Image, same bands
``("images", "pixels")``      -                                   ``{band: float}``
``("bands", "pixels")``       -                                   ``[float, ...]``
``("images", "bands")``       -                                   1-band Image ``op``
============================  ==================================  ==========================

No valid pixels: a float result over only masked pixels is ``None`` (``count`` gives 0.0), and a
pixel of an image result is masked where all its inputs are masked (``count`` gives 0, unmasked).
Empties: an empty input gives the empty of the axis's type: ``None`` for a float, ``{}`` for a
dict, ``[]`` for a list, the empty Image or ImageCollection for imagery.

Metadata: reductions over ``"images"`` keep property keys present in every image with equal
values and drop the rest; reductions over ``"bands"`` and ``"pixels"`` keep each image's
properties. Bandinfo of an ``"images"`` composite is the collection's; an ``"bands"`` result has
bandinfo ``{op: {}}``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tiles.display import REDUCTIONS
from tiles.engine.exact_sums import exact_reduce
from tiles.engine.imagery import (
    CollectionValue,
    ImageryError,
    ImageryTypeError,
    ImageValue,
    full_mask,
)
from tiles.engine.metadata import merge_properties

__all__ = [
    "COLLECTION_AXES",
    "IMAGE_AXES",
    "REDUCTIONS",
    "masked_median",
    "mosaic",
    "normalize_axis",
    "reduce",
    "reduce_array",
    "sortby_composite",
]

IMAGE_AXES: tuple[Any, ...] = (None, "pixels", "bands")
COLLECTION_AXES: tuple[Any, ...] = (
    None,
    "images",
    "bands",
    "pixels",
    ("images", "pixels"),
    ("bands", "pixels"),
    ("images", "bands"),
)

_ARRAY_AXES = {
    "image": {"bands": (0,), "pixels": (1, 2)},
    "collection": {"images": (0,), "bands": (1,), "pixels": (2, 3)},
}


def normalize_axis(axis: str | Sequence[str] | None, collection: bool) -> frozenset[str]:
    """The axis as a set of names (``None`` -> all axes); invalid axes raise ImageryError."""
    allowed = COLLECTION_AXES if collection else IMAGE_AXES
    if axis is None:
        return frozenset(("images", "bands", "pixels") if collection else ("bands", "pixels"))
    names = frozenset([axis] if isinstance(axis, str) else axis)
    if not any(
        a is not None and names == frozenset([a] if isinstance(a, str) else a) for a in allowed
    ):
        kind = "an ImageCollection" if collection else "an Image"
        raise ImageryError(f"invalid axis {axis!r} for {kind}; expected one of {allowed}")
    return names


def reduce_array(op: str, array: np.ma.MaskedArray, axes: Sequence[int]) -> Any:
    """Reduce a masked array over ``axes`` with ``op``; float64 MaskedArray or masked scalar."""
    if op not in REDUCTIONS:
        raise ImageryError(f"unknown reduction {op!r}; expected one of {REDUCTIONS}")
    array = full_mask(array)
    axes = tuple(sorted(axes))
    pixels = {array.ndim - 2, array.ndim - 1} <= set(axes)
    if len(axes) > 1:
        # Move the reduced axes to the end and flatten them so every numpy.ma function
        # (median included) sees a single axis.
        kept = [i for i in range(array.ndim) if i not in axes]
        array = array.transpose(kept + list(axes))
        array = array.reshape(tuple(array.shape[: len(kept)]) + (-1,))
        axis = -1
    else:
        axis = axes[0]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if op == "count":
            return np.ma.asarray(np.ma.count(array, axis=axis), dtype=np.float64)
        if op == "median":
            return masked_median(array, axis)
        if pixels and op in ORDER_FREE:
            return _exact_over_last_axis(op, array)
        array = array.astype(np.float64)
        func = getattr(np.ma, op)
        result = func(array, axis=axis)
    return result


#: Reductions over pixels computed exactly (:mod:`tiles.engine.exact_sums`), so the result
#: does not depend on how the pixels were split into windows or blocks.
ORDER_FREE = frozenset({"sum", "mean", "std"})


def _exact_over_last_axis(op: str, array: np.ma.MaskedArray) -> np.ma.MaskedArray:
    """``op`` of the unmasked values along the last axis, each rounded once."""
    data, mask = np.ma.getdata(array), np.ma.getmaskarray(array)
    kept = data.shape[:-1]
    out = np.zeros(kept, dtype=np.float64)
    empty = np.zeros(kept, dtype=bool)
    for index in np.ndindex(kept):
        values = data[index][~mask[index]]
        if values.size == 0:
            empty[index] = True
        else:
            out[index] = exact_reduce(op, values)
    return np.ma.MaskedArray(out, mask=empty)


def masked_median(array: np.ma.MaskedArray, axis: int) -> Any:
    """``numpy.ma.median(array, axis)``, bit for bit, by one sort of the filled values.

    Masked values are filled with +inf and sorted to the end; per pixel, the two middle
    unmasked values are averaged as ``(low + high) / 2``, exactly what ``numpy.ma.median``
    computes, without its masked-array machinery (several times faster on image stacks).
    Pixels with no unmasked value are masked (their data is 0, as numpy's). Arrays holding
    an unmasked NaN go to ``numpy.ma.median``, which has its own rule for them.

    Parameters
    ----------
    array:
        A masked array.
    axis:
        The axis to reduce.

    Returns
    -------
    numpy.ma.MaskedArray or masked scalar
        float64 medians.

    Example
    -------
    >>> a = np.ma.masked_array([[1.0, 5.0], [3.0, 2.0], [9.0, 4.0]], mask=[[0, 0], [0, 1], [1, 0]])
    >>> masked_median(a, 0).tolist()
    [2.0, 4.5]
    """
    data = np.ma.getdata(array)
    mask = np.ma.getmaskarray(array)
    if data.ndim < 2 or data.shape[axis] == 0 or not np.issubdtype(data.dtype, np.number):
        return np.ma.median(array.astype(np.float64), axis=axis)
    filled = np.where(mask, np.inf, data.astype(np.float64, copy=False))
    if np.isnan(filled).any():
        return np.ma.median(array.astype(np.float64), axis=axis)
    # Sorting along the last, contiguous axis is several times faster than along the first.
    filled = np.ascontiguousarray(np.moveaxis(filled, axis, -1))
    filled.sort(axis=-1)
    counts = np.moveaxis(~mask, axis, -1).sum(axis=-1, keepdims=True)
    high = counts // 2
    low = np.where(counts % 2 == 1, high, high - 1)
    median = np.take_along_axis(filled, low, -1)[..., 0]
    median += np.take_along_axis(filled, high, -1)[..., 0]
    median /= 2.0
    empty = counts[..., 0] == 0
    median[empty] = 0.0
    return np.ma.MaskedArray(median, mask=empty)


def _to_float(value: Any) -> float | None:
    if value is np.ma.masked or np.ma.getmaskarray(value).any():
        return None
    return float(value)


def _band_dict(values: Any, names: Sequence[str]) -> dict[str, float | None]:
    values = full_mask(values)
    return {name: _to_float(values[i]) for i, name in enumerate(names)}


def _one_band(result: Any, op: str) -> tuple[np.ma.MaskedArray, dict[str, dict]]:
    return full_mask(result)[..., np.newaxis, :, :], {op: {}}


def reduce(
    x: ImageValue | CollectionValue, op: str, axis: str | Sequence[str] | None = None
) -> Any:
    """Reduce imagery with ``op`` (one of :data:`REDUCTIONS`, or ``"mosaic"`` over ``"images"``).

    See the module docstring for result types, masked pixels, empties and metadata.
    """
    if not isinstance(x, (ImageValue, CollectionValue)):
        raise ImageryTypeError(f"cannot reduce a {type(x).__name__}; expected imagery")
    collection = isinstance(x, CollectionValue)
    if op == "mosaic":
        if not collection or normalize_axis(axis, True) != frozenset(["images"]):
            raise ImageryError('the "mosaic" reduction needs an ImageCollection and axis "images"')
        return mosaic(x)
    if op not in REDUCTIONS:
        raise ImageryError(f"unknown reduction {op!r}; expected one of {REDUCTIONS} or 'mosaic'")
    names = normalize_axis(axis, collection)
    if x.is_empty:
        return _empty_result(names, collection)
    kind = "collection" if collection else "image"
    axes = [i for name in names for i in _ARRAY_AXES[kind].get(name, ())]
    result = reduce_array(op, x.ndarray, axes)
    bands = x.band_names
    if not collection:
        if names == {"bands", "pixels"}:
            return _to_float(result)
        if names == {"pixels"}:
            return _band_dict(result, bands)
        array, bandinfo = _one_band(result, op)
        return ImageValue(array, x.properties, bandinfo)
    if names == {"images", "bands", "pixels"}:
        return _to_float(result)
    if names == {"images"}:
        return ImageValue(full_mask(result), merge_properties(*x.properties), x.bandinfo)
    if names == {"bands"}:
        array, bandinfo = _one_band(result, op)
        return CollectionValue(array, x.properties, bandinfo)
    if names == {"pixels"}:
        return [_band_dict(row, bands) for row in full_mask(result)]
    if names == {"images", "pixels"}:
        return _band_dict(result, bands)
    if names == {"bands", "pixels"}:
        return [_to_float(v) for v in full_mask(result)]
    array, bandinfo = _one_band(result, op)  # ("images", "bands")
    return ImageValue(array, merge_properties(*x.properties), bandinfo)


def _empty_result(names: frozenset[str], collection: bool) -> Any:
    if names == ({"images", "bands", "pixels"} if collection else {"bands", "pixels"}):
        return None
    if names == {"pixels"}:
        return [] if collection else {}
    if names == {"images", "pixels"}:
        return {}
    if names == {"bands", "pixels"}:
        return []
    if names == {"bands"} and collection:
        return CollectionValue.empty()
    return ImageValue.empty()


def mosaic(ic: CollectionValue, reverse: bool = False) -> ImageValue:
    """Composite a collection into one Image, pixel by pixel and band by band.

    Each output pixel takes the value of the *last* image (``reverse=True``: the first) in
    which it is unmasked; it is masked where every image is masked. Properties follow the
    images-reduction rule (keys equal in all images). An empty collection gives the empty Image.
    A lazy collection is read image by image from the top, stopping once every pixel is filled.
    """
    if not isinstance(ic, CollectionValue):
        raise ImageryTypeError(f"mosaic needs an ImageCollection, not {type(ic).__name__}")
    if ic.is_empty:
        return ImageValue.empty()
    properties = merge_properties(*ic.properties)
    if ic.is_lazy:
        return ImageValue(_mosaic_lazy(ic, reverse), properties, ic.bandinfo)
    array = ic.ndarray
    valid = ~np.ma.getmaskarray(array)
    n = valid.shape[0]
    if reverse:
        top = np.argmax(valid, axis=0)
    else:
        top = n - 1 - np.argmax(valid[::-1], axis=0)
    return ImageValue(_take_images(array, top), merge_properties(*ic.properties), ic.bandinfo)


def _mosaic_lazy(ic: CollectionValue, reverse: bool) -> np.ma.MaskedArray:
    """Mosaic a lazy collection reading one image at a time from the top layer down.

    Reading stops as soon as no pixel is left masked, so a tile covered by its top images never
    reads the ones underneath.
    """
    order = range(len(ic)) if reverse else range(len(ic) - 1, -1, -1)
    data: np.ndarray | None = None
    mask: np.ndarray | None = None
    for i in order:
        layer = ic.image(i).ndarray
        if data is None:
            data, mask = layer.data.copy(), np.ma.getmaskarray(layer).copy()
        else:
            holes = mask & ~np.ma.getmaskarray(layer)
            data[holes] = layer.data[holes]
            mask[holes] = False
        if not mask.any():
            break
    return np.ma.MaskedArray(data, mask=mask)


def _take_images(array: np.ma.MaskedArray, index: np.ndarray) -> np.ma.MaskedArray:
    """Per pixel (and band), the value of image ``index`` from an ``(n, b, r, c)`` array."""
    index = np.broadcast_to(index, array.shape[1:])[np.newaxis]
    data = np.take_along_axis(np.ma.getdata(array), index, axis=0)[0]
    mask = np.take_along_axis(np.ma.getmaskarray(array), index, axis=0)[0]
    return np.ma.MaskedArray(data, mask=mask)


def sortby_composite(
    ic: CollectionValue, band: str | CollectionValue, operation: str = "argmax"
) -> ImageValue:
    """Composite taking, per pixel, every band from the image where ``band`` is largest/smallest.

    ``band`` is the name of a band of ``ic`` or a 1-band collection of the same length.
    ``operation`` is ``"argmax"`` or ``"argmin"``; masked pixels of the sort band never win and
    ties go to the earliest image. Pixels where the sort band is masked in every image are
    masked (as are pixels whose chosen image is masked in that band). Properties follow the
    images-reduction rule; bandinfo is ``ic``'s. An empty collection (or empty sort band) gives
    the empty Image.
    """
    if not isinstance(ic, CollectionValue):
        raise ImageryTypeError(
            f"sortby_composite needs an ImageCollection, not {type(ic).__name__}"
        )
    if operation not in ("argmax", "argmin"):
        raise ImageryError(f"operation must be 'argmax' or 'argmin', not {operation!r}")
    if ic.is_empty:
        return ImageValue.empty()
    if isinstance(band, str):
        from tiles.engine.bands import pick_bands

        key = pick_bands(ic, band)
    elif isinstance(band, CollectionValue):
        if band.is_empty:
            return ImageValue.empty()
        if len(band.band_names) != 1 or len(band) != len(ic):
            raise ImageryError(
                f"the sort band must be a 1-band ImageCollection of length {len(ic)}, got "
                f"{len(band.band_names)} bands and length {len(band)}"
            )
        key = band
    else:
        raise ImageryTypeError(
            f"band must be a band name or ImageCollection, not {type(band).__name__}"
        )
    values = key.ndarray[:, 0]
    if values.shape[-2:] != ic.ndarray.shape[-2:]:
        raise ImageryError("the sort band and the ImageCollection have different pixel shapes")
    fill = -np.inf if operation == "argmax" else np.inf
    filled = np.ma.filled(values.astype(np.float64), fill)
    index = np.argmax(filled, axis=0) if operation == "argmax" else np.argmin(filled, axis=0)
    result = _take_images(ic.ndarray, index[np.newaxis])
    none_valid = np.ma.getmaskarray(values).all(axis=0)
    result.mask |= none_valid[np.newaxis]
    return ImageValue(result, merge_properties(*ic.properties), ic.bandinfo)
