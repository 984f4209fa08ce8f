"""Datetime and Timedelta proxies."""

from __future__ import annotations

import datetime as _dt
from typing import Any as _Any

from tiles.errors import ProxyTypeError
from tiles.types.arguments import promote, typecheck
from tiles.types.core import Proxytype
from tiles.types.primitives import NUMBER, Any, Bool, Float, Int, Number, Str


class Timedelta(Proxytype):
    """A lazy duration, like ``datetime.timedelta``."""

    @typecheck(
        days=NUMBER,
        seconds=NUMBER,
        microseconds=NUMBER,
        milliseconds=NUMBER,
        minutes=NUMBER,
        hours=NUMBER,
        weeks=NUMBER,
    )
    def __init__(
        self, days=0, seconds=0, microseconds=0, milliseconds=0, minutes=0, hours=0, weeks=0
    ):
        """A duration from its parts, as ``datetime.timedelta`` takes them.

        Parameters
        ----------
        days, seconds, microseconds, milliseconds, minutes, hours, weeks : Int or Float
            Added together.

        Example
        -------
        >>> wf.Timedelta(days=1, hours=12).total_seconds().compute()
        129600.0
        """
        obj = Timedelta._from_apply(
            "wf.timedelta.from_components",
            days=days,
            seconds=seconds,
            microseconds=microseconds,
            milliseconds=milliseconds,
            minutes=minutes,
            hours=hours,
            weeks=weeks,
        )
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    def _promote(cls, obj: _Any):
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, _dt.timedelta):
            return cls(days=obj.days, seconds=obj.seconds, microseconds=obj.microseconds)
        if isinstance(obj, Any):
            return cls._from_graft(obj.graft, obj.params)
        raise ProxyTypeError(f"cannot promote {type(obj).__name__} to Timedelta")

    days = property(lambda self: Int._from_apply("wf.getattr", self, "days"))
    seconds = property(lambda self: Int._from_apply("wf.getattr", self, "seconds"))
    microseconds = property(lambda self: Int._from_apply("wf.getattr", self, "microseconds"))

    def total_seconds(self) -> Float:
        """The duration in seconds.

        Returns
        -------
        Float
        """
        return Float._from_apply("wf.timedelta.total_seconds", self)

    def _op(builtin: str, other_types: tuple | None, result: type | None = None, reflected=False):  # noqa: N805
        def method(self, other):
            if isinstance(other, _dt.timedelta):
                other = Timedelta._promote(other)
            elif isinstance(other, (int, float)) and not isinstance(other, bool):
                other = Float(other) if isinstance(other, float) else Int(other)
            if not isinstance(other, other_types or (Timedelta,)):
                return NotImplemented
            out = result or type(self)
            a, b = (other, self) if reflected else (self, other)
            return out._from_apply(builtin, a, b)

        return method

    __add__ = __radd__ = _op("wf.add", None)
    __sub__ = _op("wf.sub", None)
    __mul__ = __rmul__ = _op("wf.mul", (Number,))
    __truediv__ = _op("wf.div", (Number,))
    __floordiv__ = _op("wf.floordiv", (Number,))
    __neg__ = lambda self: Timedelta._from_apply("wf.neg", self)  # noqa: E731
    __abs__ = lambda self: Timedelta._from_apply("wf.abs", self)  # noqa: E731
    __lt__ = _op("wf.lt", None, Bool)
    __le__ = _op("wf.le", None, Bool)
    __gt__ = _op("wf.gt", None, Bool)
    __ge__ = _op("wf.ge", None, Bool)
    __eq__ = _op("wf.eq", None, Bool)  # type: ignore[assignment]
    __ne__ = _op("wf.ne", None, Bool)  # type: ignore[assignment]
    __hash__ = Proxytype.__hash__


class Datetime(Proxytype):
    """A lazy UTC datetime, like ``datetime.datetime``."""

    @typecheck(year=Int, month=Int, day=Int, hour=Int, minute=Int, second=Int, microsecond=Int)
    def __init__(self, year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0):
        """A UTC date and time from its parts.

        Parameters
        ----------
        year, month, day, hour, minute, second, microsecond : Int

        Example
        -------
        >>> wf.Datetime(2023, 5, 15).compute()
        datetime.datetime(2023, 5, 15, 0, 0, tzinfo=datetime.timezone.utc)
        """
        obj = Datetime._from_apply(
            "wf.datetime.from_components",
            year=year,
            month=month,
            day=day,
            hour=hour,
            minute=minute,
            second=second,
            microsecond=microsecond,
        )
        self.graft, self.params = obj.graft, obj.params

    @classmethod
    @typecheck(string=Str)
    def from_string(cls, string) -> Datetime:
        """A Datetime from an ISO-8601 string (without a timezone: UTC).

        Parameters
        ----------
        string : Str

        Returns
        -------
        Datetime

        Example
        -------
        >>> wf.Datetime.from_string("2023-05-15T12:00:00").hour.compute()
        12
        """
        return cls._from_apply("wf.datetime.from_string", string)

    @classmethod
    @typecheck(seconds=NUMBER)
    def from_timestamp(cls, seconds) -> Datetime:
        """A Datetime from seconds since the Unix epoch (UTC).

        Parameters
        ----------
        seconds : Int or Float

        Returns
        -------
        Datetime

        Example
        -------
        >>> wf.Datetime.from_timestamp(86400).day.compute()
        2
        """
        return cls._from_apply("wf.datetime.from_timestamp", seconds)

    @classmethod
    def _promote(cls, obj: _Any):
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, (_dt.datetime, _dt.date)):
            return cls.from_string(obj.isoformat())
        if isinstance(obj, (str, Str)):
            if isinstance(obj, str):
                _parse_iso(obj)  # fail now on a malformed literal
            return cls.from_string(obj)
        if isinstance(obj, (int, float)) and not isinstance(obj, bool):
            return cls.from_timestamp(obj)
        if isinstance(obj, Any):
            return cls._from_graft(obj.graft, obj.params)
        raise ProxyTypeError(f"cannot promote {type(obj).__name__} {obj!r} to Datetime")

    @typecheck(inclusive=Bool)
    def is_between(self, start, end, inclusive=True) -> Bool:
        """Whether this date lies between ``start`` and ``end``.

        Parameters
        ----------
        start, end : Datetime
            Or ISO strings and Python datetimes.
        inclusive : Bool, default True
            Count the ends as inside.

        Returns
        -------
        Bool

        Example
        -------
        >>> wf.Datetime(2023, 5, 15).is_between("2023-01-01", "2024-01-01").compute()
        True
        """
        start = promote(start, Datetime, "Datetime.is_between", "start")
        end = promote(end, Datetime, "Datetime.is_between", "end")
        return Bool._from_apply("wf.datetime.is_between", self, start, end, inclusive=inclusive)

    def __add__(self, other):
        """This date moved by a Timedelta."""
        return Datetime._from_apply("wf.add", self, Timedelta._promote(other))

    __radd__ = __add__

    def __sub__(self, other):
        """The Timedelta to another date, or this date moved back by a Timedelta."""
        if isinstance(other, (Datetime, _dt.datetime, _dt.date, str)):
            return Timedelta._from_apply("wf.sub", self, Datetime._promote(other))
        return Datetime._from_apply("wf.sub", self, Timedelta._promote(other))

    def __rsub__(self, other):
        """The Timedelta from this date to another (given on the left)."""
        return Timedelta._from_apply("wf.sub", Datetime._promote(other), self)

    def __floordiv__(self, other):
        """The start of the ``other``-long bin (counted from the Unix epoch) holding this date.

        For binning dates: ``date // wf.Timedelta(days=14)`` is the same Datetime for every
        date of one 14-day bin.
        """
        return Datetime._from_apply("wf.floordiv", self, Timedelta._promote(other))

    def __mod__(self, other):
        """How far into its ``other``-long bin (from the Unix epoch) this date is."""
        return Timedelta._from_apply("wf.mod", self, Timedelta._promote(other))

    def _cmp(builtin: str):  # noqa: N805
        def method(self, other):
            try:
                other = Datetime._promote(other)
            except ProxyTypeError:
                return NotImplemented
            return Bool._from_apply(builtin, self, other)

        return method

    __lt__ = _cmp("wf.lt")
    __le__ = _cmp("wf.le")
    __gt__ = _cmp("wf.gt")
    __ge__ = _cmp("wf.ge")
    __eq__ = _cmp("wf.eq")  # type: ignore[assignment]
    __ne__ = _cmp("wf.ne")  # type: ignore[assignment]
    __hash__ = Proxytype.__hash__


for _field in ("year", "month", "day", "hour", "minute", "second", "microsecond"):
    setattr(
        Datetime,
        _field,
        property(lambda self, f=_field: Int._from_apply("wf.getattr", self, f)),
    )


def _parse_iso(text: str) -> _dt.datetime:
    try:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ProxyTypeError(f"not an ISO-8601 date or datetime: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
