"""Arguments are checked and promoted when the graph is built, as the original client did.

A wrong argument raises ProxyTypeError at the call, naming the method, the argument, what it
accepts and what it got; a right one (Python value, proxy or parameter) builds the same graft.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import tiles as wf
from tiles.errors import ProxyTypeError


def img() -> wf.Image:
    return wf.Image.from_id("sample:dem:santa_fe")


def col() -> wf.ImageCollection:
    return wf.ImageCollection.from_id("sample:s2")


def point() -> wf.Geometry:
    return wf.Geometry(type="Point", coordinates=[1, 2])


def feature() -> wf.Feature:
    return wf.Feature(point(), {"n": 1})


def groups() -> wf.ImageCollectionGroupby:
    return col().groupby(dates="month")


# (call, method, argument, what it expects, how the wrong value is shown)
WRONG = [
    (lambda: col().head("a"), "ImageCollection.head", "n", "Int", "str 'a'"),
    (lambda: col().tail(1.5), "ImageCollection.tail", "n", "Int", "float 1.5"),
    (lambda: col().partition(wf.Str("x")), "ImageCollection.partition", "i", "Int", "Str"),
    (lambda: col()[1.0], "ImageCollection.__getitem__", "index", "Int", "float 1.0"),
    (lambda: col().contains(1), "ImageCollection.contains", "other", "Image", "int 1"),
    (lambda: col().map(1), "ImageCollection.map", "func", "a function", "int 1"),
    (lambda: col().filter("x"), "ImageCollection.filter", "func", "a function", "str 'x'"),
    (lambda: col().sorted(len, reverse=1), "ImageCollection.sorted", "reverse", "Bool", "int 1"),
    (lambda: col().reduce(None), "ImageCollection.reduce", "func", "a function", "NoneType"),
    (lambda: col().mosaic("yes"), "ImageCollection.mosaic", "reverse", "Bool", "str 'yes'"),
    (lambda: col().map_window(len, back="1"), "ImageCollection.map_window", "back", "Int", "str"),
    (
        lambda: col().sortby_composite(3),
        "ImageCollection.sortby_composite",
        "band",
        "Str or ImageCollection",
        "int 3",
    ),
    (
        lambda: wf.ImageCollection.from_id(42),
        "ImageCollection.from_id",
        "product_id",
        "Str",
        "int 42",
    ),
    (
        lambda: wf.ImageCollection.from_id("sample:s2", limit="10"),
        "ImageCollection.from_id",
        "limit",
        "Int or None",
        "str '10'",
    ),
    (
        lambda: wf.ImageCollection.from_id("sample:s2", "2023-13-45"),
        "ImageCollection.from_id",
        "start_datetime",
        "Datetime or None",
        "str '2023-13-45'",
    ),
    (lambda: wf.ImageCollection([img(), 1]), "ImageCollection", "images", "Image", "int 1"),
    (lambda: wf.Image.from_id(["a"]), "Image.from_id", "image_id", "Str", "list ['a']"),
    (
        lambda: wf.Image.from_id("sample:dem:santa_fe", processing_level=1),
        "Image.from_id",
        "processing_level",
        "Str or None",
        "int 1",
    ),
    (lambda: img().pick_bands(1), "Image.pick_bands", "bands", "str, Str, list", "int 1"),
    (
        lambda: img().pick_bands("a", allow_missing="no"),
        "Image.pick_bands",
        "allow_missing",
        "Bool",
        "str",
    ),
    (lambda: img().unpack_bands(3), "Image.unpack_bands", "bands", "str or list of str", "int 3"),
    (lambda: img().concat_bands(1), "Image.concat_bands", "other_image", "Image or", "int 1"),
    (
        lambda: col().concat_bands(wf.Int(1)),
        "ImageCollection.concat_bands",
        "other",
        "Image",
        "Int",
    ),
    (lambda: img().map_bands("f"), "Image.map_bands", "func", "a function", "str 'f'"),
    (lambda: img().mask(1), "Image.mask", "mask", "Image, ImageCollection, Geometry", "int 1"),
    (lambda: img().mask(img(), replace=None), "Image.mask", "replace", "Bool", "NoneType"),
    (
        lambda: img().without_properties(1),
        "Image.without_properties",
        "property_keys",
        "Str",
        "int",
    ),
    (lambda: img().with_bandinfo(1, a=1), "Image.with_bandinfo", "band", "Str", "int 1"),
    (lambda: img().with_properties(a=object()), "Image.with_properties", "a", "a value", "object"),
    (
        lambda: img().without_bandinfo("a", 2),
        "Image.without_bandinfo",
        "bandinfo_keys",
        "Str",
        "int",
    ),
    (lambda: img().clip_values("0"), "Image.clip_values", "min", "Int or Float", "str '0'"),
    (lambda: img().clip_values(0, [1, "a"]), "Image.clip_values", "max", "List[Float]", "list"),
    (
        lambda: img().scale_values(0, None),
        "Image.scale_values",
        "range_max",
        "Int or Float",
        "None",
    ),
    (lambda: img().colormap(1), "Image.colormap", "named_colormap", "Str", "int 1"),
    (lambda: img().colormap("viridis", "a", 1), "Image.colormap", "vmin", "Float or None", "str"),
    (lambda: img().replace_empty_with("x"), "Image.replace_empty_with", "fill", "Float", "str 'x'"),
    (
        lambda: img().replace_empty_with(1, bandinfo=[1]),
        "Image.replace_empty_with",
        "bandinfo",
        "a dict or None",
        "list [1]",
    ),
    (lambda: img().reduction(1), "Image.reduction", "operation", "one of", "int 1"),
    (lambda: img().value_at("1", 2), "Image.value_at", "x", "Int or Float", "str '1'"),
    (lambda: img().coords_to_index(1, None), "Image.coords_to_index", "y", "Int or Float", "None"),
    (lambda: img().index_to_coords(1.5, 2), "Image.index_to_coords", "row", "Int", "float 1.5"),
    (lambda: img().concat(1), "Image.concat", "imgs", "Image or ImageCollection", "int 1"),
    (lambda: wf.concat(img(), "x"), "concat", "imgs", "Image or ImageCollection", "str 'x'"),
    (lambda: wf.where(1, img(), img()), "where", "condition", "Image or ImageCollection", "int 1"),
    (lambda: wf.where(img() > 1, "a", img()), "where", "x", "Image, ImageCollection", "str 'a'"),
    (lambda: wf.conv2d(img(), [1, 2]), "conv2d", "filt", "Kernel", "list [1, 2]"),
    (lambda: wf.Kernel(dims="3x3", data=[1.0]), "Kernel", "dims", "Tuple[Int, Int]", "str"),
    (lambda: wf.Kernel(dims=(1, 1), data=["a"]), "Kernel", "data", "List[Float]", "list ['a']"),
    (lambda: groups().map(1), "ImageCollectionGroupby[Int].map", "func", "a function", "int"),
    (
        lambda: groups().mosaic(None),
        "ImageCollectionGroupby[Int].mosaic",
        "reverse",
        "Bool",
        "None",
    ),
    (lambda: groups()["jan"], "ImageCollectionGroupby[Int].__getitem__", "key", "Int", "str"),
    (lambda: col().groupby(1), "ImageCollection.groupby", "func", "a function", "int 1"),
    (lambda: wf.GeoContext.from_xyz_tile(1, 2, "3"), "GeoContext.from_xyz_tile", "z", "Int", "str"),
    (lambda: wf.GeoContext.from_dltile_key(512), "GeoContext.from_dltile_key", "key", "Str", "int"),
    (lambda: wf.GeoContext(resolution="10"), "GeoContext", "resolution", "Float", "str '10'"),
    (lambda: wf.GeoContext(bounds=(0, 1)), "GeoContext", "bounds", "Tuple[Float, Float", "tuple"),
    (lambda: wf.GeoContext(geometry=5), "GeoContext", "geometry", "a Geometry", "int 5"),
    (lambda: wf.GeoContext.from_scenes("x"), "GeoContext.from_scenes", "ctx", "AOI", "str 'x'"),
    (
        lambda: wf.GeoContext.from_xyz_tile(1, 2, 3).index_to_coords(0, "1"),
        "GeoContext.index_to_coords",
        "col",
        "Int",
        "str '1'",
    ),
    (lambda: point().buffer("1"), "Geometry.buffer", "distance", "Int or Float", "str '1'"),
    (lambda: point().rasterize("n"), "Geometry.rasterize", "value", "Int or Float", "str 'n'"),
    (lambda: wf.Geometry(1, [0, 0]), "Geometry", "type", "Str", "int 1"),
    (lambda: feature().rasterize([1]), "Feature.rasterize", "value", "Int or Float or Str", "list"),
    (
        lambda: feature().rasterize(default_value="a"),
        "Feature.rasterize",
        "default_value",
        "Int or Float",
        "str 'a'",
    ),
    (
        lambda: wf.FeatureCollection([feature()]).rasterize(merge_algorithm=1),
        "FeatureCollection.rasterize",
        "merge_algorithm",
        "Str",
        "int 1",
    ),
    (
        lambda: wf.FeatureCollection([feature()]).sorted(1),
        "FeatureCollection.sorted",
        "key",
        "a function",
        "int 1",
    ),
    (
        lambda: wf.FeatureCollection([feature()]).contains(point()),
        "FeatureCollection.contains",
        "other",
        "Feature",
        "Geometry",
    ),
    (
        lambda: wf.FeatureCollection.from_vector_id(7),
        "FeatureCollection.from_vector_id",
        "id",
        "Str",
        "int 7",
    ),
    (
        lambda: wf.GeometryCollection([point()]).map("x"),
        "GeometryCollection.map",
        "func",
        "a function",
        "str",
    ),
    (lambda: wf.List[wf.Int]([1])["0"], "List[Int].__getitem__", "index", "Int", "str '0'"),
    (lambda: wf.List[wf.Int]([1]).map(1), "List[Int].map", "func", "a function", "int 1"),
    (lambda: wf.List[wf.Int]([1]).contains("a"), "List[Int].contains", "other", "Int", "str"),
    (lambda: wf.Datetime("2020"), "Datetime", "year", "Int", "str '2020'"),
    (lambda: wf.Datetime.from_string(2020), "Datetime.from_string", "string", "Str", "int"),
    (lambda: wf.Timedelta(days="1"), "Timedelta", "days", "Int or Float", "str '1'"),
    (
        lambda: wf.Datetime(2020).is_between("2020-01-01", 5.5 + 1j),
        "Datetime.is_between",
        "end",
        "Datetime",
        "complex",
    ),
]


@pytest.mark.parametrize(
    ("call", "where", "argument", "expected", "received"),
    WRONG,
    ids=[f"{w}-{a}" for _, w, a, _, _ in WRONG],
)
def test_wrong_argument_is_refused_at_the_call(call, where, argument, expected, received) -> None:
    with pytest.raises(ProxyTypeError) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"{where}: argument {argument!r} expects "), message
    assert expected in message.split(" expects ", 1)[1].split(", got ")[0], message
    assert message.split(", got ", 1)[1].startswith(received), message


def test_promoted_arguments_build_the_same_graft_as_proxies() -> None:
    """A Python value and the proxy it promotes to give grafts of the same shape."""
    from tiles.graft import content_hash

    pairs = [
        (col().head(2), col().head(wf.Int(2))),
        (img().clip_values(0, 1), img().clip_values(wf.Int(0), wf.Int(1))),
        (img().clip_values(0.5), img().clip_values(wf.Float(0.5))),
        (col().mosaic(True), col().mosaic(wf.Bool(True))),
        (
            wf.ImageCollection.from_id("sample:s2", "2023-01-01"),
            wf.ImageCollection.from_id("sample:s2", wf.Datetime.from_string("2023-01-01")),
        ),
    ]
    for python_value, proxy in pairs:
        assert content_hash(python_value.graft) == content_hash(proxy.graft)


def test_right_arguments_compute() -> None:
    ctx = wf.scenes.AOI(
        bounds=(412980.0, 3949170.0, 416820.0, 3953010.0),
        bounds_crs="EPSG:32613",
        crs="EPSG:32613",
        resolution=120.0,
    )
    n = wf.parameter("n", wf.Int)
    assert col().head(n).length().compute(ctx, n=3) == 3
    assert col().head(2).length().compute(ctx) == 2
    whole = img().compute(ctx).ndarray
    clipped = img().clip_values(wf.Float(2200.0), 2300).compute(ctx).ndarray
    np.testing.assert_array_equal(clipped.mask, whole.mask)
    np.testing.assert_array_equal(clipped.compressed(), np.clip(whole.compressed(), 2200, 2300))
    start = dt.datetime(2023, 3, 1, tzinfo=dt.timezone.utc)
    dates = wf.ImageCollection.from_id("sample:s2", start, "2023-04-01").map(
        lambda i: i.properties["date"]
    )
    assert all(
        start <= d < dt.datetime(2023, 4, 1, tzinfo=dt.timezone.utc) for d in dates.compute(ctx)
    )
    with pytest.raises(ProxyTypeError, match="ImageCollection.head: argument 'n' expects Int"):
        col().head(wf.parameter("m", wf.Str))
