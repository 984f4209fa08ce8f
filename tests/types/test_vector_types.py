"""Vector proxies: construction, fields, results and their reprs, collections, bad GeoJSON."""

from __future__ import annotations

import json

import pytest
import shapely
import shapely.geometry

import tiles as wf
from tiles.engine.vector import (
    GEOJSON_SIZE_LIMIT,
    FeatureCollectionResult,
    FeatureResult,
    GeoJSONError,
    GeometryCollectionResult,
    GeometryResult,
)
from tiles.errors import ProxyTypeError

POINT = {"type": "Point", "coordinates": [1, 2]}
FEATURE = {"type": "Feature", "geometry": POINT, "properties": {"foo": "bar"}}


@pytest.fixture
def geom():
    return wf.Geometry(type="Point", coordinates=[1, 2])


# -- the API reference's examples --------------------------------------------------------


def test_geometry_result_repr_and_geo_interface(geom):
    result = geom.compute()
    assert isinstance(result, GeometryResult)
    assert repr(result) == "GeometryResult(type=Point, coordinates=[1, 2])"
    assert result.__geo_interface__ == POINT
    assert result.crs == "EPSG:4326"
    assert wf.Geometry.from_geojson(POINT).compute().__geo_interface__ == POINT


def test_feature_result(geom):
    feat = wf.Feature(geometry=geom, properties={"foo": "bar"})
    assert repr(feat.compute()) == (
        "FeatureResult(geometry=GeometryResult(type=Point, coordinates=[1, 2]), "
        "properties={'foo': 'bar'})"
    )
    assert wf.Feature.from_geojson(FEATURE).compute().__geo_interface__ == FEATURE


def test_feature_collection_result(geom):
    feat = wf.Feature(geometry=geom, properties={"foo": "bar"})
    result = wf.FeatureCollection(features=[feat, feat, feat]).compute()
    assert isinstance(result, FeatureCollectionResult)
    line = (
        "    FeatureResult(geometry=GeometryResult(type=Point, coordinates=[1, 2]), "
        "properties={'foo': 'bar'})"
    )
    assert repr(result) == "FeatureCollectionResult(features=(\n" + ",\n".join([line] * 3) + "))"
    geojson = {"type": "FeatureCollection", "features": [FEATURE]}
    fc = wf.FeatureCollection.from_geojson({**geojson, "properties": {"name": "Example"}})
    assert fc.compute().__geo_interface__ == geojson


def test_geometry_collection_result(geom):
    result = wf.GeometryCollection(geometries=[geom, geom, geom]).compute()
    assert isinstance(result, GeometryCollectionResult)
    inner = ",\n".join(["            GeometryResult(type=Point, coordinates=[1, 2])"] * 3)
    assert repr(result) == (
        f"GeometryCollectionResult(type=GeometryCollection,\n        geometries=(\n{inner}))"
    )
    geojson = {"type": "GeometryCollection", "geometries": [POINT]}
    assert wf.GeometryCollection.from_geojson(geojson).compute().__geo_interface__ == geojson


def test_sorted_by_key_example():
    fc = wf.FeatureCollection.from_geojson(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [2, 0]},
                    "properties": {},
                },
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [1, 0]},
                    "properties": {},
                },
            ],
        }  # fmt: skip
    )
    features = fc.sorted(key=lambda feat: feat.geometry.coordinates[0]).features.compute()
    assert [f.geometry.coordinates for f in features] == [[1, 0], [2, 0]]
    assert all(isinstance(f, FeatureResult) for f in features)


def test_from_geo_interface_shapely_and_feature_like():
    polygon = {
        "type": "Polygon",
        "coordinates": [[[-95, 42], [-93, 42], [-93, 40], [-95, 41], [-95, 42]]],
    }
    result = wf.Geometry.from_geo_interface(shapely.geometry.shape(polygon)).compute()
    assert result.type == "Polygon"
    assert result.coordinates == [[[-95.0, 42.0], [-93.0, 42.0], [-93.0, 40.0], [-95.0, 41.0],
                                   [-95.0, 42.0]]]  # fmt: skip

    class FeatureLike:  # e.g. a row object whose interface is a Feature
        __geo_interface__ = {"type": "Feature", "geometry": polygon, "properties": {"a": 1}}

    assert wf.Geometry.from_geo_interface(FeatureLike()).compute().__geo_interface__ == polygon


# -- load_geojson ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "geojson, cls",
    [
        (POINT, wf.Geometry),
        ({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]},
         wf.Geometry),
        ({"type": "GeometryCollection", "geometries": [POINT]}, wf.GeometryCollection),
        (FEATURE, wf.Feature),
        ({"type": "FeatureCollection", "features": [FEATURE]}, wf.FeatureCollection),
    ],
)  # fmt: skip
def test_load_geojson_gives_the_right_type(geojson, cls):
    obj = wf.load_geojson(geojson)
    assert type(obj) is cls
    assert obj.compute().__geo_interface__ == geojson


def test_load_geojson_file_of_real_states(shared_data):
    path = shared_data / "vector" / "us_states.geojson"
    fc = wf.load_geojson_file(path)
    assert isinstance(fc, wf.FeatureCollection)
    data = json.loads(path.read_text())
    result = fc.compute()
    assert len(result) == len(data["features"]) == 50
    for got, expected in zip(result, data["features"], strict=True):
        assert got.properties == expected["properties"]
        assert got.geometry.__geo_interface__ == expected["geometry"]


def test_load_geojson_file_not_json(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "Point", ')
    with pytest.raises(GeoJSONError, match="not valid JSON"):
        wf.load_geojson_file(path)


# -- fields ------------------------------------------------------------------------------


def test_fields_through_getattr(geom):
    feat = wf.Feature(geometry=geom, properties={"foo": "bar", "n": 3})
    assert geom.type.compute() == "Point"
    assert geom.coordinates.compute() == [1, 2]
    assert feat.properties["foo"].compute() == "bar"
    assert feat.properties.compute() == {"foo": "bar", "n": 3}
    assert feat.geometry.compute().__geo_interface__ == POINT
    fc = wf.FeatureCollection([feat, feat])
    assert fc.features.length().compute() == 2
    gc = wf.GeometryCollection([geom])
    assert gc.type.compute() == "GeometryCollection"
    assert [g.__geo_interface__ for g in gc.geometries.compute()] == [POINT]


def test_parameters_inside_coordinates_and_properties():
    x = wf.parameter("x", wf.Float)
    geom = wf.Geometry(type="Point", coordinates=[x, 2.0])
    assert geom.compute(x=5.0).coordinates == [5.0, 2.0]
    feat = wf.Feature(geometry=geom, properties={"value": x * 2})
    assert feat.compute(x=1.5).properties == {"value": 3.0}
    ring = wf.Geometry("Polygon", [[[x, 0.0], [1.0, 0.0], [1.0, 1.0], [x, 0.0]]])
    assert ring.compute(x=0.5).coordinates[0][0] == [0.5, 0.0]
    from_any = wf.Feature(wf.Any({"type": "Point", "coordinates": [3, 4]}), {"k": 1})
    assert from_any.compute().__geo_interface__["geometry"] == {
        "type": "Point",
        "coordinates": [3, 4],
    }


def test_properties_with_a_returns_key_stay_data(geom):
    props = {"returns": "0", "parameters": ["x"]}
    assert wf.Feature(geom, props).compute().properties == props


# -- collection methods ------------------------------------------------------------------


@pytest.fixture
def numbered():
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [i, -i]},
         "properties": {"n": i}}
        for i in (3, 1, 2)
    ]  # fmt: skip
    return wf.FeatureCollection.from_geojson({"type": "FeatureCollection", "features": features})


def test_filter_keeps_the_type(numbered):
    kept = numbered.filter(lambda f: f.properties["n"] >= 2)
    assert isinstance(kept, wf.FeatureCollection)
    result = kept.compute()
    assert isinstance(result, FeatureCollectionResult)
    assert [f.properties["n"] for f in result] == [3, 2]


def test_map_to_features_and_to_values(numbered):
    buffered = numbered.map(lambda f: f.buffer(0.5))
    assert isinstance(buffered, wf.FeatureCollection)
    assert {f.geometry.type for f in buffered.compute()} == {"Polygon"}
    names = numbered.map(lambda f: f.geometry.type)
    assert type(names).__name__ == "List[Str]"
    assert names.compute() == ["Point", "Point", "Point"]


def test_sorted_reverse_reduce_length_contains(numbered):
    ordered = numbered.sorted(key=lambda f: f.properties["n"], reverse=True).compute()
    assert [f.properties["n"] for f in ordered] == [3, 2, 1]
    total = numbered.map(lambda f: f.properties["n"]).reduce(lambda a, b: a + b)
    assert total.compute() == 6
    first = numbered.reduce(lambda acc, f: acc, initial=wf.Int(0))
    assert first.compute() == 0
    assert numbered.length().compute() == 3
    member = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, -1]},
              "properties": {"n": 1}}  # fmt: skip
    assert numbered.contains(member).compute() is True
    assert numbered.contains({**member, "properties": {"n": 9}}).compute() is False


def test_geometry_collection_methods():
    gc = wf.GeometryCollection(
        [POINT, {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, POINT]
    )
    assert gc.length().compute() == 3
    points = gc.filter(lambda g: g.type == "Point")
    assert isinstance(points, wf.GeometryCollection)
    assert len(points.compute()) == 2
    assert gc.contains(wf.Geometry("Point", [1, 2])).compute() is True
    assert gc.map(lambda g: g.type).compute() == ["Point", "LineString", "Point"]


# -- bad GeoJSON -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "geojson, message",
    [
        ({"type": "Pointy", "coordinates": [1, 2]}, "unknown GeoJSON type 'Pointy'"),
        ({"coordinates": [1, 2]}, "unknown GeoJSON type None"),
        ({"type": "Polygon", "coordinates": [[0, 0], [1, 0], [1, 1], [0, 0]]},
         "Polygon's coordinates must be a list of linear rings.*nested 2 deep"),
        ({"type": "Point", "coordinates": [[1, 2]]}, "nested 1 list.*nested 2 deep"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
         r"coordinates\[0\]: linear ring is not closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
         "at least 4 positions, got 3"),
        ({"type": "Point", "coordinates": [1, "2"]}, r"coordinates\[1\] is not a number: str"),
        ({"type": "Point", "coordinates": [1, True]}, r"coordinates\[1\] is not a number: bool"),
        ({"type": "Point", "coordinates": [1, float("nan")]}, "is not finite"),
        ({"type": "Point", "coordinates": [1]}, "at least 2 numbers"),
        ({"type": "LineString", "coordinates": [[0, 0]]}, "at least 2 positions"),
        ({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 1]]]]},
         r"coordinates\[0\]\[0\]: linear ring is not closed"),
        ({"type": "Point"}, "needs 'coordinates'"),
        ({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": "x"}]},
         r"geometries\[0\]\.coordinates must be a position"),
        ({"type": "Feature", "properties": {}}, "has no geometry"),
        ({"type": "Feature", "geometry": POINT, "properties": [1]},
         "properties must be a mapping"),
        ({"type": "FeatureCollection", "features": {"a": 1}}, "features must be a list"),
        ({"type": "FeatureCollection", "features": [POINT]},
         r"features\[0\] must be a GeoJSON Feature, got 'Point'"),
    ],
)  # fmt: skip
def test_bad_geojson_is_a_clear_error(geojson, message):
    with pytest.raises(GeoJSONError, match=message):
        wf.load_geojson(geojson)


def test_bad_constructor_arguments():
    with pytest.raises(GeoJSONError, match="not closed"):
        wf.Geometry("Polygon", [[[0, 0], [1, 0], [1, 1], [0, 1]]])
    with pytest.raises(GeoJSONError, match="unknown GeoJSON type 'Circle'"):
        wf.Geometry(type="Circle", coordinates=[0, 0])
    with pytest.raises(GeoJSONError, match="GeometryCollection"):
        wf.Geometry.from_geojson({"type": "GeometryCollection", "geometries": []})
    with pytest.raises(GeoJSONError, match="use Feature.from_geojson"):
        wf.Geometry.from_geojson(FEATURE)
    with pytest.raises(GeoJSONError, match="'GeometryCollection', not 'Point'"):
        wf.GeometryCollection([POINT], type="Point")
    with pytest.raises(ProxyTypeError, match="Feature: argument 'properties' expects dict"):
        wf.Feature(POINT, properties=[1, 2])
    with pytest.raises(ProxyTypeError, match="__geo_interface__"):
        wf.Geometry.from_geo_interface(42)
    with pytest.raises(ValueError, match="merge_algorithm"):
        wf.FeatureCollection([FEATURE]).rasterize(merge_algorithm="max")


def test_bad_geojson_from_a_graft_fails_when_computed():
    # A proxy type defers checking to evaluation, as for grafts sent by other clients.
    geom = wf.Geometry(type=wf.Str("Polygon"), coordinates=[[[0, 0], [1, 0], [1, 1], [0, 1]]])
    with pytest.raises(GeoJSONError, match="not closed"):
        geom.compute()


def test_size_limit():
    # ~36 bytes per position: just over the 10 MiB of serialized JSON the API allows.
    n = GEOJSON_SIZE_LIMIT // 36 + 1000
    big = {"type": "MultiPoint", "coordinates": [[123.456789012345, 45.6789012345678]] * n}
    assert len(json.dumps(big, separators=(",", ":"))) > GEOJSON_SIZE_LIMIT
    with pytest.raises(GeoJSONError, match=r"MiB of serialized JSON; the limit is 10 MiB"):
        wf.load_geojson(big)
    with pytest.raises(GeoJSONError, match="limit is 10 MiB"):
        wf.Geometry(type="MultiPoint", coordinates=big["coordinates"])
    small = {"type": "MultiPoint", "coordinates": big["coordinates"][:1000]}
    assert len(wf.load_geojson(small).compute().coordinates) == 1000
