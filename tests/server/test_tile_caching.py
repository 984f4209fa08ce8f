"""HTTP caching of tiles (ETag, Cache-Control, 304) and the TileJSON legend with its colorbar,
over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import urllib.parse

import matplotlib
import numpy as np
import pytest

import tiles as wf
from tests.server.support import decode_png, get_json, http, image_graft, register, tile_over
from tests.server.support import tile_url as make_tile_url
from tiles.data import catalog
from tiles.geocontext import AOI
from tiles.server import RunningServer

IMAGE = "sample:s2:20230115_z12"
ZOOM = 12


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two servers with their own layer databases and caches, as two CDN origins would be."""
    folder = tmp_path_factory.mktemp("caching")
    first = RunningServer("127.0.0.1", 0, db_path=folder / "a.sqlite")
    second = RunningServer("127.0.0.1", 0, db_path=folder / "b.sqlite")
    yield first, second
    first.stop()
    second.stop()


def ndvi():
    nir, red = wf.Image.from_id(IMAGE).unpack_bands("nir red")
    return (nir - red) / (nir + red)


def test_tiles_of_fixed_sources_are_immutable_and_revalidate_without_computing(servers):
    first, second = servers
    graft = image_graft(IMAGE, "red")
    layer_a = register(first.base_url, graft, scales=[[0, 0.3]], colormap="viridis")
    layer_b = register(second.base_url, graft, scales=[[0, 0.3]], colormap="viridis")
    assert layer_a["id"] == layer_b["id"]  # content-addressed: the same layer everywhere
    tile = tile_over(IMAGE, ZOOM)
    status, headers, body = http("GET", make_tile_url(layer_a, tile, "session_id=a"))
    assert status == 200 and body.startswith(b"\x89PNG")
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = headers["ETag"]

    # The other server answers 304 from the request alone: nothing is computed or read.
    computed = second.service.computed
    url_b = make_tile_url(layer_b, tile, "session_id=b")
    for held in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        status, headers, body = http("GET", url_b, headers={"If-None-Match": held})
        assert (status, body) == (304, b""), held
        assert headers["ETag"] == etag and "immutable" in headers["Cache-Control"]
    assert second.service.computed == computed

    # A stale ETag, another look or another tile is a full answer with another ETag.
    status, headers, body = http("GET", url_b, headers={"If-None-Match": '"stale"'})
    assert status == 200 and headers["ETag"] == etag and body.startswith(b"\x89PNG")
    assert second.service.computed == computed + 1
    other_look = http("GET", make_tile_url(layer_b, tile, "colormap=magma"))[1]["ETag"]
    other_tile = http("GET", make_tile_url(layer_b, tile_over(IMAGE, ZOOM, dx=1)))[1]["ETag"]
    assert len({etag, other_look, other_tile}) == 3


def test_tiles_over_a_changing_catalog_revalidate_by_content(servers):
    first, _ = servers
    s2 = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2024-01-01").pick_bands("red")
    layer = register(first.base_url, s2.graft, scales=[[0, 0.3]])
    url = make_tile_url(layer, tile_over(IMAGE, ZOOM))
    status, headers, body = http("GET", url)
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=60"
    assert headers["ETag"] == '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    status, _, again = http("GET", url, headers={"If-None-Match": headers["ETag"]})
    assert (status, again) == (304, b"")

    # A parameter whose value is a graft reads whatever that graft reads: not fixed either.
    image = wf.parameter("image", wf.Image)
    param_layer = register(
        first.base_url,
        image.pick_bands("red").graft,
        scales=[[0, 0.3]],
        parameters={"image": wf.Image.from_id(IMAGE).graft},
    )
    headers = http("GET", make_tile_url(param_layer, tile_over(IMAGE, ZOOM)))[1]
    assert headers["Cache-Control"] == "public, max-age=60"


def test_errors_are_never_cached(servers):
    first, _ = servers
    layer = register(first.base_url, image_graft(IMAGE, "red"))
    status, headers, _ = http("GET", make_tile_url(layer, tile_over(IMAGE, ZOOM), "scales=bad"))
    assert status == 400 and headers["Cache-Control"] == "no-store"
    assert "ETag" not in headers


# ------------------------------------------------------------------------ legend


def computed_band_names(img) -> list[str]:
    ctx = AOI(bounds=(-106.0, 35.6, -105.9, 35.7), crs="EPSG:32613", resolution=600)
    return list(img.compute(ctx).bandinfo)


def test_tilejson_legend_and_colorbar_of_a_colormapped_layer(servers):
    first, _ = servers
    layer = register(first.base_url, ndvi().graft, scales=[[-0.2, 0.8]], colormap="RdYlGn")
    legend = get_json(layer["tilejson_url"])["legend"]
    names = computed_band_names(ndvi())
    assert len(names) == 1
    assert {k: v for k, v in legend.items() if k != "colorbar"} == {
        "colormap": "RdYlGn",
        "scales": [[-0.2, 0.8]],
        "bands": names,
    }
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(legend["colorbar"]).query)
    assert query == {"colormap": ["RdYlGn"], "scales": ["[[-0.2, 0.8]]"], "label": names}

    status, headers, png = http("GET", legend["colorbar"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert "immutable" in headers["Cache-Control"]
    assert http("GET", legend["colorbar"], headers={"If-None-Match": headers["ETag"]})[0] == 304
    assert_strip_is(decode_png(png), "RdYlGn", inverted=False)

    # The TileJSON query's look is the legend's look; an inverted scale flips the strip.
    tj = get_json(layer["tilejson_url"] + "?colormap=viridis&scales=[[0.8,-0.2]]")
    assert tj["legend"]["colormap"] == "viridis" and tj["legend"]["scales"] == [[0.8, -0.2]]
    assert_strip_is(decode_png(http("GET", tj["legend"]["colorbar"])[2]), "viridis", inverted=True)


def assert_strip_is(rgba: np.ndarray, name: str, inverted: bool) -> None:
    """The legend's colour strip shows colormap ``name`` from left to right (or reversed)."""
    assert rgba.shape == (56, 256, 4)
    # The strip's row: the most saturated opaque row in the top half.
    row = rgba[12]
    opaque = np.flatnonzero(row[:, 3] == 255)
    inside = opaque[(opaque > 10) & (opaque < 246)]
    left, right = inside.min() + 2, inside.max() - 2  # inside the outline
    cmap = matplotlib.colormaps[name]
    for f in (0.1, 0.5, 0.9):
        x = int(round(left + f * (right - left)))
        expected = np.array(cmap(1 - f if inverted else f, bytes=True)[:3], dtype=int)
        assert np.abs(row[x, :3].astype(int) - expected).max() <= 12, (f, row[x], expected)


def test_tilejson_legend_of_rgb_and_unknown_layers(servers):
    first, _ = servers
    rgb = register(first.base_url, image_graft(IMAGE, "red", "green", "blue"), scales=[[0, 0.3]])
    legend = get_json(rgb["tilejson_url"])["legend"]
    assert legend == {
        "colormap": None,
        "scales": [[0.0, 0.3]] * 3,  # the stretch of each band
        "bands": ["red", "green", "blue"],
        "colorbar": None,
    }
    # Without scales, tiles (and so the legend) use each band's declared physical range.
    plain = register(first.base_url, image_graft(IMAGE, "red", "nir"))
    declared = [list(catalog.product("sample:s2").band(b).physical_range) for b in ("red", "nir")]
    assert get_json(plain["tilejson_url"])["legend"]["scales"] == declared
    one = get_json(plain["tilejson_url"] + "?band=nir&colormap=magma")["legend"]
    colorbar = urllib.parse.parse_qs(urllib.parse.urlsplit(one["colorbar"]).query)
    assert one["scales"] == declared[1:] and json.loads(colorbar["scales"][0]) == declared[1:]
    status, _, body = http("GET", rgb["colorbar_url"])
    assert status == 404 and "no colormap" in json.loads(body)["error"]
    # A picked band narrows the names; a parameter with no value leaves them unknown.
    assert get_json(rgb["tilejson_url"] + "?band=green")["legend"]["bands"] == ["green"]
    threshold = wf.parameter("t", wf.Float)
    masked = wf.Image.from_id(IMAGE).pick_bands("red")
    layer = register(first.base_url, masked.mask(masked > threshold).graft, parameters=["t"])
    assert get_json(layer["tilejson_url"])["legend"]["bands"] is None
    assert get_json(layer["tilejson_url"] + "?t=0.1")["legend"]["bands"] == ["red"]
    status, _, body = http("GET", layer["tilejson_url"] + "?colormap=nope")
    assert status == 400 and "colormap" in json.loads(body)["error"]
