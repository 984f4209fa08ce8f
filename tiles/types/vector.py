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

    Example
    -------
    >>> wf.Geometry(type="Point", coordinates=[1, 2]).buffer(1).compute().type
    'Polygon'
    """

    _geojson_types = _SIMPLE_TYPES

    def __init__(self, type: _Any, coordinates: _Any) -> None:  # noqa: A002 - GeoJSON name
        """A Geometry from its GeoJSON parts.

        Parameters
        ----------
        type : Str
            ``"Point"``, ``"LineString"``, ``"Polygon"``, ``"MultiPoint"``,
            ``"MultiLineString"`` or ``"MultiPolygon"``.
        coordinates : list
            Nested lists of lon/lat numbers (proxies allowed), checked now when plain.
        """
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

        Parameters
        ----------
        obj : object
            With ``__geo_interface__`` (or a GeoJSON mapping); a Feature gives its geometry.

        Returns
        -------
        Geometry

        Example
        -------
        >>> import shapely.geometry
        >>> geom = wf.Geometry.from_geo_interface(shapely.geometry.box(0, 0, 1, 1))
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
        """The area within ``distance`` of this geometry.

        Parameters
        ----------
        distance : Int or Float
            In decimal degrees.

        Returns
        -------
        Geometry

        Example
        -------
        >>> disk = wf.Geometry(type="Point", coordinates=[1, 2]).buffer(0.5)
        """
        return Geometry._from_apply("wf.buffer", self, distance)

    @typecheck(value=NUMBER)
    def rasterize(self, value: _Any = 1) -> _Any:
        """Burn this geometry into the GeoContext's grid (its CRS, resolution, all_touched).

        Parameters
        ----------
        value : Int or Float, default 1
            The value of covered pixels; the others are masked (and 0).

        Returns
        -------
        Image
            One band ``features``; empty properties and bandinfo.

        Example
        -------
        >>> geom = wf.Geometry(type="Point", coordinates=[1, 2])
        >>> geom.rasterize(value=0.5).mean().compute(
        ...     wf.scenes.AOI(bounds=(0.95, 1.95, 1.15, 2.15), crs="EPSG:4326", resolution=0.1))
        0.5
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


class GeometryCollection(_CollectionMixin, _Vector):
    """Proxy GeoJSON GeometryCollection constructed from a sequence of Geometries.

    Example
    -------
    >>> gc = wf.GeometryCollection([wf.Geometry("Point", [0, 0]), wf.Geometry("Point", [1, 1])])
    >>> gc.length().compute()
    2
    """

    _geojson_types = ("GeometryCollection",)
    _item_type = Geometry
    _items_field = "geometries"
    _create = "wf.GeometryCollection.create"

    def __init__(self, geometries: _Any, type: str = "GeometryCollection") -> None:  # noqa: A002
        """A GeometryCollection of Geometries.

        Parameters
        ----------
        geometries : list of Geometry or GeoJSON geometries, or List[Geometry]
        type : str, default "GeometryCollection"
            Only ``"GeometryCollection"``.
        """
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
        """The area within ``distance`` of any of the geometries.

        Parameters
        ----------
        distance : Int or Float
            In decimal degrees.

        Returns
        -------
        Geometry
        """
        return Geometry._from_apply("wf.buffer", self, distance)

    @typecheck(value=NUMBER)
    def rasterize(self, value: _Any = 1) -> _Any:
        """Burn the geometries into the GeoContext's grid.

        Parameters
        ----------
        value : Int or Float, default 1
            The value of pixels covered by any geometry (once, however they overlap); the
            others are masked (and 0).

        Returns
        -------
        Image
            One band ``features``; empty properties and bandinfo.
        """
        from tiles.types.imagery import Image

        return Image._from_apply("wf.rasterize", self, value)


class Feature(_Vector):
    """Proxy GeoJSON Feature: a Geometry and a Dict of properties.

    Example
    -------
    >>> feat = wf.Feature(geometry=wf.Geometry("Point", [1, 2]), properties={"foo": "bar"})
    >>> feat.compute()
    FeatureResult(geometry=GeometryResult(type=Point, coordinates=[1, 2]), properties={'foo': 'bar'})
    """

    _geojson_types = ("Feature",)

    def __init__(self, geometry: _Any, properties: _Any) -> None:
        """A Feature of a geometry and properties.

        Parameters
        ----------
        geometry : Geometry, GeometryCollection, or GeoJSON / ``__geo_interface__`` of one
        properties : dict or Dict[Str, Any]
        """
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
        """The Feature with its geometry grown by ``distance``.

        Parameters
        ----------
        distance : Int or Float
            In decimal degrees.

        Returns
        -------
        Feature
        """
        return Feature._from_apply("wf.buffer", self, distance)

    @typecheck(value=BURN_VALUE, default_value=NUMBER)
    def rasterize(self, value: _Any = 1, default_value: _Any = 1) -> _Any:
        """Burn this Feature into the GeoContext's grid.

        Parameters
        ----------
        value : Int, Float or Str, default 1
            The value of covered pixels, or the name of a numeric property holding it; the
            other pixels are masked (and 0).
        default_value : Int or Float, default 1
            The value when the property ``value`` names is missing.

        Returns
        -------
        Image
            One band ``features``, this Feature's properties, empty bandinfo.
        """
        from tiles.types.imagery import Image

        return Image._from_apply("wf.rasterize", self, value, default_value=default_value)


class FeatureCollection(_CollectionMixin, _Vector):
    """Proxy GeoJSON FeatureCollection constructed from a sequence of Features.

    Example
    -------
    >>> feat = wf.Feature(wf.Geometry("Point", [1, 2]), {"n": 1})
    >>> wf.FeatureCollection([feat, feat]).length().compute()
    2
    """

    _geojson_types = ("FeatureCollection",)
    _item_type = Feature
    _items_field = "features"
    _create = "wf.FeatureCollection.create"

    def __init__(self, features: _Any) -> None:
        """A FeatureCollection of Features.

        Parameters
        ----------
        features : list of Feature or GeoJSON features, or List[Feature]
        """
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
        """The features of a vector product that meet the computation's GeoContext.

        Parameters
        ----------
        id : Str
            The vector product (see ``wf.catalog.create_vector_product``).

        Returns
        -------
        FeatureCollection

        Example
        -------
        >>> fc = wf.FeatureCollection.from_vector_id("states")  # doctest: +SKIP
        """
        return cls._from_apply("wf.FeatureCollection.from_vector", id)

    def sorted(self, key: _Any, reverse: _Any = False) -> FeatureCollection:
        """A copy sorted by ``key(feature)``.

        Parameters
        ----------
        key : callable
            Takes a Feature, returns what to sort by.
        reverse : Bool, default False
            Descending instead of ascending.

        Returns
        -------
        FeatureCollection
        """
        return _CollectionMixin.sorted(self, key, reverse)

    @property
    def features(self) -> List:
        """The features, as a ``List[Feature]``."""
        return List[Feature]._from_apply("wf.getattr", self, "features")

    @typecheck(value=BURN_VALUE, default_value=NUMBER, merge_algorithm=Str)
    def rasterize(
        self, value: _Any = 1, default_value: _Any = 1, merge_algorithm: _Any = "add"
    ) -> _Any:
        """Burn all the Features into the GeoContext's grid as one Image.

        Parameters
        ----------
        value : Int, Float or Str, default 1
            The value of each Feature's pixels, or the name of a numeric property of each
            Feature holding it.
        default_value : Int or Float, default 1
            The value of a Feature without that property.
        merge_algorithm : {"add", "replace"}, default "add"
            Where Features overlap: sum their values, or keep the last Feature's.

        Returns
        -------
        Image
            One band ``features``; empty properties and bandinfo; pixels outside every
            Feature masked (and 0).

        Example
        -------
        >>> feat = wf.Feature(wf.Geometry("Point", [1, 2]), {"foo": 1})
        >>> fc = wf.FeatureCollection([feat, feat, feat])
        >>> fc.rasterize(value="foo").max().compute(
        ...     wf.scenes.AOI(bounds=(0.95, 1.95, 1.15, 2.15), crs="EPSG:4326", resolution=0.1))
        3.0
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

    Parameters
    ----------
    geojson : dict or object with ``__geo_interface__``
        Under 10 MiB of serialized JSON; checked now.

    Returns
    -------
    Geometry, GeometryCollection, Feature or FeatureCollection
        According to its ``type``.

    Example
    -------
    >>> type(wf.load_geojson({"type": "Point", "coordinates": [1, 2]})).__name__
    'Geometry'
    """
    mapping = _mapping_of(geojson, "load_geojson")
    gtype = check_geojson(mapping)
    return _class_for(gtype).from_geojson(mapping)


def load_geojson_file(
    path: str | os.PathLike,
) -> Geometry | GeometryCollection | Feature | FeatureCollection:
    """A Geometry, GeometryCollection, Feature or FeatureCollection from a GeoJSON file.

    Parameters
    ----------
    path : str or path-like
        A UTF-8 GeoJSON file (under 10 MiB).

    Returns
    -------
    Geometry, GeometryCollection, Feature or FeatureCollection

    Example
    -------
    >>> states = wf.load_geojson_file("us_states.geojson")  # doctest: +SKIP
    """
    try:
        with open(path, encoding="utf-8") as f:
            geojson = json.load(f)
    except json.JSONDecodeError as e:
        raise GeoJSONError(f"{os.fspath(path)} is not valid JSON: {e}") from None
    return load_geojson(geojson)
