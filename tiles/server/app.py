"""Start and stop the tile server: in the foreground, or on a background thread.

``serve`` is what ``python -m tiles serve`` runs. ``ensure_server`` starts one
server per Python process (notebook kernel) on 127.0.0.1 at a free port the first
time a layer needs it, and returns where it listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import importlib.resources
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from tiles import settings
from tiles.data.reading import set_read_cache_size
from tiles.errors import DataError
from tiles.server.access import AccessPolicy
from tiles.server.answers import NotFoundHandler, log_request
from tiles.server.cache_stores import prepare_store, shared_by_processes
from tiles.server.handlers import routes
from tiles.server.layers import LayerStore
from tiles.server.service import TileService
from tiles.server.workers import MAX_PER_CPU, run_workers

logger = logging.getLogger(__name__)


def static_dir() -> Path:
    """The folder of the web viewer's files that ``/`` serves.

    Returns
    -------
    Path
        ``$TILES_STATIC`` when set; else the viewer installed with the package (the
        ``viewer`` folder of this package, built from ``static/``, see setup.py); else
        ``static/`` of the source checkout this package is imported from.
    """
    if settings.STATIC.is_set():
        return settings.STATIC.get()
    installed = importlib.resources.files(__package__) / "viewer"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parents[2] / "static"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            return False


def make_app(service: TileService, access: AccessPolicy | None = None) -> tornado.web.Application:
    """The Tornado application serving ``service`` under ``access`` (default: loopback's)."""
    return tornado.web.Application(
        routes(service, access or AccessPolicy(), static_dir()),
        compress_response=False,  # PNG is already compressed; JSON answers are small
        log_function=log_request,
        default_handler_class=NotFoundHandler,
    )


@dataclasses.dataclass(frozen=True)
class ServerInfo:
    """Where a running tile server listens."""

    host: str
    port: int
    token: str | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class RunningServer:
    """A tile server running on its own thread with its own event loop."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        db_path: str | os.PathLike | None = None,
        workers: int | None = None,
        max_pending: int | None = None,
        array_cache_bytes: int | None = None,
        png_cache_bytes: int | None = None,
        tile_timeout: float | None = None,
        require_token: bool | None = None,
        allow_origins: Sequence[str] = (),
    ) -> None:
        token = _check_token(host, token)
        prepare_catalog()
        self.service = TileService(
            LayerStore(db_path),
            workers=workers,
            max_pending=max_pending,
            array_cache_bytes=array_cache_bytes,
            png_cache_bytes=png_cache_bytes,
            tile_timeout=tile_timeout,
        )
        sockets = tornado.netutil.bind_sockets(port, host)
        # With port 0 every address family would get its own free port; keep the first.
        sockets, extra = sockets[:1], sockets[1:]
        for sock in extra:
            sock.close()
        self.info = ServerInfo(host, sockets[0].getsockname()[1], token)
        access = AccessPolicy.for_address(
            host, token, require_token, allow_origins, loopback=is_loopback(host)
        )
        app = make_app(self.service, access)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(
            target=self._main, args=(app, sockets), name="tiles-server", daemon=True
        )
        self._error: BaseException | None = None
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self.service.close()
            raise RuntimeError(f"tile server failed to start: {self._error}") from self._error

    def _main(self, app: tornado.web.Application, sockets: list) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            server = tornado.httpserver.HTTPServer(app)
            server.add_sockets(sockets)
            self.service.loop_lag.start()
            self._ready.set()
            await self._stop.wait()
            server.stop()
            await server.close_all_connections()

        try:
            asyncio.run(run())
        except BaseException as exc:  # report start-up failures to the starting thread
            self._error = exc
            self._ready.set()
            if not isinstance(exc, Exception):
                raise

    @property
    def base_url(self) -> str:
        """``http://host:port`` of this server."""
        return self.info.base_url

    def stop(self) -> None:
        """Stop listening, end the worker pool and close the layer database."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=10)
        self.service.close()


def prepare_catalog() -> None:
    """Open the default catalog (building the sample data on first use) before serving.

    Tiles and TileJSON look sources up in the catalog; building the sample data takes many
    seconds, which must never happen inside a request, where it would hold the server up.
    """
    from tiles.data.default_catalog import default_catalog

    default_catalog()


class StartError(ValueError):
    """The server cannot start as configured; the message says why and what to change.

    Example
    -------
    >>> str(StartError("cannot listen on 127.0.0.1:8000: Address already in use"))
    'cannot listen on 127.0.0.1:8000: Address already in use'
    """


def _check_token(host: str, token: str | None) -> str | None:
    token = token or settings.TOKEN.get()
    if not is_loopback(host) and not token:
        raise StartError(
            f"listening on {host!r} exposes the server to the network: give a token "
            "(--token or the TILES_TOKEN environment variable) so only its holders add layers"
        )
    return token


_lock = threading.Lock()
_server: RunningServer | None = None


def ensure_server() -> ServerInfo:
    """Start the process's tile server on 127.0.0.1 (free port) if needed; say where it is."""
    global _server
    with _lock:
        if _server is None:
            _server = RunningServer("127.0.0.1", 0)
            logger.info("tile server listening at %s", _server.base_url)
        return _server.info


def stop_server() -> None:
    """Stop the server started by :func:`ensure_server`, if any."""
    global _server
    with _lock:
        if _server is not None:
            _server.stop()
            _server = None


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    public_url: str | None = None,
    companions: Sequence[Callable[[TileService, str, str | None], Any]] = (),
    workers: int | None = None,
    allow_origins: Sequence[str] = (),
) -> None:
    """Run the tile server in the foreground until interrupted (``python -m tiles serve``).

    Binding to a non-loopback address requires ``token`` (or ``$TILES_TOKEN``); it is
    then needed to add or delete layers, while tiles stay readable by anyone.

    Parameters
    ----------
    host, port:
        The address to bind.
    token:
        The token that registering layers needs (required off loopback).
    public_url:
        The base URL browsers reach this server at (default ``http://host:port``).
    companions:
        Services started beside the HTTP server, each called as
        ``start(service, public_url, token)`` and returning an object with ``stop()``
        (``python -m tiles serve --grpc-port`` passes the gRPC endpoint's). With several
        workers they run in the first one only.
    workers:
        Server processes sharing the port (:mod:`tiles.server.workers`); default the number
        of CPUs, at most :data:`~tiles.server.workers.MAX_PER_CPU` per CPU. Each computes
        tiles on ``$TILES_TILE_WORKERS`` threads when it is set, else, with several, on
        ``CPUs / workers`` threads (at least one).
    allow_origins:
        Web origins (``https://maps.example.org``) whose pages may register layers and use
        ``/jobs`` and ``/workflows`` (see :mod:`tiles.server.access`).

    Raises
    ------
    StartError
        Before serving, when the configuration cannot work: workers out of range, no token
        off loopback, a ``TILES_CACHE`` folder that cannot be used, a registry that cannot be
        opened, an address that cannot be bound; or when the processes of a server of
        several kept failing as they started.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    count = _process_count(workers)
    shown = f"[{host}]" if ":" in host else host
    token, sockets = _start_up(host, shown, port, token)
    wildcard = host in ("0.0.0.0", "::", "")
    base = public_url or f"http://{socket.getfqdn() if wildcard else shown}:{port}"
    # Processes already overlap one another's reads: unless told otherwise, each of several
    # gets its share of the cores, where one alone gets TILES_TILE_WORKERS' two per core.
    split = count > 1 and not settings.TILE_WORKERS.is_set()
    threads = max(1, (os.cpu_count() or 1) // count) if split else None
    with _cannot_start("", ValueError):  # an --allow-origin or --public-url no page matches
        access = AccessPolicy.for_address(
            host, token, None, allow_origins, public_url, loopback=is_loopback(host)
        )

    def worker(index: int) -> int:
        settings.share_cache_budgets(count)
        # The read cache was built at import, before the fork, with the whole budget.
        set_read_cache_size(settings.READ_CACHE.get() / 2**20)
        try:
            asyncio.run(
                _serve_sockets(sockets, access, base, companions if index == 0 else (), threads)
            )
        except KeyboardInterrupt:
            pass
        return 0

    logger.info("tile server on http://%s:%d with %d worker process(es)", shown, port, count)
    if count == 1:
        worker(0)
        return
    # A tile (or a new look of it) is computed once, whichever process is asked.
    with shared_by_processes():
        if run_workers(count, worker) != 0:
            raise StartError("the server's processes kept failing as they started (see the log)")


def _process_count(workers: int | None) -> int:
    """How many server processes: ``workers``, checked, or one per CPU."""
    cpus = os.cpu_count() or 1
    if workers is None:
        return cpus
    most = MAX_PER_CPU * cpus
    if not 1 <= workers <= most:
        raise StartError(
            f"--workers {workers}: give 1 to {most} processes ({MAX_PER_CPU} per CPU here)"
        )
    return int(workers)


def _start_up(host: str, shown: str, port: int, token: str | None) -> tuple[str | None, list]:
    """What ``serve`` needs before it serves: the token, the shared store and the layer
    registry checked, the catalog and the bound sockets; a configuration that cannot work
    raises StartError."""
    token = _check_token(host, token)
    if not 0 < port < 65536:
        raise StartError(f"--port {port}: give a port from 1 to 65535")
    if settings.CACHE.get():  # checked here, not in each process once it serves
        with _cannot_start("", ValueError):
            prepare_store(settings.CACHE.get())
    with _cannot_start("the catalog (TILES_CATALOG): ", DataError):
        prepare_catalog()
    _layer_store().close()  # once here: each process would fail only after its own wait
    try:
        sockets = tornado.netutil.bind_sockets(port, host)
    except OSError as e:
        raise StartError(
            f"cannot listen on {shown}:{port}: {e.strerror or e} (choose another --port or --host)"
        ) from None
    return token, sockets


@contextlib.contextmanager
def _cannot_start(what: str, *errors: type[Exception]) -> Iterator[None]:
    """A start-up step whose ``errors`` mean the server cannot start: StartError, its
    message ``what`` followed by the error's."""
    try:
        yield
    except errors as e:
        raise StartError(f"{what}{e}") from None


def _layer_store() -> LayerStore:
    """The layer registry, TILES_REGISTRY; StartError when it cannot be opened."""
    with _cannot_start("the layer registry (TILES_REGISTRY): ", DataError):
        return LayerStore()


def tune_server_process() -> None:
    """Interpreter settings for a process that only serves (not a notebook's kernel).

    Tile threads running Python keep the GIL for up to the switch interval each time the
    event loop wants it back after a socket call, and answering one request takes many
    socket calls: a shorter interval (``$TILES_SWITCH_INTERVAL_MS``) shortens each wait.
    A full garbage collection stops every thread, the loop included, for as long as it
    takes to scan every object: the objects of start-up (modules, the catalog, the
    builtins), which live as long as the process, are frozen out of the collector's scans.
    """
    sys.setswitchinterval(settings.SWITCH_INTERVAL.get() / 1000)
    gc.collect()  # frozen objects are never collected: leave no garbage behind first
    gc.freeze()


async def _serve_sockets(
    sockets: list,
    access: AccessPolicy,
    base: str,
    companions: Sequence[Callable[[TileService, str, str | None], Any]],
    threads: int | None,
) -> None:
    """One server process: the app on already bound sockets until SIGTERM or SIGINT."""
    service = TileService(_layer_store(), workers=threads)
    app = make_app(service, access)
    tune_server_process()
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    service.loop_lag.start()
    service.heap.start()
    logger.info("server process %d serving (layers in %s)", os.getpid(), service.layers.target)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    started = []
    try:
        for start in companions:
            with _cannot_start("", ValueError, OSError, RuntimeError):  # a busy port, no key...
                started.append(start(service, base, access.token))
        await stop.wait()
    finally:
        for endpoint in started:
            endpoint.stop()
        server.stop()
        service.close()
