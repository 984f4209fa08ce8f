"""Grid maths shared by every GeoContext: CRS parsing, geometry normalisation, bounds checks.

Pure functions raising :class:`~tiles.errors.GeoContextError` with a message naming the bad
value; nothing here reads rasters.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from rasterio.crs import CRS
from rasterio.errors import CRSError

from tiles.errors import GeoContextError

Bounds = tuple[float, float, float, float]

WGS84_BOUNDS = (-180.0, -90.0, 180.0, 90.0)
# Points added along each edge when reprojecting a bounding box, so curved edges are enveloped.
DENSIFY = 21
# Relative tolerance for treating a float quotient as a whole number: bounds that are exact
# multiples of the resolution must not grow by a pixel because of rounding noise.
SNAP_EPS = 1e-9


def to_crs(value: Any, what: str) -> CRS:
    """``value`` as a rasterio CRS; ``what`` names the field in the error when it is not one."""
    try:
        return CRS.from_user_input(value)
    except (CRSError, TypeError, ValueError) as exc:
        raise GeoContextError(
            f"{what} {value!r} is not a valid coordinate reference system"
        ) from exc


def same_crs(a: str, b: str) -> bool:
    """Whether two CRS definitions describe the same CRS (cheap when the strings match)."""
    if a == b:
        return True
    return to_crs(a, "crs") == to_crs(b, "crs")


def as_shapely(geometry: Any) -> shapely.Geometry:
    """A shapely geometry from a GeoJSON geometry, Feature, FeatureCollection or geo-interface."""
    if isinstance(geometry, shapely.Geometry):
        return geometry
    if not isinstance(geometry, Mapping):
        interface = getattr(geometry, "__geo_interface__", None)
        if interface is None:
            raise GeoContextError(
                f"geometry must be a GeoJSON dict or have __geo_interface__, not {type(geometry).__name__}"
            )
        geometry = interface
    gtype = geometry.get("type")
    if gtype == "Feature":
        return as_shapely(geometry.get("geometry"))
    if gtype == "FeatureCollection":
        parts = [as_shapely(f) for f in geometry.get("features", [])]
        if not parts:
            raise GeoContextError("geometry is an empty FeatureCollection")
        return shapely.unary_union(parts)
    try:
        return shapely.geometry.shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise GeoContextError(f"geometry is not valid GeoJSON: {exc}") from exc


def geometry_dict(geometry: Any) -> dict:
    """Normalise any accepted geometry input into a GeoJSON geometry dict (lon/lat)."""
    geom = as_shapely(geometry)
    if geom.is_empty:
        raise GeoContextError("geometry is empty")
    return shapely.geometry.mapping(geom)


def geometry_hash(geometry: dict | None) -> str | None:
    """A stable digest of a GeoJSON dict (key order ignored), or None for no geometry."""
    if geometry is None:
        return None
    canonical = json.dumps(geometry, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(canonical.encode()).hexdigest()


def floor_snap(q: float) -> int:
    """``floor(q)``, but ``q`` within ``SNAP_EPS`` of a whole number rounds to it."""
    n = round(q)
    return int(n) if abs(q - n) <= SNAP_EPS * max(1.0, abs(q)) else math.floor(q)


def ceil_snap(q: float) -> int:
    """``ceil(q)``, but ``q`` within ``SNAP_EPS`` of a whole number rounds to it."""
    n = round(q)
    return int(n) if abs(q - n) <= SNAP_EPS * max(1.0, abs(q)) else math.ceil(q)


def bounds_tuple(bounds: Any) -> Bounds:
    """``bounds`` as 4 finite floats ``(minx, miny, maxx, maxy)`` enclosing a non-empty box."""
    try:
        values = tuple(float(v) for v in bounds)
    except (TypeError, ValueError) as exc:
        raise GeoContextError(
            f"bounds must be 4 numbers (minx, miny, maxx, maxy), not {bounds!r}"
        ) from exc
    if len(values) != 4:
        raise GeoContextError(f"bounds must be 4 numbers (minx, miny, maxx, maxy), not {bounds!r}")
    if not all(math.isfinite(v) for v in values):
        raise GeoContextError(f"bounds must be finite, not {bounds!r}")
    minx, miny, maxx, maxy = values
    if minx >= maxx or miny >= maxy:
        raise GeoContextError(f"bounds {values} are empty: need minx < maxx and miny < maxy")
    return values  # type: ignore[return-value]


def nonnegative_int(value: Any, what: str) -> int:
    """``value`` as an int, which must be a non-negative integer (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise GeoContextError(f"{what} must be a non-negative integer, not {value!r}")
    return int(value)
