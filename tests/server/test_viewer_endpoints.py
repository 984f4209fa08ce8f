"""What the viewer asks the server besides tiles: a collection's dates, one date's tiles,
scales for a view, its basemap setting and the reductions its control offers."""

from __future__ import annotations

import datetime as dt
import json

import mercantile
import numpy as np
import pytest

import tiles as wf
from tests.server.support import decode_png, get_json, http, register, tile_url
from tiles import display
from tiles.data import catalog

TILE = mercantile.Tile(x=210, y=403, z=10)
RGB = "red green blue"


def s2(start="2023-01-01", end="2024-01-01"):
    return wf.ImageCollection.from_id("sample:s2", start, end)


def test_dates_of_a_collection_layer(server):
    layer = register(server.base_url, s2("2023-03-01", "2023-09-01").pick_bands("red").graft)
    answer = get_json(f"{server.base_url}/layers/{layer['id']}/dates")
    records = catalog.search("sample:s2", start="2023-03-01", end="2023-09-01")
    expected = sorted({r.acquired.astimezone(dt.timezone.utc).date().isoformat() for r in records})
    assert answer == {"dates": expected, "known": True} and len(expected) >= 5
    image = register(server.base_url, wf.Image.from_id("sample:dem:santa_fe").graft)
    assert get_json(f"{server.base_url}/layers/{image['id']}/dates")["dates"] == []


def test_image_date_shows_only_that_days_images(server):
    collection = register(server.base_url, s2().pick_bands(RGB).graft, scales=[[0, 0.3]] * 3)
    day = "2023-07-14"
    got = decode_png(http("GET", tile_url(collection, TILE, f"image_date={day}"))[2])
    # The same day as its own collection, dated by the catalog search instead.
    one_day = s2(day, "2023-07-15").pick_bands(RGB)
    assert len(catalog.search("sample:s2", start=day, end="2023-07-15")) == 2
    alone = register(server.base_url, one_day.graft, scales=[[0, 0.3]] * 3)
    np.testing.assert_array_equal(got, decode_png(http("GET", tile_url(alone, TILE))[2]))
    everything = decode_png(http("GET", tile_url(collection, TILE))[2])
    assert not np.array_equal(got, everything)
    status, _, body = http("GET", tile_url(collection, TILE, "image_date=July"))
    assert status == 400 and "image_date" in json.loads(body)["error"]


def test_view_scales_are_the_views_percentiles(server):
    layer = register(server.base_url, wf.Image.from_id("sample:dem:santa_fe").graft)
    bbox = (-106.0, 35.6, -105.8, 35.75)
    answer = get_json(
        f"{server.base_url}/layers/{layer['id']}/view_scales?bbox={','.join(map(str, bbox))}"
    )
    ctx = wf.scenes.AOI(bounds=bbox, bounds_crs="EPSG:4326", crs="EPSG:3857", shape=(512, 512))
    elevation = wf.Image.from_id("sample:dem:santa_fe").compute(ctx).ndarray[0].compressed()
    low, high = np.percentile(elevation, [2, 98])
    assert answer["scales"] == [[pytest.approx(low), pytest.approx(high)]]
    for bad, named in (("1,2", "four numbers"), ("10,0,5,1", "west < east")):
        status, _, body = http(
            "GET", f"{server.base_url}/layers/{layer['id']}/view_scales?bbox={bad}"
        )
        assert status == 400 and named in json.loads(body)["error"]
    status, _, body = http(
        "GET", f"{server.base_url}/layers/{layer['id']}/view_scales?bbox=10,10,11,11"
    )
    assert status == 400 and "no data" in json.loads(body)["error"]


def test_viewer_config_names_the_basemap_and_the_reductions(server, monkeypatch):
    reductions = list(display.LAYER_REDUCTIONS)
    config = get_json(f"{server.base_url}/viewer/config.json")
    assert config == {"basemap": None, "reductions": reductions}
    monkeypatch.setenv("TILES_BASEMAP", "https://tiles.example.org/{z}/{x}/{y}.png")
    config = get_json(f"{server.base_url}/viewer/config.json")
    assert config["basemap"] == "https://tiles.example.org/{z}/{x}/{y}.png"
    # Every reduction offered is one the tile query takes, and it takes no other.
    layer = register(server.base_url, s2().pick_bands("red").graft)
    for reduction in (*reductions, "mode"):
        status, _, body = http("GET", f"{layer['tilejson_url']}?reduction={reduction}")
        assert status == (200 if reduction in reductions else 400), (reduction, body[:200])
