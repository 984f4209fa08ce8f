"""Over-limit work gets a clear answer, not a hang: a per-request time budget and an image cap."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import tiles as wf
from tests.server.support import decode_png, http, register, tile_over, tile_url
from tiles.data import catalog
from tiles.server import RunningServer

IMAGE = "sample:s2:20230115_z13"


@pytest.fixture()
def server(tmp_path):
    srv = RunningServer("127.0.0.1", 0, db_path=tmp_path / "layers.sqlite")
    yield srv
    srv.stop()


def test_slow_tile_answers_504_then_serves_the_finished_work(tmp_path):
    # wf.debugging.sleep(value, seconds) stands for a slow computation: 10 s against a 0.5 s
    # wait. Only the order matters: a 504 must come before the work is done (else it would
    # be a 200), however slow the machine.
    server = RunningServer("127.0.0.1", 0, db_path=tmp_path / "layers.sqlite", tile_timeout=0.5)
    try:
        _slow_tile_answers_504_then_the_tile(server)
    finally:
        server.stop()


def _slow_tile_answers_504_then_the_tile(server):
    red = wf.Image.from_id(IMAGE).pick_bands("red").graft
    graft = {**red, "secs": 10, "slow": ["wf.debugging.sleep", red["returns"], "secs"]}
    graft["returns"] = "slow"
    layer = register(server.base_url, graft, scales=[[0, 0.3]])
    tile = tile_over(IMAGE, 11)

    status, headers, body = http("GET", tile_url(layer, tile))
    assert status == 504, body
    answer = json.loads(body)
    assert "took longer than 0.5 s" in answer["error"] and answer["status"] == 504
    assert int(headers["Retry-After"]) > 0

    # The work went on and was cached: a later request gets the tile.
    deadline = time.monotonic() + 300
    while True:
        status, _, body = http("GET", tile_url(layer, tile))
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert status == 200
    assert decode_png(body).shape == (256, 256, 4)
    assert http("GET", f"{server.base_url}/health")[0] == 200


def test_collection_with_too_many_images_is_refused_with_413(server, monkeypatch):
    monkeypatch.setenv("TILES_MAX_IMAGES", "3")
    ic = wf.ImageCollection.from_id("sample:s2").pick_bands("red")
    layer = register(server.base_url, ic.median(axis="images").graft, scales=[[0, 0.3]])
    tile = tile_over(IMAGE, 11)
    n_here = len(catalog.search("sample:s2", bbox_lonlat=catalog.image(IMAGE).bounds_lonlat))
    assert n_here > 3

    status, _, body = http("GET", tile_url(layer, tile, "session_id=s1"))
    assert status == 413
    message = json.loads(body)["error"]
    assert "more than 3 images" in message and "sample:s2" in message
    errors = json.loads(http("GET", f"{server.base_url}/layers/{layer['id']}/errors")[2])
    assert any("more than 3 images" in r["message"] for r in errors["records"])

    # Within the cap the same layer renders.
    monkeypatch.setenv("TILES_MAX_IMAGES", str(n_here + 10))
    status, _, body = http("GET", tile_url(layer, tile, "session_id=s2"))
    assert status == 200
    assert np.asarray(decode_png(body))[..., 3].any()
