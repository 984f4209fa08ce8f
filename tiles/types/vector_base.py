"""What every vector proxy shares: promotion from GeoJSON (checked, and carried in the graft as
one literal) and the methods of collections (``map``, ``filter``, ``sorted``, ``reduce``,
``length``, ``contains``).

The proxies themselves are in :mod:`tiles.types.geometry` (Geometry, GeometryCollection) and
:mod:`tiles.types.vector` (Feature, FeatureCollection, ``load_geojson``).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from typing import Any as _Any

from tiles.errors import ProxyTypeError
from tiles.types.arguments import FUNCTION, promote, typecheck
from tiles.types.containers import NO_INITIAL, List, reduce_items
from tiles.types.core import Proxytype
from tiles.types.function import as_function
from tiles.types.geojson import GEOMETRY_TYPES, GeoJSONError, check_geojson, check_size
from tiles.types.primitives import Any, Bool, Int

#: The GeoJSON geometry types a Geometry holds (all but GeometryCollection).
SIMPLE_TYPES = tuple(t for t in GEOMETRY_TYPES if t != "GeometryCollection")


def mapping_of(obj: _Any, what: str) -> Mapping:
    """``obj`` itself when a mapping, else its ``__geo_interface__``."""
    if isinstance(obj, Mapping):
        return obj
    interface = getattr(obj, "__geo_interface__", None)
    if interface is None:
        raise ProxyTypeError(
            f"{what} needs a GeoJSON mapping or an object with __geo_interface__, "
            f"not {builtins.type(obj).__name__}"
        )
    return interface


def plain_json(obj: _Any) -> _Any:
    """GeoJSON as plain JSON data (tuples from __geo_interface__ become lists)."""
    return json.loads(json.dumps(obj))


def geojson_literal(obj: _Any, what: str) -> Any:
    """Already validated GeoJSON data, size-checked, as one literal of the graft."""
    check_size(obj, what)
    # Wrapped as a value graft so that no dict (e.g. properties with a "returns" key) is ever
    # taken for a graft.
    return Any._promote(plain_json(obj))


def is_literal(value: _Any) -> bool:
    """Whether ``value`` holds no proxies (so it can go into the graft as one literal)."""
    if isinstance(value, Proxytype):
        return False
    if isinstance(value, Mapping):
        return all(is_literal(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(is_literal(v) for v in value)
    return True


def nested_list(value: _Any) -> Any:
    """Nested lists holding proxies (e.g. a parameter as a coordinate) as a lazy list."""
    if isinstance(value, (list, tuple)) and not is_literal(value):
        return List[Any]([nested_list(v) for v in value])
    return Any._promote(value)


def class_name_for(gtype: str) -> str:
    """The proxy class that holds GeoJSON of type ``gtype`` (for messages)."""
    return "Geometry" if gtype in SIMPLE_TYPES else gtype


class VectorProxy(Proxytype):
    """Shared behaviour: promotion from GeoJSON and rasterizing into an Image."""

    _geojson_types: tuple = ()

    @classmethod
    def from_geojson(cls, geojson: Mapping) -> _Any:
        """Construct from a GeoJSON mapping of this class's kind, checked now.

        Parameters
        ----------
        geojson : dict
            GeoJSON (lon/lat) under 10 MiB of serialized JSON; a bad type, nesting, unclosed
            ring or non-numeric coordinate is a GeoJSONError naming where it is.

        Returns
        -------
        Same type as the class

        Example
        -------
        >>> feat = wf.Feature.from_geojson({"type": "Feature", "properties": {"a": 1},
        ...     "geometry": {"type": "Point", "coordinates": [1, 2]}})
        """
        if not isinstance(geojson, Mapping):
            raise GeoJSONError(f"expected a GeoJSON mapping, not {builtins.type(geojson).__name__}")
        gtype = check_geojson(geojson)
        if gtype not in cls._geojson_types:
            raise GeoJSONError(
                f"{cls.__name__}.from_geojson got GeoJSON of type {gtype!r}; use "
                f"{class_name_for(gtype)}.from_geojson or wf.load_geojson"
            )
        check_size(geojson, f"{gtype} GeoJSON")
        return cls._from_checked(plain_json(geojson))

    @classmethod
    def _from_checked(cls, geojson: dict) -> _Any:
        raise NotImplementedError

    @classmethod
    def _promote(cls, obj: _Any) -> _Any:
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, Any):
            return cls._from_graft(obj.graft, obj.params)
        if isinstance(obj, Proxytype):
            raise ProxyTypeError(f"expected {cls.__name__}, got {builtins.type(obj).__name__}")
        try:
            return cls.from_geojson(mapping_of(obj, cls.__name__))
        except GeoJSONError as e:
            raise ProxyTypeError(f"cannot promote to {cls.__name__}: {e}") from None


class CollectionMethods:
    """``map``, ``filter``, ``sorted``, ``reduce``, ``length`` and ``contains`` of a collection.

    Results that are collections again are rebuilt with the collection's constructor, so a
    filtered FeatureCollection is still a FeatureCollection when computed.
    """

    _item_type: type
    _items_field: str
    _create: str

    def _rebuild(self, items: Proxytype) -> _Any:
        return builtins.type(self)._from_apply(self._create, **{self._items_field: items})

    def length(self) -> Int:
        """The number of items.

        Returns
        -------
        Int
        """
        return Int._from_apply("wf.length", self)

    def contains(self, other: _Any) -> Bool:
        """Whether ``other`` (an item, compared by content) is in this collection.

        Parameters
        ----------
        other : an item, or GeoJSON of one

        Returns
        -------
        Bool
        """
        where = f"{builtins.type(self).__name__}.contains"
        return Bool._from_apply(
            "wf.contains", self, promote(other, self._item_type, where, "other")
        )

    @typecheck(func=FUNCTION)
    def map(self, func: _Any) -> _Any:
        """Apply ``func`` to each item.

        Parameters
        ----------
        func : callable
            Takes an item.

        Returns
        -------
        Same type as self, or List
            The same kind of collection when ``func`` returns items, else a List.
        """
        fn = as_function(func, self._item_type)
        mapped = List[fn.return_type]._from_apply("wf.map", self, fn)
        if issubclass(fn.return_type, self._item_type):
            return self._rebuild(mapped)
        return mapped

    @typecheck(func=FUNCTION)
    def filter(self, func: _Any) -> _Any:
        """The items for which ``func`` returns True.

        Parameters
        ----------
        func : callable
            Takes an item, returns a Bool.

        Returns
        -------
        Same type as self
        """
        fn = as_function(func, self._item_type)
        if not issubclass(fn.return_type, (Bool, Any)):
            raise ProxyTypeError(f"filter function must return Bool, not {fn.return_type.__name__}")
        return self._rebuild(List[self._item_type]._from_apply("wf.filter", self, fn))

    @typecheck(key=(FUNCTION, None), reverse=Bool)
    def sorted(self, key: _Any = None, reverse: _Any = False) -> _Any:
        """A copy sorted by ``key(item)`` (or the items themselves).

        Parameters
        ----------
        key : callable, optional
            Takes an item, returns what to sort by.
        reverse : Bool, default False
            Descending instead of ascending.

        Returns
        -------
        Same type as self
        """
        if key is None:
            items = List[self._item_type]._from_apply("wf.sorted", self, reverse=reverse)
        else:
            fn = as_function(key, self._item_type)
            items = List[self._item_type]._from_apply("wf.sorted", self, fn, reverse=reverse)
        return self._rebuild(items)

    @typecheck(func=FUNCTION)
    def reduce(self, func: _Any, initial: _Any = NO_INITIAL) -> _Any:
        """Fold the items into one value with ``func(accumulated, item)``.

        Parameters
        ----------
        func : callable
            Takes the value so far and the next item.
        initial : optional
            The first value; by default the first item (None is a value like any other).

        Returns
        -------
        The type ``func`` returns
        """
        return reduce_items(self, self._item_type, func, initial)
