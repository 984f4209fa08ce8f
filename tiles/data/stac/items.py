"""STAC items as image records: a ``pystac.Item``'s date, properties, grid (projection
extension) and footprint, and its asset hrefs per product band."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pystac
import shapely.geometry
from pystac.extensions.eo import ItemEOExtension
from pystac.extensions.projection import AssetProjectionExtension, ItemProjectionExtension

from tiles.data.records import (
    Band,
    ImageRecord,
    Product,
    bbox_geometry,
    lonlat_bounds,
    to_utc,
)
from tiles.data.stac.bands import BandSpec, item_band, same_band
from tiles.data.stac.fetch import StacItem, asset_href, parse_item
from tiles.errors import DataError


def item_datetime(item: StacItem) -> dt.datetime:
    """An item's ``datetime``, else its ``start_datetime`` (items of a period have no datetime).

    Parameters
    ----------
    item:
        A ``pystac.Item`` or its JSON.

    Returns
    -------
    datetime.datetime
        In UTC (a date without a zone is taken as UTC).
    """
    item = parse_item(item)
    when = item.datetime or item.common_metadata.start_datetime
    if when is None:
        raise DataError(f"STAC item {item.id!r} has neither datetime nor start_datetime")
    return to_utc(when)


def item_properties(item: StacItem) -> dict[str, Any]:
    """Every item property as-is, plus ``cloud_fraction`` (0-1), ``stac_id`` and ``collection``.

    (``date``, ``crs``, ``geotrans``, ``id`` and ``product`` are added by the ImageRecord.)
    """
    item = parse_item(item)
    props = dict(item.properties)
    cover = ItemEOExtension(item).cloud_cover
    if isinstance(cover, (int, float)):
        props["cloud_fraction"] = float(cover) / 100.0
    props["stac_id"] = item.id
    if item.collection_id is not None:
        props.setdefault("collection", item.collection_id)
    return props


def _crs_string(proj: AssetProjectionExtension | ItemProjectionExtension) -> str | None:
    # ``epsg`` reads proj:code "EPSG:n" too; other authorities and WKT as they are.
    if proj.epsg is not None:
        return f"EPSG:{int(proj.epsg)}"
    return proj.code or proj.wkt2 or None


def _grid(proj: AssetProjectionExtension | ItemProjectionExtension) -> tuple | None:
    """(crs, GDAL geotrans, (rows, cols)) from ``proj:*``, None if not described.

    The views read the asset's fields, then the item's, whether or not the item declares
    the extension (many catalogs use its fields without).
    """
    crs = _crs_string(proj)
    shape, transform, bbox = proj.shape, proj.transform, proj.bbox
    if crs is None or not (isinstance(shape, list) and len(shape) == 2):
        return None
    rows, cols = int(shape[0]), int(shape[1])
    if isinstance(transform, list) and len(transform) >= 6:
        a, b, c, d, e, f = (float(v) for v in transform[:6])
    elif isinstance(bbox, list) and len(bbox) == 4 and rows and cols:
        w, s, east, n = (float(v) for v in bbox)
        a, b, c, d, e, f = (east - w) / cols, 0.0, w, 0.0, -(n - s) / rows, n
    else:
        return None
    return crs, (c, a, b, f, d, e), (rows, cols)


def _lonlat_grid(item: pystac.Item, bounds: Sequence[float]) -> tuple:
    # Items without proj:* — describe the lon/lat box, at the item's gsd when it gives one.
    w, s, e, n = bounds
    if w > e:
        e += 360.0
    gsd = item.common_metadata.gsd
    size = float(gsd) / 111_320.0 if isinstance(gsd, (int, float)) and gsd > 0 else None
    cols = max(1, round((e - w) / size)) if size else 1
    rows = max(1, round((n - s) / size)) if size else 1
    return "EPSG:4326", (w, (e - w) / cols, 0.0, n, 0.0, -(n - s) / rows), (rows, cols)


def item_footprint(item: StacItem) -> dict[str, Any]:
    """An item's lon/lat footprint: its geometry, else its bbox as a polygon."""
    item = parse_item(item)
    geom = item.geometry
    if isinstance(geom, dict) and geom.get("type"):
        return geom
    bbox = item.bbox
    if isinstance(bbox, list) and len(bbox) >= 4:
        if len(bbox) == 6:  # 3D box: w, s, zmin, e, n, zmax
            bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
        w, s, e, n = (float(v) for v in bbox[:4])
        return shapely.geometry.mapping(bbox_geometry((w, s, e, n)))
    raise DataError(f"STAC item {item.id!r} has neither geometry nor bbox")


def item_record(
    product: Product,
    item: StacItem,
    specs: Sequence[BandSpec],
    base: str | None = None,
    sign: Callable[[str], str] | None = None,
) -> ImageRecord:
    """The ImageRecord of a STAC item: asset hrefs per band, properties, footprint, grid.

    Parameters
    ----------
    product:
        The product the item is an image of.
    item:
        A ``pystac.Item``, or its JSON.
    specs:
        Where each product band lives in the item.
    base:
        Where JSON ``item`` was read (see :func:`parse_item`).
    sign:
        Turns an asset href into one the reader may open (say, with a token).

    Returns
    -------
    ImageRecord
        Bands whose asset the item lacks get no file (reading them raises NotFoundError
        naming the band and image).
    """
    item = parse_item(item, base)
    if not item.id:
        raise DataError(f"STAC item without an id in {base}")
    files: dict[str, tuple[str, int]] = {}
    overrides: dict[str, Band] = {}
    grids = []
    for spec, band in zip(specs, product.bands, strict=True):
        asset = item.assets.get(spec.asset)
        if asset is None or not asset.href:
            continue
        href = asset_href(asset)
        files[spec.name] = (sign(href) if sign else href, spec.bidx)
        own = item_band(band, spec, asset)
        if not same_band(own, band):
            overrides[spec.name] = own
        grid = _grid(AssetProjectionExtension(asset))
        if grid is not None:
            grids.append(grid)
    if not files:
        raise DataError(
            f"STAC item {item.id!r} has none of the assets of product {product.id!r} "
            f"({', '.join(sorted({s.asset for s in specs}))}); "
            f"its assets: {', '.join(item.assets)}"
        )
    footprint = item_footprint(item)
    bounds = lonlat_bounds(footprint)
    if grids:
        crs, geotrans, shape = min(grids, key=lambda g: abs(g[1][1]))  # the finest band
    else:
        grid = _grid(ItemProjectionExtension(item))
        crs, geotrans, shape = grid if grid is not None else _lonlat_grid(item, bounds)
    return ImageRecord(
        id=f"{product.id}:{item.id}",
        product=product.id,
        acquired=item_datetime(item),
        crs=crs,
        geotrans=tuple(float(v) for v in geotrans),  # type: ignore[arg-type]
        shape=shape,
        footprint=footprint,
        bounds_lonlat=bounds,
        files=files,
        properties=item_properties(item),
        band_overrides=overrides,
    )
