"""Other sites' pages may read tiles but may not drive a server: CORS, Origin, Host, JSON.

Requests are sent as a browser on another site would send them (its ``Origin``, a
``text/plain`` body, a rebound ``Host``), over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest

import tiles as wf
from tests.server.support import image_graft, tile_over
from tiles.server import RunningServer

IMAGE = "sample:s2:20230115_z13"
ALLOWED = "https://maps.example.org"
EVIL = "http://evil.example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = RunningServer(
        "127.0.0.1",
        0,
        db_path=tmp_path_factory.mktemp("access") / "layers.sqlite",
        allow_origins=[ALLOWED],
    )
    yield srv
    srv.stop()


def send(
    server: RunningServer,
    method: str,
    path: str,
    body: object = None,
    content_type: str | None = "application/json",
    **headers: str,
) -> tuple[int, dict[str, str], bytes]:
    """One request with exactly the headers given (``Host`` included)."""
    base = urllib.parse.urlsplit(server.base_url)
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    sent = {"Host": base.netloc, **{k.replace("_", "-"): v for k, v in headers.items()}}
    if data is not None and content_type:
        sent["Content-Type"] = content_type
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def layer_body() -> dict:
    return {"graft": image_graft(IMAGE, "red"), "scales": [[0, 0.3]]}


def job_body() -> dict:
    return {"graft": (wf.Int(20) + 22).graft, "type": "Int", "format": "json"}


def test_a_page_elsewhere_cannot_post_a_job_or_read_jobs(server):
    # A "simple" cross-site request: text/plain needs no preflight, so it must be refused.
    status, headers, body = send(server, "POST", "/jobs", job_body(), "text/plain", Origin=EVIL)
    assert status == 403, body
    assert "access-control-allow-origin" not in headers
    status, _, body = send(server, "POST", "/jobs", job_body(), "text/plain")
    assert status == 415 and json.loads(body)["error_type"] == "MediaTypeError"
    status, headers, _ = send(server, "POST", "/jobs", job_body(), Origin=EVIL)
    assert status == 403 and "access-control-allow-origin" not in headers
    # A preflight from there is answered without permission, so browsers stop.
    status, headers, _ = send(
        server, "OPTIONS", "/jobs", Origin=EVIL, Access_Control_Request_Method="POST"
    )
    assert "access-control-allow-origin" not in headers
    # A job a program started cannot be read by that page either.
    status, _, body = send(server, "POST", "/jobs", job_body())
    assert status == 201, body
    job = json.loads(body)["id"]
    status, headers, _ = send(server, "GET", f"/jobs/{job}", Origin=EVIL)
    assert "access-control-allow-origin" not in headers


def test_layers_are_registered_by_programs_own_pages_and_allowed_origins_only(server):
    status, headers, body = send(server, "POST", "/layers", layer_body(), Origin=EVIL)
    assert status == 403, body
    own = server.base_url
    status, _, body = send(server, "POST", "/layers", layer_body(), Origin=own)
    assert status in (200, 201), body
    status, headers, body = send(server, "POST", "/layers", layer_body(), Origin=ALLOWED)
    assert status in (200, 201), body
    assert headers["access-control-allow-origin"] == ALLOWED
    layer = json.loads(body)
    status, headers, _ = send(
        server, "OPTIONS", "/layers", Origin=ALLOWED, Access_Control_Request_Method="POST"
    )
    assert headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in headers["access-control-allow-methods"]
    # Deleting is a state change too.
    status, _, _ = send(server, "DELETE", f"/layers/{layer['id']}", Origin=EVIL)
    assert status == 403
    assert send(server, "GET", f"/layers/{layer['id']}")[0] == 200


def test_tiles_tilejson_and_values_are_readable_from_any_page(server):
    _, _, body = send(server, "POST", "/layers", layer_body())
    layer = json.loads(body)
    tile = tile_over(IMAGE, 11)
    base = f"/layers/{layer['id']}"
    for path in (
        f"{base}/{tile.z}/{tile.x}/{tile.y}.png",
        f"{base}/tilejson.json",
        f"{base}/value?x=-11790000&y=4260000",
    ):
        status, headers, body = send(server, "GET", path, Origin=EVIL)
        assert status == 200, (path, body[:200])
        assert headers["access-control-allow-origin"] == "*"


def test_a_rebound_host_name_cannot_change_state(server):
    """DNS rebinding: evil.example.com resolving to 127.0.0.1 makes the page same-origin."""
    port = urllib.parse.urlsplit(server.base_url).port
    rebound = {"Host": f"evil.example.com:{port}", "Origin": f"{EVIL}:{port}"}
    status, _, body = send(server, "POST", "/layers", layer_body(), **rebound)
    assert status == 403 and "Host" in json.loads(body)["error"]
    status, _, _ = send(server, "GET", "/jobs/anything", **rebound)
    assert status == 403
    # Names of this machine are fine.
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        status, _, body = send(server, "POST", "/layers", layer_body(), Host=host)
        assert status in (200, 201), body
