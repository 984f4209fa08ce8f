"""What a client can make the server keep is bounded: names, texts, bodies and log records."""

from __future__ import annotations

import json
import logging

import pytest

from tests.server.support import get_json, http, image_graft, register, tile_over, tile_url
from tiles.server import RunningServer
from tiles.server.logs import LogBook
from tiles.sql_store import MAX_NAME_CHARS, MAX_TEXT_CHARS

IMAGE = "sample:s2:20230115_z13"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = RunningServer("127.0.0.1", 0, db_path=tmp_path_factory.mktemp("bounded") / "l.sqlite")
    yield srv
    srv.stop()


def _assert_413(status: int, body: bytes, named: str) -> None:
    assert status == 413, body[:300]
    error = json.loads(body)
    assert error["status"] == 413 and named in error["error"], error


def test_long_names_and_texts_are_refused_and_not_stored(server):
    name = "n" * (MAX_NAME_CHARS + 1)
    status, _, body = http(
        "POST", server.base_url + "/layers", {"graft": image_graft(IMAGE), "name": name}
    )
    _assert_413(status, body, f"at most {MAX_NAME_CHARS}")
    assert all(layer["name"] != name for layer in get_json(server.base_url + "/layers")["layers"])
    record = {
        "id": "me@example.com:bounded",
        "version": "1.0.0",
        "graft": {"0": 1, "returns": "0"},
        "typespec": "Int",
    }
    for field, size in (("title", MAX_NAME_CHARS), ("description", MAX_TEXT_CHARS)):
        status, _, body = http(
            "POST", server.base_url + "/workflows", {**record, field: "t" * (size + 1)}
        )
        _assert_413(status, body, f"'{field}'")
    status, _, body = http("POST", server.base_url + "/workflows", record)
    assert status == 201, body


def test_bodies_beyond_the_limit_get_413_in_the_error_shape(server, monkeypatch):
    monkeypatch.setenv("TILES_MAX_BODY_MB", "1")
    big = {"graft": image_graft(IMAGE), "name": "ok", "parameters": {"p": "x" * 2_000_000}}
    for path in ("/layers", "/jobs", "/workflows"):
        status, _, body = http("POST", server.base_url + path, big)
        _assert_413(status, body, "TILES_MAX_BODY_MB")
    assert get_json(server.base_url + "/health")["status"] == "ok"


def test_log_records_are_bounded_per_layer_and_in_all():
    book = LogBook(max_records=3, max_sessions=4, max_total=12)
    for session in range(50):
        for n in range(5):
            book.add("layer-a", f"s{session}", logging.ERROR, f"message {n} " + "x" * 5000)
    kept = book.records("layer-a")
    sessions = {r["session_id"] for r in kept}
    assert sessions == {"s46", "s47", "s48", "s49"}  # the most recent four sessions
    assert len(kept) == 4 * 3  # three records each
    assert all(len(r["message"]) <= 2000 for r in kept)
    for layer in range(20):  # other layers push the least recent sessions out
        book.add(f"layer-{layer}", "s", logging.ERROR, "hello")
    assert book.stats()["records"] <= 12
    assert book.records("layer-19")[-1]["message"] == "hello"


def test_many_sessions_of_a_failing_layer_keep_the_log_bounded(server):
    missing = register(server.base_url, image_graft("sample:s2:nope", "red"))
    url = tile_url(missing, tile_over(IMAGE, 11))
    for session in range(80):
        assert http("GET", f"{url}?session_id=s{session}")[0] == 404
    logs = get_json(server.base_url + "/health")["logs"]
    assert logs["sessions"] <= 64
    records = get_json(f"{server.base_url}/layers/{missing['id']}/errors")["records"]
    assert {r["session_id"] for r in records} >= {"s79"}
