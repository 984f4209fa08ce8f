"""What a raster file says about itself: its grid, CRS and bounds, its outline on the globe
(a lon/lat footprint) and its acquisition date (from a TIFF tag or its name).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import rasterio
import shapely
import shapely.geometry
from rasterio.errors import RasterioIOError
from rasterio.warp import transform_geom

from tiles.data.records import PathLike
from tiles.errors import DataError

# Points added along each edge of a raster's outline before reprojecting it to lon/lat, so
# the footprint follows the curvature a projected rectangle has on the globe.
DENSIFY_POINTS_PER_EDGE = 20


_NAME_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d\d)[-_]?(\d\d)[-_]?(\d\d)(?:T(\d\d)(\d\d)(\d\d))?(?!\d)"
)


def date_from_name(name: str) -> dt.datetime | None:
    """The first date (and time) written in ``name``, as ``20230115`` or ``2023-01-15T103000``."""
    for m in _NAME_DATE.finditer(name):
        year, month, day, hh, mm, ss = m.groups()
        try:
            return dt.datetime(
                int(year),
                int(month),
                int(day),
                int(hh or 0),
                int(mm or 0),
                int(ss or 0),
                tzinfo=dt.timezone.utc,
            )
        except ValueError:
            continue
    return None


def date_from_tag(value: str | None) -> dt.datetime | None:
    """The date of a ``TIFFTAG_DATETIME`` value, else of a date written in it; None if none."""
    # TIFFTAG_DATETIME is "YYYY:MM:DD HH:MM:SS" by the TIFF specification.
    if not value:
        return None
    try:
        return dt.datetime.strptime(value.strip(), "%Y:%m:%d %H:%M:%S").replace(
            tzinfo=dt.timezone.utc
        )
    except ValueError:
        return date_from_name(value)


def lonlat_footprint(crs: Any, bounds: Sequence[float]) -> dict[str, Any]:
    """The raster outline as a densified lon/lat GeoJSON (Multi)Polygon.

    rasterio cuts the geometry at the antimeridian, so a scene across it becomes a
    MultiPolygon with parts on both sides rather than a polygon spanning the globe.
    """
    w, s, e, n = bounds
    outline = shapely.geometry.box(w, s, e, n)
    step = max(e - w, n - s) / DENSIFY_POINTS_PER_EDGE
    dense = shapely.segmentize(outline, step) if step > 0 else outline
    geom = transform_geom(crs, "EPSG:4326", shapely.geometry.mapping(dense))
    return json.loads(json.dumps(geom))  # plain lists, no tuples, for stable storage


def existing_file(path: PathLike) -> str:
    """The absolute path of a raster file; DataError when there is no such file."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise DataError(f"raster file not found: {p}")
    return str(p.resolve())


def raster_info(path: str) -> dict[str, Any]:
    """Band count, CRS, grid, bounds and date tag of a raster file; DataError naming a problem."""
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise DataError(f"{path} has no coordinate reference system")
            epsg = src.crs.to_epsg()
            return {
                "count": src.count,
                "crs": src.crs,
                "crs_string": f"EPSG:{epsg}" if epsg else src.crs.to_wkt(),
                "transform": src.transform,
                "width": src.width,
                "height": src.height,
                "bounds": tuple(src.bounds),
                "datetime_tag": src.tags().get("TIFFTAG_DATETIME"),
            }
    except RasterioIOError as e:
        raise DataError(f"cannot read raster {path}: {e}") from e
