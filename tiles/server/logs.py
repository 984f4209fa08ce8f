"""Per-layer, per-session records of what happened while computing tiles.

Map clients poll ``GET /layers/{id}/errors?session_id=...`` to show why a layer is
blank. Two kinds of records land here: computation errors (added by the server
when a tile fails) and log records emitted by ``tiles.*`` loggers on the worker
thread while it computes a tile for that layer, at or above the layer's log level.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Iterator
from typing import Any

from tiles.errors import without_paths

#: Records kept per (layer, session); older ones are forgotten first.
MAX_RECORDS = 200
#: Sessions kept per layer; the one heard from least recently is forgotten first.
MAX_SESSIONS_PER_LAYER = 64
#: Records kept in all; the sessions heard from least recently are forgotten first.
MAX_TOTAL_RECORDS = 20_000
#: Longest message kept (log records of a computation can be long).
MAX_MESSAGE_CHARS = 2000

_context = threading.local()


class LogBook:
    """Recent records keyed by layer id and session id (thread-safe), bounded in all.

    Any client can name a session, so sessions are bounded per layer and records in total;
    the sessions heard from least recently give way first.
    """

    def __init__(
        self,
        max_records: int = MAX_RECORDS,
        max_sessions: int = MAX_SESSIONS_PER_LAYER,
        max_total: int = MAX_TOTAL_RECORDS,
    ) -> None:
        #: (layer, session) -> records, least recently added to first.
        self._records: collections.OrderedDict[tuple[str, str], collections.deque] = (
            collections.OrderedDict()
        )
        self._sessions: collections.Counter[str] = collections.Counter()
        self._total = 0
        self._max = max_records
        self._max_sessions = max_sessions
        self._max_total = max_total
        self._lock = threading.Lock()

    def add(
        self,
        layer_id: str,
        session_id: str | None,
        level: int,
        message: str,
        tile: tuple[int, int, int] | None = None,
    ) -> None:
        """Record one message for a layer and session (``None`` session is ``""``).

        Anyone may read these records, so file paths are cut from the message.
        """
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 3] + "..."
        entry = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": logging.getLevelName(level),
            "levelno": level,
            "message": without_paths(message),
            "tile": list(tile) if tile else None,
        }
        with self._lock:
            key = (layer_id, session_id or "")
            queue = self._records.get(key)
            if queue is None:
                if self._sessions[layer_id] >= self._max_sessions:
                    self._forget(next(k for k in self._records if k[0] == layer_id))
                queue = self._records[key] = collections.deque(maxlen=self._max)
                self._sessions[layer_id] += 1
            else:
                self._records.move_to_end(key)
            if len(queue) < self._max:
                self._total += 1
            queue.append(entry)
            while self._total > self._max_total:
                self._forget(next(iter(self._records)))

    def _forget(self, key: tuple[str, str]) -> None:
        queue = self._records.pop(key)
        self._total -= len(queue)
        self._sessions[key[0]] -= 1
        if not self._sessions[key[0]]:
            del self._sessions[key[0]]

    def stats(self) -> dict[str, int]:
        """How many sessions and records are kept, for /health."""
        with self._lock:
            return {"sessions": len(self._records), "records": self._total}

    def records(
        self,
        layer_id: str,
        session_id: str | None = None,
        level: int = logging.NOTSET,
        since: str | None = None,
    ) -> list[dict[str, Any]]:
        """Records of a layer, for one session or all; at or above ``level``; after ``since``."""
        with self._lock:
            found = [
                dict(e, session_id=sid)
                for (lid, sid), queue in self._records.items()
                if lid == layer_id and (session_id is None or sid == session_id)
                for e in queue
            ]
        found = [e for e in found if e["levelno"] >= level and (since is None or e["time"] > since)]
        found.sort(key=lambda e: e["time"])
        return found


class _CaptureHandler(logging.Handler):
    """Sends records from the computing thread to the LogBook of the tile it computes."""

    def emit(self, record: logging.LogRecord) -> None:
        ctx = getattr(_context, "current", None)
        if ctx is None:
            return
        book, layer_id, session_id, level, tile = ctx
        if record.levelno < level:
            return
        try:
            message = record.getMessage()
        except Exception:  # a badly formatted record must not break the tile
            message = str(record.msg)
        book.add(layer_id, session_id, record.levelno, message, tile)


_handler = _CaptureHandler()
_install_lock = threading.Lock()


def install_capture() -> None:
    """Attach the capture handler to the ``tiles`` logger (once per process).

    When nothing in the process configured logging (the root logger has no handlers,
    as in a fresh notebook kernel) the ``tiles`` logger is opened to DEBUG so
    layers asking for DEBUG records get them; nobody else sees a difference then.
    """
    with _install_lock:
        log = logging.getLogger("tiles")
        if _handler not in log.handlers:
            log.addHandler(_handler)
            if log.level == logging.NOTSET and not logging.getLogger().handlers:
                log.setLevel(logging.DEBUG)


@contextlib.contextmanager
def capturing(
    book: LogBook,
    layer_id: str,
    session_id: str | None,
    level: int,
    tile: tuple[int, int, int] | None = None,
) -> Iterator[None]:
    """Within this block, ``tiles.*`` log records on this thread go to ``book``."""
    previous = getattr(_context, "current", None)
    _context.current = (book, layer_id, session_id, level, tile)
    try:
        yield
    finally:
        _context.current = previous
