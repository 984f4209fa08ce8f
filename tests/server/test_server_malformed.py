"""A corpus of malformed requests: every one gets a 4xx in the one JSON error shape, no 5xx.

The requests cover every endpoint: tile coordinates and query values, parameter values
that are hostile grafts (cycles, self-references, deep nesting, unknown builtins, wrong
argument counts), ``/value`` and ``/errors`` queries, layer, job and workflow bodies of
the wrong JSON types, and unknown URLs. The server must answer each one with a status
from 400 to 499 and ``{"error", "error_type", "status"}``, and keep serving.
"""

from __future__ import annotations

import json
import logging
import urllib.parse

import pytest

import tiles as wf
from tests.server.support import decode_png, http
from tiles.server import RunningServer, register_layer

DEM = "sample:dem:santa_fe"
TILE = "9/105/201"
NUMBER = {"0": 1, "returns": "0"}
LOAD = {"0": DEM, "1": ["wf.Image.load", "0"]}


class RawJSON(str):
    """JSON text nested too deeply for ``json.dumps`` to write."""


def as_json(value) -> str:
    return value if isinstance(value, RawJSON) else json.dumps(value)


def quoted(value) -> str:
    return urllib.parse.quote(as_json(value))


def encode(payload) -> bytes:
    """A request body: bytes as they are, objects whose values may be raw JSON text."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, dict):
        items = ", ".join(f"{json.dumps(k)}: {as_json(v)}" for k, v in payload.items())
        return ("{" + items + "}").encode()
    return as_json(payload).encode()


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


BAD_GRAFTS = [
    {"returns": 3},
    {"returns": None},
    {"returns": ["a"]},
    {"returns": {"x": 1}},
    {"returns": "a", "a": ["wf.neg", "a"]},
    {"returns": "a", "a": ["wf.neg", "b"], "b": ["wf.neg", "a"]},
    {"returns": "a", "a": {"returns": "b", "b": ["wf.neg", "a"]}},
    {"returns": "a"},
    {"returns": "a", "a": ["wf.os.system", "x"], "x": "ls"},
    {"returns": "a", "a": ["__import__", "x"], "x": "os"},
    {"returns": "a", "a": ["wf.neg", 5]},
    {"returns": "a", "a": ["wf.neg"]},
    {"returns": "a", "a": ["wf.neg", "x", "x"], "x": 1},
    {"returns": "a", "a": ["wf.neg", "x", {"bogus": "x"}], "x": 1},
    {"returns": "a", "a": ["x"], "x": 1},
    {"returns": "a", "a": [], "x": 1},
    {"returns": "a", "a": [5, "x"], "x": 1},
    {"returns": "a", "a": {"b": 1}},
    RawJSON('{"returns": "a", "a": ' + nested(5000) + "}"),
    RawJSON('{"returns": "a", "a": [' + nested(300) + "]}"),
    RawJSON(
        '{"returns": "a", "a": ["wf.neg", "b0"], '
        + "".join(f'"b{i}": {{"returns": "b{i + 1}", ' for i in range(200))
        + '"x": 1'
        + "}" * 201
    ),
    {"returns": "a", "parameters": "x", "a": 1},
    {"returns": "a", "parameters": [1], "a": 1},
    {"returns": "a", "a": ["f", "x"], "x": 1, "f": {"parameters": ["p", "q"], "returns": "p"}},
]
#: Well-formed grafts whose values are unusable only once computed (they make fine layers).
UNUSABLE_GRAFTS = [
    {**LOAD, "2": 10**400, "3": ["wf.add", "1", "2"], "returns": "3"},
    {**LOAD, "2": "\u00e9\u4e2d\U0001f600", "3": ["wf.pick_bands", "1", "2"], "returns": "3"},
    {**LOAD, "2": ["wf.pick_bands", "1", {"\u00e9": "0"}], "returns": "2"},
]
BAD_BODIES = [
    b"{",
    b"[]",
    b"5",
    b"null",
    b"\xff\xfe",
    nested(100_000).encode(),
    b'{"graft": ' + nested(5000).encode() + b"}",
    b'"string"',
]


def _cases() -> list[tuple[str, str, object]]:
    layer = "/layers/{layer}"
    tile = f"{layer}/{TILE}.png"
    cases: list[tuple[str, str, object]] = []
    for coords in ("99/0/0", "-1/0/0", "3/99/0", "3/0/99", "3/-1/0", "a/b/c", "1.5/0/0",
                   "%D9%A3/0/0", "3/0/" + "9" * 40, "31/0/0", "3/0/0x1", "0" * 30 + "3/0/0"):  # fmt: skip
        cases.append(("GET", f"{layer}/{coords}.png", None))
    queries = [
        "t=abc", "t=" + quoted("str"), "t=null", "t=" + quoted([1, 2]), "t=" + quoted({"a": 1}),
        "t=" + "9" * 5000, "t=" + quoted(True), "t=%FF%FE", "t=" + "[" * 10000,
        "scales=[[1,2],[3]]", "scales=x", "scales=[[1e999,1]]", "scales=[[" + "9" * 400 + ",1]]",
        "scales=[[1,2],[3,4],[5,6],[7,8]]", "scales=[[true,false]]", "scales=" + "[" * 5000,
        "scales={}", 'scales=[["a","b"]]', "scales=[[1,2,3]]", "colormap=nope",
        "colormap=" + "x" * 10000, "colormap=%00", "reduction=zzz", "checkerboard=maybe",
        "checkerboard=", "zz=1", "band=a&band=b&band=c&band=d", "band=swir", "band=%C3%A9",
        "band=", "session_id=" + "s" * 20000,
    ]  # fmt: skip
    cases += [("GET", f"{tile}?{q}", None) for q in queries]
    cases += [("GET", f"{tile}?t={quoted(g)}", None) for g in BAD_GRAFTS + UNUSABLE_GRAFTS]
    for q in ("x=abc&y=1", "", "x=1", "y=1", "x=nan&y=0", "x=inf&y=0", "x=1e30&y=0",
              "x=0&y=-1e30", "x=0&y=0&t=abc", "x=0&y=0&band=swir", "x=%FF&y=0"):  # fmt: skip
        cases.append(("GET", f"{layer}/value?{q}", None))
    for q in ("bogus", "%C2%B2", "-5", "9" * 50, "1e3", ""):
        cases.append(("GET", f"{layer}/errors?level={q}", None))
    for q in ("scales=x", "colormap=nope", "t=abc"):
        cases.append(("GET", f"{layer}/tilejson.json?{q}", None))
    for path in ("/layers/nope", "/layers/nope/1/1/1.png", "/layers/nope/tilejson.json",
                 "/layers/nope/value?x=0&y=0", "/layers/nope/errors", "/jobs/nope",
                 "/jobs/nope/result", "/workflows/nope", "/workflows/a:b/versions/1.0.0",
                 "/colormaps/nope.png", "/nowhere", "/static/../../etc/passwd",
                 "/layers/" + "a" * 5000):  # fmt: skip
        cases.append(("GET", path, None))
    cases += [("DELETE", "/layers/nope", None), ("DELETE", "/jobs/nope", None)]
    cases += [("PUT", "/layers", b"{}"), ("PATCH", "/health", b"{}")]

    good = {**LOAD, "returns": "1"}
    cases += [("POST", "/layers", body) for body in BAD_BODIES]
    for graft in BAD_GRAFTS + [5, "x", [], None, {}]:
        cases.append(("POST", "/layers", {"graft": graft}))
    for extra in [
        {"name": 5}, {"name": ["x"]}, {"scales": "x"}, {"scales": [[10**400, 1]]},
        {"colormap": 5}, {"colormap": "nope"}, {"reduction": 1}, {"reduction": "first"},
        {"checkerboard": "yes"}, {"log_level": "LOUD"}, {"log_level": True},
        {"log_level": 10**30}, {"log_level": [1]}, {"parameters": 5}, {"parameters": {"1x": 1}},
        {"parameters": {"scales": 1}}, {"parameters": ["a", 5]},
        {"parameters": {"t": {"returns": 3}}},
        {"parameters": {"t": {"returns": "a", "a": ["wf.nope"]}}}, {"bogus": 1},
    ]:  # fmt: skip
        cases.append(("POST", "/layers", {"graft": good, **extra}))
    cases.append(("POST", "/layers", {"name": "no graft"}))

    cases += [("POST", "/jobs", body) for body in BAD_BODIES[:6]]
    cases += [("POST", "/jobs", {"graft": graft}) for graft in BAD_GRAFTS + [5, None]]
    aoi = {"crs": "EPSG:3857", "bounds": [0, 0, 1000, 1000]}
    for extra in [
        {"arguments": 5}, {"arguments": {"x": {"returns": 3}}}, {"geoctx": 5},
        {"geoctx": [1, 2]}, {"geoctx": {"bogus": 1}},
        {"geoctx": {**aoi, "crs": "EPSG:nope", "resolution": 1}},
        {"geoctx": {**aoi, "resolution": -1}}, {"geoctx": {**aoi, "bounds": "x", "resolution": 1}},
        {"geoctx": {"key": "nope"}}, {"geoctx": {"x": "a", "y": 1, "z": 1}},
        {"geoctx": {"x": 1, "y": 1, "z": 99}}, {"format": "nope"}, {"format": 5},
        {"format": {"a": 1}}, {"format": {"type": 5}},
        {"format": {"type": "geotiff", "compression": "zzz"}}, {"type": 5}, {"type": ["Image"]},
        {"cache": "yes"}, {"num_retries": -1}, {"num_retries": 10**9}, {"num_retries": "3"},
        {"num_retries": True}, {"bogus": 1},
    ]:  # fmt: skip
        cases.append(("POST", "/jobs", {"graft": NUMBER, **extra}))

    workflow = {"id": "me@example.com:thing", "version": "1.0.0", "graft": NUMBER}
    workflow["typespec"] = "Int"
    cases += [("POST", "/workflows", body) for body in BAD_BODIES[:6]]
    for change in [
        {"id": 5}, {"id": "noname"}, {"id": ["a"]}, {"version": "1"}, {"version": 1},
        {"graft": 5}, {"graft": {"returns": "a", "a": ["wf.neg", "a"]}}, {"typespec": 5},
        {"typespec": "NotAType"}, {"typespec": {"type": "List", "params": 5}},
        {"typespec": {"map": 5}}, {"typespec": RawJSON(nested(5000, '"Int"'))}, {"title": 5},
        {"description": ["x"]}, {"docstring": {}}, {"labels": 5}, {"labels": []},
        {"tags": "x"}, {"tags": [1]}, {"viz_options": 5}, {"viz_options": [5]},
        {"viz_options": [{"bogus": 1}]}, {"viz_options": [{"scales": "x"}]},
    ]:  # fmt: skip
        cases.append(("POST", "/workflows", {**workflow, **change}))
    for missing in workflow:
        cases.append(("POST", "/workflows", {k: v for k, v in workflow.items() if k != missing}))
    return cases


CORPUS = _cases()


def _case_id(case: tuple[str, str, object]) -> str:
    method, path, _ = case
    return f"{method} {path[:60]}"


def test_the_corpus_is_large():
    assert len(CORPUS) >= 150


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = RunningServer("127.0.0.1", 0, db_path=tmp_path_factory.mktemp("bad") / "layers.sqlite")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def layer(server):
    above = wf.Image.from_id(DEM) > wf.parameter("t", wf.Float)
    return register_layer(above, "above", scales=[[0, 1]], t=2000.0, server=server.base_url)


@pytest.mark.parametrize("case", CORPUS, ids=[_case_id(c) for c in CORPUS])
def test_malformed_request_gets_a_4xx_in_the_one_error_shape(server, layer, case):
    method, path, payload = case
    url = server.base_url + path.replace("{layer}", layer.id)
    body = encode(payload) if payload is not None else None
    status, headers, answer = _send(method, url, body)
    assert 400 <= status < 500, (status, answer[:300])
    assert headers["Content-Type"].startswith("application/json")
    error = json.loads(answer)
    assert set(error) == {"error", "error_type", "status"}, error
    assert error["status"] == status and error["error"] and error["error_type"]


def _send(method: str, url: str, body: bytes | None) -> tuple[int, dict, bytes]:
    import urllib.error
    import urllib.request

    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_server_still_serves_after_the_corpus(server, layer):
    for method, path, payload in CORPUS[::7]:
        url = server.base_url + path.replace("{layer}", layer.id)
        _send(method, url, encode(payload) if payload is not None else None)
    assert http("GET", server.base_url + "/health")[0] == 200
    status, _, body = http("GET", f"{server.base_url}/layers/{layer.id}/{TILE}.png?t=2500")
    assert status == 200
    assert decode_png(body).shape == (256, 256, 4)


def test_values_outside_the_data_are_empty_not_errors(server, layer):
    # Web-mercator points all over the world, most far from the sample data.
    points = [(0, 0), (2e7, 2e7), (-2e7, -1.9e7), (1e7, 8e6), (-1.2e7, 4.3e6), (123.4, -5678.9)]
    for x, y in points:
        status, _, body = http("GET", f"{server.base_url}/layers/{layer.id}/value?x={x}&y={y}")
        assert status == 200, (x, y, body)
        assert json.loads(body)["values"] in ({}, {"elevation": None})


def test_tokens_are_compared_as_bytes_and_never_logged(tmp_path, caplog):
    srv = RunningServer(
        "127.0.0.1", 0, token="s\u00e9cret", db_path=tmp_path / "l.sqlite", require_token=True
    )
    try:
        body = {"graft": {**LOAD, "returns": "1"}}
        for header in ("Bearer \u00e9\u00e9", "Bearer " + "\U0001f600" * 3, "Bearer wrong"):
            status, _, answer = _post_with(srv.base_url + "/layers", body, header)
            assert status == 401, answer
            assert json.loads(answer)["error_type"] == "AuthenticationError"
        with caplog.at_level(logging.INFO, logger="tornado.access"):
            status, _, _ = http("POST", srv.base_url + "/layers?token=s%C3%A9cret", body)
            assert status == 201
            http("GET", srv.base_url + "/layers?token=s%C3%A9cret&a=1")
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "/layers?token=***" in logged
        assert "cret" not in logged and "%C3%A9" not in logged
    finally:
        srv.stop()


def _post_with(url: str, body: dict, authorization: str) -> tuple[int, dict, bytes]:
    import http.client
    import urllib.parse as parse

    parts = parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        # http.client sends header values as Latin-1; UTF-8 bytes go through as they are.
        connection.putrequest("POST", parts.path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Authorization", authorization.encode("utf-8"))
        data = json.dumps(body).encode()
        connection.putheader("Content-Length", str(len(data)))
        connection.endheaders(data)
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()
