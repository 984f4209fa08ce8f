"""Builtins that load and transform imagery (Image and ImageCollection values)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tiles import engine
from tiles.builtins.core import register_attributes
from tiles.builtins.registry import builtin, current_context
from tiles.data import catalog
from tiles.data.reading import CatalogSource
from tiles.display import REDUCTIONS
from tiles.engine import CollectionValue, ImageValue
from tiles.engine.results import register_result, to_result
from tiles.errors import GraftTypeError, ResourceLimitError, WorkflowsError

DEFAULT_LIMIT = 10_000


def _imagery(x: Any, what: str) -> Any:
    if not isinstance(x, (ImageValue, CollectionValue)):
        raise GraftTypeError(f"{what} needs an Image or ImageCollection, not {type(x).__name__}")
    return x


def _has_level(record: Any, bands: list, level: str | None) -> bool:
    """Whether an image has files for every band read at a processing level (if one is asked)."""
    return level is None or all(band.name in record.files for _, band in bands)


@builtin("wf.Image.load")
def image_load(image_id: str, resampler: str | None = None, processing_level: str | None = None):
    """A catalog image read lazily into the evaluation's GeoContext.

    ``processing_level`` picks the product's bands at that level (see
    :meth:`tiles.data.records.Product.bands_at`); an image without files for them is the
    Empty Image.
    """
    geoctx = current_context().require_geoctx(f"loading image {image_id!r}")
    record = catalog.image(image_id)
    product = catalog.product(record.product)
    bands = product.bands_at(processing_level)
    if not _has_level(record, bands, processing_level):
        return ImageValue.empty()
    source = CatalogSource([record], product, geoctx, resampler or "near")
    return ImageValue.lazy(
        source,
        0,
        record.properties_dict(),
        product.bandinfo(processing_level),
        source_bands=[band.name for _, band in bands],
    )


@builtin("wf.ImageCollection.from_id")
def collection_from_id(
    product_id: str,
    start_datetime: dt.datetime | None = None,
    end_datetime: dt.datetime | None = None,
    limit: int | None = None,
    resampler: str | None = None,
    processing_level: str | None = None,
) -> CollectionValue:
    """Images of a product intersecting the GeoContext, sorted by date (reads no pixels).

    At a ``processing_level``, images without files for that level's bands are left out.
    """
    geoctx = current_context().require_geoctx(f"loading product {product_id!r}")
    product = catalog.product(product_id)
    bands = product.bands_at(processing_level)
    limit = DEFAULT_LIMIT if limit is None else int(limit)
    cap = current_context().max_images
    records = catalog.search(
        product_id,
        start=start_datetime,
        end=end_datetime,
        bbox_lonlat=geoctx.bounds_lonlat,
        limit=limit if cap is None else min(limit, cap + 1),
    )
    if cap is not None and len(records) > cap:
        raise ResourceLimitError(
            f"{product_id!r} has more than {cap} images here, more than one request may load; "
            "narrow the dates or pass a smaller limit to from_id"
        )
    records = [r for r in records if _has_level(r, bands, processing_level)]
    if not records:
        return CollectionValue.empty()
    source = CatalogSource(records, product, geoctx, resampler or "near")
    return CollectionValue.lazy(
        source,
        range(len(records)),
        [r.properties_dict() for r in records],
        product.bandinfo(processing_level),
        source_bands=[band.name for _, band in bands],
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
    """``wf.pick_bands``: the named bands, in order (names may be space-separated)."""
    names: list[str] = []
    for band in bands:
        names.extend(band.split() if isinstance(band, str) else [band])
    return engine.pick_bands(_imagery(x, "pick_bands"), names, allow_missing=allow_missing)


@builtin("wf.pick_bands_list")
def pick_bands_list(x: Any, bands: Sequence[str], allow_missing: bool = False) -> Any:
    """``wf.pick_bands_list``: the bands named in a list, in order."""
    return engine.pick_bands(_imagery(x, "pick_bands"), list(bands), allow_missing=allow_missing)


@builtin("wf.rename_bands")
def rename_bands(x: Any, new_names: Mapping[str, str] | None = None, /, **names: str) -> Any:
    """Bands renamed old -> new: a dict argument (as the original client sends it), or
    keyword arguments (as grafts stored by earlier versions of this package hold them)."""
    if new_names is not None and not isinstance(new_names, Mapping):
        raise GraftTypeError(f"rename_bands needs a dict of old: new names, not {new_names!r}")
    mapping = {**(new_names or {}), **names}
    return engine.rename_bands(_imagery(x, "rename_bands"), mapping=mapping)


@builtin("wf.rename_bands_positionally")
def rename_bands_positionally(x: Any, *names: Any) -> Any:
    """Bands renamed in order: one list argument (as the original client sends it), or the
    names as separate arguments."""
    if len(names) == 1 and isinstance(names[0], (list, tuple)):
        names = tuple(names[0])
    return engine.rename_bands(_imagery(x, "rename_bands"), names=list(names))


def _axis(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def _reduction(op: str) -> Callable:
    def reduce(x: Any, axis: Any = None) -> Any:
        return engine.reduce(_imagery(x, op), op, _axis(axis))

    return reduce


for _op in REDUCTIONS:
    builtin(f"wf.{_op}")(_reduction(_op))


@builtin("wf.reduction")
def reduction(x: Any, operation: str, axis: Any = None) -> Any:
    """``wf.reduction``: a reduction (``mean``, ``median``, ...) over ``axis``."""
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
    """``wf.map_bands``: ``function(name, band)`` for every band, as a dict by band name."""
    _imagery(x, "map_bands")
    return {name: function(name, engine.pick_bands(x, [name])) for name in x.bandinfo}


@builtin("wf.map_bands_imagery")
def map_bands_imagery(x: Any, function: Callable) -> Any:
    """The bands of every result concatenated (names must be unique); any empty empties all."""
    out = None
    for value in map_bands(x, function).values():
        if not isinstance(value, (ImageValue, CollectionValue)):
            raise GraftTypeError("map_bands function must return imagery for every band")
        if value.is_empty:
            return type(value).empty()
        if out is not None:
            clash = set(out.bandinfo) & set(value.bandinfo)
            if clash:
                raise WorkflowsError(
                    f"map_bands results must have unique band names; {sorted(clash)} repeat"
                )
        out = value if out is None else engine.concat_bands(out, value)
    return out if out is not None else type(x).empty()


def _geoctx(what: str) -> Any:
    return current_context().require_geoctx(what)


@builtin("wf.coords_to_index")
def coords_to_index(x: Any, xcoord: float, ycoord: float) -> tuple[int, int]:
    """``wf.coords_to_index``: the (row, col) of a point of the GeoContext's CRS."""
    return tuple(_geoctx("coords_to_index").coords_to_index(xcoord, ycoord))


@builtin("wf.index_to_coords")
def index_to_coords(x: Any, row: int, col: int) -> tuple[float, float]:
    """``wf.index_to_coords``: the GeoContext CRS coordinates of pixel (row, col)."""
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


# -- raster functions --
builtin("wf.where")(lambda condition, x, y: engine.where(condition, x, y))
builtin("wf.clip_values")(lambda x, min=None, max=None: engine.clip_values(x, min, max))
builtin("wf.scale_values")(
    lambda x, range_min, range_max, domain_min=None, domain_max=None: engine.scale_values(
        x, range_min, range_max, domain_min, domain_max
    )
)
builtin("wf.colormap")(
    lambda x, named_colormap="viridis", vmin=None, vmax=None: engine.colormap(
        x, named_colormap, vmin, vmax
    )
)


def _replace_empty_with(x: Any, fill: Any, mask: bool = True, bandinfo: Any = None) -> Any:
    shape = None
    if not isinstance(fill, (ImageValue, CollectionValue)) and x.is_empty:
        shape = current_context().require_geoctx("replace_empty_with a number").arr_shape
    return engine.replace_empty_with(x, fill, mask=mask, bandinfo=bandinfo, shape=shape)


builtin("wf.Image.replace_empty_with", "wf.ImageCollection.replace_empty_with")(_replace_empty_with)


@dataclass(frozen=True)
class KernelValue:
    """A convolution kernel: ``dims`` (rows, cols) and row-major ``data``."""

    dims: tuple[int, int]
    data: tuple[float, ...]


register_attributes(
    KernelValue,
    frozenset({"dims", "data"}),
    lambda kernel, name: list(kernel.data) if name == "data" else kernel.dims,
)


@builtin("wf.Kernel.load")
def kernel_load(dims: Sequence[int], data: Sequence[float]) -> KernelValue:
    """``wf.Kernel.load``: a convolution kernel of ``dims`` (rows, cols) and row-major ``data``."""
    dims = tuple(int(d) for d in dims)
    if len(dims) != 2 or min(dims) < 1:
        raise WorkflowsError(f"Kernel dims must be two positive ints, got {dims}")
    if len(data) != dims[0] * dims[1]:
        raise WorkflowsError(
            f"Kernel of dims {dims} needs {dims[0] * dims[1]} values, got {len(data)}"
        )
    return KernelValue(dims, tuple(float(v) for v in data))


@builtin("wf.conv2d")
def conv2d(x: Any, kernel: KernelValue) -> Any:
    """``wf.conv2d``: every band convolved with ``kernel``."""
    if not isinstance(kernel, KernelValue):
        raise GraftTypeError(f"conv2d needs a Kernel, not {type(kernel).__name__}")
    return engine.conv2d(_imagery(x, "conv2d"), kernel.dims, kernel.data)


# -- windows and groups --
def _map_window(ic: CollectionValue, function: Callable, back: int = 0, fwd: int = 0) -> Any:
    if not isinstance(ic, CollectionValue):
        raise GraftTypeError(f"map_window needs an ImageCollection, not {type(ic).__name__}")
    results = [
        function(engine.select_images(ic, b), ic.image(i), engine.select_images(ic, f))
        for b, i, f in engine.window_indices(len(ic), int(back), int(fwd))
    ]
    return _combine(results)


builtin("wf.ImageCollection.map_window", "wf.ImageCollection.map_window_ic")(_map_window)


def _combine(results: list) -> Any:
    """Imagery results concatenated into one collection (empties dropped); others a list."""
    if results and all(isinstance(r, (ImageValue, CollectionValue)) for r in results):
        return engine.concat(*results)
    if any(isinstance(r, (ImageValue, CollectionValue)) for r in results):
        raise WorkflowsError("function returned imagery for some items but not others")
    if not results:
        return CollectionValue.empty()
    return results


@dataclass
class GroupbyValue:
    """An ImageCollection split into groups: key -> image indices, in key order."""

    imagery: CollectionValue
    groups: dict

    def as_dict(self) -> dict:
        """Each group's key and ImageCollection, in key order."""
        return {key: self.group(key) for key in self.groups}

    def group(self, key: Any) -> CollectionValue:
        """The images of group ``key`` (an empty collection for an unknown key), with a ``group`` property."""
        indices = self.groups.get(key)
        if indices is None:
            return CollectionValue.empty()
        return engine.with_properties(engine.select_images(self.imagery, indices), group=key)


register_result(GroupbyValue, lambda gb, geoctx: to_result(gb.as_dict(), geoctx))


@builtin("wf.ImageCollectionGroupby.create")
def groupby_create(ic: CollectionValue, function: Callable) -> GroupbyValue:
    """``wf.ImageCollectionGroupby.create``: the collection's images grouped by ``function``'s key."""
    if not isinstance(ic, CollectionValue):
        raise GraftTypeError(f"groupby needs an ImageCollection, not {type(ic).__name__}")
    keys = [function(ic.image(i)) for i in range(len(ic))]
    return GroupbyValue(ic, engine.group_indices(keys))


def _group_key(key: Any) -> Any:
    return tuple(_group_key(k) for k in key) if isinstance(key, list) else key


builtin("wf.ImageCollectionGroupby.groups")(lambda gb: gb.as_dict())
builtin("wf.ImageCollectionGroupby.get")(lambda gb, key: gb.group(_group_key(key)))


@builtin("wf.ImageCollectionGroupby.one")
def groupby_one(gb: GroupbyValue) -> tuple:
    """``wf.ImageCollectionGroupby.one``: the first group, as ``(key, images)``."""
    if not gb.groups:
        raise WorkflowsError("one() of an empty groupby: there are no groups")
    key = next(iter(gb.groups))
    return key, gb.group(key)


builtin("wf.ImageCollectionGroupby.map")(
    lambda gb, function: {k: function(k, gb.group(k)) for k in gb.groups}
)


def _with_group(value: Any, key: Any) -> Any:
    if isinstance(value, (ImageValue, CollectionValue)) and not value.is_empty:
        return engine.with_properties(value, group=key)
    return value


@builtin("wf.ImageCollectionGroupby.map_ic")
def groupby_map_ic(gb: GroupbyValue, function: Callable) -> Any:
    """``wf.ImageCollectionGroupby.map_ic``: ``function(key, images)`` per group, combined."""
    return _combine([_with_group(function(k, gb.group(k)), k) for k in gb.groups])


@builtin("wf.ImageCollectionGroupby.reduce")
def groupby_reduce(gb: GroupbyValue, operation: str, axis: Any = None) -> Any:
    """``wf.ImageCollectionGroupby.reduce``: a reduction per group, combined (or a dict by key)."""
    results = {k: engine.reduce(gb.group(k), operation, _axis(axis)) for k in gb.groups}
    if any(isinstance(r, (ImageValue, CollectionValue)) for r in results.values()):
        return _combine([_with_group(r, k) for k, r in results.items()])
    return results


@builtin("wf.ImageCollectionGroupby.mosaic")
def groupby_mosaic(gb: GroupbyValue, reverse: bool = False) -> Any:
    """``wf.ImageCollectionGroupby.mosaic``: each group mosaicked into one Image, combined."""
    return _combine(
        [_with_group(engine.mosaic(gb.group(k), reverse=reverse), k) for k in gb.groups]
    )
