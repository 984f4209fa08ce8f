"""Reading STAC documents: pystac-client's HTTP reader with a timeout and this package's
errors, a short-lived cache of answers shared by concurrent callers, and signing of asset URLs.

pystac and pystac-client parse, follow links and page; what they do not do stays here: the
cache (pystac-client keeps no answers, so without it every map tile would query the catalog
again, and a down catalog would make each tile wait out a timeout) and the Planetary
Computer signer.
"""

from __future__ import annotations

import http
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pystac
import requests
from pystac.serialization.identify import STACVersionID, identify_stac_object_type
from pystac_client.exceptions import APIError
from pystac_client.stac_api_io import StacApiIO

from tiles import settings
from tiles.errors import DataError, NotFoundError, UnavailableError

# A failed query is remembered this long, so a map's tiles do not each wait out a timeout.
_FAILURE_SECONDS = 5.0
_HEADERS = {"User-Agent": "tiles (STAC client)", "Accept": "application/geo+json, application/json"}
# Answers a retry may cure: an overloaded or restarting catalog.
_TRANSIENT_STATUS = (429, 502, 503, 504)


def default_timeout() -> float:
    """Seconds a catalog request may take when the product does not say: ``$TILES_HTTP_TIMEOUT``."""
    return float(settings.HTTP_TIMEOUT.get())


def is_url(location: str) -> bool:
    """Whether ``location`` is an HTTP(S) URL (else a local path or ``file://`` URL)."""
    return location.startswith(("http://", "https://"))


def local_path(location: str) -> str:
    """The path of a ``file://`` URL; other locations unchanged."""
    if location.startswith("file://"):
        return urllib.request.url2pathname(urllib.parse.urlparse(location).path)
    return location


class CatalogIO(StacApiIO):
    """pystac-client's reader (a ``requests`` session) bounded by ``timeout`` and without
    retries, raising this package's errors; it reads local files too.

    One instance serves one search or catalog walk (sessions are not shared between
    threads; ``with CatalogIO(...) as io:`` closes its connections after). Catalogs and
    collections it parses are plain pystac objects, not API clients.

    Parameters
    ----------
    timeout:
        Seconds each request may wait for the server (connecting, and between bytes).

    Its reads raise NotFoundError for a missing file or an HTTP 404, UnavailableError (a
    DataError a retry may cure) for an unreachable, overloaded or silent server, and
    DataError for other HTTP errors and invalid JSON.
    """

    def __init__(self, timeout: float) -> None:
        # No retries: a map's tiles should fail fast and let the failure cache answer.
        super().__init__(headers=_HEADERS, timeout=timeout, max_retries=None)

    def __enter__(self) -> CatalogIO:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()

    def stac_object_from_dict(
        self,
        d: dict[str, Any],
        href: Any = None,
        root: pystac.Catalog | None = None,
        preserve_dict: bool = True,
    ) -> pystac.STACObject:
        """A plain pystac Catalog, Collection or Item (pystac-client's reader would make
        every catalog an API client); only documents older than STAC 1.0 are migrated."""
        kind = identify_stac_object_type(d)
        if needs_migration(d) or kind is None:
            # pystac's own: migrates (twice, copying), merges pre-1.0 "commons" properties.
            return pystac.StacIO.stac_object_from_dict(self, d, href, root, preserve_dict)
        cls = {
            pystac.STACObjectType.CATALOG: pystac.Catalog,
            pystac.STACObjectType.COLLECTION: pystac.Collection,
            pystac.STACObjectType.ITEM: pystac.Item,
        }[kind]
        obj = cls.from_dict(d, href=href, root=root, migrate=False, preserve_dict=preserve_dict)
        obj._stac_io = self  # as pystac's deserializer does: linked documents are read here
        return obj

    def request(
        self,
        href: str,
        method: str | None = None,
        headers: dict[str, str] | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> str:
        """The text of an HTTP answer (see :meth:`pystac_client.StacApiIO.request`)."""
        try:
            return super().request(href, method, headers, parameters)
        except APIError as e:
            raise self._error(e, href, (method or "GET").upper()) from None

    def _error(self, e: APIError, href: str, method: str) -> DataError:
        status = getattr(e, "status_code", None)
        if status is not None:
            try:
                reason = http.HTTPStatus(status).phrase
            except ValueError:
                reason = ""
            message = f"{method} {href} answered HTTP {status} {reason}: {str(e)[:300].strip()}"
            if status == 404:
                return NotFoundError(message)
            return (UnavailableError if status in _TRANSIENT_STATUS else DataError)(message)
        # pystac-client re-raises what requests raised as an APIError; the cause is its context.
        cause = e.__context__
        if isinstance(cause, requests.Timeout):
            return UnavailableError(f"{href} did not answer within {self.timeout:g} s", 5)
        if isinstance(cause, requests.ConnectionError):
            return UnavailableError(f"cannot reach {href}: {cause}", 5)
        return UnavailableError(f"reading {href} failed: {e}", 5)

    def read_text(self, source: Any, *args: Any, **kwargs: Any) -> str:
        """A document's text: a URL or ``pystac.Link`` through :meth:`request`, else a file."""
        if isinstance(source, pystac.Link) or is_url(str(source)):
            return super().read_text(source, *args, **kwargs)
        path = Path(local_path(str(source))).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFoundError(f"STAC document not found: {path}") from None
        except OSError as e:
            raise DataError(f"cannot read STAC document {path}: {e}") from e

    def read_json(self, source: Any, *args: Any, **kwargs: Any) -> Any:
        """A JSON document (see :meth:`read_text`); DataError when it is not JSON."""
        text = self.read_text(source, *args, **kwargs)
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            where = source.href if isinstance(source, pystac.Link) else source
            raise DataError(f"{where} is not valid JSON ({e})") from None


StacItem = pystac.Item | Mapping[str, Any]


def needs_migration(doc: Mapping[str, Any]) -> bool:
    """Whether a document is older than STAC 1.0 (which pystac migrates to the latest).

    Later documents are read as they are: their properties stay as the catalog gives them
    (the ``proj:epsg`` of projection extension 1.x is still read), and parsing skips
    pystac's deep copies of each document.
    """
    version = doc.get("stac_version")
    return not isinstance(version, str) or STACVersionID(version) < "1.0.0"


def parse_item(
    doc: StacItem, where: str | None = None, copy: bool = True, own_file: bool = False
) -> pystac.Item:
    """A ``pystac.Item`` from its JSON (older STAC versions migrated); Items pass through.

    Parameters
    ----------
    doc:
        The item's JSON, or a ``pystac.Item`` (returned as it is).
    where:
        Where the JSON was read: relative asset hrefs resolve against it when the item has
        no self link of its own.
    copy:
        False lets parsing change ``doc`` (cheaper for JSON nobody else holds).
    own_file:
        ``where`` is the item's own file: it replaces the item's self link (as in
        ``pystac.Item.from_file``), so a copied item's hrefs resolve next to the copy.

    Returns
    -------
    pystac.Item
        The item.
    """
    if isinstance(doc, pystac.Item):
        return doc
    if not isinstance(doc, Mapping) or doc.get("type") != "Feature":
        raise DataError(f"{where or 'document'} is not a STAC item: {str(doc)[:200]}")
    try:
        href = where if own_file else None
        migrate = needs_migration(doc)
        item = pystac.Item.from_dict(dict(doc), href=href, migrate=migrate, preserve_dict=copy)
    except (pystac.STACError, KeyError, TypeError, ValueError) as e:
        raise DataError(f"invalid STAC item {doc.get('id')!r} in {where}: {e}") from None
    if where is not None and item.get_self_href() is None:
        item.set_self_href(where)
    return item


def asset_href(asset: pystac.Asset) -> str:
    """An asset's href made absolute against its item's self href (as it is without one)."""
    return asset.get_absolute_href() or asset.href


def read_json(location: str, timeout: float | None = None) -> Any:
    """A JSON document from a local path or an HTTP(S) URL.

    Parameters
    ----------
    location:
        A path, ``file://`` URL or HTTP(S) URL.
    timeout:
        Seconds the server may take (default ``$TILES_HTTP_TIMEOUT``).

    Returns
    -------
    Any
        The parsed document.

    Raises NotFoundError for a missing file or an HTTP 404; UnavailableError for an
    unreachable, overloaded or silent server; DataError for other HTTP errors and invalid JSON.
    """
    with CatalogIO(default_timeout() if timeout is None else timeout) as io:
        return io.read_json(location)


# --------------------------------------------------------------------------------------
# A small cache with expiry, shared by concurrent callers
# --------------------------------------------------------------------------------------


class TTLCache:
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
        """The value kept for ``key``, else ``compute()``'s, kept ``ttl`` seconds.

        Parameters
        ----------
        key:
            What identifies the answer (say the query's URL and parameters).
        ttl:
            Seconds a value is kept (an exception ``compute`` raised: a few seconds at most,
            and it is raised again to callers meanwhile).
        compute:
            Called once per key while no value is kept; callers asking meanwhile wait for it.

        Returns
        -------
        Any
            What ``compute`` returned.
        """
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
        """Forget every kept value and reset the miss count."""
        with self._lock:
            self._items.clear()
            self.misses = 0


CACHE = TTLCache()


def clear_cache() -> None:
    """Forget cached STAC searches, item lists and tokens (the next search asks the catalog)."""
    CACHE.clear()


def cache_misses() -> int:
    """How many catalog queries the cache has let through (for monitoring and tests)."""
    return CACHE.misses


# --------------------------------------------------------------------------------------
# Asset signing (Planetary Computer)
# --------------------------------------------------------------------------------------

_PC_TOKEN_URL = "https://planetarycomputer.microsoft.com/api/sas/v1/token/{collection}"


def _planetary_computer_signer(collection: str | None, timeout: float) -> Callable[[str], str]:
    """Append the collection's SAS token to Azure blob URLs (tokens live about an hour).

    Hrefs are signed when image records are made, not in the searches' answers (as a
    pystac-client ``modifier`` would), so cached searches never hold an expired token.
    """

    def token() -> str:
        if not collection:
            raise DataError("signing Planetary Computer assets needs a collection")
        doc = CACHE.get_or_compute(
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


SIGNERS: dict[str, Callable[[str | None, float], Callable[[str], str]]] = {
    "planetary-computer": _planetary_computer_signer,
}
