"""Concrete GeoContexts: the output pixel grid (CRS, bounds, resolution, shape) of a computation.

Three kinds, all immutable values:

* :class:`AOI` — any area of interest, by resolution or by output shape.
* :class:`DLTile` — a tile of the Descartes Labs UTM tiling, named by a key like
  ``"512:0:10.0:36:-65:216"``.
* :class:`XYZTile` — a web-mercator map tile.

This package is pure maths: coordinate transforms go through rasterio (PROJ), pixel grids
through affine; nothing here reads rasters.

>>> from tiles.geocontext import AOI, DLTile
>>> tile = DLTile.from_key("512:0:10.0:36:-65:216")
>>> tile.gdal_geotrans
(167200.0, 10.0, 0.0, 1111040.0, 0.0, -10.0)
>>> AOI(bounds=(400000, 4000000, 400100, 4000050), bounds_crs="EPSG:32633",
...     crs="EPSG:32633", resolution=10).arr_shape
(5, 10)
"""

from tiles.geocontext.aoi import AOI
from tiles.geocontext.base import GeoContext
from tiles.geocontext.dltile import DLTile
from tiles.geocontext.xyztile import XYZTile

__all__ = ["GeoContext", "AOI", "DLTile", "XYZTile"]
