"""Tornado request handlers: parse, look up, call the service, answer.

No numeric code lives here. Errors map to status codes in one place
(:meth:`BaseHandler.write_error`): unknown layers 404, bad query values 400 naming
the key, a full work queue 503 with Retry-After, computation errors 500 with a
short message that is also recorded for ``GET /layers/{id}/errors``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import urllib.parse
from collections.abc import Hashable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import tornado.web

from tiles import display
from tiles.errors import GeoContextError, NotFoundError, ParameterError, ResourceLimitError
from tiles.geocontext import XYZTile
from tiles.server import caching
from tiles.server.layers import Layer, make_layer
from tiles.server.query import ParameterValueError, parse_tile_query
from tiles.server.service import TileService
from tiles.server.workqueue import QueueFull

logger = logging.getLogger(__name__)

#: Longest error message returned in a 500 body (the full text is in the server log).
MAX_ERROR_CHARS = 500


class HTTPError(tornado.web.HTTPError):
    """An HTTP error whose message is returned to the client as JSON."""

    def __init__(self, status: int, message: str, **headers: str) -> None:
        super().__init__(status, log_message=message.replace("%", "%%"))
        self.message = message
        self.headers = headers


def short(exc: BaseException) -> str:
    """A one-line message for an exception, capped at MAX_ERROR_CHARS."""
    text = f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


class BaseHandler(tornado.web.RequestHandler):
    """JSON errors, CORS for reads, and access to the service."""

    def initialize(self, service: TileService, token: str | None, require_token: bool) -> None:
        self.service = service
        self.token = token
        self.require_token = require_token

    def set_default_headers(self) -> None:
        # Tiles, TileJSON and layer listings are public reads; any page may show them.
        self.set_header("Access-Control-Allow-Origin", "*")
        self.set_header("Access-Control-Allow-Headers", "Content-Type, Authorization")
        self.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")

    def options(self, *args: Any) -> None:
        self.set_status(204)
        self.finish()

    def write_json(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(value))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "message", None) or self._reason
        for name, value in getattr(exc, "headers", {}).items():
            self.set_header(name, value)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"error": message, "status": status_code}))

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object; 400 naming the problem otherwise."""
        try:
            body = json.loads(self.request.body or b"{}")
        except json.JSONDecodeError as exc:
            raise HTTPError(400, f"request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise HTTPError(400, "request body must be a JSON object")
        return body

    def layer(self, layer_id: str) -> Layer:
        try:
            return self.service.layers.get(layer_id)
        except NotFoundError as exc:
            raise HTTPError(404, str(exc)) from None

    def base_url(self) -> str:
        return f"{self.request.protocol}://{self.request.host}"

    def check_token(self) -> None:
        """Writes need the server token when it listens beyond this machine."""
        if not self.require_token:
            return
        header = self.request.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else self.get_argument("token", "")
        if not (self.token and given and hmac.compare_digest(given, self.token)):
            raise HTTPError(401, "this server needs a token: send 'Authorization: Bearer <token>'")

    def display_options(self, layer: Layer) -> display.DisplayOptions:
        """The look the query asks for, on top of the layer's; 400 naming a bad option."""
        try:
            return display.DisplayOptions.from_query(self.request.arguments, layer.display)
        except ParameterError as exc:
            raise HTTPError(400, str(exc)) from None

    def layer_urls(self, layer: Layer) -> dict[str, str]:
        base = f"{self.base_url()}/layers/{layer.id}"
        return {
            "url_template": f"{base}/{{z}}/{{x}}/{{y}}.png",
            "tilejson_url": f"{base}/tilejson.json",
            "colorbar_url": f"{base}/colorbar.png",
            "errors_url": f"{base}/errors",
            "value_url": f"{base}/value",
        }

    async def run(self, key: Hashable, fn: Any, *args: Any, always: bool = False) -> Any:
        """Run ``fn(*args)`` on the work queue (joining identical work) and await it.

        If the client disconnects first, the work is dropped unless others wait for it.
        """
        try:
            future = self.service.queue.submit(key, fn, *args, always=always)
        except QueueFull as exc:
            raise HTTPError(
                503, f"server busy: {exc}; retry shortly", **{"Retry-After": "1"}
            ) from None
        self._waiting.append((key, future))
        try:
            # shield: a timeout answers this request but leaves the shared work running.
            return await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(future)), self.service.tile_timeout
            )
        except asyncio.TimeoutError:
            raise HTTPError(
                504,
                f"computing took longer than {self.service.tile_timeout:g} s; it goes on, "
                "and a retry may find the result ready",
                **{"Retry-After": "5"},
            ) from None
        finally:
            self._waiting.remove((key, future))

    def prepare(self) -> None:
        self._waiting: list[tuple[Hashable, Future]] = []

    def on_connection_close(self) -> None:
        for key, future in list(self._waiting):
            self.service.queue.release(key, future)


class HealthHandler(BaseHandler):
    def get(self) -> None:
        self.write_json({"status": "ok", **self.service.stats()})


class LayersHandler(BaseHandler):
    def get(self) -> None:
        layers = [
            {
                "id": layer.id,
                "name": layer.name,
                **layer.display.to_json(),
                "parameters": layer.parameters,
                "created": layer.created,
                **self.layer_urls(layer),
            }
            for layer in self.service.layers.list()
        ]
        self.write_json({"layers": layers})

    def post(self) -> None:
        self.check_token()
        body = self.json_body()
        allowed = {"graft", "name", "log_level", "parameters"} | display.QUERY_KEYS
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise HTTPError(400, f"unknown field(s) {', '.join(unknown)}")
        if "graft" not in body:
            raise HTTPError(400, "missing field 'graft'")
        try:
            layer = make_layer(
                body["graft"],
                name=body.get("name"),
                display=display.DisplayOptions.from_json(body),
                log_level=body.get("log_level"),
                parameters=body.get("parameters"),
            )
        except ParameterError as exc:
            raise HTTPError(400, str(exc)) from None
        known = layer.id in {x.id for x in self.service.layers.list()}
        layer = self.service.layers.add(layer)
        self.write_json(
            {"id": layer.id, "name": layer.name, **self.layer_urls(layer)},
            status=200 if known else 201,
        )


class LayerHandler(BaseHandler):
    def get(self, layer_id: str) -> None:
        layer = self.layer(layer_id)
        self.write_json({**layer.to_json(), **self.layer_urls(layer)})

    def delete(self, layer_id: str) -> None:
        self.check_token()
        self.layer(layer_id)
        self.service.layers.delete(layer_id)
        self.set_status(204)
        self.finish()


def parse_tile_coords(z: str, x: str, y: str) -> XYZTile:
    """Validate z/x/y path parts; HTTP 400 names the bad one."""
    values = {}
    for name, text in (("z", z), ("x", x), ("y", y)):
        try:
            values[name] = int(text)
        except ValueError:
            raise HTTPError(400, f"tile {name}={text!r} is not an integer") from None
    if not 0 <= values["z"] <= 30:
        raise HTTPError(400, f"tile z={values['z']} outside 0..30")
    try:
        return XYZTile(values["x"], values["y"], values["z"])
    except GeoContextError as exc:
        raise HTTPError(400, str(exc)) from None


class TileHandler(BaseHandler):
    async def get(self, layer_id: str, z: str, x: str, y: str) -> None:
        tile = parse_tile_coords(z, x, y)
        layer = self.layer(layer_id)
        try:
            q = parse_tile_query(self.request.arguments, layer)
        except ParameterError as exc:
            raise HTTPError(400, str(exc)) from None
        fixed = caching.is_fixed(layer, q)
        if fixed and self._not_modified(caching.request_etag(layer, q, tile), fixed):
            return
        service = self.service
        ckey = service.compute_key(layer, q, tile)
        pkey = service.png_key(ckey, q)
        png = service.pngs.get(pkey)
        if png is None:
            try:
                png = await self._png(layer, q, tile, ckey, pkey)
            except asyncio.CancelledError:
                return  # the client went away and nobody else wanted this tile
            except HTTPError:
                raise
            except Exception as exc:
                message = short(exc)
                logger.warning("tile %s/%s/%s of layer %s failed: %s", z, x, y, layer.id, message)
                service.logbook.add(
                    layer.id, q.session_id, logging.ERROR, message, (tile.z, tile.x, tile.y)
                )
                # A bad parameter value or asking for more than the server allows is the
                # request's fault, not the server's.
                if isinstance(exc, ParameterValueError):
                    status = 400
                elif isinstance(exc, ResourceLimitError):
                    status = 413
                else:
                    status = 500
                raise HTTPError(status, message) from None
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
            if service.tile_has_no_data(layer, tile):
                return service.transparent_png()  # outside the data: no checkerboard
            data = await self.run(("compute", ckey), service.compute_job, layer, q, tile, ckey)
        # Rendering is admitted even when the queue is full: the pixels are already paid for.
        return await self.run(
            ("render", pkey), service.render_job, layer, q, tile, data, pkey, always=True
        )


class TileJSONHandler(BaseHandler):
    async def get(self, layer_id: str) -> None:
        layer = self.layer(layer_id)
        display = self.display_options(layer)
        urls = self.layer_urls(layer)
        template = urls["url_template"]
        if self.request.query:
            template += "?" + self.request.query
        bands = await self._band_names(layer)
        colorbar = None
        if display.colormap is not None:
            query = [("colormap", display.colormap), ("scales", json.dumps(display.json_scales))]
            if bands and len(bands) == 1:
                query.append(("label", bands[0]))
            colorbar = urls["colorbar_url"] + "?" + urllib.parse.urlencode(query)
        legend = self.service.legend(display, bands, colorbar)
        self.write_json(self.service.tilejson(layer, template, legend))

    async def _band_names(self, layer: Layer) -> list[str] | None:
        """The band names tiles of this query show; None when they cannot be found."""
        try:
            q = parse_tile_query(self.request.arguments, layer)
        except ParameterError:
            return None  # e.g. a parameter with no value: tiles need one too
        key = ("bands", layer.graft_hash, q.arguments_key, q.display.reduction, q.bands)
        cached = self.service.band_names.get(key)
        if cached is not None:
            return cached
        try:
            return await self.run(key, self.service.band_names_job, layer, q, key)
        except Exception as exc:  # the legend goes without names; tiles will show the error
            logger.info("band names of layer %s unknown: %s", layer.id, short(exc))
            return None


class LayerColorbarHandler(BaseHandler):
    async def get(self, layer_id: str) -> None:
        layer = self.layer(layer_id)
        display = self.display_options(layer)
        if display.colormap is None:
            raise HTTPError(404, f"layer {layer.id} draws no colormap here: it has no colorbar")
        label = self.get_query_argument("label", None)
        if label is not None and len(label) > 100:
            raise HTTPError(400, "query parameter 'label' is longer than 100 characters")
        png = await self.run(
            ("legend", display, label), self.service.legend_png, display, label, always=True
        )
        self.set_header("Content-Type", "image/png")
        # The image follows from the URL alone; tornado adds an ETag and answers 304.
        self.set_header("Cache-Control", caching.IMMUTABLE)
        self.finish(png)


class ValueHandler(BaseHandler):
    async def get(self, layer_id: str) -> None:
        layer = self.layer(layer_id)
        coords = {}
        for name in ("x", "y"):
            text = self.get_query_argument(name, None)
            if text is None:
                raise HTTPError(400, f"missing query parameter {name!r} (EPSG:3857 metres)")
            try:
                coords[name] = float(text)
            except ValueError:
                raise HTTPError(400, f"query parameter {name}={text!r} is not a number") from None
            if not math.isfinite(coords[name]) or abs(coords[name]) > 20037508.35:
                raise HTTPError(400, f"query parameter {name}={text!r} outside web-mercator")
        try:
            q = parse_tile_query(self.request.arguments, layer, frozenset({"x", "y"}))
        except ParameterError as exc:
            raise HTTPError(400, str(exc)) from None
        key = (
            "value",
            layer.graft_hash,
            q.arguments_key,
            q.display.reduction,
            q.bands,
            *coords.values(),
        )
        try:
            values = await self.run(key, self.service.value_job, layer, q, coords["x"], coords["y"])
        except asyncio.CancelledError:
            return
        except HTTPError:
            raise
        except Exception as exc:
            message = short(exc)
            self.service.logbook.add(layer.id, q.session_id, logging.ERROR, message)
            raise HTTPError(500, message) from None
        self.write_json({"x": coords["x"], "y": coords["y"], "crs": "EPSG:3857", "values": values})


class ErrorsHandler(BaseHandler):
    def get(self, layer_id: str) -> None:
        layer = self.layer(layer_id)
        level_text = self.get_query_argument("level", None)
        level = layer.log_level
        if level_text is not None:
            try:
                from tiles.server.layers import normalize_log_level

                level = normalize_log_level(int(level_text) if level_text.isdigit() else level_text)
            except ParameterError as exc:
                raise HTTPError(400, str(exc)) from None
        records = self.service.logbook.records(
            layer.id,
            session_id=self.get_query_argument("session_id", None),
            level=level,
            since=self.get_query_argument("since", None),
        )
        self.set_header("Cache-Control", "no-store")
        self.write_json({"layer": layer.id, "records": records})


class ColormapsHandler(BaseHandler):
    def get(self) -> None:
        self.write_json({"colormaps": display.available_colormaps()})


class ColorbarHandler(BaseHandler):
    def get(self, name: str) -> None:
        try:
            cmap = display.normalize_colormap(name)
        except ParameterError as exc:
            raise HTTPError(404, str(exc)) from None
        if cmap is None:
            raise HTTPError(404, "no colormap named ''")
        png = self.service.colorbar_png(cmap)
        self.set_header("Content-Type", "image/png")
        self.set_header("Cache-Control", "public, max-age=86400")
        self.finish(png)


def routes(service: TileService, token: str | None, require_token: bool, static_dir: Path) -> list:
    """The URL table of the tile server."""
    from tiles.server.jobs_handlers import jobs_routes

    kw = {"service": service, "token": token, "require_token": require_token}
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
        *jobs_routes(token, require_token),
        (r"/static/(.*)", tornado.web.StaticFileHandler, {"path": str(static_dir)}),
        (
            r"/()",
            tornado.web.StaticFileHandler,
            {"path": str(static_dir), "default_filename": "index.html"},
        ),
    ]
