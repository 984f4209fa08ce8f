"""Server processes sharing one registry (an SQLite file, or a real PostgreSQL database): a
layer registered through one is served by the other with identical bytes, and layers,
workflows and finished jobs outlive restarts."""

from __future__ import annotations

import json
import time

import pytest

from tests.scale.processes import ServeProcess
from tests.server.support import http, image_graft, register, tile_over, tile_url

IMAGE = "sample:s2:20230115_z12"


@pytest.fixture(params=["sqlite", "postgresql"])
def registry(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "registry.sqlite")
    return request.getfixturevalue("postgres_url")


def _servers(registry: str, tmp_path, count: int) -> list[ServeProcess]:
    env = {"TILES_REGISTRY": registry}
    return [
        ServeProcess(env, ("--workers", "1"), log=tmp_path / f"server{i}.log") for i in range(count)
    ]


def test_a_layer_registered_through_one_process_is_served_by_another(registry, tmp_path):
    first, second = _servers(registry, tmp_path, 2)
    with first, second:
        layer = register(first.url, image_graft(IMAGE, "red"), name="red", colormap="viridis")
        tile = tile_over(IMAGE, 12)
        status, _, from_first = http("GET", tile_url(layer, tile))
        assert status == 200
        url = tile_url(layer, tile).replace(first.url, second.url)
        status, headers, from_second = http("GET", url)
        assert status == 200 and headers["Content-Type"] == "image/png"
        assert from_second == from_first
        listed = json.loads(http("GET", f"{second.url}/layers")[2])["layers"]
        assert [x["id"] for x in listed] == [layer["id"]]
        described = json.loads(http("GET", f"{second.url}/layers/{layer['id']}")[2])
        assert described["colormap"] == "viridis"
        # Deleting through the second process: the first lists it no more.
        assert http("DELETE", f"{second.url}/layers/{layer['id']}")[0] == 204
        assert json.loads(http("GET", f"{first.url}/layers")[2])["layers"] == []


def test_restart_keeps_layers_workflows_and_finished_jobs(registry, tmp_path):
    (server,) = _servers(registry, tmp_path, 1)
    with server:
        layer = register(server.url, image_graft(IMAGE, "nir"), name="nir")
        status, _, before = http("GET", tile_url(layer, tile_over(IMAGE, 12)))
        assert status == 200
        workflow = {
            "id": "me@example.com:two",
            "version": "1.0.0",
            "graft": {"0": 2, "returns": "0"},
            "typespec": "Int",
            "title": "two",
        }
        assert http("POST", f"{server.url}/workflows", workflow)[0] == 201
        status, _, body = http(
            "POST", f"{server.url}/jobs", {"graft": {"0": 6, "returns": "0"}, "format": "json"}
        )
        assert status == 201
        job_id = json.loads(body)["id"]
        for _ in range(600):
            record = json.loads(http("GET", f"{server.url}/jobs/{job_id}")[2])
            if record["done"]:
                break
            time.sleep(0.1)
        assert record["stage"] == "SUCCEEDED"
    (again,) = _servers(registry, tmp_path, 1)
    with again:
        status, _, after = http(
            "GET", tile_url(layer, tile_over(IMAGE, 12)).replace(server.url, again.url)
        )
        assert status == 200 and after == before
        stored = json.loads(http("GET", f"{again.url}/workflows/me@example.com:two")[2])
        assert [v["version"] for v in stored["versions"]] == ["1.0.0"]
        assert stored["versions"][0]["graft"] == workflow["graft"]
        status, _, result = http("GET", f"{again.url}/jobs/{job_id}/result")
        assert status == 200 and json.loads(result) == 6
