"""Published Workflows: proxy objects stored under an id and semantic versions, and ``use``.

``obj.publish("me@example.com:ndvi", "1.0.0")`` stores ``obj``'s graft and type in a
store; ``wf.use("me@example.com:ndvi", "1.0.0")`` gives back a proxy of the same type,
anywhere, to compute or visualize. Objects that depend on parameters are stored as a
Function of those parameters (``wf.use(...)(threshold=0.4)``, or compute the Function with
the arguments). Versions are immutable: publishing a version again with the same graph is a
no-op, with a different graph an error. Workflow-level metadata (title, description,
labels, tags) is replaced on each publish.

The store is a database, ``$TILES_WORKFLOWS_DB``, else ``TILES_REGISTRY``, else
``workflows.sqlite`` beside the catalog, written in transactions; after :func:`tiles.compute.remote.connect` it is the tile
server's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re
import threading
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tiles import graft as g
from tiles import settings
from tiles.display import QUERY_KEYS, DisplayOptions
from tiles.errors import (
    ConflictError,
    NotFoundError,
    ParameterError,
    ProxyTypeError,
    WorkflowsError,
)
from tiles.sql_store import MAX_NAME_CHARS, MAX_TEXT_CHARS, SQLStore, check_length

ID_PATTERN = re.compile(r"^[^\s:]+:[A-Za-z0-9_.\-]+$")
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
VIZ_KEYS = QUERY_KEYS | {"id", "bands", "description"}
#: The version of the stored graft language; grafts stored under another one are refused.
GRAFT_CHANNEL = "tiles-1"


class WorkflowVersionError(ConflictError, ValueError):
    """A version string is not semantic, or the version exists with a different graph."""


# -- validation ----------------------------------------------------------------------------


def check_id(workflow_id: Any) -> str:
    """A workflow id of the form ``"email:name"`` (name: letters, digits, ``_.-``)."""
    if not isinstance(workflow_id, str) or not ID_PATTERN.match(workflow_id):
        raise ParameterError(
            f"workflow id {workflow_id!r} must look like 'you@example.com:workflow_name' "
            "(the name made of letters, digits, '_', '.' and '-')"
        )
    return workflow_id


def check_version(version: Any) -> str:
    """A semantic version string such as ``"1.0.0"`` or ``"2.1.0-beta.1"``."""
    if not isinstance(version, str) or not SEMVER.match(version):
        raise WorkflowVersionError(
            f"version {version!r} is not a semantic version like '1.0.0' (MAJOR.MINOR.PATCH)"
        )
    return version


def version_key(version: str) -> tuple:
    """Sort key ordering versions by semantic-version precedence."""
    m = SEMVER.match(version)
    if m is None:
        return (0, 0, 0, 0, ())
    major, minor, patch, pre = m.groups()
    parts = tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in (pre or "").split(".") if p
    )
    return (int(major), int(minor), int(patch), 0 if pre else 1, parts)


def check_viz_options(viz_options: Any) -> list[dict]:
    """Visualisation options as a list of dicts (the first gives the map defaults).

    Parameters
    ----------
    viz_options : dict, list of dict or None
        Each holds display options (see :class:`tiles.display.DisplayOptions`) and
        optionally an ``id``, ``bands`` and a ``description``.

    Returns
    -------
    list of dict
        The entries with their display options validated and normalised; a
        ``checkerboard`` left out stays out, so the map keeps its own default.
    """
    if viz_options is None:
        return []
    if not isinstance(viz_options, (dict, list, tuple)):
        raise ParameterError(f"viz_options must be a list of dicts, not {viz_options!r:.100}")
    items = [viz_options] if isinstance(viz_options, dict) else list(viz_options)
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise ParameterError(f"viz_options entries must be dicts, not {item!r}")
        unknown = sorted(set(item) - VIZ_KEYS)
        if unknown:
            raise ParameterError(
                f"unknown viz_options key(s) {', '.join(unknown)}; use {', '.join(sorted(VIZ_KEYS))}"
            )
        given = {k: v for k, v in item.items() if not (k == "checkerboard" and v is None)}
        display = DisplayOptions.from_json(given).to_json()
        if "checkerboard" not in given:
            del display["checkerboard"]
        bands = item.get("bands")
        out.append({**item, "bands": bands.split() if isinstance(bands, str) else bands, **display})
    return out


# -- types ---------------------------------------------------------------------------------


def typespec(type_: Any) -> Any:
    """A JSON description of a proxy type, e.g. ``{"type": "List", "params": ["Int"]}``."""
    from tiles.types import Proxytype

    if isinstance(type_, dict):
        return {"map": {str(k): typespec(v) for k, v in type_.items()}}
    if isinstance(type_, (list, tuple)):
        return {"list": [typespec(v) for v in type_]}
    if isinstance(type_, type) and issubclass(type_, Proxytype):
        params = getattr(type_, "_type_params", None)
        if params is None:
            return type_.__name__
        return {"type": type_._generic_base().__name__, "params": [typespec(p) for p in params]}
    raise ProxyTypeError(f"cannot describe {type_!r} as a proxy type")


def from_typespec(spec: Any) -> Any:
    """The proxy type described by :func:`typespec`."""
    from tiles import types
    from tiles.types import Proxytype

    if isinstance(spec, str):
        found = getattr(types, spec, None)
        if not (isinstance(found, type) and issubclass(found, Proxytype)):
            raise ProxyTypeError(f"unknown proxy type {spec!r} in a stored workflow")
        return found
    if isinstance(spec, dict) and "map" in spec:
        return {k: from_typespec(v) for k, v in spec["map"].items()}
    if isinstance(spec, dict) and "list" in spec:
        return [from_typespec(v) for v in spec["list"]]
    if isinstance(spec, dict) and "type" in spec:
        base = from_typespec(spec["type"])
        return base[tuple(from_typespec(p) for p in spec["params"])]
    raise ProxyTypeError(f"malformed type description {spec!r}")


_TEXT_FIELDS = ("title", "description", "docstring")


def check_record(record: Any) -> None:
    """Refuse a publication record (as :func:`make_record` gives) that could not be used.

    Every field must have its JSON type, the graft must pass
    :func:`tiles.graft.validation.check_graft` and the typespec must name proxy types.

    Raises
    ------
    ParameterError, ProxyTypeError, GraftError, WorkflowVersionError
        Naming the field at fault.
    """
    from tiles.builtins import REGISTRY
    from tiles.graft.validation import check_graft, json_depth

    if not isinstance(record, dict):
        raise ParameterError("a workflow record must be a JSON object")
    check_id(record.get("id"))
    check_version(record.get("version"))
    check_graft(record.get("graft"), REGISTRY, what="'graft'")
    spec = record.get("typespec")
    if json_depth(spec) > 32:
        raise ProxyTypeError("'typespec' is nested too deeply")
    try:
        from_typespec(spec)
    except ProxyTypeError:
        raise
    except Exception as exc:
        raise ProxyTypeError(f"'typespec' {spec!r:.200} is not a type description: {exc}") from None
    check_length(record["id"], "the workflow id")
    for name in _TEXT_FIELDS:
        if not isinstance(record.get(name, ""), str | None):
            raise ParameterError(f"'{name}' must be a string, not {record[name]!r:.100}")
        limit = MAX_NAME_CHARS if name == "title" else MAX_TEXT_CHARS
        check_length(record.get(name) or "", f"'{name}'", limit)
    for name in ("labels", "version_labels"):
        value = record.get(name)
        if not isinstance(value, dict | None):
            raise ParameterError(f"'{name}' must be an object, not {value!r:.100}")
        check_length(json.dumps(value or {}), f"'{name}'", MAX_TEXT_CHARS)
    tags = record.get("tags")
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ParameterError(f"'tags' must be a list of strings, not {tags!r:.100}")
    check_length(json.dumps(tags), "'tags'", MAX_TEXT_CHARS)


# -- the store -----------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workflows (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    labels TEXT NOT NULL,
    tags TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    workflow_id TEXT NOT NULL REFERENCES workflows(id),
    version TEXT NOT NULL,
    graft TEXT NOT NULL,
    graft_hash TEXT NOT NULL,
    typespec TEXT NOT NULL,
    channel TEXT NOT NULL,
    docstring TEXT NOT NULL,
    labels TEXT NOT NULL,
    viz_options TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (workflow_id, version)
);
"""


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class WorkflowStore(SQLStore):
    """Workflows and their versions in a database (JSON records in and out).

    Parameters
    ----------
    path:
        The database file, ``":memory:"``, a ``postgresql://`` URL, or None for
        ``TILES_WORKFLOWS_DB``.
    """

    NAME = "workflows"
    MIGRATIONS = (_SCHEMA,)
    TARGET_SETTING = settings.WORKFLOWS_DB

    def publish(self, record: dict[str, Any]) -> dict[str, Any]:
        """Store a version (see :func:`make_record`); returns the workflow as :meth:`get`."""
        check_record(record)
        wid, version = record["id"], record["version"]
        graft_json = json.dumps(record["graft"], sort_keys=True)
        graft_hash = g.content_hash(record["graft"])
        spec_json = json.dumps(record["typespec"], sort_keys=True)
        now = _now()
        with self.transaction() as conn:
            existing = conn.execute(
                "SELECT graft_hash, typespec FROM versions WHERE workflow_id = ? AND version = ?",
                (wid, version),
            ).fetchone()
            if existing is not None and existing != (graft_hash, spec_json):
                raise WorkflowVersionError(
                    f"version {version} of workflow {wid!r} already exists with a different "
                    "graph; published versions cannot change: publish a new version"
                )
            conn.execute(
                "INSERT INTO workflows VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "title = excluded.title, description = excluded.description, "
                "labels = excluded.labels, tags = excluded.tags, updated = excluded.updated",
                (
                    wid,
                    record.get("title") or "",
                    record.get("description") or "",
                    json.dumps(record.get("labels") or {}),
                    json.dumps(record.get("tags") or []),
                    now,
                    now,
                ),
            )
            if existing is None:
                conn.execute(
                    "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        wid,
                        version,
                        graft_json,
                        graft_hash,
                        spec_json,
                        GRAFT_CHANNEL,
                        record.get("docstring") or "",
                        json.dumps(record.get("version_labels") or {}),
                        json.dumps(record.get("viz_options") or []),
                        now,
                    ),
                )
        return self.get(wid)

    def get(self, workflow_id: str) -> dict[str, Any]:
        """The workflow with its versions (oldest semantic version first)."""
        with self.reading() as conn:
            row = conn.execute(
                "SELECT id, title, description, labels, tags, created, updated FROM workflows "
                "WHERE id = ?",
                (workflow_id,),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no workflow {workflow_id!r}")
            versions = conn.execute(
                "SELECT version, graft, typespec, channel, docstring, labels, viz_options, created "
                "FROM versions WHERE workflow_id = ?",
                (workflow_id,),
            ).fetchall()
        wid, title, description, labels, tags, created, updated = row
        return {
            "id": wid,
            "title": title,
            "description": description,
            "labels": json.loads(labels),
            "tags": json.loads(tags),
            "created": created,
            "updated": updated,
            "versions": sorted(
                (_version_json(v) for v in versions), key=lambda v: version_key(v["version"])
            ),
        }

    def get_version(self, workflow_id: str, version: str) -> dict[str, Any]:
        """One version of a workflow; NotFoundError names what is missing."""
        versions = self.get(workflow_id)["versions"]
        for v in versions:
            if v["version"] == version:
                return v
        have = ", ".join(v["version"] for v in versions) or "none"
        raise NotFoundError(f"workflow {workflow_id!r} has no version {version!r} (has {have})")

    def list(self) -> list[dict[str, Any]]:
        """Every workflow (without version grafts), by id."""
        with self.reading() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM workflows ORDER BY id")]
        out = []
        for wid in ids:
            wf = self.get(wid)
            wf["versions"] = [v["version"] for v in wf["versions"]]
            out.append(wf)
        return out

    # The same names as a server connection (tiles.compute.remote.Connection) answers to.
    get_workflow = get
    publish_record = publish


def _version_json(row: tuple) -> dict[str, Any]:
    version, graft, spec, channel, docstring, labels, viz, created = row
    return {
        "version": version,
        "graft": json.loads(graft),
        "typespec": json.loads(spec),
        "channel": channel,
        "docstring": docstring,
        "labels": json.loads(labels),
        "viz_options": json.loads(viz),
        "created": created,
    }


_store_lock = threading.Lock()
_stores: dict[Path | str, WorkflowStore] = {}


def default_store() -> WorkflowStore:
    """The workflow store at ``TILES_WORKFLOWS_DB`` (one per database per process)."""
    path = settings.WORKFLOWS_DB.get()
    if not isinstance(path, str):
        path = path.resolve()
    with _store_lock:
        store = _stores.get(path)
        if store is None:
            store = _stores[path] = WorkflowStore(path)
        return store


def _backend(client: Any = None) -> Any:
    """Where workflows live: ``client`` or the connected server, else the local workflow store."""
    from tiles.compute import remote

    connection = remote.connection_for(client)
    return connection if connection is not None else default_store()


# -- the client side -----------------------------------------------------------------------


@dataclasses.dataclass
class VersionedGraft:
    """One published version: its proxy object (built on first access) and metadata."""

    version: str
    typespec: Any
    graft: dict
    docstring: str = ""
    labels: dict = dataclasses.field(default_factory=dict)
    viz_options: list = dataclasses.field(default_factory=list)
    created: str = ""
    channel: str = GRAFT_CHANNEL

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> VersionedGraft:
        """A version from its stored JSON record (unknown fields are ignored).

        Parameters
        ----------
        record:
            The version's JSON record.

        Returns
        -------
        VersionedGraft
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in fields})

    @property
    def type(self) -> type:
        """The proxy type of the object."""
        return from_typespec(self.typespec)

    @property
    def object(self) -> Any:
        """A fresh proxy of the stored object (its keys isolated from this process's)."""
        if self.channel != GRAFT_CHANNEL:
            raise WorkflowsError(
                f"version {self.version} was stored for graft channel {self.channel!r}; this "
                f"installation reads {GRAFT_CHANNEL!r}"
            )
        obj = self.type._from_graft(g.isolate_keys(self.graft))
        return _with_viz_defaults(obj, self.viz_options)


@dataclasses.dataclass
class Workflow:
    """A published workflow: id, metadata and its versions."""

    id: str
    title: str = ""
    description: str = ""
    labels: dict = dataclasses.field(default_factory=dict)
    tags: list = dataclasses.field(default_factory=list)
    versioned_grafts: list[VersionedGraft] = dataclasses.field(default_factory=list)
    created: str = ""
    updated: str = ""

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Workflow:
        """A workflow from its stored JSON record, versions included.

        Parameters
        ----------
        record:
            The workflow's JSON record.

        Returns
        -------
        Workflow
        """
        return cls(
            id=record["id"],
            title=record.get("title", ""),
            description=record.get("description", ""),
            labels=record.get("labels") or {},
            tags=record.get("tags") or [],
            versioned_grafts=[VersionedGraft.from_json(v) for v in record.get("versions", [])],
            created=record.get("created", ""),
            updated=record.get("updated", ""),
        )

    @classmethod
    def get(cls, workflow_id: str) -> Workflow:
        """The stored workflow ``workflow_id`` (NotFoundError when there is none)."""
        return cls.from_json(_backend().get_workflow(workflow_id))

    @property
    def versions(self) -> list[str]:
        """Version strings, oldest semantic version first."""
        return [v.version for v in self.versioned_grafts]

    def get_version(self, version: str) -> VersionedGraft:
        """One version (NotFoundError listing the versions there are)."""
        for v in self.versioned_grafts:
            if v.version == version:
                return v
        raise NotFoundError(
            f"workflow {self.id!r} has no version {version!r} (has {', '.join(self.versions)})"
        )

    def __getitem__(self, version: str) -> Any:
        return self.get_version(version).object


def make_record(
    workflow_id: str,
    version: str,
    obj: Any,
    title: str = "",
    description: str = "",
    labels: dict | None = None,
    tags: list | None = None,
    docstring: str = "",
    version_labels: dict | None = None,
    viz_options: Any = None,
) -> dict[str, Any]:
    """Validate a publication and give the JSON record the workflow store keeps."""
    from tiles.types import Function, Proxytype, proxify

    check_id(workflow_id)
    check_version(version)
    obj = proxify(obj)
    if not isinstance(obj, Proxytype):
        raise ProxyTypeError(f"cannot publish {type(obj).__name__}")
    if obj.params:
        obj = Function.from_object(obj)
    for name, value in (("labels", labels), ("version_labels", version_labels)):
        if value is not None and not isinstance(value, dict):
            raise ParameterError(f"{name} must be a dict, not {value!r}")
    if tags is not None and not all(isinstance(t, str) for t in tags):
        raise ParameterError(f"tags must be a list of strings, not {tags!r}")
    return {
        "id": workflow_id,
        "version": version,
        "graft": obj.graft,
        "typespec": typespec(type(obj)),
        "title": title,
        "description": description,
        "labels": labels or {},
        "tags": list(tags or []),
        "docstring": docstring,
        "version_labels": version_labels or {},
        "viz_options": check_viz_options(viz_options),
    }


def publish(
    id: str,  # noqa: A002 - the documented name
    version: str,
    obj: Any = None,
    title: str = "",
    description: str = "",
    labels: dict | None = None,
    tags: list | None = None,
    docstring: str = "",
    version_labels: dict | None = None,
    viz_options: Any = None,
    client: Any = None,
) -> Any:
    """Publish ``obj`` as version ``version`` of workflow ``id`` and return the Workflow.

    Without ``obj`` this is a decorator for a Python function whose arguments are annotated
    with proxy types: the function becomes a :class:`~tiles.types.Function` taking those
    arguments by name, is published, and is returned::

        @wf.publish("me@example.com:add_n", "1.0.0")
        def add_n(img: wf.Image, n: wf.Float) -> wf.Image:
            return img + n

    ``client`` is a :class:`~tiles.compute.remote.Connection` to publish on (default: the
    connected server, else the local workflow store).
    """
    options = dict(
        title=title,
        description=description,
        labels=labels,
        tags=tags,
        docstring=docstring,
        version_labels=version_labels,
        viz_options=viz_options,
    )
    if obj is None:

        def decorate(function: Callable) -> Any:
            fn = function_from_annotations(function)
            publish(
                id,
                version,
                fn,
                **{**options, "docstring": docstring or function.__doc__ or ""},
                client=client,
            )
            return fn

        return decorate
    if callable(obj) and not hasattr(obj, "graft"):
        obj = function_from_annotations(obj)
    record = make_record(id, version, obj, **options)
    return Workflow.from_json(_backend(client).publish_record(record))


def function_from_annotations(function: Callable) -> Any:
    """A Function proxy of ``function``, arguments typed (and named) by its annotations."""
    import inspect

    from tiles.types import Function, Proxytype, parameter, proxify

    try:
        hints = typing.get_type_hints(function)
    except Exception as exc:
        raise ProxyTypeError(f"cannot read the annotations of {function!r}: {exc}") from None
    names = [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    arg_types = {}
    for name in names:
        t = hints.get(name)
        if not (isinstance(t, type) and issubclass(t, Proxytype)):
            raise ProxyTypeError(
                f"argument {name!r} of {function.__name__} needs a proxy type annotation "
                "such as wf.Float or wf.Image"
            )
        arg_types[name] = t
    result = proxify(function(**{n: parameter(n, t) for n, t in arg_types.items()}))
    returns = hints.get("return")
    if isinstance(returns, type) and issubclass(returns, Proxytype):
        result = returns._promote(result)
    outer = [p._name for p in result.params if p._name not in arg_types]
    if outer:
        raise ProxyTypeError(f"{function.__name__} depends on parameters {outer} it does not take")
    body = g.function_graft(result.graft, *arg_types)
    return Function[(arg_types, type(result))]._from_graft(body, ())


def use(workflow_id: str, version: str) -> Any:
    """The proxy object published as ``version`` of ``workflow_id``."""
    check_id(workflow_id)
    return VersionedGraft.from_json(_backend().get_version(workflow_id, version)).object


def _with_viz_defaults(obj: Any, viz_options: list) -> Any:
    """Make the first viz option the defaults of this object's ``visualize``/``tile_layer``."""
    if not viz_options or not hasattr(obj, "visualize"):
        return obj
    viz = viz_options[0]
    defaults = {
        "scales": viz.get("scales"),
        "colormap": viz.get("colormap"),
        "checkerboard": viz.get("checkerboard"),
    }
    if type(obj).__name__ == "ImageCollection":
        defaults["reduction"] = viz.get("reduction")
    defaults = {k: v for k, v in defaults.items() if v is not None}
    for method_name in ("visualize", "tile_layer"):
        method = getattr(obj, method_name)

        @functools.wraps(method)
        def with_defaults(*args: Any, __method: Callable = method, **kwargs: Any) -> Any:
            for key, value in defaults.items():
                if kwargs.get(key) is None:
                    kwargs[key] = value
            return __method(*args, **kwargs)

        # An instance attribute: only this object gets the stored defaults.
        object.__setattr__(obj, method_name, with_defaults)
    obj.viz_options = viz_options
    return obj
