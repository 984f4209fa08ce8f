"""Bad requests get a 4xx naming the problem, and the server keeps serving."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

import tiles as wf
from tests.server.support import decode_png, http
from tiles.server import register_layer

DEM = "sample:dem:santa_fe"
TILE = "9/105/201"


@pytest.fixture(scope="module")
def layer(server):
    above = wf.Image.from_id(DEM) > wf.parameter("t", wf.Float)
    return register_layer(above, "above", scales=[[0, 1]], t=2000.0, server=server.base_url)


def quoted(value) -> str:
    return urllib.parse.quote(json.dumps(value))


BAD_TILES = [
    ("99/0/0.png", "", "z=99"),
    ("-1/0/0.png", "", "z=-1"),
    ("3/99/0.png", "", "x=99"),
    ("a/b/c.png", "", "z='a'"),
    (f"{TILE}.png", "t=abc", "'t'"),
    (f"{TILE}.png", "t=" + quoted("str"), "'t' expects a number"),
    (f"{TILE}.png", "t=null", "'t' needs a value"),
    (f"{TILE}.png", "t=" + quoted({"returns": "x"}), "'t'"),
    (f"{TILE}.png", "t=" + quoted({"0": ["__import__", "1"], "1": "os", "returns": "0"}), "'t'"),
    (f"{TILE}.png", "scales=[[1,2],[3]]", "scales"),
    ("colorbar.png", "scales=[[-1e308,1e308]]", "max - min"),
    (f"{TILE}.png", "colormap=nope", "colormap"),
    (f"{TILE}.png", "reduction=zzz", "reduction"),
    (f"{TILE}.png", "checkerboard=maybe", "checkerboard"),
    (f"{TILE}.png", "zz=1", "'zz'"),
    ("value", "x=abc&y=1", "x="),
    ("value", "", "'x'"),
    ("errors", "level=bogus", "log_level"),
]


@pytest.mark.parametrize(("path", "query", "named"), BAD_TILES)
def test_bad_tile_requests_are_400_naming_the_problem(server, layer, path, query, named):
    url = f"{server.base_url}/layers/{layer.id}/{path}" + (f"?{query}" if query else "")
    status, _, body = http("GET", url)
    assert status == 400, (status, body)
    assert named in json.loads(body)["error"]


def test_unknown_layers_are_404(server):
    for path in ("/layers/nope", "/layers/nope/1/1/1.png", "/layers/nope/tilejson.json"):
        assert http("GET", server.base_url + path)[0] == 404


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{", "not valid JSON"),
        (b"[]", "JSON object"),
        (json.dumps({"graft": 5}).encode(), "returns"),
        (
            json.dumps(
                {"graft": {"0": DEM, "1": ["wf.Image.load", "0"], "returns": "1"}, "scales": "x"}
            ).encode(),
            "scales",
        ),  # fmt: skip
        (
            json.dumps(
                {"graft": {"0": DEM, "1": ["wf.Image.load", "0"], "returns": "1"}, "colormap": 5}
            ).encode(),
            "colormap",
        ),  # fmt: skip
    ],
)
def test_bad_layer_registrations_are_400(server, body, named):
    request = urllib.request.Request(
        server.base_url + "/layers", data=body, method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)
    assert answer.value.code == 400
    assert named in json.loads(answer.value.read())["error"]


def test_server_still_serves_after_bad_requests(server, layer):
    for path, query, _ in BAD_TILES:
        http("GET", f"{server.base_url}/layers/{layer.id}/{path}?{query}")
    assert http("GET", server.base_url + "/health")[0] == 200
    status, _, body = http("GET", f"{server.base_url}/layers/{layer.id}/{TILE}.png?t=2500")
    assert status == 200
    assert decode_png(body).shape == (256, 256, 4)
