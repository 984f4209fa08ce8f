"""AOI: an area of interest as a GeoContext, by resolution or by output shape."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import shapely.geometry
from rasterio.crs import CRS

from tiles.errors import GeoContextError
from tiles.geocontext.base import GeoContext
from tiles.geocontext.grid import (
    WGS84_BOUNDS,
    bounds_tuple,
    geometry_dict,
    nonnegative_int,
    same_crs,
    to_crs,
)

_UNCHANGED: Any = object()


class AOI(GeoContext):
    """An area of interest: bounds (or a geometry) at a resolution or a fixed output shape.

    ``bounds`` default to the geometry's lon/lat bounds (``bounds_crs`` must then be
    EPSG:4326). Exactly one of ``resolution`` and ``shape`` may be given; an AOI missing
    ``crs``, ``bounds`` or both of those is allowed but has no pixel grid until completed with
    :meth:`assign`.

    >>> from tiles.geocontext import AOI
    >>> aoi = AOI(bounds=(-105.1, 35.6, -105.0, 35.7), crs="EPSG:32613", resolution=30)
    >>> aoi.arr_shape
    (371, 303)
    >>> aoi.assign(resolution=60).arr_shape
    (186, 152)
    """

    def __init__(
        self,
        geometry: Any = None,
        resolution: float | None = None,
        crs: str | None = None,
        align_pixels: bool = True,
        bounds: Any = None,
        bounds_crs: str = "EPSG:4326",
        shape: Any = None,
        all_touched: bool = False,
    ) -> None:
        if resolution is not None and shape is not None:
            raise GeoContextError("give resolution or shape, not both")
        if resolution is not None:
            if isinstance(resolution, bool) or not isinstance(resolution, (int, float, np.number)):
                raise GeoContextError(f"resolution must be a number, not {resolution!r}")
            resolution = float(resolution)
            if not (math.isfinite(resolution) and resolution > 0):
                raise GeoContextError(f"resolution must be positive, not {resolution!r}")
        if shape is not None:
            try:
                rows, cols = shape
            except (TypeError, ValueError) as exc:
                raise GeoContextError(f"shape must be (rows, cols), not {shape!r}") from exc
            shape = (nonnegative_int(rows, "shape rows"), nonnegative_int(cols, "shape cols"))
            if min(shape) < 1:
                raise GeoContextError(f"shape must be positive, not {shape!r}")
        if crs is not None:
            to_crs(crs, "crs")
            crs = str(crs)
        if bounds_crs is None:
            raise GeoContextError("bounds_crs must be set")
        bounds_crs_obj = to_crs(bounds_crs, "bounds_crs")
        bounds_crs = str(bounds_crs)

        if geometry is not None:
            geometry = geometry_dict(geometry)
            geom = shapely.geometry.shape(geometry)
            if not geom.intersects(shapely.geometry.box(*WGS84_BOUNDS)):
                raise GeoContextError(
                    f"geometry (bounds {geom.bounds}) does not intersect the lon/lat world "
                    f"{WGS84_BOUNDS}; geometry must be in EPSG:4326"
                )
            if bounds is None:
                if not bounds_crs_obj == CRS.from_epsg(4326):
                    raise GeoContextError(
                        f"bounds default to the geometry's lon/lat bounds, so bounds_crs must be "
                        f"EPSG:4326 (not {bounds_crs}) when bounds are not given"
                    )
                bounds = geom.bounds
        if bounds is not None:
            bounds = bounds_tuple(bounds)
            if bounds_crs_obj.is_projected and all(
                abs(v) <= lim for v, lim in zip(bounds, (180, 90, 180, 90), strict=True)
            ):
                warnings.warn(
                    f"bounds {bounds} look like lon/lat degrees but bounds_crs {bounds_crs} is "
                    "projected; pass bounds_crs='EPSG:4326' if they are degrees",
                    stacklevel=2,
                )
        if (
            bounds is not None
            and resolution is not None
            and crs is not None
            and not all_touched
            and same_crs(crs, bounds_crs)
        ):
            width, height = bounds[2] - bounds[0], bounds[3] - bounds[1]
            if width < resolution or height < resolution:
                raise GeoContextError(
                    f"bounds {bounds} ({width} x {height}) are smaller than one pixel at "
                    f"resolution {resolution}; use a finer resolution or all_touched=True"
                )
        self._set(
            geometry=geometry,
            resolution=resolution,
            crs=crs,
            align_pixels=bool(align_pixels),
            bounds=bounds,
            bounds_crs=bounds_crs,
            shape=shape,
            all_touched=bool(all_touched),
        )

    def assign(
        self,
        geometry: Any = _UNCHANGED,
        resolution: Any = _UNCHANGED,
        crs: Any = _UNCHANGED,
        align_pixels: Any = _UNCHANGED,
        bounds: Any = _UNCHANGED,
        bounds_crs: Any = _UNCHANGED,
        shape: Any = _UNCHANGED,
        all_touched: Any = _UNCHANGED,
    ) -> AOI:
        """A copy with the given fields changed.

        Setting ``resolution`` clears ``shape`` and vice versa. A new ``geometry`` without new
        ``bounds`` resets the bounds to the geometry's lon/lat bounds.
        """
        given = {
            k: v
            for k, v in dict(
                geometry=geometry,
                resolution=resolution,
                crs=crs,
                align_pixels=align_pixels,
                bounds=bounds,
                bounds_crs=bounds_crs,
                shape=shape,
                all_touched=all_touched,
            ).items()
            if v is not _UNCHANGED
        }
        fields = {name: getattr(self, name) for name in self._FIELDS}
        if given.get("resolution") is not None and "shape" not in given:
            fields["shape"] = None
        if given.get("shape") is not None and "resolution" not in given:
            fields["resolution"] = None
        if "geometry" in given and "bounds" not in given:
            fields["bounds"] = None
            if "bounds_crs" not in given:
                fields["bounds_crs"] = "EPSG:4326"
        fields.update(given)
        return AOI(**fields)

    def __repr__(self) -> str:
        parts = []
        for name in self._FIELDS:
            value = getattr(self, name)
            if name == "geometry" and value is not None:
                value = f"<{value['type']}>"
                parts.append(f"geometry={value}")
            else:
                parts.append(f"{name}={value!r}")
        return f"AOI({', '.join(parts)})"


def aoi_on_grid(crs: Any, gdal_geotrans: Any, arr_shape: Any, all_touched: bool) -> AOI:
    """An AOI (without geometry) whose grid is exactly ``gdal_geotrans`` x ``arr_shape``."""
    if crs is None:
        raise GeoContextError("crs must be set to rebuild a GeoContext from gdal_geotrans")
    to_crs(crs, "crs")
    gt = tuple(float(v) for v in gdal_geotrans)
    if len(gt) != 6 or gt[2] != 0 or gt[4] != 0 or gt[1] <= 0 or gt[1] != -gt[5]:
        raise GeoContextError(f"gdal_geotrans {gt} is not north-up with square pixels")
    rows, cols = (nonnegative_int(v, "arr_shape") for v in arr_shape)
    if rows < 1 or cols < 1:
        raise GeoContextError(f"arr_shape {(rows, cols)} is empty")
    minx, res, _, maxy, _, _ = gt
    aoi = object.__new__(AOI)
    # Built directly (no validation needed: the grid is valid) so the grid is kept bit-exact.
    aoi._set(
        geometry=None,
        resolution=res,
        crs=str(crs),
        align_pixels=False,
        bounds=(minx, maxy - rows * res, minx + cols * res, maxy),
        bounds_crs=str(crs),
        shape=None,
        all_touched=bool(all_touched),
    )
    object.__setattr__(aoi, "_grid", (gt, (rows, cols)))
    return aoi
