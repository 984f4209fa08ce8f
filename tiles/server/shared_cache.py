"""The tile cache every server process shares: rendered PNGs and tile arrays, in Redis or
in a folder of this machine.

Each process keeps its own byte-bounded memory caches (:class:`tiles.cache.ByteLRU`) in
front; a miss there asks the shared store, and what a process computes it also stores
there, so the next process asked for the same tile takes it from there. Keys are the hash
of everything a tile's bytes depend on: the graft's hash, parameter values, band and
reduction, tile, look (for PNGs) and the catalog version of the products it reads, under a
prefix (``?prefix=name``, default ``tiles``). Entries expire after ``TILES_CACHE_TTL``
seconds. Two stores (:mod:`tiles.server.cache_stores`), picked by ``TILES_CACHE``:

- :class:`~tiles.server.cache_stores.RedisStore` (``redis://host:6379/0``): processes on many machines; Redis's
  ``maxmemory`` with ``allkeys-lru`` bounds the bytes.
- :class:`~tiles.server.cache_stores.FolderStore` (a folder: ``/var/cache/tiles``): the processes of one machine,
  through files and an SQLite index (diskcache), bounded by ``TILES_CACHE_FOLDER_MB``.
  ``serve`` with several processes and no ``TILES_CACHE`` gives its processes a private one
  in shared memory (:func:`~tiles.server.cache_stores.private_folder`): without it a tile one process computed, or a
  new look of it, would be computed again by the next process a request reaches.

Two processes asked for the same new tile compute it once: the first takes a short lock
and computes, the others wait for its result to appear (or for the lock to lapse, when they
compute it themselves). Values are written by a thread of their own, so the answer that
computed a tile does not wait for the store. Arrays are stored with ``numpy.save`` without
pickles, so nothing in the store can run code in a server.

When the store does not answer, the cache steps aside for :data:`RETRY_SECONDS` (tiles are
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
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from tiles import settings
from tiles.server.cache_stores import FolderStore, RedisStore, open_store
from tiles.server.pipeline import TileData

logger = logging.getLogger(__name__)

V = TypeVar("V")

#: Longest a process holds the lock on a tile it computes; others then compute it too.
LOCK_SECONDS = 30.0
#: How often a process waiting for another's tile looks for it.
POLL_SECONDS = 0.05
#: Seconds the cache steps aside after its store failed to answer.
RETRY_SECONDS = 5.0
#: Bytes of values waiting for the writer thread; beyond it values are not stored.
WRITE_BACKLOG_BYTES = 64 * 2**20


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
    """Tiles in a store shared by every server process that uses the same one and prefix.

    Parameters
    ----------
    store:
        A :class:`RedisStore` or :class:`FolderStore`.
    prefix:
        Put before every key.
    ttl:
        Seconds entries live (None: ``TILES_CACHE_TTL``).

    Example
    -------
    >>> import tempfile
    >>> cache = SharedCache(FolderStore(tempfile.mkdtemp(), 2**20))
    >>> cache.get_or_compute("png", ("tile", 1), lambda: b"png", bytes, bytes)
    b'png'
    >>> cache.get("png", ("tile", 1))
    b'png'
    """

    def __init__(
        self, store: RedisStore | FolderStore, prefix: str = "tiles", ttl: int | None = None
    ) -> None:
        self.store = store
        self.prefix = prefix
        self.ttl = int(ttl if ttl is not None else settings.CACHE_TTL.get())
        self._lock = threading.Lock()
        self._down_until = 0.0
        #: hits: found in the store; misses: not found; waited: found after waiting for
        #: another process's computation; stored: values written; errors: store failures.
        #: skipped: values not stored because the writer was too far behind.
        self.counts = {
            "hits": 0,
            "misses": 0,
            "waited": 0,
            "stored": 0,
            "skipped": 0,
            "errors": 0,
        }
        self._writer: ThreadPoolExecutor | None = None  # made on first write, after a fork
        self._last_write: Future | None = None
        self._backlog = 0

    @classmethod
    def from_url(cls, url: str) -> SharedCache:
        """A cache on the store ``url`` names (see :func:`open_store`).

        Parameters
        ----------
        url:
            ``redis://host:port/db``, or a folder path; ``?prefix=`` names the key prefix.

        Returns
        -------
        SharedCache
        """
        store, prefix = open_store(url)
        return cls(store, prefix)

    def key(self, kind: str, identity: Any) -> str:
        """The store's key of a value of ``kind`` whose identity is ``identity`` (any
        repr-able value made of strings, numbers, None and tuples)."""
        digest = hashlib.sha256(repr(identity).encode()).hexdigest()[:40]
        return f"{self.prefix}:{kind}:{digest}"

    # -- store calls that never raise -----------------------------------------------------

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self._down_until:
            raise ConnectionError("the shared cache did not answer a moment ago")
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            with self._lock:
                self.counts["errors"] += 1
                self._down_until = time.monotonic() + RETRY_SECONDS
            logger.warning("shared tile cache unavailable for %gs: %s", RETRY_SECONDS, exc)
            raise ConnectionError(str(exc)) from exc

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def get(self, kind: str, identity: Any) -> bytes | None:
        """The stored bytes, or None (also when the store is away)."""
        try:
            value = self._call(self.store.get, self.key(kind, identity))
        except ConnectionError:
            return None
        self._count("hits" if value is not None else "misses")
        return value

    def put(self, kind: str, identity: Any, value: bytes) -> None:
        """Store bytes, on the writer thread (skipped when the store is away or the writer is
        :data:`WRITE_BACKLOG_BYTES` behind)."""
        self._write(self.key(kind, identity), value)

    def _write(self, key: str, blob: bytes, then: Callable[[], None] | None = None) -> None:
        """Store ``blob`` under ``key`` on the writer thread, then run ``then`` (also when
        the write is skipped): the answer that computed it does not wait for the store."""

        def write() -> None:
            try:
                self._call(self.store.set, key, blob, self.ttl)
                self._count("stored")
            except ConnectionError:
                pass
            finally:
                with self._lock:
                    self._backlog -= len(blob)
                if then is not None:
                    then()

        with self._lock:
            accepted = self._backlog + len(blob) <= WRITE_BACKLOG_BYTES
            if accepted:
                self._backlog += len(blob)
                if self._writer is None:
                    self._writer = ThreadPoolExecutor(1, thread_name_prefix="tile-cache-writer")
                self._last_write = self._writer.submit(write)
            else:
                self.counts["skipped"] += 1
        if not accepted and then is not None:
            then()

    def flush(self) -> None:
        """Wait until every value handed to the store so far is stored (or skipped).

        Example
        -------
        >>> import tempfile
        >>> cache = SharedCache(FolderStore(tempfile.mkdtemp(), 2**20))
        >>> cache.put("png", ("tile", 2), b"png"); cache.flush()
        >>> cache.get("png", ("tile", 2))
        b'png'
        """
        with self._lock:
            last = self._last_write
        if last is not None:
            last.result()

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
                blob = self._call(self.store.get, key)
                if blob is not None:
                    self._count("waited" if waited else "hits")
                    return decode(blob)
                if self._call(self.store.lock, lock_key, token, LOCK_SECONDS):
                    # The holder before us may have stored the value and let go of the lock
                    # between our look and our lock: look once more before computing.
                    blob = self._call(self.store.get, key)
                    if blob is None:
                        break
                    self._call(self.store.unlock, lock_key, token)
                    self._count("waited" if waited else "hits")
                    return decode(blob)
            except ConnectionError:
                return compute()  # without the store, as if it were not configured
            if time.monotonic() > deadline:
                break  # the other process is too slow (or gone): compute it here as well
            waited = True
            time.sleep(POLL_SECONDS)
        self._count("misses")

        def unlock() -> None:
            try:
                self._call(self.store.unlock, lock_key, token)
            except ConnectionError:
                pass

        try:
            value = compute()
            blob = encode(value)
        except BaseException:
            unlock()
            raise
        # Others wait for the value, not the lock: it is released once the value is stored.
        self._write(key, blob, then=unlock)
        return value

    def stats(self) -> dict[str, Any]:
        """Counts and where the cache is, for /health."""
        with self._lock:
            counts = dict(self.counts)
        return {
            "backend": self.store.describe(),
            "prefix": self.prefix,
            "available": time.monotonic() >= self._down_until,
            **counts,
        }
