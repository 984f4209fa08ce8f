"""rasterize, buffer and vector masks on real Natural Earth / US states shapes and real pixels.

Every expectation is computed independently: shapes reprojected with
``rasterio.warp.transform_geom`` and burnt one by one with ``rasterio.features.geometry_mask``
into the GeoContext's grid, combined with numpy; buffers with shapely.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio.features
import rasterio.warp
import shapely
import shapely.geometry

import tiles as wf
from tiles.data import catalog
from tiles.engine.vector import GeoJSONError
from tiles.errors import GeoContextError
from tiles.geocontext import AOI, DLTile, XYZTile

# Four Corners: Utah, Colorado, Arizona and New Mexico meet at (-109.045, 36.999).
FOUR_CORNERS = (-109.6, 36.6, -108.4, 37.4)
CONTEXTS = {
    "utm": AOI(bounds=FOUR_CORNERS, crs="EPSG:32612", resolution=1000),
    "utm_all_touched": AOI(bounds=FOUR_CORNERS, crs="EPSG:32612", resolution=1000,
                           all_touched=True),
    "xyz": XYZTile(50, 99, 8),
    "dltile": DLTile.from_latlon(37.0, -109.05, resolution=400, tilesize=256, pad=8),
    "lonlat": AOI(bounds=FOUR_CORNERS, crs="EPSG:4326", resolution=0.01),
}  # fmt: skip


def _inside(geometry: dict, ctx) -> np.ndarray:
    """Pixels of ``ctx`` that a lon/lat GeoJSON geometry covers, by rasterio directly."""
    projected = rasterio.warp.transform_geom("EPSG:4326", ctx.rasterio_crs, geometry)
    return ~rasterio.features.geometry_mask(
        [projected], out_shape=ctx.arr_shape, transform=ctx.transform, all_touched=ctx.all_touched
    )


def _load(shared_data, name: str) -> dict:
    return json.loads((shared_data / "vector" / name).read_text())


@pytest.fixture(scope="module")
def states(shared_data) -> dict:
    return _load(shared_data, "us_states.geojson")


@pytest.fixture(scope="module")
def corner_states(states) -> list[dict]:
    return [f for f in states["features"] if f["properties"]["id"] in ("UT", "CO", "AZ", "NM")]


@pytest.mark.parametrize("name", CONTEXTS)
def test_feature_rasterize_matches_rasterio(corner_states, name):
    ctx = CONTEXTS[name]
    for feature in corner_states:
        result = wf.Feature.from_geojson(feature).rasterize(value=7).compute(ctx)
        inside = _inside(feature["geometry"], ctx)
        assert inside.any() and not inside.all()
        arr = result.ndarray
        assert arr.shape == (1, *ctx.arr_shape)
        np.testing.assert_array_equal(arr.mask[0], ~inside)
        np.testing.assert_array_equal(arr.data[0], np.where(inside, 7.0, 0.0))
        assert result.properties == feature["properties"]
        assert dict(result.bandinfo) == {"features": {}}


@pytest.mark.parametrize("name", ["utm", "utm_all_touched", "xyz"])
def test_feature_collection_add_and_replace_match_rasterio(states, name):
    ctx = CONTEXTS[name]
    features = [
        {**f, "properties": {**f["properties"], "rank": i + 1}}
        for i, f in enumerate(states["features"])
    ]
    fc = wf.FeatureCollection.from_geojson({"type": "FeatureCollection", "features": features})
    insides = [_inside(f["geometry"], ctx) for f in features]
    covered = np.any(insides, axis=0)
    added = sum(
        inside * float(f["properties"]["rank"]) for inside, f in zip(insides, features, strict=True)
    )
    replaced = np.zeros(ctx.arr_shape)
    for inside, f in zip(insides, features, strict=True):
        replaced[inside] = f["properties"]["rank"]

    for algorithm, expected in (("add", added), ("replace", replaced)):
        result = fc.rasterize(value="rank", merge_algorithm=algorithm).compute(ctx)
        np.testing.assert_array_equal(result.ndarray.mask[0], ~covered)
        np.testing.assert_array_equal(result.ndarray.data[0], expected)
        assert result.properties == {} and dict(result.bandinfo) == {"features": {}}
    if ctx.all_touched:
        # border pixels touch two states: "add" sums them, "replace" does not
        assert added.max() > max(f["properties"]["rank"] for f in features)


def test_missing_property_uses_default_value(corner_states):
    ctx = CONTEXTS["utm"]
    feature = corner_states[0]
    result = wf.Feature.from_geojson(feature).rasterize("population", default_value=4)
    inside = _inside(feature["geometry"], ctx)
    np.testing.assert_array_equal(result.compute(ctx).ndarray.data[0], np.where(inside, 4.0, 0))
    with pytest.raises(GeoJSONError, match="property 'name' must hold a number"):
        wf.Feature.from_geojson(feature).rasterize("name").compute(ctx)


def test_spec_add_and_replace_maxima():
    geom = wf.Geometry(type="Point", coordinates=[-109.0, 37.0])
    feat = wf.Feature(geometry=geom, properties={"foo": 1})
    fc = wf.FeatureCollection(features=[feat, feat, feat])
    ctx = CONTEXTS["utm"]
    assert fc.rasterize(value="foo").max().compute(ctx) == 3
    assert fc.rasterize(value="foo", merge_algorithm="replace").max().compute(ctx) == 1
    feat2 = wf.Feature(geometry=geom, properties={"foo": 2})
    assert feat2.rasterize(value=0.5).mean().compute(ctx) == 0.5
    assert feat2.rasterize(value="foo").mean().compute(ctx) == 2
    # one point burns exactly one pixel
    assert fc.rasterize().count().compute(ctx) == 1


def test_geometry_and_geometry_collection_rasterize(shared_data):
    lakes = {f["properties"]["name"]: f["geometry"] for f in _load(
        shared_data, "ne_110m_lakes.geojson")["features"]}  # fmt: skip
    ctx = AOI(bounds=(-93, 41, -78, 49.5), crs="EPSG:5070", resolution=5000)
    superior = wf.Geometry.from_geojson(lakes["Lake Superior"]).rasterize(value=2.5).compute(ctx)
    inside = _inside(lakes["Lake Superior"], ctx)
    np.testing.assert_array_equal(superior.ndarray.mask[0], ~inside)
    np.testing.assert_array_equal(superior.ndarray.data[0], np.where(inside, 2.5, 0.0))
    assert superior.properties == {}

    names = ["Lake Superior", "Lake Michigan", "Lake Huron", "L. Erie", "L. Ontario"]
    gc = wf.GeometryCollection([lakes[n] for n in names])
    expected = np.any([_inside(lakes[n], ctx) for n in names], axis=0)
    result = gc.rasterize().compute(ctx)
    np.testing.assert_array_equal(result.ndarray.mask[0], ~expected)
    assert result.ndarray.sum() == expected.sum()


def test_overlapping_members_fill_once(shared_data):
    """A GeometryCollection (or a Feature of one) fills covered pixels with ``value``; in a
    FeatureCollection each Feature adds its value once however its own members overlap."""
    lakes = {f["properties"]["name"]: f["geometry"] for f in _load(
        shared_data, "ne_110m_lakes.geojson")["features"]}  # fmt: skip
    ctx = AOI(bounds=(-93, 41, -78, 49.5), crs="EPSG:5070", resolution=5000)
    superior = lakes["Lake Superior"]
    grown = shapely.geometry.mapping(shapely.geometry.shape(superior).buffer(0.5))
    michigan = lakes["Lake Michigan"]
    overlapping = [superior, grown]
    covered = np.any([_inside(g, ctx) for g in overlapping], axis=0)
    assert (_inside(superior, ctx) & _inside(grown, ctx)).any()  # they do overlap

    gc = wf.GeometryCollection(overlapping).rasterize(value=2).compute(ctx).ndarray
    np.testing.assert_array_equal(gc.mask[0], ~covered)
    np.testing.assert_array_equal(gc.data[0], np.where(covered, 2.0, 0.0))
    collection = {"type": "GeometryCollection", "geometries": overlapping}
    feature = {"type": "Feature", "geometry": collection, "properties": {"v": 3}}
    single = wf.Feature.from_geojson(feature).rasterize(value="v").compute(ctx).ndarray
    np.testing.assert_array_equal(single.data[0], np.where(covered, 3.0, 0.0))

    other = {"type": "Feature", "geometry": grown, "properties": {"v": 10}}
    third = {"type": "Feature", "geometry": michigan, "properties": {"v": 100}}
    fc = wf.FeatureCollection.from_geojson(
        {"type": "FeatureCollection", "features": [feature, other, third]}
    )
    added = fc.rasterize(value="v").compute(ctx).ndarray
    expected = 3.0 * covered + 10.0 * _inside(grown, ctx) + 100.0 * _inside(michigan, ctx)
    np.testing.assert_array_equal(added.data[0], expected)
    replaced = fc.rasterize(value="v", merge_algorithm="replace").compute(ctx).ndarray
    last = np.where(_inside(michigan, ctx), 100.0, np.where(_inside(grown, ctx), 10.0, 0.0))
    np.testing.assert_array_equal(replaced.data[0], np.where(covered & (last == 0), 3.0, last))


def test_nothing_in_the_grid_is_fully_masked(corner_states):
    far = AOI(bounds=(10, 45, 11, 46), crs="EPSG:32632", resolution=2000)
    fc = wf.FeatureCollection.from_geojson({"type": "FeatureCollection", "features": corner_states})
    arr = fc.rasterize().compute(far).ndarray
    assert arr.mask.all() and not arr.data.any()
    assert wf.FeatureCollection([]).rasterize().compute(far).ndarray.mask.all()


def test_rasterize_needs_a_geocontext():
    with pytest.raises(GeoContextError, match="rasterizing a vector needs a GeoContext"):
        wf.Geometry("Point", [0, 0]).rasterize().compute()


def test_buffer_matches_shapely(shared_data):
    lakes = _load(shared_data, "ne_110m_lakes.geojson")["features"]
    salt = next(f for f in lakes if f["properties"]["name"] == "Great Salt Lake")
    expected = shapely.buffer(shapely.geometry.shape(salt["geometry"]), 0.25)
    got = wf.Geometry.from_geojson(salt["geometry"]).buffer(0.25).compute()
    assert got.type == "Polygon"
    assert shapely.geometry.shape(got).equals_exact(expected, 1e-12)

    buffered = wf.Feature.from_geojson(salt).buffer(0.25).compute()
    assert buffered.properties == salt["properties"]
    assert shapely.geometry.shape(buffered.geometry).equals_exact(expected, 1e-12)

    # a GeometryCollection buffers the envelope of all its geometries into one Geometry
    geoms = [f["geometry"] for f in lakes[:5]]
    gc_buffer = wf.GeometryCollection(geoms).buffer(1)
    assert isinstance(gc_buffer, wf.Geometry)
    envelope = shapely.envelope(shapely.GeometryCollection([shapely.geometry.shape(g)
                                                            for g in geoms]))  # fmt: skip
    assert shapely.geometry.shape(gc_buffer.compute()).equals_exact(
        shapely.buffer(envelope, 1), 1e-9
    )


def test_buffered_points_overlap_add_up(shared_data):
    places = _load(shared_data, "ne_110m_populated_places_simple.geojson")["features"]
    ctx = AOI(bounds=(-5, 42, 16, 56), crs="EPSG:3035", resolution=20000)
    fc = wf.FeatureCollection.from_geojson({"type": "FeatureCollection", "features": places})
    result = fc.map(lambda f: f.buffer(2)).rasterize().compute(ctx).ndarray
    circles = [
        shapely.geometry.mapping(shapely.buffer(shapely.geometry.shape(f["geometry"]), 2))
        for f in places
    ]
    count = np.sum([_inside(c, ctx) for c in circles], axis=0)
    assert count.max() >= 3  # western Europe's capitals are closer than 4 degrees
    np.testing.assert_array_equal(result.data[0], count)
    np.testing.assert_array_equal(result.mask[0], count == 0)


def test_geocontext_from_a_geometry_proxy(corner_states):
    geom = wf.Feature.from_geojson(corner_states[0]).geometry
    ctx = wf.GeoContext(geometry=geom, crs="EPSG:32612", resolution=2000).compute()
    expected = shapely.geometry.shape(corner_states[0]["geometry"])
    assert shapely.geometry.shape(ctx["geometry"]).equals(expected)


# -- Image.mask with vectors, on real Landsat 8 pixels of the Carolinas' coast ---------------


@pytest.fixture(scope="module")
def landsat(shared_data):
    path = (
        shared_data / "optical" / "landsat8_c1l1_016037_20170813"
        / "LC08_L1TP_016037_20170813_20170814_01_RT_B4.TIF"
    )  # fmt: skip
    catalog.create_product("test-vector:l8", [{"name": "red", "data_range": [0, 65535],
                                               "nodata": 0}])  # fmt: skip
    record = catalog.add_image("test-vector:l8", path, image_id="carolinas")
    return wf.Image.from_id(record.id)


CAROLINAS = AOI(bounds=(-80.6, 32.4, -78.9, 34.1), crs="EPSG:32617", resolution=900)


def test_mask_with_a_feature(landsat, states):
    sc = next(f for f in states["features"] if f["properties"]["id"] == "SC")
    plain = landsat.compute(CAROLINAS).ndarray
    masked = landsat.mask(wf.Feature.from_geojson(sc)).compute(CAROLINAS).ndarray
    inside = _inside(sc["geometry"], CAROLINAS)
    assert inside.mean() > 0.3 and (~inside & ~plain.mask[0]).sum() > 100  # sea and NC
    np.testing.assert_array_equal(masked.mask[0], plain.mask[0] | ~inside)
    np.testing.assert_array_equal(masked.data, plain.data)


def test_mask_with_geometry_and_feature_collection(landsat, states):
    carolinas = [f for f in states["features"] if f["properties"]["id"] in ("NC", "SC")]
    plain = landsat.compute(CAROLINAS).ndarray
    inside = np.any([_inside(f["geometry"], CAROLINAS) for f in carolinas], axis=0)
    fc = wf.load_geojson({"type": "FeatureCollection", "features": carolinas})
    masked = landsat.mask(fc).compute(CAROLINAS).ndarray
    np.testing.assert_array_equal(masked.mask[0], plain.mask[0] | ~inside)
    geom = wf.Geometry.from_geojson(carolinas[0]["geometry"])
    by_geometry = landsat.mask(geom).compute(CAROLINAS).ndarray
    expected = plain.mask[0] | ~_inside(carolinas[0]["geometry"], CAROLINAS)
    np.testing.assert_array_equal(by_geometry.mask[0], expected)
