"""``/health`` reports how late the event loop runs.

The loop is held up on purpose (a callback that sleeps on it) and ``/health`` must then show
a lateness at least that long: a lower bound that a loaded machine can only raise. No
duration is asserted as an upper bound.
"""

from __future__ import annotations

import time

from tests.server.support import get_json

#: Seconds the loop is held up on purpose.
HOLD = 0.5
#: Generous: a loaded 2-core machine may take seconds to answer anything.
PATIENCE = 120


def loop_lag(base: str) -> dict:
    return get_json(f"{base}/health")["loop_lag"]


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {PATIENCE} s"
        time.sleep(0.1)


def test_health_reports_the_loop_lag(server):
    wait_for(lambda: loop_lag(server.base_url)["samples"] >= 3, "loop probes")
    lag = loop_lag(server.base_url)
    assert 0 <= lag["p50_ms"] <= lag["p99_ms"] <= lag["max_ms"]


def test_a_held_loop_shows_in_the_lag(server):
    server._loop.call_soon_threadsafe(time.sleep, HOLD)
    # The probe due while the loop slept ran at least HOLD minus one interval late.
    wait_for(lambda: loop_lag(server.base_url)["max_ms"] >= 1000 * (HOLD - 0.06), "lag seen")
