"""Element-wise maths on numbers and imagery (``wf.log``, ``wf.sqrt`` ...) and the constants."""

from __future__ import annotations

from typing import Any as _Any

from tiles import graft as g
from tiles.errors import ProxyTypeError
from tiles.types.imagery import ImageCollection
from tiles.types.imagery_base import ImageryMixin
from tiles.types.primitives import Any, Float, Number
from tiles.types.proxify import proxify


def _operand(obj: _Any, what: str) -> _Any:
    if isinstance(obj, (ImageryMixin, Number, Any)):
        return obj
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return proxify(obj)
    raise ProxyTypeError(f"{what} needs a number, Image or ImageCollection, not {obj!r}"[:200])


def _unary(name: str, keeps_type: bool = False):
    def function(obj):
        x = _operand(obj, name)
        if isinstance(x, ImageryMixin) or (keeps_type and isinstance(x, Number)):
            result = type(x)
        else:
            result = Float
        return result._from_apply(f"wf.{name}", x)

    function.__name__ = name
    function.__doc__ = (
        f"Element-wise ``{name}`` of a number, Image or ImageCollection.\n\n"
        "Parameters\n----------\nobj : Int, Float, Image or ImageCollection\n\n"
        "Returns\n-------\n"
        f"{'Same type as obj' if keeps_type else 'Float, Image or ImageCollection'}\n\n"
        f"Example\n-------\n>>> type(wf.{name}(wf.Int(4))).__name__\n"
        f"'{'Int' if keeps_type else 'Float'}'\n"
    )
    return function


log = _unary("log")
log2 = _unary("log2")
log10 = _unary("log10")
log1p = _unary("log1p")
sqrt = _unary("sqrt")
cos = _unary("cos")
arccos = _unary("arccos")
sin = _unary("sin")
arcsin = _unary("arcsin")
tan = _unary("tan")
arctan = _unary("arctan")
exp = _unary("exp")
square = _unary("square", keeps_type=True)


def arctan2(y, x):
    """Element-wise arc tangent of ``y / x`` choosing the quadrant correctly.

    Parameters
    ----------
    y, x : Int, Float, Image or ImageCollection

    Returns
    -------
    Float, Image or ImageCollection

    >>> import tiles as wf
    >>> round(wf.arctan2(1, 1).compute(), 6)
    0.785398
    """
    a, b = _operand(y, "arctan2"), _operand(x, "arctan2")
    imagery = [v for v in (a, b) if isinstance(v, ImageryMixin)]
    if any(isinstance(v, ImageCollection) for v in imagery):
        result: type = ImageCollection
    elif imagery:
        result = type(imagery[0])
    else:
        result = Float
    return result._from_apply("wf.arctan2", a, b)


def normalized_difference(x, y):
    """``(x - y) / (x + y)``, e.g. NDVI from near-infrared and red.

    Parameters
    ----------
    x, y : Int, Float, Image or ImageCollection

    Returns
    -------
    Float, Image or ImageCollection

    >>> import tiles as wf
    >>> wf.normalized_difference(wf.Float(3.0), 1.0).compute()
    0.5
    """
    return (x - y) / (x + y)


def _constant(name: str) -> Float:
    return Float._from_graft(g.keyref_graft(f"wf.constants.{name}"))


e = _constant("e")
inf = _constant("inf")
nan = _constant("nan")
pi = _constant("pi")

__all__ = [
    "arccos", "arcsin", "arctan", "arctan2", "cos", "e", "exp", "inf", "log", "log10", "log1p",
    "log2", "nan", "normalized_difference", "pi", "sin", "sqrt", "square", "tan",
]  # fmt: skip
