"""Image and ImageCollection proxies: the raster half of the API."""

from __future__ import annotations

import logging
from typing import Any as _Any

from tiles.display import REDUCTIONS, colormap_names
from tiles.errors import ProxyTypeError
from tiles.types.arguments import (
    ANY_VALUE,
    FUNCTION,
    MAPPING,
    Kind,
    argument_error,
    literal,
    promote,
    typecheck,
)
from tiles.types.arrays import MaskedArray
from tiles.types.containers import NO_INITIAL, Dict, KnownDict, List, Tuple, reduce_items
from tiles.types.core import Proxytype, backend, describe
from tiles.types.datetimes import Datetime
from tiles.types.function import as_function
from tiles.types.primitives import Any, Bool, Float, Int, Number, Str

RESAMPLERS = (
    "near", "bilinear", "cubic", "cubicspline", "lanczos", "average",
    "mode", "max", "min", "med", "q1", "q3",
)  # fmt: skip

ImageProperties = KnownDict[
    {
        "id": Str,
        "date": Datetime,
        "product": Str,
        "crs": Str,
        "geotrans": Tuple[Float, Float, Float, Float, Float, Float],
    },
    Str,
    Any,
]
BandInfo = Dict[
    Str, KnownDict[{"id": Str, "name": Str, "data_range": Tuple[Float, Float]}, Str, Any]
]


NUMBER = (Int, Float)


def _check_resampler(resampler: _Any) -> None:
    name = literal(resampler)
    if isinstance(name, str) and name not in RESAMPLERS:
        raise ValueError(f"unknown resampler {name!r}; expected one of {', '.join(RESAMPLERS)}")


def _normalize_axis(axis: _Any, allowed: tuple) -> _Any:
    """Axis as the graft carries it: None, a name, or a sorted tuple of names."""
    if axis is None or isinstance(axis, str):
        key = axis
    elif isinstance(axis, (tuple, list)) and all(isinstance(a, str) for a in axis):
        key = tuple(sorted(set(axis)))
        if len(key) == 1:
            key = key[0]
    else:
        raise ProxyTypeError(
            f"argument 'axis' expects None, a name or a tuple of names, got {describe(axis)}"
        )
    if key not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"invalid axis {axis!r}; expected one of {shown}")
    return list(key) if isinstance(key, tuple) else key


def _imagery_operand(other: _Any) -> _Any:
    """Operands that may meet imagery: imagery, numbers (proxy or Python) and booleans."""
    if isinstance(other, (ImageryMixin, Number, Bool)):
        return other
    if isinstance(other, Any):
        return Float._from_graft(other.graft, other.params)
    if isinstance(other, (int, float)) and not isinstance(other, str):
        return other
    return None


def _binary(builtin: str, reflected: bool = False):
    def method(self, other):
        operand = _imagery_operand(other)
        if operand is None:
            if isinstance(other, Proxytype):
                return NotImplemented
            raise ProxyTypeError(
                f"unsupported operand for {type(self).__name__}: {type(other).__name__} {other!r}"
            )
        result = (
            ImageCollection
            if isinstance(self, ImageCollection) or isinstance(operand, ImageCollection)
            else Image
        )
        a, b = (operand, self) if reflected else (self, operand)
        return result._from_apply(builtin, a, b)

    method.__name__ = builtin
    return method


def _unary(builtin: str):
    def method(self):
        return type(self)._from_apply(builtin, self)

    method.__name__ = builtin.rsplit(".", 1)[-1]
    method.__doc__ = f"Element-wise {method.__name__}; an empty input gives an empty output."
    return method


def reduction_method(operation: str):
    """A ``min``/``max``/... method calling ``self._reduce(operation, axis)``."""

    def method(self, axis=None):
        return self._reduce(operation, axis)

    method.__name__ = operation
    method.__doc__ = (
        f"{operation.capitalize()} along ``axis`` (None, or names from the axes the type "
        "supports); masked pixels are ignored."
    )
    return method


class ImageryMixin:
    """Everything Image and ImageCollection share."""

    _AXES: tuple = ()

    # -- operators (names as the original client emits them) --
    __add__ = _binary("wf.add")
    __radd__ = _binary("wf.add", reflected=True)
    __sub__ = _binary("wf.sub")
    __rsub__ = _binary("wf.sub", reflected=True)
    __mul__ = _binary("wf.mul")
    __rmul__ = _binary("wf.mul", reflected=True)
    __truediv__ = _binary("wf.div")
    __rtruediv__ = _binary("wf.truediv", reflected=True)
    __floordiv__ = _binary("wf.floordiv")
    __rfloordiv__ = _binary("wf.floordiv", reflected=True)
    __mod__ = _binary("wf.mod")
    __rmod__ = _binary("wf.mod", reflected=True)
    __pow__ = _binary("wf.pow")
    __rpow__ = _binary("wf.pow", reflected=True)
    __lt__ = _binary("wf.lt")
    __le__ = _binary("wf.le")
    __gt__ = _binary("wf.gt")
    __ge__ = _binary("wf.ge")
    __eq__ = _binary("wf.eq")
    __ne__ = _binary("wf.ne")
    __and__ = _binary("wf.and")
    __rand__ = _binary("wf.and", reflected=True)
    __or__ = _binary("wf.or")
    __ror__ = _binary("wf.or", reflected=True)
    __xor__ = _binary("wf.xor")
    __rxor__ = _binary("wf.xor", reflected=True)
    __lshift__ = _binary("wf.lshift")
    __rshift__ = _binary("wf.rshift")
    __neg__ = _unary("wf.neg")
    __pos__ = _unary("wf.pos")
    __abs__ = _unary("wf.abs")
    __invert__ = _unary("wf.invert")
    __hash__ = Proxytype.__hash__

    log = _unary("wf.log")
    log2 = _unary("wf.log2")
    log10 = _unary("wf.log10")
    log1p = _unary("wf.log1p")
    sqrt = _unary("wf.sqrt")
    cos = _unary("wf.cos")
    arccos = _unary("wf.arccos")
    sin = _unary("wf.sin")
    arcsin = _unary("wf.arcsin")
    tan = _unary("wf.tan")
    arctan = _unary("wf.arctan")
    exp = _unary("wf.exp")
    square = _unary("wf.square")

    @property
    def bandinfo(self) -> BandInfo:
        """Metadata about each band, keyed by band name (in band order)."""
        return BandInfo._from_apply("wf.getattr", self, "bandinfo")

    @property
    def nbands(self) -> Int:
        """The number of bands."""
        return Int._from_apply("wf.nbands", self)

    @property
    def ndarray(self) -> MaskedArray:
        """The pixel values as a MaskedArray: (bands, rows, cols) for an Image,
        (images, bands, rows, cols) for an ImageCollection; masked where data is missing."""
        return MaskedArray._from_apply("wf.getattr", self, "ndarray")

    # -- bands --
    @typecheck(allow_missing=Bool)
    def pick_bands(self, bands, allow_missing=False):
        """New imagery with only ``bands`` (a space-separated string or a list), in that order."""
        where = f"{type(self).__name__}.pick_bands"
        names = _band_names(bands)
        if names is not None:
            if not names:
                raise ValueError(f"{where} needs at least one band name")
            return type(self)._from_apply(
                "wf.pick_bands", self, *names, allow_missing=allow_missing
            )
        if isinstance(bands, Str):
            return type(self)._from_apply("wf.pick_bands", self, bands, allow_missing=allow_missing)
        if not isinstance(bands, List):
            raise argument_error(where, "bands", "str, Str, list of str or List[Str]", bands)
        names = promote(bands, List[Str], where, "bands")
        return type(self)._from_apply(
            "wf.pick_bands_list", self, names, allow_missing=allow_missing
        )

    def unpack_bands(self, bands) -> tuple:
        """One single-band imagery per name: ``red, nir = img.unpack_bands("red nir")``."""
        names = _band_names(bands)
        if names is None:
            where = f"{type(self).__name__}.unpack_bands"
            raise argument_error(where, "bands", "str or list of str", bands)
        return tuple(self.pick_bands(name) for name in names)

    def rename_bands(self, *new_positional_names, **new_names):
        """New imagery with bands renamed by position or by ``old=new`` keywords (not both)."""
        where = f"{type(self).__name__}.rename_bands"
        if new_positional_names and new_names:
            raise TypeError(f"{where} takes names by position or by keyword, not both")
        if new_names:
            mapping = {old: promote(new, Str, where, old) for old, new in new_names.items()}
            return type(self)._from_apply("wf.rename_bands", self, Dict[Str, Str](mapping))
        names = [promote(n, Str, where, "new_positional_names") for n in new_positional_names]
        return type(self)._from_apply("wf.rename_bands_positionally", self, List[Str](names))

    def concat_bands(self, other_image):
        """Bands of ``other_image`` appended; overlapping names from it get the suffix ``_1``."""
        return self._concat_bands(other_image, "other_image")

    def _concat_bands(self, other: _Any, argument: str) -> _Any:
        other = promote(other, IMAGERY, f"{type(self).__name__}.concat_bands", argument)
        result = ImageCollection if isinstance(other, ImageCollection) else type(self)
        return result._from_apply("wf.concat_bands", self, other)

    @typecheck(func=FUNCTION)
    def map_bands(self, func):
        """Apply ``func(name, band)`` to each band: an Image result gives imagery, else a Dict."""
        fn = as_function(func, Str, type(self))
        if issubclass(fn.return_type, ImageryMixin):
            return type(self)._from_apply("wf.map_bands_imagery", self, fn)
        return Dict[Str, fn.return_type]._from_apply("wf.map_bands", self, fn)

    # -- masks --
    @typecheck(replace=Bool)
    def mask(self, mask, replace=False):
        """Mask pixels where ``mask`` is True (a boolean imagery, or pixels outside a vector)."""
        if isinstance(mask, Proxytype) and hasattr(mask, "rasterize"):
            mask = mask.rasterize().getmask()
        if not isinstance(mask, ImageryMixin):
            raise argument_error(
                f"{type(self).__name__}.mask",
                "mask",
                "Image, ImageCollection, Geometry, Feature or FeatureCollection",
                mask,
            )
        result = ImageCollection if isinstance(mask, ImageCollection) else type(self)
        return result._from_apply("wf.mask", self, mask, replace=replace)

    def getmask(self):
        """The mask as one boolean band named ``mask``."""
        return type(self)._from_apply("wf.getmask", self)

    # -- metadata --
    @typecheck(properties=ANY_VALUE)
    def with_properties(self, **properties):
        return type(self)._from_apply("wf.with_properties", self, **properties)

    @typecheck(property_keys=Str)
    def without_properties(self, *property_keys):
        return type(self)._from_apply("wf.without_properties", self, *property_keys)

    @typecheck(band=Str, bandinfo=ANY_VALUE)
    def with_bandinfo(self, band, **bandinfo):
        return type(self)._from_apply("wf.with_bandinfo", self, band, **bandinfo)

    @typecheck(band=Str, bandinfo_keys=Str)
    def without_bandinfo(self, band, *bandinfo_keys):
        return type(self)._from_apply("wf.without_bandinfo", self, band, *bandinfo_keys)

    # -- values --
    @typecheck(min=(*NUMBER, List[Float], None), max=(*NUMBER, List[Float], None))
    def clip_values(self, min=None, max=None):  # noqa: A002 - the documented names
        if min is None and max is None:
            raise ValueError(f"{type(self).__name__}.clip_values needs min, max or both")
        return type(self)._from_apply("wf.clip_values", self, min, max)

    @typecheck(
        range_min=NUMBER,
        range_max=NUMBER,
        domain_min=(*NUMBER, None),
        domain_max=(*NUMBER, None),
    )
    def scale_values(self, range_min, range_max, domain_min=None, domain_max=None):
        return type(self)._from_apply(
            "wf.scale_values", self, range_min, range_max, domain_min, domain_max
        )

    @typecheck(named_colormap=Str, vmin=(*NUMBER, None), vmax=(*NUMBER, None))
    def colormap(self, named_colormap="viridis", vmin=None, vmax=None):
        """A 1-band imagery coloured into bands red, green, blue."""
        name = literal(named_colormap)
        if isinstance(name, str) and name not in colormap_names():
            raise ValueError(f"unknown colormap {name!r}")
        if (vmin is None) != (vmax is None):
            raise ValueError("colormap takes both vmin and vmax, or neither")
        return type(self)._from_apply("wf.colormap", self, named_colormap, vmin, vmax)

    @typecheck(mask=Bool, bandinfo=(MAPPING, None))
    def replace_empty_with(self, fill, mask=True, bandinfo=None):
        where = f"{type(self).__name__}.replace_empty_with"
        fill = promote(fill, (Int, Float, Bool, type(self)), where, "fill")
        return type(self)._from_apply(
            f"wf.{type(self).__name__}.replace_empty_with", self, fill, mask, bandinfo
        )

    # -- reductions --
    def _reduce(self, operation: str, axis):
        axis = _normalize_axis(axis, self._AXES)
        return self._reduction_type(axis)._from_apply(f"wf.{operation}", self, axis=axis)

    def reduction(self, operation, axis=None):
        """Reduce with ``operation`` (min, max, mean, median, sum, std, count) along ``axis``."""
        allowed = REDUCTIONS + (("mosaic",) if isinstance(self, ImageCollection) else ())
        operation = literal(operation)
        if not isinstance(operation, str):
            where = f"{type(self).__name__}.reduction"
            raise argument_error(where, "operation", f"one of {allowed}", operation)
        if operation not in allowed:
            raise ValueError(f"unknown reduction {operation!r}; expected one of {allowed}")
        if operation == "mosaic":
            if axis != "images":
                raise ValueError("the 'mosaic' reduction works only along axis='images'")
            return self.mosaic()
        axis_value = _normalize_axis(axis, self._AXES)
        return self._reduction_type(axis_value)._from_apply(
            "wf.reduction", self, operation, axis=axis_value
        )

    min = reduction_method("min")
    max = reduction_method("max")
    mean = reduction_method("mean")
    median = reduction_method("median")
    sum = reduction_method("sum")
    std = reduction_method("std")
    count = reduction_method("count")

    # -- space --
    @typecheck(x=NUMBER, y=NUMBER)
    def coords_to_index(self, x, y) -> Tuple:
        return Tuple[Int, Int]._from_apply("wf.coords_to_index", self, x, y)

    @typecheck(row=Int, col=Int)
    def index_to_coords(self, row, col) -> Tuple:
        return Tuple[Float, Float]._from_apply("wf.index_to_coords", self, row, col)

    def concat(self, *imgs):
        """An ImageCollection of this imagery followed by ``imgs``."""
        where = f"{type(self).__name__}.concat"
        others = [promote(i, IMAGERY, where, "imgs") for i in imgs]
        return ImageCollection._from_apply("wf.concat", self, *others)

    # -- maps --
    def tile_layer(
        self,
        name: str | None = None,
        scales=None,
        colormap: str | None = None,
        checkerboard: bool = True,
        log_level: int = logging.DEBUG,
        **parameter_overrides,
    ):
        """A map layer (``WorkflowsLayer``) for this imagery, not added to any map.

        Its ``registration`` is the tile server's record (``url_template``, ``url(...)``).
        """
        return backend("tile_layer")(
            self,
            name=name,
            scales=scales,
            colormap=colormap,
            checkerboard=checkerboard,
            log_level=log_level,
            **parameter_overrides,
        )

    def visualize(
        self,
        name: str,
        scales=None,
        colormap: str | None = None,
        checkerboard: bool = True,
        log_level: int = logging.DEBUG,
        map=None,  # noqa: A002 - the documented name
        **parameter_overrides,
    ):
        """Add this imagery to ``wf.map`` (or ``map``), replacing a layer of the same name."""
        return backend("visualize")(
            self,
            name,
            scales=scales,
            colormap=colormap,
            checkerboard=checkerboard,
            log_level=log_level,
            map=map,
            **parameter_overrides,
        )


def _band_names(bands: _Any) -> list | None:
    """Band names given as a space-separated string or a list of strings; None otherwise."""
    if isinstance(bands, str):
        return bands.split()
    if isinstance(bands, (list, tuple)) and all(isinstance(b, str) for b in bands):
        return list(bands)
    return None


class Image(ImageryMixin, Proxytype):
    """Proxy Image; construct with :meth:`from_id`."""

    _AXES = (None, "pixels", "bands")

    def __init__(self):
        raise ProxyTypeError("construct an Image with Image.from_id(...)")

    @classmethod
    @typecheck(image_id=Str, resampler=(Str, None), processing_level=(Str, None))
    def from_id(cls, image_id, resampler=None, processing_level=None) -> Image:
        """The catalog image ``image_id`` ("product:name"), read in the compute GeoContext.

        >>> import tiles as wf
        >>> img = wf.Image.from_id("sample:dem:santa_fe")
        """
        _check_resampler(resampler)
        return cls._from_apply(
            "wf.Image.load",
            image_id,
            resampler=resampler,
            processing_level=processing_level,
        )

    @classmethod
    def from_scene(cls, scene) -> Image:
        """The proxy Image of a catalog image record (anything with an ``id``).

        ``wf.catalog.image(...)`` and ``wf.catalog.search(...)`` give such records; objects
        whose ``properties`` hold the ``id`` (like the original client's scenes) work too.
        """
        return cls.from_id(_scene_id(scene))

    @property
    def properties(self) -> ImageProperties:
        """Metadata of the Image (id, date, product, crs, geotrans and any others)."""
        return ImageProperties._from_apply("wf.getattr", self, "properties")

    @staticmethod
    def _reduction_type(axis):
        return {None: Float, "pixels": Dict[Str, Float], "bands": Image}[axis]

    @typecheck(x=NUMBER, y=NUMBER)
    def value_at(self, x, y):
        """Pixel values at (x, y) in the GeoContext's CRS, keyed by band name."""
        return Dict[Str, Float]._from_apply("wf.value_at", self, x, y)


class ImageCollection(ImageryMixin, Proxytype):
    """Proxy stack of Images; typically construct with :meth:`from_id`."""

    _AXES = (
        None, "images", "bands", "pixels",
        ("images", "pixels"), ("bands", "pixels"), ("bands", "images"),
    )  # fmt: skip

    def __init__(self, images):
        if isinstance(images, ImageCollection):
            self.graft, self.params = images.graft, images.params
            return
        if isinstance(images, List):
            items = promote(images, List[Image], "ImageCollection", "images")
        elif isinstance(images, (list, tuple)):
            items = List[Image]([promote(i, Image, "ImageCollection", "images") for i in images])
        else:
            raise argument_error("ImageCollection", "images", "list of Image", images)
        obj = ImageCollection._from_apply("wf.ImageCollection.from_images", items)
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _promote(cls, obj: _Any):
        if isinstance(obj, (list, tuple)):
            return cls(obj)
        return super()._promote(obj)

    @classmethod
    @typecheck(
        product_id=Str,
        start_datetime=(Datetime, None),
        end_datetime=(Datetime, None),
        limit=(Int, None),
        resampler=(Str, None),
        processing_level=(Str, None),
    )
    def from_id(
        cls,
        product_id,
        start_datetime=None,
        end_datetime=None,
        limit=None,
        resampler=None,
        processing_level=None,
    ) -> ImageCollection:
        """Images of a catalog product intersecting the GeoContext, sorted by date."""
        _check_resampler(resampler)
        if isinstance(literal(limit), int) and literal(limit) < 0:
            raise ValueError(f"limit must be >= 0, got {literal(limit)}")
        return cls._from_apply(
            "wf.ImageCollection.from_id",
            product_id,
            start_datetime=start_datetime,
            end_datetime=end_datetime,
            limit=limit,
            resampler=resampler,
            processing_level=processing_level,
        )

    @property
    def properties(self) -> List:
        """One properties dict per image, in image order."""
        return List[ImageProperties]._from_apply("wf.getattr", self, "properties")

    @staticmethod
    def _reduction_type(axis):
        key = tuple(axis) if isinstance(axis, list) else axis
        return {
            None: Float,
            "images": Image,
            "bands": ImageCollection,
            "pixels": List[Dict[Str, Float]],
            ("images", "pixels"): Dict[Str, Float],
            ("bands", "pixels"): List[Float],
            ("bands", "images"): Image,
        }[key]

    @typecheck(x=NUMBER, y=NUMBER)
    def value_at(self, x, y):
        return List[Dict[Str, Float]]._from_apply("wf.value_at", self, x, y)

    def concat_bands(self, other):
        """Bands of ``other`` appended to every image; overlapping names get the suffix ``_1``."""
        return self._concat_bands(other, "other")

    def __getitem__(self, index):
        if isinstance(index, slice):
            from tiles.types.containers import _slice

            return ImageCollection._from_apply("wf.get", self, _slice(index))
        index = promote(index, Int, "ImageCollection.__getitem__", "index")
        return Image._from_apply("wf.get", self, index)

    def length(self) -> Int:
        """Number of images (reads no pixels)."""
        return Int._from_apply("wf.length", self)

    @typecheck(other=Image)
    def contains(self, other) -> Bool:
        return Bool._from_apply("wf.contains", self, other)

    @typecheck(n=Int)
    def head(self, n) -> ImageCollection:
        return ImageCollection._from_apply("wf.ImageCollection.head", self, n)

    @typecheck(n=Int)
    def tail(self, n) -> ImageCollection:
        return ImageCollection._from_apply("wf.ImageCollection.tail", self, n)

    @typecheck(i=Int)
    def partition(self, i) -> Tuple:
        return Tuple[ImageCollection, ImageCollection]._from_apply(
            "wf.ImageCollection.partition", self, i
        )

    @typecheck(func=FUNCTION)
    def map(self, func):
        """Apply ``func`` to each Image: Images give an ImageCollection, anything else a List."""
        fn = as_function(func, Image)
        ret = fn.return_type
        if issubclass(ret, ImageCollection):
            raise ProxyTypeError("map function must not return an ImageCollection")
        if issubclass(ret, Image):
            return ImageCollection._from_apply("wf.map_imagery", self, fn)
        # a List even when the collection is empty and the function never runs
        return List[ret]._from_apply("wf.map", self, fn)

    @typecheck(func=FUNCTION)
    def filter(self, func) -> ImageCollection:
        """Images for which ``func(img)`` is True (an empty collection if none)."""
        fn = as_function(func, Image)
        if not issubclass(fn.return_type, (Bool, Any)):
            raise ProxyTypeError(f"filter function must return Bool, not {fn.return_type.__name__}")
        return ImageCollection._from_apply("wf.filter", self, fn)

    @typecheck(key=FUNCTION, reverse=Bool)
    def sorted(self, key, reverse=False) -> ImageCollection:
        fn = as_function(key, Image)
        return ImageCollection._from_apply("wf.sorted", self, fn, reverse=reverse)

    @typecheck(func=FUNCTION)
    def reduce(self, func, initial=NO_INITIAL):
        return reduce_items(self, Image, func, initial)

    @typecheck(reverse=Bool)
    def mosaic(self, reverse=False) -> Image:
        """One Image: the first unmasked pixel from the last image down (first, if reverse)."""
        return Image._from_apply("wf.mosaic", self, reverse=reverse)

    @typecheck(band=(Str, Kind("ImageCollection", lambda v: ImageCollection._promote(v))))
    def sortby_composite(self, band, operation="argmax") -> Image:
        if not isinstance(literal(operation), str):
            raise argument_error("ImageCollection.sortby_composite", "operation", "Str", operation)
        if literal(operation) not in ("argmax", "argmin"):
            raise ValueError(f"operation must be 'argmax' or 'argmin', not {literal(operation)!r}")
        return Image._from_apply("wf.ImageCollection.sortby_composite", self, band, operation)

    @typecheck(func=FUNCTION, back=Int, fwd=Int)
    def map_window(self, func, back=0, fwd=0):
        """Apply ``func(back, img, fwd)`` over a sliding window (``back`` + 1 + ``fwd`` images).

        Imagery results are concatenated into one ImageCollection; others make a List.
        """
        for name, value in (("back", literal(back)), ("fwd", literal(fwd))):
            if isinstance(value, int) and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        fn = as_function(func, ImageCollection, Image, ImageCollection)
        ret = fn.return_type
        result = ImageCollection if issubclass(ret, (Image, ImageCollection)) else List[ret]
        return result._from_apply("wf.ImageCollection.map_window", self, fn, back, fwd)

    def groupby(self, func=None, dates=None):
        from tiles.types.groupby import ImageCollectionGroupby

        return ImageCollectionGroupby._create(self, func, dates)

    def tile_layer(
        self,
        name=None,
        scales=None,
        colormap=None,
        reduction="mosaic",
        checkerboard=True,
        log_level=logging.DEBUG,
        **parameter_overrides,
    ):
        """A map layer (``WorkflowsLayer``) for this collection reduced with ``reduction``.

        It is not added to any map; its ``registration`` is the tile server's record.
        """
        return backend("tile_layer")(
            self,
            name=name,
            scales=scales,
            colormap=colormap,
            reduction=reduction,
            checkerboard=checkerboard,
            log_level=log_level,
            **parameter_overrides,
        )

    def visualize(
        self,
        name,
        scales=None,
        colormap=None,
        reduction="mosaic",
        checkerboard=True,
        log_level=logging.DEBUG,
        map=None,  # noqa: A002 - the documented name
        **parameter_overrides,
    ):
        """Add this collection to ``wf.map`` (or ``map``), reduced with ``reduction``."""
        return backend("visualize")(
            self,
            name,
            scales=scales,
            colormap=colormap,
            reduction=reduction,
            checkerboard=checkerboard,
            log_level=log_level,
            map=map,
            **parameter_overrides,
        )


def _scene_id(scene: _Any) -> str:
    properties = getattr(scene, "properties", None)
    for holder in (properties, scene):
        found = holder.get("id") if isinstance(holder, dict) else getattr(holder, "id", None)
        if isinstance(found, str):
            return found
    raise ProxyTypeError(
        f"Image.from_scene needs a catalog image record with an id, not {type(scene).__name__}"
    )


IMAGERY = (Image, ImageCollection)
