"""MessagePack for results: the ``msgpack`` package with hooks for numpy and datetimes.

Results are nested dicts, lists, strings, numbers, bytes and None, plus numpy arrays,
datetimes and timedeltas. The extra types are written as maps any MessagePack reader can
open:

* ndarray: msgpack-numpy's layout, ``{b"nd": True, b"type": dtype.str, b"kind": b"",
  b"shape": [...], b"data": <bytes>}`` (so ``msgpack.unpackb(data,
  object_hook=msgpack_numpy.decode)`` reads it); a masked array adds ``b"mask"``, the same
  layout for its boolean mask;
* datetime: ``{"__datetime__": "2023-01-15T00:00:00+00:00"}``;
* timedelta: ``{"__timedelta__": seconds}``.

>>> import numpy as np
>>> unpackb(packb({"a": [1, 2.5, None, "x"]}))
{'a': [1, 2.5, None, 'x']}
>>> unpackb(packb(np.arange(3, dtype="uint8"))).tolist()
[0, 1, 2]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgpack
import numpy as np

__all__ = ["packb", "unpackb"]


def packb(value: Any) -> bytes:
    """Encode ``value`` as MessagePack bytes.

    Parameters
    ----------
    value:
        Nested dicts, lists, tuples (written as lists), strings, bytes, numbers, None,
        numpy arrays and scalars (``np.ma.masked`` is None), datetimes, dates and timedeltas.

    Returns
    -------
    bytes
        The MessagePack document.

    Raises
    ------
    TypeError
        For any other type, naming it.
    """
    return msgpack.packb(value, default=_extension, use_bin_type=True, datetime=False)


def _extension(value: Any) -> Any:
    """The MessagePack-ready form of a type msgpack does not know."""
    if value is np.ma.masked:
        return None
    if isinstance(value, np.ndarray):
        return _array_map(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__datetime__": dt.datetime.combine(value, dt.time()).isoformat()}
    if isinstance(value, dt.timedelta):
        return {"__timedelta__": value.total_seconds()}
    raise TypeError(f"cannot encode {type(value).__name__} as MessagePack")


def _array_map(array: np.ndarray) -> dict:
    if array.dtype.hasobject:
        raise TypeError("cannot encode an object array as MessagePack")
    data = np.ascontiguousarray(np.ma.getdata(array))
    encoded = {
        b"nd": True,
        b"type": data.dtype.str,
        b"kind": b"",
        b"shape": list(data.shape),
        b"data": data.data,
    }
    if isinstance(array, np.ma.MaskedArray):
        encoded[b"mask"] = _array_map(np.ma.getmaskarray(array))
    return encoded


def unpackb(data: bytes) -> Any:
    """Decode MessagePack bytes written by :func:`packb` (or any writer of the same maps).

    Parameters
    ----------
    data:
        One MessagePack document.

    Returns
    -------
    Any
        The value, with arrays (masked where the map has a mask), datetimes and timedeltas
        rebuilt.

    Raises
    ------
    ValueError
        When ``data`` is not one whole MessagePack document.
    """
    try:
        return msgpack.unpackb(data, object_hook=_special, raw=False, strict_map_key=False)
    except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise ValueError(f"not a MessagePack result: {exc}") from exc


def _special(mapping: dict) -> Any:
    """Turn marker maps back into arrays, datetimes and timedeltas."""
    if mapping.get(b"nd") is True and b"data" in mapping and b"type" in mapping:
        array = np.frombuffer(mapping[b"data"], dtype=np.dtype(mapping[b"type"]))
        array = array.reshape(mapping[b"shape"]).copy()
        mask = mapping.get(b"mask")
        return np.ma.MaskedArray(array, mask=mask) if mask is not None else array
    if len(mapping) == 1:
        if "__datetime__" in mapping:
            return dt.datetime.fromisoformat(mapping["__datetime__"])
        if "__timedelta__" in mapping:
            return dt.timedelta(seconds=mapping["__timedelta__"])
    return mapping
