"""Builtins that load and transform imagery (Image and ImageCollection values)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from .. import catalog, engine
from ..engine import CollectionValue, ImageValue
from ..errors import GraftTypeError, WorkflowsError
from ..reading import CatalogSource
from .registry import builtin, current_context

DEFAULT_LIMIT = 10_000


def _imagery(x: Any, what: str) -> Any:
    if not isinstance(x, (ImageValue, CollectionValue)):
        raise GraftTypeError(f"{what} needs an Image or ImageCollection, not {type(x).__name__}")
    return x


@builtin("wf.Image.load")
def image_load(image_id: str, resampler: str | None = None, processing_level: str | None = None):
    """A catalog image read lazily into the evaluation's GeoContext."""
    geoctx = current_context().require_geoctx(f"loading image {image_id!r}")
    record = catalog.image(image_id)
    product = catalog.product(record.product)
    if processing_level is not None:
        # Catalog products carry one processing level; asking for another gives the Empty Image.
        return ImageValue.empty()
    source = CatalogSource([record], product, geoctx, resampler or "near")
    return ImageValue.lazy(source, 0, record.properties_dict(), product.bandinfo())


@builtin("wf.ImageCollection.from_id")
def collection_from_id(
    product_id: str,
    start_datetime: dt.datetime | None = None,
    end_datetime: dt.datetime | None = None,
    limit: int | None = None,
    resampler: str | None = None,
    processing_level: str | None = None,
) -> CollectionValue:
    """Images of a product intersecting the GeoContext, sorted by date (reads no pixels)."""
    geoctx = current_context().require_geoctx(f"loading product {product_id!r}")
    product = catalog.product(product_id)
    if processing_level is not None:
        return CollectionValue.empty()
    records = catalog.search(
        product_id,
        start=start_datetime,
        end=end_datetime,
        bbox_lonlat=geoctx.bounds_lonlat,
        limit=DEFAULT_LIMIT if limit is None else int(limit),
    )
    if not records:
        return CollectionValue.empty()
    source = CatalogSource(records, product, geoctx, resampler or "near")
    return CollectionValue.lazy(
        source, range(len(records)), [r.properties_dict() for r in records], product.bandinfo()
    )


builtin("wf.ImageCollection.from_images")(lambda images: engine.from_images(images))
builtin("wf.nbands")(lambda x: engine.nbands(x))
builtin("wf.getmask")(lambda x: engine.getmask(x))
builtin("wf.mask")(lambda x, m, replace=False: engine.mask(x, m, replace=replace))
builtin("wf.concat_bands")(lambda a, b: engine.concat_bands(a, b))
builtin("wf.concat")(lambda *values: engine.concat(*values))
builtin("wf.with_properties")(lambda x, **props: engine.with_properties(x, **props))
builtin("wf.without_properties")(lambda x, *keys: engine.without_properties(x, *keys))
builtin("wf.with_bandinfo")(lambda x, band, **info: engine.with_bandinfo(x, band, **info))
builtin("wf.without_bandinfo")(lambda x, band, *keys: engine.without_bandinfo(x, band, *keys))
builtin("wf.mosaic")(lambda ic, reverse=False: engine.mosaic(ic, reverse=reverse))
builtin("wf.ImageCollection.head")(lambda ic, n: engine.head(ic, n))
builtin("wf.ImageCollection.tail")(lambda ic, n: engine.tail(ic, n))
builtin("wf.ImageCollection.partition")(lambda ic, i: engine.partition(ic, i))
builtin("wf.ImageCollection.sortby_composite")(
    lambda ic, band, operation="argmax": engine.sortby_composite(ic, band, operation)
)


@builtin("wf.pick_bands")
def pick_bands(x: Any, *bands: str, allow_missing: bool = False) -> Any:
    names: list[str] = []
    for band in bands:
        names.extend(band.split() if isinstance(band, str) else [band])
    return engine.pick_bands(_imagery(x, "pick_bands"), names, allow_missing=allow_missing)


@builtin("wf.pick_bands_list")
def pick_bands_list(x: Any, bands: Sequence[str], allow_missing: bool = False) -> Any:
    return engine.pick_bands(_imagery(x, "pick_bands"), list(bands), allow_missing=allow_missing)


@builtin("wf.rename_bands")
def rename_bands(x: Any, **mapping: str) -> Any:
    return engine.rename_bands(_imagery(x, "rename_bands"), mapping=mapping)


@builtin("wf.rename_bands_positionally")
def rename_bands_positionally(x: Any, *names: str) -> Any:
    return engine.rename_bands(_imagery(x, "rename_bands"), names=list(names))


def _axis(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def _reduction(op: str) -> Callable:
    def reduce(x: Any, axis: Any = None) -> Any:
        return engine.reduce(_imagery(x, op), op, _axis(axis))

    return reduce


for _op in engine.REDUCTIONS:
    builtin(f"wf.{_op}")(_reduction(_op))


@builtin("wf.reduction")
def reduction(x: Any, operation: str, axis: Any = None) -> Any:
    return engine.reduce(_imagery(x, "reduction"), operation, _axis(axis))


@builtin("wf.map_imagery")
def map_imagery(ic: CollectionValue, function: Callable) -> Any:
    """Images give an ImageCollection (empties dropped); anything else gives a list."""
    if not isinstance(ic, CollectionValue):
        raise GraftTypeError(f"map needs an ImageCollection, not {type(ic).__name__}")
    results = [function(ic.image(i)) for i in range(len(ic))]
    if all(isinstance(r, ImageValue) for r in results):
        return engine.from_images(results)
    if any(isinstance(r, (ImageValue, CollectionValue)) for r in results):
        raise WorkflowsError("map function returned imagery for some images but not others")
    return results


@builtin("wf.map_bands")
def map_bands(x: Any, function: Callable) -> dict:
    _imagery(x, "map_bands")
    return {name: function(name, engine.pick_bands(x, [name])) for name in x.bandinfo}


@builtin("wf.map_bands_imagery")
def map_bands_imagery(x: Any, function: Callable) -> Any:
    """Each band's result becomes a band named after the input band; an empty result empties all."""
    results = map_bands(x, function)
    out = None
    for name, value in results.items():
        if not isinstance(value, (ImageValue, CollectionValue)):
            raise GraftTypeError("map_bands function must return imagery for every band")
        if value.is_empty:
            return type(value).empty()
        if engine.nbands(value) != 1:
            raise WorkflowsError(
                f"map_bands function must return 1 band, got {engine.nbands(value)}"
            )
        value = engine.rename_bands(value, names=[name])
        out = value if out is None else engine.concat_bands(out, value)
    return out if out is not None else type(x).empty()


def _geoctx(what: str) -> Any:
    return current_context().require_geoctx(what)


@builtin("wf.coords_to_index")
def coords_to_index(x: Any, xcoord: float, ycoord: float) -> tuple[int, int]:
    return tuple(_geoctx("coords_to_index").coords_to_index(xcoord, ycoord))


@builtin("wf.index_to_coords")
def index_to_coords(x: Any, row: int, col: int) -> tuple[float, float]:
    return tuple(_geoctx("index_to_coords").index_to_coords(row, col))


@builtin("wf.value_at")
def value_at(x: Any, xcoord: float, ycoord: float) -> Any:
    """Band values at a point of the GeoContext grid (masked values are None)."""
    row, col = _geoctx("value_at").coords_to_index(xcoord, ycoord)
    if isinstance(x, CollectionValue):
        return [value_at(x.image(i), xcoord, ycoord) for i in range(len(x))]
    _imagery(x, "value_at")
    if x.is_empty:
        return {}
    array = x.ndarray
    rows, cols = array.shape[-2:]
    if not (0 <= row < rows and 0 <= col < cols):
        raise WorkflowsError(f"point ({xcoord}, {ycoord}) is outside the GeoContext")
    pixel = array[:, row, col]
    mask = engine.imagery.full_mask(pixel).mask
    return {name: None if mask[i] else float(pixel.data[i]) for i, name in enumerate(x.bandinfo)}
