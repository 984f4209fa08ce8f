"""The standalone viewer page in headless Chromium: it lists layers and draws real tiles."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

import tiles as wf
from tests.mapwidget.support import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.server.support import register

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_viewer_lists_layers_and_draws_tiles(server, browser):
    nir, red = wf.Image.from_id("sample:s2:20230115_z12").unpack_bands("nir red")
    ndvi = (nir - red) / (nir + red)
    layer = register(
        server.base_url, ndvi.graft, name="NDVI", scales=[[-0.2, 0.8]], colormap="RdYlGn"
    )
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    tiles: list[tuple[int, str, bytes]] = []

    def on_response(response):
        if f"/layers/{layer['id']}/" in response.url and ".png" in response.url:
            tiles.append((response.status, response.headers.get("content-type"), response.body()))

    page.on("response", on_response)
    page.goto(f"{server.base_url}/?layer={layer['id']}")
    page.wait_for_selector("#layers li.selected")
    assert "NDVI" in page.inner_text("#layers")
    page.wait_for_function("document.getElementById('status').textContent === 'tiles loaded'")

    assert tiles, "the map requested no tiles"
    assert all(status == 200 and ctype == "image/png" for status, ctype, _ in tiles)
    for _, _, body in tiles:
        assert PILImage.open(io.BytesIO(body)).size == (256, 256)

    url = page.input_value("#tile-url")
    assert url.startswith(layer["url_template"] + "?session_id=")
    assert "colormap=RdYlGn" in url and "scales=" in url
    assert page.is_visible("#legend")
    assert page.get_attribute("#colorbar", "src") == "/colormaps/RdYlGn.png"

    # Wait for Leaflet's fade-in to finish so the screenshot shows tiles at full opacity.
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.leaflet-tile')).every("
        "t => getComputedStyle(t).opacity === '1')"
    )
    # The map area holds drawn imagery: many distinct colours, not one flat background.
    shot = np.asarray(PILImage.open(io.BytesIO(page.locator("#map").screenshot())).convert("RGB"))
    colours = np.unique(shot.reshape(-1, 3), axis=0)
    assert len(colours) > 50
    background = np.array([0xE8, 0xEE, 0xF2])
    assert (np.abs(shot.astype(int) - background).sum(axis=-1) > 10).mean() > 0.2

    # Changing the colormap updates the URL and fetches re-rendered tiles.
    with page.expect_response(lambda r: "colormap=viridis" in r.url) as changed:
        page.select_option("#colormap", "viridis")
    assert changed.value.status == 200
    assert "colormap=viridis" in page.input_value("#tile-url")
    page.close()
