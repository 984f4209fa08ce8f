"""Finding a STAC product's images: STAC API searches (pystac-client's ``ItemSearch``, page
by page), static catalogs (pystac), and :class:`StacSource`, which answers the catalog
store's searches for a product."""

from __future__ import annotations

import dataclasses
import json
import math
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pystac
from pystac_client import ItemSearch

from tiles.data.records import DateLike, ImageRecord, Product, footprint_intersects, to_utc
from tiles.data.stac.bands import BandSpec
from tiles.data.stac.fetch import CACHE, SIGNERS, CatalogIO, default_timeout, parse_item
from tiles.data.stac.items import item_datetime, item_footprint, item_record
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
    #: Seconds a catalog request may take; None: ``$TILES_HTTP_TIMEOUT`` when it is made.
    timeout: float | None = None
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
        timeout = d.get("timeout")
        return cls(
            kind=str(d["kind"]),
            url=str(d["url"]),
            search_url=d.get("search_url"),
            collections=tuple(d.get("collections") or ()),
            bands=tuple(BandSpec.from_json(b) for b in d["bands"]),
            timeout=None if timeout is None else float(timeout),
            cache_seconds=float(d.get("cache_seconds", DEFAULT_CACHE_SECONDS)),
            page_size=int(d.get("page_size", DEFAULT_PAGE_SIZE)),
            signer=d.get("signer"),
        )

    def request_timeout(self) -> float:
        """Seconds a catalog request may take: the product's own, else ``$TILES_HTTP_TIMEOUT``."""
        return default_timeout() if self.timeout is None else self.timeout


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
    footprints meeting the lon/lat box, sorted by date, at most ``limit``). Safe to use from
    several threads at once: each catalog query has its own reader.
    """

    def __init__(self, product: Product, spec: SourceSpec) -> None:
        if len(spec.bands) != len(product.bands):
            raise DataError(f"STAC product {product.id!r}: stored bands do not match its assets")
        self.product = product
        self.spec = spec
        self._sign = (
            SIGNERS[spec.signer](
                spec.collections[0] if spec.collections else None, spec.request_timeout()
            )
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
            items = self._static_items()
        else:
            items, complete = self._api_items(t0, t1, bbox_lonlat, limit, snap=True)
            if not complete:
                # A grid cell held more than `limit` items: ask for the exact box.
                items, complete = self._api_items(t0, t1, bbox_lonlat, limit, snap=False)
        records = []
        for item in items:
            acquired = item_datetime(item)
            if (t0 is not None and acquired < t0) or (t1 is not None and acquired >= t1):
                continue
            if bbox_lonlat is not None and not footprint_intersects(
                item_footprint(item), bbox_lonlat
            ):
                continue
            records.append(item_record(self.product, item, self.spec.bands, sign=self._sign))
        records.sort(key=lambda r: (r.acquired, r.id))
        return records if limit is None else records[: int(limit)]

    def image(self, name: str) -> ImageRecord:
        """The image of item ``name``; NotFoundError when the catalog has no such item."""
        if self.spec.kind == "static":
            item = next((i for i in self._static_items() if i.id == name), None)
        else:
            item = CACHE.get_or_compute(
                ("item", self.spec.search_url, self.spec.collections, name),
                self.spec.cache_seconds,
                lambda: fetch_item(self.spec, name),
            )
        if item is None:
            raise NotFoundError(f"image {self.product.id}:{name} not found in {self.spec.url}")
        return item_record(self.product, item, self.spec.bands, sign=self._sign)

    # -- static catalogs -----------------------------------------------------------------

    def _static_items(self) -> list[pystac.Item]:
        key = ("static", self.spec.url, self.spec.collections)
        return CACHE.get_or_compute(
            key,
            self.spec.cache_seconds,
            lambda: load_static(self.spec.url, self.spec.collections, self.spec.timeout)[0],
        )

    # -- STAC APIs -----------------------------------------------------------------------

    def _api_items(self, t0, t1, bbox, limit, snap: bool) -> tuple[list[pystac.Item], bool]:
        if bbox is None:
            boxes: list[tuple[float, ...]] = []
        else:
            w, s, e, n = (float(v) for v in bbox)
            # A box across the antimeridian is asked as its two halves.
            boxes = [(w, s, 180.0, n), (-180.0, s, e, n)] if w > e else [(w, s, e, n)]
            if snap:
                boxes = [cell for b in boxes for cell in _cells(b)]
        queries = [tuple(b) for b in boxes] or [None]
        merged: dict[str, pystac.Item] = {}
        complete = True
        for box in queries:
            key = ("search", self.spec.search_url, self.spec.collections, box, t0, t1, limit)
            items, done = CACHE.get_or_compute(
                key,
                self.spec.cache_seconds,
                lambda box=box: search_items(self.spec, box, t0, t1, limit),
            )
            complete = complete and done
            for item in items:
                merged.setdefault(item.id, item)
        return list(merged.values()), complete


def api_root(search_url: str) -> str:
    """The landing page of the API whose item search is ``search_url``."""
    root = search_url.split("?")[0].rstrip("/")
    return root[: -len("/search")] if root.endswith("/search") else root


def fetch_item(spec: SourceSpec, name: str) -> pystac.Item | None:
    """Item ``name`` of a STAC API product: from its collections' items, else by id search."""
    assert spec.search_url is not None
    root = api_root(spec.search_url)
    with CatalogIO(spec.request_timeout()) as io:
        for collection in spec.collections:
            quoted = urllib.parse.quote(collection), urllib.parse.quote(name)
            url = f"{root}/collections/{quoted[0]}/items/{quoted[1]}"
            try:
                return parse_item(io.read_json(url), url, copy=False, own_file=True)
            except NotFoundError:
                continue
        if not spec.collections:
            search = ItemSearch(spec.search_url, method="GET", stac_io=io, ids=[name])
            for page in _pages(search):
                for doc in page.get("features") or []:
                    if isinstance(doc, dict) and doc.get("id") == name:
                        return parse_item(doc, spec.search_url, copy=False)
    return None


def _pages(search: ItemSearch) -> Iterator[dict[str, Any]]:
    """The pages of a search, ending where a catalog's ``next`` link points back."""
    seen: set[str] = set()
    for page in search.pages_as_dicts():
        yield page
        links = [ln for ln in page.get("links") or [] if ln.get("rel") == "next"]
        signature = json.dumps(links[:1], sort_keys=True, default=str)
        if signature in seen:
            return
        seen.add(signature)


def search_items(
    spec: SourceSpec, box: Sequence[float] | None, t0: Any, t1: Any, limit: int | None
) -> tuple[list[pystac.Item], bool]:
    """Items of a STAC API search, page by page as its ``next`` links say (GET or POST).

    Parameters
    ----------
    spec:
        The product's source: search URL, collections, page size, timeout.
    box:
        (west, south, east, north) in degrees, or None for anywhere.
    t0, t1:
        Datetimes bounding the acquisition, or None; both ends are included (STAC ranges
        are closed: the half-open range is applied afterwards).
    limit:
        At most this many items (None: all).

    Returns
    -------
    tuple[list[pystac.Item], bool]
        The items, and whether they are all the catalog holds.
    """
    assert spec.search_url is not None
    page_size = spec.page_size if limit is None else max(1, min(spec.page_size, int(limit)))
    items: list[pystac.Item] = []
    with CatalogIO(spec.request_timeout()) as io:
        search = ItemSearch(
            spec.search_url,
            method="GET",
            stac_io=io,
            limit=page_size,
            collections=list(spec.collections) or None,
            bbox=None if box is None else [float(v) for v in box],
            datetime=None if t0 is None and t1 is None else [t0, t1],
        )
        for page in _pages(search):
            items.extend(
                parse_item(doc, spec.search_url, copy=False)
                for doc in page.get("features") or []
                if isinstance(doc, dict)
            )
            if limit is not None and len(items) >= int(limit):
                more = any(ln.get("rel") == "next" for ln in page.get("links") or [])
                return items[: int(limit)], not more and len(items) == int(limit)
    return items, True


def load_static(
    location: str, collections: Sequence[str] = (), timeout: float | None = None
) -> tuple[list[pystac.Item], dict[str, pystac.Collection]]:
    """Every item under a static STAC document, and the collections met on the way.

    Parameters
    ----------
    location:
        A catalog or collection (pystac walks its ``child`` and ``item`` links), an
        ItemCollection / GeoJSON FeatureCollection, a JSON list of items or a single item;
        a local path or an HTTP(S) URL.
    collections:
        Only items of these collections are kept (all when empty).
    timeout:
        Seconds each request may take (default ``$TILES_HTTP_TIMEOUT``).

    Returns
    -------
    tuple[list[pystac.Item], dict[str, pystac.Collection]]
        The items (asset hrefs resolve against where each was read) and the collections by id.
    """
    with CatalogIO(default_timeout() if timeout is None else timeout) as io:
        items, found = _items_of(io, io.read_json(location), location)
    if collections:
        wanted = set(collections)
        items = [i for i in items if i.collection_id in wanted]
    return items, found


def _items_of(
    io: CatalogIO, doc: Any, location: str
) -> tuple[list[pystac.Item], dict[str, pystac.Collection]]:
    found: dict[str, pystac.Collection] = {}
    if isinstance(doc, list):
        items = [parse_item(d, location, copy=False) for d in doc]
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        items = [parse_item(d, location, copy=False) for d in doc.get("features") or []]
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        items = [parse_item(doc, location, copy=False, own_file=True)]
    elif isinstance(doc, dict) and (doc.get("type") in ("Catalog", "Collection") or "links" in doc):
        items, found = _walk(io, doc, location)
    else:
        kind = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise DataError(f"{location} is not a STAC catalog, collection or item (type {kind!r})")
    return items, found


def _walk(
    io: CatalogIO, doc: dict, location: str
) -> tuple[list[pystac.Item], dict[str, pystac.Collection]]:
    """The items and collections under a static catalog or collection."""
    try:
        root = io.stac_object_from_dict(doc, href=location, preserve_dict=False)
        if not isinstance(root, pystac.Catalog):
            raise DataError(f"{location} is not a STAC catalog or collection")
        # The walk starts here: root links elsewhere (often to the copied catalog's original
        # home) are never fetched.
        root.set_root(root)
        items = list(root.get_items(recursive=True))
        found = {c.id: c for c in root.get_all_collections()}
    except pystac.STACError as e:
        # A child or item link that does not resolve: say what went wrong with it.
        cause = e.__cause__
        raise (cause if isinstance(cause, DataError) else DataError(f"{location}: {e}")) from None
    except RecursionError:
        raise DataError(f"STAC catalog {location} links back to itself or nests too deep") from None
    if isinstance(root, pystac.Collection):
        found[root.id] = root
    unique = {item.get_self_href() or id(item): item for item in items}
    return list(unique.values()), found
