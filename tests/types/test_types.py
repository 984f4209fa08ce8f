"""Proxy types: result types, the grafts operators build, promotion and build-time errors."""

from __future__ import annotations

import datetime as dt
import json
import math
import re

import numpy as np
import pytest

import tiles as wf
from tiles.errors import ParameterError, ProxyTypeError
from tiles.graft import interpret

UTC = dt.timezone.utc


def body(proxy) -> list:
    """The expression the proxy's graft returns."""
    return proxy.graft[proxy.graft["returns"]]


def function_name(proxy) -> str:
    return body(proxy)[0]


def literal_of(proxy, key: str):
    return proxy.graft[key]


@pytest.fixture()
def img():
    return wf.Image.from_id("sample:s2:20230115_z13")


@pytest.fixture()
def col():
    return wf.ImageCollection.from_id("sample:s2", "2023-01-01", "2023-06-01")


# -- result types --------------------------------------------------------------------------------


def test_result_types(img, col) -> None:
    assert type(col.map(lambda i: i.properties["date"])).__name__ == "List[Datetime]"
    assert type(col.map(lambda i: i.properties["id"])) is wf.List[wf.Str]
    assert type(col.map(lambda i: i.pick_bands("red"))) is wf.ImageCollection
    assert type(col.map(lambda i: i.mean(axis="pixels"))) is wf.List[wf.Dict[wf.Str, wf.Float]]
    assert type(img.mean(axis="pixels")) is wf.Dict[wf.Str, wf.Float]
    assert type(img.mean(axis="pixels")).__name__ == "Dict[Str, Float]"
    assert type(img.count(axis=None)) is wf.Float
    assert type(img.median(axis="bands")) is wf.Image
    assert type(col.max(axis="images")) is wf.Image
    assert type(col.max(axis="bands")) is wf.ImageCollection
    assert type(col.std(axis="pixels")) is wf.List[wf.Dict[wf.Str, wf.Float]]
    assert type(col.sum(axis=("images", "pixels"))) is wf.Dict[wf.Str, wf.Float]
    assert type(col.sum(axis=("pixels", "images"))) is wf.Dict[wf.Str, wf.Float]
    assert type(col.min(axis=("bands", "pixels"))) is wf.List[wf.Float]
    assert type(col.min(axis=("images", "bands"))) is wf.Image
    assert type(col.length()) is wf.Int
    assert type(col[0]) is wf.Image
    assert type(col[1:]) is wf.ImageCollection
    assert type(img.nbands) is wf.Int
    assert type(img + col) is wf.ImageCollection
    assert type(col.filter(lambda i: i.properties["date"].month > 2)) is wf.ImageCollection
    assert type(img.value_at(1.0, 2.0)) is wf.Dict[wf.Str, wf.Float]


def test_properties_known_keys(img, col) -> None:
    props = img.properties
    assert type(props["id"]) is wf.Str
    assert type(props["date"]) is wf.Datetime
    assert type(props["product"]) is wf.Str
    assert type(props["crs"]) is wf.Str
    assert type(props["geotrans"]) is wf.Tuple[(wf.Float,) * 6]
    assert type(props["cloud_fraction"]) is wf.Any
    assert type(props["date"].year) is wf.Int
    assert type(col.properties) is wf.List[type(props)]
    assert type(col.properties[0]["date"]) is wf.Datetime
    info = img.bandinfo
    assert type(info["red"]["data_range"]) is wf.Tuple[wf.Float, wf.Float]
    assert type(info["red"]["anything"]) is wf.Any
    # the graft: wf.getattr then wf.get, names as literals
    date = props["date"]
    fn, obj_key, name_key = body(date)
    assert fn == "wf.get" and date.graft[name_key] == "date"
    fn, _, attr_key = date.graft[obj_key]
    assert fn == "wf.getattr" and date.graft[attr_key] == "properties"


def test_any_results_promote_where_numbers_are_expected(img) -> None:
    fraction = img.properties["cloud_fraction"]
    assert type(fraction + 1) is wf.Any
    assert type(img * fraction) is wf.Image
    assert type(fraction.cast(wf.Float)) is wf.Float


# -- operator builtin names ----------------------------------------------------------------------

NUMBER_OPS = [
    (lambda a, b: a + b, "wf.numpy.add"),
    (lambda a, b: a - b, "wf.numpy.subtract"),
    (lambda a, b: a * b, "wf.numpy.multiply"),
    (lambda a, b: a / b, "wf.numpy.true_divide"),
    (lambda a, b: a // b, "wf.numpy.floor_divide"),
    (lambda a, b: a % b, "wf.numpy.remainder"),
    (lambda a, b: a**b, "wf.numpy.power"),
    (lambda a, b: a == b, "wf.numpy.equal"),
    (lambda a, b: a != b, "wf.numpy.not_equal"),
    (lambda a, b: a < b, "wf.numpy.less"),
    (lambda a, b: a <= b, "wf.numpy.less_equal"),
    (lambda a, b: a > b, "wf.numpy.greater"),
    (lambda a, b: a >= b, "wf.numpy.greater_equal"),
]


@pytest.mark.parametrize(("op", "name"), NUMBER_OPS)
def test_number_operators_use_numpy_names(op, name: str) -> None:
    comparison = name.rsplit(".", 1)[-1] in (
        "less",
        "less_equal",
        "greater",
        "greater_equal",
        "equal",
        "not_equal",
    )
    for left, right in [(wf.Int(7), 2), (wf.Float(7.0), wf.Int(2)), (7, wf.Int(2))]:
        result = op(left, right)
        if comparison and not isinstance(left, wf.Int | wf.Float):
            # Python turns ``7 < Int(2)`` into ``Int(2) > 7``: mirrored operands, same answer.
            assert result.compute() == op(7, 2)
            continue
        assert function_name(result) == name
        a, b = body(result)[1:]
        # operands stay in the written order, also for reflected operators
        assert interpret({**result.graft, "returns": a}) == 7
        assert interpret({**result.graft, "returns": b}) == 2
        assert result.compute() == pytest.approx(op(7, 2))


def test_number_result_types() -> None:
    assert type(wf.Int(1) + 1) is wf.Int
    assert type(wf.Int(1) + 1.5) is wf.Float
    assert type(1.5 + wf.Int(1)) is wf.Float
    assert type(wf.Int(3) / 2) is wf.Float
    assert type(wf.Int(3) // 2) is wf.Int
    assert type(wf.Int(3) > 2) is wf.Bool
    assert function_name(-wf.Int(3)) == "wf.numpy.negative"
    assert function_name(abs(wf.Float(-3.0))) == "wf.numpy.absolute"
    assert (wf.Int(7) / 2).compute() == 3.5
    assert (2 ** wf.Int(10)).compute() == 1024
    assert abs(wf.Int(-3)).compute() == 3


IMAGE_OPS = [
    (lambda a, b: a + b, "wf.add"),
    (lambda a, b: a - b, "wf.sub"),
    (lambda a, b: a * b, "wf.mul"),
    (lambda a, b: a / b, "wf.div"),
    (lambda a, b: a // b, "wf.floordiv"),
    (lambda a, b: a % b, "wf.mod"),
    (lambda a, b: a**b, "wf.pow"),
    (lambda a, b: a < b, "wf.lt"),
    (lambda a, b: a >= b, "wf.ge"),
    (lambda a, b: a == b, "wf.eq"),
    (lambda a, b: a & b, "wf.and"),
    (lambda a, b: a | b, "wf.or"),
]


@pytest.mark.parametrize(("op", "name"), IMAGE_OPS)
def test_image_operators_use_original_names(img, op, name: str) -> None:
    result = op(img, 2)
    assert type(result) is wf.Image
    assert function_name(result) == name
    first, second = body(result)[1:]
    assert result.graft[first][0] == "wf.Image.load"
    assert result.graft[second] == 2


def test_reflected_image_operators(img) -> None:
    # The original client emits wf.truediv for a reflected division (and wf.div otherwise).
    result = 2 / img
    assert function_name(result) == "wf.truediv"
    first, second = body(result)[1:]
    assert result.graft[first] == 2 and result.graft[second][0] == "wf.Image.load"
    result = 1 - img
    assert function_name(result) == "wf.sub"
    first, second = body(result)[1:]
    assert result.graft[first] == 1
    result = wf.Int(1) + img
    assert type(result) is wf.Image and function_name(result) == "wf.add"
    assert function_name(-img) == "wf.neg"
    assert function_name(~(img > 0)) == "wf.invert"


def test_other_types_use_plain_names() -> None:
    assert function_name(wf.Str("a") + "b") == "wf.add"
    assert function_name(wf.List[wf.Int]([1]) + [2]) == "wf.add"
    assert function_name(wf.Datetime(2020) + dt.timedelta(days=1)) == "wf.add"
    assert function_name(wf.Any(1) * 2) == "wf.mul"


# -- promotion -----------------------------------------------------------------------------------


def test_proxify() -> None:
    assert type(wf.proxify(1)) is wf.Int
    assert type(wf.proxify(np.int16(1))) is wf.Int
    assert type(wf.proxify(1.0)) is wf.Float
    assert type(wf.proxify(True)) is wf.Bool
    assert type(wf.proxify(np.bool_(True))) is wf.Bool
    assert type(wf.proxify("a")) is wf.Str
    assert type(wf.proxify(None)) is wf.NoneType
    assert type(wf.proxify([1, 2])) is wf.List[wf.Int]
    assert type(wf.proxify([[1], [2]])) is wf.List[wf.List[wf.Int]]
    assert type(wf.proxify([1, "a"])) is wf.Tuple[wf.Int, wf.Str]
    assert type(wf.proxify((1, 2))) is wf.Tuple[wf.Int, wf.Int]
    assert type(wf.proxify({"a": 1})) is wf.Dict[wf.Str, wf.Int]
    assert type(wf.proxify(dt.date(2020, 1, 2))) is wf.Datetime
    assert type(wf.proxify(dt.timedelta(hours=1))) is wf.Timedelta
    value = {"a": [1, 2], "b": [3]}
    assert wf.proxify(value).compute() == value
    assert wf.proxify([1, "a", 2.5]).compute() == (1, "a", 2.5)
    assert wf.proxify(dt.date(2020, 1, 2)).compute() == dt.datetime(2020, 1, 2, tzinfo=UTC)
    assert wf.proxify(dt.timedelta(hours=1)).compute() == dt.timedelta(hours=1)
    with pytest.raises(ProxyTypeError, match="argument types"):
        wf.proxify(lambda x: x)


def test_primitive_constructors_do_not_cross_promote() -> None:
    with pytest.raises(ProxyTypeError, match="Int cannot hold float"):
        wf.Int(1.5)
    with pytest.raises(ProxyTypeError, match="Int cannot hold bool"):
        wf.Int(True)
    one = wf.Float(1)
    assert one.graft[one.graft["returns"]] == 1.0
    cast = wf.Float(wf.Int(3))
    assert function_name(cast) == "wf.Float.cast" and cast.compute() == 3.0
    cast = wf.Int(wf.Float(3.7))
    assert function_name(cast) == "wf.Int.cast" and cast.compute() == 3
    with pytest.raises(ProxyTypeError, match="expected Float, got Int"):
        wf.Float._promote(wf.Int(1))
    assert wf.Any(3).cast(wf.Int).compute() == 3


def test_datetime_promotion() -> None:
    d = wf.Datetime._promote("2021-01-20T10:00:00")
    assert function_name(d) == "wf.datetime.from_string"
    assert d.compute() == dt.datetime(2021, 1, 20, 10, tzinfo=UTC)
    assert wf.Datetime._promote(0).compute() == dt.datetime(1970, 1, 1, tzinfo=UTC)
    with pytest.raises(ProxyTypeError, match="ISO-8601"):
        wf.Datetime._promote("20th of January")
    assert (wf.Datetime(2021, 1, 20) < "2021-02-01").compute() is True
    assert (wf.Datetime(2021, 1, 20) - wf.Datetime(2021, 1, 1)).compute() == dt.timedelta(19)


def test_datetime_floordiv_timedelta_is_the_start_of_its_bin() -> None:
    fortnight = wf.Timedelta(days=14)
    binned = wf.Datetime(2023, 2, 14, 17, 52) // fortnight
    assert type(binned) is wf.Datetime
    start = dt.datetime(2023, 2, 2, tzinfo=UTC)  # 1387 whole fortnights after the epoch
    assert binned.compute() == start
    assert (wf.Datetime(2023, 2, 15, 23, 59) // fortnight).compute() == start
    assert (wf.Datetime(2023, 2, 16) // fortnight).compute() == start + dt.timedelta(days=14)
    with pytest.raises(wf.WorkflowsError, match="division by zero"):
        (wf.Datetime(2023, 2, 14) // wf.Timedelta(days=0)).compute()


def test_groupby_type_is_parametrized_by_its_key_type(col) -> None:
    by_month = col.groupby(dates="month")
    assert type(by_month).__name__ == "ImageCollectionGroupby[Int]"
    assert isinstance(by_month, wf.ImageCollectionGroupby)
    assert by_month.key_type is wf.Int
    by_year_month = col.groupby(dates=("year", "month"))
    assert type(by_year_month).__name__ == "ImageCollectionGroupby[Tuple[Int, Int]]"
    binned = col.groupby(lambda img: img.properties["date"] // wf.Timedelta(days=14))
    assert type(binned).__name__ == "ImageCollectionGroupby[Datetime]"
    assert type(binned.map(lambda group, imgs: imgs.min())).__name__ == "Dict[Datetime, Float]"
    assert type(col.groupby(lambda img: img.properties["pass"])).__name__ == (
        "ImageCollectionGroupby[Any]"
    )
    constructed = wf.ImageCollectionGroupby(col, lambda img: img.properties["date"].year)
    assert type(constructed).__name__ == "ImageCollectionGroupby[Int]"
    assert type(constructed.groups).__name__ == "Dict[Int, ImageCollection]"


def test_tuple_unpacks_into_its_items() -> None:
    pair = wf.Tuple[wf.Int, wf.Str]([1, "a"])
    assert len(pair) == 2
    first, second = pair
    assert (type(first), type(second)) == (wf.Int, wf.Str)
    assert (first.compute(), second.compute()) == (1, "a")
    with pytest.raises(ValueError, match="not enough values to unpack"):
        a, b, c = pair


# -- build-time errors ---------------------------------------------------------------------------


def test_build_time_errors(img, col) -> None:
    with pytest.raises(ProxyTypeError, match="unsupported operand for Image: str 'text'"):
        img + "text"
    with pytest.raises(ProxyTypeError, match="Int: str"):
        wf.Int(1) + "a"
    with pytest.raises(ValueError, match="invalid axis 'images'"):
        img.mean(axis="images")
    with pytest.raises(ValueError, match="invalid axis 'rows'"):
        col.max(axis="rows")
    with pytest.raises(ValueError, match="unknown resampler 'nearest'"):
        wf.Image.from_id("sample:dem:santa_fe", resampler="nearest")
    with pytest.raises(ValueError, match="unknown resampler"):
        wf.ImageCollection.from_id("sample:s2", resampler="linear")
    with pytest.raises(ValueError, match="at least one band"):
        img.pick_bands("")
    with pytest.raises(ValueError, match="at least one band"):
        img.pick_bands([])
    with pytest.raises(TypeError, match="not both"):
        img.rename_bands("a", red="b")
    with pytest.raises(ValueError, match="limit"):
        wf.ImageCollection.from_id("sample:s2", limit=-1)
    with pytest.raises(ValueError, match="vmin and vmax"):
        img.colormap("viridis", vmin=0)
    with pytest.raises(ValueError, match="unknown reduction"):
        img.reduction("average")
    with pytest.raises(ProxyTypeError, match="Image or ImageCollection"):
        img.concat_bands(wf.Int(1))


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (bool, "truth value"),
        (len, "length()"),
        (iter, "map()"),
        (lambda p: 1 in p, "contains()"),
    ],
)
def test_python_control_flow_is_refused(img, col, action, message: str) -> None:
    for proxy in (wf.Int(1) > 0, img, col, wf.List[wf.Int]([1])):
        if action is bool or proxy is not img:
            with pytest.raises(ProxyTypeError, match=re.escape(message)):
                action(proxy)


def test_ifelse() -> None:
    e = wf.ifelse(wf.Bool(True), 1, 2)
    # Branches are zero-argument functions (thunks), like the original client's graft.
    fn, cond_key, then_key, else_key = body(e)
    assert fn == "wf.ifelse"
    assert e.graft[then_key]["parameters"] == [] and e.graft[else_key]["parameters"] == []
    assert e.compute() == 1
    assert wf.ifelse(wf.Int(3) > 5, "big", "small").compute() == "small"
    x = wf.parameter("x", wf.Int)
    absolute = wf.ifelse(x > 0, x, -x)
    assert type(absolute) is wf.Int
    assert absolute.compute(x=-4) == 4 and absolute.compute(x=6) == 6
    assert type(wf.ifelse(x > 0, 1.5, 2)) is wf.Float
    with pytest.raises(ProxyTypeError, match="same type"):
        wf.ifelse(x > 0, wf.Int(1), "one")
    with pytest.raises(ProxyTypeError, match="condition"):
        wf.ifelse(wf.Int(1), 1, 2)


# -- parameters ----------------------------------------------------------------------------------


def test_parameter_graft_and_compute() -> None:
    x = wf.parameter("x", wf.Int)
    y = x + 1
    fn, a, b = body(y)
    assert (fn, a) == ("wf.numpy.add", "x") and y.graft[b] == 1
    assert [p._name for p in y.params] == ["x"]
    assert y.compute(x=41) == 42
    assert y.compute(x=wf.Int(5) * 2) == 11
    assert interpret(json.loads(json.dumps(y.graft)), x=1) == 2
    with pytest.raises(ParameterError, match="missing a value for parameter 'x' \\(Int\\)"):
        y.compute()
    with pytest.raises(ParameterError, match="unexpected argument 'z'"):
        y.compute(x=1, z=2)
    with pytest.raises(ParameterError, match="parameter 'x' expects Int, got str 'a'"):
        y.compute(x="a")
    with pytest.raises(ParameterError, match="parameter 'x' expects Int, got float"):
        y.compute(x=1.5)
    with pytest.raises(ParameterError, match="'x' cannot depend on parameters"):
        y.compute(x=wf.parameter("q", wf.Int))


def test_parameter_definition_errors() -> None:
    with pytest.raises(ValueError, match="identifier"):
        wf.parameter("1", wf.Int)
    with pytest.raises(ProxyTypeError, match="type parameters"):
        wf.parameter("x", wf.List)
    with pytest.raises(ProxyTypeError, match="proxy type"):
        wf.parameter("x", int)
    with pytest.raises(ProxyTypeError, match="two different parameters are named 'x'"):
        wf.parameter("x", wf.Int) + wf.parameter("x", wf.Float)
    both = wf.parameter("x", wf.Int) + wf.parameter("x", wf.Int)
    assert len(both.params) == 1 and both.compute(x=3) == 6


def test_parameters_of_imagery_and_lists() -> None:
    threshold = wf.parameter("threshold", wf.Float)
    names = wf.parameter("names", wf.List[wf.Int])
    expr = names.map(lambda v: v * threshold)
    assert {p._name for p in expr.params} == {"threshold", "names"}
    assert expr.compute(threshold=0.5, names=[2, 4]) == [1.0, 2.0]
    with pytest.raises(ParameterError, match="'names' expects List\\[Int\\]"):
        expr.compute(threshold=0.5, names=["a"])


# -- functions -----------------------------------------------------------------------------------


def test_function_from_object() -> None:
    x = wf.parameter("x", wf.Int)
    f = wf.Function.from_object(x + 1)
    assert type(f).__name__ == "Function[{'x': Int}, Int]"
    inner = body(f)
    assert inner["parameters"] == ["x"]
    assert f.params == ()
    call = f(x=2)
    assert call.compute() == 3
    # the call graft: [function key, {"x": key}]
    fn_key, kwargs = body(call)
    assert call.graft[fn_key]["parameters"] == ["x"] and list(kwargs) == ["x"]
    # A Function computes with its arguments given by name.
    assert f.compute(x=5) == 6
    with pytest.raises(ParameterError, match="missing a value for .*'x'"):
        f.compute()


def test_function_from_callable_traces_once_and_hoists_closures() -> None:
    outer = wf.Int(5)
    calls = []

    def add_outer(a):
        calls.append(a)
        return a + outer

    f = wf.Function.from_callable(add_outer, wf.Int)
    assert len(calls) == 1
    assert type(f) is wf.Function[wf.Int, wf.Int]
    # The captured value lives outside the function body, which only refers to it.
    fn_body = body(f)
    outer_key = outer.graft["returns"]
    assert outer_key in f.graft and outer_key not in fn_body
    assert fn_body["parameters"] == ["a"]
    assert fn_body[fn_body["returns"]] == ["wf.numpy.add", "a", outer_key]
    assert f(10).compute() == 15
    assert f(wf.Int(1)).compute() == 6
    assert len(calls) == 1
    two = wf.Function.from_callable(lambda a, b: a * b, wf.Int, wf.Float)
    assert type(two) is wf.Function[wf.Int, wf.Float, wf.Float]
    assert two(2, 1.5).compute() == 3.0


def test_function_from_callable_errors_and_return_type() -> None:
    with pytest.raises(ProxyTypeError, match="exactly 1 argument"):
        wf.Function.from_callable(lambda a, b: a, wf.Int)
    f = wf.Function.from_callable(lambda a: a * 2, wf.Int, return_type=wf.Int)
    assert f(4).compute() == 8
    with pytest.raises(ProxyTypeError, match="returns Int, not Float"):
        wf.Function.from_callable(lambda a: a * 2, wf.Int, return_type=wf.Float)
    with pytest.raises(ProxyTypeError, match="positional"):
        f(1, 2)
    with pytest.raises(ProxyTypeError, match="expected Int"):
        f("a")


def test_traced_argument_named_like_a_parameter() -> None:
    x = wf.parameter("x", wf.Int)
    f = wf.Function.from_callable(lambda x: x * 10 + wf.Int(0) + x.__class__(1) * 0, wf.Int)
    assert f(3).compute() == 30
    # a lambda argument named like a free parameter it also uses: they must stay distinct
    g = wf.Function.from_callable(lambda x_arg: x_arg + x, wf.Int)
    assert g(10).compute(x=1) == 11
    h = wf.Function.from_callable(lambda x: x + (wf.parameter("x", wf.Int) * 100), wf.Int)
    assert h(10).compute(x=1) == 110


def test_list_methods_with_functions() -> None:
    outer = wf.Int(5)
    ints = wf.List[wf.Int]([1, 2, 3])
    assert ints.map(lambda v: v * outer).compute() == [5, 10, 15]
    assert type(ints.map(lambda v: v / 2)) is wf.List[wf.Float]
    assert ints.filter(lambda v: v > 1).compute() == [2, 3]
    assert ints.reduce(lambda a, b: a + b).compute() == 6
    with pytest.raises(ProxyTypeError, match="must return Bool"):
        ints.filter(lambda v: v + 1)


def test_str_indexing_and_slicing() -> None:
    s = wf.Str("hello")
    assert s[1:3].compute() == "el"
    assert s[::-1].compute() == "olleh"
    assert s[-1].compute() == "o"
    assert s[wf.Int(0)].compute() == "h"


MATH = [
    ("log", math.log, 2.5),
    ("log2", math.log2, 2.5),
    ("log10", math.log10, 2.5),
    ("log1p", math.log1p, 2.5),
    ("sqrt", math.sqrt, 2.5),
    ("cos", math.cos, 0.5),
    ("arccos", math.acos, 0.5),
    ("sin", math.sin, 0.5),
    ("arcsin", math.asin, 0.5),
    ("tan", math.tan, 0.5),
    ("arctan", math.atan, 0.5),
    ("exp", math.exp, 0.5),
    ("square", lambda v: v * v, 2.5),
]


@pytest.mark.parametrize(("name", "reference", "value"), MATH)
def test_math_functions_on_numbers(name: str, reference, value: float) -> None:
    function = getattr(wf, name)
    result = function(wf.Float(value))
    assert type(result) is wf.Float
    assert function_name(result) == f"wf.{name}"
    assert result.compute() == pytest.approx(reference(value), rel=1e-15)
    assert function(value).compute() == pytest.approx(reference(value), rel=1e-15)


def test_math_on_imagery_and_constants(img) -> None:
    assert type(wf.sqrt(img)) is wf.Image and function_name(wf.sqrt(img)) == "wf.sqrt"
    col = wf.ImageCollection.from_id("sample:s2")
    assert type(wf.log(col)) is wf.ImageCollection
    assert type(wf.arctan2(img, 1)) is wf.Image
    assert type(wf.arctan2(1, col)) is wf.ImageCollection
    assert type(wf.square(wf.Int(3))) is wf.Int and wf.square(wf.Int(3)).compute() == 9
    assert wf.arctan2(1.0, -1.0).compute() == pytest.approx(math.atan2(1.0, -1.0))
    assert wf.normalized_difference(wf.Float(3.0), 1.0).compute() == 0.5
    assert type(wf.normalized_difference(img, img)) is wf.Image
    assert wf.pi.compute() == math.pi and wf.e.compute() == math.e
    assert wf.inf.compute() == math.inf and math.isnan(wf.nan.compute())
    assert (wf.pi * 2).compute() == 2 * math.pi
    assert wf.pi.graft == {"returns": "wf.constants.pi"}
    with pytest.raises(ProxyTypeError, match="log needs a number"):
        wf.log("e")


def test_math_on_pixels_matches_numpy(img) -> None:
    ctx = wf.scenes.AOI(
        bounds=(425000, 3944000, 428000, 3947000),
        bounds_crs="EPSG:32613",
        crs="EPSG:32613",
        resolution=60.0,
    )
    nir = img.pick_bands("nir")
    values = nir.compute(ctx).ndarray
    assert values.count() > 0
    for name, function in [("sqrt", np.ma.sqrt), ("log", np.ma.log), ("exp", np.ma.exp)]:
        got = getattr(wf, name)(nir).compute(ctx).ndarray
        np.testing.assert_allclose(got.compressed(), function(values).compressed(), rtol=1e-12)
    got = wf.arctan2(nir, img.pick_bands("red")).compute(ctx).ndarray
    red = img.pick_bands("red").compute(ctx).ndarray
    np.testing.assert_allclose(
        got.compressed(), np.ma.arctan2(values, red).compressed(), rtol=1e-12
    )
