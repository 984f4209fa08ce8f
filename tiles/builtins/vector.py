"""Builtins for vector data: constructing geometries and features, buffer and rasterize.

Constructors accept what any client may send: GeoJSON mappings or values already built, and
plain lists of them (``wf.filter`` and ``wf.sorted`` over a collection give lists).
"""

from __future__ import annotations

from typing import Any

from tiles.builtins.core import register_attributes
from tiles.builtins.registry import builtin, current_context
from tiles.engine import vector
from tiles.engine.results import register_result
from tiles.engine.vector import (
    FeatureCollectionValue,
    FeatureValue,
    GeoJSONError,
    GeometryCollectionValue,
    GeometryValue,
)

register_attributes(GeometryValue, frozenset({"type", "coordinates"}))
register_attributes(GeometryCollectionValue, frozenset({"type", "geometries"}))
register_attributes(FeatureValue, frozenset({"geometry", "properties"}))
register_attributes(FeatureCollectionValue, frozenset({"features"}))
for _type in (GeometryValue, GeometryCollectionValue, FeatureValue, FeatureCollectionValue):
    register_result(_type, lambda value, geoctx: vector.to_result(value))


@builtin("wf.Geometry.create")
def geometry_create(type: str, coordinates: Any) -> GeometryValue:  # noqa: A002 - GeoJSON name
    """``wf.Geometry.create``: a geometry of a GeoJSON type and its coordinates."""
    if type == "GeometryCollection":
        raise GeoJSONError("a GeometryCollection has geometries, not coordinates")
    return GeometryValue(type, coordinates)


@builtin("wf.GeometryCollection.create")
def geometry_collection_create(
    geometries: Any,
    type: str = "GeometryCollection",  # noqa: A002
) -> GeometryCollectionValue:
    """``wf.GeometryCollection.create``: a GeometryCollection of GeoJSON geometries."""
    if type != "GeometryCollection":
        raise GeoJSONError(
            f"a GeometryCollection's type must be 'GeometryCollection', not {type!r}"
        )
    if isinstance(geometries, GeometryCollectionValue):
        return geometries
    if not isinstance(geometries, (list, tuple)):
        raise GeoJSONError(f"geometries must be a list, not {geometries.__class__.__name__}")
    return GeometryCollectionValue(geometries)


@builtin("wf.Feature.create")
def feature_create(geometry: Any, properties: Any = None) -> FeatureValue:
    """``wf.Feature.create``: a feature of a geometry and its properties."""
    return FeatureValue(geometry, properties)


@builtin("wf.FeatureCollection.create")
def feature_collection_create(features: Any) -> FeatureCollectionValue:
    """``wf.FeatureCollection.create``: a FeatureCollection of features."""
    if not isinstance(features, (list, tuple, FeatureCollectionValue)):
        raise GeoJSONError(f"features must be a list, not {type(features).__name__}")
    return vector.as_feature_collection(list(features))


@builtin("wf.FeatureCollection.from_vector")
def feature_collection_from_vector(id: str) -> FeatureCollectionValue:  # noqa: A002
    """The features of a vector product intersecting the evaluation's GeoContext."""
    from tiles.data.vector_products import read_features

    geoctx = current_context().require_geoctx(f"reading vector product {id!r}")
    return read_features(id, geoctx)


@builtin("wf.buffer")
def buffer(obj: Any, distance: float) -> Any:
    """``wf.buffer``: the geometry buffered by ``distance`` (decimal degrees)."""
    return vector.buffer(obj, distance)


@builtin("wf.rasterize")
def rasterize(
    obj: Any, value: Any = 1, default_value: Any = 1, merge_algorithm: str = "add"
) -> Any:
    """``wf.rasterize``: the features burnt into the GeoContext's grid as an Image."""
    geoctx = current_context().require_geoctx("rasterizing a vector")
    return vector.rasterize(obj, geoctx, value, default_value, merge_algorithm)
