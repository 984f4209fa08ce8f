"""End to end: a notebook in JupyterLab, driven in headless Chromium, shows live tiles.

JupyterLab serves a small notebook on 127.0.0.1; Chromium opens it and runs it. The
map must appear, its tile requests must answer 200 with PNGs, the map's screenshot
must not be blank, and moving the threshold slider must make new tile requests
carrying the new value. Two routes are covered: tiles fetched straight from the
kernel's server, and tiles fetched through the Jupyter server (jupyter-server-proxy
under a JupyterHub-style prefix), as when the browser is on another machine.
"""

from __future__ import annotations

import io
import os
import urllib.parse

import numpy as np
import pytest
from PIL import Image as PILImage
from playwright.sync_api import Error as PlaywrightError

from tests.mapwidget.support import (
    WAIT_MS,
    JupyterLab,
    chromium_page,
    is_tile,
    kernel_env,
    needs_chromium,
    write_notebook,
)

pytestmark = needs_chromium

NOTEBOOK_CELLS = [
    """import tiles as wf
s2 = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01")
red, nir = s2.unpack_bands("red nir")
ndvi = ((nir - red) / (nir + red)).median(axis="images")
threshold = wf.widgets.slider("threshold", 0.0, 0.8, step=0.05, default=0.3)
layer = ndvi.mask(ndvi < threshold).visualize("green", scales=[0, 0.8], colormap="YlGn")
wf.map.center = (35.687, -105.94)
wf.map.zoom = 10
wf.map""",
]


@pytest.mark.parametrize("route", ["direct", "jupyter-proxy"])
def test_notebook_map_in_chromium(tmp_path, route):
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root / "live_map.ipynb", NOTEBOOK_CELLS)
    env = kernel_env(tmp_path)
    env.pop("TILES_PUBLIC_URL", None)
    env.pop("JUPYTERHUB_SERVICE_PREFIX", None)
    base_url = "/"
    if route == "jupyter-proxy":
        base_url = "/user/tester/"
        env["JUPYTERHUB_SERVICE_PREFIX"] = base_url
    tiles: list[dict] = []
    with (
        JupyterLab(root, base_url, env) as lab,
        chromium_page(tmp_path / "chromium-profile", 1400, 1000) as page,
    ):

        def on_response(response) -> None:
            if not is_tile(response.url):
                return
            try:
                body = response.body() if response.status == 200 else b""
            except PlaywrightError:  # the page closed while the body was in flight
                return
            tiles.append(
                {
                    "url": response.url,
                    "status": response.status,
                    "type": response.headers.get("content-type", ""),
                    "body": body,
                }
            )

        page.on("response", on_response)
        page.goto(lab.url("lab/tree/live_map.ipynb"), timeout=WAIT_MS)
        page.wait_for_selector(".jp-Notebook", timeout=WAIT_MS)
        # Wait for the kernel, then run every cell.
        page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=WAIT_MS)
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Shift+Enter")
        page.wait_for_selector(".leaflet-container", state="attached", timeout=WAIT_MS)
        with page.expect_response(lambda r: is_tile(r.url) and r.status == 200, timeout=WAIT_MS):
            pass
        # Every tile of the layer in view has arrived and faded in.
        page.wait_for_function(
            """() => {
                const imgs = [...document.querySelectorAll('img.leaflet-tile')]
                    .filter(i => i.src.includes('/layers/'));
                return imgs.length >= 4 && imgs.every(
                    i => i.complete && i.classList.contains('leaflet-tile-loaded')
                        && getComputedStyle(i).opacity === '1');
            }""",
            timeout=WAIT_MS,
        )

        first = [t for t in tiles if t["status"] == 200]
        assert first, f"no tile answered 200: {[(t['url'], t['status']) for t in tiles]}"
        for tile in first:
            assert tile["type"] == "image/png"
            assert tile["body"].startswith(b"\x89PNG\r\n\x1a\n")
            assert "threshold=0.3" in tile["url"]
        if route == "jupyter-proxy":
            path = urllib.parse.urlsplit(first[0]["url"]).path
            assert path.startswith(f"{base_url}proxy/"), path
            assert urllib.parse.urlsplit(first[0]["url"]).port == lab.port
        else:
            assert urllib.parse.urlsplit(first[0]["url"]).port != lab.port

        shot = page.locator(".leaflet-container").first.screenshot()
        pixels = np.asarray(PILImage.open(io.BytesIO(shot)).convert("RGB"))
        colours = np.unique(pixels.reshape(-1, 3), axis=0)
        r, g, b = (pixels[..., i].astype(int) for i in range(3))
        greenish = ((g > r + 15) & (g > b + 15)).mean()  # the YlGn colormap
        assert len(colours) > 50 and greenish > 0.05, "the map looks blank"

        # Move the threshold slider through its readout, as a user would type it.
        slider = page.locator(".widget-hslider", has=page.locator("text=threshold"))
        readout = slider.locator(".widget-readout").first
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("0.55")
        with page.expect_response(
            lambda r: is_tile(r.url) and "threshold=0.55" in r.url, timeout=WAIT_MS
        ) as info:
            page.keyboard.press("Enter")
        response = info.value
        assert response.status == 200
        assert response.headers["content-type"] == "image/png"
        assert response.body().startswith(b"\x89PNG")


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch):
    # The browser and JupyterLab talk over loopback; a proxy would intercept them.
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield
    os.environ.pop("TILES_PUBLIC_URL", None)
