"""The map never shows tiles of an older URL: JupyterLab in headless Chromium.

A notebook builds a composite with two date parameters, shows it, and changes its dates
and reduction from later cells while the first tiles are still computing ("Run All").
Then the reduction is changed from the layer's control row and a date from code, in
quick succession. Each time the map has settled, every tile on screen must be the tile
of the layer's current URL: its ``src`` is that URL and its pixels are the PNG that URL
answers.
"""

from __future__ import annotations

import io
import re
import urllib.request

import numpy as np
from PIL import Image as PILImage

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

SETUP = """import datetime
import ipywidgets, traitlets
import tiles as wf

start = wf.widgets.date("start", "2023-04-01")
end = wf.widgets.date("end", "2023-09-30")
rgb = wf.ImageCollection.from_id("sample:s2", start, end).pick_bands("red green blue")
layer = rgb.visualize("composite", scales=[[0, 0.3]] * 3, reduction="median")
wf.map.center = (35.687, -105.94)
wf.map.zoom = 10
current = ipywidgets.Textarea(layout=ipywidgets.Layout(width="100%"))
current.add_class("current-url")
traitlets.dlink((layer, "url"), (current, "value"))
ipywidgets.VBox([wf.map, current])"""
CHANGE_DATES = """start.value = datetime.date(2023, 1, 1)
end.value = datetime.date(2023, 3, 1)"""
CHANGE_REDUCTION = 'layer.reduction = "max"'
LATER = "start.value = datetime.date(2023, 2, 1)"


class TileTraffic:
    """Tile requests the page has started and not yet finished."""

    def __init__(self, page) -> None:
        self.pending: set = set()
        page.on("request", lambda r: self.pending.add(r) if is_tile(r.url) else None)
        page.on("requestfinished", lambda r: self.pending.discard(r))
        page.on("requestfailed", lambda r: self.pending.discard(r))


def settle(page, traffic: TileTraffic) -> None:
    """Wait until no tile is in flight and every tile element on the map has loaded."""
    loaded = """() => [...document.querySelectorAll('img.leaflet-tile')]
        .filter(i => i.src.includes('/layers/'))
        .every(i => i.complete && getComputedStyle(i).opacity === '1')"""
    quiet_rounds = 0
    for _ in range(WAIT_MS // 500):
        page.wait_for_timeout(500)
        if not traffic.pending and page.evaluate(loaded):
            quiet_rounds += 1
            if quiet_rounds >= 4:  # two seconds with nothing in flight: the map has settled
                return
        else:
            quiet_rounds = 0
    raise AssertionError(f"tiles still loading: {[r.url for r in traffic.pending][:5]}")


def visible_tiles(page) -> list[dict]:
    """Tile images of the layer on screen, with their boxes and the map's visible box."""
    return page.evaluate(
        """() => {
            const box = (sel) => document.querySelector(sel).getBoundingClientRect();
            const m = box('.leaflet-container'), nb = box('.jp-NotebookPanel-notebook');
            const map = {left: Math.max(m.left, nb.left), right: Math.min(m.right, nb.right),
                         top: Math.max(m.top, nb.top), bottom: Math.min(m.bottom, nb.bottom)};
            return [...document.querySelectorAll('img.leaflet-tile')]
                .filter(i => i.src.includes('/layers/'))
                .map(i => ({src: i.src, box: i.getBoundingClientRect().toJSON(), map}))
                .filter(t => t.box.right > t.map.left + 1 && t.box.left < t.map.right - 1
                          && t.box.bottom > t.map.top + 1 && t.box.top < t.map.bottom - 1);
        }"""
    )


def fetch_rgba(url: str) -> np.ndarray:
    with urllib.request.urlopen(url, timeout=WAIT_MS / 1000) as resp:
        return np.asarray(PILImage.open(io.BytesIO(resp.read())).convert("RGBA"))


def check_map_shows_current_url(page, traffic: TileTraffic, previous: set[str]) -> str:
    """Every visible tile is the current URL's tile; returns that URL."""
    settle(page, traffic)
    current = page.input_value(".current-url textarea")
    assert current and current not in previous, "the layer's URL did not change"
    tiles = visible_tiles(page)
    assert len(tiles) >= 4, tiles
    checked = 0
    for tile in tiles:
        z, x, y = map(int, re.search(r"/(\d+)/(\d+)/(\d+)\.png", tile["src"]).groups())
        expected_src = current.replace("{z}", str(z)).replace("{x}", str(x))
        expected_src = expected_src.replace("{y}", str(y))
        assert tile["src"] == expected_src, "a tile of an older URL is on the map"
        box, view = tile["box"], tile["map"]
        left, top = max(box["left"], view["left"]), max(box["top"], view["top"])
        right, bottom = min(box["right"], view["right"]), min(box["bottom"], view["bottom"])
        if right - left < 32 or bottom - top < 32:
            continue
        clip = {"x": left, "y": top, "width": right - left, "height": bottom - top}
        shot = np.asarray(PILImage.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB"))
        png = fetch_rgba(expected_src)
        col, row = round(left - box["left"]), round(top - box["top"])
        want = png[row : row + shot.shape[0], col : col + shot.shape[1]]
        h, w = min(want.shape[0], shot.shape[0]), min(want.shape[1], shot.shape[1])
        # Pixels off the data are transparent and show the map behind them: compare the
        # opaque ones, which are the tile's own.
        opaque = want[:h, :w, 3] == 255
        if opaque.sum() < 32 * 32:
            continue
        diff = np.abs(want[:h, :w, :3].astype(int) - shot[:h, :w].astype(int)).max(axis=-1)
        assert (diff <= 6)[opaque].mean() > 0.97, f"tile {z}/{x}/{y} on screen differs from its PNG"
        checked += 1
    assert checked >= 2
    return current


def run_all(page) -> None:
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()


def test_map_follows_changes_from_code_and_controls(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root / "stale.ipynb", [SETUP, CHANGE_DATES, CHANGE_REDUCTION, LATER])
    env = kernel_env(tmp_path)
    for var in ("TILES_PUBLIC_URL", "JUPYTERHUB_SERVICE_PREFIX", "TILES_SERVER_URL"):
        env.pop(var, None)
    with (
        JupyterLab(root, "/", env) as lab,
        chromium_page(tmp_path / "chromium-profile", 1100, 1300) as page,
    ):
        traffic = TileTraffic(page)
        page.goto(lab.url("lab/tree/stale.ipynb"), timeout=WAIT_MS)
        page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=WAIT_MS)
        # Nothing may cover the tiles: no map controls, no JupyterLab notifications.
        hide = page.add_style_tag(
            content=".leaflet-control-container, .Toastify { display: none !important; }"
        )
        run_all(page)
        page.wait_for_selector(".leaflet-container", state="attached", timeout=WAIT_MS)
        seen = {check_map_shows_current_url(page, traffic, set())}
        assert "reduction=max" in next(iter(seen)) and "2023-02-01" in next(iter(seen))

        # From the layer's control row, then from code, without waiting in between.
        page.locator("select:has(option[value='mean'])").first.select_option("mean")
        cell = page.locator(".jp-Notebook .jp-Cell").nth(1)
        cell.click()
        page.keyboard.press("Control+Enter")
        now = check_map_shows_current_url(page, traffic, seen)
        assert "reduction=mean" in now and "2023-01-01" in now

        # The pixel inspector answers a click with values, beside the zoom buttons.
        hide.evaluate("style => style.remove()")
        page.add_style_tag(content=".Toastify { display: none !important; }")
        page.get_by_role("button", name="Pixel inspector").click()
        page.wait_for_selector(".leaflet-control-container .leaflet-control-zoom")
        box = page.locator(".leaflet-container").bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
        panel = page.locator(".leaflet-control", has_text="Pixel inspector").first
        panel.locator("text=/red: [0-9.]+/").wait_for(timeout=WAIT_MS)
        zoom = page.locator(".leaflet-control-zoom").bounding_box()
        inspector = panel.bounding_box()
        assert (
            inspector["x"] >= zoom["x"] + zoom["width"]
            or inspector["y"] >= zoom["y"] + zoom["height"]
        ), (inspector, zoom)
