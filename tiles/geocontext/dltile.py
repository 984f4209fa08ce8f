"""DLTile: a tile of the Descartes Labs UTM tiling, and finding the tiles that cover a shape."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from functools import cached_property
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from rasterio.crs import CRS
from rasterio.transform import rowcol as _rowcol
from rasterio.transform import xy as _xy
from rasterio.warp import transform as _transform
from rasterio.warp import transform_bounds
from shapely.prepared import prep

from tiles.errors import GeoContextError
from tiles.geocontext.base import GeoContext
from tiles.geocontext.grid import (
    DENSIFY,
    SNAP_EPS,
    WGS84_BOUNDS,
    Bounds,
    as_shapely,
    nonnegative_int,
)

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
        geom = as_shapely(shape)
        if geom.is_empty:
            raise GeoContextError("shape is empty")
        west, south, east, north = geom.bounds
        if west < -180 or east > 180 or south < -90 or north > 90:
            raise GeoContextError(
                f"shape bounds {geom.bounds} exceed the lon/lat world {WGS84_BOUNDS}"
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
            pw, ps, pe, pn = transform_bounds("EPSG:4326", utm, *piece.bounds, densify_pts=DENSIFY)
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
        """The raster parameters the original client sends for this tile."""
        return {"dltile": self.key, "align_pixels": False}

    @property
    def cutline(self) -> None:
        """No cutline: a tile is its whole grid."""
        return None

    @property
    def _grid(self) -> tuple[tuple[float, float, float, float, float, float], tuple[int, int]]:
        minx, _, _, maxy = self.bounds
        r = self.resolution
        return (minx, r, 0.0, maxy, 0.0, -r), (self.tile_extent, self.tile_extent)

    @property
    def projected_bounds(self) -> Bounds:
        """The tile's bounds in its own (UTM) CRS, padding included."""
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

        Examples
        --------
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
        pad = self.pad if new_pad is None else nonnegative_int(new_pad, "new_pad")
        tilesize = self.tilesize // n * self.resolution / resolution
        if resolution <= 0 or abs(tilesize - round(tilesize)) > SNAP_EPS * tilesize:
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
        pixels = nonnegative_int(pixels, "pixels")
        return DLTile(
            f"{self.tilesize}:{self.pad + pixels}:{_format_resolution(self.resolution)}:"
            f"{self.zone:02d}:{self.path}:{self.row}",
            all_touched=self.all_touched,
        )

    # -- value semantics -------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The tile as a JSON-serialisable dict (AOI fields plus key, tilesize, pad, zone, ti, tj).

        Returns
        -------
        dict
        """
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
    pad = nonnegative_int(pad, "pad")
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
