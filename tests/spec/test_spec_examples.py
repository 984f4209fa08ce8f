"""Examples of the API reference (workflows-geospatial-api.txt) run through the proxies."""

from __future__ import annotations

import pytest

import tiles as wf
from tiles import scenes

DLTILE_KEY = "512:0:10.0:36:-65:216"
# The documented lon/lat corners; the original client's own numbers differ by ~5e-10 degrees.
DLTILE_CORNERS = (
    (29.964809031113013, 9.990748782946097),
    (30.011460043000678, 9.991170922969406),
    (30.011036444452188, 10.03741571582387),
    (29.964378844777645, 10.036991583007385),
    (29.964809031113013, 9.990748782946097),
)


def check_dltile_dict(result: dict) -> None:
    (ring,) = result["geometry"]["coordinates"]
    assert result["geometry"]["type"] == "Polygon"
    assert len(ring) == len(DLTILE_CORNERS)
    for got, expected in zip(ring, DLTILE_CORNERS, strict=True):
        assert got == pytest.approx(expected, abs=1e-8)
    assert result["key"] == DLTILE_KEY
    assert result["resolution"] == 10.0
    assert result["tilesize"] == 512
    assert result["pad"] == 0
    assert result["crs"] == "EPSG:32636"
    assert result["bounds"] == (167200.0, 1105920.0, 172320.0, 1111040.0)
    assert result["bounds_crs"] == "EPSG:32636"
    assert result["zone"] == 36
    assert result["ti"] == -65
    assert result["tj"] == 216
    assert result["proj4"] == "+proj=utm +zone=36 +datum=WGS84 +units=m +no_defs "
    wkt = result["wkt"]
    assert wkt.startswith('PROJCS["WGS 84 / UTM zone 36N"')
    assert 'PARAMETER["central_meridian",33]' in wkt
    assert 'PARAMETER["false_northing",0]' in wkt
    assert 'AUTHORITY["EPSG","32636"]]' in wkt
    assert result["projected_bounds"] == (167200.0, 1105920.0, 172320.0, 1111040.0)
    assert result["arr_shape"] == (512, 512)
    assert result["align_pixels"] is False
    assert result["geotrans"] == (10.0, 0.0, 167200.0, 0.0, -10.0, 1111040.0, 0.0, 0.0, 1.0)
    assert result["gdal_geotrans"] == (167200.0, 10.0, 0.0, 1111040.0, 0.0, -10.0)
    assert result["raster_params"] == {"dltile": DLTILE_KEY, "align_pixels": False}


def test_geocontext_from_dltile_key() -> None:
    geoctx = wf.GeoContext.from_dltile_key(DLTILE_KEY)
    assert isinstance(geoctx, wf.GeoContext)
    check_dltile_dict(geoctx.compute())


def test_geocontext_from_scenes_dltile() -> None:
    scene = scenes.DLTile.from_latlon(10, 30, resolution=10, tilesize=512, pad=0)
    assert scene.key == DLTILE_KEY
    check_dltile_dict(wf.GeoContext.from_scenes(scene).compute())
    # "the above scene could be passed to compute without being changed"
    assert wf.GeoContext._promote(scene).compute()["key"] == DLTILE_KEY


def test_geocontext_from_xyz_tile() -> None:
    result = wf.GeoContext.from_xyz_tile(1, 2, 3).compute()
    assert (result["x"], result["y"], result["z"]) == (1, 2, 3)
    assert result["geometry"] == {
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
    assert result["tilesize"] == 256
    assert result["crs"] == "EPSG:3857"
    # From the original client's XYZTile (resolution = 2*pi*6378137 / 2**z / 256).
    assert result["bounds"] == pytest.approx(
        (-15028131.257091932, 5009377.085697311, -10018754.17139462, 10018754.171394622),
        abs=1e-6,
    )
    assert result["resolution"] == pytest.approx(19567.87924100512, rel=1e-12)
    assert result["arr_shape"] == (256, 256)
    minx, _, _, maxy = result["bounds"]
    res = result["resolution"]
    assert result["gdal_geotrans"] == pytest.approx((minx, res, 0.0, maxy, 0.0, -res))


def test_geocontext_coords_to_index_and_back() -> None:
    geoctx = wf.GeoContext.from_dltile_key(DLTILE_KEY)
    assert geoctx.coords_to_index(x=167220.0, y=1111000.0).compute() == (4, 2)
    assert geoctx.index_to_coords(row=4, col=2).compute() == (167220.0, 1111000.0)
    # inside the same pixel: same index; the upper-left corner of the next one: the next
    assert geoctx.coords_to_index(x=167229.9, y=1110990.1).compute() == (4, 2)
    assert geoctx.coords_to_index(x=167230.0, y=1110990.0).compute() == (5, 3)


def test_geocontext_fields_are_typed() -> None:
    geoctx = wf.GeoContext.from_dltile_key(DLTILE_KEY)
    assert type(geoctx.arr_shape) is wf.Tuple[wf.Int, wf.Int]
    assert geoctx.arr_shape.compute() == (512, 512)
    assert geoctx.crs.compute() == "EPSG:32636"
    assert geoctx.resolution.compute() == 10.0
    assert geoctx.gdal_geotrans.compute() == (167200.0, 10.0, 0.0, 1111040.0, 0.0, -10.0)


def test_geocontext_constructor() -> None:
    geoctx = wf.GeoContext(
        bounds=(400000, 3900000, 400600, 3901000),
        bounds_crs="EPSG:32613",
        crs="EPSG:32613",
        resolution=10.0,
    )
    result = geoctx.compute()
    assert result["arr_shape"] == (100, 60)
    assert result["gdal_geotrans"] == (400000.0, 10.0, 0.0, 3901000.0, 0.0, -10.0)
    assert result["projected_bounds"] == (400000.0, 3900000.0, 400600.0, 3901000.0)


def test_list_examples() -> None:
    my_list = wf.List[wf.Int]([1, 2, 3])
    assert my_list.contains(2).compute() is True
    assert my_list.length().compute() == 3

    def add(accumulated, current):
        return accumulated + current

    assert wf.List[wf.Int]([1, 2]).reduce(add, initial=wf.Int(10)).compute() == 13
    assert wf.List[wf.Int]([1, 4, 2, 3]).sorted().compute() == [1, 2, 3, 4]


def test_map_of_dates_is_a_list_of_datetimes() -> None:
    col = wf.ImageCollection.from_id("sample:s2")
    dates = col.map(lambda img: img.properties["date"])
    assert type(dates).__name__ == "List[Datetime]"
    filtered = col.filter(lambda img: img.properties["date"].year == 2018)
    assert type(filtered) is wf.ImageCollection


def test_getmask_bandinfo() -> None:
    img = wf.Image.from_id("sample:dem:santa_fe")
    ctx = scenes.AOI(bounds=(-106.0, 35.6, -105.9, 35.7), crs="EPSG:32613", resolution=200.0)
    mask = img.getmask().compute(ctx)
    assert mask.bandinfo == {"mask": {}}
    assert mask.ndarray.shape[0] == 1
