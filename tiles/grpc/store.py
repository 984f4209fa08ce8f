"""Published XYZ objects, kept in the database of the tile server's layers (or beside it).

An XYZ record holds what the original client sent with ``CreateXYZ`` (graft,
typespec, parameter and viz-option messages as serialized protobuf bytes, so they
round-trip exactly) plus the id of the tile-server layer that renders it. This
module does not import grpc or protobuf: the ``XYZ.use`` builtin reads stored
grafts through it during tile evaluation.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from tiles import settings
from tiles.errors import NotFoundError
from tiles.sql_store import SQLStore, is_database_url

_SCHEMA = """
CREATE TABLE IF NOT EXISTS xyz (
    id TEXT PRIMARY KEY,
    layer_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    graft TEXT NOT NULL,
    typespec BLOB NOT NULL,
    parameters BLOB NOT NULL,
    viz_options BLOB NOT NULL,
    result_type INTEGER NOT NULL,
    channel TEXT NOT NULL,
    client_version TEXT NOT NULL,
    "user" TEXT NOT NULL,
    public INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
"""

_COLUMNS = [
    "id",
    "layer_id",
    "name",
    "description",
    "graft",
    "typespec",
    "parameters",
    "viz_options",
    "result_type",
    "channel",
    "client_version",
    "user",
    "public",
    "created_ms",
    "updated_ms",
    "expires_ms",
]
# Quoted: "user" is a reserved word in PostgreSQL.
_COLUMN_LIST = ", ".join(f'"{c}"' for c in _COLUMNS)


def now_ms() -> int:
    """Milliseconds since the Unix epoch, the unit of the wire's timestamps."""
    return int(time.time() * 1000)


@dataclasses.dataclass(frozen=True)
class XYZRecord:
    """One published XYZ object."""

    id: str
    layer_id: str
    name: str
    description: str
    #: The graft JSON text exactly as the client serialized it.
    graft: str
    #: Serialized ``Typespec`` message.
    typespec: bytes
    #: Serialized ``Parameter`` messages, in order.
    parameters: list[bytes]
    #: Serialized ``VizOption`` messages, in order.
    viz_options: list[bytes]
    result_type: int
    channel: str
    client_version: str
    user: str
    public: bool
    created_ms: int
    updated_ms: int
    expires_ms: int

    def expired(self, at_ms: int | None = None) -> bool:
        """Whether the record's lifetime is over."""
        return self.expires_ms <= (now_ms() if at_ms is None else at_ms)


def _pack(messages: list[bytes]) -> bytes:
    # Length-prefixed concatenation: serialized protobufs are arbitrary bytes.
    return b"".join(len(m).to_bytes(4, "big") + m for m in messages)


def _unpack(blob: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(blob):
        size = int.from_bytes(blob[i : i + 4], "big")
        out.append(bytes(blob[i + 4 : i + 4 + size]))
        i += 4 + size
    return out


class XYZStore(SQLStore):
    """XYZ records in a database, with parsed grafts cached in memory.

    One SQLite connection is shared under a lock: writes are rare and small.

    Parameters
    ----------
    path:
        The database file, ``":memory:"`` or a ``postgresql://`` URL.
    """

    NAME = "xyz"
    MIGRATIONS = (_SCHEMA,)

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(path)
        self._grafts: dict[str, dict] = {}

    def put(self, record: XYZRecord) -> XYZRecord:
        """Insert or replace ``record`` (re-publishing refreshes its timestamps)."""
        row = dataclasses.asdict(record)
        row["parameters"] = _pack(record.parameters)
        row["viz_options"] = _pack(record.viz_options)
        row["public"] = int(record.public)
        with self.transaction() as conn:
            existing = conn.execute(
                "SELECT created_ms FROM xyz WHERE id = ?", (record.id,)
            ).fetchone()
            if existing is not None:
                # Keep the first creation time; everything else is the latest publish.
                row["created_ms"] = existing[0]
            conn.execute(
                f"INSERT INTO xyz ({_COLUMN_LIST}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
                "ON CONFLICT (id) DO UPDATE SET "
                + ", ".join(f'"{c}" = excluded."{c}"' for c in _COLUMNS[1:]),
                [row[c] for c in _COLUMNS],
            )
            self._grafts.pop(record.id, None)
        return self.get(record.id, include_expired=True)

    @staticmethod
    def _from_row(row: tuple) -> XYZRecord:
        values: dict[str, Any] = dict(zip(_COLUMNS, row, strict=True))
        values["typespec"] = bytes(values["typespec"])
        values["parameters"] = _unpack(values["parameters"])
        values["viz_options"] = _unpack(values["viz_options"])
        values["public"] = bool(values["public"])
        return XYZRecord(**values)

    def get(self, xyz_id: str, include_expired: bool = False) -> XYZRecord:
        """The record ``xyz_id``; NotFoundError when unknown or expired."""
        with self.reading() as conn:
            row = conn.execute(f"SELECT {_COLUMN_LIST} FROM xyz WHERE id = ?", (xyz_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"XYZ {xyz_id!r} not found")
        record = self._from_row(row)
        if record.expired() and not include_expired:
            raise NotFoundError(f"XYZ {xyz_id!r} has expired")
        return record

    def list(self) -> list[XYZRecord]:
        """Every unexpired record, oldest first."""
        with self.reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMN_LIST} FROM xyz WHERE expires_ms > ? ORDER BY created_ms, id",
                (now_ms(),),
            ).fetchall()
        return [self._from_row(r) for r in rows]

    def delete(self, xyz_id: str) -> None:
        """Forget a record (NotFoundError when unknown)."""
        with self.transaction() as conn:
            cur = conn.execute("DELETE FROM xyz WHERE id = ?", (xyz_id,))
            self._grafts.pop(xyz_id, None)
        if cur.rowcount == 0:
            raise NotFoundError(f"XYZ {xyz_id!r} not found")

    def expired(self) -> list[XYZRecord]:
        """Records whose lifetime is over (to be purged with their layers)."""
        with self.reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMN_LIST} FROM xyz WHERE expires_ms <= ?", (now_ms(),)
            ).fetchall()
        return [self._from_row(r) for r in rows]

    def graft(self, xyz_id: str) -> dict:
        """The parsed graft of ``xyz_id`` (cached; NotFoundError when unknown or expired)."""
        cached = self._grafts.get(xyz_id)
        if cached is not None:
            return cached
        graft = json.loads(self.get(xyz_id).graft)
        self._grafts[xyz_id] = graft
        return graft


# -- stores visible to the XYZ.use builtin --------------------------------------------------

_stores: list[XYZStore] = []
_stores_lock = threading.Lock()


def default_store_path() -> Path | str:
    """The database of XYZ objects: ``TILES_REGISTRY``, else ``xyz.sqlite`` beside the tile
    server's layer database (``TILES_SERVER_DB``), else that database when it is PostgreSQL."""
    registry = settings.REGISTRY.get()
    if registry is not None:
        return registry
    return store_target_beside(settings.SERVER_DB.get())


def store_target_beside(layers_db: str | os.PathLike) -> Path | str:
    """Where the XYZ objects of a layer database live: the same PostgreSQL database, the
    same SQLite file when it is ``TILES_REGISTRY``, else ``xyz.sqlite`` beside it."""
    if is_database_url(layers_db) or str(layers_db) == ":memory:":
        return str(layers_db)
    if settings.REGISTRY.get() == Path(layers_db):
        return Path(layers_db)
    return Path(layers_db).with_name("xyz.sqlite")


def store_beside(layers_db: str | os.PathLike) -> XYZStore:
    """The XYZ store that belongs with a layer database (in memory for ``:memory:``)."""
    if str(layers_db) == ":memory:":
        return XYZStore(":memory:")
    return XYZStore(store_target_beside(layers_db))


def register_store(store: XYZStore) -> None:
    """Make ``store``'s XYZ objects usable by ``XYZ.use`` in this process."""
    with _stores_lock:
        if store not in _stores:
            _stores.append(store)


def unregister_store(store: XYZStore) -> None:
    """Stop resolving ``XYZ.use`` ids through ``store``."""
    with _stores_lock:
        if store in _stores:
            _stores.remove(store)


def find_graft(xyz_id: str) -> dict:
    """The graft of a published XYZ from any registered store, else the default store."""
    with _stores_lock:
        stores = list(_stores)
    for store in stores:
        try:
            return store.graft(xyz_id)
        except NotFoundError:
            continue
    if not stores:
        # A tile server restarted without its gRPC endpoint still renders stored layers.
        path = default_store_path()
        if is_database_url(path) or path.exists():
            store = XYZStore(path)
            register_store(store)
            return store.graft(xyz_id)
    raise NotFoundError(f"XYZ {xyz_id!r} not found (it may have been deleted or expired)")
