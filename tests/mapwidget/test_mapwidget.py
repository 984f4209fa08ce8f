"""Map widgets at the traitlets level, against the real in-process tile server.

Each test drives traits the way the notebook front-end or a user would, then checks
the layer URL, what the server answers for it (PNG decoded, pixels compared with a
direct computation) and what the panels show.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import ipyleaflet
import ipywidgets
import mercantile
import numpy as np
import pytest
import shapely
import shapely.geometry
from PIL import Image as PILImage

import mapwidget
import tiles as wf
from mapwidget import MapApp, WorkflowsLayer, inspector, routing, visualize
from mapwidget import widgets as wfw
from tests.mapwidget.support import TILE, ndvi_image
from tests.support import free_port
from tiles.geocontext import XYZTile

START, END = "2023-01-01", "2024-01-01"


def s2():
    return wf.ImageCollection.from_id("sample:s2", START, END)


def tile_url(layer: WorkflowsLayer, tile: tuple[int, int, int] = TILE) -> str:
    z, x, y = tile
    assert layer.url, f"layer has no URL: {layer.log_messages}"
    return layer.url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def fetch_png(url: str, patience: float = 900) -> np.ndarray:
    """The tile at ``url``; a busy server's 503/504 is retried as its Retry-After says.

    ``patience`` is generous on purpose: only a broken server, not a loaded machine, fails.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            with urllib.request.urlopen(url, timeout=patience) as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"] == "image/png"
                return np.asarray(PILImage.open(io.BytesIO(resp.read())).convert("RGBA"))
        except urllib.error.HTTPError as exc:
            if exc.code not in (503, 504) or time.monotonic() > deadline:
                raise
            time.sleep(float(exc.headers.get("Retry-After") or 1))


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def reference_ndvi(tile: tuple[int, int, int] = TILE) -> np.ma.MaskedArray:
    z, x, y = tile
    return ndvi_image().compute(XYZTile(x, y, z)).ndarray[0]


@pytest.fixture(scope="module", autouse=True)
def sample_catalog():
    """Build the sample catalog before the tests, not inside their first tile request."""
    from tiles.data import catalog

    catalog.default_catalog()


@pytest.fixture
def app() -> MapApp:
    return MapApp()


@pytest.fixture(autouse=True)
def direct_route(monkeypatch):
    """Tiles go straight to 127.0.0.1 unless a test sets a route."""
    for var in ("TILES_PUBLIC_URL", "JUPYTERHUB_SERVICE_PREFIX", "TILES_SERVER_URL"):
        monkeypatch.delenv(var, raising=False)
    routing.state.public_url = ""
    routing.state.page_url = ""
    yield
    routing.state.public_url = ""
    routing.state.page_url = ""


# ---------------------------------------------------------------------------- layer URLs


def test_widget_change_changes_url_and_served_png(app):
    ndvi = reference_ndvi()
    slider = wfw.slider("threshold", 0.0, 1.0, default=0.1)
    layer = visualize(ndvi_image() > slider, "green", scales=[0, 1], map=app)
    assert query(layer.url)["threshold"] == "0.1"
    first = fetch_png(tile_url(layer))

    slider.value = 0.5
    assert query(layer.url)["threshold"] == "0.5"
    second = fetch_png(tile_url(layer))

    valid = ~np.ma.getmaskarray(ndvi)
    assert valid.sum() > 1000
    for png, t in ((first, 0.1), (second, 0.5)):
        expected = np.where(ndvi.filled(0) > t, 255, 0)
        assert np.array_equal(png[..., 0][valid], expected[valid])
        assert (png[..., 3][valid] == 255).all()
    # The threshold moved enough to change what is drawn.
    assert (first[..., 0][valid] != second[..., 0][valid]).any()


def test_parameters_attribute_rerenders(app):
    layer = visualize(
        ndvi_image() > wf.parameter("threshold", wf.Float), "t", threshold=0.4, map=app
    )
    assert query(layer.url)["threshold"] == "0.4"
    layer.parameters.threshold = 0.3
    assert query(layer.url)["threshold"] == "0.3"
    with pytest.raises(AttributeError, match="no parameter 'treshold'"):
        layer.parameters.treshold = 1


def test_same_name_replaces_the_layer_in_place(app):
    first = visualize(ndvi_image(), "ndvi", scales=[-1, 1], map=app)
    first_url = first.url
    again = visualize(ndvi_image() * 2, "ndvi", scales=[-2, 2], colormap="viridis", map=app)
    assert again is first
    named = [lyr for lyr in app.layers if getattr(lyr, "name", None) == "ndvi"]
    assert named == [first]
    assert again.url != first_url
    assert query(again.url)["colormap"] == "viridis"
    png = fetch_png(tile_url(again))
    assert png.shape == (256, 256, 4)


def test_hidden_layer_has_no_url_and_comes_back(app):
    layer = visualize(ndvi_image(), "ndvi", scales=[-1, 1], map=app)
    url = layer.url
    layer.visible = False
    assert layer.url == ""
    layer.visible = True
    assert layer.url == url


def test_several_changes_make_one_url_update(app):
    layer = visualize(s2().pick_bands("red green blue"), "rgb", map=app)
    seen = []
    layer.observe(lambda change: seen.append(change["new"]), "url")
    with layer.hold_url_updates():
        layer.scales = [[0, 0.3], [0, 0.3], [0, 0.3]]
        layer.checkerboard = False
        layer.reduction = "median"
    assert len(seen) == 1
    q = query(seen[0])
    assert (q["checkerboard"], q["reduction"]) == ("false", "median")
    assert q["scales"] == "[[0.0, 0.3], [0.0, 0.3], [0.0, 0.3]]"


def test_invalid_scales_are_refused_before_anything_changes(app):
    layer = visualize(ndvi_image(), "ndvi", scales=[0, 1], map=app)
    with pytest.raises(wf.ParameterError):
        visualize(ndvi_image(), "ndvi", scales=[[0, 1], [0, None]], map=app)
    assert layer.scales == [[0.0, 1.0]]


# ------------------------------------------------------------------------- parameters


def test_missing_parameter_is_reported_in_the_log_panel(app):
    layer = visualize(ndvi_image() > wf.parameter("threshold", wf.Float), "green", map=app)
    assert layer.url == ""
    assert any("missing a value for parameter 'threshold'" in line for line in app.logs.lines)
    assert all(line.startswith("green: ") for line in app.logs.lines)
    layer.parameters.threshold = 0.2
    assert layer.url and app.logs.lines == []


def test_ipywidget_override_is_linked_and_replaced(app):
    img = ndvi_image() > wf.parameter("threshold", wf.Float)
    old = ipywidgets.FloatSlider(value=0.2, min=0, max=1)
    layer = visualize(img, "green", threshold=old, map=app)
    assert query(layer.url)["threshold"] == "0.2"
    old.value = 0.25
    assert query(layer.url)["threshold"] == "0.25"

    new = ipywidgets.FloatSlider(value=0.7, min=0, max=1)
    assert visualize(img, "green", threshold=new, map=app) is layer
    assert query(layer.url)["threshold"] == "0.7"
    old.value = 0.9  # unlinked: no effect any more
    assert query(layer.url)["threshold"] == "0.7"
    new.value = 0.6
    assert query(layer.url)["threshold"] == "0.6"
    # Setting the value from code moves the linked widget too.
    layer.parameters.threshold = 0.4
    assert new.value == 0.4


def test_widget_parameter_appears_in_the_panel_and_drives_every_layer(app):
    slider = wfw.slider("threshold", 0.0, 1.0, default=0.3)
    ndvi = ndvi_image()
    a = visualize(ndvi > slider, "above", map=app)
    b = visualize(ndvi < slider, "below", map=app)
    panel = app.layer_list.row(a).children[1]
    # The slider names itself ("threshold"), so it stands in the panel without a second label.
    assert panel.children[0] is slider.widget and slider.widget.description == "threshold"
    slider.value = 0.8
    assert query(a.url)["threshold"] == query(b.url)["threshold"] == "0.8"


def test_date_widget_sends_a_datetime_and_renders(app):
    start = wfw.date("start", "2023-01-01")
    end = wfw.date("end", "2023-07-01")
    col = wf.ImageCollection.from_id("sample:s2", start, end).pick_bands("red green blue")
    layer = visualize(col, "rgb", scales=[[0, 0.3]] * 3, reduction="median", map=app)
    q = query(layer.url)
    assert "2023-07-01" in q["end"] and "wf.datetime.from_string" in q["end"]
    assert q["reduction"] == "median"
    png = fetch_png(tile_url(layer))
    shown = png[..., 3] == 255  # data or checkerboard; outside the scenes transparent
    assert shown.mean() > 0.5 and png[..., :3][shown].std() > 0
    end.value = dt.date(2023, 3, 1)
    assert "2023-03-01" in query(layer.url)["end"]
    fetch_png(tile_url(layer))


def test_widget_factories():
    s = wfw.slider("n", 0, 10)
    assert isinstance(s, wf.Int) and isinstance(s.widget, ipywidgets.IntSlider)
    assert s.graft == {"returns": "n"} and s.params == (s,)
    assert isinstance(wfw.slider("f", 0, 1), wf.Float)
    assert isinstance(wfw.slider("g", 0, 3), wf.Float)  # a 0.3 step needs floats
    sel = wfw.select("band", ["red", "nir"], format="radio")
    assert isinstance(sel, wf.Str) and isinstance(sel.widget, ipywidgets.RadioButtons)
    assert sel.value == "red"
    assert isinstance(wfw.select("k", [1, 2.5], format="slider"), wf.Float)
    assert isinstance(wfw.checkbox("c", True), wf.Bool)
    assert isinstance(wfw.input("i", 3), wf.Int) and isinstance(wfw.input("s", "x"), wf.Str)
    d = wfw.date("d", dt.datetime(2023, 5, 2, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))))
    assert isinstance(d, wf.Datetime) and d.value == dt.date(2023, 5, 3)
    # Expressions of widgets are plain proxies that depend on the widget.
    total = s + 1
    assert type(total) is wf.Int and total.params == (s,)


def test_image_picker_follows_another_layer(app):
    ndvi = ndvi_image()
    threshold = wf.parameter("threshold", wf.Float)
    source = visualize(ndvi > threshold, "green", scales=[0, 1], threshold=0.2, map=app)
    picker = wfw.image("base", default_layer=source, map=app)
    layer = visualize(picker * 2, "picked", scales=[0, 2], map=app)
    offered = [name for name, _ in picker.widget._dropdown.options]
    assert "green" in offered and "picked" not in offered  # no layer may depend on itself
    before = query(layer.url)["base"]
    assert "wf.numpy.greater" in before or "wf.gt" in before or "0.2" in before
    source.parameters.threshold = 0.6  # the picked layer follows the other layer's values
    after = query(layer.url)["base"]
    assert after != before and "0.6" in after


def test_image_picker_renders_the_other_layer(app):
    source = visualize(ndvi_image(), "ndvi", scales=[-1, 1], map=app)
    picker = wfw.image("base", default_layer=source, map=app)
    layer = visualize(picker > 0.3, "picked", scales=[0, 1], map=app)
    png = fetch_png(tile_url(layer))
    ref = reference_ndvi()
    valid = ~np.ma.getmaskarray(ref)
    assert np.array_equal(png[..., 0][valid], np.where(ref.filled(0) > 0.3, 255, 0)[valid])


# ------------------------------------------------------------------------- logs


def test_server_errors_reach_the_log_panel_after_tiles_load(app):
    four_bands = s2().pick_bands("red green blue nir")
    layer = visualize(four_bands, "too many", map=app)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(tile_url(layer), timeout=120)
    assert err.value.code == 400  # a 4-band image cannot be drawn
    # What the front-end sends once every tile in view arrived or failed.
    layer._handle_leaflet_event(None, {"event": "load"}, [])
    assert any("4 bands" in line for line in app.logs.lines), app.logs.lines
    count = len(app.logs.lines)
    layer._handle_leaflet_event(None, {"event": "load"}, [])
    assert len(app.logs.lines) == count  # de-duplicated
    layer.checkerboard = False  # the layer changed: its old messages go
    assert app.logs.lines == []


# ------------------------------------------------------------------------- the view


def show_view(app: MapApp, lon=-105.94, lat=35.69, zoom=10, w=600, h=300) -> None:
    """Set the view traits as the front-end does once the map is drawn (Leaflet's maths)."""
    metres_per_px = 2 * math.pi * 6378137.0 / (256 * 2**zoom)
    cx, cy = inspector.lonlat_to_3857(lon, lat)

    def lonlat(x: float, y: float) -> tuple[float, float]:
        return math.degrees(x / 6378137.0), math.degrees(
            2 * math.atan(math.exp(y / 6378137.0)) - math.pi / 2
        )

    west, south = lonlat(cx - w / 2 * metres_per_px, cy - h / 2 * metres_per_px)
    east, north = lonlat(cx + w / 2 * metres_per_px, cy + h / 2 * metres_per_px)
    app.map.set_trait("bounds", ((south, west), (north, east)))
    app.map.set_trait("pixel_bounds", ((1000, 2000), (1000 + w, 2000 + h)))


def test_geocontext_shape_is_rows_cols(app):
    with pytest.raises(wf.GeoContextError, match="not known yet"):
        app.geocontext()
    show_view(app)
    assert app.map_dimensions() == (600, 300)
    ctx = app.geocontext()
    rows, cols = ctx.arr_shape
    assert cols == 600 and abs(rows - 300) <= 1  # one pixel per screen pixel
    assert ctx.crs == "EPSG:3857"
    utm = app.geocontext(resolution=120, crs="utm")
    assert "+zone=13" in utm.crs
    result = ndvi_image().compute(app.geocontext(resolution=500))
    assert result.ndarray.shape[0] == 1 and result.ndarray.shape[2] > result.ndarray.shape[1]


def test_autoscale_uses_view_percentiles(app):
    show_view(app)
    rgb = s2().pick_bands("red green blue")
    layer = visualize(rgb, "rgb", reduction="median", map=app)
    row = app.layer_list.row(layer)
    pairs = row.run_autoscale().result(timeout=300)
    data = rgb.median(axis="images").compute(app.geocontext()).ndarray
    for band, (lo, hi) in zip(data, pairs, strict=True):
        expected = np.percentile(band.compressed(), [2, 98])
        assert np.allclose([lo, hi], expected)
    assert layer.scales == pairs and layer.autoscale_state == "done"
    assert query(layer.url)["scales"] == str(pairs).replace("None", "null")
    png = fetch_png(tile_url(layer))
    assert png[..., :3].std() > 10


def test_inspector_shows_values_masked_and_errors(app):
    ndvi = ndvi_image()
    visualize(ndvi, "ndvi", scales=[-1, 1], map=app)
    visualize(wf.Image.from_id("no-such-product:image"), "bad", map=app)
    app.inspecting_pixels = True
    panel = app.inspector
    assert panel._control in app.controls
    lon, lat = -105.94, 35.69
    futures = panel.inspect(lon, lat)
    for f in futures:
        f.result(timeout=300)
    rows = dict(panel.rows)
    assert rows["bad"][0].startswith("error:")
    name, value = rows["ndvi"][0].split(": ")
    assert -1 <= float(value) <= 1
    ndvi_layer = next(lyr for lyr in app.layers if getattr(lyr, "name", "") == "ndvi")
    x, y = inspector.lonlat_to_3857(lon, lat)
    direct = inspector.fetch_values(ndvi_layer.value_url(x, y))
    assert inspector.format_values(direct) == rows["ndvi"]
    # Far outside the sample data every band is masked or the image is empty.
    for f in panel.inspect(10.0, 50.0):
        f.result(timeout=300)
    far = dict(panel.rows)["ndvi"][0]
    assert far == inspector.EMPTY or far.endswith(inspector.MASKED)
    app.inspecting_pixels = False
    assert panel._control not in app.controls


def test_inspector_and_diagnose_report_what_the_server_answers(app, monkeypatch):
    layer = visualize(ndvi_image(), "ndvi", scales=[-1, 1], map=app)
    outside = inspector.fetch_values(layer.value_url(1e9, 0.0))  # metres beyond the world
    assert "x=" in outside["error"] and "outside web-mercator" in outside["error"]
    report = mapwidget.diagnose(app)
    assert report.server_ok and report.server_message == "answering (ok)"
    # A server that is gone: both name it instead of raising.
    gone = f"http://127.0.0.1:{free_port()}"
    answer = inspector.fetch_values(f"{gone}/layers/{layer.registration.id}/value?x=0&y=0")
    assert answer["error"].startswith(f"cannot reach the tile server at {gone}")
    monkeypatch.setenv("TILES_SERVER_URL", gone)
    report = mapwidget.diagnose(app)
    assert not report.server_ok and report.server_url == gone
    assert report.server_message.startswith(
        f"not answering: cannot reach the tile server at {gone}"
    )
    assert "hint: the kernel cannot reach the tile server" in str(report)


# ------------------------------------------------------------------------- the map


def test_map_shows_the_first_layer_with_a_footprint(app):
    from tiles.data import catalog

    records = catalog.search("sample:s2")
    w, s, e, n = shapely.union_all([shapely.geometry.shape(r.footprint) for r in records]).bounds
    app.center, app.zoom = (0.0, 0.0), 3
    visualize(ndvi_image(), "ndvi", scales=[-1, 1], map=app)
    lat, lon = app.center
    assert s < lat < n and w < lon < e
    # The data fits the assumed 900 x 500 px view, and would not one zoom level closer.
    (x0, y0), (x1, y1) = mercantile.xy(w, s), mercantile.xy(e, n)
    world = 2 * math.pi * 6378137.0

    def fits(zoom):
        scale = 256 * 2**zoom / world
        return (x1 - x0) * scale <= 900 and (y1 - y0) * scale <= 500

    assert fits(app.zoom) and not fits(app.zoom + 1)
    # Later layers leave the view where the user put it.
    app.center, app.zoom = (10.0, 10.0), 6
    visualize(s2().pick_bands("red"), "red", map=app)
    assert app.center == [10.0, 10.0] and app.zoom == 6


def test_layer_ordering_and_removal(app):
    a = visualize(ndvi_image(), "a", map=app)
    visualize(ndvi_image() * 2, "b", map=app)
    c = visualize(ndvi_image() * 3, "c", map=app)
    names = lambda: [lyr.name for lyr in app.layers if isinstance(lyr, WorkflowsLayer)]  # noqa: E731
    assert names() == ["a", "b", "c"]
    app.move_layer_up(a)
    assert names() == ["b", "a", "c"]
    app.move_layer_down("b")  # already lowest above the basemap
    assert names() == ["b", "a", "c"] and app.layers[0].base
    app.move_layer(c, 1)
    assert names() == ["c", "b", "a"]
    rows = app.layer_list.children
    assert [r.layer.name for r in rows] == ["a", "b", "c"]  # top layer first
    app.remove_layer("b")
    assert names() == ["c", "a"]
    app.clear_layers()
    assert names() == [] and len(app.layers) == 1
    del a


def test_visualize_on_a_plain_ipyleaflet_map():
    m = ipyleaflet.Map()
    layer = visualize(ndvi_image(), "ndvi", scales=[-1, 1], map=m)
    assert layer in m.layers and layer.url
    assert visualize(ndvi_image(), "ndvi", map=m) is layer


def test_tile_layer_is_not_added_anywhere():
    layer = mapwidget.tile_layer(ndvi_image(), "ndvi", scales=[-1, 1], colormap="magma")
    assert isinstance(layer, WorkflowsLayer) and layer.url and layer.colormap == "magma"
    assert layer.url_template.endswith("/{z}/{x}/{y}.png")
    col = mapwidget.tile_layer(s2().pick_bands("red"), reduction="max")
    assert isinstance(col, WorkflowsLayer) and query(col.url)["reduction"] == "max"
    png = fetch_png(tile_url(col))
    assert png.shape == (256, 256, 4)
    # the reference's order: name, scales, colormap, reduction, checkerboard
    positional = s2().pick_bands("red").tile_layer("red", [[0, 0.3]], None, "min", False)
    assert positional.reduction == "min" and positional.checkerboard is False
    assert query(positional.url)["reduction"] == "min"
    with pytest.raises(wf.ProxyTypeError):
        mapwidget.tile_layer(wf.Int(1))


# ------------------------------------------------------------------------- routing


def test_jupyterhub_prefix_routes_tiles_through_jupyter(app, monkeypatch):
    layer = visualize(ndvi_image(), "ndvi", scales=[-1, 1], map=app)
    port = urllib.parse.urlsplit(layer.registration.base_url).port
    direct = layer.url
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ana/")
    routing.state.page_url = "https://hub.example.org/user/ana/lab"  # re-routes the layers
    assert layer.url.startswith(f"/user/ana/proxy/{port}/layers/")
    assert layer.url.split("/layers/", 1)[1] == direct.split("/layers/", 1)[1]
    report = mapwidget.diagnose(app)
    assert report.route.kind == "jupyter-proxy" and "JUPYTERHUB_SERVICE_PREFIX" in str(report)


def test_remote_page_and_explicit_public_url(app):
    layer = visualize(ndvi_image(), "ndvi", scales=[-1, 1], map=app)
    port = urllib.parse.urlsplit(layer.registration.base_url).port
    app.map.set_trait("window_url", "http://10.1.2.3:8888/jl/lab/tree/x.ipynb")
    assert layer.url.startswith(f"/jl/proxy/{port}/layers/")
    routing.set_public_url("https://tiles.example.org/{port}/")
    assert layer.url.startswith(f"https://tiles.example.org/{port}/layers/")
    routing.set_public_url(None)
    app.map.set_trait("window_url", "http://127.0.0.1:8888/lab")
    assert layer.url.startswith(layer.registration.base_url)
    assert mapwidget.diagnose(app).route.kind == "direct"


# ------------------------------------------------------------------------- import cost


def test_importing_tiles_loads_no_widgets():
    code = "import sys, tiles; print('ipyleaflet' in sys.modules, 'ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
