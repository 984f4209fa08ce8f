"""Python results of computations: ImageResult, ImageCollectionResult and plain values."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from tiles.engine import CollectionValue, ImageValue
from tiles.geocontext import GeoContext


def _names(keys: Any, limit: int = 4) -> str:
    keys = list(keys)
    shown = ", ".join(repr(k) for k in keys[:limit])
    return shown + (", ..." if len(keys) > limit else "")


def _array_summary(array: Any) -> str:
    if array is None:
        return "None (Empty Image)"
    kind = "MaskedArray" if isinstance(array, np.ma.MaskedArray) else "ndarray"
    return f"{kind}<shape={array.shape}, dtype={array.dtype}>"


class ImageResult:
    """A computed Image: ``ndarray`` (bands, rows, cols) MaskedArray or None when empty."""

    def __init__(self, ndarray: Any, properties: dict, bandinfo: dict, geocontext: dict):
        self.ndarray = ndarray
        self.properties = properties
        self.bandinfo = OrderedDict(bandinfo)
        self.geocontext = geocontext

    def __len__(self) -> int:
        return len(self.bandinfo)

    def to_xarray(self) -> Any:
        """This result as an ``xarray.DataArray`` with dims ``(band, y, x)``.

        Needs ``pip install 'tiles-workflows[xarray]'``. Coordinates are the band names and
        the pixel centres in the GeoContext's CRS; masked pixels are NaN; the properties are
        the attrs; ``.rio.crs`` and ``.rio.transform()`` give the grid (see
        :mod:`tiles.engine.xarray_results`).

        Returns
        -------
        xarray.DataArray
            The pixels, floating point.

        Example
        -------
        >>> da = img.compute(ctx).to_xarray()  # doctest: +SKIP
        >>> da.sel(band="red").mean().item()  # doctest: +SKIP
        """
        from tiles.engine.xarray_results import to_dataarray

        return to_dataarray(self, collection=False)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}:\n"
            f"  * ndarray: {_array_summary(self.ndarray)}\n"
            f"  * properties: {_names(self.properties)}\n"
            f"  * bandinfo: {_names(self.bandinfo)}\n"
            f"  * geocontext: {_names(self.geocontext)}"
        )


class ImageCollectionResult(ImageResult):
    """A computed ImageCollection: ``ndarray`` (images, bands, rows, cols), one properties each."""

    def __len__(self) -> int:
        return len(self.properties)

    def to_xarray(self) -> Any:
        """This result as an ``xarray.DataArray`` with dims ``(image, band, y, x)``.

        As :meth:`ImageResult.to_xarray`, plus ``date`` and ``id`` coordinates along
        ``image``; ``attrs["properties"]`` lists each image's properties.

        Returns
        -------
        xarray.DataArray
            The pixels, floating point.
        """
        from tiles.engine.xarray_results import to_dataarray

        return to_dataarray(self, collection=True)

    def __repr__(self) -> str:
        keys = f", each with {_names(self.properties[0])}" if self.properties else ""
        return (
            f"ImageCollectionResult of length {len(self)}:\n"
            f"  * ndarray: {_array_summary(self.ndarray)}\n"
            f"  * properties: {len(self)} items{keys}\n"
            f"  * bandinfo: {_names(self.bandinfo)}\n"
            f"  * geocontext: {_names(self.geocontext)}"
        )


_CONVERTERS: list[tuple[type, Callable[[Any, Any], Any]]] = []


def register_result(type_: type, convert: Callable[[Any, Any], Any]) -> None:
    """Teach :func:`to_result` how to turn engine values of ``type_`` into results."""
    _CONVERTERS.append((type_, convert))


def to_result(value: Any, geoctx: Any = None) -> Any:
    """The Python result for an engine value (recursively for containers)."""
    context = geoctx.to_dict() if isinstance(geoctx, GeoContext) else {}
    if isinstance(value, ImageValue):
        return ImageResult(value.ndarray, _plain(value.properties), value.bandinfo, context)
    if isinstance(value, CollectionValue):
        props = [] if value.without_metadata else [_plain(p) for p in value.properties]
        return ImageCollectionResult(value.ndarray, props, value.bandinfo, context)
    if isinstance(value, GeoContext):
        return value.to_dict()
    for type_, convert in _CONVERTERS:
        if isinstance(value, type_):
            return convert(value, geoctx)
    if isinstance(value, (list, tuple)):
        return type(value)(to_result(v, geoctx) for v in value)
    if isinstance(value, dict):
        return {k: to_result(v, geoctx) for k, v in value.items()}
    return _plain(value)


def _plain(value: Any) -> Any:
    if value is np.ma.masked:
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not isinstance(value, str):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, (dt.datetime, dt.timedelta)):
        return value
    return value
