"""Tornado request handlers: parse, look up, call the service, answer.

No numeric code lives here. Handlers raise the package's exceptions and
:meth:`tiles.server.answers.JSONErrors.write_error` answers every one through :func:`tiles.errors.status_of`
with the body of :func:`tiles.errors.error_body`: unknown layers 404, bad query values 400
naming the key, a full work queue 503 with Retry-After. Tile computation errors are also
recorded for ``GET /layers/{id}/errors``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import urllib.parse
from collections.abc import Hashable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import tornado.web

from tiles import display, settings
from tiles.errors import (
    JobTimeoutError,
    NotFoundError,
    ParameterError,
    ResourceLimitError,
    describe,
    status_of,
)
from tiles.geocontext import XYZTile
from tiles.server import caching
from tiles.server.access import AccessPolicy
from tiles.server.answers import JSONErrors, StaticHandler
from tiles.server.layers import Layer, make_layer, normalize_log_level
from tiles.server.query import parse_tile_query
from tiles.server.service import BandFacts, TileService
from tiles.server.workqueue import WorkQueue

logger = logging.getLogger(__name__)

#: Request bodies up to this size are parsed on the event loop; larger ones on the I/O pool.
INLINE_BODY_BYTES = 64 * 1024


def request_error(what: str, exc: BaseException) -> ParameterError:
    """A ParameterError naming ``what`` for a failure to read part of a request."""
    return ParameterError(f"{what}: {describe(exc)}")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object; ParameterError naming the problem otherwise."""
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError) as exc:
        raise request_error("request body is not valid JSON", exc) from None
    if not isinstance(body, dict):
        raise ParameterError("request body must be a JSON object")
    return body


@tornado.web.stream_request_body
class BaseHandler(JSONErrors):
    """JSON errors, CORS for reads, access to the service, and work off the event loop.

    Nothing a handler runs on the event loop may wait on SQLite, disk, a catalog or a large
    body: :meth:`run` hands computations to the work queue and :meth:`off_loop` blocking
    I/O to the I/O pool, so ``/health`` answers whatever they are doing. Bodies are
    received piece by piece and refused (413) once beyond ``$TILES_MAX_BODY_MB``.
    """

    #: Whether GETs here are public reads any web page may make (tiles, TileJSON, values).
    public_reads = True

    def initialize(self, service: TileService, access: AccessPolicy) -> None:
        """Take the tile service and the access policy the route table gives every handler."""
        self.service = service
        self.access = access
        self.set_default_headers()  # tornado set them before the policy was known

    def set_default_headers(self) -> None:
        """CORS headers: public reads for any page; anything else for allowed pages only."""
        access = getattr(self, "access", None)
        if access is None:
            return
        method = self.request.method
        if method == "OPTIONS":  # a preflight names the method to come
            method = self.request.headers.get("Access-Control-Request-Method", "GET")
        origin = self.request.headers.get("Origin")
        if self.public_reads and method in ("GET", "HEAD"):
            self.set_header("Access-Control-Allow-Origin", "*")
        elif origin and access.origin_allowed(origin, self.request.host, self.request.protocol):
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Vary", "Origin")
        else:
            return
        self.set_header("Access-Control-Allow-Headers", "Content-Type, Authorization")
        self.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")

    def options(self, *args: Any) -> None:
        """Answer a CORS preflight request (its headers say what is allowed)."""
        self.set_status(204)
        self.finish()

    def write_json(self, value: Any, status: int = 200) -> None:
        """Finish the request with ``value`` as JSON and HTTP ``status``."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(value))

    async def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object (a large one parsed off the event loop)."""
        limit = settings.MAX_BODY.get()
        if self._received > limit:
            raise self._too_large(limit)
        raw = b"".join(self._body)
        if len(raw) <= INLINE_BODY_BYTES:
            return parse_json_object(raw)
        return await self.off_loop(parse_json_object, raw)

    async def layer(self, layer_id: str) -> Layer:
        """The registered layer ``layer_id``; NotFoundError (404) when there is none (asked
        of the layer store on the I/O pool: another process may have registered or deleted
        it)."""
        return await self.off_loop(self.service.layers.get, layer_id)

    def base_url(self) -> str:
        """The server's base URL as this request reached it (scheme and host)."""
        return f"{self.request.protocol}://{self.request.host}"

    def check_token(self) -> None:
        """Writes need the server token when it listens beyond this machine."""
        self.access.check_token(
            self.request.headers.get("Authorization", ""), self.get_argument("token", "")
        )

    def check_private(self) -> None:
        """A request that changes state or reads private records: the right Host and token."""
        self.access.check_host(self.request.host)
        self.check_token()

    def check_write(self) -> None:
        """A request that changes state: not from another site's page, with a JSON body."""
        request = self.request
        self.access.check_host(request.host)
        self.access.check_origin(request.headers.get("Origin"), request.host, request.protocol)
        has_body = bool(self._body_size()) or "chunked" in request.headers.get(
            "Transfer-Encoding", ""
        )
        self.access.check_json(request.headers.get("Content-Type"), has_body)
        self.check_token()

    def display_options(self, layer: Layer) -> display.DisplayOptions:
        """The look the query asks for, on top of the layer's; 400 naming a bad option."""
        return display.DisplayOptions.from_query(self.request.arguments, layer.display)

    def record_failure(
        self,
        layer: Layer,
        session_id: str | None,
        exc: BaseException,
        tile: tuple[int, int, int] | None = None,
    ) -> None:
        """Note a failed computation in the server log and in the layer's log book.

        A busy server (503, 504) is no fault of the layer and is not recorded.
        """
        status = status_of(exc).http
        if status in (503, 504):
            return
        message = describe(exc)
        level = logging.WARNING if status >= 500 else logging.INFO
        logger.log(level, "layer %s %s failed: %s", layer.id, tile or "value", message)
        self.service.logbook.add(layer.id, session_id, logging.ERROR, message, tile)

    def layer_urls(self, layer: Layer) -> dict[str, str]:
        """The layer's tile URL template, TileJSON and other URLs, for JSON answers."""
        base = f"{self.base_url()}/layers/{layer.id}"
        return {
            "url_template": f"{base}/{{z}}/{{x}}/{{y}}.png",
            "tilejson_url": f"{base}/tilejson.json",
            "colorbar_url": f"{base}/colorbar.png",
            "errors_url": f"{base}/errors",
            "value_url": f"{base}/value",
        }

    def io_queue(self) -> WorkQueue:
        """The pool blocking I/O runs on."""
        return self.service.io

    def wait_limit(self) -> float:
        """Seconds a request waits for work it handed off before a 504."""
        return self.service.tile_timeout

    async def run(
        self,
        key: Hashable,
        fn: Any,
        *args: Any,
        always: bool = False,
        queue: WorkQueue | None = None,
    ) -> Any:
        """Run ``fn(*args)`` on the work queue (joining identical work) and await it.

        If the client disconnects first, the work is dropped unless others wait for it.
        ``queue`` is another pool to use (default: the computations' queue).
        """
        queue = queue if queue is not None else self.service.queue
        future = queue.submit(key, fn, *args, always=always)
        waiting = (queue, key, future)
        self._waiting.append(waiting)
        limit = self.wait_limit()
        try:
            # shield: a timeout answers this request but leaves the shared work running.
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), limit)
        except asyncio.TimeoutError:
            what = "computing" if queue is self.service.queue else "storage or catalog access"
            raise JobTimeoutError(
                f"{what} took longer than {limit:g} s; it goes on, and a retry may find it done"
            ) from None
        finally:
            self._waiting.remove(waiting)

    async def off_loop(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` on the I/O pool: SQLite, files, catalogs and large bodies."""
        return await self.run(object(), fn, *args, queue=self.io_queue())

    def prepare(self) -> None:
        """Start each request with no work waited on; check those that change state."""
        self._waiting: list[tuple[WorkQueue, Hashable, Future]] = []
        self._body: list[bytes] = []
        self._received = 0
        # A body a little over the limit is read and dropped, so its client reads the 413;
        # one announcing far more is refused at once.
        hard_limit = 2 * settings.MAX_BODY.get() + 2**20
        if self._body_size() > hard_limit:
            raise self._too_large(settings.MAX_BODY.get())
        self.request.connection.set_max_body_size(hard_limit)
        if self.request.method in ("POST", "PUT", "PATCH", "DELETE"):
            self.check_write()

    def _body_size(self) -> int:
        """The Content-Length the request announces (0 when none or unreadable)."""
        text = self.request.headers.get("Content-Length", "0")
        return int(text) if text.isdigit() else 0

    @staticmethod
    def _too_large(limit: int) -> ResourceLimitError:
        return ResourceLimitError(
            f"the request body is larger than {limit / 2**20:g} MB (TILES_MAX_BODY_MB)"
        )

    def data_received(self, chunk: bytes) -> None:
        """Keep a piece of the body, as long as the body is within the limit."""
        self._received += len(chunk)
        if self._received <= settings.MAX_BODY.get():
            self._body.append(chunk)
        else:
            self._body.clear()  # refused in json_body once the body is all read

    def on_connection_close(self) -> None:
        """Release the work this request waited on when its client goes away."""
        for queue, key, future in list(self._waiting):
            queue.release(key, future)


class HealthHandler(BaseHandler):
    """``GET /health``: liveness, cache, queue and backend figures."""

    def get(self) -> None:
        """Answer with the service's status and figures."""
        self.write_json({"status": "ok", **self.service.stats()})


class LayersHandler(BaseHandler):
    """``GET /layers``: the registered layers; ``POST /layers``: register one."""

    async def get(self) -> None:
        """List the registered layers with their URLs (the store is read off the loop)."""
        layers = [
            {
                "id": layer.id,
                "name": layer.name,
                **layer.display.to_json(),
                "parameters": layer.parameters,
                "created": layer.created,
                **self.layer_urls(layer),
            }
            for layer in await self.off_loop(self.service.layers.list)
        ]
        self.write_json({"layers": layers})

    async def post(self) -> None:
        """Register the layer in the JSON body (graft, name, display options, parameters)."""
        body = await self.json_body()
        allowed = {"graft", "name", "log_level", "parameters"} | display.QUERY_KEYS
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ParameterError(f"unknown field(s) {', '.join(unknown)}")
        if "graft" not in body:
            raise ParameterError("missing field 'graft'")
        # Checking a large graft and writing the store both happen off the event loop.
        layer, known = await self.off_loop(self._register, body)
        self.write_json(
            {"id": layer.id, "name": layer.name, **self.layer_urls(layer)},
            status=200 if known else 201,
        )

    def _register(self, body: dict[str, Any]) -> tuple[Layer, bool]:
        layer = make_layer(
            body["graft"],
            name=body.get("name"),
            display=display.DisplayOptions.from_json(body),
            log_level=body.get("log_level"),
            parameters=body.get("parameters"),
        )
        known = layer.id in {x.id for x in self.service.layers.list()}
        return self.service.layers.add(layer), known


class LayerHandler(BaseHandler):
    """``GET /layers/{id}``: one layer; ``DELETE /layers/{id}``: forget it."""

    async def get(self, layer_id: str) -> None:
        """Answer with the layer's record and URLs."""
        layer = await self.layer(layer_id)
        self.write_json({**layer.to_json(), **self.layer_urls(layer)})

    async def delete(self, layer_id: str) -> None:
        """Delete the layer (needs the token when one is required)."""
        await self.layer(layer_id)
        await self.off_loop(self.service.layers.delete, layer_id)
        self.set_status(204)
        self.finish()


def parse_tile_coords(z: str, x: str, y: str) -> XYZTile:
    """Validate z/x/y path parts; ParameterError (400) names the bad one."""
    values = {}
    for name, text in (("z", z), ("x", x), ("y", y)):
        if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 12):
            raise ParameterError(f"tile {name}={text[:40]!r} is not an integer")
        values[name] = int(text)
    if not 0 <= values["z"] <= 30:
        raise ParameterError(f"tile z={values['z']} outside 0..30")
    return XYZTile(values["x"], values["y"], values["z"])


class TileHandler(BaseHandler):
    """``GET /layers/{id}/{z}/{x}/{y}.png``: one PNG tile."""

    public_errors = True

    async def get(self, layer_id: str, z: str, x: str, y: str) -> None:
        """Compute (or take from the caches) and send the tile the URL names."""
        tile = parse_tile_coords(z, x, y)
        layer, version = await self.off_loop(self.service.layer_for_tiles, layer_id)
        q = parse_tile_query(self.request.arguments, layer)
        fixed = caching.is_fixed(layer, q)
        if fixed and self._not_modified(caching.request_etag(layer, q, tile), fixed):
            return
        service = self.service
        ckey = service.compute_key(layer, version, q, tile)
        pkey = service.png_key(ckey, q)
        png = service.pngs.get(pkey)
        if png is None:
            try:
                png = await self._png(layer, q, tile, ckey, pkey)
            except asyncio.CancelledError:
                return  # the client went away and nobody else wanted this tile
            except Exception as exc:
                self.record_failure(layer, q.session_id, exc, (tile.z, tile.x, tile.y))
                raise
        if fixed or not self._not_modified(caching.content_etag(png), fixed):
            self.set_header("Content-Type", "image/png")
            self.finish(png)

    def _not_modified(self, etag: str, fixed: bool) -> bool:
        """Set the caching headers; answer 304 when the client holds ``etag``."""
        self.set_header("ETag", etag)
        self.set_header("Cache-Control", caching.cache_control(fixed))
        if not self.check_etag_header():
            return False
        self.set_status(304)
        self.finish()
        return True

    async def _png(self, layer: Layer, q: Any, tile: XYZTile, ckey: tuple, pkey: tuple) -> bytes:
        service = self.service
        data = service.arrays.get(ckey)
        if data is None:
            # The catalog look-up (maybe a remote one) runs on the I/O pool.
            empty = await self.run(
                ("no data", layer.graft_hash, tile.z, tile.x, tile.y),
                service.tile_has_no_data,
                layer,
                tile,
                queue=service.io,
            )
            if empty:
                return service.transparent_png()  # outside the data: no checkerboard
            if service.shared is not None:  # rendered by another process?
                png = await self.run(
                    ("shared png", pkey), service.shared_png, pkey, queue=service.io
                )
                if png is not None:
                    return png
            data = await self.run(("compute", ckey), service.compute_job, layer, q, tile, ckey)
        # Rendering is admitted even when the queue is full: the pixels are already paid for.
        return await self.run(
            ("render", pkey), service.render_job, layer, q, tile, data, pkey, always=True
        )


class TileJSONHandler(BaseHandler):
    """``GET /layers/{id}/tilejson.json``: the layer's TileJSON 3.0.0, with bounds and legend."""

    public_errors = True

    async def get(self, layer_id: str) -> None:
        """Answer with the layer's TileJSON for the query's display options and parameters."""
        layer = await self.layer(layer_id)
        # The template's query may leave parameters to the map, but what it gives must be usable.
        parse_tile_query(self.request.arguments, layer, complete=False)
        display = self.display_options(layer)
        urls = self.layer_urls(layer)
        template = urls["url_template"]
        if self.request.query:
            template += "?" + self.request.query
        facts = await self._band_facts(layer)
        legend = self.service.legend(display, facts, None)
        if display.colormap is not None:
            query = [("colormap", display.colormap), ("scales", json.dumps(legend["scales"]))]
            if facts is not None and len(facts.bands) == 1:
                query.append(("label", facts.bands[0]))
            colorbar = urls["colorbar_url"] + "?" + urllib.parse.urlencode(query)
            legend = self.service.legend(display, facts, colorbar)
        self.write_json(await self.off_loop(self.service.tilejson, layer, template, legend))

    async def _band_facts(self, layer: Layer) -> BandFacts | None:
        """Names and ranges of the bands tiles of this query show; None when not found."""
        try:
            q = parse_tile_query(self.request.arguments, layer)
        except ParameterError:
            return None  # e.g. a parameter with no value: tiles need one too
        key = ("bands", layer.graft_hash, q.arguments_key, q.display.reduction, q.bands)
        key += (q.image_date,)
        cached = self.service.band_facts.get(key)
        if cached is not None:
            return cached
        try:
            return await self.run(key, self.service.band_facts_job, layer, q, key)
        except Exception as exc:  # the legend goes without names; tiles will show the error
            logger.info("bands of layer %s unknown: %s", layer.id, describe(exc))
            return None


class LayerColorbarHandler(BaseHandler):
    """``GET /layers/{id}/colorbar.png``: the colorbar of the layer's colormap and scales."""

    public_errors = True

    async def get(self, layer_id: str) -> None:
        """Draw and send the layer's colorbar."""
        layer = await self.layer(layer_id)
        display = self.display_options(layer)
        if display.colormap is None:
            raise NotFoundError(f"layer {layer.id} draws no colormap here: it has no colorbar")
        label = self.get_query_argument("label", None)
        if label is not None and len(label) > 100:
            raise ParameterError("query parameter 'label' is longer than 100 characters")
        png = await self.run(
            ("legend", display, label), self.service.legend_png, display, label, always=True
        )
        self.set_header("Content-Type", "image/png")
        # The image follows from the URL alone; tornado adds an ETag and answers 304.
        self.set_header("Cache-Control", caching.IMMUTABLE)
        self.finish(png)


class ValueHandler(BaseHandler):
    """``GET /layers/{id}/value?x=&y=``: band values under a point (EPSG:3857 metres)."""

    public_errors = True

    async def get(self, layer_id: str) -> None:
        """Answer with the layer's band values at the query's point."""
        layer = await self.layer(layer_id)
        coords = {}
        for name in ("x", "y"):
            text = self.get_query_argument(name, None)
            if text is None:
                raise ParameterError(f"missing query parameter {name!r} (EPSG:3857 metres)")
            try:
                coords[name] = float(text)
            except ValueError:
                raise ParameterError(
                    f"query parameter {name}={text[:40]!r} is not a number"
                ) from None
            if not math.isfinite(coords[name]) or abs(coords[name]) > 20037508.35:
                raise ParameterError(f"query parameter {name}={text[:40]!r} outside web-mercator")
        q = parse_tile_query(self.request.arguments, layer, frozenset({"x", "y"}))
        key = (
            "value",
            layer.graft_hash,
            q.arguments_key,
            q.display.reduction,
            q.bands,
            q.image_date,
            *coords.values(),
        )
        try:
            values = await self.run(key, self.service.value_job, layer, q, coords["x"], coords["y"])
        except asyncio.CancelledError:
            return
        except Exception as exc:
            self.record_failure(layer, q.session_id, exc)
            raise
        self.write_json({"x": coords["x"], "y": coords["y"], "crs": "EPSG:3857", "values": values})


class ErrorsHandler(BaseHandler):
    """``GET /layers/{id}/errors``: the layer's recent computation errors and log records."""

    public_errors = True

    async def get(self, layer_id: str) -> None:
        """Answer with the records at or above the query's ``level``."""
        layer = await self.layer(layer_id)
        level_text = self.get_query_argument("level", None)
        level = layer.log_level
        if level_text is not None:
            try:
                level_value: Any = int(level_text)
            except ValueError:
                level_value = level_text
            level = normalize_log_level(level_value)
        records = self.service.logbook.records(
            layer.id,
            session_id=self.get_query_argument("session_id", None),
            level=level,
            since=self.get_query_argument("since", None),
        )
        self.set_header("Cache-Control", "no-store")
        self.write_json({"layer": layer.id, "records": records})


class ColormapsHandler(BaseHandler):
    """``GET /colormaps``: the colormap names the server accepts."""

    def get(self) -> None:
        """Answer with the colormap names."""
        self.write_json({"colormaps": display.available_colormaps()})


class ColorbarHandler(BaseHandler):
    """``GET /colormaps/{name}.png``: a colorbar strip of one colormap."""

    def get(self, name: str) -> None:
        """Draw and send the colormap's strip."""
        try:
            cmap = display.normalize_colormap(name)
        except ParameterError as exc:
            raise NotFoundError(str(exc)) from None
        if cmap is None:
            raise NotFoundError("no colormap named ''")
        png = self.service.colorbar_png(cmap)
        self.set_header("Content-Type", "image/png")
        self.set_header("Cache-Control", "public, max-age=86400")
        self.finish(png)


def routes(service: TileService, access: AccessPolicy, static_dir: Path) -> list:
    """The URL table of the tile server."""
    from tiles.server.jobs_handlers import jobs_routes
    from tiles.server.viewer_handlers import viewer_routes

    kw = {"service": service, "access": access}
    layer = r"/layers/([0-9a-zA-Z_-]+)"
    return [
        (r"/health", HealthHandler, kw),
        (r"/layers/?", LayersHandler, kw),
        (layer + r"/?", LayerHandler, kw),
        (layer + r"/([^/]+)/([^/]+)/([^/]+)\.png", TileHandler, kw),
        (layer + r"/tilejson\.json", TileJSONHandler, kw),
        (layer + r"/colorbar\.png", LayerColorbarHandler, kw),
        (layer + r"/value", ValueHandler, kw),
        (layer + r"/errors", ErrorsHandler, kw),
        (r"/colormaps/?", ColormapsHandler, kw),
        (r"/colormaps/([^/]+)\.png", ColorbarHandler, kw),
        *viewer_routes(kw),
        *jobs_routes(access),
        (r"/static/(.*)", StaticHandler, {"path": str(static_dir)}),
        (
            r"/()",
            StaticHandler,
            {"path": str(static_dir), "default_filename": "index.html"},
        ),
    ]
