"""The tile server over real HTTP on 127.0.0.1: pixels, parameters, caching and errors.

Tile pixels are compared with an independent rendering: rasterio warps the catalogued
files into the tile grid and numpy/matplotlib apply the documented stretch and colormap.
"""

from __future__ import annotations

import json
import urllib.parse

import mercantile
import numpy as np
import pytest
import rasterio
import shapely
import shapely.geometry
from rasterio.enums import Resampling
from rasterio.warp import reproject
from rasterio.warp import transform as transform_points

import tiles as wf
from tests.server.support import (
    assert_pixels_match,
    decode_png,
    expected_rgba,
    fetch_tile,
    get_json,
    grid_transform,
    http,
    image_graft,
    reference_band,
    register,
    tile_over,
    tile_url,
)
from tiles.data import catalog
from tiles.errors import ParameterError, ProxyTypeError
from tiles.server import register_layer

IMAGE = "sample:s2:20230115_z12"
ZOOM = 12  # finer than the 60 m sample pixels, so reads use full resolution like the reference


@pytest.fixture(scope="module")
def base(server) -> str:
    return server.base_url


def ndvi_image():
    nir, red = wf.Image.from_id(IMAGE).unpack_bands("nir red")
    return (nir - red) / (nir + red)


def reference_ndvi(tile: mercantile.Tile) -> np.ma.MaskedArray:
    nir = reference_band(IMAGE, "nir", tile)
    red = reference_band(IMAGE, "red", tile)
    return (nir - red) / (nir + red)


# ------------------------------------------------------------------------ basics


def test_health_and_viewer_page(base):
    health = get_json(f"{base}/health")
    assert health["status"] == "ok"
    assert health["queue"]["workers"] >= 1
    status, headers, body = http("GET", f"{base}/")
    assert status == 200 and b"<html" in body.lower()
    assert headers["Content-Type"].startswith("text/html")


def test_register_list_and_describe_layers(base):
    graft = image_graft(IMAGE, "red", "green", "blue")
    answer = register(base, graft, name="rgb", scales=[[0, 0.3]] * 3)
    assert answer["url_template"] == f"{base}/layers/{answer['id']}/{{z}}/{{x}}/{{y}}.png"
    assert answer["tilejson_url"] == f"{base}/layers/{answer['id']}/tilejson.json"
    listed = get_json(f"{base}/layers")["layers"]
    assert answer["id"] in [layer["id"] for layer in listed]
    described = get_json(f"{base}/layers/{answer['id']}")
    assert described["graft"] == graft
    assert described["scales"] == [[0.0, 0.3]] * 3
    assert described["colormap"] is None and described["checkerboard"] is True


def test_same_definition_gives_same_id(base):
    graft = image_graft(IMAGE, "red")
    renumbered = {"a": IMAGE, "b": ["wf.Image.load", "a"], "c": "red"}
    renumbered.update({"d": ["wf.pick_bands", "b", "c"], "returns": "d"})
    first = register(base, graft, scales=[0, 1], colormap="viridis")
    status, _, body = http(
        "POST", f"{base}/layers", {"graft": renumbered, "scales": [[0, 1]], "colormap": "viridis"}
    )
    assert status == 200  # already known: not created again
    assert json.loads(body)["id"] == first["id"]
    other = register(base, graft, scales=[0, 1], colormap="magma")
    assert other["id"] != first["id"]


def test_tilejson_describes_the_source(base):
    layer = register(base, image_graft(IMAGE, "red"), name="red band")
    tj = get_json(layer["tilejson_url"])
    assert tj["tilejson"] == "3.0.0"
    assert tj["tiles"] == [layer["url_template"]]
    np.testing.assert_allclose(tj["bounds"], catalog.image(IMAGE).bounds_lonlat)
    assert 0 == tj["minzoom"] < tj["maxzoom"] <= 22
    assert tj["name"] == "red band"


# ------------------------------------------------------------------------ pixels


def test_rgb_tile_matches_independent_warp(base):
    layer = register(base, image_graft(IMAGE, "red", "green", "blue"), scales=[[0, 0.3]] * 3)
    tile = tile_over(IMAGE, ZOOM)
    got = fetch_tile(layer, tile)
    bands = [reference_band(IMAGE, b, tile) for b in ("red", "green", "blue")]
    assert_pixels_match(got, expected_rgba(bands, [(0, 0.3)] * 3))
    assert (got[..., 3] == 255).all()


def test_a_graft_chaining_hundreds_of_keys_gives_its_tile(base):
    graft = image_graft(IMAGE, "red")
    previous = graft["returns"]
    for i in range(201):  # an odd number of negations: the negated band
        graft[f"n{i}"] = ["wf.neg", previous]
        previous = f"n{i}"
    graft["returns"] = previous
    layer = register(base, graft, scales=[[-0.3, 0]])
    tile = tile_over(IMAGE, ZOOM)
    got = fetch_tile(layer, tile)
    assert_pixels_match(got, expected_rgba([-reference_band(IMAGE, "red", tile)], [(-0.3, 0)]))


def test_colormap_ndvi_matches_matplotlib(base):
    layer = register(base, ndvi_image().graft, scales=[[-0.2, 0.8]], colormap="RdYlGn")
    tile = tile_over(IMAGE, ZOOM, dx=1)
    got = fetch_tile(layer, tile)
    assert_pixels_match(got, expected_rgba([reference_ndvi(tile)], [(-0.2, 0.8)], "RdYlGn"))


def test_no_scales_stretch_by_the_declared_range_so_adjacent_tiles_join(base):
    layer = register(base, image_graft(IMAGE, "nir"))
    left = tile_over(IMAGE, ZOOM)
    right = mercantile.Tile(left.x + 1, left.y, ZOOM)
    got = np.concatenate([fetch_tile(layer, t, "scales=null") for t in (left, right)], axis=1)
    ref = np.ma.concatenate([reference_band(IMAGE, "nir", t) for t in (left, right)], axis=1)
    lo, hi = catalog.product("sample:s2").band("nir").physical_range
    assert_pixels_match(got, expected_rgba([ref], [(lo, hi)]))
    # The same value has the same colour in both tiles, across their shared edge too...
    valid = ~np.ma.getmaskarray(ref)
    order = np.argsort(ref.data[valid], kind="stable")
    assert (np.diff(got[..., 0][valid][order].astype(int)) >= 0).all()
    edge = valid[:, 255] & valid[:, 256] & (np.abs(ref.data[:, 255] - ref.data[:, 256]) < 1e-3)
    assert edge.sum() > 10
    assert (np.abs(got[edge, 255, 0].astype(int) - got[edge, 256, 0].astype(int)) <= 1).all()
    # ...where each tile's own range would have stretched them differently.
    assert (ref[:, :256].min(), ref[:, :256].max()) != (ref[:, 256:].min(), ref[:, 256:].max())


def test_masked_pixels_show_checkerboard_inside_the_footprint_else_transparency(base):
    nir = wf.Image.from_id(IMAGE).pick_bands("nir")
    layer = register(base, nir.mask(nir > 0.3).graft, scales=[[0, 0.5]])
    footprint = shapely.geometry.shape(catalog.image(IMAGE).footprint)
    w, s, e, n = footprint.bounds
    tile = mercantile.tile(w, (s + n) / 2, ZOOM)  # across the west edge
    got = fetch_tile(layer, tile, "checkerboard=true")
    bounds = mercantile.xy_bounds(tile)
    res = (bounds.right - bounds.left) / 256
    cols, rows = np.meshgrid(np.arange(256), np.arange(256))
    xs, ys = bounds.left + (cols + 0.5) * res, bounds.top - (rows + 0.5) * res
    lons, lats = transform_points("EPSG:3857", "EPSG:4326", xs.ravel(), ys.ravel())
    points = shapely.points(lons, lats).reshape(256, 256)
    inside = shapely.contains(footprint, points)
    pixel_degrees = 360 / 2**ZOOM / 256
    near_edge = shapely.distance(footprint.boundary, points) < 2 * pixel_degrees
    ref = reference_band(IMAGE, "nir", tile)
    ref = np.ma.masked_where(ref.filled(0) > 0.3, ref)
    nodata = np.ma.getmaskarray(ref)
    expected = expected_rgba([ref], [(0, 0.5)])  # checkerboard wherever there is no data
    expected[nodata & ~inside] = 0  # ...but only inside the footprint
    far = ~near_edge
    assert (nodata & inside & far).sum() > 100 and (nodata & ~inside & far).sum() > 1000
    assert_pixels_match(got[far], expected[far])
    without = fetch_tile(layer, tile, "checkerboard=false")
    assert (without[nodata][:, 3] == 0).all() and (without[~nodata][:, 3] == 255).all()


def test_query_options_override_layer_defaults(base):
    layer = register(base, image_graft(IMAGE, "red"), scales=[[0, 1]], colormap="viridis")
    tile = tile_over(IMAGE, ZOOM)
    ref = reference_band(IMAGE, "red", tile)
    assert_pixels_match(fetch_tile(layer, tile), expected_rgba([ref], [(0, 1)], "viridis"))
    query = urllib.parse.urlencode({"colormap": "magma", "scales": "[[0.05, 0.2]]"})
    got = fetch_tile(layer, tile, query)
    assert_pixels_match(got, expected_rgba([ref], [(0.05, 0.2)], "magma"))
    grey = fetch_tile(layer, tile, "colormap=&scales=[[0,0.3]]")
    assert_pixels_match(grey, expected_rgba([ref], [(0, 0.3)]))


def test_median_composite_of_a_collection(base):
    ic = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2023-07-01").pick_bands("red")
    layer = register(base, ic.graft, scales=[[0, 0.25]], colormap="viridis")
    tile = tile_over(IMAGE, 11)
    got = fetch_tile(layer, tile, "reduction=median")
    w, s, e, n = mercantile.bounds(tile)
    records = catalog.search("sample:s2", "2023-01-01", "2023-07-01", bbox_lonlat=(w, s, e, n))
    assert len(records) > 3
    stack = np.ma.stack([reference_band(r.id, "red", tile) for r in records])
    median = np.ma.median(stack, axis=0)
    # Overview choice at this zoom may differ from a full-resolution warp on a few pixels.
    assert_pixels_match(got, expected_rgba([median], [(0, 0.25)], "viridis"), max_bad=0.02)
    assert not np.array_equal(got, fetch_tile(layer, tile, "reduction=max"))


def test_tiles_outside_every_footprint_are_blank_without_computing(server, base):
    layer = register(base, image_graft(IMAGE, "red"), scales=[[0, 0.3]])
    far = mercantile.tile(20.0, 0.0, ZOOM)  # central Africa
    before = server.service.computed
    assert (fetch_tile(layer, far, "checkerboard=true") == 0).all()  # no data, no checkerboard
    assert (fetch_tile(layer, far, "checkerboard=false") == 0).all()
    assert server.service.computed == before


def test_parameter_in_the_query_changes_pixels(base):
    threshold = wf.parameter("threshold", wf.Float)
    mask = ndvi_image() > threshold
    layer = register(base, mask.graft, scales=[[0, 1]], parameters={"threshold": 0.2})
    tile = tile_over(IMAGE, ZOOM)
    ndvi = reference_ndvi(tile)
    tiles_by_t = {}
    for t in (0.1, 0.3):
        got = fetch_tile(layer, tile, f"threshold={t}")
        expected = expected_rgba([np.ma.masked_array(ndvi > t, ndvi.mask)], [(0, 1)])
        assert_pixels_match(got, expected)
        tiles_by_t[t] = got
    assert not np.array_equal(tiles_by_t[0.1], tiles_by_t[0.3])
    # The layer's default applies when the query leaves the parameter out.
    default = fetch_tile(layer, tile)
    assert_pixels_match(
        default, expected_rgba([np.ma.masked_array(ndvi > 0.2, ndvi.mask)], [(0, 1)])
    )
    # A parameter may also be sent as a graft, as the original client does for typed values.
    as_graft = json.dumps({"7": 0.3, "returns": "8", "8": ["wf.Float.cast", "7"]})
    got = fetch_tile(layer, tile, "threshold=" + urllib.parse.quote(as_graft))
    np.testing.assert_array_equal(got, tiles_by_t[0.3])


@pytest.fixture(scope="module")
def aligned_dem(shared_data, tmp_path_factory):
    """A real DEM warped once onto 4 web-mercator tiles in a row, catalogued as is.

    Its grid is the tile grid, so reading it into a tile is exact and the file's array
    is itself the reference for any tile (or group of tiles) inside it.
    """
    src_path = shared_data / "elevation" / "co_elevation_roi.tif"
    first = mercantile.tile(-107.135, 38.966, 14)
    transform, (rows, cols) = grid_transform(first, width_tiles=4)
    data = np.full((rows, cols), -9999.0, dtype=np.float32)
    with rasterio.open(src_path) as src:
        reproject(
            rasterio.band(src, 1),
            data,
            dst_transform=transform,
            dst_crs="EPSG:3857",
            dst_nodata=-9999.0,
            resampling=Resampling.bilinear,
        )
    path = tmp_path_factory.mktemp("dem") / "dem_3857.tif"
    profile = dict(driver="GTiff", width=cols, height=rows, count=1, dtype="float32")
    profile.update(crs="EPSG:3857", transform=transform, nodata=-9999.0, tiled=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    band = {"name": "elevation", "data_range": [0, 5000], "physical_range": [0, 5000]}
    catalog.create_product("test:dem3857", [{**band, "nodata": -9999.0}])
    record = catalog.add_image("test:dem3857", path, acquired="2020-01-01")
    return record.id, first, np.ma.masked_equal(data.astype(np.float64), -9999.0)


def convolve_reference(values: np.ma.MaskedArray, kernel: np.ndarray) -> np.ma.MaskedArray:
    """Zero-padded 2-D convolution of masked values (masked count as 0), in numpy."""
    filled = np.ma.filled(values, 0.0)
    kh, kw = kernel.shape
    padded = np.pad(filled, ((kh // 2, kh // 2), (kw // 2, kw // 2)))
    out = np.zeros_like(filled)
    flipped = kernel[::-1, ::-1]
    rows, cols = filled.shape
    for u in range(kh):
        for v in range(kw):
            out += flipped[u, v] * padded[u : u + rows, v : v + cols]
    return np.ma.masked_array(out, np.ma.getmaskarray(values))


def test_adjacent_tiles_join_under_convolution(base, aligned_dem):
    image_id, first, dem = aligned_dem
    assert not np.ma.getmaskarray(dem)[:, 200:800].any()  # the tested tiles are all data
    weights = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
    weights[0, 2] = 0.3  # asymmetric, so a flipped or shifted kernel would show
    kernel = wf.Kernel(dims=(3, 3), data=weights.ravel().tolist())
    smooth = wf.conv2d(wf.Image.from_id(image_id).pick_bands("elevation"), kernel)
    layer = register(base, smooth.graft, scales=[[2700, 3600]])
    middle = [mercantile.Tile(first.x + i, first.y, first.z) for i in (1, 2)]
    joined = np.concatenate([fetch_tile(layer, t) for t in middle], axis=1)
    reference = convolve_reference(dem, weights)[:, 256:768]
    # Summation order may differ from numpy's, so allow rare off-by-one rounding ties.
    assert_pixels_match(joined, expected_rgba([reference], [(2700, 3600)]), max_bad=0.001)
    # Without the halo the tile edges would see zeros beyond the tile: make sure that
    # reference differs, so the comparison above really tests the seam.
    unbuffered = np.concatenate(
        [convolve_reference(dem[:, 256 * i : 256 * (i + 1)], weights) for i in (1, 2)], axis=1
    )
    edge_cols = [0, 255, 256, 511]
    assert not np.array_equal(
        expected_rgba([unbuffered], [(2700, 3600)])[:, edge_cols], joined[:, edge_cols]
    )


# ------------------------------------------------------------------------ caching


def test_changing_only_the_look_rerenders_without_recomputing(server, base):
    layer = register(base, image_graft(IMAGE, "green"), scales=[[0, 0.3]])
    tile = tile_over(IMAGE, ZOOM, dx=-1)
    fetch_tile(layer, tile, "colormap=viridis")
    computed = server.service.computed
    for query in ("colormap=magma", "colormap=", "checkerboard=false", "scales=[[0,0.5]]"):
        fetch_tile(layer, tile, query)
    assert server.service.computed == computed
    fetch_tile(layer, tile, "reduction=max")  # a different reduction is different pixels
    assert server.service.computed == computed + 1


def test_png_cache_and_etag(server, base):
    layer = register(base, image_graft(IMAGE, "blue"), scales=[[0, 0.3]])
    url = tile_url(layer, tile_over(IMAGE, ZOOM, dx=3), "colormap=cividis")
    status, headers, first = http("GET", url)
    assert status == 200 and headers["ETag"] and "max-age" in headers["Cache-Control"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    hits = server.service.pngs.hits
    status, headers2, second = http("GET", url)
    assert second == first and headers2["ETag"] == headers["ETag"]
    assert server.service.pngs.hits == hits + 1
    status, _, body = http("GET", url, headers={"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""


# ------------------------------------------------------------------------ values


def test_value_at_point_is_the_stored_pixel(base):
    layer = register(base, image_graft(IMAGE, "red", "nir"))
    record = catalog.image(IMAGE)
    w, s, e, n = record.bounds_lonlat
    lon, lat = w + 0.37 * (e - w), s + 0.61 * (n - s)
    x, y = mercantile.xy(lon, lat)
    answer = get_json(f"{base}/layers/{layer['id']}/value?x={x}&y={y}")
    assert answer["crs"] == "EPSG:3857"
    for band in ("red", "nir"):
        path, bidx = record.files[band]
        with rasterio.open(path) as src:
            (px,), (py,) = transform_points("EPSG:3857", src.crs, [x], [y])
            stored = next(src.sample([(px, py)], indexes=bidx))[0]
        info = catalog.product("sample:s2").band(band)
        expected = (stored - info.data_range[0]) / (info.data_range[1] - info.data_range[0])
        assert answer["values"][band] == pytest.approx(expected)


def test_value_outside_data_is_empty_or_none(base):
    image = register(base, image_graft(IMAGE, "red"))
    collection = register(base, wf.ImageCollection.from_id("sample:s2").pick_bands("red").graft)
    # Anywhere off the data, wherever rounding puts the one-pixel box: never a 500.
    for lon, lat in ((20.0, 0.0), (-105.0, 35.0), (-106.5, 35.7), (10.0, 60.0), (179.99, 0.0)):
        x, y = mercantile.xy(lon, lat)
        for layer in (image, collection):
            answer = get_json(f"{base}/layers/{layer['id']}/value?x={x}&y={y}")
            assert answer["values"] in ({}, {"red": None}), (lon, lat)


# ------------------------------------------------------------------------ errors


def test_unknown_layer_is_404(base):
    for path in ("", "/3/1/2.png", "/tilejson.json", "/errors", "/value?x=0&y=0"):
        status, _, body = http("GET", f"{base}/layers/doesnotexist{path}")
        assert status == 404, path
        assert "doesnotexist" in json.loads(body)["error"]


@pytest.mark.parametrize(
    ("zxy", "named"),
    [("3/a/1", "x='a'"), ("3/8/1", "x=8"), ("3/1/-1", "y"), ("31/0/0", "z=31"), ("b/0/0", "z")],
)
def test_bad_tile_coordinates_are_400(base, zxy, named):
    layer = register(base, image_graft(IMAGE, "red"))
    status, _, body = http("GET", f"{base}/layers/{layer['id']}/{zxy}.png")
    assert status == 400
    assert named in json.loads(body)["error"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("threshold=abc", "threshold"),
        ("threshold=0.1&thresh=2", "thresh"),
        ("scales=[[0,1,2]]", "scales"),
        ("scales=[[0,1]", "scales"),
        ("colormap=viridiss", "viridis"),
        ("reduction=mode", "reduction"),
        ("checkerboard=maybe", "checkerboard"),
        ("", "missing value for parameter 'threshold'"),
    ],
)
def test_bad_query_values_are_400_naming_them(base, query, named):
    mask = ndvi_image() > wf.parameter("threshold", wf.Float)
    layer = register(base, mask.graft, parameters=["threshold"])
    status, headers, body = http("GET", tile_url(layer, tile_over(IMAGE, ZOOM), query))
    assert status == 400, body
    assert named in json.loads(body)["error"]
    assert headers["Cache-Control"] == "no-store"


def test_bad_layer_definitions_are_400(base):
    cases = [
        ({"graft": {"0": 1}}, "returns"),
        ({"graft": image_graft(IMAGE), "colormap": "nope"}, "colormap"),
        ({"graft": image_graft(IMAGE), "scales": [[0, 1]] * 2, "colormap": "viridis"}, "single"),
        ({"graft": image_graft(IMAGE), "reduction": "first"}, "reduction"),
        ({"graft": image_graft(IMAGE), "bogus": 1}, "bogus"),
        ({"name": "no graft"}, "graft"),
    ]
    for body, named in cases:
        status, _, answer = http("POST", f"{base}/layers", body)
        assert status == 400, body
        assert named in json.loads(answer)["error"]
    status, _, answer = http(
        "POST", f"{base}/layers", None, headers={"Content-Type": "application/json"}
    )
    assert status == 400


def test_computation_errors_answer_their_status_and_are_recorded_per_session(base):
    missing = register(base, image_graft("sample:s2:nope", "red"))
    tile = tile_over(IMAGE, ZOOM)
    status, _, body = http("GET", tile_url(missing, tile, "session_id=s1"))
    assert status == 404
    answer = json.loads(body)
    assert answer["error_type"] == "NotFoundError" and answer["status"] == 404
    assert "nope" in answer["error"] and len(answer["error"]) <= 500
    four_bands = register(base, image_graft(IMAGE))  # 4 bands cannot be rendered
    status, _, body = http("GET", tile_url(four_bands, tile, "session_id=s2"))
    assert status == 400 and "4 bands" in json.loads(body)["error"]
    records = get_json(f"{base}/layers/{missing['id']}/errors?session_id=s1")["records"]
    assert records and records[-1]["level"] == "ERROR" and "nope" in records[-1]["message"]
    assert records[-1]["tile"] == [tile.z, tile.x, tile.y]
    assert get_json(f"{base}/layers/{missing['id']}/errors?session_id=other")["records"] == []
    # The server is still fine.
    assert get_json(f"{base}/health")["status"] == "ok"


def test_warnings_reach_the_layer_log(base):
    layer = register(base, image_graft(IMAGE, "red", "green", "blue"), log_level="WARNING")
    tile = tile_over(IMAGE, ZOOM)
    fetch_tile(layer, tile, "session_id=w1&scales=[[0,0.3],[0,0.3]]")
    records = get_json(f"{base}/layers/{layer['id']}/errors?session_id=w1")["records"]
    assert any("2 pairs for 3 bands" in r["message"] for r in records)


# ------------------------------------------------------------------------ Python API


def test_tile_layer_from_python(base, monkeypatch):
    monkeypatch.setenv("TILES_SERVER_URL", base)
    mask = ndvi_image() > wf.parameter("threshold", wf.Float)
    layer = register_layer(mask, "mask", scales=[0, 1], threshold=0.3)
    assert layer.url_template.startswith(base + "/layers/")
    tile = tile_over(IMAGE, ZOOM)
    url = layer.url(session_id="py", threshold=0.1).format(z=tile.z, x=tile.x, y=tile.y)
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query, keep_blank_values=True)
    assert query == {
        "session_id": ["py"],
        "colormap": [""],
        "reduction": ["mosaic"],
        "checkerboard": ["true"],
        "scales": ["[[0.0, 1.0]]"],
        "threshold": ["0.1"],
    }
    status, _, body = http("GET", url)
    assert status == 200
    ndvi = reference_ndvi(tile)
    assert_pixels_match(
        decode_png(body), expected_rgba([np.ma.masked_array(ndvi > 0.1, ndvi.mask)], [(0, 1)])
    )
    assert layer.errors(session_id="py") == []
    with pytest.raises(ParameterError, match="unexpected"):
        layer.url(thresh=1)


def test_tile_layer_validates_options_before_registering(base, monkeypatch):
    monkeypatch.setenv("TILES_SERVER_URL", base)
    rgb = wf.Image.from_id(IMAGE).pick_bands("red green blue")
    with pytest.raises(ParameterError, match="colormap"):
        register_layer(rgb, colormap="not-a-map")
    with pytest.raises(ParameterError, match="single band"):
        register_layer(rgb, colormap="viridis", scales=[[0, 1], [0, 1], [0, 1]])
    with pytest.raises(ParameterError, match="at most 3"):
        register_layer(rgb, scales=[[0, 1]] * 4)
    with pytest.raises(ParameterError, match="unexpected parameter"):
        register_layer(rgb, threshold=1)
    with pytest.raises(ProxyTypeError):
        register_layer(wf.Int(1))
    ic = wf.ImageCollection.from_id("sample:s2").pick_bands("red")
    with pytest.raises(ParameterError, match="reduction"):
        register_layer(ic, reduction="first")
    layer = register_layer(ic, reduction="max", colormap="viridis")
    assert layer.reduction == "max" and "reduction=max" in layer.url()


def test_band_query_picks_bands_before_rendering(base):
    layer = register(base, image_graft(IMAGE, "red", "green", "blue"), scales=[[0, 0.3]] * 3)
    tile = tile_over(IMAGE, ZOOM)
    got = fetch_tile(layer, tile, "band=green&colormap=viridis&scales=[[0,0.3]]")
    ref = reference_band(IMAGE, "green", tile)
    assert_pixels_match(got, expected_rgba([ref], [(0, 0.3)], "viridis"))
    status, _, body = http("GET", tile_url(layer, tile, "band=swir"))
    assert status == 400 and "swir" in json.loads(body)["error"]
