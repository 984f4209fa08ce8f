"""The cost budget over real HTTP: tile parameters, layers and jobs alike get a 413, and a
hostile graft whose client went away stops using a worker.

No duration is asserted: the hostile work here would take days, so a worker that is free
again (within a generous deadline) can only have been freed by cancellation.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.parse

import pytest

import tiles as wf
from tests.server.support import get_json, http, register, tile_over, tile_url
from tiles.server import RunningServer

IMAGE = "sample:s2:20230115_z13"
#: Generous: a loaded 2-core machine may take long to do anything.
PATIENCE = 300


@pytest.fixture()
def server(tmp_path):
    srv = RunningServer("127.0.0.1", 0, db_path=tmp_path / "layers.sqlite", workers=2)
    yield srv
    srv.stop()


def red() -> wf.Image:
    return wf.Image.from_id(IMAGE).pick_bands("red")


def endless() -> wf.Int:
    """About 10**12 steps of graft functions: only cancellation or the budget ends it."""
    r = wf.range(10_000)
    return r.map(lambda x: r.map(lambda y: r.map(lambda z: z).length()).length()).length()


def quoted(obj) -> str:
    return urllib.parse.quote(json.dumps(obj.graft))


def _assert_413(status: int, body: bytes, limit: str) -> None:
    assert status == 413, body[:300]
    error = json.loads(body)
    assert error["status"] == 413 and limit in error["error"], error


def test_tile_parameters_that_are_hostile_grafts_get_413(server):
    threshold = wf.parameter("t", wf.Str)
    layer = register(
        server.base_url,
        wf.ifelse(threshold.length() > 0, red(), red()).graft,
        parameters={"t": "x"},
        scales=[[0, 0.3]],
    )
    url = tile_url(layer, tile_over(IMAGE, 11))
    huge_string = wf.Str("x") * 300_000_000
    huge_list = wf.range(80_000_000).map(lambda i: wf.Str("x")).length()
    wide = wf.Str("{:>300000000}").format("x")
    for value, limit in [
        (huge_string, "TILES_MAX_ELEMENTS"),
        (wf.Str("x") * huge_list, "TILES_MAX_ELEMENTS"),
        (wide, "TILES_MAX_ELEMENTS"),
    ]:
        status, _, body = http("GET", f"{url}?t={quoted(value)}", timeout=PATIENCE)
        _assert_413(status, body, limit)


def test_a_huge_kernel_layer_gets_413(server):
    kernel = wf.Kernel(dims=(301, 301), data=[1.0] * (301 * 301))
    layer = register(server.base_url, wf.conv2d(red(), kernel).graft, scales=[[0, 0.3]])
    status, _, body = http("GET", tile_url(layer, tile_over(IMAGE, 11)), timeout=PATIENCE)
    _assert_413(status, body, "TILES_MAX_OPERATIONS")


def test_a_tile_out_of_time_gets_413(server, monkeypatch):
    monkeypatch.setenv("TILES_MAX_SECONDS", "1")
    layer = register(server.base_url, wf.ifelse(endless() > 0, red(), red()).graft)
    status, _, body = http("GET", tile_url(layer, tile_over(IMAGE, 11)), timeout=PATIENCE)
    _assert_413(status, body, "TILES_MAX_SECONDS")


def test_jobs_beyond_the_pixel_limit_are_refused_at_once(server):
    body = {
        "graft": red().graft,
        "geoctx": {
            "bounds": [0, 0, 20000, 20000],
            "bounds_crs": "EPSG:3857",
            "crs": "EPSG:3857",
            "resolution": 1,
        },
        "type": "Image",
    }
    status, _, answer = http("POST", server.base_url + "/jobs", body, timeout=PATIENCE)
    _assert_413(status, answer, "TILES_MAX_PIXELS")
    body["num_retries"] = 1000
    body["geoctx"]["resolution"] = 100
    status, _, answer = http("POST", server.base_url + "/jobs", body, timeout=PATIENCE)
    assert status == 400 and "num_retries" in json.loads(answer)["error"]


def _running(server: RunningServer) -> int:
    return get_json(server.base_url + "/health")["queue"]["running"]


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_disconnected_clients_hostile_graft_stops_using_a_worker(server):
    layer = register(server.base_url, wf.ifelse(endless() > 0, red(), red()).graft)
    url = urllib.parse.urlsplit(tile_url(layer, tile_over(IMAGE, 11)))
    client = socket.create_connection((url.hostname, url.port), timeout=PATIENCE)
    client.sendall(f"GET {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n".encode())
    _wait_for(lambda: _running(server) == 1, "the hostile tile never started")
    client.close()  # the map panned away
    _wait_for(lambda: _running(server) == 0, "the hostile tile kept its worker")
    queue = get_json(server.base_url + "/health")["queue"]
    assert queue["cancelled"] == 1
    # The worker is free for real work again.
    plain = register(server.base_url, red().graft, scales=[[0, 0.3]])
    assert http("GET", tile_url(plain, tile_over(IMAGE, 11)), timeout=PATIENCE)[0] == 200
