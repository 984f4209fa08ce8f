"""The base of every store: one database, SQLite or PostgreSQL, opened the same way everywhere.

A store subclasses :class:`SQLStore`, names itself (:attr:`SQLStore.NAME`) and lists its
schema as ordered :attr:`SQLStore.MIGRATIONS`. Where it lives is a *target*: a file path
(SQLite) or a ``postgresql://user:pass@host/db`` URL (PostgreSQL, through psycopg 3 and a
connection pool shared by the stores of a process). Several stores may share one database:
each keeps its own tables, and the table ``schema_versions`` counts the steps each store
has had. Opening a store runs the steps it has not had yet, each once, in a transaction
of its own; concurrent openers (threads, processes, machines) wait for one another. Step 1
of every store is written with ``IF NOT EXISTS``, so a file from before versions were
counted gets it again without losing a row.

Stores write portable SQL with ``?`` placeholders and ``INSERT ... ON CONFLICT``
upserts; every difference between the two dialects is handled here: placeholders become
psycopg's ``%s``, and the column types of schema steps are widened for PostgreSQL
(``INTEGER`` -> ``BIGINT``, ``REAL`` -> ``DOUBLE PRECISION``, ``BLOB`` -> ``BYTEA``).
SQLite files run in WAL mode (readers proceed while one writer works, also across
processes) and wait up to ``$TILES_DB_TIMEOUT`` seconds for another writer. A forked child
opens connections of its own (PostgreSQL pools are per process, too).

Example::

    >>> class Notes(SQLStore):
    ...     NAME = "notes"
    ...     MIGRATIONS = (
    ...         "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, text TEXT NOT NULL)",
    ...         "ALTER TABLE notes ADD COLUMN created TEXT",
    ...     )
    >>> notes = Notes("/tmp/notes.sqlite")   # or Notes("postgresql://me@db.example.org/tiles")
    >>> with notes.transaction() as conn:
    ...     _ = conn.execute(
    ...         "INSERT INTO notes (id, text) VALUES (?, ?) ON CONFLICT (id) DO UPDATE "
    ...         "SET text = excluded.text", ("a", "hello"))
    >>> with notes.reading() as conn:
    ...     conn.execute("SELECT text FROM notes").fetchall()
    [('hello',)]
    >>> notes.schema_version()
    2
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
import weakref
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Union

from tiles import settings
from tiles.errors import DataError, ParameterError, ResourceLimitError, UnavailableError

__all__ = [
    "MAX_NAME_CHARS",
    "MAX_TEXT_CHARS",
    "POOL_SIZE",
    "Migration",
    "SQLStore",
    "check_length",
    "close_pools",
    "describe_target",
    "is_database_url",
    "sql_statements",
]

#: Most PostgreSQL connections one process keeps to one database (its stores share them).
POOL_SIZE = 8
#: Longest name, id or title a store keeps (layers, workflows, XYZs), in characters.
MAX_NAME_CHARS = 256
#: Longest free text a store keeps (a description, a docstring, labels), in characters.
MAX_TEXT_CHARS = 64 * 1024


def check_length(text: str, what: str, limit: int = MAX_NAME_CHARS) -> None:
    """Refuse storing ``text`` longer than ``limit`` characters (a 413 over HTTP).

    Parameters
    ----------
    text:
        The value to store.
    what:
        How the message names it.
    limit:
        :data:`MAX_NAME_CHARS` or :data:`MAX_TEXT_CHARS`.

    Example
    -------
    >>> check_length("x" * 300, "a layer name")
    Traceback (most recent call last):
    ...
    tiles.errors.ResourceLimitError: a layer name has 300 characters; at most 256 are kept
    """
    if len(text) > limit:
        raise ResourceLimitError(f"{what} has {len(text):,} characters; at most {limit:,} are kept")


#: One schema step: SQL (one or more statements) or a function given the open connection.
Migration = Union[str, Callable[[Any], None]]

_MEMORY = ":memory:"
_VERSIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_versions (store TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)
_POSTGRES_TYPES = {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "BLOB": "BYTEA"}


def is_database_url(target: Any) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than an SQLite file.

    Parameters
    ----------
    target:
        A path, a ``postgresql://`` / ``postgres://`` URL, or ``":memory:"``.

    Returns
    -------
    bool

    Example
    -------
    >>> is_database_url("postgresql://tiles@db/tiles"), is_database_url("/tmp/a.sqlite")
    (True, False)
    """
    return isinstance(target, str) and target.startswith(settings.DATABASE_URL_SCHEMES)


def describe_target(target: Any) -> str:
    """A target as it may be shown or logged: a path, or a URL without its password.

    Parameters
    ----------
    target:
        A path or database URL.

    Returns
    -------
    str

    Example
    -------
    >>> describe_target("postgresql://tiles:secret@db:5432/tiles")
    'postgresql://tiles:***@db:5432/tiles'
    """
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", str(target))


def sql_statements(script: str) -> Iterator[str]:
    """The statements of an SQL script, one by one.

    ``sqlite3.Connection.executescript`` would commit on its own; running the statements
    one at a time keeps a migration step inside its transaction.

    Parameters
    ----------
    script:
        Statements separated by semicolons (triggers and quoted semicolons are fine); the
        last one may go without.

    Returns
    -------
    Iterator[str]
        Each complete statement, without surrounding whitespace.

    Example
    -------
    >>> list(sql_statements("CREATE TABLE a (x); CREATE TABLE b (y)"))
    ['CREATE TABLE a (x);', 'CREATE TABLE b (y)']
    """
    *pieces, last = script.split(";")
    pending = ""
    for piece in pieces:
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending.strip()
            pending = ""
    pending += last
    if pending.strip():  # a last statement without a semicolon; SQLite judges its syntax
        yield pending.strip()


def _outside_quotes(sql: str, change: Callable[[str], str]) -> str:
    # Even pieces are outside single-quoted literals ('' inside a literal splits into an
    # empty odd piece, which is left alone like the rest of the literal).
    pieces = sql.split("'")
    return "'".join(change(p) if i % 2 == 0 else p for i, p in enumerate(pieces))


def _postgres_query(sql: str) -> str:
    # psycopg reads every '%' as a placeholder, also inside literals.
    return _outside_quotes(sql.replace("%", "%%"), lambda part: part.replace("?", "%s"))


def _postgres_schema(sql: str) -> str:
    pattern = re.compile(r"\b(" + "|".join(_POSTGRES_TYPES) + r")\b")
    return _outside_quotes(sql, lambda part: pattern.sub(lambda m: _POSTGRES_TYPES[m[1]], part))


class _PostgresConnection:
    """A psycopg connection that takes the stores' ``?`` placeholders."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(_postgres_query(sql), tuple(params))


class _ThreadConnection:
    """A thread's SQLite connection; dropped (and closed) with the thread's local storage."""

    __slots__ = ("__weakref__", "conn", "pid")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.pid = os.getpid()

    def __del__(self) -> None:
        if self.pid == os.getpid():
            self.conn.close()
        else:
            _forked_away.append(self.conn)


#: SQLite connections a forked child inherited: never used, never closed (closing one in the
#: child could release the parent's locks), only kept from being garbage-collected.
_forked_away: list[sqlite3.Connection] = []


_pools: dict[tuple[int, str], Any] = {}
_pools_lock = threading.Lock()


def _pool(url: str) -> Any:
    """The process's connection pool to ``url`` (a forked child opens its own)."""
    key = (os.getpid(), url)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            try:
                from psycopg_pool import ConnectionPool
            except ImportError:
                raise ParameterError(
                    "a postgresql:// database needs psycopg: pip install 'tiles-workflows[scale]'"
                ) from None
            pool = ConnectionPool(
                url,
                min_size=1,
                max_size=POOL_SIZE,
                # connect_timeout: reconnecting to a server that is away must not hang.
                kwargs={
                    "autocommit": True,
                    "connect_timeout": max(1, int(settings.DB_TIMEOUT.get())),
                },
                name=f"tiles-{describe_target(url)}",
                open=False,
            )
            try:
                pool.open(wait=True, timeout=settings.DB_TIMEOUT.get())
            except Exception as exc:
                pool.close()
                raise DataError(f"cannot connect to {describe_target(url)}: {exc}") from None
            _pools[key] = pool
        return pool


def close_pools(which: Callable[[str], bool] = lambda url: True) -> None:
    """Close this process's PostgreSQL pools whose URL ``which`` accepts (all by default).

    Stores using a closed pool get a new one on their next open; ones still open fail.

    Parameters
    ----------
    which:
        Chooses pools by their URL.
    """
    with _pools_lock:
        for key in [k for k in _pools if k[0] == os.getpid() and which(k[1])]:
            _pools.pop(key).close()


class SQLStore:
    """A store kept in an SQLite file or a PostgreSQL database, with versioned migrations.

    Subclasses set :attr:`NAME` and :attr:`MIGRATIONS`, and :attr:`TARGET_SETTING` when the
    store has a default place, and talk to the database only inside :meth:`transaction`
    (writes) and :meth:`reading` (reads), through ``conn.execute(sql, params)`` with ``?``
    placeholders.

    Parameters
    ----------
    target:
        A ``postgresql://`` URL; or an SQLite file (its folder is created), or ``":memory:"``
        for a private in-memory database (only for stores sharing one connection). None:
        :attr:`TARGET_SETTING`.

    Example
    -------
    >>> class Counter(SQLStore):
    ...     NAME = "counter"
    ...     MIGRATIONS = ("CREATE TABLE IF NOT EXISTS hits (n INTEGER)",)
    >>> Counter(":memory:").schema_version()
    1
    """

    #: The store's name in ``schema_versions`` (stores sharing a database differ in it).
    NAME: ClassVar[str] = ""
    #: The schema in order: step ``n`` brings the store's version from ``n - 1`` to ``n``.
    #: Append steps; never change one that has been released (databases out there ran it).
    MIGRATIONS: ClassVar[Sequence[Migration]] = ()
    #: Where the store is when no target is given.
    TARGET_SETTING: ClassVar[settings.Setting | None] = None
    #: SQLite only. True: each thread gets its own connection, so readers never wait for
    #: one another. False: one connection shared under a lock (enough when reads are rare or
    #: served from memory; the only way a ``":memory:"`` database is seen by several threads).
    #: PostgreSQL connections always come from the process's pool.
    CONNECTION_PER_THREAD: ClassVar[bool] = False

    def __init__(self, target: str | os.PathLike | None = None) -> None:
        if target is None:
            if self.TARGET_SETTING is None:
                raise ParameterError(f"{type(self).__name__} needs a database path or URL")
            target = self.TARGET_SETTING.get()
        if not self.NAME:
            raise ParameterError(f"{type(self).__name__} has no NAME for its schema version")
        self.dialect = "postgresql" if is_database_url(target) else "sqlite"
        self.in_memory = str(target) == _MEMORY
        if self.in_memory and self.CONNECTION_PER_THREAD:
            raise ParameterError(
                f"{type(self).__name__} keeps a connection per thread, so it needs a file, "
                "not ':memory:'"
            )
        #: The SQLite file (None for PostgreSQL).
        self.path: Path | None = None
        #: The PostgreSQL URL (None for SQLite).
        self.url: str | None = None
        self._lock = threading.RLock()
        self._shared: sqlite3.Connection | None = None
        self._shared_pid = os.getpid()
        self._closed = False
        if self.dialect == "postgresql":
            self.url = str(target)
            self._pool = _pool(self.url)
        else:
            self.path = Path(_MEMORY) if self.in_memory else Path(target).expanduser()
            self._local = threading.local()
            self._thread_connections: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        try:
            if self.path is not None and not self.in_memory:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path is not None and not self.CONNECTION_PER_THREAD:
                self._shared = self._connect()
            self._migrate()
        except DataError:
            raise
        except sqlite3.OperationalError as e:  # locked or busy for too long: a retry may do
            raise UnavailableError(
                f"cannot open the {self.NAME} database at {self.target}: {e}", retry_after=5
            ) from None
        except (OSError, sqlite3.Error) as e:  # no folder for it, not a database
            raise DataError(f"cannot open the {self.NAME} database at {self.target}: {e}") from None

    @property
    def location(self) -> Path | str:
        """The SQLite file or PostgreSQL URL the store was opened at (to open it again)."""
        return self.url if self.url is not None else self.path  # type: ignore[return-value]

    @property
    def target(self) -> str:
        """Where the store lives, fit to show (a path, or a URL without its password)."""
        return describe_target(self.url if self.url is not None else self.path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.target!r})"

    # -- connections ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are exactly what transaction() opens.
        # check_same_thread=False: close() may run on another thread; each connection is
        # otherwise used by one thread at a time (its own, or under the lock).
        conn = sqlite3.connect(
            str(self.path),
            timeout=settings.DB_TIMEOUT.get(),
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this safe against corruption
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _sqlite_connection(self) -> sqlite3.Connection:
        if self._shared_pid != os.getpid():  # forked: the parent's connections stay its own
            with self._lock:
                if self._shared_pid != os.getpid():
                    self._local = threading.local()
                    if self._shared is not None and not self.in_memory:
                        _forked_away.append(self._shared)
                        self._shared = self._connect()
                    self._shared_pid = os.getpid()
        if self._shared is not None:
            return self._shared
        holder = getattr(self._local, "holder", None)
        if holder is None:
            holder = _ThreadConnection(self._connect())
            self._local.holder = holder
            with self._lock:
                self._thread_connections.add(holder)
        return holder.conn

    def _check_open(self) -> None:
        if self._closed and self.dialect == "postgresql":
            raise DataError(f"{self!r} is closed")

    @contextlib.contextmanager
    def reading(self) -> Iterator[Any]:
        """A connection to read with (no transaction: each statement sees committed data).

        Returns
        -------
        contextlib.AbstractContextManager
            Use as ``with store.reading() as conn:``; ``conn.execute(sql, params)`` returns
            a cursor (``fetchone``, ``fetchall``, iteration, ``rowcount``).
        """
        self._check_open()
        if self.dialect == "postgresql":
            with self._postgres(transaction=False) as conn:
                yield conn
        elif self._shared is None:
            yield self._sqlite_connection()
        else:
            with self._lock:
                yield self._sqlite_connection()

    @contextlib.contextmanager
    def _postgres(self, transaction: bool) -> Iterator[_PostgresConnection]:
        """A pooled connection, waited for at most ``TILES_DB_TIMEOUT``; a server that is
        away, restarting or out of connections is UnavailableError (503, a retry may do)."""
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            with self._pool.connection(timeout=settings.DB_TIMEOUT.get()) as raw:
                with raw.transaction() if transaction else contextlib.nullcontext():
                    yield _PostgresConnection(raw)
        except (PoolTimeout, psycopg.OperationalError) as e:
            raise UnavailableError(f"the database {self.target} did not answer: {e}", 5) from e

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """A connection inside a write transaction: committed when the block ends, rolled
        back when it raises.

        On SQLite the transaction takes the database's write lock at once (``BEGIN
        IMMEDIATE``), so a read followed by a write in the block sees no other writer in
        between; on PostgreSQL rows are locked as they are written, and upserts
        (``ON CONFLICT``) keep concurrent writers of one key from failing.

        Returns
        -------
        contextlib.AbstractContextManager
            Use as ``with store.transaction() as conn:``.
        """
        self._check_open()
        if self.dialect == "postgresql":
            with self._postgres(transaction=True) as conn:
                yield conn
            return
        with self._lock if self._shared is not None else contextlib.nullcontext():
            conn = self._sqlite_connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close the store's SQLite connections (using the store afterwards raises).

        A PostgreSQL store only stops using the process's pool, which its other stores share.
        """
        with self._lock:
            self._closed = True
            if self.dialect == "postgresql":
                return
            if self._shared is not None:
                self._shared.close()
            for holder in list(self._thread_connections):
                holder.conn.close()

    # -- schema --------------------------------------------------------------------------

    def schema_version(self) -> int:
        """How many of :attr:`MIGRATIONS` the database has had for this store.

        Returns
        -------
        int
            The store's row of ``schema_versions`` (0 when it has none).
        """
        with self.transaction() as conn:
            return self._version(conn)

    def _version(self, conn: Any) -> int:
        conn.execute(_VERSIONS_TABLE)
        row = conn.execute(
            "SELECT version FROM schema_versions WHERE store = ?", (self.NAME,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def _migrate(self) -> None:
        known = len(self.MIGRATIONS)
        for number, step in enumerate(self.MIGRATIONS, start=1):
            with self.transaction() as conn:
                if self.dialect == "postgresql":
                    # Schema changes of one store run one opener at a time across machines
                    # (SQLite's BEGIN IMMEDIATE already serialises writers).
                    lock = zlib.crc32(f"tiles-schema:{self.NAME}".encode())
                    conn.execute("SELECT pg_advisory_xact_lock(?)", (lock,))
                version = self._version(conn)
                if version > known:
                    raise DataError(
                        f"{self.target} has schema version {version} of {self.NAME}, newer than "
                        f"the {known} this version of tiles knows; upgrade tiles to open it"
                    )
                if version >= number:
                    continue
                self._run_step(conn, step)
                conn.execute(
                    "INSERT INTO schema_versions (store, version) VALUES (?, ?) "
                    "ON CONFLICT (store) DO UPDATE SET version = excluded.version",
                    (self.NAME, number),
                )
        if not self.MIGRATIONS:
            with self.transaction() as conn:
                self._version(conn)

    def _run_step(self, conn: Any, step: Migration) -> None:
        if not isinstance(step, str):
            step(conn)
            return
        for statement in sql_statements(step):
            if self.dialect == "postgresql":
                statement = _postgres_schema(statement)
            conn.execute(statement)
