"""STAC items as image records: dates, properties, grids and footprints parsed from an
item, and its asset hrefs per product band.

Hand-written item parsing (``pystac.Item`` and its projection extension cover the same
fields).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import shapely.geometry

from tiles.data.records import (
    Band,
    ImageRecord,
    Product,
    bbox_geometry,
    lonlat_bounds,
    to_utc,
)
from tiles.data.stac.bands import BandSpec, item_band, same_band
from tiles.data.stac.fetch import is_url, links_with_rel, resolve_href
from tiles.errors import DataError

# --------------------------------------------------------------------------------------
# Items: dates, properties, grids
# --------------------------------------------------------------------------------------

_FRACTION = re.compile(r"(\.\d{6})\d+")


def _parse_datetime(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise DataError(f"{where}: datetime {value!r} is not a string")
    # fromisoformat takes at most microseconds; some catalogs give nanoseconds.
    return to_utc(_FRACTION.sub(r"\1", value.strip()))


def item_datetime(item: Mapping[str, Any]) -> dt.datetime:
    """An item's ``datetime``, else its ``start_datetime`` (items of a period have no datetime)."""
    props = item.get("properties") or {}
    value = props.get("datetime") or props.get("start_datetime")
    if value is None:
        raise DataError(f"STAC item {item.get('id')!r} has neither datetime nor start_datetime")
    return _parse_datetime(value, f"STAC item {item.get('id')!r}")


def item_properties(item: Mapping[str, Any]) -> dict[str, Any]:
    """Every item property as-is, plus ``cloud_fraction`` (0-1), ``stac_id`` and ``collection``.

    (``date``, ``crs``, ``geotrans``, ``id`` and ``product`` are added by the ImageRecord.)
    """
    props = dict(item.get("properties") or {})
    cover = props.get("eo:cloud_cover")
    if isinstance(cover, (int, float)):
        props["cloud_fraction"] = float(cover) / 100.0
    props["stac_id"] = item.get("id")
    if item.get("collection") is not None:
        props.setdefault("collection", item["collection"])
    return props


def _proj(item: Mapping[str, Any], asset: Mapping[str, Any], key: str) -> Any:
    # Asset-level projection fields override the item's.
    if key in asset:
        return asset[key]
    return (item.get("properties") or {}).get(key)


def _crs_string(item: Mapping[str, Any], asset: Mapping[str, Any]) -> str | None:
    epsg = _proj(item, asset, "proj:epsg")
    if isinstance(epsg, (int, float)) or (isinstance(epsg, str) and epsg.isdigit()):
        return f"EPSG:{int(epsg)}"
    code = _proj(item, asset, "proj:code")
    if isinstance(code, str) and code:
        return code
    wkt = _proj(item, asset, "proj:wkt2")
    return wkt if isinstance(wkt, str) and wkt else None


def _grid(item: Mapping[str, Any], asset: Mapping[str, Any]) -> tuple | None:
    """(crs, GDAL geotrans, (rows, cols)) of an asset from ``proj:*``, None if not described."""
    crs = _crs_string(item, asset)
    shape = _proj(item, asset, "proj:shape")
    transform = _proj(item, asset, "proj:transform")
    bbox = _proj(item, asset, "proj:bbox")
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


def _lonlat_grid(item: Mapping[str, Any], bounds: Sequence[float]) -> tuple:
    # Items without proj:* — describe the lon/lat box, at the item's gsd when it gives one.
    w, s, e, n = bounds
    if w > e:
        e += 360.0
    gsd = (item.get("properties") or {}).get("gsd")
    size = float(gsd) / 111_320.0 if isinstance(gsd, (int, float)) and gsd > 0 else None
    cols = max(1, round((e - w) / size)) if size else 1
    rows = max(1, round((n - s) / size)) if size else 1
    return "EPSG:4326", (w, (e - w) / cols, 0.0, n, 0.0, -(n - s) / rows), (rows, cols)


def item_footprint(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's lon/lat footprint: its geometry, else its bbox as a polygon."""
    geom = item.get("geometry")
    if isinstance(geom, dict) and geom.get("type"):
        return geom
    bbox = item.get("bbox")
    if isinstance(bbox, list) and len(bbox) >= 4:
        if len(bbox) == 6:  # 3D box: w, s, zmin, e, n, zmax
            bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
        w, s, e, n = (float(v) for v in bbox[:4])
        return shapely.geometry.mapping(bbox_geometry((w, s, e, n)))
    raise DataError(f"STAC item {item.get('id')!r} has neither geometry nor bbox")


# --------------------------------------------------------------------------------------
# Items to image records
# --------------------------------------------------------------------------------------


def item_base(item: Mapping[str, Any], fetched_from: str) -> str:
    """Where an item's relative hrefs start: its absolute self link, else where it was read."""
    for link in links_with_rel(item, "self"):
        href = str(link.get("href") or "")
        if is_url(href) or href.startswith("/"):
            return href
    return fetched_from


def item_record(
    product: Product,
    item: Mapping[str, Any],
    specs: Sequence[BandSpec],
    base: str,
    sign: Callable[[str], str] | None = None,
) -> ImageRecord:
    """The ImageRecord of a STAC item: asset hrefs per band, properties, footprint, grid.

    Bands whose asset the item lacks get no file (reading them raises NotFoundError naming
    the band and image); relative hrefs are resolved against ``base``.
    """
    item_id = item.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise DataError(f"STAC item without an id in {base}")
    assets = item.get("assets") or {}
    files: dict[str, tuple[str, int]] = {}
    overrides: dict[str, Band] = {}
    grids = []
    for spec, band in zip(specs, product.bands, strict=True):
        asset = assets.get(spec.asset)
        if not isinstance(asset, dict) or not asset.get("href"):
            continue
        href = resolve_href(str(asset["href"]), base)
        files[spec.name] = (sign(href) if sign else href, spec.bidx)
        own = item_band(band, spec, asset)
        if not same_band(own, band):
            overrides[spec.name] = own
        grid = _grid(item, asset)
        if grid is not None:
            grids.append(grid)
    if not files:
        raise DataError(
            f"STAC item {item_id!r} has none of the assets of product {product.id!r} "
            f"({', '.join(sorted({s.asset for s in specs}))}); its assets: {', '.join(assets)}"
        )
    footprint = item_footprint(item)
    bounds = lonlat_bounds(footprint)
    if grids:
        crs, geotrans, shape = min(grids, key=lambda g: abs(g[1][1]))  # the finest band
    else:
        grid = _grid(item, {})
        crs, geotrans, shape = grid if grid is not None else _lonlat_grid(item, bounds)
    return ImageRecord(
        id=f"{product.id}:{item_id}",
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
