"""Vector proxies: Feature and FeatureCollection, and GeoJSON loaded as the proxy its type names.

Geometry and GeometryCollection live in :mod:`tiles.types.geometry` and are importable from
here too; what all four share is in :mod:`tiles.types.vector_base`.

GeoJSON given as Python data is validated when the proxy is built (a bad type, wrong nesting, an
unclosed ring or a non-numeric coordinate is an error naming where it is) and travels in the
graft as one literal, so it must stay under the documented 10 MiB of serialized JSON. Use
``FeatureCollection.from_vector_id`` for larger data.

    >>> import tiles as wf
    >>> wf.load_geojson({"type": "Point", "coordinates": [1, 2]}).compute()
    GeometryResult(type=Point, coordinates=[1, 2])
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any as _Any

from tiles.types.arguments import argument_error, literal, typecheck
from tiles.types.containers import Dict, List
from tiles.types.core import Proxytype
from tiles.types.geojson import GeoJSONError, check_geojson
from tiles.types.geometry import Geometry, GeometryCollection
from tiles.types.primitives import NUMBER, Any, Float, Int, Str
from tiles.types.vector_base import (
    SIMPLE_TYPES,
    CollectionMethods,
    VectorProxy,
    geojson_literal,
    is_literal,
    mapping_of,
)

__all__ = [
    "Feature",
    "FeatureCollection",
    "Geometry",
    "GeometryCollection",
    "load_geojson",
    "load_geojson_file",
]

#: What rasterize burns: a number, or the name of a numeric property of each Feature.
BURN_VALUE = (Int, Float, Str)


class Feature(VectorProxy):
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
            mapping = mapping_of(geometry, "Feature geometry")
            if mapping.get("type") == "GeometryCollection":
                geometry = GeometryCollection.from_geojson(mapping)
            else:
                geometry = Geometry.from_geo_interface(mapping)
        if properties is None:
            properties = {}
        if isinstance(properties, Proxytype):
            props: _Any = Dict[Str, Any]._promote(properties)
        elif isinstance(properties, Mapping) and is_literal(properties):
            props = geojson_literal(dict(properties), "Feature properties")
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


class FeatureCollection(CollectionMethods, VectorProxy):
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
        elif is_literal(features) and all(isinstance(f, Mapping) for f in features):
            check_geojson({"type": "FeatureCollection", "features": list(features)})
            items = geojson_literal(list(features), "FeatureCollection features")
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
        return CollectionMethods.sorted(self, key, reverse)

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
    **{t: Geometry for t in SIMPLE_TYPES},
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
    mapping = mapping_of(geojson, "load_geojson")
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
