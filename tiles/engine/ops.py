"""Element-wise arithmetic, comparison, logical and math functions over imagery.

``binary_op(op, a, b)`` and ``unary_op(op, a)`` work on :class:`ImageValue`,
:class:`CollectionValue` and Python/numpy scalars, following the broadcasting, band-naming and
metadata rules of :mod:`tiles.engine.align`.

Masks: a result pixel is masked where any input pixel is masked, and also where the result is
invalid: division/floor division/modulo by zero, and any non-finite float result (``nan`` from
``log(-1)`` or ``0/0``, ``inf`` from ``log(0)`` or overflow). Underneath invalid pixels the data
holds 0, so no ``nan``/``inf`` leaks out of a masked result.

Empties: an element-wise operation with an empty operand returns the empty of the result kind
(an Image with an empty ImageCollection gives the empty ImageCollection).

dtypes: comparisons (``lt le eq ne gt ge``) give bool. ``and or xor`` are bitwise on two
integer operands and logical (bool result, non-zero = True) otherwise; ``lshift``/``rshift``
need integer or bool operands. ``div`` is true division. ``invert`` is logical *not* on bool and
bitwise on integers.

Example::

    >>> import numpy as np
    >>> from tiles.engine.imagery import ImageValue
    >>> red = ImageValue(np.ma.ones((1, 2, 2)), {}, {"red": {}})
    >>> nir = ImageValue(np.ma.ones((1, 2, 2)) * 3, {}, {"nir": {}})
    >>> binary_op("div", binary_op("sub", nir, red), binary_op("add", nir, red)).band_names
    ['nir_sub_red_div_nir_add_red']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tiles.engine.align import align, empty_of, is_imagery, make_result, operand, result_kind
from tiles.engine.imagery import (
    CollectionValue,
    ImageryError,
    ImageryTypeError,
    ImageValue,
    load_together,
)

__all__ = ["BINARY_OPS", "UNARY_OPS", "binary_op", "unary_op"]

Value = ImageValue | CollectionValue | int | float | bool


def _is_int(x: Any) -> bool:
    return np.issubdtype(np.result_type(x), np.integer)


def _is_intlike(x: Any) -> bool:
    dtype = np.result_type(x)
    return np.issubdtype(dtype, np.integer) or dtype == np.bool_


def _logical_or_bitwise(logical: Callable, bitwise: Callable) -> Callable:
    def func(a: Any, b: Any) -> Any:
        if _is_int(a) and _is_int(b):
            return bitwise(a, b)
        return logical(a, b)

    return func


def _shift(func: Callable, name: str) -> Callable:
    def shift(a: Any, b: Any) -> Any:
        if not (_is_intlike(a) and _is_intlike(b)):
            raise ImageryTypeError(
                f"{name} needs integer operands, got {np.result_type(a)} and {np.result_type(b)}"
            )
        return func(a, b)

    return shift


def _power(a: Any, b: Any) -> Any:
    # numpy refuses integers to negative integer powers; those results are fractional anyway.
    if _is_intlike(a) and _is_intlike(b) and np.any(np.asarray(b) < 0):
        return np.power(np.asarray(a, dtype=np.float64), b)
    return np.power(a, b)


BINARY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "floordiv": np.floor_divide,
    "mod": np.mod,
    "pow": _power,
    "lt": np.less,
    "le": np.less_equal,
    "eq": np.equal,
    "ne": np.not_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "and": _logical_or_bitwise(np.logical_and, np.bitwise_and),
    "or": _logical_or_bitwise(np.logical_or, np.bitwise_or),
    "xor": _logical_or_bitwise(np.logical_xor, np.bitwise_xor),
    "lshift": _shift(np.left_shift, "lshift"),
    "rshift": _shift(np.right_shift, "rshift"),
    "arctan2": np.arctan2,
}

_ZERO_DIVISOR_OPS = {"div", "floordiv", "mod"}


def _invert(a: Any) -> Any:
    dtype = np.result_type(a)
    if dtype == np.bool_:
        return np.logical_not(a)
    if np.issubdtype(dtype, np.integer):
        return np.invert(a)
    raise ImageryTypeError(f"invert needs bool or integer imagery, got {dtype}")


def _negative(a: Any) -> Any:
    if np.result_type(a) == np.bool_:
        raise ImageryTypeError("cannot negate boolean imagery; use invert")
    return np.negative(a)


UNARY_OPS: dict[str, Callable[[Any], Any]] = {
    "neg": _negative,
    "pos": np.positive,
    "abs": np.abs,
    "invert": _invert,
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "log1p": np.log1p,
    "sqrt": np.sqrt,
    "cos": np.cos,
    "arccos": np.arccos,
    "sin": np.sin,
    "arcsin": np.arcsin,
    "tan": np.tan,
    "arctan": np.arctan,
    "exp": np.exp,
    "square": np.square,
}


def invalid_mask(result: np.ndarray) -> np.ndarray | bool:
    """Pixels of a float result that are not finite (``nan``/``inf``); False for other dtypes."""
    if np.issubdtype(result.dtype, np.floating) or np.issubdtype(result.dtype, np.complexfloating):
        return ~np.isfinite(result)
    return False


def _finish(data: np.ndarray, mask: Any, invalid: Any) -> tuple[np.ndarray, Any]:
    """Fold ``invalid`` into ``mask`` and zero the data underneath it."""
    if invalid is not False and np.any(invalid):
        invalid = np.broadcast_to(invalid, data.shape)
        data = np.where(invalid, np.zeros((), dtype=data.dtype), data)
        mask = mask | invalid
    return data, mask


def _call(op: str, func: Callable, *args: Any) -> Any:
    """Run a numpy function, turning numpy's dtype refusals into errors that name the op."""
    try:
        return func(*args)
    except ImageryTypeError:
        raise
    except (TypeError, OverflowError) as exc:
        dtypes = " and ".join(str(np.result_type(a)) for a in args)
        raise ImageryTypeError(f"{op} is not supported for {dtypes} operands: {exc}") from exc


def binary_op(op: str, a: Value, b: Value) -> Value:
    """Apply binary operation ``op`` element-wise between ``a`` and ``b``.

    ``op`` is one of :data:`BINARY_OPS`. Either side may be a scalar. See the module docstring
    for masks, dtypes and empties and :mod:`tiles.engine.align` for band alignment, band names
    and properties.
    """
    try:
        func = BINARY_OPS[op]
    except KeyError:
        raise ImageryError(
            f"unknown binary operation {op!r}; expected one of {sorted(BINARY_OPS)}"
        ) from None
    if not (is_imagery(a) or is_imagery(b)):
        operand(a, "left operand"), operand(b, "right operand")  # type check only
        with np.errstate(all="ignore"):
            return func(a, b)
    kind = result_kind(a, b)
    if (is_imagery(a) and a.is_empty) or (is_imagery(b) and b.is_empty):
        return empty_of(kind)
    load_together(a, b)
    oa, ob, meta = align(operand(a, "left operand"), operand(b, "right operand"), op)
    with np.errstate(all="ignore"):
        data = np.asarray(_call(op, func, oa.data, ob.data))
    mask = oa.mask | ob.mask
    invalid = invalid_mask(data)
    if op in _ZERO_DIVISOR_OPS:
        invalid = invalid | (np.asarray(ob.data) == 0)
    data, mask = _finish(data, mask, invalid)
    return make_result(meta, data, mask)


def unary_op(op: str, a: Value) -> Value:
    """Apply unary operation ``op`` (one of :data:`UNARY_OPS`) element-wise to ``a``.

    Properties, bandinfo and band names are unchanged. Results outside the function's domain
    (``log`` of a negative number, ``arccos(2)``, ...) are masked. An empty returns the empty.
    """
    try:
        func = UNARY_OPS[op]
    except KeyError:
        raise ImageryError(
            f"unknown unary operation {op!r}; expected one of {sorted(UNARY_OPS)}"
        ) from None
    if not is_imagery(a):
        operand(a)  # type check only
        with np.errstate(all="ignore"):
            return func(a)
    if a.is_empty:
        return a
    oa = operand(a)
    with np.errstate(all="ignore"):
        data = np.asarray(_call(op, func, oa.data))
    data, mask = _finish(data, oa.mask, invalid_mask(data))
    if isinstance(a, CollectionValue):
        return CollectionValue(np.ma.MaskedArray(data, mask=mask), a.properties, a.bandinfo)
    return ImageValue(np.ma.MaskedArray(data, mask=mask), a.properties, a.bandinfo)
