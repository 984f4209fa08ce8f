"""Vector products: registering real GeoJSON, GeoPackage, Shapefile, FlatGeobuf and GeoParquet
data, and reading only the features inside a GeoContext (checked against shapely on every
feature of the file)."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
import rasterio.features
import rasterio.warp
import shapely
import shapely.geometry

import tiles as wf
from tiles.data.vector_products import (
    _reader,
    create_vector_product,
    main_create_vector_product,
    remove_vector_product,
    vector_product,
    vector_products,
)
from tiles.errors import DataError, NotFoundError, ParameterError
from tiles.geocontext import AOI

FOUR_CORNERS = AOI(bounds=(-109.6, 36.6, -108.4, 37.4), crs="EPSG:32612", resolution=1000)


def _box_of(ctx) -> shapely.Geometry:
    return shapely.box(*ctx.bounds_lonlat)


@pytest.fixture(scope="module")
def states_path(shared_data):
    return shared_data / "vector" / "us_states.geojson"


def test_geojson_product_returns_only_features_in_the_geocontext(states_path):
    product = create_vector_product("test:states", states_path, title="US states")
    assert (product.format, product.crs, product.feature_count) == ("GeoJSON", "EPSG:4326", 50)
    assert vector_product("test:states") == product

    features = json.loads(states_path.read_text())["features"]
    expected = [
        f["properties"]["name"]
        for f in features
        if shapely.geometry.shape(f["geometry"]).intersects(_box_of(FOUR_CORNERS))
    ]
    result = wf.FeatureCollection.from_vector_id("test:states").compute(FOUR_CORNERS)
    assert [f.properties["name"] for f in result] == expected
    assert sorted(expected) == ["Arizona", "Colorado", "New Mexico", "Utah"]
    by_name = {f["properties"]["name"]: f for f in features}
    for got in result:
        source = shapely.geometry.shape(by_name[got.properties["name"]]["geometry"])
        assert shapely.geometry.shape(got.geometry).equals(source)


def test_cutline_limits_the_features(states_path):
    create_vector_product("test:states-cut", states_path)
    # a thin strip along the Utah/Colorado border, north of the Four Corners
    strip = shapely.box(-109.1, 37.5, -109.0, 39.0)
    ctx = AOI(geometry=shapely.geometry.mapping(strip), crs="EPSG:32612", resolution=1000)
    features = json.loads(states_path.read_text())["features"]
    expected = [
        f["properties"]["name"]
        for f in features
        if shapely.geometry.shape(f["geometry"]).intersects(strip)
    ]
    result = wf.FeatureCollection.from_vector_id("test:states-cut").compute(ctx)
    assert [f.properties["name"] for f in result] == expected == ["Colorado", "Utah"]


def test_geopackage_in_utm_uses_its_crs(shared_data):
    path = shared_data / "optical" / "sentinel2_l1c_33UUU_20170216" / "s2l1c_ref.gpkg"
    product = create_vector_product("test:s2ref", path)
    assert (product.format, product.layer, product.crs) == ("GPKG", "s2l1c_ref", "EPSG:32633")
    assert product.feature_count == 30

    # every row decoded here directly: 8-byte header + 32-byte envelope, then WKB
    conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)
    rows = conn.execute("SELECT fid, geometry, pid, cid, comment FROM s2l1c_ref").fetchall()
    conn.close()
    assert {(blob[3] >> 1) & 7 for _, blob, *_ in rows} == {1}
    utm = [shapely.from_wkb(blob[40:]) for _, blob, *_ in rows]
    lonlat = rasterio.warp.transform_geom(
        "EPSG:32633", "EPSG:4326", [shapely.geometry.mapping(g) for g in utm]
    )

    west, south = rasterio.warp.transform("EPSG:32633", "EPSG:4326", [334000], [5815000])
    east, north = rasterio.warp.transform("EPSG:32633", "EPSG:4326", [338500], [5819000])
    ctx = AOI(bounds=(west[0], south[0], east[0], north[0]), crs="EPSG:32633", resolution=20)
    expected = [
        (row[0], row[2], row[3])
        for row, g in zip(rows, lonlat, strict=True)
        if shapely.geometry.shape(g).intersects(_box_of(ctx))
    ]
    assert 0 < len(expected) < len(rows)
    result = wf.FeatureCollection.from_vector_id("test:s2ref").compute(ctx)
    assert [(f.properties["pid"], f.properties["cid"]) for f in result] == [
        (pid, cid) for _, pid, cid in expected
    ]
    assert set(result.features[0].properties) == {"pid", "cid", "comment"}

    # and the features land on the pixels they cover in UTM
    image = wf.FeatureCollection.from_vector_id("test:s2ref").rasterize().compute(ctx)
    inside = ~rasterio.features.geometry_mask(
        [shapely.geometry.mapping(utm[[r[0] for r in rows].index(fid)]) for fid, _, _ in expected],
        out_shape=ctx.arr_shape,
        transform=ctx.transform,
    )
    assert inside.sum() > 100
    # reprojection round trip (UTM -> lon/lat -> UTM) may move an edge pixel or two
    assert (image.ndarray.mask[0] == ~inside).mean() > 0.999


def test_shapefile_product(shared_data):
    import shapefile  # pyshp: an independent Shapefile reader as the reference

    path = shared_data / "vector" / "naturalearth_lowres" / "naturalearth_lowres.shp"
    product = create_vector_product("test:countries", path)
    assert (product.format, product.feature_count) == ("ESRI Shapefile", 177)

    ctx = AOI(bounds=(4, 49, 8, 52), crs="EPSG:3035", resolution=5000)
    with shapefile.Reader(str(path)) as reader:
        everything = [
            (sr.record.as_dict(), shapely.geometry.shape(sr.shape.__geo_interface__))
            for sr in reader.iterShapeRecords()
        ]
    expected = [props["name"] for props, g in everything if g.intersects(_box_of(ctx))]
    result = wf.FeatureCollection.from_vector_id("test:countries").compute(ctx)
    assert [f.properties["name"] for f in result] == expected
    assert {"Belgium", "Germany", "France", "Luxembourg", "Netherlands"} <= set(expected)
    assert result.features[0].properties.keys() == everything[0][0].keys()

    # population rasterized by property, as documented for FeatureCollection.rasterize
    pop = wf.FeatureCollection.from_vector_id("test:countries").rasterize(value="pop_est")
    arr = pop.compute(ctx).ndarray
    assert set(np.unique(arr.compressed())) <= {
        float(props["pop_est"]) for props, _ in everything if props["name"] in expected
    }


def test_features_across_the_antimeridian(shared_data):
    create_vector_product("test:world", shared_data / "vector" / "world_countries.geojson")
    xs, ys = rasterio.warp.transform("EPSG:4326", "EPSG:3832", [176, -178], [-20, -15])
    ctx = AOI(bounds=(xs[0], ys[0], xs[1], ys[1]), bounds_crs="EPSG:3832", crs="EPSG:3832",
              resolution=5000)  # fmt: skip
    west, south, east, north = ctx.bounds_lonlat
    assert west > east
    area = shapely.union_all([shapely.box(west, south, 180, north),
                              shapely.box(-180, south, east, north)])  # fmt: skip
    features = json.loads((shared_data / "vector" / "world_countries.geojson").read_text())
    expected = [
        f["properties"]["name"]
        for f in features["features"]
        if shapely.geometry.shape(f["geometry"]).intersects(area)
    ]
    result = wf.FeatureCollection.from_vector_id("test:world").compute(ctx)
    assert [f.properties["name"] for f in result] == expected == ["Fiji"]


def test_listing_removing_and_errors(tmp_path, states_path):
    create_vector_product("test:listed", states_path)
    assert "test:listed" in [p.id for p in vector_products()]
    remove_vector_product("test:listed")
    assert "test:listed" not in [p.id for p in vector_products()]
    with pytest.raises(NotFoundError, match="vector product 'test:listed' not found"):
        wf.FeatureCollection.from_vector_id("test:listed").compute(FOUR_CORNERS)
    with pytest.raises(NotFoundError):
        remove_vector_product("test:listed")
    with pytest.raises(DataError, match="not found"):
        create_vector_product("test:missing", tmp_path / "missing.geojson")
    (tmp_path / "table.csv").write_text("a,b\n")
    with pytest.raises(ParameterError, match="unsupported vector file 'table.csv'"):
        create_vector_product("test:csv", tmp_path / "table.csv")
    with pytest.raises(ParameterError, match="invalid vector product id"):
        create_vector_product("bad id", states_path)
    (tmp_path / "broken.geojson").write_text("{")
    with pytest.raises(DataError, match="cannot read GeoJSON"):
        create_vector_product("test:broken", tmp_path / "broken.geojson")


def test_command_line(states_path, capsys):
    assert main_create_vector_product(["test:cli", str(states_path), "--title", "States"]) == 0
    assert "test:cli: 50 features (GeoJSON, EPSG:4326)" in capsys.readouterr().out
    assert vector_product("test:cli").title == "States"
    assert main_create_vector_product(["test:cli2", "/nonexistent/x.gpkg"]) == 1
    assert "vector file not found" in capsys.readouterr().err


def _states(states_path) -> tuple[list[dict], list[shapely.Geometry]]:
    features = json.loads(states_path.read_text())["features"]
    return [f["properties"] for f in features], [
        shapely.geometry.shape(f["geometry"]) for f in features
    ]


def test_flatgeobuf_product_reads_through_gdal_with_a_box(tmp_path, states_path):
    import pyogrio.raw

    properties, geoms = _states(states_path)
    path = tmp_path / "states.fgb"
    names = sorted(properties[0])
    pyogrio.raw.write(
        path,
        shapely.to_wkb(geoms),
        [np.array([p[n] for p in properties], dtype=object) for n in names],
        names,
        driver="FlatGeobuf",
        geometry_type="MultiPolygon",
        crs="EPSG:4326",
        promote_to_multi=True,
    )
    product = create_vector_product("test:fgb", path)
    assert (product.format, product.feature_count) == ("FlatGeobuf", len(geoms))

    expected = [
        p["name"]
        for p, g in zip(properties, geoms, strict=True)
        if g.intersects(_box_of(FOUR_CORNERS))
    ]
    result = wf.FeatureCollection.from_vector_id("test:fgb").compute(FOUR_CORNERS)
    assert sorted(f.properties["name"] for f in result) == sorted(expected)
    assert sorted(expected) == ["Arizona", "Colorado", "New Mexico", "Utah"]

    # the box goes to GDAL: only features whose envelopes meet it come back
    box = (-109.6, 36.6, -108.4, 37.4)
    queried = _reader(str(path), "FlatGeobuf", None).query(box)
    envelopes = [
        p["name"]
        for p, g in zip(properties, geoms, strict=True)
        if shapely.box(*g.bounds).intersects(shapely.box(*box))
    ]
    assert sorted(props["name"] for _, _, props in queried) == sorted(envelopes)
    assert len(queried) < len(geoms)


def test_geoparquet_product(tmp_path, states_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    properties, geoms = _states(states_path)
    table = pa.table(
        {
            "name": [p["name"] for p in properties],
            "geometry": shapely.to_wkb(geoms).tolist(),
        }
    )
    geo = {"version": "1.1.0", "primary_column": "geometry",
           "columns": {"geometry": {"encoding": "WKB", "geometry_types": []}}}  # fmt: skip
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    path = tmp_path / "states.parquet"
    pq.write_table(table, path)

    product = create_vector_product("test:parquet", path)
    assert (product.format, product.feature_count, product.crs) == ("GeoParquet", 50, "EPSG:4326")
    expected = [
        p["name"]
        for p, g in zip(properties, geoms, strict=True)
        if g.intersects(_box_of(FOUR_CORNERS))
    ]
    result = wf.FeatureCollection.from_vector_id("test:parquet").compute(FOUR_CORNERS)
    assert [f.properties for f in result] == [{"name": n} for n in expected]

    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"a": [1]}), plain)
    with pytest.raises(DataError, match="without GeoParquet 'geo' metadata"):
        create_vector_product("test:plain", plain)


def test_geopackage_with_several_layers_needs_a_layer(tmp_path, states_path):
    import pyogrio.raw

    properties, geoms = _states(states_path)
    path = tmp_path / "two.gpkg"
    for layer, sl in (("west", slice(0, 10)), ("east", slice(10, 20))):
        pyogrio.raw.write(
            path, shapely.to_wkb(geoms[sl]), [np.array([p["name"] for p in properties[sl]], dtype=object)],
            ["name"], driver="GPKG", layer=layer, geometry_type="Unknown", crs="EPSG:4326",
            append=layer == "east",
        )  # fmt: skip
    with pytest.raises(ParameterError, match="has 2 layers"):
        create_vector_product("test:two", path)
    with pytest.raises(NotFoundError, match="layer 'north' not in"):
        create_vector_product("test:two", path, layer="north")
    product = create_vector_product("test:two", path, layer="east")
    assert (product.layer, product.feature_count) == ("east", 10)
    everywhere = AOI(bounds=(-180, -85, 180, 85), crs="EPSG:4326", resolution=1)
    names = [
        f.properties["name"]
        for f in wf.FeatureCollection.from_vector_id("test:two").compute(everywhere)
    ]
    assert names == [p["name"] for p in properties[10:20]]
