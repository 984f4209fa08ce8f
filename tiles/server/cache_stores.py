"""Where the tile cache shared by server processes keeps its bytes: Redis for processes on
many machines, a folder for the processes of one, and the private folder ``serve`` makes for
its own processes when ``TILES_CACHE`` names none.

Both stores offer the same five calls (``get``, ``set``, ``lock``, ``unlock``,
``describe``) that :class:`tiles.server.shared_cache.SharedCache` builds on; a call that
waits longer than :data:`STORE_TIMEOUT` fails rather than holding up a tile.

Example::

    >>> import tempfile
    >>> store, prefix = open_store(tempfile.mkdtemp() + "?prefix=demo")
    >>> store.set("k", b"tile", ttl=60); store.get("k"), prefix
    (b'tile', 'demo')
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tiles import settings

#: Seconds one store call may take before it counts as failed.
STORE_TIMEOUT = 2.0

# Releases the lock only if it is still ours (it may have lapsed and been taken since).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


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
    """Check the store ``url`` names and make a folder store's index, before server
    processes fork and open it together.

    Parameters
    ----------
    url:
        ``TILES_CACHE``; Redis needs nothing and is not contacted.

    Raises
    ------
    ValueError
        When ``url`` names no store (see :func:`open_store`), or a folder that cannot be
        made or written.

    Example
    -------
    >>> import tempfile
    >>> prepare_store(tempfile.mkdtemp())
    """
    try:
        store, _ = open_store(url)  # a Redis client connects only when first used
    except (OSError, sqlite3.Error) as e:
        raise ValueError(f"TILES_CACHE={url}: cannot keep a cache there: {e}") from None
    if isinstance(store, FolderStore):
        store.close()


@contextlib.contextmanager
def shared_by_processes() -> Iterator[None]:
    """A private folder (:func:`private_folder`) that a server's processes share tiles
    through: ``TILES_CACHE`` names it for them until they stop. Nothing when ``TILES_CACHE``
    names a store already or ``TILES_CACHE_FOLDER_MB`` is 0.

    Example
    -------
    >>> with shared_by_processes():
    ...     pass  # fork the processes here
    """
    if settings.CACHE.get() or settings.CACHE_FOLDER.get() == 0:
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
