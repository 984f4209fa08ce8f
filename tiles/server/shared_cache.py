"""The tile cache every server process shares: rendered PNGs and tile arrays, in Redis or
in a folder of this machine.

Each process keeps its own byte-bounded memory caches (:class:`tiles.cache.ByteLRU`) in
front; a miss there asks the shared store, and what a process computes it also stores
there, so the next process asked for the same tile takes it from there. Keys are the hash
of everything a tile's bytes depend on: the graft's hash, parameter values, band and
reduction, tile, look (for PNGs) and the catalog version of the products it reads, under a
prefix (``?prefix=name``, default ``tiles``). Entries expire after ``TILES_CACHE_TTL``
seconds. Two stores, picked by ``TILES_CACHE``:

- :class:`RedisStore` (``redis://host:6379/0``): processes on many machines; Redis's
  ``maxmemory`` with ``allkeys-lru`` bounds the bytes.
- :class:`FolderStore` (a folder: ``/var/cache/tiles``): the processes of one machine,
  through files and an SQLite index (diskcache), bounded by ``TILES_CACHE_FOLDER_MB``.
  ``serve`` with several processes and no ``TILES_CACHE`` gives its processes a private one
  in shared memory (:func:`private_folder`): without it a tile one process computed, or a
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

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
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
#: Seconds the cache steps aside after its store failed to answer.
RETRY_SECONDS = 5.0
#: Seconds one store call may take before it counts as failed.
STORE_TIMEOUT = 2.0
#: Bytes of values waiting for the writer thread; beyond it values are not stored.
WRITE_BACKLOG_BYTES = 64 * 2**20

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


class RedisStore:
    """Bytes in Redis, for server processes on any number of machines.

    Parameters
    ----------
    client:
        A ``redis.Redis`` client.

    Example
    -------
    >>> import redis  # doctest: +SKIP
    >>> store = RedisStore(redis.Redis())  # doctest: +SKIP
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        """A store on the Redis at ``url`` (``redis://[:password@]host:port/db``).

        Parameters
        ----------
        url:
            The Redis URL, without the cache's own ``prefix`` query.

        Returns
        -------
        RedisStore
        """
        import redis

        client = redis.Redis.from_url(
            url, socket_timeout=STORE_TIMEOUT, socket_connect_timeout=STORE_TIMEOUT
        )
        return cls(client)

    def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None."""
        return self.client.get(key)

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds."""
        self.client.set(key, value, ex=ttl)

    def lock(self, key: str, token: str, seconds: float) -> bool:
        """Take the lock ``key`` with ``token`` for ``seconds`` unless someone holds it."""
        return bool(self.client.set(key, token, nx=True, px=int(seconds * 1000)))

    def unlock(self, key: str, token: str) -> None:
        """Release the lock ``key`` if ``token`` still holds it."""
        self._release(keys=[key], args=[token])

    def describe(self) -> str:
        """Where the bytes are (no password), for /health."""
        kwargs = self.client.connection_pool.connection_kwargs
        return f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"


class FolderStore:
    """Bytes in a folder of this machine (diskcache: a file per large value, an SQLite index),
    for the server processes of one machine.

    The least recently stored entries go first once the folder holds ``max_bytes``. A call
    that waits more than :data:`STORE_TIMEOUT` for another process's SQLite lock fails (and
    the cache steps aside) rather than waiting on.

    Parameters
    ----------
    folder:
        Where the entries live (made if missing).
    max_bytes:
        The folder's size bound.

    Example
    -------
    >>> import tempfile
    >>> store = FolderStore(tempfile.mkdtemp(), 2**20)
    >>> store.set("k", b"tile", ttl=60); store.get("k")
    b'tile'
    """

    def __init__(self, folder: str | os.PathLike, max_bytes: int) -> None:
        import diskcache

        self.folder = Path(folder)
        self.cache = diskcache.Cache(
            str(self.folder),
            size_limit=int(max_bytes),
            timeout=STORE_TIMEOUT,
            eviction_policy="least-recently-stored",  # reads then write nothing
        )

    def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None."""
        value = self.cache.get(key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds."""
        # As a file object diskcache copies it in large chunks; bytes it would write line
        # by line (a write per newline byte: thousands for a tile's array).
        self.cache.set(key, io.BytesIO(value), expire=ttl, read=True)

    def lock(self, key: str, token: str, seconds: float) -> bool:
        """Take the lock ``key`` with ``token`` for ``seconds`` unless someone holds it."""
        return self.cache.add(key, token.encode(), expire=seconds)

    def unlock(self, key: str, token: str) -> None:
        """Release the lock ``key`` if ``token`` still holds it."""
        with self.cache.transact():
            if self.cache.get(key) == token.encode():
                self.cache.delete(key)

    def describe(self) -> str:
        """Where the bytes are, for /health."""
        return self.folder.as_uri()

    def close(self) -> None:
        """Close the index's connections."""
        self.cache.close()


def open_store(url: str) -> tuple[RedisStore | FolderStore, str]:
    """The store ``TILES_CACHE`` names and the key prefix its ``?prefix=`` query gives.

    Parameters
    ----------
    url:
        ``redis://[:password@]host:port/db`` (or ``rediss://``), a folder path, or a
        ``file://`` URL of one; ``?prefix=name`` on any of them (default ``tiles``).

    Returns
    -------
    tuple
        The store and the prefix.

    Raises
    ------
    ValueError
        For another kind of URL, or a relative folder.

    Example
    -------
    >>> import tempfile
    >>> store, prefix = open_store(tempfile.mkdtemp() + "?prefix=demo")
    >>> type(store).__name__, prefix
    ('FolderStore', 'demo')
    """
    url = settings.CACHE.parse(url)  # raises ValueError for what names no store
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    prefix = query.pop("prefix", ["tiles"])[0]
    if parts.scheme in ("redis", "rediss"):
        rest = urllib.parse.urlencode(query, doseq=True)
        return RedisStore.from_url(urllib.parse.urlunsplit(parts._replace(query=rest))), prefix
    folder = urllib.parse.unquote(parts.path)
    return FolderStore(folder, settings.CACHE_FOLDER.get()), prefix


def prepare_store(url: str) -> None:
    """Make a folder store's index before server processes fork and open it together.

    Parameters
    ----------
    url:
        ``TILES_CACHE``; Redis needs nothing and is not contacted.

    Raises
    ------
    ValueError
        When ``url`` names no store (see :func:`open_store`).

    Example
    -------
    >>> import tempfile
    >>> prepare_store(tempfile.mkdtemp())
    """
    store, _ = open_store(url)  # a Redis client connects only when first used
    if isinstance(store, FolderStore):
        store.close()


@contextlib.contextmanager
def shared_by_processes() -> Iterator[None]:
    """Set up what a server's processes share tiles through, before they fork.

    ``TILES_CACHE`` when set; else, unless ``TILES_CACHE_FOLDER_MB`` is 0, a private folder
    (:func:`private_folder`) that ``TILES_CACHE`` names for the processes until they stop.

    Example
    -------
    >>> with shared_by_processes():
    ...     pass  # fork the processes here
    """
    if settings.CACHE.get():
        prepare_store(settings.CACHE.get())
        yield
    elif settings.CACHE_FOLDER.get() == 0:
        yield
    else:
        with private_folder() as folder:
            os.environ[settings.CACHE.name] = str(folder)
            try:
                prepare_store(str(folder))
                yield
            finally:
                del os.environ[settings.CACHE.name]


#: Where private cache folders go when the machine has it: memory, shared by processes.
SHARED_MEMORY = Path("/dev/shm")


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A fresh folder for one server's shared cache, removed when the server stops.

    It lives in shared memory (``/dev/shm/tiles-server-cache-<uid>/<pid>``), where storing a
    tile costs a copy rather than a file system's write, when ``TILES_CACHE_FOLDER_MB`` fits
    there; else under ``$XDG_CACHE_HOME/tiles/server-cache/<pid>``. Folders left by servers that were killed
    (their process is gone) are removed first.

    Yields
    ------
    Path
        The folder.

    Example
    -------
    >>> with private_folder() as folder:
    ...     folder.is_dir()
    True
    """
    parent = _private_parent()
    for old in parent.iterdir():
        if old.name.isdigit() and not _running(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    folder = parent / str(os.getpid())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _private_parent() -> Path:
    # A container's /dev/shm is often 64 MB: the folder goes there only if its bound fits.
    if (
        SHARED_MEMORY.is_dir()
        and os.access(SHARED_MEMORY, os.W_OK)
        and shutil.disk_usage(SHARED_MEMORY).free >= settings.CACHE_FOLDER.get()
    ):
        # Anyone may write there: only a folder of this user's own, made private, will do.
        parent = SHARED_MEMORY / f"tiles-server-cache-{os.getuid()}"
        with contextlib.suppress(OSError):
            parent.mkdir(mode=0o700, exist_ok=True)
            if not parent.is_symlink() and parent.stat().st_uid == os.getuid():
                parent.chmod(0o700)
                return parent
    parent = settings.cache_folder() / "server-cache"
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


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
