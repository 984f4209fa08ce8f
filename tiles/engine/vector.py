"""Engine values for vector data: GeoJSON geometries and features backed by shapely 2.

Values: :class:`GeometryValue` (one GeoJSON geometry), :class:`GeometryCollectionValue`,
:class:`FeatureValue` (a geometry plus properties) and :class:`FeatureCollectionValue`. All
coordinates are lon/lat (EPSG:4326), as in GeoJSON. Collections are Python sequences, so the
generic ``wf.map``/``wf.filter``/``wf.reduce``/``wf.length``/``wf.contains`` builtins work on
them directly.

A geometry keeps the coordinates it was given (``[1, 2]`` stays integers, as the API reference
prints) and builds its shapely geometry only when an operation needs one; geometries made by
shapely (a buffer, features read from files) get their GeoJSON coordinates only when asked.

Operations: :func:`buffer` (shapely, in decimal degrees) and :func:`rasterize` (features
reprojected with :func:`rasterio.warp.transform_geom` and burnt with
:func:`rasterio.features.rasterize` into a GeoContext's grid). Results of computations are the
``*Result`` classes at the bottom, each with ``__geo_interface__``.

Example::

    >>> g = load_geojson_value({"type": "Point", "coordinates": [1, 2]})
    >>> g.type, g.coordinates, g.shape.wkt
    ('Point', [1, 2], 'POINT (1 2)')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import rasterio.features
import rasterio.warp
import shapely
import shapely.geometry
from rasterio.enums import MergeAlg

from tiles.engine.imagery import ImageValue
from tiles.types.geojson import (
    COORDINATE_DEPTH,
    GEOJSON_SIZE_LIMIT,
    GEOMETRY_TYPES,
    GeoJSONError,
    check_coordinates,
    check_feature,
    check_geojson,
    check_geometry,
    check_size,
    check_type,
    is_number,
)

__all__ = [
    "GEOJSON_SIZE_LIMIT",
    "GEOMETRY_TYPES",
    "FeatureCollectionResult",
    "FeatureCollectionValue",
    "FeatureResult",
    "FeatureValue",
    "GeoJSONError",
    "GeometryCollectionResult",
    "GeometryCollectionValue",
    "GeometryResult",
    "GeometryValue",
    "as_feature",
    "as_feature_collection",
    "as_geometry",
    "buffer",
    "check_geojson",
    "check_size",
    "load_geojson_value",
    "rasterize",
    "to_result",
]

MERGE_ALGORITHMS = {"add": MergeAlg.add, "replace": MergeAlg.replace}


# --------------------------------------------------------------------------------------------
# values


def _listify(value: Any) -> Any:
    """Nested tuples (as shapely's mapping gives) as nested lists (as GeoJSON holds them)."""
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    return value


class GeometryValue:
    """One GeoJSON geometry (not a collection) in lon/lat: ``type``, ``coordinates``, ``crs``."""

    __slots__ = ("type", "_coordinates", "_shape", "crs")

    def __init__(self, type: str, coordinates: Any, crs: str = "EPSG:4326") -> None:  # noqa: A002
        check_type(type, tuple(COORDINATE_DEPTH), "geometry.type")
        check_coordinates(type, coordinates, "geometry.coordinates")
        self.type = type
        self._coordinates = _listify(coordinates)
        self._shape: shapely.Geometry | None = None
        self.crs = crs

    @classmethod
    def from_shapely(cls, geom: shapely.Geometry) -> GeometryValue | GeometryCollectionValue:
        """A value over a shapely geometry; its GeoJSON coordinates are built when asked for."""
        if geom.geom_type == "GeometryCollection":
            return GeometryCollectionValue([cls.from_shapely(g) for g in geom.geoms])
        obj = cls.__new__(cls)
        obj.type = geom.geom_type
        obj._coordinates = None
        obj._shape = geom
        obj.crs = "EPSG:4326"
        return obj

    @property
    def coordinates(self) -> list:
        """The GeoJSON coordinates, as nested lists (built from the shapely shape on first use)."""
        if self._coordinates is None:
            self._coordinates = _listify(shapely.geometry.mapping(self._shape)["coordinates"])
        return self._coordinates

    @property
    def shape(self) -> shapely.Geometry:
        """The shapely geometry (built once)."""
        if self._shape is None:
            self._shape = shapely.geometry.shape(self.__geo_interface__)
        return self._shape

    @property
    def __geo_interface__(self) -> dict:
        return {"type": self.type, "coordinates": self.coordinates}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GeometryValue):
            return NotImplemented
        return self.type == other.type and self.coordinates == other.coordinates

    __hash__ = None  # type: ignore[assignment]  # mutable-looking value compared by content

    def __repr__(self) -> str:
        return f"GeometryValue({self.type})"


class _Sequence:
    """Shared sequence behaviour of the collection values (items in ``self._items``)."""

    _items: list

    def __iter__(self) -> Iterator:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return type(self)(self._items[index])
        return self._items[index]

    def __contains__(self, item: object) -> bool:
        return any(item == x for x in self._items)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._items == other._items  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


class GeometryCollectionValue(_Sequence):
    """A GeoJSON GeometryCollection: a sequence of geometries."""

    type = "GeometryCollection"

    def __init__(self, geometries: Sequence[Any]) -> None:
        self._items = [as_geometry(g) for g in geometries]
        self._shape: shapely.Geometry | None = None
        self.crs = "EPSG:4326"

    @property
    def geometries(self) -> list:
        """The member geometries, as a new list."""
        return list(self._items)

    @property
    def shape(self) -> shapely.Geometry:
        """The collection as one shapely GeometryCollection (built on first use)."""
        if self._shape is None:
            self._shape = shapely.GeometryCollection([g.shape for g in self._items])
        return self._shape

    @property
    def __geo_interface__(self) -> dict:
        return {
            "type": "GeometryCollection",
            "geometries": [g.__geo_interface__ for g in self._items],
        }

    def __repr__(self) -> str:
        return f"GeometryCollectionValue(<{len(self)} geometries>)"


class FeatureValue:
    """A GeoJSON Feature: a geometry (or geometry collection) and a dict of properties."""

    __slots__ = ("geometry", "properties")

    def __init__(self, geometry: Any, properties: Mapping[str, Any] | None = None) -> None:
        if properties is not None and not isinstance(properties, Mapping):
            raise GeoJSONError(
                f"Feature properties must be a mapping, not {type(properties).__name__}"
            )
        self.geometry = as_geometry(geometry)
        self.properties = dict(properties or {})

    @property
    def __geo_interface__(self) -> dict:
        return {
            "type": "Feature",
            "geometry": self.geometry.__geo_interface__,
            "properties": self.properties,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FeatureValue):
            return NotImplemented
        return self.geometry == other.geometry and self.properties == other.properties

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FeatureValue({self.geometry.type}, {list(self.properties)[:4]})"


class FeatureCollectionValue(_Sequence):
    """A GeoJSON FeatureCollection: a sequence of features."""

    def __init__(self, features: Sequence[Any]) -> None:
        self._items = [as_feature(f) for f in features]

    @property
    def features(self) -> list:
        """The member features, as a new list."""
        return list(self._items)

    @property
    def __geo_interface__(self) -> dict:
        return {"type": "FeatureCollection", "features": [f.__geo_interface__ for f in self]}

    def __repr__(self) -> str:
        return f"FeatureCollectionValue(<{len(self)} features>)"


Vector = GeometryValue | GeometryCollectionValue | FeatureValue | FeatureCollectionValue


# --------------------------------------------------------------------------------------------
# conversions


def _interface(obj: Any) -> Any:
    if isinstance(obj, (GeometryValue, GeometryCollectionValue, FeatureValue)):
        return obj
    if isinstance(obj, Mapping):
        return obj
    interface = getattr(obj, "__geo_interface__", None)
    if interface is None:
        raise GeoJSONError(
            f"expected a GeoJSON mapping or an object with __geo_interface__, "
            f"not {type(obj).__name__}"
        )
    return interface


def as_geometry(obj: Any) -> GeometryValue | GeometryCollectionValue:
    """A geometry value from a value, a GeoJSON geometry (or Feature's geometry), a shapely
    geometry or anything with ``__geo_interface__``."""
    if isinstance(obj, (GeometryValue, GeometryCollectionValue)):
        return obj
    if isinstance(obj, FeatureValue):
        return obj.geometry
    if isinstance(obj, shapely.Geometry):
        return GeometryValue.from_shapely(obj)
    obj = _interface(obj)
    if isinstance(obj, Mapping) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    gtype = check_geometry(obj)
    if gtype == "GeometryCollection":
        return GeometryCollectionValue(obj["geometries"])
    return GeometryValue(gtype, obj["coordinates"])


def as_feature(obj: Any) -> FeatureValue:
    """A feature value from a value or a GeoJSON Feature mapping / geo-interface."""
    if isinstance(obj, FeatureValue):
        return obj
    obj = _interface(obj)
    check_feature(obj, "feature")
    return FeatureValue(obj["geometry"], obj.get("properties"))


def as_feature_collection(obj: Any) -> FeatureCollectionValue:
    """A feature collection value from a value, a list of features or a GeoJSON mapping."""
    if isinstance(obj, FeatureCollectionValue):
        return obj
    if isinstance(obj, (list, tuple)):
        return FeatureCollectionValue(obj)
    obj = _interface(obj)
    if not isinstance(obj, Mapping) or obj.get("type") != "FeatureCollection":
        raise GeoJSONError("expected a GeoJSON FeatureCollection")
    return FeatureCollectionValue(obj.get("features") or [])


def load_geojson_value(obj: Any) -> Vector:
    """The value for any GeoJSON mapping: a geometry, collection, feature or feature collection."""
    gtype = check_geojson(_interface(obj))
    if gtype == "Feature":
        return as_feature(obj)
    if gtype == "FeatureCollection":
        return as_feature_collection(obj)
    return as_geometry(obj)


def as_vector(obj: Any) -> Vector:
    """Any vector value; plain lists (as ``wf.filter`` returns) become collections."""
    if isinstance(obj, (GeometryValue, GeometryCollectionValue, FeatureValue)):
        return obj
    if isinstance(obj, FeatureCollectionValue):
        return obj
    if isinstance(obj, (list, tuple)):
        if all(isinstance(x, FeatureValue) for x in obj):
            return FeatureCollectionValue(obj)
        return GeometryCollectionValue(obj)
    return load_geojson_value(obj)


# --------------------------------------------------------------------------------------------
# operations


def buffer(obj: Any, distance: float) -> Vector:
    """``obj`` buffered by ``distance`` decimal degrees (shapely's buffer on lon/lat).

    A GeometryCollection gives one Geometry: the buffered envelope of all its geometries (as
    the API reference documents). A Feature keeps its properties.
    """
    if not is_number(distance):
        raise GeoJSONError(f"buffer distance must be a number, not {distance!r}")
    obj = as_vector(obj)
    if isinstance(obj, FeatureValue):
        return FeatureValue(buffer(obj.geometry, distance), obj.properties)
    if isinstance(obj, FeatureCollectionValue):
        return FeatureCollectionValue([buffer(f, distance) for f in obj])
    if isinstance(obj, GeometryCollectionValue):
        return GeometryValue.from_shapely(shapely.buffer(shapely.envelope(obj.shape), distance))
    return GeometryValue.from_shapely(shapely.buffer(obj.shape, distance))


def _burn_value(value: Any, default_value: Any, properties: Mapping[str, Any]) -> float:
    """The number to burn: ``value`` itself, or the property it names (else the default)."""
    if isinstance(value, str):
        found = properties.get(value, default_value)
        if not is_number(found):
            raise GeoJSONError(
                f"rasterize value property {value!r} must hold a number, not {found!r}"
            )
        return float(found)
    if not is_number(value):
        raise GeoJSONError(f"rasterize value must be a number or a property name, not {value!r}")
    return float(value)


def _shapes_and_values(
    obj: Vector, value: Any, default_value: Any
) -> tuple[list[shapely.Geometry], list[float], dict]:
    if isinstance(obj, FeatureCollectionValue):
        shapes = [f.geometry.shape for f in obj]
        values = [_burn_value(value, default_value, f.properties) for f in obj]
        return shapes, values, {}
    if isinstance(obj, FeatureValue):
        return (
            [obj.geometry.shape],
            [_burn_value(value, default_value, obj.properties)],
            dict(obj.properties),
        )
    if isinstance(value, str):
        raise GeoJSONError(
            f"rasterize value {value!r} names a property, but a {obj.type} has no properties"
        )
    return [obj.shape], [_burn_value(value, default_value, {})], {}


def _near_grid(shapes: np.ndarray, geoctx: Any) -> np.ndarray:
    """Indices of the non-empty shapes meeting the grid's lon/lat box padded by its size.

    Shapes far away cannot cover a pixel, so they are neither reprojected nor burnt. Shapes
    are not clipped: a clip adds vertices on long edges, which bends them differently once
    reprojected and would change which pixels they cover.
    """
    keep = ~shapely.is_empty(shapes)
    west, south, east, north = geoctx.bounds_lonlat
    if west <= east:  # a grid across the antimeridian keeps everything
        pad = max(east - west, north - south)
        box = shapely.box(west - pad, south - pad, east + pad, north + pad)
        keep &= shapely.intersects(shapes, box)
    return np.flatnonzero(keep)


def _burn_sum(burn: list[tuple[dict, float]], common: dict) -> np.ndarray:
    """Each shape's value added once per pixel it covers.

    GDAL adds the value of every member of a GeometryCollection where members overlap, so
    collections are burnt one by one and added; other shapes go in one pass.
    """
    collections = [b for b in burn if b[0].get("type") == "GeometryCollection"]
    simple = [b for b in burn if b[0].get("type") != "GeometryCollection"]
    data = np.zeros(common["out_shape"], dtype=np.float64)
    if simple:
        data += rasterio.features.rasterize(
            simple, fill=0, dtype="float64", merge_alg=MergeAlg.add, **common
        )
    for shape in collections:
        data += rasterio.features.rasterize(
            [shape], fill=0, dtype="float64", merge_alg=MergeAlg.replace, **common
        )
    return data


def rasterize(
    obj: Any,
    geoctx: Any,
    value: Any = 1,
    default_value: Any = 1,
    merge_algorithm: str = "add",
) -> ImageValue:
    """Burn ``obj`` into ``geoctx``'s grid: a 1-band Image named ``features``.

    Pixels inside get ``value`` (a number, or for features the name of a numeric property,
    ``default_value`` where it is missing); pixels outside are masked and 0. Where features of
    a collection overlap, ``merge_algorithm`` ``"add"`` sums their values and ``"replace"``
    keeps the last one's; the members of one GeometryCollection fill their pixels once, however
    they overlap (each Feature counts once). Geometries are reprojected from EPSG:4326 into the grid's CRS, and
    ``geoctx.all_touched`` decides which pixels a shape covers. Properties are the Feature's
    (empty for geometries and collections); bandinfo is ``{"features": {}}``.
    """
    if merge_algorithm not in MERGE_ALGORITHMS:
        raise GeoJSONError(f"merge_algorithm must be 'add' or 'replace', not {merge_algorithm!r}")
    obj = as_vector(obj)
    shapes, values, properties = _shapes_and_values(obj, value, default_value)
    rows, cols = geoctx.arr_shape
    data = np.zeros((rows, cols), dtype=np.float64)
    covered = np.zeros((rows, cols), dtype=bool)
    index = _near_grid(np.asarray(shapes, dtype=object), geoctx)
    if len(index):
        projected = rasterio.warp.transform_geom(
            "EPSG:4326", geoctx.rasterio_crs, [shapely.geometry.mapping(shapes[i]) for i in index]
        )
        common = {
            "out_shape": (rows, cols),
            "transform": geoctx.transform,
            "all_touched": bool(geoctx.all_touched),
        }
        covered = rasterio.features.rasterize(
            [(g, 1) for g in projected], fill=0, dtype="uint8", **common
        ).astype(bool)
        burn = [(g, values[i]) for g, i in zip(projected, index, strict=True)]
        if isinstance(obj, FeatureCollectionValue) and merge_algorithm == "add":
            data = _burn_sum(burn, common)
        else:  # one shape, or the last feature wins: each pixel gets one value
            data = rasterio.features.rasterize(
                burn, fill=0, dtype="float64", merge_alg=MergeAlg.replace, **common
            )
    array = np.ma.MaskedArray(data[np.newaxis], mask=~covered[np.newaxis])
    return ImageValue(array, properties, {"features": {}})


# --------------------------------------------------------------------------------------------
# results


class GeometryResult:
    """A computed Geometry: its GeoJSON ``type`` and ``coordinates``, and ``crs``."""

    def __init__(self, type: str, coordinates: Any, crs: str = "EPSG:4326") -> None:  # noqa: A002
        self.type = type
        self.coordinates = coordinates
        self.crs = crs

    @property
    def __geo_interface__(self) -> dict:
        return {"type": self.type, "coordinates": self.coordinates}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GeometryResult):
            return NotImplemented
        return (self.type, self.coordinates, self.crs) == (other.type, other.coordinates, other.crs)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"GeometryResult(type={self.type}, coordinates={self.coordinates})"


class GeometryCollectionResult:
    """A computed GeometryCollection: ``type`` and a tuple of ``geometries``."""

    def __init__(self, type: str, geometries: Sequence[Any]) -> None:  # noqa: A002
        self.type = type
        self.geometries = tuple(geometries)

    @property
    def __geo_interface__(self) -> dict:
        return {"type": self.type, "geometries": [g.__geo_interface__ for g in self.geometries]}

    def __len__(self) -> int:
        return len(self.geometries)

    def __repr__(self) -> str:
        items = ",\n".join(f"            {g!r}" for g in self.geometries)
        return f"GeometryCollectionResult(type={self.type},\n        geometries=(\n{items}))"


class FeatureResult:
    """A computed Feature: ``geometry`` (a GeometryResult) and a dict of ``properties``."""

    def __init__(self, geometry: Any, properties: Mapping[str, Any]) -> None:
        self.geometry = geometry
        self.properties = dict(properties)

    @property
    def __geo_interface__(self) -> dict:
        return {
            "type": "Feature",
            "geometry": self.geometry.__geo_interface__,
            "properties": self.properties,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FeatureResult):
            return NotImplemented
        return self.__geo_interface__ == other.__geo_interface__

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FeatureResult(geometry={self.geometry!r}, properties={self.properties!r})"


class FeatureCollectionResult:
    """A computed FeatureCollection: a tuple of ``features`` (FeatureResults)."""

    def __init__(self, features: Sequence[FeatureResult]) -> None:
        self.features = tuple(features)

    @property
    def __geo_interface__(self) -> dict:
        return {"type": "FeatureCollection", "features": [f.__geo_interface__ for f in self]}

    def __iter__(self) -> Iterator[FeatureResult]:
        return iter(self.features)

    def __len__(self) -> int:
        return len(self.features)

    def __repr__(self) -> str:
        items = ",\n".join(f"    {f!r}" for f in self.features)
        return f"FeatureCollectionResult(features=(\n{items}))"


def _plain(value: Any) -> Any:
    """Property values as plain Python (numpy scalars from files become numbers)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def to_result(value: Vector) -> Any:
    """The Python result of a vector value."""
    if isinstance(value, GeometryValue):
        return GeometryResult(value.type, value.coordinates, value.crs)
    if isinstance(value, GeometryCollectionValue):
        return GeometryCollectionResult(value.type, [to_result(g) for g in value])
    if isinstance(value, FeatureValue):
        return FeatureResult(to_result(value.geometry), _plain(value.properties))
    if isinstance(value, FeatureCollectionValue):
        return FeatureCollectionResult([to_result(f) for f in value])
    raise TypeError(f"not a vector value: {type(value).__name__}")
