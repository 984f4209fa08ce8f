"""The gRPC endpoint the original Workflows client (``descarteslabs==1.12.1``) talks to.

It implements the original ``descarteslabs.workflows.XYZAPI`` service (``CreateXYZ``,
``GetXYZ``, ``ListXYZ``, ``DeleteXYZ``, ``GetXYZSessionLogs``) and the standard gRPC
health service, beside the HTTP tile server: every published XYZ is a tile-server
layer evaluating the stored graft through the ``XYZ.use`` builtin.

Start it with ``python -m tiles serve --grpc-port PORT`` or :func:`start`. Mint a
token for a server started with ``--token`` with ``python -m tiles.grpc token``.

The message and service definitions are in ``protos/*.proto``; the ``*_pb2*.py``
modules beside them are generated from the repository root with::

    python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. \\
        tiles/grpc/protos/*.proto

(then delete the empty ``*_pb2_grpc.py`` of the files that define no service).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tiles.grpc.server import GrpcServer

__all__ = ["GrpcServer", "start"]


def start(*args: Any, **kwargs: Any) -> GrpcServer:
    """:func:`tiles.grpc.server.start` (imported on first use: grpc is only needed here)."""
    from tiles.grpc.server import start as _start

    return _start(*args, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "GrpcServer":
        from tiles.grpc.server import GrpcServer

        return GrpcServer
    raise AttributeError(name)
