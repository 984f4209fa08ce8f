"""Check a graft sent for publishing before storing it, without evaluating it.

A published graft is evaluated later for every tile, so anything wrong that can be
seen from its JSON alone is refused up front: text that is not a graft, everything
:func:`tiles.graft.validation.check_graft` finds, and data sources named by a file
path or URL instead of a catalog id (the server only reads imagery it has catalogued).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from tiles.errors import GraftSyntaxError
from tiles.graft.syntax import RESERVED, is_graft
from tiles.graft.validation import check_graft as check_structure

#: Largest graft accepted, in bytes of JSON text.
MAX_GRAFT_BYTES = 48 * 1024 * 1024
#: Builtins whose first argument names a catalogued source.
SOURCE_BUILTINS = frozenset(
    {
        "wf.Image.load",
        "wf.Image.from_id",
        "wf.ImageCollection.from_id",
        "wf.ImageCollection.load",
        "wf.FeatureCollection.from_vector",
    }
)
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class InvalidGraft(GraftSyntaxError, ValueError):
    """A graft that cannot be published; the message says why."""


def looks_like_path(source_id: str) -> bool:
    """Whether a source id is a file path or URL rather than a catalog id like ``product:name``."""
    return bool(
        "/" in source_id
        or "\\" in source_id
        or source_id.startswith((".", "~"))
        or _URL_SCHEME.match(source_id)
        or "\x00" in source_id
    )


def parse_graft(text: str) -> dict:
    """Parse published graft JSON text into a graft dict (InvalidGraft when it is not one)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_GRAFT_BYTES:
        raise InvalidGraft(f"graft is larger than {MAX_GRAFT_BYTES // (1024 * 1024)} MiB")
    if not text.strip():
        raise InvalidGraft("serialized_graft is empty")
    try:
        graft = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidGraft(f"serialized_graft is not valid JSON: {exc}") from None
    if not is_graft(graft):
        raise InvalidGraft("serialized_graft must be a JSON object with a 'returns' key")
    return graft


def check_graft(
    graft: dict, builtins: Mapping[str, Any] | Collection[str], free_names: Collection[str] = ()
) -> None:
    """Raise a GraftError if ``graft`` is malformed or unusable, InvalidGraft if it reads a path.

    ``builtins`` are the names an evaluation can call; ``free_names`` are further names
    bound at evaluation time (parameters of a graft that is not a function).
    """
    check_structure(graft, builtins, free_names)
    _check_sources(graft, ())


def _check_sources(body: dict, parents: tuple[dict, ...]) -> None:
    """Refuse source builtins whose first argument is a literal path or URL."""
    scope = (body, *parents)
    for key, expr in body.items():
        if key in RESERVED:
            continue
        if isinstance(expr, dict):
            _check_sources(expr, scope)
        elif isinstance(expr, list) and expr and expr[0] in SOURCE_BUILTINS and len(expr) > 1:
            source = _literal(expr[1], scope)
            if isinstance(source, str) and looks_like_path(source):
                raise InvalidGraft(
                    f"{expr[0]} reads {source!r}, which is a file path or URL: give the "
                    "id of a catalogued image or product (such as 'product:image'); add "
                    "files to the server's catalog with 'python -m tiles catalog'"
                )


def _literal(name: Any, scope: tuple[dict, ...]) -> Any:
    """The literal a key is bound to in the nearest scope, or None if it is not one."""
    if not isinstance(name, str):
        return None
    for body in scope:
        if name in body.get("parameters", ()):
            return None
        if name in body and name not in RESERVED:
            value = body[name]
            return value if isinstance(value, str) else None
    return None
