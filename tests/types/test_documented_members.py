"""Members the API reference documents, computed on the sample catalog and checked with numpy."""

from __future__ import annotations

import types

import numpy as np
import pytest

import tiles as wf
from tiles import scenes
from tiles.errors import ParameterError

CTX = scenes.AOI(
    bounds=(412980.0, 3949170.0, 416820.0, 3953010.0),
    bounds_crs="EPSG:32613",
    crs="EPSG:32613",
    resolution=60.0,
)


def s2(start: str = "2023-01-01", end: str = "2023-04-01") -> wf.ImageCollection:
    return wf.ImageCollection.from_id("sample:s2", start, end)


def dem() -> wf.Image:
    return wf.Image.from_id("sample:dem:santa_fe")


def assert_same_masked(a: np.ma.MaskedArray, b: np.ma.MaskedArray) -> None:
    np.testing.assert_array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b))
    np.testing.assert_array_equal(a.filled(0), b.filled(0))


def test_original_only_keywords_are_not_parameters() -> None:
    value = wf.Int(1) + 1
    assert value.compute(_ruster=False, _trace=True) == 2
    assert value.inspect(_ruster=True) == 2
    threshold = wf.parameter("threshold", wf.Int)
    assert (threshold + 1).compute(threshold=2, _trace=True) == 3
    with pytest.raises(ParameterError, match="unexpected argument 'other'"):
        value.compute(other=1)


def test_reduce_takes_none_as_an_initial_value() -> None:
    ints = wf.List[wf.Int]([1, 2, 3])
    last = ints.reduce(lambda acc, x: x, initial=None)
    assert last.compute() == 3
    assert wf.List[wf.Int]([]).reduce(lambda acc, x: x, initial=None).compute() is None
    # the documented default, passed explicitly, means "no initial value"
    assert ints.reduce(lambda a, b: a + b, initial="__NO_INITIAL_REDUCE_VALUE__").compute() == 6
    features = wf.FeatureCollection(
        [wf.Feature(wf.Geometry("Point", [i, i]), {"n": i}) for i in range(3)]
    )
    last_feature = features.reduce(lambda acc, f: f, initial=None).compute()
    assert last_feature.__geo_interface__["properties"] == {"n": 2}
    points = wf.GeometryCollection([wf.Geometry("Point", [i, 0]) for i in range(3)])
    assert points.reduce(lambda acc, g: g, initial=None).compute().coordinates == [2, 0]


def test_image_collection_reduce_with_none() -> None:
    col = s2()
    last = col.reduce(lambda acc, img: img, initial=None).compute(CTX)
    expected = col.compute(CTX)
    assert_same_masked(last.ndarray, expected.ndarray[-1])
    assert last.properties["id"] == expected.properties[-1]["id"]


def test_kernel_dims_and_data() -> None:
    data = [float(v) for v in range(1, 10)]
    kernel = wf.Kernel(dims=(3, 3), data=data)
    assert kernel.dims.compute() == (3, 3)
    assert kernel.data.compute() == data
    assert type(kernel.dims).__name__ == "Tuple[Int, Int]"
    assert type(kernel.data).__name__ == "List[Float]"


def test_ndarray_is_the_pixel_array() -> None:
    img = dem()
    assert type(img.ndarray).__name__ == "MaskedArray"
    assert_same_masked(img.ndarray.compute(CTX), img.compute(CTX).ndarray)
    col = s2()
    array = col.ndarray.compute(CTX)
    assert array.ndim == 4
    assert_same_masked(array, col.compute(CTX).ndarray)
    empty = s2("2020-01-01", "2020-02-01")
    assert empty.ndarray.compute(CTX) is None


def test_image_collection_concat_bands_takes_other() -> None:
    col = s2().pick_bands("red")
    combined = col.concat_bands(other=dem()).compute(CTX)
    assert list(combined.bandinfo) == ["red", "elevation"]
    heights = dem().compute(CTX).ndarray[0]
    reds = col.compute(CTX).ndarray[:, 0]
    for i in range(len(combined)):
        assert_same_masked(combined.ndarray[i, 0], reds[i])
        assert_same_masked(combined.ndarray[i, 1], heights)
    # an Image's argument keeps the reference's name
    assert list(dem().concat_bands(other_image=dem()).compute(CTX).bandinfo) == [
        "elevation",
        "elevation_1",
    ]


def test_geocontext_fields_are_properties() -> None:
    geoctx = wf.GeoContext.from_scenes(CTX)
    whole = geoctx.compute()
    for name in (
        "resolution", "crs", "align_pixels", "bounds", "bounds_crs", "arr_shape",
        "gdal_geotrans", "projected_bounds", "all_touched",
    ):  # fmt: skip
        assert getattr(geoctx, name).compute() == whole[name], name
    assert geoctx.geometry.compute() is None is whole["geometry"]
    tile = wf.GeoContext.from_dltile_key("512:0:10.0:36:-65:216")
    (ring,) = tile.compute()["geometry"]["coordinates"]
    assert tile.geometry.compute().coordinates == [[list(xy) for xy in ring]]
    with pytest.raises(AttributeError):
        _ = geoctx.no_such_field


def test_image_from_scene() -> None:
    record = wf.catalog.image("sample:dem:santa_fe")
    from_record = wf.Image.from_scene(record).compute(CTX)
    assert_same_masked(from_record.ndarray, dem().compute(CTX).ndarray)
    assert from_record.properties["id"] == record.id
    like_a_scene = types.SimpleNamespace(properties={"id": "sample:dem:santa_fe"})
    assert wf.Image.from_scene(like_a_scene).compute(CTX).properties["id"] == record.id
    with pytest.raises(wf.ProxyTypeError, match="from_scene"):
        wf.Image.from_scene(42)


def test_groupby_computes_to_its_groups() -> None:
    col = s2()
    groups = col.groupby(dates="month").compute(CTX)
    months = [p["date"].month for p in col.compute(CTX).properties]
    assert list(groups) == sorted(set(months))
    for month, group in groups.items():
        assert len(group) == months.count(month)
        assert all(p["group"] == month for p in group.properties)


def test_feature_needs_its_properties() -> None:
    with pytest.raises(TypeError, match="properties"):
        wf.Feature(wf.Geometry("Point", [1, 2]))


def test_map_over_an_empty_collection_follows_the_function_type() -> None:
    empty = s2("2020-01-01", "2020-02-01")
    dates = empty.map(lambda img: img.properties["date"])
    assert type(dates).__name__ == "List[Datetime]"
    assert dates.compute(CTX) == []
    assert (dates + [wf.Datetime(2020)]).length().compute(CTX) == 1  # a List all the way
    shifted = empty.map(lambda img: img + 1).compute(CTX)
    assert len(shifted) == 0 and shifted.ndarray is None
    col = s2()
    expected = [p["date"] for p in col.compute(CTX).properties]
    assert col.map(lambda img: img.properties["date"]).compute(CTX) == expected


@pytest.mark.parametrize("chunk_side", [None, 16])
def test_replace_empty_with_a_number_as_the_reference_prints(monkeypatch, chunk_side) -> None:
    """Length 0 and no properties beside a (1, bands, rows, cols) array, per the reference;
    what follows sees one image of the fill."""
    if chunk_side:
        monkeypatch.setenv("TILES_CHUNK_SIDE", str(chunk_side))  # assembled from windows
    empty = s2("2020-01-01", "2020-02-01")
    filled = empty.replace_empty_with(9999, bandinfo={"red": {}, "green": {}, "blue": {}})
    result = filled.compute(CTX, cache=False)
    rows, cols = result.geocontext["arr_shape"]
    assert len(result) == 0 and result.properties == []
    assert list(result.bandinfo) == ["red", "green", "blue"]
    assert result.ndarray.shape == (1, 3, rows, cols) and result.ndarray.dtype == np.int64
    assert result.ndarray.mask.all() and (result.ndarray.data == 9999).all()
    assert "properties: 0 items\n" in repr(result)
    unmasked = empty.replace_empty_with(7, mask=False, bandinfo={"red": {}})
    composite = unmasked.mean(axis="images").compute(CTX, cache=False)
    np.testing.assert_array_equal(composite.ndarray, np.full((1, rows, cols), 7.0))
    # a collection with images is returned as it is
    assert len(s2().replace_empty_with(9999, bandinfo={"red": {}}).compute(CTX)) == len(
        s2().compute(CTX)
    )
