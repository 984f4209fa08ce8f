"""The standalone viewer in headless Chromium, against a real server over HTTP.

Layers come from ``tile_layer`` in Python with their look; the viewer must draw them as
registered, give each a legend, stack them in order with opacity, say honestly how many tiles
failed, compare two layers side by side, play through a collection's dates and offer the
server's reductions, read pixel values, scale to the view, and offer a basemap only when one
is given.
"""

from __future__ import annotations

import io
import json
import re
import urllib.parse
import urllib.request

import numpy as np
import pytest
from PIL import Image as PILImage

import mapwidget
import tiles as wf
from tests.mapwidget.support import CHROMIUM, CHROMIUM_ARGS, ndvi_image, needs_chromium
from tiles import display

pytestmark = needs_chromium
#: Milliseconds to wait for tiles computed on a loaded machine.
WAIT_MS = 240_000


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def layers(server):
    """Layers registered from Python with ``tile_layer`` on the test server."""
    wf.connect(server.base_url)
    try:
        s2 = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01")
        rgb = s2.pick_bands("red green blue")
        made = {
            "ndvi": mapwidget.tile_layer(
                ndvi_image(), "NDVI", scales=[[-0.2, 0.8]], colormap="RdYlGn"
            ),
            "reds": mapwidget.tile_layer(ndvi_image(), "Reds", scales=[[0, 0.6]], colormap="Reds"),
            "blues": mapwidget.tile_layer(
                ndvi_image(), "Blues", scales=[[0, 0.6]], colormap="Blues"
            ),
            "rgb": mapwidget.tile_layer(rgb, "Colour", scales=[[0, 0.3]] * 3),
            "broken": mapwidget.tile_layer(
                wf.Image.from_id("sample:s2:no_such_image").pick_bands("red"), "Broken"
            ),
            "dem": mapwidget.tile_layer(wf.Image.from_id("sample:dem:santa_fe"), "DEM"),
        }
    finally:
        wf.connect(None)
    return {key: lyr.registration for key, lyr in made.items()}


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=WAIT_MS / 1000) as resp:
        return resp.read()


def decode(png: bytes) -> np.ndarray:
    return np.asarray(PILImage.open(io.BytesIO(png)).convert("RGBA"))


def open_viewer(browser, server, *ids: str):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.tile_urls = []  # every tile URL the page asked for
    page.on("request", lambda r: page.tile_urls.append(r.url) if ".png" in r.url else None)
    page.goto(f"{server.base_url}/?" + "&".join(f"layer={i}" for i in ids))
    page.wait_for_selector("#layers li.selected")
    page.js_errors = errors
    return page


def wait_loaded(page, layer_id: str) -> str:
    """Wait until the layer's tiles have all answered; its status line."""
    status = f"#layers li[data-id='{layer_id}'] .layer-status"
    page.wait_for_function(
        f"""() => {{
            const s = document.querySelector("{status}");
            return s && /tiles (loaded|failed)/.test(s.textContent)
                && !s.textContent.startsWith('loading');
        }}""",
        timeout=WAIT_MS,
    )
    return page.inner_text(status)


def shown_tiles(page, layer_id: str) -> list[str]:
    return page.evaluate(
        f"""[...document.querySelectorAll('img.leaflet-tile-loaded')]
            .map(i => i.src).filter(s => s.includes('/layers/{layer_id}/'))"""
    )


def test_tile_layer_styling_legend_and_colormap_change(server, browser, layers):
    ndvi = layers["ndvi"]
    page = open_viewer(browser, server, ndvi.id)
    assert re.fullmatch(r"\d+ tiles loaded", wait_loaded(page, ndvi.id))
    tiles = shown_tiles(page, ndvi.id)
    assert len(tiles) >= 4
    # Each tile is the one the layer's bare template gives: the look came with the layer.
    for src in tiles[:4]:
        z, x, y = re.search(r"/(\d+)/(\d+)/(\d+)\.png", src).groups()
        bare = ndvi.url_template.format(z=z, x=x, y=y)
        assert np.array_equal(decode(fetch(src)), decode(fetch(bare)))
    # The legend is the layer's colorbar, as its TileJSON gives it.
    query = page.input_value("#tile-url").split("?", 1)[1]
    legend = json.loads(fetch(f"{ndvi.tilejson_url}?{query}"))["legend"]
    page.wait_for_function(
        "document.querySelector('.legend-entry img.colorbar')?.naturalWidth === 256"
    )
    assert page.get_attribute(".legend-entry img.colorbar", "src") == legend["colorbar"]
    assert "RdYlGn" in legend["colorbar"]
    # Changing the colormap fetches re-rendered tiles, and the legend follows.
    with page.expect_response(lambda r: "colormap=viridis" in r.url and ".png" in r.url) as new:
        page.select_option("#colormap", "viridis")
    assert new.value.status == 200
    page.wait_for_function(
        "document.querySelector('.legend-entry img.colorbar')?.src.includes('viridis')"
    )
    assert page.js_errors == []
    page.close()


def test_rgb_legend_layer_order_opacity_and_honest_failures(server, browser, layers):
    rgb, broken = layers["rgb"], layers["broken"]
    page = open_viewer(browser, server, rgb.id, broken.id)
    assert re.fullmatch(r"\d+ tiles loaded", wait_loaded(page, rgb.id))
    failed = wait_loaded(page, broken.id)
    count, total = (int(n) for n in re.match(r"(\d+) of (\d+) tiles failed", failed).groups())
    assert count == total >= 4
    assert "no_such_image" in failed  # the first error, said once
    assert page.inner_text("#panel").count("no_such_image") == 1
    # The RGB legend gives each channel's band and range.
    page.wait_for_selector(f".legend-entry[data-id='{rgb.id}'] tr.channel")
    rows = page.eval_on_selector_all(
        f".legend-entry[data-id='{rgb.id}'] tr.channel",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))",
    )
    assert rows == [["R", "red", "0 – 0.3"], ["G", "green", "0 – 0.3"], ["B", "blue", "0 – 0.3"]]

    def z_index(layer_id):
        return page.evaluate(
            f"""Number(getComputedStyle([...document.querySelectorAll('img.leaflet-tile')]
                .find(i => i.src.includes('/layers/{layer_id}/')).closest('.leaflet-layer'))
                .zIndex)"""
        )

    assert z_index(broken.id) > z_index(rgb.id)  # the last one given is on top
    page.click(f"#layers li[data-id='{broken.id}'] button[aria-label='move down']")
    assert z_index(broken.id) < z_index(rgb.id)
    assert page.eval_on_selector_all("#layers li", "l => l.map(i => i.dataset.id)")[:2] == [
        rgb.id,
        broken.id,
    ]
    page.fill(f"#layers li[data-id='{rgb.id}'] input.opacity", "0.5")
    opacity = page.evaluate(
        f"""getComputedStyle([...document.querySelectorAll('img.leaflet-tile')]
            .find(i => i.src.includes('/layers/{rgb.id}/')).closest('.leaflet-layer')).opacity"""
    )
    assert opacity == "0.5"
    page.close()


def test_split_view_shows_one_layer_on_each_side(server, browser, layers):
    reds, blues = layers["reds"], layers["blues"]
    page = open_viewer(browser, server, reds.id, blues.id)
    for layer in (reds, blues):
        wait_loaded(page, layer.id)
    page.check("#split")
    page.select_option("#split-left", reds.id)
    page.select_option("#split-right", blues.id)
    page.wait_for_function(
        """[...document.querySelectorAll('img.leaflet-tile')]
            .every(t => getComputedStyle(t).opacity === '1')"""
    )
    shot = decode(page.locator("#map").screenshot())[..., :3].astype(int)
    height, width = shot.shape[:2]
    middle = width // 2
    rows = slice(height // 2 - 60, height // 2 + 60)
    left = shot[rows, middle - 120 : middle - 10]
    right = shot[rows, middle + 10 : middle + 120]
    # Reds on the left of the divider, Blues on its right (inside the data, both drawn).
    assert (left[..., 0] - left[..., 2]).mean() > 20
    assert (right[..., 2] - right[..., 0]).mean() > 20
    page.uncheck("#split")
    shot = decode(page.locator("#map").screenshot())[..., :3].astype(int)
    left = shot[rows, middle - 120 : middle - 10]
    assert (left[..., 2] - left[..., 0]).mean() > 20  # without split, Blues is on top
    page.close()


def test_date_slider_and_reduction_of_a_collection(server, browser, layers):
    rgb = layers["rgb"]
    page = open_viewer(browser, server, rgb.id)
    page.wait_for_selector("#dates:not([hidden])", timeout=WAIT_MS)
    dates = json.loads(fetch(f"{server.base_url}/layers/{rgb.id}/dates"))["dates"]
    assert page.get_attribute("#date-slider", "max") == str(len(dates) - 1)
    assert page.inner_text("#date-label") == "all dates"
    page.click("#play")
    # Playing steps through the dates in order, one drawn date after another.
    for expected in dates[:3]:
        page.wait_for_function(
            f"document.getElementById('date-label').textContent === '{expected}'",
            timeout=WAIT_MS,
        )
        wait_loaded(page, rgb.id)
        assert all(f"image_date={expected}" in src for src in shown_tiles(page, rgb.id))
    page.click("#play")  # pause
    played = [re.search(r"image_date=([\d-]+)", u) for u in page.tile_urls]
    order = list(dict.fromkeys(m.group(1) for m in played if m))
    assert order[:3] == dates[:3]
    # The reduction control offers what the server takes, the layer's own one chosen.
    assert page.is_visible("#reduction")
    offered = page.eval_on_selector_all("#reduction option", "os => os.map(o => o.value)")
    assert offered == list(display.LAYER_REDUCTIONS)
    assert page.input_value("#reduction") == rgb.reduction
    with page.expect_response(
        lambda r: "reduction=max" in r.url and ".png" in r.url, timeout=WAIT_MS
    ) as new:
        page.select_option("#reduction", "max")
    assert new.value.status == 200
    assert page.js_errors == []
    page.close()


def test_inspector_scale_to_view_and_basemap(server, browser, layers, monkeypatch):
    dem, rgb = layers["dem"], layers["rgb"]
    # A basemap only when one is given; here another layer of this server plays the part.
    monkeypatch.setenv("TILES_BASEMAP", rgb.url_template)
    page = open_viewer(browser, server, dem.id)
    wait_loaded(page, dem.id)
    assert not any(f"/layers/{rgb.id}/" in u for u in page.tile_urls)
    page.select_option("#basemap", label="server's basemap")
    page.wait_for_function(
        f"""[...document.querySelectorAll('img.leaflet-tile-loaded')]
            .some(i => i.src.includes('/layers/{rgb.id}/'))""",
        timeout=WAIT_MS,
    )
    page.select_option("#basemap", "")

    # The pixel inspector reads the value under a click from the server.
    page.check("#inspect")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(f"#inspector tr[data-id='{dem.id}']", timeout=WAIT_MS)
    shown = page.inner_text(f"#inspector tr[data-id='{dem.id}']")
    value = float(re.search(r"elevation: ([\d.]+)", shown).group(1))
    assert 1000 < value < 4500  # metres around Santa Fe

    # Scale to view: the view's percentiles become the layer's scales.
    page.click("#scale-to-view")
    page.wait_for_function("document.getElementById('scales').value.startsWith('[[')")
    scales = json.loads(page.input_value("#scales"))
    bounds = page.evaluate("viewer.map.getBounds().toBBoxString()")
    answer = json.loads(fetch(f"{server.base_url}/layers/{dem.id}/view_scales?bbox={bounds}"))
    assert scales == answer["scales"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.input_value("#tile-url")).query)
    assert json.loads(query["scales"][0]) == scales
    page.close()
