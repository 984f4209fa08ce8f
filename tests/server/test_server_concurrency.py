"""Concurrency of the tile server over real HTTP: de-duplication, back-pressure, disconnects.

Slow computations use the ``wf.debugging.sleep`` builtin so a request is reliably still
computing while others arrive. Assertions are about what happened (how many computations
ran, which responses came back first), never about how long anything took.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.server.support import get_json, http, image_graft, register, tile_over, tile_url
from tiles.server import RunningServer

IMAGE = "sample:s2:20230115_z12"


def slow_graft(seconds: float) -> dict:
    graft = image_graft(IMAGE, "red")
    graft.update({"s": seconds, "slow": ["wf.debugging.sleep", graft["returns"], "s"]})
    graft["returns"] = "slow"
    return graft


def wait_until(predicate, what: str, attempts: int = 400) -> None:
    """Poll ``predicate`` (which does its own HTTP round trip) until true."""
    event = threading.Event()
    for _ in range(attempts):
        if predicate():
            return
        event.wait(0.025)
    pytest.fail(f"never happened: {what}")


@pytest.fixture
def server(tmp_path):
    srv = RunningServer("127.0.0.1", 0, db_path=tmp_path / "layers.sqlite", workers=2)
    yield srv
    srv.stop()


def test_identical_requests_compute_once(server):
    layer = register(server.base_url, slow_graft(1.0), scales=[[0, 0.3]])
    url = tile_url(layer, tile_over(IMAGE, 12))
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: http("GET", url), range(8)))
    assert [status for status, _, _ in results] == [200] * 8
    assert len({body for _, _, body in results}) == 1
    assert server.service.computed == 1
    assert server.service.queue.counts["deduplicated"] >= 1


def test_health_answers_while_tiles_compute(server):
    layer = register(server.base_url, slow_graft(3.0), scales=[[0, 0.3]])
    finished: list[str] = []

    def fetch(dx: int) -> None:
        http("GET", tile_url(layer, tile_over(IMAGE, 12, dx=dx)))
        finished.append(f"tile{dx}")

    threads = [threading.Thread(target=fetch, args=(dx,)) for dx in (0, 1)]
    for t in threads:
        t.start()
    wait_until(lambda: get_json(f"{server.base_url}/health")["queue"]["running"] == 2, "busy")
    health = get_json(f"{server.base_url}/health")
    finished.append("health")
    assert health["status"] == "ok"
    for t in threads:
        t.join()
    assert finished[0] == "health"  # answered while both workers were still computing


def test_full_queue_answers_503_with_retry_after(tmp_path):
    srv = RunningServer(
        "127.0.0.1", 0, db_path=tmp_path / "layers.sqlite", workers=1, max_pending=1
    )
    try:
        layer = register(srv.base_url, slow_graft(2.0), scales=[[0, 0.3]])
        urls = [tile_url(layer, tile_over(IMAGE, 12, dx=dx)) for dx in range(3)]
        results = {}
        first = threading.Thread(target=lambda: results.setdefault(0, http("GET", urls[0])))
        first.start()
        wait_until(lambda: get_json(f"{srv.base_url}/health")["queue"]["running"] == 1, "run")
        second = threading.Thread(target=lambda: results.setdefault(1, http("GET", urls[1])))
        second.start()
        wait_until(lambda: get_json(f"{srv.base_url}/health")["queue"]["pending"] == 1, "queue")
        status, headers, body = http("GET", urls[2])
        assert status == 503
        assert headers["Retry-After"] == "1"
        assert "busy" in json.loads(body)["error"]
        first.join()
        second.join()
        assert results[0][0] == 200 and results[1][0] == 200
    finally:
        srv.stop()


def test_queued_work_of_a_disconnected_client_is_dropped(tmp_path):
    srv = RunningServer("127.0.0.1", 0, db_path=tmp_path / "layers.sqlite", workers=1)
    try:
        layer = register(srv.base_url, slow_graft(2.0), scales=[[0, 0.3]])
        busy = tile_url(layer, tile_over(IMAGE, 12, dx=0))
        blocker = threading.Thread(target=http, args=("GET", busy))
        blocker.start()
        wait_until(lambda: get_json(f"{srv.base_url}/health")["queue"]["running"] == 1, "run")
        # A raw client asks for another tile, then hangs up while it is still queued.
        parsed = urllib.parse.urlsplit(tile_url(layer, tile_over(IMAGE, 12, dx=1)))
        sock = socket.create_connection((parsed.hostname, parsed.port))
        request = f"GET {parsed.path}?{parsed.query} HTTP/1.1\r\nHost: {parsed.netloc}\r\n\r\n"
        sock.sendall(request.encode())
        wait_until(lambda: get_json(f"{srv.base_url}/health")["queue"]["pending"] == 1, "queued")
        sock.close()
        wait_until(lambda: get_json(f"{srv.base_url}/health")["queue"]["dropped"] == 1, "drop")
        blocker.join()
        health = get_json(f"{srv.base_url}/health")
        assert health["computed"] == 1  # only the tile somebody still wanted
        assert health["queue"]["pending"] == 0
    finally:
        srv.stop()


def test_a_failing_layer_does_not_disturb_others(server):
    good = register(server.base_url, image_graft(IMAGE, "red"), scales=[[0, 0.3]])
    bad = register(server.base_url, image_graft("sample:s2:missing", "red"))
    urls = [tile_url(good, tile_over(IMAGE, 12, dx=dx)) for dx in range(4)]
    urls += [tile_url(bad, tile_over(IMAGE, 12, dx=dx)) for dx in range(4)]
    with ThreadPoolExecutor(8) as pool:
        statuses = [status for status, _, _ in pool.map(lambda u: http("GET", u), urls)]
    assert statuses == [200] * 4 + [404] * 4
    assert get_json(f"{server.base_url}/health")["status"] == "ok"
