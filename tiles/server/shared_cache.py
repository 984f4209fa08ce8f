"""The tile cache every server process shares: rendered PNGs and tile arrays in Redis.

Each process keeps its own byte-bounded memory caches (:class:`tiles.cache.ByteLRU`) in
front; a miss there asks Redis, and what a process computes it also stores in Redis, so the
next process asked for the same tile takes it from there. Keys are the hash of everything
a tile's bytes depend on: the graft's hash, parameter values, band and reduction, tile, look
(for PNGs) and the catalog version of the products it reads, under a prefix
(``redis://host/0?prefix=name``, default ``tiles``). Entries expire after
``TILES_CACHE_TTL`` seconds; Redis's ``maxmemory`` with ``allkeys-lru`` bounds the bytes.

Two processes asked for the same new tile compute it once: the first takes a short lock
(``SET NX PX``) and computes, the others wait for its result to appear (or for the lock to
lapse, when they compute it themselves). Arrays are stored with ``numpy.save`` without
pickles, so nothing in Redis can run code in a server.

When Redis does not answer, the cache steps aside for :data:`RETRY_SECONDS` (tiles are
computed as without it) and says so in ``/health``.

Example::

    >>> cache = SharedCache.from_url("redis://127.0.0.1:6379/0?prefix=demo")  # doctest: +SKIP
    >>> cache.get_or_compute("tile", key, compute, encode, decode)           # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from tiles import settings
from tiles.server.pipeline import TileData

logger = logging.getLogger(__name__)

V = TypeVar("V")

#: Longest a process holds the lock on a tile it computes; others then compute it too.
LOCK_SECONDS = 30.0
#: How often a process waiting for another's tile looks for it.
POLL_SECONDS = 0.05
#: Seconds the cache steps aside after Redis failed to answer.
RETRY_SECONDS = 5.0
#: Seconds one Redis command may take before it counts as failed.
SOCKET_TIMEOUT = 2.0

# Releases the lock only if it is still ours (it may have lapsed and been taken since).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def encode_tile_data(data: TileData) -> bytes:
    """A tile's pixels as bytes: a JSON header line, then ``numpy.save`` data and mask.

    Parameters
    ----------
    data:
        The tile's pixels.

    Returns
    -------
    bytes
    """
    header = {
        "bandnames": list(data.bandnames),
        "ranges": [list(r) if r else None for r in data.ranges],
    }
    out = io.BytesIO()
    out.write(json.dumps(header).encode() + b"\n")
    if data.array is not None:
        np.save(out, np.ma.getdata(data.array), allow_pickle=False)
        np.save(out, np.ma.getmaskarray(data.array), allow_pickle=False)
    return out.getvalue()


def decode_tile_data(blob: bytes) -> TileData:
    """The inverse of :func:`encode_tile_data`.

    Parameters
    ----------
    blob:
        Bytes made by :func:`encode_tile_data`.

    Returns
    -------
    TileData
    """
    stream = io.BytesIO(blob)
    header = json.loads(stream.readline())
    array = None
    if stream.tell() < len(blob):
        values = np.load(stream, allow_pickle=False)
        mask = np.load(stream, allow_pickle=False)
        array = np.ma.MaskedArray(values, mask=mask)
    ranges = tuple(tuple(r) if r else None for r in header["ranges"])
    return TileData(array, tuple(header["bandnames"]), ranges)


class SharedCache:
    """Tiles in Redis, shared by every server process that uses the same URL and prefix.

    Parameters
    ----------
    client:
        A ``redis.Redis`` client.
    prefix:
        Put before every key.
    ttl:
        Seconds entries live (None: ``TILES_CACHE_TTL``).
    """

    def __init__(self, client: Any, prefix: str = "tiles", ttl: int | None = None) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl = int(ttl if ttl is not None else settings.CACHE_TTL.get())
        self._lock = threading.Lock()
        self._release = client.register_script(_RELEASE)
        self._down_until = 0.0
        #: hits: found in Redis; misses: not found; waited: found after waiting for another
        #: process's computation; stored: values written; errors: Redis failures.
        self.counts = {"hits": 0, "misses": 0, "waited": 0, "stored": 0, "errors": 0}

    @classmethod
    def from_url(cls, url: str) -> SharedCache:
        """A cache on the Redis at ``url`` (``?prefix=`` names the key prefix).

        Parameters
        ----------
        url:
            ``redis://[:password@]host:port/db[?prefix=name]`` (or ``rediss://``).

        Returns
        -------
        SharedCache
        """
        import redis

        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query)
        prefix = query.pop("prefix", ["tiles"])[0]
        rest = urllib.parse.urlencode(query, doseq=True)
        client = redis.Redis.from_url(
            urllib.parse.urlunsplit(parts._replace(query=rest)),
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
        )
        return cls(client, prefix)

    def key(self, kind: str, identity: Any) -> str:
        """The Redis key of a value of ``kind`` whose identity is ``identity`` (any repr-able
        value made of strings, numbers, None and tuples)."""
        digest = hashlib.sha256(repr(identity).encode()).hexdigest()[:40]
        return f"{self.prefix}:{kind}:{digest}"

    # -- Redis calls that never raise ---------------------------------------------------------

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self._down_until:
            raise ConnectionError("Redis did not answer a moment ago")
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            with self._lock:
                self.counts["errors"] += 1
                self._down_until = time.monotonic() + RETRY_SECONDS
            logger.warning("tile cache in Redis unavailable for %gs: %s", RETRY_SECONDS, exc)
            raise ConnectionError(str(exc)) from exc

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def get(self, kind: str, identity: Any) -> bytes | None:
        """The stored bytes, or None (also when Redis is away)."""
        try:
            value = self._call(self.client.get, self.key(kind, identity))
        except ConnectionError:
            return None
        self._count("hits" if value is not None else "misses")
        return value

    def put(self, kind: str, identity: Any, value: bytes) -> None:
        """Store bytes (quietly skipped when Redis is away)."""
        try:
            self._call(self.client.set, self.key(kind, identity), value, ex=self.ttl)
            self._count("stored")
        except ConnectionError:
            pass

    def get_or_compute(
        self,
        kind: str,
        identity: Any,
        compute: Callable[[], V],
        encode: Callable[[V], bytes],
        decode: Callable[[bytes], V],
    ) -> V:
        """The stored value, else computed here once across processes, stored and returned.

        Parameters
        ----------
        kind, identity:
            What the value is (see :meth:`key`).
        compute:
            Makes the value (runs in this process only when no other process is at it).
        encode, decode:
            The value to and from bytes.

        Returns
        -------
        V
        """
        key = self.key(kind, identity)
        lock_key = key + ":lock"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + LOCK_SECONDS
        waited = False
        while True:
            try:
                blob = self._call(self.client.get, key)
                if blob is not None:
                    self._count("waited" if waited else "hits")
                    return decode(blob)
                if self._call(
                    self.client.set, lock_key, token, nx=True, px=int(LOCK_SECONDS * 1000)
                ):
                    break
            except ConnectionError:
                return compute()  # without Redis, as if it were not configured
            if time.monotonic() > deadline:
                break  # the other process is too slow (or gone): compute it here as well
            waited = True
            time.sleep(POLL_SECONDS)
        self._count("misses")
        try:
            value = compute()
            try:
                self._call(self.client.set, key, encode(value), ex=self.ttl)
                self._count("stored")
            except ConnectionError:
                pass
            return value
        finally:
            try:
                self._call(self._release, keys=[lock_key], args=[token])
            except ConnectionError:
                pass

    def stats(self) -> dict[str, Any]:
        """Counts and where the cache is, for /health."""
        with self._lock:
            counts = dict(self.counts)
        kwargs = self.client.connection_pool.connection_kwargs
        where = f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
        return {
            "backend": where,
            "prefix": self.prefix,
            "available": time.monotonic() >= self._down_until,
            **counts,
        }
