"""A map layer's look travels with it: bare tile URLs and TileJSON show what the map shows.

Layers from ``tile_layer``/``visualize`` are registered with their scales, colormap,
checkerboard, reduction and parameter values, so the server's ``url_template`` (no query)
and the TileJSON draw the same pixels as the map's full URL; ``wf.connect`` and
``TILES_SERVER_URL`` choose the server they are registered on.
"""

from __future__ import annotations

import io
import json
import urllib.request

import numpy as np
import pytest
from PIL import Image as PILImage

import mapwidget
import tiles as wf
from tests.mapwidget.support import TILE, ndvi_image
from tiles.server import RunningServer


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as resp:
        assert resp.status == 200
        return resp.read()


def png_at(template: str, tile=TILE) -> np.ndarray:
    z, x, y = tile
    url = template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    return np.asarray(PILImage.open(io.BytesIO(fetch(url))).convert("RGBA"))


@pytest.fixture
def other_server(tmp_path):
    srv = RunningServer("127.0.0.1", 0, db_path=tmp_path / "layers.sqlite")
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def no_server_settings(monkeypatch):
    monkeypatch.delenv("TILES_SERVER_URL", raising=False)
    monkeypatch.delenv("TILES_PUBLIC_URL", raising=False)
    yield
    wf.connect(None)


def test_bare_template_and_tilejson_draw_what_the_map_draws():
    threshold = wf.parameter("threshold", wf.Float)
    img = ndvi_image().mask(ndvi_image() < threshold)
    layer = mapwidget.tile_layer(
        img, "green", scales=[[0, 0.8]], colormap="YlGn", checkerboard=False, threshold=0.3
    )
    assert "?" not in layer.url_template
    on_map = png_at(layer.url)
    bare = png_at(layer.url_template)
    assert np.array_equal(bare, on_map)
    # A grey, per-tile stretch would have equal channels; YlGn does not.
    assert (bare[..., 1] != bare[..., 0]).mean() > 0.2
    tilejson = json.loads(fetch(layer.tilejson_url))
    assert np.array_equal(png_at(tilejson["tiles"][0]), on_map)

    # Restyled from code, the template follows; the old one keeps its own look.
    old_template = layer.url_template
    layer.colormap = "magma"
    layer.parameters.threshold = 0.5
    assert layer.url_template != old_template
    assert np.array_equal(png_at(layer.url_template), png_at(layer.url))
    assert not np.array_equal(png_at(layer.url_template), on_map)
    assert np.array_equal(png_at(old_template), on_map)


def test_connect_registers_layers_on_that_server(other_server):
    wf.connect(other_server.base_url)
    layer = mapwidget.tile_layer(ndvi_image(), "ndvi", scales=[[-0.2, 0.8]], colormap="RdYlGn")
    assert layer.registration.base_url == other_server.base_url
    assert layer.url.startswith(other_server.base_url + "/layers/")
    listed = json.loads(fetch(other_server.base_url + "/layers"))["layers"]
    assert any(lyr["name"] == "ndvi" and lyr["colormap"] == "RdYlGn" for lyr in listed)
    assert png_at(layer.url).shape == (256, 256, 4)


def test_server_url_setting_registers_layers_on_that_server(other_server, monkeypatch):
    monkeypatch.setenv("TILES_SERVER_URL", other_server.base_url + "/")
    layer = mapwidget.tile_layer(ndvi_image(), "ndvi", scales=[[-0.2, 0.8]])
    assert layer.url_template.startswith(other_server.base_url + "/layers/")
