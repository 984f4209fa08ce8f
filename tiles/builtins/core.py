"""Builtins for containers, control flow, numbers, strings and dates."""

from __future__ import annotations

import _string
import datetime as dt
import math
import operator
import re
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tiles.builtins.registry import builtin, constant
from tiles.engine import CollectionValue, ImageValue, binary_op, budget, select_images, unary_op
from tiles.engine import getitem as engine_getitem
from tiles.errors import GraftTypeError, NotFoundError, ResourceLimitError, WorkflowsError
from tiles.graft import Closure

_MISSING = object()
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def check_size(n: int, what: str) -> None:
    """Refuse building a sequence or string of ``n`` items beyond the request's budget.

    A graft comes from any client: what a plain value will cost is checked before it is
    built, so a request for a huge list, string or integer fails fast.
    """
    budget.current().check_elements(n, what)


def is_imagery(x: Any) -> bool:
    """Whether ``x`` is an engine Image or ImageCollection value."""
    return isinstance(x, (ImageValue, CollectionValue))


# -- containers --
builtin("wf.list")(lambda *items: list(items))
builtin("wf.list.copy")(lambda items: list(items))
builtin("wf.tuple")(lambda *items: tuple(items))
builtin("wf.dict.create")(lambda **items: dict(items))
builtin("wf.dict.keys")(lambda d: list(d.keys()))
builtin("wf.dict.values")(lambda d: list(d.values()))
builtin("wf.dict.items")(lambda d: [tuple(kv) for kv in d.items()])
builtin("wf.reversed")(lambda seq: list(reversed(seq)))
builtin("wf.Slice.create")(lambda start=None, stop=None, step=None: slice(start, stop, step))
constant("wf.Ellipsis", Ellipsis)
for _name, _value in (("e", math.e), ("inf", math.inf), ("nan", math.nan), ("pi", math.pi)):
    constant(f"wf.constants.{_name}", _value)


@builtin("wf.dict.from_pairs")
def dict_from_pairs(pairs: Sequence) -> dict:
    """``wf.dict.from_pairs``: a dict from ``(key, value)`` pairs (list keys become tuples)."""
    return {_hashable(k): v for k, v in pairs}


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


@builtin("wf.range")
def range_(start: int, stop: int | None = None, step: int | None = None) -> list:
    """``wf.range``: the integers of Python's ``range``, as a list, within the size limit."""
    values = range(start) if stop is None else range(start, stop, step or 1)
    check_size(len(values), "range")
    return list(values)


@builtin("wf.zip")
def zip_(*sequences: Sequence) -> list:
    """``wf.zip``: tuples of the sequences' items, as long as the shortest sequence."""
    return [tuple(items) for items in zip(*sequences, strict=False)]


@builtin("wf.get")
def get(obj: Any, key: Any, default: Any = _MISSING) -> Any:
    """``obj[key]`` for dicts, lists, tuples, strings and collections."""
    if isinstance(obj, CollectionValue):
        return engine_getitem(obj, key)
    if isinstance(obj, Mapping):
        key = _hashable(key)
        if key in obj:
            return obj[key]
        if default is not _MISSING:
            return default
        shown = ", ".join(repr(k) for k in list(obj)[:20])
        raise NotFoundError(f"key {key!r} not found; available keys: {shown}")
    try:
        return obj[key]
    except IndexError:
        if default is not _MISSING:
            return default
        raise NotFoundError(f"index {key!r} out of range for length {len(obj)}") from None
    except TypeError as e:
        raise GraftTypeError(f"cannot index {type(obj).__name__} with {key!r}") from e


# Attributes a graft may read, per value type: graft data never reaches arbitrary attributes.
# Each type maps its readable names to a getter (plain ``getattr`` unless registered).
_ATTRIBUTES: dict[type, tuple[frozenset[str], Callable[[Any, str], Any]]] = {
    ImageValue: (frozenset({"ndarray", "properties", "bandinfo"}), getattr),
    CollectionValue: (frozenset({"ndarray", "properties", "bandinfo"}), getattr),
    dt.datetime: (
        frozenset({"year", "month", "day", "hour", "minute", "second", "microsecond"}),
        getattr,
    ),
    dt.timedelta: (frozenset({"days", "seconds", "microseconds"}), getattr),
}


def register_attributes(
    type_: type, names: frozenset[str], getter: Callable[[Any, str], Any] = getattr
) -> None:
    """Let ``wf.getattr`` read ``names`` on values of ``type_`` (through ``getter``)."""
    _ATTRIBUTES[type_] = (names, getter)


@builtin("wf.getattr")
def getattr_(obj: Any, name: str) -> Any:
    """``wf.getattr``: a named field of a value (an Image's ``properties``, a dict's key, ...)."""
    for type_, (names, getter) in _ATTRIBUTES.items():
        if isinstance(obj, type_):
            if name not in names:
                raise GraftTypeError(f"{type(obj).__name__} has no field {name!r}")
            return getter(obj, name)
    if isinstance(obj, Mapping) and name in obj:
        return obj[name]
    raise GraftTypeError(f"cannot read field {name!r} of {type(obj).__name__}")


@builtin("wf.length")
def length(obj: Any) -> int:
    """``wf.length``: the number of items (images of a collection, elements of a list)."""
    return len(obj)


@builtin("wf.contains")
def contains(obj: Any, item: Any) -> bool:
    """``wf.contains``: whether ``item`` is in ``obj`` (an Image in a collection by its properties)."""
    if isinstance(obj, CollectionValue):
        if not isinstance(item, ImageValue):
            raise GraftTypeError("an ImageCollection can only contain Images")
        return any(p == item.properties for p in obj.properties)
    return _hashable(item) in obj


def _call(function: Callable, *args: Any) -> Any:
    # Each call of a graft function is a step of the request: it may stop here.
    budget.current().checkpoint("calling a function")
    if not callable(function):
        raise GraftTypeError(f"expected a function, got {type(function).__name__}")
    return function(*args)


def _images(seq: Any) -> list:
    if isinstance(seq, CollectionValue):
        return [seq.image(i) for i in range(len(seq))]
    return list(seq)


@builtin("wf.map")
def map_(seq: Any, function: Callable) -> list:
    """``wf.map``: ``function`` applied to every item (every Image of a collection), as a list."""
    return [_call(function, item) for item in _images(seq)]


@builtin("wf.filter")
def filter_(seq: Any, function: Callable) -> Any:
    """``wf.filter``: the items for which ``function`` is true; a collection stays a collection."""
    keep = [bool(_call(function, item)) for item in _images(seq)]
    if isinstance(seq, CollectionValue):
        return select_images(seq, [i for i, k in enumerate(keep) if k])
    return [item for item, k in zip(seq, keep, strict=True) if k]


@builtin("wf.sorted")
def sorted_(seq: Any, key: Callable | None = None, reverse: bool = False) -> Any:
    """``wf.sorted``: the items sorted by ``key`` (or themselves); a collection stays a collection."""
    items = _images(seq)
    keys = [_call(key, item) for item in items] if key is not None else items
    try:
        order = sorted(range(len(items)), key=lambda i: _sort_key(keys[i]), reverse=reverse)
    except TypeError as e:
        raise GraftTypeError(f"sort keys cannot be compared: {e}") from None
    if isinstance(seq, CollectionValue):
        return select_images(seq, order)
    return [items[i] for i in order]


def _sort_key(value: Any) -> Any:
    if is_imagery(value):
        raise GraftTypeError("sort keys must be numbers, strings or dates, not imagery")
    return value


@builtin("wf.reduce")
def reduce_(seq: Any, function: Callable, initial: Any = _MISSING) -> Any:
    """``wf.reduce``: ``function`` folded over the items, from ``initial`` when given."""
    items = _images(seq)
    if initial is _MISSING:
        if not items:
            raise WorkflowsError("reduce of an empty sequence with no initial value")
        accumulator, items = items[0], items[1:]
    else:
        accumulator = initial
    for item in items:
        accumulator = _call(function, accumulator, item)
    return accumulator


@builtin("wf.ifelse")
def ifelse(condition: Any, if_true: Any, if_false: Any) -> Any:
    """Branches are zero-argument functions so only the chosen one is evaluated."""
    branch = if_true if bool(condition) else if_false
    return branch() if isinstance(branch, Closure) else branch


@builtin("wf.Int.cast")
def int_cast(value: Any) -> int:
    """``wf.Int.cast``: ``value`` as an integer (numeric strings included)."""
    try:
        return int(float(value)) if isinstance(value, str) else int(value)
    except (TypeError, ValueError) as e:
        raise GraftTypeError(f"cannot convert {value!r} to Int") from e


@builtin("wf.Float.cast")
def float_cast(value: Any) -> float:
    """``wf.Float.cast``: ``value`` as a float."""
    try:
        return float(value)
    except (TypeError, ValueError) as e:
        raise GraftTypeError(f"cannot convert {value!r} to Float") from e


@builtin("wf.divmod")
def divmod_(a: Any, b: Any) -> tuple:
    """``wf.divmod``: Python's ``divmod(a, b)``."""
    return divmod(a, b)


@builtin("wf.debugging.sleep")
def sleep(value: Any, seconds: float) -> Any:
    """``wf.debugging.sleep``: ``value``, after sleeping ``seconds`` (at most 60).

    The wait ends early when the request is cancelled or out of time.
    """
    budget.current().sleep(min(float(seconds), 60.0), "wf.debugging.sleep")
    return value


# -- operators: imagery goes to the engine, everything else follows Python --
_PY_BINARY: dict[str, Callable] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "eq": operator.eq,
    "ne": operator.ne,
    "and": lambda a, b: a & b if not isinstance(a, bool) else bool(a and b),
    "or": lambda a, b: a | b if not isinstance(a, bool) else bool(a or b),
    "xor": operator.xor,
    "lshift": operator.lshift,
    "rshift": operator.rshift,
    "arctan2": math.atan2,
}
_PY_UNARY: dict[str, Callable] = {
    "neg": operator.neg,
    "pos": operator.pos,
    "abs": abs,
    "invert": lambda a: (not a) if isinstance(a, bool) else ~a,
    "log": math.log,
    "log2": math.log2,
    "log10": math.log10,
    "log1p": math.log1p,
    "sqrt": math.sqrt,
    "cos": math.cos,
    "arccos": math.acos,
    "sin": math.sin,
    "arcsin": math.asin,
    "tan": math.tan,
    "arctan": math.atan,
    "exp": math.exp,
    "square": lambda a: a * a,
}


def _apply_binary(op: str, a: Any, b: Any) -> Any:
    if is_imagery(a) or is_imagery(b):
        return binary_op(op, a, b)
    if isinstance(a, dt.datetime) and isinstance(b, dt.timedelta) and op == "floordiv":
        if not b:
            raise WorkflowsError(f"division by zero in {op}({a!r}, {b!r})")
        return EPOCH + ((a - EPOCH) // b) * b
    if isinstance(a, dt.datetime) and isinstance(b, dt.timedelta) and op == "mod":
        return (a - EPOCH) % b
    _check_binary_cost(op, a, b)
    try:
        result = _PY_BINARY[op](a, b)
    except ZeroDivisionError:
        raise WorkflowsError(f"division by zero in {op}({a!r}, {b!r})") from None
    except TypeError as e:
        raise GraftTypeError(f"unsupported operands for {op}: {a!r} and {b!r}") from e
    return result.item() if isinstance(result, np.generic) else result


def _check_binary_cost(op: str, a: Any, b: Any) -> None:
    """Reject operations on plain values whose result would be enormous, before doing them."""
    ints = isinstance(a, int) and isinstance(b, int)
    bits = budget.MAX_INT_BITS
    if op == "mul":
        for seq, times in ((a, b), (b, a)):
            if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                check_size(len(seq) * max(times, 0), "repetition")
        if ints and abs(a).bit_length() + abs(b).bit_length() > bits + 1:
            raise ResourceLimitError(f"a product of integers beyond {bits} bits")
    elif op == "add" and isinstance(a, (str, list, tuple)) and isinstance(b, (str, list, tuple)):
        check_size(len(a) + len(b), "concatenation")
    elif op == "pow" and ints and b > 0 and abs(a) > 1:
        if abs(a).bit_length() * b > bits:
            raise ResourceLimitError(f"{a} ** {b} is too large (more than {bits} bits)")
    elif op == "lshift" and ints and b > bits:
        raise ResourceLimitError(f"shift by {b} bits is too large (limit {bits})")


def _apply_unary(op: str, a: Any) -> Any:
    if is_imagery(a):
        return unary_op(op, a)
    try:
        return _PY_UNARY[op](a)
    except (ValueError, TypeError) as e:
        raise WorkflowsError(f"{op}({a!r}): {e}") from None


def _register_binary(op: str, *names: str) -> None:
    builtin(*names)(lambda a, b: _apply_binary(op, a, b))


def _register_unary(op: str, *names: str) -> None:
    builtin(*names)(lambda a: _apply_unary(op, a))


_NUMPY_BINARY = {
    "add": "add", "sub": "subtract", "mul": "multiply", "floordiv": "floor_divide",
    "mod": "remainder", "pow": "power", "lt": "less", "le": "less_equal", "gt": "greater",
    "ge": "greater_equal", "eq": "equal", "ne": "not_equal", "and": "logical_and",
    "or": "logical_or", "xor": "logical_xor", "lshift": "left_shift", "rshift": "right_shift",
    "arctan2": "arctan2",
}  # fmt: skip
for _op, _np_name in _NUMPY_BINARY.items():
    _names = [f"wf.{_op}", f"wf.numpy.{_np_name}"]
    if _op == "arctan2":
        _names = ["wf.arctan2", "wf.numpy.arctan2"]
    _register_binary(_op, *_names)
_register_binary("div", "wf.div", "wf.truediv", "wf.numpy.true_divide", "wf.numpy.divide")
builtin("wf.numpy.mod")(lambda a, b: _apply_binary("mod", a, b))
_NUMPY_UNARY = {"neg": "negative", "pos": "positive", "abs": "absolute", "invert": "logical_not"}
for _op in _PY_UNARY:
    _names = [f"wf.{_op}"]
    if _op in _NUMPY_UNARY:
        _names.append(f"wf.numpy.{_NUMPY_UNARY[_op]}")
    else:
        _names.append(f"wf.numpy.{_op}")
    _register_unary(_op, *_names)


# -- strings --
_STR_METHODS = frozenset(
    "capitalize center count endswith expandtabs find format isalnum isalpha isdigit islower "
    "isspace istitle isupper join ljust lower lstrip partition replace rfind rjust rpartition "
    "rsplit rstrip split splitlines startswith strip swapcase title upper zfill".split()
)


_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _str_method(name: str) -> Callable:
    def method(s: str, *args: Any, **kwargs: Any) -> Any:
        if isinstance(s, str):
            _check_str_cost(name, s, args)
        result = getattr(str, name)(s, *args, **kwargs)
        return list(result) if isinstance(result, tuple) else result

    return method


def _check_str_cost(name: str, s: str, args: tuple) -> None:
    """Refuse string methods whose result would be far larger than their inputs."""
    what = f"Str.{name}"
    if name in _PADDING_METHODS and args and isinstance(args[0], int):
        check_size(args[0] * (len(s) if name == "expandtabs" else 1), what)
    elif name == "join" and args and isinstance(args[0], (list, tuple)):
        parts = args[0]
        total = sum(len(p) for p in parts if isinstance(p, str))
        check_size(total + len(s) * max(len(parts) - 1, 0), what)
    elif name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        old, new = args[0], args[1]
        found = s.count(old) if old else len(s) + 1
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            found = min(found, args[2])
        check_size(len(s) + found * max(len(new) - len(old), 0), what)


for _name in _STR_METHODS - {"format"}:
    builtin(f"wf.Str.{_name}")(_str_method(_name))


class _FieldsOnlyFormatter(string.Formatter):
    """``str.format`` whose fields may name and index arguments but never read attributes.

    ``"{0.__class__}"`` style fields would let graft data walk Python objects (a function's
    globals, the process environment), so they are refused.
    """

    def get_field(self, field_name: str, args: Sequence, kwargs: Mapping) -> tuple[Any, Any]:
        first, rest = _string.formatter_field_name_split(field_name)
        value = self.get_value(first, args, kwargs)
        for is_attribute, key in rest:
            if is_attribute:
                raise GraftTypeError(
                    f"wf.Str.format: field {{{field_name}}} reads an attribute, which is not "
                    "allowed; use positions, names and [index] only"
                )
            value = value[key]
        return value, first

    def format_field(self, value: Any, format_spec: str) -> Any:
        # Widths and precisions are the only numbers in a format spec: bound them first.
        for number in re.findall(r"\d+", format_spec):
            check_size(int(number), "wf.Str.format width")
        return super().format_field(value, format_spec)


@builtin("wf.Str.format")
def str_format(s: str, *args: Any, **kwargs: Any) -> str:
    """``s.format(*args, **kwargs)`` without attribute access in fields."""
    if not isinstance(s, str):
        raise GraftTypeError(f"wf.Str.format needs a string, not {type(s).__name__}")
    try:
        return _FieldsOnlyFormatter().vformat(s, args, kwargs)
    except (IndexError, KeyError, ValueError) as e:
        raise GraftTypeError(f"wf.Str.format: cannot format {s!r}: {e!r}") from None


# -- dates --
@builtin("wf.datetime.from_components")
def datetime_from_components(
    year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0,
    microsecond: int = 0,
) -> dt.datetime:  # fmt: skip
    """``wf.datetime.from_components``: a UTC datetime from its components."""
    try:
        return dt.datetime(year, month, day, hour, minute, second, microsecond, dt.timezone.utc)
    except (TypeError, ValueError) as e:
        raise WorkflowsError(f"invalid date: {e}") from None


@builtin("wf.datetime.from_string")
def datetime_from_string(text: str) -> dt.datetime:
    """``wf.datetime.from_string``: a datetime from ISO-8601 text (UTC when no zone is given)."""
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise WorkflowsError(f"not an ISO-8601 date or datetime: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


@builtin("wf.datetime.from_timestamp")
def datetime_from_timestamp(seconds: float) -> dt.datetime:
    """``wf.datetime.from_timestamp``: the UTC datetime ``seconds`` after the Unix epoch."""
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


@builtin("wf.datetime.is_between")
def is_between(value: dt.datetime, start: dt.datetime, end: dt.datetime, inclusive: bool = True):
    """``wf.datetime.is_between``: whether ``value`` lies between ``start`` and ``end``."""
    return start <= value <= end if inclusive else start < value < end


@builtin("wf.timedelta.from_components")
def timedelta_from_components(
    days=0, seconds=0, microseconds=0, milliseconds=0, minutes=0, hours=0, weeks=0
) -> dt.timedelta:
    """``wf.timedelta.from_components``: a timedelta from its components."""
    return dt.timedelta(
        days=days, seconds=seconds, microseconds=microseconds, milliseconds=milliseconds,
        minutes=minutes, hours=hours, weeks=weeks,
    )  # fmt: skip


builtin("wf.timedelta.total_seconds")(lambda td: td.total_seconds())
