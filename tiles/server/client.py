"""Register proxy objects as map layers on a tile server, from Python.

>>> import tiles as wf                                                # doctest: +SKIP
>>> layer = wf.Image.load("sample:s2:...").pick_bands("red").tile_layer(
...     scales=[0, 0.3], colormap="viridis")                          # doctest: +SKIP
>>> layer.url_template                                                # doctest: +SKIP
'http://127.0.0.1:53211/layers/3f2a.../{z}/{x}/{y}.png'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from tiles import settings
from tiles.display import DisplayOptions
from tiles.errors import ParameterError, ProxyTypeError, WorkflowsError
from tiles.graft import canonicalize

#: Seconds to wait for the tile server to answer a registration or a query.
HTTP_TIMEOUT = 30


def _server(server: str | None = None) -> tuple[str, str | None]:
    """The tile server layers are registered on, and the token it takes (see server_url)."""
    from tiles.compute.remote import current

    connection = current()
    if server:
        url, token = server, None
    elif connection is not None:
        url, token = connection.url, connection.token
    else:
        url, token = settings.SERVER_URL.get(), None
    if url:
        return url.rstrip("/"), token or settings.TOKEN.get()
    from tiles.server.app import ensure_server

    return ensure_server().base_url, settings.TOKEN.get()


def server_url(server: str | None = None) -> str:
    """Base URL of the tile server that layers are registered on.

    Parameters
    ----------
    server : str, optional
        A server's base URL; it wins over everything else.

    Returns
    -------
    str
        ``server``, else the server given to ``wf.connect``, else ``$TILES_SERVER_URL``,
        else a server started in this process on a free loopback port.
    """
    return _server(server)[0]


def request_json(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    """One JSON request to a tile server; its answer, or its error as an exception.

    Parameters
    ----------
    method, url : str
        The HTTP method and the full URL.
    body : Any, optional
        Sent as JSON.
    token : str, optional
        Sent as a bearer token (default ``$TILES_TOKEN``).

    Returns
    -------
    Any
        The decoded JSON answer.

    Raises
    ------
    ParameterError
        For a 400 answer, with the server's message.
    WorkflowsError
        For any other error status.
    OSError
        When the server cannot be reached.
    """
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    token = token or settings.TOKEN.get()
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", exc.reason)
        except (ValueError, AttributeError):
            message = exc.reason
        if exc.code == 400:
            raise ParameterError(message) from None
        raise WorkflowsError(f"tile server answered {exc.code}: {message}") from None


def encode_parameter(name: str, value: Any) -> Any:
    """A parameter value as the JSON the tile URL carries: a literal, or a graft.

    Proxy objects become their graft (they must not depend on parameters themselves);
    dates become ISO strings; other values must already be JSON-serialisable.
    """
    graft = getattr(value, "graft", None)
    if isinstance(graft, dict):
        if getattr(value, "params", ()):
            raise ParameterError(
                f"the value for parameter {name!r} depends on parameters itself; "
                "parameter values cannot depend on parameters"
            )
        # Canonical keys: the same value always gives the same URL.
        return canonicalize(graft)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        value = list(value)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"value {value!r} for parameter {name!r} cannot be sent in a tile URL: {exc}"
        ) from None
    return value


@dataclasses.dataclass(frozen=True)
class TileLayer:
    """A layer registered on a tile server: its id and the URLs to fetch it."""

    id: str
    name: str
    url_template: str
    tilejson_url: str
    base_url: str
    #: The layer's parameters and their default values (JSON), None where unset.
    parameters: dict[str, Any]
    #: The layer's registered look: what its tiles show when a URL does not say otherwise.
    display: DisplayOptions = DisplayOptions()

    @property
    def scales(self) -> list | None:
        """The registered scales as ``[[min, max], ...]``, or None."""
        return self.display.json_scales

    @property
    def colormap(self) -> str | None:
        """The registered colormap name, or None."""
        return self.display.colormap

    @property
    def checkerboard(self) -> bool:
        """Whether masked pixels show a checkerboard by default."""
        return self.display.checkerboard

    @property
    def reduction(self) -> str:
        """How a collection becomes one image by default."""
        return self.display.reduction

    def url(
        self,
        session_id: str | None = None,
        colormap: str | None = None,
        scales: Any = None,
        reduction: str | None = None,
        checkerboard: bool | None = None,
        bands: Any = None,
        **parameters: Any,
    ) -> str:
        """The tile URL template with a query in the original client's vocabulary.

        Options left as None use the layer's registered values. Parameter values are
        JSON-encoded (literals, or grafts for proxy objects).
        """
        unknown = sorted(set(parameters) - set(self.parameters))
        if unknown:
            raise ParameterError(
                f"unexpected parameter(s) {', '.join(unknown)}; this layer takes "
                f"{', '.join(self.parameters) or 'none'}"
            )
        given = {
            "scales": scales,
            "colormap": colormap,
            "reduction": reduction or None,
            "checkerboard": checkerboard,
        }
        look = self.display.replace(**{k: v for k, v in given.items() if v is not None})
        query: list[tuple[str, str]] = []
        if session_id is not None:
            query.append(("session_id", session_id))
        query.extend(look.to_query())
        if bands:
            names = bands.split() if isinstance(bands, str) else list(bands)
            query.extend(("band", b) for b in names)
        for name, value in parameters.items():
            query.append((name, json.dumps(encode_parameter(name, value))))
        return self.url_template + "?" + urllib.parse.urlencode(query)

    def errors(self, session_id: str | None = None, level: int | None = None) -> list[dict]:
        """Recent computation errors and log records of this layer (for ``session_id``)."""
        query = {}
        if session_id is not None:
            query["session_id"] = session_id
        if level is not None:
            query["level"] = str(int(level))
        url = f"{self.base_url}/layers/{self.id}/errors"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return request_json("GET", url)["records"]


def register_layer(
    obj: Any,
    name: str | None = None,
    scales: Any = None,
    colormap: str | None = None,
    checkerboard: bool = True,
    reduction: str = "mosaic",
    log_level: int = logging.DEBUG,
    server: str | None = None,
    **parameter_overrides: Any,
) -> TileLayer:
    """Register an Image or ImageCollection as a tile layer and return it.

    Options are validated here with the same rules the server applies: ``scales`` is
    up to 3 ``[min, max]`` pairs (or one bare pair), a ``colormap`` needs a single band,
    ``reduction`` is one of :data:`tiles.display.LAYER_REDUCTIONS`. ``parameter_overrides``
    give values for the object's parameters; parameters without a value must be
    given in each tile URL (see :meth:`TileLayer.url`).
    """
    kind = type(obj).__name__
    if kind not in ("Image", "ImageCollection") or not isinstance(
        getattr(obj, "graft", None), dict
    ):
        raise ProxyTypeError(f"register_layer needs an Image or ImageCollection, not {kind}")
    display = DisplayOptions(scales, colormap, reduction, checkerboard)
    names = [p._name for p in getattr(obj, "params", ())]
    unknown = sorted(set(parameter_overrides) - set(names))
    if unknown:
        raise ParameterError(
            f"unexpected parameter(s) {', '.join(unknown)}: this {kind} depends on "
            f"{', '.join(names) or 'no parameters'}"
        )
    parameters = {
        n: (
            encode_parameter(n, parameter_overrides[n])
            if parameter_overrides.get(n) is not None
            else None
        )
        for n in names
    }
    base, token = _server(server)
    body = {
        "graft": obj.graft,
        "name": name,
        **display.to_json(),
        "log_level": int(log_level),
        "parameters": parameters,
    }
    answer = request_json("POST", f"{base}/layers", body, token)
    return TileLayer(
        id=answer["id"],
        name=name or "",
        url_template=answer["url_template"],
        tilejson_url=answer["tilejson_url"],
        base_url=base,
        parameters=parameters,
        display=display,
    )
