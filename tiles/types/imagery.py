"""Image and ImageCollection proxies: the raster half of the API.

What the two share (operators, bands, masks, metadata, reductions, maps) is
:class:`~tiles.types.imagery_base.ImageryMixin`. In the examples, ``ctx`` is a GeoContext over
the sample catalog.
"""

from __future__ import annotations

import logging
from typing import Any as _Any

from tiles.errors import ProxyTypeError
from tiles.types.arguments import FUNCTION, Kind, argument_error, literal, promote, typecheck
from tiles.types.containers import NO_INITIAL, Dict, KnownDict, List, Tuple, reduce_items
from tiles.types.core import Proxytype, backend
from tiles.types.datetimes import Datetime
from tiles.types.function import as_function
from tiles.types.imagery_base import ImageryMixin
from tiles.types.primitives import NUMBER, Any, Bool, Float, Int, Str

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


def _check_resampler(resampler: _Any) -> None:
    name = literal(resampler)
    if isinstance(name, str) and name not in RESAMPLERS:
        raise ValueError(f"unknown resampler {name!r}; expected one of {', '.join(RESAMPLERS)}")


class Image(ImageryMixin, Proxytype):
    """Proxy Image: bands of pixels with properties and bandinfo, read in a GeoContext.

    Build one with :meth:`from_id`; computed, it is an ``ImageResult`` whose ``ndarray`` is
    a (bands, rows, cols) masked array (None for the empty Image).

    Example
    -------
    >>> img = wf.Image.from_id("sample:s2:20230515_z13")
    >>> ndvi = (img.pick_bands("nir") - img.pick_bands("red")) / (
    ...     img.pick_bands("nir") + img.pick_bands("red"))
    >>> ndvi.compute(ctx).bandinfo.keys()
    odict_keys(['nir_sub_red_div_nir_add_red'])
    """

    _AXES = (None, "pixels", "bands")

    def __init__(self):
        """Not for direct use: an Image comes from :meth:`from_id` or an operation."""
        raise ProxyTypeError("construct an Image with Image.from_id(...)")

    @classmethod
    @typecheck(image_id=Str, resampler=(Str, None), processing_level=(Str, None))
    def from_id(cls, image_id, resampler=None, processing_level=None) -> Image:
        """A catalog image, read into the GeoContext it is computed in.

        Parameters
        ----------
        image_id : Str
            ``"product:name"``, as ``wf.catalog.images(product)`` lists them.
        resampler : Str, optional
            How pixels are resampled into the GeoContext's grid: ``near`` (default),
            ``bilinear``, ``cubic``, ``cubicspline``, ``lanczos``, ``average``, ``mode``,
            ``max``, ``min``, ``med``, ``q1`` or ``q3``.
        processing_level : Str, optional
            A processing level the product defines (such as ``"toa"`` or ``"surface"``);
            an image without that level's files is the empty Image.

        Returns
        -------
        Image
            Values rescaled from each band's data range to its physical range (or [0, 1]).

        Example
        -------
        >>> img = wf.Image.from_id("sample:dem:santa_fe", resampler="bilinear")
        >>> img.compute(ctx).ndarray.shape
        (1, 65, 64)
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
        """The Image of a catalog image record: anything with an ``id``.

        Parameters
        ----------
        scene : object
            A record from ``wf.catalog.image(...)`` or ``wf.catalog.search(...)``, or an
            object whose ``properties`` hold the ``id`` (like the original client's scenes).

        Returns
        -------
        Image

        Example
        -------
        >>> record = wf.catalog.image("sample:dem:santa_fe")
        >>> img = wf.Image.from_scene(record)
        """
        return cls.from_id(_scene_id(scene))

    @property
    def properties(self) -> ImageProperties:
        """The Image's metadata: ``id``, ``date``, ``product``, ``crs``, ``geotrans`` and the
        catalog record's own properties (other keys are ``Any``)."""
        return ImageProperties._from_apply("wf.getattr", self, "properties")

    @staticmethod
    def _reduction_type(axis):
        return {None: Float, "pixels": Dict[Str, Float], "bands": Image}[axis]

    @typecheck(x=NUMBER, y=NUMBER)
    def value_at(self, x, y):
        """The band values of the pixel holding the point (x, y).

        Parameters
        ----------
        x, y : Float
            Coordinates in the CRS of the GeoContext computed with (metres of EPSG:3857 on
            a web map).

        Returns
        -------
        Dict[Str, Float]
            Band name to value; None where masked; an empty Dict for the empty Image.

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> dem.value_at(412980.0, 3953010.0).compute(ctx)
        {'elevation': 2322.0}
        """
        return Dict[Str, Float]._from_apply("wf.value_at", self, x, y)


class ImageCollection(ImageryMixin, Proxytype):
    """Proxy stack of Images sharing one bandinfo; usually built with :meth:`from_id`.

    Computed, it is an ``ImageCollectionResult``: a (images, bands, rows, cols) masked
    array and one properties dict per image.

    Example
    -------
    >>> col = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2023-04-01")
    >>> composite = col.pick_bands("red green blue").median(axis="images")
    >>> type(composite).__name__
    'Image'
    """

    _AXES = (
        None, "images", "bands", "pixels",
        ("images", "pixels"), ("bands", "pixels"), ("bands", "images"),
    )  # fmt: skip

    def __init__(self, images):
        """An ImageCollection of Images.

        Parameters
        ----------
        images : list of Image, or List[Image]
            Their bands are aligned by name; empty Images are left out (all empty: the
            empty ImageCollection).
        """
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
        """The images of a catalog product that meet the GeoContext, sorted by date.

        Parameters
        ----------
        product_id : Str
            The product, e.g. ``"sample:s2"``.
        start_datetime, end_datetime : Datetime, optional
            Acquired from ``start_datetime`` (included) to ``end_datetime`` (excluded);
            ISO strings and datetimes are accepted.
        limit : Int, optional
            At most this many images (default 10 000).
        resampler : Str, optional
            As for :meth:`Image.from_id`.
        processing_level : Str, optional
            As for :meth:`Image.from_id`; images without that level are left out.

        Returns
        -------
        ImageCollection
            Empty when no image matches.

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2", "2023-05-01", "2023-06-01")
        >>> col.length().compute(ctx)
        2
        """
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
        """The properties of each image, in image order (a List of Image properties)."""
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
        """The band values of the pixel holding (x, y), one Dict per image.

        Parameters
        ----------
        x, y : Float
            Coordinates in the CRS of the GeoContext computed with.

        Returns
        -------
        List[Dict[Str, Float]]
            Empty for the empty ImageCollection.

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2", "2023-05-01", "2023-06-01")
        >>> values = col.value_at(412980.0, 3953010.0)
        """
        return List[Dict[Str, Float]]._from_apply("wf.value_at", self, x, y)

    def concat_bands(self, other):
        """New ImageCollection with the bands of ``other`` after each image's own.

        Parameters
        ----------
        other : Image or ImageCollection
            An Image adds its bands to every image; an ImageCollection must have the same
            length. Clashing names from ``other`` get the suffix ``_1``.

        Returns
        -------
        ImageCollection
            Empty when either is empty.

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2").pick_bands("red")
        >>> with_height = col.concat_bands(wf.Image.from_id("sample:dem:santa_fe"))
        """
        return self._concat_bands(other, "other")

    def __getitem__(self, index):
        """The image at ``index`` (an Image), or an ImageCollection for a slice."""
        if isinstance(index, slice):
            from tiles.types.containers import _slice

            return ImageCollection._from_apply("wf.get", self, _slice(index))
        index = promote(index, Int, "ImageCollection.__getitem__", "index")
        return Image._from_apply("wf.get", self, index)

    def length(self) -> Int:
        """The number of images (reads no pixels).

        Returns
        -------
        Int

        Example
        -------
        >>> n = wf.ImageCollection.from_id("sample:s2").length()
        """
        return Int._from_apply("wf.length", self)

    @typecheck(other=Image)
    def contains(self, other) -> Bool:
        """Whether an image with the same pixels and metadata as ``other`` is in this collection.

        Parameters
        ----------
        other : Image

        Returns
        -------
        Bool

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2")
        >>> found = col.contains(col[0])
        """
        return Bool._from_apply("wf.contains", self, other)

    @typecheck(n=Int)
    def head(self, n) -> ImageCollection:
        """The first ``n`` images (all of them when there are fewer).

        Parameters
        ----------
        n : Int

        Returns
        -------
        ImageCollection

        Example
        -------
        >>> first_two = wf.ImageCollection.from_id("sample:s2").head(2)
        """
        return ImageCollection._from_apply("wf.ImageCollection.head", self, n)

    @typecheck(n=Int)
    def tail(self, n) -> ImageCollection:
        """The last ``n`` images (all of them when there are fewer).

        Parameters
        ----------
        n : Int

        Returns
        -------
        ImageCollection

        Example
        -------
        >>> last = wf.ImageCollection.from_id("sample:s2").tail(1)
        """
        return ImageCollection._from_apply("wf.ImageCollection.tail", self, n)

    @typecheck(i=Int)
    def partition(self, i) -> Tuple:
        """The images before index ``i`` and those from ``i`` on.

        Parameters
        ----------
        i : Int

        Returns
        -------
        Tuple[ImageCollection, ImageCollection]
            Unpacks into two: ``head, tail = col.partition(1)``.

        Example
        -------
        >>> head, tail = wf.ImageCollection.from_id("sample:s2").partition(1)
        """
        return Tuple[ImageCollection, ImageCollection]._from_apply(
            "wf.ImageCollection.partition", self, i
        )

    @typecheck(func=FUNCTION)
    def map(self, func):
        """Apply ``func`` to each Image.

        Parameters
        ----------
        func : callable
            Takes an Image, returns a proxy (an Image, a number, a Dict ...).

        Returns
        -------
        ImageCollection or List
            An ImageCollection when ``func`` returns Images (empty results dropped), else a
            List of its results (an empty List for an empty collection).

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2")
        >>> type(col.map(lambda img: img.properties["date"])).__name__
        'List[Datetime]'
        """
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
        """The images for which ``func`` returns True (none: the empty ImageCollection).

        Parameters
        ----------
        func : callable
            Takes an Image, returns a Bool (combine tests with ``&`` and ``|``).

        Returns
        -------
        ImageCollection

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2")
        >>> clear = col.filter(lambda img: img.properties["cloud_fraction"] < 0.2)
        """
        fn = as_function(func, Image)
        if not issubclass(fn.return_type, (Bool, Any)):
            raise ProxyTypeError(f"filter function must return Bool, not {fn.return_type.__name__}")
        return ImageCollection._from_apply("wf.filter", self, fn)

    @typecheck(key=FUNCTION, reverse=Bool)
    def sorted(self, key, reverse=False) -> ImageCollection:
        """A copy sorted by ``key(image)``.

        Parameters
        ----------
        key : callable
            Takes an Image, returns a value to sort by.
        reverse : Bool, default False
            Descending instead of ascending.

        Returns
        -------
        ImageCollection

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2")
        >>> clearest_first = col.sorted(lambda img: img.properties["cloud_fraction"])
        """
        fn = as_function(key, Image)
        return ImageCollection._from_apply("wf.sorted", self, fn, reverse=reverse)

    @typecheck(func=FUNCTION)
    def reduce(self, func, initial=NO_INITIAL):
        """Fold the images into one value with ``func(accumulated, image)``.

        Parameters
        ----------
        func : callable
            Takes the value so far and the next Image, returns the new value.
        initial : optional
            The first value; by default the first image (None is a value like any other).

        Returns
        -------
        The type ``func`` returns

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2").pick_bands("red")
        >>> brightest = col.reduce(lambda acc, img: wf.where(img > acc, img, acc))
        """
        return reduce_items(self, Image, func, initial)

    @typecheck(reverse=Bool)
    def mosaic(self, reverse=False) -> Image:
        """One Image: each pixel from the last image that has data there.

        Parameters
        ----------
        reverse : Bool, default False
            Take the first image with data instead (the first image on top).

        Returns
        -------
        Image

        Example
        -------
        >>> latest_on_top = wf.ImageCollection.from_id("sample:s2").mosaic()
        """
        return Image._from_apply("wf.mosaic", self, reverse=reverse)

    @typecheck(band=(Str, Kind("ImageCollection", lambda v: ImageCollection._promote(v))))
    def sortby_composite(self, band, operation="argmax") -> Image:
        """One Image taking, per pixel, all bands from the image where ``band`` is largest.

        Parameters
        ----------
        band : Str or ImageCollection
            A band name of this collection, or a 1-band ImageCollection of the same length.
        operation : {"argmax", "argmin"}, default "argmax"
            Take the image with the largest or the smallest value.

        Returns
        -------
        Image
            Masked where the sort band is masked in every image.

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2")
        >>> greenest = col.sortby_composite("nir")
        """
        if not isinstance(literal(operation), str):
            raise argument_error("ImageCollection.sortby_composite", "operation", "Str", operation)
        if literal(operation) not in ("argmax", "argmin"):
            raise ValueError(f"operation must be 'argmax' or 'argmin', not {literal(operation)!r}")
        return Image._from_apply("wf.ImageCollection.sortby_composite", self, band, operation)

    @typecheck(func=FUNCTION, back=Int, fwd=Int)
    def map_window(self, func, back=0, fwd=0):
        """Apply ``func(back_images, image, fwd_images)`` over a sliding window.

        The window is ``back`` + 1 + ``fwd`` images long and slides from index ``back`` to
        ``fwd`` images before the end; a window longer than the collection is an error.

        Parameters
        ----------
        func : callable
            Takes an ImageCollection (the ``back`` images before), the Image, and an
            ImageCollection (the ``fwd`` images after).
        back, fwd : Int, default 0
            How many images before and after.

        Returns
        -------
        ImageCollection or List
            Imagery results concatenated into one ImageCollection; others a List.

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2")
        >>> smoothed = col.map_window(
        ...     lambda b, img, f: wf.concat(b, img, f).mean(axis="images"), back=1, fwd=1)
        """
        for name, value in (("back", literal(back)), ("fwd", literal(fwd))):
            if isinstance(value, int) and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        fn = as_function(func, ImageCollection, Image, ImageCollection)
        ret = fn.return_type
        result = ImageCollection if issubclass(ret, (Image, ImageCollection)) else List[ret]
        return result._from_apply("wf.ImageCollection.map_window", self, fn, back, fwd)

    def groupby(self, func=None, dates=None):
        """Group the images by a key: ``func(image)``, or parts of their date.

        Parameters
        ----------
        func : callable, optional
            Takes an Image, returns its group's key.
        dates : str or tuple of str, optional
            Instead of ``func``: ``"year"``, ``"month"``, ``"day"`` ... or a tuple of them.

        Returns
        -------
        ImageCollectionGroupby
            Parametrized by the key type; each image gets a ``group`` property.

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2")
        >>> type(col.groupby(dates="month")).__name__
        'ImageCollectionGroupby[Int]'
        """
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
        """A map layer (``WorkflowsLayer``) of this collection reduced to an Image.

        Parameters
        ----------
        name, scales, colormap, checkerboard, log_level, **parameter_overrides
            As for :meth:`Image.tile_layer`.
        reduction : str, default "mosaic"
            ``"mosaic"``, ``"min"``, ``"max"``, ``"mean"``, ``"median"``, ``"sum"``,
            ``"std"`` or ``"count"``: applied before scaling and colouring.

        Returns
        -------
        WorkflowsLayer

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2").pick_bands("red green blue")
        >>> layer = col.tile_layer("rgb", [[0, 0.3]] * 3, None, "median")  # doctest: +SKIP
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
        """Show this collection, reduced to an Image, on ``wf.map`` (or ``map``).

        Parameters
        ----------
        name, scales, colormap, reduction, checkerboard, log_level, **parameter_overrides
            As for :meth:`tile_layer`; a layer of the same name is updated in place.
        map : Map or MapApp, optional
            Another map than ``wf.map``.

        Returns
        -------
        WorkflowsLayer

        Example
        -------
        >>> col = wf.ImageCollection.from_id("sample:s2").pick_bands("red")
        >>> col.visualize("red", reduction="max", colormap="magma")  # doctest: +SKIP
        """
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
