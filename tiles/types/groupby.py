"""ImageCollectionGroupby: an ImageCollection split into groups by a key function."""

from __future__ import annotations

from tiles.types.arguments import FUNCTION, promote, typecheck
from tiles.types.containers import Dict, Tuple
from tiles.types.core import GenericProxytype
from tiles.types.function import as_function
from tiles.types.imagery import Image, ImageCollection
from tiles.types.imagery_methods import normalize_axis, reduction_method
from tiles.types.primitives import Any, Bool, Int

_DATE_FIELDS = ("year", "month", "day", "hour", "minute", "second", "microsecond")


class ImageCollectionGroupby(GenericProxytype):
    """Dict-like groups of an ImageCollection; build it with ``ImageCollection.groupby``.

    Reductions (``mean`` ...) and ``mosaic`` apply to each group and combine the results;
    indexing with a missing key gives the empty ImageCollection, an empty collection gives
    empty groups.

    The type parameter is the type of the group keys: ``col.groupby(dates="month")`` is an
    ``ImageCollectionGroupby[Int]``.
    """

    def __init__(self, imgs, func):
        """Group ``imgs`` by ``func(image)``; ``ImageCollection.groupby`` is the usual way.

        Parameters
        ----------
        imgs : ImageCollection
        func : callable
            Takes an Image, returns its group's key.
        """
        obj = ImageCollectionGroupby._create(imgs, func, None)
        self.__class__ = type(obj)
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _needs_params(cls) -> bool:
        return False

    def compute(self, *args, **kwargs):
        """Compute the groups: a dict of group key to ImageCollectionResult, in key order.

        Takes the same arguments as :meth:`Proxytype.compute`.
        """
        return super().compute(*args, **kwargs)

    @property
    def key_type(self) -> type:
        """The type of the group keys (the key function's return type)."""
        params = type(self)._type_params
        return params[0] if params else Any

    @classmethod
    def _create(cls, imgs: ImageCollection, func, dates) -> ImageCollectionGroupby:
        imgs = promote(imgs, ImageCollection, "ImageCollection.groupby", "imgs")
        if (func is None) == (dates is None):
            raise TypeError("groupby takes a key function or dates=, exactly one of them")
        if func is not None:
            func = promote(func, FUNCTION, "ImageCollection.groupby", "func")
        if dates is not None:
            fields = (dates,) if isinstance(dates, str) else tuple(dates)
            for field in fields:
                if field not in _DATE_FIELDS:
                    raise ValueError(f"invalid dates field {field!r}; expected {_DATE_FIELDS}")

            def func(img):
                date = img.properties["date"]
                parts = [getattr(date, f) for f in fields]
                return parts[0] if len(parts) == 1 else Tuple[tuple(Int for _ in parts)](parts)

        fn = as_function(func, Image)
        keyed = ImageCollectionGroupby[fn.return_type]
        return keyed._from_apply("wf.ImageCollectionGroupby.create", imgs, fn)

    @property
    def groups(self) -> Dict:
        """The groups: a Dict of group key to its ImageCollection, in key order."""
        return Dict[self.key_type, ImageCollection]._from_apply(
            "wf.ImageCollectionGroupby.groups", self
        )

    def __getitem__(self, key) -> ImageCollection:
        """The ImageCollection of group ``key`` (empty when there is no such group)."""
        key = promote(key, self.key_type, f"{type(self).__name__}.__getitem__", "key")
        return ImageCollection._from_apply("wf.ImageCollectionGroupby.get", self, key)

    def one(self) -> Tuple:
        """One group's (key, ImageCollection), for checking what groups look like.

        Returns
        -------
        Tuple[key type, ImageCollection]
        """
        return Tuple[self.key_type, ImageCollection]._from_apply(
            "wf.ImageCollectionGroupby.one", self
        )

    @typecheck(func=FUNCTION)
    def map(self, func):
        """Apply ``func(key, imgs)`` to each group.

        Parameters
        ----------
        func : callable
            Takes the group's key and its ImageCollection.

        Returns
        -------
        ImageCollection or Dict
            Imagery results combined into one ImageCollection (each with its ``group``
            property), in key order; other results a Dict of key to result.

        Example
        -------
        >>> groups = wf.ImageCollection.from_id("sample:s2").groupby(dates="month")
        >>> type(groups.map(lambda month, imgs: imgs.length())).__name__
        'Dict[Int, Int]'
        """
        fn = as_function(func, self.key_type, ImageCollection)
        ret = fn.return_type
        if issubclass(ret, (Image, ImageCollection)):
            return ImageCollection._from_apply("wf.ImageCollectionGroupby.map_ic", self, fn)
        return Dict[self.key_type, ret]._from_apply("wf.ImageCollectionGroupby.map", self, fn)

    def _reduce(self, operation: str, axis):
        axis = normalize_axis(axis, ImageCollection._AXES)
        per_group = ImageCollection._reduction_type(axis)
        if issubclass(per_group, (Image, ImageCollection)):
            return ImageCollection._from_apply(
                "wf.ImageCollectionGroupby.reduce", self, operation, axis=axis
            )
        return Dict[self.key_type, per_group]._from_apply(
            "wf.ImageCollectionGroupby.reduce", self, operation, axis=axis
        )

    count = reduction_method("count")
    max = reduction_method("max")
    mean = reduction_method("mean")
    median = reduction_method("median")
    min = reduction_method("min")
    std = reduction_method("std")
    sum = reduction_method("sum")

    @typecheck(reverse=Bool)
    def mosaic(self, reverse=False) -> ImageCollection:
        """One mosaic per group, in key order.

        Parameters
        ----------
        reverse : Bool, default False
            As for ``ImageCollection.mosaic``.

        Returns
        -------
        ImageCollection
        """
        return ImageCollection._from_apply(
            "wf.ImageCollectionGroupby.mosaic", self, reverse=reverse
        )
