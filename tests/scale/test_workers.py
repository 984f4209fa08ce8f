"""``python -m tiles serve --workers 2``: two processes on one port, any of them serves any
layer; killing one under load loses only the requests it was answering, the other keeps
serving and the parent starts a replacement; SIGTERM stops them all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import mercantile
import pytest

from tests.scale.processes import START_TIMEOUT, ServeProcess
from tests.server.support import decode_png, http, image_graft, register, tile_url
from tiles import settings
from tiles.data import catalog

IMAGE = "sample:s2:20230115_z12"
#: Bounds of the load test: it stops by itself.
CLIENTS = 8
LOAD_SECONDS = 20.0


def _pid(server: ServeProcess) -> int:
    return json.loads(http("GET", f"{server.url}/health")[2])["process"]


def _pids(server: ServeProcess, want: int, seconds: float = START_TIMEOUT) -> set[int]:
    """The worker pids seen over new connections (each request opens one), until ``want``
    answered: a worker may still be starting when the first answers."""
    return set(_healths(server, want, seconds))


def _healths(server: ServeProcess, want: int = 2, seconds: float = START_TIMEOUT) -> dict:
    """/health of ``want`` workers, by pid, asked over new connections."""
    seen: dict[int, dict] = {}
    deadline = time.monotonic() + seconds
    while len(seen) < want and time.monotonic() < deadline:
        health = json.loads(http("GET", f"{server.url}/health")[2])
        seen[health["process"]] = health
        if len(seen) < want:
            time.sleep(0.005)
    return seen


def _tiles(zoom: int) -> list[mercantile.Tile]:
    w, s, e, n = catalog.image(IMAGE).bounds_lonlat
    return list(mercantile.tiles(w, s, e, n, zoom))


@pytest.fixture
def workers(tmp_path):
    env = {"TILES_REGISTRY": str(tmp_path / "registry.sqlite")}
    server = ServeProcess(env, args=("--workers", "2"), log=tmp_path / "server.log").start()
    yield server
    server.stop()


def test_two_workers_share_the_cache_budgets(workers):
    # The budgets are the server's: each of two processes keeps half of every cache.
    seen = _healths(workers)
    assert len(seen) == 2
    for health in seen.values():
        assert health["array_cache"]["max_bytes"] == settings.ARRAY_CACHE.get() // 2
        assert health["png_cache"]["max_bytes"] == settings.PNG_CACHE.get() // 2
        assert health["read_cache"]["max_bytes"] == settings.READ_CACHE.get() // 2


def test_workers_share_the_cores_unless_tile_threads_are_set(workers, tmp_path):
    share = max(1, (os.cpu_count() or 1) // 2)
    assert [h["queue"]["workers"] for h in _healths(workers).values()] == [share, share]
    env = {"TILES_REGISTRY": str(tmp_path / "set.sqlite"), "TILES_TILE_WORKERS": "3"}
    with ServeProcess(env, ("--workers", "2"), log=tmp_path / "set.log") as server:
        assert [h["queue"]["workers"] for h in _healths(server).values()] == [3, 3]


def test_a_tile_and_its_new_looks_are_computed_once_whichever_worker_is_asked(workers):
    # Without TILES_CACHE the workers share a private folder: a tile one computed is a
    # hit in the other, and so is a new look of it (rendered from the stored array).
    healths = _healths(workers)
    assert len(healths) == 2
    folders = {h["backends"]["cache"] for h in healths.values()}
    assert len(folders) == 1 and next(iter(folders)).startswith("file://")
    folder = Path(urllib.parse.urlsplit(next(iter(folders))).path)
    assert folder.is_dir()
    layer = register(workers.url, image_graft(IMAGE, "red", "green", "blue"), name="rgb")
    tiles = _tiles(13)[:3]
    looks = ["", "?scales=[[0,0.2],[0,0.2],[0,0.2]]", "?scales=[[0,0.5],[0,0.5],[0,0.5]]"]
    answers: dict[tuple, set[bytes]] = {}
    for tile in tiles:
        for look in looks:
            for _ in range(8):  # new connections: both workers are asked
                status, _, png = http("GET", tile_url(layer, tile) + look)
                assert status == 200
                answers.setdefault((tile, look), set()).add(png)
    assert all(len(pngs) == 1 for pngs in answers.values())  # the same bytes from either
    healths = _healths(workers)
    assert sum(h["computed"] for h in healths.values()) == len(tiles)
    assert sum(h["shared_cache"]["hits"] for h in healths.values()) >= 1
    workers.stop()
    assert not folder.exists()  # removed with the server


def test_a_folder_bound_of_zero_shares_no_folder(tmp_path):
    env = {"TILES_REGISTRY": str(tmp_path / "registry.sqlite"), "TILES_CACHE_FOLDER_MB": "0"}
    with ServeProcess(env, ("--workers", "2"), log=tmp_path / "server.log") as server:
        healths = _healths(server)
        assert len(healths) == 2
        assert all(h["backends"]["cache"] is None for h in healths.values())


def test_two_workers_share_the_port_and_serve_every_layer(workers):
    pids = _pids(workers, 2)
    assert len(pids) == 2 and workers.proc.pid not in pids
    layer = register(workers.url, image_graft(IMAGE, "red"), name="red", colormap="magma")
    # Every tile, through whichever worker accepts the connection: the same bytes as the
    # first answer for it.
    for tile in _tiles(13)[:6]:
        status, _, first = http("GET", tile_url(layer, tile))
        assert status == 200
        for _ in range(3):
            assert http("GET", tile_url(layer, tile))[2] == first
    assert decode_png(first)[..., 3].any()


def test_killing_a_worker_under_load_loses_only_its_requests(workers):
    layer = register(workers.url, image_graft(IMAGE, "red", "green", "blue"), name="rgb")
    tiles = _tiles(14)
    victim = _pid(workers)
    survivor = (_pids(workers, 2) - {victim}).pop()
    results: list[tuple[float, float, int | str]] = []  # (start, end, status or error)
    lock = threading.Lock()
    stop_at = time.monotonic() + LOAD_SECONDS

    def client(offset: int) -> None:
        i = offset
        while time.monotonic() < stop_at:
            started = time.monotonic()
            try:
                status = http("GET", tile_url(layer, tiles[i % len(tiles)]))[0]
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                status = type(exc).__name__
            with lock:
                results.append((started, time.monotonic(), status))
            i += CLIENTS

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(LOAD_SECONDS / 3)
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    for t in threads:
        t.join(timeout=LOAD_SECONDS + 120)
    failed = [r for r in results if r[2] != 200]
    after = [r for r in results if r[0] > killed_at + 0.5]
    # Only requests in flight when the worker died failed: at most one per client, all of
    # them begun before the kill.
    assert len(failed) <= CLIENTS, failed
    assert all(start <= killed_at for start, _, _ in failed), failed
    assert after and all(status == 200 for _, _, status in after)
    # The survivor kept serving, and the parent started a replacement for the victim.
    pids = _pids(workers, 2)
    assert survivor in pids and victim not in pids and len(pids) == 2


def test_sigterm_stops_every_worker(workers):
    pids = _pids(workers, 2)
    workers.proc.send_signal(signal.SIGTERM)
    assert workers.proc.wait(timeout=60) == 0
    for pid in pids:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"worker {pid} outlived its parent")


def _nice(pid: int, tid: int) -> int:
    with open(f"/proc/{pid}/task/{tid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux's /proc")
def test_tiles_compute_below_the_event_loops_priority(tmp_path):
    # On busy cores the event loop (the main thread) must get its turn before tile work.
    from tiles.server.service import COMPUTE_NICENESS

    env = {"TILES_REGISTRY": str(tmp_path / "registry.sqlite")}
    with ServeProcess(env, args=("--workers", "1"), log=tmp_path / "server.log") as server:
        layer = register(server.url, image_graft(IMAGE, "red"), name="red")
        w, s, e, n = catalog.image(IMAGE).bounds_lonlat
        centre = mercantile.tile((w + e) / 2, (s + n) / 2, 13)
        assert http("GET", tile_url(layer, centre))[0] == 200
        pid = server.proc.pid
        loop = _nice(pid, pid)
        threads = [_nice(pid, int(tid)) for tid in os.listdir(f"/proc/{pid}/task")]
        assert loop + COMPUTE_NICENESS in threads
        assert threads.count(loop) >= 1


# Stops itself with SIGTERM just as it forks its second of three workers (each waits for a
# signal), then says what run_workers returned and whether any worker was left behind.
_STOP_WHILE_STARTING = """
import os, signal
from tiles.server import workers

real_fork, forks = os.fork, []

def fork():
    forks.append(1)
    if len(forks) == 2:
        os.kill(os.getpid(), signal.SIGTERM)
    return real_fork()

workers.os.fork = fork
status = workers.run_workers(3, lambda index: signal.pause() or 0)
try:
    os.waitpid(-1, os.WNOHANG)
    left = "workers left"
except ChildProcessError:
    left = "no worker left"
print(status, len(forks), left)
"""


def test_a_stop_while_the_workers_start_stops_every_one_started():
    out = subprocess.run(
        [sys.executable, "-c", _STOP_WHILE_STARTING],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,  # without the fix it waited for the later workers forever
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "2", "no", "worker", "left"], out.stdout
