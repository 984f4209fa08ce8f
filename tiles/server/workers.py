"""Many server processes on one port: a parent binds the socket, forks the workers, and
restarts any that dies; the kernel hands each new connection to one of them.

Every worker is a whole tile server (layers, jobs and workflows come from the shared
registry, tiles from the shared cache: ``TILES_CACHE``, or a folder ``serve`` makes), so any
worker answers any request. A worker that dies loses only the requests it was answering; the others keep
serving and the parent starts a new one. SIGTERM or SIGINT to the parent stops every worker
and waits for them; on Linux a worker also dies with its parent, so no worker outlives a
parent that was killed.

Example::

    >>> sockets = tornado.netutil.bind_sockets(8000, "127.0.0.1")   # doctest: +SKIP
    >>> run_workers(2, lambda index: serve_sockets(sockets, index))  # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

#: Most worker processes per CPU: each is a whole server (about 150 MB before any cache),
#: and beyond a few per core they only compete for the cores and memory.
MAX_PER_CPU = 4
#: A worker that dies sooner than this after starting counts as failing to start.
QUICK_DEATH_SECONDS = 2.0
#: After this many quick deaths in a row the parent gives up and stops.
MAX_QUICK_DEATHS = 5
_PR_SET_PDEATHSIG = 1
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
            pass


def run_workers(count: int, worker: Callable[[int], int]) -> int:
    """Fork ``count`` workers running ``worker(index)`` and supervise them until stopped.

    Parameters
    ----------
    count:
        How many worker processes.
    worker:
        Runs in each child with its index (0..count-1) and returns its exit status. Index 0
        may run what only one process should (say a gRPC endpoint).

    Returns
    -------
    int
        0 after a requested stop; 1 when workers kept dying at start.
    """
    children: dict[int, tuple[int, float]] = {}
    stopping = False

    def spawn(index: int) -> None:
        # A stop signal that arrives while a worker is forked waits until the worker is
        # counted among the children (so the stop reaches it) and, in the worker, until it
        # has the default handlers (so it does not run the parent's).
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
            raise
        if pid == 0:
            status = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
                _die_with_parent()
                status = worker(index)
            except KeyboardInterrupt:
                status = 0
            except BaseException:
                logger.exception("server worker %d failed", index)
            finally:
                logging.shutdown()
                os._exit(status)
        children[pid] = (index, time.monotonic())
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    quick_deaths = 0
    try:
        for index in range(count):
            if stopping:  # asked to stop while the first workers started
                break
            spawn(index)
        logger.info("%d server workers: %s", count, " ".join(map(str, children)))
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index, started = children.pop(pid, (None, 0.0))
            if index is None or stopping:
                continue
            quick_deaths = (
                quick_deaths + 1 if time.monotonic() - started < QUICK_DEATH_SECONDS else 0
            )
            if quick_deaths >= MAX_QUICK_DEATHS:
                logger.error("server workers keep dying at start; stopping")
                stop(signal.SIGTERM, None)
                continue
            logger.warning(
                "server worker %d (pid %d) ended with status %s; starting another",
                index,
                pid,
                os.waitstatus_to_exitcode(status),
            )
            spawn(index)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if quick_deaths >= MAX_QUICK_DEATHS else 0
