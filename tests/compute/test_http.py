"""The tile server API client: JSON in and out, the bearer token, errors as package exceptions.

A small HTTP server on 127.0.0.1 answers with whatever status and body a test sets and
records what it received, so each mapping is checked on a real HTTP exchange.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import free_port
from tiles.compute.http import ApiClient, error_from_json
from tiles.compute.jobs import ResourceExhaustedError
from tiles.errors import (
    DisplayOptionError,
    GeoContextError,
    NotFoundError,
    ParameterError,
    WorkflowsError,
)


class Scripted(BaseHTTPRequestHandler):
    """Answers with the server's ``answer`` (status, body bytes); records each request."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "body": self.rfile.read(length) if length else b"",
            }
        )
        status, body = self.server.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def scripted():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    server.seen = []
    server.answer = (200, b"{}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def client_for(server, token=None) -> ApiClient:
    return ApiClient(f"http://127.0.0.1:{server.server_address[1]}/", token=token)


def test_json_in_and_out(scripted, monkeypatch):
    monkeypatch.delenv("TILES_TOKEN", raising=False)
    scripted.answer = (201, json.dumps({"id": "abc", "n": [1, 2.5]}).encode())
    client = client_for(scripted)
    assert client.url.endswith(str(scripted.server_address[1]))  # trailing slash dropped
    assert client.json("POST", "/layers?x=1", {"graft": {"returns": "a"}}) == {
        "id": "abc",
        "n": [1, 2.5],
    }
    seen = scripted.seen[-1]
    assert (seen["method"], seen["path"]) == ("POST", "/layers?x=1")
    assert json.loads(seen["body"]) == {"graft": {"returns": "a"}}
    assert seen["headers"]["Content-Type"] == "application/json"
    assert "Authorization" not in seen["headers"]
    scripted.answer = (200, b"")
    assert client.json("GET", "/empty") is None
    assert scripted.seen[-1]["body"] == b""


def test_token_given_or_from_settings(scripted, monkeypatch):
    monkeypatch.setenv("TILES_TOKEN", "from-env")
    client_for(scripted).json("GET", "/health")
    assert scripted.seen[-1]["headers"]["Authorization"] == "Bearer from-env"
    client_for(scripted, token="given").json("GET", "/health")
    assert scripted.seen[-1]["headers"]["Authorization"] == "Bearer given"


@pytest.mark.parametrize(
    ("status", "answer", "expected", "message"),
    [
        (400, {"error": "scales: bad", "status": 400}, ParameterError, "scales: bad"),
        (404, {"error": "layer 'x' not found"}, NotFoundError, "layer 'x' not found"),
        (500, {"error": "boom", "status": 500}, WorkflowsError, "tile server answered 500: boom"),
        (400, {"error": "no crs", "error_type": "GeoContextError"}, GeoContextError, "no crs"),
        (
            429,
            {"error": "busy", "error_type": "ResourceExhaustedError"},
            ResourceExhaustedError,
            "busy",
        ),
        # A class that is not this package's: chosen by status instead.
        (400, {"error": "bad int", "error_type": "ValueError"}, ParameterError, "bad int"),
        (
            503,
            {"error": "later", "error_type": "OSError"},
            WorkflowsError,
            "tile server answered 503: later",
        ),
    ],
)
def test_error_answers_become_package_exceptions(scripted, status, answer, expected, message):
    scripted.answer = (status, json.dumps(answer).encode())
    with pytest.raises(WorkflowsError) as info:
        client_for(scripted).json("GET", "/anything")
    assert type(info.value) is expected
    assert str(info.value) == message


def test_error_answers_that_are_not_json(scripted):
    scripted.answer = (502, b"<html>bad gateway</html>")
    with pytest.raises(WorkflowsError, match="502: <html>bad gateway</html>"):
        client_for(scripted).request("GET", "/")
    scripted.answer = (404, b"[1, 2]")
    with pytest.raises(NotFoundError, match=r"\[1, 2\]"):
        client_for(scripted).request("GET", "/")


def test_unreachable_server_is_named():
    port = free_port()
    with pytest.raises(WorkflowsError, match=f"cannot reach the tile server at .*:{port}"):
        ApiClient(f"http://127.0.0.1:{port}").json("GET", "/health")


def test_job_records_name_their_error():
    record = {"error": "needs a GeoContext", "error_type": "GeoContextError"}
    assert type(error_from_json(record)) is GeoContextError
    assert str(error_from_json({"error": None}, "job 7 failed")) == "job 7 failed"
    # A class whose constructor takes more than the message still arrives, with its message.
    got = error_from_json({"error": "bad colormap", "error_type": "DisplayOptionError"})
    assert isinstance(got, ParameterError) and str(got) == "bad colormap"
    assert isinstance(got, DisplayOptionError)
