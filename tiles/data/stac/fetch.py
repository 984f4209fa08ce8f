"""Fetching STAC documents: JSON from disk or over HTTP, a short-lived cache of answers
shared by concurrent callers, and signing of asset URLs.

This is the hand-written HTTP side of the STAC client (pystac's ``StacIO`` and the
``planetary-computer`` package's signing do the same jobs).
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from tiles.errors import DataError, NotFoundError, UnavailableError

DEFAULT_TIMEOUT = 20.0
# A failed query is remembered this long, so a map's tiles do not each wait out a timeout.
_FAILURE_SECONDS = 5.0
_USER_AGENT = "tiles (STAC client)"

# --------------------------------------------------------------------------------------
# Reading JSON documents
# --------------------------------------------------------------------------------------


def is_url(location: str) -> bool:
    """Whether ``location`` is an HTTP(S) URL (else a local path or ``file://`` URL)."""
    return location.startswith(("http://", "https://"))


def local_path(location: str) -> str:
    """The path of a ``file://`` URL; other locations unchanged."""
    if location.startswith("file://"):
        return urllib.request.url2pathname(urllib.parse.urlparse(location).path)
    return location


def resolve_href(href: str, base: str) -> str:
    """``href`` made absolute against the document it appeared in (a URL or a local path)."""
    if "://" in href or href.startswith("/"):
        return local_path(href) if href.startswith("file://") else href
    if is_url(base):
        return urllib.parse.urljoin(base, href)
    return os.path.normpath(os.path.join(os.path.dirname(local_path(base)), href))


def read_json(
    location: str,
    timeout: float = DEFAULT_TIMEOUT,
    method: str = "GET",
    body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """A JSON document from a local path or an HTTP(S) URL.

    Raises NotFoundError for a missing file or an HTTP 404; UnavailableError (a DataError
    a retry may cure) for an unreachable, overloaded or silent server (after ``timeout``
    seconds); DataError for other HTTP errors and invalid JSON.
    """
    if not is_url(location):
        path = Path(local_path(location)).expanduser()
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
        if e.code == 404:
            raise NotFoundError(message) from None
        # A remote catalog that is overloaded or down may answer again later.
        raise (UnavailableError if e.code in (429, 502, 503, 504) else DataError)(message) from None
    except TimeoutError:
        raise UnavailableError(f"{location} did not answer within {timeout:g} s", 5) from None
    except urllib.error.URLError as e:
        if isinstance(e.reason, TimeoutError):
            raise UnavailableError(f"{location} did not answer within {timeout:g} s", 5) from None
        raise UnavailableError(f"cannot reach {location}: {e.reason}", 5) from None
    except OSError as e:  # a connection reset half way through the answer
        raise UnavailableError(f"reading {location} failed: {e}", 5) from None
    return _parse_json(text, location)


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{where} is not valid JSON ({e})") from None


def links_with_rel(doc: Mapping[str, Any], rel: str) -> list[dict[str, Any]]:
    """The links of a STAC document whose ``rel`` is ``rel``, in document order."""
    return [ln for ln in doc.get("links") or [] if isinstance(ln, dict) and ln.get("rel") == rel]


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
    """Append the collection's SAS token to Azure blob URLs (tokens live about an hour)."""

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
