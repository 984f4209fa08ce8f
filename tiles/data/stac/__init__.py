"""STAC collections as catalog products: images looked up in a STAC catalog at search time.

A STAC product stores where its catalog is — a STAC API, or a static catalog, collection,
ItemCollection, list of items or single item, on disk or over HTTP — which collection, and
which asset holds each band. ``ImageCollection.from_id`` then asks that catalog for the items
meeting the GeoContext and date range, and the pixels are read straight from the asset hrefs
(local paths, or URLs through GDAL's /vsicurl/, see :func:`tiles.data.reading.gdal_read_options`).

Example::

    >>> import tiles as wf
    >>> wf.catalog.add_stac_product(
    ...     "s2", "https://earth-search.aws.element84.com/v1", collection="sentinel-2-l2a",
    ...     bands=["red", "green", "blue", "nir", "scl"])
    >>> wf.ImageCollection.from_id("s2", "2023-06-01", "2023-07-01")

Well-known public catalogs need no registration: ids ``"<preset>:<collection>"`` define
themselves on first use (see :data:`PRESETS`), e.g.
``wf.ImageCollection.from_id("earth-search:sentinel-2-l2a", "2023-06-01", "2023-07-01")``.

What a product and its images get from the items:

* bands: one per raster asset (thumbnails, overviews and "visual" composites are left out,
  as are duplicates of an asset in another format), named by asset key; ``data_range`` from
  ``raster:bands`` ``data_type`` (else the file's own data type), ``physical_range`` from its
  ``scale`` and ``offset`` (identity when absent), ``nodata`` from its ``nodata``. An image
  whose own scale or offset differs from its product's keeps its own (processing versions);
* properties: every item property as-is, plus ``date`` (``datetime``, else
  ``start_datetime``), ``cloud_fraction`` (``eo:cloud_cover`` / 100), ``crs`` and
  ``geotrans`` (from ``proj:*`` of the finest band asset) and ``stac_id``;
* searches are answered from a short-lived cache keyed by catalog, collection, the grid
  cells around the request and dates, so the tiles of a map share catalog queries; a slow
  or unreachable catalog fails with DataError after ``timeout`` seconds
  (``$TILES_HTTP_TIMEOUT`` unless the product says).

pystac parses items (older STAC versions migrated), reads the eo, raster and projection
extensions and walks static catalogs; pystac-client pages API searches. The parts, one
module each: :mod:`~tiles.data.stac.presets` (well-known public catalogs),
:mod:`~tiles.data.stac.fetch` (pystac-client's reader with timeouts and this package's
errors, the cache of answers, asset URL signing), :mod:`~tiles.data.stac.items` (items to
image records), :mod:`~tiles.data.stac.bands` (which assets are bands, how scaled),
:mod:`~tiles.data.stac.search` (API searches, static catalogs, :class:`StacSource`) and
:mod:`~tiles.data.stac.products` (defining products; registers source kind ``"stac"`` with
the catalog store).
"""

from tiles.data.stac.bands import BandSpec, select_bands
from tiles.data.stac.fetch import cache_misses, clear_cache, parse_item, read_json
from tiles.data.stac.items import item_datetime, item_properties, item_record
from tiles.data.stac.presets import PRESETS, Preset, expand_preset, register_preset
from tiles.data.stac.products import add_stac_product, open_source, resolve_product
from tiles.data.stac.search import StacSource, load_static

__all__ = [
    "PRESETS",
    "BandSpec",
    "Preset",
    "StacSource",
    "add_stac_product",
    "cache_misses",
    "clear_cache",
    "expand_preset",
    "item_datetime",
    "item_properties",
    "item_record",
    "load_static",
    "open_source",
    "parse_item",
    "read_json",
    "register_preset",
    "resolve_product",
    "select_bands",
]
