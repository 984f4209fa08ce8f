"""What Image and ImageCollection share: operators, band and mask methods, metadata,
value rescaling, reductions and maps (:class:`ImageryMixin`; the method factories are in
:mod:`tiles.types.imagery_methods`).

In the examples, ``ctx`` is a GeoContext over the sample catalog, for instance
``wf.scenes.AOI(bounds=(-105.95, 35.66, -105.93, 35.68), crs="EPSG:32613", resolution=60)``.
"""

from __future__ import annotations

import logging
from typing import Any as _Any

from tiles.display import REDUCTIONS, colormap_names
from tiles.types.arguments import (
    ANY_VALUE,
    FUNCTION,
    MAPPING,
    argument_error,
    literal,
    promote,
    typecheck,
)
from tiles.types.arrays import MaskedArray
from tiles.types.containers import Dict, KnownDict, List, Tuple
from tiles.types.core import Proxytype, backend
from tiles.types.function import as_function
from tiles.types.imagery_methods import (
    band_names,
    binary_method,
    collection_type,
    imagery_types,
    normalize_axis,
    reduction_method,
    unary_method,
)
from tiles.types.primitives import NUMBER, Any, Bool, Float, Int, Str

BandInfo = Dict[
    Str, KnownDict[{"id": Str, "name": Str, "data_range": Tuple[Float, Float]}, Str, Any]
]


class ImageryMixin:
    """Operators and methods Image and ImageCollection share.

    Operators (``+ - * / // % ** < <= > >= == != & | ^ << >> - + abs ~``) work element-wise
    between imagery and numbers or other imagery; bands pair by name, a 1-band operand
    meets every band, an Image meets every image of an ImageCollection.
    """

    _AXES: tuple = ()

    # -- operators (builtin names as the original client emits them) --
    __add__ = binary_method("wf.add")
    __radd__ = binary_method("wf.add", reflected=True)
    __sub__ = binary_method("wf.sub")
    __rsub__ = binary_method("wf.sub", reflected=True)
    __mul__ = binary_method("wf.mul")
    __rmul__ = binary_method("wf.mul", reflected=True)
    __truediv__ = binary_method("wf.div")
    __rtruediv__ = binary_method("wf.truediv", reflected=True)
    __floordiv__ = binary_method("wf.floordiv")
    __rfloordiv__ = binary_method("wf.floordiv", reflected=True)
    __mod__ = binary_method("wf.mod")
    __rmod__ = binary_method("wf.mod", reflected=True)
    __pow__ = binary_method("wf.pow")
    __rpow__ = binary_method("wf.pow", reflected=True)
    __lt__ = binary_method("wf.lt")
    __le__ = binary_method("wf.le")
    __gt__ = binary_method("wf.gt")
    __ge__ = binary_method("wf.ge")
    __eq__ = binary_method("wf.eq")
    __ne__ = binary_method("wf.ne")
    __and__ = binary_method("wf.and")
    __rand__ = binary_method("wf.and", reflected=True)
    __or__ = binary_method("wf.or")
    __ror__ = binary_method("wf.or", reflected=True)
    __xor__ = binary_method("wf.xor")
    __rxor__ = binary_method("wf.xor", reflected=True)
    __lshift__ = binary_method("wf.lshift")
    __rshift__ = binary_method("wf.rshift")
    __neg__ = unary_method("wf.neg", operator=True)
    __pos__ = unary_method("wf.pos", operator=True)
    __abs__ = unary_method("wf.abs", operator=True)
    __invert__ = unary_method("wf.invert", operator=True)
    __hash__ = Proxytype.__hash__

    log = unary_method("wf.log")
    log2 = unary_method("wf.log2")
    log10 = unary_method("wf.log10")
    log1p = unary_method("wf.log1p")
    sqrt = unary_method("wf.sqrt")
    cos = unary_method("wf.cos")
    arccos = unary_method("wf.arccos")
    sin = unary_method("wf.sin")
    arcsin = unary_method("wf.arcsin")
    tan = unary_method("wf.tan")
    arctan = unary_method("wf.arctan")
    exp = unary_method("wf.exp")
    square = unary_method("wf.square")

    @property
    def bandinfo(self) -> BandInfo:
        """Metadata of each band (``id``, ``name``, ``data_range`` ...), keyed by band name.

        Its order is the band order of the pixel array.
        """
        return BandInfo._from_apply("wf.getattr", self, "bandinfo")

    @property
    def nbands(self) -> Int:
        """The number of bands (0 for the empty Image)."""
        return Int._from_apply("wf.nbands", self)

    @property
    def ndarray(self) -> MaskedArray:
        """The pixel values, masked where there is no data.

        (bands, rows, cols) for an Image, (images, bands, rows, cols) for an ImageCollection.
        """
        return MaskedArray._from_apply("wf.getattr", self, "ndarray")

    # -- bands --
    @typecheck(allow_missing=Bool)
    def pick_bands(self, bands, allow_missing=False):
        """New imagery with only the given bands, in the given order.

        Parameters
        ----------
        bands : str or list of str
            Band names: a space-separated string (``"red green blue"``) or a list. A name
            may repeat; repeats are renamed ``red_1``, ``red_2`` ...
        allow_missing : Bool, default False
            Drop names the imagery lacks instead of failing; with none left, the result
            is empty.

        Returns
        -------
        Same type as self

        Example
        -------
        >>> img = wf.Image.from_id("sample:s2:20230515_z13")
        >>> img.pick_bands("red nir").compute(ctx).bandinfo.keys()
        odict_keys(['red', 'nir'])
        """
        where = f"{type(self).__name__}.pick_bands"
        names = band_names(bands)
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
        """One single-band imagery per name, as a Python tuple to unpack.

        Parameters
        ----------
        bands : str or list of str
            Band names, space-separated or a list.

        Returns
        -------
        tuple
            ``self.pick_bands(name)`` for each name.

        Example
        -------
        >>> red, nir = wf.Image.from_id("sample:s2:20230515_z13").unpack_bands("red nir")
        >>> type(red).__name__
        'Image'
        """
        names = band_names(bands)
        if names is None:
            where = f"{type(self).__name__}.unpack_bands"
            raise argument_error(where, "bands", "str or list of str", bands)
        return tuple(self.pick_bands(name) for name in names)

    def rename_bands(self, *new_positional_names, **new_names):
        """New imagery with bands renamed, by position or by name (not both).

        Parameters
        ----------
        *new_positional_names : Str
            New names in band order: the i-th renames the i-th band (one per band).
        **new_names : Str
            ``old=new`` pairs; other bands keep their names.

        Returns
        -------
        Same type as self
            Bandinfo moves with the bands; renaming onto a name another band keeps fails.

        Example
        -------
        >>> img = wf.Image.from_id("sample:s2:20230515_z13").pick_bands("red nir")
        >>> renamed = img.rename_bands(red="r")
        >>> renamed.compute(ctx).bandinfo.keys()
        odict_keys(['r', 'nir'])
        """
        where = f"{type(self).__name__}.rename_bands"
        if new_positional_names and new_names:
            raise TypeError(f"{where} takes names by position or by keyword, not both")
        if new_names:
            mapping = {old: promote(new, Str, where, old) for old, new in new_names.items()}
            return type(self)._from_apply("wf.rename_bands", self, Dict[Str, Str](mapping))
        names = [promote(n, Str, where, "new_positional_names") for n in new_positional_names]
        return type(self)._from_apply("wf.rename_bands_positionally", self, List[Str](names))

    def concat_bands(self, other_image):
        """New imagery with the bands of ``other_image`` after its own.

        Parameters
        ----------
        other_image : Image or ImageCollection
            Its names that clash with this imagery's get the suffix ``_1``. An
            ImageCollection gives an ImageCollection (of the same length, when both are).

        Returns
        -------
        Image or ImageCollection
            Empty when either is empty.

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> type(dem.concat_bands(dem)).__name__
        'Image'
        """
        return self._concat_bands(other_image, "other_image")

    def _concat_bands(self, other: _Any, argument: str) -> _Any:
        other = promote(other, imagery_types(), f"{type(self).__name__}.concat_bands", argument)
        collection = collection_type()
        result = collection if isinstance(other, collection) else type(self)
        return result._from_apply("wf.concat_bands", self, other)

    @typecheck(func=FUNCTION)
    def map_bands(self, func):
        """Apply ``func(name, band)`` to each band, as 1-band imagery.

        Parameters
        ----------
        func : callable
            Takes the band name (Str) and the band (1-band imagery of this type).

        Returns
        -------
        Same type as self, or Dict[Str, T]
            When ``func`` returns imagery, the results' bands concatenated (their names must
            be unique; an empty result empties it all); otherwise a Dict of band name to
            ``func``'s result.

        Example
        -------
        >>> img = wf.Image.from_id("sample:s2:20230515_z13")
        >>> type(img.map_bands(lambda name, band: band * 2)).__name__
        'Image'
        """
        fn = as_function(func, Str, type(self))
        if issubclass(fn.return_type, ImageryMixin):
            return type(self)._from_apply("wf.map_bands_imagery", self, fn)
        return Dict[Str, fn.return_type]._from_apply("wf.map_bands", self, fn)

    # -- masks --
    @typecheck(replace=Bool)
    def mask(self, mask, replace=False):
        """New imagery with pixels masked where ``mask`` is True.

        Parameters
        ----------
        mask : Image, ImageCollection, Geometry, Feature or FeatureCollection
            Boolean imagery (one band applies to every band); masked pixels of ``mask``
            count as False. A vector masks the pixels outside it.
        replace : Bool, default False
            Replace the current mask instead of adding to it; then ``mask``'s own masked
            pixels become masked.

        Returns
        -------
        Same type as self, or ImageCollection for an ImageCollection mask
            An empty mask leaves the imagery unchanged; empty imagery stays empty.

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> high = dem.mask(dem < 2000)
        """
        if isinstance(mask, Proxytype) and hasattr(mask, "rasterize"):
            mask = mask.rasterize().getmask()
        if not isinstance(mask, ImageryMixin):
            raise argument_error(
                f"{type(self).__name__}.mask",
                "mask",
                "Image, ImageCollection, Geometry, Feature or FeatureCollection",
                mask,
            )
        collection = collection_type()
        result = collection if isinstance(mask, collection) else type(self)
        return result._from_apply("wf.mask", self, mask, replace=replace)

    def getmask(self):
        """The mask as imagery with one boolean band named ``mask`` (True where masked).

        Returns
        -------
        Same type as self
            Bandinfo ``{"mask": {}}``, properties kept; the empty stays empty.

        Example
        -------
        >>> mask = wf.Image.from_id("sample:dem:santa_fe").getmask()
        """
        return type(self)._from_apply("wf.getmask", self)

    # -- metadata --
    @typecheck(properties=ANY_VALUE)
    def with_properties(self, **properties):
        """New imagery with the given properties added (or replaced).

        Parameters
        ----------
        **properties
            Property name = value (proxies or plain Python values); for an ImageCollection
            they are set on every image.

        Returns
        -------
        Same type as self

        Example
        -------
        >>> img = wf.Image.from_id("sample:dem:santa_fe").with_properties(source="dem")
        >>> img.properties["source"].compute(ctx)
        'dem'
        """
        return type(self)._from_apply("wf.with_properties", self, **properties)

    @typecheck(property_keys=Str)
    def without_properties(self, *property_keys):
        """New imagery without the given properties (missing ones are ignored).

        Parameters
        ----------
        *property_keys : Str
            Property names to drop.

        Returns
        -------
        Same type as self

        Example
        -------
        >>> img = wf.Image.from_id("sample:dem:santa_fe").without_properties("crs", "geotrans")
        """
        return type(self)._from_apply("wf.without_properties", self, *property_keys)

    @typecheck(band=Str, bandinfo=ANY_VALUE)
    def with_bandinfo(self, band, **bandinfo):
        """New imagery with fields added to (or replaced in) one band's bandinfo.

        Parameters
        ----------
        band : Str
            The band's name.
        **bandinfo
            Field name = value.

        Returns
        -------
        Same type as self

        Example
        -------
        >>> img = wf.Image.from_id("sample:dem:santa_fe").with_bandinfo("elevation", unit="m")
        """
        return type(self)._from_apply("wf.with_bandinfo", self, band, **bandinfo)

    @typecheck(band=Str, bandinfo_keys=Str)
    def without_bandinfo(self, band, *bandinfo_keys):
        """New imagery with fields dropped from one band's bandinfo (missing ones are ignored).

        Parameters
        ----------
        band : Str
            The band's name.
        *bandinfo_keys : Str
            Fields to drop.

        Returns
        -------
        Same type as self

        Example
        -------
        >>> img = wf.Image.from_id("sample:dem:santa_fe")
        >>> plain = img.without_bandinfo("elevation", "description")
        """
        return type(self)._from_apply("wf.without_bandinfo", self, band, *bandinfo_keys)

    # -- values --
    @typecheck(min=(*NUMBER, List[Float], None), max=(*NUMBER, List[Float], None))
    def clip_values(self, min=None, max=None):  # noqa: A002 - the documented names
        """New imagery with values clipped to ``[min, max]``.

        Parameters
        ----------
        min : Float, List[Float] or None, default None
            Lower bound: one for every band, or a list with one per band. None: no bound.
        max : Float, List[Float] or None, default None
            Upper bound, likewise. ``min`` and ``max`` cannot both be None.

        Returns
        -------
        Same type as self
            Masks and metadata kept; the empty stays empty.

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> valley = dem.clip_values(max=2000)
        """
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
        """New imagery with values mapped linearly from a domain onto ``[range_min, range_max]``.

        Parameters
        ----------
        range_min, range_max : Float
            Where the domain's ends go.
        domain_min, domain_max : Float, optional
            The domain; by default each band's own minimum and maximum (per image for an
            ImageCollection). Values outside an explicit domain land on the range's ends.

        Returns
        -------
        Same type as self
            float64 values; masks and metadata kept.

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> unit = dem.scale_values(0, 1)
        """
        return type(self)._from_apply(
            "wf.scale_values", self, range_min, range_max, domain_min, domain_max
        )

    @typecheck(named_colormap=Str, vmin=(*NUMBER, None), vmax=(*NUMBER, None))
    def colormap(self, named_colormap="viridis", vmin=None, vmax=None):
        """Colour one band with a matplotlib colormap into bands ``red``, ``green``, ``blue``.

        Parameters
        ----------
        named_colormap : Str, default "viridis"
            A matplotlib colormap name.
        vmin, vmax : Float, optional
            The values at the colormap's ends, both or neither; by default each image's
            own minimum and maximum.

        Returns
        -------
        Same type as self
            Three float64 bands in [0, 1], masked where the input is.

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> shaded = dem.colormap("terrain", vmin=1500, vmax=3500)
        """
        name = literal(named_colormap)
        if isinstance(name, str) and name not in colormap_names():
            raise ValueError(f"unknown colormap {name!r}")
        if (vmin is None) != (vmax is None):
            raise ValueError("colormap takes both vmin and vmax, or neither")
        return type(self)._from_apply("wf.colormap", self, named_colormap, vmin, vmax)

    @typecheck(mask=Bool, bandinfo=(MAPPING, None))
    def replace_empty_with(self, fill, mask=True, bandinfo=None):
        """This imagery, or ``fill`` in its place when it is empty.

        Parameters
        ----------
        fill : Int, Float, Bool, or imagery of the same type
            A number fills every pixel of the GeoContext, in one band per ``bandinfo``
            entry (an ImageCollection gets one such image and no properties).
        mask : Bool, default True
            Mask all the filling pixels (imagery fill: keep its mask when False).
        bandinfo : dict, optional
            Band names (and metadata) of a number fill; ignored for imagery.

        Returns
        -------
        Same type as self

        Example
        -------
        >>> empty = wf.ImageCollection.from_id("sample:s2", "2020-01-01", "2020-02-01")
        >>> filled = empty.replace_empty_with(0, bandinfo={"red": {}})
        """
        where = f"{type(self).__name__}.replace_empty_with"
        fill = promote(fill, (Int, Float, Bool, type(self)), where, "fill")
        return type(self)._from_apply(
            f"wf.{type(self).__name__}.replace_empty_with", self, fill, mask, bandinfo
        )

    # -- reductions --
    def _reduce(self, operation: str, axis):
        axis = normalize_axis(axis, self._AXES)
        return self._reduction_type(axis)._from_apply(f"wf.{operation}", self, axis=axis)

    def reduction(self, operation, axis=None):
        """Reduce with a named operation along ``axis``, like ``min``, ``max`` ...

        Parameters
        ----------
        operation : str
            ``"min"``, ``"max"``, ``"mean"``, ``"median"``, ``"sum"``, ``"std"`` or
            ``"count"``; an ImageCollection also takes ``"mosaic"`` (with axis="images").
        axis : None, str or tuple of str
            As for :meth:`mean`.

        Returns
        -------
        Float, Dict, List, Image or ImageCollection
            Depending on ``axis``.

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> type(dem.reduction("max", axis="pixels")).__name__
        'Dict[Str, Float]'
        """
        allowed = REDUCTIONS + (("mosaic",) if isinstance(self, collection_type()) else ())
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
        axis_value = normalize_axis(axis, self._AXES)
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
        """The (row, col) of the pixel holding the point (x, y) of the GeoContext's CRS.

        Parameters
        ----------
        x, y : Float
            Coordinates in the CRS of the GeoContext computed with.

        Returns
        -------
        Tuple[Int, Int]

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> dem.coords_to_index(412980.0, 3953010.0).compute(ctx)
        (0, 0)
        """
        return Tuple[Int, Int]._from_apply("wf.coords_to_index", self, x, y)

    @typecheck(row=Int, col=Int)
    def index_to_coords(self, row, col) -> Tuple:
        """The (x, y) of the upper-left corner of pixel (row, col), in the GeoContext's CRS.

        Parameters
        ----------
        row, col : Int
            Pixel indices.

        Returns
        -------
        Tuple[Float, Float]

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> corner = dem.index_to_coords(0, 0)
        """
        return Tuple[Float, Float]._from_apply("wf.index_to_coords", self, row, col)

    def concat(self, *imgs):
        """An ImageCollection of this imagery followed by ``imgs``.

        Parameters
        ----------
        *imgs : Image or ImageCollection
            With the same band names. Empty ones are left out.

        Returns
        -------
        ImageCollection
            Images and their properties in order; bandinfo merged per band.

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> type(dem.concat(dem, dem)).__name__
        'ImageCollection'
        """
        where = f"{type(self).__name__}.concat"
        others = [promote(i, imagery_types(), where, "imgs") for i in imgs]
        return collection_type()._from_apply("wf.concat", self, *others)

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
        """A map layer (``WorkflowsLayer``) showing this imagery, added to no map.

        Parameters
        ----------
        name : str, optional
            The layer's name.
        scales : list of [min, max], optional
            One pair per band (up to 3) stretched to 0-255; by default each band's range.
        colormap : str, optional
            A colormap name for 1-band imagery.
        checkerboard : bool, default True
            Show a checkerboard where pixels are masked.
        log_level : int, default logging.DEBUG
            The lowest level of log records from computing tiles to show.
        **parameter_overrides
            Values (or ipywidgets) for the parameters the imagery depends on.

        Returns
        -------
        WorkflowsLayer
            Its ``url`` is the tile URL template with these settings.

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> layer = dem.tile_layer("dem", scales=[[1500, 3500]])  # doctest: +SKIP
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
        """Show this imagery on ``wf.map`` (or ``map``), replacing a layer of the same name.

        Parameters
        ----------
        name : str
            The layer's name; a layer of that name is updated in place.
        scales, colormap, checkerboard, log_level, **parameter_overrides
            As for :meth:`tile_layer`.
        map : Map or MapApp, optional
            Another map than ``wf.map``.

        Returns
        -------
        WorkflowsLayer

        Example
        -------
        >>> dem = wf.Image.from_id("sample:dem:santa_fe")
        >>> dem.visualize("dem", scales=[[1500, 3500]], colormap="terrain")  # doctest: +SKIP
        """
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
