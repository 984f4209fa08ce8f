"""Band selection: which assets of a STAC item are a product's bands, and how each is
scaled (``raster:bands``, ``eo:bands``, else the file's own header)."""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError

from tiles.data.reading import gdal_read_options
from tiles.data.records import Band
from tiles.errors import ParameterError

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
        """The spec as stored with the product in the catalog."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BandSpec:
        """The spec :meth:`to_json` stored."""
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


def item_band(band: Band, spec: BandSpec, asset: Mapping[str, Any]) -> Band:
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
    if not ({"scale", "offset", "nodata"} & set(rb)):
        return band
    physical = _scaled(band.data_range, float(rb.get("scale", 1.0)), float(rb.get("offset", 0.0)))
    nodata = rb.get("nodata", band.nodata)
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
