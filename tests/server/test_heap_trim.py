"""The heap trimmer gives memory freed in the middle of the heap back to the system: a
process that freed many arrays between long-lived objects shrinks when it trims, and a
serving process trims on its own (``/health`` counts it)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.scale.processes import ServeProcess
from tests.server.support import http
from tiles.server.heap import HeapTrimmer

pytestmark = pytest.mark.skipif(
    not HeapTrimmer().available, reason="the C library has no malloc_trim (not glibc)"
)

# Frees ~200 MB of 64 KB arrays allocated between small objects that stay, so the freed
# memory sits in holes below the heap's top where free() alone keeps it; prints the
# resident MB after the frees and after one trim.
_FRAGMENT = """
import numpy as np
from tiles.server.heap import HeapTrimmer

def resident_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

arrays, keep = [], []
for i in range(3200):
    arrays.append(np.ones(64 * 1024, np.uint8))
    keep.append(bytearray(1024))  # over pymalloc's 512 bytes: from malloc's heap too
arrays.clear()
before = resident_mb()
HeapTrimmer().trim()
print(before, resident_mb())
"""


def test_a_trim_returns_memory_freed_between_live_objects():
    out = subprocess.run(
        [sys.executable, "-c", _FRAGMENT], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    before, after = map(float, out.stdout.split())
    assert before - after > 100, (before, after)  # of the ~200 MB freed
    # (free() alone keeps them: the test would prove nothing if they were gone already)


def test_a_serving_process_trims_its_heap(tmp_path):
    env = {"TILES_REGISTRY": str(tmp_path / "registry.sqlite")}
    trimmer = HeapTrimmer()
    with ServeProcess(env, ("--workers", "1"), log=tmp_path / "server.log") as server:
        deadline = time.monotonic() + 120  # a trim is due every TRIM_SECONDS
        while time.monotonic() < deadline:
            stats = json.loads(http("GET", f"{server.url}/health")[2])["heap_trim"]
            if stats["trims"] >= 1:
                break
            time.sleep(1)
        assert stats["available"] and stats["trims"] >= 1 and stats["cpu_ms"] >= 0
    assert trimmer.trims == 0  # a trimmer trims only once started
