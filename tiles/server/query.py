"""Parse the tile URL query vocabulary into validated options and parameter values.

The vocabulary is the original map client's: ``session_id``, ``colormap`` (empty
means none), ``reduction``, ``checkerboard``, ``band`` (repeatable), ``scales``
(JSON or ``null``) and one ``name=<JSON>`` per parameter, where the JSON is a
literal or a graft; plus ``image_date`` (``YYYY-MM-DD``: of a collection, only the images
taken that day, UTC, as the viewer's date slider shows them). Options missing from the query fall back to the layer's
registered defaults; every error names the key at fault.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from tiles.builtins import REGISTRY
from tiles.display import DisplayOptions
from tiles.errors import (
    DataError,
    JobTimeoutError,
    ParameterError,
    ResourceLimitError,
    WorkCancelledError,
)
from tiles.graft.validation import check_graft
from tiles.server.layers import RESERVED_QUERY_KEYS, Layer

#: Longest session id accepted (the log book keeps records per session).
MAX_SESSION_ID = 256


@dataclasses.dataclass(frozen=True)
class TileQuery:
    """Everything a tile request asks for, validated."""

    session_id: str | None
    display: DisplayOptions
    bands: tuple[str, ...]
    #: Parameter values as Python values, ready for evaluation.
    arguments: dict[str, Any]
    #: Canonical text of the parameter values, for cache keys.
    arguments_key: str
    #: Only a collection's images of this day (ISO ``YYYY-MM-DD``, UTC), or None for all.
    image_date: str | None = None

    @property
    def render_key(self) -> tuple:
        """What changes pixels without recomputing: the look of the tile."""
        return (self.display.scales, self.display.colormap, self.display.checkerboard)


def _text(values: Sequence[Any]) -> str:
    value = values[-1]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _parse_json(key: str, text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParameterError(f"query parameter {key!r}: {text[:80]!r} is not valid JSON") from exc


def _is_graft(value: Any) -> bool:
    return isinstance(value, dict) and "returns" in value


class ParameterValueError(ParameterError):
    """A tile request's parameter value is unusable (found while computing: a 400, not 500)."""


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else "an object"


def _check_like_default(name: str, value: Any, default: Any) -> None:
    """A query value must be of the JSON kind of the layer's default (or a graft).

    Layers carry no parameter types, but a registered default shows what the
    computation expects; catching a wrong kind here makes it a 400 naming the parameter
    instead of a failure deep in the computation.
    """
    if value is None:
        raise ParameterError(f"parameter {name!r} needs a value, not null")
    if default is None or _is_graft(value) or _is_graft(default):
        return
    expected, got = _json_kind(default), _json_kind(value)
    if expected != got:
        raise ParameterError(
            f"parameter {name!r} expects {expected} (like its default {default!r}), "
            f"not {got}: {json.dumps(value)[:60]}"
        )


def _identity(value: Any) -> Any:
    if _is_graft(value):
        from tiles.graft import content_hash

        return {"graft": content_hash(value)}
    return value


def decode_parameter(name: str, json_value: Any, geoctx: Any = None) -> Any:
    """A parameter's JSON (literal or graft) as a Python value; errors name the parameter."""
    from tiles.compute.evaluation import decode_argument

    try:
        return decode_argument(json_value, geoctx)
    except (ResourceLimitError, DataError, JobTimeoutError, WorkCancelledError):
        raise  # limits, unreadable data and cancellation mean the same here as anywhere
    except Exception as exc:  # any other failure here is the caller's bad value
        raise ParameterValueError(f"invalid value for parameter {name!r}: {exc}") from exc


def parse_tile_query(
    args: Mapping[str, Sequence[Any]],
    layer: Layer,
    extra_keys: frozenset[str] = frozenset(),
    complete: bool = True,
) -> TileQuery:
    """Validate a tile request's query (``{key: [values]}``) against ``layer``.

    ``extra_keys`` are further keys the caller handles itself (such as ``x`` and ``y``).
    Keys starting with ``_`` are ignored, so clients may add cache-busting values.
    ``complete=False`` accepts a query that leaves parameters without a value (a URL
    template that tiles will complete), while still refusing bad values it gives.
    """
    session_id = _text(args["session_id"]) if "session_id" in args else None
    if session_id is not None and len(session_id) > MAX_SESSION_ID:
        raise ParameterError(f"query parameter 'session_id' is longer than {MAX_SESSION_ID}")
    display = DisplayOptions.from_query(args, defaults=layer.display)

    image_date = None
    if "image_date" in args:
        image_date = _text(args["image_date"]).strip()
        try:
            dt.date.fromisoformat(image_date)
        except ValueError:
            raise ParameterError(
                f"query parameter 'image_date' must be a day like 2023-01-15, not {image_date!r}"
            ) from None

    bands: tuple[str, ...] = ()
    if "band" in args:
        bands = tuple(_text([v]) for v in args["band"])
        if not 1 <= len(bands) <= 3:
            raise ParameterError(f"query parameter 'band' given {len(bands)} times; at most 3")

    raw: dict[str, Any] = {}
    for key, values in args.items():
        if key in RESERVED_QUERY_KEYS or key in extra_keys or key.startswith("_"):
            continue
        if key not in layer.parameters:
            takes = ", ".join(sorted(layer.parameters)) or "no parameters"
            raise ParameterError(f"unknown query parameter {key!r}; this layer takes {takes}")
        raw[key] = _parse_json(key, _text(values))
        _check_like_default(key, raw[key], layer.parameters[key])
        if _is_graft(raw[key]):
            check_graft(raw[key], REGISTRY, what=f"parameter {key!r}")
    for name, default in layer.parameters.items():
        if name not in raw:
            if default is None:
                if not complete:
                    continue
                raise ParameterError(f"missing value for parameter {name!r}")
            raw[name] = default
    # Graft values (e.g. another layer's image) need the tile's GeoContext: they are decoded
    # when the tile is evaluated (pipeline.evaluate_value); literals are ready now.
    arguments = {
        name: value if _is_graft(value) else decode_parameter(name, value)
        for name, value in raw.items()
    }
    arguments_key = json.dumps(
        {k: _identity(v) for k, v in raw.items()}, sort_keys=True, separators=(",", ":")
    )
    return TileQuery(
        session_id=session_id,
        display=display,
        bands=bands,
        arguments=arguments,
        arguments_key=arguments_key,
        image_date=image_date,
    )
