"""The XYZ tile server (Tornado) and registering layers on it from Python.

- :func:`register_layer` registers an Image/ImageCollection and returns a :class:`TileLayer`
  with its URL template; the server starts on first use (:func:`ensure_server`).
- :func:`serve` runs the server in the foreground (``python -m tiles serve``).

Endpoints: ``POST/GET /layers``, ``GET /layers/{id}``, ``GET /layers/{id}/{z}/{x}/{y}.png``,
``GET /layers/{id}/tilejson.json`` (with a legend), ``GET /layers/{id}/colorbar.png``,
``GET /layers/{id}/value?x=&y=``,
``GET /layers/{id}/errors``, ``GET /colormaps``, ``GET /health`` and the viewer at ``/``.
"""

from __future__ import annotations

from tiles.server.app import (
    RunningServer,
    ServerInfo,
    StartError,
    ensure_server,
    serve,
    stop_server,
)
from tiles.server.client import TileLayer, register_layer

__all__ = [
    "RunningServer",
    "ServerInfo",
    "StartError",
    "TileLayer",
    "ensure_server",
    "serve",
    "register_layer",
    "stop_server",
]
