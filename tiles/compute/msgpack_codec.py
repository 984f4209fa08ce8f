"""A small MessagePack encoder and decoder (the subset of the spec that results need).

Results are nested dicts, lists, strings, numbers, bytes and None, plus numpy arrays,
datetimes and timedeltas, which are written as maps with marker keys so any MessagePack
reader can open them:

* ndarray: ``{"nd": True, "type": dtype.str, "shape": [...], "data": <bytes>}`` (the layout
  msgpack-numpy uses), and for a masked array additionally ``"mask": <bool ndarray map>``;
* datetime: ``{"__datetime__": "2023-01-15T00:00:00+00:00"}``;
* timedelta: ``{"__timedelta__": seconds}``.

Written here rather than depending on the ``msgpack`` package: the format is short and
only this one use needs it.

>>> import numpy as np
>>> unpackb(packb({"a": [1, 2.5, None, "x"]}))
{'a': [1, 2.5, None, 'x']}
>>> unpackb(packb(np.arange(3, dtype="uint8"))).tolist()
[0, 1, 2]
"""

from __future__ import annotations

import datetime as dt
import struct
from typing import Any

import numpy as np

__all__ = ["packb", "unpackb"]


def packb(value: Any) -> bytes:
    """Encode ``value`` as MessagePack bytes."""
    out = bytearray()
    _pack(value, out)
    return bytes(out)


def _pack(value: Any, out: bytearray) -> None:
    if value is None or value is np.ma.masked:
        out.append(0xC0)
    elif isinstance(value, (bool, np.bool_)):
        out.append(0xC3 if value else 0xC2)
    elif isinstance(value, (int, np.integer)):
        _pack_int(int(value), out)
    elif isinstance(value, (float, np.floating)):
        out.append(0xCB)
        out += struct.pack(">d", float(value))
    elif isinstance(value, str):
        data = value.encode("utf-8")
        _header(len(data), out, fix=(0xA0, 31), sizes=(0xD9, 0xDA, 0xDB))
        out += data
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        _header(len(data), out, fix=None, sizes=(0xC4, 0xC5, 0xC6))
        out += data
    elif isinstance(value, np.ndarray):
        _pack(_array_map(value), out)
    elif isinstance(value, dt.datetime):
        _pack({"__datetime__": value.isoformat()}, out)
    elif isinstance(value, dt.date):
        _pack({"__datetime__": dt.datetime.combine(value, dt.time()).isoformat()}, out)
    elif isinstance(value, dt.timedelta):
        _pack({"__timedelta__": value.total_seconds()}, out)
    elif isinstance(value, dict):
        _header(len(value), out, fix=(0x80, 15), sizes=(None, 0xDE, 0xDF))
        for k, v in value.items():
            _pack(k, out)
            _pack(v, out)
    elif isinstance(value, (list, tuple)):
        _header(len(value), out, fix=(0x90, 15), sizes=(None, 0xDC, 0xDD))
        for v in value:
            _pack(v, out)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as MessagePack")


def _pack_int(n: int, out: bytearray) -> None:
    if 0 <= n <= 0x7F:
        out.append(n)
    elif -32 <= n < 0:
        out += struct.pack(">b", n)
    elif n >= 0:
        for code, fmt, limit in (
            (0xCC, ">B", 8),
            (0xCD, ">H", 16),
            (0xCE, ">I", 32),
            (0xCF, ">Q", 64),
        ):
            if n < 1 << limit:
                out.append(code)
                out += struct.pack(fmt, n)
                return
        raise OverflowError(f"integer {n} does not fit MessagePack's 64 bits")
    else:
        for code, fmt, limit in (
            (0xD0, ">b", 7),
            (0xD1, ">h", 15),
            (0xD2, ">i", 31),
            (0xD3, ">q", 63),
        ):
            if n >= -(1 << limit):
                out.append(code)
                out += struct.pack(fmt, n)
                return
        raise OverflowError(f"integer {n} does not fit MessagePack's 64 bits")


def _header(n: int, out: bytearray, fix: tuple[int, int] | None, sizes: tuple) -> None:
    if fix is not None and n <= fix[1]:
        out.append(fix[0] | n)
        return
    for code, fmt, limit in zip(sizes, (">B", ">H", ">I"), (8, 16, 32), strict=True):
        if code is not None and n < 1 << limit:
            out.append(code)
            out += struct.pack(fmt, n)
            return
    raise OverflowError(f"{n} items or bytes are too many for MessagePack")


def _array_map(array: np.ndarray) -> dict:
    if array.dtype.hasobject:
        raise TypeError("cannot encode an object array as MessagePack")
    data = np.ascontiguousarray(np.ma.getdata(array))
    encoded = {
        "nd": True,
        "type": data.dtype.str,
        "shape": list(data.shape),
        "data": data.tobytes(),
    }
    if isinstance(array, np.ma.MaskedArray):
        encoded["mask"] = _array_map(np.ma.getmaskarray(array))
    return encoded


def unpackb(data: bytes) -> Any:
    """Decode MessagePack bytes written by :func:`packb` (or any writer of the same types)."""
    view = memoryview(data)
    value, end = _unpack(view, 0)
    if end != len(view):
        raise ValueError(f"{len(view) - end} extra bytes after the MessagePack value")
    return value


_FIXED = {
    0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q",
    0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q",
    0xCA: ">f", 0xCB: ">d",
}  # fmt: skip
_LENGTHS = {0xC4: ">B", 0xC5: ">H", 0xC6: ">I", 0xD9: ">B", 0xDA: ">H", 0xDB: ">I"}
_CONTAINERS = {0xDC: ">H", 0xDD: ">I", 0xDE: ">H", 0xDF: ">I"}


def _unpack(buf: memoryview, pos: int) -> tuple[Any, int]:
    code = buf[pos]
    pos += 1
    if code <= 0x7F:
        return code, pos
    if code >= 0xE0:
        return code - 0x100, pos
    if 0xA0 <= code <= 0xBF:
        n = code & 0x1F
        return bytes(buf[pos : pos + n]).decode("utf-8"), pos + n
    if 0x90 <= code <= 0x9F:
        return _items(buf, pos, code & 0x0F, is_map=False)
    if 0x80 <= code <= 0x8F:
        return _items(buf, pos, code & 0x0F, is_map=True)
    if code == 0xC0:
        return None, pos
    if code in (0xC2, 0xC3):
        return code == 0xC3, pos
    if code in _FIXED:
        fmt = _FIXED[code]
        size = struct.calcsize(fmt)
        return struct.unpack_from(fmt, buf, pos)[0], pos + size
    if code in _LENGTHS:
        fmt = _LENGTHS[code]
        n = struct.unpack_from(fmt, buf, pos)[0]
        pos += struct.calcsize(fmt)
        raw = bytes(buf[pos : pos + n])
        return (raw if code <= 0xC6 else raw.decode("utf-8")), pos + n
    if code in _CONTAINERS:
        fmt = _CONTAINERS[code]
        n = struct.unpack_from(fmt, buf, pos)[0]
        return _items(buf, pos + struct.calcsize(fmt), n, is_map=code >= 0xDE)
    raise ValueError(f"unsupported MessagePack type byte 0x{code:02x} at offset {pos - 1}")


def _items(buf: memoryview, pos: int, n: int, is_map: bool) -> tuple[Any, int]:
    if not is_map:
        items = []
        for _ in range(n):
            value, pos = _unpack(buf, pos)
            items.append(value)
        return items, pos
    mapping = {}
    for _ in range(n):
        key, pos = _unpack(buf, pos)
        value, pos = _unpack(buf, pos)
        mapping[key] = value
    return _special(mapping), pos


def _special(mapping: dict) -> Any:
    """Turn marker maps back into arrays, datetimes and timedeltas."""
    if mapping.get("nd") is True and "data" in mapping and "type" in mapping:
        array = np.frombuffer(mapping["data"], dtype=np.dtype(mapping["type"]))
        array = array.reshape(mapping["shape"]).copy()
        mask = mapping.get("mask")
        return np.ma.MaskedArray(array, mask=mask) if mask is not None else array
    if len(mapping) == 1:
        if "__datetime__" in mapping:
            return dt.datetime.fromisoformat(mapping["__datetime__"])
        if "__timedelta__" in mapping:
            return dt.timedelta(seconds=mapping["__timedelta__"])
    return mapping
