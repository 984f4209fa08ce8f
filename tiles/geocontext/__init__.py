"""Concrete GeoContexts: the output pixel grid (CRS, bounds, resolution, shape) of a computation.

Three kinds, all immutable values:

* :class:`AOI` — any area of interest, by resolution or by output shape.
* :class:`DLTile` — a tile of the Descartes Labs UTM tiling, named by a key like
  ``"512:0:10.0:36:-65:216"``.
* :class:`XYZTile` — a web-mercator map tile.

This module is pure maths: coordinate transforms go through rasterio (PROJ), pixel grids
through affine; nothing here reads rasters.

>>> from tiles.geocontext import AOI, DLTile
>>> tile = DLTile.from_key("512:0:10.0:36:-65:216")
>>> tile.gdal_geotrans
(167200.0, 10.0, 0.0, 1111040.0, 0.0, -10.0)
>>> AOI(bounds=(400000, 4000000, 400100, 4000050), bounds_crs="EPSG:32633",
...     crs="EPSG:32633", resolution=10).arr_shape
(5, 10)
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

import affine
import mercantile
import numpy as np
import shapely
import shapely.geometry
from rasterio.crs import CRS
from rasterio.errors import CRSError
from rasterio.transform import rowcol as _rowcol
from rasterio.transform import xy as _xy
from rasterio.warp import transform as _transform
from rasterio.warp import transform_bounds
from shapely.prepared import prep

from tiles.errors import GeoContextError

__all__ = ["GeoContext", "AOI", "DLTile", "XYZTile"]

Bounds = tuple[float, float, float, float]

_WGS84_BOUNDS = (-180.0, -90.0, 180.0, 90.0)
# Points added along each edge when reprojecting a bounding box, so curved edges are enveloped.
_DENSIFY = 21
# Relative tolerance for treating a float quotient as a whole number: bounds that are exact
# multiples of the resolution must not grow by a pixel because of rounding noise.
_SNAP_EPS = 1e-9
_EARTH_CIRCUMFERENCE = 2 * math.pi * 6378137.0


# --------------------------------------------------------------------------------------------
# helpers


def _to_crs(value: Any, what: str) -> CRS:
    try:
        return CRS.from_user_input(value)
    except (CRSError, TypeError, ValueError) as exc:
        raise GeoContextError(
            f"{what} {value!r} is not a valid coordinate reference system"
        ) from exc


def _same_crs(a: str, b: str) -> bool:
    if a == b:
        return True
    return _to_crs(a, "crs") == _to_crs(b, "crs")


def _as_shapely(geometry: Any) -> shapely.Geometry:
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
        return _as_shapely(geometry.get("geometry"))
    if gtype == "FeatureCollection":
        parts = [_as_shapely(f) for f in geometry.get("features", [])]
        if not parts:
            raise GeoContextError("geometry is an empty FeatureCollection")
        return shapely.unary_union(parts)
    try:
        return shapely.geometry.shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise GeoContextError(f"geometry is not valid GeoJSON: {exc}") from exc


def _geometry_dict(geometry: Any) -> dict:
    """Normalise any accepted geometry input into a GeoJSON geometry dict (lon/lat)."""
    geom = _as_shapely(geometry)
    if geom.is_empty:
        raise GeoContextError("geometry is empty")
    return shapely.geometry.mapping(geom)


def _geometry_hash(geometry: dict | None) -> str | None:
    if geometry is None:
        return None
    canonical = json.dumps(geometry, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(canonical.encode()).hexdigest()


def _floor_snap(q: float) -> int:
    n = round(q)
    return int(n) if abs(q - n) <= _SNAP_EPS * max(1.0, abs(q)) else math.floor(q)


def _ceil_snap(q: float) -> int:
    n = round(q)
    return int(n) if abs(q - n) <= _SNAP_EPS * max(1.0, abs(q)) else math.ceil(q)


def _bounds_tuple(bounds: Any) -> Bounds:
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


# --------------------------------------------------------------------------------------------
# base class


class GeoContext:
    """Base of every GeoContext: an immutable description of an output pixel grid.

    Fields: ``geometry`` (GeoJSON in EPSG:4326, the cutline for an :class:`AOI`),
    ``resolution`` (crs units per pixel), ``crs``, ``align_pixels``, ``bounds`` (in
    ``bounds_crs``), ``shape`` ((rows, cols) to fit within) and ``all_touched``. Derived
    properties raise :class:`~tiles.errors.GeoContextError` naming what is missing when the
    context is incomplete.

    Calling ``GeoContext(...)`` itself takes the :class:`AOI` arguments and gives an AOI, like
    the Workflows ``GeoContext`` constructor; see also :meth:`from_dict`.

    >>> from tiles.geocontext import GeoContext
    >>> GeoContext(bounds=(10, 40, 11, 41), crs="EPSG:4326", resolution=0.5).arr_shape
    (2, 2)
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> GeoContext:
        if cls is GeoContext:
            # Python then runs AOI.__init__ with the same arguments.
            return object.__new__(AOI)
        return object.__new__(cls)

    geometry: dict | None
    resolution: float | None
    crs: str | None
    align_pixels: bool
    bounds: Bounds | None
    bounds_crs: str
    shape: tuple[int, int] | None
    all_touched: bool

    _FIELDS = (
        "geometry",
        "resolution",
        "crs",
        "align_pixels",
        "bounds",
        "bounds_crs",
        "shape",
        "all_touched",
    )

    def _set(self, **fields: Any) -> None:
        for name in self._FIELDS:
            object.__setattr__(self, name, fields[name])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; use assign() to change {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    # -- grid ------------------------------------------------------------------------------

    def _require(self, *names: str) -> None:
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise GeoContextError(
                f"{type(self).__name__} is incomplete: {' and '.join(missing)} must be set"
            )

    @cached_property
    def rasterio_crs(self) -> CRS:
        """The output CRS as a :class:`rasterio.crs.CRS`."""
        self._require("crs")
        return _to_crs(self.crs, "crs")

    @cached_property
    def projected_bounds(self) -> Bounds:
        """``bounds`` in the output ``crs``: the envelope of the (densified) reprojected box."""
        self._require("crs", "bounds")
        if _same_crs(self.bounds_crs, self.crs):
            return self.bounds
        out = transform_bounds(
            _to_crs(self.bounds_crs, "bounds_crs"),
            self.rasterio_crs,
            *self.bounds,
            densify_pts=_DENSIFY,
        )
        if not all(math.isfinite(v) for v in out):
            raise GeoContextError(
                f"bounds {self.bounds} in {self.bounds_crs} cannot be projected into {self.crs}"
            )
        return tuple(float(v) for v in out)  # type: ignore[return-value]

    @cached_property
    def _grid(self) -> tuple[tuple[float, float, float, float, float, float], tuple[int, int]]:
        """(gdal_geotrans, arr_shape) of the output grid."""
        if self.resolution is None and self.shape is None:
            raise GeoContextError(
                f"{type(self).__name__} is incomplete: resolution or shape must be set"
            )
        minx, miny, maxx, maxy = self.projected_bounds
        if self.resolution is not None:
            r = float(self.resolution)
            if self.align_pixels:
                # Snap outward to whole multiples of the resolution (like ``gdalwarp -tap``).
                minx = _floor_snap(minx / r) * r
                miny = _floor_snap(miny / r) * r
                maxx = _ceil_snap(maxx / r) * r
                maxy = _ceil_snap(maxy / r) * r
            cols = round((maxx - minx) / r)
            rows = round((maxy - miny) / r)
        else:
            # Square pixels; the longer side of the raster gets min(shape) pixels.
            n = min(self.shape)
            width, height = maxx - minx, maxy - miny
            r = max(width, height) / n
            if width >= height:
                cols, rows = n, max(1, round(height / r))
            else:
                rows, cols = n, max(1, round(width / r))
        if rows < 1 or cols < 1:
            raise GeoContextError(
                f"bounds {self.projected_bounds} are smaller than one pixel at resolution {r}"
            )
        return (minx, r, 0.0, maxy, 0.0, -r), (int(rows), int(cols))

    @property
    def gdal_geotrans(self) -> tuple[float, float, float, float, float, float]:
        """GDAL geotransform ``(minx, res, 0.0, maxy, 0.0, -res)`` of the output grid."""
        return self._grid[0]

    @property
    def arr_shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the output arrays."""
        return self._grid[1]

    @property
    def transform(self) -> affine.Affine:
        """The output grid's affine transform (pixel (col, row) -> crs (x, y))."""
        return affine.Affine.from_gdal(*self.gdal_geotrans)

    @property
    def grid_bounds(self) -> Bounds:
        """``(minx, miny, maxx, maxy)`` in ``crs`` of the output grid's outer pixel edges."""
        minx, rx, _, maxy, _, ry = self.gdal_geotrans
        rows, cols = self.arr_shape
        return (minx, maxy + ry * rows, minx + rx * cols, maxy)

    @cached_property
    def bounds_lonlat(self) -> Bounds:
        """``(west, south, east, north)`` in EPSG:4326 enveloping the output grid.

        Where the grid crosses the antimeridian, ``west > east`` (rasterio's convention).
        """
        grid = self.grid_bounds
        if self.rasterio_crs == CRS.from_epsg(4326):
            return grid
        out = transform_bounds(self.rasterio_crs, "EPSG:4326", *grid, densify_pts=_DENSIFY)
        return tuple(float(v) for v in out)  # type: ignore[return-value]

    @property
    def cutline(self) -> dict | None:
        """The geometry that masks the output (lon/lat GeoJSON), or None.

        An :class:`AOI`'s geometry is its cutline. A tile's geometry only describes its
        footprint (its raster parameters carry no cutline), so tiles have none.
        """
        return self.geometry

    def coords_to_index(self, x: float, y: float) -> tuple[int, int]:
        """``(row, col)`` of the pixel containing point ``(x, y)`` (in ``crs``).

        >>> from tiles.geocontext import DLTile
        >>> DLTile.from_key("512:0:10.0:36:-65:216").coords_to_index(x=167220.0, y=1111000.0)
        (4, 2)
        """
        row, col = _rowcol(self.transform, x, y, op=math.floor)
        return int(row), int(col)

    def index_to_coords(self, row: int, col: int) -> tuple[float, float]:
        """``(x, y)`` in ``crs`` of the upper-left corner of pixel ``(row, col)``.

        >>> from tiles.geocontext import DLTile
        >>> DLTile.from_key("512:0:10.0:36:-65:216").index_to_coords(row=4, col=2)
        (167220.0, 1111000.0)
        """
        x, y = _xy(self.transform, row, col, offset="ul")
        return float(x), float(y)

    def buffered(self, pixels: int) -> GeoContext:
        """The same pixel grid grown by ``pixels`` on every side (a halo for convolutions).

        ``arr_shape`` grows by ``2 * pixels`` each way and the origin moves up-left by exactly
        ``pixels`` pixels, so ``array[pixels:-pixels, pixels:-pixels]`` of a read on the result
        is the original grid. The result has **no cutline** (its geometry is dropped, or for a
        :class:`DLTile` is the padded footprint): halo pixels must hold real data, so apply the
        original context's cutline to the cropped result.

        >>> from tiles.geocontext import AOI
        >>> ctx = AOI(bounds=(400000, 4000000, 400100, 4000050), bounds_crs="EPSG:32633",
        ...     crs="EPSG:32633", resolution=10)
        >>> big = ctx.buffered(2)
        >>> big.arr_shape, big.gdal_geotrans
        ((9, 14), (399980.0, 10.0, 0.0, 4000070.0, 0.0, -10.0))
        """
        n = _nonnegative_int(pixels, "pixels")
        minx, rx, _, maxy, _, ry = self.gdal_geotrans
        rows, cols = self.arr_shape
        geotrans = (minx - n * rx, rx, 0.0, maxy - n * ry, 0.0, ry)
        return _aoi_on_grid(self.crs, geotrans, (rows + 2 * n, cols + 2 * n), self.all_touched)

    @cached_property
    def cache_key(self) -> tuple:
        """Hashable identity of the output grid: equal keys read identical pixels."""
        return (
            self.rasterio_crs.to_string(),
            self.gdal_geotrans,
            self.arr_shape,
            _geometry_hash(self.geometry),
            self.all_touched,
        )

    # -- (de)serialisation -----------------------------------------------------------------

    def _derived(self) -> dict:
        try:
            return {
                "arr_shape": self.arr_shape,
                "gdal_geotrans": self.gdal_geotrans,
                "projected_bounds": self.projected_bounds,
            }
        except GeoContextError:
            return {"arr_shape": None, "gdal_geotrans": None, "projected_bounds": None}

    def to_dict(self) -> dict:
        """Every documented property as a JSON-able dict (what computing a GeoContext returns).

        Derived values (``arr_shape``, ``gdal_geotrans``, ``projected_bounds``) are None while
        the context is incomplete.
        """
        out = {name: getattr(self, name) for name in self._FIELDS}
        out.update(self._derived())
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GeoContext:
        """Inverse of :meth:`to_dict`; also accepts the keywords of the GeoContext constructor.

        A dict with a ``key`` gives a :class:`DLTile`, one with ``x``, ``y``, ``z`` an
        :class:`XYZTile`, anything else an :class:`AOI`. A dict with only ``crs``,
        ``gdal_geotrans`` and ``arr_shape`` gives an AOI on exactly that grid.

        >>> from tiles.geocontext import GeoContext, XYZTile
        >>> GeoContext.from_dict(XYZTile(1, 2, 3).to_dict()) == XYZTile(1, 2, 3)
        True
        """
        d = dict(d)
        all_touched = bool(d.get("all_touched", False))
        if d.get("key") is not None:
            return DLTile.from_key(d["key"], all_touched=all_touched)
        if all(d.get(k) is not None for k in ("x", "y", "z")):
            return XYZTile(
                d["x"], d["y"], d["z"], tilesize=d.get("tilesize", 256), all_touched=all_touched
            )
        unknown = set(d) - set(cls._FIELDS) - _DERIVED_KEYS
        if unknown:
            raise GeoContextError(f"unknown GeoContext properties: {', '.join(sorted(unknown))}")
        if (
            d.get("bounds") is None
            and d.get("geometry") is None
            and d.get("gdal_geotrans") is not None
            and d.get("arr_shape") is not None
        ):
            return _aoi_on_grid(d.get("crs"), d["gdal_geotrans"], d["arr_shape"], all_touched)
        kwargs = {k: d[k] for k in cls._FIELDS if k in d}
        return AOI(**kwargs)

    # -- value semantics -------------------------------------------------------------------

    def _identity(self) -> tuple:
        return tuple(
            _geometry_hash(v) if name == "geometry" else v
            for name in self._FIELDS
            for v in [getattr(self, name)]
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._identity()))

    @property
    def __geo_interface__(self) -> dict:
        """The lon/lat geometry, or the lon/lat box of the output grid when there is none."""
        if self.geometry is not None:
            return self.geometry
        if self.bounds is None:
            raise GeoContextError(f"{type(self).__name__} has neither geometry nor bounds")
        if self.crs is not None and (self.resolution is not None or self.shape is not None):
            box = self.bounds_lonlat
        else:
            box = transform_bounds(
                _to_crs(self.bounds_crs, "bounds_crs"),
                "EPSG:4326",
                *self.bounds,
                densify_pts=_DENSIFY,
            )
        return shapely.geometry.mapping(shapely.geometry.box(*box))


_DERIVED_KEYS = {"arr_shape", "gdal_geotrans", "projected_bounds", "raster_params"}


def _aoi_on_grid(crs: Any, gdal_geotrans: Any, arr_shape: Any, all_touched: bool) -> AOI:
    """An AOI (without geometry) whose grid is exactly ``gdal_geotrans`` x ``arr_shape``."""
    if crs is None:
        raise GeoContextError("crs must be set to rebuild a GeoContext from gdal_geotrans")
    _to_crs(crs, "crs")
    gt = tuple(float(v) for v in gdal_geotrans)
    if len(gt) != 6 or gt[2] != 0 or gt[4] != 0 or gt[1] <= 0 or gt[1] != -gt[5]:
        raise GeoContextError(f"gdal_geotrans {gt} is not north-up with square pixels")
    rows, cols = (_nonnegative_int(v, "arr_shape") for v in arr_shape)
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


def _nonnegative_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise GeoContextError(f"{what} must be a non-negative integer, not {value!r}")
    return int(value)


# --------------------------------------------------------------------------------------------
# AOI


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
            shape = (_nonnegative_int(rows, "shape rows"), _nonnegative_int(cols, "shape cols"))
            if min(shape) < 1:
                raise GeoContextError(f"shape must be positive, not {shape!r}")
        if crs is not None:
            _to_crs(crs, "crs")
            crs = str(crs)
        if bounds_crs is None:
            raise GeoContextError("bounds_crs must be set")
        bounds_crs_obj = _to_crs(bounds_crs, "bounds_crs")
        bounds_crs = str(bounds_crs)

        if geometry is not None:
            geometry = _geometry_dict(geometry)
            geom = shapely.geometry.shape(geometry)
            if not geom.intersects(shapely.geometry.box(*_WGS84_BOUNDS)):
                raise GeoContextError(
                    f"geometry (bounds {geom.bounds}) does not intersect the lon/lat world "
                    f"{_WGS84_BOUNDS}; geometry must be in EPSG:4326"
                )
            if bounds is None:
                if not bounds_crs_obj == CRS.from_epsg(4326):
                    raise GeoContextError(
                        f"bounds default to the geometry's lon/lat bounds, so bounds_crs must be "
                        f"EPSG:4326 (not {bounds_crs}) when bounds are not given"
                    )
                bounds = geom.bounds
        if bounds is not None:
            bounds = _bounds_tuple(bounds)
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
            and _same_crs(crs, bounds_crs)
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


# --------------------------------------------------------------------------------------------
# DLTile

_KEY_RE = re.compile(r"^(\d+):(-?\d+):(\d+(?:\.\d+)?):(\d+):(-?\d+):(-?\d+)$")
_UTM_FALSE_EASTING = 500000.0
# DL tiles never reach further than this from the central meridian (a 6° zone is ~668 km wide
# at the equator), which bounds the easting search in from_shape.
_UTM_HALF_WIDTH = 334000.0
_FROM_SHAPE_WARN = 50000


def _utm_proj4(zone: int) -> str:
    # No +south: DL tiles extend the northern zone southward with negative northings.
    return f"+proj=utm +zone={zone} +datum=WGS84 +units=m +no_defs "


def _utm_crs(zone: int) -> CRS:
    return CRS.from_string(_utm_proj4(zone))


def _format_resolution(resolution: float) -> str:
    text = f"{resolution:f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _zone_for_lon(lon: float) -> int:
    return max(1, 1 + math.floor((lon + 180.0) / 6.0))


class DLTile(GeoContext):
    """A tile of the Descartes Labs UTM tiling, named ``tilesize:pad:resolution:zone:path:row``.

    The grid is in ``EPSG:326zz`` (zone ``zz``) extended south with negative northings: the
    unpadded tile spans eastings ``500000 + path * tilesize * resolution`` onwards and
    northings ``row * tilesize * resolution`` onwards; ``pad`` pixels are added on every side.

    >>> from tiles.geocontext import DLTile
    >>> tile = DLTile.from_latlon(10, 30, resolution=10, tilesize=512, pad=0)
    >>> tile.key, tile.bounds, tile.arr_shape
    ('512:0:10.0:36:-65:216', (167200.0, 1105920.0, 172320.0, 1111040.0), (512, 512))
    """

    def __init__(self, key: str, all_touched: bool = False) -> None:
        match = _KEY_RE.match(str(key).strip())
        if match is None:
            raise GeoContextError(
                f"invalid DLTile key {key!r}: expected 'tilesize:pad:resolution:zone:path:row'"
            )
        tilesize, pad = int(match[1]), int(match[2])
        resolution, zone = float(match[3]), int(match[4])
        path, row = int(match[5]), int(match[6])
        if tilesize <= 0:
            raise GeoContextError(f"invalid DLTile key {key!r}: tilesize must be positive")
        if pad < 0:
            raise GeoContextError(f"invalid DLTile key {key!r}: pad must not be negative")
        if resolution <= 0:
            raise GeoContextError(f"invalid DLTile key {key!r}: resolution must be positive")
        if not 1 <= zone <= 60:
            raise GeoContextError(f"invalid DLTile key {key!r}: zone must be 1..60")
        object.__setattr__(self, "tilesize", tilesize)
        object.__setattr__(self, "pad", pad)
        object.__setattr__(self, "zone", zone)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "row", row)
        object.__setattr__(
            self,
            "key",
            f"{tilesize}:{pad}:{_format_resolution(resolution)}:{zone:02d}:{path}:{row}",
        )
        size = resolution * tilesize
        x_min = _UTM_FALSE_EASTING + path * size
        y_min = row * size
        padding = pad * resolution
        bounds = (x_min - padding, y_min - padding, x_min + size + padding, y_min + size + padding)
        # The footprint: the 4 padded corners in lon/lat joined by straight lon/lat edges.
        minx, miny, maxx, maxy = bounds
        lons, lats = _transform(
            _utm_crs(zone), "EPSG:4326", [minx, maxx, maxx, minx], [miny, miny, maxy, maxy]
        )
        ring = tuple((float(lo), float(la)) for lo, la in zip(lons, lats, strict=True))
        self._set(
            geometry={"type": "Polygon", "coordinates": (ring + ring[:1],)},
            resolution=resolution,
            crs=f"EPSG:{32600 + zone}",
            align_pixels=False,
            bounds=bounds,
            bounds_crs=f"EPSG:{32600 + zone}",
            shape=None,
            all_touched=bool(all_touched),
        )

    tilesize: int
    pad: int
    zone: int
    path: int
    row: int
    key: str

    # -- constructors ----------------------------------------------------------------------

    @classmethod
    def from_key(cls, key: str, all_touched: bool = False) -> DLTile:
        """The tile named by ``key``, e.g. ``"512:0:10.0:36:-65:216"``."""
        return cls(key, all_touched=all_touched)

    @classmethod
    def from_latlon(
        cls, lat: float, lon: float, resolution: float, tilesize: int, pad: int
    ) -> DLTile:
        """The tile containing point ``(lat, lon)``.

        >>> from tiles.geocontext import DLTile
        >>> DLTile.from_latlon(-33.9, 18.4, 10, 512, 16).key
        '512:16:10.0:34:-47:-734'
        """
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon < 180.0):
            raise GeoContextError(
                f"latitude {lat} / longitude {lon} outside -90..90 / -180..180 (180 excluded)"
            )
        tilesize, pad, resolution = _tile_params(resolution, tilesize, pad)
        zone = _zone_for_lon(lon)
        xs, ys = _transform("EPSG:4326", _utm_crs(zone), [lon], [lat])
        size = float(resolution) * tilesize
        path = math.floor((xs[0] - _UTM_FALSE_EASTING) / size)
        row = math.floor(ys[0] / size)
        return cls(f"{tilesize}:{pad}:{_format_resolution(resolution)}:{zone:02d}:{path}:{row}")

    @classmethod
    def iter_from_shape(
        cls,
        shape: Any,
        resolution: float,
        tilesize: int,
        pad: int,
        keys_only: bool = False,
    ) -> Iterator[DLTile | str]:
        """Yield every tile (or key) whose lon/lat footprint intersects ``shape``.

        ``shape`` is a lon/lat geometry (GeoJSON, Feature, FeatureCollection or
        ``__geo_interface__``). Each zone's part of the shape is covered separately; tiles are
        found by a quadtree over path/row so large areas stay fast.

        >>> from tiles.geocontext import DLTile
        >>> tile = DLTile.from_latlon(10, 30, resolution=10, tilesize=512, pad=0)
        >>> list(DLTile.iter_from_shape(tile.geometry, 10, 512, 0, keys_only=True))  # doctest: +ELLIPSIS
        [...'512:0:10.0:36:-65:216'...]
        """
        tilesize, pad, resolution = _tile_params(resolution, tilesize, pad)
        geom = _as_shapely(shape)
        if geom.is_empty:
            raise GeoContextError("shape is empty")
        west, south, east, north = geom.bounds
        if west < -180 or east > 180 or south < -90 or north > 90:
            raise GeoContextError(
                f"shape bounds {geom.bounds} exceed the lon/lat world {_WGS84_BOUNDS}"
            )
        res_text = _format_resolution(resolution)
        resolution = float(res_text)
        size = resolution * tilesize
        seen: set[str] = set()
        for zone in range(_zone_for_lon(west), min(60, _zone_for_lon(east)) + 1):
            lon0 = -180.0 + 6.0 * (zone - 1)
            piece = geom.intersection(shapely.geometry.box(lon0, -90.0, lon0 + 6.0, 90.0))
            # A polygon only touching the zone edge contributes a line: not part of this zone.
            if piece.is_empty or (geom.area > 0 and piece.area == 0):
                continue
            utm = _utm_crs(zone)
            # Envelope of the piece in UTM, one tile of margin for the straight-edge footprints.
            pw, ps, pe, pn = transform_bounds("EPSG:4326", utm, *piece.bounds, densify_pts=_DENSIFY)
            pw = max(pw, _UTM_FALSE_EASTING - _UTM_HALF_WIDTH)
            pe = min(pe, _UTM_FALSE_EASTING + _UTM_HALF_WIDTH)
            p0 = math.floor((pw - _UTM_FALSE_EASTING) / size) - 1
            p1 = math.floor((pe - _UTM_FALSE_EASTING) / size) + 2
            r0 = math.floor(ps / size) - 1
            r1 = math.floor(pn / size) + 2
            if (p1 - p0) * (r1 - r0) > _FROM_SHAPE_WARN:
                warnings.warn(
                    f"shape spans up to {(p1 - p0) * (r1 - r0)} tiles in zone {zone}",
                    stacklevel=2,
                )
            prepared = prep(piece)
            for path, row in _quadtree(prepared, utm, size, p0, p1, r0, r1):
                key = f"{tilesize}:{pad}:{res_text}:{zone:02d}:{path}:{row}"
                if key in seen:
                    continue
                seen.add(key)
                yield key if keys_only else cls(key)

    @classmethod
    def from_shape(
        cls,
        shape: Any,
        resolution: float,
        tilesize: int,
        pad: int,
        keys_only: bool = False,
    ) -> list[DLTile] | list[str]:
        """Every tile (or key) whose lon/lat footprint intersects ``shape``, as a list."""
        return list(cls.iter_from_shape(shape, resolution, tilesize, pad, keys_only=keys_only))

    # -- properties ------------------------------------------------------------------------

    @property
    def ti(self) -> int:
        """The path (easting index) of the tile."""
        return self.path

    @property
    def tj(self) -> int:
        """The row (northing index) of the tile."""
        return self.row

    @property
    def tile_extent(self) -> int:
        """Pixels along each side, including padding: ``tilesize + 2 * pad``."""
        return self.tilesize + 2 * self.pad

    @property
    def proj4(self) -> str:
        """The PROJ.4 definition of the tile's UTM zone (north-only, no false northing)."""
        return _utm_proj4(self.zone)

    @cached_property
    def wkt(self) -> str:
        """The WKT (GDAL WKT1) of the tile's CRS, ``EPSG:326zz``."""
        return self.rasterio_crs.to_wkt(version="WKT1_GDAL")

    @property
    def geotrans(self) -> tuple[float, ...]:
        """The affine 9-tuple ``(res, 0, minx, 0, -res, maxy, 0, 0, 1)``."""
        return tuple(self.transform)

    @property
    def raster_params(self) -> dict:
        return {"dltile": self.key, "align_pixels": False}

    @property
    def cutline(self) -> None:
        return None

    @property
    def _grid(self) -> tuple[tuple[float, float, float, float, float, float], tuple[int, int]]:
        minx, _, _, maxy = self.bounds
        r = self.resolution
        return (minx, r, 0.0, maxy, 0.0, -r), (self.tile_extent, self.tile_extent)

    @property
    def projected_bounds(self) -> Bounds:
        return self.bounds

    # -- pixel maps ------------------------------------------------------------------------

    def rowcol_to_latlon(self, row: Any, col: Any) -> tuple[Any, Any]:
        """``(lat, lon)`` of pixel centres; accepts scalars or arrays.

        >>> from tiles.geocontext import DLTile
        >>> lat, lon = DLTile.from_key("512:0:10.0:36:-65:216").rowcol_to_latlon(0, 0)
        >>> round(lat, 6), round(lon, 6)
        (10.036947, 29.964425)
        """
        rows, cols = np.asarray(row, dtype=float), np.asarray(col, dtype=float)
        xs, ys = _xy(self.transform, np.ravel(rows), np.ravel(cols), offset="center")
        lons, lats = _transform(
            _utm_crs(self.zone), "EPSG:4326", np.ravel(xs).tolist(), np.ravel(ys).tolist()
        )
        lats, lons = np.reshape(lats, rows.shape), np.reshape(lons, rows.shape)
        if lats.ndim == 0:
            return float(lats), float(lons)
        return lats, lons

    def latlon_to_rowcol(self, lat: Any, lon: Any) -> tuple[Any, Any]:
        """``(row, col)`` of the pixels containing ``(lat, lon)``; scalars or arrays.

        Points outside the tile give indices outside ``0..tile_extent``.
        """
        lats, lons = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
        xs, ys = _transform(
            "EPSG:4326", _utm_crs(self.zone), np.ravel(lons).tolist(), np.ravel(lats).tolist()
        )
        rows, cols = _rowcol(self.transform, xs, ys, op=np.floor)
        rows = np.reshape(rows, lats.shape).astype(int)
        cols = np.reshape(cols, lats.shape).astype(int)
        if rows.ndim == 0:
            return int(rows), int(cols)
        return rows, cols

    # -- derived tiles ---------------------------------------------------------------------

    def subtile(
        self, subdivide: int, new_resolution: float | None = None, new_pad: int | None = None
    ) -> Iterator[DLTile]:
        """Yield the ``subdivide**2`` tiles that split this one, north to south, west to east.

        Each covers ``1/subdivide`` of the tile's width; ``new_resolution`` (default the
        tile's) must give a whole number of pixels. ``new_pad`` defaults to the tile's pad.

        >>> from tiles.geocontext import DLTile
        >>> [t.key for t in DLTile.from_key("512:0:10.0:36:-65:216").subtile(2)][:2]
        ['256:0:10.0:36:-130:433', '256:0:10.0:36:-129:433']
        """
        n = subdivide
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise GeoContextError(f"subdivide must be a positive integer, not {n!r}")
        if self.tilesize % n:
            raise GeoContextError(f"tilesize {self.tilesize} is not divisible by {n}")
        resolution = self.resolution if new_resolution is None else float(new_resolution)
        pad = self.pad if new_pad is None else _nonnegative_int(new_pad, "new_pad")
        tilesize = self.tilesize // n * self.resolution / resolution
        if resolution <= 0 or abs(tilesize - round(tilesize)) > _SNAP_EPS * tilesize:
            raise GeoContextError(
                f"new resolution {resolution} does not give whole-pixel subtiles "
                f"({tilesize} pixels)"
            )
        tilesize = round(tilesize)
        res_text = _format_resolution(resolution)
        for j in reversed(range(n)):
            for i in range(n):
                yield DLTile(
                    f"{tilesize}:{pad}:{res_text}:{self.zone:02d}:"
                    f"{self.path * n + i}:{self.row * n + j}",
                    all_touched=self.all_touched,
                )

    def buffered(self, pixels: int) -> DLTile:
        """This tile with ``pixels`` more padding: the same grid grown on every side.

        >>> from tiles.geocontext import DLTile
        >>> DLTile.from_key("512:0:10.0:36:-65:216").buffered(3).key
        '512:3:10.0:36:-65:216'
        """
        pixels = _nonnegative_int(pixels, "pixels")
        return DLTile(
            f"{self.tilesize}:{self.pad + pixels}:{_format_resolution(self.resolution)}:"
            f"{self.zone:02d}:{self.path}:{self.row}",
            all_touched=self.all_touched,
        )

    # -- value semantics -------------------------------------------------------------------

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.update(
            key=self.key,
            tilesize=self.tilesize,
            pad=self.pad,
            zone=self.zone,
            ti=self.ti,
            tj=self.tj,
            proj4=self.proj4,
            wkt=self.wkt,
            geotrans=self.geotrans,
            raster_params=self.raster_params,
        )
        return out

    def _identity(self) -> tuple:
        return (self.key, self.all_touched)

    def __repr__(self) -> str:
        extra = ", all_touched=True" if self.all_touched else ""
        return f"DLTile({self.key!r}{extra})"


def _tile_params(resolution: Any, tilesize: Any, pad: Any) -> tuple[int, int, float]:
    if isinstance(tilesize, bool) or not isinstance(tilesize, (int, np.integer)) or tilesize <= 0:
        raise GeoContextError(f"tilesize must be a positive integer, not {tilesize!r}")
    pad = _nonnegative_int(pad, "pad")
    try:
        resolution = float(resolution)
    except (TypeError, ValueError) as exc:
        raise GeoContextError(f"resolution must be a number, not {resolution!r}") from exc
    if not (math.isfinite(resolution) and resolution > 0):
        raise GeoContextError(f"resolution must be positive, not {resolution!r}")
    return int(tilesize), pad, resolution


def _block_lonlat(utm: CRS, size: float, p0: int, p1: int, r0: int, r1: int) -> shapely.Geometry:
    """Lon/lat polygon of tiles [p0, p1) x [r0, r1), with a vertex at every tile corner.

    Tile footprints join corners with straight lon/lat edges, so this polygon is exactly the
    union of the block's tile footprints.
    """
    ps = range(p0, p1 + 1)
    rs = range(r0, r1 + 1)
    corners = (
        [(p, r0) for p in ps]
        + [(p1, r) for r in rs[1:]]
        + [(p, r1) for p in reversed(ps[:-1])]
        + [(p0, r) for r in reversed(rs[1:-1])]
    )
    xs = [_UTM_FALSE_EASTING + p * size for p, _ in corners]
    ys = [r * size for _, r in corners]
    lons, lats = _transform(utm, "EPSG:4326", xs, ys)
    return shapely.geometry.Polygon(list(zip(lons, lats, strict=True)))


def _quadtree(
    prepared: Any, utm: CRS, size: float, p0: int, p1: int, r0: int, r1: int
) -> Iterator[tuple[int, int]]:
    """(path, row) of tiles in [p0, p1) x [r0, r1) whose footprint intersects the shape."""
    if p0 >= p1 or r0 >= r1:
        return
    block = _block_lonlat(utm, size, p0, p1, r0, r1)
    if not prepared.intersects(block):
        return
    if (p1 - p0) * (r1 - r0) <= 9:
        for p in range(p0, p1):
            for r in range(r0, r1):
                if prepared.intersects(_block_lonlat(utm, size, p, p + 1, r, r + 1)):
                    yield p, r
        return
    if prepared.contains(block):
        for p in range(p0, p1):
            for r in range(r0, r1):
                yield p, r
        return
    pm, rm = (p0 + p1) // 2, (r0 + r1) // 2
    for a, b in ((p0, pm), (pm, p1)):
        for c, d in ((r0, rm), (rm, r1)):
            yield from _quadtree(prepared, utm, size, a, b, c, d)


# --------------------------------------------------------------------------------------------
# XYZTile


class XYZTile(GeoContext):
    """A web-mercator (EPSG:3857) map tile ``z/x/y`` in the OpenStreetMap scheme.

    >>> from tiles.geocontext import XYZTile
    >>> tile = XYZTile(1, 2, 3)
    >>> tile.resolution, tile.arr_shape
    (19567.87924100512, (256, 256))
    """

    x: int
    y: int
    z: int
    tilesize: int

    def __init__(
        self, x: int, y: int, z: int, tilesize: int = 256, all_touched: bool = False
    ) -> None:
        z = _nonnegative_int(z, "z")
        x = _nonnegative_int(x, "x")
        y = _nonnegative_int(y, "y")
        if x >= 2**z or y >= 2**z:
            raise GeoContextError(f"tile x={x}, y={y} outside 0..{2**z - 1} at zoom {z}")
        if isinstance(tilesize, bool) or not isinstance(tilesize, int) or tilesize <= 0:
            raise GeoContextError(f"tilesize must be a positive integer, not {tilesize!r}")
        for name, value in (("x", x), ("y", y), ("z", z), ("tilesize", tilesize)):
            object.__setattr__(self, name, value)
        lonlat = mercantile.bounds(x, y, z)
        self._set(
            geometry=shapely.geometry.mapping(shapely.geometry.box(*lonlat)),
            resolution=_EARTH_CIRCUMFERENCE / 2**z / tilesize,
            crs="EPSG:3857",
            align_pixels=False,
            bounds=tuple(mercantile.xy_bounds(x, y, z)),
            bounds_crs="EPSG:3857",
            shape=None,
            all_touched=bool(all_touched),
        )

    @property
    def _grid(self) -> tuple[tuple[float, float, float, float, float, float], tuple[int, int]]:
        minx, _, _, maxy = self.bounds
        r = self.resolution
        return (minx, r, 0.0, maxy, 0.0, -r), (self.tilesize, self.tilesize)

    @property
    def projected_bounds(self) -> Bounds:
        return self.bounds

    @property
    def bounds_lonlat(self) -> Bounds:
        return tuple(mercantile.bounds(self.x, self.y, self.z))  # type: ignore[return-value]

    @property
    def cutline(self) -> None:
        return None

    @property
    def raster_params(self) -> dict:
        return {
            "bounds": self.bounds,
            "srs": self.crs,
            "bounds_srs": self.bounds_crs,
            "align_pixels": False,
            "resolution": self.resolution,
        }

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.update(
            x=self.x, y=self.y, z=self.z, tilesize=self.tilesize, raster_params=self.raster_params
        )
        return out

    def _identity(self) -> tuple:
        return (self.x, self.y, self.z, self.tilesize, self.all_touched)

    def __repr__(self) -> str:
        extra = "" if self.tilesize == 256 else f", tilesize={self.tilesize}"
        extra += ", all_touched=True" if self.all_touched else ""
        return f"XYZTile(x={self.x}, y={self.y}, z={self.z}{extra})"
