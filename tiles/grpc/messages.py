"""Between protobuf messages and this server's records: types, parameter defaults, XYZ.

Typespecs and widget parameters arrive as messages; the tile layer behind an XYZ
needs plain JSON defaults and the name of the imagery type it renders.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from tiles.grpc.protos import types_pb2, typespec_pb2, widgets_pb2, xyz_pb2
from tiles.grpc.store import XYZRecord

#: What a tile layer can render.
IMAGERY_TYPES = ("Image", "ImageCollection")


def typespec_text(ts: typespec_pb2.Typespec) -> str:
    """A typespec written like the client's types: ``Function[{'x': Float}, Image]``."""
    kind = ts.WhichOneof("component")
    if kind == "type":
        return ts.type
    if kind == "primitive":
        value = getattr(ts.primitive, ts.primitive.WhichOneof("value") or "string_")
        return repr(value)
    if kind == "map":
        items = ", ".join(f"{typespec_text(i.key)}: {typespec_text(i.val)}" for i in ts.map.items)
        return "{" + items + "}"
    if kind == "composite":
        params = ", ".join(typespec_text(p) for p in ts.composite.params)
        return f"{ts.composite.type}[{params}]"
    return "<no type>"


def result_typespec(ts: typespec_pb2.Typespec) -> typespec_pb2.Typespec:
    """The type a published object produces: a Function's return type, else itself."""
    if ts.WhichOneof("component") == "composite" and ts.composite.type == "Function":
        if ts.composite.params:
            return ts.composite.params[-1]
    return ts


def type_name(ts: typespec_pb2.Typespec) -> str:
    """The outer type name of a typespec (``List`` for ``List[Int]``), or ``""``."""
    kind = ts.WhichOneof("component")
    if kind == "type":
        return ts.type
    if kind == "composite":
        return ts.composite.type
    return ""


def result_type(ts: typespec_pb2.Typespec) -> int:
    """The ``ResultType`` enum value of what a published object produces."""
    name = type_name(result_typespec(ts))
    try:
        return types_pb2.ResultType.Value(name)
    except ValueError:
        return types_pb2.ResultType.Unknown


def _float32(value: float) -> float:
    # Widget floats travel as float32; 7 significant digits recover what the user typed.
    return float(f"{value:.7g}")


def _datetime_graft(iso: str) -> dict:
    # The same graft the original client sends for a datetime parameter value.
    return {"0": iso, "1": ["wf.datetime.from_string", "0"], "returns": "1"}


def parameter_default(param: widgets_pb2.Parameter) -> Any:
    """A widget parameter's default as tile-URL JSON (a literal or graft); None if it has none."""
    widget = param.WhichOneof("widget")
    if widget is None or widget in ("image", "image_collection"):
        return None  # pickers and plain parameters: every tile URL must give a value
    message = getattr(param, widget)
    if widget == "date":
        if not message.HasField("default"):
            return None
        when = message.default.ToDatetime().isoformat()
        return _datetime_graft(when + "+00:00")
    default = message.default
    if widget in ("float_input", "float_slider", "float_select"):
        return _float32(default)
    if widget in ("int_input", "int_slider", "int_select"):
        return int(default)
    if widget == "checkbox":
        return bool(default)
    return str(default)


def to_xyz(record: XYZRecord, url_template: str) -> xyz_pb2.XYZ:
    """The ``XYZ`` message for a stored record."""
    message = xyz_pb2.XYZ(
        id=record.id,
        created_timestamp=record.created_ms,
        updated_timestamp=record.updated_ms,
        name=record.name,
        description=record.description,
        type=record.result_type,
        channel=record.channel,
        client_version=record.client_version,
        serialized_graft=record.graft,
        user=record.user,
        org="",
        url_template=url_template,
        wmts_url_template="",
        public=record.public,
    )
    message.typespec.ParseFromString(record.typespec)
    for blob in record.parameters:
        message.parameters.add().ParseFromString(blob)
    for blob in record.viz_options:
        message.viz_options.add().ParseFromString(blob)
    expires = Timestamp()
    expires.FromMilliseconds(record.expires_ms)
    message.expires_timestamp.CopyFrom(expires)
    return message
