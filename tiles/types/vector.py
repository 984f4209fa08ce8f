"""Vector proxies: Geometry, GeometryCollection, Feature and FeatureCollection.

GeoJSON given as Python data is validated when the proxy is built (a bad type, wrong nesting, an
unclosed ring or a non-numeric coordinate is an error naming where it is) and travels in the
graft as one literal, so it must stay under the documented 10 MiB of serialized JSON. Use
``FeatureCollection.from_vector_id`` for larger data.

    >>> import tiles as wf
    >>> geom = wf.Geometry(type="Point", coordinates=[1, 2])
    >>> geom.compute()
    GeometryResult(type=Point, coordinates=[1, 2])
"""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Mapping
from typing import Any as _Any

from tiles.errors import ProxyTypeError
from tiles.types.arguments import FUNCTION, argument_error, literal, promote, typecheck
from tiles.types.containers import NO_INITIAL, Dict, List, reduce_items
from tiles.types.core import Proxytype
from tiles.types.function import as_function
from tiles.types.geojson import (
    GEOMETRY_TYPES,
    GeoJSONError,
    check_geojson,
    check_geometry,
    check_size,
)
from tiles.types.primitives import Any, Bool, Float, Int, Str

__all__ = [
    "Feature",
    "FeatureCollection",
    "Geometry",
    "GeometryCollection",
    "load_geojson",
    "load_geojson_file",
]

_SIMPLE_TYPES = tuple(t for t in GEOMETRY_TYPES if t != "GeometryCollection")
NUMBER = (Int, Float)
#: What rasterize burns: a number, or the name of a numeric property of each Feature.
BURN_VALUE = (Int, Float, Str)


def _mapping_of(obj: _Any, what: str) -> Mapping:
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


def _plain_json(obj: _Any) -> _Any:
    """GeoJSON as plain JSON data (tuples from __geo_interface__ become lists)."""
    return json.loads(json.dumps(obj))


def _literal(obj: _Any, what: str) -> Any:
    """Already validated GeoJSON data, size-checked, as one literal of the graft."""
    check_size(obj, what)
    # Wrapped as a value graft so that no dict (e.g. properties with a "returns" key) is ever
    # taken for a graft.
    return Any._promote(_plain_json(obj))


def _is_literal(value: _Any) -> bool:
    """Whether ``value`` holds no proxies (so it can go into the graft as one literal)."""
    if isinstance(value, Proxytype):
        return False
    if isinstance(value, Mapping):
        return all(_is_literal(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_is_literal(v) for v in value)
    return True


def _nested_list(value: _Any) -> Any:
    """Nested lists holding proxies (e.g. a parameter as a coordinate) as a lazy list."""
    if isinstance(value, (list, tuple)) and not _is_literal(value):
        return List[Any]([_nested_list(v) for v in value])
    return Any._promote(value)


class _Vector(Proxytype):
    """Shared behaviour: promotion from GeoJSON and rasterizing into an Image."""

    _geojson_types: tuple = ()

    @classmethod
    def from_geojson(cls, geojson: Mapping) -> _Any:
        """Construct from a GeoJSON mapping (under 10 MiB of serialized JSON)."""
        if not isinstance(geojson, Mapping):
            raise GeoJSONError(f"expected a GeoJSON mapping, not {builtins.type(geojson).__name__}")
        gtype = check_geojson(geojson)
        if gtype not in cls._geojson_types:
            raise GeoJSONError(
                f"{cls.__name__}.from_geojson got GeoJSON of type {gtype!r}; use "
                f"{_class_for(gtype).__name__}.from_geojson or wf.load_geojson"
            )
        check_size(geojson, f"{gtype} GeoJSON")
        return cls._from_checked(_plain_json(geojson))

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
            return cls.from_geojson(_mapping_of(obj, cls.__name__))
        except GeoJSONError as e:
            raise ProxyTypeError(f"cannot promote to {cls.__name__}: {e}") from None


class Geometry(_Vector):
    """Proxy GeoJSON Geometry: a ``type`` and ``coordinates`` (lon/lat).

    >>> import tiles as wf
    >>> wf.Geometry(type="Point", coordinates=[1, 2]).buffer(1).compute().type
    'Polygon'
    """

    _geojson_types = _SIMPLE_TYPES

    def __init__(self, type: _Any, coordinates: _Any) -> None:  # noqa: A002 - GeoJSON name
        if isinstance(type, str) and _is_literal(coordinates):
            if type == "GeometryCollection":
                raise GeoJSONError(
                    "use GeometryCollection(geometries=...) for a GeometryCollection"
                )
            check_geometry({"type": type, "coordinates": coordinates})
            coordinates = _literal(coordinates, f"{type} coordinates")
        elif isinstance(coordinates, (list, tuple)):
            coordinates = _nested_list(coordinates)
        type = promote(type, Str, "Geometry", "type")  # noqa: A001 - GeoJSON name
        obj = Geometry._from_apply("wf.Geometry.create", type=type, coordinates=coordinates)
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _from_checked(cls, geojson: dict) -> Geometry:
        return cls(geojson["type"], geojson["coordinates"])

    @classmethod
    def from_geo_interface(cls, obj: _Any) -> Geometry:
        """Construct from anything with ``__geo_interface__`` (shapely geometries, Features...).

        A Feature-like interface gives its geometry.
        """
        mapping = _mapping_of(obj, "Geometry.from_geo_interface")
        if mapping.get("type") == "Feature":
            mapping = mapping.get("geometry") or {}
        return cls.from_geojson(mapping)

    @property
    def type(self) -> Str:
        """The GeoJSON type, e.g. ``"Polygon"``."""
        return Str._from_apply("wf.getattr", self, "type")

    @property
    def coordinates(self) -> List:
        """The GeoJSON coordinates (nested lists of numbers)."""
        return List[Any]._from_apply("wf.getattr", self, "coordinates")

    @typecheck(distance=NUMBER)
    def buffer(self, distance: _Any) -> Geometry:
        """The area within ``distance`` decimal degrees of this geometry."""
        return Geometry._from_apply("wf.buffer", self, distance)

    @typecheck(value=NUMBER)
    def rasterize(self, value: _Any = 1) -> _Any:
        """An Image with one band ``features``: ``value`` inside, masked (and 0) outside.

        Rasterized in the computation's GeoContext (its CRS, resolution and all_touched).
        """
        from tiles.types.imagery import Image

        return Image._from_apply("wf.rasterize", self, value)


class _CollectionMixin:
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
        """The number of items."""
        return Int._from_apply("wf.length", self)

    def contains(self, other: _Any) -> Bool:
        """Whether ``other`` (an item, compared by content) is in this collection."""
        where = f"{builtins.type(self).__name__}.contains"
        return Bool._from_apply(
            "wf.contains", self, promote(other, self._item_type, where, "other")
        )

    @typecheck(func=FUNCTION)
    def map(self, func: _Any) -> _Any:
        """Apply ``func`` to each item: a collection again if it returns items, else a List."""
        fn = as_function(func, self._item_type)
        mapped = List[fn.return_type]._from_apply("wf.map", self, fn)
        if issubclass(fn.return_type, self._item_type):
            return self._rebuild(mapped)
        return mapped

    @typecheck(func=FUNCTION)
    def filter(self, func: _Any) -> _Any:
        """The items for which ``func`` returns True, as the same type of collection."""
        fn = as_function(func, self._item_type)
        if not issubclass(fn.return_type, (Bool, Any)):
            raise ProxyTypeError(f"filter function must return Bool, not {fn.return_type.__name__}")
        return self._rebuild(List[self._item_type]._from_apply("wf.filter", self, fn))

    @typecheck(key=(FUNCTION, None), reverse=Bool)
    def sorted(self, key: _Any = None, reverse: _Any = False) -> _Any:
        """A copy sorted by ``key(item)`` (ascending unless ``reverse``)."""
        if key is None:
            items = List[self._item_type]._from_apply("wf.sorted", self, reverse=reverse)
        else:
            fn = as_function(key, self._item_type)
            items = List[self._item_type]._from_apply("wf.sorted", self, fn, reverse=reverse)
        return self._rebuild(items)

    @typecheck(func=FUNCTION)
    def reduce(self, func: _Any, initial: _Any = NO_INITIAL) -> _Any:
        """Fold the items with ``func(accumulated, item)`` (starting from ``initial`` if given)."""
        return reduce_items(self, self._item_type, func, initial)


class GeometryCollection(_CollectionMixin, _Vector):
    """Proxy GeoJSON GeometryCollection constructed from a sequence of Geometries."""

    _geojson_types = ("GeometryCollection",)
    _item_type = Geometry
    _items_field = "geometries"
    _create = "wf.GeometryCollection.create"

    def __init__(self, geometries: _Any, type: str = "GeometryCollection") -> None:  # noqa: A002
        if type != "GeometryCollection":
            raise GeoJSONError(
                f"a GeometryCollection's type must be 'GeometryCollection', not {type!r}"
            )
        if isinstance(geometries, List):
            items: _Any = List[Geometry]._promote(geometries)
        elif _is_literal(geometries) and all(isinstance(g, Mapping) for g in geometries):
            check_geometry({"type": "GeometryCollection", "geometries": list(geometries)})
            items = _literal(list(geometries), "GeometryCollection geometries")
        else:
            items = List[Geometry]([Geometry._promote(g) for g in geometries])
        obj = GeometryCollection._from_apply(self._create, geometries=items)
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _from_checked(cls, geojson: dict) -> GeometryCollection:
        return cls(geojson["geometries"])

    @property
    def type(self) -> Str:
        """Always ``"GeometryCollection"``."""
        return Str._from_apply("wf.getattr", self, "type")

    @property
    def geometries(self) -> List:
        """The geometries, as a ``List[Geometry]``."""
        return List[Geometry]._from_apply("wf.getattr", self, "geometries")

    @typecheck(distance=NUMBER)
    def buffer(self, distance: _Any) -> Geometry:
        """The envelope of all the geometries, buffered by ``distance`` decimal degrees."""
        return Geometry._from_apply("wf.buffer", self, distance)

    @typecheck(value=NUMBER)
    def rasterize(self, value: _Any = 1) -> _Any:
        """An Image with one band ``features``: ``value`` inside any geometry, masked outside."""
        from tiles.types.imagery import Image

        return Image._from_apply("wf.rasterize", self, value)


class Feature(_Vector):
    """Proxy GeoJSON Feature: a Geometry and a Dict of properties."""

    _geojson_types = ("Feature",)

    def __init__(self, geometry: _Any, properties: _Any) -> None:
        if isinstance(geometry, Any):
            geometry = Geometry._promote(geometry)
        elif not isinstance(geometry, (Geometry, GeometryCollection)):
            mapping = _mapping_of(geometry, "Feature geometry")
            if mapping.get("type") == "GeometryCollection":
                geometry = GeometryCollection.from_geojson(mapping)
            else:
                geometry = Geometry.from_geo_interface(mapping)
        if properties is None:
            properties = {}
        if isinstance(properties, Proxytype):
            props: _Any = Dict[Str, Any]._promote(properties)
        elif isinstance(properties, Mapping) and _is_literal(properties):
            props = _literal(dict(properties), "Feature properties")
        elif isinstance(properties, Mapping):
            props = Dict[Str, Any]({k: Any._promote(v) for k, v in properties.items()})
        else:
            raise argument_error("Feature", "properties", "dict or Dict[Str, Any]", properties)
        obj = Feature._from_apply("wf.Feature.create", geometry=geometry, properties=props)
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _from_checked(cls, geojson: dict) -> Feature:
        return cls(geojson["geometry"], geojson.get("properties") or {})

    @property
    def geometry(self) -> Geometry:
        """The Feature's Geometry."""
        return Geometry._from_apply("wf.getattr", self, "geometry")

    @property
    def properties(self) -> Dict:
        """The Feature's properties, a ``Dict[Str, Any]``."""
        return Dict[Str, Any]._from_apply("wf.getattr", self, "properties")

    @typecheck(distance=NUMBER)
    def buffer(self, distance: _Any) -> Feature:
        """The Feature with its geometry buffered by ``distance`` decimal degrees."""
        return Feature._from_apply("wf.buffer", self, distance)

    @typecheck(value=BURN_VALUE, default_value=NUMBER)
    def rasterize(self, value: _Any = 1, default_value: _Any = 1) -> _Any:
        """An Image with one band ``features`` and this Feature's properties.

        ``value`` is a number or the name of a numeric property (``default_value`` where the
        property is missing); pixels outside the Feature are masked (and 0).
        """
        from tiles.types.imagery import Image

        return Image._from_apply("wf.rasterize", self, value, default_value=default_value)


class FeatureCollection(_CollectionMixin, _Vector):
    """Proxy GeoJSON FeatureCollection constructed from a sequence of Features."""

    _geojson_types = ("FeatureCollection",)
    _item_type = Feature
    _items_field = "features"
    _create = "wf.FeatureCollection.create"

    def __init__(self, features: _Any) -> None:
        if isinstance(features, List):
            items: _Any = List[Feature]._promote(features)
        elif _is_literal(features) and all(isinstance(f, Mapping) for f in features):
            check_geojson({"type": "FeatureCollection", "features": list(features)})
            items = _literal(list(features), "FeatureCollection features")
        else:
            items = List[Feature]([Feature._promote(f) for f in features])
        obj = FeatureCollection._from_apply(self._create, features=items)
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _from_checked(cls, geojson: dict) -> FeatureCollection:
        return cls(geojson["features"])

    @classmethod
    @typecheck(id=Str)
    def from_vector_id(cls, id: _Any) -> FeatureCollection:  # noqa: A002 - documented name
        """The features of vector product ``id`` that intersect the computation's GeoContext.

        Register products with :func:`tiles.data.vector_products.create_vector_product`.
        """
        return cls._from_apply("wf.FeatureCollection.from_vector", id)

    def sorted(self, key: _Any, reverse: _Any = False) -> FeatureCollection:
        """A copy sorted by ``key(feature)`` (ascending unless ``reverse``)."""
        return _CollectionMixin.sorted(self, key, reverse)

    @property
    def features(self) -> List:
        """The features, as a ``List[Feature]``."""
        return List[Feature]._from_apply("wf.getattr", self, "features")

    @typecheck(value=BURN_VALUE, default_value=NUMBER, merge_algorithm=Str)
    def rasterize(
        self, value: _Any = 1, default_value: _Any = 1, merge_algorithm: _Any = "add"
    ) -> _Any:
        """Rasterize all Features into one Image with one band ``features``.

        ``value`` is a number or the name of a numeric property of each Feature
        (``default_value`` where missing). Where Features overlap, ``merge_algorithm="add"``
        sums their values and ``"replace"`` keeps the last Feature's. Properties and bandinfo
        are empty; pixels outside every Feature are masked (and 0).
        """
        from tiles.types.imagery import Image

        algorithm = literal(merge_algorithm)
        if isinstance(algorithm, str) and algorithm not in ("add", "replace"):
            raise ValueError(f"merge_algorithm must be 'add' or 'replace', not {algorithm!r}")
        return Image._from_apply(
            "wf.rasterize",
            self,
            value,
            default_value=default_value,
            merge_algorithm=merge_algorithm,
        )


_CLASSES = {
    **{t: Geometry for t in _SIMPLE_TYPES},
    "GeometryCollection": GeometryCollection,
    "Feature": Feature,
    "FeatureCollection": FeatureCollection,
}


def _class_for(gtype: str) -> type:
    return _CLASSES[gtype]


def load_geojson(geojson: _Any) -> Geometry | GeometryCollection | Feature | FeatureCollection:
    """A Geometry, GeometryCollection, Feature or FeatureCollection from a GeoJSON mapping.

    >>> import tiles as wf
    >>> type(wf.load_geojson({"type": "Point", "coordinates": [1, 2]})).__name__
    'Geometry'
    """
    mapping = _mapping_of(geojson, "load_geojson")
    gtype = check_geojson(mapping)
    return _class_for(gtype).from_geojson(mapping)


def load_geojson_file(
    path: str | os.PathLike,
) -> Geometry | GeometryCollection | Feature | FeatureCollection:
    """A Geometry, GeometryCollection, Feature or FeatureCollection from a GeoJSON file."""
    try:
        with open(path, encoding="utf-8") as f:
            geojson = json.load(f)
    except json.JSONDecodeError as e:
        raise GeoJSONError(f"{os.fspath(path)} is not valid JSON: {e}") from None
    return load_geojson(geojson)
