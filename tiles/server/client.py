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
import urllib.parse
from typing import Any

from tiles import settings
from tiles.compute.http import ApiClient
from tiles.display import DisplayOptions
from tiles.errors import ParameterError, ProxyTypeError
from tiles.graft import canonicalize


def _client(server: str | None = None) -> ApiClient:
    """The tile server layers are registered on (see :func:`server_url`)."""
    from tiles.compute.remote import current

    connection = current()
    if server:
        return ApiClient(server)
    if connection is not None:
        return connection
    url = settings.SERVER_URL.get()
    if url:
        return ApiClient(url)
    from tiles.server.app import ensure_server

    return ApiClient(ensure_server().base_url)


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
    return _client(server).url


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
        path = f"/layers/{self.id}/errors"
        if query:
            path += "?" + urllib.parse.urlencode(query)
        return ApiClient(self.base_url).json("GET", path)["records"]

    def tilejson(self) -> dict[str, Any]:
        """The layer's TileJSON as the server gives it (bounds, zooms, legend, ...).

        Returns
        -------
        dict
        """
        return ApiClient(self.base_url).json("GET", f"/layers/{self.id}/tilejson.json")


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
    client = _client(server)
    body = {
        "graft": obj.graft,
        "name": name,
        **display.to_json(),
        "log_level": int(log_level),
        "parameters": parameters,
    }
    answer = client.json("POST", "/layers", body)
    return TileLayer(
        id=answer["id"],
        name=name or "",
        url_template=answer["url_template"],
        tilejson_url=answer["tilejson_url"],
        base_url=client.url,
        parameters=parameters,
        display=display,
    )
