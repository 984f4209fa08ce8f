"""Turning plain Python values into proxies."""

from __future__ import annotations

import datetime as _dt
from typing import Any as _Any

import numpy as np

from tiles.errors import ProxyTypeError
from tiles.types.core import Proxytype


def proxify(value: _Any) -> Proxytype:
    """The proxy for ``value``: proxies as-is, Python scalars, lists, tuples, dicts, dates.

    Parameters
    ----------
    value : object
        A proxy; a bool, int, float, str or None; a list (List of one type, else Tuple),
        tuple, dict, date, datetime, timedelta or concrete GeoContext.

    Returns
    -------
    Proxytype

    >>> import tiles as wf
    >>> type(wf.proxify([1, 2, 3])).__name__
    'List[Int]'
    """
    from tiles.types.containers import Dict, List, Tuple
    from tiles.types.datetimes import Datetime, Timedelta
    from tiles.types.primitives import Any, Bool, Float, Int, NoneType, Str

    if isinstance(value, Proxytype):
        return value
    if isinstance(value, (bool, np.bool_)):
        return Bool(bool(value))
    if isinstance(value, (int, np.integer)):
        return Int(int(value))
    if isinstance(value, (float, np.floating)):
        return Float(float(value))
    if isinstance(value, str):
        return Str(value)
    if value is None:
        return NoneType()
    if isinstance(value, (_dt.datetime, _dt.date)):
        return Datetime._promote(value)
    if isinstance(value, _dt.timedelta):
        return Timedelta._promote(value)
    if hasattr(value, "_to_proxy_geocontext"):
        return value._to_proxy_geocontext()
    if isinstance(value, (list, tuple)):
        items = [proxify(v) for v in value]
        types = {type(i) for i in items}
        if isinstance(value, list) and len(types) == 1:
            return List[types.pop()](items)
        if isinstance(value, list) and not items:
            return List[Any]([])
        return Tuple[tuple(type(i) for i in items)](items)
    if isinstance(value, dict):
        items = {k: proxify(v) for k, v in value.items()}
        key_types = {type(proxify(k)) for k in value}
        value_types = {type(v) for v in items.values()}
        key_type = key_types.pop() if len(key_types) == 1 else Any
        value_type = value_types.pop() if len(value_types) == 1 else Any
        return Dict[key_type, value_type](items)
    if callable(value):
        raise ProxyTypeError("cannot turn a Python function into a value without argument types")
    try:
        return Any._promote(value)
    except TypeError as e:
        raise ProxyTypeError(f"cannot use {type(value).__name__} {value!r} in a graph") from e
