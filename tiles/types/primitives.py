"""Scalar proxy types: Int, Float, Bool, Str, NoneType and Any, with Python operators."""

from __future__ import annotations

import datetime as _dt
from typing import Any as _Any

from tiles import graft as g
from tiles.errors import ProxyTypeError
from tiles.types.core import Proxytype


class Primitive(Proxytype):
    """A proxy for one JSON scalar; constructed from a Python value of the matching type."""

    _pytypes: tuple = ()

    def __init__(self, value: _Any):
        """A proxy of a Python value of this type, or a cast from another proxy.

        Parameters
        ----------
        value : object
            A Python value of the type (``Float`` also takes an int), a proxy of the type, or a
            proxy to cast (``Int(wf.Float(1.5))`` truncates when computed).
        """
        if isinstance(value, type(self)):
            self.graft, self.params = value.graft, value.params
            return
        if isinstance(value, Proxytype):
            cast = self._cast_from(value)
            self.graft, self.params = cast.graft, cast.params
            return
        if not isinstance(value, self._pytypes) or (
            isinstance(value, bool) and bool not in self._pytypes
        ):
            raise ProxyTypeError(
                f"{type(self).__name__} cannot hold {type(value).__name__} {value!r}"
            )
        self.graft = g.value_graft(self._normalize(value))
        self.params = ()

    @classmethod
    def _normalize(cls, value: _Any) -> _Any:
        return value

    @classmethod
    def _cast_from(cls, value: Proxytype) -> Proxytype:
        raise ProxyTypeError(f"cannot convert {type(value).__name__} to {cls.__name__}")

    @classmethod
    def _promote(cls, obj: _Any) -> _Any:
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, Any):
            return cls._from_graft(obj.graft, obj.params)
        if isinstance(obj, Proxytype):
            raise ProxyTypeError(f"expected {cls.__name__}, got {type(obj).__name__}")
        try:
            return cls(obj)
        except ProxyTypeError:
            raise ProxyTypeError(
                f"expected {cls.__name__}, got {type(obj).__name__} {obj!r}"
            ) from None


def _binary(builtin: str, result: type | None = None, reflected: bool = False):
    """Operator method: promotes the other operand, or defers to it (e.g. an Image)."""

    def method(self, other):
        other_proxy = _promote_number_operand(self, other)
        if other_proxy is NotImplemented:
            return NotImplemented
        out = result or _numeric_result(type(self), type(other_proxy))
        a, b = (other_proxy, self) if reflected else (self, other_proxy)
        return out._from_apply(builtin, a, b)

    return method


def _unary(builtin: str, result: type | None = None):
    def method(self):
        return (result or type(self))._from_apply(builtin, self)

    return method


class Number(Primitive):
    """Int or Float."""

    __add__ = _binary("wf.numpy.add")
    __radd__ = _binary("wf.numpy.add", reflected=True)
    __sub__ = _binary("wf.numpy.subtract")
    __rsub__ = _binary("wf.numpy.subtract", reflected=True)
    __mul__ = _binary("wf.numpy.multiply")
    __rmul__ = _binary("wf.numpy.multiply", reflected=True)
    __floordiv__ = _binary("wf.numpy.floor_divide")
    __rfloordiv__ = _binary("wf.numpy.floor_divide", reflected=True)
    __mod__ = _binary("wf.numpy.remainder")
    __rmod__ = _binary("wf.numpy.remainder", reflected=True)
    __pow__ = _binary("wf.numpy.power")
    __rpow__ = _binary("wf.numpy.power", reflected=True)
    __neg__ = _unary("wf.numpy.negative")
    __pos__ = _unary("wf.pos")
    __abs__ = _unary("wf.numpy.absolute")

    def __truediv__(self, other):
        """True division: always a Float."""
        return _binary("wf.numpy.true_divide", Float)(self, other)

    def __rtruediv__(self, other):
        """True division with the number on the left: always a Float."""
        return _binary("wf.numpy.true_divide", Float, reflected=True)(self, other)

    def __lt__(self, other):
        """Whether this is less than ``other`` (a Bool)."""
        return _binary("wf.numpy.less", Bool)(self, other)

    def __le__(self, other):
        """Whether this is at most ``other`` (a Bool)."""
        return _binary("wf.numpy.less_equal", Bool)(self, other)

    def __gt__(self, other):
        """Whether this is greater than ``other`` (a Bool)."""
        return _binary("wf.numpy.greater", Bool)(self, other)

    def __ge__(self, other):
        """Whether this is at least ``other`` (a Bool)."""
        return _binary("wf.numpy.greater_equal", Bool)(self, other)

    def __eq__(self, other):  # type: ignore[override]
        """Whether this equals ``other`` (a Bool, not a Python bool)."""
        return _binary("wf.numpy.equal", Bool)(self, other)

    def __ne__(self, other):  # type: ignore[override]
        """Whether this differs from ``other`` (a Bool)."""
        return _binary("wf.numpy.not_equal", Bool)(self, other)

    __hash__ = Proxytype.__hash__


def _promote_number_operand(self: Proxytype, other: _Any) -> _Any:
    if isinstance(other, (Number, Bool)):
        return other
    if isinstance(other, Any):
        return Float._from_graft(other.graft, other.params)
    if isinstance(other, bool):
        return Bool(other)
    if isinstance(other, int):
        return Int(other)
    if isinstance(other, float):
        return Float(other)
    if isinstance(other, Proxytype):
        return NotImplemented  # e.g. Image: its reflected operator handles it
    raise ProxyTypeError(
        f"unsupported operand for {type(self).__name__}: {type(other).__name__} {other!r}"
    )


def _numeric_result(a: type, b: type) -> type:
    if issubclass(a, Float) or issubclass(b, Float):
        return Float
    return Int


class Int(Number):
    """A proxy integer."""

    _pytypes = (int,)

    @classmethod
    def _cast_from(cls, value: Proxytype) -> Proxytype:
        if isinstance(value, (Float, Bool, Str, Any)):
            return cls._from_apply("wf.Int.cast", value)
        return super()._cast_from(value)


class Float(Number):
    """A proxy floating-point number."""

    _pytypes = (float, int)

    @classmethod
    def _normalize(cls, value: _Any) -> _Any:
        return float(value)

    @classmethod
    def _cast_from(cls, value: Proxytype) -> Proxytype:
        if isinstance(value, (Int, Bool, Str, Any)):
            return cls._from_apply("wf.Float.cast", value)
        return super()._cast_from(value)


#: What an argument documented as a number accepts (``@typecheck(x=NUMBER)``).
NUMBER = (Int, Float)


class Bool(Primitive):
    """A proxy boolean. Use ``&``, ``|``, ``~`` (Python's and/or/not cannot be overloaded)."""

    _pytypes = (bool,)

    def _logic(builtin: str):  # noqa: N805 - a method factory used in the class body
        def method(self, other):
            if isinstance(other, bool):
                other = Bool(other)
            if not isinstance(other, (Bool, Any)):
                return NotImplemented
            return Bool._from_apply(builtin, self, other)

        return method

    __and__ = __rand__ = _logic("wf.numpy.logical_and")
    __or__ = __ror__ = _logic("wf.numpy.logical_or")
    __xor__ = __rxor__ = _logic("wf.numpy.logical_xor")
    __eq__ = _logic("wf.numpy.equal")  # type: ignore[assignment]
    __ne__ = _logic("wf.numpy.not_equal")  # type: ignore[assignment]
    __hash__ = Proxytype.__hash__

    def __invert__(self):
        """Logical not (``~b``; Python's ``not`` cannot be overloaded)."""
        return Bool._from_apply("wf.numpy.logical_not", self)


class Str(Primitive):
    """A proxy string with the methods of Python's ``str``."""

    _pytypes = (str,)

    def __add__(self, other):
        """The strings joined: ``Str("a") + "b"``."""
        return Str._from_apply("wf.add", self, Str._promote(other))

    def __radd__(self, other):
        """The strings joined, a Python string on the left."""
        return Str._from_apply("wf.add", Str._promote(other), self)

    def __mul__(self, other):
        """The string repeated ``other`` times."""
        return Str._from_apply("wf.mul", self, Int._promote(other))

    def __getitem__(self, index):
        """The character at ``index``, or a slice of the string."""
        if isinstance(index, slice):
            from tiles.types.containers import _slice

            return Str._from_apply("wf.get", self, _slice(index))
        return Str._from_apply("wf.get", self, Int._promote(index))

    def __lt__(self, other):
        """Whether this sorts before ``other`` (a Bool)."""
        return Bool._from_apply("wf.lt", self, Str._promote(other))

    def __le__(self, other):
        """Whether this sorts before or equals ``other`` (a Bool)."""
        return Bool._from_apply("wf.le", self, Str._promote(other))

    def __gt__(self, other):
        """Whether this sorts after ``other`` (a Bool)."""
        return Bool._from_apply("wf.gt", self, Str._promote(other))

    def __ge__(self, other):
        """Whether this sorts after or equals ``other`` (a Bool)."""
        return Bool._from_apply("wf.ge", self, Str._promote(other))

    def __eq__(self, other):  # type: ignore[override]
        """Whether the strings are equal (a Bool)."""
        return Bool._from_apply("wf.eq", self, Str._promote(other))

    def __ne__(self, other):  # type: ignore[override]
        """Whether the strings differ (a Bool)."""
        return Bool._from_apply("wf.ne", self, Str._promote(other))

    __hash__ = Proxytype.__hash__

    def length(self) -> Int:
        """The number of characters.

        Returns
        -------
        Int

        Example
        -------
        >>> wf.Str("abc").length().compute()
        3
        """
        return Int._from_apply("wf.length", self)

    def contains(self, other) -> Bool:
        """Whether ``other`` is a substring (Python's ``in``).

        Parameters
        ----------
        other : Str

        Returns
        -------
        Bool

        Example
        -------
        >>> wf.Str("surface").contains("face").compute()
        True
        """
        return Bool._from_apply("wf.contains", self, Str._promote(other))


def _str_method(name: str, result: str):
    def method(self, *args):
        from tiles.types.containers import List

        out = {"Str": Str, "Bool": Bool, "Int": Int, "List": List[Str]}[result]
        return out._from_apply(f"wf.Str.{name}", self, *args)

    method.__name__ = name
    method.__doc__ = f"Lazy ``str.{name}``."
    return method


for _name in ("capitalize", "center", "expandtabs", "format", "join", "ljust", "lower", "lstrip",
              "replace", "rjust", "rstrip", "strip", "swapcase", "title", "upper", "zfill"):  # fmt: skip
    setattr(Str, _name, _str_method(_name, "Str"))
for _name in ("endswith", "isalnum", "isalpha", "isdigit", "islower", "isspace", "istitle",
              "isupper", "startswith"):  # fmt: skip
    setattr(Str, _name, _str_method(_name, "Bool"))
for _name in ("count", "find", "rfind"):
    setattr(Str, _name, _str_method(_name, "Int"))
for _name in ("split", "rsplit", "splitlines", "partition", "rpartition"):
    setattr(Str, _name, _str_method(_name, "List"))


class NoneType(Primitive):
    """The proxy ``None``."""

    _pytypes = (type(None),)

    def __init__(self, value: None = None):
        """The proxy of None (the only value)."""
        super().__init__(value)


class Any(Proxytype):
    """A value whose type is not known until computed (e.g. an unknown metadata key)."""

    def __init__(self, value: _Any):
        """Any value, as a proxy whose type is known only when computed.

        Parameters
        ----------
        value : object
            A proxy, or a JSON-like Python value.
        """
        obj = Any._promote(value)
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _promote(cls, obj: _Any) -> Any:
        if isinstance(obj, Proxytype):
            return cls._from_graft(obj.graft, obj.params)
        if isinstance(obj, (_dt.datetime, _dt.date)):
            return cls._from_apply("wf.datetime.from_string", obj.isoformat())
        return cls._from_graft(g.value_graft(obj))

    def cast(self, type_: type) -> _Any:
        """This value, taken to be of ``type_`` (checked only when computed).

        Parameters
        ----------
        type_ : type
            A proxy type.

        Returns
        -------
        Proxytype
            Of ``type_``.

        Example
        -------
        >>> wf.Any(3).cast(wf.Int) + 1
        <tiles.Int object at 0x...>
        """
        return type_._from_graft(self.graft, self.params)

    def __getitem__(self, key):
        """The item ``key`` of this value (a key of a dict, an index of a list), as Any."""
        return Any._from_apply("wf.get", self, key)

    def __getattr__(self, name):
        """The field ``name`` of this value (a struct's), as Any."""
        if name.startswith("_"):
            raise AttributeError(name)
        return Any._from_apply("wf.getattr", self, name)

    def length(self):
        """The length of this value, when it has one (an Int)."""
        return Int._from_apply("wf.length", self)

    def contains(self, other):
        """Whether ``other`` is in this value, when it is a container (a Bool)."""
        return Bool._from_apply("wf.contains", self, other)


def _any_op(builtin: str, reflected: bool = False, result: type = Any):
    def method(self, other=None):
        if other is None and builtin in ("wf.neg", "wf.pos", "wf.abs", "wf.invert"):
            return result._from_apply(builtin, self)
        if isinstance(other, Proxytype) and not isinstance(other, (Any, Primitive)):
            return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        return result._from_apply(builtin, a, b)

    return method


for _op, _builtin in (("add", "wf.add"), ("sub", "wf.sub"), ("mul", "wf.mul"), ("truediv", "wf.div"),
                      ("floordiv", "wf.floordiv"), ("mod", "wf.mod"), ("pow", "wf.pow"),
                      ("and", "wf.and"), ("or", "wf.or"), ("xor", "wf.xor")):  # fmt: skip
    setattr(Any, f"__{_op}__", _any_op(_builtin))
    setattr(Any, f"__r{_op}__", _any_op(_builtin, reflected=True))
for _op, _builtin in (("lt", "wf.lt"), ("le", "wf.le"), ("gt", "wf.gt"), ("ge", "wf.ge"),
                      ("eq", "wf.eq"), ("ne", "wf.ne")):  # fmt: skip
    setattr(Any, f"__{_op}__", _any_op(_builtin, result=Bool))
Any.__hash__ = Proxytype.__hash__
for _op, _builtin in (
    ("neg", "wf.neg"),
    ("pos", "wf.pos"),
    ("abs", "wf.abs"),
    ("invert", "wf.invert"),
):
    setattr(Any, f"__{_op}__", _any_op(_builtin))
