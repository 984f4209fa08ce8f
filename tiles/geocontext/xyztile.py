"""XYZTile: a web-mercator map tile as a GeoContext."""

from __future__ import annotations

import math

import mercantile
import shapely.geometry

from tiles.errors import GeoContextError
from tiles.geocontext.base import GeoContext
from tiles.geocontext.grid import Bounds, nonnegative_int

_EARTH_CIRCUMFERENCE = 2 * math.pi * 6378137.0


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
        z = nonnegative_int(z, "z")
        if z > 30:  # beyond this a pixel is smaller than a millimetre
            raise GeoContextError(f"tile zoom z={z} outside 0..30")
        x = nonnegative_int(x, "x")
        y = nonnegative_int(y, "y")
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
        """The tile's bounds in Web Mercator metres."""
        return self.bounds

    @property
    def bounds_lonlat(self) -> Bounds:
        """The tile's bounds in longitude and latitude: (west, south, east, north)."""
        return tuple(mercantile.bounds(self.x, self.y, self.z))  # type: ignore[return-value]

    @property
    def cutline(self) -> None:
        """No cutline: a tile is its whole grid."""
        return None

    @property
    def raster_params(self) -> dict:
        """The raster parameters of the tile's Web Mercator grid."""
        return {
            "bounds": self.bounds,
            "srs": self.crs,
            "bounds_srs": self.bounds_crs,
            "align_pixels": False,
            "resolution": self.resolution,
        }

    def to_dict(self) -> dict:
        """The tile as a JSON-serialisable dict (x, y, z, tilesize and its raster parameters).

        Returns
        -------
        dict
        """
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
