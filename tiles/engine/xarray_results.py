"""Image and ImageCollection results as ``xarray.DataArray``, georeferenced with rioxarray.

Needs the optional extra ``pip install 'tiles-workflows[xarray]'``; this module is imported
only when a result is asked for as xarray.

Layout:

* dims ``(band, y, x)`` for an Image, ``(image, band, y, x)`` for an ImageCollection;
* ``band``: the band names; ``y``/``x``: the GeoContext CRS coordinates of pixel centres;
* for a collection, ``date`` (``datetime64[ns]``, UTC, NaT where an image has none) and
  ``id`` along ``image``;
* values in floating point (float32 stays float32, anything else becomes float64) with
  masked pixels as NaN, so ``da.isnull()`` is the mask;
* ``attrs``: an Image's properties; for a collection, ``attrs["properties"]`` is the list of
  each image's properties;
* CRS and transform through rioxarray: ``da.rio.crs``, ``da.rio.transform()``; the nodata
  value is NaN (``da.rio.nodata``), so ``da.rio.to_raster(path)`` writes a GeoTIFF.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
from affine import Affine

if TYPE_CHECKING:
    import xarray


def require_xarray() -> Any:
    """The ``xarray`` module, with rioxarray's ``.rio`` accessor registered.

    Raises
    ------
    ImportError
        Naming the extra to install when either package is missing.
    """
    try:
        import rioxarray  # noqa: F401 - registers the .rio accessor
        import xarray
    except ImportError as exc:
        raise ImportError(
            "results as xarray need xarray and rioxarray: pip install 'tiles-workflows[xarray]'"
        ) from exc
    return xarray


def to_dataarray(result: Any, collection: bool) -> xarray.DataArray:
    """The DataArray of an Image (``collection=False``) or ImageCollection result.

    Parameters
    ----------
    result:
        A computed ``ImageResult`` or ``ImageCollectionResult`` with pixels.
    collection:
        Whether ``result.ndarray`` is (images, bands, rows, cols) rather than (bands, ...).

    Returns
    -------
    xarray.DataArray
        See the module docstring for the layout.

    Raises
    ------
    ValueError
        When the result has no pixels, or its GeoContext has no north-up grid.
    ImportError
        When xarray or rioxarray is not installed.
    """
    xr = require_xarray()
    if result.ndarray is None:
        raise ValueError("the result is empty (no pixels): nothing to make a DataArray of")
    context = result.geocontext or {}
    crs, geotrans = context.get("crs"), context.get("gdal_geotrans")
    if not crs or not geotrans:
        raise ValueError("a DataArray needs a result computed in a GeoContext with a CRS and grid")
    transform = Affine.from_gdal(*geotrans)
    if transform.b != 0 or transform.d != 0:
        raise ValueError("a DataArray needs a north-up grid; this GeoContext's grid is rotated")

    array = np.ma.asarray(result.ndarray)
    dtype = np.float32 if array.dtype == np.float32 else np.float64
    values = np.ma.filled(array.astype(dtype), np.nan)
    rows, cols = values.shape[-2:]
    coords: dict[str, Any] = {
        "band": list(result.bandinfo),
        "y": transform.f + (np.arange(rows) + 0.5) * transform.e,
        "x": transform.c + (np.arange(cols) + 0.5) * transform.a,
    }
    if collection:
        dims = ("image", "band", "y", "x")
        # images made from a number have pixels but no properties at all
        per_image = result.properties or [{}] * values.shape[0]
        coords["date"] = ("image", [_datetime64(p.get("date")) for p in per_image])
        coords["id"] = ("image", [str(p.get("id", "")) for p in per_image])
        attrs = {"properties": list(result.properties)}
    else:
        dims = ("band", "y", "x")
        attrs = dict(result.properties)
    da = xr.DataArray(values, dims=dims, coords=coords, attrs=attrs)
    da = da.rio.write_crs(crs).rio.write_transform(transform)
    return da.rio.write_nodata(np.nan, encoded=False)


def _datetime64(value: Any) -> np.datetime64:
    """A date property as UTC ``datetime64[ns]`` (NaT when missing)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return np.datetime64("NaT", "ns")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return np.datetime64(value, "ns")
    if isinstance(value, dt.date):
        return np.datetime64(value, "ns")
    return np.datetime64("NaT", "ns")
