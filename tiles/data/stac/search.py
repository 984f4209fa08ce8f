"""Finding a STAC product's images: searching a STAC API page by page, walking a static
catalog, and :class:`StacSource`, which answers the catalog store's searches for a product.

Hand-written STAC API paging and catalog traversal (``pystac_client.ItemSearch`` and
``pystac.Catalog.get_items`` do the same).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from tiles.data.records import DateLike, ImageRecord, Product, footprint_intersects, to_utc
from tiles.data.stac.bands import BandSpec
from tiles.data.stac.fetch import (
    CACHE,
    DEFAULT_TIMEOUT,
    SIGNERS,
    links_with_rel,
    read_json,
    resolve_href,
)
from tiles.data.stac.items import item_base, item_datetime, item_footprint, item_record
from tiles.errors import DataError, NotFoundError

DEFAULT_CACHE_SECONDS = 60.0
DEFAULT_PAGE_SIZE = 100


@dataclasses.dataclass(frozen=True)
class SourceSpec:
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
        """The spec as stored with the product in the catalog (its source ``spec``)."""
        d = dataclasses.asdict(self)
        d["collections"] = list(self.collections)
        d["bands"] = [b.to_json() for b in self.bands]
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SourceSpec:
        """The spec :meth:`to_json` stored."""
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

    def __init__(self, product: Product, spec: SourceSpec) -> None:
        if len(spec.bands) != len(product.bands):
            raise DataError(f"STAC product {product.id!r}: stored bands do not match its assets")
        self.product = product
        self.spec = spec
        self._sign = (
            SIGNERS[spec.signer](spec.collections[0] if spec.collections else None, spec.timeout)
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
            if bbox_lonlat is not None and not footprint_intersects(
                item_footprint(item), bbox_lonlat
            ):
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
        found = CACHE.get_or_compute(
            ("item", self.spec.search_url, self.spec.collections, name),
            self.spec.cache_seconds,
            lambda: self._fetch_item(name),
        )
        item, base = found
        return item_record(self.product, item, self.spec.bands, base, self._sign)

    # -- static catalogs -----------------------------------------------------------------

    def _static_items(self) -> list[tuple[dict, str]]:
        key = ("static", self.spec.url, self.spec.collections)
        return CACHE.get_or_compute(
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
            pairs, done = CACHE.get_or_compute(
                key,
                self.spec.cache_seconds,
                lambda box=box: search_pages(self.spec, box, t0, t1, limit),
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
                    return f, item_base(f, url)
        raise NotFoundError(f"image {self.product.id}:{name} not found in {spec.url}")


def search_pages(
    spec: SourceSpec, box: Sequence[float] | None, t0: Any, t1: Any, limit: int | None
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
                items.append((f, item_base(f, url)))
        request = _next_request(doc, url, request)
        if limit is not None and len(items) >= int(limit):
            return items[: int(limit)], request is None and len(items) == int(limit)
    return items, True


def _next_request(doc: Mapping[str, Any], url: str, previous: Mapping[str, Any]) -> dict | None:
    """The request a ``next`` link describes (GET href, or POST with a body to merge)."""
    links = links_with_rel(doc, "next")
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
            items.append((doc, item_base(doc, where)))
        elif kind == "FeatureCollection":
            visit(doc.get("features") or [], where, depth)
        elif kind in ("Catalog", "Collection") or "links" in doc:
            if kind == "Collection" and doc.get("id"):
                found_collections[str(doc["id"])] = doc
            if depth > 32:
                raise DataError(f"STAC catalog {location} nests more than 32 levels")
            for rel in ("child", "item"):
                for link in links_with_rel(doc, rel):
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
