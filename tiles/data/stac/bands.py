"""Band selection: which assets of a STAC item are a product's bands, and how each is
scaled (the raster extension's ``raster:bands``, the eo extension's ``eo:bands``, else the
file's own header)."""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pystac
import rasterio
from pystac.extensions.eo import AssetEOExtension
from pystac.extensions.eo import Band as EOBand
from pystac.extensions.raster import AssetRasterExtension, RasterBand
from rasterio.errors import RasterioIOError

from tiles.data.reading import gdal_read_options
from tiles.data.records import Band
from tiles.data.stac.fetch import asset_href, parse_item
from tiles.errors import ParameterError

_RASTER_TYPES = ("image/tiff", "image/vnd.stac.geotiff", "image/jp2", "application/x-geotiff")
_RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".vrt")
_NOT_BAND_ROLES = {"thumbnail", "overview", "visual", "tiles"}

# The asset views below read the extensions' fields whether or not the item declares the
# extension: many catalogs use raster:bands and eo:bands without (pystac's ``ext`` refuses).


def _eo_bands(asset: pystac.Asset) -> list[EOBand]:
    return AssetEOExtension(asset).bands or []


def _raster_bands(asset: pystac.Asset) -> list[RasterBand]:
    return AssetRasterExtension(asset).bands or []


def _band_count(asset: pystac.Asset) -> int:
    return max(len(_eo_bands(asset)), len(_raster_bands(asset)), 1)


def _href_stem(href: str) -> tuple[str, str]:
    name = urllib.parse.urlparse(href).path.rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    return (stem, "." + ext.lower()) if dot else (name, "")


def _is_raster_asset(key: str, asset: pystac.Asset) -> bool:
    roles = set(asset.roles or [key])  # old items have no roles but telling keys
    if roles & _NOT_BAND_ROLES:
        return False
    media = str(asset.media_type or "").lower()
    if media:
        return media.startswith(_RASTER_TYPES)
    return _href_stem(asset.href or "")[1] in _RASTER_SUFFIXES


def _merged_assets(
    item: pystac.Item, item_assets: Mapping[str, Any] | None
) -> dict[str, pystac.Asset]:
    """The item's assets (absolute hrefs), each completed by the collection's ``item_assets``."""
    defaults = item_assets or {}
    return {
        key: pystac.Asset.from_dict(
            {**(defaults.get(key) or {}), **asset.to_dict(), "href": asset_href(asset)}
        )
        for key, asset in item.assets.items()
    }


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
        """The spec as stored with the product in the catalog."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BandSpec:
        """The spec :meth:`to_json` stored."""
        return cls(str(d["name"]), str(d["asset"]), int(d.get("bidx", 1)), bool(d.get("fixed")))


def _default_selection(assets: Mapping[str, pystac.Asset]) -> list[dict]:
    """Every raster band of the item, in asset order, minus duplicates.

    Duplicates: the same file in another format (Earth Search's ``red`` and ``red-jp2``) and
    composites whose bands all exist on their own (Planetary Computer's ``visual``).
    """
    raster = {k: a for k, a in assets.items() if _is_raster_asset(k, a)}
    single_names = {
        _eo_bands(a)[0].name for a in raster.values() if _band_count(a) == 1 and _eo_bands(a)
    } - {None}
    seen_stems: dict[str, str] = {}
    out: list[dict] = []
    for key, asset in raster.items():
        stem, ext = _href_stem(asset.href)
        if stem and stem in seen_stems:
            continue
        if stem:
            seen_stems[stem] = key
        n = _band_count(asset)
        if n == 1:
            out.append({"name": _clean_name(key), "asset": key, "band": 1})
            continue
        eo = _eo_bands(asset)
        if eo and all(e.name in single_names for e in eo):
            continue
        for i in range(n):
            e = eo[i] if i < len(eo) else None
            label = (e and (e.common_name or e.name)) or f"{key}_{i + 1}"
            out.append({"name": _clean_name(str(label)), "asset": key, "band": i + 1})
    names = [d["name"] for d in out]
    for d in out:  # one name for two bands: qualify both with their asset key
        if names.count(d["name"]) > 1:
            d["name"] = _clean_name(f"{d['asset']}_{d['name']}")
    return out


def _find_band(
    item: pystac.Item, assets: Mapping[str, pystac.Asset], wanted: str
) -> tuple[str, int]:
    """(asset key, band index) for a band given by asset key or eo:bands name/common name."""
    if wanted in assets:
        asset = assets[wanted]
        n = _band_count(asset)
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
        for i, e in enumerate(_eo_bands(asset))
        if wanted in (e.name, e.common_name)
    ]
    if not matches:
        raise ParameterError(
            f"STAC item {item.id!r} has no asset or eo:bands name {wanted!r}; "
            f"assets: {', '.join(assets)}"
        )
    # Prefer a band that is its asset's only band (a COG per band) over part of a composite.
    matches.sort(key=lambda m: _band_count(assets[m[0]]) > 1)
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


def _or(value: Any, default: float) -> Any:
    return default if value is None else value


def _scaled(data_range: tuple[float, float], scale: float, offset: float) -> tuple[float, float]:
    lo, hi = data_range
    return (lo * scale + offset, hi * scale + offset)


def _band_from(
    name: str,
    asset: pystac.Asset,
    bidx: int,
    user: Mapping[str, Any],
    read_header: bool,
) -> Band:
    """A product band from the asset's raster:bands / eo:bands, overridden by ``user``."""
    rbs, eos = _raster_bands(asset), _eo_bands(asset)
    rb = rbs[bidx - 1] if bidx <= len(rbs) else RasterBand({})
    eo = eos[bidx - 1] if bidx <= len(eos) else EOBand({})
    data_type = user.get("data_type") or rb.data_type
    nodata = user.get("nodata", rb.nodata)
    if data_type is None and read_header and asset.href:
        # Only the data type needs the file: a missing nodata is read from it at read time.
        data_type, file_nodata = _header(asset.href, bidx)
        nodata = nodata if nodata is not None else file_nodata
    data_range = tuple(user["data_range"]) if "data_range" in user else _data_range(data_type)
    scale = float(user.get("scale", _or(rb.scale, 1.0)))
    offset = float(user.get("offset", _or(rb.offset, 0.0)))
    physical = user.get("physical_range") or _scaled(data_range, scale, offset)
    description = user.get("description") or eo.description or asset.title or ""
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
    item: pystac.Item | Mapping[str, Any],
    bands: Sequence[str | Mapping[str, Any]] | None = None,
    item_assets: Mapping[str, Any] | None = None,
    read_header: bool = True,
) -> tuple[list[BandSpec], list[Band]]:
    """The product bands a sample item defines, and where each is found in every item.

    ``bands`` entries are asset keys or eo:bands names / common names (``"red"``), optionally
    renamed (``"red=B04"``), or dicts ``{"name", "asset", "band", "data_range",
    "physical_range", "nodata", "scale", "offset", "data_type", "description"}`` for what
    the catalog does not say. None takes every raster band. ``item`` is a ``pystac.Item``
    or its JSON; ``item_assets`` the JSON of its collection's ``item_assets``. When the
    catalog gives no data type, the sample asset's own header is read (``read_header``).
    """
    item = parse_item(item)
    assets = _merged_assets(item, item_assets)
    selection: list[dict[str, Any]] = []
    if bands is None:
        selection = _default_selection(assets)
        if not selection:
            raise ParameterError(
                f"STAC item {item.id!r} has no raster assets; assets: {', '.join(assets)}"
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
                        f"STAC item {item.id!r} has no asset {d['asset']!r}; "
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
        product_bands.append(_band_from(name, assets[key], bidx, user, read_header))
    return specs, product_bands


def item_band(band: Band, spec: BandSpec, asset: pystac.Asset) -> Band:
    """The band as this item scales it, when its raster:bands say so and the user did not.

    Parameters
    ----------
    band:
        The product's band.
    spec:
        Where the band lives in each item.
    asset:
        The item's asset holding the band.

    Returns
    -------
    Band
        ``band`` with this item's physical range and nodata.
    """
    rbs = _raster_bands(asset)
    if spec.fixed or spec.bidx > len(rbs):
        return band
    rb = rbs[spec.bidx - 1]
    if not ({"scale", "offset", "nodata"} & set(rb.properties)):
        return band
    physical = _scaled(band.data_range, float(_or(rb.scale, 1.0)), float(_or(rb.offset, 0.0)))
    nodata = rb.properties.get("nodata", band.nodata)
    return dataclasses.replace(
        band, physical_range=physical, nodata=None if nodata is None else float(nodata)
    )


def same_band(a: Band, b: Band) -> bool:
    """Whether two definitions of a band scale and mask its values alike."""

    def close(x: Any, y: Any) -> bool:
        if x is None or y is None:
            return x is y
        return bool(np.allclose(x, y, rtol=1e-12, atol=0, equal_nan=True))

    return close(a.physical_range, b.physical_range) and close(a.nodata, b.nodata)
