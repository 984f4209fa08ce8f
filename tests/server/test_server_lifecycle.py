"""Server lifecycle: layers survive restarts, the in-process server, the token rule, and a
server that cannot start saying why in one line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from tests.server.support import get_json, http, image_graft, register, tile_over, tile_url
from tests.support import free_port
from tiles.server import RunningServer, ensure_server, stop_server
from tiles.server.workers import MAX_PER_CPU

IMAGE = "sample:s2:20230115_z12"


def test_restart_keeps_layers_and_their_urls(tmp_path):
    db = tmp_path / "layers.sqlite"
    first = RunningServer("127.0.0.1", 0, db_path=db)
    try:
        layer = register(first.base_url, image_graft(IMAGE, "red"), name="red", colormap="magma")
        status, _, before = http("GET", tile_url(layer, tile_over(IMAGE, 12)))
        assert status == 200
    finally:
        first.stop()
    second = RunningServer("127.0.0.1", 0, db_path=db)
    try:
        url = tile_url(layer, tile_over(IMAGE, 12)).replace(first.base_url, second.base_url)
        status, _, after = http("GET", url)
        assert status == 200 and after == before
        described = get_json(f"{second.base_url}/layers/{layer['id']}")
        assert described["name"] == "red" and described["colormap"] == "magma"
        again = register(second.base_url, image_graft(IMAGE, "red"), name="red", colormap="magma")
        assert again["id"] == layer["id"]
    finally:
        second.stop()


def test_ensure_server_starts_once_per_process(tmp_path, monkeypatch):
    monkeypatch.setenv("TILES_SERVER_DB", str(tmp_path / "layers.sqlite"))
    stop_server()
    try:
        info = ensure_server()
        assert info.host == "127.0.0.1" and info.port > 0
        assert ensure_server() == info
        assert get_json(f"{info.base_url}/health")["status"] == "ok"
    finally:
        stop_server()


def test_network_binding_requires_a_token(tmp_path, monkeypatch):
    monkeypatch.delenv("TILES_TOKEN", raising=False)
    with pytest.raises(ValueError, match="token"):
        RunningServer("0.0.0.0", 0, db_path=tmp_path / "a.sqlite")
    srv = RunningServer("0.0.0.0", 0, token="s3cret", db_path=tmp_path / "b.sqlite")
    try:
        base = f"http://127.0.0.1:{srv.info.port}"
        body = {"graft": image_graft(IMAGE, "red")}
        status, _, answer = http("POST", f"{base}/layers", body)
        assert status == 401 and "token" in json.loads(answer)["error"]
        status, _, _ = http("POST", f"{base}/layers", body, {"Authorization": "Bearer nope"})
        assert status == 401
        status, _, answer = http("POST", f"{base}/layers", body, {"Authorization": "Bearer s3cret"})
        assert status == 201
        layer = json.loads(answer)
        # Reads stay open to anyone (and to any page, through CORS).
        status, headers, _ = http("GET", tile_url(layer, tile_over(IMAGE, 12)))
        assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
        status, _, _ = http("DELETE", f"{base}/layers/{layer['id']}")
        assert status == 401
    finally:
        srv.stop()


def test_loopback_server_needs_no_token(tmp_path, monkeypatch):
    monkeypatch.delenv("TILES_TOKEN", raising=False)
    srv = RunningServer("127.0.0.1", 0, db_path=tmp_path / "layers.sqlite")
    try:
        layer = register(srv.base_url, image_graft(IMAGE, "red"))
        status, _, _ = http("DELETE", f"{srv.base_url}/layers/{layer['id']}")
        assert status == 204
        status, _, _ = http("GET", f"{srv.base_url}/layers/{layer['id']}")
        assert status == 404
    finally:
        srv.stop()


_TOO_MANY = MAX_PER_CPU * (os.cpu_count() or 1) + 1
#: What cannot work -> (arguments besides --port, an environment variable naming a path
#: under a file or None, what the one line says).
_CANNOT_START = {
    "port in use": ([], None, "cannot listen on 127.0.0.1:{port}"),
    "port out of range": (["--port", "70000"], None, "--port 70000: give a port from 1"),
    "no token": (["--host", "0.0.0.0"], None, "give a token"),
    "origin": (["--allow-origin", "maps.example.org"], None, "'maps.example.org' is not an"),
    "cache folder": ([], "TILES_CACHE", "TILES_CACHE={path}: cannot keep a cache"),
    "catalog": ([], "TILES_CATALOG", "cannot open the catalog database at {path}"),
    "registry": ([], "TILES_REGISTRY", "cannot open the layers database at {path}"),
    "registry, 2 processes": (["--workers", "2"], "TILES_REGISTRY", "cannot open the layers"),
    "processes failing": (["--workers", "2"], "TILES_JOBS_DB", "kept failing as they started"),
    "gRPC key": (["--grpc-port", "0", "--grpc-cert", "c.pem"], None, "TLS needs both"),
    "too many workers": (["--workers", str(_TOO_MANY)], None, "give 1 to {most} processes"),
    "no workers": (["--workers", "0"], None, "--workers 0: give 1 to {most} processes"),
}


@pytest.mark.parametrize("problem", list(_CANNOT_START))
def test_a_server_that_cannot_start_says_why_in_one_line(tmp_path, problem):
    args, variable, expected = _CANNOT_START[problem]
    env = {**os.environ, "TILES_REGISTRY": str(tmp_path / "registry.sqlite")}
    env.pop("TILES_TOKEN", None)
    (tmp_path / "a file").write_text("")
    path = tmp_path / "a file" / "under it"  # cannot be made
    if variable:
        env[variable] = str(path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1] if problem == "port in use" else free_port()
        command = ["serve", "--port", str(port), "--workers", "1", *args]  # the last one counts
        out = subprocess.run(
            [sys.executable, "-m", "tiles", *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert out.returncode == 2, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("python -m tiles serve: error: "), out.stderr
    assert expected.format(port=port, path=path, most=_TOO_MANY - 1) in last, out.stderr
    if problem != "processes failing":  # (those log why, with the trace)
        assert "Traceback" not in out.stderr
