"""The XYZAPI servicer: publish imagery as XYZ layers of the tile server, stream their logs.

Each published XYZ becomes a layer of the tile server whose graft is
``XYZ.use(<xyz id>, <param>=<param>, ...)``: its tile URLs take the original
client's query (session id, colormap, scales, parameter values) and evaluate the
stored graft through the ``XYZ.use`` builtin, exactly as references to the layer
inside other computations do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import inspect
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf import empty_pb2

from tiles.builtins import REGISTRY
from tiles.display import DisplayOptions
from tiles.errors import ForbiddenError, NotFoundError, ParameterError, describe, status_of
from tiles.graft import content_hash
from tiles.grpc import builtin as _xyz_builtin  # noqa: F401 - registers XYZ.use
from tiles.grpc import messages
from tiles.grpc.auth import TokenCheck
from tiles.grpc.protos import logging_pb2, xyz_pb2, xyz_pb2_grpc
from tiles.grpc.store import XYZRecord, XYZStore, now_ms
from tiles.grpc.validation import check_graft, parse_graft
from tiles.server.layers import RESERVED_QUERY_KEYS, Layer, make_layer
from tiles.server.service import TileService
from tiles.sql_store import MAX_TEXT_CHARS, check_length

logger = logging.getLogger(__name__)

#: Lifetime of an XYZ when the request does not say (the original service's default).
DEFAULT_DAYS_TO_EXPIRATION = 10
#: Seconds between looks at the log book while a log stream is open.
LOG_POLL_SECONDS = 0.25

_MS_PER_DAY = 86_400_000
_PROTO_TO_PYTHON_LEVEL = {
    logging_pb2.LogRecord.DEBUG: logging.NOTSET,
    logging_pb2.LogRecord.INFO: logging.INFO,
    logging_pb2.LogRecord.WARNING: logging.WARNING,
    logging_pb2.LogRecord.ERROR: logging.ERROR,
}


def proto_level(levelno: int) -> int:
    """The wire's LogRecord.Level for a Python logging level."""
    if levelno >= logging.ERROR:
        return logging_pb2.LogRecord.ERROR
    if levelno >= logging.WARNING:
        return logging_pb2.LogRecord.WARNING
    if levelno >= logging.INFO:
        return logging_pb2.LogRecord.INFO
    return logging_pb2.LogRecord.DEBUG


def python_level(level: int) -> int:
    """The lowest Python logging level a log request asks for.

    The original client sends a raw Python level (10) when it was given none, so
    values beyond the wire's enum are read as Python levels.
    """
    return _PROTO_TO_PYTHON_LEVEL.get(level, level)


def wrapper_graft(xyz_id: str, parameter_names: list[str]) -> dict:
    """The tile layer's graft: ``XYZ.use`` of the stored object with every parameter passed on.

    Keys are digits, which parameter names (identifiers) can never be.
    """
    return {
        "0": xyz_id,
        "1": ["XYZ.use", "0", {name: name for name in parameter_names}],
        "returns": "1",
    }


class PublishError(ParameterError):
    """A CreateXYZ request that cannot be published; the message says why."""


async def abort_with(context: grpc.aio.ServicerContext, exc: BaseException) -> None:
    """End a call with the status :func:`tiles.errors.status_of` gives for ``exc``."""
    status = status_of(exc)
    if status.http >= 500:
        logger.exception("gRPC call failed", exc_info=exc)
    if status.retry_after is not None:
        context.set_trailing_metadata((("retry-after", str(status.retry_after)),))
    await context.abort(grpc.StatusCode[status.grpc], describe(exc))


def answers_errors(method: Callable) -> Callable:
    """Answer any exception an RPC method raises through the error table (not UNKNOWN)."""
    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def stream(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                async for item in method(self, request, context):
                    yield item
            except (grpc.aio.AbortError, asyncio.CancelledError):
                raise
            except Exception as exc:
                await abort_with(context, exc)

        return stream

    @functools.wraps(method)
    async def unary(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await method(self, request, context)
        except (grpc.aio.AbortError, asyncio.CancelledError):
            raise
        except Exception as exc:
            await abort_with(context, exc)

    return unary


class XYZService(xyz_pb2_grpc.XYZAPIServicer):
    """XYZAPI over a tile service, an XYZ store and a token check."""

    def __init__(
        self,
        tiles: TileService,
        store: XYZStore,
        tile_base_url: str,
        tokens: TokenCheck,
        log_poll_seconds: float = LOG_POLL_SECONDS,
    ) -> None:
        self.tiles = tiles
        self.store = store
        self.tile_base_url = tile_base_url.rstrip("/")
        self.tokens = tokens
        self.log_poll_seconds = log_poll_seconds

    # -- helpers ---------------------------------------------------------------------------

    async def _caller(self, context: grpc.aio.ServicerContext) -> str:
        return self.tokens.identify(context.invocation_metadata() or ())

    async def _record(self, context: grpc.aio.ServicerContext, xyz_id: str) -> XYZRecord:
        if not xyz_id:
            raise ParameterError("xyz_id is empty")
        # Stores are SQLite: their calls run on threads, never on this event loop.
        return await asyncio.to_thread(self.store.get, xyz_id)

    def url_template(self, record: XYZRecord) -> str:
        """Where the record's tiles are; clients append the original query vocabulary."""
        return f"{self.tile_base_url}/layers/{record.layer_id}/{{z}}/{{x}}/{{y}}.png"

    def _layer_for(self, xyz_id: str, request: xyz_pb2.CreateXYZRequest) -> Layer:
        names = [p.name for p in request.parameters]
        defaults = {p.name: messages.parameter_default(p) for p in request.parameters}
        display = None
        if request.viz_options:
            # The first stored visualisation is the layer's look when a URL gives none.
            viz = request.viz_options[0]
            display = DisplayOptions(
                scales=[(s.min, s.max) for s in viz.scales],
                colormap=viz.colormap,
                reduction=viz.reduction,
                checkerboard=viz.checkerboard,
            )
        return make_layer(
            wrapper_graft(xyz_id, names),
            name=request.name or None,
            display=display,
            parameters=defaults,
        )

    def _ensure_layer(self, record: XYZRecord) -> None:
        """Re-register a record's layer if the layer database lost it (e.g. was reset)."""
        try:
            self.tiles.layers.get(record.layer_id)
        except NotFoundError:
            request = self._request_of(record)
            layer = self._layer_for(record.id, request)
            self.tiles.layers.add(layer)

    @staticmethod
    def _request_of(record: XYZRecord) -> xyz_pb2.CreateXYZRequest:
        request = xyz_pb2.CreateXYZRequest(name=record.name)
        for blob in record.parameters:
            request.parameters.add().ParseFromString(blob)
        for blob in record.viz_options:
            request.viz_options.add().ParseFromString(blob)
        return request

    def _delete(self, record: XYZRecord) -> None:
        try:
            self.store.delete(record.id)
            self.tiles.layers.delete(record.layer_id)
        except NotFoundError:
            pass  # deleted concurrently: the outcome is the same

    def _purge_expired(self) -> None:
        for record in self.store.expired():
            try:
                self.store.delete(record.id)
                self.tiles.layers.delete(record.layer_id)
            except NotFoundError:
                pass

    # -- publishing ------------------------------------------------------------------------

    def publish(self, request: xyz_pb2.CreateXYZRequest, user: str) -> XYZRecord:
        """Validate a CreateXYZ request, register its tile layer and store it."""
        check_length(request.name, "the XYZ name")
        check_length(request.description, "the XYZ description", MAX_TEXT_CHARS)
        graft = parse_graft(request.serialized_graft)
        names = [p.name for p in request.parameters]
        self._check_parameters(graft, names)
        check_graft(graft, REGISTRY)
        self._check_typespec(request)

        typespec = request.typespec.SerializeToString(deterministic=True)
        parameters = [p.SerializeToString(deterministic=True) for p in request.parameters]
        viz_options = [v.SerializeToString(deterministic=True) for v in request.viz_options]
        identity = {
            "graft": content_hash(graft),
            "typespec": typespec.hex(),
            "parameters": [p.hex() for p in parameters],
            "viz_options": [v.hex() for v in viz_options],
            "name": request.name,
            "description": request.description,
            "public": request.public,
            "channel": request.channel,
            "user": user,
        }
        # Publishing the same thing again gives the same id, so its tiles stay cached.
        xyz_id = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]
        layer = self._layer_for(xyz_id, request)

        self._purge_expired()
        now = now_ms()
        days = request.days_to_expiration or DEFAULT_DAYS_TO_EXPIRATION
        record = XYZRecord(
            id=xyz_id,
            layer_id=layer.id,
            name=request.name,
            description=request.description,
            graft=request.serialized_graft,
            typespec=typespec,
            parameters=parameters,
            viz_options=viz_options,
            result_type=messages.result_type(request.typespec),
            channel=request.channel,
            client_version=request.client_version,
            user=user,
            public=request.public,
            created_ms=now,
            updated_ms=now,
            expires_ms=now + days * _MS_PER_DAY,
        )
        # The record first: a layer whose XYZ is missing would render errors.
        record = self.store.put(record)
        self.tiles.layers.add(layer)
        return record

    @staticmethod
    def _check_parameters(graft: dict, names: list[str]) -> None:
        seen: set[str] = set()
        for name in names:
            if not name.isidentifier():
                raise PublishError(f"invalid parameter name {name!r}: use a Python identifier")
            if name in RESERVED_QUERY_KEYS:
                raise PublishError(
                    f"parameter name {name!r} is reserved by the tile URL query; rename it"
                )
            if name in seen:
                raise PublishError(f"parameter {name!r} is declared twice")
            seen.add(name)
        graft_params = graft.get("parameters")
        if graft_params is None:
            if names:
                raise PublishError(
                    f"parameters {', '.join(names)} are declared but the graft is not a "
                    "function of them (it has no 'parameters' list)"
                )
            return
        if not isinstance(graft_params, list) or sorted(map(str, graft_params)) != sorted(names):
            raise PublishError(
                f"the graft's parameters {graft_params!r} differ from the declared "
                f"parameters {names!r}"
            )

    @staticmethod
    def _check_typespec(request: xyz_pb2.CreateXYZRequest) -> None:
        if request.typespec.WhichOneof("component") is None:
            return  # untyped: whatever it computes is checked when tiles are rendered
        produced = messages.type_name(messages.result_typespec(request.typespec))
        if produced not in messages.IMAGERY_TYPES:
            raise PublishError(
                "an XYZ layer must be an Image or ImageCollection, not "
                f"{messages.typespec_text(request.typespec)}"
            )

    # -- XYZAPI ----------------------------------------------------------------------------

    @answers_errors
    async def CreateXYZ(  # noqa: N802 - gRPC method name
        self, request: xyz_pb2.CreateXYZRequest, context: grpc.aio.ServicerContext
    ) -> xyz_pb2.XYZ:
        """Publish an XYZ: store its graft and register a tile-server layer for it."""
        user = await self._caller(context)
        record = await asyncio.to_thread(self.publish, request, user)
        logger.info("published XYZ %s (%s) as layer %s", record.id, record.name, record.layer_id)
        return messages.to_xyz(record, self.url_template(record))

    @answers_errors
    async def GetXYZ(  # noqa: N802
        self, request: xyz_pb2.GetXYZRequest, context: grpc.aio.ServicerContext
    ) -> xyz_pb2.XYZ:
        """The XYZ ``request.xyz_id``, with its tile URL template."""
        await self._caller(context)
        record = await self._record(context, request.xyz_id)
        await asyncio.to_thread(self._ensure_layer, record)
        return messages.to_xyz(record, self.url_template(record))

    @answers_errors
    async def ListXYZ(  # noqa: N802
        self, request: xyz_pb2.ListXYZRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[xyz_pb2.XYZ]:
        """Stream the public XYZs, or the caller's private ones."""
        user = await self._caller(context)
        await asyncio.to_thread(self._purge_expired)
        for record in await asyncio.to_thread(self.store.list):
            # Public layers are everyone's; private ones are listed to their publisher.
            if record.public != request.public:
                continue
            if not record.public and record.user != user:
                continue
            yield messages.to_xyz(record, self.url_template(record))

    @answers_errors
    async def DeleteXYZ(  # noqa: N802
        self, request: xyz_pb2.DeleteXYZRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        """Delete an XYZ the caller published, and its layer."""
        user = await self._caller(context)
        record = await self._record(context, request.xyz_id)
        if record.user and record.user != user:
            raise ForbiddenError(f"XYZ {record.id!r} was published by another user")
        await asyncio.to_thread(self._delete, record)
        return empty_pb2.Empty()

    @answers_errors
    async def GetXYZSessionLogs(  # noqa: N802
        self, request: xyz_pb2.GetXYZSessionLogsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[xyz_pb2.XYZLogRecord]:
        """Stream an XYZ's log records (from ``start_timestamp``, for one session if given)."""
        await self._caller(context)
        record = await self._record(context, request.xyz_id)
        level = python_level(request.level)
        since_ms = request.start_timestamp
        session = request.session_id or None
        sent: set[tuple] = set()
        while True:
            entries = self.tiles.logbook.records(record.layer_id, session_id=session, level=level)
            current: set[tuple] = set()
            for entry in entries:
                key = (
                    entry["time"],
                    entry["levelno"],
                    entry["message"],
                    tuple(entry["tile"] or ()),
                )
                current.add(key)
                if key in sent:
                    continue
                stamp = _iso_to_ms(entry["time"])
                if stamp < since_ms:
                    continue
                yield xyz_pb2.XYZLogRecord(
                    record=logging_pb2.LogRecord(
                        level=proto_level(entry["levelno"]),
                        message=entry["message"],
                        timestamp=stamp,
                    ),
                    session_id=entry.get("session_id", ""),
                )
            # Every current entry is now sent or too old; entries the log book dropped
            # are forgotten with it, so this set stays bounded.
            sent = current
            await asyncio.sleep(self.log_poll_seconds)
            try:
                await asyncio.to_thread(self.store.get, record.id)
            except NotFoundError:
                return  # the XYZ was deleted or expired: nothing more will be logged


def _iso_to_ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)
