"""The base of every SQLite store: one database file opened the same way everywhere.

A store subclasses :class:`SQLiteStore` and lists its schema as ordered :attr:`MIGRATIONS`.
Opening a store creates the file's folder, switches the file to WAL (readers proceed while
one writer works, also across processes), waits up to :data:`BUSY_TIMEOUT_SECONDS` for
another writer instead of failing, and runs the steps the file has not had yet: the file's
``PRAGMA user_version`` counts the steps applied, each runs once, in a transaction of its
own. A file written before stores kept a version (``user_version`` 0) gets step 1, which
is the schema of that time with ``IF NOT EXISTS``, so its tables and rows stay as they are.

Example::

    >>> class Notes(SQLiteStore):
    ...     MIGRATIONS = (
    ...         "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, text TEXT NOT NULL)",
    ...         "ALTER TABLE notes ADD COLUMN created TEXT",
    ...     )
    >>> notes = Notes("/tmp/notes.sqlite")
    >>> with notes.transaction() as conn:
    ...     _ = conn.execute("INSERT OR REPLACE INTO notes (id, text) VALUES ('a', 'hello')")
    >>> with notes.reading() as conn:
    ...     conn.execute("SELECT text FROM notes").fetchall()
    [('hello',)]
    >>> notes.schema_version()
    2
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Union

from tiles import settings
from tiles.errors import DataError, ParameterError

__all__ = ["BUSY_TIMEOUT_SECONDS", "Migration", "SQLiteStore", "sql_statements"]

#: How long a write waits for another connection's write to finish before failing.
BUSY_TIMEOUT_SECONDS = 30.0

#: One schema step: SQL (one or more statements) or a function given the open connection.
Migration = Union[str, Callable[[sqlite3.Connection], None]]

_MEMORY = ":memory:"


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


class _ThreadConnection:
    """A thread's connection; dropped (and closed) with the thread's local storage."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __del__(self) -> None:
        self.conn.close()


class SQLiteStore:
    """A store kept in one SQLite file: WAL, a busy timeout, versioned schema migrations.

    Subclasses set :attr:`MIGRATIONS`, and :attr:`PATH_SETTING` when the store has a default
    file, and talk to the database only inside :meth:`transaction` (writes) and
    :meth:`reading` (reads).

    Parameters
    ----------
    path:
        The database file (its folder is created), or ``":memory:"`` for a private in-memory
        database (only for stores sharing one connection). None: :attr:`PATH_SETTING`.

    Example
    -------
    >>> class Counter(SQLiteStore):
    ...     MIGRATIONS = ("CREATE TABLE IF NOT EXISTS hits (n INTEGER)",)
    >>> Counter(":memory:").schema_version()
    1
    """

    #: The schema in order: step ``n`` brings ``user_version`` from ``n - 1`` to ``n``. Append
    #: steps; never change one that has been released (files out there already ran it).
    MIGRATIONS: ClassVar[Sequence[Migration]] = ()
    #: Where the file is when no path is given.
    PATH_SETTING: ClassVar[settings.Setting | None] = None
    #: True: each thread gets its own connection, so readers never wait for one another.
    #: False: one connection shared under a lock (enough when reads are rare or served from
    #: memory; the only way a ``":memory:"`` database is seen by several threads).
    CONNECTION_PER_THREAD: ClassVar[bool] = False

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        if path is None:
            if self.PATH_SETTING is None:
                raise ParameterError(f"{type(self).__name__} needs a database path")
            path = self.PATH_SETTING.get()
        self.in_memory = str(path) == _MEMORY
        if self.in_memory and self.CONNECTION_PER_THREAD:
            raise ParameterError(
                f"{type(self).__name__} keeps a connection per thread, so it needs a file, "
                "not ':memory:'"
            )
        self.path = Path(_MEMORY) if self.in_memory else Path(path).expanduser()
        if not self.in_memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._thread_connections: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._shared = None if self.CONNECTION_PER_THREAD else self._connect()
        self._migrate()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    # -- connections ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are exactly what transaction() opens.
        # check_same_thread=False: close() may run on another thread; each connection is
        # otherwise used by one thread at a time (its own, or under the lock).
        conn = sqlite3.connect(
            str(self.path),
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this safe against corruption
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _connection(self) -> sqlite3.Connection:
        if self._shared is not None:
            return self._shared
        holder = getattr(self._local, "holder", None)
        if holder is None:
            holder = _ThreadConnection(self._connect())
            self._local.holder = holder
            with self._lock:
                self._thread_connections.add(holder)
        return holder.conn

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection to read with (no transaction: each statement sees committed data).

        Returns
        -------
        contextlib.AbstractContextManager[sqlite3.Connection]
            Use as ``with store.reading() as conn:``; with a shared connection, other
            threads wait until the block ends.
        """
        if self._shared is None:
            yield self._connection()
            return
        with self._lock:
            yield self._shared

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a write transaction: committed when the block ends, rolled
        back when it raises.

        The transaction takes the database's write lock at once (``BEGIN IMMEDIATE``), so
        a read followed by a write in the block sees no other writer in between.

        Returns
        -------
        contextlib.AbstractContextManager[sqlite3.Connection]
            Use as ``with store.transaction() as conn:``.
        """
        with self._lock if self._shared is not None else contextlib.nullcontext():
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close the store's connections (using the store afterwards raises)."""
        with self._lock:
            if self._shared is not None:
                self._shared.close()
            for holder in list(self._thread_connections):
                holder.conn.close()

    # -- schema --------------------------------------------------------------------------

    def schema_version(self) -> int:
        """How many of :attr:`MIGRATIONS` the file has had.

        Returns
        -------
        int
            The file's ``PRAGMA user_version``.
        """
        with self.reading() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        known = len(self.MIGRATIONS)
        if self.schema_version() > known:
            raise DataError(
                f"{self.path} has schema version {self.schema_version()}, newer than the "
                f"{known} this version of tiles knows; upgrade tiles to open it"
            )
        for number, step in enumerate(self.MIGRATIONS, start=1):
            if self.schema_version() >= number:
                continue
            with self.transaction() as conn:
                # Another process may have run this step since the check above.
                if int(conn.execute("PRAGMA user_version").fetchone()[0]) >= number:
                    continue
                _run_step(conn, step)
                conn.execute(f"PRAGMA user_version = {number:d}")


def _run_step(conn: sqlite3.Connection, step: Any) -> None:
    if isinstance(step, str):
        for statement in sql_statements(step):
            conn.execute(statement)
    else:
        step(conn)
