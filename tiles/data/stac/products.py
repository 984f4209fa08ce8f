"""Defining STAC products: a product's bands chosen from a sample item, and where to search
stored in the catalog; registers the ``"stac"`` source kind with the catalog store."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tiles.data.default_catalog import default_catalog
from tiles.data.records import Product
from tiles.data.stac.bands import select_bands
from tiles.data.stac.fetch import (
    DEFAULT_TIMEOUT,
    SIGNERS,
    is_url,
    links_with_rel,
    local_path,
    read_json,
    resolve_href,
)
from tiles.data.stac.presets import expand_preset
from tiles.data.stac.search import (
    DEFAULT_CACHE_SECONDS,
    DEFAULT_PAGE_SIZE,
    SourceSpec,
    StacSource,
    load_static,
    search_pages,
)
from tiles.data.store import Catalog, register_source_kind
from tiles.errors import NotFoundError, ParameterError


def _api_landing(doc: Any, url: str, timeout: float) -> tuple[str, str | None] | None:
    """(search URL, collection id) when ``doc`` is a STAC API landing page or API collection."""
    if not isinstance(doc, dict) or doc.get("type") == "Feature":
        return None
    search = links_with_rel(doc, "search")
    conforms = " ".join(str(c) for c in doc.get("conformsTo") or [])
    if search:
        return resolve_href(str(search[0].get("href")), url), None
    if "item-search" in conforms:
        return url.rstrip("/") + "/search", None
    if (
        doc.get("type") == "Collection"
        and links_with_rel(doc, "items")
        and not links_with_rel(doc, "item")
    ):
        # A collection page of an API: search its root, for this collection.
        for link in links_with_rel(doc, "root"):
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
    if signer is not None and signer not in SIGNERS:
        raise ParameterError(f"unknown signer {signer!r}; one of {', '.join(SIGNERS)}")
    location = str(url_or_path)
    if not is_url(location):
        location = str(Path(local_path(location)).expanduser().resolve())
    doc = read_json(location, timeout)
    landing = _api_landing(doc, location, timeout)
    collections = (collection,) if collection else ()
    item_assets: dict[str, Any] | None = None
    collection_title = ""
    if landing is not None:
        search_url, api_collection = landing
        if not collections and api_collection:
            collections = (api_collection,)
        probe = SourceSpec("api", location, search_url, collections, (), timeout, cache_seconds, 1)
        if collections:
            info = _api_collection(search_url, collections[0], timeout)
            item_assets = info.get("item_assets")
            collection_title = str(info.get("title") or "")
        sample_pairs = search_pages(probe, None, None, None, 1)[0]
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
    spec = SourceSpec(
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
