"""GeoContext maths checked against the API reference's printed values and rasterio/PROJ."""

from __future__ import annotations

import json
import math
import re
import warnings

import mercantile
import numpy as np
import pytest
import shapely.geometry
from rasterio.crs import CRS
from rasterio.warp import transform, transform_bounds

from tiles import scenes
from tiles.errors import GeoContextError
from tiles.geocontext import AOI, DLTile, GeoContext, XYZTile

SPEC_KEY = "512:0:10.0:36:-65:216"
# Printed by the API reference for SPEC_KEY (GeoContext.from_dltile_key(...).compute()).
SPEC_RING = (
    (29.964809031113013, 9.990748782946097),
    (30.011460043000678, 9.991170922969406),
    (30.011036444452188, 10.03741571582387),
    (29.964378844777645, 10.036991583007385),
    (29.964809031113013, 9.990748782946097),
)
SPEC_WKT = (
    'PROJCS["WGS 84 / UTM zone 36N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,'
    '298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],'
    'PARAMETER["central_meridian",33],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",'
    '500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],'
    'AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32636"]]'
)


def utm_aoi(**kw):
    base = dict(
        bounds=(400000.0, 4000000.0, 400100.0, 4000050.0),
        bounds_crs="EPSG:32633",
        crs="EPSG:32633",
        resolution=10.0,
    )
    base.update(kw)
    return AOI(**base)


# ------------------------------------------------------------------------------------------
# DLTile


def test_spec_dltile_key_grid_is_exact():
    tile = DLTile.from_key(SPEC_KEY)
    assert tile.key == SPEC_KEY
    assert (tile.tilesize, tile.pad, tile.resolution) == (512, 0, 10.0)
    assert (tile.zone, tile.ti, tile.tj) == (36, -65, 216)
    assert tile.crs == tile.bounds_crs == "EPSG:32636"
    assert tile.bounds == (167200.0, 1105920.0, 172320.0, 1111040.0)
    assert tile.projected_bounds == tile.bounds
    assert tile.gdal_geotrans == (167200.0, 10.0, 0.0, 1111040.0, 0.0, -10.0)
    assert tile.geotrans == (10.0, 0.0, 167200.0, 0.0, -10.0, 1111040.0, 0.0, 0.0, 1.0)
    assert tile.arr_shape == (512, 512)
    assert tile.align_pixels is False
    assert tile.proj4 == "+proj=utm +zone=36 +datum=WGS84 +units=m +no_defs "
    assert tile.wkt == SPEC_WKT
    assert tile.raster_params == {"dltile": SPEC_KEY, "align_pixels": False}


def test_spec_dltile_geometry_matches_reference_to_1e_9_degrees():
    ring = DLTile.from_key(SPEC_KEY).geometry["coordinates"][0]
    assert DLTile.from_key(SPEC_KEY).geometry["type"] == "Polygon"
    assert len(ring) == 5
    np.testing.assert_allclose(np.array(ring), np.array(SPEC_RING), rtol=0, atol=1e-9)


def test_from_latlon_round_trips_the_spec_key():
    tile = DLTile.from_latlon(10, 30, resolution=10, tilesize=512, pad=0)
    assert tile.key == SPEC_KEY
    assert tile == DLTile.from_key(SPEC_KEY)
    assert DLTile.from_key(tile.key).key == tile.key


def test_from_latlon_southern_hemisphere_has_negative_rows():
    tile = DLTile.from_latlon(-33.9, 18.4, 10, 512, 16)
    assert tile.key == "512:16:10.0:34:-47:-734"
    assert tile.crs == "EPSG:32634"
    assert tile.bounds == (259200.0, -3758240.0, 264640.0, -3752800.0)
    assert tile.arr_shape == (544, 544)
    # The point lies inside the tile's footprint.
    assert shapely.geometry.shape(tile.geometry).contains(shapely.geometry.Point(18.4, -33.9))


def test_dltile_point_inside_tile_independently():
    # The tile containing (lat, lon) holds the point's UTM coordinates (PROJ, no false northing).
    lat, lon = 47.3, -122.9
    tile = DLTile.from_latlon(lat, lon, resolution=30, tilesize=256, pad=4)
    zone = int(math.floor((lon + 180) / 6)) + 1
    (x,), (y,) = transform("EPSG:4326", f"EPSG:{32600 + zone}", [lon], [lat])
    size = 30 * 256
    assert tile.zone == zone
    assert 500000 + tile.ti * size <= x < 500000 + (tile.ti + 1) * size
    assert tile.tj * size <= y < (tile.tj + 1) * size
    assert tile.latlon_to_rowcol(lat, lon) == (
        math.floor(tile.tilesize * (tile.tj + 1) + tile.pad - y / 30),
        math.floor((x - 500000) / 30 - (tile.tilesize * tile.ti - tile.pad)),
    )


@pytest.mark.parametrize(
    "key",
    ["nonsense", "0:0:10.0:36:1:1", "512:0:0.0:36:1:1", "512:0:10.0:61:1:1", "512:0:10.0:0:1:1"],
)
def test_invalid_dltile_keys(key):
    with pytest.raises(GeoContextError, match="DLTile key"):
        DLTile.from_key(key)


def test_from_latlon_rejects_longitude_180():
    with pytest.raises(GeoContextError, match="longitude"):
        DLTile.from_latlon(0, 180, 10, 512, 0)


def test_resolution_formatting_in_keys():
    assert DLTile.from_latlon(10, 30, 0.5, 512, 0).key.split(":")[2] == "0.5"
    assert DLTile.from_latlon(10, 30, 60, 512, 0).key.split(":")[2] == "60.0"


def test_dltile_pixel_maps_are_inverse():
    tile = DLTile.from_key(SPEC_KEY)
    rows, cols = np.array([0, 10, 511]), np.array([0, 300, 511])
    lats, lons = tile.rowcol_to_latlon(rows, cols)
    back_rows, back_cols = tile.latlon_to_rowcol(lats, lons)
    np.testing.assert_array_equal(back_rows, rows)
    np.testing.assert_array_equal(back_cols, cols)
    # Pixel centre of (0, 0), independently via PROJ.
    (lon,), (lat,) = transform("EPSG:32636", "EPSG:4326", [167205.0], [1111035.0])
    assert tile.rowcol_to_latlon(0, 0) == pytest.approx((lat, lon), abs=1e-12)


def test_subtile_partitions_the_tile():
    tile = DLTile.from_key("512:8:10.0:36:-65:216")
    subs = list(tile.subtile(4))
    assert len(subs) == 16
    assert {s.tilesize for s in subs} == {128}
    assert {s.pad for s in subs} == {8}
    unpadded = [
        (s.bounds[0] + 80, s.bounds[1] + 80, s.bounds[2] - 80, s.bounds[3] - 80) for s in subs
    ]
    area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in unpadded)
    assert area == 5120.0**2
    assert min(b[0] for b in unpadded) == 167200.0
    assert max(b[3] for b in unpadded) == 1111040.0
    # First subtile is the north-west corner.
    assert unpadded[0][0] == 167200.0 and unpadded[0][3] == 1111040.0
    coarser = list(tile.subtile(2, new_resolution=20, new_pad=0))
    assert {s.key.split(":")[0] for s in coarser} == {"128"}
    with pytest.raises(GeoContextError, match="divisible"):
        list(tile.subtile(3))
    with pytest.raises(GeoContextError, match="whole-pixel"):
        list(tile.subtile(2, new_resolution=30))


def _brute_force_keys(geom, resolution, tilesize, pad):
    """Every key whose 4-corner lon/lat footprint intersects geom, by exhaustive search."""
    size = resolution * tilesize
    keys = set()
    west, _, east, _ = geom.bounds
    for zone in range(int((west + 180) // 6) + 1, int((east + 180) // 6) + 2):
        lon0 = -180 + 6 * (zone - 1)
        piece = geom.intersection(shapely.geometry.box(lon0, -90, lon0 + 6, 90))
        if piece.area == 0:
            continue
        utm = f"+proj=utm +zone={zone} +datum=WGS84 +units=m +no_defs"
        x0, y0, x1, y1 = transform_bounds("EPSG:4326", utm, *piece.bounds, densify_pts=50)
        for path in range(int((x0 - 500000) // size) - 3, int((x1 - 500000) // size) + 4):
            for row in range(int(y0 // size) - 3, int(y1 // size) + 4):
                xs = [500000 + path * size, 500000 + (path + 1) * size]
                ys = [row * size, (row + 1) * size]
                lons, lats = transform(
                    utm, "EPSG:4326", [xs[0], xs[1], xs[1], xs[0]], [ys[0]] * 2 + [ys[1]] * 2
                )
                if shapely.geometry.Polygon(zip(lons, lats, strict=True)).intersects(piece):
                    keys.add(f"{tilesize}:{pad}:{float(resolution)}:{zone:02d}:{path}:{row}")
    return keys


@pytest.mark.parametrize(
    "geom",
    [
        shapely.geometry.box(29.8, 9.9, 30.25, 10.3),  # crosses the zone 35/36 boundary
        shapely.geometry.Polygon([(18.3, -34.2), (18.9, -33.8), (18.5, -33.5)]),  # southern
    ],
)
def test_from_shape_matches_exhaustive_search(geom):
    keys = DLTile.from_shape(geom, resolution=60, tilesize=256, pad=0, keys_only=True)
    assert len(keys) == len(set(keys))
    assert set(keys) == _brute_force_keys(geom, 60, 256, 0)
    tiles_ = list(DLTile.iter_from_shape(shapely.geometry.mapping(geom), 60, 256, 0))
    assert {t.key for t in tiles_} == set(keys)


def test_from_shape_rejects_out_of_world_shapes():
    with pytest.raises(GeoContextError, match="exceed"):
        DLTile.from_shape(shapely.geometry.box(170, 0, 190, 1), 10, 512, 0)


def test_dltile_buffered_is_more_padding():
    tile = DLTile.from_key(SPEC_KEY)
    big = tile.buffered(7)
    assert big.key == "512:7:10.0:36:-65:216"
    assert big.arr_shape == (526, 526)
    assert big.gdal_geotrans[0] == tile.gdal_geotrans[0] - 70
    assert big.gdal_geotrans[3] == tile.gdal_geotrans[3] + 70


# ------------------------------------------------------------------------------------------
# XYZTile


def test_xyz_tile_1_2_3():
    tile = XYZTile(1, 2, 3)
    assert (tile.x, tile.y, tile.z, tile.tilesize) == (1, 2, 3, 256)
    assert tile.geometry == {
        "type": "Polygon",
        "coordinates": (
            (
                (-90.0, 40.97989806962013),
                (-90.0, 66.51326044311186),
                (-135.0, 66.51326044311186),
                (-135.0, 40.97989806962013),
                (-90.0, 40.97989806962013),
            ),
        ),
    }
    assert tile.crs == tile.bounds_crs == "EPSG:3857"
    assert tile.bounds == (
        -15028131.257091932,
        5009377.085697311,
        -10018754.17139462,
        10018754.171394622,
    )
    assert tile.resolution == 19567.87924100512
    assert tile.arr_shape == (256, 256)
    assert tile.gdal_geotrans == (
        -15028131.257091932,
        19567.87924100512,
        0.0,
        10018754.171394622,
        0.0,
        -19567.87924100512,
    )
    assert tile.bounds_lonlat == tuple(mercantile.bounds(1, 2, 3))
    # The grid spans the mercator bounds to within float noise.
    assert tile.grid_bounds == pytest.approx(tile.bounds, abs=1e-6)
    assert tile.raster_params["srs"] == "EPSG:3857"


def test_xyz_tile_validation():
    with pytest.raises(GeoContextError, match="outside"):
        XYZTile(8, 0, 3)
    with pytest.raises(GeoContextError, match="non-negative"):
        XYZTile(-1, 0, 3)


def test_xyz_buffered_keeps_the_grid():
    tile = XYZTile(300, 400, 10)
    big = tile.buffered(2)
    assert isinstance(big, AOI)
    assert big.geometry is None and big.cutline is None
    assert big.arr_shape == (260, 260)
    r = tile.resolution
    assert big.gdal_geotrans == (
        tile.gdal_geotrans[0] - 2 * r,
        r,
        0.0,
        tile.gdal_geotrans[3] + 2 * r,
        0.0,
        -r,
    )
    for row, col in [(0, 0), (17, 200), (255, 255)]:
        x, y = tile.index_to_coords(row, col)
        bx, by = big.index_to_coords(row + 2, col + 2)
        assert (bx, by) == pytest.approx((x, y), abs=1e-6)


# ------------------------------------------------------------------------------------------
# coords <-> index


def test_spec_coords_to_index_and_back():
    tile = DLTile.from_key(SPEC_KEY)
    assert tile.coords_to_index(x=167220.0, y=1111000.0) == (4, 2)
    assert tile.index_to_coords(row=4, col=2) == (167220.0, 1111000.0)


def test_coords_to_index_is_inverse_of_index_to_coords():
    ctx = AOI(
        bounds=(-105.2, 35.5, -104.9, 35.8), crs="EPSG:32613", resolution=30, align_pixels=True
    )
    rng = np.random.default_rng(0)
    rows, cols = ctx.arr_shape
    for row, col in zip(rng.integers(0, rows, 50), rng.integers(0, cols, 50), strict=True):
        x, y = ctx.index_to_coords(int(row), int(col))
        # The pixel's centre maps back to the pixel; so does its upper-left corner.
        assert ctx.coords_to_index(x + 15, y - 15) == (row, col)
        assert ctx.coords_to_index(x, y) == (row, col)


# ------------------------------------------------------------------------------------------
# AOI


def test_aoi_utm_with_lonlat_bounds_uses_the_reprojected_envelope():
    lonlat = (-105.2, 35.5, -104.9, 35.8)
    ctx = AOI(bounds=lonlat, crs="EPSG:32613", resolution=30, align_pixels=False)
    expected = transform_bounds("EPSG:4326", "EPSG:32613", *lonlat, densify_pts=21)
    assert ctx.projected_bounds == pytest.approx(expected, abs=1e-9)
    minx, miny, maxx, maxy = expected
    assert ctx.arr_shape == (round((maxy - miny) / 30), round((maxx - minx) / 30))
    assert ctx.gdal_geotrans == pytest.approx((minx, 30, 0, maxy, 0, -30), abs=1e-9)
    # The grid's lon/lat envelope covers the requested bounds.
    w, s, e, n = ctx.bounds_lonlat
    assert w <= lonlat[0] + 1e-6 and s <= lonlat[1] + 1e-6
    assert e >= lonlat[2] - 1e-6 and n >= lonlat[3] - 1e-6


def test_align_pixels_snaps_outward():
    bounds = (400003.0, 4000007.0, 400097.0, 4000043.0)
    snapped = utm_aoi(bounds=bounds, align_pixels=True)
    assert snapped.arr_shape == (5, 10)
    assert snapped.gdal_geotrans == (400000.0, 10.0, 0.0, 4000050.0, 0.0, -10.0)
    loose = utm_aoi(bounds=bounds, align_pixels=False)
    assert loose.arr_shape == (4, 9)  # round(36 / 10), round(94 / 10)
    assert loose.gdal_geotrans == (400003.0, 10.0, 0.0, 4000043.0, 0.0, -10.0)


def test_align_pixels_ignores_float_noise_on_exact_multiples():
    # 0.3 / 0.1 and 1.1 / 0.1 are not whole in binary floating point.
    ctx = AOI(bounds=(0.3, 0.7, 1.1, 1.3), crs="EPSG:4326", resolution=0.1)
    assert ctx.arr_shape == (6, 8)
    assert ctx.gdal_geotrans[0] == pytest.approx(0.3, abs=1e-12)
    assert ctx.gdal_geotrans[3] == pytest.approx(1.3, abs=1e-12)


def test_shape_mode_fits_the_longer_side():
    wide = utm_aoi(bounds=(400000, 4000000, 400300, 4000100), resolution=None, shape=(100, 200))
    assert wide.arr_shape == (33, 100)
    assert wide.gdal_geotrans == (400000.0, 3.0, 0.0, 4000100.0, 0.0, -3.0)
    tall = utm_aoi(bounds=(400000, 4000000, 400100, 4000300), resolution=None, shape=(500, 50))
    assert tall.arr_shape == (50, 17)  # 300 m / 50 = 6 m pixels; round(100 / 6) = 17
    assert tall.gdal_geotrans[1] == 6.0


def test_incomplete_aoi_errors_name_what_is_missing():
    with pytest.raises(GeoContextError, match="crs"):
        _ = AOI(bounds=(0, 0, 1, 1), resolution=0.1).arr_shape
    with pytest.raises(GeoContextError, match="bounds"):
        _ = AOI(crs="EPSG:4326", resolution=0.1).gdal_geotrans
    with pytest.raises(GeoContextError, match="resolution or shape"):
        _ = AOI(bounds=(0, 0, 1, 1), crs="EPSG:4326").arr_shape
    # Incomplete contexts still serialise, with no derived values.
    d = AOI(bounds=(0, 0, 1, 1)).to_dict()
    assert d["arr_shape"] is None and d["gdal_geotrans"] is None


def test_invalid_aoi_arguments():
    with pytest.raises(GeoContextError, match="not both"):
        AOI(bounds=(0, 0, 1, 1), crs="EPSG:4326", resolution=0.1, shape=(10, 10))
    with pytest.raises(GeoContextError, match="EPSG:4326"):
        AOI(geometry=shapely.geometry.box(0, 0, 1, 1), bounds_crs="EPSG:32633")
    with pytest.raises(GeoContextError, match="geometry"):
        AOI(geometry=42)
    with pytest.raises(GeoContextError, match="does not intersect"):
        AOI(geometry=shapely.geometry.box(500000, 4000000, 500100, 4000100))
    with pytest.raises(GeoContextError, match="crs"):
        AOI(crs="EPSG:0")
    with pytest.raises(GeoContextError, match="empty"):
        AOI(bounds=(1, 0, 0, 1))
    with pytest.raises(GeoContextError, match="smaller than one pixel"):
        utm_aoi(resolution=60)
    assert utm_aoi(resolution=60, all_touched=True).all_touched


def test_lonlat_looking_bounds_in_projected_crs_warn():
    with pytest.warns(UserWarning, match="lon/lat"):
        AOI(bounds=(10, 40, 11, 41), bounds_crs="EPSG:32633")


def test_geometry_inputs_are_equivalent():
    poly = shapely.geometry.Polygon([(10, 40), (11, 40), (10.5, 41)])

    class Shaped:
        __geo_interface__ = shapely.geometry.mapping(poly)

    inputs = [
        poly,
        shapely.geometry.mapping(poly),
        {"type": "Feature", "geometry": shapely.geometry.mapping(poly), "properties": {}},
        Shaped(),
    ]
    contexts = [AOI(geometry=g, crs="EPSG:32632", resolution=100) for g in inputs]
    assert all(c == contexts[0] for c in contexts)
    assert contexts[0].bounds == poly.bounds
    assert contexts[0].bounds_crs == "EPSG:4326"
    assert shapely.geometry.shape(contexts[0]).equals(poly)  # __geo_interface__


def test_assign_returns_a_new_aoi():
    base = utm_aoi()
    coarse = base.assign(resolution=25)
    assert base.resolution == 10.0 and coarse.resolution == 25.0
    assert coarse.arr_shape == (2, 4)  # snapped to (400000, 4000000, 400100, 4000050)
    by_shape = base.assign(shape=(20, 20))
    assert by_shape.resolution is None and by_shape.arr_shape == (10, 20)
    with pytest.raises(AttributeError):
        base.resolution = 5


def test_aoi_buffered_keeps_the_pixel_grid():
    ctx = AOI(
        geometry=shapely.geometry.box(-105.2, 35.5, -104.9, 35.8),
        crs="EPSG:32613",
        resolution=30,
    )
    n = 3
    big = ctx.buffered(n)
    assert big.geometry is None
    assert big.arr_shape == (ctx.arr_shape[0] + 2 * n, ctx.arr_shape[1] + 2 * n)
    gt, bgt = ctx.gdal_geotrans, big.gdal_geotrans
    assert bgt == (gt[0] - 3 * 30, 30.0, 0.0, gt[3] + 3 * 30, 0.0, -30.0)
    rows, cols = ctx.arr_shape
    for row, col in [(0, 0), (rows - 1, cols - 1), (rows // 2, 5)]:
        assert big.index_to_coords(row + n, col + n) == ctx.index_to_coords(row, col)
    # The buffered grid survives a dict round trip bit for bit.
    assert GeoContext.from_dict(json.loads(json.dumps(big.to_dict()))).cache_key == big.cache_key
    assert ctx.buffered(0).cache_key[1:3] == ctx.cache_key[1:3]


# ------------------------------------------------------------------------------------------
# serialisation and identity


@pytest.mark.parametrize(
    "ctx",
    [
        DLTile.from_key(SPEC_KEY),
        DLTile.from_key("256:4:30.0:10:3:-20", all_touched=True),
        XYZTile(1, 2, 3),
        AOI(geometry=shapely.geometry.box(10, 40, 11, 41), crs="EPSG:32632", resolution=100),
        AOI(bounds=(10, 40, 11, 41), crs="EPSG:3857", shape=(256, 512), all_touched=True),
    ],
)
def test_to_dict_from_dict_round_trip(ctx):
    d = ctx.to_dict()
    for name in (
        "geometry",
        "resolution",
        "crs",
        "align_pixels",
        "bounds",
        "bounds_crs",
        "shape",
        "all_touched",
        "arr_shape",
        "gdal_geotrans",
        "projected_bounds",
    ):
        assert name in d
    assert d["arr_shape"] == ctx.arr_shape
    again = GeoContext.from_dict(json.loads(json.dumps(d)))
    assert type(again) is type(ctx)
    assert again == ctx and hash(again) == hash(ctx)
    assert again.cache_key == ctx.cache_key


def test_dltile_to_dict_has_the_documented_keys():
    d = DLTile.from_key(SPEC_KEY).to_dict()
    assert d["key"] == SPEC_KEY
    assert (d["zone"], d["ti"], d["tj"], d["tilesize"], d["pad"]) == (36, -65, 216, 512, 0)
    assert d["projected_bounds"] == (167200.0, 1105920.0, 172320.0, 1111040.0)
    assert d["geotrans"] == (10.0, 0.0, 167200.0, 0.0, -10.0, 1111040.0, 0.0, 0.0, 1.0)


def test_from_dict_accepts_constructor_keywords_and_rejects_unknown():
    ctx = GeoContext.from_dict(
        {
            "bounds": (400000, 4000000, 400100, 4000050),
            "bounds_crs": "EPSG:32633",
            "crs": "EPSG:32633",
            "resolution": 10,
        }
    )
    assert ctx == utm_aoi()
    with pytest.raises(GeoContextError, match="frobnicate"):
        GeoContext.from_dict({"frobnicate": 1})


def test_cache_key_identifies_the_grid():
    a, b = utm_aoi(), utm_aoi()
    assert a.cache_key == b.cache_key and hash(a.cache_key) == hash(b.cache_key)
    assert utm_aoi(all_touched=True).cache_key != a.cache_key
    assert utm_aoi(resolution=5).cache_key != a.cache_key
    g1 = AOI(geometry=shapely.geometry.box(10, 40, 11, 41), crs="EPSG:32632", resolution=100)
    g2 = g1.assign(geometry=shapely.geometry.Polygon([(10, 40), (11, 40), (11, 41), (10, 41.0)]))
    assert g1.gdal_geotrans == g2.gdal_geotrans
    assert g1.cache_key != g2.cache_key
    assert len({DLTile.from_key(SPEC_KEY), DLTile.from_key(SPEC_KEY), XYZTile(1, 2, 3)}) == 2


def test_rasterio_crs_and_transform():
    tile = DLTile.from_key(SPEC_KEY)
    assert tile.rasterio_crs == CRS.from_epsg(32636)
    assert tile.transform.to_gdal() == tile.gdal_geotrans
    # EPSG:32636 and the DL proj4 string are the same projection (also south of the equator).
    lons, lats = [29.0, 33.0, 35.9], [-40.0, 0.0, 60.0]
    np.testing.assert_allclose(
        transform("EPSG:4326", tile.rasterio_crs, lons, lats),
        transform("EPSG:4326", CRS.from_string(tile.proj4), lons, lats),
        rtol=0,
        atol=1e-6,
    )


def test_reprs():
    assert repr(DLTile.from_key(SPEC_KEY)) == f"DLTile({SPEC_KEY!r})"
    assert repr(XYZTile(1, 2, 3)) == "XYZTile(x=1, y=2, z=3)"
    text = repr(AOI(geometry=shapely.geometry.box(0, 0, 1, 1)))
    assert re.match(r"AOI\(geometry=<Polygon>, resolution=None, ", text)


def test_geocontext_constructor_gives_an_aoi():
    ctx = GeoContext(bounds=(10, 40, 11, 41), crs="EPSG:4326", resolution=0.25)
    assert type(ctx) is AOI
    assert ctx == AOI(bounds=(10, 40, 11, 41), crs="EPSG:4326", resolution=0.25)
    assert ctx.arr_shape == (4, 4)


def test_scenes_module_reexports():
    assert scenes.AOI is AOI and scenes.DLTile is DLTile
    assert scenes.XYZTile is XYZTile and scenes.GeoContext is GeoContext


def test_no_warnings_for_ordinary_contexts():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        utm_aoi().buffered(4).arr_shape  # noqa: B018
        XYZTile(0, 0, 0).buffered(1)
