"""Run the gRPC endpoint (XYZAPI and health) beside a tile server, on its own thread.

The endpoint shares the tile server's :class:`~tiles.server.service.TileService`
(layers and log book), so it must run in the same process. It uses grpc's asyncio
server on a private event loop: every map layer of the original client keeps a log
stream open, and a thread per stream would soon exhaust a thread pool.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from tiles import settings
from tiles.grpc.auth import TokenCheck
from tiles.grpc.protos import xyz_pb2, xyz_pb2_grpc
from tiles.grpc.servicer import XYZService
from tiles.grpc.store import XYZStore, register_store, store_beside, unregister_store
from tiles.server.app import is_loopback
from tiles.server.service import TileService

logger = logging.getLogger(__name__)

#: Largest request accepted: grafts embedding geometries can exceed gRPC's 4 MiB default.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: The fully qualified name health checks use for the XYZAPI service.
XYZ_SERVICE_NAME = xyz_pb2.DESCRIPTOR.services_by_name["XYZAPI"].full_name


def _bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


class GrpcServer:
    """The XYZAPI + health gRPC endpoint of a tile service, running on a background thread.

    ``cert`` and ``key`` (PEM file paths) switch on TLS. Listening beyond loopback needs
    both TLS and a ``token``: the original client sends no credentials over plain text.
    """

    def __init__(
        self,
        service: TileService,
        tile_base_url: str,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        cert: str | os.PathLike | None = None,
        key: str | os.PathLike | None = None,
        store: XYZStore | None = None,
    ) -> None:
        token = token or settings.TOKEN.get()
        if (cert is None) != (key is None):
            raise ValueError("TLS needs both a certificate (--grpc-cert) and its key (--grpc-key)")
        self.tls = cert is not None
        if not is_loopback(host):
            if not token:
                raise ValueError(
                    f"gRPC on {host!r} is reachable from the network: give a token (--token "
                    "or $TILES_TOKEN) so only holders of tokens signed with it publish layers"
                )
            if not self.tls:
                raise ValueError(
                    f"gRPC on {host!r} needs TLS (--grpc-cert and --grpc-key): the original "
                    "client only sends its token over TLS"
                )
        credentials = None
        if self.tls:
            credentials = grpc.ssl_server_credentials(
                [(Path(key).read_bytes(), Path(cert).read_bytes())]  # type: ignore[arg-type]
            )
        self.store = store if store is not None else store_beside(service.layers.location)
        self._own_store = store is None
        register_store(self.store)
        self.xyz = XYZService(service, self.store, tile_base_url, TokenCheck(token))
        self.host = host
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: grpc.aio.Server | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._main, args=(port, credentials), name="tiles-grpc", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._close_store()
            raise RuntimeError(f"gRPC endpoint failed to start: {self._error}") from self._error

    def _main(self, port: int, credentials: grpc.ServerCredentials | None) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopped = asyncio.Event()
            server = grpc.aio.server(
                options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]
            )
            xyz_pb2_grpc.add_XYZAPIServicer_to_server(self.xyz, server)
            health = health_aio.HealthServicer()
            health_pb2_grpc.add_HealthServicer_to_server(health, server)
            address = _bind_address(self.host, port)
            if credentials is None:
                bound = server.add_insecure_port(address)
            else:
                bound = server.add_secure_port(address, credentials)
            if not bound:
                raise OSError(f"cannot listen on {address}")
            self.port = bound
            await server.start()
            await health.set("", health_pb2.HealthCheckResponse.SERVING)
            await health.set(XYZ_SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
            self._server = server
            self._ready.set()
            await self._stopped.wait()
            await health.enter_graceful_shutdown()
            # Open log streams never end by themselves; a short grace cancels them.
            await server.stop(grace=1.0)

        try:
            asyncio.run(run())
        except BaseException as exc:  # report start-up failures to the starting thread
            if not self._ready.is_set():
                self._error = exc
                self._ready.set()
            else:
                logger.exception("gRPC endpoint stopped with an error")
            if not isinstance(exc, Exception):
                raise

    @property
    def address(self) -> str:
        """``host:port`` the endpoint listens on."""
        return _bind_address(self.host, self.port)

    def stop(self) -> None:
        """Stop serving (open streams are cancelled) and close the XYZ store."""
        if self._loop is not None and self._stopped is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(timeout=10)
        self._close_store()

    def _close_store(self) -> None:
        unregister_store(self.store)
        if self._own_store:
            self.store.close()


def start(
    service: TileService,
    tile_base_url: str,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    cert: str | os.PathLike | None = None,
    key: str | os.PathLike | None = None,
) -> GrpcServer:
    """Start the gRPC endpoint for ``service``; tiles are served from ``tile_base_url``.

    ``tile_base_url`` is the HTTP tile server's address as browsers reach it
    (``http://host:port``); XYZ url templates point there.
    """
    server = GrpcServer(service, tile_base_url, host, port, token, cert, key)
    scheme = "TLS" if server.tls else "plain text"
    logger.info("gRPC XYZAPI on %s (%s), tiles at %s", server.address, scheme, tile_base_url)
    return server
