"""GeoJSON validation: types, nesting, rings, coordinates and size, in plain Python.

Proxies check GeoJSON when it is given (``wf.load_geojson``) and the engine checks it again
when a graft brings it; both use these functions, which need neither shapely nor rasterio.

Example::

    >>> check_geojson({"type": "Point", "coordinates": [1, 2]})
    'Point'
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from tiles.errors import WorkflowsError

# The API reference: "the GeoJSON must be relatively small (under 10MiB of serialized JSON)".
GEOJSON_SIZE_LIMIT = 10 * 1024 * 1024

# Nesting depth of each geometry type's "coordinates" above a position (a Point is a position).
COORDINATE_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
GEOMETRY_TYPES = (*COORDINATE_DEPTH, "GeometryCollection")


class GeoJSONError(WorkflowsError, ValueError):
    """A GeoJSON object is malformed (wrong type, nesting, ring, coordinate) or too large."""


# --------------------------------------------------------------------------------------------
# validation


def check_size(obj: Any, what: str = "GeoJSON") -> None:
    """Raise GeoJSONError when ``obj`` serialises to more than :data:`GEOJSON_SIZE_LIMIT`."""
    try:
        size = len(json.dumps(obj, separators=(",", ":")))
    except (TypeError, ValueError) as e:
        raise GeoJSONError(f"{what} is not JSON-serialisable: {e}") from None
    if size > GEOJSON_SIZE_LIMIT:
        raise GeoJSONError(
            f"{what} is {size / 2**20:.1f} MiB of serialized JSON; the limit is "
            f"{GEOJSON_SIZE_LIMIT / 2**20:.0f} MiB. Register large files as a vector product "
            "(tiles.data.vector_products.create_vector_product) and use "
            "FeatureCollection.from_vector_id instead"
        )


def is_number(v: Any) -> bool:
    """True for a real number (numpy's included), False for a bool."""
    # numpy registers its scalar types with ``numbers``; its bool_ is not a Real.
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _check_position(pos: Any, where: str) -> None:
    if not isinstance(pos, (list, tuple)):
        raise GeoJSONError(f"{where} must be a position [x, y], got {type(pos).__name__} {pos!r}")
    if len(pos) < 2:
        raise GeoJSONError(f"{where} must have at least 2 numbers (x, y), got {list(pos)!r}")
    for i, v in enumerate(pos):
        if not is_number(v):
            raise GeoJSONError(f"{where}[{i}] is not a number: {type(v).__name__} {v!r}")
        if not math.isfinite(v):
            raise GeoJSONError(f"{where}[{i}] is not finite: {v!r}")


def _check_list(value: Any, where: str, what: str) -> None:
    if not isinstance(value, (list, tuple)):
        raise GeoJSONError(f"{where} must be a list of {what}, got {type(value).__name__}")


def _check_line(coords: Any, where: str) -> None:
    _check_list(coords, where, "positions")
    for i, pos in enumerate(coords):
        _check_position(pos, f"{where}[{i}]")
    if len(coords) < 2:
        raise GeoJSONError(f"{where}: a LineString needs at least 2 positions, got {len(coords)}")


def _check_polygon(coords: Any, where: str) -> None:
    _check_list(coords, where, "linear rings")
    if not coords:
        raise GeoJSONError(f"{where}: a Polygon needs at least one linear ring")
    for i, ring in enumerate(coords):
        ring_where = f"{where}[{i}]"
        _check_list(ring, ring_where, "positions")
        for j, pos in enumerate(ring):
            _check_position(pos, f"{ring_where}[{j}]")
        if len(ring) < 4:
            raise GeoJSONError(
                f"{ring_where}: a linear ring needs at least 4 positions, got {len(ring)}"
            )
        if list(ring[0]) != list(ring[-1]):
            raise GeoJSONError(
                f"{ring_where}: linear ring is not closed (first position {list(ring[0])} "
                f"differs from last {list(ring[-1])})"
            )


_NESTING = {
    "Point": "a position [x, y]",
    "MultiPoint": "a list of positions",
    "LineString": "a list of positions",
    "MultiLineString": "a list of lines (lists of positions)",
    "Polygon": "a list of linear rings (lists of positions)",
    "MultiPolygon": "a list of polygons (lists of linear rings)",
}


def _nesting(value: Any) -> int:
    """How many lists deep ``value`` is, following first items."""
    depth = 0
    while isinstance(value, (list, tuple)) and value:
        depth, value = depth + 1, value[0]
    return depth if not isinstance(value, (list, tuple)) else depth + 1


def check_coordinates(gtype: str, coords: Any, where: str) -> None:
    """Check a geometry's coordinates: nesting depth, numeric positions, closed rings.

    Parameters
    ----------
    gtype : str
        The geometry type (not GeometryCollection).
    coords : object
        Its ``coordinates``.
    where : str
        Where they are, for the error message (e.g. ``"geometry.coordinates"``).

    Raises
    ------
    GeoJSONError
        Naming ``where`` and what is wrong.
    """
    depth = _nesting(coords)
    if isinstance(coords, (list, tuple)) and coords and depth != COORDINATE_DEPTH[gtype] + 1:
        raise GeoJSONError(
            f"{where}: a {gtype}'s coordinates must be {_NESTING[gtype]}, nested "
            f"{COORDINATE_DEPTH[gtype] + 1} list(s) deep, but they are nested {depth} deep"
        )
    if gtype == "Point":
        _check_position(coords, where)
    elif gtype == "MultiPoint":
        _check_list(coords, where, "positions")
        for i, pos in enumerate(coords):
            _check_position(pos, f"{where}[{i}]")
    elif gtype == "LineString":
        _check_line(coords, where)
    elif gtype == "MultiLineString":
        _check_list(coords, where, "LineString coordinates")
        for i, line in enumerate(coords):
            _check_line(line, f"{where}[{i}]")
    elif gtype == "Polygon":
        _check_polygon(coords, where)
    else:  # MultiPolygon
        _check_list(coords, where, "Polygon coordinates")
        for i, polygon in enumerate(coords):
            _check_polygon(polygon, f"{where}[{i}]")


def check_type(gtype: Any, allowed: Sequence[str], where: str) -> str:
    """``gtype`` if it is one of ``allowed``, else a GeoJSONError naming ``where``.

    Parameters
    ----------
    gtype : object
        A GeoJSON ``type`` value.
    allowed : sequence of str
    where : str

    Returns
    -------
    str
    """
    if gtype not in allowed:
        raise GeoJSONError(
            f"{where}: unknown GeoJSON type {gtype!r}; expected one of {', '.join(allowed)}"
        )
    return gtype


def check_geometry(obj: Any, where: str = "geometry") -> str:
    """Validate a GeoJSON geometry mapping (any type, GeometryCollection included); its type."""
    if not isinstance(obj, Mapping):
        raise GeoJSONError(f"{where} must be a GeoJSON geometry mapping, not {type(obj).__name__}")
    gtype = check_type(obj.get("type"), GEOMETRY_TYPES, f"{where}.type")
    if gtype == "GeometryCollection":
        geometries = obj.get("geometries")
        _check_list(geometries, f"{where}.geometries", "geometries")
        for i, g in enumerate(geometries):
            check_geometry(g, f"{where}.geometries[{i}]")
    else:
        if "coordinates" not in obj:
            raise GeoJSONError(f"{where}: a {gtype} needs 'coordinates'")
        check_coordinates(gtype, obj["coordinates"], f"{where}.coordinates")
    return gtype


def check_feature(obj: Any, where: str) -> None:
    """Check a GeoJSON Feature: its type, geometry and properties mapping.

    Parameters
    ----------
    obj : object
    where : str
        Where it is, for the error message.

    Raises
    ------
    GeoJSONError
    """
    if not isinstance(obj, Mapping) or obj.get("type") != "Feature":
        shown = obj.get("type") if isinstance(obj, Mapping) else type(obj).__name__
        raise GeoJSONError(f"{where} must be a GeoJSON Feature, got {shown!r}")
    if "geometry" not in obj or obj["geometry"] is None:
        raise GeoJSONError(f"{where} has no geometry")
    check_geometry(obj["geometry"], f"{where}.geometry")
    props = obj.get("properties")
    if props is not None and not isinstance(props, Mapping):
        raise GeoJSONError(f"{where}.properties must be a mapping, not {type(props).__name__}")


def check_geojson(obj: Any, where: str = "GeoJSON") -> str:
    """Validate any GeoJSON object (geometry, Feature, FeatureCollection); return its type."""
    if not isinstance(obj, Mapping):
        raise GeoJSONError(f"{where} must be a mapping, not {type(obj).__name__}")
    gtype = check_type(
        obj.get("type"), (*GEOMETRY_TYPES, "Feature", "FeatureCollection"), f"{where}.type"
    )
    if gtype == "Feature":
        check_feature(obj, where)
    elif gtype == "FeatureCollection":
        features = obj.get("features")
        _check_list(features, f"{where}.features", "Features")
        for i, f in enumerate(features):
            check_feature(f, f"{where}.features[{i}]")
    else:
        check_geometry(obj, where)
    return gtype
