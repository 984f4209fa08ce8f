"""Defining STAC products: a product's bands chosen from a sample item, and where to search
stored in the catalog; registers the ``"stac"`` source kind with the catalog store."""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pystac
import pystac_client
from pystac_client.conformance import ConformanceClasses
from pystac_client.errors import ClientTypeError

from tiles.data.default_catalog import default_catalog
from tiles.data.records import Product
from tiles.data.source_kinds import register_source_kind
from tiles.data.stac.bands import select_bands
from tiles.data.stac.fetch import SIGNERS, CatalogIO, is_url, local_path
from tiles.data.stac.presets import expand_preset
from tiles.data.stac.search import (
    DEFAULT_CACHE_SECONDS,
    DEFAULT_PAGE_SIZE,
    SourceSpec,
    StacSource,
    api_root,
    load_static,
    search_items,
)
from tiles.data.store import Catalog
from tiles.errors import DataError, NotFoundError, ParameterError


def _api_landing(io: CatalogIO, doc: Any, url: str) -> tuple[str, str | None] | None:
    """(search URL, collection id) when ``doc`` is a STAC API landing page or API collection."""
    if not isinstance(doc, dict):
        return None
    if doc.get("type") == "Collection":
        return _api_collection_page(io, doc, url)
    try:
        client = pystac_client.Client.from_dict(doc, href=url)
    except (ClientTypeError, pystac.STACError, KeyError, TypeError, ValueError):
        return None  # not a catalog at all: an item, or something else
    link = client.get_search_link()
    if link is not None:
        return link.get_absolute_href() or link.href, None
    if client.conforms_to(ConformanceClasses.ITEM_SEARCH):
        return url.rstrip("/") + "/search", None
    return None


def _api_collection_page(io: CatalogIO, doc: dict, url: str) -> tuple[str, str | None] | None:
    """A collection page of an API (items behind an ``items`` link): search its API."""
    try:
        collection = pystac.Collection.from_dict(doc, href=url)
    except (pystac.STACError, KeyError, TypeError, ValueError):
        return None
    if collection.get_single_link("items") is None or collection.get_links("item"):
        return None  # a static collection lists its items
    root = collection.get_root_link()
    root_url = root.get_absolute_href() if root is not None else None
    if not root_url or root_url == url:
        return None
    found = _api_landing(io, io.read_json(root_url), root_url)
    return None if found is None else (found[0], collection.id)


def add_stac_product(
    product_id: str,
    url_or_path: str,
    collection: str | None = None,
    bands: Sequence[str | Mapping[str, Any]] | None = None,
    title: str = "",
    *,
    timeout: float | None = None,
    cache_seconds: float = DEFAULT_CACHE_SECONDS,
    page_size: int = DEFAULT_PAGE_SIZE,
    signer: str | None = None,
    catalog: Catalog | None = None,
) -> Product:
    """Define a product whose images are the items of a STAC collection.

    Parameters
    ----------
    product_id:
        The new product's id.
    url_or_path:
        A STAC API landing page (or one of its collections), or a static catalog,
        collection, ItemCollection, list of items or item, as a local path or an HTTP(S) URL.
    collection:
        The collection to search (needed for most APIs).
    bands:
        Chooses and orders the bands (see :func:`~tiles.data.stac.select_bands`; default:
        every raster band of a sample item).
    title:
        The product's title (default: the collection's).
    timeout:
        Seconds each catalog request may take (default: ``$TILES_HTTP_TIMEOUT`` when it is
        made).
    cache_seconds:
        How long search results are reused.
    page_size:
        Items asked per page of an API search.
    signer:
        A way to sign asset URLs (``"planetary-computer"``).
    catalog:
        Where to store the product (default: the default catalog).

    Returns
    -------
    Product
        The product. Nothing is stored but the product and where to search: images are found
        when searched. Redefining an existing product differently raises ParameterError.
    """
    cat = catalog if catalog is not None else default_catalog()
    if signer is not None and signer not in SIGNERS:
        raise ParameterError(f"unknown signer {signer!r}; one of {', '.join(SIGNERS)}")
    location = str(url_or_path)
    if not is_url(location):
        location = str(Path(local_path(location)).expanduser().resolve())
    if not 1 <= int(page_size) <= 10000:
        raise ParameterError(f"page_size must be 1..10000, not {page_size!r}")
    spec = SourceSpec(
        kind="static",
        url=location,
        search_url=None,
        collections=(collection,) if collection else (),
        bands=(),
        timeout=None if timeout is None else float(timeout),
        cache_seconds=float(cache_seconds),
        page_size=int(page_size),
        signer=signer,
    )
    with CatalogIO(spec.request_timeout()) as io:
        landing = _api_landing(io, io.read_json(location), location)
        if landing is not None:
            search_url, api_collection = landing
            collections = spec.collections or ((api_collection,) if api_collection else ())
            spec = dataclasses.replace(
                spec, kind="api", search_url=search_url, collections=collections
            )
            info = _api_collection(io, search_url, collections[0]) if collections else {}
    if landing is not None:
        item_assets = info.get("item_assets")
        collection_title = str(info.get("title") or "")
        samples = search_items(spec, None, None, None, 1)[0]
    else:
        samples, found = load_static(location, spec.collections, spec.timeout)
        wanted = found.get(collection) if collection else next(iter(found.values()), None)
        item_assets = _item_assets_json(wanted)
        collection_title = (wanted.title if wanted is not None else "") or ""
    if not samples:
        where = (
            f"collection {spec.collections[0]!r} of {location}" if spec.collections else location
        )
        raise ParameterError(f"{where} has no items to tell the bands from")
    specs, product_bands = select_bands(samples[0], bands, item_assets)
    spec = dataclasses.replace(spec, bands=tuple(specs))
    return cat.create_product(
        product_id,
        product_bands,
        title=title or collection_title or product_id,
        source=("stac", spec.to_json()),
    )


def _item_assets_json(collection: pystac.Collection | None) -> dict[str, Any] | None:
    if collection is None or not collection.item_assets:
        return None
    return {key: definition.to_dict() for key, definition in collection.item_assets.items()}


def _api_collection(io: CatalogIO, search_url: str, collection: str) -> dict[str, Any]:
    # Only its title and item_assets are used, so the JSON is read as it is (many APIs'
    # collections miss fields pystac insists on).
    root = api_root(search_url)
    url = f"{root}/collections/{urllib.parse.quote(collection)}"
    try:
        doc = io.read_json(url)
    except NotFoundError:
        raise NotFoundError(f"collection {collection!r} not found in the STAC API {root}") from None
    if not isinstance(doc, dict):
        raise DataError(f"{url} is not a STAC collection")
    return doc


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


def open_source(product: Product, spec: Mapping[str, Any]) -> StacSource:
    """The source of a stored STAC product (what the catalog store asks for kind ``"stac"``)."""
    return StacSource(product, SourceSpec.from_json(spec))


register_source_kind("stac", open_source, resolve_product)
