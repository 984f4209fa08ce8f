"""How late the event loop runs a callback due now: the delay every request waits on.

A callback scheduled every :data:`INTERVAL` seconds notes how long after its due time it
ran; ``/health`` reports the median, 99th percentile and maximum of the last minute. A
loop held by a slow callback, by other threads keeping the GIL or by a garbage collection
shows here before clients time out.

Example::

    >>> lag = LoopLag()          # doctest: +SKIP
    >>> lag.start()              # on the running loop
    >>> lag.stats()["p99_ms"]    # doctest: +SKIP
    1.3
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

#: Seconds between two probes (20 a second: cheap, and fine enough for a p99).
INTERVAL = 0.05
#: Probes kept: the last minute.
WINDOW = int(60 / INTERVAL)


class LoopLag:
    """The event loop's lateness over the last minute, measured by a periodic callback."""

    def __init__(self) -> None:
        self._lags: collections.deque[float] = collections.deque(maxlen=WINDOW)
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start probing the running event loop (call on the loop's thread)."""
        loop = asyncio.get_running_loop()
        due = loop.time() + INTERVAL
        self._handle = loop.call_at(due, self._probe, loop, due)

    def _probe(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        now = loop.time()
        self._lags.append(max(0.0, now - due))
        self._handle = loop.call_at(now + INTERVAL, self._probe, loop, now + INTERVAL)

    def stop(self) -> None:
        """Stop probing."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def stats(self) -> dict[str, Any]:
        """The last minute's lateness, for ``/health``.

        Returns
        -------
        dict
            ``samples`` (probes in the window), ``p50_ms``, ``p99_ms`` and ``max_ms`` (None
            before the first probe).
        """
        lags = sorted(self._lags)
        if not lags:
            return {"samples": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
        return {
            "samples": len(lags),
            "p50_ms": round(1000 * lags[len(lags) // 2], 1),
            "p99_ms": round(1000 * lags[min(len(lags) - 1, int(0.99 * len(lags)))], 1),
            "max_ms": round(1000 * lags[-1], 1),
        }
