"""``/health`` reports how late the event loop runs, and a serving process is tuned for it.

The loop is held up on purpose (a callback that sleeps on it) and ``/health`` must then show
a lateness at least that long: a lower bound that a loaded machine can only raise. No
duration is asserted as an upper bound.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def test_serving_processes_shorten_the_switch_interval_and_freeze_start_up_objects():
    code = (
        "import gc, json, sys\n"
        "from tiles.server.app import tune_server_process\n"
        "before = gc.get_freeze_count()\n"
        "tune_server_process()\n"
        "print(json.dumps([sys.getswitchinterval(), before, gc.get_freeze_count()]))\n"
    )
    env = {**os.environ, "TILES_SWITCH_INTERVAL_MS": "2.5"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    interval, frozen_before, frozen_after = json.loads(out.stdout)
    assert abs(interval - 0.0025) < 1e-9
    assert frozen_before == 0 and frozen_after > 10_000  # the modules' objects, at least
