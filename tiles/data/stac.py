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
  or unreachable catalog fails with DataError after ``timeout`` seconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely.geometry
from rasterio.errors import RasterioIOError

from tiles.data.default_catalog import default_catalog
from tiles.data.reading import gdal_read_options
from tiles.data.records import (
    Band,
    DateLike,
    ImageRecord,
    Product,
    bbox_geometry,
    footprint_intersects,
    lonlat_bounds,
    to_utc,
)
from tiles.data.store import Catalog, register_source_kind
from tiles.errors import DataError, NotFoundError, ParameterError

__all__ = [
    "PRESETS",
    "Preset",
    "StacSource",
    "add_stac_product",
    "clear_cache",
    "expand_preset",
    "item_properties",
    "item_record",
    "open_source",
    "read_json",
    "register_preset",
    "resolve_product",
    "select_bands",
]

DEFAULT_TIMEOUT = 20.0
DEFAULT_CACHE_SECONDS = 60.0
DEFAULT_PAGE_SIZE = 100
# A failed query is remembered this long, so a map's tiles do not each wait out a timeout.
_FAILURE_SECONDS = 5.0
_USER_AGENT = "tiles (STAC client)"

# --------------------------------------------------------------------------------------
# Presets: well-known public catalogs
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Preset:
    """A public STAC API: product ids ``"<name>:<collection>"`` search it for that collection."""

    url: str
    signer: str | None = None
    description: str = ""


#: Presets by name. ``from_id("earth-search:sentinel-2-l2a")`` defines the product
#: ``earth-search:sentinel-2-l2a`` from the collection the first time it is used (which
#: needs the catalog to be reachable).
#:
#: * ``earth-search``: Element 84 Earth Search v1 on AWS — ``sentinel-2-l2a``,
#:   ``sentinel-2-c1-l2a``, ``sentinel-2-l1c``, ``cop-dem-glo-30``, ``cop-dem-glo-90``,
#:   ``naip``, ``landsat-c2-l2`` (its assets are requester-pays ``s3://`` objects: they need
#:   AWS credentials in GDAL's environment, ``AWS_REQUEST_PAYER=requester``).
#: * ``planetary-computer``: Microsoft Planetary Computer — ``sentinel-2-l2a``,
#:   ``landsat-c2-l2``, ``cop-dem-glo-30``, ``naip``, ``io-lulc-annual-v02``...; asset URLs are
#:   signed with a short-lived token from its SAS API.
PRESETS: dict[str, Preset] = {
    "earth-search": Preset(
        "https://earth-search.aws.element84.com/v1", description="Element 84 Earth Search v1"
    ),
    "planetary-computer": Preset(
        "https://planetarycomputer.microsoft.com/api/stac/v1",
        signer="planetary-computer",
        description="Microsoft Planetary Computer",
    ),
}


def register_preset(name: str, url: str, signer: str | None = None, description: str = "") -> None:
    """Add (or replace) a preset so ids ``"<name>:<collection>"`` search the STAC API ``url``."""
    if not name or ":" in name or any(c.isspace() for c in name):
        raise ParameterError(f"invalid preset name {name!r}: no spaces or colons allowed")
    if signer is not None and signer not in _SIGNERS:
        raise ParameterError(f"unknown signer {signer!r}; one of {', '.join(_SIGNERS)}")
    PRESETS[name] = Preset(url, signer, description)


def expand_preset(product_id: str) -> dict[str, Any] | None:
    """``{"url", "collection", "signer"}`` for a preset id ``"<preset>:<collection>"``, else None."""
    name, sep, collection = product_id.partition(":")
    preset = PRESETS.get(name)
    if not sep or preset is None or not collection or ":" in collection:
        return None
    return {"url": preset.url, "collection": collection, "signer": preset.signer}


def resolve_product(cat: Catalog, product_id: str) -> Product | None:
    """Define a preset product in ``cat`` on first use; None when the id is no preset's."""
    expanded = expand_preset(product_id)
    if expanded is None:
        return None
    return add_stac_product(
        product_id,
        expanded["url"],
        collection=expanded["collection"],
        signer=expanded["signer"],
        catalog=cat,
    )


# --------------------------------------------------------------------------------------
# Reading JSON documents
# --------------------------------------------------------------------------------------


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _local_path(location: str) -> str:
    if location.startswith("file://"):
        return urllib.request.url2pathname(urllib.parse.urlparse(location).path)
    return location


def resolve_href(href: str, base: str) -> str:
    """``href`` made absolute against the document it appeared in (a URL or a local path)."""
    if "://" in href or href.startswith("/"):
        return _local_path(href) if href.startswith("file://") else href
    if _is_url(base):
        return urllib.parse.urljoin(base, href)
    return os.path.normpath(os.path.join(os.path.dirname(_local_path(base)), href))


def read_json(
    location: str,
    timeout: float = DEFAULT_TIMEOUT,
    method: str = "GET",
    body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """A JSON document from a local path or an HTTP(S) URL.

    Raises NotFoundError for a missing file or an HTTP 404, DataError for other HTTP
    errors, an unreachable or silent server (after ``timeout`` seconds) and invalid JSON.
    """
    if not _is_url(location):
        path = Path(_local_path(location)).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFoundError(f"STAC document not found: {path}") from None
        except OSError as e:
            raise DataError(f"cannot read STAC document {path}: {e}") from e
        return _parse_json(text, str(path))
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(location, data=data, method=method)
    req.add_header("Accept", "application/geo+json, application/json")
    req.add_header("User-Agent", _USER_AGENT)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as e:
        detail = e.read(300).decode("utf-8", errors="replace").strip()
        message = f"{method} {location} answered HTTP {e.code} {e.reason}: {detail}"
        raise (NotFoundError if e.code == 404 else DataError)(message) from None
    except TimeoutError:
        raise DataError(f"{location} did not answer within {timeout:g} s") from None
    except urllib.error.URLError as e:
        if isinstance(e.reason, TimeoutError):
            raise DataError(f"{location} did not answer within {timeout:g} s") from None
        raise DataError(f"cannot reach {location}: {e.reason}") from None
    except OSError as e:  # a connection reset half way through the answer
        raise DataError(f"reading {location} failed: {e}") from None
    return _parse_json(text, location)


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{where} is not valid JSON ({e})") from None


def _links(doc: Mapping[str, Any], rel: str) -> list[dict[str, Any]]:
    return [ln for ln in doc.get("links") or [] if isinstance(ln, dict) and ln.get("rel") == rel]


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


def _footprint(item: Mapping[str, Any]) -> dict[str, Any]:
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
# Bands: which assets, how scaled
# --------------------------------------------------------------------------------------

_RASTER_TYPES = ("image/tiff", "image/vnd.stac.geotiff", "image/jp2", "application/x-geotiff")
_RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".vrt")
_NOT_BAND_ROLES = {"thumbnail", "overview", "visual", "tiles"}


def _eo_bands(item: Mapping[str, Any], asset: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries = asset.get("eo:bands") or []
    if entries and all(isinstance(x, int) for x in entries):
        # STAC 0.x: the asset lists indices into the item's eo:bands.
        table = (item.get("properties") or {}).get("eo:bands") or []
        return [table[i] if 0 <= i < len(table) else {} for i in entries]
    return [x if isinstance(x, dict) else {} for x in entries]


def _raster_bands(asset: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [x if isinstance(x, dict) else {} for x in asset.get("raster:bands") or []]


def _band_count(item: Mapping[str, Any], asset: Mapping[str, Any]) -> int:
    return max(len(_eo_bands(item, asset)), len(_raster_bands(asset)), 1)


def _href_stem(href: str) -> tuple[str, str]:
    name = urllib.parse.urlparse(href).path.rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    return (stem, "." + ext.lower()) if dot else (name, "")


def _is_raster_asset(key: str, asset: Mapping[str, Any]) -> bool:
    roles = set(asset.get("roles") or [key])  # old items have no roles but telling keys
    if roles & _NOT_BAND_ROLES:
        return False
    media = str(asset.get("type") or "").lower()
    if media:
        return media.startswith(_RASTER_TYPES)
    return _href_stem(str(asset.get("href") or ""))[1] in _RASTER_SUFFIXES


def _merged_assets(
    item: Mapping[str, Any], item_assets: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """The item's assets, each completed by the collection's ``item_assets`` description."""
    assets = item.get("assets") or {}
    defaults = item_assets or {}
    return {k: {**(defaults.get(k) or {}), **v} for k, v in assets.items() if isinstance(v, dict)}


def _clean_name(name: str) -> str:
    stem, _, ext = name.rpartition(".")
    if stem and "." + ext.lower() in _RASTER_SUFFIXES:
        name = stem  # USGS keys like "SR_B1.TIF"
    return re.sub(r"[\s:]+", "_", name.strip())


@dataclasses.dataclass(frozen=True)
class BandSpec:
    """Where a product band lives in each item: asset key and 1-based band index."""

    name: str
    asset: str
    bidx: int = 1
    #: The user fixed this band's ranges/nodata: items' own raster:bands do not override them.
    fixed: bool = False

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BandSpec:
        return cls(str(d["name"]), str(d["asset"]), int(d.get("bidx", 1)), bool(d.get("fixed")))


def _default_selection(item: Mapping[str, Any], assets: Mapping[str, dict]) -> list[dict]:
    """Every raster band of the item, in asset order, minus duplicates.

    Duplicates: the same file in another format (Earth Search's ``red`` and ``red-jp2``) and
    composites whose bands all exist on their own (Planetary Computer's ``visual``).
    """
    raster = {k: a for k, a in assets.items() if _is_raster_asset(k, a)}
    single_names = {
        (_eo_bands(item, a) or [{}])[0].get("name")
        for a in raster.values()
        if _band_count(item, a) == 1
    } - {None}
    seen_stems: dict[str, str] = {}
    out: list[dict] = []
    for key, asset in raster.items():
        stem, ext = _href_stem(str(asset.get("href") or ""))
        if stem and stem in seen_stems:
            continue
        if stem:
            seen_stems[stem] = key
        n = _band_count(item, asset)
        if n == 1:
            out.append({"name": _clean_name(key), "asset": key, "band": 1})
            continue
        eo = _eo_bands(item, asset)
        names = [e.get("name") for e in eo]
        if eo and all(nm in single_names for nm in names):
            continue
        for i in range(n):
            e = eo[i] if i < len(eo) else {}
            label = e.get("common_name") or e.get("name") or f"{key}_{i + 1}"
            out.append({"name": _clean_name(str(label)), "asset": key, "band": i + 1})
    names = [d["name"] for d in out]
    for d in out:  # one name for two bands: qualify both with their asset key
        if names.count(d["name"]) > 1:
            d["name"] = _clean_name(f"{d['asset']}_{d['name']}")
    return out


def _find_band(item: Mapping[str, Any], assets: Mapping[str, dict], wanted: str) -> tuple[str, int]:
    """(asset key, band index) for a band given by asset key or eo:bands name/common name."""
    if wanted in assets:
        asset = assets[wanted]
        n = _band_count(item, asset)
        if n > 1:
            raise ParameterError(
                f"asset {wanted!r} holds {n} bands; pick one with "
                f'{{"name": ..., "asset": {wanted!r}, "band": 1..{n}}}'
            )
        return wanted, 1
    for key, asset in assets.items():
        if _clean_name(key) == wanted and _is_raster_asset(key, asset):
            return key, 1
    matches = [
        (key, i + 1)
        for key, asset in assets.items()
        if _is_raster_asset(key, asset)
        for i, e in enumerate(_eo_bands(item, asset))
        if wanted in (e.get("name"), e.get("common_name"))
    ]
    if not matches:
        raise ParameterError(
            f"STAC item {item.get('id')!r} has no asset or eo:bands name {wanted!r}; "
            f"assets: {', '.join(assets)}"
        )
    # Prefer a band that is its asset's only band (a COG per band) over part of a composite.
    matches.sort(key=lambda m: _band_count(item, assets[m[0]]) > 1)
    return matches[0]


_BAND_KEYS = {
    "name",
    "asset",
    "band",
    "data_range",
    "physical_range",
    "nodata",
    "description",
    "scale",
    "offset",
    "data_type",
}


def _header(href: str, bidx: int) -> tuple[str | None, float | None]:
    """(data type, nodata) of a band from the file itself; (None, None) when unreadable."""
    try:
        with rasterio.Env(**gdal_read_options(href)), rasterio.open(href) as src:
            if 1 <= bidx <= src.count:
                return src.dtypes[bidx - 1], src.nodatavals[bidx - 1]
    except (RasterioIOError, OSError):
        pass
    return None, None


def _data_range(data_type: str | None) -> tuple[float, float]:
    if data_type:
        try:
            dtype = np.dtype(data_type)
        except TypeError:
            dtype = None
        if dtype is not None and dtype.kind in "iub":
            info = np.iinfo(dtype) if dtype.kind != "b" else None
            return (0.0, 1.0) if info is None else (float(info.min), float(info.max))
    # Floats carry physical values already; a unit range keeps the mapping an exact identity.
    return (0.0, 1.0)


def _scaled(data_range: tuple[float, float], scale: float, offset: float) -> tuple[float, float]:
    lo, hi = data_range
    return (lo * scale + offset, hi * scale + offset)


def _band_from(
    name: str,
    item: Mapping[str, Any],
    asset: Mapping[str, Any],
    bidx: int,
    user: Mapping[str, Any],
    read_header: bool,
) -> Band:
    """A product band from the asset's raster:bands / eo:bands, overridden by ``user``."""
    rbs, eos = _raster_bands(asset), _eo_bands(item, asset)
    rb = rbs[bidx - 1] if bidx <= len(rbs) else {}
    eo = eos[bidx - 1] if bidx <= len(eos) else {}
    data_type = user.get("data_type") or rb.get("data_type")
    nodata = user.get("nodata", rb.get("nodata"))
    if data_type is None and read_header and asset.get("href"):
        # Only the data type needs the file: a missing nodata is read from it at read time.
        data_type, file_nodata = _header(str(asset["href"]), bidx)
        nodata = nodata if nodata is not None else file_nodata
    data_range = tuple(user["data_range"]) if "data_range" in user else _data_range(data_type)
    scale = float(user.get("scale", rb.get("scale", 1.0)))
    offset = float(user.get("offset", rb.get("offset", 0.0)))
    physical = user.get("physical_range") or _scaled(data_range, scale, offset)
    description = user.get("description") or eo.get("description") or asset.get("title") or ""
    return Band.from_dict(
        {
            "name": name,
            "data_range": data_range,
            "physical_range": physical,
            "nodata": nodata,
            "description": str(description),
        }
    )


def select_bands(
    item: Mapping[str, Any],
    bands: Sequence[str | Mapping[str, Any]] | None = None,
    item_assets: Mapping[str, Any] | None = None,
    read_header: bool = True,
) -> tuple[list[BandSpec], list[Band]]:
    """The product bands a sample item defines, and where each is found in every item.

    ``bands`` entries are asset keys or eo:bands names / common names (``"red"``), optionally
    renamed (``"red=B04"``), or dicts ``{"name", "asset", "band", "data_range",
    "physical_range", "nodata", "scale", "offset", "data_type", "description"}`` for what
    the catalog does not say. None takes every raster band. When the catalog gives no data
    type, the sample asset's own header is read (``read_header``).
    """
    assets = _merged_assets(item, item_assets)
    selection: list[dict[str, Any]] = []
    if bands is None:
        selection = _default_selection(item, assets)
        if not selection:
            raise ParameterError(
                f"STAC item {item.get('id')!r} has no raster assets; assets: {', '.join(assets)}"
            )
    else:
        for entry in [bands] if isinstance(bands, str) else bands:
            if isinstance(entry, str):
                name, _, wanted = entry.partition("=")
                key, bidx = _find_band(item, assets, wanted or name)
                selection.append({"name": name, "asset": key, "band": bidx})
            elif isinstance(entry, Mapping):
                unknown = set(entry) - _BAND_KEYS
                if unknown:
                    raise ParameterError(f"unknown band field(s) {sorted(unknown)} in {entry!r}")
                if "name" not in entry:
                    raise ParameterError(f"band {dict(entry)!r} needs a name")
                d = dict(entry)
                if "asset" not in d:
                    d["asset"], d["band"] = _find_band(item, assets, str(d["name"]))
                elif d["asset"] not in assets:
                    raise ParameterError(
                        f"STAC item {item.get('id')!r} has no asset {d['asset']!r}; "
                        f"assets: {', '.join(assets)}"
                    )
                selection.append(d)
            else:
                raise ParameterError(f"a band is a name or a dict, not {entry!r}")
    specs: list[BandSpec] = []
    product_bands: list[Band] = []
    for d in selection:
        name, key, bidx = _clean_name(str(d["name"])), str(d["asset"]), int(d.get("band", 1))
        user = {k: v for k, v in d.items() if k not in ("name", "asset", "band")}
        fixed = bool({"data_range", "physical_range", "nodata", "scale", "offset"} & set(user))
        specs.append(BandSpec(name, key, bidx, fixed))
        product_bands.append(_band_from(name, item, assets[key], bidx, user, read_header))
    return specs, product_bands


def _item_band(band: Band, spec: BandSpec, asset: Mapping[str, Any]) -> Band:
    """The band as this item scales it, when its raster:bands say so and the user did not."""
    rbs = _raster_bands(asset)
    if spec.fixed or spec.bidx > len(rbs):
        return band
    rb = rbs[spec.bidx - 1]
    if not ({"scale", "offset", "nodata"} & set(rb)):
        return band
    physical = _scaled(band.data_range, float(rb.get("scale", 1.0)), float(rb.get("offset", 0.0)))
    nodata = rb.get("nodata", band.nodata)
    return dataclasses.replace(
        band, physical_range=physical, nodata=None if nodata is None else float(nodata)
    )


def _same_band(a: Band, b: Band) -> bool:
    def close(x: Any, y: Any) -> bool:
        if x is None or y is None:
            return x is y
        return bool(np.allclose(x, y, rtol=1e-12, atol=0, equal_nan=True))

    return close(a.physical_range, b.physical_range) and close(a.nodata, b.nodata)


# --------------------------------------------------------------------------------------
# Items to image records
# --------------------------------------------------------------------------------------


def _item_base(item: Mapping[str, Any], fetched_from: str) -> str:
    for link in _links(item, "self"):
        href = str(link.get("href") or "")
        if _is_url(href) or href.startswith("/"):
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
        own = _item_band(band, spec, asset)
        if not _same_band(own, band):
            overrides[spec.name] = own
        grid = _grid(item, asset)
        if grid is not None:
            grids.append(grid)
    if not files:
        raise DataError(
            f"STAC item {item_id!r} has none of the assets of product {product.id!r} "
            f"({', '.join(sorted({s.asset for s in specs}))}); its assets: {', '.join(assets)}"
        )
    footprint = _footprint(item)
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


# --------------------------------------------------------------------------------------
# A small cache with expiry, shared by concurrent callers
# --------------------------------------------------------------------------------------


class _TTLCache:
    """Values kept ``ttl`` seconds; concurrent requests for one key wait for the first.

    Failures are kept for a few seconds too, so a down catalog fails a map's tiles quickly.
    """

    def __init__(self, max_items: int = 512) -> None:
        self.max_items = max_items
        self._items: dict[Hashable, tuple[float, Any, BaseException | None]] = {}
        self._inflight: dict[Hashable, Future] = {}
        self._lock = threading.Lock()
        self.misses = 0

    def get_or_compute(self, key: Hashable, ttl: float, compute: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] > time.monotonic():
                if hit[2] is not None:
                    raise hit[2]
                return hit[1]
            pending = self._inflight.get(key)
            owner = pending is None
            if owner:
                pending = Future()
                self._inflight[key] = pending
                self.misses += 1
        assert pending is not None
        if not owner:
            return pending.result()
        try:
            value = compute()
        except BaseException as exc:
            self._store(key, time.monotonic() + min(ttl, _FAILURE_SECONDS), None, exc)
            pending.set_exception(exc)
            raise
        self._store(key, time.monotonic() + ttl, value, None)
        pending.set_result(value)
        return value

    def _store(self, key: Hashable, expiry: float, value: Any, exc: BaseException | None):
        with self._lock:
            self._inflight.pop(key, None)
            self._items[key] = (expiry, value, exc)
            if len(self._items) > self.max_items:
                now = time.monotonic()
                for k in [k for k, v in self._items.items() if v[0] <= now]:
                    del self._items[k]
                while len(self._items) > self.max_items:
                    del self._items[next(iter(self._items))]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.misses = 0


_CACHE = _TTLCache()


def clear_cache() -> None:
    """Forget cached STAC searches, item lists and tokens (the next search asks the catalog)."""
    _CACHE.clear()


def cache_misses() -> int:
    """How many catalog queries the cache has let through (for monitoring and tests)."""
    return _CACHE.misses


# --------------------------------------------------------------------------------------
# Asset signing (Planetary Computer)
# --------------------------------------------------------------------------------------

_PC_TOKEN_URL = "https://planetarycomputer.microsoft.com/api/sas/v1/token/{collection}"


def _planetary_computer_signer(collection: str | None, timeout: float) -> Callable[[str], str]:
    """Append the collection's SAS token to Azure blob URLs (tokens live about an hour)."""

    def token() -> str:
        if not collection:
            raise DataError("signing Planetary Computer assets needs a collection")
        doc = _CACHE.get_or_compute(
            ("pc-token", collection),
            45 * 60.0,
            lambda: read_json(_PC_TOKEN_URL.format(collection=collection), timeout),
        )
        if not isinstance(doc, dict) or not isinstance(doc.get("token"), str):
            raise DataError(f"Planetary Computer gave no token for collection {collection!r}")
        return doc["token"]

    def sign(href: str) -> str:
        host = urllib.parse.urlparse(href).hostname or ""
        if not host.endswith(".blob.core.windows.net") or "sig=" in href:
            return href
        return f"{href}{'&' if '?' in href else '?'}{token()}"

    return sign


_SIGNERS: dict[str, Callable[[str | None, float], Callable[[str], str]]] = {
    "planetary-computer": _planetary_computer_signer,
}


# --------------------------------------------------------------------------------------
# Sources: STAC APIs and static catalogs
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Spec:
    """What a STAC product stores in the catalog."""

    kind: str  # "api" or "static"
    url: str  # what the user gave (the API landing page, or the static document)
    search_url: str | None
    collections: tuple[str, ...]
    bands: tuple[BandSpec, ...]
    timeout: float = DEFAULT_TIMEOUT
    cache_seconds: float = DEFAULT_CACHE_SECONDS
    page_size: int = DEFAULT_PAGE_SIZE
    signer: str | None = None

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["collections"] = list(self.collections)
        d["bands"] = [b.to_json() for b in self.bands]
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> _Spec:
        return cls(
            kind=str(d["kind"]),
            url=str(d["url"]),
            search_url=d.get("search_url"),
            collections=tuple(d.get("collections") or ()),
            bands=tuple(BandSpec.from_json(b) for b in d["bands"]),
            timeout=float(d.get("timeout", DEFAULT_TIMEOUT)),
            cache_seconds=float(d.get("cache_seconds", DEFAULT_CACHE_SECONDS)),
            page_size=int(d.get("page_size", DEFAULT_PAGE_SIZE)),
            signer=d.get("signer"),
        )


def _iso(d: dt.datetime) -> str:
    return d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _cells(bbox: Sequence[float]) -> list[tuple[float, float, float, float]]:
    """The cells of a grid of power-of-two degrees, at least twice the box's size, it meets.

    Map tiles of one zoom level share a grid, and neighbouring tiles mostly the same cell
    (at most four cells per box), so a map's tiles ask the catalog once per cell.
    """
    w, s, e, n = (float(v) for v in bbox)
    span = max(e - w, n - s, 1e-6)
    size = min(2.0 ** (math.ceil(math.log2(span)) + 1), 360.0)

    def steps(lo: float, hi: float) -> range:
        first = math.floor(lo / size)
        return range(first, max(first + 1, math.ceil(hi / size)))

    return [
        (
            max(-180.0, i * size),
            max(-90.0, j * size),
            min(180.0, (i + 1) * size),
            min(90.0, (j + 1) * size),
        )
        for i in steps(w, e)
        for j in steps(s, n)
    ]


def _dates(start: DateLike | None, end: DateLike | None) -> tuple:
    return (
        None if start is None else to_utc(start),
        None if end is None else to_utc(end),
    )


class StacSource:
    """The images of one STAC product, found by asking its catalog.

    ``search`` answers like :meth:`tiles.data.store.Catalog.search` (dates in [start, end),
    footprints meeting the lon/lat box, sorted by date, at most ``limit``).
    """

    def __init__(self, product: Product, spec: _Spec) -> None:
        if len(spec.bands) != len(product.bands):
            raise DataError(f"STAC product {product.id!r}: stored bands do not match its assets")
        self.product = product
        self.spec = spec
        self._sign = (
            _SIGNERS[spec.signer](spec.collections[0] if spec.collections else None, spec.timeout)
            if spec.signer
            else None
        )

    def __repr__(self) -> str:
        return f"StacSource({self.product.id!r}, {self.spec.kind} {self.spec.url!r})"

    # -- public --------------------------------------------------------------------------

    def search(
        self,
        start: DateLike | None = None,
        end: DateLike | None = None,
        bbox_lonlat: Sequence[float] | None = None,
        limit: int | None = 10000,
    ) -> list[ImageRecord]:
        """Images acquired in [start, end) whose footprint meets ``bbox_lonlat``, by date."""
        t0, t1 = _dates(start, end)
        if self.spec.kind == "static":
            pairs = self._static_items()
            complete = True
        else:
            pairs, complete = self._api_items(t0, t1, bbox_lonlat, limit, snap=True)
            if not complete:
                # A grid cell held more than `limit` items: ask for the exact box.
                pairs, complete = self._api_items(t0, t1, bbox_lonlat, limit, snap=False)
        records = []
        for item, base in pairs:
            acquired = item_datetime(item)
            if (t0 is not None and acquired < t0) or (t1 is not None and acquired >= t1):
                continue
            if bbox_lonlat is not None and not footprint_intersects(_footprint(item), bbox_lonlat):
                continue
            records.append(item_record(self.product, item, self.spec.bands, base, self._sign))
        records.sort(key=lambda r: (r.acquired, r.id))
        return records if limit is None else records[: int(limit)]

    def image(self, name: str) -> ImageRecord:
        """The image of item ``name``; NotFoundError when the catalog has no such item."""
        if self.spec.kind == "static":
            for item, base in self._static_items():
                if item.get("id") == name:
                    return item_record(self.product, item, self.spec.bands, base, self._sign)
            raise NotFoundError(f"image {self.product.id}:{name} not found in {self.spec.url}")
        found = _CACHE.get_or_compute(
            ("item", self.spec.search_url, self.spec.collections, name),
            self.spec.cache_seconds,
            lambda: self._fetch_item(name),
        )
        item, base = found
        return item_record(self.product, item, self.spec.bands, base, self._sign)

    # -- static catalogs -----------------------------------------------------------------

    def _static_items(self) -> list[tuple[dict, str]]:
        key = ("static", self.spec.url, self.spec.collections)
        return _CACHE.get_or_compute(
            key,
            self.spec.cache_seconds,
            lambda: load_static(self.spec.url, self.spec.collections, self.spec.timeout)[0],
        )

    # -- STAC APIs -----------------------------------------------------------------------

    def _api_items(self, t0, t1, bbox, limit, snap: bool) -> tuple[list[tuple[dict, str]], bool]:
        if bbox is None:
            boxes: list[tuple[float, ...]] = []
        else:
            w, s, e, n = (float(v) for v in bbox)
            # A box across the antimeridian is asked as its two halves.
            boxes = [(w, s, 180.0, n), (-180.0, s, e, n)] if w > e else [(w, s, e, n)]
            if snap:
                boxes = [cell for b in boxes for cell in _cells(b)]
        queries = [tuple(b) for b in boxes] or [None]
        merged: dict[str, tuple[dict, str]] = {}
        complete = True
        for box in queries:
            key = ("search", self.spec.search_url, self.spec.collections, box, t0, t1, limit)
            pairs, done = _CACHE.get_or_compute(
                key,
                self.spec.cache_seconds,
                lambda box=box: _search_pages(self.spec, box, t0, t1, limit),
            )
            complete = complete and done
            for item, base in pairs:
                merged.setdefault(str(item.get("id")), (item, base))
        return list(merged.values()), complete

    def _fetch_item(self, name: str) -> tuple[dict, str]:
        spec = self.spec
        assert spec.search_url is not None
        root = spec.search_url.split("?")[0].rstrip("/")
        root = root[: -len("/search")] if root.endswith("/search") else root
        for collection in spec.collections:
            url = f"{root}/collections/{urllib.parse.quote(collection)}/items/{urllib.parse.quote(name)}"
            try:
                return read_json(url, spec.timeout), url
            except NotFoundError:
                continue
        if not spec.collections:
            sep = "&" if "?" in spec.search_url else "?"
            url = f"{spec.search_url}{sep}{urllib.parse.urlencode({'ids': name})}"
            doc = read_json(url, spec.timeout)
            for f in doc.get("features") or [] if isinstance(doc, dict) else []:
                if isinstance(f, dict) and f.get("id") == name:
                    return f, _item_base(f, url)
        raise NotFoundError(f"image {self.product.id}:{name} not found in {spec.url}")


def _search_pages(
    spec: _Spec, box: Sequence[float] | None, t0: Any, t1: Any, limit: int | None
) -> tuple[list[tuple[dict, str]], bool]:
    """Items of a STAC API search: GET ``/search``, then follow ``next`` links as they say.

    Returns the items (with where each came from) and whether they are all there are.
    """
    assert spec.search_url is not None
    page = spec.page_size if limit is None else max(1, min(spec.page_size, int(limit)))
    params: dict[str, str] = {"limit": str(page)}
    if spec.collections:
        params["collections"] = ",".join(spec.collections)
    if box is not None:
        params["bbox"] = ",".join(repr(float(v)) for v in box)
    if t0 is not None or t1 is not None:
        # STAC ranges include both ends; the half-open range is applied afterwards.
        params["datetime"] = f"{_iso(t0) if t0 else '..'}/{_iso(t1) if t1 else '..'}"
    sep = "&" if "?" in spec.search_url else "?"
    request: dict[str, Any] | None = {
        "url": f"{spec.search_url}{sep}{urllib.parse.urlencode(params)}",
        "method": "GET",
        "body": None,
        "headers": None,
    }
    items: list[tuple[dict, str]] = []
    seen: set[str] = set()
    while request is not None:
        signature = json.dumps(request, sort_keys=True, default=str)
        if signature in seen:
            break  # a catalog whose "next" points back: stop rather than loop
        seen.add(signature)
        url = request["url"]
        doc = read_json(url, spec.timeout, request["method"], request["body"], request["headers"])
        features = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(features, list):
            raise DataError(f"{url} did not answer a STAC ItemCollection (no 'features')")
        for f in features:
            if isinstance(f, dict):
                items.append((f, _item_base(f, url)))
        request = _next_request(doc, url, request)
        if limit is not None and len(items) >= int(limit):
            return items[: int(limit)], request is None and len(items) == int(limit)
    return items, True


def _next_request(doc: Mapping[str, Any], url: str, previous: Mapping[str, Any]) -> dict | None:
    """The request a ``next`` link describes (GET href, or POST with a body to merge)."""
    links = _links(doc, "next")
    if not links:
        return None
    link = links[0]
    href = link.get("href")
    if not isinstance(href, str) or not href:
        return None
    method = str(link.get("method") or "GET").upper()
    body = link.get("body")
    if method == "POST" and link.get("merge") and isinstance(previous.get("body"), dict):
        body = {**previous["body"], **(body or {})}
    return {
        "url": resolve_href(href, url),
        "method": method,
        "body": body if method == "POST" else None,
        "headers": link.get("headers") if isinstance(link.get("headers"), dict) else None,
    }


def load_static(
    location: str, collections: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> tuple[list[tuple[dict, str]], dict[str, dict]]:
    """Every item under a static STAC document, and the collections met on the way.

    ``location`` is a catalog or collection (its ``child`` and ``item`` links are followed),
    an ItemCollection / GeoJSON FeatureCollection, a JSON list of items or a single item.
    Items are paired with the location they came from (for relative hrefs); only items of
    ``collections`` are kept when given.
    """
    items: list[tuple[dict, str]] = []
    found_collections: dict[str, dict] = {}
    visited: set[str] = set()

    def visit(doc: Any, where: str, depth: int) -> None:
        if isinstance(doc, list):
            for x in doc:
                visit(x, where, depth)
            return
        if not isinstance(doc, dict):
            raise DataError(f"{where} is not a STAC document (a JSON {type(doc).__name__})")
        kind = doc.get("type")
        if kind == "Feature":
            if not isinstance(doc.get("assets"), dict):
                raise DataError(f"STAC item {doc.get('id')!r} in {where} has no assets")
            items.append((doc, _item_base(doc, where)))
        elif kind == "FeatureCollection":
            visit(doc.get("features") or [], where, depth)
        elif kind in ("Catalog", "Collection") or "links" in doc:
            if kind == "Collection" and doc.get("id"):
                found_collections[str(doc["id"])] = doc
            if depth > 32:
                raise DataError(f"STAC catalog {location} nests more than 32 levels")
            for rel in ("child", "item"):
                for link in _links(doc, rel):
                    href = resolve_href(str(link.get("href") or ""), where)
                    if href in visited:
                        continue
                    visited.add(href)
                    visit(read_json(href, timeout), href, depth + 1)
        else:
            raise DataError(f"{where} is not a STAC catalog, collection or item (type {kind!r})")

    visit(read_json(location, timeout), location, 0)
    if collections:
        wanted = set(collections)
        items = [(i, b) for i, b in items if i.get("collection") in wanted]
    return items, found_collections


# --------------------------------------------------------------------------------------
# Defining STAC products
# --------------------------------------------------------------------------------------


def _api_landing(doc: Any, url: str, timeout: float) -> tuple[str, str | None] | None:
    """(search URL, collection id) when ``doc`` is a STAC API landing page or API collection."""
    if not isinstance(doc, dict) or doc.get("type") == "Feature":
        return None
    search = _links(doc, "search")
    conforms = " ".join(str(c) for c in doc.get("conformsTo") or [])
    if search:
        return resolve_href(str(search[0].get("href")), url), None
    if "item-search" in conforms:
        return url.rstrip("/") + "/search", None
    if doc.get("type") == "Collection" and _links(doc, "items") and not _links(doc, "item"):
        # A collection page of an API: search its root, for this collection.
        for link in _links(doc, "root"):
            root_url = resolve_href(str(link.get("href") or ""), url)
            if root_url and root_url != url:
                found = _api_landing(read_json(root_url, timeout), root_url, timeout)
                if found is not None:
                    return found[0], str(doc.get("id"))
    return None


def add_stac_product(
    product_id: str,
    url_or_path: str,
    collection: str | None = None,
    bands: Sequence[str | Mapping[str, Any]] | None = None,
    title: str = "",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    cache_seconds: float = DEFAULT_CACHE_SECONDS,
    page_size: int = DEFAULT_PAGE_SIZE,
    signer: str | None = None,
    catalog: Catalog | None = None,
) -> Product:
    """Define a product whose images are the items of a STAC collection.

    ``url_or_path`` is a STAC API landing page (or one of its collections), or a static
    catalog, collection, ItemCollection, list of items or item, as a local path or an
    HTTP(S) URL. ``collection`` picks one collection (needed for most APIs). ``bands``
    chooses and orders the bands (see :func:`select_bands`; default: every raster band of a
    sample item). ``timeout`` bounds each catalog request, ``cache_seconds`` how long search
    results are reused, ``page_size`` the items asked per page; ``signer`` names a way to
    sign asset URLs (``"planetary-computer"``).

    Nothing is stored but the product and where to search: images are found when searched.
    Redefining an existing product differently raises ParameterError.
    """
    cat = catalog if catalog is not None else default_catalog()
    if signer is not None and signer not in _SIGNERS:
        raise ParameterError(f"unknown signer {signer!r}; one of {', '.join(_SIGNERS)}")
    location = str(url_or_path)
    if not _is_url(location):
        location = str(Path(_local_path(location)).expanduser().resolve())
    doc = read_json(location, timeout)
    landing = _api_landing(doc, location, timeout)
    collections = (collection,) if collection else ()
    item_assets: dict[str, Any] | None = None
    collection_title = ""
    if landing is not None:
        search_url, api_collection = landing
        if not collections and api_collection:
            collections = (api_collection,)
        probe = _Spec("api", location, search_url, collections, (), timeout, cache_seconds, 1)
        if collections:
            info = _api_collection(search_url, collections[0], timeout)
            item_assets = info.get("item_assets")
            collection_title = str(info.get("title") or "")
        sample_pairs = _search_pages(probe, None, None, None, 1)[0]
        kind = "api"
    else:
        search_url = None
        sample_pairs, found = load_static(location, collections, timeout)
        info = found.get(collections[0], {}) if collections else next(iter(found.values()), {})
        item_assets = info.get("item_assets")
        collection_title = str(info.get("title") or "")
        kind = "static"
    if not sample_pairs:
        where = f"collection {collections[0]!r} of {location}" if collections else location
        raise ParameterError(f"{where} has no items to tell the bands from")
    sample, base = sample_pairs[0]
    sample = _with_absolute_hrefs(sample, base)
    specs, product_bands = select_bands(sample, bands, item_assets)
    spec = _Spec(
        kind=kind,
        url=location,
        search_url=search_url,
        collections=collections,
        bands=tuple(specs),
        timeout=float(timeout),
        cache_seconds=float(cache_seconds),
        page_size=int(page_size),
        signer=signer,
    )
    return cat.create_product(
        product_id,
        product_bands,
        title=title or collection_title or product_id,
        source=("stac", spec.to_json()),
    )


def _api_collection(search_url: str, collection: str, timeout: float) -> dict[str, Any]:
    root = search_url.split("?")[0].rstrip("/")
    root = root[: -len("/search")] if root.endswith("/search") else root
    url = f"{root}/collections/{urllib.parse.quote(collection)}"
    try:
        doc = read_json(url, timeout)
    except NotFoundError:
        raise NotFoundError(f"collection {collection!r} not found in the STAC API {root}") from None
    return doc if isinstance(doc, dict) else {}


def _with_absolute_hrefs(item: Mapping[str, Any], base: str) -> dict[str, Any]:
    assets = {
        k: {**a, "href": resolve_href(str(a.get("href") or ""), base)} if isinstance(a, dict) else a
        for k, a in (item.get("assets") or {}).items()
    }
    return {**item, "assets": assets}


def open_source(product: Product, spec: Mapping[str, Any]) -> StacSource:
    """The source of a stored STAC product (what the catalog store asks for kind ``"stac"``)."""
    return StacSource(product, _Spec.from_json(spec))


register_source_kind("stac", open_source, resolve_product)
