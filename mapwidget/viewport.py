"""The map view as a GeoContext: bounds, pixel size and a UTM zone for the view's centre."""

from __future__ import annotations

import math
from typing import Any

from tiles.geocontext import AOI


def utm_zone(lon: float, lat: float) -> int:
    """The UTM zone number of a lon/lat point, with the Norway and Svalbard exceptions.

    Parameters
    ----------
    lon, lat : float
        Degrees.

    Returns
    -------
    int
        1 to 60.

    Examples
    --------
    >>> utm_zone(-105.94, 35.69)
    13
    >>> utm_zone(5.0, 60.0)    # south-west Norway is widened into zone 32
    32
    """
    lon = ((lon + 180.0) % 360.0) - 180.0
    zone = int((lon + 180.0) // 6.0) + 1
    if 56.0 <= lat < 64.0 and 3.0 <= lon < 12.0:
        return 32
    if 72.0 <= lat < 84.0:
        for lo, hi, svalbard in ((0, 9, 31), (9, 21, 33), (21, 33, 35), (33, 42, 37)):
            if lo <= lon < hi:
                return svalbard
    return min(zone, 60)


def utm_crs(lon: float, lat: float) -> str:
    """A PROJ string for the UTM zone (north or south) containing lon/lat.

    Parameters
    ----------
    lon, lat : float
        Degrees.

    Returns
    -------
    str

    Examples
    --------
    >>> utm_crs(-105.94, -35.69)
    '+proj=utm +zone=13 +south +datum=WGS84 +units=m +no_defs'
    """
    south = " +south" if lat < 0 else ""
    return f"+proj=utm +zone={utm_zone(lon, lat)}{south} +datum=WGS84 +units=m +no_defs"


def pixel_size(pixel_bounds: Any) -> tuple[int, int]:
    """The size of a map view in screen pixels.

    Parameters
    ----------
    pixel_bounds : ((left, top), (right, bottom))
        As Leaflet (ipyleaflet's ``Map.pixel_bounds``) gives them.

    Returns
    -------
    (int, int)
        ``(width, height)``.

    Examples
    --------
    >>> pixel_size(((10.0, 20.0), (910.0, 520.5)))
    (900, 501)
    """
    (left, top), (right, bottom) = pixel_bounds
    return math.ceil(right - left), math.ceil(bottom - top)


def view_geocontext(
    bounds: Any,
    pixel_bounds: Any,
    resolution: float | None = None,
    shape: tuple[int, int] | None = None,
    crs: str = "EPSG:3857",
) -> AOI:
    """An AOI covering a Leaflet view.

    Parameters
    ----------
    bounds : ((south, west), (north, east))
        The view's corners in degrees (ipyleaflet's ``Map.bounds``).
    pixel_bounds : ((left, top), (right, bottom))
        The view in screen pixels (ipyleaflet's ``Map.pixel_bounds``).
    resolution : float, optional
        Pixel size in ``crs`` units.
    shape : (int, int), optional
        ``(rows, cols)`` with AOI's meaning (square pixels, the longer side gets
        ``min(shape)`` pixels); the original map passed ``(width, height)`` here, so a
        wide view got as many pixels across as the screen has rows. Without
        ``resolution`` or ``shape`` the grid has about one pixel per screen pixel.
    crs : str
        The AOI's CRS; ``"utm"`` picks the UTM zone of the view's centre.

    Returns
    -------
    AOI
    """
    (south, west), (north, east) = bounds
    if crs == "utm":
        crs = utm_crs((west + east) / 2.0, (south + north) / 2.0)
    if resolution is None and shape is None:
        # AOI pixels are square and its longer side gets min(shape) pixels: asking for
        # the screen's longer side in both gives one pixel per screen pixel.
        longest = max(pixel_size(pixel_bounds))
        shape = (longest, longest)
    return AOI(
        bounds=(west, south, east, north),
        bounds_crs="EPSG:4326",
        crs=crs,
        resolution=resolution,
        shape=shape,
        align_pixels=False,
    )


#: Web-mercator's latitude limit, in degrees.
MERCATOR_LAT = 85.0511287798066


def _mercator_y(lat: float) -> float:
    """Latitude as a fraction of the web-mercator world's height (0 at the equator)."""
    lat = max(-MERCATOR_LAT, min(MERCATOR_LAT, lat))
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / (2 * math.pi)


def view_for_bounds(
    bounds: tuple[float, float, float, float],
    size: tuple[int, int],
    min_zoom: int = 0,
    max_zoom: int = 18,
) -> tuple[tuple[float, float], int]:
    """The centre and the largest zoom at which lon/lat ``bounds`` fit a map of ``size``.

    Parameters
    ----------
    bounds : (west, south, east, north)
        Degrees.
    size : (width, height)
        The map's size in screen pixels.
    min_zoom, max_zoom : int
        Limits of the zoom returned.

    Returns
    -------
    ((lat, lon), zoom)
        The centre as ipyleaflet takes it, and the zoom.

    Examples
    --------
    >>> view_for_bounds((-106.2, 35.5, -105.7, 35.9), (900, 500))
    ((35.7002..., -105.95), 10)
    """
    west, south, east, north = bounds
    width, height = size
    x_fraction = max((east - west) / 360.0, 1e-12)
    y_fraction = max(_mercator_y(north) - _mercator_y(south), 1e-12)
    fits = min(math.log2(width / 256 / x_fraction), math.log2(height / 256 / y_fraction))
    zoom = max(min_zoom, min(max_zoom, math.floor(fits)))
    middle = (_mercator_y(north) + _mercator_y(south)) / 2
    lat = math.degrees(2 * math.atan(math.exp(middle * 2 * math.pi)) - math.pi / 2)
    return (lat, (west + east) / 2), zoom
