"""Raster functions: where, clip_values, scale_values, colormap, replace_empty_with, conv2d.

All keep properties unchanged (``where`` merges those of its imagery operands like any
element-wise operation) and return the empty for an empty input.

Example::

    >>> import numpy as np
    >>> from tiles.engine.imagery import ImageValue
    >>> img = ImageValue(np.ma.array([[[0.0, 5.0, 10.0]]]), {}, {"red": {}})
    >>> clip_values(img, 1, 8).ndarray.tolist()
    [[[1.0, 5.0, 8.0]]]
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tiles.engine import budget
from tiles.engine.align import (
    Operand,
    align,
    empty_of,
    is_imagery,
    is_scalar,
    make_result,
    operand,
    result_kind,
)
from tiles.engine.imagery import CollectionValue, ImageryError, ImageryTypeError, ImageValue
from tiles.engine.metadata import merge_bandinfo
from tiles.engine.ops import invalid_mask
from tiles.engine.reductions import reduce_array
from tiles.errors import NotFoundError

__all__ = [
    "clip_values",
    "colormap",
    "conv2d",
    "replace_empty_with",
    "scale_values",
    "where",
]

Imagery = ImageValue | CollectionValue


def _check_imagery(x: Any, name: str) -> None:
    if not is_imagery(x):
        raise ImageryTypeError(f"{name} needs an Image or ImageCollection, not {type(x).__name__}")


def _rebuild(x: Imagery, data: np.ndarray, mask: np.ndarray, bandinfo: Mapping | None = None):
    array = np.ma.MaskedArray(data, mask=np.broadcast_to(mask, np.shape(data)).copy())
    return type(x)(array, x.properties, x.bandinfo if bandinfo is None else bandinfo)


def where(condition: Any, x: Any, y: Any) -> Any:
    """Pick ``x`` where ``condition`` is True (non-zero) and ``y`` elsewhere.

    Any of the three may be imagery or a scalar; they broadcast and align by band name like
    binary operations (:mod:`tiles.engine.align`). Band names: ``x`` and ``y`` first combine
    as ``<x>_or_<y>`` (1-band operands with different names); a 1-band result of that with a
    1-band condition is named ``<x_or_y>_where_<condition>`` (``blue_where_blue``); with
    multi-band imagery the multi-band names are kept; with scalar ``x`` and ``y`` the condition's
    names are used. Masks: a pixel is masked where the condition is masked or where the chosen
    operand is masked. Properties merge across the imagery operands. Any empty operand gives the
    empty of the result kind.
    """
    if not is_imagery(condition):
        operand(condition, "condition")
        return x if condition else y
    kind = result_kind(condition, x, y)
    if any(is_imagery(v) and v.is_empty for v in (condition, x, y)):
        return empty_of(kind)
    ox, oy, xy = align(operand(x, "x"), operand(y, "y"), "or")
    xd, yd = np.broadcast_arrays(np.asarray(ox.data), np.asarray(oy.data))
    xm, ym = np.broadcast_arrays(np.asarray(ox.mask), np.asarray(oy.mask))
    if xy.kind == "scalar":
        xy_op = Operand("scalar", xd, False)
    else:
        xy_op = Operand(xy.kind, xd, xm, xy.names, xy.bandinfo, xy.properties, xy.length)
    _, oc, meta = align(xy_op, operand(condition, "condition"), "where")
    if xy.kind != "scalar" and len(xy.names) == 1 and len(oc.names) == 1:
        name = f"{xy.names[0]}_where_{oc.names[0]}"
        info = merge_bandinfo(xy.bandinfo[xy.names[0]], oc.bandinfo[oc.names[0]])
        meta.names, meta.bandinfo = [name], {name: info}
    choose = np.asarray(oc.data).astype(bool)
    data = np.where(choose, xd, yd)
    mask = np.asarray(oc.mask) | np.where(choose, xm, ym)
    return make_result(meta, data, mask)


def _per_band(x: Imagery, value: Any, name: str) -> Any:
    """A scalar, or a per-band list shaped to broadcast against x's ``(..., bands, r, c)``."""
    if value is None or is_scalar(value):
        return value
    values = list(value)
    if len(values) != len(x.bandinfo):
        raise ImageryError(
            f"{name} has {len(values)} values but the imagery has {len(x.bandinfo)} bands "
            f"{x.band_names}"
        )
    return np.asarray(values, dtype=np.float64)[:, np.newaxis, np.newaxis]


def clip_values(
    x: Imagery,
    min: float | Sequence[float] | None = None,  # noqa: A002 - API argument names
    max: float | Sequence[float] | None = None,  # noqa: A002
) -> Imagery:
    """Clip band values to ``[min, max]``; either bound may be None (not both).

    Each bound is a scalar or a list with one value per band. Masks, names and metadata are
    kept; an empty returns the empty.
    """
    _check_imagery(x, "clip_values")
    if min is None and max is None:
        raise ImageryError("clip_values needs min or max (or both); both are None")
    if x.is_empty:
        return x
    lo, hi = _per_band(x, min, "min"), _per_band(x, max, "max")
    arr = x.ndarray
    data = np.clip(np.ma.getdata(arr), lo, hi)
    return _rebuild(x, data, np.ma.getmaskarray(arr))


def scale_values(
    x: Imagery,
    range_min: float,
    range_max: float,
    domain_min: float | None = None,
    domain_max: float | None = None,
) -> Imagery:
    """Map band values linearly from ``[domain_min, domain_max]`` onto ``[range_min, range_max]``.

    A missing domain bound defaults to the band's minimum/maximum over its unmasked pixels, per
    band and (for a collection) per image. Results are clipped to the range, so values outside
    an explicit domain land on the range's edges. A band with a single value (zero-width
    domain) maps to ``range_min``; an all-masked band stays masked. Result dtype float64;
    masks, names and metadata are kept; an empty returns the empty.
    """
    _check_imagery(x, "scale_values")
    if x.is_empty:
        return x
    arr = x.ndarray
    pixel_axes = (arr.ndim - 2, arr.ndim - 1)
    lo = domain_min
    hi = domain_max
    if lo is None:
        lo = np.ma.filled(reduce_array("min", arr, pixel_axes), 0.0)[..., np.newaxis, np.newaxis]
    if hi is None:
        hi = np.ma.filled(reduce_array("max", arr, pixel_axes), 0.0)[..., np.newaxis, np.newaxis]
    data = np.ma.getdata(arr).astype(np.float64)
    width = np.asarray(hi, dtype=np.float64) - np.asarray(lo, dtype=np.float64)
    with np.errstate(all="ignore"):
        t = np.where(width != 0, (data - lo) / np.where(width != 0, width, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    out = range_min + t * (range_max - range_min)
    return _rebuild(x, out, np.ma.getmaskarray(arr))


def _get_cmap(name: str) -> Any:
    import matplotlib

    try:
        return matplotlib.colormaps[name]
    except KeyError:
        raise NotFoundError(f"unknown colormap {name!r}; see matplotlib.colormaps") from None


def colormap(
    x: Imagery, name: str = "viridis", vmin: float | None = None, vmax: float | None = None
) -> Imagery:
    """Colour a 1-band Image (or each image of a 1-band collection) with a matplotlib colormap.

    Values are normalised from ``[vmin, vmax]`` (both given, or neither: then each image's own
    min/max of unmasked pixels) to ``[0, 1]``, clipped, and looked up in the colormap. The result
    has float64 bands ``red``, ``green``, ``blue`` in ``[0, 1]`` (bandinfo ``data_range
    [0, 1]``), masked where the input is masked. An image holding a single value gets the
    colormap's lowest colour instead of failing. Properties are kept; an empty returns the empty.
    """
    _check_imagery(x, "colormap")
    if (vmin is None) != (vmax is None):
        raise ImageryError("colormap needs both vmin and vmax, or neither")
    cmap = _get_cmap(name)
    if x.is_empty:
        return x
    if len(x.bandinfo) != 1:
        raise ImageryError(f"colormap needs a single-band image, got bands {x.band_names}")
    arr = x.ndarray
    band = np.ma.getdata(arr).astype(np.float64)[..., 0, :, :]
    band_mask = np.ma.getmaskarray(arr)[..., 0, :, :]
    if vmin is None:
        pixel_axes = (band.ndim - 2, band.ndim - 1)
        masked = np.ma.MaskedArray(band, band_mask)
        lo = np.ma.filled(reduce_array("min", masked, pixel_axes), 0.0)[..., None, None]
        hi = np.ma.filled(reduce_array("max", masked, pixel_axes), 0.0)[..., None, None]
    else:
        lo, hi = float(vmin), float(vmax)
    width = np.asarray(hi, dtype=np.float64) - lo
    with np.errstate(all="ignore"):
        t = np.where(width > 0, (band - lo) / np.where(width > 0, width, 1.0), 0.0)
    t = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)
    rgb = np.moveaxis(cmap(t)[..., :3], -1, -3).astype(np.float64)
    mask = np.broadcast_to(band_mask[..., np.newaxis, :, :], rgb.shape)
    bandinfo = {c: {"data_range": [0.0, 1.0]} for c in ("red", "green", "blue")}
    return _rebuild(x, rgb, mask, bandinfo)


def replace_empty_with(
    x: Imagery,
    fill: Any,
    mask: bool = True,
    bandinfo: Mapping[str, Mapping[str, Any]] | None = None,
    shape: tuple[int, int] | None = None,
) -> Imagery:
    """``x`` if it is not empty, otherwise imagery made from ``fill``.

    * ``fill`` imagery: returned as is, but fully masked when ``mask`` is True. An Image fill
      for a collection becomes a collection of that one Image; ``bandinfo`` is ignored.
    * ``fill`` scalar: a new value with one band per ``bandinfo`` entry (required) and
      ``shape`` = ``(rows, cols)`` of the GeoContext (required), every pixel ``fill``; dtype
      bool for a bool, int64 for an int filling a collection, float64 otherwise; fully
      masked iff ``mask``. A collection gets one image with empty properties, marked
      :attr:`~tiles.engine.imagery.CollectionValue.without_metadata`.
    """
    _check_imagery(x, "replace_empty_with")
    if not x.is_empty:
        return x
    if is_imagery(fill):
        if isinstance(x, ImageValue) and isinstance(fill, CollectionValue):
            raise ImageryTypeError("an empty Image can only be replaced with an Image or a number")
        if fill.is_empty:
            return empty_of("collection" if isinstance(x, CollectionValue) else "image")
        if isinstance(x, CollectionValue) and isinstance(fill, ImageValue):
            from tiles.engine.structure import from_images

            fill = from_images([fill])
        if not mask:
            return fill
        arr = fill.ndarray
        return _rebuild(fill, np.ma.getdata(arr), np.ones(arr.shape, dtype=bool))
    if not is_scalar(fill):
        raise ImageryTypeError(f"fill must be a number or imagery, not {type(fill).__name__}")
    if not bandinfo:
        raise ImageryError("replace_empty_with a number needs bandinfo naming the bands to make")
    if shape is None or len(shape) != 2:
        raise ImageryError(
            "replace_empty_with a number needs the (rows, cols) shape of the GeoContext"
        )
    if isinstance(fill, (bool, np.bool_)):
        dtype: Any = np.bool_
    elif isinstance(fill, (numbers.Integral, np.integer)) and isinstance(x, CollectionValue):
        # As the API reference shows: an integer fill gives int64 for a collection but
        # float64 (the dtype of loaded imagery) for an Image.
        dtype = np.int64
    else:
        dtype = np.float64
    full = (len(bandinfo), int(shape[0]), int(shape[1]))
    if isinstance(x, CollectionValue):
        full = (1, *full)
    array = np.ma.MaskedArray(np.full(full, fill, dtype=dtype), mask=np.full(full, bool(mask)))
    if isinstance(x, CollectionValue):
        filled = CollectionValue(array, [{}], bandinfo)
        filled.without_metadata = True
        return filled
    return ImageValue(array, {}, bandinfo)


def conv2d(x: Imagery, kernel_dims: Sequence[int], kernel_data: Sequence[float]) -> Imagery:
    """2-D spatial convolution of every band (of every image) with a kernel.

    ``kernel_dims`` is ``(rows, cols)`` and ``kernel_data`` the weights in row-major order. It
    is a true convolution (the kernel is flipped), centred on element ``(rows // 2, cols // 2)``,
    and the output has the input's shape. Masked pixels and pixels beyond the edges count as 0
    (weights are not renormalised, so a smoothing kernel darkens next to masked pixels and
    edges); output pixels are masked where the input pixel is masked, or where the result is
    not finite. Result dtype float64; names and metadata are kept; an empty returns the empty.
    """
    _check_imagery(x, "conv2d")
    dims = tuple(int(d) for d in kernel_dims)
    if len(dims) != 2 or min(dims) < 1:
        raise ImageryError(f"kernel dims must be two positive ints (rows, cols), got {kernel_dims}")
    weights = np.asarray(kernel_data, dtype=np.float64)
    if weights.size != dims[0] * dims[1]:
        raise ImageryError(
            f"kernel of dims {dims} needs {dims[0] * dims[1]} values, got {weights.size}"
        )
    if x.is_empty:
        return x
    flipped = weights.reshape(dims)[::-1, ::-1]
    kh, kw = dims
    cy, cx = kh // 2, kw // 2
    arr = x.ndarray
    limits = budget.current()
    limits.check_operations(int(np.count_nonzero(flipped)) * arr.size, "conv2d")
    mask = np.ma.getmaskarray(arr)
    values = np.where(mask, 0.0, np.ma.getdata(arr).astype(np.float64))
    rows, cols = values.shape[-2:]
    pad = [(0, 0)] * (values.ndim - 2) + [(kh - 1 - cy, cy), (kw - 1 - cx, cx)]
    padded = np.pad(values, pad)
    out = np.zeros(values.shape, dtype=np.float64)
    # One shifted, weighted copy per kernel element: vectorised over pixels, bands and images.
    with np.errstate(all="ignore"):
        for u in range(kh):
            limits.checkpoint("conv2d")  # a long convolution stops when the request does
            for v in range(kw):
                if flipped[u, v] != 0:
                    out += flipped[u, v] * padded[..., u : u + rows, v : v + cols]
    invalid = invalid_mask(out)
    out = np.where(invalid, 0.0, out)
    return _rebuild(x, out, mask | invalid)
