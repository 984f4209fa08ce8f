"""Registered layers, kept in a database (SQLite or PostgreSQL) so tile URLs keep working
after a restart and in every server process that shares the database.

A layer is a graft plus its default display options and parameter values.
Its id is derived from the graft's content hash and those options, so registering
the same thing twice gives the same id (and the same URLs).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
from typing import Any

from tiles import settings
from tiles.builtins import REGISTRY
from tiles.display import QUERY_KEYS, DisplayOptions
from tiles.errors import NotFoundError, ParameterError
from tiles.graft.validation import check_graft
from tiles.sql_store import SQLStore, check_length

_SCHEMA = """
CREATE TABLE IF NOT EXISTS layers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    graft TEXT NOT NULL,
    graft_hash TEXT NOT NULL,
    options TEXT NOT NULL,
    parameters TEXT NOT NULL,
    created TEXT NOT NULL
);
"""
_COLUMNS = "id, name, graft, graft_hash, options, parameters, created"


@dataclasses.dataclass(frozen=True)
class Layer:
    """A registered layer: what to compute and how to show it by default."""

    id: str
    name: str
    graft: dict
    graft_hash: str
    #: How tiles look when a URL does not say otherwise.
    display: DisplayOptions
    log_level: int
    #: Parameter name -> default value as JSON (a literal or a graft), None when no default.
    parameters: dict[str, Any]
    created: str

    def to_json(self) -> dict[str, Any]:
        """The public description served by ``GET /layers/{id}``."""
        return {
            "id": self.id,
            "name": self.name,
            "graft": self.graft,
            **self.display.to_json(),
            "log_level": self.log_level,
            "parameters": self.parameters,
            "created": self.created,
        }


def _graft_hash(graft: dict) -> str:
    from tiles.graft import content_hash

    return content_hash(graft)


def _value_identity(value: Any) -> Any:
    # A graft-valued default hashes by content, so key numbering does not change the id.
    if isinstance(value, dict) and "returns" in value:
        return {"graft": _graft_hash(value)}
    return value


def normalize_log_level(level: Any) -> int:
    """A logging level as an int; accepts ints and names like ``"WARNING"``."""
    if isinstance(level, bool):
        raise ParameterError(f"Invalid log_level {level!r}")
    if level is None:
        return logging.DEBUG
    if isinstance(level, int):
        if not 0 <= level <= 100:
            raise ParameterError(f"Invalid log_level {level}: logging levels are 0 to 100")
        return level
    if isinstance(level, str):
        named = logging.getLevelName(level.upper())
        if isinstance(named, int):
            return named
    raise ParameterError(f"Invalid log_level {level!r}: use a number or a name like 'WARNING'")


def normalize_parameters(parameters: Any) -> dict[str, Any]:
    """Parameter declarations as {name: default JSON or None}.

    Accepts a mapping of names to defaults, or a list of names.
    """
    if parameters is None:
        return {}
    if isinstance(parameters, list):
        parameters = {name: None for name in parameters}
    if not isinstance(parameters, dict):
        raise ParameterError(
            f"Invalid parameters {parameters!r}: expected an object of name: default value"
        )
    for name in parameters:
        if not isinstance(name, str) or not name.isidentifier():
            raise ParameterError(f"Invalid parameter name {name!r}")
        if name in RESERVED_QUERY_KEYS:
            raise ParameterError(
                f"Parameter name {name!r} is reserved by the tile URL; rename the parameter"
            )
    return dict(parameters)


#: Query keys of tile URLs; parameters cannot use these names.
RESERVED_QUERY_KEYS = QUERY_KEYS | {"session_id", "band", "token", "image_date"}


def make_layer(
    graft: Any,
    name: str | None = None,
    display: DisplayOptions | None = None,
    log_level: Any = logging.DEBUG,
    parameters: Any = None,
) -> Layer:
    """Validate a layer definition and give it its content-derived id.

    The whole graft is checked (structure, names, known builtins, argument counts), and
    so are graft-valued parameter defaults: a layer that can only fail is refused here.

    Parameters
    ----------
    graft : dict
        What the layer computes.
    name : str, optional
        A name to show.
    display : DisplayOptions, optional
        The layer's look by default (tile URLs may change it).
    log_level : int or str
        The least level of the log records kept for the layer.
    parameters : dict or list, optional
        Parameter names, or names and their default values (JSON).

    Returns
    -------
    Layer
    """
    if name is not None and not isinstance(name, str):
        raise ParameterError(f"name must be a string, not {name!r:.100}")
    check_length(name or "", "the layer name")
    display = display or DisplayOptions()
    level = normalize_log_level(log_level)
    params = normalize_parameters(parameters)
    check_graft(graft, REGISTRY, free_names=params)
    for param, default in params.items():
        if isinstance(default, dict) and "returns" in default:
            check_graft(default, REGISTRY, what=f"default of parameter {param!r}")
    graft_hash = _graft_hash(graft)
    identity = {
        "graft": graft_hash,
        "name": name or "",
        # A tuple of pairs: serialises exactly as the ids of stored layers were made.
        "scales": display.scales,
        "colormap": display.colormap,
        "checkerboard": display.checkerboard,
        "reduction": display.reduction,
        "log_level": level,
        "parameters": {k: _value_identity(v) for k, v in sorted(params.items())},
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return Layer(
        id=digest[:24],
        name=name or "",
        graft=graft,
        graft_hash=graft_hash,
        display=display,
        log_level=level,
        parameters=params,
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )


class LayerStore(SQLStore):
    """Layers stored in a database, with an in-memory index for fast tile lookups.

    A layer registered by another process sharing the database is read on its first
    lookup here, and one deleted there is gone here at once: a lookup asks the database
    whether the layer is still there (one indexed query), and parses it only the first
    time. Layers are content-addressed and never change. One SQLite connection is shared
    under a lock: writes are rare and reads are small.

    Parameters
    ----------
    path:
        The database file, ``":memory:"``, a ``postgresql://`` URL, or None for
        ``TILES_SERVER_DB``.
    """

    NAME = "layers"
    MIGRATIONS = (_SCHEMA,)
    TARGET_SETTING = settings.SERVER_DB

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        super().__init__(path)
        self._layers: dict[str, Layer] = {}
        self._load()

    def _load(self, layer_id: str | None = None) -> None:
        """Index the stored layers (only ``layer_id`` when given)."""
        sql = f"SELECT {_COLUMNS} FROM layers"
        with self.reading() as conn:
            if layer_id is None:
                rows = conn.execute(sql).fetchall()
            else:
                rows = conn.execute(sql + " WHERE id = ?", (layer_id,)).fetchall()
        for row in rows:
            layer = self._from_row(row)
            self._layers[layer.id] = layer

    @staticmethod
    def _from_row(row: tuple) -> Layer:
        layer_id, name, graft, graft_hash, options, parameters, created = row
        opts = json.loads(options)
        return Layer(
            id=layer_id,
            name=name,
            graft=json.loads(graft),
            graft_hash=graft_hash,
            display=DisplayOptions.from_json(opts),
            log_level=opts["log_level"],
            parameters=json.loads(parameters),
            created=created,
        )

    def add(self, layer: Layer) -> Layer:
        """Store ``layer``; registering an existing id returns the stored layer unchanged."""
        existing = self._layers.get(layer.id)
        if existing is not None:
            return existing
        options = {**layer.display.to_json(), "log_level": layer.log_level}
        with self.transaction() as conn:
            inserted = conn.execute(
                f"INSERT INTO layers ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (
                    layer.id,
                    layer.name,
                    json.dumps(layer.graft),
                    layer.graft_hash,
                    json.dumps(options),
                    json.dumps(layer.parameters),
                    layer.created,
                ),
            ).rowcount
        if inserted:
            self._layers[layer.id] = layer
            return layer
        return self.get(layer.id)  # registered before, perhaps through another process

    def get(self, layer_id: str) -> Layer:
        """The layer with ``layer_id``; NotFoundError when there is none."""
        # Asked every time, so a layer deleted through another process is gone here too.
        with self.reading() as conn:
            stored = conn.execute("SELECT 1 FROM layers WHERE id = ?", (layer_id,)).fetchone()
        if stored is None:
            self._layers.pop(layer_id, None)
            raise NotFoundError(f"layer {layer_id!r} not found")
        layer = self._layers.get(layer_id)
        if layer is None:
            self._load(layer_id)  # registered through another process
            layer = self._layers[layer_id]
        return layer

    def known(self) -> int:
        """How many layers this process holds now, without asking the database.

        Returns
        -------
        int
        """
        return len(self._layers)

    def list(self) -> list[Layer]:
        """Every stored layer (whichever process registered it), oldest first."""
        with self.reading() as conn:
            ids = {row[0] for row in conn.execute("SELECT id FROM layers")}
        for layer_id in ids - self._layers.keys():
            self._load(layer_id)
        for layer_id in self._layers.keys() - ids:
            self._layers.pop(layer_id, None)  # deleted through another process
        return sorted(
            (self._layers[i] for i in ids if i in self._layers),
            key=lambda layer: (layer.created, layer.id),
        )

    def delete(self, layer_id: str) -> None:
        """Forget a layer (its URLs answer 404 afterwards)."""
        self.get(layer_id)
        with self.transaction() as conn:
            conn.execute("DELETE FROM layers WHERE id = ?", (layer_id,))
            self._layers.pop(layer_id, None)
