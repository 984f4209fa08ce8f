"""The GeoContext base class: an immutable output pixel grid, its derived grid and (de)serialisation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import affine
import shapely
import shapely.geometry
from rasterio.crs import CRS
from rasterio.transform import rowcol as _rowcol
from rasterio.transform import xy as _xy
from rasterio.warp import transform_bounds

from tiles.errors import GeoContextError
from tiles.geocontext.grid import (
    DENSIFY,
    Bounds,
    ceil_snap,
    floor_snap,
    geometry_hash,
    nonnegative_int,
    same_crs,
    to_crs,
)


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
        """``GeoContext(...)`` makes an AOI, as the original client's constructor did."""
        if cls is GeoContext:
            # Python then runs AOI.__init__ with the same arguments.
            return object.__new__(_aoi.AOI)
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
        return to_crs(self.crs, "crs")

    @cached_property
    def projected_bounds(self) -> Bounds:
        """``bounds`` in the output ``crs``: the envelope of the (densified) reprojected box."""
        self._require("crs", "bounds")
        if same_crs(self.bounds_crs, self.crs):
            return self.bounds
        out = transform_bounds(
            to_crs(self.bounds_crs, "bounds_crs"),
            self.rasterio_crs,
            *self.bounds,
            densify_pts=DENSIFY,
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
                minx = floor_snap(minx / r) * r
                miny = floor_snap(miny / r) * r
                maxx = ceil_snap(maxx / r) * r
                maxy = ceil_snap(maxy / r) * r
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
        out = transform_bounds(self.rasterio_crs, "EPSG:4326", *grid, densify_pts=DENSIFY)
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
        n = nonnegative_int(pixels, "pixels")
        minx, rx, _, maxy, _, ry = self.gdal_geotrans
        rows, cols = self.arr_shape
        geotrans = (minx - n * rx, rx, 0.0, maxy - n * ry, 0.0, ry)
        return _aoi.aoi_on_grid(self.crs, geotrans, (rows + 2 * n, cols + 2 * n), self.all_touched)

    @cached_property
    def cache_key(self) -> tuple:
        """Hashable identity of the output grid: equal keys read identical pixels."""
        return (
            self.rasterio_crs.to_string(),
            self.gdal_geotrans,
            self.arr_shape,
            geometry_hash(self.geometry),
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
            return _dltile.DLTile.from_key(d["key"], all_touched=all_touched)
        if all(d.get(k) is not None for k in ("x", "y", "z")):
            return _xyztile.XYZTile(
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
            return _aoi.aoi_on_grid(d.get("crs"), d["gdal_geotrans"], d["arr_shape"], all_touched)
        kwargs = {k: d[k] for k in cls._FIELDS if k in d}
        return _aoi.AOI(**kwargs)

    # -- value semantics -------------------------------------------------------------------

    def _identity(self) -> tuple:
        return tuple(
            geometry_hash(v) if name == "geometry" else v
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
                to_crs(self.bounds_crs, "bounds_crs"),
                "EPSG:4326",
                *self.bounds,
                densify_pts=DENSIFY,
            )
        return shapely.geometry.mapping(shapely.geometry.box(*box))


_DERIVED_KEYS = {"arr_shape", "gdal_geotrans", "projected_bounds", "raster_params"}


# The concrete kinds subclass GeoContext, so they load after it; the constructor, buffered()
# and from_dict() build them.
from tiles.geocontext import aoi as _aoi  # noqa: E402
from tiles.geocontext import dltile as _dltile  # noqa: E402
from tiles.geocontext import xyztile as _xyztile  # noqa: E402
