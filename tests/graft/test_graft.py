"""The graft language: real grafts of the original client, hashing, scopes and bad input."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
import rasterio
from rasterio.warp import Resampling, reproject

import tiles as wf
from tiles.builtins import REGISTRY
from tiles.data import catalog
from tiles.errors import GraftError, GraftNameError, GraftSyntaxError, GraftTypeError
from tiles.geocontext import AOI, XYZTile
from tiles.graft import canonicalize, content_hash, evaluate_graft, interpret

UTC = dt.timezone.utc


def roundtrip(graft: dict) -> dict:
    return json.loads(json.dumps(graft))


def counting(registry: dict, name: str, function=lambda x: x) -> tuple[dict, list]:
    """A scratch registry: ``registry`` plus ``name`` that records each call."""
    calls: list = []

    def counted(*args):
        calls.append(args)
        return function(*args)

    return {**registry, name: counted}, calls


# -- real grafts built by the original client (keys as its consistent_guid made them) -------

FUNCTION_OF_X = {"0": 1, "1": ["wf.numpy.add", "x", "0"], "returns": "1", "parameters": ["x"]}

PLAIN_GRAFTS = [
    ({"0": 1, "1": 1, "2": ["wf.numpy.add", "0", "1"], "returns": "2"}, {}, 2),
    ({"0": 1, "1": ["wf.numpy.add", "x", "0"], "returns": "1"}, {"x": 41}, 42),
    ({"3": FUNCTION_OF_X, "2": 2, "4": ["3", {"x": "2"}], "returns": "4"}, {}, 3),
    (
        {
            "0": True,
            "1": 1,
            "2": 2,
            "4": {"returns": "1", "parameters": []},
            "5": {"returns": "2", "parameters": []},
            "6": ["wf.ifelse", "0", "4", "5"],
            "returns": "6",
        },
        {},
        1,
    ),
    (
        {
            "0": 5,
            "3": {"parameters": ["a"], "2": ["wf.numpy.add", "a", "0"], "returns": "2"},
            "7": 10,
            "8": ["3", "7"],
            "returns": "8",
        },
        {},
        15,
    ),
    ({"0": 1, "1": 2, "2": 3, "3": ["wf.list", "0", "1", "2"], "returns": "3"}, {}, [1, 2, 3]),
    ({"5": 7, "6": ["wf.dict.create", {"a": "5"}], "returns": "6"}, {}, {"a": 7}),
    ({"0": 1.5, "1": "b", "2": ["wf.tuple", "0", "1"], "returns": "2"}, {}, (1.5, "b")),
    (
        {
            "0": 2021,
            "1": 1,
            "2": 20,
            "3": 0,
            "4": [
                "wf.datetime.from_components",
                {
                    "year": "0",
                    "month": "1",
                    "day": "2",
                    "hour": "3",
                    "minute": "3",
                    "second": "3",
                    "microsecond": "3",
                },
            ],
            "returns": "4",
        },  # fmt: skip
        {},
        dt.datetime(2021, 1, 20, tzinfo=UTC),
    ),
    (
        {
            "0": 2,
            "1": 0,
            "2": [
                "wf.timedelta.from_components",
                {
                    "days": "0",
                    "seconds": "1",
                    "microseconds": "1",
                    "milliseconds": "1",
                    "minutes": "1",
                    "hours": "1",
                    "weeks": "1",
                },
            ],
            "returns": "2",
        },  # fmt: skip
        {},
        dt.timedelta(days=2),
    ),
    (
        {"0": "2019-01-01", "1": ["wf.datetime.from_string", "0"], "returns": "1"},
        {},
        dt.datetime(2019, 1, 1, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(("graft", "arguments", "expected"), PLAIN_GRAFTS)
def test_real_grafts_evaluate(graft: dict, arguments: dict, expected) -> None:
    assert interpret(graft, **arguments) == expected
    # What JSON carries evaluates the same.
    assert interpret(roundtrip(graft), **arguments) == expected


def test_ifelse_evaluates_only_the_chosen_branch() -> None:
    registry, calls = counting(REGISTRY, "test.touch")
    graft = {
        "c": False,
        "one": 1,
        "two": 2,
        "t": {"returns": "tt", "tt": ["test.touch", "one"], "parameters": []},
        "f": {"returns": "ff", "ff": ["test.touch", "two"], "parameters": []},
        "r": ["wf.ifelse", "c", "t", "f"],
        "returns": "r",
    }
    assert evaluate_graft(graft, registry) == 2
    assert calls == [(2,)]


def test_geocontext_grafts_evaluate() -> None:
    xyz = {
        "0": 1, "1": 2, "2": 3, "3": False,
        "4": ["wf.GeoContext.from_xyz_tile", "0", "1", "2", "3"],
        "returns": "4",
    }  # fmt: skip
    result = interpret(roundtrip(xyz))
    assert result["arr_shape"] == (256, 256)
    assert result["bounds"] == pytest.approx(
        (-15028131.257091932, 5009377.085697311, -10018754.17139462, 10018754.171394622)
    )
    key = "512:0:10.0:36:-65:216"
    dltile = {
        "0": key,
        "1": False,
        "2": ["wf.GeoContext.from_dltile_key", "0", "1"],
        "returns": "2",
    }
    result = interpret(roundtrip(dltile))
    assert result["gdal_geotrans"] == (167200.0, 10.0, 0.0, 1111040.0, 0.0, -10.0)
    create = {
        "0": "EPSG:32613", "1": True, "2": 400000.0, "3": 3900000.0, "4": 400600.0,
        "5": 3901000.0, "6": ["wf.tuple", "2", "3", "4", "5"], "7": "EPSG:32613", "8": 30.0,
        "9": False,
        "10": ["wf.GeoContext.create", {"crs": "0", "align_pixels": "1", "bounds": "6",
                                        "bounds_crs": "7", "resolution": "8",
                                        "all_touched": "9"}],
        "returns": "10",
    }  # fmt: skip
    result = interpret(roundtrip(create))
    # align_pixels snaps outward to multiples of 30 m
    minx, maxx = math.floor(400000 / 30) * 30, math.ceil(400600 / 30) * 30
    miny, maxy = math.floor(3900000 / 30) * 30, math.ceil(3901000 / 30) * 30
    assert result["arr_shape"] == ((maxy - miny) // 30, (maxx - minx) // 30)
    assert result["gdal_geotrans"] == (minx, 30.0, 0.0, maxy, 0.0, -30.0)


# -- imagery grafts on the built-in sample catalog --------------------------------------------


@pytest.fixture(scope="module")
def s2_ctx() -> AOI:
    # Inside the UTM zone 13 scenes only, in their own CRS at their own 60 m resolution (so
    # no overview is involved).
    return AOI(
        bounds=(425000, 3944000, 431000, 3950000),
        bounds_crs="EPSG:32613",
        crs="EPSG:32613",
        resolution=60,
    )


def reference_band(image_id: str, band: str, ctx: AOI) -> np.ma.MaskedArray:
    """One sample band read with rasterio alone into ``ctx``'s grid, rescaled to [0, 1]."""
    record = catalog.image(image_id)
    path, bidx = record.files[band]
    out = np.full(ctx.arr_shape, np.nan, dtype="float64")
    with rasterio.open(path) as src:
        reproject(
            rasterio.band(src, bidx),
            out,
            src_nodata=0,
            dst_transform=ctx.transform,
            dst_crs=ctx.crs,
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
    return np.ma.masked_invalid(out) / 10000.0


def test_image_load_and_pick_bands_graft(s2_ctx: AOI) -> None:
    image_id = "sample:s2:20230415_z13"
    load = {
        "0": image_id, "1": None, "2": None,
        "3": ["wf.Image.load", "0", {"resampler": "1", "processing_level": "2"}],
        "4": "red", "5": "green", "6": "red", "7": False,
        "8": ["wf.pick_bands", "3", "4", "5", "6", {"allow_missing": "7"}],
        "returns": "8",
    }  # fmt: skip
    result = interpret(roundtrip(load), s2_ctx)
    assert list(result.bandinfo) == ["red", "green", "red_1"]
    red = reference_band(image_id, "red", s2_ctx)
    green = reference_band(image_id, "green", s2_ctx)
    assert result.ndarray.shape == (3, *s2_ctx.arr_shape)
    for i, expected in enumerate([red, green, red]):
        np.testing.assert_array_equal(result.ndarray.mask[i], np.ma.getmaskarray(expected))
        np.testing.assert_allclose(result.ndarray[i].compressed(), expected.compressed())


def test_collection_from_id_and_map_imagery_graft(s2_ctx: AOI) -> None:
    graft = {
        "0": "sample:s2", "1": "2023-03-01", "2": ["wf.datetime.from_string", "1"],
        "3": "2023-05-01", "4": ["wf.datetime.from_string", "3"], "5": None, "6": None,
        "7": None,
        "8": ["wf.ImageCollection.from_id", "0", {"start_datetime": "2", "end_datetime": "4",
                                                 "limit": "5", "resampler": "6",
                                                 "processing_level": "7"}],
        "15": {"parameters": ["img"], "10": "red", "11": False,
               "12": ["wf.pick_bands", "img", "10", {"allow_missing": "11"}], "13": 2,
               "14": ["wf.mul", "12", "13"], "returns": "14"},
        "16": ["wf.map_imagery", "8", "15"],
        "returns": "16",
    }  # fmt: skip
    result = interpret(roundtrip(graft), s2_ctx)
    ids = [p["id"] for p in result.properties]
    # March and April, zone 13 only (the zone 12 scenes do not reach this AOI).
    assert ids == ["sample:s2:20230316_z13", "sample:s2:20230415_z13"]
    assert list(result.bandinfo) == ["red"]
    for i, image_id in enumerate(ids):
        expected = reference_band(image_id, "red", s2_ctx) * 2
        got = result.ndarray[i, 0]
        np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(expected))
        np.testing.assert_allclose(got.compressed(), expected.compressed())


def test_properties_date_graft(s2_ctx: AOI) -> None:
    graft = {
        "0": "sample:s2:20230715_z13",
        "1": ["wf.Image.load", "0"],
        "p": "properties",
        "2": ["wf.getattr", "1", "p"],
        "3": "date",
        "4": ["wf.get", "2", "3"],
        "returns": "4",
    }
    with pytest.raises(wf.NotFoundError, match="20230715_z13"):
        interpret(graft, s2_ctx)  # no such image: the July date is the 14th
    graft["0"] = "sample:s2:20230714_z13"
    assert interpret(graft, s2_ctx) == dt.datetime(2023, 7, 14, 17, 52, 31, tzinfo=UTC)


def test_proxy_graft_survives_json(s2_ctx: AOI) -> None:
    col = wf.ImageCollection.from_id("sample:s2", "2023-04-01", "2023-07-01")
    stats = (col.pick_bands("nir") - col.pick_bands("red")).mean(axis="images").mean("pixels")
    direct = stats.compute(s2_ctx)
    assert interpret(roundtrip(stats.graft), s2_ctx) == direct
    assert set(direct) == {"nir_sub_red"}
    ids = catalog.search("sample:s2", "2023-04-01", "2023-07-01", s2_ctx.bounds_lonlat)
    stack = np.ma.stack(
        [reference_band(r.id, "nir", s2_ctx) - reference_band(r.id, "red", s2_ctx) for r in ids]
    )
    assert direct["nir_sub_red"] == pytest.approx(float(stack.mean(axis=0).mean()), rel=1e-9)


# -- content hash ------------------------------------------------------------------------------


def test_content_hash_ignores_key_numbering() -> None:
    a, b = wf.Int(1) + 1, wf.Int(1) + 1
    assert a.graft != b.graft  # fresh keys every time
    assert content_hash(a.graft) == content_hash(b.graft)
    assert content_hash(a.graft) == content_hash(roundtrip(a.graft))

    def build():
        col = wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2023-06-01")
        offset = wf.Float(0.5)
        return col.map(lambda img: img.pick_bands("red") + offset).max(axis="images")

    g1, g2 = build().graft, build().graft
    assert g1 != g2
    assert content_hash(g1) == content_hash(g2)


def test_content_hash_tells_expressions_apart() -> None:
    hashes = {
        content_hash((wf.Int(1) + 1).graft),
        content_hash((wf.Int(1) + 2).graft),
        content_hash((wf.Int(1) - 1).graft),
        content_hash((wf.Float(1.0) + 1.0).graft),
        content_hash((wf.Int(2) + 1).graft),
        content_hash((wf.Int(1) + wf.Int(1) + 1).graft),
    }
    assert len(hashes) == 6
    # argument order matters, even when the values are equal types
    x, y = wf.parameter("x", wf.Int), wf.parameter("y", wf.Int)
    assert content_hash((x - y).graft) != content_hash((y - x).graft)


def test_content_hash_handcrafted_renumbering_and_unreachable_keys() -> None:
    g1 = {"a": 1, "b": 2, "c": ["wf.numpy.subtract", "a", "b"], "returns": "c"}
    g2 = {"9": 2, "7": 1, "z": ["wf.numpy.subtract", "7", "9"], "unused": 5, "returns": "z"}
    g3 = {"9": 2, "7": 1, "z": ["wf.numpy.subtract", "9", "7"], "returns": "z"}
    assert content_hash(g1) == content_hash(g2)
    assert content_hash(g1) != content_hash(g3)
    assert interpret(g1) == interpret(g2) == -1


# -- scopes ------------------------------------------------------------------------------------


def test_closure_captures_enclosing_keys() -> None:
    graft = {
        "k": 100,
        "make": {
            "parameters": ["a"],
            "inner": {"parameters": ["b"], "s": ["wf.numpy.add", "a", "b"], "t":
                      ["wf.numpy.add", "s", "k"], "returns": "t"},
            "returns": "inner",
        },
        "one": 1,
        "two": 2,
        "adder": ["make", "one"],
        "r": ["adder", "two"],
        "returns": "r",
    }  # fmt: skip
    assert interpret(graft) == 103


def test_shadowing() -> None:
    # An inner parameter named like an outer key hides it; so does an inner key named like an
    # outer parameter.
    graft = {
        "x": 1,
        "f": {"parameters": ["x"], "r": ["wf.numpy.multiply", "x", "x"], "returns": "r"},
        "g": {"parameters": ["y"], "x": 7, "r": ["wf.numpy.add", "x", "y"], "returns": "r"},
        "ten": 10,
        "fx": ["f", "ten"],
        "gx": ["g", "ten"],
        "outer": ["wf.numpy.add", "x", "x"],
        "all": ["wf.list", "fx", "gx", "outer"],
        "returns": "all",
    }
    assert interpret(graft) == [100, 17, 2]
    # a parameter of the whole graft shadowed by a function parameter of the same name
    graft = {
        "f": {"parameters": ["p"], "r": ["wf.numpy.negative", "p"], "returns": "r"},
        "three": 3,
        "a": ["f", "three"],
        "b": ["wf.numpy.add", "a", "p"],
        "returns": "b",
    }
    assert interpret(graft, p=100) == 97


def test_higher_order_functions() -> None:
    graft = {
        "compose": {
            "parameters": ["f", "g"],
            "h": {"parameters": ["x"], "gx": ["g", "x"], "fgx": ["f", "gx"], "returns": "fgx"},
            "returns": "h",
        },
        "double": {"parameters": ["n"], "two": 2, "r": ["wf.numpy.multiply", "n", "two"],
                   "returns": "r"},
        "inc": {"parameters": ["n"], "one": 1, "r": ["wf.numpy.add", "n", "one"],
                "returns": "r"},
        "h": ["compose", "double", "inc"],
        "xs": [[1, 2, 3]],
        "mapped": ["wf.map", "xs", "h"],
        "returns": "mapped",
    }  # fmt: skip
    assert interpret(graft) == [4, 6, 8]
    # A builtin passed as a function value
    graft = {"xs": [[3, -1, 2]], "r": ["wf.map", "xs", "wf.numpy.absolute"], "returns": "r"}
    assert interpret(graft) == [3, 1, 2]


def test_shared_subexpressions_evaluate_once() -> None:
    registry, calls = counting(REGISTRY, "test.expensive", lambda x: x * 10)
    graft = {
        "one": 1,
        "e": ["test.expensive", "one"],
        "a": ["wf.numpy.add", "e", "e"],
        "b": ["wf.numpy.multiply", "e", "a"],
        "f": {"parameters": ["v"], "r": ["wf.numpy.add", "v", "e"], "returns": "r"},
        "xs": [[1, 2, 3]],
        "m": ["wf.map", "xs", "f"],
        "all": ["wf.list", "a", "b", "m"],
        "returns": "all",
    }
    assert evaluate_graft(graft, registry) == [20, 200, [11, 12, 13]]
    assert calls == [(1,)]
    # Inside a function body, a key is evaluated once per call.
    registry, calls = counting(REGISTRY, "test.expensive", lambda x: x * 10)
    graft = {
        "f": {
            "parameters": ["v"],
            "e": ["test.expensive", "v"],
            "r": ["wf.numpy.add", "e", "e"],
            "returns": "r",
        },
        "xs": [[1, 2]],
        "m": ["wf.map", "xs", "f"],
        "returns": "m",
    }
    assert evaluate_graft(graft, registry) == [20, 40]
    assert calls == [(1,), (2,)]


def test_quoted_json_is_not_evaluated() -> None:
    graft = {"q": [["wf.numpy.add", "a", "b"]], "returns": "q"}
    assert interpret(graft) == ["wf.numpy.add", "a", "b"]
    graft = {"q": [{"returns": "x"}], "returns": "q"}
    assert interpret(graft) == {"returns": "x"}


def test_top_level_function_graft() -> None:
    function = evaluate_graft(roundtrip(FUNCTION_OF_X), REGISTRY)
    assert function(4) == 5
    assert function(x=9) == 10


# -- malformed grafts --------------------------------------------------------------------------

BAD_GRAFTS = [
    ([1, 2], GraftSyntaxError, "JSON object with a 'returns' key"),
    ({"0": 1}, GraftSyntaxError, "'returns'"),
    ({"0": 1, "returns": 0}, GraftSyntaxError, "'returns' must be a key"),
    ({"0": 1, "1": ["wf.numpy.add", 0, "0"], "returns": "1"}, GraftSyntaxError, "keys"),
    ({"0": 1, "1": ["wf.numpy.add", "0", {"b": 1}], "returns": "1"}, GraftSyntaxError, "keys"),
    ({"0": [], "returns": "0"}, GraftSyntaxError, "not a valid graft expression"),
    ({"0": [1, "2"], "returns": "0"}, GraftSyntaxError, "not a valid graft expression"),
    ({"0": {"a": 1}, "returns": "0"}, GraftSyntaxError, "without 'returns'"),
    ({"0": ["nope.nothing", "0"], "returns": "0"}, GraftNameError, "nope.nothing"),
    ({"1": ["wf.numpy.add", "1", "1"], "returns": "1"}, GraftSyntaxError, "depends on itself"),
    (
        {"a": ["wf.list", "b"], "b": ["wf.list", "c"], "c": ["wf.list", "a"], "returns": "a"},
        GraftSyntaxError,
        "depends on itself",
    ),
    ({"0": 1, "1": ["wf.numpy.add", "0"], "returns": "1"}, GraftTypeError, "wf.numpy.add"),
    (
        {"0": 1, "1": ["wf.numpy.add", "0", "0", "0"], "returns": "1"},
        GraftTypeError,
        "wf.numpy.add",
    ),
    (
        {"0": 1, "1": ["wf.numpy.add", "0", {"bogus": "0"}], "returns": "1"},
        GraftTypeError,
        "wf.numpy.add",
    ),
    (
        {"0": 1, "f": FUNCTION_OF_X, "1": ["f", "0", "0"], "returns": "1"},
        GraftTypeError,
        "takes 1 argument",
    ),
    ({"0": 1, "f": FUNCTION_OF_X, "1": ["f"], "returns": "1"}, GraftTypeError, "'x'"),
    (
        {"0": 1, "f": FUNCTION_OF_X, "1": ["f", {"y": "0"}], "returns": "1"},
        GraftTypeError,
        "no parameter 'y'",
    ),
    ({"0": 1, "1": ["0"], "returns": "1"}, GraftTypeError, "not a function"),
    ({"f": {"parameters": "x", "returns": "x"}, "1": ["f"], "returns": "1"}, GraftSyntaxError,
     "'parameters'"),
    ({"returns": "undefined_name"}, GraftNameError, "undefined_name"),
]  # fmt: skip


@pytest.mark.parametrize(("graft", "error", "message"), BAD_GRAFTS)
def test_malformed_grafts(graft, error: type, message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(")):
        interpret(graft)


@pytest.mark.parametrize(
    "name",
    ["__import__", "os.system", "eval", "exec", "open", "__builtins__", "getattr", "compile",
     "subprocess.run", "builtins.eval"],
)  # fmt: skip
def test_no_python_names(name: str) -> None:
    graft = {"0": "echo hi", "1": [name, "0"], "returns": "1"}
    with pytest.raises(GraftNameError, match="unknown name"):
        interpret(graft)
    with pytest.raises(GraftNameError):
        interpret({"returns": name})


def test_getattr_only_reads_documented_fields() -> None:
    graft = {"0": "2020-01-02", "d": ["wf.datetime.from_string", "0"], "n": "__class__",
             "r": ["wf.getattr", "d", "n"], "returns": "r"}  # fmt: skip
    with pytest.raises(GraftTypeError, match="__class__"):
        interpret(graft)
    graft["n"] = "year"
    assert interpret(graft) == 2020
    graft = {"f": FUNCTION_OF_X, "n": "graft", "r": ["wf.getattr", "f", "n"], "returns": "r"}
    with pytest.raises(GraftTypeError):
        interpret(graft)


def test_string_format_cannot_reach_python_internals() -> None:
    graft = {
        "f": FUNCTION_OF_X,
        "s": "{0.__call__.__func__.__globals__}",
        "r": ["wf.Str.format", "s", "f"],
        "returns": "r",
    }
    with pytest.raises(GraftError, match="format"):
        interpret(graft)
    graft["s"] = "{0.__class__}"
    graft["f"] = "text"
    with pytest.raises(GraftError, match="format"):
        interpret(graft)
    # Plain positional, named and indexed fields still work.
    graft = {"s": "{0}-{1:>4}-{2[1]}-{n}", "a": 1, "b": "x", "c": [[5, 6]], "nn": 2.5,
             "r": ["wf.Str.format", "s", "a", "b", "c", {"n": "nn"}], "returns": "r"}  # fmt: skip
    assert interpret(graft) == "1-   x-6-2.5"


def test_geocontext_required_for_imagery() -> None:
    graft = {"0": "sample:dem:santa_fe", "1": ["wf.Image.load", "0"], "returns": "1"}
    with pytest.raises(wf.GeoContextError, match="needs a GeoContext"):
        interpret(graft)
    result = interpret(graft, XYZTile(196, 403, 10))
    assert result.ndarray.shape == (1, 256, 256)


def test_content_hash_keeps_keys_apart_from_verbatim_names() -> None:
    # "0" is a free parameter here, not a key: renumbering "a" to "0" would make this graft
    # look like a + a.
    free = {"a": 5, "c": ["wf.numpy.add", "a", "0"], "returns": "c"}
    doubled = {"a": 5, "c": ["wf.numpy.add", "a", "a"], "returns": "c"}
    assert interpret(free, **{"0": 3}) == 8 and interpret(doubled) == 10
    assert content_hash(free) != content_hash(doubled)
    assert content_hash(free) == content_hash({"z": 5, "y": ["wf.numpy.add", "z", "0"],
                                               "returns": "y"})  # fmt: skip
    # The same with a function parameter named like a number.
    param = {
        "a": 5,
        "f": {"parameters": ["0"], "r": ["wf.numpy.add", "0", "a"], "returns": "r"},
        "c": ["f", "a"],
        "returns": "c",
    }
    same = {
        "a": 5,
        "f": {"parameters": ["0"], "r": ["wf.numpy.add", "0", "0"], "returns": "r"},
        "c": ["f", "a"],
        "returns": "c",
    }
    three = {**param, "b": 3, "c": ["f", "b"]}
    assert interpret(three) == 8
    assert content_hash(param) != content_hash(same)
    assert interpret(canonicalize(three)) == 8
    assert interpret(canonicalize(free), **{"0": 3}) == 8


@pytest.mark.parametrize(("graft", "arguments", "expected"), PLAIN_GRAFTS)
def test_canonical_form_evaluates_the_same(graft: dict, arguments: dict, expected) -> None:
    canonical = canonicalize(graft)
    assert interpret(canonical, **arguments) == expected
    assert canonicalize(canonical) == canonical


FACTORIAL = {
    "parameters": ["n"],
    "one": 1,
    "small": ["wf.numpy.less_equal", "n", "one"],
    "base": {"parameters": [], "returns": "one"},
    "step": {
        "parameters": [],
        "m": ["wf.numpy.subtract", "n", "one"],
        "r": ["fact", "m"],
        "p": ["wf.numpy.multiply", "n", "r"],
        "returns": "p",
    },
    "res": ["wf.ifelse", "small", "base", "step"],
    "returns": "res",
}


def test_recursion_through_the_enclosing_scope() -> None:
    graft = {"fact": FACTORIAL, "n": 10, "r": ["fact", "n"], "returns": "r"}
    assert interpret(graft) == math.factorial(10)


@pytest.mark.parametrize("links", [200, 5000])
def test_a_long_chain_of_keys_evaluates(links: int) -> None:
    # Each key uses the one before, as the client writes a long sequence of operations.
    graft: dict = {"a0": 0.5, "one": 1}
    for i in range(1, links):
        graft[f"a{i}"] = ["wf.numpy.add", f"a{i - 1}", "one"] if i % 2 else ["wf.neg", f"a{i - 1}"]
    graft["returns"] = f"a{links - 1}"
    expected = 0.5
    for i in range(1, links):
        expected = expected + 1 if i % 2 else -expected
    assert interpret(graft) == expected


def test_a_long_chain_of_keys_hashes_alike_however_its_keys_are_named() -> None:
    def chain(links: int, name) -> dict:
        graft: dict = {name(0): 0.5}
        for i in range(1, links):
            graft[name(i)] = ["wf.neg", name(i - 1)]
        graft["returns"] = name(links - 1)
        return graft

    first = chain(5000, lambda i: f"a{i}")
    renamed = chain(5000, lambda i: f"z{10_000 - i}")
    assert content_hash(first) == content_hash(renamed)
    assert canonicalize(first) == canonicalize(renamed)
    assert content_hash(chain(4999, lambda i: f"a{i}")) != content_hash(first)


def test_keys_are_evaluated_in_the_order_applications_use_them() -> None:
    calls: list[str] = []

    def note(name: str):
        def record(*args):
            calls.append(name)
            return name

        return record

    builtins = {name: note(name) for name in ("f", "g", "h", "k")}
    graft = {"x": ["g"], "y": ["h", "x"], "z": ["k"], "r": ["f", "y", "z", "x"], "returns": "r"}
    assert evaluate_graft(graft, builtins) == "f"
    assert calls == ["g", "h", "k", "f"]


def test_endless_recursion_is_a_graft_error() -> None:
    graft = {
        "f": {"parameters": ["n"], "r": ["f", "n"], "returns": "r"},
        "one": 1,
        "c": ["f", "one"],
        "returns": "c",
    }
    with pytest.raises(GraftError, match="nested too deeply"):
        interpret(graft)
